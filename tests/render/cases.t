#!/usr/bin/env perl
# kipvs's own golden cases for kipvs-render (tests/render/cases/NNN-name/),
# written from the behaviour spec: one TAP line per case and output kind.
#
#   cases.t           run them
#   cases.t --regen   write what kipvs-render prints now beside each
#                     expected file (expected.KIND.new) and show the diff;
#                     nothing is overwritten (make regen)
#
# SPDX-License-Identifier: Apache-2.0
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RenderCase;

my $root = "$FindBin::Bin/../..";
my $dir = "$FindBin::Bin/cases";
my $bin = $ENV{KIPVS_RENDER} // "$root/" . ($ENV{B} // 'build') .
    "/kipvs-render";
my $regen = @ARGV && $ARGV[0] eq '--regen';

unless (-x $bin) {
	print "1..0 # SKIP $bin not built\n";
	exit 0;
}
opendir(my $dh, $dir) or die "$dir: $!";
my @cases = sort grep { /^\d{3}-/ && -d "$dir/$_" } readdir($dh);
closedir($dh);

sub regen_text {
	my ($kind, $out) = @_;
	return $out if $kind eq 'ipvs' || $kind eq 'addresses';
	return "# exact\n$out" if $kind eq 'iptables';
	my $m = RenderCase::ipset_members($out);
	my $t = "# complete\n";
	for my $set (sort keys %$m) {
		$t .= "$set $_\n" for sort @{$m->{$set}};
	}
	return $t;
}

if ($regen) {
	my $changed = 0;
	for my $c (@cases) {
		my @args = RenderCase::args("$dir/$c");
		my @kinds = grep { -f "$dir/$c/expected.$_" } @RenderCase::KINDS;
		@kinds = @RenderCase::KINDS unless @kinds;
		for my $kind (@kinds) {
			my ($st, $out, $err) = RenderCase::run($bin, @args,
			    '--output', $kind);
			die "$c: kipvs-render exited $st: $err" if $st != 0;
			my $exp = "$dir/$c/expected.$kind";
			my $new = "$exp.new";
			my $text = regen_text($kind, $out);
			# Only a real difference counts: expected files may
			# list lines in another order or fewer sets.
			if (-f $exp) {
				my ($same) = RenderCase::compare($kind,
				    RenderCase::slurp($exp), $out);
				if ($same) {
					unlink($new);
					next;
				}
			}
			open(my $fh, '>', $new) or die "$new: $!";
			print $fh $text;
			close($fh);
			$changed++;
			system('diff', '-u', (-f $exp ? $exp : '/dev/null'),
			    $new);
		}
	}
	print "regen: $changed file(s) differ; review the .new files\n";
	exit 0;
}

my $n = 0;
for my $c (@cases) {
	$n += grep { -f "$dir/$c/expected.$_" } @RenderCase::KINDS;
}
print "1..$n\n";
my ($i, $fail) = (0, 0);
$fail += RenderCase::check_case($bin, "$dir/$_", $_, \$i) for @cases;
exit($fail ? 1 : 0);
