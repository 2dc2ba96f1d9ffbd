/*
 * Unit tests for planner/plan_desired.c and plan_render.c, for what the
 * golden cases (tests/render/) do not isolate: one service port computed
 * alone, recomputation after a change, set names and entry text, the
 * loopback node-IP fallback, and the table after a sync per family.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_desired.h"
#include "planner/plan_model.h"
#include "planner/plan_render.h"
#include "tests/tap.h"

static struct rec_addr
ip(const char *s)
{
	struct rec_addr a;

	if (addr_parse(s, 0, &a, NULL, 0) == -1)
		abort();
	return a;
}

static struct rec_prefix
pfx(const char *s)
{
	struct rec_prefix p;

	if (prefix_parse(s, 0, &p, NULL, 0) == -1)
		abort();
	return p;
}

static char *
ipvs_text(const struct plan_ipvs_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	plan_render_ipvs(f, t);
	fclose(f);
	return buf;
}

/* A two-port Service with one endpoint per port. */
static struct plan_model *
two_port_model(const char *epip)
{
	struct plan_model *m = plan_model_new("node-a");
	struct rec_service s;
	struct rec_svc_port p[2];
	struct rec_slice sl;
	struct rec_slice_port sp[2];
	struct rec_endpoint e;

	memset(&s, 0, sizeof(s));
	snprintf(s.namespace, sizeof(s.namespace), "ns");
	snprintf(s.name, sizeof(s.name), "svc");
	s.type = REC_SVC_CLUSTERIP;
	s.n_cluster_ips = 1;
	s.cluster_ips[0] = ip("10.96.0.1");
	memset(p, 0, sizeof(p));
	snprintf(p[0].name, sizeof(p[0].name), "a");
	p[0].protocol = REC_PROTO_TCP;
	p[0].port = 80;
	snprintf(p[1].name, sizeof(p[1].name), "b");
	p[1].protocol = REC_PROTO_UDP;
	p[1].port = 53;
	s.n_ports = 2;
	s.ports = p;
	plan_model_svc_upsert(m, &s);
	memset(&sl, 0, sizeof(sl));
	snprintf(sl.namespace, sizeof(sl.namespace), "ns");
	snprintf(sl.name, sizeof(sl.name), "svc-1");
	snprintf(sl.service, sizeof(sl.service), "svc");
	sl.family = REC_FAMILY_IPV4;
	memset(sp, 0, sizeof(sp));
	snprintf(sp[0].name, sizeof(sp[0].name), "a");
	sp[0].protocol = REC_PROTO_TCP;
	sp[0].port = 8080;
	snprintf(sp[1].name, sizeof(sp[1].name), "b");
	sp[1].protocol = REC_PROTO_UDP;
	sp[1].port = 5353;
	sl.n_ports = 2;
	sl.ports = sp;
	memset(&e, 0, sizeof(e));
	e.addr = ip(epip);
	e.conditions = REC_EP_READY | REC_EP_SERVING;
	snprintf(e.node_name, sizeof(e.node_name), "node-b");
	sl.n_endpoints = 1;
	sl.endpoints = &e;
	plan_model_slice_upsert(m, &sl);
	return m;
}

static void
test_one_port(void)
{
	struct plan_model *m = two_port_model("10.244.0.5");
	struct plan_config c;
	struct plan_desired d;
	const struct plan_svc *s;
	char *t;

	plan_config_init(&c);
	plan_desired_init(&d, REC_FAMILY_IPV4);
	s = plan_model_svc_get(m, "ns", "svc");
	ok(plan_desired_svcport(&d, &c, m, s, 1) == 0, "port b alone");
	ok(plan_desired_finish(&d) == 0, "finish");
	t = ipvs_text(&d.ipvs);
	is_str(t, "-A -u 10.96.0.1:53 -s rr\n"
	    "-a -u 10.96.0.1:53 -r 10.244.0.5:5353 -m -w 1\n",
	    "only port b's virtual server");
	free(t);
	is(d.sets[PLAN_SET_CLUSTER_IP].n, 1, "only port b's set entry");
	is(d.n_addrs, 1, "its address");
	plan_desired_clear(&d);
	ok(plan_desired_svcport(&d, &c, m, s, 7) == 0 && d.ipvs.n == 0,
	    "out-of-range port index is nothing");
	plan_desired_clear(&d);
	plan_model_free(m);
}

