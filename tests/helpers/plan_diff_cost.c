/*
 * plan_diff_cost N: loads N services x 5 endpoints into the planner's
 * model, runs the first sync, then changes one endpoint of one service
 * with callgrind collecting only around that change (model update and
 * incremental sync).  Prints the number of ops the change emitted.  Run
 * under valgrind --tool=callgrind --collect-atstart=no by
 * tests/planner/diff_cost.t; without valgrind the client requests are
 * no-ops.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "common/addr.h"
#include "planner/plan_diff.h"

static int
count_op(const struct pa_op *op, void *arg)
{
	(void)op;
	(*(long *)arg)++;
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

/* Records of service i with its first endpoint moved by shift. */
static void
records(int i, int shift, struct rec_service *s, struct rec_svc_port *p,
    struct rec_slice *sl, struct rec_slice_port *sp, struct rec_endpoint *e)
{
	char a[32];
	int k;

	memset(s, 0, sizeof(*s));
	snprintf(s->namespace, sizeof(s->namespace), "ns%d", i % 7);
	snprintf(s->name, sizeof(s->name), "svc-%d", i);
	s->type = REC_SVC_CLUSTERIP;
	s->n_cluster_ips = 1;
	snprintf(a, sizeof(a), "10.96.%d.%d", i / 256, i % 256);
	s->cluster_ips[0] = ip(a);
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "http");
	p->protocol = REC_PROTO_TCP;
	p->port = 80;
	s->n_ports = 1;
	s->ports = p;
	memset(sl, 0, sizeof(*sl));
	memcpy(sl->namespace, s->namespace, sizeof(sl->namespace));
	snprintf(sl->name, sizeof(sl->name), "svc-%d-x", i);
	memcpy(sl->service, s->name, sizeof(sl->service));
	sl->family = REC_FAMILY_IPV4;
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->name, sizeof(sp->name), "http");
	sp->protocol = REC_PROTO_TCP;
	sp->port = 8080;
	sl->n_ports = 1;
	sl->ports = sp;
	memset(e, 0, 5 * sizeof(*e));
	for (k = 0; k < 5; k++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", 100 + k +
		    (k == 0 ? shift : 0), i / 256, i % 256);
		e[k].addr = ip(a);
		e[k].conditions = REC_EP_READY | REC_EP_SERVING;
		snprintf(e[k].node_name, sizeof(e[k].node_name), "node-%d",
		    k);
	}
	sl->n_endpoints = 5;
	sl->endpoints = e;
}

int
main(int argc, char *argv[])
{
	struct rec_service s;
	struct rec_svc_port p;
	struct rec_slice sl;
	struct rec_slice_port sp;
	struct rec_endpoint e[5];
	struct plan_config c;
	struct plan_model *m;
	struct plan_diff *d;
	struct plan_diff_sink sink;
	long ops = 0, first;
	int n, i;

	n = argc > 1 ? atoi(argv[1]) : 1000;
	if (n < 1 || n > 60000) {
		fprintf(stderr, "usage: plan_diff_cost N (1..60000)\n");
		return 2;
	}
	plan_config_init(&c);
	m = plan_model_new("node-none");
	d = plan_diff_new(&c);
	sink.emit = count_op;
	sink.arg = &ops;
	for (i = 0; i < n; i++) {
		records(i, 0, &s, &p, &sl, &sp, e);
		plan_model_svc_upsert(m, &s);
		plan_model_slice_upsert(m, &sl);
	}
	first = plan_diff_sync(d, m, &sink);
	/* The change arrives as a record, as from the watcher. */
	records(n / 2, 50, &s, &p, &sl, &sp, e);
	ops = 0;
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_TOGGLE_COLLECT;
	plan_model_slice_upsert(m, &sl);
	plan_diff_sync(d, m, &sink);
	CALLGRIND_TOGGLE_COLLECT;
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("services %d first-sync-ops %ld change-ops %ld\n", n, first,
	    ops);
	plan_diff_free(d);
	plan_model_free(m);
	return 0;
}
