/*
 * applier -> planner results and dumps: encoders, decoders and the
 * receiver's state machine, side by side.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_ap.h"

#define AP_PAYLOAD_MAX	(FRAME_MAX_EDGE - FRAME_HDR_LEN)
#define RESULT_MIN	(4 + 1 + 4 + IPC_STR_MIN)
#define REC_MIN		3		/* kind + smallest set member */
#define ONE_MAX		256		/* largest result or record */

int
ap_type_valid(uint16_t type)
{
	return type >= AP_RESULTS && type <= AP_DUMP_END;
}

static void
wr_result(struct ipc_wr *w, const struct ap_result *res)
{
	ipc_wr_u32(w, res->seq);
	ipc_wr_u8(w, res->status);
	ipc_wr_i32(w, res->err);
	ipc_wr_str(w, res->reason);
	if (strlen(res->reason) > AP_REASON_MAX)
		w->overflow = 1;
}

static void
rd_result(struct ipc_rd *r, struct ap_result *res)
{
	size_t i;

	ipc_rd_u32(r, &res->seq);
	ipc_rd_u8(r, &res->status);
	ipc_rd_i32(r, &res->err);
	ipc_rd_str(r, res->reason, sizeof(res->reason));
	if (r->err != NULL)
		return;
	if (res->status > AP_BLOCKED)
		ipc_rd_fail(r, "unknown result status");
	else if (res->err < 0 || res->err > 4095 ||
	    (res->status == AP_OK) != (res->err == 0))
		ipc_rd_fail(r, "errno out of range");
	for (i = 0; r->err == NULL && res->reason[i] != '\0'; i++)
		if ((unsigned char)res->reason[i] < 0x20 ||
		    res->reason[i] == 0x7f)
			ipc_rd_fail(r, "control character in reason");
}

static void
wr_rec(struct ipc_wr *w, const struct ap_rec *rec)
{
	ipc_wr_u8(w, rec->kind);
	switch (rec->kind) {
	case AP_REC_VS:
		pa_wr_vs(w, &rec->u.vs);
		break;
	case AP_REC_RS:
		pa_wr_rs(w, &rec->u.rs.rs);
		ipc_wr_u32(w, rec->u.rs.active);
		ipc_wr_u32(w, rec->u.rs.inactive);
		break;
	case AP_REC_ADDR:
		ipc_wr_str(w, rec->u.addr.ifname);
		ipc_wr_prefix(w, &rec->u.addr.prefix);
		break;
	case AP_REC_SET_MEMBER:
		pa_wr_entry(w, &rec->u.member);
		break;
	case AP_REC_CHAIN:
		ipc_wr_u8(w, rec->u.chain.family);
		ipc_wr_u8(w, rec->u.chain.chain);
		ipc_wr_u8(w, rec->u.chain.matches);
		ipc_wr_u32(w, rec->u.chain.n_rules);
		break;
	default:
		w->overflow = 1;
	}
}

static void
rd_rec(struct ipc_rd *r, struct ap_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (ipc_rd_u8(r, &rec->kind) == -1)
		return;
	switch (rec->kind) {
	case AP_REC_VS:
		pa_rd_vs(r, &rec->u.vs);
		break;
	case AP_REC_RS:
		pa_rd_rs(r, &rec->u.rs.rs);
		ipc_rd_u32(r, &rec->u.rs.active);
		ipc_rd_u32(r, &rec->u.rs.inactive);
		break;
	case AP_REC_ADDR:
		pa_rd_name(r, rec->u.addr.ifname, sizeof(rec->u.addr.ifname),
		    0);
		ipc_rd_prefix(r, &rec->u.addr.prefix);
		break;
	case AP_REC_SET_MEMBER:
		pa_rd_entry(r, &rec->u.member);
		break;
	case AP_REC_CHAIN:
		ipc_rd_u8(r, &rec->u.chain.family);
		ipc_rd_u8(r, &rec->u.chain.chain);
		ipc_rd_u8(r, &rec->u.chain.matches);
		ipc_rd_u32(r, &rec->u.chain.n_rules);
		if (r->err == NULL &&
		    ((rec->u.chain.family != REC_FAMILY_IPV4 &&
		    rec->u.chain.family != REC_FAMILY_IPV6) ||
		    pa_chain_name(rec->u.chain.chain) == NULL ||
		    rec->u.chain.matches > 1))
			ipc_rd_fail(r, "bad chain record");
		break;
	default:
		ipc_rd_fail(r, "unknown dump record kind");
	}
}

/* Sender shared by results and dump records. */

