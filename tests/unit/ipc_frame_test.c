/*
 * Unit tests for ipc/frame.c over real SOCK_SEQPACKET socketpairs: round
 * trip, and each kind of malformed frame is a violation (EPROTO, reason,
 * channel stays closed): short, long (MSG_TRUNC), payload length wrong
 * either way, bad magic, bad version, unknown type, a type of another
 * direction, bad sequence, unknown flags, an attached descriptor (which is
 * closed), a descriptor missing where one is required.  Also end of
 * stream, the send queue, and oversized sends.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pa.h"
#include "ipc/proto_wp.h"
#include "tests/tap.h"

/* tx: the watcher's end; rx: the planner's end. */
static void
pair(struct ipc_chan *tx, struct ipc_chan *rx, enum ipc_dir down)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (down == IPC_DIR_CTL_DOWN) {
		ipc_chan_init(tx, sv[0], IPC_DIR_CTL_UP, IPC_DIR_CTL_DOWN);
		ipc_chan_init(rx, sv[1], IPC_DIR_CTL_DOWN, IPC_DIR_CTL_UP);
	} else {
		ipc_chan_init(tx, sv[0], IPC_DIR_PW, IPC_DIR_WP);
		ipc_chan_init(rx, sv[1], IPC_DIR_WP, IPC_DIR_PW);
	}
}

static size_t
hdr(uint8_t *buf, uint16_t magic, uint8_t version, uint8_t flags,
    uint16_t type, uint16_t reserved, uint32_t len, uint32_t seq)
{
	struct ipc_wr w;

	ipc_wr_init(&w, buf, FRAME_HDR_LEN);
	ipc_wr_u16(&w, magic);
	ipc_wr_u8(&w, version);
	ipc_wr_u8(&w, flags);
	ipc_wr_u16(&w, type);
	ipc_wr_u16(&w, reserved);
	ipc_wr_u32(&w, len);
	ipc_wr_u32(&w, seq);
	return w.len;
}

static int
count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* Sends raw bytes (and optionally an fd) and expects a violation. */
static void
expect_violation(const char *what, const uint8_t *buf, size_t n, int fd,
    const char *want)
{
	struct ipc_chan tx, rx;
	struct frame_msg m;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cb;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	int rv, before;

	pair(&tx, &rx, IPC_DIR_WP);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = n;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cb, 0, sizeof(cb));
		msg.msg_control = cb.b;
		msg.msg_controllen = sizeof(cb.b);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(tx.fd, &msg, 0) != (ssize_t)n)
		abort();
	before = count_fds();
	rv = frame_recv(&rx, &m);
	ok(rv == -1 && errno == EPROTO && strstr(rx.reason, want) != NULL,
	    "%s: violation (%s)", what, rx.reason);
	ok(count_fds() == before, "%s: no descriptor leaked", what);
	ok(frame_recv(&rx, &m) == -1 && errno == EPROTO,
	    "%s: the channel stays closed", what);
	ipc_chan_close(&tx);
	ipc_chan_close(&rx);
}

