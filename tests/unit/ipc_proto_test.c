/*
 * Unit tests for the typed protocols (ipc/proto_*.c): every message type
 * round-trips through a real socketpair and the receiver's state machine,
 * large records and batches are split across messages and reassembled,
 * and each kind of malformed payload is rejected with a reason: short,
 * trailing bytes, bad count, unterminated string, NUL in a string, out of
 * range enums and families, and messages out of state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/codec.h"
#include "ipc/frame.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pa.h"
#include "ipc/proto_pw.h"
#include "ipc/proto_wp.h"
#include "tests/tap.h"

static struct ipc_chan up, down;	/* up: sender side, down: receiver */

static void
pair(enum ipc_dir dir, enum ipc_dir back)
{
	int sv[2];

	ipc_chan_close(&up);
	ipc_chan_close(&down);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	/* Big buffers: some tests send a lot before reading. */
	ipc_chan_init(&up, sv[0], back, dir);
	ipc_chan_init(&down, sv[1], dir, back);
}

static int
recv1(struct frame_msg *m)
{
	int i;

	for (i = 0; i < 1000; i++) {
		frame_flush(&up);
		if (frame_recv(&down, m) == 1)
			return 1;
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

static struct rec_addr
a4(const char *s)
{
	struct rec_addr a;

	memset(&a, 0, sizeof(a));
	a.family = REC_FAMILY_IPV4;
	inet_pton(AF_INET, s, a.addr);
	return a;
}

static struct rec_addr
a6(const char *s)
{
	struct rec_addr a;

	memset(&a, 0, sizeof(a));
	a.family = REC_FAMILY_IPV6;
	inet_pton(AF_INET6, s, a.addr);
	return a;
}

static void
make_service(struct rec_service *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->namespace, "default");
	strcpy(s->name, "web");
	strcpy(s->uid, "0b7e1f7a-0000-4000-8000-000000000001");
	s->created = 1700000000;
	s->type = REC_SVC_LOADBALANCER;
	s->affinity = REC_AFFINITY_CLIENTIP;
	s->affinity_timeout = 10800;
	s->flags = REC_SVC_ETP_LOCAL;
	s->health_check_node_port = 32000;
	s->n_cluster_ips = 2;
	s->cluster_ips[0] = a4("10.96.0.10");
	s->cluster_ips[1] = a6("fd00::10");
	s->n_ports = 2;
	s->ports = calloc(2, sizeof(*s->ports));
	strcpy(s->ports[0].name, "http");
	s->ports[0].protocol = REC_PROTO_TCP;
	s->ports[0].port = 80;
	s->ports[0].node_port = 30080;
	s->ports[1].protocol = REC_PROTO_UDP;
	s->ports[1].port = 53;
	s->n_external_ips = 1;
	s->external_ips = calloc(1, sizeof(*s->external_ips));
	s->external_ips[0] = a4("192.0.2.50");
	s->n_lb_ingress = 1;
	s->lb_ingress = calloc(1, sizeof(*s->lb_ingress));
	s->lb_ingress[0].ip = a4("203.0.113.10");
	s->lb_ingress[0].ipmode = REC_IPMODE_PROXY;
	s->n_source_ranges = 1;
	s->source_ranges = calloc(1, sizeof(*s->source_ranges));
	s->source_ranges[0].addr = a4("198.51.100.0");
	s->source_ranges[0].plen = 24;
}

static void
make_slice(struct rec_slice *s, unsigned n_eps)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	strcpy(s->namespace, "default");
	strcpy(s->name, "web-abcde");
	strcpy(s->service, "web");
	s->family = REC_FAMILY_IPV4;
	s->n_ports = 1;
	s->ports = calloc(1, sizeof(*s->ports));
	strcpy(s->ports[0].name, "http");
	s->ports[0].protocol = REC_PROTO_TCP;
	s->ports[0].port = 8080;
	s->n_endpoints = (uint16_t)n_eps;
	s->endpoints = calloc(n_eps ? n_eps : 1, sizeof(*s->endpoints));
	for (i = 0; i < n_eps; i++) {
		struct rec_endpoint *e = &s->endpoints[i];

		e->addr = a4("10.244.0.0");
		e->addr.addr[2] = (uint8_t)(i >> 8);
		e->addr.addr[3] = (uint8_t)i;
		e->conditions = REC_EP_READY | REC_EP_SERVING;
		/* Long node names force the slice over several messages. */
		memset(e->node_name, 'n', 200);
		e->node_name[0] = (char)('a' + i % 26);
		e->n_zone_hints = 1;
		strcpy(e->zone_hints[0], "zone-a");
	}
}

