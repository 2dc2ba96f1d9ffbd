/*
 * Restart back-off and restart-storm detection of the parent.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "supervisor/sup_backoff.h"

void
sup_backoff_init(struct sup_backoff *b, unsigned min_ms, unsigned max_ms,
    unsigned reset_ms, unsigned storm_count, unsigned storm_window_ms)
{
	memset(b, 0, sizeof(*b));
	b->min_ms = min_ms;
	b->max_ms = max_ms < min_ms ? min_ms : max_ms;
	b->reset_ms = reset_ms;
	b->storm_count = storm_count < SUP_STORM_MAX ? storm_count :
	    SUP_STORM_MAX - 1;
	b->storm_window_ms = storm_window_ms;
	b->cur_ms = min_ms;
}

int
sup_backoff_died(struct sup_backoff *b, uint64_t now, uint64_t uptime_ms,
    uint32_t rnd, unsigned *delay_ms)
{
	unsigned i, recent = 0;

	/* Restarts are the deaths before this one inside the window. */
	for (i = 0; i < b->n_deaths; i++)
		if (now - b->deaths[i] <= b->storm_window_ms)
			recent++;
	b->deaths[b->next] = now;
	b->next = (b->next + 1) % SUP_STORM_MAX;
	if (b->n_deaths < SUP_STORM_MAX)
		b->n_deaths++;
	if (recent >= b->storm_count)
		return 1;

	if (uptime_ms >= b->reset_ms)
		b->cur_ms = b->min_ms;
	*delay_ms = (unsigned)((uint64_t)rnd % ((uint64_t)b->cur_ms + 1));
	b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
	return 0;
}
