/*
 * Unit tests for the systemd glue (ipc/sd.c, common/sd.c): the
 * $LISTEN_FDS/$LISTEN_FDNAMES protocol, the flags taken out of argv,
 * READY=1 on $NOTIFY_SOCKET (path and abstract), SO_PEERCRED on both
 * sides of an edge (a peer of another uid refused, a listener of another
 * uid refused) and the id/capability check of the --systemd sandbox.
 * The parts that need a second uid run as root only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <errno.h>
#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sd.h"
#include "ipc/sd.h"
#include "tests/tap.h"

#define NOBODY	65534

static char dir[] = "/tmp/kipvs-sd-test.XXXXXX";

static void
test_listen(void)
{
	const char *r = NULL;
	int fd;

	ok(sd_listen_parse("42", "1", NULL, 42, "planner", &r) == 3,
	    "one socket without names is fd 3");
	ok(sd_listen_parse("42", "2", "planner:watcher", 42, "watcher",
	    &r) == 4, "the second name is fd 4");
	fd = sd_listen_parse("42", "2", "planner:watcher", 42, "applier", &r);
	ok(fd == -1 && strstr(r, "no socket") != NULL,
	    "an absent name is an error (%s)", r);
	fd = sd_listen_parse("41", "1", "planner", 42, "planner", &r);
	ok(fd == -1 && strstr(r, "LISTEN_PID") != NULL,
	    "another process's sockets are not ours (%s)", r);
	ok(sd_listen_parse("42", "x", NULL, 42, "planner", &r) == -1 &&
	    sd_listen_parse("42", "0", NULL, 42, "planner", &r) == -1,
	    "a bad or zero $LISTEN_FDS is an error");
	fd = sd_listen_parse(NULL, NULL, NULL, 42, "planner", &r);
	ok(fd == -1 && strstr(r, "not socket-activated") != NULL,
	    "not socket-activated: an error (%s)", r);
	fd = sd_listen_parse("42", "2", NULL, 42, "planner", &r);
	ok(fd == -1 && strstr(r, "no $LISTEN_FDNAMES") != NULL,
	    "two sockets without names: an error (%s)", r);
}

static void
test_opts(void)
{
	char *av[] = { "kipvs-planner", "--systemd", "--peer-user",
	    "kipvs-watch", "--connect=/run/kipvs/pa.sock", "--user=7:8",
	    "--hostname-override", "n1", NULL };
	char *av2[] = { "kipvs-applierd", "--audit-log=/x", "--user=7:8",
	    NULL };
	char **out;
	struct sd_opts so;
	int ac = 8, i, bad = 0, st;
	pid_t pid;

	out = sd_opts_take(&so, &ac, av);
	ok(so.on && so.peer_user != NULL &&
	    strcmp(so.peer_user, "kipvs-watch") == 0 && so.connect != NULL &&
	    strcmp(so.connect, "/run/kipvs/pa.sock") == 0 && sd_active(),
	    "--systemd, --peer-user V and --connect=V are taken");
	if (ac != 5 || out[5] != NULL)
		bad = 1;
	for (i = 0; i < ac && !bad; i++)
		if (strncmp(out[i], "--peer", 6) == 0 ||
		    strncmp(out[i], "--connect", 9) == 0)
			bad = 1;
	ok(!bad && strcmp(out[1], "--systemd") == 0 &&
	    strcmp(out[2], "--user=7:8") == 0 && strcmp(out[4], "n1") == 0,
	    "the rest is left for daemon_opts_parse (%d args)", ac);
	free(out);

	/* Without --systemd the applier's file flags are refused. */
	if ((pid = fork()) == 0) {
		int n = 3;

		(void)close(STDERR_FILENO);
		(void)sd_opts_take(&so, &n, av2);
		_exit(0);
	}
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) != 0, "--audit-log without --systemd: fatal");
}

static int
dgram_listener(struct sockaddr_un *sun, socklen_t len)
{
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)sun, len) == -1)
		return -1;
	return fd;
}

static void
test_notify(void)
{
	struct sockaddr_un sun;
	char path[96], buf[64];
	ssize_t n;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ok(sd_notify("READY=1") == 0, "no $NOTIFY_SOCKET: nothing sent");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = dgram_listener(&sun, sizeof(sun));
	setenv("NOTIFY_SOCKET", path, 1);
	ok(fd != -1 && sd_notify("READY=1") == 1 &&
	    (n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) == 7 &&
	    memcmp(buf, "READY=1", 7) == 0, "READY=1 reaches a path socket");
	if (fd != -1)
		close(fd);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(path, sizeof(path), "@kipvs-sd-test-%d", (int)getpid());
	memcpy(sun.sun_path + 1, path + 1, strlen(path) - 1);
	fd = dgram_listener(&sun, (socklen_t)(offsetof(struct sockaddr_un,
	    sun_path) + strlen(path)));
	setenv("NOTIFY_SOCKET", path, 1);
	ok(fd != -1 && sd_notify("READY=1") == 1 &&
	    (n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) == 7 &&
	    memcmp(buf, "READY=1", 7) == 0,
	    "READY=1 reaches an abstract socket (%s)", path);
	if (fd != -1)
		close(fd);
	setenv("NOTIFY_SOCKET", "relative", 1);
	ok(sd_notify("READY=1") == -1, "a relative $NOTIFY_SOCKET is refused");
	unsetenv("NOTIFY_SOCKET");
}

static int
seqpacket_listener(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0777) == -1 || listen(fd, 8) == -1)
		return -1;
	return fd;
}

