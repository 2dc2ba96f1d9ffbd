/*
 * Unit tests for common/log.c: line format, strerror suffix, level
 * filtering, errno preservation and fatal exits.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/tap.h"

/*
 * Runs fn in a child whose stderr is a pipe; returns what it wrote and its
 * wait status.
 */
static void
capture(void (*fn)(void), char *out, size_t outlen, int *status)
{
	int fds[2];
	pid_t pid;
	size_t off = 0;
	ssize_t n;

	if (pipe(fds) == -1)
		abort();
	pid = fork();
	if (pid == -1)
		abort();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (off + 1 < outlen &&
	    (n = read(fds[0], out + off, outlen - 1 - off)) > 0)
		off += (size_t)n;
	out[off] = '\0';
	close(fds[0]);
	waitpid(pid, status, 0);
}

static void
emit_warnx(void)
{
	log_init("kipvs-test", LOG_LEVEL_INFO, 0);
	log_warnx("service %s/%s skipped", "ns", "name");
}

static void
emit_warn(void)
{
	log_init("kipvs-test", LOG_LEVEL_INFO, 0);
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
}

static void
emit_filtered(void)
{
	log_init("kipvs-test", LOG_LEVEL_INFO, 0);
	log_debug("hidden");
	log_info("shown");
	log_setlevel(LOG_LEVEL_DEBUG);
	log_debug("now shown");
}

static void
emit_fatalx(void)
{
	log_init("kipvs-test", LOG_LEVEL_INFO, 0);
	fatalx("broken invariant %d", 7);
}

int
main(void)
{
	char out[4096], want[256];
	int status;

	plan(9);

	capture(emit_warnx, out, sizeof(out), &status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "warnx child ok");
	/* The pid differs per child: compare around it. */
	ok(strncmp(out, "kipvs-test[", 11) == 0, "line starts with name[");
	ok(strstr(out, "]: warning: service ns/name skipped\n") != NULL,
	    "warnx: level and message, no strerror: %s", out);

	capture(emit_warn, out, sizeof(out), &status);
	snprintf(want, sizeof(want), "]: warning: open /nonexistent: %s\n",
	    strerror(ENOENT));
	ok(strstr(out, want) != NULL, "warn appends strerror: %s", out);

	capture(emit_filtered, out, sizeof(out), &status);
	ok(strstr(out, "hidden") == NULL, "debug filtered at info level");
	ok(strstr(out, "info: shown\n") != NULL, "info shown at info level");
	ok(strstr(out, "debug: now shown\n") != NULL, "debug after setlevel");

	capture(emit_fatalx, out, sizeof(out), &status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1, "fatalx exits 1");
	ok(strstr(out, "error: broken invariant 7\n") != NULL,
	    "fatalx logs at error level: %s", out);

	return done();
}
