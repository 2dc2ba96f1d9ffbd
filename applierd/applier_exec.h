/*
 * applier_exec: a checked batch executed through the kernel backends, in
 * order, with one result per op:
 *
 *	IPVS		consecutive IPVS ops go to ipvs_batch() together (many
 *			requests per sendmsg): first the virtual-server
 *			ensures, then the real-server ops, then the deletes
 *	ipset		consecutive adds (or deletes) of one set are one
 *			aggregated ipset_members_change(); a reload's staged
 *			members are one ipset_reload() at its commit
 *	addresses	consecutive kube-ipvs0 address ops go to addr_batch()
 *			together (many requests per sendmsg)
 *	iptables	all chain ops of one family are one libiptc batch
 *			(one commit per changed table, none when nothing
 *			changed) under the xtables lock, run at the position
 *			of the family's last chain op
 *
 * An op whose prerequisite (policy_batch()'s dep) did not succeed is
 * reported AP_BLOCKED and not executed.  ipset ops that the set cache
 * (applier_setcache) shows to be no change send nothing.  Before anything
 * runs, one "intent" audit record names the batch; every op then gets one
 * result record.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_EXEC_H
#define KIPVS_APPLIER_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "applierd/applier_audit.h"
#include "applierd/applier_setcache.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_pa.h"

struct ipvs_handle;
struct addr_handle;
struct ipset_handle;
struct ipt_handle;
struct ipt_kube_lb_drop;

/*
 * What the applier last wrote to each owned chain: the parameters of the
 * last replace that was committed, and for KUBE-IPVS-OUT-FILTER the drop
 * entries that came with it.  A dump compares the kernel's chain with the
 * template rendered from them (exec_chain_matches).  Nothing is known
 * after a start, nor after a replace or commit that failed: such a chain
 * is reported as not matching, so the planner writes it (once) again.
 */
struct exec_chain_memo {
	int			 known[2][PA_CHAIN_ID_MAX + 1];
	struct pa_chain		 params[2][PA_CHAIN_ID_MAX + 1];
	struct ipt_kube_lb_drop	*drops[2];
	size_t			 n_drops[2];
};

/* The kernel resources, opened before the sandbox. */
struct applier_kernel {
	struct ipvs_handle	*ipvs;		/* NULL: no IPVS (tests) */
	struct addr_handle	*addr;
	struct ipset_handle	*ipset;
	struct ipt_handle	*ipt[2];	/* IPv4, IPv6 */
	int			 audit_fd;
	struct audit_buf	 abuf;		/* a batch's result records */
	struct exec_chain_memo	 chains;
	struct setcache		 sets;		/* the owned ipsets */
};

/* Where a batch's time went (exec_stats.us, microseconds). */
enum exec_timer {
	EXEC_T_IPVS, EXEC_T_ADDR, EXEC_T_SETS, EXEC_T_CHAINS, EXEC_T_OTHER,
	EXEC_T_AUDIT, EXEC_T_MAX
};

struct exec_stats {
	uint32_t	ipvs_sent;	/* IPVS requests sent */
	uint32_t	ipvs_changed;	/* ... that wrote the kernel */
	uint32_t	ipt_commits;	/* tables written */
	uint32_t	ipset_sent;	/* ipset writes: ensures, members,
					   reloads sent to the kernel */
	uint32_t	addr_sent;	/* address requests */
	int		ipvs_dirty;	/* IPVS state changed */
	int		ipvs_failed;	/* an IPVS op failed: state unknown */
	int		sets_dirty;	/* a set's cache was lost: re-list */
	uint64_t	us[EXEC_T_MAX];	/* time spent per backend */
};

/*
 * Executes ops[0..n) whose res[] is not AP_REJECTED.  Writes one audit
 * record per op (every status) to k->audit_fd.
 */
void	exec_batch(struct applier_kernel *, uint64_t batch,
	    const struct pa_op *ops, size_t n, struct ap_result *res,
	    const long *dep, struct exec_stats *);

/*
 * Whether the kernel's chain (family 4 or 6, PA_CHAIN_*) equals the
 * template last written to it; call between ipt_begin() and ipt_abort()
 * of the family's handle.  1 equal, 0 different or nothing known, -1/errno
 * (ENOENT: no such chain).  *nkern gets the kernel's rule count.
 */
int	exec_chain_matches(struct applier_kernel *, uint8_t family,
	    uint8_t chain, size_t *nkern);

/*
 * The "intent" record of a batch, written before anything of it runs:
 * its op count, first and last seq and how many the policy rejected.  A
 * crash during the batch leaves it without (all) its result records.
 */
void	exec_audit_intent(int fd, uint64_t batch, const struct pa_op *,
	    size_t n, const struct ap_result *);
/* The result record of one op, gathered into ab. */
void	exec_audit(struct audit_buf *ab, uint64_t batch, const struct pa_op *,
	    const struct ap_result *);
/* "tcp 10.96.0.1:443", "KUBE-CLUSTER-IP 10.96.0.1,tcp:443", ... */
const char *exec_op_object(const struct pa_op *, char *buf, size_t len);

/* pa_* to backend structs, shared with the dumps. */
struct ipvs_svc;
struct ipvs_dest;
struct ipset_spec;
struct ipset_member;
void	exec_vs_to_svc(const struct pa_vs_key *, struct ipvs_svc *);
int	exec_svc_to_vs(const struct ipvs_svc *, struct pa_vs *);
int	exec_set_spec(uint8_t set, uint8_t family, struct ipset_spec *);
void	exec_entry_to_member(const struct pa_set_entry *,
	    struct ipset_member *);
void	exec_member_to_entry(uint8_t set, uint8_t family,
	    const struct ipset_member *, struct pa_set_entry *);

#endif /* KIPVS_APPLIER_EXEC_H */
