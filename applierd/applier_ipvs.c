/*
 * applier_ipvs: IPVS over generic netlink, many requests per sendmsg(2).
 *
 * libnl builds the messages (one builder per object kind) and parses the
 * replies (one parser per nest); the batch path bypasses libnl's one-at-a-
 * time send/receive: the messages of a batch are copied into one buffer,
 * each with its own sequence number, sent with one sendmsg(2) in which
 * only the last asks for an acknowledgement (applier_nl_batch()), and the
 * error answers matched back by sequence number.  The kernel handles every
 * message of the buffer in the sender's context before sendmsg returns,
 * answering each failed one, so the receive buffer is made large enough
 * (SO_RCVBUFFORCE, CAP_NET_ADMIN) to hold an answer for every request, and
 * NETLINK_CAP_ACK keeps an error answer from echoing the request.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "applierd/applier_ipvs.h"
#include "applierd/applier_nl.h"
#include "common/progress.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define IPVS_BATCH_DEFAULT	256
#define IPVS_SEND_MAX		(64 * 1024)	/* bytes per sendmsg */
#define IPVS_RCVBUF		(8 * 1024 * 1024)
#define IPVS_SNDBUF		(1024 * 1024)
#define IPVS_ACK_TRUESIZE	1280	/* kernel memory per queued ack */
#define IPVS_RECV_BUF		(256 * 1024)
#define IPVS_TIMEOUT_MS		10000
/* Room for the largest request (a full service: ~120 bytes). */
#define IPVS_MSG_SIZE		512

struct ipvs_handle {
	struct nl_sock	*sk;
	int		 family;	/* genl family id of "IPVS" */
	size_t		 batch;		/* requests per sendmsg */
	size_t		 batch_cap;	/* what the receive buffer can hold */
	uint8_t		*sbuf;
	size_t		 sbuf_size;
	uint8_t		*rbuf;
};

/* Per-reply callback of ipvs_request(): 0 to go on, else stop. */
typedef int (*ipvs_reply_cb)(struct nlmsghdr *, void *);

static struct nla_policy ipvs_cmd_policy[IPVS_CMD_ATTR_MAX + 1] = {
	[IPVS_CMD_ATTR_SERVICE] = { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_DEST] = { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_DAEMON] = { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_TIMEOUT_TCP] = { .type = NLA_U32 },
	[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] = { .type = NLA_U32 },
	[IPVS_CMD_ATTR_TIMEOUT_UDP] = { .type = NLA_U32 },
};

static struct nla_policy ipvs_svc_policy[IPVS_SVC_ATTR_MAX + 1] = {
	[IPVS_SVC_ATTR_AF] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_PROTOCOL] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_ADDR] = { .type = NLA_UNSPEC, .minlen = 4 },
	[IPVS_SVC_ATTR_PORT] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_FWMARK] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_SCHED_NAME] = { .type = NLA_STRING,
	    .maxlen = IP_VS_SCHEDNAME_MAXLEN },
	[IPVS_SVC_ATTR_FLAGS] = { .type = NLA_UNSPEC,
	    .minlen = sizeof(struct ip_vs_flags) },
	[IPVS_SVC_ATTR_TIMEOUT] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_NETMASK] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_STATS] = { .type = NLA_NESTED },
	[IPVS_SVC_ATTR_PE_NAME] = { .type = NLA_STRING,
	    .maxlen = IP_VS_PENAME_MAXLEN },
	[IPVS_SVC_ATTR_STATS64] = { .type = NLA_NESTED },
};

