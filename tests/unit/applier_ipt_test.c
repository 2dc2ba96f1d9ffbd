/*
 * Unit tests for applierd/applier_ipt's templates: the rules kube-proxy's
 * IPVS mode writes (behaviour spec §6), rendered by ipt_rule_format(), must
 * read exactly as `iptables-save` prints the spec's §6.3 example; plus the
 * parameter variants and the IPv6 set names.  The bytes themselves are
 * checked against iptables-legacy-save in tests/netns/applier-ipt.t.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "applierd/applier_ipt.h"
#include "tests/tap.h"

/* §6.3, per table, rules of the owned chains only, grouped by chain. */
static const char *const want_nat[] = {
	"-A KUBE-LOAD-BALANCER -m comment --comment \"Kubernetes service l"
	    "oad balancer ip + port with externalTrafficPolicy=local\" -m set "
	    "--match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN",
	"-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ",
	"-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
	"-A KUBE-NODE-PORT -p tcp -m comment --comment \"Kubernetes nodepo"
	    "rt TCP port with externalTrafficPolicy=local\" -m set --match-set"
	    " KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN",
	"-A KUBE-NODE-PORT -p tcp -m comment --comment \"Kubernetes nodepo"
	    "rt TCP port for masquerade purpose\" -m set --match-set KUBE-NODE"
	    "-PORT-TCP dst -j KUBE-MARK-MASQ",
	"-A KUBE-POSTROUTING -m comment --comment \"Kubernetes endpoints d"
	    "st ip:port, source ip for solving hairpin purpose\" -m set --matc"
	    "h-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE",
	"-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
	"-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
	"-A KUBE-POSTROUTING -m comment --comment \"kubernetes service tra"
	    "ffic requiring SNAT\" -j MASQUERADE --random-fully",
	"-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
	"-A KUBE-SERVICES -m comment --comment \"Kubernetes service lb por"
	    "tal\" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-"
	    "BALANCER",
	"-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment \"Kubern"
	    "etes service cluster ip + port for masquerade purpose\" -m set --"
	    "match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
	"-A KUBE-SERVICES -m comment --comment \"Kubernetes service extern"
	    "al ip + port with externalTrafficPolicy=local\" -m set --match-se"
	    "t KUBE-EXTERNAL-IP-LOCAL dst,dst -m physdev ! --physdev-is-in -m "
	    "addrtype ! --src-type LOCAL -j ACCEPT",
	"-A KUBE-SERVICES -m comment --comment \"Kubernetes service extern"
	    "al ip + port with externalTrafficPolicy=local\" -m set --match-se"
	    "t KUBE-EXTERNAL-IP-LOCAL dst,dst -m addrtype --dst-type LOCAL -j "
	    "ACCEPT",
	"-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
	"-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j AC"
	    "CEPT",
	"-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j"
	    " ACCEPT",
	NULL,
};

static const char *const want_filter[] = {
	"-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rule"
	    "s\" -m mark --mark 0x4000/0x4000 -j ACCEPT",
	"-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conn"
	    "track rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	    "",
	"-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst"
	    " -j RETURN",
	"-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j"
	    " RETURN",
	"-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -"
	    "j RETURN",
	"-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst"
	    ",dst -j RETURN",
	"-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-POR"
	    "T dst -j RETURN",
	"-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set"
	    " KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable",
	"-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check "
	    "node port\" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j"
	    " ACCEPT",
	"-A KUBE-PROXY-FIREWALL -m comment --comment \"Kubernetes service "
	    "load balancer ip + port for load balancer with sourceRange\" -m s"
	    "et --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGE"
	    "S-FIREWALL",
	"-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment \"Kubernetes "
	    "service load balancer ip + port + source cidr for packet filter p"
	    "urpose\" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,ds"
	    "t,src -j RETURN",
	"-A KUBE-SOURCE-RANGES-FIREWALL -j DROP",
	NULL,
};

static const uint32_t example =
    1U << IPT_KS_LOOP_BACK | 1U << IPT_KS_CLUSTER_IP |
    1U << IPT_KS_EXTERNAL_IP_LOCAL | 1U << IPT_KS_LOAD_BALANCER |
    1U << IPT_KS_LOAD_BALANCER_LOCAL | 1U << IPT_KS_LOAD_BALANCER_FW |
    1U << IPT_KS_LOAD_BALANCER_SOURCE_CIDR | 1U << IPT_KS_NODE_PORT_TCP |
    1U << IPT_KS_NODE_PORT_LOCAL_TCP | 1U << IPT_KS_HEALTH_CHECK_NODE_PORT |
    1U << IPT_KS_IPVS_IPS;

