/*
 * Unit tests for planner/plan_model.c: upsert/delete with change
 * detection, the dirty set, slice merging (family, port name and
 * protocol, dedup with the terminating rule, order), locality, the node's
 * zone, and the memory of 10,000 services x 5 endpoints.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_model.h"
#include "tests/tap.h"

static struct rec_addr
ip(const char *s)
{
	struct rec_addr a;

	if (addr_parse(s, 0, &a, NULL, 0) == -1)
		abort();
	return a;
}

static void
mksvc(struct rec_service *s, struct rec_svc_port *ports, const char *ns,
    const char *name, const char *cip, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->namespace, sizeof(s->namespace), "%s", ns);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->type = REC_SVC_CLUSTERIP;
	s->n_cluster_ips = 1;
	s->cluster_ips[0] = ip(cip);
	memset(ports, 0, sizeof(*ports));
	snprintf(ports->name, sizeof(ports->name), "http");
	ports->protocol = REC_PROTO_TCP;
	ports->port = port;
	s->n_ports = 1;
	s->ports = ports;
}

static void
mkslice(struct rec_slice *sl, struct rec_slice_port *sp,
    struct rec_endpoint *eps, size_t n, const char *ns, const char *name,
    const char *svc, uint16_t port)
{
	memset(sl, 0, sizeof(*sl));
	snprintf(sl->namespace, sizeof(sl->namespace), "%s", ns);
	snprintf(sl->name, sizeof(sl->name), "%s", name);
	snprintf(sl->service, sizeof(sl->service), "%s", svc);
	sl->family = REC_FAMILY_IPV4;
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->name, sizeof(sp->name), "http");
	sp->protocol = REC_PROTO_TCP;
	sp->port = port;
	sl->n_ports = 1;
	sl->ports = sp;
	sl->n_endpoints = (uint16_t)n;
	sl->endpoints = eps;
}

static void
mkep(struct rec_endpoint *e, const char *addr, uint8_t cond,
    const char *node)
{
	memset(e, 0, sizeof(*e));
	e->addr = ip(addr);
	e->conditions = cond;
	if (node != NULL)
		snprintf(e->node_name, sizeof(e->node_name), "%s", node);
}

struct dirty_seen {
	char		 names[16][64];
	int		 n;
	int		 deleted;
};

static void
dirty_cb(const char *ns, const char *name, const struct plan_svc *s,
    void *arg)
{
	struct dirty_seen *d = arg;

	if (d->n < 16)
		snprintf(d->names[d->n++], sizeof(d->names[0]), "%s/%s", ns,
		    name);
	if (s == NULL)
		d->deleted++;
}

static void
test_upsert_delete(void)
{
	struct plan_model *m = plan_model_new("node-a");
	struct rec_service s;
	struct rec_svc_port p;
	struct dirty_seen d;
	const struct plan_svc *ps;

	ok(m != NULL, "model");
	ok(plan_model_all_dirty(m), "a new model is all dirty");
	plan_model_dirty_clear(m);
	mksvc(&s, &p, "ns1", "web", "10.96.0.1", 80);
	is(plan_model_svc_upsert(m, &s), 1, "insert changes");
	is(plan_model_svc_upsert(m, &s), 0, "same record: no change");
	is(plan_model_dirty_count(m), 1, "one dirty service");
	memset(&d, 0, sizeof(d));
	plan_model_dirty_foreach(m, dirty_cb, &d);
	is_str(d.names[0], "ns1/web", "dirty ns1/web");
	plan_model_dirty_clear(m);
	is(plan_model_svc_upsert(m, &s), 0, "still the same after clear");
	is(plan_model_dirty_count(m), 0, "nothing dirty");
	p.port = 81;
	is(plan_model_svc_upsert(m, &s), 1, "port change");
	ps = plan_model_svc_get(m, "ns1", "web");
	ok(ps != NULL && ps->ports[0].port == 81 &&
	    strcmp(ps->ports[0].name, "http") == 0, "stored compactly");
	is(plan_model_nservices(m), 1, "one service");
	is(plan_model_svc_delete(m, "ns1", "web"), 1, "delete");
	is(plan_model_svc_delete(m, "ns1", "web"), 0, "delete again: no-op");
	is(plan_model_svc_delete(m, "nope", "x"), 0, "unknown: no-op");
	memset(&d, 0, sizeof(d));
	plan_model_dirty_foreach(m, dirty_cb, &d);
	ok(d.n == 1 && d.deleted == 1, "deleted service reported as gone");
	plan_model_dirty_clear(m);
	is(plan_model_nservices(m), 0, "no services");
	plan_model_free(m);
}

static void
test_merge(void)
{
	struct plan_model *m = plan_model_new("node-a");
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_slice a, b, c;
	struct rec_slice_port pa, pb, pc;
	struct rec_endpoint ea[3], eb[2], ec[1];
	struct plan_ep_buf buf = { NULL, 0, 0 };
	const struct plan_svc *ps;
	char t[ADDR_STRLEN];
	struct dirty_seen d;
	int n;

	mksvc(&s, &p, "ns1", "web", "10.96.0.1", 80);
	plan_model_svc_upsert(m, &s);
	mkep(&ea[0], "10.0.0.3", REC_EP_SERVING | REC_EP_TERMINATING,
	    "node-b");
	mkep(&ea[1], "10.0.0.10", REC_EP_READY | REC_EP_SERVING, "node-a");
	mkep(&ea[2], "10.0.0.2", REC_EP_READY | REC_EP_SERVING, NULL);
	mkslice(&a, &pa, ea, 3, "ns1", "web-a", "web", 8080);
	mkep(&eb[0], "10.0.0.3", REC_EP_READY | REC_EP_SERVING, "node-b");
	mkep(&eb[1], "10.0.0.2", REC_EP_SERVING | REC_EP_TERMINATING, NULL);
	mkslice(&b, &pb, eb, 2, "ns1", "web-b", "web", 8080);
	mkep(&ec[0], "10.0.0.9", REC_EP_READY, NULL);
	mkslice(&c, &pc, ec, 1, "ns1", "web-c", "web", 8080);
	pc.protocol = REC_PROTO_UDP;
	plan_model_dirty_clear(m);
	is(plan_model_slice_upsert(m, &b), 1, "slice b");
	is(plan_model_slice_upsert(m, &a), 1, "slice a");
	is(plan_model_slice_upsert(m, &c), 1, "slice c (UDP)");
	is(plan_model_slice_upsert(m, &a), 0, "slice a again: no change");
	is(plan_model_dirty_count(m), 1, "all three dirty the one service");
	ps = plan_model_svc_get(m, "ns1", "web");
	n = plan_model_endpoints(m, ps, &ps->ports[0], REC_FAMILY_IPV4, &buf);
	is(n, 3, "merged to three IP:port");
	ok(n == 3 && strcmp(addr_fmt(&buf.v[0].addr, t, sizeof(t)),
	    "10.0.0.2") == 0 && strcmp(addr_fmt(&buf.v[1].addr, t,
	    sizeof(t)), "10.0.0.3") == 0, "sorted numerically");
	ok(n == 3 && (buf.v[0].cond & REC_EP_READY),
	    "10.0.0.2: first (ready, slice a) kept over terminating");
	ok(n == 3 && (buf.v[1].cond & REC_EP_READY),
	    "10.0.0.3: non-terminating (slice b) replaces terminating");
	ok(n == 3 && buf.v[2].local && !buf.v[0].local,
	    "locality by node name");
	ok(n == 3 && buf.v[0].port == 8080, "endpoint port from the slice");
	is(plan_model_endpoints(m, ps, &ps->ports[0], REC_FAMILY_IPV6, &buf),
	    0, "no IPv6 endpoints");

	/* A slice moves to another service: both become dirty. */
	plan_model_dirty_clear(m);
	snprintf(c.service, sizeof(c.service), "other");
	is(plan_model_slice_upsert(m, &c), 1, "slice relabelled");
	memset(&d, 0, sizeof(d));
	plan_model_dirty_foreach(m, dirty_cb, &d);
	is(d.n, 2, "old and new service dirty");
	is(plan_model_slice_delete(m, "ns1", "web-a"), 1, "delete slice");
	n = plan_model_endpoints(m, ps, &ps->ports[0], REC_FAMILY_IPV4, &buf);
	is(n, 2, "two endpoints left");
	is(plan_model_nslices(m), 2, "two slices");
	plan_ep_buf_free(&buf);
	plan_model_free(m);
}

