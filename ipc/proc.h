/*
 * The child side of the wiring, shared by the three daemons: the control
 * link to the parent (fd 3), one or two edge links on fixed descriptors,
 * a signalfd, and a poll loop.  It answers the parent's heartbeats, moves
 * a fresh edge socket from CTL_PEER_FD onto the edge's fixed descriptor,
 * and hands each edge message to the daemon's dispatch function.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROC_H
#define KIPVS_IPC_PROC_H

#include <stdint.h>

#include "ipc/link.h"

/*
 * The fixed descriptors of each child (docs/supervisor.md).  0 and 1 are
 * /dev/null, 2 is the parent's stderr; the signalfd is made by the child
 * itself before its sandbox.
 */
#define IPC_FD_CTL		3	/* every child: the parent link */
#define WATCH_FD_WP		4
#define WATCH_FD_SIGNAL		5
#define PLAN_FD_WP		4
#define PLAN_FD_PA		5
#define PLAN_FD_SIGNAL		6
#define APPLY_FD_PA		4
#define APPLY_FD_AUDIT		5
#define APPLY_FD_XTLOCK		6
#define APPLY_FD_SIGNAL		7
#define IPC_PROC_MAX_EDGES	2

struct ipc_proc;

struct ipc_proc_edge {
	struct ipc_link	link;
	int		fixed_fd;
	uint8_t		link_id;	/* enum ipc_link_id */
};

/*
 * Dispatch of one edge message.  Returns 0, or -1 with *reason set for a
 * protocol violation (the link is then closed and waits for a fresh
 * socket from the parent).
 */
typedef int (*ipc_proc_msg_fn)(struct ipc_proc *, struct ipc_proc_edge *,
    const struct frame_msg *, const char **reason);
typedef void (*ipc_proc_edge_fn)(struct ipc_proc *, struct ipc_proc_edge *);
/*
 * Called once per loop turn, after everything readable was read (so
 * messages that arrived together are seen together) and before polling;
 * returns milliseconds until it wants to run again, or -1 for "only when
 * something arrives".
 */
typedef int (*ipc_proc_timer_fn)(struct ipc_proc *, uint64_t now_ms);

struct ipc_proc {
	uint8_t		 role;		/* enum ipc_role */
	unsigned	 hb_ms;
	struct ipc_link	 ctl;
	struct ipc_proc_edge edges[IPC_PROC_MAX_EDGES];
	int		 n_edges;
	int		 sigfd;
	void		*arg;		/* the daemon's state */
	ipc_proc_msg_fn	 on_msg;
	ipc_proc_edge_fn on_up;		/* after the peer's hello */
	ipc_proc_edge_fn on_down;	/* after the link closed */
	ipc_proc_timer_fn on_timer;	/* optional */
};

void	ipc_proc_init(struct ipc_proc *, uint8_t role, unsigned hb_ms);
void	ipc_proc_add_edge(struct ipc_proc *, int fixed_fd, uint8_t link_id,
	    uint8_t peer_role);
/*
 * Blocks SIGTERM, SIGINT and SIGHUP and puts a signalfd on descriptor fd
 * (declared, before the sandbox).  0 or -1.
 */
int	ipc_proc_signals(struct ipc_proc *, int fd);
/* Runs until SIGTERM/SIGINT (returns 0) or the parent is gone (1). */
int	ipc_proc_run(struct ipc_proc *);
/*
 * For a daemon busy inside one message for long (the applier's batch of
 * 60,000 ops): sends the parent its heartbeat when due and flushes it,
 * reading nothing (what the parent sends waits for the loop), so the
 * parent does not take the busy child for a hung one.  The arg is the
 * struct ipc_proc (a progress_fn).
 */
void	ipc_proc_keepalive(void *proc);

#endif /* KIPVS_IPC_PROC_H */
