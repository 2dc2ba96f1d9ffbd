#!/usr/bin/env bash
# `kipvs check` on the build host, through the parent binary: the report's
# form (one OK/WARN/FAIL line per check, a remedy under every WARN and
# FAIL, a summary that counts them), its exit status, and the lines this
# host decides.  Runs in a throwaway network namespace (tests/lib/netns.sh)
# because it makes a kube-ipvs0 link there.
#
# Expected values come from the test's own look at the host, never from
# kipvs's output: whether IPVS exists (/proc/net/ip_vs, an ip_vs module
# file under /lib/modules/$(uname -r)), which iptables the alternatives
# link names (readlink -f).  On the build machines (no IPVS) the ipvs and
# scheduler lines FAIL with a remedy and the status is 1; on a host with
# IPVS the ipvs line must be OK instead.  The passing case (status 0 with
# warnings) is tests/vm/45-check.t, on a kernel that has IPVS.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/netns.sh
netns_enter "$0" "$@"
B=${B:-build}
KIPVS=$PWD/$B/kipvs
if [ ! -x "$KIPVS" ]; then
	echo "1..0 # SKIP $KIPVS not built (make B=$B all)"
	exit 0
fi
TMP=$(mktemp -d /tmp/kipvs-check.XXXXXX)
FAKE=
trap '[ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null; rm -rf "$TMP"' EXIT

n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
# Numeric accounts, so that the accounts line does not depend on this
# host's passwd.
ACC=(--watcher-user=65531:65531 --planner-user=65532:65532
    --applier-user=65533:65533)
run() {	# run NAME ARGS...: stdout in $TMP/NAME.out, stderr .err, status .rc
	local name=$1; shift
	"$KIPVS" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}
rc() { cat "$TMP/$1.rc"; }
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }
# line NAME CHECK: the report line of one check
line() { grep -E "^(OK|WARN|FAIL) +$2 " "$TMP/$1.out"; }
# has NAME RESULT CHECK [ERE]: that line has that result (and matches ERE)
has() {
	local l
	l=$(line "$1" "$3") || return 1
	[[ $l == "$2 "* ]] || { echo "# got: $l"; return 1; }
	[ $# -lt 4 ] || grep -qE -- "$4" <<<"$l"
}
# remedy NAME CHECK ERE: the line after that check's line is its remedy
remedy() {
	grep -A1 -E "^(OK|WARN|FAIL) +$2 " "$TMP/$1.out" | sed -n 2p |
	    grep -qE -- "^      remedy: .*$3"
}

echo "1..29"

# The host, as the test sees it.
host_ipvs=0
if [ -e /proc/net/ip_vs ] || [ -n "$(find "/lib/modules/$(uname -r)" \
    -name 'ip_vs.ko*' 2>/dev/null | head -1)" ]; then
	host_ipvs=1
fi
nft=0
case $(readlink -f /usr/sbin/iptables 2>/dev/null) in
*nft*) nft=1 ;;
esac
ip -o link >"$TMP/links.before"; ip -o addr >>"$TMP/links.before"
fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)

run plain check "${ACC[@]}"
sed 's/^/# /' "$TMP/plain.out"

# The form of the report.
t "first line names the kernel, scheduler rr, dual-stack" \
    grep -qx "kipvs check: kernel $(uname -r), scheduler rr, dual-stack" \
    <(head -1 "$TMP/plain.out")
t "every other line is a result, a remedy or the summary" \
    test -z "$(sed 1d "$TMP/plain.out" | grep -vE \
    '^((OK|WARN|FAIL) +[a-z0-9-]+ +[^ ].*|      remedy: .+|kipvs check: [0-9]+ ok, [0-9]+ warning\(s\), [0-9]+ failed)$')"
t "the checks: ipvs scheduler conntrack ipset ipset-types iptables ip6tables iptables-tool sysctls accounts kube-proxy kube-ipvs0 privileges" \
    test "$(awk '/^(OK|WARN|FAIL) /{ printf "%s ", $2 }' "$TMP/plain.out")" \
    = "ipvs scheduler conntrack ipset ipset-types iptables ip6tables iptables-tool sysctls accounts kube-proxy kube-ipvs0 privileges "
t "every WARN and FAIL line is followed by its remedy" \
    test -z "$(awk '/^(WARN|FAIL) / { want = $0; next }
	want != "" && !/^      remedy: / { print want }
	{ want = "" } END { if (want != "") print want }' "$TMP/plain.out")"
