/*
 * kipvs-watcherd: main.  Started by kipvs as root with its sockets on
 * fixed descriptors (docs/supervisor.md); enters its sandbox (own uid, no
 * capabilities, seccomp) before it reads a byte from a peer, then runs
 * the link loop.  The apiserver engine is wired in by its own issue.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "watcherd/watch_ipc.h"

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct ipc_proc p;
	struct watch_ipc w;

	daemon_opts_parse(&o, "kipvs-watcherd", argc, argv);
	daemon_check_fds(0, WATCH_FD_WP);
	ipc_proc_init(&p, IPC_ROLE_WATCHER, o.heartbeat_ms);
	if (ipc_proc_signals(&p, WATCH_FD_SIGNAL) == -1)
		fatal("signals");

	sandbox_defaults(&sb, SANDBOX_WATCHER);
	sb.uid = o.uid;
	sb.gid = o.gid;
	sb.parent = getppid();
	sb.flags = o.seccomp_debug ? SANDBOX_F_SECCOMP_TRAP : 0;
	sandbox_enter(&sb);
	if (o.test_syscall != NULL)
		daemon_test_syscall(o.test_syscall);

	watch_ipc_init(&w, &p);
	return ipc_proc_run(&p);
}
