/*
 * kipvs-planner: dispatch of the watcher and applier links.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pw.h"
#include "planner/plan_ipc.h"

static void
plan_send_status(struct plan_ipc *pl, struct ipc_proc *p)
{
	struct pw_status st;
	int i;

	memset(&st, 0, sizeof(st));
	st.flags = pl->synced ? PW_ST_SYNCED : 0;
	st.n_services = pl->n_services;
	for (i = 0; i < p->n_edges; i++) {
		if (p->edges[i].link.peer_role == IPC_ROLE_APPLIER &&
		    p->edges[i].link.up)
			st.flags |= PW_ST_APPLIER_UP;
	}
	for (i = 0; i < p->n_edges; i++) {
		if (p->edges[i].link.peer_role == IPC_ROLE_WATCHER &&
		    p->edges[i].link.up &&
		    pw_send_status(&p->edges[i].link.chan, &st) == -1)
			log_warn("link watcher: sending status");
	}
}

/* A one-op batch: the applier answers with a result and a dump. */
static void
plan_request_dump(struct plan_ipc *pl, struct ipc_proc_edge *e)
{
	struct pa_batch_begin b;
	struct pa_tx tx;
	struct pa_op op;

	memset(&b, 0, sizeof(b));
	b.batch = ++pl->batch;
	b.flags = PA_BATCH_FULL;
	b.n_ops = 1;
	memset(&op, 0, sizeof(op));
	op.kind = PA_OP_DUMP_REQUEST;
	op.seq = ++pl->op_seq;
	op.u.dump_what = PA_DUMP_ALL;
	if (pa_tx_begin(&tx, &e->link.chan, &b) == -1)
		goto fail;
	if (pa_tx_op(&tx, &op) == -1) {
		pa_tx_abort(&tx);
		goto fail;
	}
	if (pa_tx_end(&tx) == -1)
		goto fail;
	pl->results = 0;
	pl->failed = 0;
	log_info("link %s: batch %llu sent (dump request)", e->link.name,
	    (unsigned long long)b.batch);
	return;
 fail:
	log_warn("link %s: sending batch", e->link.name);
}

static int
plan_wp(struct plan_ipc *pl, struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct wp_event ev;
	int rv;

	if ((rv = wp_rx_feed(&pl->wp, m, &ev, reason)) != 1)
		return rv;
	switch (ev.type) {
	case WP_EV_SNAPSHOT_BEGIN:
		pl->n_services = pl->n_slices = pl->n_nodes = 0;
		log_info("link %s: snapshot %llu begins", e->link.name,
		    (unsigned long long)ev.generation);
		break;
	case WP_EV_SNAPSHOT_END:
		pl->synced = 1;
		log_info("link %s: snapshot %llu complete: %u services, %u "
		    "slices, %u nodes", e->link.name,
		    (unsigned long long)ev.end.generation, ev.end.n_services,
		    ev.end.n_slices, ev.end.n_nodes);
		plan_send_status(pl, p);
		break;
	case WP_EV_SERVICE:
		pl->n_services++;
		log_debug("service %s/%s", ev.svc.namespace, ev.svc.name);
		break;
	case WP_EV_SLICE:
		pl->n_slices++;
		log_debug("slice %s/%s", ev.slice.namespace, ev.slice.name);
		break;
	case WP_EV_NODE:
		pl->n_nodes++;
		break;
	case WP_EV_DELETE:
	case WP_EV_LIST_COMPLETE:
		break;
	}
	wp_event_clear(&ev);
	return 0;
}

static int
plan_ap(struct plan_ipc *pl, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct ap_event ev;
	size_t i;

	if (ap_rx_feed(&pl->ap, m, &ev, reason) == -1)
		return -1;
	switch (ev.type) {
	case AP_EV_RESULTS:
		pl->results += (uint32_t)ev.n;
		for (i = 0; i < ev.n; i++)
			if (ev.results[i].status != AP_OK)
				pl->failed++;
		if (ev.last)
			log_info("link %s: batch %llu done: %u results, %u "
			    "failed", e->link.name,
			    (unsigned long long)ev.batch, pl->results,
			    pl->failed);
		break;
	case AP_EV_DUMP_BEGIN:
		pl->dump_recs = 0;
		break;
	case AP_EV_DUMP_RECS:
		pl->dump_recs += (uint32_t)ev.n;
		break;
	case AP_EV_DUMP_END:
		log_info("link %s: dump %llu complete: %u records",
		    e->link.name, (unsigned long long)ev.dend.dump,
		    pl->dump_recs);
		break;
	}
	ap_event_clear(&ev);
	return 0;
}

static int
plan_on_msg(struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct plan_ipc *pl = p->arg;

	if (e->link_id == IPC_LINK_WP)
		return plan_wp(pl, p, e, m, reason);
	return plan_ap(pl, e, m, reason);
}

static void
plan_on_up(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct plan_ipc *pl = p->arg;

	if (e->link_id == IPC_LINK_PA)
		plan_request_dump(pl, e);
	else
		plan_send_status(pl, p);
}

static void
plan_on_down(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct plan_ipc *pl = p->arg;

	/* The peer will resend everything: drop half-received state. */
	if (e->link_id == IPC_LINK_WP)
		wp_rx_reset(&pl->wp);
	else
		ap_rx_init(&pl->ap);
}

void
plan_ipc_init(struct plan_ipc *pl, struct ipc_proc *p)
{
	memset(pl, 0, sizeof(*pl));
	wp_rx_init(&pl->wp);
	ap_rx_init(&pl->ap);
	p->arg = pl;
	p->on_msg = plan_on_msg;
	p->on_up = plan_on_up;
	p->on_down = plan_on_down;
	ipc_proc_add_edge(p, PLAN_FD_WP, IPC_LINK_WP, IPC_ROLE_WATCHER);
	ipc_proc_add_edge(p, PLAN_FD_PA, IPC_LINK_PA, IPC_ROLE_APPLIER);
}
