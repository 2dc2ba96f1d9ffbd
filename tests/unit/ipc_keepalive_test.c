/*
 * Unit tests for ipc_proc_keepalive() through the progress hook
 * (common/progress.h): a child busy inside one long message still sends
 * the parent its heartbeat on time, reads nothing meanwhile, and without
 * the hook progress() sends nothing.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/progress.h"
#include "ipc/frame.h"
#include "ipc/link.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "tests/tap.h"

#define HB_MS	50

/* Busy for ms milliseconds, calling progress() every millisecond. */
static void
busy(unsigned ms)
{
	uint64_t end = ipc_now_ms() + ms;
	struct timespec one = { 0, 1000000 };

	while (ipc_now_ms() < end) {
		nanosleep(&one, NULL);
		progress();
	}
}

/* Heartbeats waiting at the parent's end; -1 on anything else. */
static int
heartbeats(struct ipc_chan *parent, uint32_t *last)
{
	struct frame_msg m;
	struct ctl_heartbeat hb;
	int n = 0, rv;

	while ((rv = frame_recv(parent, &m)) == 1) {
		if (m.type == CTL_HELLO)
			continue;
		if (m.type != CTL_HEARTBEAT || ctl_decode_heartbeat(m.payload,
		    m.len, m.flags, &hb, NULL) == -1)
			return -1;
		if (hb.counter <= *last)
			return -1;
		*last = (uint32_t)hb.counter;
		n++;
	}
	return rv == -1 && errno == EAGAIN ? n : -1;
}

int
main(void)
{
	struct ipc_proc p;
	struct ipc_chan parent;
	struct ctl_heartbeat hb = { 1 };
	uint32_t last = 0;
	char peek[64];
	int sv[2], n;

	plan(6);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	ipc_proc_init(&p, IPC_ROLE_APPLIER, HB_MS);
	ok(link_open(&p.ctl, sv[0]) == 0 &&
	    ipc_chan_init(&parent, sv[1], IPC_DIR_CTL_UP,
	    IPC_DIR_CTL_DOWN) == 0, "a child's parent link");

	busy(300);
	n = heartbeats(&parent, &last);
	is(n, 0, "without the hook, progress() sends nothing");

	progress_set(ipc_proc_keepalive, &p);
	busy(1000);
	n = heartbeats(&parent, &last);
	/* 20 due in 1 s; a slow machine may send fewer, never more. */
	ok(n >= 8 && n <= 21, "busy for 1 s with the hook: %d heartbeats "
	    "every %d ms, counters increasing", n, HB_MS);

	/* The parent's own heartbeat is left for the loop to read. */
	ok(ctl_send_heartbeat(&parent, &hb) == 0, "the parent sends one");
	busy(200);
	ok(recv(sv[0], peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT) > 0,
	    "keepalive reads nothing: it is still queued");
	progress_set(NULL, NULL);
	(void)heartbeats(&parent, &last);
	busy(200);
	is(heartbeats(&parent, &last), 0, "hook removed: nothing more");
	ipc_chan_close(&parent);
	ipc_chan_close(&p.ctl.chan);
	return done();
}