static void
wp_tests(void)
{
	struct rec_service s;
	struct rec_slice sl;
	struct rec_node nd;
	struct wp_snapshot_end end = { 7, 1, 1, 1 };
	struct wp_delete del;
	struct wp_rx rx;
	struct wp_event ev;
	struct frame_msg m;
	const char *reason = "";
	int rv, parts, more;
	unsigned i;

	pair(IPC_DIR_WP, IPC_DIR_PW);
	wp_rx_init(&rx);
	make_service(&s);
	make_slice(&sl, 1000);
	memset(&nd, 0, sizeof(nd));
	strcpy(nd.name, "node-1");
	strcpy(nd.zone, "zone-a");
	nd.n_pod_cidrs = 1;
	nd.pod_cidrs[0].addr = a4("10.244.1.0");
	nd.pod_cidrs[0].plen = 24;
	nd.n_addresses = 2;
	nd.addresses[0] = a4("192.168.1.10");
	nd.addresses[1] = a6("2001:db8::10");

	ok(wp_send_snapshot_begin(&up, 7) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == WP_EV_SNAPSHOT_BEGIN && ev.generation == 7,
	    "wp: snapshot begin");
	ok(wp_send_service(&up, &s) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == WP_EV_SERVICE, "wp: service");
	ok(strcmp(ev.svc.name, "web") == 0 && ev.svc.n_ports == 2 &&
	    ev.svc.ports[0].node_port == 30080 &&
	    strcmp(ev.svc.ports[0].name, "http") == 0 &&
	    ev.svc.ports[1].protocol == REC_PROTO_UDP &&
	    ev.svc.n_cluster_ips == 2 &&
	    memcmp(&ev.svc.cluster_ips[1], &s.cluster_ips[1],
	    sizeof(struct rec_addr)) == 0 &&
	    ev.svc.lb_ingress[0].ipmode == REC_IPMODE_PROXY &&
	    ev.svc.source_ranges[0].plen == 24 &&
	    ev.svc.affinity_timeout == 10800 && ev.svc.created == 1700000000 &&
	    ev.svc.health_check_node_port == 32000,
	    "wp: service fields equal");
	wp_event_clear(&ev);

	ok(wp_send_slice(&up, &sl) == 0, "wp: slice of 1000 endpoints sent");
	parts = 0;
	do {
		if (recv1(&m) != 1)
			break;
		parts++;
		more = (m.flags & FRAME_F_MORE) != 0;
		rv = wp_rx_feed(&rx, &m, &ev, &reason);
	} while (rv == 0 && more);
	ok(rv == 1 && ev.type == WP_EV_SLICE && parts >= 4,
	    "wp: slice split over %d messages and reassembled", parts);
	for (i = 0; rv == 1 && i < 1000; i++)
		if (memcmp(&ev.slice.endpoints[i], &sl.endpoints[i],
		    sizeof(struct rec_endpoint)) != 0)
			break;
	ok(ev.slice.n_endpoints == 1000 && i == 1000 &&
	    ev.slice.ports[0].port == 8080, "wp: every endpoint equal");
	wp_event_clear(&ev);

	ok(wp_send_node(&up, &nd) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 && ev.type == WP_EV_NODE &&
	    memcmp(&ev.node, &nd, sizeof(nd)) == 0, "wp: node");
	ok(wp_send_list_complete(&up, WP_KIND_SLICE) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == WP_EV_LIST_COMPLETE && ev.kind == WP_KIND_SLICE,
	    "wp: list complete");
	ok(wp_send_snapshot_end(&up, &end) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == WP_EV_SNAPSHOT_END, "wp: snapshot end with counts");
	memset(&del, 0, sizeof(del));
	del.kind = WP_KIND_SERVICE;
	strcpy(del.namespace, "default");
	strcpy(del.name, "web");
	ok(wp_send_delete(&up, &del) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == WP_EV_DELETE && strcmp(ev.del.name, "web") == 0,
	    "wp: delete");

	/* Out of state. */
	ok(wp_send_snapshot_begin(&up, 8) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == 1, "wp: second snapshot");
	end.generation = 8;
	ok(wp_send_snapshot_end(&up, &end) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "counts differ") != NULL,
	    "wp: snapshot end with wrong counts rejected (%s)", reason);
	wp_rx_reset(&rx);
	ok(wp_send_snapshot_end(&up, &end) == 0 && recv1(&m) == 1 &&
	    wp_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "without begin") != NULL,
	    "wp: snapshot end without begin rejected");
	ok(wp_send_slice(&up, &sl) == 0 && recv1(&m) == 1 &&
	    (m.flags & FRAME_F_MORE) && wp_rx_feed(&rx, &m, &ev, &reason) == 0,
	    "wp: first part of a slice");
	ok(wp_send_node(&up, &nd) == 0 && recv1(&m) == 1 &&
	    m.type == WP_SLICE_MORE && recv1(&m) == 1, "wp: skip ahead");
	while (m.type != WP_NODE && recv1(&m) == 1)
		;
	ok(wp_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "continuation expected") != NULL,
	    "wp: another record inside a split slice rejected");
	wp_rx_reset(&rx);

	rec_service_clear(&s);
	rec_slice_clear(&sl);
}

