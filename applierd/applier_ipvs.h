/*
 * applier_ipvs: IPVS virtual and real servers over generic netlink
 * (libnl-genl-3).  One socket, the "IPVS" family resolved once, and many
 * requests per sendmsg(2): a batch of operations is built into one buffer,
 * sent at once with one acknowledgement fence after the last, and the
 * kernel's error answers are matched back to the operations by netlink
 * sequence number, so one failing operation reports its own errno while
 * the others are applied (applier_nl_batch()).
 *
 * Idempotence lives here and nowhere else: an add that finds an equal
 * object is a success, an add that finds a different one becomes an edit,
 * a delete of a missing object is a success.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_IPVS_H
#define KIPVS_APPLIER_IPVS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define IPVS_SCHED_MAX	16	/* IP_VS_SCHEDNAME_MAXLEN, with the NUL */

union ipvs_addr {
	struct in_addr	 in;
	struct in6_addr	 in6;
	uint8_t		 bytes[16];
};

/* A virtual server.  Ports are in host byte order. */
struct ipvs_svc {
	int		 family;	/* AF_INET or AF_INET6 */
	uint16_t	 protocol;	/* IPPROTO_TCP, _UDP or _SCTP */
	union ipvs_addr	 addr;
	uint16_t	 port;
	char		 sched[IPVS_SCHED_MAX];
	uint32_t	 flags;		/* IP_VS_SVC_F_*, without HASHED */
	uint32_t	 timeout;	/* persistence, seconds */
	uint32_t	 netmask;	/* 0xffffffff (IPv4) or 128 (IPv6) */
};

/* A real server (destination).  Forwarding is always masquerade. */
struct ipvs_dest {
	int		 family;
	union ipvs_addr	 addr;
	uint16_t	 port;
	uint32_t	 weight;
	uint32_t	 fwd;		/* IP_VS_CONN_F_MASQ; set by dumps */
	uint32_t	 active;	/* dumps only */
	uint32_t	 inactive;	/* dumps only */
};

enum ipvs_op_kind {
	IPVS_OP_SVC_ADD = 1,		/* ensure: add, or edit if different */
	IPVS_OP_SVC_EDIT,
	IPVS_OP_SVC_DEL,		/* missing is success */
	IPVS_OP_DEST_ADD,		/* ensure: add, or edit if different */
	IPVS_OP_DEST_EDIT,
	IPVS_OP_DEST_DEL,		/* missing is success */
};

struct ipvs_op {
	enum ipvs_op_kind kind;
	struct ipvs_svc	 svc;		/* the service (identity for dests) */
	struct ipvs_dest dest;		/* IPVS_OP_DEST_* only */
	/* Results, filled by ipvs_batch(). */
	int		 err;		/* 0 or a positive errno */
	int		 changed;	/* 1 if the kernel was written */
};

struct ipvs_timeouts {
	uint32_t	 tcp;		/* seconds; 0 leaves the value alone */
	uint32_t	 tcp_fin;
	uint32_t	 udp;
};

struct ipvs_handle;

/* Opens the socket and resolves the family.  NULL with errno on failure. */
struct ipvs_handle *ipvs_open(void);
void	ipvs_close(struct ipvs_handle *);

/* Most requests packed into one sendmsg(2) (default 256). */
void	ipvs_set_batch_size(struct ipvs_handle *, size_t);

/*
 * Executes n operations, sending them in as few sendmsg(2) calls as the
 * batch size allows.  Each op's err and changed are set.  Returns 0 when
 * every operation got its result (whatever it is), -1 with errno when the
 * socket itself failed (then ops without a result carry that errno).
 */
int	ipvs_batch(struct ipvs_handle *, struct ipvs_op *ops, size_t n);

/* Sets the TCP, TCP FIN and UDP timeouts.  0 or -1 with errno. */
int	ipvs_set_timeouts(struct ipvs_handle *, const struct ipvs_timeouts *);
int	ipvs_get_timeouts(struct ipvs_handle *, struct ipvs_timeouts *);

/*
 * Dumps every virtual server with its destinations.  For each service, cb
 * receives it and its destinations (both borrowed for the call).  A non-zero
 * return from cb stops the dump and is returned.  0 or -1 with errno.
 */
typedef int (*ipvs_dump_cb)(const struct ipvs_svc *,
    const struct ipvs_dest *dests, size_t ndests, void *arg);
int	ipvs_dump(struct ipvs_handle *, ipvs_dump_cb cb, void *arg);

/* Flags that matter when comparing services (HASHED masked off). */
int	ipvs_svc_equal(const struct ipvs_svc *, const struct ipvs_svc *);
int	ipvs_dest_equal(const struct ipvs_dest *, const struct ipvs_dest *);

/* "tcp 10.96.0.1:443", "udp [fd00::a]:53" into buf; returns buf. */
const char *ipvs_svc_str(const struct ipvs_svc *, char *buf, size_t len);
const char *ipvs_dest_str(const struct ipvs_svc *, const struct ipvs_dest *,
	    char *buf, size_t len);
const char *ipvs_op_name(enum ipvs_op_kind);

/*
 * Message building and parsing, exposed for the unit tests: one builder per
 * object kind, one parser per nest.  genl_family is the resolved family id.
 * ipvs_msg_build returns a new message (the caller frees it with
 * nlmsg_free) or NULL.
 */
struct nl_msg;
struct nlattr;
struct nl_msg *ipvs_msg_build(int genl_family, const struct ipvs_op *op);
int	ipvs_svc_put(struct nl_msg *, const struct ipvs_svc *, int full);
int	ipvs_dest_put(struct nl_msg *, const struct ipvs_dest *, int full);
int	ipvs_svc_parse(struct nlattr *nest, struct ipvs_svc *);
int	ipvs_dest_parse(struct nlattr *nest, int family, struct ipvs_dest *);

#endif /* KIPVS_APPLIER_IPVS_H */
