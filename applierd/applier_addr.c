/*
 * applier_addr: kube-ipvs0 and its addresses over rtnetlink (libnl-route).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_nl.h"
#include "common/progress.h"

#define ADDR_RECV_BUF	(64 * 1024)
#define ADDR_TIMEOUT_MS	10000
/*
 * The batch socket's receive buffer: every queued answer (an error, or
 * the fence's acknowledgement) costs about a kilobyte of it (the skb's
 * truesize), and without room for a whole chunk's the kernel drops them.
 */
#define ADDR_RCVBUF	(1024 * 1024)
#define ADDR_ACK_TRUESIZE 1280

struct addr_handle {
	size_t		 batch_cap;	/* requests per sendmsg */
	struct nl_sock	*sk;
	struct nl_sock	*bsk;		/* addr_batch's own: libnl's sequence
					   tracking on sk stays untouched */
	int		 ifindex;	/* kube-ipvs0, once known */
	uint8_t		*sbuf;		/* ADDR_BATCH requests */
	size_t		 sbuf_size;
	uint8_t		*rbuf;		/* ADDR_RECV_BUF */
};

static struct nl_sock *
addr_socket(void)
{
	struct nl_sock *sk;
	int err;

	if ((sk = nl_socket_alloc()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(sk);
		errno = applier_nlerr_errno(err);
		return NULL;
	}
	return sk;
}

/* A large receive buffer for the answers: how many requests fit. */
static size_t
addr_batch_cap(int fd)
{
	int val = ADDR_RCVBUF, one = 1;
	socklen_t vlen = sizeof(val);
	size_t cap;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
	/* Acknowledgements without a copy of the request. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, &vlen) < 0)
		val = 0;
	cap = (size_t)val / ADDR_ACK_TRUESIZE;
	return cap < 1 ? 1 : cap > ADDR_BATCH ? ADDR_BATCH : cap;
}

struct addr_handle *
addr_open(void)
{
	struct addr_handle *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->sk = addr_socket()) == NULL ||
	    (h->bsk = addr_socket()) == NULL) {
		if (h->sk != NULL)
			nl_socket_free(h->sk);
		free(h);
		return NULL;
	}
	h->batch_cap = addr_batch_cap(nl_socket_get_fd(h->bsk));
	return h;
}

void
addr_close(struct addr_handle *h)
{
	if (h == NULL)
		return;
	nl_socket_free(h->sk);
	nl_socket_free(h->bsk);
	free(h->sbuf);
	free(h->rbuf);
	free(h);
}

/* kube-ipvs0 from the kernel (RTM_GETLINK by name): 1 found, 0 not, -1. */
static int
addr_link_get(struct addr_handle *h, struct rtnl_link **link)
{
	int err;

	*link = NULL;
	err = rtnl_link_get_kernel(h->sk, 0, ADDR_KUBE_LINK, link);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return 0;
	if (err < 0) {
		errno = applier_nlerr_errno(err);
		return -1;
	}
	return 1;
}

int
addr_link_index(struct addr_handle *h)
{
	struct rtnl_link *link;
	int r;

	if ((r = addr_link_get(h, &link)) <= 0) {
		h->ifindex = 0;
		return r;
	}
	h->ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return h->ifindex;
}

int
addr_link_ensure(struct addr_handle *h, int *created)
{
	struct rtnl_link *link = NULL;
	const char *type;
	int r, err;

	if (created != NULL)
		*created = 0;
	if ((r = addr_link_get(h, &link)) < 0)
		return -1;
	if (r == 0) {
		if ((link = rtnl_link_alloc()) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		rtnl_link_set_name(link, ADDR_KUBE_LINK);
		if ((err = rtnl_link_set_type(link, "dummy")) < 0 ||
		    (err = rtnl_link_add(h->sk, link,
		    NLM_F_CREATE | NLM_F_EXCL)) < 0) {
			rtnl_link_put(link);
			/* Created by someone else meanwhile: look again. */
			if (err == -NLE_EXIST)
				return addr_link_ensure(h, NULL);
			errno = applier_nlerr_errno(err);
			return -1;
		}
		rtnl_link_put(link);
		if (created != NULL)
			*created = 1;
		return addr_link_index(h) > 0 ? 0 : -1;
	}
	type = rtnl_link_get_type(link);
	if (type == NULL || strcmp(type, "dummy") != 0) {
		/* Not ours to reuse or to change. */
		rtnl_link_put(link);
		errno = EEXIST;
		return -1;
	}
	h->ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return 0;
}

int
addr_link_remove(struct addr_handle *h)
{
	struct rtnl_link *link;
	const char *type;
	int r, err;

	if ((r = addr_link_get(h, &link)) <= 0)
		return r;
	type = rtnl_link_get_type(link);
	if (type == NULL || strcmp(type, "dummy") != 0) {
		rtnl_link_put(link);
		errno = EEXIST;
		return -1;
	}
	err = rtnl_link_delete(h->sk, link);
	rtnl_link_put(link);
	h->ifindex = 0;
	if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
		errno = applier_nlerr_errno(err);
		return -1;
	}
	return 0;
}

/* The one message builder: a host address on kube-ipvs0. */
static struct rtnl_addr *
addr_build(struct addr_handle *h, int family, const uint8_t *a)
{
	struct rtnl_addr *ra;
	struct nl_addr *local;
	unsigned int len = family == AF_INET6 ? 16 : 4;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (h->ifindex <= 0 && addr_link_index(h) <= 0) {
		if (h->ifindex == 0)
			errno = ENODEV;
		return NULL;
	}
	if ((ra = rtnl_addr_alloc()) == NULL ||
	    (local = nl_addr_build(family, a, len)) == NULL) {
		rtnl_addr_put(ra);
		errno = ENOMEM;
		return NULL;
	}
	nl_addr_set_prefixlen(local, (int)len * 8);
	rtnl_addr_set_ifindex(ra, h->ifindex);
	rtnl_addr_set_family(ra, family);
	if (rtnl_addr_set_local(ra, local) < 0) {
		nl_addr_put(local);
		rtnl_addr_put(ra);
		errno = EINVAL;
		return NULL;
	}
	nl_addr_put(local);
	rtnl_addr_set_prefixlen(ra, (int)len * 8);
	return ra;
}

int
addr_add(struct addr_handle *h, int family, const uint8_t *a)
{
	struct rtnl_addr *ra;
	int err;

	if ((ra = addr_build(h, family, a)) == NULL)
		return -1;
	err = rtnl_addr_add(h->sk, ra, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_addr_put(ra);
	if (err == -NLE_EXIST)
		return 0;
	if (err < 0) {
		errno = applier_nlerr_errno(err);
		return -1;
	}
	return 0;
}

int
addr_del(struct addr_handle *h, int family, const uint8_t *a)
{
	struct rtnl_addr *ra;
	int err;

	if ((ra = addr_build(h, family, a)) == NULL)
		return errno == ENODEV ? 0 : -1;
	err = rtnl_addr_delete(h->sk, ra, 0);
	rtnl_addr_put(ra);
	if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND)
		return 0;
	if (err < 0) {
		errno = applier_nlerr_errno(err);
		return -1;
	}
	return 0;
}

int
addr_dump(struct addr_handle *h, addr_dump_cb cb, void *arg)
{
	struct nl_cache *links = NULL, *addrs = NULL;
	struct nl_object *o;
	struct rtnl_addr *ra;
	struct nl_addr *local;
	struct addr_entry e;
	int err, rc = 0;

	if ((err = rtnl_link_alloc_cache(h->sk, AF_UNSPEC, &links)) < 0 ||
	    (err = rtnl_addr_alloc_cache(h->sk, &addrs)) < 0) {
		errno = applier_nlerr_errno(err);
		rc = -1;
		goto out;
	}
	for (o = nl_cache_get_first(addrs); o != NULL;
	    o = nl_cache_get_next(o)) {
		ra = (struct rtnl_addr *)o;
		memset(&e, 0, sizeof(e));
		e.family = rtnl_addr_get_family(ra);
		if (e.family != AF_INET && e.family != AF_INET6)
			continue;
		if ((local = rtnl_addr_get_local(ra)) == NULL ||
		    nl_addr_get_len(local) > sizeof(e.addr))
			continue;
		memcpy(e.addr, nl_addr_get_binary_addr(local),
		    nl_addr_get_len(local));
		e.prefixlen = (uint8_t)rtnl_addr_get_prefixlen(ra);
		e.ifindex = rtnl_addr_get_ifindex(ra);
		if (rtnl_link_i2name(links, e.ifindex, e.ifname,
		    sizeof(e.ifname)) == NULL)
			snprintf(e.ifname, sizeof(e.ifname), "if%d",
			    e.ifindex);
		if ((rc = cb(&e, arg)) != 0)
			break;
	}
out:
	if (addrs != NULL)
		nl_cache_free(addrs);
	if (links != NULL)
		nl_cache_free(links);
	return rc;
}

/* One request of a batch into h->sbuf at *off; 0 or -1/errno. */
static int
addr_batch_put(struct addr_handle *h, const struct addr_op *op, size_t *off)
{
	struct rtnl_addr *ra;
	struct nl_msg *msg = NULL;
	struct nlmsghdr *src;
	size_t need, size;
	uint8_t *p;
	int err;

	if ((ra = addr_build(h, op->family, op->addr)) == NULL)
		return -1;
	err = op->del ? rtnl_addr_build_delete_request(ra, 0, &msg) :
	    rtnl_addr_build_add_request(ra, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_addr_put(ra);
	if (err < 0) {
		errno = applier_nlerr_errno(err);
		return -1;
	}
	src = nlmsg_hdr(msg);
	need = *off + NLMSG_ALIGN(src->nlmsg_len);
	if (need > h->sbuf_size) {
		size = h->sbuf_size ? h->sbuf_size : 16384;
		while (size < need)
			size *= 2;
		if ((p = realloc(h->sbuf, size)) == NULL) {
			nlmsg_free(msg);
			return -1;
		}
		h->sbuf = p;
		h->sbuf_size = size;
	}
	memcpy(h->sbuf + *off, src, src->nlmsg_len);
	nlmsg_free(msg);
	src = (struct nlmsghdr *)(h->sbuf + *off);
	src->nlmsg_seq = nl_socket_use_seq(h->bsk);
	src->nlmsg_pid = 0;
	src->nlmsg_flags |= NLM_F_REQUEST;
	*off += NLMSG_ALIGN(src->nlmsg_len);
	return 0;
}

/* The kernel's answer to op: an errno, with the idempotent ones cleared. */
static void
addr_batch_answer(struct addr_op *op, int error)
{
	op->err = -error;
	op->changed = error == 0;
	if ((!op->del && op->err == EEXIST) || (op->del &&
	    (op->err == EADDRNOTAVAIL || op->err == ENOENT ||
	    op->err == ENODEV)))
		op->err = 0;
}

/* ops[0..n) in one sendmsg (n <= ADDR_BATCH), one acknowledgement fence. */
static int
addr_batch_chunk(struct addr_handle *h, struct addr_op *ops, size_t n)
{
	size_t off = 0, i, nsent = 0, sent[ADDR_BATCH];
	int err[ADDR_BATCH], rc;

	for (i = 0; i < n; i++) {
		ops[i].changed = 0;
		ops[i].err = 0;
		if (addr_batch_put(h, &ops[i], &off) == -1) {
			/* Not sent: no kube-ipvs0, or no memory. */
			ops[i].err = errno == ENODEV && ops[i].del ? 0 : errno;
			continue;
		}
		sent[nsent++] = i;
	}
	if (nsent == 0)
		return 0;
	if (h->rbuf == NULL && (h->rbuf = malloc(ADDR_RECV_BUF)) == NULL) {
		for (i = 0; i < nsent; i++)
			ops[sent[i]].err = ENOMEM;
		return -1;
	}
	/* The requests' sequence numbers are consecutive from the first. */
	rc = applier_nl_batch(nl_socket_get_fd(h->bsk), h->sbuf, off, nsent,
	    ((struct nlmsghdr *)h->sbuf)->nlmsg_seq, err, h->rbuf,
	    ADDR_RECV_BUF, ADDR_TIMEOUT_MS);
	for (i = 0; i < nsent; i++)
		addr_batch_answer(&ops[sent[i]], -err[i]);
	return rc;
}

int
addr_batch(struct addr_handle *h, struct addr_op *ops, size_t n)
{
	size_t i, chunk;
	int rc = 0;

	for (i = 0; i < n; i += chunk) {
		chunk = n - i < h->batch_cap ? n - i : h->batch_cap;
		if (addr_batch_chunk(h, ops + i, chunk) == -1)
			rc = -1;
		progress();
	}
	return rc;
}
