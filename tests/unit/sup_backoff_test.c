/*
 * Unit tests for supervisor/sup_backoff.c: full-jitter delays within the
 * doubling ceiling (100 ms to 30 s), reset after a long uptime, and the
 * restart-storm threshold (more than 10 restarts in 5 minutes).
 * The parent's sources are in no library, so the file is included.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "supervisor/sup_backoff.c"
#include "tests/tap.h"

int
main(void)
{
	struct sup_backoff b;
	unsigned d, ceil = 100, i;
	uint64_t now = 1000000;
	int bad = 0, storm;

	plan(8);
	sup_backoff_init(&b, 100, 30000, 60000, 10, 300000);
	/* Whatever the random value, the delay stays under the ceiling. */
	for (i = 0; i < 10; i++) {
		now += 1000;
		if (sup_backoff_died(&b, now, 10, UINT32_MAX, &d) != 0)
			bad++;
		if (d > ceil)
			bad++;
		ceil = ceil * 2 > 30000 ? 30000 : ceil * 2;
	}
	ok(bad == 0, "delays stay within the doubling ceiling");
	ok(b.cur_ms == 30000, "the ceiling is capped at 30 s (%u)", b.cur_ms);
	now += 1000;
	storm = sup_backoff_died(&b, now, 10, 0, &d);
	ok(storm == 1, "the 11th death within 5 minutes is a storm");

	sup_backoff_init(&b, 100, 30000, 60000, 10, 300000);
	for (i = 0; i < 5; i++)
		sup_backoff_died(&b, now + i, 10, 7, &d);
	ok(b.cur_ms == 3200, "five quick deaths: ceiling 3.2 s (%u)", b.cur_ms);
	sup_backoff_died(&b, now + 10, 60000, UINT32_MAX, &d);
	ok(d <= 100 && b.cur_ms == 200,
	    "after 60 s of uptime the back-off starts over (%u, %u)", d,
	    b.cur_ms);

	sup_backoff_init(&b, 100, 30000, 60000, 10, 300000);
	bad = 0;
	for (i = 0; i < 30; i++) {
		/* One death every 40 s: never more than 10 in 5 minutes. */
		now += 40000;
		if (sup_backoff_died(&b, now, 40000, 12345, &d) != 0)
			bad++;
	}
	ok(bad == 0, "deaths spread out are never a storm");
	sup_backoff_init(&b, 100, 30000, 60000, 10, 300000);
	sup_backoff_died(&b, now, 10, 0, &d);
	ok(d == 0, "full jitter: the delay can be 0");
	sup_backoff_died(&b, now, 10, 150, &d);
	ok(d == 150 % 201, "full jitter: uniform below the ceiling (%u)", d);
	return done();
}
