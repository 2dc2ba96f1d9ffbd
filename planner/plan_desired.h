/*
 * Desired kernel state of one IP family, computed from the model and the
 * node configuration exactly as kube-proxy's IPVS proxier would program
 * it: virtual and real servers, the addresses on kube-ipvs0, the members
 * of the seventeen ipsets and the data the iptables rules depend on.
 *
 * The unit of computation is one service port: plan_desired_svcport()
 * appends what a single service port wants, so an incremental planner can
 * recompute only the ports of dirty Services; plan_desired_build() runs it
 * over the whole model and plan_desired_finish() sorts, deduplicates and
 * settles conflicts (two Services claiming one virtual server: the oldest
 * creationTimestamp wins, then namespace/name).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_DESIRED_H
#define KIPVS_PLAN_DESIRED_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"
#include "planner/plan_model.h"

#define PLAN_SCHED_MAX		16	/* IP_VS_SCHEDNAME_MAXLEN */

/* IPVS service flags (linux/ip_vs.h). */
#define PLAN_VS_F_PERSISTENT	0x0001
#define PLAN_VS_F_HASHED	0x0002
#define PLAN_VS_F_SCHED1	0x0008
#define PLAN_VS_F_SCHED2	0x0010	/* mh-port / sh-port */
#define PLAN_VS_F_SCHED3	0x0020

enum plan_fwd {
	PLAN_FWD_MASQ = 0,
	PLAN_FWD_LOCAL,
	PLAN_FWD_TUNNEL,
	PLAN_FWD_ROUTE,
};

/* Node configuration (kube-proxy's flags and config file). */
struct plan_config {
	char		 node_name[REC_NODENAME_MAX + 1];
	int		 ipv4;		/* run the IPv4 proxier */
	int		 ipv6;		/* run the IPv6 proxier */
	/* Addresses on the node's interfaces other than kube-ipvs0. */
	struct rec_addr	*node_ips;
	size_t		 n_node_ips;
	/* ClusterCIDR local-traffic detector: at most one per family. */
	struct rec_prefix *cluster_cidrs;
	size_t		 n_cluster_cidrs;
	int		 masquerade_all;
	char		 scheduler[PLAN_SCHED_MAX];
	struct rec_prefix *nodeport_cidrs;	/* none: all addresses */
	size_t		 n_nodeport_cidrs;
	struct rec_prefix *exclude_cidrs;
	size_t		 n_exclude_cidrs;
	int		 strict_arp;
	unsigned int	 masquerade_bit;	/* 0..31, default 14 */
	int		 random_fully;
	/*
	 * Local-traffic detector by interface (enum pa_local_mode: bridge
	 * or interface prefix); 0 means cluster_cidrs decide.
	 */
	uint8_t		 local_mode;
	char		 local_iface[16];
	/*
	 * kipvs's own --nodeport-range (the daemon; render and the default
	 * have none, 1-65535, as kube-proxy): a nodePort or health-check
	 * node port outside it is left out (the applier refuses it anyway).
	 */
	uint16_t	 nodeport_lo;
	uint16_t	 nodeport_hi;
	/*
	 * Where the neutralisation counters go (NULL: not counted).  The
	 * counters are written through a const configuration: they are not
	 * configuration, only reached through it.
	 */
	struct plan_neutral *neutral;
};

/*
 * What the planner leaves out of an otherwise valid Service because
 * programming it would capture traffic that is not the Service's
 * (docs/hostile-input.md).  Each is logged with the Service's name.
 */
enum plan_neut {
	PLAN_NEUT_VIP_DENIED = 0,	/* a VIP in the deny-list */
	PLAN_NEUT_VIP_NODE,		/* a VIP that is a node address */
	PLAN_NEUT_NODEPORT_RANGE,	/* node port outside the range */
	PLAN_NEUT_ENDPOINT_DENIED,	/* an endpoint in the deny-list */
	PLAN_NEUT_CONFLICT,		/* a VS lost to an older Service */
	PLAN_NEUT_COUNT
};

struct plan_neutral {
	uint64_t	 n[PLAN_NEUT_COUNT];
};

/* Metric label of each counter ("vip_denied", ...). */
extern const char *const plan_neut_names[PLAN_NEUT_COUNT];

/*
 * Why an address may not be a virtual or real server address:
 * unspecified, "this network" 0/8, loopback, link-local (the metadata
 * service 169.254.169.254 among them), multicast, the limited broadcast,
 * 240/4; for IPv6 ::, ::1, fe80::/10, ff00::/8 and IPv4-mapped.  NULL when
 * none applies.
 */
const char *plan_addr_denied(const struct rec_addr *);

struct plan_rs {
	struct rec_addr	 addr;
	uint16_t	 port;
	uint8_t		 fwd;		/* enum plan_fwd */
	int32_t		 weight;
	uint32_t	 u_threshold;
	uint32_t	 l_threshold;
};

struct plan_vs {
	struct rec_addr	 addr;		/* fwmark: zero address */
	uint16_t	 port;
	uint8_t		 proto;		/* rec_proto; 0: fwmark */
	uint32_t	 fwmark;
	char		 sched[PLAN_SCHED_MAX];
	uint32_t	 flags;		/* PLAN_VS_F_* */
	uint32_t	 timeout;	/* persistence seconds */
	uint32_t	 netmask;	/* 0xffffffff or 128 */
	size_t		 n_rs;
	struct plan_rs	*rs;
	/* Owner, for deterministic conflicts (not part of the kernel). */
	int64_t		 created;
	const char	*owner_ns;
	const char	*owner_name;
};

