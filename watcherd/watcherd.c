/*
 * kipvs-watcherd: main.  Started by kipvs as root with its sockets on
 * fixed descriptors (docs/supervisor.md); acquires what needs files or
 * privileges (credentials, listeners), enters its sandbox (own uid, no
 * capabilities, seccomp) before it reads a byte from a peer or the
 * apiserver, then runs the event loop (watcherd/watch_daemon.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/sd.h"
#include "ipc/proc.h"
#include "ipc/sd.h"
#include "watcherd/watch_daemon.h"

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct sandbox_conf sb;
	struct sd_opts so;
	struct watch_daemon *d = NULL;
	struct watch_daemon_conf wc = { 0 };
	int max_fd = WATCH_FD_SIGNAL, rc;

	argv = sd_opts_take(&so, &argc, argv);
	daemon_opts_parse_own(&o, "kipvs-watcherd", argc, argv,
	    daemon_watcher_flags, watch_daemon_flag, &wc);
	if (so.on)
		sd_daemon_setup(&so, SD_WATCHER);
	daemon_check_fds(0, WATCH_FD_WP);
	/* The sandbox probe needs no apiserver (tests/sup/30-*). */
	if (o.test_syscall == NULL)
		d = watch_daemon_setup(&o, &wc, &max_fd);

	sandbox_defaults(&sb, SANDBOX_WATCHER);
	sb.uid = o.uid;
	sb.gid = o.gid;
	sb.parent = getppid();
	sb.max_fd = max_fd;
	sb.flags = o.seccomp_debug ? SANDBOX_F_SECCOMP_TRAP : 0;
	if (so.on)
		sd_sandbox_enter(&sb);
	else
		sandbox_enter(&sb);
	if (o.test_syscall != NULL)
		daemon_test_syscall(o.test_syscall);

	rc = watch_daemon_run(d);
	watch_daemon_free(d);
	return rc;
}
