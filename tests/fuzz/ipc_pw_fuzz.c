/*
 * libFuzzer target: the planner -> watcher receiver (pw_rx_feed).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipc/proto_pw.h"
#include "tests/fuzz/fuzz_feed.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
one(const struct frame_msg *m, void *arg)
{
	struct pw_rx *rx = arg;
	struct pw_event ev;
	const char *reason;
	int rv;

	rv = pw_rx_feed(rx, m, &ev, &reason);
	if (rv == 1 && ev.type == PW_EV_LOCAL_EPS) {
		if (ev.n > PW_MAX_LOCAL_EPS)
			__builtin_trap();
		free(ev.eps);
	}
	return rv == -1 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_rx rx;

	pw_rx_init(&rx);
	fuzz_feed(data, size, one, &rx);
	pw_rx_reset(&rx);
	return 0;
}
