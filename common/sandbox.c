/*
 * Sandbox steps shared by the three daemons, in the order of sandbox.h.
 * The seccomp filters are in sandbox_seccomp.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"

void
sandbox_defaults(struct sandbox_conf *c, enum sandbox_proc proc)
{
	memset(c, 0, sizeof(*c));
	c->proc = proc;
	c->chroot_base = "/tmp";
	c->fsize = 0;
	switch (proc) {
	case SANDBOX_WATCHER:
		/*
		 * No chroot: name resolution and the CA bundle need files
		 * after start.  Threads (curl's resolver) count as processes.
		 */
		c->max_fd = 5;
		c->chroot = 0;
		c->nofile = 256;
		c->nproc = 64;
		break;
	case SANDBOX_PLANNER:
		c->max_fd = 6;
		c->chroot = 1;
		c->nofile = 16;
		c->nproc = 0;
		break;
	case SANDBOX_APPLIER:
		c->max_fd = 7;
		c->chroot = 1;
		c->nofile = 64;
		c->nproc = 0;
		/* The audit log grows. */
		c->fsize = RLIM_INFINITY;
		c->caps[c->n_caps++] = CAP_NET_ADMIN;
		break;
	}
}

int
sandbox_parse_user(const char *spec, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd *pw;
	unsigned long u, g;
	char *end;

	if (spec == NULL || *spec == '\0') {
		snprintf(err, errlen, "empty user");
		return -1;
	}
	if (spec[0] >= '0' && spec[0] <= '9') {
		errno = 0;
		u = strtoul(spec, &end, 10);
		if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
			goto badnum;
		g = strtoul(end + 1, &end, 10);
		if (errno != 0 || *end != '\0' || u >= UINT_MAX ||
		    g >= UINT_MAX)
			goto badnum;
		*uid = (uid_t)u;
		*gid = (gid_t)g;
	} else {
		errno = 0;
		if ((pw = getpwnam(spec)) == NULL) {
			snprintf(err, errlen, "user %s does not exist (create "
			    "the account, or give numeric uid:gid)", spec);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (*uid == 0 || *gid == 0) {
		snprintf(err, errlen, "user %s: uid and gid must not be 0",
		    spec);
		return -1;
	}
	return 0;
 badnum:
	snprintf(err, errlen, "user %s: expected a name or uid:gid", spec);
	return -1;
}

int
sandbox_close_fds(int max_fd)
{
	if (syscall(SYS_close_range, (unsigned)max_fd + 1, ~0U, 0) == -1)
		return -1;
	return 0;
}

/*
 * chroot into a fresh directory that is removed before the chroot: the
 * new root is empty and nothing can be created in it (a deleted directory
 * accepts no entries), even by a process that kept write permission.
 */
int
sandbox_chroot_empty(const char *base)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/kipvs-root.XXXXXX", base) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(path) == NULL)
		return -1;
	if (chdir(path) == -1) {
		rmdir(path);
		return -1;
	}
	if (rmdir(path) == -1)
		return -1;
	if (chroot(".") == -1 || chdir("/") == -1)
		return -1;
	if (stat("/", &st) == -1 || st.st_nlink != 0) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

int
sandbox_startup_caps(const int *caps, int n)
{
	static const int drop_needs[] = {
		CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_CHROOT,
	};
	size_t i;
	int k;

	capng_clear(CAPNG_SELECT_BOTH);
	for (i = 0; i < sizeof(drop_needs) / sizeof(drop_needs[0]); i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, (unsigned)drop_needs[i]) != 0)
			return -1;
	for (k = 0; k < n; k++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, (unsigned)caps[k]) != 0)
			return -1;
	if (capng_apply(CAPNG_SELECT_ALL) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
sandbox_drop_ids(uid_t uid, gid_t gid, const int *caps, int n)
{
	int k, rv;

	capng_clear(CAPNG_SELECT_ALL);
	for (k = 0; k < n; k++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, (unsigned)caps[k]) != 0)
			goto fail;
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		goto fail;
	/* Securebits (NOROOT, NO_SETUID_FIXUP, locked) need it too. */
	if (capng_lock() != 0)
		goto fail;
	rv = capng_change_id((int)uid, (int)gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT);
	if (rv != 0) {
		log_warnx("capng_change_id failed (%d)", rv);
		goto fail;
	}
	return 0;
 fail:
	if (errno == 0)
		errno = EPERM;
	return -1;
}

/* Capability bitmap of one set, read without /proc (we may be chrooted). */
static int
read_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh, uint64_t *bnd,
    uint64_t *amb)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int i, r;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	*prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	*inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	*bnd = 0;
	*amb = 0;
	for (i = 0; i < 64; i++) {
		if ((r = prctl(PR_CAPBSET_READ, i, 0, 0, 0)) == -1)
			break;
		if (r == 1)
			*bnd |= 1ULL << i;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1)
			*amb |= 1ULL << i;
	}
	return 0;
}

