/*
 * Per-object retry back-off for failed ops.  An op that the applier
 * reports as failed or rejected makes its object wait before it is sent
 * again: min_ms after the first failure, doubling with each further
 * failure up to max_ms.  A success clears the object.  The object of an
 * op is what it changes: a virtual server (for VS and real-server ops, so
 * a server's ops wait together with its virtual server), an address, a
 * set member, a set, the chains of a family, the device, the timeouts.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_RETRY_H
#define KIPVS_PLAN_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proto_pa.h"

struct plan_retry;

struct plan_retry *plan_retry_new(unsigned min_ms, unsigned max_ms);
void	plan_retry_free(struct plan_retry *);

/*
 * 1 if the op's object may be sent at `now`; 0 if it must wait, with the
 * time it may go in *due.
 */
int	plan_retry_may(struct plan_retry *, const struct pa_op *,
	    uint64_t now, uint64_t *due);
/*
 * Records a failure; returns the wait before the next attempt, or 0 if
 * the entry could not be allocated (then the op is retried at once).
 */
unsigned plan_retry_failed(struct plan_retry *, const struct pa_op *,
	    uint64_t now);
/* Number of failures in a row so far (0 = none). */
unsigned plan_retry_failures(struct plan_retry *, const struct pa_op *);
/*
 * A success clears the object, unless another of its ops failed at the
 * same `now` (results of one batch are handled at one time).
 */
void	plan_retry_ok(struct plan_retry *, const struct pa_op *,
	    uint64_t now);
/* Objects currently waiting or failing. */
size_t	plan_retry_count(const struct plan_retry *);
/*
 * A complete sync asks plan_retry_may() about every object it still
 * wants to change (a failed object stays on the diff's list until it is
 * applied).  Between plan_retry_sweep_begin() before such a sync and
 * plan_retry_sweep_end() after it, objects not asked about (nor failed)
 * are dropped: nobody wants them changed any more (the old port of a
 * changed Service, a deleted Service), so they no longer count as
 * failing.  Returns the number dropped.
 */
void	plan_retry_sweep_begin(struct plan_retry *);
size_t	plan_retry_sweep_end(struct plan_retry *);
/*
 * 1 if op's object was asked about since plan_retry_sweep_begin() and
 * must still wait (its op was held back in this sync), with the time it
 * may go in *due.  Does not count as asking.
 */
int	plan_retry_held(struct plan_retry *, const struct pa_op *,
	    uint64_t now, uint64_t *due);

#endif /* KIPVS_PLAN_RETRY_H */
