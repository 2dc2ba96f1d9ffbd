/*
 * watcher -> planner records: encoders, decoders and the receiver's state
 * machine, side by side.  Field layouts are in docs/ipc.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_wp.h"

#define WP_PAYLOAD_MAX	(FRAME_MAX_EDGE - FRAME_HDR_LEN)

/* Smallest encodings of array elements, to bound counts. */
#define SVC_PORT_MIN	(IPC_STR_MIN + 1 + 2 + 2)
#define LB_MIN		(IPC_ADDR_MIN + 1)
#define SLICE_PORT_MIN	(IPC_STR_MIN + 1 + 2)
#define EP_MIN		(IPC_ADDR_MIN + 1 + IPC_STR_MIN + 1 + 1)
/* Largest encoding of one endpoint (IPv6, every string at its maximum). */
#define EP_MAX		(17 + 1 + (REC_NODENAME_MAX + 2) + 1 + \
			 REC_MAX_ZONE_HINTS * (REC_LABEL_MAX + 2) + 1 + \
			 REC_MAX_NODE_HINTS * (REC_NODENAME_MAX + 2))

int
wp_type_valid(uint16_t type)
{
	return type >= WP_SNAPSHOT_BEGIN && type <= WP_LIST_COMPLETE;
}

static int
rd_done(struct ipc_rd *r, const char **reason)
{
	if (ipc_rd_end(r) == -1) {
		*reason = r->err;
		return -1;
	}
	return 0;
}

static int
valid_proto(uint8_t p)
{
	return p == REC_PROTO_TCP || p == REC_PROTO_UDP || p == REC_PROTO_SCTP;
}

/* Services. */

long
wp_encode_service(const struct rec_service *s, uint8_t *buf, size_t cap)
{
	struct ipc_wr w;
	unsigned i;

	ipc_wr_init(&w, buf, cap);
	ipc_wr_str(&w, s->namespace);
	ipc_wr_str(&w, s->name);
	ipc_wr_str(&w, s->uid);
	ipc_wr_i64(&w, s->created);
	ipc_wr_u8(&w, s->type);
	ipc_wr_u8(&w, s->affinity);
	ipc_wr_u8(&w, s->flags);
	ipc_wr_u32(&w, s->affinity_timeout);
	ipc_wr_u16(&w, s->health_check_node_port);
	ipc_wr_u8(&w, s->n_cluster_ips);
	for (i = 0; i < s->n_cluster_ips && i < REC_MAX_CLUSTER_IPS; i++)
		ipc_wr_addr(&w, &s->cluster_ips[i]);
	ipc_wr_u16(&w, s->n_ports);
	for (i = 0; i < s->n_ports; i++) {
		ipc_wr_str(&w, s->ports[i].name);
		ipc_wr_u8(&w, s->ports[i].protocol);
		ipc_wr_u16(&w, s->ports[i].port);
		ipc_wr_u16(&w, s->ports[i].node_port);
	}
	ipc_wr_u16(&w, s->n_external_ips);
	for (i = 0; i < s->n_external_ips; i++)
		ipc_wr_addr(&w, &s->external_ips[i]);
	ipc_wr_u16(&w, s->n_lb_ingress);
	for (i = 0; i < s->n_lb_ingress; i++) {
		ipc_wr_addr(&w, &s->lb_ingress[i].ip);
		ipc_wr_u8(&w, s->lb_ingress[i].ipmode);
	}
	ipc_wr_u16(&w, s->n_source_ranges);
	for (i = 0; i < s->n_source_ranges; i++)
		ipc_wr_prefix(&w, &s->source_ranges[i]);
	if (w.overflow || s->n_cluster_ips > REC_MAX_CLUSTER_IPS) {
		errno = EMSGSIZE;
		return -1;
	}
	return (long)w.len;
}

