/*
 * The daemons' systemd glue (see sd.h): flags, socket activation,
 * SO_PEERCRED, sd_notify.  No libsystemd.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/link.h"
#include "ipc/proc.h"
#include "ipc/sd.h"

#define SD_LISTEN_FDS_START	3
#define SD_CONNECT_WAIT_MS	10000

static int sd_on;
/* The argv copy of sd_opts_take(): the process's, kept reachable. */
static char **volatile sd_argv;

int
sd_active(void)
{
	return sd_on;
}

/* "--name V" or "--name=V": 1 (value in *v, *used args), 0 no match. */
static int
sd_flag(const char *name, int argc, char *argv[], int i, const char **v,
    int *used)
{
	size_t n = strlen(name);
	const char *a = argv[i];

	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return 0;
	if (a[2 + n] == '=') {
		*v = a + 3 + n;
		*used = 1;
		return 1;
	}
	if (a[2 + n] != '\0')
		return 0;
	if (i + 1 >= argc)
		fatalx("--%s needs a value", name);
	*v = argv[i + 1];
	*used = 2;
	return 1;
}

char **
sd_opts_take(struct sd_opts *so, int *argc, char *argv[])
{
	static char user[64];
	char **out;
	const char *v;
	int i, n = 0, used, has_user = 0;

	memset(so, 0, sizeof(*so));
	if ((out = calloc((size_t)*argc + 2, sizeof(*out))) == NULL)
		fatal("calloc");
	for (i = 0; i < *argc; i += used) {
		used = 1;
		/* --systemd stays: daemon_opts_parse() knows it too. */
		if (i > 0 && strcmp(argv[i], "--systemd") == 0) {
			so->on = 1;
			out[n++] = argv[i];
		} else if (i > 0 && sd_flag("peer-user", *argc, argv, i, &v,
		    &used))
			so->peer_user = v;
		else if (i > 0 && sd_flag("connect", *argc, argv, i, &v,
		    &used))
			so->connect = v;
		else if (i > 0 && sd_flag("audit-log", *argc, argv, i, &v,
		    &used))
			so->audit_log = v;
		else if (i > 0 && sd_flag("xtables-lock", *argc, argv, i, &v,
		    &used))
			so->xtables_lock = v;
		else {
			if (strcmp(argv[i], "--user") == 0 ||
			    strncmp(argv[i], "--user=", 7) == 0)
				has_user = 1;
			out[n++] = argv[i];
		}
	}
	if (!so->on && (so->peer_user || so->connect || so->audit_log ||
	    so->xtables_lock))
		fatalx("--peer-user, --connect, --audit-log and --xtables-lock "
		    "need --systemd");
	if (so->on && !has_user) {
		if (getuid() == 0 || getgid() == 0)
			fatalx("--systemd: run as the unit's User=, not root");
		snprintf(user, sizeof(user), "--user=%u:%u",
		    (unsigned)getuid(), (unsigned)getgid());
		out[n++] = user;
	}
	out[n] = NULL;
	*argc = n;
	sd_on = so->on;
	sd_argv = out;
	return out;
}

int
sd_listen_parse(const char *pid, const char *fds, const char *names,
    pid_t self, const char *want, const char **reason)
{
	const char *p, *e;
	char *end;
	unsigned long n, lp;
	size_t wl;
	int i;

	if (pid == NULL || fds == NULL) {
		*reason = "no $LISTEN_PID/$LISTEN_FDS (not socket-activated)";
		return -1;
	}
	errno = 0;
	lp = strtoul(pid, &end, 10);
	if (errno != 0 || end == pid || *end != '\0' ||
	    lp != (unsigned long)self) {
		*reason = "$LISTEN_PID is not this process";
		return -1;
	}
	errno = 0;
	n = strtoul(fds, &end, 10);
	if (errno != 0 || end == fds || *end != '\0' || n == 0 ||
	    n > INT_MAX - SD_LISTEN_FDS_START) {
		*reason = "bad $LISTEN_FDS";
		return -1;
	}
	if (names == NULL) {
		if (n != 1) {
			*reason = "several sockets and no $LISTEN_FDNAMES";
			return -1;
		}
		return SD_LISTEN_FDS_START;
	}
	wl = strlen(want);
	for (i = 0, p = names; i < (int)n; i++, p = e + 1) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == wl && strncmp(p, want, wl) == 0)
			return SD_LISTEN_FDS_START + i;
		if (*e == '\0')
			break;
	}
	*reason = "no socket of that name in $LISTEN_FDNAMES";
	return -1;
}

int
sd_listen_fd(const char *want, const char **reason)
{
	int fd;

	fd = sd_listen_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getenv("LISTEN_FDNAMES"), getpid(), want, reason);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (fd != -1 && fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		*reason = "the passed descriptor is not open";
		return -1;
	}
	return fd;
}

int
sd_peer_uid(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	if (len != sizeof(uc)) {
		errno = EPROTO;
		return -1;
	}
	*uid = uc.uid;
	if (pid != NULL)
		*pid = uc.pid;
	return 0;
}

