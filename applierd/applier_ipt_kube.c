/*
 * applier_ipt_kube: kube-proxy's IPVS-mode rules (behaviour spec §6) as
 * templates.  The planner chooses only the parameters in struct
 * ipt_kube_params (mark bit, local-traffic detector, --random-fully,
 * masquerade-all, which sets are non-empty); chain names, set names,
 * comments and rule shapes are fixed here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "applierd/applier_ipt.h"

static const char *const nat_chains[] = {
	"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT",
	"KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ", NULL,
};

static const char *const filter_chains[] = {
	"KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL",
	"KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER",
	"KUBE-IPVS-OUT-FILTER", NULL,
};

static const struct {
	const char	*name;		/* without the "KUBE-" prefix */
	const char	*comment;
} kube_sets[IPT_KS_COUNT] = {
	[IPT_KS_LOOP_BACK] = { "LOOP-BACK",
	    "Kubernetes endpoints dst ip:port, source ip for solving hairpin "
	    "purpose" },
	[IPT_KS_CLUSTER_IP] = { "CLUSTER-IP",
	    "Kubernetes service cluster ip + port for masquerade purpose" },
	[IPT_KS_EXTERNAL_IP] = { "EXTERNAL-IP",
	    "Kubernetes service external ip + port for masquerade and filter "
	    "purpose" },
	[IPT_KS_EXTERNAL_IP_LOCAL] = { "EXTERNAL-IP-LOCAL",
	    "Kubernetes service external ip + port with "
	    "externalTrafficPolicy=local" },
	[IPT_KS_LOAD_BALANCER] = { "LOAD-BALANCER",
	    "Kubernetes service lb portal" },
	[IPT_KS_LOAD_BALANCER_LOCAL] = { "LOAD-BALANCER-LOCAL",
	    "Kubernetes service load balancer ip + port with "
	    "externalTrafficPolicy=local" },
	[IPT_KS_LOAD_BALANCER_FW] = { "LOAD-BALANCER-FW",
	    "Kubernetes service load balancer ip + port for load balancer "
	    "with sourceRange" },
	[IPT_KS_LOAD_BALANCER_SOURCE_IP] = { "LOAD-BALANCER-SOURCE-IP",
	    "Kubernetes service load balancer ip + port + source IP for "
	    "packet filter purpose" },
	[IPT_KS_LOAD_BALANCER_SOURCE_CIDR] = { "LOAD-BALANCER-SOURCE-CIDR",
	    "Kubernetes service load balancer ip + port + source cidr for "
	    "packet filter purpose" },
	[IPT_KS_NODE_PORT_TCP] = { "NODE-PORT-TCP",
	    "Kubernetes nodeport TCP port for masquerade purpose" },
	[IPT_KS_NODE_PORT_LOCAL_TCP] = { "NODE-PORT-LOCAL-TCP",
	    "Kubernetes nodeport TCP port with externalTrafficPolicy=local" },
	[IPT_KS_NODE_PORT_UDP] = { "NODE-PORT-UDP",
	    "Kubernetes nodeport UDP port for masquerade purpose" },
	[IPT_KS_NODE_PORT_LOCAL_UDP] = { "NODE-PORT-LOCAL-UDP",
	    "Kubernetes nodeport UDP port with externalTrafficPolicy=local" },
	[IPT_KS_NODE_PORT_SCTP_HASH] = { "NODE-PORT-SCTP-HASH",
	    "Kubernetes nodeport SCTP port for masquerade purpose with type "
	    "'hash ip:port'" },
	[IPT_KS_NODE_PORT_LOCAL_SCTP_HASH] = { "NODE-PORT-LOCAL-SCTP-HASH",
	    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local "
	    "with type 'hash ip:port'" },
	[IPT_KS_HEALTH_CHECK_NODE_PORT] = { "HEALTH-CHECK-NODE-PORT",
	    "Kubernetes health check node port" },
	[IPT_KS_IPVS_IPS] = { "IPVS-IPS", "Addresses on the ipvs interface" },
};

const char *const *
ipt_kube_chains(enum ipt_tbl t)
{
	return t == IPT_TABLE_NAT ? nat_chains : filter_chains;
}

const char *
ipt_kube_set_name(int family, enum ipt_kube_set s, char *buf, size_t len)
{
	char full[64];

	if (s >= IPT_KS_COUNT || len == 0)
		return NULL;
	snprintf(full, sizeof(full), "%s%s",
	    family == AF_INET6 ? "KUBE-6-" : "KUBE-", kube_sets[s].name);
	/* ipset names are at most 31 characters; kube-proxy truncates. */
	full[IPT_SETNAME_MAX - 1] = '\0';
	snprintf(buf, len, "%s", full);
	return buf;
}

