/*
 * The sandbox every kipvs daemon enters before it reads a byte from a
 * peer.  sandbox_enter() runs the steps in this order, and any failure is
 * fatal:
 *
 *	1. close every descriptor above the declared ones (close_range)
 *	2. chroot into an empty, deleted directory (or chdir("/") only)
 *	3. drop supplementary groups, gid and uid to the process's account
 *	   and verify that root cannot be regained
 *	4. keep exactly the declared capabilities (effective, permitted and
 *	   bounding set; inheritable and ambient empty), securebits locked
 *	5. parent-death signal (it is cleared by the uid change), re-checked
 *	6. rlimits: RLIMIT_CORE 0, RLIMIT_FSIZE, RLIMIT_NPROC, RLIMIT_NOFILE
 *	7. PR_SET_NO_NEW_PRIVS
 *	8. the process's seccomp allow-list (SCMP_ACT_KILL_PROCESS by default,
 *	   architecture checked, socket() arguments pinned, clone3 -> ENOSYS)
 *
 * SANDBOX_F_SECCOMP_TRAP (the daemons' --seccomp-debug flag or
 * KIPVS_SECCOMP_DEBUG=1) traps and logs a forbidden syscall instead of
 * killing: the call fails with ENOSYS.  Builds with KIPVS_SANITIZER
 * (make sanitize) load the filter with SCMP_ACT_LOG as the default action,
 * because ASan and LSan need syscalls no daemon does; see docs/sandbox.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_SANDBOX_H
#define KIPVS_SANDBOX_H

#include <sys/resource.h>
#include <sys/types.h>

enum sandbox_proc {
	SANDBOX_WATCHER = 1,
	SANDBOX_PLANNER,
	SANDBOX_APPLIER,
};

#define SANDBOX_F_SECCOMP_TRAP	0x01

#define SANDBOX_MAX_CAPS	4

struct sandbox_conf {
	enum sandbox_proc proc;
	int		 max_fd;	/* descriptors 0..max_fd are kept */
	uid_t		 uid;
	gid_t		 gid;
	int		 chroot;	/* 1: empty deleted directory */
	const char	*chroot_base;	/* where the directory is made */
	int		 caps[SANDBOX_MAX_CAPS];
	int		 n_caps;
	rlim_t		 nofile;
	rlim_t		 nproc;
	rlim_t		 fsize;
	pid_t		 parent;	/* expected parent pid, 0: none */
	unsigned	 flags;		/* SANDBOX_F_* */
};

/* Fills c with the process's defaults (no ids: the caller sets them). */
void	sandbox_defaults(struct sandbox_conf *, enum sandbox_proc);
/* All steps above, in order; fatal on any failure. */
void	sandbox_enter(const struct sandbox_conf *);

/*
 * "name" (looked up with getpwnam, gid from the account) or "uid:gid"
 * (numbers).  Refuses root and unknown names.  Returns 0, or -1 with a
 * message in err.
 */
int	sandbox_parse_user(const char *spec, uid_t *, gid_t *, char *err,
	    size_t errlen);

/*
 * Narrows a root process to the given capabilities plus those the drop
 * itself needs (SETUID, SETGID, SETPCAP, SYS_CHROOT), in all sets
 * including the bounding set.  Used by the applier before its module
 * preload so that only CAP_SYS_MODULE and CAP_NET_ADMIN are extra.
 */
int	sandbox_startup_caps(const int *caps, int n);

/* The single steps, for tests.  0 or -1 (errno). */
int	sandbox_close_fds(int max_fd);
int	sandbox_chroot_empty(const char *base);
int	sandbox_drop_ids(uid_t, gid_t, const int *caps, int n);
int	sandbox_verify_ids(uid_t, gid_t, const int *caps, int n);
int	sandbox_rlimits(const struct sandbox_conf *);
int	sandbox_seccomp(enum sandbox_proc, unsigned flags);
/* Writes the process's filter in libseccomp's PFC text form to fd. */
int	sandbox_seccomp_export(enum sandbox_proc, int fd);
/* 1 when the filter kills (not a sanitizer build). */
int	sandbox_seccomp_enforcing(void);

/*
 * Test hook: performs the named syscall (see docs/sandbox.md for the
 * names) and returns 0 when it succeeded or its errno.  -1 for an unknown
 * name.  Under the filter a forbidden call never returns.
 */
int	sandbox_probe(const char *name);

#endif /* KIPVS_SANDBOX_H */