struct plan_ipvs_table {
	struct plan_vs	*vs;
	size_t		 n;
	size_t		 cap;
};

enum plan_set {
	PLAN_SET_LOOP_BACK = 0,
	PLAN_SET_CLUSTER_IP,
	PLAN_SET_EXTERNAL_IP,
	PLAN_SET_EXTERNAL_IP_LOCAL,
	PLAN_SET_LOAD_BALANCER,
	PLAN_SET_LOAD_BALANCER_LOCAL,
	PLAN_SET_LOAD_BALANCER_FW,
	PLAN_SET_LOAD_BALANCER_SOURCE_IP,
	PLAN_SET_LOAD_BALANCER_SOURCE_CIDR,
	PLAN_SET_NODE_PORT_TCP,
	PLAN_SET_NODE_PORT_LOCAL_TCP,
	PLAN_SET_NODE_PORT_UDP,
	PLAN_SET_NODE_PORT_LOCAL_UDP,
	PLAN_SET_NODE_PORT_SCTP_HASH,
	PLAN_SET_NODE_PORT_LOCAL_SCTP_HASH,
	PLAN_SET_HEALTH_CHECK_NODE_PORT,
	PLAN_SET_IPVS_IPS,
	PLAN_SET_COUNT
};

enum plan_set_type {
	PLAN_SETTYPE_HASH_IP = 1,
	PLAN_SETTYPE_HASH_IP_PORT,
	PLAN_SETTYPE_HASH_IP_PORT_IP,
	PLAN_SETTYPE_HASH_IP_PORT_NET,
	PLAN_SETTYPE_BITMAP_PORT,
};

struct plan_set_info {
	const char	*name4;
	const char	*name6;		/* KUBE-6-..., <= 31 chars */
	uint8_t		 type;		/* enum plan_set_type */
	const char	*comment;	/* used only in iptables rules */
};

extern const struct plan_set_info plan_sets[PLAN_SET_COUNT];
const char *plan_set_name(enum plan_set, uint8_t family);
const char *plan_set_type_name(uint8_t type);

struct plan_set_entry {
	struct rec_addr	 ip;
	uint8_t		 proto;		/* enum rec_proto */
	uint16_t	 port;
	struct rec_addr	 ip2;		/* 2nd ip, or the net */
	uint8_t		 plen;		/* ip,port,net */
};

struct plan_set_members {
	struct plan_set_entry *v;
	size_t		 n;
	size_t		 cap;
};

/* KUBE-IPVS-OUT-FILTER: node-originated traffic to a protected LB VIP. */
struct plan_outfilter {
	struct rec_addr	 ip;
	uint8_t		 proto;
	uint16_t	 port;
};

struct plan_desired {
	uint8_t		 family;	/* REC_FAMILY_IPV4 or _IPV6 */
	struct plan_ipvs_table ipvs;
	struct plan_set_members sets[PLAN_SET_COUNT];
	/* kube-ipvs0 addresses (equal to the KUBE-IPVS-IPS members). */
	struct rec_addr	*addrs;
	size_t		 n_addrs;
	size_t		 cap_addrs;
	struct plan_outfilter *outfilter;
	size_t		 n_outfilter;
	size_t		 cap_outfilter;
	/* Node IPs of this family NodePort VSs go on (computed once). */
	struct rec_addr	*nodeips;
	size_t		 n_nodeips;
	int		 nodeips_done;
	struct plan_ep_buf epbuf;	/* scratch */
	/* The config's counters, for plan_desired_finish()'s conflicts. */
	struct plan_neutral *neutral;
};

void	plan_config_init(struct plan_config *);

void	plan_desired_init(struct plan_desired *, uint8_t family);
void	plan_desired_clear(struct plan_desired *);

/*
 * Appends what service port svc->ports[idx] wants in d's family.  0 on
 * success, -1 on allocation failure.
 */
int	plan_desired_svcport(struct plan_desired *d,
	    const struct plan_config *, const struct plan_model *,
	    const struct plan_svc *svc, size_t idx);
/* All service ports of the model, then plan_desired_finish(). */
int	plan_desired_build(struct plan_desired *d,
	    const struct plan_config *, const struct plan_model *);
/* Sort, deduplicate, settle conflicts, keep IPVS-IPS = addresses. */
int	plan_desired_finish(struct plan_desired *d);

/*
 * The IPVS table after one sync from `current`: desired VSs (existing ones
 * updated in place; their real servers become exactly the desired ones,
 * pre-existing state having no connections), plus every current VS that
 * no running proxier owns: other families, and those inside excludeCIDRs.
 * d[] holds one desired state per running family.
 */
int	plan_ipvs_after_sync(const struct plan_desired *const *d, size_t nd,
	    const struct plan_ipvs_table *current, const struct plan_config *,
	    struct plan_ipvs_table *out);

/* Table helpers. */
int	plan_ipvs_table_add(struct plan_ipvs_table *,
	    const struct plan_vs *);
int	plan_vs_add_rs(struct plan_vs *, const struct plan_rs *);
void	plan_ipvs_table_sort(struct plan_ipvs_table *);
void	plan_ipvs_table_clear(struct plan_ipvs_table *);
int	plan_vs_cmp(const struct plan_vs *, const struct plan_vs *);

#endif /* KIPVS_PLAN_DESIRED_H */
