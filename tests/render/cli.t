#!/usr/bin/env perl
# kipvs-render's command line: --help documents every flag, and unknown
# flags, unreadable or malformed inputs are clear errors with a non-zero
# exit; malformed objects are skipped one by one while the rest renders.
#
# SPDX-License-Identifier: Apache-2.0
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use File::Temp qw(tempdir);
use RenderCase;

my $root = "$FindBin::Bin/../..";
my $bin = $ENV{KIPVS_RENDER} // "$root/" . ($ENV{B} // 'build') .
    "/kipvs-render";
unless (-x $bin) {
	print "1..0 # SKIP $bin not built\n";
	exit 0;
}
my @flags = qw(--objects --kubeconfig --hostname-override --node-ip
    --ip-family --cluster-cidr --masquerade-all --ipvs-scheduler
    --nodeport-addresses --ipvs-exclude-cidrs --ipvs-strict-arp
    --iptables-masquerade-bit --current-ipvs --output --service-proxy-name
    --iptables-random-fully --help);
my $tmp = tempdir(CLEANUP => 1);
my $cases = "$FindBin::Bin/cases";
my $objs = "$cases/125-malformed-objects-skipped/cluster.json";

my @t;
sub check {
	my ($ok, $name, @diag) = @_;
	push @t, [$ok, $name, @diag];
}

my ($st, $out, $err) = RenderCase::run($bin, '--help');
check($st == 0, '--help exits 0');
for my $f (@flags) {
	check($out =~ /\Q$f\E\b/, "--help documents $f");
}
($st, $out, $err) = RenderCase::run($bin, '--objects', $objs, '--bogus');
check($st == 2 && $err =~ /unknown option '--bogus'/, 'unknown flag: exit 2',
    $err);
($st, $out, $err) = RenderCase::run($bin, '--objects', "$tmp/missing");
check($st == 1 && $err =~ /cannot read --objects .*missing: No such file/,
    'unreadable --objects: exit 1', $err);
open(my $fh, '>', "$tmp/bad.json") or die;
print $fh "{\"kind\": \"List\", \"items\": [";
close($fh);
($st, $out, $err) = RenderCase::run($bin, '--objects', "$tmp/bad.json");
check($st == 1 && $err =~ /bad\.json: line 1/, 'malformed JSON: exit 1',
    $err);
($st, $out, $err) = RenderCase::run($bin, '--objects', $objs,
    '--kubeconfig', "$tmp/kc");
check($st == 2 && $err =~ /mutually exclusive/,
    "--objects with --kubeconfig: exit 2", $err);
open($fh, '>', "$tmp/cur.ipvs") or die;
print $fh "-A -t 10.0.0.1:80 -s rr\n-A -t 010.0.0.2:80 -s rr\n";
close($fh);
($st, $out, $err) = RenderCase::run($bin, '--objects', $objs,
    '--current-ipvs', "$tmp/cur.ipvs");
check($st == 1 && $err =~ /cur\.ipvs: line 2: bad service address/,
    'bad --current-ipvs names the line', $err);
($st, $out, $err) = RenderCase::run($bin, '--objects', $objs,
    '--current-ipvs', "$tmp/missing.ipvs");
check($st == 1 && $err =~ /cannot read --current-ipvs/,
    'unreadable --current-ipvs: exit 1', $err);
for my $bad (['--ip-family', 'ipv5'], ['--iptables-masquerade-bit', '32'],
    ['--output', 'json'], ['--node-ip', '10.1'], ['--cluster-cidr',
    '10.0.0.0/8,10.1.0.0/16'], ['--ipvs-scheduler', 'Bad!'],
    ['--nodeport-addresses', '10.0.0.0'], ['--hostname-override', 'a b']) {
	($st, $out, $err) = RenderCase::run($bin, '--objects', $objs, @$bad);
	check($st == 2 && $err =~ /kipvs render: \Q$bad->[0]\E/,
	    "bad value @$bad: exit 2", $err);
}
($st, $out, $err) = RenderCase::run($bin, '--objects', $objs,
    '--hostname-override', 'node-a', '--ip-family', 'ipv4');
my @skipped = $err =~ /skipping items\[\d+\]: (\S+ \S+):/g;
check($st == 0 && @skipped == 16, 'malformed objects skipped one by one, '
    . 'exit 0 (' . scalar(@skipped) . ' lines)', $err);
check($out =~ /-A -t 10\.96\.24\.24:80 -s rr/, 'the rest renders');
for my $name ('bad/leading-zero', 'bad/short-form', 'bad/cidr-in-ip',
    'bad/port-zero', 'bad/port-big', 'bad/icmp', 'bad/no-ports',
    'bad/too-many-external', 'default/good-bad-ip') {
	check($err =~ /\Q$name\E: /, "message names $name");
}
my ($st2, $out2) = RenderCase::run($bin, '--objects', $objs,
    '--hostname-override', 'node-a', '--ip-family', 'ipv4');
check($out eq $out2, 'deterministic output');

print "1.." . scalar(@t) . "\n";
my $i = 0;
my $fail = 0;
for my $r (@t) {
	my ($ok, $name, @diag) = @$r;
	$i++;
	print(($ok ? 'ok' : 'not ok') . " $i - $name\n");
	unless ($ok) {
		$fail++;
		print "# $_\n" for map { split /\n/ } @diag;
	}
}
exit($fail ? 1 : 0);
