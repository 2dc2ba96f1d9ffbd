/*
 * Unit tests for planner/plan_diff.c: a first sync from an empty or a
 * dumped kernel, no-op resyncs, the 1-3 operations one change implies at
 * 1,000 and at 10,000 services x 5 endpoints, graceful termination (spec
 * §5: a removed TCP server to weight 0, deleted once a later dump counts
 * it idle; a draining one wanted again deleted and re-added; UDP at once),
 * excludeCIDRs, failed ops retried.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_diff.h"
#include "tests/tap.h"

#define MAX_OPS	(200000)

struct sink {
	struct pa_op	*ops;
	size_t		 n;
	int		 fail_at;	/* 1-based; 0 never */
};

static int
collect(const struct pa_op *op, void *arg)
{
	struct sink *s = arg;

	if (s->fail_at != 0 && (int)s->n + 1 == s->fail_at)
		return -1;
	if (s->n < MAX_OPS)
		s->ops[s->n] = *op;
	s->n++;
	return 0;
}

static long
sync_ops(struct plan_diff *d, struct plan_model *m, struct sink *s)
{
	struct plan_diff_sink k = { collect, s };

	s->n = 0;
	return plan_diff_sync(d, m, &k);
}

static size_t
count_kind(const struct sink *s, uint8_t kind)
{
	size_t i, n = 0;

	for (i = 0; i < s->n && i < MAX_OPS; i++)
		if (s->ops[i].kind == kind)
			n++;
	return n;
}

static int
has_rs_op(const struct sink *s, uint8_t kind, const struct rec_addr *a,
    uint32_t weight)
{
	size_t i;

	for (i = 0; i < s->n && i < MAX_OPS; i++)
		if (s->ops[i].kind == kind && s->ops[i].u.rs.weight == weight &&
		    addr_eq(&s->ops[i].u.rs.addr, a))
			return 1;
	return 0;
}

static struct rec_addr
ip(const char *s)
{
	struct rec_addr a;

	if (addr_parse(s, 0, &a, NULL, 0) == -1)
		abort();
	return a;
}

/* Service i: 10.96.x.y:80 (TCP, or UDP when udp), 5 endpoints. */
static void
put_service(struct plan_model *m, int i, int udp, int shift)
{
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_slice sl;
	struct rec_slice_port sp;
	struct rec_endpoint e[5];
	char a[32];
	int k;

	memset(&s, 0, sizeof(s));
	snprintf(s.namespace, sizeof(s.namespace), "ns%d", i % 7);
	snprintf(s.name, sizeof(s.name), "svc-%d", i);
	s.type = REC_SVC_CLUSTERIP;
	s.n_cluster_ips = 1;
	snprintf(a, sizeof(a), "10.96.%d.%d", i / 256, i % 256);
	s.cluster_ips[0] = ip(a);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "http");
	p.protocol = udp ? REC_PROTO_UDP : REC_PROTO_TCP;
	p.port = 80;
	s.n_ports = 1;
	s.ports = &p;
	plan_model_svc_upsert(m, &s);
	memset(&sl, 0, sizeof(sl));
	memcpy(sl.namespace, s.namespace, sizeof(sl.namespace));
	snprintf(sl.name, sizeof(sl.name), "svc-%d-x", i);
	memcpy(sl.service, s.name, sizeof(sl.service));
	sl.family = REC_FAMILY_IPV4;
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.name, sizeof(sp.name), "http");
	sp.protocol = p.protocol;
	sp.port = 8080;
	sl.n_ports = 1;
	sl.ports = &sp;
	memset(e, 0, sizeof(e));
	for (k = 0; k < 5; k++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", 100 + k + (k == 0 ?
		    shift : 0), i / 256, i % 256);
		e[k].addr = ip(a);
		e[k].conditions = REC_EP_READY | REC_EP_SERVING;
		snprintf(e[k].node_name, sizeof(e[k].node_name), "node-%d",
		    k);
	}
	sl.n_endpoints = 5;
	sl.endpoints = e;
	plan_model_slice_upsert(m, &sl);
}

