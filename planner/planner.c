/*
 * kipvs-planner: main.  Started by kipvs as root with its sockets on
 * fixed descriptors (docs/supervisor.md); parses its command line (the
 * daemon flags of common/daemon.h with kube-proxy's flags, and its own
 * --blast-radius-hold-ms), enters its sandbox (own uid, no
 * capabilities, chroot into an empty directory, no socket() and no open
 * at all under seccomp) before it reads a byte, then runs the loop of
 * plan_daemon.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/kpconf.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/sandbox.h"
#include "common/sd.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "ipc/sd.h"
#include "planner/plan_daemon.h"
#include "planner/plan_ipc.h"

static int
planner_flag(void *arg, const char *name, const char *v, char *err,
    size_t errlen)
{
	unsigned *hold_ms = arg;
	unsigned long n;
	char *end;

	(void)name;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > 3600000) {
		snprintf(err, errlen, "0 to 3600000");
		return -1;
	}
	*hold_ms = (unsigned)n;
	return 0;
}

static void
planner_hostname(struct kp_config *kc)
{
	char host[256];
	size_t i;

	if (kc->hostname[0] != '\0')
		return;
	if (gethostname(host, sizeof(host)) == -1)
		fatal("gethostname");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && i + 1 < sizeof(kc->hostname); i++)
		kc->hostname[i] = (char)tolower((unsigned char)host[i]);
	kc->hostname[i] = '\0';
}

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct sd_opts so;
	struct kp_config kc;
	struct ipc_proc p;
	struct plan_ipc pl;
	struct plan_daemon *pd;
	struct ipc_link *wp, *pa;
	unsigned hold_ms = PLAN_HOLD_MS_DEFAULT;
	int rc;

	argv = sd_opts_take(&so, &argc, argv);
	daemon_opts_parse_own(&o, "kipvs-planner", argc, argv,
	    daemon_planner_flags, planner_flag, &hold_ms);
	kc = o.kp;
	planner_hostname(&kc);
	if (so.on)
		sd_daemon_setup(&so, SD_PLANNER);
	daemon_check_fds(0, PLAN_FD_PA);
	ipc_proc_init(&p, IPC_ROLE_PLANNER, o.heartbeat_ms);
	if (ipc_proc_signals(&p, PLAN_FD_SIGNAL) == -1)
		fatal("signals");

	sandbox_defaults(&sb, SANDBOX_PLANNER);
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

	plan_ipc_links(&p, &wp, &pa);
	if ((pd = plan_daemon_new(&kc, hold_ms, wp, pa)) == NULL)
		fatalx("out of memory");
	plan_ipc_init(&pl, &p, pd);
	log_info("node %s, %s%s%s, sync period %u ms, min sync period %u ms",
	    kc.hostname, (kc.families & KP_FAMILY_V4) ? "IPv4" : "",
	    kc.families == (KP_FAMILY_V4 | KP_FAMILY_V6) ? " and " : "",
	    (kc.families & KP_FAMILY_V6) ? "IPv6" : "", kc.sync_period_ms,
	    kc.min_sync_period_ms);
	/* Heartbeats go on through a sync of many seconds (50,000 Services). */
	progress_set(ipc_proc_keepalive, &p);
	rc = ipc_proc_run(&p);
	progress_set(NULL, NULL);
	plan_ipc_clear(&pl);
	plan_daemon_free(pd);
	return rc;
}
