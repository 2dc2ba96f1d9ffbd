/*
 * kipvs-watcherd's links on libevent.  The watcher's one event loop is
 * libevent's (libcurl's multi-socket interface and the HTTP server need
 * it), so instead of ipc/proc.c's poll loop the parent link (fd 3), the
 * planner link (fd 4) and the signalfd (fd 5) are libevent events here,
 * driven with the same ipc/link.h calls the poll loop uses: link_recv()
 * on readable, link_tick() on a timer, frame_flush() on writable.  The
 * links themselves are set up by ipc_proc_init()/ipc_proc_add_edge(), so
 * names, directions and roles are those of every other daemon.
 *
 * A fresh planner socket from the parent (CTL_PEER_FD) replaces the old
 * link on the fixed descriptor; the owner hears `down` for the old one
 * and `up` once the new planner's hello arrived.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_IPC_H
#define KIPVS_WATCH_IPC_H

#include <stdint.h>

#include "ipc/proc.h"

struct event;
struct event_base;

struct watch_ipc_cb {
	/* The planner's hello arrived: send it a snapshot. */
	void	(*up)(void *arg, struct ipc_chan *);
	/* The planner link closed (end of stream, violation, replaced). */
	void	(*down)(void *arg);
	/* One planner message; 0, or -1 with *reason (closes the link). */
	int	(*msg)(void *arg, const struct frame_msg *,
		    const char **reason);
	void	*arg;
};

struct watch_ipc {
	struct ipc_proc	 p;
	struct event_base *base;
	struct watch_ipc_cb cb;
	struct event	*ev_ctl;
	struct event	*ev_ctl_out;
	struct event	*ev_wp;
	struct event	*ev_wp_out;
	struct event	*ev_sig;
	struct event	*ev_tick;
	int		 exit_code;
};

/*
 * Before the sandbox, first of all (the signalfd must get its fixed
 * descriptor before anything else takes it): the links and the signalfd
 * on WATCH_FD_SIGNAL.  0 or -1.
 */
int	watch_ipc_init(struct watch_ipc *, unsigned hb_ms,
	    const struct watch_ipc_cb *);
/* Then the events on the loop.  0 or -1. */
int	watch_ipc_attach(struct watch_ipc *, struct event_base *);
/* After the sandbox: opens the links (sends the hellos).  0 or -1. */
int	watch_ipc_start(struct watch_ipc *);
void	watch_ipc_free(struct watch_ipc *);
/* The planner channel when its link is up, else NULL. */
struct ipc_chan *watch_ipc_planner(struct watch_ipc *);
/* Waits for writable if anything is queued (call after sending). */
void	watch_ipc_kick(struct watch_ipc *);
/*
 * Blocks until the planner's queue is below `bytes` or timeout_ms passed
 * without progress (a large snapshot); 0, or -1 (the link is closed).
 */
int	watch_ipc_drain(struct watch_ipc *, size_t bytes, int timeout_ms);
/* Closes the planner link after a local failure (it waits for a new one). */
void	watch_ipc_planner_close(struct watch_ipc *);

#endif /* KIPVS_WATCH_IPC_H */