static void
test_scale(int n, struct sink *s)
{
	struct plan_config c;
	struct plan_model *m = plan_model_new("node-none");
	struct plan_diff *d;
	struct plan_diff_sink k = { collect, s };
	struct pa_vs_key vk;
	struct rec_addr olda, newa;
	long r;
	int i;

	plan_config_init(&c);
	d = plan_diff_new(&c);
	for (i = 0; i < n; i++)
		put_service(m, i, 0, 0);
	r = sync_ops(d, m, s);
	/* device + 17 sets + 11 chains, then 9 per service. */
	is(r, 1 + 17 + 11 + 9L * n, "%d: first sync from an empty kernel", n);
	is(count_kind(s, PA_OP_RS_ENSURE), (size_t)5 * n, "%d: real servers",
	    n);
	ok(s->ops[29].kind == PA_OP_ADDR_ADD &&
	    s->ops[29 + n - 1].kind == PA_OP_ADDR_ADD &&
	    s->ops[29 + n].kind == PA_OP_VS_ENSURE, "%d: device, sets and "
	    "chains come first, then the addresses, then the services", n);
	is(sync_ops(d, m, s), 0, "%d: nothing changed, nothing emitted", n);

	/*
	 * Spec §5 step 4: kube-proxy deletes a removed TCP real server at
	 * once only if its live count is 0.  The count known here predates
	 * the change, so the removed one drains at weight 0 and the daemon
	 * asks for a dump in the same batch: one change = 2 ops (+ the dump
	 * request), then 1 delete once that dump shows it idle.
	 */
	memset(&vk, 0, sizeof(vk));
	vk.protocol = REC_PROTO_TCP;
	vk.port = 80;
	put_service(m, n / 2, 0, 50);
	is(sync_ops(d, m, s), 2, "%d: one endpoint replaced: two ops", n);
	ok(s->n == 2 && s->ops[0].kind == PA_OP_RS_ENSURE &&
	    s->ops[0].u.rs.weight == 1 && s->ops[1].kind == PA_OP_RS_WEIGHT &&
	    s->ops[1].u.rs.weight == 0, "%d: add the new, the old one to "
	    "weight 0 (its live count is unknown)", n);
	vk.addr = s->ops[0].u.rs.vs.addr;
	newa = s->ops[0].u.rs.addr;
	olda = s->ops[1].u.rs.addr;
	is(plan_diff_nterminating(d), 1, "%d: the old one is draining", n);
	is(plan_diff_nuncounted(d), 1, "%d: ... and needs a dump", n);
	s->n = 0;
	is(plan_diff_reap(d, &k), 0, "%d: not deleted on the count of an "
	    "older dump", n);
	plan_diff_rs_conns(d, &vk, &olda, 8080, 0);
	is(plan_diff_nuncounted(d), 0, "%d: the dump counted it", n);
	s->n = 0;
	ok(plan_diff_reap(d, &k) == 1 && s->ops[0].kind == PA_OP_RS_DEL &&
	    addr_eq(&s->ops[0].u.rs.addr, &olda), "%d: the dump shows "
	    "it idle: deleted", n);
	is(plan_diff_nterminating(d), 0, "%d: none draining", n);
	is(sync_ops(d, m, s), 0, "%d: then quiet", n);

	/* The old one comes back; the new one has connections. */
	put_service(m, n / 2, 0, 0);
	is(sync_ops(d, m, s), 2, "%d: endpoint back: two ops", n);
	ok(s->n == 2 && s->ops[0].kind == PA_OP_RS_ENSURE &&
	    addr_eq(&s->ops[0].u.rs.addr, &olda) &&
	    s->ops[1].kind == PA_OP_RS_WEIGHT && s->ops[1].u.rs.weight == 0 &&
	    addr_eq(&s->ops[1].u.rs.addr, &newa),
	    "%d: add the old, the new one to weight 0", n);
	plan_diff_rs_conns(d, &vk, &newa, 8080, 3);
	s->n = 0;
	is(plan_diff_reap(d, &k), 0, "%d: a dump shows connections: kept", n);

	/* Spec §5 step 3: a draining server wanted again is cut, re-added. */
	put_service(m, n / 2, 0, 50);
	is(sync_ops(d, m, s), 3, "%d: draining one wanted again: three ops",
	    n);
	ok(s->n == 3 && s->ops[0].kind == PA_OP_RS_DEL &&
	    addr_eq(&s->ops[0].u.rs.addr, &newa) &&
	    s->ops[1].kind == PA_OP_RS_ENSURE && s->ops[1].u.rs.weight == 1 &&
	    addr_eq(&s->ops[1].u.rs.addr, &newa) &&
	    s->ops[2].kind == PA_OP_RS_WEIGHT && s->ops[2].u.rs.weight == 0 &&
	    addr_eq(&s->ops[2].u.rs.addr, &olda),
	    "%d: deleted and re-added at weight 1; the other to weight 0", n);
	is(plan_diff_nterminating(d), 1, "%d: one draining", n);
	plan_diff_rs_conns(d, &vk, &olda, 8080, 2);
	s->n = 0;
	is(plan_diff_reap(d, &k), 0, "%d: still connected: kept", n);
	plan_diff_rs_conns(d, &vk, &olda, 8080, 0);
	s->n = 0;
	ok(plan_diff_reap(d, &k) == 1 && s->ops[0].kind == PA_OP_RS_DEL,
	    "%d: drained: deleted", n);
	is(plan_diff_nterminating(d), 0, "%d: none terminating", n);

	plan_model_svc_delete(m, "ns0", "svc-0");
	is(sync_ops(d, m, s), 4, "%d: service deleted: four ops", n);
	ok(count_kind(s, PA_OP_VS_DEL) == 1 && count_kind(s, PA_OP_SET_DEL) ==
	    2 && count_kind(s, PA_OP_ADDR_DEL) == 1,
	    "%d: VS, CLUSTER-IP and IPVS-IPS members, address", n);
	is(plan_diff_nvs(d), (size_t)n - 1, "%d: virtual servers known", n);
	plan_diff_free(d);
	plan_model_free(m);
}

