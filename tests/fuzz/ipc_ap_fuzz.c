/*
 * libFuzzer target: the planner's receiver of applier results and dumps
 * (ap_rx_feed and the record decoders).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipc/proto_ap.h"
#include "tests/fuzz/fuzz_feed.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
one(const struct frame_msg *m, void *arg)
{
	struct ap_rx *rx = arg;
	struct ap_event ev;
	const char *reason;
	size_t i;

	if (ap_rx_feed(rx, m, &ev, &reason) == -1)
		return -1;
	for (i = 0; ev.results != NULL && i < ev.n; i++)
		if (strlen(ev.results[i].reason) > AP_REASON_MAX)
			__builtin_trap();
	ap_event_clear(&ev);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_rx rx;

	ap_rx_init(&rx);
	fuzz_feed(data, size, one, &rx);
	return 0;
}
