/*
 * kube-proxy's IPVS semantics, one service port at a time
 * (docs/planner.md has the rules and where kipvs deviates).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"
#include "planner/plan_desired.h"

const char *const plan_neut_names[PLAN_NEUT_COUNT] = {
	[PLAN_NEUT_VIP_DENIED] = "vip_denied",
	[PLAN_NEUT_VIP_NODE] = "vip_node_address",
	[PLAN_NEUT_NODEPORT_RANGE] = "nodeport_range",
	[PLAN_NEUT_ENDPOINT_DENIED] = "endpoint_denied",
	[PLAN_NEUT_CONFLICT] = "conflict",
};

const struct plan_set_info plan_sets[PLAN_SET_COUNT] = {
	[PLAN_SET_LOOP_BACK] = { "KUBE-LOOP-BACK", "KUBE-6-LOOP-BACK",
	    PLAN_SETTYPE_HASH_IP_PORT_IP,
	    "Kubernetes endpoints dst ip:port, source ip for solving hairpin "
	    "purpose" },
	[PLAN_SET_CLUSTER_IP] = { "KUBE-CLUSTER-IP", "KUBE-6-CLUSTER-IP",
	    PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service cluster ip + port for masquerade purpose" },
	[PLAN_SET_EXTERNAL_IP] = { "KUBE-EXTERNAL-IP", "KUBE-6-EXTERNAL-IP",
	    PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service external ip + port for masquerade and filter "
	    "purpose" },
	[PLAN_SET_EXTERNAL_IP_LOCAL] = { "KUBE-EXTERNAL-IP-LOCAL",
	    "KUBE-6-EXTERNAL-IP-LOCAL", PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service external ip + port with "
	    "externalTrafficPolicy=local" },
	[PLAN_SET_LOAD_BALANCER] = { "KUBE-LOAD-BALANCER",
	    "KUBE-6-LOAD-BALANCER", PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service lb portal" },
	[PLAN_SET_LOAD_BALANCER_LOCAL] = { "KUBE-LOAD-BALANCER-LOCAL",
	    "KUBE-6-LOAD-BALANCER-LOCAL", PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service load balancer ip + port with "
	    "externalTrafficPolicy=local" },
	[PLAN_SET_LOAD_BALANCER_FW] = { "KUBE-LOAD-BALANCER-FW",
	    "KUBE-6-LOAD-BALANCER-FW", PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes service load balancer ip + port for load balancer "
	    "with sourceRange" },
	[PLAN_SET_LOAD_BALANCER_SOURCE_IP] = { "KUBE-LOAD-BALANCER-SOURCE-IP",
	    "KUBE-6-LOAD-BALANCER-SOURCE-IP", PLAN_SETTYPE_HASH_IP_PORT_IP,
	    "Kubernetes service load balancer ip + port + source IP for "
	    "packet filter purpose" },
	[PLAN_SET_LOAD_BALANCER_SOURCE_CIDR] = {
	    "KUBE-LOAD-BALANCER-SOURCE-CIDR", "KUBE-6-LOAD-BALANCER-SOURCE-CID",
	    PLAN_SETTYPE_HASH_IP_PORT_NET,
	    "Kubernetes service load balancer ip + port + source cidr for "
	    "packet filter purpose" },
	[PLAN_SET_NODE_PORT_TCP] = { "KUBE-NODE-PORT-TCP",
	    "KUBE-6-NODE-PORT-TCP", PLAN_SETTYPE_BITMAP_PORT,
	    "Kubernetes nodeport TCP port for masquerade purpose" },
	[PLAN_SET_NODE_PORT_LOCAL_TCP] = { "KUBE-NODE-PORT-LOCAL-TCP",
	    "KUBE-6-NODE-PORT-LOCAL-TCP", PLAN_SETTYPE_BITMAP_PORT,
	    "Kubernetes nodeport TCP port with externalTrafficPolicy=local" },
	[PLAN_SET_NODE_PORT_UDP] = { "KUBE-NODE-PORT-UDP",
	    "KUBE-6-NODE-PORT-UDP", PLAN_SETTYPE_BITMAP_PORT,
	    "Kubernetes nodeport UDP port for masquerade purpose" },
	[PLAN_SET_NODE_PORT_LOCAL_UDP] = { "KUBE-NODE-PORT-LOCAL-UDP",
	    "KUBE-6-NODE-PORT-LOCAL-UDP", PLAN_SETTYPE_BITMAP_PORT,
	    "Kubernetes nodeport UDP port with externalTrafficPolicy=local" },
	[PLAN_SET_NODE_PORT_SCTP_HASH] = { "KUBE-NODE-PORT-SCTP-HASH",
	    "KUBE-6-NODE-PORT-SCTP-HASH", PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes nodeport SCTP port for masquerade purpose with type "
	    "'hash ip:port'" },
	[PLAN_SET_NODE_PORT_LOCAL_SCTP_HASH] = {
	    "KUBE-NODE-PORT-LOCAL-SCTP-HASH", "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS",
	    PLAN_SETTYPE_HASH_IP_PORT,
	    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local "
	    "with type 'hash ip:port'" },
	[PLAN_SET_HEALTH_CHECK_NODE_PORT] = { "KUBE-HEALTH-CHECK-NODE-PORT",
	    "KUBE-6-HEALTH-CHECK-NODE-PORT", PLAN_SETTYPE_BITMAP_PORT,
	    "Kubernetes health check node port" },
	[PLAN_SET_IPVS_IPS] = { "KUBE-IPVS-IPS", "KUBE-6-IPVS-IPS",
	    PLAN_SETTYPE_HASH_IP, "Addresses on the ipvs interface" },
};

const char *
plan_set_name(enum plan_set set, uint8_t family)
{
	return family == REC_FAMILY_IPV6 ? plan_sets[set].name6 :
	    plan_sets[set].name4;
}

const char *
plan_set_type_name(uint8_t type)
{
	switch (type) {
	case PLAN_SETTYPE_HASH_IP:
		return "hash:ip";
	case PLAN_SETTYPE_HASH_IP_PORT:
		return "hash:ip,port";
	case PLAN_SETTYPE_HASH_IP_PORT_IP:
		return "hash:ip,port,ip";
	case PLAN_SETTYPE_HASH_IP_PORT_NET:
		return "hash:ip,port,net";
	case PLAN_SETTYPE_BITMAP_PORT:
		return "bitmap:port";
	}
	return "?";
}

void
plan_config_init(struct plan_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ipv4 = 1;
	memcpy(c->scheduler, "rr", 3);
	c->masquerade_bit = 14;
	c->random_fully = 1;
	/* No range: kube-proxy has none; the daemon sets kipvs's own. */
	c->nodeport_lo = 1;
	c->nodeport_hi = 65535;
}

