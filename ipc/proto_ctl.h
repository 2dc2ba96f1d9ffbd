/*
 * Control messages: the parent <-> child edge, plus the two messages
 * every socket carries (hello and heartbeat).
 *
 *	CTL_HELLO	any direction, first message on every socket
 *	CTL_HEARTBEAT	any direction, every heartbeat interval
 *	CTL_PEER_FD	parent -> child only, carries one descriptor: a fresh
 *			socket for one of the child's edges after its peer
 *			was restarted
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROTO_CTL_H
#define KIPVS_IPC_PROTO_CTL_H

#include <stddef.h>
#include <stdint.h>

struct ipc_chan;

#define IPC_PROTO_VERSION	1

#define CTL_HELLO		0x0001
#define CTL_HEARTBEAT		0x0002
#define CTL_PEER_FD		0x0010

enum ipc_role {
	IPC_ROLE_PARENT = 1,
	IPC_ROLE_WATCHER,
	IPC_ROLE_PLANNER,
	IPC_ROLE_APPLIER,
};

/* The edges a parent can hand a fresh socket for. */
enum ipc_link_id {
	IPC_LINK_WP = 1,	/* watcher <-> planner */
	IPC_LINK_PA = 2,	/* planner <-> applier */
};

#define CTL_VERSION_MAX		31

struct ctl_hello {
	uint8_t		role;		/* enum ipc_role of the sender */
	uint16_t	proto;		/* IPC_PROTO_VERSION */
	uint32_t	pid;
	char		version[CTL_VERSION_MAX + 1];	/* software version */
};

struct ctl_heartbeat {
	uint64_t	counter;	/* 1, 2, 3, ... per sender and socket */
};

struct ctl_peer_fd {
	uint8_t		link;		/* enum ipc_link_id */
};

const char *ipc_role_name(uint8_t role);

int	ctl_send_hello(struct ipc_chan *, const struct ctl_hello *);
int	ctl_send_heartbeat(struct ipc_chan *, const struct ctl_heartbeat *);
/* fd is borrowed: the channel sends a duplicate. */
int	ctl_send_peer_fd(struct ipc_chan *, const struct ctl_peer_fd *,
	    int fd);

/* Decoders: 0, or -1 with *reason set.  flags are the frame's flags. */
int	ctl_decode_hello(const uint8_t *, size_t, uint8_t flags,
	    struct ctl_hello *, const char **reason);
int	ctl_decode_heartbeat(const uint8_t *, size_t, uint8_t flags,
	    struct ctl_heartbeat *, const char **reason);
int	ctl_decode_peer_fd(const uint8_t *, size_t, uint8_t flags,
	    struct ctl_peer_fd *, const char **reason);

#endif /* KIPVS_IPC_PROTO_CTL_H */
