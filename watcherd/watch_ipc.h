/*
 * kipvs-watcherd's side of its links: the planner link (records out,
 * status in).  At this stage it sends an empty snapshot whenever the
 * planner link comes up; the apiserver engine will feed it later.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_IPC_H
#define KIPVS_WATCH_IPC_H

#include <stdint.h>

#include "ipc/proc.h"
#include "ipc/proto_pw.h"

struct watch_ipc {
	struct pw_rx	 rx;
	uint64_t	 generation;	/* of the last snapshot sent */
	struct pw_status status;	/* last status from the planner */
};

void	watch_ipc_init(struct watch_ipc *, struct ipc_proc *);

#endif /* KIPVS_WATCH_IPC_H */
