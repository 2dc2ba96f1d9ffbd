/*
 * kipvs-planner's side of its links: records from the watcher, status to
 * it; batches to the applier, results and dumps from it.  At this stage
 * it checks and counts what arrives and, when the applier link comes up,
 * sends a one-op batch asking for a dump, so every edge carries traffic.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_IPC_H
#define KIPVS_PLAN_IPC_H

#include <stdint.h>

#include "ipc/proc.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_wp.h"

struct plan_ipc {
	struct wp_rx	wp;
	struct ap_rx	ap;
	uint64_t	batch;		/* last batch id sent */
	uint32_t	op_seq;		/* last op sequence number sent */
	uint32_t	n_services;
	uint32_t	n_slices;
	uint32_t	n_nodes;
	uint32_t	results;	/* of the current batch */
	uint32_t	failed;
	uint32_t	dump_recs;
	int		synced;		/* a snapshot completed */
};

void	plan_ipc_init(struct plan_ipc *, struct ipc_proc *);

#endif /* KIPVS_PLAN_IPC_H */