static struct nla_policy ipvs_dest_policy[IPVS_DEST_ATTR_MAX + 1] = {
	[IPVS_DEST_ATTR_ADDR] = { .type = NLA_UNSPEC, .minlen = 4 },
	[IPVS_DEST_ATTR_PORT] = { .type = NLA_U16 },
	[IPVS_DEST_ATTR_FWD_METHOD] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_WEIGHT] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_U_THRESH] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_L_THRESH] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_ACTIVE_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_INACT_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_PERSIST_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_STATS] = { .type = NLA_NESTED },
	[IPVS_DEST_ATTR_ADDR_FAMILY] = { .type = NLA_U16 },
	[IPVS_DEST_ATTR_STATS64] = { .type = NLA_NESTED },
};

static size_t
addr_len(int family)
{
	return family == AF_INET6 ? sizeof(struct in6_addr) :
	    sizeof(struct in_addr);
}

/* Builders: one per object kind. */

int
ipvs_svc_put(struct nl_msg *msg, const struct ipvs_svc *svc, int full)
{
	struct ip_vs_flags fl;
	struct nlattr *nest;

	if ((nest = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE)) == NULL)
		goto fail;
	if (nla_put_u16(msg, IPVS_SVC_ATTR_AF, (uint16_t)svc->family) < 0 ||
	    nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, svc->protocol) < 0 ||
	    nla_put(msg, IPVS_SVC_ATTR_ADDR, (int)addr_len(svc->family),
	    svc->addr.bytes) < 0 ||
	    nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(svc->port)) < 0)
		goto fail;
	if (full) {
		fl.flags = svc->flags & ~IP_VS_SVC_F_HASHED;
		fl.mask = ~0U;
		if (nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME,
		    svc->sched) < 0 ||
		    nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl) < 0 ||
		    nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, svc->timeout) < 0 ||
		    nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, svc->netmask) < 0)
			goto fail;
	}
	nla_nest_end(msg, nest);
	return 0;
fail:
	errno = EMSGSIZE;
	return -1;
}

int
ipvs_dest_put(struct nl_msg *msg, const struct ipvs_dest *dest, int full)
{
	struct nlattr *nest;

	if ((nest = nla_nest_start(msg, IPVS_CMD_ATTR_DEST)) == NULL)
		goto fail;
	if (nla_put(msg, IPVS_DEST_ATTR_ADDR, (int)addr_len(dest->family),
	    dest->addr.bytes) < 0 ||
	    nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(dest->port)) < 0 ||
	    nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY,
	    (uint16_t)dest->family) < 0)
		goto fail;
	if (full) {
		/* Masquerade is the only forwarding method kipvs programs. */
		if (nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD,
		    IP_VS_CONN_F_MASQ) < 0 ||
		    nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, dest->weight) < 0 ||
		    nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, 0) < 0 ||
		    nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, 0) < 0)
			goto fail;
	}
	nla_nest_end(msg, nest);
	return 0;
fail:
	errno = EMSGSIZE;
	return -1;
}

static int
ipvs_op_cmd(enum ipvs_op_kind kind)
{
	switch (kind) {
	case IPVS_OP_SVC_ADD:
		return IPVS_CMD_NEW_SERVICE;
	case IPVS_OP_SVC_EDIT:
		return IPVS_CMD_SET_SERVICE;
	case IPVS_OP_SVC_DEL:
		return IPVS_CMD_DEL_SERVICE;
	case IPVS_OP_DEST_ADD:
		return IPVS_CMD_NEW_DEST;
	case IPVS_OP_DEST_EDIT:
		return IPVS_CMD_SET_DEST;
	case IPVS_OP_DEST_DEL:
		return IPVS_CMD_DEL_DEST;
	}
	return -1;
}

