#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-ipt.sh BUILDDIR):
# applierd/applier_ipt on the Debian kernel, including the one template
# the build machine's kernel cannot load (KUBE-IPVS-OUT-FILTER's `-m ipvs`
# DROP rule, spec §4.6), with exactly CAP_NET_ADMIN.  The guest has no
# xt_physdev, so the externalIP rules are left out (-x); the netns test
# covers them.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
T=$PWD/$B/tests/helpers/applier_ipt_tool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
rules() { { "$1"-legacy-save -t nat; "$1"-legacy-save -t filter; } | grep '^-A' | LC_ALL=C sort; }
echo 1..8

# What the applier preloads with libkmod at start (the x_tables socket
# options do not load ip_tables; the iptables binaries run modprobe).
modprobe -a ip_vs ip_set ip_tables ip6_tables iptable_nat iptable_filter \
    ip6table_nat ip6table_filter 2>&1 | diag
out=$("$T" -c -o -x -l "$tmp/lock" kube 2>&1); rc=$?
echo "$out" | diag
[[ $rc == 0 ]] && grep -q '^CapEff:[[:space:]]*0000000000001000$' <<<"$out" &&
    grep -q '^commits=2$' <<<"$out"
ok $? "IPv4 applied on the Debian kernel with exactly CAP_NET_ADMIN"
rules iptables | grep -- '-A KUBE-IPVS-OUT-FILTER' > "$tmp/out"
diag < "$tmp/out"
[[ $(cat "$tmp/out") == '-A KUBE-IPVS-OUT-FILTER -s 203.0.113.10/32 -m ipvs --vproto 6 --vaddr 203.0.113.10 --vport 80 -j DROP' ]]
ok $? "the -m ipvs DROP rule reads exactly as the spec's §6.3 shows it"
"$T" -o -x render | grep '^-A' | LC_ALL=C sort > "$tmp/render"
rules iptables > "$tmp/got"
diff -u "$tmp/render" "$tmp/got" | diag
cmp -s "$tmp/render" "$tmp/got"; ok $? "every kernel rule equals the templates' rendering"
out=$("$T" -c -o -x -l "$tmp/lock" kube 2>&1)
grep -q '^commits=0$' <<<"$out"; ok $? "re-apply: no commit (the ipvs match compares equal)"

out=$("$T" -6 -c -o -x -l "$tmp/lock" kube 2>&1); rc=$?
[[ $rc == 0 ]] && grep -q '^commits=2$' <<<"$out"
ok $? "IPv6 applied with exactly CAP_NET_ADMIN"
"$T" -6 -o -x render | grep '^-A' | LC_ALL=C sort > "$tmp/render6"
rules ip6tables > "$tmp/got6"
diff -u "$tmp/render6" "$tmp/got6" | diag
cmp -s "$tmp/render6" "$tmp/got6"; ok $? "IPv6 kernel rules equal the rendering"
out=$("$T" -6 -c -o -x -l "$tmp/lock" kube 2>&1)
grep -q '^commits=0$' <<<"$out"; ok $? "IPv6 re-apply: no commit"

"$T" -l "$tmp/lock" clean >/dev/null && "$T" -6 -l "$tmp/lock" clean >/dev/null &&
    [[ -z $(rules iptables) && -z $(rules ip6tables) ]]
ok $? "clean leaves no rule behind"

((failed == 0))
