/*
 * libFuzzer target: the applier's receiver of planner batches (pa_rx_feed
 * and the op decoders) -- the privilege boundary.  Every op that decodes
 * must encode again to the same bytes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipc/proto_pa.h"
#include "tests/fuzz/fuzz_feed.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
one(const struct frame_msg *m, void *arg)
{
	struct pa_rx *rx = arg;
	struct pa_event ev;
	const char *reason;
	uint8_t buf[256];
	size_t i;

	if (pa_rx_feed(rx, m, &ev, &reason) == -1)
		return -1;
	if (ev.type == PA_EV_OPS) {
		for (i = 0; i < ev.n_ops; i++) {
			if (pa_op_name(ev.ops[i].kind) == NULL ||
			    pa_encode_op(&ev.ops[i], buf, sizeof(buf)) < 0)
				__builtin_trap();
		}
		free(ev.ops);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_rx rx;

	pa_rx_init(&rx);
	fuzz_feed(data, size, one, &rx);
	return 0;
}