struct nl_msg *
ipvs_msg_build(int genl_family, const struct ipvs_op *op)
{
	struct nl_msg *msg;
	int cmd, full;

	if ((cmd = ipvs_op_cmd(op->kind)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((msg = nlmsg_alloc_size(IPVS_MSG_SIZE)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, genl_family, 0, 0,
	    (uint8_t)cmd, IPVS_GENL_VERSION) == NULL) {
		errno = EMSGSIZE;
		goto fail;
	}
	full = op->kind == IPVS_OP_SVC_ADD || op->kind == IPVS_OP_SVC_EDIT;
	if (ipvs_svc_put(msg, &op->svc, full) < 0)
		goto fail;
	if (op->kind == IPVS_OP_DEST_ADD || op->kind == IPVS_OP_DEST_EDIT ||
	    op->kind == IPVS_OP_DEST_DEL) {
		full = op->kind != IPVS_OP_DEST_DEL;
		if (ipvs_dest_put(msg, &op->dest, full) < 0)
			goto fail;
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/* Parsers: one per nest. */

int
ipvs_svc_parse(struct nlattr *nest, struct ipvs_svc *svc)
{
	struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];
	struct ip_vs_flags fl;
	int alen;

	memset(svc, 0, sizeof(*svc));
	if (nest == NULL ||
	    nla_parse_nested(tb, IPVS_SVC_ATTR_MAX, nest, ipvs_svc_policy) < 0)
		goto fail;
	/* Firewall-mark services have no address; kipvs makes none. */
	if (tb[IPVS_SVC_ATTR_AF] == NULL ||
	    tb[IPVS_SVC_ATTR_PROTOCOL] == NULL ||
	    tb[IPVS_SVC_ATTR_ADDR] == NULL || tb[IPVS_SVC_ATTR_PORT] == NULL)
		goto fail;
	svc->family = nla_get_u16(tb[IPVS_SVC_ATTR_AF]);
	if (svc->family != AF_INET && svc->family != AF_INET6)
		goto fail;
	svc->protocol = nla_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
	alen = nla_len(tb[IPVS_SVC_ATTR_ADDR]);
	if ((size_t)alen < addr_len(svc->family))
		goto fail;
	memcpy(svc->addr.bytes, nla_data(tb[IPVS_SVC_ATTR_ADDR]),
	    addr_len(svc->family));
	svc->port = ntohs(nla_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	if (tb[IPVS_SVC_ATTR_SCHED_NAME] != NULL)
		nla_strlcpy(svc->sched, tb[IPVS_SVC_ATTR_SCHED_NAME],
		    sizeof(svc->sched));
	if (tb[IPVS_SVC_ATTR_FLAGS] != NULL) {
		memcpy(&fl, nla_data(tb[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
		svc->flags = fl.flags & ~IP_VS_SVC_F_HASHED;
	}
	if (tb[IPVS_SVC_ATTR_TIMEOUT] != NULL)
		svc->timeout = nla_get_u32(tb[IPVS_SVC_ATTR_TIMEOUT]);
	if (tb[IPVS_SVC_ATTR_NETMASK] != NULL)
		svc->netmask = nla_get_u32(tb[IPVS_SVC_ATTR_NETMASK]);
	return 0;
fail:
	errno = EBADMSG;
	return -1;
}

int
ipvs_dest_parse(struct nlattr *nest, int family, struct ipvs_dest *dest)
{
	struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];

	memset(dest, 0, sizeof(*dest));
	if (nest == NULL || nla_parse_nested(tb, IPVS_DEST_ATTR_MAX, nest,
	    ipvs_dest_policy) < 0)
		goto fail;
	if (tb[IPVS_DEST_ATTR_ADDR] == NULL || tb[IPVS_DEST_ATTR_PORT] == NULL)
		goto fail;
	dest->family = family;
	if (tb[IPVS_DEST_ATTR_ADDR_FAMILY] != NULL)
		dest->family = nla_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]);
	if (dest->family != AF_INET && dest->family != AF_INET6)
		goto fail;
	if ((size_t)nla_len(tb[IPVS_DEST_ATTR_ADDR]) < addr_len(dest->family))
		goto fail;
	memcpy(dest->addr.bytes, nla_data(tb[IPVS_DEST_ATTR_ADDR]),
	    addr_len(dest->family));
	dest->port = ntohs(nla_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	if (tb[IPVS_DEST_ATTR_FWD_METHOD] != NULL)
		dest->fwd = nla_get_u32(tb[IPVS_DEST_ATTR_FWD_METHOD]) &
		    IP_VS_CONN_F_FWD_MASK;
	if (tb[IPVS_DEST_ATTR_WEIGHT] != NULL)
		dest->weight = nla_get_u32(tb[IPVS_DEST_ATTR_WEIGHT]);
	if (tb[IPVS_DEST_ATTR_ACTIVE_CONNS] != NULL)
		dest->active = nla_get_u32(tb[IPVS_DEST_ATTR_ACTIVE_CONNS]);
	if (tb[IPVS_DEST_ATTR_INACT_CONNS] != NULL)
		dest->inactive = nla_get_u32(tb[IPVS_DEST_ATTR_INACT_CONNS]);
	return 0;
fail:
	errno = EBADMSG;
	return -1;
}

/* Comparison and names. */

static int
svc_same_key(const struct ipvs_svc *a, const struct ipvs_svc *b)
{
	return a->family == b->family && a->protocol == b->protocol &&
	    a->port == b->port &&
	    memcmp(a->addr.bytes, b->addr.bytes, addr_len(a->family)) == 0;
}

int
ipvs_svc_equal(const struct ipvs_svc *a, const struct ipvs_svc *b)
{
	return svc_same_key(a, b) &&
	    strncmp(a->sched, b->sched, sizeof(a->sched)) == 0 &&
	    (a->flags & ~IP_VS_SVC_F_HASHED) ==
	    (b->flags & ~IP_VS_SVC_F_HASHED) &&
	    a->timeout == b->timeout && a->netmask == b->netmask;
}

static int
dest_same_key(const struct ipvs_dest *a, const struct ipvs_dest *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr.bytes, b->addr.bytes, addr_len(a->family)) == 0;
}

int
ipvs_dest_equal(const struct ipvs_dest *a, const struct ipvs_dest *b)
{
	return dest_same_key(a, b) && a->weight == b->weight &&
	    (a->fwd & IP_VS_CONN_F_FWD_MASK) ==
	    (b->fwd & IP_VS_CONN_F_FWD_MASK);
}

static const char *
proto_name(uint16_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return "proto?";
}

static void
addr_port_str(int family, const union ipvs_addr *a, uint16_t port,
    char *buf, size_t len)
{
	char ab[INET6_ADDRSTRLEN];

	if (inet_ntop(family, a->bytes, ab, sizeof(ab)) == NULL)
		snprintf(ab, sizeof(ab), "?");
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ab,
	    port);
}

const char *
ipvs_svc_str(const struct ipvs_svc *svc, char *buf, size_t len)
{
	char ap[64];

	addr_port_str(svc->family, &svc->addr, svc->port, ap, sizeof(ap));
	snprintf(buf, len, "%s %s", proto_name(svc->protocol), ap);
	return buf;
}

const char *
ipvs_dest_str(const struct ipvs_svc *svc, const struct ipvs_dest *dest,
    char *buf, size_t len)
{
	char sp[80], dp[64];

	ipvs_svc_str(svc, sp, sizeof(sp));
	addr_port_str(dest->family, &dest->addr, dest->port, dp, sizeof(dp));
	snprintf(buf, len, "%s -> %s", sp, dp);
	return buf;
}

const char *
ipvs_op_name(enum ipvs_op_kind kind)
{
	switch (kind) {
	case IPVS_OP_SVC_ADD:
		return "svc_add";
	case IPVS_OP_SVC_EDIT:
		return "svc_edit";
	case IPVS_OP_SVC_DEL:
		return "svc_del";
	case IPVS_OP_DEST_ADD:
		return "dest_add";
	case IPVS_OP_DEST_EDIT:
		return "dest_edit";
	case IPVS_OP_DEST_DEL:
		return "dest_del";
	}
	return "unknown";
}

/* The socket. */

struct ipvs_handle *
ipvs_open(void)
{
	struct ipvs_handle *h;
	int fd, one = 1, val, err;
	socklen_t vlen = sizeof(val);

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->batch = IPVS_BATCH_DEFAULT;
	if ((h->rbuf = malloc(IPVS_RECV_BUF)) == NULL)
		goto fail;
	if ((h->sk = nl_socket_alloc()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if ((err = genl_connect(h->sk)) < 0) {
		errno = applier_nlerr_errno(err);
		goto fail;
	}
	fd = nl_socket_get_fd(h->sk);
	/*
	 * Every queued answer costs about a kilobyte of receive buffer;
	 * without room for a whole batch failing the kernel drops them.
	 */
	val = IPVS_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
	val = IPVS_SNDBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &val, sizeof(val)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, &vlen) < 0)
		goto fail;
	h->batch_cap = (size_t)val / IPVS_ACK_TRUESIZE;
	if (h->batch_cap < 1)
		h->batch_cap = 1;
	if ((h->family = genl_ctrl_resolve(h->sk, IPVS_GENL_NAME)) < 0) {
		errno = h->family == -NLE_OBJ_NOTFOUND ? ENOENT :
		    applier_nlerr_errno(h->family);
		goto fail;
	}
	return h;
fail:
	err = errno;
	ipvs_close(h);
	errno = err;
	return NULL;
}

void
ipvs_close(struct ipvs_handle *h)
{
	if (h == NULL)
		return;
	if (h->sk != NULL)
		nl_socket_free(h->sk);
	free(h->sbuf);
	free(h->rbuf);
	free(h);
}

void
ipvs_set_batch_size(struct ipvs_handle *h, size_t n)
{
	h->batch = n == 0 ? 1 : n;
}

static int
sbuf_reserve(struct ipvs_handle *h, size_t need)
{
	uint8_t *p;
	size_t size;

	if (need <= h->sbuf_size)
		return 0;
	size = h->sbuf_size ? h->sbuf_size : 16384;
	while (size < need)
		size *= 2;
	if ((p = realloc(h->sbuf, size)) == NULL)
		return -1;
	h->sbuf = p;
	h->sbuf_size = size;
	return 0;
}

static int
ipvs_send(struct ipvs_handle *h, const void *buf, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	do
		n = sendto(nl_socket_get_fd(h->sk), buf, len, 0,
		    (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* One datagram from the kernel into h->rbuf; its length, or -1. */
static ssize_t
ipvs_recv(struct ipvs_handle *h)
{
	return applier_nl_recv(nl_socket_get_fd(h->sk), h->rbuf,
	    IPVS_RECV_BUF, IPVS_TIMEOUT_MS);
}

/*
 * Sends ops[0..n) as they are (no idempotence) in one sendmsg, one
 * acknowledgement fence after the last.  The chunk must fit the send
 * limits.
 */
static int
ipvs_send_chunk(struct ipvs_handle *h, struct ipvs_op *ops, size_t n)
{
	struct nlmsghdr *nlh, *src;
	struct nl_msg *msg;
	uint32_t first = 0, seq;
	size_t off = 0, i;
	int *err, rc, saved;

	if ((err = calloc(n, sizeof(*err))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		ops[i].err = 0;
		ops[i].changed = 0;
		if ((msg = ipvs_msg_build(h->family, &ops[i])) == NULL)
			goto fail;
		src = nlmsg_hdr(msg);
		if (sbuf_reserve(h, off + NLMSG_ALIGN(src->nlmsg_len)) < 0) {
			nlmsg_free(msg);
			goto fail;
		}
		nlh = (struct nlmsghdr *)(h->sbuf + off);
		memcpy(nlh, src, src->nlmsg_len);
		nlmsg_free(msg);
		seq = nl_socket_use_seq(h->sk);
		if (i == 0)
			first = seq;
		nlh->nlmsg_seq = seq;
		nlh->nlmsg_pid = 0;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	rc = applier_nl_batch(nl_socket_get_fd(h->sk), h->sbuf, off, n, first,
	    err, h->rbuf, IPVS_RECV_BUF, IPVS_TIMEOUT_MS);
	saved = errno;
	for (i = 0; i < n; i++) {
		ops[i].err = err[i];
		ops[i].changed = err[i] == 0;
	}
	free(err);
	errno = saved;
	return rc;
fail:
	/* Nothing was sent: every op gets the errno. */
	saved = errno ? errno : EIO;
	for (i = 0; i < n; i++)
		ops[i].err = saved;
	free(err);
	errno = saved;
	return -1;
}

static int
ipvs_send_ops(struct ipvs_handle *h, struct ipvs_op *ops, size_t n)
{
	size_t i = 0, chunk, max;
	int rc = 0;

	max = h->batch < h->batch_cap ? h->batch : h->batch_cap;
	/* A request is at most ~200 bytes; keep one sendmsg under the cap. */
	if (max > IPVS_SEND_MAX / 256)
		max = IPVS_SEND_MAX / 256;
	while (i < n) {
		chunk = n - i < max ? n - i : max;
		if (ipvs_send_chunk(h, ops + i, chunk) < 0)
			rc = -1;
		i += chunk;
		progress();
	}
	return rc;
}

/*
 * One request (a get or a dump) and its replies: cb sees every reply
 * carrying the request's sequence number.  Returns 0 or -1 with errno (the
 * kernel's, for a failed request).
 */
static int
ipvs_request(struct ipvs_handle *h, struct nl_msg *msg, int dump,
    ipvs_reply_cb cb, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlmsgerr *e;
	uint32_t seq;
	ssize_t len;
	int err;

	seq = nl_socket_use_seq(h->sk);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 0;
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	if (ipvs_send(h, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		if ((len = ipvs_recv(h)) < 0)
			return -1;
		for (nlh = (struct nlmsghdr *)h->rbuf; NLMSG_OK(nlh, len);
		    nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				e = NLMSG_DATA(nlh);
				if (e->error == 0)
					return 0;
				errno = -e->error;
				return -1;
			}
			if (nlh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (cb == NULL)
				continue;
			if ((err = cb(nlh, arg)) != 0) {
				/* Drain nothing: a later reply is ignored
				 * by its stale sequence number. */
				errno = err > 0 ? err : EBADMSG;
				return -1;
			}
		}
	}
}

static struct nl_msg *
ipvs_cmd_msg(struct ipvs_handle *h, int cmd)
{
	struct nl_msg *msg;

	if ((msg = nlmsg_alloc_size(IPVS_MSG_SIZE)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, h->family, 0, 0,
	    (uint8_t)cmd, IPVS_GENL_VERSION) == NULL) {
		nlmsg_free(msg);
		errno = EMSGSIZE;
		return NULL;
	}
	return msg;
}

/* Replies to service and destination queries. */

struct svc_list {
	struct ipvs_svc	*v;
	size_t		 n, cap;
};

struct dest_list {
	int		 family;
	struct ipvs_dest *v;
	size_t		 n, cap;
};

static int
svc_reply(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	struct svc_list *l = arg;
	struct ipvs_svc svc, *nv;

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, ipvs_cmd_policy) < 0)
		return EBADMSG;
	if (ipvs_svc_parse(tb[IPVS_CMD_ATTR_SERVICE], &svc) < 0)
		return 0;	/* a firewall-mark service: not ours */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((nv = reallocarray(l->v, l->cap, sizeof(*nv))) == NULL)
			return ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = svc;
	return 0;
}

static int
dest_reply(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	struct dest_list *l = arg;
	struct ipvs_dest dest, *nv;

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, ipvs_cmd_policy) < 0)
		return EBADMSG;
	if (ipvs_dest_parse(tb[IPVS_CMD_ATTR_DEST], l->family, &dest) < 0)
		return EBADMSG;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((nv = reallocarray(l->v, l->cap, sizeof(*nv))) == NULL)
			return ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = dest;
	return 0;
}

static int
ipvs_get_svc(struct ipvs_handle *h, const struct ipvs_svc *key,
    struct ipvs_svc *out)
{
	struct svc_list l = { 0 };
	struct nl_msg *msg;
	int rc;

	if ((msg = ipvs_cmd_msg(h, IPVS_CMD_GET_SERVICE)) == NULL)
		return -1;
	if (ipvs_svc_put(msg, key, 0) < 0) {
		nlmsg_free(msg);
		return -1;
	}
	rc = ipvs_request(h, msg, 0, svc_reply, &l);
	nlmsg_free(msg);
	if (rc == 0 && l.n != 1) {
		errno = ESRCH;
		rc = -1;
	}
	if (rc == 0)
		*out = l.v[0];
	free(l.v);
	return rc;
}

static int
ipvs_get_dests(struct ipvs_handle *h, const struct ipvs_svc *svc,
    struct dest_list *l)
{
	struct nl_msg *msg;
	int rc;

	l->n = 0;
	l->family = svc->family;
	if ((msg = ipvs_cmd_msg(h, IPVS_CMD_GET_DEST)) == NULL)
		return -1;
	if (ipvs_svc_put(msg, svc, 0) < 0) {
		nlmsg_free(msg);
		return -1;
	}
	rc = ipvs_request(h, msg, 1, dest_reply, l);
	nlmsg_free(msg);
	return rc;
}

/*
 * An add found the object already there: compare with the kernel's and
 * either leave it (success, unchanged) or turn the op into an edit, which
 * is returned in *edit (1) for the caller to send.
 */
static int
ipvs_resolve_exists(struct ipvs_handle *h, struct ipvs_op *op,
    struct ipvs_op *edit)
{
	struct dest_list dl = { 0 };
	struct ipvs_svc cur;
	struct ipvs_dest want;
	size_t i;
	int found = 0, rc = 0;

	*edit = *op;
	if (op->kind == IPVS_OP_SVC_ADD) {
		if (ipvs_get_svc(h, &op->svc, &cur) < 0)
			return -1;
		if (ipvs_svc_equal(&cur, &op->svc))
			return 0;
		edit->kind = IPVS_OP_SVC_EDIT;
		return 1;
	}
	if (ipvs_get_dests(h, &op->svc, &dl) < 0) {
		free(dl.v);
		return -1;
	}
	want = op->dest;
	want.fwd = IP_VS_CONN_F_MASQ;
	for (i = 0; i < dl.n; i++) {
		if (!dest_same_key(&dl.v[i], &want))
			continue;
		found = 1;
		if (!ipvs_dest_equal(&dl.v[i], &want)) {
			edit->kind = IPVS_OP_DEST_EDIT;
			rc = 1;
		}
		break;
	}
	free(dl.v);
	if (!found) {
		/* Deleted between the add and the dump: try the add again. */
		edit->kind = IPVS_OP_DEST_ADD;
		rc = 1;
	}
	return rc;
}

int
ipvs_batch(struct ipvs_handle *h, struct ipvs_op *ops, size_t n)
{
	struct ipvs_op *edits = NULL;
	size_t *from = NULL, nedit = 0, i;
	int rc, r;

	rc = ipvs_send_ops(h, ops, n);
	for (i = 0; i < n; i++) {
		struct ipvs_op *op = &ops[i];

		/* Deleting what is not there is what was asked for. */
		if ((op->kind == IPVS_OP_SVC_DEL && op->err == ESRCH) ||
		    (op->kind == IPVS_OP_DEST_DEL &&
		    (op->err == ENOENT || op->err == ESRCH))) {
			op->err = 0;
			op->changed = 0;
			continue;
		}
		if (op->err != EEXIST || (op->kind != IPVS_OP_SVC_ADD &&
		    op->kind != IPVS_OP_DEST_ADD))
			continue;
		if (edits == NULL) {
			edits = calloc(n, sizeof(*edits));
			from = calloc(n, sizeof(*from));
			if (edits == NULL || from == NULL) {
				free(edits);
				free(from);
				return -1;
			}
		}
		r = ipvs_resolve_exists(h, op, &edits[nedit]);
		if (r < 0)
			op->err = errno;
		else if (r == 0) {
			op->err = 0;
			op->changed = 0;
		} else
			from[nedit++] = i;
	}
	if (nedit > 0) {
		if (ipvs_send_ops(h, edits, nedit) < 0)
			rc = -1;
		for (i = 0; i < nedit; i++) {
			ops[from[i]].err = edits[i].err;
			ops[from[i]].changed = edits[i].err == 0;
		}
	}
	free(edits);
	free(from);
	return rc;
}

int
ipvs_set_timeouts(struct ipvs_handle *h, const struct ipvs_timeouts *t)
{
	struct nl_msg *msg;
	int rc = -1;

	if ((msg = ipvs_cmd_msg(h, IPVS_CMD_SET_CONFIG)) == NULL)
		return -1;
	if ((t->tcp && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP,
	    t->tcp) < 0) ||
	    (t->tcp_fin && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
	    t->tcp_fin) < 0) ||
	    (t->udp && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_UDP,
	    t->udp) < 0)) {
		errno = EMSGSIZE;
		goto out;
	}
	rc = ipvs_request(h, msg, 0, NULL, NULL);
out:
	nlmsg_free(msg);
	return rc;
}

static int
timeout_reply(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	struct ipvs_timeouts *t = arg;

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, ipvs_cmd_policy) < 0)
		return EBADMSG;
	if (tb[IPVS_CMD_ATTR_TIMEOUT_TCP] != NULL)
		t->tcp = nla_get_u32(tb[IPVS_CMD_ATTR_TIMEOUT_TCP]);
	if (tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] != NULL)
		t->tcp_fin = nla_get_u32(tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]);
	if (tb[IPVS_CMD_ATTR_TIMEOUT_UDP] != NULL)
		t->udp = nla_get_u32(tb[IPVS_CMD_ATTR_TIMEOUT_UDP]);
	return 0;
}

