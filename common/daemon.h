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
 *	kube-proxy's flags (common/kpconf.h), as the parent passes them
 *
 * --test-syscall NAME (not in --help) runs one sandbox probe after the
 * sandbox is on and exits with its errno (tests only; see
 * docs/sandbox.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_DAEMON_H
#define KIPVS_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#include "common/kpconf.h"
#include "common/log.h"

/*
 * A flag of one daemon alone (the applier's own settings).  The parent
 * forwards these to that daemon only; kube-proxy's flags (kpconf.h) go to
 * all three.
 */
struct daemon_flag {
	const char	*name;		/* without the dashes */
	int		 has_arg;	/* 0: a switch */
	int		 hidden;	/* tests only, not in --help */
	const char	*help;
};

/* Receives one of the daemon's own flags; 0, or -1 with err filled. */
typedef int (*daemon_flag_fn)(void *arg, const char *name,
    const char *value, char *err, size_t errlen);

/*
 * Each daemon's own flags, NULL-terminated (the applier's: see
 * applierd/applier_conf.h); the parent passes each table's to its daemon.
 */
extern const struct daemon_flag daemon_watcher_flags[];
extern const struct daemon_flag daemon_planner_flags[];
extern const struct daemon_flag daemon_applier_flags[];

/*
 * The entry of table matching the flag argument ("--name" or
 * "--name=value"), or NULL.
 */
const struct daemon_flag *daemon_flag_find(const struct daemon_flag *table,
	    const char *arg);

struct daemon_opts {
	const char	*prog;
	const char	*user;
	uid_t		 uid;
	gid_t		 gid;
	unsigned	 heartbeat_ms;
	enum log_level	 level;
	int		 seccomp_debug;
	int		 systemd;	/* --systemd: started by its unit */
	const char	*test_syscall;
	struct kp_config kp;		/* kube-proxy's flags, parsed */
};

/*
 * Parses argv, exits on --version, --help and errors, calls log_init.
 * kube-proxy's flags are parsed into o->kp; anything else is an error.
 */
void	daemon_opts_parse(struct daemon_opts *, const char *prog, int argc,
	    char *argv[]);
/* The same, also accepting the flags of `own`, each handed to fn. */
void	daemon_opts_parse_own(struct daemon_opts *, const char *prog,
	    int argc, char *argv[], const struct daemon_flag *own,
	    daemon_flag_fn fn, void *arg);
/* Fatal unless descriptors lo..hi are open. */
void	daemon_check_fds(int lo, int hi);
/* Runs the --test-syscall probe and exits with its result. */
void	daemon_test_syscall(const char *name) __attribute__((noreturn));
int	log_level_parse(const char *, enum log_level *);

#endif /* KIPVS_DAEMON_H */
