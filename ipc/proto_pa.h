/*
 * planner -> applier: batches of semantic operations.
 *
 *	PA_BATCH_BEGIN	batch id, flags, number of ops that follow
 *	PA_OPS		a count and that many ops (as many messages as needed)
 *	PA_BATCH_END	batch id, number of ops sent
 *
 * Every op has a sequence number, strictly increasing on one socket; the
 * applier answers with one result per op (proto_ap.h).  The ops carry
 * parameters, never kernel messages, rule blobs, names of chains or sets,
 * module names or paths: sets and chains are named by the enums below and
 * the applier maps them to its own allow-listed names and templates.
 *
 * The decoders check structure and ranges (enums, families, string
 * lengths and characters, counts).  Policy (deny-lists, port 0, the
 * scheduler allow-list, ownership, size caps) is the applier's: a policy
 * failure is a rejected op, a structural one closes the channel.
 *
 * To extend: add a new PA_OP_* kind at the end with its own encoder and
 * decoder case; old kinds never change meaning.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROTO_PA_H
#define KIPVS_IPC_PROTO_PA_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"

struct ipc_chan;
struct frame_msg;

#define PA_BATCH_BEGIN		0x0301
#define PA_OPS			0x0302
#define PA_BATCH_END		0x0303

#define PA_MAX_BATCH_OPS	1000000u
#define PA_SCHED_MAX		15	/* IP_VS_SCHEDNAME_MAXLEN - 1 */
#define PA_IFNAME_MAX		15	/* IFNAMSIZ - 1 */

/* Batch flags. */
#define PA_BATCH_FULL		0x01	/* a full sync, not a delta */
#define PA_BATCH_CONFIRMED	0x02	/* mass deletion, after the hold-off */
#define PA_BATCH_ALL		0x03

enum pa_op_kind {
	PA_OP_VS_ENSURE = 1,
	PA_OP_VS_DEL,
	PA_OP_RS_ENSURE,
	PA_OP_RS_DEL,
	PA_OP_RS_WEIGHT,
	PA_OP_IPVS_TIMEOUTS,
	PA_OP_LINK_ENSURE,	/* kube-ipvs0, dummy, down */
	PA_OP_ADDR_ADD,		/* /32 or /128 on kube-ipvs0 */
	PA_OP_ADDR_DEL,
	PA_OP_SET_ENSURE,
	PA_OP_SET_ADD,
	PA_OP_SET_DEL,
	PA_OP_SET_RELOAD_BEGIN,	/* create a temporary set */
	PA_OP_SET_RELOAD_COMMIT, /* swap it in, destroy the old one */
	PA_OP_CHAIN_REPLACE,
	PA_OP_CHAIN_DROP_VIP,	/* KUBE-IPVS-OUT-FILTER entry */
	PA_OP_DUMP_REQUEST,
};
#define PA_OP_KIND_MAX		PA_OP_DUMP_REQUEST

/* kube-proxy's ipsets; the family picks KUBE- or KUBE-6- names. */
enum pa_set_id {
	PA_SET_LOOP_BACK = 1,
	PA_SET_CLUSTER_IP,
	PA_SET_EXTERNAL_IP,
	PA_SET_EXTERNAL_IP_LOCAL,
	PA_SET_LOAD_BALANCER,
	PA_SET_LOAD_BALANCER_LOCAL,
	PA_SET_LOAD_BALANCER_FW,
	PA_SET_LOAD_BALANCER_SOURCE_IP,
	PA_SET_LOAD_BALANCER_SOURCE_CIDR,
	PA_SET_NODE_PORT_TCP,
	PA_SET_NODE_PORT_LOCAL_TCP,
	PA_SET_NODE_PORT_UDP,
	PA_SET_NODE_PORT_LOCAL_UDP,
	PA_SET_NODE_PORT_SCTP_HASH,
	PA_SET_NODE_PORT_LOCAL_SCTP_HASH,
	PA_SET_HEALTH_CHECK_NODE_PORT,
	PA_SET_IPVS_IPS,
};
#define PA_SET_ID_MAX		PA_SET_IPVS_IPS

enum pa_set_type {
	PA_SETTYPE_HASH_IP = 1,
	PA_SETTYPE_HASH_IP_PORT,
	PA_SETTYPE_HASH_IP_PORT_IP,
	PA_SETTYPE_HASH_IP_PORT_NET,
	PA_SETTYPE_BITMAP_PORT,
};

