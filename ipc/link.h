/*
 * A link: one socket to one peer, with the part of the protocol every
 * socket shares.  Opening a link sends CTL_HELLO; the peer's hello (its
 * role must be the expected one) brings the link up; until then any other
 * message is a violation.  Both sides send CTL_HEARTBEAT every interval,
 * and link_recv() consumes hellos and heartbeats itself, handing only the
 * edge's own messages to the caller.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_LINK_H
#define KIPVS_IPC_LINK_H

#include <stdint.h>

#include "ipc/frame.h"

struct ipc_link {
	struct ipc_chan	 chan;
	const char	*name;		/* the peer, for logs */
	uint8_t		 self_role;	/* enum ipc_role */
	uint8_t		 peer_role;
	enum ipc_dir	 rx_dir;
	enum ipc_dir	 tx_dir;
	int		 open;		/* has a socket */
	int		 up;		/* the peer's hello arrived */
	uint32_t	 peer_pid;
	uint64_t	 hb_tx;
	uint64_t	 hb_rx;
	uint64_t	 last_rx_ms;
	uint64_t	 next_hb_ms;
	unsigned	 hb_ms;
	int		 stale_logged;
};

/* CLOCK_MONOTONIC in milliseconds, and in microseconds. */
uint64_t ipc_now_ms(void);
uint64_t ipc_now_us(void);

void	link_init(struct ipc_link *, const char *name, uint8_t self_role,
	    uint8_t peer_role, enum ipc_dir rx, enum ipc_dir tx,
	    unsigned hb_ms);
/* Takes ownership of fd and sends the hello.  0 or -1. */
int	link_open(struct ipc_link *, int fd);
/* Closes the socket; the link can be opened again. */
void	link_close(struct ipc_link *);
/*
 * The same for a link on a fixed descriptor (a child's edge): the number
 * stays taken by /dev/null until the parent's fresh socket is moved onto
 * it, so nothing opened in between can get it.
 */
void	link_close_hold(struct ipc_link *);

#define LINK_MSG	1	/* an edge message is in *m */
#define LINK_UP		2	/* the peer's hello arrived */
#define LINK_IDLE	0	/* nothing more to read now */
#define LINK_DOWN	(-1)	/* end of stream, violation or error; logged */

/*
 * Reads what is there.  On LINK_DOWN the caller closes the link.  m's
 * payload is borrowed until the next call; a descriptor in m->fd is the
 * caller's.
 */
int	link_recv(struct ipc_link *, struct frame_msg *m);
/* Sends a heartbeat when due; returns milliseconds until the next one. */
int	link_tick(struct ipc_link *, uint64_t now);
/* Only the heartbeat part of link_tick (no reading, no stale check). */
void	link_heartbeat(struct ipc_link *, uint64_t now);
/* 1 when an up link has been silent for longer than timeout_ms. */
int	link_stale(const struct ipc_link *, uint64_t now, unsigned timeout_ms);

#endif /* KIPVS_IPC_LINK_H */