/* --- what is never programmed ------------------------------------------ */

const char *
plan_addr_denied(const struct rec_addr *a)
{
	static const uint8_t zero[16];
	const uint8_t *b = a->addr;

	if (a->family == REC_FAMILY_IPV4) {
		if (b[0] == 0)
			return b[1] == 0 && b[2] == 0 && b[3] == 0 ?
			    "the unspecified address" : "in 0.0.0.0/8";
		if (b[0] == 127)
			return "a loopback address";
		if (b[0] == 169 && b[1] == 254)
			return b[2] == 169 && b[3] == 254 ?
			    "the metadata address" : "a link-local address";
		if (b[0] >= 224 && b[0] <= 239)
			return "a multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the broadcast address";
		if (b[0] >= 240)
			return "a reserved address (240.0.0.0/4)";
		return NULL;
	}
	if (memcmp(b, zero, 16) == 0)
		return "the unspecified address";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "a loopback address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xff)
		return "a multicast address";
	if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
		return "an IPv4-mapped address";
	return NULL;
}

static void	pd_neut(struct plan_neutral *, enum plan_neut,
		    const struct plan_svc *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Counts and logs one part of a Service left out. */
static void
pd_neut(struct plan_neutral *nt, enum plan_neut kind,
    const struct plan_svc *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (nt != NULL)
		nt->n[kind]++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("service %s/%s: %s: left out (%s)", s->ns, s->name, msg,
	    plan_neut_names[kind]);
}

void
plan_desired_init(struct plan_desired *d, uint8_t family)
{
	memset(d, 0, sizeof(*d));
	d->family = family;
}

void
plan_desired_clear(struct plan_desired *d)
{
	uint8_t family = d->family;
	size_t i;

	plan_ipvs_table_clear(&d->ipvs);
	for (i = 0; i < PLAN_SET_COUNT; i++)
		free(d->sets[i].v);
	free(d->addrs);
	free(d->outfilter);
	free(d->nodeips);
	plan_ep_buf_free(&d->epbuf);
	plan_desired_init(d, family);
}

/* --- small vectors ------------------------------------------------------- */

static int
pd_grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	nv = realloc(*v, ncap * size);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int
pd_set_add(struct plan_desired *d, enum plan_set set,
    const struct plan_set_entry *e)
{
	struct plan_set_members *s = &d->sets[set];

	if (pd_grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v)) == -1)
		return -1;
	s->v[s->n++] = *e;
	return 0;
}

static int
pd_set_ipport(struct plan_desired *d, enum plan_set set,
    const struct rec_addr *ip, uint8_t proto, uint16_t port)
{
	struct plan_set_entry e;

	memset(&e, 0, sizeof(e));
	if (ip != NULL)
		e.ip = *ip;
	e.proto = proto;
	e.port = port;
	return pd_set_add(d, set, &e);
}

static int
pd_addr_add(struct plan_desired *d, const struct rec_addr *a)
{
	if (pd_grow((void **)&d->addrs, &d->cap_addrs, d->n_addrs,
	    sizeof(*d->addrs)) == -1)
		return -1;
	d->addrs[d->n_addrs++] = *a;
	return 0;
}

int
plan_vs_add_rs(struct plan_vs *vs, const struct plan_rs *rs)
{
	struct plan_rs *nv;
	size_t n = vs->n_rs;

	/*
	 * The capacity is implicit: the array doubles whenever the count
	 * reaches a power of two (from 4), so no field is needed for it.
	 */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		nv = realloc(vs->rs, (n == 0 ? 4 : n * 2) * sizeof(*nv));
		if (nv == NULL)
			return -1;
		vs->rs = nv;
	}
	vs->rs[vs->n_rs++] = *rs;
	return 0;
}

int
plan_ipvs_table_add(struct plan_ipvs_table *t, const struct plan_vs *vs)
{
	if (pd_grow((void **)&t->vs, &t->cap, t->n, sizeof(*t->vs)) == -1)
		return -1;
	t->vs[t->n++] = *vs;
	return 0;
}

void
plan_ipvs_table_clear(struct plan_ipvs_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->vs[i].rs);
	free(t->vs);
	memset(t, 0, sizeof(*t));
}

