/*
 * Unit tests for link_close_hold() (ipc/link.c): a child's edge closed
 * while it waits for the parent's fresh socket keeps its descriptor
 * number taken, so a socket opened meanwhile (libcurl's, in the watcher)
 * cannot get that number and then be replaced by the fresh one.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc/link.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "tests/tap.h"

#define FIXED	40	/* an edge's fixed descriptor, out of the way */

int
main(void)
{
	struct ipc_proc p;
	struct stat st;
	char c;
	int sv[2], s, other;

	plan(6);
	/* The children's descriptor 0 is /dev/null. */
	if ((s = open("/dev/null", O_RDONLY)) == -1 || dup2(s, 0) == -1)
		abort();
	close(s);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1 ||
	    dup2(sv[0], FIXED) == -1)
		abort();
	close(sv[0]);
	ipc_proc_init(&p, IPC_ROLE_WATCHER, 1000);
	ipc_proc_add_edge(&p, FIXED, IPC_LINK_WP, IPC_ROLE_PLANNER);
	ok(link_open(&p.edges[0].link, FIXED) == 0, "the edge is open on %d",
	    FIXED);
	(void)recv(sv[1], &c, 1, MSG_TRUNC);	/* the hello */

	link_close_hold(&p.edges[0].link);
	ok(!p.edges[0].link.open && p.edges[0].link.chan.fd == -1,
	    "the link is closed");
	ok(recv(sv[1], &c, 1, MSG_DONTWAIT) == 0, "the peer sees the end of "
	    "the stream: the socket is closed");
	ok(fstat(FIXED, &st) == 0 && S_ISCHR(st.st_mode),
	    "descriptor %d stays taken, by /dev/null", FIXED);
	/* Lowest free numbers first: fill below FIXED, then one more. */
	for (other = -1;;) {
		if ((s = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
			abort();
		if (s > FIXED || s == FIXED) {
			other = s;
			break;
		}
	}
	ok(other != FIXED, "a socket opened meanwhile gets another number "
	    "(%d)", other);
	/* The parent's fresh socket goes onto the number again. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1 ||
	    dup3(sv[0], FIXED, O_CLOEXEC) == -1)
		abort();
	ok(link_open(&p.edges[0].link, FIXED) == 0 && fstat(FIXED, &st) == 0 &&
	    S_ISSOCK(st.st_mode), "the fresh socket takes its place");
	ipc_chan_close(&p.edges[0].link.chan);
	return done();
}
