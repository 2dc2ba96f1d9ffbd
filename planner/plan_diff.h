/*
 * The incremental diff: from the model's dirty Services to the few
 * semantic operations (ipc/proto_pa.h) that bring the kernel there.
 *
 * The diff keeps, per Service, what each of its service ports contributes
 * (virtual servers with their real servers, set members, kube-ipvs0
 * addresses, KUBE-IPVS-OUT-FILTER drops), and per kernel object a
 * reference count and whether it is known to be in the kernel.  A sync
 * withdraws the old contributions of the dirty Services, adds their new
 * ones (plan_desired_svcport), and compares only the objects this touched
 * with what is known to be applied.  The cost of one change is therefore
 * that of the changed Service, whatever the size of the cluster.
 *
 * Known state starts from the applier's dump (plan_diff_kernel_*) and is
 * updated as if every emitted op succeeded; plan_diff_op_failed() reverts
 * one that did not, so the next sync emits it again.
 *
 * Graceful termination follows kube-proxy: a TCP real server that is no
 * longer wanted and still has connections gets weight 0 and is deleted by
 * plan_diff_reap() once a dump shows none; UDP and SCTP ones, and TCP ones
 * without connections, are deleted at once.  A virtual server nobody wants
 * is deleted unless it is inside excludeCIDRs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_DIFF_H
#define KIPVS_PLAN_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proto_pa.h"
#include "planner/plan_desired.h"
#include "planner/plan_model.h"

struct plan_diff;

/*
 * Called for each op in order; seq is left 0 for the sender to number.
 * Returning -1 stops the sync (the diff stays consistent: what was not
 * emitted is emitted by the next sync).
 */
struct plan_diff_sink {
	int		(*emit)(const struct pa_op *, void *);
	void		*arg;
};

/* cfg is borrowed for the life of the diff. */
struct plan_diff *plan_diff_new(const struct plan_config *cfg);
void	plan_diff_free(struct plan_diff *);

/* The kernel as dumped, before the first sync (or after a resync). */
int	plan_diff_kernel_vs(struct plan_diff *, const struct plan_vs *);
int	plan_diff_kernel_addr(struct plan_diff *, const struct rec_addr *);
int	plan_diff_kernel_entry(struct plan_diff *,
	    const struct pa_set_entry *);
/* Active + inactive connections of a real server from a dump. */
void	plan_diff_rs_conns(struct plan_diff *, const struct pa_vs_key *,
	    const struct rec_addr *, uint16_t port, uint32_t conns);

/*
 * Recomputes the model's dirty Services (all on the first sync or when the
 * model says all are dirty), emits the differing ops and clears the
 * model's dirty set.  Returns the number of ops emitted, or -1.  A diff
 * works with one model for its whole life (it keys Services by the
 * model's interned names).
 */
long	plan_diff_sync(struct plan_diff *, struct plan_model *,
	    const struct plan_diff_sink *);
/* Deletes weight-0 TCP real servers whose connections have drained. */
long	plan_diff_reap(struct plan_diff *, const struct plan_diff_sink *);
/* An emitted op failed: forget that it was applied; retried next sync. */
void	plan_diff_op_failed(struct plan_diff *, const struct pa_op *);

/* Counts for tests and metrics. */
size_t	plan_diff_nvs(const struct plan_diff *);
size_t	plan_diff_nterminating(const struct plan_diff *);

#endif /* KIPVS_PLAN_DIFF_H */