/* Decoder rejections on hand-made service payloads. */
static void
wp_reject_tests(void)
{
	struct rec_service s, out;
	struct rec_slice sl;
	uint8_t buf[8192];
	const char *reason = "";
	long n;
	size_t off;

	make_service(&s);
	n = wp_encode_service(&s, buf, sizeof(buf));
	ok(n > 0 && wp_decode_service(buf, (size_t)n, &out, &reason) == 0,
	    "service payload decodes");
	rec_service_clear(&out);
	reason = NULL;
	ok(wp_decode_service(buf, (size_t)n - 1, &out, &reason) == -1 &&
	    reason != NULL && (strstr(reason, "too short") != NULL ||
	    strstr(reason, "larger than payload") != NULL),
	    "short service rejected");
	diag("short service: %s", reason ? reason : "(none)");
	buf[n] = 0;
	ok(wp_decode_service(buf, (size_t)n + 1, &out, &reason) == -1 &&
	    strstr(reason, "trailing") != NULL, "trailing byte rejected");
	/* "default" starts at 1; its NUL is at 1 + 7. */
	buf[8] = 'x';
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1 &&
	    strstr(reason, "unterminated") != NULL,
	    "unterminated string rejected (%s)", reason);
	buf[8] = 0;
	buf[3] = 0;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1 &&
	    strstr(reason, "NUL inside") != NULL, "NUL inside string rejected");
	buf[3] = 'f';
	buf[0] = 200;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1,
	    "string longer than the field rejected (%s)", reason);
	buf[0] = 7;
	/* The type byte follows ns, name, uid and created. */
	off = 9 + 5 + 38 + 8;
	buf[off] = 9;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1 &&
	    strstr(reason, "service type") != NULL, "bad enum rejected");
	buf[off] = REC_SVC_LOADBALANCER;
	/* Cluster-IP count after type, affinity, flags, timeout, hc port. */
	off += 3 + 4 + 2;
	buf[off] = 3;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1 &&
	    strstr(reason, "count") != NULL, "count over the limit rejected");
	buf[off] = 2;
	buf[off + 1] = 5;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == -1 &&
	    strstr(reason, "family") != NULL, "bad address family rejected");
	buf[off + 1] = 4;
	ok(wp_decode_service(buf, (size_t)n, &out, &reason) == 0,
	    "restored payload decodes again");
	rec_service_clear(&out);
	rec_service_clear(&s);

	/* A port count larger than the payload: no allocation, rejected. */
	memset(buf, 0, sizeof(buf));
	{
		struct ipc_wr w;

		ipc_wr_init(&w, buf, sizeof(buf));
		ipc_wr_str(&w, "ns");
		ipc_wr_str(&w, "n");
		ipc_wr_str(&w, "svc");
		ipc_wr_u8(&w, 4);
		ipc_wr_u16(&w, 100);
		ok(wp_decode_slice(buf, w.len, &sl, &reason) == -1 &&
		    strstr(reason, "larger than payload") != NULL,
		    "count larger than the payload rejected (%s)", reason);
	}
}