/* --- ordering ------------------------------------------------------------ */

/* IPVS protocol numbers order TCP < UDP < SCTP, as ipvsadm lists them. */
static int
pd_proto_rank(uint8_t proto)
{
	switch (proto) {
	case REC_PROTO_TCP:
		return 6;
	case REC_PROTO_UDP:
		return 17;
	case REC_PROTO_SCTP:
		return 132;
	}
	return 0;
}

int
plan_vs_cmp(const struct plan_vs *a, const struct plan_vs *b)
{
	int c;

	/* fwmark services sort after address services of their family. */
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if ((a->proto == 0) != (b->proto == 0))
		return a->proto == 0 ? 1 : -1;
	if (a->proto == 0)
		return a->fwmark < b->fwmark ? -1 : a->fwmark > b->fwmark;
	c = addr_cmp(&a->addr, &b->addr);
	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return pd_proto_rank(a->proto) - pd_proto_rank(b->proto);
}

/* Key order, then the owner that wins a conflict first. */
static int
pd_vs_owner_cmp(const void *pa, const void *pb)
{
	const struct plan_vs *a = pa, *b = pb;
	int c = plan_vs_cmp(a, b);

	if (c != 0)
		return c;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	c = strcmp(a->owner_ns != NULL ? a->owner_ns : "",
	    b->owner_ns != NULL ? b->owner_ns : "");
	if (c != 0)
		return c;
	return strcmp(a->owner_name != NULL ? a->owner_name : "",
	    b->owner_name != NULL ? b->owner_name : "");
}

static int
pd_vs_qcmp(const void *pa, const void *pb)
{
	return plan_vs_cmp(pa, pb);
}

static int
pd_rs_cmp(const void *pa, const void *pb)
{
	const struct plan_rs *a = pa, *b = pb;
	int c = addr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	return (int)a->port - (int)b->port;
}

void
plan_ipvs_table_sort(struct plan_ipvs_table *t)
{
	size_t i;

	if (t->n > 1)
		qsort(t->vs, t->n, sizeof(*t->vs), pd_vs_qcmp);
	for (i = 0; i < t->n; i++)
		if (t->vs[i].n_rs > 1)
			qsort(t->vs[i].rs, t->vs[i].n_rs,
			    sizeof(struct plan_rs), pd_rs_cmp);
}

static int
pd_entry_cmp(const void *pa, const void *pb)
{
	const struct plan_set_entry *a = pa, *b = pb;
	int c = addr_cmp(&a->ip, &b->ip);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->proto != b->proto)
		return pd_proto_rank(a->proto) - pd_proto_rank(b->proto);
	c = addr_cmp(&a->ip2, &b->ip2);
	if (c != 0)
		return c;
	return (int)a->plen - (int)b->plen;
}

static int
pd_addr_qcmp(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

static int
pd_of_cmp(const void *pa, const void *pb)
{
	const struct plan_outfilter *a = pa, *b = pb;
	int c = addr_cmp(&a->ip, &b->ip);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return pd_proto_rank(a->proto) - pd_proto_rank(b->proto);
}

/* Sorts v and drops adjacent duplicates; returns the new count. */
static size_t
pd_uniq(void *v, size_t n, size_t size, int (*cmp)(const void *,
    const void *))
{
	char *base = v;
	size_t i, out;

	if (n < 2)
		return n;
	qsort(v, n, size, cmp);
	for (i = 1, out = 1; i < n; i++) {
		if (cmp(base + (out - 1) * size, base + i * size) == 0)
			continue;
		if (out != i)
			memcpy(base + out * size, base + i * size, size);
		out++;
	}
	return out;
}

/* --- node addresses ------------------------------------------------------ */

static int
pd_nodeport_match_all(const struct plan_config *c, uint8_t family)
{
	size_t i;
	int any = 0;

	for (i = 0; i < c->n_nodeport_cidrs; i++) {
		if (c->nodeport_cidrs[i].addr.family != family)
			continue;
		any = 1;
		if (prefix_is_zero(&c->nodeport_cidrs[i]))
			return 1;
	}
	/* No CIDR of this family: kube-proxy falls back to the zero CIDR. */
	return !any;
}

/*
 * The addresses NodePort virtual servers go on: every address of the
 * family (never loopback, nor IPv6 link-local when matching all), or those
 * inside --nodeport-addresses.
 */
static int
pd_nodeips(struct plan_desired *d, const struct plan_config *c)
{
	int all = pd_nodeport_match_all(c, d->family);
	size_t i, j, cap = 0;
	int in;

	if (d->nodeips_done)
		return 0;
	for (i = 0; i < c->n_node_ips; i++) {
		const struct rec_addr *a = &c->node_ips[i];

		if (a->family != d->family || addr_is_loopback(a))
			continue;
		if (all) {
			if (addr_is_linklocal6(a))
				continue;
		} else {
			for (in = 0, j = 0; j < c->n_nodeport_cidrs && !in; j++)
				in = prefix_contains(&c->nodeport_cidrs[j],
				    a);
			if (!in)
				continue;
		}
		if (pd_grow((void **)&d->nodeips, &cap, d->n_nodeips,
		    sizeof(*d->nodeips)) == -1)
			return -1;
		d->nodeips[d->n_nodeips++] = *a;
	}
	d->n_nodeips = pd_uniq(d->nodeips, d->n_nodeips, sizeof(*d->nodeips),
	    pd_addr_qcmp);
	d->nodeips_done = 1;
	return 0;
}

static int
pd_is_node_ip(const struct plan_config *c, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < c->n_node_ips; i++)
		if (addr_eq(&c->node_ips[i], a))
			return 1;
	return 0;
}

