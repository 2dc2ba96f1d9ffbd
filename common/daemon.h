/*
 * Command line shared by the three daemons.  The parent passes every
 * flag; a daemon started by hand needs at least --user.
 *
 *	--user NAME|UID:GID	the account to drop to (required)
 *	--heartbeat-ms N	heartbeat interval on every link (default 1000)
 *	--log-level LEVEL	error, warning, info (default) or debug
 *	--seccomp-debug		trap and log forbidden syscalls (also
 *				KIPVS_SECCOMP_DEBUG=1 in the environment)
 *	--version, --help
 *
 * --test-syscall NAME (not in --help) runs one sandbox probe after the
 * sandbox is on and exits with its errno (tests only; see
 * docs/sandbox.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_DAEMON_H
#define KIPVS_DAEMON_H

#include <sys/types.h>

#include "common/log.h"

struct daemon_opts {
	const char	*prog;
	const char	*user;
	uid_t		 uid;
	gid_t		 gid;
	unsigned	 heartbeat_ms;
	enum log_level	 level;
	int		 seccomp_debug;
	const char	*test_syscall;
};

/* Parses argv, exits on --version, --help and errors, calls log_init. */
void	daemon_opts_parse(struct daemon_opts *, const char *prog, int argc,
	    char *argv[]);
/* Fatal unless descriptors lo..hi are open. */
void	daemon_check_fds(int lo, int hi);
/* Runs the --test-syscall probe and exits with its result. */
void	daemon_test_syscall(const char *name) __attribute__((noreturn));
int	log_level_parse(const char *, enum log_level *);

#endif /* KIPVS_DAEMON_H */
