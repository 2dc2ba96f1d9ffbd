/*
 * Restart policy of one child: exponential back-off with full jitter
 * (the delay is uniform in [0, cur], cur doubles from min to max and
 * returns to min once the child stayed up for reset_ms), and restart-
 * storm detection (more than storm_count restarts within storm_window_ms).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_SUP_BACKOFF_H
#define KIPVS_SUP_BACKOFF_H

#include <stdint.h>

#define SUP_STORM_MAX	64

struct sup_backoff {
	unsigned	min_ms;
	unsigned	max_ms;
	unsigned	reset_ms;
	unsigned	storm_count;
	unsigned	storm_window_ms;
	unsigned	cur_ms;		/* current ceiling */
	uint64_t	deaths[SUP_STORM_MAX];	/* ring of death times */
	unsigned	n_deaths;
	unsigned	next;
};

void	sup_backoff_init(struct sup_backoff *, unsigned min_ms,
	    unsigned max_ms, unsigned reset_ms, unsigned storm_count,
	    unsigned storm_window_ms);
/*
 * A child died at now after uptime_ms.  Returns 1 when this death makes a
 * restart storm (the caller gives up), else 0 with *delay_ms set from
 * the random value rnd.
 */
int	sup_backoff_died(struct sup_backoff *, uint64_t now,
	    uint64_t uptime_ms, uint32_t rnd, unsigned *delay_ms);

#endif /* KIPVS_SUP_BACKOFF_H */
