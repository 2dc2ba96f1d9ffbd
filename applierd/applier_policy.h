/*
 * applier_policy: every planner op checked against the applier's own
 * configuration and its view of the kernel before anything is executed.
 * The decoders (ipc/proto_pa.c) have checked structure; this checks
 * meaning:
 *
 *	addresses	the deny-list (unspecified, loopback, link-local incl.
 *			169.254.169.254, multicast, broadcast, IPv4-mapped
 *			IPv6, --apiserver-address), node addresses never
 *			bound to kube-ipvs0
 *	ownership	a virtual server is the applier's only if its address
 *			is on kube-ipvs0 (or bound earlier in the batch), or
 *			is a node address and its port is in the NodePort
 *			range, and never inside --ipvs-exclude-cidrs; other
 *			virtual servers are neither changed nor deleted
 *	values		port 0, scheduler allow-list, persistence timeout in
 *			(0, 86400], real-server addresses, the masquerade bit
 *			and IPVS timeouts equal to the configuration
 *	sizes		ops per batch, owned virtual and real servers,
 *			kube-ipvs0 addresses
 *	mass deletion	a batch deleting more than --mass-delete-share of the
 *			owned objects is refused, unless it is flagged
 *			PA_BATCH_CONFIRMED once --mass-delete-holdoff-ms has
 *			passed since the first refusal
 *
 * It also records each op's prerequisite in the batch (the virtual server
 * of a real server, the bind of a virtual server's address, the set of a
 * member, ...) so the executor can report "blocked" when that failed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_POLICY_H
#define KIPVS_APPLIER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "applierd/applier_conf.h"
#include "applierd/applier_khash.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_pa.h"

/* A real server's identity, zero-padded for hashing. */
struct policy_rs_key {
	struct pa_vs_key vs;
	struct rec_addr	 addr;
	uint16_t	 port;
};

/*
 * What the applier knows of the kernel: refreshed from dumps (addresses
 * before every batch; IPVS and sets after a batch whose outcome is not
 * fully known), and otherwise kept up to date from each batch's results.
 */
struct policy_state {
	struct khash	 kube;		/* rec_addr on kube-ipvs0 */
	struct khash	 node;		/* rec_addr on other interfaces */
	struct khash	 vs;		/* owned pa_vs_key -> its RS count */
	struct khash	 rs;		/* owned policy_rs_key */
	int		 link;		/* kube-ipvs0 exists */
	uint32_t	 members[2][PA_SET_ID_MAX + 1];
	uint64_t	 mass_refused_ms;	/* first refusal, 0: none */
};

void	policy_state_init(struct policy_state *);
void	policy_state_free(struct policy_state *);
void	policy_state_clear_addrs(struct policy_state *);
void	policy_state_clear_ipvs(struct policy_state *);
int	policy_state_add_addr(struct policy_state *, int kube,
	    const struct rec_addr *);
int	policy_state_add_vs(struct policy_state *, const struct pa_vs_key *,
	    size_t n_rs);
int	policy_state_add_rs(struct policy_state *, const struct pa_rs *);
uint64_t policy_state_owned(const struct policy_state *);
/*
 * The IPVS part of the state after a batch, from the ops that succeeded
 * (their kernel answers): no re-read of the kernel is needed.  Call only
 * when no IPVS op of the batch failed (then the kernel's state is not
 * known: read it again).  0, or -1 (ENOMEM: read it again).
 */
int	policy_state_apply(struct policy_state *, const struct pa_op *ops,
	    const struct ap_result *res, size_t n);

/* Canonical (zero-padded) keys. */
void	policy_vs_key(struct pa_vs_key *dst, const struct pa_vs_key *src);
void	policy_addr_key(struct rec_addr *dst, const struct rec_addr *src);

/* NULL if the address may be a VIP; else why not. */
const char *policy_addr_denied(const struct applier_conf *,
	    const struct rec_addr *);
/* NULL if the address may be a real server; else why not. */
const char *policy_rs_addr_denied(const struct rec_addr *);
int	policy_sched_allowed(const char *);
/*
 * 1 if a virtual server with this key belongs to kipvs by the ownership
 * rule (kube-ipvs0 or node address + NodePort, outside the exclude CIDRs),
 * judged on the state alone.
 */
int	policy_vs_owned(const struct applier_conf *,
	    const struct policy_state *, const struct pa_vs_key *);

/*
 * Checks a batch.  res[i] must hold each op's seq with AP_OK; rejected ops
 * get AP_REJECTED, an errno and a reason.  dep[i] becomes the index of the
 * op's prerequisite in the batch, or -1.  Returns the number rejected, or
 * -1 (ENOMEM).
 */
long	policy_batch(const struct applier_conf *, struct policy_state *,
	    uint32_t batch_flags, const struct pa_op *ops, size_t n,
	    struct ap_result *res, long *dep, uint64_t now_ms);

#endif /* KIPVS_APPLIER_POLICY_H */
