/*
 * planner -> applier operations: encoders, decoders and the receiver's
 * batch state machine, side by side.  Field layouts are in docs/ipc.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_pa.h"

#define PA_PAYLOAD_MAX	(FRAME_MAX_EDGE - FRAME_HDR_LEN)
/* Smallest op: kind, seq, nothing else (LINK_ENSURE). */
#define PA_OP_MIN	5
/* Largest op encoding, with room to spare. */
#define PA_OP_MAX	128

struct set_info {
	const char	*v4;
	const char	*v6;
	int		 type;
};

static const struct set_info set_table[PA_SET_ID_MAX + 1] = {
	[PA_SET_LOOP_BACK] = { "KUBE-LOOP-BACK", "KUBE-6-LOOP-BACK",
	    PA_SETTYPE_HASH_IP_PORT_IP },
	[PA_SET_CLUSTER_IP] = { "KUBE-CLUSTER-IP", "KUBE-6-CLUSTER-IP",
	    PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_EXTERNAL_IP] = { "KUBE-EXTERNAL-IP", "KUBE-6-EXTERNAL-IP",
	    PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_EXTERNAL_IP_LOCAL] = { "KUBE-EXTERNAL-IP-LOCAL",
	    "KUBE-6-EXTERNAL-IP-LOCAL", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_LOAD_BALANCER] = { "KUBE-LOAD-BALANCER",
	    "KUBE-6-LOAD-BALANCER", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_LOAD_BALANCER_LOCAL] = { "KUBE-LOAD-BALANCER-LOCAL",
	    "KUBE-6-LOAD-BALANCER-LOCAL", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_LOAD_BALANCER_FW] = { "KUBE-LOAD-BALANCER-FW",
	    "KUBE-6-LOAD-BALANCER-FW", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_LOAD_BALANCER_SOURCE_IP] = { "KUBE-LOAD-BALANCER-SOURCE-IP",
	    "KUBE-6-LOAD-BALANCER-SOURCE-IP", PA_SETTYPE_HASH_IP_PORT_IP },
	[PA_SET_LOAD_BALANCER_SOURCE_CIDR] = {
	    "KUBE-LOAD-BALANCER-SOURCE-CIDR",
	    "KUBE-6-LOAD-BALANCER-SOURCE-CID", PA_SETTYPE_HASH_IP_PORT_NET },
	[PA_SET_NODE_PORT_TCP] = { "KUBE-NODE-PORT-TCP",
	    "KUBE-6-NODE-PORT-TCP", PA_SETTYPE_BITMAP_PORT },
	[PA_SET_NODE_PORT_LOCAL_TCP] = { "KUBE-NODE-PORT-LOCAL-TCP",
	    "KUBE-6-NODE-PORT-LOCAL-TCP", PA_SETTYPE_BITMAP_PORT },
	[PA_SET_NODE_PORT_UDP] = { "KUBE-NODE-PORT-UDP",
	    "KUBE-6-NODE-PORT-UDP", PA_SETTYPE_BITMAP_PORT },
	[PA_SET_NODE_PORT_LOCAL_UDP] = { "KUBE-NODE-PORT-LOCAL-UDP",
	    "KUBE-6-NODE-PORT-LOCAL-UDP", PA_SETTYPE_BITMAP_PORT },
	[PA_SET_NODE_PORT_SCTP_HASH] = { "KUBE-NODE-PORT-SCTP-HASH",
	    "KUBE-6-NODE-PORT-SCTP-HASH", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_NODE_PORT_LOCAL_SCTP_HASH] = {
	    "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
	    "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", PA_SETTYPE_HASH_IP_PORT },
	[PA_SET_HEALTH_CHECK_NODE_PORT] = { "KUBE-HEALTH-CHECK-NODE-PORT",
	    "KUBE-6-HEALTH-CHECK-NODE-PORT", PA_SETTYPE_BITMAP_PORT },
	[PA_SET_IPVS_IPS] = { "KUBE-IPVS-IPS", "KUBE-6-IPVS-IPS",
	    PA_SETTYPE_HASH_IP },
};

