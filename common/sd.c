/*
 * The sandbox of a daemon started by systemd (see sd.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sd.h"

int
sd_notify(const char *state)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t pl;
	int fd, rv;

	if (path == NULL || *path == '\0')
		return 0;
	pl = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || pl >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, pl);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rv = (int)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	return rv == -1 ? -1 : 1;
}

int
sd_verify_ids(uid_t uid, gid_t gid, const int *caps, int n)
{
	struct __user_cap_header_struct hdr = { 0, 0 };
	struct __user_cap_data_struct data[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	uint64_t want = 0, eff, prm, inh, bnd = 0, amb = 0;
	int i, r, ng;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		log_warnx("ids are %u/%u/%u:%u/%u/%u, not the account's %u:%u",
		    (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg,
		    (unsigned)eg, (unsigned)sg, (unsigned)uid, (unsigned)gid);
		goto fail;
	}
	/* systemd's initgroups() lists the primary group: that one only. */
	if ((ng = getgroups(2, groups)) == -1 || ng > 1 ||
	    (ng == 1 && groups[0] != gid)) {
		log_warnx("supplementary groups other than the account's");
		goto fail;
	}
	if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1) {
		log_warnx("root could be regained");
		goto fail;
	}
	for (i = 0; i < n; i++)
		want |= 1ULL << caps[i];
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	eff = data[0].effective | (uint64_t)data[1].effective << 32;
	prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	for (i = 0; i < 64; i++) {
		if ((r = prctl(PR_CAPBSET_READ, i, 0, 0, 0)) == -1)
			break;
		if (r == 1)
			bnd |= 1ULL << i;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1)
			amb |= 1ULL << i;
	}
	if (eff != want || prm != want || bnd != want || amb != 0 ||
	    (inh & ~want) != 0) {
		log_warnx("capabilities eff %#llx prm %#llx bnd %#llx inh "
		    "%#llx amb %#llx, want %#llx (the unit's "
		    "CapabilityBoundingSet= and AmbientCapabilities=)",
		    (unsigned long long)eff, (unsigned long long)prm,
		    (unsigned long long)bnd, (unsigned long long)inh,
		    (unsigned long long)amb, (unsigned long long)want);
		goto fail;
	}
	return 0;
 fail:
	errno = EPERM;
	return -1;
}

void
sd_sandbox_enter(const struct sandbox_conf *c)
{
	/* Set up and about to run: readiness as Type=notify wants it. */
	if (sd_notify("READY=1") == -1)
		log_warn("sd_notify");
	if (sandbox_close_fds(c->max_fd) == -1)
		fatal("sandbox: close_range");
	if (chdir("/") == -1)
		fatal("sandbox: chdir /");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("sandbox: clearing the ambient capabilities");
	if (sd_verify_ids(c->uid, c->gid, c->caps, c->n_caps) == -1)
		fatalx("sandbox: privileges not as declared (--systemd: the "
		    "unit sets them)");
	if (sandbox_rlimits(c) == -1)
		fatal("sandbox: rlimits");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
	if (sandbox_seccomp(c->proc, c->flags) == -1)
		fatal("sandbox: seccomp");
}