/*
 * kube-proxy's node IP of the family (only used for the source-range
 * "allow from node" test): the first configured address of the family,
 * else the loopback address it falls back to.
 */
static struct rec_addr
pd_primary_ip(const struct plan_config *c, uint8_t family)
{
	struct rec_addr a;
	size_t i;

	for (i = 0; i < c->n_node_ips; i++)
		if (c->node_ips[i].family == family &&
		    !addr_is_loopback(&c->node_ips[i]))
			return c->node_ips[i];
	memset(&a, 0, sizeof(a));
	a.family = family;
	if (family == REC_FAMILY_IPV4) {
		a.addr[0] = 127;
		a.addr[3] = 1;
	} else
		a.addr[15] = 1;
	return a;
}

/* --- endpoint selection (pkg/proxy/topology.go) --------------------------- */

static int
pd_has_hint(const struct plan_ep *ep, int nodes, const char *want)
{
	int i, from = nodes ? ep->n_zone_hints : 0;
	int to = nodes ? ep->n_zone_hints + ep->n_node_hints : ep->n_zone_hints;

	for (i = from; i < to; i++)
		if (strcmp(ep->hints[i], want) == 0)
			return 1;
	return 0;
}

enum pd_topo { PD_TOPO_NONE, PD_TOPO_ZONE, PD_TOPO_NODE };

static enum pd_topo
pd_topology(const struct plan_ep *eps, size_t n, const char *node,
    const char *zone)
{
	int all_node = 1, has_node = 0, all_zone = 1, has_zone = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(eps[i].cond & REC_EP_READY))
			continue;
		if (eps[i].n_node_hints == 0)
			all_node = 0;
		else if (pd_has_hint(&eps[i], 1, node))
			has_node = 1;
		if (eps[i].n_zone_hints == 0)
			all_zone = 0;
		else if (pd_has_hint(&eps[i], 0, zone))
			has_zone = 1;
	}
	if (all_node && has_node)
		return PD_TOPO_NODE;
	if (all_zone && has_zone && zone[0] != '\0')
		return PD_TOPO_ZONE;
	return PD_TOPO_NONE;
}

/* Selection marks: which endpoints each VS kind gets. */
#define PD_SEL_CLUSTER	0x01
#define PD_SEL_LOCAL	0x02

struct pd_sel {
	uint8_t		*mark;		/* per endpoint */
	size_t		 n_cluster;
	size_t		 n_local;
};

static void
pd_categorize(const struct plan_model *m, const struct plan_ep *eps,
    size_t n, int uses_cluster, int uses_local, struct pd_sel *sel)
{
	const char *node = plan_model_node_name(m);
	const char *zone = plan_model_zone(m);
	enum pd_topo topo;
	int local_ready = 0, local_st = 0, ok;
	size_t i;

	memset(sel->mark, 0, n);
	sel->n_cluster = sel->n_local = 0;
	if (uses_cluster) {
		topo = pd_topology(eps, n, node, zone);
		for (i = 0; i < n; i++) {
			if (!(eps[i].cond & REC_EP_READY))
				continue;
			ok = topo == PD_TOPO_NONE ||
			    (topo == PD_TOPO_ZONE &&
			    pd_has_hint(&eps[i], 0, zone)) ||
			    (topo == PD_TOPO_NODE &&
			    pd_has_hint(&eps[i], 1, node));
			if (ok) {
				sel->mark[i] |= PD_SEL_CLUSTER;
				sel->n_cluster++;
			}
		}
		/* Nothing ready: fall back to serving terminating ones. */
		if (sel->n_cluster == 0)
			for (i = 0; i < n; i++)
				if ((eps[i].cond & REC_EP_SERVING) &&
				    (eps[i].cond & REC_EP_TERMINATING)) {
					sel->mark[i] |= PD_SEL_CLUSTER;
					sel->n_cluster++;
				}
	}
	if (!uses_local)
		return;
	for (i = 0; i < n; i++) {
		if (!eps[i].local)
			continue;
		if (eps[i].cond & REC_EP_READY)
			local_ready = 1;
		else if ((eps[i].cond & REC_EP_SERVING) &&
		    (eps[i].cond & REC_EP_TERMINATING))
			local_st = 1;
	}
	for (i = 0; i < n; i++) {
		if (!eps[i].local)
			continue;
		if (local_ready ? (eps[i].cond & REC_EP_READY) != 0 :
		    local_st && (eps[i].cond & REC_EP_SERVING) &&
		    (eps[i].cond & REC_EP_TERMINATING)) {
			sel->mark[i] |= PD_SEL_LOCAL;
			sel->n_local++;
		}
	}
}

/* --- one service port ---------------------------------------------------- */

struct pd_port {
	const struct plan_svc *svc;
	const struct plan_svc_port *sp;
	const struct rec_addr *cip;
	int		 etp_local;
	int		 itp_local;
	const struct plan_ep *eps;
	size_t		 n_eps;
	struct pd_sel	 sel;
};