static void
test_node_zone(void)
{
	struct plan_model *m = plan_model_new("node-a");
	struct rec_node n;

	plan_model_dirty_clear(m);
	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "node-b");
	snprintf(n.zone, sizeof(n.zone), "zone-b");
	is(plan_model_node_set(m, &n), 0, "other node ignored");
	snprintf(n.name, sizeof(n.name), "node-a");
	snprintf(n.zone, sizeof(n.zone), "zone-a");
	is(plan_model_node_set(m, &n), 1, "own node");
	is_str(plan_model_zone(m), "zone-a", "zone");
	ok(plan_model_all_dirty(m), "zone change marks everything");
	plan_model_dirty_clear(m);
	is(plan_model_node_set(m, &n), 0, "same zone: no change");
	is(plan_model_node_delete(m, "node-a"), 1, "node delete clears");
	is_str(plan_model_zone(m), "", "no zone");
	plan_model_free(m);
}

/* 10,000 services x 5 endpoints: the model's share of the 30 MB. */
static void
test_memory(void)
{
	struct plan_model *m = plan_model_new("node-1");
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_slice sl;
	struct rec_slice_port sp;
	struct rec_endpoint *eps;
	char name[64], cip[32], epip[32], node[32];
	size_t mem;
	int i, k, fails = 0;

	eps = calloc(5, sizeof(*eps));
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "svc-%d", i);
		snprintf(cip, sizeof(cip), "10.96.%d.%d", i / 256, i % 256);
		mksvc(&s, &p, i % 2 ? "default" : "kube-system", name, cip, 80);
		if (plan_model_svc_upsert(m, &s) != 1)
			fails++;
		for (k = 0; k < 5; k++) {
			snprintf(epip, sizeof(epip), "10.%d.%d.%d",
			    100 + k, i / 256, i % 256);
			snprintf(node, sizeof(node), "node-%d", (i + k) % 100);
			mkep(&eps[k], epip, REC_EP_READY | REC_EP_SERVING,
			    node);
		}
		snprintf(name, sizeof(name), "svc-%d-abcde", i);
		mkslice(&sl, &sp, eps, 5, i % 2 ? "default" : "kube-system",
		    name, s.name, 8080);
		if (plan_model_slice_upsert(m, &sl) != 1)
			fails++;
	}
	is(fails, 0, "10,000 services and slices inserted");
	mem = plan_model_memory(m);
	diag("model memory at 10,000 x 5: %zu bytes (%zu per service)", mem,
	    mem / 10000);
	ok(mem < 8u * 1024 * 1024, "model under 8 MiB (%zu bytes)", mem);
	free(eps);
	plan_model_free(m);
}

int
main(void)
{
	test_upsert_delete();
	test_merge();
	test_node_zone();
	test_memory();
	return done();
}