static const char *const chain_names[PA_CHAIN_ID_MAX + 1] = {
	[PA_CHAIN_NAT_SERVICES] = "KUBE-SERVICES",
	[PA_CHAIN_NAT_POSTROUTING] = "KUBE-POSTROUTING",
	[PA_CHAIN_NAT_NODE_PORT] = "KUBE-NODE-PORT",
	[PA_CHAIN_NAT_LOAD_BALANCER] = "KUBE-LOAD-BALANCER",
	[PA_CHAIN_NAT_MARK_MASQ] = "KUBE-MARK-MASQ",
	[PA_CHAIN_FILTER_FORWARD] = "KUBE-FORWARD",
	[PA_CHAIN_FILTER_NODE_PORT] = "KUBE-NODE-PORT",
	[PA_CHAIN_FILTER_PROXY_FIREWALL] = "KUBE-PROXY-FIREWALL",
	[PA_CHAIN_FILTER_SOURCE_RANGES_FIREWALL] =
	    "KUBE-SOURCE-RANGES-FIREWALL",
	[PA_CHAIN_FILTER_IPVS_FILTER] = "KUBE-IPVS-FILTER",
	[PA_CHAIN_FILTER_IPVS_OUT_FILTER] = "KUBE-IPVS-OUT-FILTER",
};

static const char *const op_names[PA_OP_KIND_MAX + 1] = {
	[PA_OP_VS_ENSURE] = "vs-ensure",
	[PA_OP_VS_DEL] = "vs-del",
	[PA_OP_RS_ENSURE] = "rs-ensure",
	[PA_OP_RS_DEL] = "rs-del",
	[PA_OP_RS_WEIGHT] = "rs-weight",
	[PA_OP_IPVS_TIMEOUTS] = "ipvs-timeouts",
	[PA_OP_LINK_ENSURE] = "link-ensure",
	[PA_OP_ADDR_ADD] = "addr-add",
	[PA_OP_ADDR_DEL] = "addr-del",
	[PA_OP_SET_ENSURE] = "set-ensure",
	[PA_OP_SET_ADD] = "set-add",
	[PA_OP_SET_DEL] = "set-del",
	[PA_OP_SET_RELOAD_BEGIN] = "set-reload-begin",
	[PA_OP_SET_RELOAD_COMMIT] = "set-reload-commit",
	[PA_OP_CHAIN_REPLACE] = "chain-replace",
	[PA_OP_CHAIN_DROP_VIP] = "chain-drop-vip",
	[PA_OP_DUMP_REQUEST] = "dump-request",
};

int
pa_type_valid(uint16_t type)
{
	return type >= PA_BATCH_BEGIN && type <= PA_BATCH_END;
}

const char *
pa_op_name(uint8_t kind)
{
	if (kind < 1 || kind > PA_OP_KIND_MAX)
		return NULL;
	return op_names[kind];
}

const char *
pa_set_name(uint8_t set, uint8_t family)
{
	if (set < 1 || set > PA_SET_ID_MAX)
		return NULL;
	if (family == REC_FAMILY_IPV4)
		return set_table[set].v4;
	if (family == REC_FAMILY_IPV6)
		return set_table[set].v6;
	return NULL;
}

int
pa_set_type(uint8_t set)
{
	if (set < 1 || set > PA_SET_ID_MAX)
		return -1;
	return set_table[set].type;
}

const char *
pa_chain_name(uint8_t chain)
{
	if (chain < 1 || chain > PA_CHAIN_ID_MAX)
		return NULL;
	return chain_names[chain];
}

const char *
pa_chain_table(uint8_t chain)
{
	if (chain < 1 || chain > PA_CHAIN_ID_MAX)
		return NULL;
	return chain < PA_CHAIN_FILTER_FORWARD ? "nat" : "filter";
}

