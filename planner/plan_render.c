/*
 * Formatters for `kipvs render`.  The iptables text is what iptables-save
 * prints after kube-proxy's restore (docs/render.md lists the
 * normalisations: 0x4000 marks, --set-xmark, "! -s" first, /32 on host
 * sources, REJECT with its default --reject-with, \' in comments).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_render.h"

/* --- ipvsadm -Sn --------------------------------------------------------- */

static const char *
pr_proto_lower(uint8_t proto)
{
	switch (proto) {
	case REC_PROTO_TCP:
		return "tcp";
	case REC_PROTO_UDP:
		return "udp";
	case REC_PROTO_SCTP:
		return "sctp";
	}
	return "?";
}

static const char *
pr_hostport(const struct rec_addr *a, uint16_t port, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	addr_fmt(a, ip, sizeof(ip));
	if (a->family == REC_FAMILY_IPV6)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else
		snprintf(buf, len, "%s:%u", ip, port);
	return buf;
}

static const char *
pr_svc(const struct plan_vs *vs, char *buf, size_t len)
{
	char hp[ADDR_STRLEN + 8];

	if (vs->proto == 0) {
		snprintf(buf, len, "-f %u%s", vs->fwmark,
		    vs->addr.family == REC_FAMILY_IPV6 ? " -6" : "");
		return buf;
	}
	snprintf(buf, len, "%s %s", vs->proto == REC_PROTO_TCP ? "-t" :
	    vs->proto == REC_PROTO_UDP ? "-u" : "--sctp-service",
	    pr_hostport(&vs->addr, vs->port, hp, sizeof(hp)));
	return buf;
}

/* ipvsadm's names for the scheduler flags, by scheduler. */
static void
pr_sched_flags(FILE *f, const struct plan_vs *vs)
{
	static const char *const generic[] = { "flag-1", "flag-2", "flag-3" };
	static const char *const sh[] = { "sh-fallback", "sh-port", "flag-3" };
	static const char *const mh[] = { "mh-fallback", "mh-port", "flag-3" };
	static const uint32_t bits[] = { PLAN_VS_F_SCHED1, PLAN_VS_F_SCHED2,
	    PLAN_VS_F_SCHED3 };
	const char *const *names = generic;
	int i, first = 1;

	if ((vs->flags & (PLAN_VS_F_SCHED1 | PLAN_VS_F_SCHED2 |
	    PLAN_VS_F_SCHED3)) == 0)
		return;
	if (strcmp(vs->sched, "sh") == 0)
		names = sh;
	else if (strcmp(vs->sched, "mh") == 0)
		names = mh;
	fputs(" -b ", f);
	for (i = 0; i < 3; i++)
		if (vs->flags & bits[i]) {
			fprintf(f, "%s%s", first ? "" : ",", names[i]);
			first = 0;
		}
}

int
plan_render_ipvs(FILE *f, const struct plan_ipvs_table *t)
{
	char svc[ADDR_STRLEN + 32], hp[ADDR_STRLEN + 8];
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		const struct plan_vs *vs = &t->vs[i];

		pr_svc(vs, svc, sizeof(svc));
		fprintf(f, "-A %s -s %s", svc, vs->sched);
		if (vs->flags & PLAN_VS_F_PERSISTENT) {
			fprintf(f, " -p %u", vs->timeout);
			if (vs->addr.family == REC_FAMILY_IPV4 &&
			    vs->netmask != 0xffffffffu)
				fprintf(f, " -M %u.%u.%u.%u",
				    vs->netmask >> 24,
				    (vs->netmask >> 16) & 0xff,
				    (vs->netmask >> 8) & 0xff,
				    vs->netmask & 0xff);
			else if (vs->addr.family == REC_FAMILY_IPV6 &&
			    vs->netmask != 128)
				fprintf(f, " -M %u", vs->netmask);
		}
		pr_sched_flags(f, vs);
		fputc('\n', f);
		for (k = 0; k < vs->n_rs; k++) {
			const struct plan_rs *rs = &vs->rs[k];

			fprintf(f, "-a %s -r %s %s -w %d", svc,
			    pr_hostport(&rs->addr, rs->port, hp, sizeof(hp)),
			    rs->fwd == PLAN_FWD_MASQ ? "-m" :
			    rs->fwd == PLAN_FWD_TUNNEL ? "-i" : "-g",
			    rs->weight);
			if (rs->u_threshold != 0)
				fprintf(f, " -x %u", rs->u_threshold);
			if (rs->l_threshold != 0)
				fprintf(f, " -y %u", rs->l_threshold);
			fputc('\n', f);
		}
	}
	return ferror(f) ? -1 : 0;
}