static void
ctl_pw_tests(void)
{
	struct ctl_hello h, hh;
	struct ctl_heartbeat hb = { 5 };
	struct pw_status st, *stp;
	struct pw_local_eps *eps;
	struct pw_rx rx;
	struct pw_event ev;
	struct frame_msg m;
	const char *reason = "";
	size_t i;
	int rv, parts;

	pair(IPC_DIR_CTL_DOWN, IPC_DIR_CTL_UP);
	memset(&h, 0, sizeof(h));
	h.role = IPC_ROLE_PLANNER;
	h.proto = IPC_PROTO_VERSION;
	h.pid = 1234;
	strcpy(h.version, "0.1.0");
	ok(ctl_send_hello(&up, &h) == 0 && recv1(&m) == 1 &&
	    ctl_decode_hello(m.payload, m.len, m.flags, &hh, &reason) == 0 &&
	    memcmp(&h, &hh, sizeof(h)) == 0, "ctl: hello");
	ok(ctl_send_heartbeat(&up, &hb) == 0 && recv1(&m) == 1 &&
	    ctl_decode_heartbeat(m.payload, m.len, m.flags, &hb,
	    &reason) == 0 && hb.counter == 5, "ctl: heartbeat");
	h.proto = 9;
	ok(ctl_send_hello(&up, &h) == 0 && recv1(&m) == 1 &&
	    ctl_decode_hello(m.payload, m.len, m.flags, &hh, &reason) == -1 &&
	    strstr(reason, "version") != NULL,
	    "ctl: hello of another protocol version rejected");
	h.proto = IPC_PROTO_VERSION;
	h.role = 9;
	ok(ctl_send_hello(&up, &h) == 0 && recv1(&m) == 1 &&
	    ctl_decode_hello(m.payload, m.len, m.flags, &hh, &reason) == -1 &&
	    strstr(reason, "role") != NULL, "ctl: unknown role rejected");
	ok(ctl_decode_heartbeat((const uint8_t *)"\0\0\0\0\0\0\0\0", 8, 0,
	    &hb, &reason) == -1, "ctl: heartbeat 0 rejected");
	ok(ctl_decode_heartbeat((const uint8_t *)"\1\0\0\0\0\0\0\0", 8,
	    FRAME_F_MORE, &hb, &reason) == -1, "ctl: flags rejected");
	ok(ctl_decode_peer_fd((const uint8_t *)"\3", 1, 0,
	    &(struct ctl_peer_fd){ 0 }, &reason) == -1,
	    "ctl: unknown link rejected");

	pair(IPC_DIR_PW, IPC_DIR_WP);
	pw_rx_init(&rx);
	memset(&st, 0, sizeof(st));
	st.flags = PW_ST_SYNCED | PW_ST_APPLIER_UP;
	st.last_sync_ms = 1700000000000LL;
	st.n_services = 42;
	ok(pw_send_status(&up, &st) == 0 && recv1(&m) == 1 &&
	    pw_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == PW_EV_STATUS && memcmp(&ev.status, &st,
	    sizeof(st)) == 0, "pw: status");
	eps = calloc(3000, sizeof(*eps));
	for (i = 0; i < 3000; i++) {
		snprintf(eps[i].namespace, sizeof(eps[i].namespace), "ns%zu",
		    i);
		memset(eps[i].name, 's', 100);
		eps[i].health_check_node_port = (uint16_t)(30000 + i);
		eps[i].ready_local = (uint32_t)i;
	}
	ok(pw_send_local_eps(&up, eps, 3000) == 0, "pw: 3000 counts sent");
	parts = 0;
	do {
		if (recv1(&m) != 1)
			break;
		parts++;
		rv = pw_rx_feed(&rx, &m, &ev, &reason);
	} while (rv == 0);
	ok(rv == 1 && ev.type == PW_EV_LOCAL_EPS && ev.n == 3000 &&
	    parts > 1 && memcmp(ev.eps, eps, 3000 * sizeof(*eps)) == 0,
	    "pw: table split over %d messages, reassembled equal", parts);
	free(ev.eps);
	free(eps);
	stp = &st;
	stp->flags = 0x80;
	ok(pw_send_status(&up, stp) == 0 && recv1(&m) == 1 &&
	    pw_rx_feed(&rx, &m, &ev, &reason) == -1,
	    "pw: unknown status flags rejected");
}