static int
valid_family(uint8_t f)
{
	return f == REC_FAMILY_IPV4 || f == REC_FAMILY_IPV6;
}

static int
valid_proto(uint8_t p)
{
	return p == REC_PROTO_TCP || p == REC_PROTO_UDP || p == REC_PROTO_SCTP;
}

/* Field codecs. */

void
pa_wr_vs_key(struct ipc_wr *w, const struct pa_vs_key *k)
{
	ipc_wr_addr(w, &k->addr);
	ipc_wr_u8(w, k->protocol);
	ipc_wr_u16(w, k->port);
}

void
pa_rd_vs_key(struct ipc_rd *r, struct pa_vs_key *k)
{
	ipc_rd_addr(r, &k->addr);
	ipc_rd_u8(r, &k->protocol);
	ipc_rd_u16(r, &k->port);
	if (r->err == NULL && !valid_proto(k->protocol))
		ipc_rd_fail(r, "bad protocol");
}

void
pa_rd_name(struct ipc_rd *r, char *dst, size_t dstsz, int allow_empty)
{
	size_t i;

	if (ipc_rd_str(r, dst, dstsz) == -1)
		return;
	if (!allow_empty && dst[0] == '\0') {
		ipc_rd_fail(r, "empty name");
		return;
	}
	for (i = 0; dst[i] != '\0'; i++) {
		char ch = dst[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		    ch == '-' || ch == '+')) {
			ipc_rd_fail(r, "bad character in name");
			return;
		}
	}
}

void
pa_wr_vs(struct ipc_wr *w, const struct pa_vs *vs)
{
	pa_wr_vs_key(w, &vs->key);
	ipc_wr_str(w, vs->sched);
	ipc_wr_u8(w, vs->flags);
	ipc_wr_u32(w, vs->timeout);
	ipc_wr_u8(w, vs->netmask);
}

void
pa_rd_vs(struct ipc_rd *r, struct pa_vs *vs)
{
	pa_rd_vs_key(r, &vs->key);
	pa_rd_name(r, vs->sched, sizeof(vs->sched), 0);
	ipc_rd_u8(r, &vs->flags);
	ipc_rd_u32(r, &vs->timeout);
	ipc_rd_u8(r, &vs->netmask);
	if (r->err != NULL)
		return;
	if (vs->flags & ~PA_VS_ALL)
		ipc_rd_fail(r, "unknown virtual-server flags");
	else if (vs->netmask >
	    (vs->key.addr.family == REC_FAMILY_IPV6 ? 128 : 32))
		ipc_rd_fail(r, "persistence netmask out of range");
}

void
pa_wr_rs(struct ipc_wr *w, const struct pa_rs *rs)
{
	pa_wr_vs_key(w, &rs->vs);
	ipc_wr_addr(w, &rs->addr);
	ipc_wr_u16(w, rs->port);
	ipc_wr_u32(w, rs->weight);
}

void
pa_rd_rs(struct ipc_rd *r, struct pa_rs *rs)
{
	pa_rd_vs_key(r, &rs->vs);
	ipc_rd_addr(r, &rs->addr);
	ipc_rd_u16(r, &rs->port);
	ipc_rd_u32(r, &rs->weight);
	if (r->err == NULL && rs->addr.family != rs->vs.addr.family)
		ipc_rd_fail(r, "real server family differs from the VS's");
}

void
pa_wr_entry(struct ipc_wr *w, const struct pa_set_entry *e)
{
	ipc_wr_u8(w, e->set);
	ipc_wr_u8(w, e->family);
	ipc_wr_u8(w, e->flags);
	switch (pa_set_type(e->set)) {
	case PA_SETTYPE_HASH_IP:
		ipc_wr_addr(w, &e->addr);
		break;
	case PA_SETTYPE_HASH_IP_PORT:
		ipc_wr_addr(w, &e->addr);
		ipc_wr_u8(w, e->protocol);
		ipc_wr_u16(w, e->port);
		break;
	case PA_SETTYPE_HASH_IP_PORT_IP:
		ipc_wr_addr(w, &e->addr);
		ipc_wr_u8(w, e->protocol);
		ipc_wr_u16(w, e->port);
		ipc_wr_addr(w, &e->net.addr);
		break;
	case PA_SETTYPE_HASH_IP_PORT_NET:
		ipc_wr_addr(w, &e->addr);
		ipc_wr_u8(w, e->protocol);
		ipc_wr_u16(w, e->port);
		ipc_wr_prefix(w, &e->net);
		break;
	case PA_SETTYPE_BITMAP_PORT:
		ipc_wr_u16(w, e->port);
		break;
	default:
		w->overflow = 1;
	}
}

