/*
 * kipvs-watcherd: dispatch of the planner link.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_wp.h"
#include "watcherd/watch_ipc.h"

/*
 * Level-triggered: a (re)connected planner gets a complete snapshot.
 * Until the apiserver engine is wired in, the snapshot is empty.
 */
static void
watch_send_snapshot(struct watch_ipc *w, struct ipc_proc_edge *e)
{
	struct wp_snapshot_end end;
	struct ipc_chan *c = &e->link.chan;

	memset(&end, 0, sizeof(end));
	end.generation = ++w->generation;
	if (wp_send_snapshot_begin(c, end.generation) == -1 ||
	    wp_send_list_complete(c, WP_KIND_SERVICE) == -1 ||
	    wp_send_list_complete(c, WP_KIND_SLICE) == -1 ||
	    wp_send_list_complete(c, WP_KIND_NODE) == -1 ||
	    wp_send_snapshot_end(c, &end) == -1) {
		log_warn("link %s: sending snapshot", e->link.name);
		return;
	}
	log_info("link %s: snapshot %llu sent", e->link.name,
	    (unsigned long long)end.generation);
}

static void
watch_on_up(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct watch_ipc *w = p->arg;

	watch_send_snapshot(w, e);
}

static void
watch_on_down(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct watch_ipc *w = p->arg;

	(void)e;
	pw_rx_reset(&w->rx);
}

static int
watch_on_msg(struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct watch_ipc *w = p->arg;
	struct pw_event ev;
	int rv;

	if ((rv = pw_rx_feed(&w->rx, m, &ev, reason)) != 1)
		return rv;
	switch (ev.type) {
	case PW_EV_STATUS:
		w->status = ev.status;
		log_info("link %s: status flags %#x, %u services",
		    e->link.name, ev.status.flags, ev.status.n_services);
		break;
	case PW_EV_LOCAL_EPS:
		log_debug("link %s: %zu local endpoint counts", e->link.name,
		    ev.n);
		free(ev.eps);
		break;
	}
	return 0;
}

void
watch_ipc_init(struct watch_ipc *w, struct ipc_proc *p)
{
	memset(w, 0, sizeof(*w));
	pw_rx_init(&w->rx);
	p->arg = w;
	p->on_msg = watch_on_msg;
	p->on_up = watch_on_up;
	p->on_down = watch_on_down;
	ipc_proc_add_edge(p, WATCH_FD_WP, IPC_LINK_WP, IPC_ROLE_PLANNER);
}
