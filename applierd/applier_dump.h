/*
 * applier_dump: the kernel as the applier sees it, for the planner (AP
 * dump records) and for its own policy state: owned IPVS virtual servers
 * with their real servers and connection counts, every local address by
 * interface, the members of the owned sets, the owned chains' rule counts.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_DUMP_H
#define KIPVS_APPLIER_DUMP_H

#include <stdint.h>

#include "applierd/applier_conf.h"
#include "applierd/applier_exec.h"
#include "applierd/applier_policy.h"
#include "ipc/proto_ap.h"

/*
 * Reads what `what` (PA_DUMP_*) names, refreshing the matching parts of
 * the state (addresses are always read: ownership depends on them), and
 * adds a record for each to tx unless tx is NULL.  0 or -1 (errno).
 */
int	dump_kernel(struct applier_kernel *, const struct applier_conf *,
	    struct policy_state *, uint32_t what, struct ap_tx *tx);

#endif /* KIPVS_APPLIER_DUMP_H */
