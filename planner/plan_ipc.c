/*
 * kipvs-planner: dispatch of the watcher and applier links.  Decoding and
 * protocol state live in ipc/; decisions in plan_daemon.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "common/log.h"
#include "ipc/proto_ctl.h"
#include "planner/plan_daemon.h"
#include "planner/plan_ipc.h"

static int
plan_wp(struct plan_ipc *pl, const struct frame_msg *m, const char **reason)
{
	struct wp_event ev;
	int rv;

	if ((rv = wp_rx_feed(&pl->wp, m, &ev, reason)) != 1)
		return rv;
	rv = plan_daemon_wp_event(pl->pd, &ev, reason);
	wp_event_clear(&ev);
	return rv;
}

static int
plan_ap(struct plan_ipc *pl, const struct frame_msg *m, const char **reason)
{
	struct ap_event ev;
	int rv;

	if (ap_rx_feed(&pl->ap, m, &ev, reason) == -1)
		return -1;
	rv = plan_daemon_ap_event(pl->pd, &ev, ipc_now_ms(), reason);
	ap_event_clear(&ev);
	return rv;
}

static int
plan_on_msg(struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct plan_ipc *pl = p->arg;

	if (e->link_id == IPC_LINK_WP)
		return plan_wp(pl, m, reason);
	return plan_ap(pl, m, reason);
}

static void
plan_on_up(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct plan_ipc *pl = p->arg;

	if (e->link_id == IPC_LINK_PA)
		plan_daemon_pa_up(pl->pd, ipc_now_ms());
	else
		plan_daemon_wp_up(pl->pd, ipc_now_ms());
}

static void
plan_on_down(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct plan_ipc *pl = p->arg;

	/* The peer will resend everything: drop half-received state. */
	if (e->link_id == IPC_LINK_WP) {
		wp_rx_reset(&pl->wp);
		plan_daemon_wp_down(pl->pd);
	} else {
		ap_rx_init(&pl->ap);
		plan_daemon_pa_down(pl->pd);
	}
}

static int
plan_on_timer(struct ipc_proc *p, uint64_t now)
{
	struct plan_ipc *pl = p->arg;

	return plan_daemon_tick(pl->pd, now);
}

void
plan_ipc_links(struct ipc_proc *p, struct ipc_link **wp, struct ipc_link **pa)
{
	int i;

	if (p->n_edges == 0) {
		ipc_proc_add_edge(p, PLAN_FD_WP, IPC_LINK_WP,
		    IPC_ROLE_WATCHER);
		ipc_proc_add_edge(p, PLAN_FD_PA, IPC_LINK_PA,
		    IPC_ROLE_APPLIER);
	}
	for (i = 0; i < p->n_edges; i++) {
		if (p->edges[i].link_id == IPC_LINK_WP)
			*wp = &p->edges[i].link;
		else
			*pa = &p->edges[i].link;
	}
}

void
plan_ipc_init(struct plan_ipc *pl, struct ipc_proc *p, struct plan_daemon *pd)
{
	struct ipc_link *wp, *pa;

	memset(pl, 0, sizeof(*pl));
	wp_rx_init(&pl->wp);
	ap_rx_init(&pl->ap);
	pl->pd = pd;
	plan_ipc_links(p, &wp, &pa);
	p->arg = pl;
	p->on_msg = plan_on_msg;
	p->on_up = plan_on_up;
	p->on_down = plan_on_down;
	p->on_timer = plan_on_timer;
}

void
plan_ipc_clear(struct plan_ipc *pl)
{
	wp_rx_reset(&pl->wp);
}
