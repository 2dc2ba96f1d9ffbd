#!/usr/bin/env perl
# Incremental cost of the planner (issue 5 acceptance): with 1,000 and
# with 10,000 services x 5 endpoints loaded, changing one endpoint emits
# exactly the two ops it implies, and the instructions spent on that
# change (model update + sync, measured by callgrind) at 10,000 are within
# 1.2x of those at 1,000.
#
# SPDX-License-Identifier: Apache-2.0
use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);

my $root = "$FindBin::Bin/../..";
my $bin = "$root/" . ($ENV{B} // 'build') . "/tests/helpers/plan_diff_cost";
unless (-x $bin) {
	print "1..0 # SKIP $bin not built\n";
	exit 0;
}
my $vg = `sh -c 'command -v valgrind'`;
chomp $vg;
my $tmp = tempdir(CLEANUP => 1);
my %ir;
my @t;
for my $n (1000, 10000) {
	my $out = `$bin $n`;
	chomp $out;
	push @t, [$out =~ /change-ops 2$/m ? 1 : 0,
	    "$n services: one endpoint change emits 2 ops ($out)"];
	next unless $vg;
	my $file = "$tmp/cg.$n";
	system("$vg --tool=callgrind --callgrind-out-file=$file " .
	    "--instr-atstart=no --collect-atstart=no $bin $n " .
	    ">/dev/null 2>&1");
	open(my $fh, '<', $file) or next;
	while (<$fh>) {
		$ir{$n} = $1 if /^(?:summary|totals):\s+(\d+)/;
	}
	close($fh);
}
if ($vg && $ir{1000} && $ir{10000}) {
	my $ratio = $ir{10000} / $ir{1000};
	push @t, [$ratio <= 1.2, sprintf("instructions for one change: " .
	    "%d at 1,000, %d at 10,000 (ratio %.3f <= 1.2)", $ir{1000},
	    $ir{10000}, $ratio)];
} else {
	push @t, ['skip', 'valgrind (callgrind) not available'];
}
print "1.." . scalar(@t) . "\n";
my $i = 0;
my $fail = 0;
for my $r (@t) {
	$i++;
	if ($r->[0] eq 'skip') {
		print "ok $i # SKIP $r->[1]\n";
		next;
	}
	print(($r->[0] ? 'ok' : 'not ok') . " $i - $r->[1]\n");
	$fail++ unless $r->[0];
}
exit($fail ? 1 : 0);