/* The desired state of a whole model equals the sum of its ports. */
static void
test_recompute(void)
{
	struct plan_model *m1 = two_port_model("10.244.0.5");
	struct plan_model *m2 = two_port_model("10.244.0.6");
	struct plan_config c;
	struct plan_desired a, b;
	char *ta, *tb;

	plan_config_init(&c);
	plan_desired_init(&a, REC_FAMILY_IPV4);
	plan_desired_init(&b, REC_FAMILY_IPV4);
	plan_desired_build(&a, &c, m1);
	plan_desired_build(&b, &c, m2);
	ta = ipvs_text(&a.ipvs);
	tb = ipvs_text(&b.ipvs);
	ok(strstr(ta, "10.244.0.5:8080") != NULL &&
	    strstr(tb, "10.244.0.6:8080") != NULL &&
	    strstr(tb, "10.244.0.5") == NULL, "an endpoint change shows");
	is(a.ipvs.n, 2, "two virtual servers");
	free(ta);
	free(tb);
	plan_desired_clear(&a);
	plan_desired_clear(&b);
	plan_model_free(m1);
	plan_model_free(m2);
}

static void
test_set_names(void)
{
	size_t i;
	int long_name = 0, prefix = 1;

	for (i = 0; i < PLAN_SET_COUNT; i++) {
		if (strlen(plan_set_name((enum plan_set)i,
		    REC_FAMILY_IPV6)) > 31)
			long_name = 1;
		if (strncmp(plan_set_name((enum plan_set)i, REC_FAMILY_IPV6),
		    "KUBE-6-", 7) != 0)
			prefix = 0;
	}
	ok(!long_name && prefix, "IPv6 set names: KUBE-6-, at most 31 chars");
	is_str(plan_set_name(PLAN_SET_LOAD_BALANCER_SOURCE_CIDR,
	    REC_FAMILY_IPV6), "KUBE-6-LOAD-BALANCER-SOURCE-CID", "truncated");
	is_str(plan_set_name(PLAN_SET_NODE_PORT_LOCAL_SCTP_HASH,
	    REC_FAMILY_IPV6), "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", "truncated");
}

static void
test_entries(void)
{
	struct plan_set_entry e;
	char buf[256];

	memset(&e, 0, sizeof(e));
	e.ip = ip("1.2.3.4");
	e.proto = REC_PROTO_SCTP;
	e.port = 80;
	e.ip2 = ip("10.0.0.0");
	e.plen = 8;
	is_str(plan_render_set_entry(&e, PLAN_SETTYPE_HASH_IP_PORT_NET, buf,
	    sizeof(buf)), "1.2.3.4,sctp:80,10.0.0.0/8", "ip,port,net");
	e.ip2 = ip("5.6.7.8");
	e.plen = 32;
	is_str(plan_render_set_entry(&e, PLAN_SETTYPE_HASH_IP_PORT_NET, buf,
	    sizeof(buf)), "1.2.3.4,sctp:80,5.6.7.8",
	    "host net printed without /32, as ipset does");
	is_str(plan_render_set_entry(&e, PLAN_SETTYPE_HASH_IP_PORT_IP, buf,
	    sizeof(buf)), "1.2.3.4,sctp:80,5.6.7.8", "ip,port,ip");
	is_str(plan_render_set_entry(&e, PLAN_SETTYPE_BITMAP_PORT, buf,
	    sizeof(buf)), "80", "bitmap:port");
	e.ip = ip("2001:db8::1");
	is_str(plan_render_set_entry(&e, PLAN_SETTYPE_HASH_IP, buf,
	    sizeof(buf)), "2001:db8::1", "hash:ip");
}

/* No node IP at all: kube-proxy's node IP falls back to 127.0.0.1. */
static void
test_loopback_node_ip(void)
{
	struct plan_model *m = plan_model_new("node-a");
	struct plan_config c;
	struct plan_desired d;
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_lb_ingress lb;
	struct rec_prefix r[1];

	memset(&s, 0, sizeof(s));
	snprintf(s.namespace, sizeof(s.namespace), "ns");
	snprintf(s.name, sizeof(s.name), "lb");
	s.type = REC_SVC_LOADBALANCER;
	s.n_cluster_ips = 1;
	s.cluster_ips[0] = ip("10.96.0.9");
	memset(&p, 0, sizeof(p));
	p.protocol = REC_PROTO_TCP;
	p.port = 443;
	s.n_ports = 1;
	s.ports = &p;
	lb.ip = ip("203.0.113.9");
	lb.ipmode = REC_IPMODE_VIP;
	s.n_lb_ingress = 1;
	s.lb_ingress = &lb;
	r[0] = pfx("127.0.0.0/8");
	s.n_source_ranges = 1;
	s.source_ranges = r;
	plan_model_svc_upsert(m, &s);
	plan_config_init(&c);
	plan_desired_init(&d, REC_FAMILY_IPV4);
	plan_desired_build(&d, &c, m);
	ok(d.sets[PLAN_SET_LOAD_BALANCER_SOURCE_IP].n == 1 &&
	    d.n_outfilter == 0, "range holding 127.0.0.1 allows the node");
	plan_desired_clear(&d);
	r[0] = pfx("10.0.0.0/8");
	plan_model_svc_upsert(m, &s);
	plan_desired_build(&d, &c, m);
	ok(d.sets[PLAN_SET_LOAD_BALANCER_SOURCE_IP].n == 0 &&
	    d.n_outfilter == 1, "otherwise a KUBE-IPVS-OUT-FILTER drop");
	plan_desired_clear(&d);
	plan_model_free(m);
}

