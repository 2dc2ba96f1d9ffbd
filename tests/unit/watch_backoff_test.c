/*
 * Unit tests for watcherd/watch_backoff.c: client-go's 800 ms doubling to
 * 30 s, jitter bounds, reset.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>

#include "watcherd/watch_backoff.h"
#include "tests/tap.h"

int
main(void)
{
	static const uint32_t seq[] = { 800, 1600, 3200, 6400, 12800, 25600,
	    30000, 30000 };
	struct watch_backoff bo;
	uint32_t d, i, lo_ok = 1, hi_ok = 1, spread = 0, first = 0;
	int exact = 1;

	plan(9);
	watch_backoff_init(&bo, WATCH_BACKOFF_BASE_MS, WATCH_BACKOFF_CAP_MS, 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		if (watch_backoff_next(&bo, 12345) != seq[i])
			exact = 0;
	ok(exact, "no jitter: 800 1600 3200 6400 12800 25600 30000 30000");
	is(bo.failures, 8, "failures counted");
	watch_backoff_reset(&bo);
	is(watch_backoff_next(&bo, 0), 800, "reset: back to the base");

	/* Full jitter: [d, 2d). */
	watch_backoff_init(&bo, 800, 30000, WATCH_BACKOFF_JITTER);
	is(watch_backoff_next(&bo, 0), 800, "rnd 0: the base itself");
	is(watch_backoff_next(&bo, UINT32_MAX), 1600 + 1599,
	    "rnd max: just under twice the delay");
	watch_backoff_init(&bo, 800, 30000, WATCH_BACKOFF_JITTER);
	for (i = 0; i < 1000; i++) {
		watch_backoff_reset(&bo);
		d = watch_backoff_next(&bo, (uint32_t)(i * 2654435761u));
		if (d < 800)
			lo_ok = 0;
		if (d >= 1600)
			hi_ok = 0;
		if (i == 0)
			first = d;
		else if (d != first)
			spread = 1;
	}
	ok(lo_ok && hi_ok, "first wait always in [800, 1600)");
	ok(spread, "and spread out");
	for (i = 0; i < 20; i++)
		d = watch_backoff_next(&bo, UINT32_MAX);
	ok(d < 60000 && d >= 30000, "capped delay with jitter < 2 x cap (%u)",
	    d);

	/* A cap below the base is raised to the base. */
	watch_backoff_init(&bo, 500, 100, 0);
	watch_backoff_next(&bo, 0);
	is(watch_backoff_next(&bo, 0), 500, "cap below base: base");
	return done();
}
