/*
 * applier_nl: what the applier's netlink users share.  libnl error codes
 * back to errno: libnl folds the kernel's errno into its own NLE_* codes;
 * the applier reports errno values (they travel to the planner and into
 * the audit log), so map them back.  And the batched exchange of many
 * requests in one datagram with one acknowledgement fence.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <netlink/errno.h>

#include "applierd/applier_nl.h"
#include "common/progress.h"

int
applier_nlerr_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOATTR:
		return ENOENT;
	case NLE_PERM:
		return EPERM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_NODEV:
		return ENODEV;
	case NLE_IMMUTABLE:
		return EPERM;
	case NLE_DUMP_INTR:
		return EINTR;
	case NLE_ATTRSIZE:
		return ERANGE;
	default:
		return EIO;
	}
}

/* Marks the requests of buf: an acknowledgement from the last one only. */
static int
nl_batch_flags(uint8_t *buf, size_t len, size_t n)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t i = 0;
	int left = (int)len;

	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		nlh->nlmsg_flags |= NLM_F_REQUEST;
		nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
		if (++i == n)
			nlh->nlmsg_flags |= NLM_F_ACK;
	}
	return i == n && left == 0 ? 0 : -1;
}

ssize_t
applier_nl_recv(int fd, uint8_t *rbuf, size_t rsize, int timeout_ms)
{
	struct sockaddr_nl from;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	socklen_t flen;
	ssize_t n;
	int rc, waited = 0;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, rbuf, rsize, MSG_TRUNC | MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n >= 0) {
			if ((size_t)n > rsize) {
				errno = EMSGSIZE;
				return -1;
			}
			/* Only the kernel may answer. */
			if (flen == sizeof(from) && from.nl_pid == 0)
				return n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* In one-second slices: the heartbeat goes on meanwhile. */
		rc = poll(&pfd, 1, 1000);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc == 0) {
			if ((waited += 1000) >= timeout_ms) {
				errno = ETIMEDOUT;
				return -1;
			}
			progress();
		}
	}
}

int
applier_nl_batch(int fd, uint8_t *buf, size_t len, size_t n, uint32_t first,
    int *err, uint8_t *rbuf, size_t rsize, int timeout_ms)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	uint32_t k;
	ssize_t got;
	size_t i;
	int fenced = 0, saved;

	memset(err, 0, n * sizeof(*err));
	if (n == 0)
		return 0;
	if (nl_batch_flags(buf, len, n) == -1) {
		errno = EINVAL;
		goto fail;
	}
	do
		got = sendto(fd, buf, len, 0, (struct sockaddr *)&kernel,
		    sizeof(kernel));
	while (got < 0 && errno == EINTR);
	if (got >= 0 && (size_t)got != len)
		errno = EMSGSIZE;
	if (got < 0 || (size_t)got != len)
		goto fail;
	while (!fenced) {
		if ((got = applier_nl_recv(fd, rbuf, rsize, timeout_ms)) < 0)
			goto fail;
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, got);
		    nlh = NLMSG_NEXT(nlh, got)) {
			k = nlh->nlmsg_seq - first;
			if (nlh->nlmsg_type != NLMSG_ERROR || k >= n ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			e = NLMSG_DATA(nlh);
			err[k] = e->error < 0 ? -e->error : 0;
			if (k == n - 1)
				fenced = 1;
		}
	}
	return 0;
fail:
	saved = errno ? errno : EIO;
	for (i = 0; i < n; i++)
		if (err[i] == 0)
			err[i] = saved;
	errno = saved;
	return -1;
}
