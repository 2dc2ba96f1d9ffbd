/*
 * applier_ipt: kube-proxy's IPVS-mode iptables chains through libiptc
 * (libip4tc, libip6tc), legacy x_tables.
 *
 * A batch is ipt_begin() ... ipt_commit(): the xtables lock is taken on the
 * caller's descriptor (flock, bounded wait), each table touched is read
 * once, chains are ensured and their contents replaced, jump rules in
 * built-in chains are ensured (found by exact match, comment included), and
 * each table that changed is written back with one iptc_commit(); a table
 * whose content is already what was asked for is not written at all.
 *
 * Rules are never received as bytes: struct ipt_rule is a template with a
 * fixed match order (comment, mark, conntrack, set, physdev, addrtype,
 * ipvs) and
 * a small set of targets, and the applier builds the ipt_entry itself.
 *
 * libiptc opens its socket as socket(AF_INET, SOCK_RAW, IPPROTO_RAW), which
 * needs CAP_NET_RAW.  This module defines socket(2) for the whole program:
 * exactly that triple (AF_INET or AF_INET6) becomes a SOCK_DGRAM socket,
 * on which the x_tables get/set socket options work with CAP_NET_ADMIN
 * alone; every other call is passed to the kernel unchanged.  See
 * docs/applier.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_IPT_H
#define KIPVS_APPLIER_IPT_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#define IPT_CHAIN_MAX	29	/* XT_EXTENSION_MAXNAMELEN - 1, with NUL */
#define IPT_COMMENT_MAX	256
#define IPT_SETNAME_MAX	32

enum ipt_tbl {
	IPT_TABLE_NAT = 0,
	IPT_TABLE_FILTER,
	IPT_TABLE_COUNT,
};

enum ipt_tgt {
	IPT_TGT_JUMP = 1,	/* -j <jump> (a user chain) */
	IPT_TGT_ACCEPT,
	IPT_TGT_DROP,
	IPT_TGT_RETURN,
	IPT_TGT_REJECT,		/* --reject-with icmp(6)-port-unreachable */
	IPT_TGT_MARK_OR,	/* -j MARK --or-mark <mark> */
	IPT_TGT_MARK_XOR,	/* -j MARK --xor-mark <mark> */
	IPT_TGT_MASQUERADE,	/* [--random-fully] */
};

/* addrtype values (XT_ADDRTYPE_*) kube-proxy uses. */
#define IPT_ADDRTYPE_LOCAL	(1 << 2)

/* conntrack states (XT_CONNTRACK_STATE_BIT). */
#define IPT_CT_ESTABLISHED	(1 << 1)
#define IPT_CT_RELATED		(1 << 2)
#define IPT_CT_NEW		(1 << 3)

/* A rule template.  Zeroed fields are absent. */
struct ipt_rule {
	/* Entry header. */
	int		 src_set;	/* -s src/src_plen */
	int		 src_neg;
	uint8_t		 src[16];
	uint8_t		 src_plen;
	char		 in_iface[IFNAMSIZ];	/* -i; "+" suffix: prefix */
	int		 in_iface_neg;
	uint8_t		 proto;		/* -p */
	/* Matches, in this order. */
	char		 comment[IPT_COMMENT_MAX];
	int		 mark_set;	/* -m mark [!] --mark mark/mask */
	int		 mark_neg;
	uint32_t	 mark, mark_mask;
	uint16_t	 ctstate;	/* -m conntrack --ctstate */
	char		 set_name[IPT_SETNAME_MAX];	/* -m set */
	uint8_t		 set_dim;	/* 1..3 */
	uint8_t		 set_src;	/* bit i-1: dimension i is "src" */
	int		 physdev_not_in; /* ! --physdev-is-in */
	uint16_t	 src_type;	/* -m addrtype [!] --src-type */
	int		 src_type_neg;
	uint16_t	 dst_type;	/* [!] --dst-type */
	int		 dst_type_neg;
	int		 ipvs_set;	/* -m ipvs --vproto --vaddr --vport */
	uint8_t		 ipvs_proto;
	uint8_t		 ipvs_vaddr[16];	/* a host address */
	uint16_t	 ipvs_vport;	/* host order */
	/* Target. */
	enum ipt_tgt	 target;
	char		 jump[IPT_CHAIN_MAX];
	uint32_t	 tmark;		/* MARK targets */
	int		 random_fully;	/* MASQUERADE */
};

struct ipt_handle;

/*
 * family is AF_INET or AF_INET6; lock_fd an open descriptor of the xtables
 * lock file (borrowed; -1 for no locking); wait_ms how long to wait for it.
 */
struct ipt_handle *ipt_open(int family, int lock_fd, int wait_ms);
void	ipt_close(struct ipt_handle *);

/* The last failure in words (or ""). */
const char *ipt_last_error(struct ipt_handle *);

/* Takes the lock.  -1 with errno ETIMEDOUT if it stays held too long. */
int	ipt_begin(struct ipt_handle *);
/*
 * Commits every changed table (one iptc_commit each), then releases the
 * lock.  *ncommits (if not NULL) is the number of tables written.
 */
int	ipt_commit(struct ipt_handle *, int *ncommits);
/* Drops uncommitted changes and releases the lock. */
void	ipt_abort(struct ipt_handle *);