/* --- ipset save ---------------------------------------------------------- */

const char *
plan_render_set_entry(const struct plan_set_entry *e, uint8_t type,
    char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	int full;

	switch (type) {
	case PLAN_SETTYPE_HASH_IP:
		addr_fmt(&e->ip, buf, len);
		break;
	case PLAN_SETTYPE_HASH_IP_PORT:
		snprintf(buf, len, "%s,%s:%u", addr_fmt(&e->ip, a,
		    sizeof(a)), pr_proto_lower(e->proto), e->port);
		break;
	case PLAN_SETTYPE_HASH_IP_PORT_IP:
		snprintf(buf, len, "%s,%s:%u,%s", addr_fmt(&e->ip, a,
		    sizeof(a)), pr_proto_lower(e->proto), e->port,
		    addr_fmt(&e->ip2, b, sizeof(b)));
		break;
	case PLAN_SETTYPE_HASH_IP_PORT_NET:
		/* ipset prints a host-length net without its prefix. */
		full = e->plen == (e->ip2.family == REC_FAMILY_IPV4 ? 32 : 128);
		snprintf(buf, len, full ? "%s,%s:%u,%s" : "%s,%s:%u,%s/%u",
		    addr_fmt(&e->ip, a, sizeof(a)),
		    pr_proto_lower(e->proto), e->port,
		    addr_fmt(&e->ip2, b, sizeof(b)), e->plen);
		break;
	case PLAN_SETTYPE_BITMAP_PORT:
		snprintf(buf, len, "%u", e->port);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

int
plan_render_ipset(FILE *f, const struct plan_desired *d)
{
	char entry[3 * ADDR_STRLEN];
	const char *name;
	size_t s, i;
	uint8_t type;

	for (s = 0; s < PLAN_SET_COUNT; s++) {
		name = plan_set_name((enum plan_set)s, d->family);
		type = plan_sets[s].type;
		if (type == PLAN_SETTYPE_BITMAP_PORT)
			fprintf(f, "create %s bitmap:port range 0-65535\n",
			    name);
		else
			fprintf(f, "create %s %s family %s hashsize 1024 "
			    "maxelem 65536\n", name, plan_set_type_name(type),
			    d->family == REC_FAMILY_IPV6 ? "inet6" : "inet");
		for (i = 0; i < d->sets[s].n; i++)
			fprintf(f, "add %s %s\n", name, plan_render_set_entry(
			    &d->sets[s].v[i], type, entry, sizeof(entry)));
	}
	return ferror(f) ? -1 : 0;
}

/* --- iptables-save ------------------------------------------------------- */

/* Writes a comment match the way iptables-save quotes it. */
static void
pr_comment(FILE *f, const char *text)
{
	fputs(" -m comment --comment \"", f);
	for (; *text != '\0'; text++) {
		if (*text == '\'' || *text == '"' || *text == '\\')
			fputc('\\', f);
		fputc(*text, f);
	}
	fputc('"', f);
}

static int
pr_nonempty(const struct plan_desired *d, enum plan_set s)
{
	return d->sets[s].n > 0;
}

/* -A CHAIN [-p proto] -m comment --comment C -m set --match-set S DIR -j T */
static void
pr_set_rule(FILE *f, const struct plan_desired *d, const char *chain,
    const char *proto, enum plan_set set, const char *dir,
    const char *target)
{
	fprintf(f, "-A %s", chain);
	if (proto != NULL)
		fprintf(f, " -p %s", proto);
	pr_comment(f, plan_sets[set].comment);
	fprintf(f, " -m set --match-set %s %s -j %s\n",
	    plan_set_name(set, d->family), dir, target);
}

static const struct rec_prefix *
pr_cluster_cidr(const struct plan_config *c, uint8_t family)
{
	size_t i;

	for (i = 0; i < c->n_cluster_cidrs; i++)
		if (c->cluster_cidrs[i].addr.family == family)
			return &c->cluster_cidrs[i];
	return NULL;
}

static void
pr_nat(FILE *f, const struct plan_desired *d, const struct plan_config *c)
{
	static const struct {
		enum plan_set	 set;
		const char	*proto;
		const char	*dir;
		const char	*target;
	} np[] = {
		{ PLAN_SET_NODE_PORT_LOCAL_TCP, "tcp", "dst", "RETURN" },
		{ PLAN_SET_NODE_PORT_TCP, "tcp", "dst", "KUBE-MARK-MASQ" },
		{ PLAN_SET_NODE_PORT_LOCAL_UDP, "udp", "dst", "RETURN" },
		{ PLAN_SET_NODE_PORT_UDP, "udp", "dst", "KUBE-MARK-MASQ" },
		{ PLAN_SET_NODE_PORT_LOCAL_SCTP_HASH, "sctp", "dst,dst",
		    "RETURN" },
		{ PLAN_SET_NODE_PORT_SCTP_HASH, "sctp", "dst,dst",
		    "KUBE-MARK-MASQ" },
	};
	char cidr[ADDR_STRLEN];
	const struct rec_prefix *local = pr_cluster_cidr(c, d->family);
	const char *cip = plan_set_name(PLAN_SET_CLUSTER_IP, d->family);
	const char *lb = plan_set_name(PLAN_SET_LOAD_BALANCER, d->family);
	unsigned int mark = 1u << c->masquerade_bit;
	size_t i;
	int e;

	fputs("*nat\n", f);
	fputs(":KUBE-LOAD-BALANCER - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
	    ":KUBE-NODE-PORT - [0:0]\n:KUBE-POSTROUTING - [0:0]\n"
	    ":KUBE-SERVICES - [0:0]\n", f);
	fputs("-A PREROUTING -m comment --comment \"kubernetes service "
	    "portals\" -j KUBE-SERVICES\n", f);
	fputs("-A OUTPUT -m comment --comment \"kubernetes service portals\" "
	    "-j KUBE-SERVICES\n", f);
	fputs("-A POSTROUTING -m comment --comment \"kubernetes postrouting "
	    "rules\" -j KUBE-POSTROUTING\n", f);

	/* KUBE-LOAD-BALANCER */
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER_LOCAL))
		pr_set_rule(f, d, "KUBE-LOAD-BALANCER", NULL,
		    PLAN_SET_LOAD_BALANCER_LOCAL, "dst,dst", "RETURN");
	fputs("-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ\n", f);

	/* KUBE-MARK-MASQ */
	fprintf(f, "-A KUBE-MARK-MASQ -j MARK --set-xmark %#x/%#x\n", mark,
	    mark);

	/* KUBE-NODE-PORT */
	for (i = 0; i < sizeof(np) / sizeof(np[0]); i++)
		if (pr_nonempty(d, np[i].set))
			pr_set_rule(f, d, "KUBE-NODE-PORT", np[i].proto,
			    np[i].set, np[i].dir, np[i].target);

	/* KUBE-POSTROUTING */
	if (pr_nonempty(d, PLAN_SET_LOOP_BACK))
		pr_set_rule(f, d, "KUBE-POSTROUTING", NULL, PLAN_SET_LOOP_BACK,
		    "dst,dst,src", "MASQUERADE");
	fprintf(f, "-A KUBE-POSTROUTING -m mark ! --mark %#x/%#x -j RETURN\n",
	    mark, mark);
	fprintf(f, "-A KUBE-POSTROUTING -j MARK --set-xmark %#x/0x0\n", mark);
	fprintf(f, "-A KUBE-POSTROUTING -m comment --comment \"kubernetes "
	    "service traffic requiring SNAT\" -j MASQUERADE%s\n",
	    c->random_fully ? " --random-fully" : "");

	/* KUBE-SERVICES */
	fprintf(f, "-A KUBE-SERVICES -s %s -j RETURN\n",
	    d->family == REC_FAMILY_IPV6 ? "::1/128" : "127.0.0.0/8");
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER))
		pr_set_rule(f, d, "KUBE-SERVICES", NULL, PLAN_SET_LOAD_BALANCER,
		    "dst,dst", "KUBE-LOAD-BALANCER");
	if (pr_nonempty(d, PLAN_SET_CLUSTER_IP)) {
		if (c->masquerade_all)
			pr_set_rule(f, d, "KUBE-SERVICES", NULL,
			    PLAN_SET_CLUSTER_IP, "dst,dst", "KUBE-MARK-MASQ");
		else if (local != NULL) {
			fprintf(f, "-A KUBE-SERVICES ! -s %s",
			    prefix_fmt(local, cidr, sizeof(cidr)));
			pr_comment(f, plan_sets[PLAN_SET_CLUSTER_IP].comment);
			fprintf(f, " -m set --match-set %s dst,dst "
			    "-j KUBE-MARK-MASQ\n", cip);
		} else
			pr_set_rule(f, d, "KUBE-SERVICES", NULL,
			    PLAN_SET_CLUSTER_IP, "src,dst", "KUBE-MARK-MASQ");
	}
	for (e = 0; e < 2; e++) {
		enum plan_set set = e == 0 ? PLAN_SET_EXTERNAL_IP :
		    PLAN_SET_EXTERNAL_IP_LOCAL;
		const char *name = plan_set_name(set, d->family);

		if (!pr_nonempty(d, set))
			continue;
		if (set == PLAN_SET_EXTERNAL_IP)
			pr_set_rule(f, d, "KUBE-SERVICES", NULL, set,
			    "dst,dst", "KUBE-MARK-MASQ");
		fputs("-A KUBE-SERVICES", f);
		pr_comment(f, plan_sets[set].comment);
		fprintf(f, " -m set --match-set %s dst,dst -m physdev ! "
		    "--physdev-is-in -m addrtype ! --src-type LOCAL "
		    "-j ACCEPT\n", name);
		fputs("-A KUBE-SERVICES", f);
		pr_comment(f, plan_sets[set].comment);
		fprintf(f, " -m set --match-set %s dst,dst -m addrtype "
		    "--dst-type LOCAL -j ACCEPT\n", name);
	}
	fputs("-A KUBE-SERVICES -m addrtype --dst-type LOCAL "
	    "-j KUBE-NODE-PORT\n", f);
	if (pr_nonempty(d, PLAN_SET_CLUSTER_IP))
		fprintf(f, "-A KUBE-SERVICES -m set --match-set %s dst,dst "
		    "-j ACCEPT\n", cip);
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER))
		fprintf(f, "-A KUBE-SERVICES -m set --match-set %s dst,dst "
		    "-j ACCEPT\n", lb);
	fputs("COMMIT\n", f);
}

