/*
 * kipvs-applierd: main.  Started by kipvs as root with its sockets, the
 * audit log and the xtables lock on fixed descriptors
 * (docs/supervisor.md).  It narrows itself at once to the capabilities
 * of its start-up (CAP_SYS_MODULE for the module preload, CAP_NET_ADMIN,
 * and what the drop needs), preloads the allow-listed modules, then
 * enters its sandbox keeping CAP_NET_ADMIN only, before it reads a byte.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <linux/capability.h>
#include <unistd.h>

#include "applierd/applier_ipc.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"

int
main(int argc, char *argv[])
{
	static const int startup_caps[] = { CAP_NET_ADMIN, CAP_SYS_MODULE };
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct ipc_proc p;
	struct applier_ipc a;

	daemon_opts_parse(&o, "kipvs-applierd", argc, argv);
	daemon_check_fds(0, APPLY_FD_XTLOCK);
	if (sandbox_startup_caps(startup_caps, 2) == -1)
		fatal("narrowing capabilities for start-up");
	if (applier_preload() == -1)
		fatalx("module preload failed");
	ipc_proc_init(&p, IPC_ROLE_APPLIER, o.heartbeat_ms);
	if (ipc_proc_signals(&p, APPLY_FD_SIGNAL) == -1)
		fatal("signals");

	/* From here on: CAP_NET_ADMIN only. */
	sandbox_defaults(&sb, SANDBOX_APPLIER);
	sb.uid = o.uid;
	sb.gid = o.gid;
	sb.parent = getppid();
	sb.flags = o.seccomp_debug ? SANDBOX_F_SECCOMP_TRAP : 0;
	sandbox_enter(&sb);
	if (o.test_syscall != NULL)
		daemon_test_syscall(o.test_syscall);

	applier_ipc_init(&a, &p);
	return ipc_proc_run(&p);
}
