/*
 * Unit tests for common/sandbox*.c: each daemon's sandbox entered in a
 * forked child with the same sandbox_enter() the daemons use, then
 *  - /proc/<pid>/status and /proc/<pid>/fd and root as declared,
 *  - every forbidden syscall ends the child with SIGSYS,
 *  - errno-class calls fail with the documented errno,
 *  - allowed calls still work,
 *  - the debug switch traps and logs instead of killing,
 *  - user parsing.
 * Needs root (uid changes, chroot); skips otherwise.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "tests/tap.h"

#define TEST_UID	65531
#define TEST_GID	65532

enum expect {
	KILL,		/* SIGSYS */
	ERR,		/* exit status = errno */
	OK,		/* exit status 0 */
};

struct probe {
	const char	*name;
	enum expect	 w, p, a;	/* watcher, planner, applier */
	int		 err;		/* for ERR */
};

static const struct probe probes[] = {
	{ "getpid", OK, OK, OK, 0 },
	{ "execve", KILL, KILL, KILL, 0 },
	{ "execveat", KILL, KILL, KILL, 0 },
	{ "openat", OK, KILL, KILL, 0 },
	{ "openat_write", KILL, KILL, KILL, 0 },
	{ "open_by_handle_at", KILL, KILL, KILL, 0 },
	{ "socket_inet_stream", OK, KILL, KILL, 0 },
	{ "socket_inet_dgram", OK, KILL, OK, 0 },
	{ "socket_inet_raw", KILL, KILL, KILL, 0 },
	{ "socket_packet", KILL, KILL, KILL, 0 },
	{ "socket_netlink_route", OK, KILL, OK, 0 },
	{ "socket_netlink_audit", KILL, KILL, KILL, 0 },
	{ "socketpair", KILL, KILL, KILL, 0 },
	{ "ptrace", KILL, KILL, KILL, 0 },
	{ "process_vm_readv", KILL, KILL, KILL, 0 },
	{ "init_module", KILL, KILL, KILL, 0 },
	{ "finit_module", KILL, KILL, KILL, 0 },
	{ "delete_module", KILL, KILL, KILL, 0 },
	{ "bpf", KILL, KILL, KILL, 0 },
	{ "mount", KILL, KILL, KILL, 0 },
	{ "unshare", KILL, KILL, KILL, 0 },
	{ "setns", KILL, KILL, KILL, 0 },
	{ "setuid0", KILL, KILL, KILL, 0 },
	{ "setgid0", KILL, KILL, KILL, 0 },
	{ "capset", KILL, KILL, KILL, 0 },
	{ "kexec_load", KILL, KILL, KILL, 0 },
	{ "keyctl", KILL, KILL, KILL, 0 },
	{ "perf_event_open", KILL, KILL, KILL, 0 },
	{ "userfaultfd", KILL, KILL, KILL, 0 },
	{ "io_uring_setup", KILL, KILL, KILL, 0 },
	{ "memfd_create", KILL, KILL, KILL, 0 },
	{ "mmap_exec", KILL, KILL, KILL, 0 },
	{ "mprotect_exec", KILL, KILL, KILL, 0 },
	{ "fork", KILL, KILL, KILL, 0 },
	{ "ipvs_sockopt", KILL, KILL, KILL, 0 },
	{ "clone3", ERR, ERR, ERR, ENOSYS },
	{ "ioctl_tty", ERR, ERR, ERR, ENOTTY },
	{ "ioctl_siocgifindex", ERR, ERR, ERR, ENOTTY },
};
#define N_PROBES	(sizeof(probes) / sizeof(probes[0]))

static const char *const proc_names[] = {
	[SANDBOX_WATCHER] = "watcher",
	[SANDBOX_PLANNER] = "planner",
	[SANDBOX_APPLIER] = "applier",
};

static void
child_enter(enum sandbox_proc proc, unsigned flags)
{
	struct sandbox_conf c;

	log_init("sandbox-test", LOG_LEVEL_WARN, 0);
	sandbox_defaults(&c, proc);
	c.uid = TEST_UID;
	c.gid = TEST_GID;
	c.parent = getppid();
	c.flags = flags;
	sandbox_enter(&c);
}