/* Inside a batch: */
int	ipt_chain_ensure(struct ipt_handle *, enum ipt_tbl, const char *);
/* 1 if the chain exists, 0 if not, -1/errno. */
int	ipt_chain_exists(struct ipt_handle *, enum ipt_tbl, const char *);
/* Flushes and deletes a user chain; a missing one is success. */
int	ipt_chain_remove(struct ipt_handle *, enum ipt_tbl, const char *);
/* Makes the chain hold exactly rules[0..n), in order. */
int	ipt_chain_replace(struct ipt_handle *, enum ipt_tbl,
	    const char *chain, const struct ipt_rule *rules, size_t n);
/*
 * Counts the kernel's rules of a chain into *nkern and compares them with
 * rules[0..n) (rules NULL: count only, returns 0).  1 equal, 0 different,
 * -1/errno (ENOENT: no such chain).  Writes nothing.
 */
int	ipt_chain_compare(struct ipt_handle *, enum ipt_tbl,
	    const char *chain, const struct ipt_rule *rules, size_t n,
	    size_t *nkern);
/* Ensures rule is in the (built-in) chain; inserts it first if absent. */
int	ipt_jump_ensure(struct ipt_handle *, enum ipt_tbl,
	    const char *chain, const struct ipt_rule *rule);
/* Deletes every copy of rule from the chain; absent is success. */
int	ipt_jump_remove(struct ipt_handle *, enum ipt_tbl,
	    const char *chain, const struct ipt_rule *rule);

/*
 * Renders a rule as iptables-save prints it ("-A CHAIN ... -j ...").
 * Pure; for tests, dumps and the audit log.  Returns the length or -1.
 */
int	ipt_rule_format(int family, const char *chain,
	    const struct ipt_rule *, char *buf, size_t len);

/*
 * kube-proxy's IPVS-mode templates (spec §6).  The parameters are what the
 * planner may choose; everything else is fixed here.
 */
enum ipt_kube_set {
	IPT_KS_LOOP_BACK = 0,
	IPT_KS_CLUSTER_IP,
	IPT_KS_EXTERNAL_IP,
	IPT_KS_EXTERNAL_IP_LOCAL,
	IPT_KS_LOAD_BALANCER,
	IPT_KS_LOAD_BALANCER_LOCAL,
	IPT_KS_LOAD_BALANCER_FW,
	IPT_KS_LOAD_BALANCER_SOURCE_IP,
	IPT_KS_LOAD_BALANCER_SOURCE_CIDR,
	IPT_KS_NODE_PORT_TCP,
	IPT_KS_NODE_PORT_LOCAL_TCP,
	IPT_KS_NODE_PORT_UDP,
	IPT_KS_NODE_PORT_LOCAL_UDP,
	IPT_KS_NODE_PORT_SCTP_HASH,
	IPT_KS_NODE_PORT_LOCAL_SCTP_HASH,
	IPT_KS_HEALTH_CHECK_NODE_PORT,
	IPT_KS_IPVS_IPS,
	IPT_KS_COUNT,
};

enum ipt_local_mode {
	IPT_LOCAL_NONE = 0,	/* "src,dst" ClusterIP rule */
	IPT_LOCAL_CIDR,		/* ! -s cidr */
	IPT_LOCAL_IFACE,	/* ! -i iface (a "+" suffix is a prefix) */
};

/* A KUBE-IPVS-OUT-FILTER entry: node-local traffic to this LB ip:port is
 * dropped (the node is outside the service's source ranges, spec §4.6). */
struct ipt_kube_lb_drop {
	uint8_t		 addr[16];
	uint8_t		 proto;
	uint16_t	 port;
};

struct ipt_kube_params {
	int		 family;
	uint8_t		 masq_bit;	/* default 14 */
	int		 random_fully;
	int		 masquerade_all;
	enum ipt_local_mode local_mode;
	uint8_t		 local_cidr[16];
	uint8_t		 local_plen;
	char		 local_iface[IFNAMSIZ];
	uint32_t	 nonempty;	/* bit (1 << enum ipt_kube_set) */
	const struct ipt_kube_lb_drop *lb_drop;	/* borrowed */
	size_t		 n_lb_drop;
};

/* The owned chains of a table, NULL-terminated. */
const char *const *ipt_kube_chains(enum ipt_tbl);
/* kube-proxy's name of a set for the family ("KUBE-6-..." for IPv6). */
const char *ipt_kube_set_name(int family, enum ipt_kube_set, char *buf,
	    size_t len);
/* The rules of one owned chain; *n set.  -1/EINVAL for a foreign chain. */
int	ipt_kube_rules(const struct ipt_kube_params *, enum ipt_tbl,
	    const char *chain, struct ipt_rule *out, size_t max, size_t *n);

struct ipt_kube_jump {
	enum ipt_tbl	 table;
	const char	*from;		/* built-in chain */
	struct ipt_rule	 rule;
};
/* The jump rules into the owned chains, in kube-proxy's ensure order. */
size_t	ipt_kube_jumps(struct ipt_kube_jump *out, size_t max);

/*
 * Programs everything for one family: chains, their rules, jump rules; one
 * commit per changed table.  The referenced sets must exist.
 */
int	ipt_kube_apply(struct ipt_handle *, const struct ipt_kube_params *,
	    int *ncommits);

#endif /* KIPVS_APPLIER_IPT_H */