/* A child that connects as nobody and reports whether it was hung up. */
static pid_t
connect_as_nobody(const char *path)
{
	char c;
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	if (setgroups(0, NULL) == -1 || setresgid(NOBODY, NOBODY, NOBODY) ==
	    -1 || setresuid(NOBODY, NOBODY, NOBODY) == -1)
		_exit(3);
	/* The listener is root's, not ours: refused. */
	if (sd_connect(path, NOBODY, 1000) != -1 || errno != EPERM)
		_exit(4);
	if ((fd = sd_connect(path, 0, 1000)) == -1)
		_exit(5);
	/* The accepting side closes us without a byte. */
	_exit(recv(fd, &c, 1, 0) == 0 ? 0 : 6);
}

static void
test_peercred(void)
{
	char path[96];
	uid_t uid;
	pid_t pid, child;
	int lfd, cfd, afd, st;

	snprintf(path, sizeof(path), "%s/edge.sock", dir);
	lfd = seqpacket_listener(path);
	ok(lfd != -1, "a SOCK_SEQPACKET listener at %s", path);
	ok(sd_connect("/nonexistent/kipvs.sock", getuid(), 200) == -1 &&
	    errno == ENOENT, "a missing socket fails after the wait");
	cfd = sd_connect(path, getuid(), 1000);
	ok(cfd != -1, "connect: the listener's uid is the expected one");
	afd = sd_accept_peer(lfd, getuid());
	ok(afd != -1 && sd_peer_uid(afd, &uid, &pid) == 0 &&
	    uid == getuid() && pid == getpid(),
	    "accept: SO_PEERCRED gives our uid and pid");
	if (cfd != -1)
		close(cfd);
	if (afd != -1)
		close(afd);
	ok(sd_connect(path, getuid() + 1, 1000) == -1 && errno == EPERM,
	    "connect: a listener of another uid is refused");
	/* That connection is queued: take it off the backlog. */
	afd = sd_accept_peer(lfd, getuid());
	if (afd != -1)
		close(afd);

	if (geteuid() != 0) {
		tap_skip(2, "a second uid needs root");
		close(lfd);
		return;
	}
	child = connect_as_nobody(path);
	/* Its connection arrives first; ours after it. */
	sleep(1);
	cfd = sd_connect(path, 0, 1000);
	afd = sd_accept_peer(lfd, 0);
	ok(afd != -1 && sd_peer_uid(afd, &uid, NULL) == 0 && uid == 0,
	    "accept: the peer of another uid is skipped, ours accepted");
	st = -1;
	(void)waitpid(child, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the other uid's connection was closed unread (child status %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (cfd != -1)
		close(cfd);
	if (afd != -1)
		close(afd);
	close(lfd);
}

static void
test_verify(void)
{
	static const int net_admin[] = { CAP_NET_ADMIN };
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		ok(sd_verify_ids(getuid(), getgid(), NULL, 0) == 0 ||
		    getgroups(0, NULL) != 0,
		    "an unprivileged process passes as itself");
		tap_skip(3, "dropping to another uid needs root");
		return;
	}
	ok(sd_verify_ids(0, 0, NULL, 0) == -1, "root can be regained: refused");
	if ((pid = fork()) == 0) {
		int i;

		(void)close(STDERR_FILENO);
		/* What CapabilityBoundingSet= would leave: nothing. */
		for (i = 0; i <= CAP_LAST_CAP; i++)
			if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) == -1)
				_exit(2);
		if (setgroups(0, NULL) == -1 || setresgid(NOBODY, NOBODY,
		    NOBODY) == -1 || setresuid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(3);
		if (sd_verify_ids(NOBODY, NOBODY, NULL, 0) != 0)
			_exit(4);
		if (sd_verify_ids(NOBODY, NOBODY, net_admin, 1) != -1)
			_exit(5);
		if (sd_verify_ids(NOBODY + 1, NOBODY, NULL, 0) != -1)
			_exit(6);
		_exit(0);
	}
	st = -1;
	(void)waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "as nobody without capabilities: passes; a declared capability "
	    "or another uid missing: refused (status %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* What systemd's initgroups() leaves: the primary group listed. */
	if ((pid = fork()) == 0) {
		gid_t own[1] = { NOBODY }, two[2] = { NOBODY, 0 };
		int i;

		(void)close(STDERR_FILENO);
		for (i = 0; i <= CAP_LAST_CAP; i++)
			if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) == -1)
				_exit(2);
		if (setgroups(2, two) == -1 ||
		    setresgid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(3);
		if (fork() == 0) {
			/* Another group listed: refused. */
			if (setresuid(NOBODY, NOBODY, NOBODY) == -1)
				_exit(3);
			_exit(sd_verify_ids(NOBODY, NOBODY, NULL, 0) == -1 ?
			    0 : 7);
		}
		if (wait(&st) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 8);
		if (setgroups(1, own) == -1 ||
		    setresuid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(4);
		_exit(sd_verify_ids(NOBODY, NOBODY, NULL, 0) == 0 ? 0 : 5);
	}
	st = -1;
	(void)waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "supplementary groups: the account's own passes, another is "
	    "refused (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/*
	 * The bounding set of a root test process is full, so CAP_NET_ADMIN
	 * alone fails on it: the check compares all three sets.
	 */
	ok(sd_verify_ids(0, 0, net_admin, 1) == -1,
	    "full bounding set: not CAP_NET_ADMIN alone");
}

int
main(void)
{
	char path[96];

	log_init("sd_test", LOG_LEVEL_WARN, 0);
	plan(25);
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1) {
		perror("mkdtemp");
		return 1;
	}
	test_listen();
	test_opts();
	test_notify();
	test_peercred();
	test_verify();
	snprintf(path, sizeof(path), "%s/notify", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/edge.sock", dir);
	unlink(path);
	rmdir(dir);
	return tap_failed != 0;
}