counts=$(awk '/^OK /{o++} /^WARN /{w++} /^FAIL /{f++}
    END { printf "%d ok, %d warning(s), %d failed", o, w, f }' "$TMP/plain.out")
t "the summary counts the lines ($counts)" \
    test "$(tail -1 "$TMP/plain.out")" = "kipvs check: $counts"
if [ "$host_ipvs" = 0 ]; then
	t "no IPVS on this host: exit status 1" test "$(rc plain)" = 1
else
	t "IPVS on this host: exit status follows the FAIL count" \
	    test "$(rc plain)" = "$(grep -qE '^FAIL ' "$TMP/plain.out" &&
	    echo 1 || echo 0)"
fi

# The lines this host decides.
if [ "$host_ipvs" = 0 ]; then
	t "ipvs: FAIL, /proc/net/ip_vs absent, no module ip_vs" \
	    has plain FAIL ipvs '/proc/net/ip_vs is absent.*no module ip_vs'
	t "... remedy: a kernel with CONFIG_IP_VS" \
	    remedy plain ipvs 'CONFIG_IP_VS'
	t "scheduler: FAIL without IPVS" has plain FAIL scheduler \
	    'rr: unusable without IPVS'
else
	t "ipvs: OK" has plain OK ipvs
	skip "no remedy on an OK line"
	t "scheduler rr: OK" has plain OK scheduler '^OK +scheduler +rr: '
fi
if [ "$nft" = 1 ]; then
	t "iptables-tool: WARN, the host's iptables is iptables-nft" \
	    has plain WARN iptables-tool 'nf_tables variant .*nft'
else
	t "iptables-tool: OK, the host's iptables is not the nft variant" \
	    has plain OK iptables-tool
fi
t "accounts: OK with the numeric accounts" has plain OK accounts \
    'watcher 65531:65531 \(65531:65531\), planner 65532:65532'
t "kube-proxy: OK, none running" has plain OK kube-proxy
# Dummy links: known when loaded or built in with parameters
# (/sys/module/dummy), or listed by the module tree; without a tree,
# kipvs cannot tell.
mods=/lib/modules/$(uname -r)
if [ -d /sys/module/dummy ] || [ -n "$(find "$mods" -name 'dummy.ko*' \
    2>/dev/null | head -1)" ] || grep -qs '/dummy\.ko' "$mods/modules.builtin"
then
	t "kube-ipvs0: OK, absent, the applier creates it" has plain OK \
	    kube-ipvs0 'absent; the applier creates it'
elif [ ! -d "$mods" ]; then
	t "kube-ipvs0: WARN, absent, dummy support cannot be told (no $mods)" \
	    has plain WARN kube-ipvs0 'absent; cannot tell whether dummy'
else
	t "kube-ipvs0: FAIL, absent and no module dummy" has plain FAIL \
	    kube-ipvs0 'no module dummy'
fi

# Reading only.
ip -o link >"$TMP/links.after"; ip -o addr >>"$TMP/links.after"
t "links and addresses unchanged" cmp -s "$TMP/links.before" \
    "$TMP/links.after"
t "net.ipv4.ip_forward unchanged ($fwd_before)" \
    test "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd_before"

# A kube-ipvs0 made by someone else, with an address no virtual
# server has (this kernel has no dummy links: a veth of that name).
ip link add kube-ipvs0 type veth peer name kipvs-chk-peer 2>/dev/null ||
    ip link add kube-ipvs0 type dummy
ip addr add 10.9.9.9/24 dev kube-ipvs0
run link check "${ACC[@]}"
t "kube-ipvs0 with a foreign address: WARN naming 10.9.9.9/24" \
    has link WARN kube-ipvs0 'kipvs did not put there: 10\.9\.9\.9/24'
t "... with a remedy" remedy link kube-ipvs0 'belongs to the service proxy'
ip link del kube-ipvs0

# A running kube-proxy (a process of that name).
cp "$(command -v sleep)" "$TMP/kube-proxy"
"$TMP/kube-proxy" 60 &
FAKE=$!
# Until the child has exec'd, its name is still the shell's.
for _ in $(seq 100); do
	[ "$(cat /proc/$FAKE/comm 2>/dev/null)" = kube-proxy ] && break
	sleep 0.1
done
run kp check "${ACC[@]}"
t "a running kube-proxy: FAIL naming its pid" \
    has kp FAIL kube-proxy "pid ([0-9]+, )*$FAKE"
t "... remedy: stop it first" remedy kp kube-proxy 'stop kube-proxy'
kill "$FAKE"; wait "$FAKE" 2>/dev/null; FAKE=

