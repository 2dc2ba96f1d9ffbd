#!/usr/bin/env bash
# Guest-side test (run inside the VM by tests/vm/run.sh): the users' own
# tools -- ipvsadm, ipset, iptables-legacy, ip -- against the guest's real
# kernel. Emits TAP; exits non-zero if any test failed.
set -euo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
    echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
    exit 0
fi

n=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    sed 's/^/#   /' "$out"
}
# t DESCRIPTION COMMAND...: the command must succeed.
t() {
    local desc=$1
    shift
    if "$@" >"$out" 2>&1; then ok "$desc"; else
        echo "# command failed (status $?): $*" >>"$out"
        not_ok "$desc"
    fi
}
# has DESCRIPTION PATTERN COMMAND...: the command must succeed and print a
# line matching the extended regular expression PATTERN.
has() {
    local desc=$1 pat=$2
    shift 2
    if "$@" >"$out" 2>&1 && grep -Eq -- "$pat" "$out"; then ok "$desc"; else
        echo "# expected a line matching /$pat/ from: $*" >>"$out"
        not_ok "$desc"
    fi
}
loaded() { grep -q "^$1 " /proc/modules; }

echo "1..20"

# IPVS
t "ipvsadm adds a virtual service (rr)" ipvsadm -A -t 10.96.0.1:443 -s rr
t "ipvsadm adds a masq real server" ipvsadm -a -t 10.96.0.1:443 -r 10.0.0.5:6443 -m
has "ipvsadm -Sn lists the service" '^-A -t 10\.96\.0\.1:443 -s rr$' ipvsadm -Sn
has "ipvsadm -Sn lists the real server" \
    '^-a -t 10\.96\.0\.1:443 -r 10\.0\.0\.5:6443 -m -w 1$' ipvsadm -Sn

# scheduler module autoloading
if loaded ip_vs_mh; then
    echo "# ip_vs_mh was loaded before the test" >"$out"
    not_ok "ip_vs_mh is not loaded yet"
else
    ok "ip_vs_mh is not loaded yet"
fi
t "ipvsadm -s mh works (scheduler autoloads)" ipvsadm -A -t 10.96.0.2:80 -s mh
has "ipvsadm -Sn lists the mh service" '^-A -t 10\.96\.0\.2:80 -s mh$' ipvsadm -Sn
t "ip_vs_mh is now loaded" loaded ip_vs_mh

# ipset
t "ipset creates KUBE-CLUSTER-IP hash:ip,port" ipset create KUBE-CLUSTER-IP hash:ip,port
t "ipset adds 10.96.0.1,tcp:443" ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
has "ipset list shows the entry" '^10\.96\.0\.1,tcp:443$' ipset list KUBE-CLUSTER-IP
has "ipset save shows the entry" '^add KUBE-CLUSTER-IP 10\.96\.0\.1,tcp:443$' ipset save

# iptables (legacy), with the matches and targets kube-proxy's IPVS mode uses
nat_rules() {
    iptables-legacy -t nat -N KUBE-SERVICES &&
        iptables-legacy -t nat -N KUBE-MARK-MASQ &&
        iptables-legacy -t nat -N KUBE-POSTROUTING &&
        iptables-legacy -t nat -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000 &&
        iptables-legacy -t nat -A KUBE-SERVICES \
            -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" \
            -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ &&
        iptables-legacy -t nat -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j RETURN &&
        iptables-legacy -t nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN &&
        iptables-legacy -t nat -A KUBE-POSTROUTING -j MASQUERADE --random-fully &&
        iptables-legacy -t nat -A PREROUTING -j KUBE-SERVICES &&
        iptables-legacy -t nat -A OUTPUT -j KUBE-SERVICES &&
        iptables-legacy -t nat -A POSTROUTING -j KUBE-POSTROUTING &&
        iptables-legacy -t filter -N KUBE-FORWARD &&
        iptables-legacy -t filter -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP &&
        iptables-legacy -t filter -A KUBE-FORWARD -p tcp -m multiport --dports 80,443 \
            -m statistic --mode random --probability 0.5 -j ACCEPT
}
t "iptables-legacy creates kube-proxy style chains and rules" nat_rules
has "iptables-legacy-save -t nat shows the set rule" \
    '^-A KUBE-SERVICES .*--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$' \
    iptables-legacy-save -t nat

# kube-ipvs0
t "ip link adds the dummy kube-ipvs0" ip link add kube-ipvs0 type dummy
t "ip addr adds 10.96.0.1/32 to kube-ipvs0" ip addr add 10.96.0.1/32 dev kube-ipvs0
show_dummy() {
    local s
    s=$(ip -d addr show kube-ipvs0) || return 1
    printf '%s\n' "$s"
    grep -Eq '^ +dummy( |$)' <<<"$s" && grep -Eq 'inet 10\.96\.0\.1/32 ' <<<"$s"
}
t "ip -d addr show kube-ipvs0: kind dummy with the /32" show_dummy

# Traffic through IPVS: a local client connects to the virtual service on
# kube-ipvs0 and is NATed to a real server listening on this host.
t "ip addr adds the real server's 10.0.0.5/32 to kube-ipvs0" \
    ip addr add 10.0.0.5/32 dev kube-ipvs0
srv=$(mktemp)
printf '#!/bin/sh\necho hello-from-real-server\n' >"$srv"
chmod +x "$srv"
busybox nc -ll -p 6443 -e "$srv" &
nc_pid=$!
connect() {
    local i reply
    for i in $(seq 50); do
        # shellcheck disable=SC2016 # expanded by the inner bash
        if reply=$(timeout 5 bash -c \
            'exec 3<>/dev/tcp/10.96.0.1/443 && read -r line <&3 && echo "$line"' 2>&1); then
            echo "attempt $i: $reply"
            [[ $reply == hello-from-real-server ]]
            return
        fi
        sleep 0.1
    done
    echo "no connection: $reply"
    return 1
}
t "a TCP connection to 10.96.0.1:443 reaches the real server" connect
has "ipvsadm -Lnc lists the connection" \
    '^TCP +[0-9:]+ +[A-Z_]+ +[0-9.]+:[0-9]+ +10\.96\.0\.1:443 +10\.0\.0\.5:6443$' \
    ipvsadm -Lnc
kill "$nc_pid" 2>/dev/null || true
rm -f "$srv"

if ((failed)); then
    echo "# $failed of $n tests failed"
    exit 1
fi
