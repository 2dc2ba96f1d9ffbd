/*
 * Framing: header, limits, violations, and the send queue of a channel.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pa.h"
#include "ipc/proto_pw.h"
#include "ipc/proto_wp.h"

/* At most this many descriptors are taken off one message (all closed). */
#define FRAME_MAX_FDS	8

struct frame_out {
	struct frame_out *next;
	int		 fd;		/* attached descriptor or -1 */
	size_t		 len;
	uint8_t		 data[];
};

size_t
frame_max(enum ipc_dir dir)
{
	switch (dir) {
	case IPC_DIR_CTL_DOWN:
	case IPC_DIR_CTL_UP:
		return FRAME_MAX_CTL;
	case IPC_DIR_WP:
	case IPC_DIR_PW:
	case IPC_DIR_PA:
	case IPC_DIR_AP:
		return FRAME_MAX_EDGE;
	}
	return 0;
}

int
frame_type_valid(enum ipc_dir dir, uint16_t type)
{
	if (type == CTL_HELLO || type == CTL_HEARTBEAT)
		return 1;
	switch (dir) {
	case IPC_DIR_CTL_DOWN:
		return type == CTL_PEER_FD;
	case IPC_DIR_CTL_UP:
		return 0;
	case IPC_DIR_WP:
		return wp_type_valid(type);
	case IPC_DIR_PW:
		return pw_type_valid(type);
	case IPC_DIR_PA:
		return pa_type_valid(type);
	case IPC_DIR_AP:
		return ap_type_valid(type);
	}
	return 0;
}

uint16_t
frame_fd_type(enum ipc_dir dir)
{
	return dir == IPC_DIR_CTL_DOWN ? CTL_PEER_FD : 0;
}

const char *
frame_dir_name(enum ipc_dir dir)
{
	switch (dir) {
	case IPC_DIR_CTL_DOWN:
		return "parent->child";
	case IPC_DIR_CTL_UP:
		return "child->parent";
	case IPC_DIR_WP:
		return "watcher->planner";
	case IPC_DIR_PW:
		return "planner->watcher";
	case IPC_DIR_PA:
		return "planner->applier";
	case IPC_DIR_AP:
		return "applier->planner";
	}
	return "?";
}

int
ipc_chan_init(struct ipc_chan *c, int fd, enum ipc_dir rx_dir,
    enum ipc_dir tx_dir)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->rx_dir = rx_dir;
	c->tx_dir = tx_dir;
	c->rx_max = frame_max(rx_dir);
	c->tx_max = frame_max(tx_dir);
	c->outq_tail = &c->outq;
	if (c->rx_max == 0 || c->tx_max == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((c->rbuf = malloc(c->rx_max)) == NULL)
		return -1;
	return 0;
}