/* kube-proxy's IPVS-mode chains; the table is implied by the id. */
enum pa_chain_id {
	PA_CHAIN_NAT_SERVICES = 1,
	PA_CHAIN_NAT_POSTROUTING,
	PA_CHAIN_NAT_NODE_PORT,
	PA_CHAIN_NAT_LOAD_BALANCER,
	PA_CHAIN_NAT_MARK_MASQ,
	PA_CHAIN_FILTER_FORWARD,
	PA_CHAIN_FILTER_NODE_PORT,
	PA_CHAIN_FILTER_PROXY_FIREWALL,
	PA_CHAIN_FILTER_SOURCE_RANGES_FIREWALL,
	PA_CHAIN_FILTER_IPVS_FILTER,
	PA_CHAIN_FILTER_IPVS_OUT_FILTER,
};
#define PA_CHAIN_ID_MAX		PA_CHAIN_FILTER_IPVS_OUT_FILTER

/* Virtual-server flags. */
#define PA_VS_PERSISTENT	0x01
#define PA_VS_SCHED_PORT	0x02	/* IP_VS_SVC_F_SCHED2: mh-port */
#define PA_VS_ALL		0x03

/* Set-entry flags. */
#define PA_SETF_STAGED		0x01	/* into the reload's temporary set */
#define PA_SETF_ALL		0x01

/* Chain-template flags. */
#define PA_CHF_MASQUERADE_ALL	0x01
#define PA_CHF_RANDOM_FULLY	0x02
#define PA_CHF_ALL		0x03

enum pa_local_mode {
	PA_LOCAL_NONE = 0,
	PA_LOCAL_CIDR,		/* ! -s <cidr> */
	PA_LOCAL_BRIDGE,	/* ! -i <bridge> */
	PA_LOCAL_IFPREFIX,	/* ! -i <prefix>+ */
};

/* Dump request bits (also in AP_DUMP_BEGIN). */
#define PA_DUMP_IPVS		0x01
#define PA_DUMP_ADDRS		0x02
#define PA_DUMP_SETS		0x04
#define PA_DUMP_CHAINS		0x08
#define PA_DUMP_ALL		0x0f

struct pa_vs_key {
	struct rec_addr	addr;		/* family 4 or 6 */
	uint8_t		protocol;	/* enum rec_proto */
	uint16_t	port;
};

struct pa_vs {
	struct pa_vs_key key;
	char		sched[PA_SCHED_MAX + 1];
	uint8_t		flags;		/* PA_VS_* */
	uint32_t	timeout;	/* persistence, seconds */
	uint8_t		netmask;	/* persistence netmask (prefix) */
};

struct pa_rs {
	struct pa_vs_key vs;
	struct rec_addr	addr;		/* same family as the VS */
	uint16_t	port;
	uint32_t	weight;
};

struct pa_timeouts {
	uint32_t	tcp;
	uint32_t	tcp_fin;
	uint32_t	udp;
};

struct pa_set_entry {
	uint8_t		set;		/* enum pa_set_id */
	uint8_t		family;		/* 4 or 6 */
	uint8_t		flags;		/* PA_SETF_* */
	struct rec_addr	addr;		/* all but bitmap:port */
	uint8_t		protocol;	/* hash:ip,port* */
	uint16_t	port;		/* hash:ip,port* and bitmap:port */
	struct rec_prefix net;		/* ip,port,ip (full); ip,port,net */
};

struct pa_set {
	uint8_t		set;
	uint8_t		family;
};

struct pa_chain {
	uint8_t		family;
	uint8_t		chain;		/* enum pa_chain_id */
	uint8_t		flags;		/* PA_CHF_* */
	uint8_t		masq_bit;	/* 0..31 */
	uint32_t	sets_nonempty;	/* bit (1 << set id) */
	uint8_t		local_mode;	/* enum pa_local_mode */
	struct rec_prefix local_cidr;	/* PA_LOCAL_CIDR */
	char		local_iface[PA_IFNAME_MAX + 1];	/* BRIDGE, IFPREFIX */
};

struct pa_chain_drop_vip {
	uint8_t		family;
	struct pa_vs_key vip;
};

