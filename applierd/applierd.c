/*
 * kipvs-applierd: main.  Started by kipvs as root with its sockets, the
 * audit log and the xtables lock on fixed descriptors
 * (docs/supervisor.md).  It narrows itself at once to the capabilities
 * of its start-up (CAP_SYS_MODULE for the module preload, CAP_NET_ADMIN,
 * and what the drop needs), preloads the allow-listed modules, sets
 * kube-proxy's sysctls and opens its kernel handles, all from its own
 * command line, then enters its sandbox keeping CAP_NET_ADMIN only,
 * before it reads a byte.
 *
 * --cleanup (`kipvs cleanup`) runs the same start-up and sandbox without
 * the module preload and sysctls, removes what kipvs owns and exits.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <linux/capability.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "applierd/applier_cleanup.h"
#include "applierd/applier_conf.h"
#include "applierd/applier_ipc.h"
#include "applierd/applier_start.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/sandbox.h"
#include "common/sd.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "ipc/sd.h"

/* The highest open descriptor: the last kernel handle opened. */
static int
applier_last_fd(int from)
{
	int fd, last = from;

	for (fd = from + 1; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			last = fd;
	return last;
}

int
main(int argc, char *argv[])
{
	static const int startup_caps[] = { CAP_NET_ADMIN, CAP_SYS_MODULE };
	static struct applier_conf conf;
	static struct applier_kernel k;
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct sd_opts so;
	struct ipc_proc p;
	struct applier_ipc a;
	int no_setup, rv;

	applier_conf_defaults(&conf);
	argv = sd_opts_take(&so, &argc, argv);
	daemon_opts_parse_own(&o, "kipvs-applierd", argc, argv,
	    daemon_applier_flags, applier_conf_flag, &conf);
	conf.kp = o.kp;
	/* The sandbox probe needs no kernel setup either. */
	no_setup = conf.no_kernel_setup || o.test_syscall != NULL;
	if (so.on)
		sd_daemon_setup(&so, SD_APPLIER);
	if (conf.cleanup)
		daemon_check_fds(APPLY_FD_AUDIT, APPLY_FD_XTLOCK);
	else
		daemon_check_fds(0, APPLY_FD_XTLOCK);
	/* --systemd: the unit gave CAP_NET_ADMIN alone; modules-load.d. */
	if (!so.on && sandbox_startup_caps(startup_caps, 2) == -1)
		fatal("narrowing capabilities for start-up");
	if (!no_setup && !conf.cleanup) {
		if (!so.on && applier_preload(&conf) == -1)
			log_warnx("module preload failed; continuing with "
			    "what the kernel has");
		applier_sysctls(&conf);
	}
	ipc_proc_init(&p, IPC_ROLE_APPLIER, o.heartbeat_ms);
	if (!conf.cleanup && ipc_proc_signals(&p, APPLY_FD_SIGNAL) == -1)
		fatal("signals");
	/* After the fixed descriptors: the handles land above them. */
	if (!o.test_syscall)
		applier_kernel_open(&k, &conf, APPLY_FD_AUDIT,
		    APPLY_FD_XTLOCK, no_setup || conf.cleanup);

	/* gmtime_r() in the audit records reads /etc/localtime once. */
	tzset();

	/* From here on: CAP_NET_ADMIN only. */
	sandbox_defaults(&sb, SANDBOX_APPLIER);
	/* The kernel handles' sockets stay open across the sandbox. */
	sb.max_fd = applier_last_fd(sb.max_fd);
	sb.uid = o.uid;
	sb.gid = o.gid;
	sb.parent = getppid();
	sb.flags = o.seccomp_debug ? SANDBOX_F_SECCOMP_TRAP : 0;
	if (so.on)
		sd_sandbox_enter(&sb);
	else
		sandbox_enter(&sb);
	if (o.test_syscall != NULL)
		daemon_test_syscall(o.test_syscall);
	if (conf.cleanup)
		return applier_cleanup(&k, &conf);

	applier_ipc_init(&a, &p, &conf, &k);
	/* Heartbeats go on through a batch of many seconds. */
	progress_set(ipc_proc_keepalive, &p);
	rv = ipc_proc_run(&p);
	progress_set(NULL, NULL);
	applier_ipc_free(&a);
	return rv;
}