int
ipvs_get_timeouts(struct ipvs_handle *h, struct ipvs_timeouts *t)
{
	struct nl_msg *msg;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((msg = ipvs_cmd_msg(h, IPVS_CMD_GET_CONFIG)) == NULL)
		return -1;
	rc = ipvs_request(h, msg, 0, timeout_reply, t);
	nlmsg_free(msg);
	return rc;
}

int
ipvs_dump(struct ipvs_handle *h, ipvs_dump_cb cb, void *arg)
{
	struct svc_list sl = { 0 };
	struct dest_list dl = { 0 };
	struct nl_msg *msg;
	size_t i;
	int rc = -1, r;

	if ((msg = ipvs_cmd_msg(h, IPVS_CMD_GET_SERVICE)) == NULL)
		return -1;
	r = ipvs_request(h, msg, 1, svc_reply, &sl);
	nlmsg_free(msg);
	if (r < 0)
		goto out;
	/* One dump at a time per socket: destinations after services. */
	for (i = 0; i < sl.n; i++) {
		if (ipvs_get_dests(h, &sl.v[i], &dl) < 0) {
			/* Deleted since the service dump. */
			if (errno == ESRCH || errno == ENOENT)
				continue;
			goto out;
		}
		if ((r = cb(&sl.v[i], dl.v, dl.n, arg)) != 0) {
			rc = r;
			goto out;
		}
	}
	rc = 0;
out:
	free(sl.v);
	free(dl.v);
	return rc;
}
