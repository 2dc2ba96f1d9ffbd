/*
 * libFuzzer target: the frame header checks (frame_parse) for every
 * direction, with and without a descriptor.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc/frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_msg m;
	const char *reason;
	enum ipc_dir d;
	int nfds;

	if (size < 1)
		return 0;
	nfds = data[0] & 1;
	for (d = IPC_DIR_CTL_DOWN; d <= IPC_DIR_AP; d++)
		if (frame_parse(d, frame_max(d), 1, data + 1, size - 1, nfds,
		    &m, &reason) == 0 &&
		    (m.len != size - 1 - FRAME_HDR_LEN ||
		    !frame_type_valid(d, m.type)))
			__builtin_trap();
	return 0;
}
