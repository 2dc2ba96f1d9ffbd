#!/usr/bin/env bash
# Each daemon binary, run as root with its descriptors in place, enters
# its sandbox and then performs one syscall through the hidden
# --test-syscall hook: forbidden calls end the process with SIGSYS,
# errno-class calls fail with the documented errno, allowed calls work.
# (tests/unit/sandbox_test covers the full list against the same
# sandbox_enter(); this shows that the daemons really call it.)
. "$(dirname "$0")/lib.sh"
need_root

SIGSYS_STATUS=$((128 + 31))
ENOSYS=38

# run_probe BINARY UID NFDS SYSCALL: exit status of the daemon.
run_probe() {
	local bin=$1 id=$2 nfd=$3 name=$4
	# Descriptors 3..nfd stand in for the sockets and files kipvs passes.
	(
		for fd in $(seq 3 "$nfd"); do eval "exec $fd<>/dev/null"; done
		exec "$LIBEXEC/$bin" --user "$id:$id" --log-level error \
		    --test-syscall "$name"
	) </dev/null >/dev/null 2>>"$TMP/probe.log"
	echo $?
}

expect() {	# expect BINARY UID NFDS SYSCALL STATUS WHAT
	local st
	st=$(run_probe "$1" "$2" "$3" "$4")
	[ "$st" -eq "$5" ]
	ok $? "$1: $4 $6 (status $st)"
}

for d in kipvs-watcherd:$W_ID:4 kipvs-planner:$P_ID:5 kipvs-applierd:$A_ID:6; do
	bin=${d%%:*}; rest=${d#*:}; id=${rest%%:*}; nfd=${rest#*:}
	expect "$bin" "$id" "$nfd" getpid 0 "is allowed"
	# glibc's qsort of > 1 KiB calls sysinfo (the planner at scale).
	expect "$bin" "$id" "$nfd" qsort_large 0 "of 4096 ints works"
	for s in execve ptrace init_module finit_module bpf mount unshare \
	    setuid0 memfd_create; do
		expect "$bin" "$id" "$nfd" "$s" $SIGSYS_STATUS "is killed by SIGSYS"
	done
	expect "$bin" "$id" "$nfd" clone3 $ENOSYS "fails with ENOSYS"
	if [ "$bin" != kipvs-watcherd ]; then
		expect "$bin" "$id" "$nfd" openat $SIGSYS_STATUS "is killed by SIGSYS"
		expect "$bin" "$id" "$nfd" socket_inet_stream $SIGSYS_STATUS "is killed by SIGSYS"
	fi
done
expect kipvs-applierd $A_ID 6 socket_netlink_route 0 "is allowed"
expect kipvs-planner $P_ID 5 socket_netlink_route $SIGSYS_STATUS "is killed by SIGSYS"
expect kipvs-watcherd $W_ID 4 socket_inet_stream 0 "is allowed"

# Started without kipvs's descriptors, a daemon refuses to run.
"$LIBEXEC/kipvs-planner" --user "$P_ID:$P_ID" </dev/null >/dev/null 2>"$TMP/nofd"
[ $? -ne 0 ] && grep -q 'descriptor 3 is not open' "$TMP/nofd"
ok $? "a daemon without its descriptors refuses to start"
finish
