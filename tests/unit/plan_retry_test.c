/*
 * Per-object retry back-off (planner/plan_retry.c) and the text form of
 * ops (planner/plan_optext.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "common/addr.h"
#include "planner/plan_optext.h"
#include "planner/plan_retry.h"
#include "tests/tap.h"

static struct pa_op
rs_op(uint8_t kind, const char *vip, const char *rip)
{
	struct pa_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	addr_parse(vip, 0, &op.u.rs.vs.addr, NULL, 0);
	op.u.rs.vs.protocol = REC_PROTO_TCP;
	op.u.rs.vs.port = 80;
	addr_parse(rip, 0, &op.u.rs.addr, NULL, 0);
	op.u.rs.port = 8080;
	op.u.rs.weight = 1;
	return op;
}

int
main(void)
{
	struct plan_retry *r = plan_retry_new(1000, 8000);
	struct pa_op a = rs_op(PA_OP_RS_ENSURE, "10.96.0.10", "10.244.1.5");
	struct pa_op b = rs_op(PA_OP_RS_DEL, "10.96.0.10", "10.244.1.6");
	struct pa_op c = rs_op(PA_OP_RS_ENSURE, "10.96.0.11", "10.244.1.5");
	struct pa_op d;
	char buf[PLAN_OPTEXT_MAX];
	uint64_t due = 0;
	unsigned w;

	ok(plan_retry_may(r, &a, 100, &due), "nothing failed: may send");
	w = plan_retry_failed(r, &a, 100);
	ok(w == 1000, "first failure waits min_ms (%u)", w);
	w = (unsigned)plan_retry_may(r, &b, 500, &due);
	ok(w == 0 && due == 1100,
	    "another op of the same virtual server waits too (due %llu)",
	    (unsigned long long)due);
	ok(plan_retry_may(r, &c, 500, &due), "another virtual server does not");
	ok(plan_retry_may(r, &a, 1100, &due), "may send when due");
	w = plan_retry_failed(r, &a, 1100);
	ok(w == 2000, "second failure doubles (%u)", w);
	w = plan_retry_failed(r, &b, 1100);
	ok(w == 2000, "two ops of one object failing at once count once (%u)",
	    w);
	(void)plan_retry_failed(r, &a, 3100);
	(void)plan_retry_failed(r, &a, 7100);
	w = plan_retry_failed(r, &a, 15100);
	ok(w == 8000, "capped at max_ms (%u)", w);
	ok(plan_retry_failures(r, &a) == 5, "five failures in a row");
	plan_retry_ok(r, &b, 15100);
	ok(plan_retry_count(r) == 1,
	    "a success at the time of a failure does not clear the object");
	plan_retry_ok(r, &b, 23100);
	ok(plan_retry_count(r) == 0, "a later success clears it");
	(void)plan_retry_failed(r, &c, 0);
	ok(plan_retry_may(r, &c, 1000000, &due) && plan_retry_count(r) == 0,
	    "an object not sent for a long time is forgotten");
	plan_retry_free(r);

	/* Sweeps: objects a sync no longer asks about stop failing. */
	r = plan_retry_new(1000, 8000);
	memset(&d, 0, sizeof(d));
	d.kind = PA_OP_ADDR_ADD;
	addr_parse("10.96.0.10", 0, &d.u.addr, NULL, 0);
	(void)plan_retry_failed(r, &a, 100);
	(void)plan_retry_failed(r, &c, 100);
	(void)plan_retry_failed(r, &d, 100);
	plan_retry_sweep_begin(r);
	ok(!plan_retry_held(r, &d, 500, &due),
	    "an address not asked about in this sweep is not held");
	ok(!plan_retry_may(r, &d, 500, &due) &&
	    plan_retry_held(r, &d, 500, &due) && due == 1100,
	    "... once held back in this sweep it is (due %llu)",
	    (unsigned long long)due);
	ok(!plan_retry_held(r, &d, 1100, &due), "... not when due");
	(void)plan_retry_may(r, &b, 500, &due);
	w = (unsigned)plan_retry_sweep_end(r);
	ok(w == 1 && plan_retry_count(r) == 2 && plan_retry_failures(r, &a) == 1 &&
	    plan_retry_failures(r, &c) == 0,
	    "sweep: the object not asked about is dropped, the others kept (%u)",
	    w);
	plan_retry_sweep_begin(r);
	(void)plan_retry_failed(r, &c, 600);
	w = (unsigned)plan_retry_sweep_end(r);
	ok(w == 2 && plan_retry_count(r) == 1 && plan_retry_failures(r, &c) == 1,
	    "sweep: a failure since the sweep began counts as asked (%u)", w);
	plan_retry_free(r);

	is_str(plan_op_text(&a, buf, sizeof(buf)),
	    "rs-ensure TCP 10.96.0.10:80 10.244.1.5:8080 weight=1",
	    "real-server op text");
	b.kind = PA_OP_VS_ENSURE;
	memset(&b.u, 0, sizeof(b.u));
	addr_parse("fd00::1", 0, &b.u.vs.key.addr, NULL, 0);
	b.u.vs.key.protocol = REC_PROTO_UDP;
	b.u.vs.key.port = 53;
	memcpy(b.u.vs.sched, "mh", 3);
	b.u.vs.flags = PA_VS_PERSISTENT | PA_VS_SCHED_PORT;
	b.u.vs.timeout = 10800;
	is_str(plan_op_text(&b, buf, sizeof(buf)),
	    "vs-ensure UDP [fd00::1]:53 sched=mh persistent=10800 mh-port",
	    "virtual-server op text");
	return done();
}