static void
outq_drop(struct ipc_chan *c)
{
	struct frame_out *o, *next;

	for (o = c->outq; o != NULL; o = next) {
		next = o->next;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	c->outq = NULL;
	c->outq_tail = &c->outq;
	c->outq_bytes = 0;
}

void
ipc_chan_close(struct ipc_chan *c)
{
	outq_drop(c);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	c->rbuf = NULL;
}

int
ipc_chan_reset(struct ipc_chan *c, int fd)
{
	outq_drop(c);
	if (c->fd != -1 && c->fd != fd)
		close(c->fd);
	c->fd = fd;
	c->rx_seq = 0;
	c->tx_seq = 0;
	c->broken = 0;
	c->reason[0] = '\0';
	return 0;
}

int
frame_parse(enum ipc_dir dir, size_t max, uint32_t expect_seq,
    const uint8_t *buf, size_t n, int nfds, struct frame_msg *m,
    const char **reason)
{
	struct ipc_rd r;
	uint16_t magic, type, reserved;
	uint8_t version, flags;
	uint32_t len, seq;
	uint16_t fdtype;

	if (n < FRAME_HDR_LEN) {
		*reason = "message shorter than the header";
		return -1;
	}
	if (n > max) {
		*reason = "message longer than the direction's maximum";
		return -1;
	}
	ipc_rd_init(&r, buf, FRAME_HDR_LEN);
	ipc_rd_u16(&r, &magic);
	ipc_rd_u8(&r, &version);
	ipc_rd_u8(&r, &flags);
	ipc_rd_u16(&r, &type);
	ipc_rd_u16(&r, &reserved);
	ipc_rd_u32(&r, &len);
	ipc_rd_u32(&r, &seq);
	if (magic != FRAME_MAGIC) {
		*reason = "bad magic";
		return -1;
	}
	if (version != FRAME_VERSION) {
		*reason = "unsupported version";
		return -1;
	}
	if ((flags & ~FRAME_F_ALL) != 0 || reserved != 0) {
		*reason = "unknown flags or reserved bits set";
		return -1;
	}
	if ((size_t)len != n - FRAME_HDR_LEN) {
		*reason = len > n - FRAME_HDR_LEN ?
		    "payload shorter than header says" :
		    "trailing bytes after payload";
		return -1;
	}
	if (!frame_type_valid(dir, type)) {
		*reason = "unknown message type for this direction";
		return -1;
	}
	if (seq != expect_seq) {
		*reason = "out-of-order sequence number";
		return -1;
	}
	fdtype = frame_fd_type(dir);
	if (nfds != 0 && (fdtype == 0 || type != fdtype || nfds != 1)) {
		*reason = "unexpected ancillary data (descriptor)";
		return -1;
	}
	if (fdtype != 0 && type == fdtype && nfds != 1) {
		*reason = "message must carry exactly one descriptor";
		return -1;
	}
	m->type = type;
	m->flags = flags;
	m->seq = seq;
	m->payload = buf + FRAME_HDR_LEN;
	m->len = len;
	m->fd = -1;
	return 0;
}

static int
chan_violation(struct ipc_chan *c, const char *reason)
{
	snprintf(c->reason, sizeof(c->reason), "%s: %s",
	    frame_dir_name(c->rx_dir), reason);
	c->broken = 1;
	errno = EPROTO;
	return -1;
}

int
frame_recv(struct ipc_chan *c, struct frame_msg *m)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)];
	} cbuf;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	int fds[FRAME_MAX_FDS];
	int nfds = 0, other_cmsg = 0, i;
	const char *reason = NULL;
	ssize_t n;
	size_t k, cnt;

	if (c->broken) {
		errno = EPROTO;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = c->rbuf;
	iov.iov_len = c->rx_max;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;

	/* Take every descriptor first so none leaks on a violation. */
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			other_cmsg = 1;
			continue;
		}
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int),
			    sizeof(int));
			if (nfds < FRAME_MAX_FDS)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0 && nfds == 0 && !other_cmsg)
		return 0;
	if (msg.msg_flags & MSG_TRUNC)
		reason = "message truncated (longer than the maximum)";
	else if (msg.msg_flags & MSG_CTRUNC)
		reason = "ancillary data truncated";
	else if (other_cmsg)
		reason = "unexpected ancillary data";
	else if (frame_parse(c->rx_dir, c->rx_max, c->rx_seq + 1, c->rbuf,
	    (size_t)n, nfds, m, &reason) == 0) {
		c->rx_seq++;
		if (nfds == 1)
			m->fd = fds[0];
		return 1;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return chan_violation(c, reason);
}

static int
frame_queue(struct ipc_chan *c, uint16_t type, uint8_t flags,
    const void *payload, size_t len, int fd)
{
	struct frame_out *o;
	struct ipc_wr w;

	if (c->broken || c->fd == -1) {
		errno = EPIPE;
		return -1;
	}
	if (len > c->tx_max - FRAME_HDR_LEN ||
	    !frame_type_valid(c->tx_dir, type) || (flags & ~FRAME_F_ALL)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->outq_bytes + FRAME_HDR_LEN + len > FRAME_OUTQ_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + FRAME_HDR_LEN + len)) == NULL)
		return -1;
	o->next = NULL;
	o->fd = -1;
	o->len = FRAME_HDR_LEN + len;
	if (fd != -1 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(o);
		return -1;
	}
	ipc_wr_init(&w, o->data, FRAME_HDR_LEN);
	ipc_wr_u16(&w, FRAME_MAGIC);
	ipc_wr_u8(&w, FRAME_VERSION);
	ipc_wr_u8(&w, flags);
	ipc_wr_u16(&w, type);
	ipc_wr_u16(&w, 0);
	ipc_wr_u32(&w, (uint32_t)len);
	ipc_wr_u32(&w, ++c->tx_seq);
	if (len > 0)
		memcpy(o->data + FRAME_HDR_LEN, payload, len);
	*c->outq_tail = o;
	c->outq_tail = &o->next;
	c->outq_bytes += o->len;
	return frame_flush(c);
}

int
frame_send(struct ipc_chan *c, uint16_t type, uint8_t flags,
    const void *payload, size_t len)
{
	return frame_queue(c, type, flags, payload, len, -1);
}

int
frame_send_fd(struct ipc_chan *c, uint16_t type, const void *payload,
    size_t len, int fd)
{
	if (fd < 0 || type != frame_fd_type(c->tx_dir)) {
		errno = EINVAL;
		return -1;
	}
	return frame_queue(c, type, 0, payload, len, fd);
}

int
frame_flush(struct ipc_chan *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct frame_out *o;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	ssize_t n;

	while ((o = c->outq) != NULL) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = o->data;
		iov.iov_len = o->len;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (o->fd != -1) {
			memset(&cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &o->fd, sizeof(int));
		}
		n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->outq = o->next;
		if (c->outq == NULL)
			c->outq_tail = &c->outq;
		c->outq_bytes -= o->len;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	return 0;
}

int
frame_pending(const struct ipc_chan *c)
{
	return c->outq != NULL;
}