static void
test_after_sync(void)
{
	struct plan_config c;
	struct plan_desired d4, d6;
	const struct plan_desired *ds[2] = { &d4, &d6 };
	struct plan_ipvs_table cur, out;
	struct plan_vs vs;
	struct rec_prefix ex = pfx("fd00:1::/64");
	char *t;

	plan_config_init(&c);
	c.exclude_cidrs = &ex;
	c.n_exclude_cidrs = 1;
	plan_desired_init(&d4, REC_FAMILY_IPV4);
	plan_desired_init(&d6, REC_FAMILY_IPV6);
	memset(&cur, 0, sizeof(cur));
	memset(&vs, 0, sizeof(vs));
	vs.proto = REC_PROTO_TCP;
	vs.port = 80;
	memcpy(vs.sched, "rr", 3);
	vs.addr = ip("10.0.0.1");
	plan_ipvs_table_add(&cur, &vs);
	vs.addr = ip("fd00:1::1");
	plan_ipvs_table_add(&cur, &vs);
	vs.addr = ip("fd00:2::1");
	plan_ipvs_table_add(&cur, &vs);
	ok(plan_ipvs_after_sync(ds, 1, &cur, &c, &out) == 0, "IPv4 only");
	t = ipvs_text(&out);
	is_str(t, "-A -t [fd00:1::1]:80 -s rr\n-A -t [fd00:2::1]:80 -s rr\n",
	    "IPv4 leftover deleted, IPv6 untouched");
	free(t);
	plan_ipvs_table_clear(&out);
	ok(plan_ipvs_after_sync(ds, 2, &cur, &c, &out) == 0, "dual");
	t = ipvs_text(&out);
	is_str(t, "-A -t [fd00:1::1]:80 -s rr\n",
	    "dual: only the excluded leftover stays");
	free(t);
	plan_ipvs_table_clear(&out);
	plan_ipvs_table_clear(&cur);
	plan_desired_clear(&d4);
	plan_desired_clear(&d6);
}

/* --- hostile input: what the planner leaves out ------------------------- */

static void
add_svc(struct plan_model *m, const char *ns, const char *name,
    int64_t created, const char *cip, const char *const *ext, size_t n_ext,
    const char *const *lb, size_t n_lb, uint16_t node_port,
    const char *const *eps, size_t n_eps)
{
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_addr ea[8];
	struct rec_lb_ingress li[4];
	struct rec_slice sl;
	struct rec_slice_port sp;
	struct rec_endpoint e[4];
	size_t i;

	memset(&s, 0, sizeof(s));
	snprintf(s.namespace, sizeof(s.namespace), "%s", ns);
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.created = created;
	s.type = node_port != 0 ? REC_SVC_NODEPORT : REC_SVC_CLUSTERIP;
	s.n_cluster_ips = 1;
	s.cluster_ips[0] = ip(cip);
	memset(&p, 0, sizeof(p));
	p.protocol = REC_PROTO_TCP;
	p.port = 80;
	p.node_port = node_port;
	s.n_ports = 1;
	s.ports = &p;
	for (i = 0; i < n_ext; i++)
		ea[i] = ip(ext[i]);
	s.n_external_ips = (uint16_t)n_ext;
	s.external_ips = ea;
	memset(li, 0, sizeof(li));
	for (i = 0; i < n_lb; i++) {
		li[i].ip = ip(lb[i]);
		li[i].ipmode = REC_IPMODE_VIP;
	}
	s.n_lb_ingress = (uint16_t)n_lb;
	s.lb_ingress = li;
	plan_model_svc_upsert(m, &s);
	memset(&sl, 0, sizeof(sl));
	snprintf(sl.namespace, sizeof(sl.namespace), "%s", ns);
	snprintf(sl.name, sizeof(sl.name), "%s-1", name);
	snprintf(sl.service, sizeof(sl.service), "%s", name);
	sl.family = REC_FAMILY_IPV4;
	memset(&sp, 0, sizeof(sp));
	sp.protocol = REC_PROTO_TCP;
	sp.port = 8080;
	sl.n_ports = 1;
	sl.ports = &sp;
	memset(e, 0, sizeof(e));
	for (i = 0; i < n_eps; i++) {
		e[i].addr = ip(eps[i]);
		e[i].conditions = REC_EP_READY | REC_EP_SERVING;
	}
	sl.n_endpoints = (uint16_t)n_eps;
	sl.endpoints = e;
	plan_model_slice_upsert(m, &sl);
}