static void
pd_vs_base(const struct plan_config *c, const struct pd_port *p,
    const struct rec_addr *addr, uint16_t port, struct plan_vs *vs)
{
	memset(vs, 0, sizeof(*vs));
	vs->addr = *addr;
	vs->port = port;
	vs->proto = p->sp->proto;
	memcpy(vs->sched, c->scheduler[0] != '\0' ? c->scheduler : "rr",
	    sizeof(vs->sched));
	vs->sched[sizeof(vs->sched) - 1] = '\0';
	if (p->svc->affinity == REC_AFFINITY_CLIENTIP) {
		vs->flags |= PLAN_VS_F_PERSISTENT;
		vs->timeout = p->svc->affinity_timeout;
	}
	if (strcmp(vs->sched, "mh") == 0)
		vs->flags |= PLAN_VS_F_SCHED2;
	vs->netmask = addr->family == REC_FAMILY_IPV4 ? 0xffffffffu : 128;
	vs->created = p->svc->created;
	vs->owner_ns = p->svc->ns;
	vs->owner_name = p->svc->name;
}

/*
 * Adds a VS whose real servers follow kube-proxy's IPVS rule: with the
 * "only local" flag, local endpoints if there are any, else the cluster
 * endpoints (upstream PR 97081); without it, the cluster endpoints.
 */
static int
pd_vs_emit(struct plan_desired *d, const struct pd_port *p,
    struct plan_vs *vs, int only_local)
{
	uint8_t want = PD_SEL_CLUSTER;
	struct plan_rs rs;
	size_t i;

	if (only_local && p->sel.n_local > 0)
		want = PD_SEL_LOCAL;
	for (i = 0; i < p->n_eps; i++) {
		if (!(p->sel.mark[i] & want))
			continue;
		memset(&rs, 0, sizeof(rs));
		rs.addr = p->eps[i].addr;
		rs.port = p->eps[i].port;
		rs.fwd = PLAN_FWD_MASQ;
		rs.weight = 1;
		if (plan_vs_add_rs(vs, &rs) == -1)
			goto fail;
	}
	if (plan_ipvs_table_add(&d->ipvs, vs) == -1)
		goto fail;
	return 0;
fail:
	free(vs->rs);
	vs->rs = NULL;
	return -1;
}

/*
 * A VIP (clusterIP, externalIP, LB ingress IP) that would capture traffic
 * that is not the Service's: an address in the deny-list, or one of the
 * node's own addresses (kube-proxy makes a VS there without binding it,
 * which takes over the host's own service on that port).  Logged and
 * counted; 1 when the VIP must be left out.
 */
static int
pd_vip_denied(const struct plan_config *c, const struct pd_port *p,
    const char *what, const struct rec_addr *ip)
{
	char buf[INET6_ADDRSTRLEN];
	const char *why = plan_addr_denied(ip);

	if (why != NULL) {
		pd_neut(c->neutral, PLAN_NEUT_VIP_DENIED, p->svc,
		    "%s %s (port %u) is %s", what,
		    addr_fmt(ip, buf, sizeof(buf)), p->sp->port, why);
		return 1;
	}
	if (pd_is_node_ip(c, ip)) {
		pd_neut(c->neutral, PLAN_NEUT_VIP_NODE, p->svc,
		    "%s %s (port %u) is an address of this node", what,
		    addr_fmt(ip, buf, sizeof(buf)), p->sp->port);
		return 1;
	}
	return 0;
}

static int
pd_external_ips(struct plan_desired *d, const struct plan_config *c,
    struct pd_port *p)
{
	const struct plan_svc *s = p->svc;
	struct plan_vs vs;
	uint16_t i;

	for (i = 0; i < s->n_external_ips; i++) {
		const struct rec_addr *ip = &s->external_ips[i];

		if (ip->family != d->family ||
		    pd_vip_denied(c, p, "externalIP", ip))
			continue;
		if (pd_set_ipport(d, p->etp_local ?
		    PLAN_SET_EXTERNAL_IP_LOCAL : PLAN_SET_EXTERNAL_IP, ip,
		    p->sp->proto, p->sp->port) == -1)
			return -1;
		pd_vs_base(c, p, ip, p->sp->port, &vs);
		if (pd_vs_emit(d, p, &vs, p->etp_local) == -1)
			return -1;
		if (pd_addr_add(d, ip) == -1)
			return -1;
	}
	return 0;
}

static int
pd_lb_source_ranges(struct plan_desired *d, const struct plan_config *c,
    const struct pd_port *p, const struct rec_addr *vip)
{
	const struct plan_svc *s = p->svc;
	struct plan_set_entry e;
	struct plan_outfilter of;
	struct rec_addr node = pd_primary_ip(c, d->family);
	int any = 0, from_node = 0;
	uint16_t i;

	for (i = 0; i < s->n_source_ranges; i++)
		if (s->source_ranges[i].addr.family == d->family)
			any = 1;
	if (!any)
		return 0;
	if (pd_set_ipport(d, PLAN_SET_LOAD_BALANCER_FW, vip, p->sp->proto,
	    p->sp->port) == -1)
		return -1;
	for (i = 0; i < s->n_source_ranges; i++) {
		const struct rec_prefix *r = &s->source_ranges[i];

		if (r->addr.family != d->family)
			continue;
		memset(&e, 0, sizeof(e));
		e.ip = *vip;
		e.proto = p->sp->proto;
		e.port = p->sp->port;
		e.ip2 = r->addr;
		e.plen = r->plen;
		if (pd_set_add(d, PLAN_SET_LOAD_BALANCER_SOURCE_CIDR, &e) == -1)
			return -1;
		if (prefix_contains(r, &node))
			from_node = 1;
	}
	if (from_node) {
		memset(&e, 0, sizeof(e));
		e.ip = *vip;
		e.proto = p->sp->proto;
		e.port = p->sp->port;
		e.ip2 = *vip;
		return pd_set_add(d, PLAN_SET_LOAD_BALANCER_SOURCE_IP, &e);
	}
	/* [1.29+] keep node processes out of a VIP they may not reach. */
	memset(&of, 0, sizeof(of));
	of.ip = *vip;
	of.proto = p->sp->proto;
	of.port = p->sp->port;
	if (pd_grow((void **)&d->outfilter, &d->cap_outfilter, d->n_outfilter,
	    sizeof(*d->outfilter)) == -1)
		return -1;
	d->outfilter[d->n_outfilter++] = of;
	return 0;
}

