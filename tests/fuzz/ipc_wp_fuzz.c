/*
 * libFuzzer target: the watcher -> planner receiver (wp_rx_feed and every
 * record decoder behind it), over sequences of messages.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipc/proto_wp.h"
#include "tests/fuzz/fuzz_feed.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
one(const struct frame_msg *m, void *arg)
{
	struct wp_rx *rx = arg;
	struct wp_event ev;
	const char *reason;
	unsigned i;
	int rv;

	rv = wp_rx_feed(rx, m, &ev, &reason);
	if (rv == -1)
		return reason == NULL ? (__builtin_trap(), -1) : -1;
	if (rv == 1 && ev.type == WP_EV_SLICE) {
		/* Touch everything the planner would read. */
		for (i = 0; i < ev.slice.n_endpoints; i++)
			if (strlen(ev.slice.endpoints[i].node_name) >
			    REC_NODENAME_MAX)
				__builtin_trap();
		if (ev.slice.n_endpoints > REC_MAX_SLICE_ENDPOINTS)
			__builtin_trap();
	}
	if (rv == 1 && ev.type == WP_EV_SERVICE)
		for (i = 0; i < ev.svc.n_ports; i++)
			if (ev.svc.ports[i].port == 0)
				__builtin_trap();
	if (rv == 1)
		wp_event_clear(&ev);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_rx rx;

	wp_rx_init(&rx);
	fuzz_feed(data, size, one, &rx);
	wp_rx_reset(&rx);
	return 0;
}
