#!/usr/bin/env perl
# The shared kube-proxy IPVS conformance fixtures through kipvs-render:
# one TAP line per case and expected output kind.
#
#   KIPVS_SHARED   the shared folder (default: <repo>/../shared)
#   KIPVS_RENDER   the program (default: <repo>/$B/kipvs-render, B=build)
#
# SPDX-License-Identifier: Apache-2.0
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RenderCase;

my $root = "$FindBin::Bin/../..";
my $shared = $ENV{KIPVS_SHARED} // "$root/../shared";
my $dir = "$shared/fixtures/kube-proxy-ipvs";
my $bin = $ENV{KIPVS_RENDER} // "$root/" . ($ENV{B} // 'build') .
    "/kipvs-render";

# CI has shared/ beside the clone and sets KIPVS_FIXTURES_REQUIRED=1:
# there a missing fixture folder or program is a failure, not a skip.
sub missing {
	my ($why) = @_;
	if ($ENV{KIPVS_FIXTURES_REQUIRED}) {
		print "1..1\nnot ok 1 - fixtures required but $why\n";
		exit 1;
	}
	print "1..0 # SKIP $why\n";
	exit 0;
}
missing("no fixtures at $dir") unless -d $dir;
missing("$bin not built") unless -x $bin;
opendir(my $dh, $dir) or die "$dir: $!";
my @cases = sort grep { /^\d{3}-/ && -d "$dir/$_" } readdir($dh);
closedir($dh);
my $n = 0;
for my $c (@cases) {
	$n += grep { -f "$dir/$c/expected.$_" } @RenderCase::KINDS;
}
print "1..$n\n";
my ($i, $fail) = (0, 0);
$fail += RenderCase::check_case($bin, "$dir/$_", $_, \$i) for @cases;
exit($fail ? 1 : 0);