static int
pd_lb_vips(struct plan_desired *d, const struct plan_config *c,
    struct pd_port *p)
{
	const struct plan_svc *s = p->svc;
	struct plan_vs vs;
	uint16_t i;

	for (i = 0; i < s->n_lb_ingress; i++) {
		const struct rec_addr *ip = &s->lb_ingress[i].ip;

		if (ip->family != d->family ||
		    s->lb_ingress[i].ipmode != REC_IPMODE_VIP ||
		    pd_vip_denied(c, p, "load-balancer IP", ip))
			continue;
		if (pd_set_ipport(d, PLAN_SET_LOAD_BALANCER, ip, p->sp->proto,
		    p->sp->port) == -1)
			return -1;
		if (p->etp_local && pd_set_ipport(d,
		    PLAN_SET_LOAD_BALANCER_LOCAL, ip, p->sp->proto,
		    p->sp->port) == -1)
			return -1;
		if (pd_lb_source_ranges(d, c, p, ip) == -1)
			return -1;
		pd_vs_base(c, p, ip, p->sp->port, &vs);
		if (pd_vs_emit(d, p, &vs, p->etp_local) == -1)
			return -1;
		if (pd_addr_add(d, ip) == -1)
			return -1;
	}
	return 0;
}

static int
pd_node_port(struct plan_desired *d, const struct plan_config *c,
    struct pd_port *p)
{
	enum plan_set set = PLAN_SET_NODE_PORT_TCP, lset;
	const struct plan_svc_port *sp = p->sp;
	struct plan_vs vs;
	size_t i;

	switch (sp->proto) {
	case REC_PROTO_TCP:
		set = PLAN_SET_NODE_PORT_TCP;
		break;
	case REC_PROTO_UDP:
		set = PLAN_SET_NODE_PORT_UDP;
		break;
	case REC_PROTO_SCTP:
		set = PLAN_SET_NODE_PORT_SCTP_HASH;
		break;
	}
	lset = set + 1;		/* each LOCAL set follows its set */
	if (set == PLAN_SET_NODE_PORT_SCTP_HASH) {
		/* hash:ip,port: one entry per node address. */
		for (i = 0; i < d->n_nodeips; i++) {
			if (pd_set_ipport(d, set, &d->nodeips[i], sp->proto,
			    sp->node_port) == -1)
				return -1;
			if (p->etp_local && pd_set_ipport(d, lset,
			    &d->nodeips[i], sp->proto, sp->node_port) == -1)
				return -1;
		}
	} else {
		if (pd_set_ipport(d, set, NULL, sp->proto, sp->node_port) == -1)
			return -1;
		if (p->etp_local && pd_set_ipport(d, lset, NULL, sp->proto,
		    sp->node_port) == -1)
			return -1;
	}
	for (i = 0; i < d->n_nodeips; i++) {
		pd_vs_base(c, p, &d->nodeips[i], sp->node_port, &vs);
		if (pd_vs_emit(d, p, &vs, p->etp_local) == -1)
			return -1;
	}
	return 0;
}

/*
 * Drops endpoints at denied addresses (loopback, metadata, ...: an
 * EndpointSlice may name any address, CVE-2021-25740); returns the new
 * count.  The node's own addresses stay: host-network pods use them.
 */
static size_t
pd_eps_filter(const struct plan_config *c, const struct plan_svc *s,
    struct plan_ep *eps, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	const char *why;
	size_t i, out;

	for (i = 0, out = 0; i < n; i++) {
		if ((why = plan_addr_denied(&eps[i].addr)) != NULL) {
			pd_neut(c->neutral, PLAN_NEUT_ENDPOINT_DENIED, s,
			    "endpoint %s port %u is %s",
			    addr_fmt(&eps[i].addr, buf, sizeof(buf)),
			    eps[i].port, why);
			continue;
		}
		if (out != i)
			eps[out] = eps[i];
		out++;
	}
	return out;
}