static void
test_udp_and_terminating_return(struct sink *s)
{
	struct plan_config c;
	struct plan_model *m = plan_model_new("node-none");
	struct plan_diff *d;

	plan_config_init(&c);
	d = plan_diff_new(&c);
	put_service(m, 1, 1, 0);
	sync_ops(d, m, s);
	put_service(m, 1, 1, 7);
	is(sync_ops(d, m, s), 2, "UDP endpoint replaced: two ops");
	ok(s->ops[1].kind == PA_OP_RS_DEL, "UDP is deleted at once");
	plan_diff_free(d);
	plan_model_free(m);
}

static void
test_kernel_preload(struct sink *s)
{
	struct plan_config c;
	struct plan_model *m = plan_model_new("node-none");
	struct plan_diff *d;
	struct plan_vs vs;
	struct plan_rs rs[2];
	struct rec_prefix ex;
	struct pa_set_entry pe;
	struct pa_vs_key vk;
	struct plan_diff_sink k = { collect, s };
	struct rec_addr stale_addr = ip("10.96.200.1");

	plan_config_init(&c);
	prefix_parse("172.30.0.0/16", 0, &ex, NULL, 0);
	c.exclude_cidrs = &ex;
	c.n_exclude_cidrs = 1;
	d = plan_diff_new(&c);
	put_service(m, 1, 0, 0);
	/* Desired VS, one RS at weight 0 and one stale RS. */
	memset(&vs, 0, sizeof(vs));
	vs.addr = ip("10.96.0.1");
	vs.proto = REC_PROTO_TCP;
	vs.port = 80;
	memcpy(vs.sched, "rr", 3);
	memset(rs, 0, sizeof(rs));
	rs[0].addr = ip("10.100.0.1");
	rs[0].port = 8080;
	rs[0].weight = 0;
	rs[1].addr = ip("10.99.0.1");
	rs[1].port = 8080;
	rs[1].weight = 1;
	vs.rs = rs;
	vs.n_rs = 2;
	ok(plan_diff_kernel_vs(d, &vs) == 0, "dumped VS");
	vs.addr = ip("10.96.9.9");
	vs.n_rs = 0;
	plan_diff_kernel_vs(d, &vs);
	vs.addr = ip("172.30.0.5");
	plan_diff_kernel_vs(d, &vs);
	plan_diff_kernel_addr(d, &stale_addr);
	memset(&pe, 0, sizeof(pe));
	pe.set = PA_SET_CLUSTER_IP;
	pe.family = REC_FAMILY_IPV4;
	pe.addr = ip("10.96.0.1");
	pe.protocol = REC_PROTO_TCP;
	pe.port = 80;
	plan_diff_kernel_entry(d, &pe);
	sync_ops(d, m, s);
	is(count_kind(s, PA_OP_VS_ENSURE), 0, "matching VS kept as it is");
	is(count_kind(s, PA_OP_VS_DEL), 1, "stale VS deleted, excluded kept");
	/* Spec §5 step 3, first sync: a desired weight-0 server back to 1. */
	is(count_kind(s, PA_OP_RS_WEIGHT), 2, "two weight changes");
	ok(has_rs_op(s, PA_OP_RS_WEIGHT, &rs[0].addr, 1),
	    "weight-0 leftover reset to 1");
	/* Step 4: a stale TCP server drains until a dump counts it idle. */
	ok(has_rs_op(s, PA_OP_RS_WEIGHT, &rs[1].addr, 0),
	    "stale real server drains at weight 0");
	is(count_kind(s, PA_OP_RS_ENSURE), 4, "four missing real servers");
	is(count_kind(s, PA_OP_RS_DEL), 0, "stale real server not deleted "
	    "on an old count");
	is(count_kind(s, PA_OP_ADDR_DEL), 1, "stale address removed");
	is(count_kind(s, PA_OP_SET_ADD), 1, "CLUSTER-IP member already there");
	is(sync_ops(d, m, s), 0, "then quiet");
	memset(&vk, 0, sizeof(vk));
	vk.addr = vs.addr = ip("10.96.0.1");
	vk.protocol = REC_PROTO_TCP;
	vk.port = 80;
	/* The next dump: the stale one at weight 0, idle. */
	rs[0].weight = 1;
	rs[1].weight = 0;
	vs.n_rs = 2;
	plan_diff_kernel_begin(d);
	plan_diff_kernel_vs(d, &vs);
	plan_diff_rs_conns(d, &vk, &rs[1].addr, 8080, 0);
	s->n = 0;
	ok(plan_diff_reap(d, &k) == 1 && s->ops[0].kind == PA_OP_RS_DEL &&
	    addr_eq(&s->ops[0].u.rs.addr, &rs[1].addr),
	    "stale real server deleted once a dump shows it idle");
	plan_diff_free(d);
	plan_model_free(m);
}

