/*
 * Exponential back-off with jitter for the watcher's retries, shaped like
 * client-go's reflector: the base delay (800 ms) doubles after every
 * failure up to a cap (30 s); each wait is the current delay stretched by a
 * random factor in [1, 1 + jitter).  Success resets it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_BACKOFF_H
#define KIPVS_WATCH_BACKOFF_H

#include <stdint.h>

#define WATCH_BACKOFF_BASE_MS	800
#define WATCH_BACKOFF_CAP_MS	30000
#define WATCH_BACKOFF_JITTER	100	/* percent: up to +100% */

struct watch_backoff {
	uint32_t	base_ms;
	uint32_t	cap_ms;
	uint32_t	jitter_pct;
	uint32_t	cur_ms;		/* 0: no failure since the reset */
	uint32_t	failures;
};

void	watch_backoff_init(struct watch_backoff *, uint32_t base_ms,
	    uint32_t cap_ms, uint32_t jitter_pct);
void	watch_backoff_reset(struct watch_backoff *);

/*
 * Records one more failure and returns how long to wait, in milliseconds.
 * rnd is a uniformly random 32-bit number (the caller's source, so tests
 * can pin it): the wait is cur + cur * jitter_pct/100 * rnd/2^32.
 */
uint32_t watch_backoff_next(struct watch_backoff *, uint32_t rnd);

#endif /* KIPVS_WATCH_BACKOFF_H */
