/*
 * kipvs-applierd: dispatch of the planner link.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_ipc.h"
#include "common/log.h"
#include "ipc/proto_ctl.h"

int
applier_preload(void)
{
	/* The allow-listed modules are loaded here with libkmod (issue 4). */
	return 0;
}

static int
applier_send_dump(struct applier_ipc *a, struct ipc_chan *c, uint32_t what)
{
	struct ap_dump_begin b;
	struct ap_tx tx;

	b.dump = ++a->dump;
	b.what = what;
	if (ap_dump_begin(&tx, c, &b) == -1)
		return -1;
	/* The kernel backends add their records here. */
	return ap_dump_end(&tx);
}

static int
applier_add_result(struct applier_ipc *a, const struct pa_op *op)
{
	struct ap_result *r, *grown;
	size_t cap;

	if (a->n_results == a->cap_results) {
		cap = a->cap_results ? a->cap_results * 2 : 64;
		if ((grown = reallocarray(a->results, cap,
		    sizeof(*grown))) == NULL)
			return -1;
		a->results = grown;
		a->cap_results = cap;
	}
	r = &a->results[a->n_results++];
	memset(r, 0, sizeof(*r));
	r->seq = op->seq;
	if (op->kind == PA_OP_DUMP_REQUEST) {
		a->dump_what |= op->u.dump_what;
		r->status = AP_OK;
	} else {
		r->status = AP_REJECTED;
		r->err = ENOSYS;
		snprintf(r->reason, sizeof(r->reason), "%s: not implemented",
		    pa_op_name(op->kind));
	}
	return 0;
}

static int
applier_batch_end(struct applier_ipc *a, struct ipc_proc_edge *e)
{
	struct ap_tx tx;
	size_t i;

	if (ap_results_begin(&tx, &e->link.chan, a->batch) == -1)
		return -1;
	for (i = 0; i < a->n_results; i++)
		if (ap_results_add(&tx, &a->results[i]) == -1) {
			ap_tx_abort(&tx);
			return -1;
		}
	if (ap_results_end(&tx) == -1)
		return -1;
	log_info("link %s: batch %llu: %zu results sent", e->link.name,
	    (unsigned long long)a->batch, a->n_results);
	if (a->dump_what != 0 &&
	    applier_send_dump(a, &e->link.chan, a->dump_what) == -1)
		return -1;
	return 0;
}

static int
applier_on_msg(struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct applier_ipc *a = p->arg;
	struct pa_event ev;
	size_t i;
	int rv = 0;

	if (pa_rx_feed(&a->rx, m, &ev, reason) == -1)
		return -1;
	switch (ev.type) {
	case PA_EV_BATCH_BEGIN:
		a->batch = ev.begin.batch;
		a->n_results = 0;
		a->dump_what = 0;
		break;
	case PA_EV_OPS:
		for (i = 0; i < ev.n_ops && rv == 0; i++)
			rv = applier_add_result(a, &ev.ops[i]);
		free(ev.ops);
		break;
	case PA_EV_BATCH_END:
		rv = applier_batch_end(a, e);
		break;
	}
	if (rv == -1)
		log_warn("link %s: answering batch %llu", e->link.name,
		    (unsigned long long)a->batch);
	return 0;
}

static void
applier_on_up(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct applier_ipc *a = p->arg;

	/* The kernel is the source of truth: dump it to every new planner. */
	if (applier_send_dump(a, &e->link.chan, PA_DUMP_ALL) == -1)
		log_warn("link %s: sending dump", e->link.name);
}

static void
applier_on_down(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct applier_ipc *a = p->arg;

	(void)e;
	pa_rx_init(&a->rx);
	a->n_results = 0;
}

void
applier_ipc_init(struct applier_ipc *a, struct ipc_proc *p)
{
	memset(a, 0, sizeof(*a));
	pa_rx_init(&a->rx);
	a->audit_fd = APPLY_FD_AUDIT;
	a->xtlock_fd = APPLY_FD_XTLOCK;
	p->arg = a;
	p->on_msg = applier_on_msg;
	p->on_up = applier_on_up;
	p->on_down = applier_on_down;
	ipc_proc_add_edge(p, APPLY_FD_PA, IPC_LINK_PA, IPC_ROLE_PLANNER);
}