static int
pr_ipproto(uint8_t proto)
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

static void
pr_filter(FILE *f, const struct plan_desired *d, const struct plan_config *c)
{
	static const enum plan_set ret[] = { PLAN_SET_LOAD_BALANCER,
	    PLAN_SET_CLUSTER_IP, PLAN_SET_EXTERNAL_IP,
	    PLAN_SET_EXTERNAL_IP_LOCAL };
	char ip[ADDR_STRLEN];
	unsigned int mark = 1u << c->masquerade_bit;
	int v6 = d->family == REC_FAMILY_IPV6;
	size_t i;

	fputs("*filter\n", f);
	fputs(":KUBE-FORWARD - [0:0]\n:KUBE-IPVS-FILTER - [0:0]\n"
	    ":KUBE-IPVS-OUT-FILTER - [0:0]\n:KUBE-NODE-PORT - [0:0]\n"
	    ":KUBE-PROXY-FIREWALL - [0:0]\n"
	    ":KUBE-SOURCE-RANGES-FIREWALL - [0:0]\n", f);
	fputs("-A INPUT -m comment --comment \"kubernetes ipvs access "
	    "filter\" -j KUBE-IPVS-FILTER\n", f);
	fputs("-A INPUT -m comment --comment \"kube-proxy firewall rules\" "
	    "-j KUBE-PROXY-FIREWALL\n", f);
	fputs("-A INPUT -m comment --comment \"kubernetes health check "
	    "rules\" -j KUBE-NODE-PORT\n", f);
	fputs("-A FORWARD -m comment --comment \"kube-proxy firewall rules\" "
	    "-j KUBE-PROXY-FIREWALL\n", f);
	fputs("-A FORWARD -m comment --comment \"kubernetes forwarding "
	    "rules\" -j KUBE-FORWARD\n", f);
	fputs("-A OUTPUT -m comment --comment \"kubernetes ipvs access "
	    "filter\" -j KUBE-IPVS-OUT-FILTER\n", f);

	/* KUBE-FORWARD */
	fprintf(f, "-A KUBE-FORWARD -m comment --comment \"kubernetes "
	    "forwarding rules\" -m mark --mark %#x/%#x -j ACCEPT\n", mark,
	    mark);
	fputs("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding "
	    "conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED "
	    "-j ACCEPT\n", f);

	/* KUBE-IPVS-FILTER */
	for (i = 0; i < sizeof(ret) / sizeof(ret[0]); i++)
		fprintf(f, "-A KUBE-IPVS-FILTER -m set --match-set %s dst,dst "
		    "-j RETURN\n", plan_set_name(ret[i], d->family));
	fprintf(f, "-A KUBE-IPVS-FILTER -m set --match-set %s dst -j RETURN\n",
	    plan_set_name(PLAN_SET_HEALTH_CHECK_NODE_PORT, d->family));
	fprintf(f, "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set "
	    "--match-set %s dst -j REJECT --reject-with %s\n",
	    plan_set_name(PLAN_SET_IPVS_IPS, d->family),
	    v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable");

	/* KUBE-IPVS-OUT-FILTER */
	for (i = 0; i < d->n_outfilter; i++) {
		const struct plan_outfilter *o = &d->outfilter[i];

		addr_fmt(&o->ip, ip, sizeof(ip));
		fprintf(f, "-A KUBE-IPVS-OUT-FILTER -s %s/%u -m ipvs --vproto "
		    "%d --vaddr %s --vport %u -j DROP\n", ip, v6 ? 128 : 32,
		    pr_ipproto(o->proto), ip, o->port);
	}

	/* KUBE-NODE-PORT */
	fprintf(f, "-A KUBE-NODE-PORT -m comment --comment \"Kubernetes "
	    "health check node port\" -m set --match-set %s dst -j ACCEPT\n",
	    plan_set_name(PLAN_SET_HEALTH_CHECK_NODE_PORT, d->family));

	/* KUBE-PROXY-FIREWALL */
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER_FW))
		pr_set_rule(f, d, "KUBE-PROXY-FIREWALL", NULL,
		    PLAN_SET_LOAD_BALANCER_FW, "dst,dst",
		    "KUBE-SOURCE-RANGES-FIREWALL");

	/* KUBE-SOURCE-RANGES-FIREWALL */
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER_SOURCE_CIDR))
		pr_set_rule(f, d, "KUBE-SOURCE-RANGES-FIREWALL", NULL,
		    PLAN_SET_LOAD_BALANCER_SOURCE_CIDR, "dst,dst,src",
		    "RETURN");
	if (pr_nonempty(d, PLAN_SET_LOAD_BALANCER_SOURCE_IP))
		pr_set_rule(f, d, "KUBE-SOURCE-RANGES-FIREWALL", NULL,
		    PLAN_SET_LOAD_BALANCER_SOURCE_IP, "dst,dst,src", "RETURN");
	fputs("-A KUBE-SOURCE-RANGES-FIREWALL -j DROP\n", f);
	fputs("COMMIT\n", f);
}

int
plan_render_iptables(FILE *f, const struct plan_desired *d,
    const struct plan_config *c)
{
	pr_nat(f, d, c);
	pr_filter(f, d, c);
	return ferror(f) ? -1 : 0;
}

int
plan_render_addresses(FILE *f, const struct plan_desired *d)
{
	char ip[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < d->n_addrs; i++)
		fprintf(f, "%s/%u\n", addr_fmt(&d->addrs[i], ip,
		    sizeof(ip)), d->addrs[i].family == REC_FAMILY_IPV6 ?
		    128 : 32);
	return ferror(f) ? -1 : 0;
}