static int
tx_start(struct ap_tx *tx, struct ipc_chan *c, uint16_t type, uint64_t id)
{
	memset(tx, 0, sizeof(*tx));
	if ((tx->buf = malloc(AP_PAYLOAD_MAX)) == NULL)
		return -1;
	tx->chan = c;
	tx->id = id;
	tx->type = type;
	tx->len = type == AP_RESULTS ? 10 : 2;
	return 0;
}

/* Sends the message being built; more says whether another part follows. */
static int
tx_flush(struct ap_tx *tx, int more)
{
	struct ipc_wr w;
	int rv;

	ipc_wr_init(&w, tx->buf, tx->type == AP_RESULTS ? 10 : 2);
	if (tx->type == AP_RESULTS)
		ipc_wr_u64(&w, tx->id);
	ipc_wr_u16(&w, tx->in_msg);
	rv = frame_send(tx->chan, tx->type, more ? FRAME_F_MORE : 0, tx->buf,
	    tx->len);
	tx->in_msg = 0;
	tx->len = w.len;
	return rv;
}

static int
tx_add(struct ap_tx *tx, const uint8_t *one, size_t n)
{
	if (n > AP_PAYLOAD_MAX - tx->len || tx->in_msg == UINT16_MAX) {
		if (tx->type == AP_DUMP_RECS ? tx_flush(tx, 0) :
		    tx_flush(tx, 1))
			return -1;
	}
	memcpy(tx->buf + tx->len, one, n);
	tx->len += n;
	tx->in_msg++;
	tx->total++;
	return 0;
}

void
ap_tx_abort(struct ap_tx *tx)
{
	free(tx->buf);
	tx->buf = NULL;
}

int
ap_results_begin(struct ap_tx *tx, struct ipc_chan *c, uint64_t batch)
{
	return tx_start(tx, c, AP_RESULTS, batch);
}

int
ap_results_add(struct ap_tx *tx, const struct ap_result *res)
{
	uint8_t one[ONE_MAX];
	struct ipc_wr w;

	ipc_wr_init(&w, one, sizeof(one));
	wr_result(&w, res);
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return tx_add(tx, one, w.len);
}

int
ap_results_end(struct ap_tx *tx)
{
	int rv = tx_flush(tx, 0);

	ap_tx_abort(tx);
	return rv;
}

int
ap_dump_begin(struct ap_tx *tx, struct ipc_chan *c,
    const struct ap_dump_begin *b)
{
	uint8_t hdr[12];
	struct ipc_wr w;

	ipc_wr_init(&w, hdr, sizeof(hdr));
	ipc_wr_u64(&w, b->dump);
	ipc_wr_u32(&w, b->what);
	if (frame_send(c, AP_DUMP_BEGIN, 0, hdr, w.len) == -1)
		return -1;
	return tx_start(tx, c, AP_DUMP_RECS, b->dump);
}

int
ap_dump_add(struct ap_tx *tx, const struct ap_rec *rec)
{
	uint8_t one[ONE_MAX];
	struct ipc_wr w;

	ipc_wr_init(&w, one, sizeof(one));
	wr_rec(&w, rec);
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return tx_add(tx, one, w.len);
}

int
ap_dump_end(struct ap_tx *tx)
{
	uint8_t hdr[12];
	struct ipc_wr w;
	int rv = 0;

	if (tx->in_msg > 0)
		rv = tx_flush(tx, 0);
	if (rv == 0) {
		ipc_wr_init(&w, hdr, sizeof(hdr));
		ipc_wr_u64(&w, tx->id);
		ipc_wr_u32(&w, tx->total);
		rv = frame_send(tx->chan, AP_DUMP_END, 0, hdr, w.len);
	}
	ap_tx_abort(tx);
	return rv;
}

/* Decoders. */

int
ap_decode_results(const uint8_t *p, size_t len, uint64_t *batch,
    struct ap_result **resp, size_t *np, const char **reason)
{
	struct ap_result *res = NULL;
	struct ipc_rd r;
	uint16_t n;
	unsigned i;

	*resp = NULL;
	*np = 0;
	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, batch);
	if (ipc_rd_count16(&r, &n, UINT16_MAX, RESULT_MIN) == -1)
		goto fail;
	if (n > 0 && (res = calloc(n, sizeof(*res))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < n; i++)
		rd_result(&r, &res[i]);
	if (ipc_rd_end(&r) == -1)
		goto fail;
	*resp = res;
	*np = n;
	return 0;
 fail:
	free(res);
	*reason = r.err;
	return -1;
}