/* PW_STATUS's counters: a round trip, and each malformed shape. */
static void
pw_counter_tests(void)
{
	struct pw_status st, got;
	struct frame_msg m;
	uint8_t buf[512];
	const char *reason = "";
	size_t len, nk = 25, nn = 25 + 1 + 16 * PW_OPK_COUNT;
	int i;

	pair(IPC_DIR_PW, IPC_DIR_WP);
	memset(&st, 0, sizeof(st));
	st.flags = PW_ST_SYNCED;
	st.n_services = 7;
	for (i = 0; i < PW_OPK_COUNT; i++) {
		st.ops_applied[i] = 1000u * (uint64_t)(i + 1);
		st.ops_failed[i] = (uint64_t)i;
	}
	st.ops_applied[PW_OPK_RS] = UINT64_MAX;
	for (i = 0; i < PW_NEUT_COUNT; i++)
		st.neutralised[i] = 10u + (uint64_t)i;
	ok(pw_send_status(&up, &st) == 0 && recv1(&m) == 1 &&
	    pw_decode_status(m.payload, m.len, &got, &reason) == 0 &&
	    memcmp(&st, &got, sizeof(st)) == 0,
	    "pw: status counters round trip");
	len = m.len;
	is((long)len, 25 + 2 + 16 * PW_OPK_COUNT + 8 * PW_NEUT_COUNT,
	    "pw: status is exactly its fixed length");
	ok(m.payload[nk] == PW_OPK_COUNT && m.payload[nn] == PW_NEUT_COUNT,
	    "pw: the two counts are where docs/ipc.md says");
	memcpy(buf, m.payload, len);

	ok(pw_decode_status(buf, len - 1, &got, &reason) == -1,
	    "pw: status one byte short rejected");
	buf[len] = 0;
	ok(pw_decode_status(buf, len + 1, &got, &reason) == -1,
	    "pw: status with a trailing byte rejected");
	ok(pw_decode_status(buf, 25, &got, &reason) == -1,
	    "pw: status without counters (old shape) rejected");
	buf[nk] = PW_OPK_COUNT + 1;
	ok(pw_decode_status(buf, len, &got, &reason) == -1 &&
	    strstr(reason, "operation kinds") != NULL,
	    "pw: wrong number of op kinds rejected");
	buf[nk] = PW_OPK_COUNT - 1;
	ok(pw_decode_status(buf, len - 16, &got, &reason) == -1,
	    "pw: fewer op kinds, consistently shorter, rejected");
	buf[nk] = PW_OPK_COUNT;
	buf[nn] = 0;
	ok(pw_decode_status(buf, len, &got, &reason) == -1 &&
	    strstr(reason, "neutralisation") != NULL,
	    "pw: wrong number of neutralisation counters rejected");
	buf[nn] = PW_NEUT_COUNT;
	ok(pw_decode_status(buf, len, &got, &reason) == 0,
	    "pw: restored payload decodes again");
	is_str(pw_opk_name(PW_OPK_VS), "ipvs_service", "pw: op kind name");
	is_str(pw_neut_name(PW_NEUT_VIP_NODE), "vip_node_address",
	    "pw: neutralisation name");
	is_str(pw_opk_name((enum pw_opk)PW_OPK_COUNT), "?",
	    "pw: out-of-range kind has no name");
}

static void
fill_ops(struct pa_op *ops)
{
	struct pa_op *o;
	int k;

	memset(ops, 0, sizeof(*ops) * PA_OP_KIND_MAX);
	for (k = 1; k <= PA_OP_KIND_MAX; k++) {
		o = &ops[k - 1];
		o->kind = (uint8_t)k;
		o->seq = (uint32_t)(100 + k);
	}
	o = &ops[PA_OP_VS_ENSURE - 1];
	o->u.vs.key.addr = a4("10.96.0.10");
	o->u.vs.key.protocol = REC_PROTO_UDP;
	o->u.vs.key.port = 53;
	strcpy(o->u.vs.sched, "rr");
	o->u.vs.flags = PA_VS_PERSISTENT;
	o->u.vs.timeout = 10800;
	o->u.vs.netmask = 32;
	ops[PA_OP_VS_DEL - 1].u.vs_key = o->u.vs.key;
	for (k = PA_OP_RS_ENSURE; k <= PA_OP_RS_WEIGHT; k++) {
		ops[k - 1].u.rs.vs = o->u.vs.key;
		ops[k - 1].u.rs.addr = a4("10.244.1.5");
		ops[k - 1].u.rs.port = 53;
		ops[k - 1].u.rs.weight = 1;
	}
	ops[PA_OP_IPVS_TIMEOUTS - 1].u.timeouts.tcp = 900;
	ops[PA_OP_IPVS_TIMEOUTS - 1].u.timeouts.udp = 300;
	ops[PA_OP_ADDR_ADD - 1].u.addr = a4("10.96.0.10");
	ops[PA_OP_ADDR_DEL - 1].u.addr = a6("fd00::10");
	ops[PA_OP_SET_ENSURE - 1].u.set.set = PA_SET_CLUSTER_IP;
	ops[PA_OP_SET_ENSURE - 1].u.set.family = 4;
	o = &ops[PA_OP_SET_ADD - 1];
	o->u.entry.set = PA_SET_LOAD_BALANCER_SOURCE_CIDR;
	o->u.entry.family = 4;
	o->u.entry.addr = a4("203.0.113.10");
	o->u.entry.protocol = REC_PROTO_TCP;
	o->u.entry.port = 80;
	o->u.entry.net.addr = a4("198.51.100.0");
	o->u.entry.net.plen = 24;
	o = &ops[PA_OP_SET_DEL - 1];
	o->u.entry.set = PA_SET_NODE_PORT_TCP;
	o->u.entry.family = 6;
	o->u.entry.flags = PA_SETF_STAGED;
	o->u.entry.port = 30080;
	ops[PA_OP_SET_RELOAD_BEGIN - 1].u.set.set = PA_SET_IPVS_IPS;
	ops[PA_OP_SET_RELOAD_BEGIN - 1].u.set.family = 6;
	ops[PA_OP_SET_RELOAD_COMMIT - 1].u.set =
	    ops[PA_OP_SET_RELOAD_BEGIN - 1].u.set;
	o = &ops[PA_OP_CHAIN_REPLACE - 1];
	o->u.chain.family = 4;
	o->u.chain.chain = PA_CHAIN_NAT_SERVICES;
	o->u.chain.flags = PA_CHF_RANDOM_FULLY;
	o->u.chain.masq_bit = 14;
	o->u.chain.sets_nonempty = 1u << PA_SET_CLUSTER_IP;
	o->u.chain.local_mode = PA_LOCAL_CIDR;
	o->u.chain.local_cidr.addr = a4("10.244.0.0");
	o->u.chain.local_cidr.plen = 16;
	o = &ops[PA_OP_CHAIN_DROP_VIP - 1];
	o->u.drop_vip.family = 4;
	o->u.drop_vip.vip.addr = a4("203.0.113.10");
	o->u.drop_vip.vip.protocol = REC_PROTO_TCP;
	o->u.drop_vip.vip.port = 80;
	ops[PA_OP_DUMP_REQUEST - 1].u.dump_what = PA_DUMP_ALL;
}