void
pa_rd_entry(struct ipc_rd *r, struct pa_set_entry *e)
{
	int type;

	ipc_rd_u8(r, &e->set);
	ipc_rd_u8(r, &e->family);
	ipc_rd_u8(r, &e->flags);
	if (r->err != NULL)
		return;
	if ((type = pa_set_type(e->set)) == -1) {
		ipc_rd_fail(r, "unknown set");
		return;
	}
	if (!valid_family(e->family) || (e->flags & ~PA_SETF_ALL)) {
		ipc_rd_fail(r, "bad set family or flags");
		return;
	}
	if (type != PA_SETTYPE_BITMAP_PORT) {
		ipc_rd_addr(r, &e->addr);
		if (r->err == NULL && e->addr.family != e->family)
			ipc_rd_fail(r, "set member family differs");
	}
	if (type != PA_SETTYPE_HASH_IP && type != PA_SETTYPE_BITMAP_PORT) {
		ipc_rd_u8(r, &e->protocol);
		if (r->err == NULL && !valid_proto(e->protocol))
			ipc_rd_fail(r, "bad protocol");
	}
	if (type != PA_SETTYPE_HASH_IP)
		ipc_rd_u16(r, &e->port);
	if (type == PA_SETTYPE_HASH_IP_PORT_IP) {
		ipc_rd_addr(r, &e->net.addr);
		e->net.plen = e->family == REC_FAMILY_IPV6 ? 128 : 32;
	} else if (type == PA_SETTYPE_HASH_IP_PORT_NET)
		ipc_rd_prefix(r, &e->net);
	if (r->err == NULL && (type == PA_SETTYPE_HASH_IP_PORT_IP ||
	    type == PA_SETTYPE_HASH_IP_PORT_NET) &&
	    e->net.addr.family != e->family)
		ipc_rd_fail(r, "set member family differs");
}

static void
wr_chain(struct ipc_wr *w, const struct pa_chain *c)
{
	ipc_wr_u8(w, c->family);
	ipc_wr_u8(w, c->chain);
	ipc_wr_u8(w, c->flags);
	ipc_wr_u8(w, c->masq_bit);
	ipc_wr_u32(w, c->sets_nonempty);
	ipc_wr_u8(w, c->local_mode);
	if (c->local_mode == PA_LOCAL_CIDR)
		ipc_wr_prefix(w, &c->local_cidr);
	else if (c->local_mode == PA_LOCAL_BRIDGE ||
	    c->local_mode == PA_LOCAL_IFPREFIX)
		ipc_wr_str(w, c->local_iface);
}

static void
rd_chain(struct ipc_rd *r, struct pa_chain *c)
{
	uint32_t setmask = ((1u << (PA_SET_ID_MAX + 1)) - 1) & ~1u;

	ipc_rd_u8(r, &c->family);
	ipc_rd_u8(r, &c->chain);
	ipc_rd_u8(r, &c->flags);
	ipc_rd_u8(r, &c->masq_bit);
	ipc_rd_u32(r, &c->sets_nonempty);
	ipc_rd_u8(r, &c->local_mode);
	if (r->err != NULL)
		return;
	if (!valid_family(c->family) || pa_chain_name(c->chain) == NULL ||
	    (c->flags & ~PA_CHF_ALL) || c->masq_bit > 31 ||
	    (c->sets_nonempty & ~setmask)) {
		ipc_rd_fail(r, "bad chain parameters");
		return;
	}
	switch (c->local_mode) {
	case PA_LOCAL_NONE:
		break;
	case PA_LOCAL_CIDR:
		ipc_rd_prefix(r, &c->local_cidr);
		if (r->err == NULL && c->local_cidr.addr.family != c->family)
			ipc_rd_fail(r, "local CIDR family differs");
		break;
	case PA_LOCAL_BRIDGE:
	case PA_LOCAL_IFPREFIX:
		pa_rd_name(r, c->local_iface, sizeof(c->local_iface), 0);
		break;
	default:
		ipc_rd_fail(r, "bad local-traffic mode");
	}
}

