#!/usr/bin/env bash
# Guest side of tests/vm/47-systemd.t, in a VM booted with the host's
# systemd as PID 1 (KIPVS_VM_SYSTEMD=1, tests/vm/README.md).  The units,
# sysusers, tmpfiles and modules-load files are copied from a `make
# install DESTDIR=$KIPVS_SD_ROOT PREFIX=/usr` tree; the test apiserver
# runs on loopback.  Then, for the same cluster:
#
#   1. the single unit kipvs.service (the parent drops the children);
#      kernel state captured, the unit stopped, the state flushed with the
#      stock tools;
#   2. the per-component units: kipvs-wp.socket, kipvs-pa.socket and
#      kipvs-watcherd.service started; the planner and the applier are
#      socket-activated.  A connection of the wrong uid to pa.sock is
#      refused first.  Each unit active (Type=notify: READY=1 arrived),
#      each process's uid, capabilities, NoNewPrivs and seccomp as the
#      units declare, the kernel state equal to form 1's;
#   3. kill -9 of the applier: systemd restarts it (and the set, whose
#      edges it held), the state converges again and equals form 1's.
#
# TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]] || [[ $(cat /proc/1/comm) != systemd ]]; then
	echo "1..0 # SKIP only runs in the VM with systemd as PID 1 (KIPVS_VM_SYSTEMD=1)"
	exit 0
fi
. tests/vm/guest/lib-cluster.sh

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
T0=$(date +%s%N)
ms() { echo $((($(date +%s%N) - T0) / 1000000)); }

SVCS=(kipvs-watcherd kipvs-planner kipvs-applierd)
SOCKS=(kipvs-wp.socket kipvs-pa.socket)
ROOT=${KIPVS_SD_ROOT:?KIPVS_SD_ROOT: the make install tree}

echo 1..18

# --- install -------------------------------------------------------------
cl_log "installing from $ROOT"
cp -a "$ROOT"/. / &&
    systemd-sysusers /usr/lib/sysusers.d/kipvs.conf &&
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/kipvs.conf &&
    systemctl restart systemd-modules-load.service
ok $? "installed: units, sysusers (accounts), tmpfiles (xtables lock), modules-load"
W_UID=$(id -u kipvs-watch) P_UID=$(id -u kipvs-plan) A_UID=$(id -u kipvs-apply)
lsmod | grep -q '^ip_vs ' && lsmod | grep -q '^ip_set '
ok $? "modules-load.d/kipvs.conf loaded ip_vs and ip_set"
# Root's, no access for others: only the ACL entry lets the applier in.
[[ $(stat -c %U:%G /run/xtables.lock) == root:root ]] &&
    (((0$(stat -c %a /run/xtables.lock) & 7) == 0)) &&
    setpriv --reuid="$A_UID" --regid="$A_UID" --clear-groups \
	test -r /run/xtables.lock -a -w /run/xtables.lock &&
    ! setpriv --reuid="$W_UID" --regid="$W_UID" --clear-groups \
	test -r /run/xtables.lock
ok $? "/run/xtables.lock: root's, nothing for others, read-write for kipvs-apply by its ACL entry"

# --- the cluster -------------------------------------------------------------
cl_log "installed"
cl_init
cl_node
cl_api_start
cl_log "apiserver up"
P=http/TCP/8080
svc() { cl_change services add "$(cl_svc "$@")"; }
eps() { cl_change endpointslices add "$(cl_eps "$@")"; }
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(svc default kubernetes 10.96.0.1 https/TCP/443/6443),
 $(eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP"),
 $(svc default web 10.96.0.10 type=NodePort http/TCP/80/8080/30080),
 $(eps default web web-1 $P 10.244.0.11 10.244.0.12),
 $(svc default local 10.96.0.13 type=NodePort etp=Local http/TCP/80/8080/30081),
 $(eps default local local-1 $P 10.244.0.11),
 $(svc default dns 10.96.0.14 dns/UDP/53/5353),
 $(eps default dns dns-1 dns/UDP/5353 10.244.0.11 10.244.0.12)]" ||
    echo "Bail out! cannot load the apiserver"

# The watcher cannot read files under the test's /tmp (PrivateTmp=): the
# CA goes into the kubeconfig, which LoadCredential= hands over.
mkdir -p /etc/kipvs
cat >/etc/kipvs/kubeconfig <<EOK
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 "$API_DIR/ca.crt")
contexts:
- name: test
  context:
    cluster: test
    user: kipvs
users:
- name: kipvs
  user:
    token: $TOKEN
EOK
chmod 600 /etc/kipvs/kubeconfig
echo "KIPVS_FLAGS=\"--hostname-override=$CL_NODE --cluster-cidr=$CL_CLUSTER_CIDR\"" \
    >/etc/default/kipvs
