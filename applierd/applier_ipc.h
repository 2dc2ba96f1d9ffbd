/*
 * kipvs-applierd's side of the planner link: batches in, results and
 * dumps out.  A batch is collected until PA_BATCH_END, then checked
 * (applier_policy), executed (applier_exec) and answered with one result
 * per op; a dump follows when the batch asked for one.  A full dump goes
 * to every new planner and, every drift-check period, to the planner
 * that is up.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_IPC_H
#define KIPVS_APPLIER_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "applierd/applier_conf.h"
#include "applierd/applier_exec.h"
#include "applierd/applier_policy.h"
#include "ipc/proc.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_pa.h"

struct applier_ipc {
	struct pa_rx	 rx;
	const struct applier_conf *conf;
	struct applier_kernel *k;
	struct policy_state state;
	int		 ipvs_stale;	/* the state's IPVS part is old */
	int		 sets_stale;
	struct pa_op	*ops;		/* of the open batch */
	size_t		 n_ops;
	size_t		 cap_ops;
	uint64_t	 batch;
	uint32_t	 batch_flags;
	uint64_t	 dump;		/* last dump id sent */
	uint64_t	 next_drift_ms;
	struct ipc_proc_edge *edge;	/* the planner link, when up */
	char		 violation[160];	/* why the link is closing */
};

/* conf and k are borrowed for the life of the process. */
void	applier_ipc_init(struct applier_ipc *, struct ipc_proc *,
	    const struct applier_conf *, struct applier_kernel *);
/* Frees what the dispatch holds (the policy state, the op buffer). */
void	applier_ipc_free(struct applier_ipc *);

#endif /* KIPVS_APPLIER_IPC_H */