static void
test_addr_denied(void)
{
	static const char *const bad[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1",
	    "127.255.0.9", "169.254.169.254", "169.254.1.1", "224.0.0.1",
	    "239.255.255.250", "255.255.255.255", "240.0.0.1", "::", "::1",
	    "fe80::1", "febf::1", "ff02::1" };
	static const char *const good[] = { "10.0.0.1", "1.0.0.0",
	    "126.255.255.255", "128.0.0.1", "169.253.0.1", "223.255.255.255",
	    "192.168.1.10", "2001:db8::1", "fec0::1", "::2" };
	struct rec_addr a;
	size_t i, nbad = 0, ngood = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = ip(bad[i]);
		if (plan_addr_denied(&a) != NULL)
			nbad++;
		else
			diag("not denied: %s", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		a = ip(good[i]);
		if (plan_addr_denied(&a) == NULL)
			ngood++;
		else
			diag("denied: %s", good[i]);
	}
	is((long)nbad, (long)(sizeof(bad) / sizeof(bad[0])),
	    "deny-list: every denied address");
	is((long)ngood, (long)(sizeof(good) / sizeof(good[0])),
	    "deny-list: no neighbour of one");
	a = ip("169.254.169.254");
	is_str(plan_addr_denied(&a), "the metadata address",
	    "deny-list: the metadata address is named");
}

static void
test_neutralise(void)
{
	static const char *const ext[] = { "127.0.0.1", "169.254.169.254",
	    "192.168.1.10", "192.0.2.7", "224.0.0.1" };
	static const char *const lb[] = { "0.0.0.0", "203.0.113.5" };
	static const char *const eps[] = { "127.0.0.1", "169.254.169.254",
	    "10.244.0.5" };
	static const char *const one_ep[] = { "10.244.0.6" };
	struct plan_model *m = plan_model_new("node-a");
	struct plan_neutral nt;
	struct rec_addr node = ip("192.168.1.10");
	struct plan_config c;
	struct plan_desired d;
	char *t, buf[256];
	size_t i;

	add_svc(m, "ns", "hostile", 100, "10.96.0.1", ext, 5, lb, 2, 22, eps,
	    3);
	/* A ClusterIP that is denied takes its whole service port. */
	add_svc(m, "ns", "loopcip", 100, "127.0.0.53", NULL, 0, NULL, 0, 0,
	    one_ep, 1);
	memset(&nt, 0, sizeof(nt));
	plan_config_init(&c);
	c.node_ips = &node;
	c.n_node_ips = 1;
	c.nodeport_lo = 30000;
	c.nodeport_hi = 32767;
	c.neutral = &nt;
	plan_desired_init(&d, REC_FAMILY_IPV4);
	ok(plan_desired_build(&d, &c, m) == 0, "hostile: build");
	t = ipvs_text(&d.ipvs);
	is_str(t, "-A -t 10.96.0.1:80 -s rr\n"
	    "-a -t 10.96.0.1:80 -r 10.244.0.5:8080 -m -w 1\n"
	    "-A -t 192.0.2.7:80 -s rr\n"
	    "-a -t 192.0.2.7:80 -r 10.244.0.5:8080 -m -w 1\n"
	    "-A -t 203.0.113.5:80 -s rr\n"
	    "-a -t 203.0.113.5:80 -r 10.244.0.5:8080 -m -w 1\n",
	    "hostile: only the harmless VIPs, only the harmless endpoint, no "
	    "nodePort 22 on the node address");
	free(t);
	t = NULL;
	buf[0] = '\0';
	for (i = 0; i < d.n_addrs; i++) {
		char one[64];

		addr_fmt(&d.addrs[i], one, sizeof(one));
		if (strlen(buf) + strlen(one) + 2 < sizeof(buf)) {
			strcat(buf, one);
			strcat(buf, " ");
		}
	}
	is_str(buf, "10.96.0.1 192.0.2.7 203.0.113.5 ",
	    "hostile: only those addresses bound");
	is((long)nt.n[PLAN_NEUT_VIP_DENIED], 5,
	    "hostile: 4 denied VIPs and 1 denied ClusterIP counted");
	is((long)nt.n[PLAN_NEUT_VIP_NODE], 1,
	    "hostile: the node address as externalIP counted");
	is((long)nt.n[PLAN_NEUT_NODEPORT_RANGE], 1,
	    "hostile: nodePort 22 counted");
	is((long)nt.n[PLAN_NEUT_ENDPOINT_DENIED], 2,
	    "hostile: loopback and metadata endpoints counted");
	is((long)d.sets[PLAN_SET_NODE_PORT_TCP].n, 0,
	    "hostile: no KUBE-NODE-PORT-TCP member for port 22");
	is((long)d.sets[PLAN_SET_EXTERNAL_IP].n, 1,
	    "hostile: one KUBE-EXTERNAL-IP member");
	plan_desired_clear(&d);
	plan_model_free(m);
}

