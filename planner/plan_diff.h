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
 * Graceful termination follows kube-proxy (spec §5), with one difference
 * forced by where the planner sits: kube-proxy reads a removed TCP real
 * server's live connection count and deletes it at once when idle, but
 * the count known here is from the last dump.  So every removed TCP real
 * server first gets weight 0 (draining, count unknown), the caller asks
 * for a dump in the same batch (plan_diff_nuncounted), and
 * plan_diff_reap() deletes those that dump (or a later one) shows with no
 * active or inactive connections.  UDP and SCTP real servers are deleted
 * at once.  A draining server that is wanted again is deleted and re-added
 * at weight 1, as kube-proxy does.  A virtual server nobody wants is
 * deleted unless it is inside excludeCIDRs.
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
/*
 * A later dump replaces what is known: plan_diff_kernel_begin(), the
 * dump's objects through the calls above, plan_diff_kernel_end().  Every
 * known object is compared again at the next sync; what the dump lacks is
 * taken as absent (re-created if wanted), what it has and nobody wants is
 * deleted.  Real servers draining at weight 0 keep draining.
 */
int	plan_diff_kernel_begin(struct plan_diff *);
int	plan_diff_kernel_end(struct plan_diff *);
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
/*
 * The same, with the ops of a cold start split: the device, the sets, the
 * chains and what default/kubernetes needs go to `first`, everything else
 * to `rest`.  After the first sync everything goes to `rest`.
 */
long	plan_diff_sync_split(struct plan_diff *, struct plan_model *,
	    const struct plan_diff_sink *first,
	    const struct plan_diff_sink *rest);
/*
 * Deletes draining (weight-0 TCP) real servers that a dump taken after
 * they were set to weight 0 shows with no connections.  Call after a dump
 * has been fed in.  Returns the number of ops emitted, or -1.
 */
long	plan_diff_reap(struct plan_diff *, const struct plan_diff_sink *);
/*
 * Draining real servers whose connections no dump has counted since they
 * were set to weight 0: while non-zero, a dump is needed to reap them.
 */
size_t	plan_diff_nuncounted(const struct plan_diff *);
/* An emitted op failed: forget that it was applied; retried next sync. */
void	plan_diff_op_failed(struct plan_diff *, const struct pa_op *);

/*
 * The node's addresses (cfg->node_ips) changed: forget the node IPs
 * computed from them.  The caller marks the model all dirty.
 */
void	plan_diff_config_changed(struct plan_diff *);
/* Every chain of both families must be written again. */
void	plan_diff_chains_stale(struct plan_diff *);
/* One chain (PA_CHAIN_*) must be written again: a dump found it different. */
void	plan_diff_chain_stale(struct plan_diff *, uint8_t family,
	    uint8_t chain);
/* 1 if a sync would look at something even with a clean model. */
int	plan_diff_pending(const struct plan_diff *);
/* The Service owning a virtual server (borrowed names), or -1. */
int	plan_diff_vs_owner(const struct plan_diff *, const struct pa_vs_key *,
	    const char **ns, const char **name);

/* Counts for tests and metrics. */
/* Virtual servers, set members and addresses known or wanted. */
size_t	plan_diff_nowned(const struct plan_diff *);
size_t	plan_diff_nvs(const struct plan_diff *);
size_t	plan_diff_nterminating(const struct plan_diff *);

#endif /* KIPVS_PLAN_DIFF_H */