int
plan_desired_svcport(struct plan_desired *d, const struct plan_config *c,
    const struct plan_model *m, const struct plan_svc *s, size_t idx)
{
	struct pd_port p;
	struct plan_vs vs;
	struct plan_set_entry e;
	uint8_t mark_stack[64];
	size_t i, n_ext = 0, n_vip = 0;
	int n, ext_type, externally, uses_cluster, uses_local, rc = -1;
	uint16_t j, hc = 0;

	memset(&p, 0, sizeof(p));
	d->neutral = c->neutral;
	if (idx >= s->n_ports)
		return 0;
	p.svc = s;
	p.sp = &s->ports[idx];
	/* No ClusterIP of this family: the proxier ignores the Service. */
	for (i = 0; i < s->n_cluster_ips; i++)
		if (s->cluster_ips[i].family == d->family)
			p.cip = &s->cluster_ips[i];
	if (p.cip == NULL || p.sp->port == 0)
		return 0;
	/* A denied ClusterIP takes the whole service port with it. */
	if (pd_vip_denied(c, &p, "clusterIP", p.cip))
		return 0;

	for (j = 0; j < s->n_external_ips; j++)
		if (s->external_ips[j].family == d->family)
			n_ext++;
	for (j = 0; j < s->n_lb_ingress; j++)
		if (s->lb_ingress[j].ip.family == d->family &&
		    s->lb_ingress[j].ipmode == REC_IPMODE_VIP)
			n_vip++;
	/* apiservice.ExternallyAccessible: by type, all families. */
	ext_type = s->type == REC_SVC_NODEPORT ||
	    s->type == REC_SVC_LOADBALANCER ||
	    (s->type == REC_SVC_CLUSTERIP && s->n_external_ips > 0);
	p.etp_local = (s->flags & REC_SVC_ETP_LOCAL) && ext_type;
	p.itp_local = (s->flags & REC_SVC_ITP_LOCAL) != 0;
	externally = p.sp->node_port != 0 || n_vip > 0 || n_ext > 0;
	uses_cluster = !p.itp_local || externally;
	uses_local = p.itp_local || (p.etp_local && externally);
	if (s->type == REC_SVC_LOADBALANCER && p.etp_local)
		hc = s->hc_node_port;
	if (hc != 0 && (hc < c->nodeport_lo || hc > c->nodeport_hi)) {
		pd_neut(c->neutral, PLAN_NEUT_NODEPORT_RANGE, s,
		    "healthCheckNodePort %u is outside %u-%u", hc,
		    c->nodeport_lo, c->nodeport_hi);
		hc = 0;
	}

	n = plan_model_endpoints(m, s, p.sp, d->family, &d->epbuf);
	if (n < 0)
		return -1;
	n = (int)pd_eps_filter(c, s, d->epbuf.v, (size_t)n);
	p.eps = d->epbuf.v;
	p.n_eps = (size_t)n;
	p.sel.mark = p.n_eps <= sizeof(mark_stack) ? mark_stack :
	    malloc(p.n_eps);
	if (p.sel.mark == NULL)
		return -1;
	pd_categorize(m, p.eps, p.n_eps, uses_cluster, uses_local, &p.sel);

	/* Hairpin: every local endpoint, whatever its conditions. */
	for (i = 0; i < p.n_eps; i++) {
		if (!p.eps[i].local)
			continue;
		memset(&e, 0, sizeof(e));
		e.ip = p.eps[i].addr;
		e.proto = p.sp->proto;
		e.port = p.eps[i].port;
		e.ip2 = p.eps[i].addr;
		if (pd_set_add(d, PLAN_SET_LOOP_BACK, &e) == -1)
			goto out;
	}
	if (pd_set_ipport(d, PLAN_SET_CLUSTER_IP, p.cip, p.sp->proto,
	    p.sp->port) == -1)
		goto out;
	pd_vs_base(c, &p, p.cip, p.sp->port, &vs);
	if (pd_vs_emit(d, &p, &vs, p.itp_local) == -1 ||
	    pd_addr_add(d, p.cip) == -1)
		goto out;
	if (pd_external_ips(d, c, &p) == -1 || pd_lb_vips(d, c, &p) == -1)
		goto out;
	if (p.sp->node_port != 0 && (p.sp->node_port < c->nodeport_lo ||
	    p.sp->node_port > c->nodeport_hi))
		pd_neut(c->neutral, PLAN_NEUT_NODEPORT_RANGE, s,
		    "nodePort %u (port %u) is outside %u-%u", p.sp->node_port,
		    p.sp->port, c->nodeport_lo, c->nodeport_hi);
	else if (p.sp->node_port != 0) {
		if (pd_nodeips(d, c) == -1)
			goto out;
		/*
		 * No node address: kube-proxy skips the rest of this service
		 * port, the health-check port included.
		 */
		if (d->n_nodeips == 0) {
			rc = 0;
			goto out;
		}
		if (pd_node_port(d, c, &p) == -1)
			goto out;
	}
	if (hc != 0 && pd_set_ipport(d, PLAN_SET_HEALTH_CHECK_NODE_PORT, NULL,
	    REC_PROTO_TCP, hc) == -1)
		goto out;
	rc = 0;
out:
	if (p.sel.mark != mark_stack)
		free(p.sel.mark);
	return rc;
}

/* --- the whole model ----------------------------------------------------- */

struct pd_build {
	struct plan_desired *d;
	const struct plan_config *c;
	const struct plan_model *m;
	int		 rc;
};

static void
pd_build_svc(const struct plan_svc *s, void *arg)
{
	struct pd_build *b = arg;
	size_t i;

	for (i = 0; i < s->n_ports && b->rc == 0; i++)
		if (plan_desired_svcport(b->d, b->c, b->m, s, i) == -1)
			b->rc = -1;
}

int
plan_desired_build(struct plan_desired *d, const struct plan_config *c,
    const struct plan_model *m)
{
	struct pd_build b = { d, c, m, 0 };

	plan_model_foreach_svc(m, pd_build_svc, &b);
	if (b.rc == -1)
		return -1;
	return plan_desired_finish(d);
}

/*
 * A virtual server two Services claim: the winner (sorted first) keeps
 * it.  The same Service claiming it twice (an externalIP equal to its own
 * ClusterIP) is no conflict.
 */
