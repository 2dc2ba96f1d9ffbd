/*
 * libFuzzer target: the control decoders (hello, heartbeat, peer socket).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc/proto_ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_hello h;
	struct ctl_heartbeat hb;
	struct ctl_peer_fd pf;
	const char *reason;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (ctl_decode_hello(data, size, flags, &h, &reason) == 0 &&
	    h.version[sizeof(h.version) - 1] != '\0')
		__builtin_trap();
	(void)ctl_decode_heartbeat(data, size, flags, &hb, &reason);
	(void)ctl_decode_peer_fd(data, size, flags, &pf, &reason);
	return 0;
}