/* The winner of one contested VS, with the objects fed in either order. */
static char *
conflict_winner(int order, int64_t ca, int64_t cb, const char *nsa,
    const char *nsb, uint64_t *conflicts)
{
	static const char *const ext[] = { "192.0.2.99" };
	static const char *const epa[] = { "10.244.0.10" };
	static const char *const epb[] = { "10.244.0.11" };
	struct plan_model *m = plan_model_new("node-a");
	struct plan_neutral nt;
	struct plan_config c;
	struct plan_desired d;
	char *t;

	if (order == 0) {
		add_svc(m, nsa, "a", ca, "10.96.0.10", ext, 1, NULL, 0, 0,
		    epa, 1);
		add_svc(m, nsb, "b", cb, "10.96.0.11", ext, 1, NULL, 0, 0,
		    epb, 1);
	} else {
		add_svc(m, nsb, "b", cb, "10.96.0.11", ext, 1, NULL, 0, 0,
		    epb, 1);
		add_svc(m, nsa, "a", ca, "10.96.0.10", ext, 1, NULL, 0, 0,
		    epa, 1);
	}
	memset(&nt, 0, sizeof(nt));
	plan_config_init(&c);
	c.neutral = &nt;
	plan_desired_init(&d, REC_FAMILY_IPV4);
	if (plan_desired_build(&d, &c, m) == -1)
		abort();
	t = ipvs_text(&d.ipvs);
	*conflicts = nt.n[PLAN_NEUT_CONFLICT];
	plan_desired_clear(&d);
	plan_model_free(m);
	return t;
}

static void
test_conflicts(void)
{
	const char *win_a = "-a -t 192.0.2.99:80 -r 10.244.0.10:8080";
	const char *win_b = "-a -t 192.0.2.99:80 -r 10.244.0.11:8080";
	uint64_t n0, n1;
	char *t0, *t1;

	/* b is older: b wins whatever the order. */
	t0 = conflict_winner(0, 200, 100, "ns", "ns", &n0);
	t1 = conflict_winner(1, 200, 100, "ns", "ns", &n1);
	ok(strstr(t0, win_b) != NULL && strstr(t0, win_a) == NULL &&
	    strcmp(t0, t1) == 0, "conflict: the older Service wins in both "
	    "orders");
	ok(n0 == 1 && n1 == 1, "conflict: counted once");
	free(t0);
	free(t1);
	/* Same age: namespace order, then name order. */
	t0 = conflict_winner(0, 100, 100, "zz", "aa", &n0);
	t1 = conflict_winner(1, 100, 100, "zz", "aa", &n1);
	ok(strstr(t0, win_b) != NULL && strcmp(t0, t1) == 0,
	    "conflict: same age, namespace aa beats zz in both orders");
	free(t0);
	free(t1);
	t0 = conflict_winner(0, 100, 100, "ns", "ns", &n0);
	t1 = conflict_winner(1, 100, 100, "ns", "ns", &n1);
	ok(strstr(t0, win_a) != NULL && strcmp(t0, t1) == 0,
	    "conflict: same age and namespace, name a beats b in both orders");
	free(t0);
	free(t1);
}

int
main(void)
{
	test_one_port();
	test_recompute();
	test_set_names();
	test_entries();
	test_loopback_node_ip();
	test_after_sync();
	test_addr_denied();
	test_neutralise();
	test_conflicts();
	return done();
}