# Configuration and accounts.
run sched check "${ACC[@]}" --ipvs-scheduler=fo
t "--ipvs-scheduler=fo: FAIL, the applier refuses it, allow-list in the remedy" \
    bash -c "grep -qE '^FAIL +scheduler +fo: the applier refuses' '$TMP/sched.out' &&
	grep -qE '^      remedy: .*rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh' '$TMP/sched.out' &&
	test \$(cat '$TMP/sched.rc') = 1"
run before --ipvs-scheduler=sh --ip-family=ipv4 check "${ACC[@]}"
t "kube-proxy flags before 'check' apply too (sh, IPv4 only: no ip6tables line)" \
    bash -c "head -1 '$TMP/before.out' | grep -q 'scheduler sh, IPv4\$' &&
	! grep -qE '^[A-Z]+ +ip6tables ' '$TMP/before.out'"
run acc check --watcher-user=no-such-kipvs-user --planner-user=7:7 \
    --applier-user=7:7
t "an unknown account: FAIL naming it, remedy sysusers or UID:GID" \
    bash -c "grep -qE '^FAIL +accounts +watcher: user no-such-kipvs-user does not exist' '$TMP/acc.out' &&
	grep -A1 'no-such-kipvs-user' '$TMP/acc.out' | grep -q 'remedy: .*kipvs.sysusers.*--watcher-user UID:GID'"
run shared check --watcher-user=9:9 --planner-user=8:8 --applier-user=8:8
t "two daemons sharing a uid: WARN" has shared WARN accounts \
    'planner and applier share uid 8'

# --config.
printf 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  bogus: 1\n' >"$TMP/bad.yaml"
run badcfg check "${ACC[@]}" --config "$TMP/bad.yaml"
t "a bad --config: FAIL naming the file, line and field; status 1" \
    bash -c "grep -qE \"^FAIL +config +$TMP/bad.yaml:4: unknown field 'ipvs.bogus'\" '$TMP/badcfg.out' &&
	test \$(cat '$TMP/badcfg.rc') = 1"
printf 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: wlc\niptables:\n  syncPeriod: 10s\n' >"$TMP/warn.yaml"
run warncfg check "${ACC[@]}" --config="$TMP/warn.yaml"
t "a --config with a field without effect: WARN naming it; its scheduler used" \
    bash -c "grep -qE '^WARN +config +.*iptables\.syncPeriod' '$TMP/warncfg.out' &&
	head -1 '$TMP/warncfg.out' | grep -q 'scheduler wlc,'"

# A read-only /proc/sys, as in an unprivileged container (a bind mount
# in a private mount namespace, gone with it).
if unshare --mount --propagation private true 2>/dev/null; then
	unshare --mount --propagation private sh -c '
		mount --bind /proc/sys /proc/sys &&
		mount -o remount,bind,ro /proc/sys && exec "$@"' sh \
	    "$KIPVS" check "${ACC[@]}" >"$TMP/rosys.out" 2>&1
	if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; then
		t "read-only /proc/sys: sysctls OK, ip_forward is already 1" \
		    has rosys OK sysctls
	else
		t "read-only /proc/sys, ip_forward 0: sysctls FAIL, remedy the init container" \
		    bash -c "grep -qE '^FAIL +sysctls +net/ipv4/ip_forward is 0 \(want 1\).*cannot write them' '$TMP/rosys.out' &&
			grep -A1 '^FAIL  sysctls' '$TMP/rosys.out' | grep -q 'remedy: .*init container'"
	fi
else
	skip "unshare --mount not available"
fi

# Not root.
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$KIPVS" check "${ACC[@]}" >"$TMP/user.out" 2>&1
	t "not root: privileges FAIL, the missing capabilities listed" \
	    has user FAIL privileges 'not root.*missing CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_CHROOT, CAP_KILL, CAP_NET_ADMIN'
else
	skip "setpriv not installed"
fi

# Argument errors are status 2 with the usage on stderr, no report.
args_ok=1
for a in "--bogus" "--config" "--ipvs-scheduler=RR" "--watcher-userx=1:1" \
    "extra"; do
	run arg check $a
	if [ "$(rc arg)" != 2 ] || [ -s "$TMP/arg.out" ] ||
	    ! grep -q 'usage: kipvs check' "$TMP/arg.err"; then
		echo "# check $a: status $(rc arg)"; args_ok=0
	fi
done
t "argument errors: status 2, usage on stderr, nothing on stdout" \
    test "$args_ok" = 1
run help check --help
t "--help: usage on stdout, status 0, documents the exit status" \
    bash -c "test \$(cat '$TMP/help.rc') = 0 &&
	grep -q 'exit status 0 without a FAIL (warnings allowed), 1 with one' '$TMP/help.out'"