int
sandbox_verify_ids(uid_t uid, gid_t gid, const int *caps, int n)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	uint64_t want = 0, eff, prm, inh, bnd, amb;
	int k;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		log_warnx("ids are not the target ids");
		goto fail;
	}
	if (getgroups(0, NULL) != 0) {
		log_warnx("supplementary groups left");
		goto fail;
	}
	/* Root must not be regainable: these must fail. */
	if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1) {
		log_warnx("root could be regained");
		goto fail;
	}
	for (k = 0; k < n; k++)
		want |= 1ULL << caps[k];
	if (read_caps(&eff, &prm, &inh, &bnd, &amb) == -1)
		return -1;
	if (eff != want || prm != want || bnd != want || inh != 0 ||
	    amb != 0) {
		log_warnx("capabilities eff %#llx prm %#llx bnd %#llx inh "
		    "%#llx amb %#llx, want %#llx", (unsigned long long)eff,
		    (unsigned long long)prm, (unsigned long long)bnd,
		    (unsigned long long)inh, (unsigned long long)amb,
		    (unsigned long long)want);
		goto fail;
	}
	return 0;
 fail:
	errno = EPERM;
	return -1;
}

int
sandbox_rlimits(const struct sandbox_conf *c)
{
	struct rlimit rl;
	struct stat st;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	/*
	 * No file growth, except that a log written to a regular file on
	 * stderr must keep working (the limit would kill with SIGXFSZ).
	 */
	if (c->fsize != 0 || fstat(STDERR_FILENO, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		rl.rlim_cur = rl.rlim_max = c->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			return -1;
	}
	rl.rlim_cur = rl.rlim_max = c->nproc;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max = c->nofile;
#ifdef KIPVS_SANITIZER
	/*
	 * valgrind (make memcheck) refuses to change the hard limit, which
	 * guards its own descriptors: the soft limit still applies.
	 */
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 0;
	if (errno != EPERM || getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = c->nofile < rl.rlim_max ? c->nofile : rl.rlim_max;
#endif
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	return 0;
}

void
sandbox_enter(const struct sandbox_conf *c)
{
	if (sandbox_close_fds(c->max_fd) == -1)
		fatal("sandbox: close_range");
	if (c->chroot) {
		if (sandbox_chroot_empty(c->chroot_base) == -1)
			fatal("sandbox: chroot to an empty directory under %s",
			    c->chroot_base);
	} else if (chdir("/") == -1)
		fatal("sandbox: chdir /");
	if (sandbox_drop_ids(c->uid, c->gid, c->caps, c->n_caps) == -1)
		fatal("sandbox: drop to uid %u gid %u", (unsigned)c->uid,
		    (unsigned)c->gid);
	if (sandbox_verify_ids(c->uid, c->gid, c->caps, c->n_caps) == -1)
		fatalx("sandbox: privileges not as declared after the drop");
	if (c->parent != 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
			fatal("sandbox: PR_SET_PDEATHSIG");
		if (getppid() != c->parent)
			fatalx("sandbox: parent %d is gone", (int)c->parent);
	}
	if (sandbox_rlimits(c) == -1)
		fatal("sandbox: rlimits");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
	if (sandbox_seccomp(c->proc, c->flags) == -1)
		fatal("sandbox: seccomp");
}