int
ap_decode_dump_begin(const uint8_t *p, size_t len, struct ap_dump_begin *b,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &b->dump);
	ipc_rd_u32(&r, &b->what);
	if (r.err == NULL && (b->what == 0 || (b->what & ~PA_DUMP_ALL)))
		ipc_rd_fail(&r, "bad dump contents");
	if (ipc_rd_end(&r) == -1) {
		*reason = r.err;
		return -1;
	}
	return 0;
}

int
ap_decode_dump_recs(const uint8_t *p, size_t len, struct ap_rec **recsp,
    size_t *np, const char **reason)
{
	struct ap_rec *recs = NULL;
	struct ipc_rd r;
	uint16_t n;
	unsigned i;

	*recsp = NULL;
	*np = 0;
	ipc_rd_init(&r, p, len);
	if (ipc_rd_count16(&r, &n, UINT16_MAX, REC_MIN) == -1)
		goto fail;
	if (n == 0) {
		ipc_rd_fail(&r, "empty record list");
		goto fail;
	}
	if ((recs = calloc(n, sizeof(*recs))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < n; i++)
		rd_rec(&r, &recs[i]);
	if (ipc_rd_end(&r) == -1)
		goto fail;
	*recsp = recs;
	*np = n;
	return 0;
 fail:
	free(recs);
	*reason = r.err;
	return -1;
}

int
ap_decode_dump_end(const uint8_t *p, size_t len, struct ap_dump_end *e,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &e->dump);
	ipc_rd_u32(&r, &e->n_recs);
	if (ipc_rd_end(&r) == -1) {
		*reason = r.err;
		return -1;
	}
	return 0;
}

/* Receiver. */

void
ap_rx_init(struct ap_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void
ap_event_clear(struct ap_event *ev)
{
	free(ev->results);
	free(ev->recs);
	ev->results = NULL;
	ev->recs = NULL;
	ev->type = 0;
}

static int
ap_rx_fail(struct ap_event *ev, const char **reason, const char *why)
{
	ap_event_clear(ev);
	*reason = why;
	return -1;
}

int
ap_rx_feed(struct ap_rx *rx, const struct frame_msg *m, struct ap_event *ev,
    const char **reason)
{
	int more = (m->flags & FRAME_F_MORE) != 0;

	memset(ev, 0, sizeof(*ev));
	if (more && m->type != AP_RESULTS)
		return ap_rx_fail(ev, reason, "continuation flag on a "
		    "single-part type");
	if (rx->in_results && m->type != AP_RESULTS)
		return ap_rx_fail(ev, reason, "result continuation expected");
	switch (m->type) {
	case AP_RESULTS:
		if (ap_decode_results(m->payload, m->len, &ev->batch,
		    &ev->results, &ev->n, reason) == -1)
			return -1;
		if (rx->in_results && ev->batch != rx->batch)
			return ap_rx_fail(ev, reason, "results of another "
			    "batch inside a continuation");
		rx->in_results = more;
		rx->batch = ev->batch;
		ev->last = !more;
		ev->type = AP_EV_RESULTS;
		return 1;
	case AP_DUMP_BEGIN:
		if (rx->in_dump)
			return ap_rx_fail(ev, reason, "dump begin inside a "
			    "dump");
		if (ap_decode_dump_begin(m->payload, m->len, &ev->dbegin,
		    reason) == -1)
			return -1;
		rx->in_dump = 1;
		rx->dump = ev->dbegin.dump;
		rx->dump_recs = 0;
		ev->type = AP_EV_DUMP_BEGIN;
		return 1;
	case AP_DUMP_RECS:
		if (!rx->in_dump)
			return ap_rx_fail(ev, reason, "dump records outside a "
			    "dump");
		if (ap_decode_dump_recs(m->payload, m->len, &ev->recs, &ev->n,
		    reason) == -1)
			return -1;
		if (ev->n > AP_MAX_DUMP_RECS - rx->dump_recs)
			return ap_rx_fail(ev, reason, "dump larger than the "
			    "limit");
		rx->dump_recs += (uint32_t)ev->n;
		ev->type = AP_EV_DUMP_RECS;
		return 1;
	case AP_DUMP_END:
		if (!rx->in_dump)
			return ap_rx_fail(ev, reason, "dump end without begin");
		if (ap_decode_dump_end(m->payload, m->len, &ev->dend,
		    reason) == -1)
			return -1;
		if (ev->dend.dump != rx->dump ||
		    ev->dend.n_recs != rx->dump_recs)
			return ap_rx_fail(ev, reason, "dump end does not "
			    "match");
		rx->in_dump = 0;
		ev->type = AP_EV_DUMP_END;
		return 1;
	}
	return ap_rx_fail(ev, reason, "not an applier->planner message");
}