/* Rule-building context: an output array that refuses overflow. */
struct rules {
	const struct ipt_kube_params	*p;
	struct ipt_rule			*v;
	size_t				 n, max;
	int				 over;
};

static struct ipt_rule *
rule_new(struct rules *rs)
{
	struct ipt_rule *r;

	if (rs->n >= rs->max) {
		rs->over = 1;
		return NULL;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static int
nonempty(const struct rules *rs, enum ipt_kube_set s)
{
	return (rs->p->nonempty & (1U << s)) != 0;
}

static void
r_comment(struct ipt_rule *r, const char *c)
{
	snprintf(r->comment, sizeof(r->comment), "%s", c);
}

/* -m set --match-set <set> <dirs>; dirs like "dst,dst,src". */
static void
r_set(const struct rules *rs, struct ipt_rule *r, enum ipt_kube_set s,
    const char *dirs)
{
	const char *d;
	unsigned int dim = 0;

	ipt_kube_set_name(rs->p->family, s, r->set_name, sizeof(r->set_name));
	for (d = dirs; *d != '\0'; d += strcspn(d, ","), d += *d == ',') {
		if (strncmp(d, "src", 3) == 0)
			r->set_src |= (uint8_t)(1U << dim);
		dim++;
	}
	r->set_dim = (uint8_t)dim;
}

static void
r_jump(struct ipt_rule *r, const char *chain)
{
	r->target = IPT_TGT_JUMP;
	snprintf(r->jump, sizeof(r->jump), "%s", chain);
}

/* -m comment --comment <set's comment> -m set ... -j <target/chain> */
static struct ipt_rule *
set_rule(struct rules *rs, enum ipt_kube_set s, const char *dirs,
    uint8_t proto, enum ipt_tgt tgt, const char *chain)
{
	struct ipt_rule *r;

	if ((r = rule_new(rs)) == NULL)
		return NULL;
	r->proto = proto;
	r_comment(r, kube_sets[s].comment);
	r_set(rs, r, s, dirs);
	if (tgt == IPT_TGT_JUMP)
		r_jump(r, chain);
	else
		r->target = tgt;
	return r;
}

static uint32_t
masq_mark(const struct rules *rs)
{
	return 1U << (rs->p->masq_bit ? rs->p->masq_bit : 14);
}

static void
nat_services(struct rules *rs)
{
	const struct ipt_kube_params *p = rs->p;
	struct ipt_rule *r;
	enum ipt_kube_set ext[2] = { IPT_KS_EXTERNAL_IP,
	    IPT_KS_EXTERNAL_IP_LOCAL };
	size_t i;

	/* -A KUBE-SERVICES -s LO -j RETURN */
	if ((r = rule_new(rs)) == NULL)
		return;
	r->src_set = 1;
	if (p->family == AF_INET6) {
		r->src[15] = 1;
		r->src_plen = 128;
	} else {
		r->src[0] = 127;
		r->src_plen = 8;
	}
	r->target = IPT_TGT_RETURN;
	if (nonempty(rs, IPT_KS_LOAD_BALANCER))
		set_rule(rs, IPT_KS_LOAD_BALANCER, "dst,dst", 0, IPT_TGT_JUMP,
		    "KUBE-LOAD-BALANCER");
	if (nonempty(rs, IPT_KS_CLUSTER_IP)) {
		if (p->masquerade_all)
			set_rule(rs, IPT_KS_CLUSTER_IP, "dst,dst", 0,
			    IPT_TGT_JUMP, "KUBE-MARK-MASQ");
		else if (p->local_mode == IPT_LOCAL_NONE)
			set_rule(rs, IPT_KS_CLUSTER_IP, "src,dst", 0,
			    IPT_TGT_JUMP, "KUBE-MARK-MASQ");
		else if ((r = set_rule(rs, IPT_KS_CLUSTER_IP, "dst,dst", 0,
		    IPT_TGT_JUMP, "KUBE-MARK-MASQ")) != NULL) {
			if (p->local_mode == IPT_LOCAL_CIDR) {
				r->src_set = r->src_neg = 1;
				memcpy(r->src, p->local_cidr, 16);
				r->src_plen = p->local_plen;
			} else {
				snprintf(r->in_iface, sizeof(r->in_iface),
				    "%s", p->local_iface);
				r->in_iface_neg = 1;
			}
		}
	}
	for (i = 0; i < 2; i++) {
		if (!nonempty(rs, ext[i]))
			continue;
		if (ext[i] == IPT_KS_EXTERNAL_IP)
			set_rule(rs, ext[i], "dst,dst", 0, IPT_TGT_JUMP,
			    "KUBE-MARK-MASQ");
		if ((r = set_rule(rs, ext[i], "dst,dst", 0, IPT_TGT_ACCEPT,
		    NULL)) != NULL) {
			r->physdev_not_in = 1;
			r->src_type = IPT_ADDRTYPE_LOCAL;
			r->src_type_neg = 1;
		}
		if ((r = set_rule(rs, ext[i], "dst,dst", 0, IPT_TGT_ACCEPT,
		    NULL)) != NULL)
			r->dst_type = IPT_ADDRTYPE_LOCAL;
	}
	if ((r = rule_new(rs)) != NULL) {
		r->dst_type = IPT_ADDRTYPE_LOCAL;
		r_jump(r, "KUBE-NODE-PORT");
	}
	if (nonempty(rs, IPT_KS_CLUSTER_IP) &&
	    (r = rule_new(rs)) != NULL) {
		r_set(rs, r, IPT_KS_CLUSTER_IP, "dst,dst");
		r->target = IPT_TGT_ACCEPT;
	}
	if (nonempty(rs, IPT_KS_LOAD_BALANCER) &&
	    (r = rule_new(rs)) != NULL) {
		r_set(rs, r, IPT_KS_LOAD_BALANCER, "dst,dst");
		r->target = IPT_TGT_ACCEPT;
	}
}

static void
nat_postrouting(struct rules *rs)
{
	struct ipt_rule *r;

	if (nonempty(rs, IPT_KS_LOOP_BACK))
		set_rule(rs, IPT_KS_LOOP_BACK, "dst,dst,src", 0,
		    IPT_TGT_MASQUERADE, NULL);
	if ((r = rule_new(rs)) != NULL) {
		r->mark_set = r->mark_neg = 1;
		r->mark = r->mark_mask = masq_mark(rs);
		r->target = IPT_TGT_RETURN;
	}
	if ((r = rule_new(rs)) != NULL) {
		r->target = IPT_TGT_MARK_XOR;
		r->tmark = masq_mark(rs);
	}
	if ((r = rule_new(rs)) != NULL) {
		r_comment(r, "kubernetes service traffic requiring SNAT");
		r->target = IPT_TGT_MASQUERADE;
		r->random_fully = rs->p->random_fully;
	}
}

static void
nat_node_port(struct rules *rs)
{
	static const struct {
		enum ipt_kube_set	 local, all;
		uint8_t			 proto;
		const char		*dirs;
	} np[] = {
		{ IPT_KS_NODE_PORT_LOCAL_TCP, IPT_KS_NODE_PORT_TCP,
		    IPPROTO_TCP, "dst" },
		{ IPT_KS_NODE_PORT_LOCAL_UDP, IPT_KS_NODE_PORT_UDP,
		    IPPROTO_UDP, "dst" },
		{ IPT_KS_NODE_PORT_LOCAL_SCTP_HASH,
		    IPT_KS_NODE_PORT_SCTP_HASH, IPPROTO_SCTP, "dst,dst" },
	};
	size_t i;

	for (i = 0; i < sizeof(np) / sizeof(np[0]); i++) {
		if (nonempty(rs, np[i].local))
			set_rule(rs, np[i].local, np[i].dirs, np[i].proto,
			    IPT_TGT_RETURN, NULL);
		if (nonempty(rs, np[i].all))
			set_rule(rs, np[i].all, np[i].dirs, np[i].proto,
			    IPT_TGT_JUMP, "KUBE-MARK-MASQ");
	}
}

static void
nat_load_balancer(struct rules *rs)
{
	struct ipt_rule *r;

	if (nonempty(rs, IPT_KS_LOAD_BALANCER_LOCAL))
		set_rule(rs, IPT_KS_LOAD_BALANCER_LOCAL, "dst,dst", 0,
		    IPT_TGT_RETURN, NULL);
	if ((r = rule_new(rs)) != NULL)
		r_jump(r, "KUBE-MARK-MASQ");
}

static void
nat_mark_masq(struct rules *rs)
{
	struct ipt_rule *r;

	if ((r = rule_new(rs)) != NULL) {
		r->target = IPT_TGT_MARK_OR;
		r->tmark = masq_mark(rs);
	}
}

static void
filter_forward(struct rules *rs)
{
	struct ipt_rule *r;

	if ((r = rule_new(rs)) != NULL) {
		r_comment(r, "kubernetes forwarding rules");
		r->mark_set = 1;
		r->mark = r->mark_mask = masq_mark(rs);
		r->target = IPT_TGT_ACCEPT;
	}
	if ((r = rule_new(rs)) != NULL) {
		r_comment(r, "kubernetes forwarding conntrack rule");
		r->ctstate = IPT_CT_RELATED | IPT_CT_ESTABLISHED;
		r->target = IPT_TGT_ACCEPT;
	}
}

static void
filter_node_port(struct rules *rs)
{
	struct ipt_rule *r;

	if ((r = rule_new(rs)) != NULL) {
		r_comment(r, "Kubernetes health check node port");
		r_set(rs, r, IPT_KS_HEALTH_CHECK_NODE_PORT, "dst");
		r->target = IPT_TGT_ACCEPT;
	}
}

static void
filter_proxy_firewall(struct rules *rs)
{
	if (nonempty(rs, IPT_KS_LOAD_BALANCER_FW))
		set_rule(rs, IPT_KS_LOAD_BALANCER_FW, "dst,dst", 0,
		    IPT_TGT_JUMP, "KUBE-SOURCE-RANGES-FIREWALL");
}

static void
filter_source_ranges(struct rules *rs)
{
	struct ipt_rule *r;

	if (nonempty(rs, IPT_KS_LOAD_BALANCER_SOURCE_CIDR))
		set_rule(rs, IPT_KS_LOAD_BALANCER_SOURCE_CIDR, "dst,dst,src",
		    0, IPT_TGT_RETURN, NULL);
	if (nonempty(rs, IPT_KS_LOAD_BALANCER_SOURCE_IP))
		set_rule(rs, IPT_KS_LOAD_BALANCER_SOURCE_IP, "dst,dst,src", 0,
		    IPT_TGT_RETURN, NULL);
	if ((r = rule_new(rs)) != NULL)
		r->target = IPT_TGT_DROP;
}

static void
filter_ipvs_filter(struct rules *rs)
{
	static const struct {
		enum ipt_kube_set	 set;
		const char		*dirs;
	} ret[] = {
		{ IPT_KS_LOAD_BALANCER, "dst,dst" },
		{ IPT_KS_CLUSTER_IP, "dst,dst" },
		{ IPT_KS_EXTERNAL_IP, "dst,dst" },
		{ IPT_KS_EXTERNAL_IP_LOCAL, "dst,dst" },
		{ IPT_KS_HEALTH_CHECK_NODE_PORT, "dst" },
	};
	struct ipt_rule *r;
	size_t i;

	for (i = 0; i < sizeof(ret) / sizeof(ret[0]); i++) {
		if ((r = rule_new(rs)) == NULL)
			return;
		r_set(rs, r, ret[i].set, ret[i].dirs);
		r->target = IPT_TGT_RETURN;
	}
	if ((r = rule_new(rs)) != NULL) {
		r->ctstate = IPT_CT_NEW;
		r_set(rs, r, IPT_KS_IPVS_IPS, "dst");
		r->target = IPT_TGT_REJECT;
	}
}

static void
filter_ipvs_out_filter(struct rules *rs)
{
	const struct ipt_kube_params *p = rs->p;
	struct ipt_rule *r;
	size_t i, alen = p->family == AF_INET6 ? 16 : 4;

	for (i = 0; i < p->n_lb_drop; i++) {
		if ((r = rule_new(rs)) == NULL)
			return;
		r->src_set = 1;
		memcpy(r->src, p->lb_drop[i].addr, alen);
		r->src_plen = (uint8_t)(alen * 8);
		r->ipvs_set = 1;
		r->ipvs_proto = p->lb_drop[i].proto;
		memcpy(r->ipvs_vaddr, p->lb_drop[i].addr, alen);
		r->ipvs_vport = p->lb_drop[i].port;
		r->target = IPT_TGT_DROP;
	}
}

int
ipt_kube_rules(const struct ipt_kube_params *p, enum ipt_tbl t,
    const char *chain, struct ipt_rule *out, size_t max, size_t *n)
{
	struct rules rs = { p, out, 0, max, 0 };

	if (p->family != AF_INET && p->family != AF_INET6)
		goto inval;
	if (t == IPT_TABLE_NAT) {
		if (strcmp(chain, "KUBE-SERVICES") == 0)
			nat_services(&rs);
		else if (strcmp(chain, "KUBE-POSTROUTING") == 0)
			nat_postrouting(&rs);
		else if (strcmp(chain, "KUBE-NODE-PORT") == 0)
			nat_node_port(&rs);
		else if (strcmp(chain, "KUBE-LOAD-BALANCER") == 0)
			nat_load_balancer(&rs);
		else if (strcmp(chain, "KUBE-MARK-MASQ") == 0)
			nat_mark_masq(&rs);
		else
			goto inval;
	} else if (t == IPT_TABLE_FILTER) {
		if (strcmp(chain, "KUBE-FORWARD") == 0)
			filter_forward(&rs);
		else if (strcmp(chain, "KUBE-NODE-PORT") == 0)
			filter_node_port(&rs);
		else if (strcmp(chain, "KUBE-PROXY-FIREWALL") == 0)
			filter_proxy_firewall(&rs);
		else if (strcmp(chain, "KUBE-SOURCE-RANGES-FIREWALL") == 0)
			filter_source_ranges(&rs);
		else if (strcmp(chain, "KUBE-IPVS-FILTER") == 0)
			filter_ipvs_filter(&rs);
		else if (strcmp(chain, "KUBE-IPVS-OUT-FILTER") == 0)
			filter_ipvs_out_filter(&rs);
		else
			goto inval;
	} else
		goto inval;
	if (rs.over) {
		errno = ENOSPC;
		return -1;
	}
	*n = rs.n;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

size_t
ipt_kube_jumps(struct ipt_kube_jump *out, size_t max)
{
	static const struct {
		enum ipt_tbl	 table;
		const char	*from, *comment, *to;
	} j[] = {
		{ IPT_TABLE_NAT, "OUTPUT", "kubernetes service portals",
		    "KUBE-SERVICES" },
		{ IPT_TABLE_NAT, "PREROUTING", "kubernetes service portals",
		    "KUBE-SERVICES" },
		{ IPT_TABLE_NAT, "POSTROUTING", "kubernetes postrouting rules",
		    "KUBE-POSTROUTING" },
		{ IPT_TABLE_FILTER, "FORWARD", "kubernetes forwarding rules",
		    "KUBE-FORWARD" },
		{ IPT_TABLE_FILTER, "INPUT", "kubernetes health check rules",
		    "KUBE-NODE-PORT" },
		{ IPT_TABLE_FILTER, "INPUT", "kube-proxy firewall rules",
		    "KUBE-PROXY-FIREWALL" },
		{ IPT_TABLE_FILTER, "FORWARD", "kube-proxy firewall rules",
		    "KUBE-PROXY-FIREWALL" },
		{ IPT_TABLE_FILTER, "INPUT", "kubernetes ipvs access filter",
		    "KUBE-IPVS-FILTER" },
		{ IPT_TABLE_FILTER, "OUTPUT", "kubernetes ipvs access filter",
		    "KUBE-IPVS-OUT-FILTER" },
	};
	size_t i, n = sizeof(j) / sizeof(j[0]);

	for (i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].table = j[i].table;
		out[i].from = j[i].from;
		r_comment(&out[i].rule, j[i].comment);
		r_jump(&out[i].rule, j[i].to);
	}
	return i;
}

int
ipt_kube_apply(struct ipt_handle *h, const struct ipt_kube_params *p,
    int *ncommits)
{
	struct ipt_rule rules[32];
	struct ipt_kube_jump jumps[16];
	const char *const *c;
	enum ipt_tbl t;
	size_t n, i, nj;

	if (ipt_begin(h) < 0)
		return -1;
	/* Chains first: rules jump between them. */
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_ensure(h, t, *c) < 0)
				goto fail;
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_kube_rules(p, t, *c, rules,
			    sizeof(rules) / sizeof(rules[0]), &n) < 0 ||
			    ipt_chain_replace(h, t, *c, rules, n) < 0)
				goto fail;
	nj = ipt_kube_jumps(jumps, sizeof(jumps) / sizeof(jumps[0]));
	for (i = 0; i < nj; i++)
		if (ipt_jump_ensure(h, jumps[i].table, jumps[i].from,
		    &jumps[i].rule) < 0)
			goto fail;
	return ipt_commit(h, ncommits);
fail:
	{
		int err = errno;

		ipt_abort(h);
		errno = err;
	}
	return -1;
}
