/*
 * planner -> watcher status: encoders, decoders and the receiver, side by
 * side.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_pw.h"

#define PW_PAYLOAD_MAX	(FRAME_MAX_EDGE - FRAME_HDR_LEN)
#define EPS_MIN		(2 * IPC_STR_MIN + 2 + 4)
#define EPS_MAX		(2 * 256 + 2 + 4)

int
pw_type_valid(uint16_t type)
{
	return type == PW_STATUS || type == PW_LOCAL_EPS;
}

/* Exactly this long: 25 bytes, two counts, the counters. */
#define STATUS_LEN	(1 + 8 + 8 + 4 + 4 + 1 + 2 * 8 * PW_OPK_COUNT + \
			    1 + 8 * PW_NEUT_COUNT)

static const char *const pw_opk_names[PW_OPK_COUNT] = {
	[PW_OPK_VS] = "ipvs_service",
	[PW_OPK_RS] = "real_server",
	[PW_OPK_ADDR] = "address",
	[PW_OPK_SET_MEMBER] = "ipset_member",
	[PW_OPK_SET] = "ipset",
	[PW_OPK_CHAIN] = "iptables_chain",
	[PW_OPK_LINK] = "link",
	[PW_OPK_OTHER] = "other",
};

static const char *const pw_neut_names[PW_NEUT_COUNT] = {
	[PW_NEUT_VIP_DENIED] = "vip_denied",
	[PW_NEUT_VIP_NODE] = "vip_node_address",
	[PW_NEUT_NODEPORT_RANGE] = "nodeport_range",
	[PW_NEUT_ENDPOINT_DENIED] = "endpoint_denied",
	[PW_NEUT_CONFLICT] = "conflict",
};

const char *
pw_opk_name(enum pw_opk k)
{
	return (unsigned)k < PW_OPK_COUNT ? pw_opk_names[k] : "?";
}

const char *
pw_neut_name(enum pw_neut k)
{
	return (unsigned)k < PW_NEUT_COUNT ? pw_neut_names[k] : "?";
}

int
pw_send_status(struct ipc_chan *c, const struct pw_status *st)
{
	uint8_t buf[STATUS_LEN];
	struct ipc_wr w;
	int i;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u8(&w, st->flags);
	ipc_wr_i64(&w, st->last_sync_ms);
	ipc_wr_i64(&w, st->last_apply_ms);
	ipc_wr_u32(&w, st->n_services);
	ipc_wr_u32(&w, st->n_failed_ops);
	ipc_wr_u8(&w, PW_OPK_COUNT);
	for (i = 0; i < PW_OPK_COUNT; i++)
		ipc_wr_u64(&w, st->ops_applied[i]);
	for (i = 0; i < PW_OPK_COUNT; i++)
		ipc_wr_u64(&w, st->ops_failed[i]);
	ipc_wr_u8(&w, PW_NEUT_COUNT);
	for (i = 0; i < PW_NEUT_COUNT; i++)
		ipc_wr_u64(&w, st->neutralised[i]);
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return frame_send(c, PW_STATUS, 0, buf, w.len);
}

int
pw_decode_status(const uint8_t *p, size_t len, struct pw_status *st,
    const char **reason)
{
	struct ipc_rd r;
	uint8_t n;
	int i;

	memset(st, 0, sizeof(*st));
	ipc_rd_init(&r, p, len);
	ipc_rd_u8(&r, &st->flags);
	ipc_rd_i64(&r, &st->last_sync_ms);
	ipc_rd_i64(&r, &st->last_apply_ms);
	ipc_rd_u32(&r, &st->n_services);
	ipc_rd_u32(&r, &st->n_failed_ops);
	/* The counts are fixed by this protocol version: exactly these. */
	if (ipc_rd_u8(&r, &n) == 0 && n != PW_OPK_COUNT)
		ipc_rd_fail(&r, "wrong number of operation kinds");
	for (i = 0; i < PW_OPK_COUNT; i++)
		ipc_rd_u64(&r, &st->ops_applied[i]);
	for (i = 0; i < PW_OPK_COUNT; i++)
		ipc_rd_u64(&r, &st->ops_failed[i]);
	if (ipc_rd_u8(&r, &n) == 0 && n != PW_NEUT_COUNT)
		ipc_rd_fail(&r, "wrong number of neutralisation counters");
	for (i = 0; i < PW_NEUT_COUNT; i++)
		ipc_rd_u64(&r, &st->neutralised[i]);
	if (r.err == NULL && (st->flags & ~PW_ST_ALL))
		ipc_rd_fail(&r, "unknown status flags");
	if (r.err == NULL && (st->last_sync_ms < 0 || st->last_apply_ms < 0))
		ipc_rd_fail(&r, "negative time");
	if (ipc_rd_end(&r) == -1) {
		*reason = r.err;
		return -1;
	}
	return 0;
}

