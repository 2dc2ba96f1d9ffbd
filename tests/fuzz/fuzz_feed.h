/*
 * Shared by the ipc fuzzers: splits the input into messages, each
 * [u16 type][u8 flags][u16 len][len bytes], and calls fn for each, as a
 * receiver would see them after frame_recv().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_FUZZ_FEED_H
#define KIPVS_FUZZ_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipc/frame.h"

/* fn returns -1 to stop (a violation closes the channel). */
static inline void
fuzz_feed(const uint8_t *data, size_t size,
    int (*fn)(const struct frame_msg *, void *), void *arg)
{
	struct frame_msg m;
	size_t off = 0, len;
	uint32_t seq = 0;

	while (size - off >= 5) {
		memset(&m, 0, sizeof(m));
		m.type = (uint16_t)(data[off] | data[off + 1] << 8);
		m.flags = data[off + 2];
		len = (size_t)(data[off + 3] | data[off + 4] << 8);
		off += 5;
		if (len > size - off)
			len = size - off;
		m.payload = data + off;
		m.len = len;
		m.seq = ++seq;
		m.fd = -1;
		off += len;
		if (fn(&m, arg) == -1)
			break;
	}
}

#endif /* KIPVS_FUZZ_FEED_H */