/* Renders every owned chain of table t, in iptables-save's chain order
 * (alphabetical), and compares line by line with want. */
static int
table_matches(const struct ipt_kube_params *p, enum ipt_tbl t,
    const char *const *want, const char *what)
{
	const char *sorted[8];
	const char *const *c;
	struct ipt_rule rules[32];
	char line[1024];
	size_t nc = 0, i, j, n;
	int w = 0, good = 1;

	for (c = ipt_kube_chains(t); *c != NULL; c++)
		sorted[nc++] = *c;
	for (i = 0; i < nc; i++)
		for (j = i + 1; j < nc; j++)
			if (strcmp(sorted[j], sorted[i]) < 0) {
				const char *x = sorted[i];

				sorted[i] = sorted[j];
				sorted[j] = x;
			}
	for (i = 0; i < nc; i++) {
		if (ipt_kube_rules(p, t, sorted[i], rules, 32, &n) < 0)
			return 0;
		for (j = 0; j < n; j++) {
			ipt_rule_format(p->family, sorted[i], &rules[j], line,
			    sizeof(line));
			if (want[w] == NULL || strcmp(line, want[w]) != 0) {
				diag("%s: got  %s", what, line);
				diag("%s: want %s", what, want[w] ? want[w] :
				    "(end)");
				good = 0;
			}
			if (want[w] != NULL)
				w++;
		}
	}
	return good && want[w] == NULL;
}

