#!/usr/bin/env bash
# Guest side of tests/vm/45-check.t: `kipvs check` on a kernel that has
# IPVS, ipset and x_tables as modules (Debian's, in the VM).  Passes (status
# 0) with legacy iptables; warns but still passes with the nft alternative
# and without CAP_SYS_MODULE; warns about a foreign address on a dummy
# kube-ipvs0 while accepting a virtual server's own; fails when a module it
# needs cannot be loaded (kernel.modules_disabled=1, done last: it cannot
# be undone in this boot).  And it loads nothing: /proc/modules is the same
# before and after.  Usage: check.sh BUILD_DIR.  Emits TAP.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
    echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
    exit 0
fi
B=${1:-build}
KIPVS=$PWD/$B/kipvs
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

n=0 failed=0
t() {	# t DESCRIPTION COMMAND...
    local d=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $d"; else
        echo "not ok $n - $d"
        failed=$((failed + 1))
    fi
}
# Numeric accounts: the host's passwd has none of kipvs's.
ACC=(--watcher-user=65531:65531 --planner-user=65532:65532
    --applier-user=65533:65533)
run() {	# run NAME [setpriv args --] ARGS...: report in $TMP/NAME
    local name=$1
    shift
    "$@" >"$TMP/$name" 2>&1
    echo $? >"$TMP/$name.rc"
    sed 's/^/# /' "$TMP/$name"
}
rc() { cat "$TMP/$1.rc"; }
# has NAME RESULT CHECK [ERE]
has() {
    local l
    l=$(grep -E "^(OK|WARN|FAIL) +$3 " "$TMP/$1") || return 1
    [[ $l == "$2 "* ]] || return 1
    [ $# -lt 4 ] || grep -qE -- "$4" <<<"$l"
}
results() {	# the RESULT words of a report, in order
    awk '/^(OK|WARN|FAIL) /{ printf "%s ", $1 }' "$TMP/$1"
}
alt() {	# point the iptables alternatives at VARIANT (legacy, nft)
    ln -sfn "/usr/sbin/iptables-$1" /etc/alternatives/iptables
    ln -sfn "/usr/sbin/ip6tables-$1" /etc/alternatives/ip6tables
}

echo "1..18"
# The guest's root is an overlay: these links vanish at power-off.
alt legacy
sort /proc/modules | cut -d' ' -f1 >"$TMP/mods.before"
run legacy "$KIPVS" check "${ACC[@]}"
t "legacy iptables, nothing loaded yet: status 0" test "$(rc legacy)" = 0
t "... every line OK" test "$(results legacy)" = \
    "OK OK OK OK OK OK OK OK OK OK OK OK OK "
t "ipvs: module ip_vs loadable" has legacy OK ipvs \
    'module ip_vs loadable \(/lib/modules/'
t "scheduler rr: module loadable" has legacy OK scheduler \
    'rr: module ip_vs_rr loadable'
t "ipset-types: the five set types loadable" has legacy OK ipset-types \
    'ip_set_hash_ip loadable, ip_set_hash_ipport loadable, ip_set_hash_ipportip loadable, ip_set_hash_ipportnet loadable, ip_set_bitmap_port loadable'
t "kube-ipvs0: absent, module dummy loadable" has legacy OK kube-ipvs0 \
    'absent; the applier creates it .*dummy loadable'
t "privileges: the applier loads the modules (CAP_SYS_MODULE)" \
    has legacy OK privileges 'the applier loads ip_vs, .*, dummy at start'
sort /proc/modules | cut -d' ' -f1 >"$TMP/mods.after"
t "check loaded no module" cmp -s "$TMP/mods.before" "$TMP/mods.after"

alt nft
run nft "$KIPVS" check "${ACC[@]}"
t "nft alternative: iptables-tool WARN naming iptables-nft, with a remedy" \
    bash -c "grep -qE '^WARN +iptables-tool +the host.s iptables is the nf_tables variant \(/usr/sbin/iptables -> /etc/alternatives/iptables -> /usr/sbin/iptables-nft' '$TMP/nft' &&
	grep -A1 '^WARN' '$TMP/nft' | grep -q 'remedy: .*iptables-legacy-save'"
t "... a warning alone: status 0" test "$(rc nft)" = 0
alt legacy

run nomod setpriv --bounding-set=-sys_module -- "$KIPVS" check "${ACC[@]}"
t "no CAP_SYS_MODULE, modules not loaded: privileges WARN, status 0" \
    bash -c "grep -qE '^WARN +privileges +no CAP_SYS_MODULE and not loaded: ip_vs' '$TMP/nomod' &&
	test \$(cat '$TMP/nomod.rc') = 0"

# A service proxy's state (a virtual server on its kube-ipvs0 address)
# plus an address someone else put there.
ip link add kube-ipvs0 type dummy
ip addr add 10.96.0.10/32 dev kube-ipvs0
ip addr add 192.0.2.77/24 dev kube-ipvs0
ipvsadm -A -t 10.96.0.10:80 -s rr
ipvsadm -A -u 10.96.0.10:53 -s rr
run link "$KIPVS" check "${ACC[@]}"
t "ipvs active, two virtual servers" has link OK ipvs \
    'active: IP Virtual Server version .*, 2 virtual server'
t "scheduler rr in use" has link OK scheduler 'rr: in use by 2 virtual'
t "kube-ipvs0: WARN naming only the foreign 192.0.2.77/24" \
    has link WARN kube-ipvs0 'did not put there: 192\.0\.2\.77/24$'
t "... a warning alone: status 0" test "$(rc link)" = 0
ip addr del 192.0.2.77/24 dev kube-ipvs0
run own "$KIPVS" check "${ACC[@]}"
t "kube-ipvs0 with only the virtual server's address: OK" \
    has own OK kube-ipvs0 'present with 1 address'

# Last: no module can be loaded after this in this boot.
echo 1 >/proc/sys/kernel/modules_disabled
run disabled "$KIPVS" check "${ACC[@]}" --ipvs-scheduler=sh
t "modules_disabled and ip_vs_sh not loaded: privileges FAIL naming it" \
    has disabled FAIL privileges 'kernel\.modules_disabled=1: .*ip_vs_sh'
t "... status 1" test "$(rc disabled)" = 1
[ "$failed" = 0 ]
