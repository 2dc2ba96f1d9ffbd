/*
 * kipvs-planner's loop: the model fed by the watcher's records, the
 * incremental diff fed by the applier's dumps and results, and the
 * decisions of when to send what.
 *
 *	- Nothing is sent before the first complete lists of Services and
 *	  EndpointSlices and the applier's first dump.  The first sync is
 *	  two batches: the device, the sets, the chains and what
 *	  default/kubernetes needs; then everything else.
 *	- Afterwards every change recomputes only the Services it touched
 *	  (plan_diff); changes that arrive together are one batch, and
 *	  batches are at least --ipvs-min-sync-period apart.  One batch is
 *	  in flight at a time; what changes meanwhile waits for its results.
 *	- Every --ipvs-sync-period a dump is requested; it replaces what is
 *	  known of the kernel, the next sync repairs differences and drained
 *	  real servers are deleted.  A new applier connection brings a dump
 *	  of its own, and nothing is sent to it before that dump.
 *	- A failed op makes its object wait (plan_retry.h); other objects go
 *	  on.  The object is named in the log.
 *	- A sync that would delete more than half of the owned objects, or
 *	  delete anything while default/kubernetes is missing, is held for
 *	  the hold-off and then sent with PA_BATCH_CONFIRMED.  A change that
 *	  arrives during the hold cancels it: a dump is requested and the
 *	  diff starts again from the kernel's real state.
 *	- The watcher gets the sync status and the local ready endpoints of
 *	  Services with health-check node ports, on change, at most once a
 *	  second each.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_DAEMON_H
#define KIPVS_PLAN_DAEMON_H

#include <stdint.h>

#include "common/kpconf.h"
#include "ipc/link.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_wp.h"

#define PLAN_HOLD_MS_DEFAULT	10000
#define PLAN_RETRY_MIN_MS	1000
#define PLAN_STATUS_MIN_MS	1000	/* rate limit towards the watcher */

struct plan_daemon;

/*
 * kc is copied.  hold_ms is the blast-radius hold-off.  The links are
 * borrowed (the ipc_proc's edges) and used only while up.
 */
struct plan_daemon *plan_daemon_new(const struct kp_config *kc,
	    unsigned hold_ms, struct ipc_link *wp, struct ipc_link *pa);
void	plan_daemon_free(struct plan_daemon *);

void	plan_daemon_wp_up(struct plan_daemon *, uint64_t now);
void	plan_daemon_wp_down(struct plan_daemon *);
/* 0, or -1 with *reason for a message out of state (closes the link). */
int	plan_daemon_wp_event(struct plan_daemon *, struct wp_event *,
	    const char **reason);

void	plan_daemon_pa_up(struct plan_daemon *, uint64_t now);
void	plan_daemon_pa_down(struct plan_daemon *);
int	plan_daemon_ap_event(struct plan_daemon *, struct ap_event *,
	    uint64_t now, const char **reason);

/* Runs what is due; returns milliseconds until it wants to run again. */
int	plan_daemon_tick(struct plan_daemon *, uint64_t now);

#endif /* KIPVS_PLAN_DAEMON_H */