static void
test_failures(struct sink *s)
{
	struct plan_config c;
	struct plan_model *m = plan_model_new("node-none");
	struct plan_diff *d;
	struct pa_op failed;
	long r;

	plan_config_init(&c);
	d = plan_diff_new(&c);
	put_service(m, 1, 0, 0);
	sync_ops(d, m, s);
	put_service(m, 1, 0, 9);
	sync_ops(d, m, s);
	failed = s->ops[0];
	plan_diff_op_failed(d, &failed);
	r = sync_ops(d, m, s);
	ok(r == 1 && s->ops[0].kind == PA_OP_RS_ENSURE &&
	    addr_eq(&s->ops[0].u.rs.addr, &failed.u.rs.addr),
	    "a failed RS_ENSURE is emitted again");
	put_service(m, 1, 0, 0);
	s->fail_at = 1;
	r = sync_ops(d, m, s);
	s->fail_at = 0;
	is(r, -1, "a sink that stops ends the sync");
	/*
	 * The first op was the draining old server's delete (it is wanted
	 * again: cut and re-added, spec §5 step 3); nothing was emitted, so
	 * the next sync emits all three: delete, re-add, new one to 0.
	 */
	r = sync_ops(d, m, s);
	ok(r == 3 && s->ops[0].kind == PA_OP_RS_DEL &&
	    s->ops[1].kind == PA_OP_RS_ENSURE && s->ops[1].u.rs.weight == 1 &&
	    addr_eq(&s->ops[0].u.rs.addr, &s->ops[1].u.rs.addr) &&
	    s->ops[2].kind == PA_OP_RS_WEIGHT && s->ops[2].u.rs.weight == 0 &&
	    addr_eq(&s->ops[2].u.rs.addr, &failed.u.rs.addr),
	    "the next sync emits what was left");
	plan_diff_free(d);
	plan_model_free(m);
}

int
main(void)
{
	struct sink s;

	memset(&s, 0, sizeof(s));
	s.ops = calloc(MAX_OPS, sizeof(*s.ops));
	test_scale(1000, &s);
	test_scale(10000, &s);
	test_udp_and_terminating_return(&s);
	test_kernel_preload(&s);
	test_failures(&s);
	free(s.ops);
	return done();
}