/* Runs one probe in a sandboxed child; returns its wait status. */
static int
run_probe(enum sandbox_proc proc, const char *name, unsigned flags,
    int errfd)
{
	pid_t pid;
	int st, rv;

	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if (errfd != -1)
			dup2(errfd, STDERR_FILENO);
		child_enter(proc, flags);
		rv = sandbox_probe(name);
		_exit(rv < 0 ? 254 : rv);
	}
	waitpid(pid, &st, 0);
	return st;
}

static enum expect
expect_of(const struct probe *p, enum sandbox_proc proc)
{
	return proc == SANDBOX_WATCHER ? p->w :
	    proc == SANDBOX_PLANNER ? p->p : p->a;
}

static void
check_probes(enum sandbox_proc proc)
{
	size_t i;
	int st;

	for (i = 0; i < N_PROBES; i++) {
		const struct probe *p = &probes[i];

		st = run_probe(proc, p->name, 0, -1);
		switch (expect_of(p, proc)) {
		case KILL:
			ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
			    "%s: %s is killed with SIGSYS (status %#x)",
			    proc_names[proc], p->name, st);
			break;
		case ERR:
			ok(WIFEXITED(st) && WEXITSTATUS(st) == p->err,
			    "%s: %s fails with errno %d (status %#x)",
			    proc_names[proc], p->name, p->err, st);
			break;
		case OK:
			ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "%s: %s is allowed (status %#x)",
			    proc_names[proc], p->name, st);
			break;
		}
	}
}

/* Value of a "Key:\t..." line of /proc/<pid>/status. */
static int
status_field(pid_t pid, const char *key, char *out, size_t outlen)
{
	char path[64], line[512];
	size_t klen = strlen(key);
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(out, outlen, "%s", line + klen + 2);
			out[strcspn(out, "\n")] = '\0';
			found = 1;
			break;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static int
count_fds(pid_t pid, int *maxfd)
{
	char path[64];
	int fd, n = 0;

	*maxfd = -1;
	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		if (access(path, F_OK) == 0) {
			n++;
			*maxfd = fd;
		}
	}
	return n;
}

/*
 * Enters the sandbox in a child that then waits on a pipe, so the parent
 * can look at it from /proc.
 */
static void
check_status(enum sandbox_proc proc, const char *capeff)
{
	struct sandbox_conf c;
	char v[256], want[64], path[64], root[256];
	int ready[2], go[2], st, maxfd = -1;
	ssize_t n;
	pid_t pid;
	char b;

	sandbox_defaults(&c, proc);
	if (pipe(ready) == -1 || pipe(go) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		/* Declared fds 0..max_fd: the two pipe ends are the last. */
		go[0] = fcntl(go[0], F_DUPFD, 100);
		ready[1] = fcntl(ready[1], F_DUPFD, 100);
		dup2(go[0], c.max_fd - 1);
		dup2(ready[1], c.max_fd);
		/* An undeclared descriptor that must be closed. */
		dup2(go[0], c.max_fd + 3);
		child_enter(proc, 0);
		(void)!write(c.max_fd, "r", 1);
		(void)!read(c.max_fd - 1, &b, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	n = read(ready[0], &b, 1);
	ok(n == 1, "%s: child entered the sandbox", proc_names[proc]);

	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", TEST_UID, TEST_UID,
	    TEST_UID, TEST_UID);
	ok(status_field(pid, "Uid", v, sizeof(v)) == 0 && strcmp(v, want) == 0,
	    "%s: Uid %s", proc_names[proc], v);
	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", TEST_GID, TEST_GID,
	    TEST_GID, TEST_GID);
	ok(status_field(pid, "Gid", v, sizeof(v)) == 0 && strcmp(v, want) == 0,
	    "%s: Gid %s", proc_names[proc], v);
	ok(status_field(pid, "Groups", v, sizeof(v)) == 0 &&
	    strspn(v, " \t") == strlen(v), "%s: no supplementary groups",
	    proc_names[proc]);
	ok(status_field(pid, "CapEff", v, sizeof(v)) == 0 &&
	    strcmp(v, capeff) == 0, "%s: CapEff %s", proc_names[proc], v);
	ok(status_field(pid, "CapPrm", v, sizeof(v)) == 0 &&
	    strcmp(v, capeff) == 0, "%s: CapPrm %s", proc_names[proc], v);
	ok(status_field(pid, "CapBnd", v, sizeof(v)) == 0 &&
	    strcmp(v, capeff) == 0, "%s: CapBnd %s", proc_names[proc], v);
	ok(status_field(pid, "CapInh", v, sizeof(v)) == 0 &&
	    strcmp(v, "0000000000000000") == 0 &&
	    status_field(pid, "CapAmb", v, sizeof(v)) == 0 &&
	    strcmp(v, "0000000000000000") == 0, "%s: CapInh and CapAmb empty",
	    proc_names[proc]);
	ok(status_field(pid, "NoNewPrivs", v, sizeof(v)) == 0 &&
	    strcmp(v, "1") == 0, "%s: NoNewPrivs 1", proc_names[proc]);
	ok(status_field(pid, "Seccomp", v, sizeof(v)) == 0 &&
	    strcmp(v, "2") == 0, "%s: Seccomp 2", proc_names[proc]);
	ok(count_fds(pid, &maxfd) == c.max_fd + 1 && maxfd == c.max_fd,
	    "%s: exactly fds 0..%d open (max %d)", proc_names[proc],
	    c.max_fd, maxfd);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	memset(root, 0, sizeof(root));
	n = readlink(path, root, sizeof(root) - 1);
	if (c.chroot)
		ok(n > 0 && strstr(root, "(deleted)") != NULL,
		    "%s: root is an empty deleted directory: %s",
		    proc_names[proc], root);
	else
		ok(n > 0 && strcmp(root, "/") == 0, "%s: root is /: %s",
		    proc_names[proc], root);

	close(go[1]);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child exited cleanly",
	    proc_names[proc]);
	close(ready[0]);
}