int
main(void)
{
	struct ipc_chan tx, rx;
	struct frame_msg m;
	struct ctl_peer_fd pf;
	uint8_t buf[FRAME_MAX_EDGE + 64], pay[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t n;
	int rv, i, sent, got, devnull;

	plan(55);

	/* Round trip and sequence numbers. */
	pair(&tx, &rx, IPC_DIR_WP);
	ok(frame_send(&tx, WP_SNAPSHOT_BEGIN, 0, pay, sizeof(pay)) == 0 &&
	    frame_send(&tx, WP_LIST_COMPLETE, 0, pay, 1) == 0, "send two");
	rv = frame_recv(&rx, &m);
	ok(rv == 1 && m.type == WP_SNAPSHOT_BEGIN && m.len == 8 &&
	    memcmp(m.payload, pay, 8) == 0 && m.seq == 1 && m.fd == -1,
	    "first message intact, seq 1");
	rv = frame_recv(&rx, &m);
	ok(rv == 1 && m.type == WP_LIST_COMPLETE && m.len == 1 && m.seq == 2,
	    "second message intact, seq 2");
	ok(frame_recv(&rx, &m) == -1 && errno == EAGAIN, "then EAGAIN");
	ok(frame_send(&tx, PA_OPS, 0, pay, 1) == -1 && errno == EMSGSIZE,
	    "a type of another direction is refused on send");
	memset(buf, 0, sizeof(buf));
	ok(frame_send(&tx, WP_SERVICE, 0, buf, FRAME_MAX_EDGE) == -1 &&
	    errno == EMSGSIZE, "an oversized payload is refused on send");
	ok(frame_send(&tx, WP_SERVICE, 0, buf, FRAME_MAX_EDGE -
	    FRAME_HDR_LEN) == 0, "a payload of exactly the maximum is sent");
	ok(frame_recv(&rx, &m) == 1 && m.len == FRAME_MAX_EDGE -
	    FRAME_HDR_LEN && m.seq == 3, "and received whole");
	close(tx.fd);
	tx.fd = -1;
	ok(frame_recv(&rx, &m) == 0, "end of stream is 0");
	ipc_chan_close(&tx);
	ipc_chan_close(&rx);

	/* The send queue: fill the socket, then drain in order. */
	pair(&tx, &rx, IPC_DIR_WP);
	for (sent = 0; sent < 400; sent++) {
		memset(buf, sent & 0xff, 4000);
		if (frame_send(&tx, WP_SERVICE, 0, buf, 4000) == -1)
			break;
	}
	ok(sent == 400 && frame_pending(&tx),
	    "queued more than the socket holds (%d sent)", sent);
	got = 0;
	for (i = 0; i < 10000 && got < sent; i++) {
		while (frame_recv(&rx, &m) == 1) {
			if (m.seq != (uint32_t)got + 1 ||
			    m.payload[0] != (got & 0xff))
				break;
			got++;
		}
		frame_flush(&tx);
	}
	ok(got == sent && !frame_pending(&tx),
	    "every queued message arrived in order (%d)", got);
	ipc_chan_close(&tx);
	ipc_chan_close(&rx);

	/* Malformed frames. */
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 1, 1);
	buf[n++] = 1;
	expect_violation("short", buf, 10, -1, "shorter than the header");
	memset(buf + FRAME_HDR_LEN, 0, FRAME_MAX_EDGE);
	hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_SERVICE, 0,
	    FRAME_MAX_EDGE + 1 - FRAME_HDR_LEN, 1);
	expect_violation("long (truncated)", buf, FRAME_MAX_EDGE + 1, -1,
	    "truncated");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 2, 1);
	buf[n++] = 1;
	expect_violation("payload shorter than its length", buf, n, -1,
	    "payload shorter");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 1, 1);
	buf[n++] = 1;
	buf[n++] = 1;
	expect_violation("trailing bytes", buf, n, -1, "trailing bytes");
	n = hdr(buf, 0x4242, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 0, 1);
	expect_violation("bad magic", buf, n, -1, "bad magic");
	n = hdr(buf, FRAME_MAGIC, 2, 0, WP_LIST_COMPLETE, 0, 0, 1);
	expect_violation("bad version", buf, n, -1, "unsupported version");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, 0x0999, 0, 0, 1);
	expect_violation("unknown type", buf, n, -1, "unknown message type");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, PA_OPS, 0, 0, 1);
	expect_violation("another direction's type", buf, n, -1,
	    "unknown message type");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 0, 2);
	expect_violation("bad sequence", buf, n, -1, "out-of-order");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0x80, WP_LIST_COMPLETE, 0, 0,
	    1);
	expect_violation("unknown flag", buf, n, -1, "unknown flags");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 7, 0, 1);
	expect_violation("reserved bits", buf, n, -1, "reserved");
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, WP_LIST_COMPLETE, 0, 1, 1);
	buf[n++] = 1;
	expect_violation("attached descriptor", buf, n, devnull,
	    "ancillary data");
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, 0, 0, 0, 1);
	expect_violation("type zero", buf, n, -1, "unknown message type");

	/* The one declared descriptor: CTL_PEER_FD, parent -> child. */
	pair(&tx, &rx, IPC_DIR_CTL_DOWN);
	pf.link = IPC_LINK_PA;
	ok(ctl_send_peer_fd(&tx, &pf, devnull) == 0, "peer socket sent");
	rv = frame_recv(&rx, &m);
	ok(rv == 1 && m.type == CTL_PEER_FD && m.fd >= 0 && m.fd != devnull,
	    "received with its descriptor");
	ok(fcntl(m.fd, F_GETFD) == FD_CLOEXEC, "received close-on-exec");
	close(m.fd);
	n = hdr(buf, FRAME_MAGIC, FRAME_VERSION, 0, CTL_PEER_FD, 0, 1, 2);
	buf[n++] = IPC_LINK_PA;
	if (send(tx.fd, buf, n, 0) != (ssize_t)n)
		abort();
	ok(frame_recv(&rx, &m) == -1 && errno == EPROTO &&
	    strstr(rx.reason, "exactly one descriptor") != NULL,
	    "peer socket message without a descriptor: violation (%s)",
	    rx.reason);
	ipc_chan_close(&tx);
	ipc_chan_close(&rx);
	close(devnull);

	ok(frame_type_valid(IPC_DIR_CTL_UP, CTL_HELLO) &&
	    frame_type_valid(IPC_DIR_AP, CTL_HEARTBEAT) &&
	    !frame_type_valid(IPC_DIR_CTL_UP, CTL_PEER_FD),
	    "hello and heartbeat everywhere, peer sockets only downwards");
	return done();
}