struct pa_op {
	uint8_t		kind;		/* enum pa_op_kind */
	uint32_t	seq;
	union {
		struct pa_vs	vs;		/* VS_ENSURE */
		struct pa_vs_key vs_key;	/* VS_DEL */
		struct pa_rs	rs;		/* RS_ENSURE, _DEL, _WEIGHT */
		struct pa_timeouts timeouts;
		struct rec_addr	addr;		/* ADDR_ADD, ADDR_DEL */
		struct pa_set	set;		/* SET_ENSURE, SET_RELOAD_* */
		struct pa_set_entry entry;	/* SET_ADD, SET_DEL */
		struct pa_chain	chain;
		struct pa_chain_drop_vip drop_vip;
		uint32_t	dump_what;	/* PA_DUMP_* */
	} u;
};

struct pa_batch_begin {
	uint64_t	batch;
	uint32_t	flags;		/* PA_BATCH_* */
	uint32_t	n_ops;
};

struct pa_batch_end {
	uint64_t	batch;
	uint32_t	n_ops;
};

int	pa_type_valid(uint16_t type);
const char *pa_op_name(uint8_t kind);
/* kube-proxy's name of a set for a family, or NULL for a bad id. */
const char *pa_set_name(uint8_t set, uint8_t family);
int	pa_set_type(uint8_t set);
const char *pa_chain_name(uint8_t chain);
const char *pa_chain_table(uint8_t chain);

/*
 * Batch sender: collects ops into PA_OPS messages of at most the edge's
 * size and queues each when full.  begin/op/end return 0 or -1 (errno).
 */
struct pa_tx {
	struct ipc_chan	*chan;
	uint64_t	 batch;
	uint32_t	 n_ops;
	uint32_t	 declared;
	uint16_t	 in_msg;
	size_t		 len;
	uint8_t		*buf;
};

int	pa_tx_begin(struct pa_tx *, struct ipc_chan *,
	    const struct pa_batch_begin *);
int	pa_tx_op(struct pa_tx *, const struct pa_op *);
int	pa_tx_end(struct pa_tx *);
/* Drops a batch being built (frees the buffer). */
void	pa_tx_abort(struct pa_tx *);

/* One op's encoding; -1 if it does not fit or a field is unencodable. */
long	pa_encode_op(const struct pa_op *, uint8_t *, size_t);

/* Decoders: 0, or -1 with *reason. */
int	pa_decode_batch_begin(const uint8_t *, size_t,
	    struct pa_batch_begin *, const char **reason);
int	pa_decode_batch_end(const uint8_t *, size_t, struct pa_batch_end *,
	    const char **reason);
/* Allocates *ops (caller frees) holding *n ops. */
int	pa_decode_ops(const uint8_t *, size_t, struct pa_op **ops,
	    size_t *n, const char **reason);

/* Receiver state: batch brackets, counts, increasing sequence numbers. */
struct pa_rx {
	int		in_batch;
	uint64_t	batch;
	uint64_t	last_batch;
	uint32_t	declared;
	uint32_t	seen;
	uint32_t	last_seq;
};

enum pa_event_type {
	PA_EV_BATCH_BEGIN = 1,
	PA_EV_OPS,
	PA_EV_BATCH_END,
};

struct pa_event {
	int		type;
	struct pa_batch_begin begin;
	struct pa_batch_end end;
	struct pa_op	*ops;		/* PA_EV_OPS: caller frees */
	size_t		n_ops;
};

void	pa_rx_init(struct pa_rx *);
int	pa_rx_feed(struct pa_rx *, const struct frame_msg *,
	    struct pa_event *, const char **reason);

/*
 * Field codecs shared with proto_ap.c (dump records reuse the op forms).
 */
struct ipc_wr;
struct ipc_rd;
void	pa_wr_vs_key(struct ipc_wr *, const struct pa_vs_key *);
void	pa_rd_vs_key(struct ipc_rd *, struct pa_vs_key *);
void	pa_wr_vs(struct ipc_wr *, const struct pa_vs *);
void	pa_rd_vs(struct ipc_rd *, struct pa_vs *);
void	pa_wr_rs(struct ipc_wr *, const struct pa_rs *);
void	pa_rd_rs(struct ipc_rd *, struct pa_rs *);
void	pa_wr_entry(struct ipc_wr *, const struct pa_set_entry *);
void	pa_rd_entry(struct ipc_rd *, struct pa_set_entry *);
/* Reads a short name made of [a-zA-Z0-9_.+-] into dst. */
void	pa_rd_name(struct ipc_rd *, char *dst, size_t dstsz, int allow_empty);

#endif /* KIPVS_IPC_PROTO_PA_H */