static void
check_trap(void)
{
	char out[512];
	int p[2], st;
	ssize_t n;

	if (pipe(p) == -1)
		abort();
	st = run_probe(SANDBOX_PLANNER, "execve", SANDBOX_F_SECCOMP_TRAP, p[1]);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == ENOSYS,
	    "debug switch: execve fails with ENOSYS instead of killing "
	    "(status %#x)", st);
	ok(strstr(out, "seccomp: blocked syscall 59") != NULL ||
	    strstr(out, "seccomp: blocked syscall 221") != NULL,
	    "debug switch: the blocked syscall is logged");
}

static void
check_users(void)
{
	char err[256] = "";
	uid_t u;
	gid_t g;

	ok(sandbox_parse_user("65531:65532", &u, &g, err, sizeof(err)) == 0 &&
	    u == 65531 && g == 65532, "numeric uid:gid parsed");
	ok(sandbox_parse_user("0:0", &u, &g, err, sizeof(err)) == -1 &&
	    strstr(err, "must not be 0") != NULL, "uid 0 refused: %s", err);
	ok(sandbox_parse_user("root", &u, &g, err, sizeof(err)) == -1,
	    "root by name refused: %s", err);
	ok(sandbox_parse_user("kipvs-no-such-user", &u, &g, err,
	    sizeof(err)) == -1 && strstr(err, "does not exist") != NULL,
	    "unknown user refused clearly: %s", err);
	ok(sandbox_parse_user("12:", &u, &g, err, sizeof(err)) == -1 &&
	    sandbox_parse_user("12", &u, &g, err, sizeof(err)) == -1 &&
	    sandbox_parse_user("12:3x", &u, &g, err, sizeof(err)) == -1,
	    "malformed numeric ids refused");
}

int
main(void)
{
	char netadmin[32];
	int nstatus = 13;

	plan(5 + 3 * nstatus + 3 * (int)N_PROBES + 2);
	check_users();
	if (geteuid() != 0) {
		skip(3 * nstatus + 3 * (int)N_PROBES + 2,
		    "sandbox tests need root (uid changes, chroot)");
		return done();
	}
	snprintf(netadmin, sizeof(netadmin), "%016llx",
	    1ULL << CAP_NET_ADMIN);
	check_status(SANDBOX_WATCHER, "0000000000000000");
	check_status(SANDBOX_PLANNER, "0000000000000000");
	check_status(SANDBOX_APPLIER, netadmin);
	if (!sandbox_seccomp_enforcing()) {
		skip(3 * (int)N_PROBES + 2, "sanitizer build: the seccomp "
		    "filter logs instead of killing");
		return done();
	}
	check_probes(SANDBOX_WATCHER);
	check_probes(SANDBOX_PLANNER);
	check_probes(SANDBOX_APPLIER);
	check_trap();
	return done();
}