int
pw_send_local_eps(struct ipc_chan *c, const struct pw_local_eps *eps,
    size_t n)
{
	uint8_t *buf;
	struct ipc_wr w;
	uint16_t in_msg = 0;
	size_t i, start;
	int rv = -1;

	if (n > PW_MAX_LOCAL_EPS) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((buf = malloc(PW_PAYLOAD_MAX)) == NULL)
		return -1;
	ipc_wr_init(&w, buf, PW_PAYLOAD_MAX);
	ipc_wr_u16(&w, 0);
	for (i = 0; i < n; i++) {
		if (ipc_wr_room(&w) < EPS_MAX || in_msg == UINT16_MAX) {
			buf[0] = (uint8_t)in_msg;
			buf[1] = (uint8_t)(in_msg >> 8);
			if (frame_send(c, PW_LOCAL_EPS, FRAME_F_MORE, buf,
			    w.len) == -1)
				goto out;
			ipc_wr_init(&w, buf, PW_PAYLOAD_MAX);
			ipc_wr_u16(&w, 0);
			in_msg = 0;
		}
		start = w.len;
		ipc_wr_str(&w, eps[i].namespace);
		ipc_wr_str(&w, eps[i].name);
		ipc_wr_u16(&w, eps[i].health_check_node_port);
		ipc_wr_u32(&w, eps[i].ready_local);
		if (w.overflow || w.len - start > EPS_MAX) {
			errno = EMSGSIZE;
			goto out;
		}
		in_msg++;
	}
	buf[0] = (uint8_t)in_msg;
	buf[1] = (uint8_t)(in_msg >> 8);
	rv = frame_send(c, PW_LOCAL_EPS, 0, buf, w.len);
 out:
	free(buf);
	return rv;
}

int
pw_decode_local_eps(const uint8_t *p, size_t len, struct pw_local_eps **epsp,
    size_t *np, const char **reason)
{
	struct pw_local_eps *eps = NULL;
	struct ipc_rd r;
	uint16_t n;
	unsigned i;

	*epsp = NULL;
	*np = 0;
	ipc_rd_init(&r, p, len);
	if (ipc_rd_count16(&r, &n, UINT16_MAX, EPS_MIN) == -1)
		goto fail;
	if (n > 0 && (eps = calloc(n, sizeof(*eps))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < n; i++) {
		ipc_rd_str(&r, eps[i].namespace, sizeof(eps[i].namespace));
		ipc_rd_str(&r, eps[i].name, sizeof(eps[i].name));
		ipc_rd_u16(&r, &eps[i].health_check_node_port);
		ipc_rd_u32(&r, &eps[i].ready_local);
		if (r.err == NULL && (eps[i].namespace[0] == '\0' ||
		    eps[i].name[0] == '\0'))
			ipc_rd_fail(&r, "empty namespace or name");
	}
	if (ipc_rd_end(&r) == -1)
		goto fail;
	*epsp = eps;
	*np = n;
	return 0;
 fail:
	free(eps);
	*reason = r.err;
	return -1;
}

void
pw_rx_init(struct pw_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void
pw_rx_reset(struct pw_rx *rx)
{
	free(rx->eps);
	pw_rx_init(rx);
}

int
pw_rx_feed(struct pw_rx *rx, const struct frame_msg *m, struct pw_event *ev,
    const char **reason)
{
	struct pw_local_eps *part, *grown;
	size_t n;
	int more = (m->flags & FRAME_F_MORE) != 0;

	memset(ev, 0, sizeof(*ev));
	if (rx->pending && m->type != PW_LOCAL_EPS) {
		*reason = "local endpoint table continuation expected";
		return -1;
	}
	if (m->type == PW_STATUS) {
		if (more) {
			*reason = "continuation flag on a single-part type";
			return -1;
		}
		if (pw_decode_status(m->payload, m->len, &ev->status,
		    reason) == -1)
			return -1;
		ev->type = PW_EV_STATUS;
		return 1;
	}
	if (m->type != PW_LOCAL_EPS) {
		*reason = "not a planner->watcher message";
		return -1;
	}
	if (pw_decode_local_eps(m->payload, m->len, &part, &n, reason) == -1)
		return -1;
	if (n > PW_MAX_LOCAL_EPS - rx->n) {
		free(part);
		*reason = "local endpoint table larger than the limit";
		return -1;
	}
	if (n > 0) {
		grown = realloc(rx->eps, (rx->n + n) * sizeof(*grown));
		if (grown == NULL) {
			free(part);
			*reason = "out of memory";
			return -1;
		}
		rx->eps = grown;
		memcpy(rx->eps + rx->n, part, n * sizeof(*part));
		rx->n += n;
	}
	free(part);
	if (more) {
		rx->pending = 1;
		return 0;
	}
	ev->type = PW_EV_LOCAL_EPS;
	ev->eps = rx->eps;
	ev->n = rx->n;
	rx->eps = NULL;
	rx->n = 0;
	rx->pending = 0;
	return 1;
}
