/*
 * Command line shared by the three daemons.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/daemon.h"
#include "common/sandbox.h"

int
log_level_parse(const char *s, enum log_level *level)
{
	if (strcmp(s, "error") == 0)
		*level = LOG_LEVEL_ERROR;
	else if (strcmp(s, "warning") == 0 || strcmp(s, "warn") == 0)
		*level = LOG_LEVEL_WARN;
	else if (strcmp(s, "info") == 0)
		*level = LOG_LEVEL_INFO;
	else if (strcmp(s, "debug") == 0)
		*level = LOG_LEVEL_DEBUG;
	else
		return -1;
	return 0;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s --user NAME|UID:GID [--heartbeat-ms N] "
	    "[--log-level LEVEL] [--seccomp-debug]\n"
	    "       %s --version | --help\n"
	    "Started by kipvs(8) with its sockets on fixed descriptors.\n",
	    prog, prog);
}

void
daemon_opts_parse(struct daemon_opts *o, const char *prog, int argc,
    char *argv[])
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "seccomp-debug", no_argument, NULL, 'S' },
		{ "test-syscall", required_argument, NULL, 'T' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	char err[256], *end;
	unsigned long v;
	int ch;

	memset(o, 0, sizeof(o[0]));
	o->prog = prog;
	o->heartbeat_ms = 1000;
	o->level = LOG_LEVEL_INFO;
	log_init(prog, o->level, 0);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->user = optarg;
			break;
		case 'H':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 10 || v > 60000)
				fatalx("--heartbeat-ms: 10 to 60000");
			o->heartbeat_ms = (unsigned)v;
			break;
		case 'l':
			if (log_level_parse(optarg, &o->level) == -1)
				fatalx("--log-level: error, warning, info or "
				    "debug");
			break;
		case 'S':
			o->seccomp_debug = 1;
			break;
		case 'T':
			o->test_syscall = optarg;
			break;
		case 'V':
			printf("%s %s\n", prog, KIPVS_VERSION);
			exit(0);
		case 'h':
			usage(stdout, prog);
			exit(0);
		default:
			usage(stderr, prog);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr, prog);
		exit(2);
	}
	if ((env = getenv("KIPVS_SECCOMP_DEBUG")) != NULL &&
	    strcmp(env, "1") == 0)
		o->seccomp_debug = 1;
	log_init(prog, o->level, 0);
	if (o->user == NULL)
		fatalx("--user is required (kipvs passes it)");
	if (sandbox_parse_user(o->user, &o->uid, &o->gid, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (geteuid() != 0)
		fatalx("must be started as root (it drops to %s itself)",
		    o->user);
}

void
daemon_check_fds(int lo, int hi)
{
	int fd;

	for (fd = lo; fd <= hi; fd++)
		if (fcntl(fd, F_GETFD) == -1)
			fatalx("descriptor %d is not open: the daemons are "
			    "started by kipvs, which wires them", fd);
}

void
daemon_test_syscall(const char *name)
{
	int rv = sandbox_probe(name);

	if (rv < 0)
		fatalx("unknown test syscall %s", name);
	log_info("test syscall %s returned %d", name, rv);
	_exit(rv > 255 ? 255 : rv);
}