/* Ops. */

long
pa_encode_op(const struct pa_op *op, uint8_t *buf, size_t cap)
{
	struct ipc_wr w;

	ipc_wr_init(&w, buf, cap);
	ipc_wr_u8(&w, op->kind);
	ipc_wr_u32(&w, op->seq);
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		pa_wr_vs(&w, &op->u.vs);
		break;
	case PA_OP_VS_DEL:
		pa_wr_vs_key(&w, &op->u.vs_key);
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		pa_wr_rs(&w, &op->u.rs);
		break;
	case PA_OP_IPVS_TIMEOUTS:
		ipc_wr_u32(&w, op->u.timeouts.tcp);
		ipc_wr_u32(&w, op->u.timeouts.tcp_fin);
		ipc_wr_u32(&w, op->u.timeouts.udp);
		break;
	case PA_OP_LINK_ENSURE:
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		ipc_wr_addr(&w, &op->u.addr);
		break;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		ipc_wr_u8(&w, op->u.set.set);
		ipc_wr_u8(&w, op->u.set.family);
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		pa_wr_entry(&w, &op->u.entry);
		break;
	case PA_OP_CHAIN_REPLACE:
		wr_chain(&w, &op->u.chain);
		break;
	case PA_OP_CHAIN_DROP_VIP:
		ipc_wr_u8(&w, op->u.drop_vip.family);
		pa_wr_vs_key(&w, &op->u.drop_vip.vip);
		break;
	case PA_OP_DUMP_REQUEST:
		ipc_wr_u32(&w, op->u.dump_what);
		break;
	default:
		w.overflow = 1;
	}
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return (long)w.len;
}

static void
rd_op(struct ipc_rd *r, struct pa_op *op)
{
	memset(op, 0, sizeof(*op));
	ipc_rd_u8(r, &op->kind);
	ipc_rd_u32(r, &op->seq);
	if (r->err != NULL)
		return;
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		pa_rd_vs(r, &op->u.vs);
		break;
	case PA_OP_VS_DEL:
		pa_rd_vs_key(r, &op->u.vs_key);
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		pa_rd_rs(r, &op->u.rs);
		break;
	case PA_OP_IPVS_TIMEOUTS:
		ipc_rd_u32(r, &op->u.timeouts.tcp);
		ipc_rd_u32(r, &op->u.timeouts.tcp_fin);
		ipc_rd_u32(r, &op->u.timeouts.udp);
		break;
	case PA_OP_LINK_ENSURE:
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		ipc_rd_addr(r, &op->u.addr);
		break;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		ipc_rd_u8(r, &op->u.set.set);
		ipc_rd_u8(r, &op->u.set.family);
		if (r->err == NULL && (pa_set_type(op->u.set.set) == -1 ||
		    !valid_family(op->u.set.family)))
			ipc_rd_fail(r, "unknown set or family");
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		pa_rd_entry(r, &op->u.entry);
		break;
	case PA_OP_CHAIN_REPLACE:
		rd_chain(r, &op->u.chain);
		break;
	case PA_OP_CHAIN_DROP_VIP:
		ipc_rd_u8(r, &op->u.drop_vip.family);
		pa_rd_vs_key(r, &op->u.drop_vip.vip);
		if (r->err == NULL &&
		    op->u.drop_vip.vip.addr.family != op->u.drop_vip.family)
			ipc_rd_fail(r, "VIP family differs");
		break;
	case PA_OP_DUMP_REQUEST:
		ipc_rd_u32(r, &op->u.dump_what);
		if (r->err == NULL && (op->u.dump_what == 0 ||
		    (op->u.dump_what & ~PA_DUMP_ALL)))
			ipc_rd_fail(r, "bad dump request");
		break;
	default:
		ipc_rd_fail(r, "unknown op kind");
	}
}

