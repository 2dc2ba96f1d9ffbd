/*
 * kipvs-planner: main.  Started by kipvs as root with its sockets on
 * fixed descriptors (docs/supervisor.md); enters its sandbox (own uid, no
 * capabilities, chroot into an empty directory, no socket() and no open
 * at all under seccomp) before it reads a byte, then runs the link loop.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "planner/plan_ipc.h"

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct ipc_proc p;
	struct plan_ipc pl;

	daemon_opts_parse(&o, "kipvs-planner", argc, argv);
	daemon_check_fds(0, PLAN_FD_PA);
	ipc_proc_init(&p, IPC_ROLE_PLANNER, o.heartbeat_ms);
	if (ipc_proc_signals(&p, PLAN_FD_SIGNAL) == -1)
		fatal("signals");

	sandbox_defaults(&sb, SANDBOX_PLANNER);
	sb.uid = o.uid;
	sb.gid = o.gid;
	sb.parent = getppid();
	sb.flags = o.seccomp_debug ? SANDBOX_F_SECCOMP_TRAP : 0;
	sandbox_enter(&sb);
	if (o.test_syscall != NULL)
		daemon_test_syscall(o.test_syscall);

	plan_ipc_init(&pl, &p);
	return ipc_proc_run(&p);
}