static int
has_rule(const struct ipt_kube_params *p, enum ipt_tbl t, const char *chain,
    const char *want)
{
	struct ipt_rule rules[32];
	char line[1024];
	size_t n, i;

	if (ipt_kube_rules(p, t, chain, rules, 32, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		ipt_rule_format(p->family, chain, &rules[i], line,
		    sizeof(line));
		if (strcmp(line, want) == 0)
			return 1;
	}
	return 0;
}

int
main(void)
{
	struct ipt_kube_params p;
	struct ipt_kube_jump j[16];
	struct ipt_rule rules[32], r;
	char buf[1024];
	size_t n;

	plan(22);

	memset(&p, 0, sizeof(p));
	p.family = AF_INET;
	p.masq_bit = 14;
	p.random_fully = 1;
	p.local_mode = IPT_LOCAL_CIDR;
	inet_pton(AF_INET, "10.244.0.0", p.local_cidr);
	p.local_plen = 16;
	p.nonempty = example;
	ok(table_matches(&p, IPT_TABLE_NAT, want_nat, "nat"),
	    "nat chains render as the spec's iptables-save example");
	ok(table_matches(&p, IPT_TABLE_FILTER, want_filter, "filter"),
	    "filter chains render as the spec's iptables-save example");

	is(ipt_kube_jumps(j, 16), 9, "nine jump rules from built-in chains");
	ipt_rule_format(AF_INET, j[0].from, &j[0].rule, buf, sizeof(buf));
	is_str(buf, "-A OUTPUT -m comment --comment \"kubernetes service "
	    "portals\" -j KUBE-SERVICES", "first ensured: nat OUTPUT");
	ipt_rule_format(AF_INET, j[8].from, &j[8].rule, buf, sizeof(buf));
	is_str(buf, "-A OUTPUT -m comment --comment \"kubernetes ipvs access "
	    "filter\" -j KUBE-IPVS-OUT-FILTER", "last ensured: filter OUTPUT");

	/* Variants of the ClusterIP masquerade rule. */
	p.local_mode = IPT_LOCAL_NONE;
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-SERVICES", "-A KUBE-SERVICES -m "
	    "comment --comment \"Kubernetes service cluster ip + port for "
	    "masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP src,dst "
	    "-j KUBE-MARK-MASQ"), "no local detector: src,dst");
	p.local_mode = IPT_LOCAL_IFACE;
	strcpy(p.local_iface, "veth+");
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-SERVICES", "-A KUBE-SERVICES ! -i "
	    "veth+ -m comment --comment \"Kubernetes service cluster ip + port "
	    "for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP "
	    "dst,dst -j KUBE-MARK-MASQ"),
	    "interface-prefix detector: ! -i veth+");
	p.masquerade_all = 1;
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-SERVICES", "-A KUBE-SERVICES -m "
	    "comment --comment \"Kubernetes service cluster ip + port for "
	    "masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst "
	    "-j KUBE-MARK-MASQ"), "masquerade-all: no detector");
	p.random_fully = 0;
	p.masq_bit = 13;
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-POSTROUTING",
	    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service "
	    "traffic requiring SNAT\" -j MASQUERADE"), "no --random-fully");
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-MARK-MASQ",
	    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x2000/0x2000"),
	    "masquerade bit 13 -> 0x2000");

	/* Sets that are empty drop their rules; the always-rules stay. */
	p.nonempty = 0;
	ok(ipt_kube_rules(&p, IPT_TABLE_NAT, "KUBE-SERVICES", rules, 32,
	    &n) == 0 && n == 2, "nothing non-empty: KUBE-SERVICES has 2 rules");
	ok(ipt_kube_rules(&p, IPT_TABLE_FILTER, "KUBE-IPVS-FILTER", rules, 32,
	    &n) == 0 && n == 6, "KUBE-IPVS-FILTER is written even when empty");
	p.nonempty = 1U << IPT_KS_NODE_PORT_SCTP_HASH |
	    1U << IPT_KS_EXTERNAL_IP;
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-NODE-PORT", "-A KUBE-NODE-PORT -p "
	    "sctp -m comment --comment \"Kubernetes nodeport SCTP port for "
	    "masquerade purpose with type \\'hash ip:port\\'\" -m set "
	    "--match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ"),
	    "SCTP node ports: hash set, quotes escaped as iptables-save does");
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-SERVICES", "-A KUBE-SERVICES -m "
	    "comment --comment \"Kubernetes service external ip + port for "
	    "masquerade and filter purpose\" -m set --match-set "
	    "KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ"),
	    "externalIPs (cluster policy) are marked");

	/* IPv6. */
	p.family = AF_INET6;
	p.nonempty = 1U << IPT_KS_LOAD_BALANCER_SOURCE_CIDR;
	ok(has_rule(&p, IPT_TABLE_NAT, "KUBE-SERVICES",
	    "-A KUBE-SERVICES -s ::1/128 -j RETURN"),
	    "IPv6 loopback is ::1/128");
	ok(has_rule(&p, IPT_TABLE_FILTER, "KUBE-SOURCE-RANGES-FIREWALL",
	    "-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment \"Kubernetes "
	    "service load balancer ip + port + source cidr for packet filter "
	    "purpose\" -m set --match-set KUBE-6-LOAD-BALANCER-SOURCE-CID "
	    "dst,dst,src -j RETURN"), "IPv6 set names truncated to 31");
	ipt_kube_set_name(AF_INET6, IPT_KS_NODE_PORT_LOCAL_SCTP_HASH, buf,
	    sizeof(buf));
	is_str(buf, "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS",
	    "the other truncated name");
	ok(has_rule(&p, IPT_TABLE_FILTER, "KUBE-IPVS-FILTER",
	    "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set "
	    "KUBE-6-IPVS-IPS dst -j REJECT --reject-with "
	    "icmp6-port-unreachable"), "IPv6 REJECT");

	/* KUBE-IPVS-OUT-FILTER: one DROP per LB ip:port (spec §4.6). */
	{
		struct ipt_kube_lb_drop d[2];

		memset(d, 0, sizeof(d));
		inet_pton(AF_INET6, "2001:db8::10", d[0].addr);
		d[0].proto = 6;
		d[0].port = 80;
		inet_pton(AF_INET6, "2001:db8::11", d[1].addr);
		d[1].proto = 17;
		d[1].port = 53;
		p.lb_drop = d;
		p.n_lb_drop = 2;
		ok(ipt_kube_rules(&p, IPT_TABLE_FILTER, "KUBE-IPVS-OUT-FILTER",
		    rules, 32, &n) == 0 && n == 2, "one rule per entry");
		ok(has_rule(&p, IPT_TABLE_FILTER, "KUBE-IPVS-OUT-FILTER",
		    "-A KUBE-IPVS-OUT-FILTER -s 2001:db8::11/128 -m ipvs "
		    "--vproto 17 --vaddr 2001:db8::11 --vport 53 -j DROP"),
		    "the ipvs match as iptables-save prints it");
		p.lb_drop = NULL;
		p.n_lb_drop = 0;
	}

	/* Foreign chains are not templated. */
	errno = 0;
	ok(ipt_kube_rules(&p, IPT_TABLE_FILTER, "INPUT", rules, 32, &n) < 0 &&
	    errno == EINVAL, "no template for a chain kipvs does not own");
	memset(&r, 0, sizeof(r));
	r.target = (enum ipt_tgt)99;
	ok(ipt_rule_format(AF_INET, "X", &r, buf, sizeof(buf)) < 0,
	    "an unknown target does not render");
	return done();
}