int
sd_accept_peer(int lfd, uid_t uid)
{
	uid_t peer;
	pid_t pid;
	int fd;

	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return -1;
		}
		if (sd_peer_uid(fd, &peer, &pid) == -1) {
			log_warn("SO_PEERCRED");
			close(fd);
			continue;
		}
		if (peer == uid)
			return fd;
		log_warnx("refused a peer with uid %u (pid %d): only uid %u "
		    "may connect", (unsigned)peer, (int)pid, (unsigned)uid);
		close(fd);
	}
}

int
sd_connect(const char *path, uid_t uid, unsigned wait_ms)
{
	struct sockaddr_un sun;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	uint64_t until = ipc_now_ms() + wait_ms;
	uid_t peer;
	int fd, rv;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
		    0)) == -1)
			return -1;
		rv = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		if (rv == 0)
			break;
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN && errno != EINTR) ||
		    ipc_now_ms() >= until)
			return -1;
		nanosleep(&ts, NULL);
	}
	if (sd_peer_uid(fd, &peer, NULL) == -1) {
		close(fd);
		return -1;
	}
	if (peer != uid) {
		log_warnx("%s: the listener has uid %u, not %u", path,
		    (unsigned)peer, (unsigned)uid);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int
sd_user_uid(const char *spec, uid_t *uid)
{
	struct passwd *pw;
	unsigned long n;
	char *end;

	if (spec == NULL || *spec == '\0')
		return -1;
	errno = 0;
	n = strtoul(spec, &end, 10);
	if (errno == 0 && *end == '\0' && n < UINT_MAX) {
		*uid = (uid_t)n;
		return 0;
	}
	if ((pw = getpwnam(spec)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

/* Moves fd onto target (a descriptor of the fixed layout). */
static void
sd_place(int fd, int target, const char *what)
{
	if (fd == target)
		return;
	if (dup3(fd, target, O_CLOEXEC) == -1)
		fatal("%s: dup3 to %d", what, target);
	close(fd);
}

static void
sd_devnull(int target)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	sd_place(fd, target, "/dev/null");
}

/* The listening socket (to fd 3) and one accepted, checked peer. */
static void
sd_accept_edge(const struct sd_opts *so, const char *name, int target)
{
	const char *reason;
	uid_t uid;
	int lfd, fd;

	if (so->peer_user == NULL || sd_user_uid(so->peer_user, &uid) == -1)
		fatalx("--systemd: --peer-user names no account (%s)",
		    so->peer_user ? so->peer_user : "missing");
	if ((lfd = sd_listen_fd(name, &reason)) == -1)
		fatalx("--systemd: socket \"%s\": %s", name, reason);
	sd_place(lfd, IPC_FD_CTL, "listening socket");
	if ((fd = sd_accept_peer(IPC_FD_CTL, uid)) == -1)
		fatal("accept on socket \"%s\"", name);
	sd_place(fd, target, "accepted connection");
	log_info("link %s: accepted a peer with uid %u", name,
	    (unsigned)uid);
}

static void
sd_connect_edge(const struct sd_opts *so, int target)
{
	int fd;

	if (so->connect == NULL)
		fatalx("--systemd: --connect PATH is required");
	if ((fd = sd_connect(so->connect, 0, SD_CONNECT_WAIT_MS)) == -1)
		fatal("connecting to %s", so->connect);
	sd_place(fd, target, "connection");
	log_info("connected to %s", so->connect);
}

/* What the parent opens for the applier (docs/supervisor.md). */
static void
sd_applier_files(const struct sd_opts *so)
{
	int fd;

	if (so->audit_log == NULL || strcmp(so->audit_log, "-") == 0) {
		if ((fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) == -1)
			fatal("dup stderr");
	} else if ((fd = open(so->audit_log, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		fatal("audit log %s", so->audit_log);
	sd_place(fd, APPLY_FD_AUDIT, "audit log");
	if ((fd = open(so->xtables_lock ? so->xtables_lock :
	    "/run/xtables.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		fatal("xtables lock %s", so->xtables_lock ? so->xtables_lock :
		    "/run/xtables.lock");
	sd_place(fd, APPLY_FD_XTLOCK, "xtables lock");
}

void
sd_daemon_setup(const struct sd_opts *so, enum sd_role role)
{
	switch (role) {
	case SD_WATCHER:
		if (so->peer_user != NULL || so->audit_log != NULL ||
		    so->xtables_lock != NULL)
			fatalx("--systemd: the watcher takes --connect only");
		sd_devnull(IPC_FD_CTL);
		sd_connect_edge(so, WATCH_FD_WP);
		break;
	case SD_PLANNER:
		if (so->audit_log != NULL || so->xtables_lock != NULL)
			fatalx("--systemd: --audit-log and --xtables-lock are "
			    "the applier's");
		sd_accept_edge(so, "watcher", PLAN_FD_WP);
		sd_connect_edge(so, PLAN_FD_PA);
		break;
	case SD_APPLIER:
		if (so->connect != NULL)
			fatalx("--systemd: the applier takes no --connect");
		sd_accept_edge(so, "planner", APPLY_FD_PA);
		sd_applier_files(so);
		break;
	}
}
