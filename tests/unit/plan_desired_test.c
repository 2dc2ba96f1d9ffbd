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

int
main(void)
{
	test_one_port();
	test_recompute();
	test_set_names();
	test_entries();
	test_loopback_node_ip();
	test_after_sync();
	return done();
}
