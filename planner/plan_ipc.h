/*
 * kipvs-planner's side of its links: decodes what the watcher and the
 * applier send (ipc/proto_wp.h, ipc/proto_ap.h) and hands it to the loop
 * in plan_daemon.c, which also decides what goes back.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_IPC_H
#define KIPVS_PLAN_IPC_H

#include "ipc/proc.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_wp.h"

struct plan_daemon;

struct plan_ipc {
	struct wp_rx	 wp;
	struct ap_rx	 ap;
	struct plan_daemon *pd;
};

/*
 * Registers the two edges on p and the callbacks that feed pd (borrowed
 * for the life of p).  plan_ipc_links() gives the edges' links, for
 * plan_daemon_new(), before pd exists.
 */
void	plan_ipc_links(struct ipc_proc *p, struct ipc_link **wp,
	    struct ipc_link **pa);
void	plan_ipc_init(struct plan_ipc *, struct ipc_proc *,
	    struct plan_daemon *pd);
void	plan_ipc_clear(struct plan_ipc *);

#endif /* KIPVS_PLAN_IPC_H */
