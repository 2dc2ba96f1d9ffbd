# Shared code of the kipvs-render golden tests (fixtures.t, cases.t):
# running kipvs-render on one case directory and comparing its output with
# the expected files.  Perl core modules only (JSON::PP).
#
# A case directory holds cluster.json (the API objects) and either
# node.json (the fixture format of ../shared/fixtures/kube-proxy-ipvs,
# mapped onto flags) or flags (kipvs-render arguments, one per line), or
# both; initial.ipvs is passed as --current-ipvs.  Expected files:
#
#   expected.ipvs       ipvsadm -Sn lines (compared as a set of lines)
#   expected.ipset      "SET ENTRY" lines; a line "SET" asserts SET empty;
#                       a first line "# complete" asserts that every set
#                       not named is empty
#   expected.iptables   iptables-save text: with "# exact" as first line the
#                       whole output must match; otherwise each listed chain
#                       is compared rule by rule on target, set and -s
#   expected.addresses  kube-ipvs0 addresses, exact
#
# SPDX-License-Identifier: Apache-2.0
package RenderCase;

use strict;
use warnings;
use JSON::PP;
use File::Spec;

our @KINDS = qw(ipvs ipset iptables addresses);

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	my $s = <$fh>;
	close($fh);
	return $s;
}

sub lines {
	my ($text) = @_;
	return grep { length } map { s/\s+$//r } split(/\n/, $text);
}

# The kipvs-render arguments of a case (without --output).
sub args {
	my ($dir) = @_;
	my @a = ('--objects', "$dir/cluster.json");
	if (-f "$dir/node.json") {
		my $n = decode_json(slurp("$dir/node.json"));
		push @a, '--hostname-override', $n->{nodeName}
		    if defined $n->{nodeName};
		push @a, '--node-ip', $_ for @{$n->{nodeIPs} // []};
		push @a, '--ip-family', lc($n->{ipFamily}) if $n->{ipFamily};
		push @a, '--ipvs-scheduler', $n->{scheduler}
		    if $n->{scheduler};
		push @a, '--nodeport-addresses',
		    join(',', @{$n->{nodePortAddresses}})
		    if @{$n->{nodePortAddresses} // []};
		push @a, '--ipvs-exclude-cidrs',
		    join(',', @{$n->{excludeCIDRs}})
		    if @{$n->{excludeCIDRs} // []};
		push @a, '--masquerade-all' if $n->{masqueradeAll};
		push @a, '--cluster-cidr', $n->{clusterCIDR}
		    if $n->{clusterCIDR};
		push @a, '--ipvs-strict-arp' if $n->{strictARP};
		push @a, '--iptables-masquerade-bit', $n->{masqueradeBit}
		    if defined $n->{masqueradeBit};
		push @a, '--iptables-random-fully',
		    ($n->{iptablesRandomFully} ? 'true' : 'false')
		    if defined $n->{iptablesRandomFully};
	}
	if (-f "$dir/flags") {
		push @a, grep { !/^#/ } lines(slurp("$dir/flags"));
	}
	push @a, '--current-ipvs', "$dir/initial.ipvs" if -f "$dir/initial.ipvs";
	return @a;
}

# Runs kipvs-render; returns (exit status, stdout, stderr).
sub run {
	my ($bin, @args) = @_;
	my $err = File::Spec->catfile(File::Spec->tmpdir, "kipvs-render-$$.err");
	my $pid = open(my $fh, '-|');
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDERR, '>', $err) or die;
		exec($bin, @args) or die "exec $bin: $!";
	}
	local $/;
	my $out = <$fh> // '';
	close($fh);
	my $status = $? >> 8;
	my $stderr = -f $err ? slurp($err) : '';
	unlink($err);
	return ($status, $out, $stderr);
}

# "add SET ENTRY" lines of ipset save output -> { SET => [entries] }.
sub ipset_members {
	my ($text) = @_;
	my %m;
	for (lines($text)) {
		$m{$1} //= [] if /^create (\S+)/;
		push @{$m{$1}}, $2 if /^add (\S+) (\S+)$/;
	}
	return \%m;
}

# iptables-save text -> { CHAIN => [ rules ] }, KUBE-NODE-PORT of nat and
# filter together (the fixture README's rule).
sub ipt_chains {
	my ($text) = @_;
	my %c;
	for (lines($text)) {
		$c{$1} //= [] if /^:(\S+)/;
		push @{$c{$1}}, $_ if /^-A (\S+)/;
	}
	return \%c;
}

sub rule_key {
	my ($r) = @_;
	my ($t) = $r =~ /-j (\S+)/;
	my @sets = $r =~ /--match-set (\S+)/g;
	my ($neg, $s) = $r =~ /(!\s+)?-s (\S+)/;
	return join('|', $t // '', @sets, ($neg ? '!' : '') . ($s // ''));
}

# Compares one output kind; returns (ok, diagnostics).
sub compare {
	my ($kind, $expected, $got) = @_;
	my @diag;
	if ($kind eq 'ipvs' || $kind eq 'addresses') {
		my @e = lines($expected);
		my @g = lines($got);
		if ($kind eq 'ipvs') {
			@e = sort @e;
			@g = sort @g;
		}
		my $ok = join("\n", @e) eq join("\n", @g);
		push @diag, "expected:", (map { "  $_" } @e), "got:",
		    (map { "  $_" } @g) unless $ok;
		return ($ok, @diag);
	}
	if ($kind eq 'ipset') {
		my @el = lines($expected);
		my $complete = @el && $el[0] =~ /^#\s*complete/;
		my %want;
		for (grep { !/^#/ } @el) {
			my ($set, $entry) = split(/\s+/, $_, 2);
			$want{$set} //= [];
			push @{$want{$set}}, $entry if defined $entry;
		}
		my $have = ipset_members($got);
		if ($complete) {
			for my $set (keys %$have) {
				$want{$set} //= [];
			}
		}
		my $ok = 1;
		for my $set (sort keys %want) {
			my $w = join(' ', sort @{$want{$set}});
			my $h = exists $have->{$set} ?
			    join(' ', sort @{$have->{$set}}) : undef;
			next if defined $h && $w eq $h;
			$ok = 0;
			push @diag, "$set: expected [$w] got [" .
			    ($h // 'no such set') . "]";
		}
		return ($ok, @diag);
	}
	if ($kind eq 'iptables') {
		my @el = split(/\n/, $expected);
		if (@el && $el[0] =~ /^#\s*exact/) {
			shift @el;
			my $e = join("\n", @el);
			my $g = join("\n", split(/\n/, $got));
			return (1) if $e eq $g;
			my @gl = split(/\n/, $got);
			for my $i (0 .. ($#el > $#gl ? $#el : $#gl)) {
				my $a = $el[$i] // '(none)';
				my $b = $gl[$i] // '(none)';
				next if $a eq $b;
				push @diag, "line " . ($i + 1) . ":",
				    "  expected: $a", "  got:      $b";
				last;
			}
			return (0, @diag);
		}
		my $want = ipt_chains($expected);
		my $have = ipt_chains($got);
		my $ok = 1;
		for my $chain (sort keys %$want) {
			my @w = @{$want->{$chain}};
			my @h = @{$have->{$chain} // []};
			my $same = @w == @h;
			for my $i (0 .. $#w) {
				last unless $same;
				$same = rule_key($w[$i]) eq rule_key($h[$i]);
			}
			next if $same;
			$ok = 0;
			push @diag, "chain $chain: expected", (map { "  $_" } @w),
			    "got", (map { "  $_" } @h);
		}
		return ($ok, @diag);
	}
	return (0, "unknown kind $kind");
}

# Runs every expected.* of one case; prints TAP lines, returns failures.
sub check_case {
	my ($bin, $dir, $name, $counter) = @_;
	my @args = args($dir);
	my $fail = 0;
	for my $kind (@KINDS) {
		my $file = "$dir/expected.$kind";
		next unless -f $file;
		my ($st, $out, $err) = run($bin, @args, '--output', $kind);
		my ($ok, @diag);
		if ($st != 0) {
			($ok, @diag) = (0, "kipvs-render exited $st", lines($err));
		} else {
			($ok, @diag) = compare($kind, slurp($file), $out);
		}
		$$counter++;
		print(($ok ? "ok" : "not ok") . " $$counter - $name $kind\n");
		print "# $_\n" for @diag;
		$fail++ unless $ok;
	}
	return $fail;
}

1;