cl_log "cluster loaded"
# The single unit's watcher is given the same file by the parent.
mkdir -p /etc/systemd/system/kipvs.service.d
cat >/etc/systemd/system/kipvs.service.d/test.conf <<'EOD'
[Service]
ExecStart=
ExecStart=/usr/sbin/kipvs --audit-log=/var/log/kipvs/audit.log --kubeconfig=/etc/kipvs/kubeconfig $KIPVS_FLAGS
EOD
cl_log "units written"

converged() {
	cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080" &&
	    cl_has_rs "$CL_NODE_IP:30080" t "10.244.0.11:8080 10.244.0.12:8080" &&
	    cl_has_rs "$CL_NODE_IP:30081" t "10.244.0.11:8080" &&
	    cl_has_rs 10.96.0.14:53 u "10.244.0.11:5353 10.244.0.12:5353" &&
	    ipset list -n | grep -qx KUBE-CLUSTER-IP &&
	    iptables-legacy -t nat -S KUBE-SERVICES >/dev/null 2>&1
}
# The kernel objects kipvs owns, without counters, comments and hash
# seeds; sorted where the kernel's order is not kipvs's choice.
state() {
	echo "== ipvsadm -Sn"
	ipvsadm -Sn | sort
	echo "== ipset save"
	# initval: the hash seed the kernel draws for each new set.
	ipset save | sed -E 's/ initval 0x[0-9a-f]+//' | sort
	echo "== iptables-legacy-save"
	iptables-legacy-save | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/'
	echo "== ip6tables-legacy-save"
	ip6tables-legacy-save | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/'
	echo "== ip addr kube-ipvs0"
	ip -o addr show dev kube-ipvs0 | awk '{ print $3, $4 }' | sort
	ip -o link show dev kube-ipvs0 | grep -o 'state [A-Z]*'
}
# flush: what kipvs made, with the stock tools; only the tables that
# exist (naming one makes it exist).
flush() {
	local t i v
	ipvsadm -C
	for v in iptables ip6tables; do
		for t in $("$v-legacy-save" | sed -n 's/^\*//p'); do
			"$v-legacy" -t "$t" -F
			"$v-legacy" -t "$t" -X
		done
	done
	# The rules' references to the sets may go away a little later.
	for i in $(seq 20); do
		ipset destroy 2>/dev/null && break
		sleep 0.2
	done
	ip link del kube-ipvs0
}
journal() {	# journal UNIT: its log of this boot, on failure
	journalctl -q -b -o cat --no-pager -u "$1" | tail -n 20 | diag
}

# --- 1. the single unit ---------------------------------------------------
cl_log "kipvs.service"
t=$(ms)
systemctl start kipvs.service && cl_wait 90 converged
rc=$?
ok $rc "kipvs.service: the parent form programs the cluster ($(($(ms) - t)) ms)"
[[ $rc == 0 ]] || journal kipvs.service
state >"$CL/state.parent"
grep -q -- '-A KUBE-SERVICES' "$CL/state.parent" &&
    grep -q -- '-A -t 10.96.0.10:80' "$CL/state.parent" &&
    grep -q 'add KUBE-NODE-PORT-TCP 30080' "$CL/state.parent" &&
    grep -q '10.96.0.10/32' "$CL/state.parent"
ok $? "its state holds the Services: IPVS, iptables, ipset, kube-ipvs0 ($(wc -l <"$CL/state.parent") lines)"
systemctl stop kipvs.service
cl_log "kipvs.service stopped"
flush
[[ -z $(ipvsadm -Sn) && -z $(ipset list -n) ]] &&
    ! ip link show kube-ipvs0 >/dev/null 2>&1
ok $? "stopped and flushed with the stock tools"