static void
pd_conflict(struct plan_desired *d, const struct plan_vs *win,
    const struct plan_vs *lose)
{
	char buf[INET6_ADDRSTRLEN];
	const char *wns = win->owner_ns != NULL ? win->owner_ns : "?";
	const char *wn = win->owner_name != NULL ? win->owner_name : "?";
	const char *lns = lose->owner_ns != NULL ? lose->owner_ns : "?";
	const char *ln = lose->owner_name != NULL ? lose->owner_name : "?";

	if (strcmp(wns, lns) == 0 && strcmp(wn, ln) == 0)
		return;
	if (d->neutral != NULL)
		d->neutral->n[PLAN_NEUT_CONFLICT]++;
	log_warnx("service %s/%s: virtual server %s %s:%u is also claimed by "
	    "service %s/%s, which is older or sorts first: left out (%s)",
	    lns, ln, lose->proto == REC_PROTO_UDP ? "UDP" :
	    lose->proto == REC_PROTO_SCTP ? "SCTP" : "TCP",
	    addr_fmt(&lose->addr, buf, sizeof(buf)), lose->port, wns, wn,
	    plan_neut_names[PLAN_NEUT_CONFLICT]);
}

int
plan_desired_finish(struct plan_desired *d)
{
	struct plan_ipvs_table *t = &d->ipvs;
	struct plan_set_entry e;
	size_t i, out;

	/* Conflicts: keep the oldest owner of each virtual server. */
	if (t->n > 1)
		qsort(t->vs, t->n, sizeof(*t->vs), pd_vs_owner_cmp);
	for (i = 0, out = 0; i < t->n; i++) {
		if (out > 0 && plan_vs_cmp(&t->vs[out - 1], &t->vs[i]) == 0) {
			pd_conflict(d, &t->vs[out - 1], &t->vs[i]);
			free(t->vs[i].rs);
			continue;
		}
		t->vs[out++] = t->vs[i];
	}
	t->n = out;
	for (i = 0; i < t->n; i++)
		t->vs[i].n_rs = pd_uniq(t->vs[i].rs, t->vs[i].n_rs,
		    sizeof(struct plan_rs), pd_rs_cmp);

	d->n_addrs = pd_uniq(d->addrs, d->n_addrs, sizeof(*d->addrs),
	    pd_addr_qcmp);
	d->sets[PLAN_SET_IPVS_IPS].n = 0;
	for (i = 0; i < d->n_addrs; i++) {
		memset(&e, 0, sizeof(e));
		e.ip = d->addrs[i];
		if (pd_set_add(d, PLAN_SET_IPVS_IPS, &e) == -1)
			return -1;
	}
	for (i = 0; i < PLAN_SET_COUNT; i++)
		d->sets[i].n = pd_uniq(d->sets[i].v, d->sets[i].n,
		    sizeof(struct plan_set_entry), pd_entry_cmp);
	d->n_outfilter = pd_uniq(d->outfilter, d->n_outfilter,
	    sizeof(*d->outfilter), pd_of_cmp);
	return 0;
}

/* --- one sync from a current table --------------------------------------- */

static int
pd_vs_copy(struct plan_ipvs_table *out, const struct plan_vs *vs)
{
	struct plan_vs c = *vs;
	size_t cap = 4;

	c.rs = NULL;
	if (vs->n_rs > 0) {
		/* Keep plan_vs_add_rs()'s implicit power-of-two capacity. */
		while (cap < vs->n_rs)
			cap *= 2;
		c.rs = calloc(cap, sizeof(*c.rs));
		if (c.rs == NULL)
			return -1;
		memcpy(c.rs, vs->rs, vs->n_rs * sizeof(*c.rs));
	}
	if (plan_ipvs_table_add(out, &c) == -1) {
		free(c.rs);
		return -1;
	}
	return 0;
}

static int
pd_excluded(const struct plan_config *c, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < c->n_exclude_cidrs; i++)
		if (prefix_contains(&c->exclude_cidrs[i], a))
			return 1;
	return 0;
}

int
plan_ipvs_after_sync(const struct plan_desired *const *d, size_t nd,
    const struct plan_ipvs_table *cur, const struct plan_config *c,
    struct plan_ipvs_table *out)
{
	const struct plan_desired *owner;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < nd; k++)
		for (i = 0; i < d[k]->ipvs.n; i++)
			if (pd_vs_copy(out, &d[k]->ipvs.vs[i]) == -1)
				goto fail;
	for (i = 0; cur != NULL && i < cur->n; i++) {
		const struct plan_vs *vs = &cur->vs[i];

		owner = NULL;
		for (k = 0; k < nd; k++)
			if (d[k]->family == vs->addr.family)
				owner = d[k];
		/* Another family's proxier is not running: not ours. */
		if (owner == NULL) {
			if (pd_vs_copy(out, vs) == -1)
				goto fail;
			continue;
		}
		/* plan_desired_finish() left the table in key order. */
		if (owner->ipvs.n > 0 && bsearch(vs, owner->ipvs.vs,
		    owner->ipvs.n, sizeof(*vs), pd_vs_qcmp) != NULL)
			continue;
		/* Stale: deleted unless inside excludeCIDRs. */
		if (pd_excluded(c, &vs->addr) && pd_vs_copy(out, vs) == -1)
			goto fail;
	}
	plan_ipvs_table_sort(out);
	return 0;
fail:
	plan_ipvs_table_clear(out);
	return -1;
}
