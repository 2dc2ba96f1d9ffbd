/*
 * kipvs-applierd's side of the planner link: batches in, results and
 * dumps out.  At this stage every op but a dump request is answered
 * "rejected: not implemented"; a dump request is answered with an (empty)
 * dump.  The kernel backends replace applier_ipc_op() with real work.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_IPC_H
#define KIPVS_APPLIER_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proc.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_pa.h"

struct applier_ipc {
	struct pa_rx	 rx;
	struct ap_result *results;	/* of the open batch */
	size_t		 n_results;
	size_t		 cap_results;
	uint64_t	 batch;
	uint64_t	 dump;		/* last dump id sent */
	uint32_t	 dump_what;	/* requested in the open batch */
	int		 audit_fd;
	int		 xtlock_fd;
};

void	applier_ipc_init(struct applier_ipc *, struct ipc_proc *);

/*
 * Start-up module preload, run while CAP_SYS_MODULE is still held and
 * before the sandbox.  An empty, allow-listed hook for now.
 */
int	applier_preload(void);

#endif /* KIPVS_APPLIER_IPC_H */
