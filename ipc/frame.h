/*
 * Framing for every kipvs socket: AF_UNIX SOCK_SEQPACKET socketpairs, one
 * message per datagram, a fixed 16-byte header and a typed payload.
 *
 *	off size field
 *	  0   2  magic	 FRAME_MAGIC
 *	  2   1  version FRAME_VERSION
 *	  3   1  flags	 FRAME_F_*; unknown bits are a violation
 *	  4   2  type	 one of the receiving direction's types
 *	  6   2  reserved, zero
 *	  8   4  len	 payload length; header + len == bytes received
 *	 12   4  seq	 1, 2, 3, ... per direction of one socket
 *
 * All integers are little-endian.  A channel (struct ipc_chan) is one
 * socket plus the rules of the two directions it carries: the types it
 * may receive, the maximum message size each way, and which single type
 * (if any) may carry a descriptor.  Everything else a peer can do wrong
 * (short or long message, truncation, bad magic, version or sequence,
 * unknown type or flag, ancillary data) is a violation: frame_recv()
 * returns -1 with errno EPROTO and a reason in chan->reason, closes any
 * received descriptors, and the channel stays broken until reset.
 *
 * Sending is queued: frame_send() appends to an in-memory queue and tries
 * to flush it without blocking; the owner polls for POLLOUT while
 * frame_pending() and calls frame_flush().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_FRAME_H
#define KIPVS_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC		0x6b70		/* "pk" on the wire */
#define FRAME_VERSION		1
#define FRAME_HDR_LEN		16
#define FRAME_F_MORE		0x01	/* continued in the next message */
#define FRAME_F_ALL		0x01

/* Maximum message sizes, header included. */
#define FRAME_MAX_CTL		512
#define FRAME_MAX_EDGE		65536
/* Bytes that may wait in one channel's send queue. */
#define FRAME_OUTQ_MAX		(32u << 20)

/*
 * The direction a message travels decides which types are valid.  Each
 * edge socket carries two directions (WP and PW on the watcher-planner
 * socket, PA and AP on the planner-applier socket, CTL_DOWN and CTL_UP on
 * each parent-child socket).
 */
enum ipc_dir {
	IPC_DIR_CTL_DOWN = 1,	/* parent -> child */
	IPC_DIR_CTL_UP,		/* child -> parent */
	IPC_DIR_WP,		/* watcher -> planner */
	IPC_DIR_PW,		/* planner -> watcher */
	IPC_DIR_PA,		/* planner -> applier */
	IPC_DIR_AP,		/* applier -> planner */
};

struct frame_msg {
	uint16_t	 type;
	uint8_t		 flags;
	uint32_t	 seq;
	const uint8_t	*payload;	/* borrowed until the next receive */
	size_t		 len;
	int		 fd;		/* -1, or a descriptor for the caller */
};

struct frame_out;

struct ipc_chan {
	int		 fd;
	enum ipc_dir	 rx_dir;
	enum ipc_dir	 tx_dir;
	size_t		 rx_max;
	size_t		 tx_max;
	uint32_t	 rx_seq;	/* last sequence received */
	uint32_t	 tx_seq;	/* last sequence sent */
	int		 broken;
	uint8_t		*rbuf;
	struct frame_out *outq;
	struct frame_out **outq_tail;
	size_t		 outq_bytes;
	char		 reason[160];
};

/* Maximum message size (header included) of a direction. */
size_t	frame_max(enum ipc_dir);
/* Whether type may travel in direction dir. */
int	frame_type_valid(enum ipc_dir, uint16_t type);
/* The one type that carries a descriptor in dir, or 0. */
uint16_t frame_fd_type(enum ipc_dir);
const char *frame_dir_name(enum ipc_dir);

/*
 * Prepares chan for socket fd (ownership of fd passes to the channel).
 * rx_dir is what this side receives, tx_dir what it sends.
 */
int	ipc_chan_init(struct ipc_chan *, int fd, enum ipc_dir rx_dir,
	    enum ipc_dir tx_dir);
/* Closes the socket, drops the queue and frees the buffers. */
void	ipc_chan_close(struct ipc_chan *);
/* Starts over on a fresh socket (takes ownership of fd). */
int	ipc_chan_reset(struct ipc_chan *, int fd);

/*
 * Checks a received message of n bytes against the channel's rules and
 * fills m (payload points into buf).  nfds is the number of descriptors
 * that arrived with it.  Returns 0, or -1 with *reason set.  This is the
 * pure part of frame_recv(), used by the fuzzers.
 */
int	frame_parse(enum ipc_dir, size_t max, uint32_t expect_seq,
	    const uint8_t *buf, size_t n, int nfds, struct frame_msg *m,
	    const char **reason);

/*
 * Receives one message without blocking.  Returns 1 and fills m, 0 on end
 * of stream, -1 with errno (EAGAIN: nothing to read; EPROTO: violation,
 * reason in chan->reason; others from recvmsg).
 */
int	frame_recv(struct ipc_chan *, struct frame_msg *m);

/* Queues one message and tries to flush.  -1 with errno on failure. */
int	frame_send(struct ipc_chan *, uint16_t type, uint8_t flags,
	    const void *payload, size_t len);
/* Same with one descriptor attached; fd is borrowed (duplicated). */
int	frame_send_fd(struct ipc_chan *, uint16_t type, const void *payload,
	    size_t len, int fd);
/* Sends what is queued until the socket would block.  0 or -1. */
int	frame_flush(struct ipc_chan *);
int	frame_pending(const struct ipc_chan *);

#endif /* KIPVS_IPC_FRAME_H */