int
wp_decode_service(const uint8_t *p, size_t len, struct rec_service *s,
    const char **reason)
{
	struct ipc_rd r;
	unsigned i;

	memset(s, 0, sizeof(*s));
	ipc_rd_init(&r, p, len);
	ipc_rd_str(&r, s->namespace, sizeof(s->namespace));
	ipc_rd_str(&r, s->name, sizeof(s->name));
	ipc_rd_str(&r, s->uid, sizeof(s->uid));
	ipc_rd_i64(&r, &s->created);
	ipc_rd_u8(&r, &s->type);
	ipc_rd_u8(&r, &s->affinity);
	ipc_rd_u8(&r, &s->flags);
	ipc_rd_u32(&r, &s->affinity_timeout);
	ipc_rd_u16(&r, &s->health_check_node_port);
	if (r.err != NULL)
		goto fail;
	if (s->namespace[0] == '\0' || s->name[0] == '\0')
		ipc_rd_fail(&r, "empty namespace or name");
	else if (s->type < REC_SVC_CLUSTERIP || s->type > REC_SVC_LOADBALANCER)
		ipc_rd_fail(&r, "bad service type");
	else if (s->affinity > REC_AFFINITY_CLIENTIP)
		ipc_rd_fail(&r, "bad session affinity");
	else if (s->flags & ~(REC_SVC_ETP_LOCAL | REC_SVC_ITP_LOCAL |
	    REC_SVC_TOPOLOGY))
		ipc_rd_fail(&r, "unknown service flags");
	else if (s->affinity_timeout > 86400 ||
	    (s->affinity == REC_AFFINITY_CLIENTIP && s->affinity_timeout == 0))
		ipc_rd_fail(&r, "affinity timeout out of range");

	ipc_rd_count8(&r, &s->n_cluster_ips, REC_MAX_CLUSTER_IPS,
	    IPC_ADDR_MIN);
	for (i = 0; r.err == NULL && i < s->n_cluster_ips; i++)
		ipc_rd_addr(&r, &s->cluster_ips[i]);

	if (ipc_rd_count16(&r, &s->n_ports, REC_MAX_SVC_PORTS,
	    SVC_PORT_MIN) == -1)
		goto fail;
	if (s->n_ports > 0 &&
	    (s->ports = calloc(s->n_ports, sizeof(*s->ports))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < s->n_ports; i++) {
		struct rec_svc_port *sp = &s->ports[i];

		ipc_rd_str(&r, sp->name, sizeof(sp->name));
		ipc_rd_u8(&r, &sp->protocol);
		ipc_rd_u16(&r, &sp->port);
		ipc_rd_u16(&r, &sp->node_port);
		if (r.err == NULL && (!valid_proto(sp->protocol) ||
		    sp->port == 0))
			ipc_rd_fail(&r, "bad service port");
	}

	if (ipc_rd_count16(&r, &s->n_external_ips, REC_MAX_EXTERNAL_IPS,
	    IPC_ADDR_MIN) == -1)
		goto fail;
	if (s->n_external_ips > 0 && (s->external_ips =
	    calloc(s->n_external_ips, sizeof(*s->external_ips))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < s->n_external_ips; i++)
		ipc_rd_addr(&r, &s->external_ips[i]);

	if (ipc_rd_count16(&r, &s->n_lb_ingress, REC_MAX_LB_INGRESS,
	    LB_MIN) == -1)
		goto fail;
	if (s->n_lb_ingress > 0 && (s->lb_ingress =
	    calloc(s->n_lb_ingress, sizeof(*s->lb_ingress))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < s->n_lb_ingress; i++) {
		ipc_rd_addr(&r, &s->lb_ingress[i].ip);
		ipc_rd_u8(&r, &s->lb_ingress[i].ipmode);
		if (r.err == NULL && s->lb_ingress[i].ipmode > REC_IPMODE_PROXY)
			ipc_rd_fail(&r, "bad load-balancer ipMode");
	}

	if (ipc_rd_count16(&r, &s->n_source_ranges, REC_MAX_SOURCE_RANGES,
	    IPC_PREFIX_MIN) == -1)
		goto fail;
	if (s->n_source_ranges > 0 && (s->source_ranges =
	    calloc(s->n_source_ranges, sizeof(*s->source_ranges))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < s->n_source_ranges; i++)
		ipc_rd_prefix(&r, &s->source_ranges[i]);

	if (rd_done(&r, reason) == 0)
		return 0;
 fail:
	*reason = r.err;
	rec_service_clear(s);
	return -1;
}

int
wp_send_service(struct ipc_chan *c, const struct rec_service *s)
{
	uint8_t *buf;
	long n;
	int rv;

	if ((buf = malloc(WP_PAYLOAD_MAX)) == NULL)
		return -1;
	n = wp_encode_service(s, buf, WP_PAYLOAD_MAX);
	rv = n < 0 ? -1 : frame_send(c, WP_SERVICE, 0, buf, (size_t)n);
	free(buf);
	return rv;
}

/* EndpointSlices. */

static void
wr_endpoint(struct ipc_wr *w, const struct rec_endpoint *e)
{
	unsigned i;

	ipc_wr_addr(w, &e->addr);
	ipc_wr_u8(w, e->conditions);
	ipc_wr_str(w, e->node_name);
	ipc_wr_u8(w, e->n_zone_hints);
	for (i = 0; i < e->n_zone_hints && i < REC_MAX_ZONE_HINTS; i++)
		ipc_wr_str(w, e->zone_hints[i]);
	ipc_wr_u8(w, e->n_node_hints);
	for (i = 0; i < e->n_node_hints && i < REC_MAX_NODE_HINTS; i++)
		ipc_wr_str(w, e->node_hints[i]);
	if (e->n_zone_hints > REC_MAX_ZONE_HINTS ||
	    e->n_node_hints > REC_MAX_NODE_HINTS)
		w->overflow = 1;
}

static void
rd_endpoint(struct ipc_rd *r, struct rec_endpoint *e, uint8_t family)
{
	unsigned i;

	ipc_rd_addr(r, &e->addr);
	ipc_rd_u8(r, &e->conditions);
	ipc_rd_str(r, e->node_name, sizeof(e->node_name));
	if (r->err == NULL && e->addr.family != family)
		ipc_rd_fail(r, "endpoint family differs from the slice's");
	if (r->err == NULL && (e->conditions & ~(REC_EP_READY |
	    REC_EP_SERVING | REC_EP_TERMINATING)))
		ipc_rd_fail(r, "unknown endpoint conditions");
	ipc_rd_count8(r, &e->n_zone_hints, REC_MAX_ZONE_HINTS, IPC_STR_MIN);
	for (i = 0; r->err == NULL && i < e->n_zone_hints; i++)
		ipc_rd_str(r, e->zone_hints[i], sizeof(e->zone_hints[i]));
	ipc_rd_count8(r, &e->n_node_hints, REC_MAX_NODE_HINTS, IPC_STR_MIN);
	for (i = 0; r->err == NULL && i < e->n_node_hints; i++)
		ipc_rd_str(r, e->node_hints[i], sizeof(e->node_hints[i]));
}

/* Patches a u16 count written earlier at offset off. */
static void
patch_u16(uint8_t *buf, size_t off, uint16_t v)
{
	buf[off] = (uint8_t)v;
	buf[off + 1] = (uint8_t)(v >> 8);
}

int
wp_send_slice(struct ipc_chan *c, const struct rec_slice *s)
{
	uint8_t *buf, ep[EP_MAX];
	struct ipc_wr w, we;
	size_t count_off;
	uint16_t in_msg = 0;
	uint16_t type = WP_SLICE;
	unsigned i;

	if (s->n_ports > REC_MAX_SLICE_PORTS ||
	    s->n_endpoints > REC_MAX_SLICE_ENDPOINTS) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((buf = malloc(WP_PAYLOAD_MAX)) == NULL)
		return -1;
	ipc_wr_init(&w, buf, WP_PAYLOAD_MAX);
	ipc_wr_str(&w, s->namespace);
	ipc_wr_str(&w, s->name);
	ipc_wr_str(&w, s->service);
	ipc_wr_u8(&w, s->family);
	ipc_wr_u16(&w, s->n_ports);
	for (i = 0; i < s->n_ports; i++) {
		ipc_wr_str(&w, s->ports[i].name);
		ipc_wr_u8(&w, s->ports[i].protocol);
		ipc_wr_u16(&w, s->ports[i].port);
	}
	count_off = w.len;
	ipc_wr_u16(&w, 0);
	for (i = 0; i < s->n_endpoints && !w.overflow; i++) {
		ipc_wr_init(&we, ep, sizeof(ep));
		wr_endpoint(&we, &s->endpoints[i]);
		if (we.overflow) {
			errno = EMSGSIZE;
			goto fail;
		}
		if (we.len > ipc_wr_room(&w)) {
			/* Full: send this part and continue in SLICE_MORE. */
			patch_u16(buf, count_off, in_msg);
			if (frame_send(c, type, FRAME_F_MORE, buf, w.len) == -1)
				goto fail;
			type = WP_SLICE_MORE;
			in_msg = 0;
			ipc_wr_init(&w, buf, WP_PAYLOAD_MAX);
			ipc_wr_str(&w, s->namespace);
			ipc_wr_str(&w, s->name);
			count_off = w.len;
			ipc_wr_u16(&w, 0);
		}
		memcpy(buf + w.len, ep, we.len);
		w.len += we.len;
		in_msg++;
	}
	if (w.overflow) {
		errno = EMSGSIZE;
		goto fail;
	}
	patch_u16(buf, count_off, in_msg);
	if (frame_send(c, type, 0, buf, w.len) == -1)
		goto fail;
	free(buf);
	return 0;
 fail:
	free(buf);
	return -1;
}

/* Appends n endpoints read from r to s (total capped). */
static int
rd_endpoints(struct ipc_rd *r, struct rec_slice *s)
{
	struct rec_endpoint *eps;
	uint16_t n;
	unsigned i;

	if (ipc_rd_count16(r, &n, REC_MAX_SLICE_ENDPOINTS, EP_MIN) == -1)
		return -1;
	if ((unsigned)s->n_endpoints + n > REC_MAX_SLICE_ENDPOINTS)
		return ipc_rd_fail(r, "too many endpoints in slice");
	if (n == 0)
		return 0;
	eps = realloc(s->endpoints,
	    ((size_t)s->n_endpoints + n) * sizeof(*eps));
	if (eps == NULL)
		return ipc_rd_fail(r, "out of memory");
	s->endpoints = eps;
	memset(eps + s->n_endpoints, 0, (size_t)n * sizeof(*eps));
	for (i = 0; r->err == NULL && i < n; i++)
		rd_endpoint(r, &eps[s->n_endpoints + i], s->family);
	s->n_endpoints += n;
	return r->err == NULL ? 0 : -1;
}

int
wp_decode_slice(const uint8_t *p, size_t len, struct rec_slice *s,
    const char **reason)
{
	struct ipc_rd r;
	unsigned i;

	memset(s, 0, sizeof(*s));
	ipc_rd_init(&r, p, len);
	ipc_rd_str(&r, s->namespace, sizeof(s->namespace));
	ipc_rd_str(&r, s->name, sizeof(s->name));
	ipc_rd_str(&r, s->service, sizeof(s->service));
	ipc_rd_u8(&r, &s->family);
	if (r.err == NULL && (s->namespace[0] == '\0' || s->name[0] == '\0' ||
	    s->service[0] == '\0'))
		ipc_rd_fail(&r, "empty namespace, name or service");
	if (r.err == NULL && s->family != REC_FAMILY_IPV4 &&
	    s->family != REC_FAMILY_IPV6)
		ipc_rd_fail(&r, "bad slice address family");
	if (ipc_rd_count16(&r, &s->n_ports, REC_MAX_SLICE_PORTS,
	    SLICE_PORT_MIN) == -1)
		goto fail;
	if (s->n_ports > 0 &&
	    (s->ports = calloc(s->n_ports, sizeof(*s->ports))) == NULL) {
		ipc_rd_fail(&r, "out of memory");
		goto fail;
	}
	for (i = 0; r.err == NULL && i < s->n_ports; i++) {
		ipc_rd_str(&r, s->ports[i].name, sizeof(s->ports[i].name));
		ipc_rd_u8(&r, &s->ports[i].protocol);
		ipc_rd_u16(&r, &s->ports[i].port);
		if (r.err == NULL && (!valid_proto(s->ports[i].protocol) ||
		    s->ports[i].port == 0))
			ipc_rd_fail(&r, "bad slice port");
	}
	if (rd_endpoints(&r, s) == -1)
		goto fail;
	if (rd_done(&r, reason) == 0)
		return 0;
 fail:
	*reason = r.err;
	rec_slice_clear(s);
	return -1;
}

int
wp_decode_slice_more(const uint8_t *p, size_t len, struct rec_slice *s,
    const char **reason)
{
	char ns[REC_NAMESPACE_MAX + 1], name[REC_NAME_MAX + 1];
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_str(&r, ns, sizeof(ns));
	ipc_rd_str(&r, name, sizeof(name));
	if (r.err == NULL && (strcmp(ns, s->namespace) != 0 ||
	    strcmp(name, s->name) != 0))
		ipc_rd_fail(&r, "continuation of a different slice");
	if (r.err == NULL)
		rd_endpoints(&r, s);
	return rd_done(&r, reason);
}

/* Nodes. */

long
wp_encode_node(const struct rec_node *n, uint8_t *buf, size_t cap)
{
	struct ipc_wr w;
	unsigned i;

	ipc_wr_init(&w, buf, cap);
	ipc_wr_str(&w, n->name);
	ipc_wr_str(&w, n->zone);
	ipc_wr_u8(&w, n->n_pod_cidrs);
	for (i = 0; i < n->n_pod_cidrs && i < REC_MAX_NODE_PODCIDRS; i++)
		ipc_wr_prefix(&w, &n->pod_cidrs[i]);
	ipc_wr_u8(&w, n->n_addresses);
	for (i = 0; i < n->n_addresses && i < 4; i++)
		ipc_wr_addr(&w, &n->addresses[i]);
	if (w.overflow || n->n_pod_cidrs > REC_MAX_NODE_PODCIDRS ||
	    n->n_addresses > 4) {
		errno = EMSGSIZE;
		return -1;
	}
	return (long)w.len;
}

int
wp_decode_node(const uint8_t *p, size_t len, struct rec_node *n,
    const char **reason)
{
	struct ipc_rd r;
	unsigned i;

	memset(n, 0, sizeof(*n));
	ipc_rd_init(&r, p, len);
	ipc_rd_str(&r, n->name, sizeof(n->name));
	ipc_rd_str(&r, n->zone, sizeof(n->zone));
	if (r.err == NULL && n->name[0] == '\0')
		ipc_rd_fail(&r, "empty node name");
	ipc_rd_count8(&r, &n->n_pod_cidrs, REC_MAX_NODE_PODCIDRS,
	    IPC_PREFIX_MIN);
	for (i = 0; r.err == NULL && i < n->n_pod_cidrs; i++)
		ipc_rd_prefix(&r, &n->pod_cidrs[i]);
	ipc_rd_count8(&r, &n->n_addresses, 4, IPC_ADDR_MIN);
	for (i = 0; r.err == NULL && i < n->n_addresses; i++)
		ipc_rd_addr(&r, &n->addresses[i]);
	return rd_done(&r, reason);
}

int
wp_send_node(struct ipc_chan *c, const struct rec_node *n)
{
	uint8_t buf[2048];
	long len;

	if ((len = wp_encode_node(n, buf, sizeof(buf))) < 0)
		return -1;
	return frame_send(c, WP_NODE, 0, buf, (size_t)len);
}

/* Deletes, markers, snapshot brackets. */

static int
valid_kind(uint8_t k)
{
	return k >= WP_KIND_SERVICE && k <= WP_KIND_NODE;
}

int
wp_send_delete(struct ipc_chan *c, const struct wp_delete *d)
{
	uint8_t buf[1 + 2 * 256];
	struct ipc_wr w;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u8(&w, d->kind);
	ipc_wr_str(&w, d->namespace);
	ipc_wr_str(&w, d->name);
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return frame_send(c, WP_DELETE, 0, buf, w.len);
}

int
wp_decode_delete(const uint8_t *p, size_t len, struct wp_delete *d,
    const char **reason)
{
	struct ipc_rd r;

	memset(d, 0, sizeof(*d));
	ipc_rd_init(&r, p, len);
	ipc_rd_u8(&r, &d->kind);
	ipc_rd_str(&r, d->namespace, sizeof(d->namespace));
	ipc_rd_str(&r, d->name, sizeof(d->name));
	if (r.err == NULL && !valid_kind(d->kind))
		ipc_rd_fail(&r, "unknown object kind");
	if (r.err == NULL && (d->name[0] == '\0' ||
	    (d->kind == WP_KIND_NODE) != (d->namespace[0] == '\0')))
		ipc_rd_fail(&r, "bad delete key");
	return rd_done(&r, reason);
}

int
wp_send_list_complete(struct ipc_chan *c, uint8_t kind)
{
	return frame_send(c, WP_LIST_COMPLETE, 0, &kind, 1);
}

int
wp_decode_kind(const uint8_t *p, size_t len, uint8_t *kind,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u8(&r, kind);
	if (r.err == NULL && !valid_kind(*kind))
		ipc_rd_fail(&r, "unknown object kind");
	return rd_done(&r, reason);
}

int
wp_send_snapshot_begin(struct ipc_chan *c, uint64_t generation)
{
	uint8_t buf[8];
	struct ipc_wr w;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u64(&w, generation);
	return frame_send(c, WP_SNAPSHOT_BEGIN, 0, buf, w.len);
}

int
wp_decode_snapshot_begin(const uint8_t *p, size_t len, uint64_t *gen,
    const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, gen);
	return rd_done(&r, reason);
}

int
wp_send_snapshot_end(struct ipc_chan *c, const struct wp_snapshot_end *e)
{
	uint8_t buf[20];
	struct ipc_wr w;

	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u64(&w, e->generation);
	ipc_wr_u32(&w, e->n_services);
	ipc_wr_u32(&w, e->n_slices);
	ipc_wr_u32(&w, e->n_nodes);
	return frame_send(c, WP_SNAPSHOT_END, 0, buf, w.len);
}

int
wp_decode_snapshot_end(const uint8_t *p, size_t len,
    struct wp_snapshot_end *e, const char **reason)
{
	struct ipc_rd r;

	ipc_rd_init(&r, p, len);
	ipc_rd_u64(&r, &e->generation);
	ipc_rd_u32(&r, &e->n_services);
	ipc_rd_u32(&r, &e->n_slices);
	ipc_rd_u32(&r, &e->n_nodes);
	return rd_done(&r, reason);
}

/* The receiver's state machine. */

void
wp_rx_init(struct wp_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void
wp_rx_reset(struct wp_rx *rx)
{
	if (rx->slice_pending)
		rec_slice_clear(&rx->pending);
	wp_rx_init(rx);
}

void
wp_event_clear(struct wp_event *ev)
{
	if (ev->type == WP_EV_SERVICE)
		rec_service_clear(&ev->svc);
	else if (ev->type == WP_EV_SLICE)
		rec_slice_clear(&ev->slice);
	ev->type = 0;
}

static int
rx_fail(const char **reason, const char *why)
{
	*reason = why;
	return -1;
}

int
wp_rx_feed(struct wp_rx *rx, const struct frame_msg *m, struct wp_event *ev,
    const char **reason)
{
	int more = (m->flags & FRAME_F_MORE) != 0;

	memset(ev, 0, sizeof(*ev));
	if (rx->slice_pending && m->type != WP_SLICE_MORE)
		return rx_fail(reason, "slice continuation expected");
	if (more && m->type != WP_SLICE && m->type != WP_SLICE_MORE)
		return rx_fail(reason, "continuation flag on a single-part "
		    "type");

	switch (m->type) {
	case WP_SNAPSHOT_BEGIN:
		if (rx->in_snapshot)
			return rx_fail(reason, "snapshot begin inside a "
			    "snapshot");
		if (wp_decode_snapshot_begin(m->payload, m->len,
		    &ev->generation, reason) == -1)
			return -1;
		rx->in_snapshot = 1;
		rx->generation = ev->generation;
		memset(rx->seen, 0, sizeof(rx->seen));
		ev->type = WP_EV_SNAPSHOT_BEGIN;
		return 1;
	case WP_SNAPSHOT_END:
		if (!rx->in_snapshot)
			return rx_fail(reason, "snapshot end without begin");
		if (wp_decode_snapshot_end(m->payload, m->len, &ev->end,
		    reason) == -1)
			return -1;
		if (ev->end.generation != rx->generation)
			return rx_fail(reason, "snapshot generation mismatch");
		if (ev->end.n_services != rx->seen[WP_KIND_SERVICE] ||
		    ev->end.n_slices != rx->seen[WP_KIND_SLICE] ||
		    ev->end.n_nodes != rx->seen[WP_KIND_NODE])
			return rx_fail(reason, "snapshot record counts differ");
		rx->in_snapshot = 0;
		ev->type = WP_EV_SNAPSHOT_END;
		return 1;
	case WP_SERVICE:
		if (wp_decode_service(m->payload, m->len, &ev->svc,
		    reason) == -1)
			return -1;
		rx->seen[WP_KIND_SERVICE]++;
		ev->type = WP_EV_SERVICE;
		return 1;
	case WP_SLICE:
		if (wp_decode_slice(m->payload, m->len, &rx->pending,
		    reason) == -1)
			return -1;
		break;
	case WP_SLICE_MORE:
		if (!rx->slice_pending)
			return rx_fail(reason, "slice continuation without a "
			    "slice");
		if (wp_decode_slice_more(m->payload, m->len, &rx->pending,
		    reason) == -1)
			return -1;
		break;
	case WP_NODE:
		if (wp_decode_node(m->payload, m->len, &ev->node,
		    reason) == -1)
			return -1;
		rx->seen[WP_KIND_NODE]++;
		ev->type = WP_EV_NODE;
		return 1;
	case WP_DELETE:
		if (rx->in_snapshot)
			return rx_fail(reason, "delete inside a snapshot");
		if (wp_decode_delete(m->payload, m->len, &ev->del,
		    reason) == -1)
			return -1;
		ev->type = WP_EV_DELETE;
		return 1;
	case WP_LIST_COMPLETE:
		if (wp_decode_kind(m->payload, m->len, &ev->kind,
		    reason) == -1)
			return -1;
		ev->type = WP_EV_LIST_COMPLETE;
		return 1;
	default:
		return rx_fail(reason, "not a watcher->planner message");
	}

	/* A slice part was read into rx->pending. */
	if (more) {
		rx->slice_pending = 1;
		return 0;
	}
	rx->slice_pending = 0;
	ev->slice = rx->pending;
	memset(&rx->pending, 0, sizeof(rx->pending));
	rx->seen[WP_KIND_SLICE]++;
	ev->type = WP_EV_SLICE;
	return 1;
}
