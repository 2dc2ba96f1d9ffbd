/*
 * watcher -> planner: object records (struct rec_* from ipc/records.h),
 * deletes by key, list-complete markers per kind, and snapshot brackets.
 *
 * One record per message.  An EndpointSlice whose encoding does not fit
 * one message continues in WP_SLICE_MORE messages (FRAME_F_MORE on every
 * part but the last); nothing else may come between the parts.  After
 * every (re)connect the watcher sends a complete snapshot:
 *
 *	SNAPSHOT_BEGIN gen, records..., LIST_COMPLETE per kind,
 *	SNAPSHOT_END gen + record counts
 *
 * and then deltas (records, DELETE, LIST_COMPLETE after a relist).  The
 * receiver keeps the protocol state in struct wp_rx and gets whole
 * records out of wp_rx_feed().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROTO_WP_H
#define KIPVS_IPC_PROTO_WP_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"

struct ipc_chan;
struct frame_msg;

#define WP_SNAPSHOT_BEGIN	0x0101
#define WP_SNAPSHOT_END		0x0102
#define WP_SERVICE		0x0103
#define WP_SLICE		0x0104
#define WP_SLICE_MORE		0x0105
#define WP_NODE			0x0106
#define WP_DELETE		0x0107
#define WP_LIST_COMPLETE	0x0108

enum wp_kind {
	WP_KIND_SERVICE = 1,
	WP_KIND_SLICE = 2,
	WP_KIND_NODE = 3,
};

struct wp_snapshot_end {
	uint64_t	generation;
	uint32_t	n_services;
	uint32_t	n_slices;
	uint32_t	n_nodes;
};

/* Delete by key; a Node has an empty namespace. */
struct wp_delete {
	uint8_t		kind;		/* enum wp_kind */
	char		namespace[REC_NAMESPACE_MAX + 1];
	char		name[REC_NAME_MAX + 1];
};

int	wp_type_valid(uint16_t type);

/* Senders: encode and queue on the channel.  0 or -1 with errno. */
int	wp_send_snapshot_begin(struct ipc_chan *, uint64_t generation);
int	wp_send_snapshot_end(struct ipc_chan *, const struct wp_snapshot_end *);
int	wp_send_service(struct ipc_chan *, const struct rec_service *);
/* Splits the endpoints over WP_SLICE_MORE messages as needed. */
int	wp_send_slice(struct ipc_chan *, const struct rec_slice *);
int	wp_send_node(struct ipc_chan *, const struct rec_node *);
int	wp_send_delete(struct ipc_chan *, const struct wp_delete *);
int	wp_send_list_complete(struct ipc_chan *, uint8_t kind);

/* Encoders into a caller's buffer: payload length, or -1 (EMSGSIZE). */
long	wp_encode_service(const struct rec_service *, uint8_t *, size_t);
long	wp_encode_node(const struct rec_node *, uint8_t *, size_t);

/*
 * Decoders of one payload: 0, or -1 with *reason.  On success the caller
 * owns the record's arrays (rec_*_clear); on failure nothing is left
 * allocated.  wp_decode_slice_more appends to an existing slice.
 */
int	wp_decode_service(const uint8_t *, size_t, struct rec_service *,
	    const char **reason);
int	wp_decode_slice(const uint8_t *, size_t, struct rec_slice *,
	    const char **reason);
int	wp_decode_slice_more(const uint8_t *, size_t, struct rec_slice *,
	    const char **reason);
int	wp_decode_node(const uint8_t *, size_t, struct rec_node *,
	    const char **reason);
int	wp_decode_delete(const uint8_t *, size_t, struct wp_delete *,
	    const char **reason);
int	wp_decode_kind(const uint8_t *, size_t, uint8_t *kind,
	    const char **reason);
int	wp_decode_snapshot_begin(const uint8_t *, size_t, uint64_t *,
	    const char **reason);
int	wp_decode_snapshot_end(const uint8_t *, size_t,
	    struct wp_snapshot_end *, const char **reason);

/* Receiver state: which bracket is open and a slice being assembled. */
struct wp_rx {
	int		in_snapshot;
	uint64_t	generation;
	uint32_t	seen[4];	/* records per enum wp_kind */
	int		slice_pending;
	struct rec_slice pending;
};

enum wp_event_type {
	WP_EV_SNAPSHOT_BEGIN = 1,
	WP_EV_SNAPSHOT_END,
	WP_EV_SERVICE,
	WP_EV_SLICE,
	WP_EV_NODE,
	WP_EV_DELETE,
	WP_EV_LIST_COMPLETE,
};

struct wp_event {
	int		type;		/* enum wp_event_type */
	uint64_t	generation;	/* SNAPSHOT_BEGIN */
	struct wp_snapshot_end end;	/* SNAPSHOT_END */
	uint8_t		kind;		/* LIST_COMPLETE */
	struct wp_delete del;		/* DELETE */
	struct rec_service svc;		/* SERVICE: arrays owned by caller */
	struct rec_slice slice;		/* SLICE: arrays owned by caller */
	struct rec_node	node;		/* NODE */
};

void	wp_rx_init(struct wp_rx *);
/* Drops a half-assembled slice (on reconnect and at exit). */
void	wp_rx_reset(struct wp_rx *);
/*
 * Feeds one received message.  Returns 1 with *ev filled (the caller
 * clears ev->svc / ev->slice), 0 when the message was a part of a larger
 * record, -1 with *reason on a violation (the channel must be closed).
 */
int	wp_rx_feed(struct wp_rx *, const struct frame_msg *,
	    struct wp_event *, const char **reason);
/* Clears what an event owns. */
void	wp_event_clear(struct wp_event *);

#endif /* KIPVS_IPC_PROTO_WP_H */