int
pa_decode_ops(const uint8_t *p, size_t len, struct pa_op **opsp, size_t *np,
    const char **reason)
{
	struct pa_op *ops = NULL;
	struct ipc_rd r;
	uint16_t n;
	unsigned i;

	*opsp = NULL;
	*np = 0;
	ipc_rd_init(&r, p, len);
	if (ipc_rd_count16(&r, &n, UINT16_MAX, PA_OP_MIN) == -1)
		goto fail;
	if (n == 0) {
		ipc_rd_fail(&r, "empty op list");
		goto fail;
	}
	if ((ops = calloc(n, sizeof(*ops))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < n; i++)
		rd_op(&r, &ops[i]);
	if (ipc_rd_end(&r) == -1)
		goto fail;
	*opsp = ops;
	*np = n;
	return 0;
 fail:
	free(ops);
	*reason = r.err;
	return -1;
}

/* Batch brackets. */

int
pa_decode_batch_begin(const uint8_t *p, size_t len, struct pa_batch_begin *b,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &b->batch);
	ipc_rd_u32(&r, &b->flags);
	ipc_rd_u32(&r, &b->n_ops);
	if (r.err == NULL && (b->flags & ~PA_BATCH_ALL))
		ipc_rd_fail(&r, "unknown batch flags");
	if (r.err == NULL && b->n_ops > PA_MAX_BATCH_OPS)
		ipc_rd_fail(&r, "batch larger than the limit");
	if (ipc_rd_end(&r) == -1) {
		*reason = r.err;
		return -1;
	}
	return 0;
}

int
pa_decode_batch_end(const uint8_t *p, size_t len, struct pa_batch_end *b,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &b->batch);
	ipc_rd_u32(&r, &b->n_ops);
	if (ipc_rd_end(&r) == -1) {
		*reason = r.err;
		return -1;
	}
	return 0;
}

/* Batch sender. */

static int
tx_flush(struct pa_tx *tx)
{
	int rv;

	if (tx->in_msg == 0)
		return 0;
	tx->buf[0] = (uint8_t)tx->in_msg;
	tx->buf[1] = (uint8_t)(tx->in_msg >> 8);
	rv = frame_send(tx->chan, PA_OPS, 0, tx->buf, tx->len);
	tx->in_msg = 0;
	tx->len = 2;
	return rv;
}

int
pa_tx_begin(struct pa_tx *tx, struct ipc_chan *c,
    const struct pa_batch_begin *b)
{
	uint8_t hdr[16];
	struct ipc_wr w;

	memset(tx, 0, sizeof(*tx));
	if (b->n_ops > PA_MAX_BATCH_OPS || (b->flags & ~PA_BATCH_ALL)) {
		errno = EINVAL;
		return -1;
	}
	if ((tx->buf = malloc(PA_PAYLOAD_MAX)) == NULL)
		return -1;
	tx->chan = c;
	tx->batch = b->batch;
	tx->declared = b->n_ops;
	tx->len = 2;
	ipc_wr_init(&w, hdr, sizeof(hdr));
	ipc_wr_u64(&w, b->batch);
	ipc_wr_u32(&w, b->flags);
	ipc_wr_u32(&w, b->n_ops);
	if (frame_send(c, PA_BATCH_BEGIN, 0, hdr, w.len) == -1) {
		pa_tx_abort(tx);
		return -1;
	}
	return 0;
}

