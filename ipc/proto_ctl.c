/*
 * Control messages: encoders and decoders side by side.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_ctl.h"

const char *
ipc_role_name(uint8_t role)
{
	switch (role) {
	case IPC_ROLE_PARENT:
		return "parent";
	case IPC_ROLE_WATCHER:
		return "watcher";
	case IPC_ROLE_PLANNER:
		return "planner";
	case IPC_ROLE_APPLIER:
		return "applier";
	}
	return "unknown";
}

static int
ctl_finish(struct ipc_rd *r, uint8_t flags, const char **reason)
{
	if (flags != 0)
		ipc_rd_fail(r, "flags not allowed on this type");
	if (ipc_rd_end(r) == -1) {
		*reason = r->err;
		return -1;
	}
	return 0;
}

int
ctl_send_hello(struct ipc_chan *c, const struct ctl_hello *h)
{
	uint8_t buf[64];
	struct ipc_wr w;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u8(&w, h->role);
	ipc_wr_u16(&w, h->proto);
	ipc_wr_u32(&w, h->pid);
	ipc_wr_str(&w, h->version);
	if (w.overflow)
		return -1;
	return frame_send(c, CTL_HELLO, 0, buf, w.len);
}

int
ctl_decode_hello(const uint8_t *p, size_t len, uint8_t flags,
    struct ctl_hello *h, const char **reason)
{
	struct ipc_rd r;

	memset(h, 0, sizeof(*h));
	ipc_rd_init(&r, p, len);
	ipc_rd_u8(&r, &h->role);
	ipc_rd_u16(&r, &h->proto);
	ipc_rd_u32(&r, &h->pid);
	ipc_rd_str(&r, h->version, sizeof(h->version));
	if (r.err == NULL && (h->role < IPC_ROLE_PARENT ||
	    h->role > IPC_ROLE_APPLIER))
		ipc_rd_fail(&r, "unknown role");
	if (r.err == NULL && h->proto != IPC_PROTO_VERSION)
		ipc_rd_fail(&r, "protocol version mismatch");
	return ctl_finish(&r, flags, reason);
}

int
ctl_send_heartbeat(struct ipc_chan *c, const struct ctl_heartbeat *hb)
{
	uint8_t buf[8];
	struct ipc_wr w;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u64(&w, hb->counter);
	return frame_send(c, CTL_HEARTBEAT, 0, buf, w.len);
}

int
ctl_decode_heartbeat(const uint8_t *p, size_t len, uint8_t flags,
    struct ctl_heartbeat *hb, const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &hb->counter);
	if (r.err == NULL && hb->counter == 0)
		ipc_rd_fail(&r, "heartbeat counter zero");
	return ctl_finish(&r, flags, reason);
}

int
ctl_send_peer_fd(struct ipc_chan *c, const struct ctl_peer_fd *pf, int fd)
{
	uint8_t buf[1];

	buf[0] = pf->link;
	return frame_send_fd(c, CTL_PEER_FD, buf, sizeof(buf), fd);
}

int
ctl_decode_peer_fd(const uint8_t *p, size_t len, uint8_t flags,
    struct ctl_peer_fd *pf, const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u8(&r, &pf->link);
	if (r.err == NULL && pf->link != IPC_LINK_WP &&
	    pf->link != IPC_LINK_PA)
		ipc_rd_fail(&r, "unknown link");
	return ctl_finish(&r, flags, reason);
}