static void
pa_ap_tests(void)
{
	struct pa_op ops[PA_OP_KIND_MAX], op;
	struct pa_batch_begin b = { 1, PA_BATCH_FULL, PA_OP_KIND_MAX };
	struct pa_tx tx;
	struct pa_rx rx;
	struct pa_event ev;
	struct ap_rx arx;
	struct ap_event aev;
	struct ap_tx atx;
	struct ap_result res;
	struct ap_rec rec;
	struct ap_dump_begin db = { 3, PA_DUMP_ALL };
	struct frame_msg m;
	const char *reason = "";
	uint32_t total, i, nres;
	int rv, k, good, msgs;
	long n;
	uint8_t buf[256];

	pair(IPC_DIR_PA, IPC_DIR_AP);
	pa_rx_init(&rx);
	fill_ops(ops);
	ok(pa_tx_begin(&tx, &up, &b) == 0, "pa: batch begin");
	for (k = 0, rv = 0; k < PA_OP_KIND_MAX; k++)
		rv |= pa_tx_op(&tx, &ops[k]);
	ok(rv == 0 && pa_tx_end(&tx) == 0, "pa: every op kind sent");
	ok(recv1(&m) == 1 && pa_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == PA_EV_BATCH_BEGIN && ev.begin.n_ops == PA_OP_KIND_MAX,
	    "pa: batch begin received");
	ok(recv1(&m) == 1 && pa_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == PA_EV_OPS && ev.n_ops == PA_OP_KIND_MAX,
	    "pa: ops received (%s)", reason);
	for (k = 0, good = 0; ev.ops != NULL && k < PA_OP_KIND_MAX; k++)
		if (memcmp(&ev.ops[k], &ops[k], sizeof(ops[k])) == 0)
			good++;
		else
			diag("op %s differs", pa_op_name(ops[k].kind));
	ok(good == PA_OP_KIND_MAX, "pa: every op round-trips equal");
	free(ev.ops);
	ok(recv1(&m) == 1 && pa_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    ev.type == PA_EV_BATCH_END, "pa: batch end");

	/* 50,000 ops: split into many PA_OPS messages. */
	b.batch = 2;
	b.n_ops = 50000;
	pa_tx_begin(&tx, &up, &b);
	op = ops[PA_OP_RS_ENSURE - 1];
	for (i = 0, rv = 0; i < 50000; i++) {
		op.seq = 1000 + i;
		op.u.rs.weight = i;
		rv |= pa_tx_op(&tx, &op);
	}
	ok(rv == 0 && pa_tx_end(&tx) == 0, "pa: 50000 ops queued");
	total = 0;
	msgs = 0;
	good = 1;
	for (;;) {
		if (recv1(&m) != 1 || pa_rx_feed(&rx, &m, &ev, &reason) != 1) {
			good = 0;
			break;
		}
		msgs++;
		if (ev.type == PA_EV_BATCH_END)
			break;
		for (i = 0; i < ev.n_ops; i++)
			if (ev.ops[i].u.rs.weight != total + i)
				good = 0;
		total += (uint32_t)ev.n_ops;
		free(ev.ops);
	}
	ok(good && total == 50000 && msgs > 10,
	    "pa: 50000 ops over %d messages, all equal", msgs);

	/* Out of state and malformed. */
	b.batch = 2;
	b.n_ops = 1;
	ok(pa_tx_begin(&tx, &up, &b) == 0 && recv1(&m) == 1 &&
	    pa_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "not increasing") != NULL,
	    "pa: reused batch id rejected");
	pa_tx_abort(&tx);
	pa_rx_init(&rx);
	b.batch = 3;
	b.n_ops = 2;
	pa_tx_begin(&tx, &up, &b);
	op.seq = 5;
	pa_tx_op(&tx, &op);
	pa_tx_op(&tx, &op);
	pa_tx_end(&tx);
	ok(recv1(&m) == 1 && pa_rx_feed(&rx, &m, &ev, &reason) == 1 &&
	    recv1(&m) == 1 && pa_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "sequence") != NULL,
	    "pa: repeated op sequence number rejected");
	recv1(&m);
	pa_rx_init(&rx);
	op.seq = 9;
	n = pa_encode_op(&op, buf + 2, sizeof(buf) - 2);
	buf[0] = 1;
	buf[1] = 0;
	m.type = PA_OPS;
	m.flags = 0;
	m.payload = buf;
	m.len = (size_t)n + 2;
	ok(pa_rx_feed(&rx, &m, &ev, &reason) == -1 &&
	    strstr(reason, "outside a batch") != NULL,
	    "pa: ops outside a batch rejected");
	buf[2] = 99;
	ok(pa_decode_ops(buf, (size_t)n + 2, &ev.ops, &ev.n_ops,
	    &reason) == -1 && strstr(reason, "unknown op") != NULL,
	    "pa: unknown op kind rejected");
	buf[2] = PA_OP_RS_ENSURE;
	buf[0] = 2;
	ok(pa_decode_ops(buf, (size_t)n + 2, &ev.ops, &ev.n_ops,
	    &reason) == -1, "pa: op count beyond the payload rejected");
	op = ops[PA_OP_VS_ENSURE - 1];
	strcpy(op.u.vs.sched, "r/r");
	n = pa_encode_op(&op, buf + 2, sizeof(buf) - 2);
	buf[0] = 1;
	ok(pa_decode_ops(buf, (size_t)n + 2, &ev.ops, &ev.n_ops,
	    &reason) == -1 && strstr(reason, "character") != NULL,
	    "pa: scheduler name with a bad character rejected");
	op = ops[PA_OP_RS_ENSURE - 1];
	op.u.rs.addr = a6("fd00::1");
	n = pa_encode_op(&op, buf + 2, sizeof(buf) - 2);
	ok(pa_decode_ops(buf, (size_t)n + 2, &ev.ops, &ev.n_ops,
	    &reason) == -1 && strstr(reason, "family") != NULL,
	    "pa: real server of another family rejected");
	ok(strcmp(pa_set_name(PA_SET_LOAD_BALANCER_SOURCE_CIDR, 6),
	    "KUBE-6-LOAD-BALANCER-SOURCE-CID") == 0 &&
	    strcmp(pa_chain_table(PA_CHAIN_FILTER_NODE_PORT), "filter") == 0 &&
	    pa_set_name(0, 4) == NULL, "pa: set and chain names");

	/* Results and dumps. */
	pair(IPC_DIR_AP, IPC_DIR_PA);
	ap_rx_init(&arx);
	ap_results_begin(&atx, &up, 9);
	for (i = 0, rv = 0; i < 20000; i++) {
		memset(&res, 0, sizeof(res));
		res.seq = i + 1;
		res.status = i % 7 == 0 ? AP_FAILED : AP_OK;
		res.err = res.status == AP_OK ? 0 : EEXIST;
		if (res.status != AP_OK)
			snprintf(res.reason, sizeof(res.reason), "op %u", i);
		rv |= ap_results_add(&atx, &res);
	}
	ok(rv == 0 && ap_results_end(&atx) == 0, "ap: 20000 results sent");
	nres = 0;
	good = 1;
	msgs = 0;
	do {
		if (recv1(&m) != 1 || ap_rx_feed(&arx, &m, &aev,
		    &reason) != 1) {
			good = 0;
			break;
		}
		msgs++;
		for (i = 0; i < aev.n; i++)
			if (aev.results[i].seq != nres + i + 1 ||
			    (aev.results[i].status == AP_FAILED &&
			    aev.results[i].err != EEXIST))
				good = 0;
		nres += (uint32_t)aev.n;
		rv = aev.last;
		ap_event_clear(&aev);
	} while (!rv);
	ok(good && nres == 20000 && msgs > 1 && aev.batch == 9,
	    "ap: results over %d messages, all equal", msgs);
	ok(ap_dump_begin(&atx, &up, &db) == 0, "ap: dump begin");
	memset(&rec, 0, sizeof(rec));
	rec.kind = AP_REC_VS;
	rec.u.vs = ops[PA_OP_VS_ENSURE - 1].u.vs;
	rv = ap_dump_add(&atx, &rec);
	rec.kind = AP_REC_RS;
	rec.u.rs.rs = ops[PA_OP_RS_ENSURE - 1].u.rs;
	rec.u.rs.active = 3;
	rec.u.rs.inactive = 4;
	rv |= ap_dump_add(&atx, &rec);
	memset(&rec, 0, sizeof(rec));
	rec.kind = AP_REC_ADDR;
	strcpy(rec.u.addr.ifname, "kube-ipvs0");
	rec.u.addr.prefix.addr = a4("10.96.0.10");
	rec.u.addr.prefix.plen = 32;
	rv |= ap_dump_add(&atx, &rec);
	rec.kind = AP_REC_SET_MEMBER;
	rec.u.member = ops[PA_OP_SET_ADD - 1].u.entry;
	rv |= ap_dump_add(&atx, &rec);
	memset(&rec, 0, sizeof(rec));
	rec.kind = AP_REC_CHAIN;
	rec.u.chain.family = 4;
	rec.u.chain.chain = PA_CHAIN_FILTER_IPVS_FILTER;
	rec.u.chain.matches = 1;
	rec.u.chain.n_rules = 6;
	rv |= ap_dump_add(&atx, &rec);
	ok(rv == 0 && ap_dump_end(&atx) == 0, "ap: five record kinds sent");
	ok(recv1(&m) == 1 && ap_rx_feed(&arx, &m, &aev, &reason) == 1 &&
	    aev.type == AP_EV_DUMP_BEGIN && aev.dbegin.dump == 3,
	    "ap: dump begin received");
	ok(recv1(&m) == 1 && ap_rx_feed(&arx, &m, &aev, &reason) == 1 &&
	    aev.type == AP_EV_DUMP_RECS && aev.n == 5 &&
	    aev.recs[1].u.rs.active == 3 &&
	    memcmp(&aev.recs[0].u.vs, &ops[PA_OP_VS_ENSURE - 1].u.vs,
	    sizeof(struct pa_vs)) == 0 &&
	    memcmp(&aev.recs[3].u.member, &ops[PA_OP_SET_ADD - 1].u.entry,
	    sizeof(struct pa_set_entry)) == 0 &&
	    strcmp(aev.recs[2].u.addr.ifname, "kube-ipvs0") == 0 &&
	    aev.recs[4].u.chain.n_rules == 6, "ap: records equal");
	ap_event_clear(&aev);
	ok(recv1(&m) == 1 && ap_rx_feed(&arx, &m, &aev, &reason) == 1 &&
	    aev.type == AP_EV_DUMP_END && aev.dend.n_recs == 5,
	    "ap: dump end with the count");
	ap_dump_begin(&atx, &up, &db);
	ap_tx_abort(&atx);
	ok(recv1(&m) == 1 && ap_rx_feed(&arx, &m, &aev, &reason) == 1,
	    "ap: second dump begins");
	ok(ap_dump_begin(&atx, &up, &db) == 0 && recv1(&m) == 1 &&
	    ap_rx_feed(&arx, &m, &aev, &reason) == -1 &&
	    strstr(reason, "inside a dump") != NULL,
	    "ap: dump begin inside a dump rejected");
	ap_tx_abort(&atx);
	memset(&res, 0, sizeof(res));
	res.status = AP_OK;
	res.err = 5;
	ap_results_begin(&atx, &up, 10);
	ap_results_add(&atx, &res);
	ap_results_end(&atx);
	ap_rx_init(&arx);
	ok(recv1(&m) == 1 && ap_rx_feed(&arx, &m, &aev, &reason) == -1 &&
	    strstr(reason, "errno") != NULL,
	    "ap: success with an errno rejected");
}

int
main(void)
{
	plan(77);
	up.fd = down.fd = -1;
	wp_tests();
	wp_reject_tests();
	ctl_pw_tests();
	pw_counter_tests();
	pa_ap_tests();
	ipc_chan_close(&up);
	ipc_chan_close(&down);
	return done();
}