int
pa_tx_op(struct pa_tx *tx, const struct pa_op *op)
{
	uint8_t one[PA_OP_MAX];
	long n;

	if (tx->n_ops >= tx->declared) {
		errno = E2BIG;
		return -1;
	}
	if ((n = pa_encode_op(op, one, sizeof(one))) < 0)
		return -1;
	if ((size_t)n > PA_PAYLOAD_MAX - tx->len || tx->in_msg == UINT16_MAX)
		if (tx_flush(tx) == -1)
			return -1;
	memcpy(tx->buf + tx->len, one, (size_t)n);
	tx->len += (size_t)n;
	tx->in_msg++;
	tx->n_ops++;
	return 0;
}

int
pa_tx_end(struct pa_tx *tx)
{
	uint8_t hdr[12];
	struct ipc_wr w;
	int rv = -1;

	if (tx->n_ops != tx->declared) {
		errno = EINVAL;
		goto out;
	}
	if (tx_flush(tx) == -1)
		goto out;
	ipc_wr_init(&w, hdr, sizeof(hdr));
	ipc_wr_u64(&w, tx->batch);
	ipc_wr_u32(&w, tx->n_ops);
	rv = frame_send(tx->chan, PA_BATCH_END, 0, hdr, w.len);
 out:
	pa_tx_abort(tx);
	return rv;
}

void
pa_tx_abort(struct pa_tx *tx)
{
	free(tx->buf);
	tx->buf = NULL;
}

/* Receiver. */

void
pa_rx_init(struct pa_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

static int
pa_rx_fail(const char **reason, const char *why)
{
	*reason = why;
	return -1;
}

int
pa_rx_feed(struct pa_rx *rx, const struct frame_msg *m, struct pa_event *ev,
    const char **reason)
{
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (m->flags != 0)
		return pa_rx_fail(reason, "flags not allowed on this type");
	switch (m->type) {
	case PA_BATCH_BEGIN:
		if (rx->in_batch)
			return pa_rx_fail(reason, "batch begin inside a batch");
		if (pa_decode_batch_begin(m->payload, m->len, &ev->begin,
		    reason) == -1)
			return -1;
		if (ev->begin.batch <= rx->last_batch)
			return pa_rx_fail(reason, "batch id not increasing");
		rx->in_batch = 1;
		rx->batch = ev->begin.batch;
		rx->declared = ev->begin.n_ops;
		rx->seen = 0;
		ev->type = PA_EV_BATCH_BEGIN;
		return 1;
	case PA_OPS:
		if (!rx->in_batch)
			return pa_rx_fail(reason, "ops outside a batch");
		if (pa_decode_ops(m->payload, m->len, &ev->ops, &ev->n_ops,
		    reason) == -1)
			return -1;
		if (ev->n_ops > rx->declared - rx->seen) {
			free(ev->ops);
			ev->ops = NULL;
			return pa_rx_fail(reason, "more ops than declared");
		}
		for (i = 0; i < ev->n_ops; i++) {
			if (ev->ops[i].seq <= rx->last_seq) {
				free(ev->ops);
				ev->ops = NULL;
				return pa_rx_fail(reason, "op sequence not "
				    "increasing");
			}
			rx->last_seq = ev->ops[i].seq;
		}
		rx->seen += (uint32_t)ev->n_ops;
		ev->type = PA_EV_OPS;
		return 1;
	case PA_BATCH_END:
		if (!rx->in_batch)
			return pa_rx_fail(reason, "batch end without begin");
		if (pa_decode_batch_end(m->payload, m->len, &ev->end,
		    reason) == -1)
			return -1;
		if (ev->end.batch != rx->batch || ev->end.n_ops != rx->seen ||
		    rx->seen != rx->declared)
			return pa_rx_fail(reason, "batch end does not match");
		rx->in_batch = 0;
		rx->last_batch = rx->batch;
		ev->type = PA_EV_BATCH_END;
		return 1;
	}
	return pa_rx_fail(reason, "not a planner->applier message");
}