# --- 2. the per-component units -------------------------------------------
cl_log "per-component units"
systemctl start "${SOCKS[@]}"
# A connection from the wrong account activates the applier, which closes
# it unread: only kipvs-plan may speak to it.
refused=$(timeout 30 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/run/kipvs/pa.sock")
s.settimeout(25)
print("eof" if s.recv(4096) == b"" else "data")' 2>&1)
[[ $refused == eof ]] &&
    cl_wait 10 bash -c 'journalctl -q -b -o cat -u kipvs-applierd |
	grep -q "refused a peer with uid 0 .*only uid '"$P_UID"' may connect"'
ok $? "pa.sock: a peer of another uid (root) is closed unread ($refused)"

t=$(ms)
systemctl start --no-block kipvs-watcherd.service && cl_wait 90 converged
rc=$?
ok $rc "kipvs-watcherd.service started; planner and applier socket-activated; the cluster is programmed ($(($(ms) - t)) ms)"
act=0
for u in "${SVCS[@]/%/.service}" "${SOCKS[@]}"; do
	s=$(systemctl is-active "$u")
	[[ $s == active ]] || { act=1; echo "# $u: $s"; }
done
ok $act "all five units active (Type=notify: each sent READY=1)"
if [[ $act != 0 || $rc != 0 ]]; then
	for u in "${SVCS[@]}"; do journal "$u"; done
fi
systemctl show -p Type -p NRestarts "${SVCS[@]/%/.service}" | diag

# status FIELD PID: a field of /proc/PID/status, white space squeezed.
status() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$2/status"; }
pid() { systemctl show -p MainPID --value "$1.service"; }
# check NAME UID CAPS: ids, the three capability sets, ambient, NNP, seccomp.
check() {
	local p want=$3 got
	p=$(pid "$1")
	[[ $p != 0 ]] || { echo "# $1: no main pid"; return 1; }
	got="$(status Uid "$p" | tr '\t' ' ')|$(status Gid "$p" | awk '{print $1}')|$(status Groups "$p")|$(status CapEff "$p")|$(status CapPrm "$p")|$(status CapBnd "$p")|$(status CapAmb "$p")|$(status NoNewPrivs "$p")|$(status Seccomp "$p")"
	# Groups: the account's own, which systemd's initgroups() lists.
	want="$2 $2 $2 $2|$2|$2|$want|$want|$want|0000000000000000|1|2"
	[[ $got == "$want" ]] || echo "# $1 (pid $p): got $got, want $want"
	[[ $got == "$want" ]]
}
NOCAP=0000000000000000 NETADMIN=0000000000001000
check kipvs-watcherd "$W_UID" "$NOCAP"
ok $? "watcher: uid kipvs-watch, no capability in any set, NoNewPrivs, seccomp filter"
check kipvs-planner "$P_UID" "$NOCAP"
ok $? "planner: uid kipvs-plan, no capability in any set, NoNewPrivs, seccomp filter"
check kipvs-applierd "$A_UID" "$NETADMIN"
ok $? "applier: uid kipvs-apply, CAP_NET_ADMIN alone (effective, permitted, bounding), NoNewPrivs, seccomp filter"

state >"$CL/state.units"
diff -u "$CL/state.parent" "$CL/state.units" >"$CL/state.diff"
rc=$?
ok $rc "the kernel state equals the parent form's (ipvsadm -Sn, ipset save, ip(6)tables-legacy-save, ip addr)"
[[ $rc == 0 ]] || diag <"$CL/state.diff"

# --- 3. a killed component -------------------------------------------------
old=()
for u in "${SVCS[@]}"; do old+=("$(pid "$u")"); done
ipvs_before=$(ipvsadm -Sn | sort)
cl_log "kill -9 applier ${old[2]}"
t=$(ms)
kill -KILL "${old[2]}"
restarted() {
	local i=0 u p
	for u in "${SVCS[@]}"; do
		p=$(pid "$u")
		[[ $p != 0 && $p != "${old[$i]}" ]] || return 1
		[[ $(systemctl is-active "$u.service") == active ]] || return 1
		i=$((i + 1))
	done
}
cl_wait 90 restarted
rc=$?
ok $rc "kill -9 of the applier: systemd restarts it, and the planner and watcher whose edges ended ($(($(ms) - t)) ms)"
[[ $rc == 0 ]] || for u in "${SVCS[@]}"; do journal "$u"; done
[[ $(systemctl show -p NRestarts --value kipvs-applierd.service) -ge 1 ]]
ok $? "kipvs-applierd.service counts the restart (NRestarts=$(systemctl show -p NRestarts --value kipvs-applierd.service))"
cl_wait 30 converged
state >"$CL/state.restart"
diff -u "$CL/state.parent" "$CL/state.restart" >"$CL/state.diff2"
rc=$?
[[ $rc == 0 && $(ipvsadm -Sn | sort) == "$ipvs_before" ]]
ok $? "after the restart the kernel state still equals the parent form's"
[[ $rc == 0 ]] || diag <"$CL/state.diff2"
check kipvs-applierd "$A_UID" "$NETADMIN"
ok $? "the restarted applier is sandboxed as before"
# The restarted set works: an API change reaches the kernel.
t=$(ms)
cl_apply "$(cl_change endpointslices modify "$(cl_eps default web web-1 $P 10.244.0.11 10.244.0.12 10.244.0.13)")" &&
    cl_wait 60 cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080 10.244.0.13:8080"
ok $? "an endpoint added after the restart is programmed ($(($(ms) - t)) ms)"

systemctl stop "${SVCS[@]/%/.service}" "${SOCKS[@]}"
cl_log "done at $(ms) ms"
exit $((failed > 0))
