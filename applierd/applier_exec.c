/*
 * applier_exec: batches through the backends (applier_exec.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_audit.h"
#include "applierd/applier_exec.h"
#include "applierd/applier_ipset.h"
#include "applierd/applier_ipt.h"
#include "applierd/applier_ipvs.h"
#include "applierd/applier_khash.h"
#include "applierd/applier_policy.h"
#include "common/addr.h"
#include "common/log.h"
#include "common/progress.h"
#include "ipc/link.h"

#define IP_VS_SVC_F_PERSISTENT	0x0001
#define IP_VS_SVC_F_SCHED2	0x0010

static const char *
proto_name(uint8_t p)
{
	return p == REC_PROTO_TCP ? "tcp" : p == REC_PROTO_UDP ? "udp" :
	    "sctp";
}

static int
proto_ip(uint8_t p)
{
	return p == REC_PROTO_TCP ? IPPROTO_TCP : p == REC_PROTO_UDP ?
	    IPPROTO_UDP : IPPROTO_SCTP;
}

static uint8_t
proto_rec(int p)
{
	return p == IPPROTO_TCP ? REC_PROTO_TCP : p == IPPROTO_UDP ?
	    REC_PROTO_UDP : p == IPPROTO_SCTP ? REC_PROTO_SCTP : 0;
}

static int
fam_af(uint8_t f)
{
	return f == 6 ? AF_INET6 : AF_INET;
}

static int
fi(uint8_t f)
{
	return f == 6 ? 1 : 0;
}

/* src into dst[size], cut to fit and terminated (size > 0). */
static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
set_result(struct ap_result *r, int status, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_result(struct ap_result *r, int status, int err, const char *fmt, ...)
{
	va_list ap;
	char *p;

	r->status = (uint8_t)status;
	r->err = status == AP_OK ? 0 : (err > 0 && err <= 4095 ? err : EIO);
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	/* The wire allows no control characters in a reason. */
	for (p = r->reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* Every applied op passes here: no printf (under emulation it shows). */
static void
set_ok(struct ap_result *r, int changed)
{
	static const char unchanged[] = "unchanged";

	_Static_assert(sizeof(r->reason) >= sizeof(unchanged), "reason");
	r->status = AP_OK;
	r->err = 0;
	if (changed)
		r->reason[0] = '\0';
	else
		memcpy(r->reason, unchanged, sizeof(unchanged));
}

static void
set_failed(struct ap_result *r, int err, const char *msg)
{
	if (msg != NULL && msg[0] != '\0')
		set_result(r, AP_FAILED, err, "%s", msg);
	else
		set_result(r, AP_FAILED, err, "%s", strerror(err));
}

/*
 * Marks op i blocked if its prerequisite did not succeed; 1 if so.
 */
static int
blocked(const struct pa_op *ops, struct ap_result *res, const long *dep,
    size_t i)
{
	const struct ap_result *d;

	if (dep[i] < 0)
		return 0;
	d = &res[dep[i]];
	if (d->status == AP_OK)
		return 0;
	set_result(&res[i], AP_BLOCKED, d->err ? d->err : ECANCELED,
	    "op %u (%s) did not succeed", d->seq,
	    pa_op_name(ops[dep[i]].kind));
	return 1;
}

void
exec_vs_to_svc(const struct pa_vs_key *k, struct ipvs_svc *s)
{
	memset(s, 0, sizeof(*s));
	s->family = fam_af(k->addr.family);
	s->protocol = (uint16_t)proto_ip(k->protocol);
	memcpy(s->addr.bytes, k->addr.addr, k->addr.family == 6 ? 16 : 4);
	s->port = k->port;
	s->netmask = k->addr.family == 6 ? 128 : 0xffffffffu;
}

static void
vs_to_svc_full(const struct pa_vs *vs, struct ipvs_svc *s)
{
	exec_vs_to_svc(&vs->key, s);
	copy_str(s->sched, sizeof(s->sched), vs->sched);
	if (vs->flags & PA_VS_PERSISTENT)
		s->flags |= IP_VS_SVC_F_PERSISTENT;
	if (vs->flags & PA_VS_SCHED_PORT)
		s->flags |= IP_VS_SVC_F_SCHED2;
	s->timeout = vs->timeout;
	if (vs->key.addr.family == 6)
		s->netmask = vs->netmask ? vs->netmask : 128;
	else if (vs->netmask != 0 && vs->netmask < 32)
		s->netmask = htonl(~0u << (32 - vs->netmask));
}

int
exec_svc_to_vs(const struct ipvs_svc *s, struct pa_vs *vs)
{
	memset(vs, 0, sizeof(*vs));
	if ((s->family != AF_INET && s->family != AF_INET6) ||
	    (vs->key.protocol = proto_rec(s->protocol)) == 0)
		return -1;
	vs->key.addr.family = s->family == AF_INET6 ? 6 : 4;
	memcpy(vs->key.addr.addr, s->addr.bytes, s->family == AF_INET6 ?
	    16 : 4);
	vs->key.port = s->port;
	copy_str(vs->sched, sizeof(vs->sched), s->sched);
	if (s->flags & IP_VS_SVC_F_PERSISTENT)
		vs->flags |= PA_VS_PERSISTENT;
	if (s->flags & IP_VS_SVC_F_SCHED2)
		vs->flags |= PA_VS_SCHED_PORT;
	vs->timeout = s->timeout;
	if (s->family == AF_INET6)
		vs->netmask = (uint8_t)(s->netmask > 128 ? 128 : s->netmask);
	else
		vs->netmask = (uint8_t)__builtin_popcount(s->netmask);
	return 0;
}

static void
rs_to_op(const struct pa_rs *rs, struct ipvs_op *o)
{
	exec_vs_to_svc(&rs->vs, &o->svc);
	o->dest.family = fam_af(rs->addr.family);
	memcpy(o->dest.addr.bytes, rs->addr.addr,
	    rs->addr.family == 6 ? 16 : 4);
	o->dest.port = rs->port;
	o->dest.weight = rs->weight;
}

int
exec_set_spec(uint8_t set, uint8_t family, struct ipset_spec *sp)
{
	const char *name = pa_set_name(set, family);

	memset(sp, 0, sizeof(*sp));
	if (name == NULL)
		return -1;
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	switch (pa_set_type(set)) {
	case PA_SETTYPE_HASH_IP:
		sp->kind = IPSET_K_HASH_IP;
		break;
	case PA_SETTYPE_HASH_IP_PORT:
		sp->kind = IPSET_K_HASH_IP_PORT;
		break;
	case PA_SETTYPE_HASH_IP_PORT_IP:
		sp->kind = IPSET_K_HASH_IP_PORT_IP;
		break;
	case PA_SETTYPE_HASH_IP_PORT_NET:
		sp->kind = IPSET_K_HASH_IP_PORT_NET;
		break;
	case PA_SETTYPE_BITMAP_PORT:
		sp->kind = IPSET_K_BITMAP_PORT;
		break;
	default:
		return -1;
	}
	sp->family = fam_af(family);
	return 0;
}

void
exec_entry_to_member(const struct pa_set_entry *e, struct ipset_member *m)
{
	memset(m, 0, sizeof(*m));
	m->family = fam_af(e->family);
	memcpy(m->ip, e->addr.addr, 16);
	if (e->protocol != 0)
		m->proto = (uint8_t)proto_ip(e->protocol);
	m->port = e->port;
	memcpy(m->ip2, e->net.addr.addr, 16);
	m->cidr2 = e->net.plen;
}

void
exec_member_to_entry(uint8_t set, uint8_t family,
    const struct ipset_member *m, struct pa_set_entry *e)
{
	int t = pa_set_type(set);

	memset(e, 0, sizeof(*e));
	e->set = set;
	e->family = family;
	if (t != PA_SETTYPE_BITMAP_PORT) {
		e->addr.family = family;
		memcpy(e->addr.addr, m->ip, family == 6 ? 16 : 4);
	}
	if (t != PA_SETTYPE_HASH_IP && t != PA_SETTYPE_BITMAP_PORT)
		e->protocol = proto_rec(m->proto);
	if (t != PA_SETTYPE_HASH_IP)
		e->port = m->port;
	if (t == PA_SETTYPE_HASH_IP_PORT_IP ||
	    t == PA_SETTYPE_HASH_IP_PORT_NET) {
		e->net.addr.family = family;
		memcpy(e->net.addr.addr, m->ip2, family == 6 ? 16 : 4);
		e->net.plen = t == PA_SETTYPE_HASH_IP_PORT_IP ?
		    (family == 6 ? 128 : 32) : m->cidr2;
	}
}

/* "tcp 10.96.0.1:443", "tcp [fd00::1]:443". */
static void
astr_addr_port(struct audit_str *a, const struct rec_addr *ad, unsigned port)
{
	char s[ADDR_STRLEN];

	if (ad->family == 4)
		astr_ip4(a, ad->addr);
	else {
		astr_s(a, "[");
		astr_s(a, addr_fmt(ad, s, sizeof(s)));
		astr_s(a, "]");
	}
	astr_s(a, ":");
	astr_u(a, port);
}

static void
astr_vs_key(struct audit_str *a, const struct pa_vs_key *k)
{
	astr_s(a, proto_name(k->protocol));
	astr_s(a, " ");
	astr_addr_port(a, &k->addr, k->port);
}

static const char *
vs_key_str(const struct pa_vs_key *k, char *buf, size_t len)
{
	struct audit_str a;

	astr_init(&a, buf, len);
	astr_vs_key(&a, k);
	return buf;
}

const char *
exec_op_object(const struct pa_op *op, char *buf, size_t len)
{
	struct ipset_spec sp;
	struct ipset_member m;
	struct audit_str o;
	char a[ADDR_STRLEN], k[96], e[160];

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		/* The common kinds without printf: one record per op. */
		astr_init(&o, buf, len);
		astr_vs_key(&o, &op->u.vs.key);
		astr_s(&o, " ");
		astr_s(&o, op->u.vs.sched);
		astr_s(&o, " flags ");
		astr_u(&o, op->u.vs.flags);
		astr_s(&o, " timeout ");
		astr_u(&o, op->u.vs.timeout);
		break;
	case PA_OP_VS_DEL:
		vs_key_str(&op->u.vs_key, buf, len);
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		astr_init(&o, buf, len);
		astr_vs_key(&o, &op->u.rs.vs);
		astr_s(&o, " -> ");
		astr_addr_port(&o, &op->u.rs.addr, op->u.rs.port);
		astr_s(&o, " weight ");
		astr_u(&o, op->u.rs.weight);
		break;
	case PA_OP_IPVS_TIMEOUTS:
		snprintf(buf, len, "tcp %u tcpfin %u udp %u",
		    op->u.timeouts.tcp, op->u.timeouts.tcp_fin,
		    op->u.timeouts.udp);
		break;
	case PA_OP_LINK_ENSURE:
		snprintf(buf, len, "%s", ADDR_KUBE_LINK);
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		astr_init(&o, buf, len);
		astr_s(&o, ADDR_KUBE_LINK " ");
		if (op->u.addr.family == 4)
			astr_ip4(&o, op->u.addr.addr);
		else
			astr_s(&o, addr_fmt(&op->u.addr, a, sizeof(a)));
		break;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		snprintf(buf, len, "%s", pa_set_name(op->u.set.set,
		    op->u.set.family));
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		if (exec_set_spec(op->u.entry.set, op->u.entry.family,
		    &sp) == -1) {
			snprintf(buf, len, "?");
			break;
		}
		exec_entry_to_member(&op->u.entry, &m);
		if (ipset_member_format(sp.kind, &m, e, sizeof(e)) < 0)
			snprintf(e, sizeof(e), "?");
		snprintf(buf, len, "%s %s%s", sp.name, e,
		    (op->u.entry.flags & PA_SETF_STAGED) ? " (staged)" : "");
		break;
	case PA_OP_CHAIN_REPLACE:
		snprintf(buf, len, "IPv%u %s %s", op->u.chain.family,
		    pa_chain_table(op->u.chain.chain),
		    pa_chain_name(op->u.chain.chain));
		break;
	case PA_OP_CHAIN_DROP_VIP:
		snprintf(buf, len, "IPv%u filter KUBE-IPVS-OUT-FILTER drop %s",
		    op->u.drop_vip.family, vs_key_str(&op->u.drop_vip.vip, k,
		    sizeof(k)));
		break;
	case PA_OP_DUMP_REQUEST:
		snprintf(buf, len, "dump %#x", op->u.dump_what);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

void
exec_audit(struct audit_buf *ab, uint64_t batch, const struct pa_op *op,
    const struct ap_result *r)
{
	static const char *const st[] = { "ok", "failed", "rejected",
	    "blocked" };
	struct audit_rec a;
	char obj[256], text[AP_REASON_MAX + 32];
	size_t len;

	if (ab->fd < 0)
		return;
	/* "STATUS" or "STATUS: REASON", once per op: no printf. */
	copy_str(text, sizeof(text), st[r->status <= AP_BLOCKED ? r->status : 1]);
	if (r->reason[0] != '\0') {
		len = strlen(text);
		copy_str(text + len, sizeof(text) - len, ": ");
		len += 2;
		copy_str(text + len, sizeof(text) - len, r->reason);
	}
	memset(&a, 0, sizeof(a));
	a.batch = batch;
	a.seq = r->seq;
	a.op = pa_op_name(op->kind);
	a.object = exec_op_object(op, obj, sizeof(obj));
	a.err = r->err;
	a.text = text;
	if (audit_buf_add(ab, &a) == -1)
		log_warn("audit record of batch %llu op %u",
		    (unsigned long long)batch, r->seq);
}

void
exec_audit_intent(int fd, uint64_t batch, const struct pa_op *ops, size_t n,
    const struct ap_result *res)
{
	struct audit_rec a;
	char obj[128];
	size_t i, rejected = 0;

	if (fd < 0)
		return;
	for (i = 0; i < n; i++)
		if (res[i].status == AP_REJECTED)
			rejected++;
	snprintf(obj, sizeof(obj), "%zu ops, seq %u-%u, %zu rejected", n,
	    n ? ops[0].seq : 0, n ? ops[n - 1].seq : 0, rejected);
	memset(&a, 0, sizeof(a));
	a.record = "intent";
	a.batch = batch;
	a.op = "batch";
	a.object = obj;
	a.text = n > rejected ? "executing" : "nothing to execute";
	if (audit_write(fd, &a) == -1)
		log_warn("audit intent record of batch %llu",
		    (unsigned long long)batch);
}

/* IPVS */

static int
is_ipvs(uint8_t kind)
{
	return kind == PA_OP_VS_ENSURE || kind == PA_OP_VS_DEL ||
	    kind == PA_OP_RS_ENSURE || kind == PA_OP_RS_DEL ||
	    kind == PA_OP_RS_WEIGHT;
}

static const struct pa_vs_key *
op_vs_key(const struct pa_op *op)
{
	if (op->kind == PA_OP_VS_ENSURE)
		return &op->u.vs.key;
	if (op->kind == PA_OP_VS_DEL)
		return &op->u.vs_key;
	return &op->u.rs.vs;
}

/*
 * One phase of a run: the ops ix[0..nix) of that phase, sent with
 * ipvs_batch() and their results mapped back.
 */
static void
ipvs_phase(struct applier_kernel *k, const struct pa_op *ops,
    const size_t *ix, size_t nix, struct ap_result *res, const long *dep,
    int phase, struct ipvs_op *io, size_t *idx, struct exec_stats *st)
{
	size_t i, j, m = 0;

	for (j = 0; j < nix; j++) {
		const struct pa_op *op = &ops[ix[j]];
		int p = op->kind == PA_OP_VS_ENSURE ? 0 :
		    op->kind == PA_OP_VS_DEL ? 2 : 1;

		i = ix[j];
		if (p != phase || res[i].status == AP_REJECTED)
			continue;
		if (blocked(ops, res, dep, i))
			continue;
		memset(&io[m], 0, sizeof(io[m]));
		switch (op->kind) {
		case PA_OP_VS_ENSURE:
			io[m].kind = IPVS_OP_SVC_ADD;
			vs_to_svc_full(&op->u.vs, &io[m].svc);
			break;
		case PA_OP_VS_DEL:
			io[m].kind = IPVS_OP_SVC_DEL;
			exec_vs_to_svc(&op->u.vs_key, &io[m].svc);
			break;
		case PA_OP_RS_ENSURE:
			io[m].kind = IPVS_OP_DEST_ADD;
			rs_to_op(&op->u.rs, &io[m]);
			break;
		case PA_OP_RS_WEIGHT:
			io[m].kind = IPVS_OP_DEST_EDIT;
			rs_to_op(&op->u.rs, &io[m]);
			break;
		default:
			io[m].kind = IPVS_OP_DEST_DEL;
			rs_to_op(&op->u.rs, &io[m]);
			break;
		}
		idx[m++] = i;
	}
	if (m == 0)
		return;
	if (k->ipvs == NULL) {
		for (i = 0; i < m; i++)
			set_failed(&res[idx[i]], EAFNOSUPPORT,
			    "IPVS is not available in this kernel");
		st->ipvs_failed = 1;
		return;
	}
	(void)ipvs_batch(k->ipvs, io, m);
	st->ipvs_sent += (uint32_t)m;
	for (i = 0; i < m; i++) {
		if (io[i].err != 0) {
			set_failed(&res[idx[i]], io[i].err, NULL);
			st->ipvs_failed = 1;
			continue;
		}
		if (io[i].changed) {
			st->ipvs_changed++;
			st->ipvs_dirty = 1;
		}
		set_ok(&res[idx[i]], io[i].changed);
	}
}

/*
 * How many of the IPVS ops ix[0..n) form one run: cut before an ensure of
 * a virtual server deleted earlier in the run (the phases reorder ensures
 * before deletes).
 */
static size_t
ipvs_run_len(const struct pa_op *ops, const size_t *ix, size_t n)
{
	struct khash del;
	struct pa_vs_key key;
	size_t j;

	khash_init(&del, sizeof(struct pa_vs_key));
	for (j = 0; j < n; j++) {
		const struct pa_op *op = &ops[ix[j]];

		if (op->kind == PA_OP_VS_DEL) {
			policy_vs_key(&key, op_vs_key(op));
			if (khash_put(&del, &key, 1) == -1)
				break;
		} else if (op->kind != PA_OP_RS_DEL && del.n > 0) {
			policy_vs_key(&key, op_vs_key(op));
			if (khash_get(&del, &key) != -1)
				break;
		}
	}
	khash_free(&del);
	return j > 0 ? j : 1;
}

/* A run of IPVS ops ix[0..n): VS ensures, then RS ops, then VS deletes. */
static void
exec_ipvs(struct applier_kernel *k, const struct pa_op *ops,
    const size_t *ix, size_t n, struct ap_result *res, const long *dep,
    struct exec_stats *st)
{
	struct ipvs_op *io;
	size_t *idx, j;
	int phase;

	io = calloc(n, sizeof(*io));
	idx = calloc(n, sizeof(*idx));
	if (io == NULL || idx == NULL) {
		for (j = 0; j < n; j++)
			if (res[ix[j]].status != AP_REJECTED)
				set_failed(&res[ix[j]], ENOMEM, NULL);
		goto out;
	}
	for (phase = 0; phase < 3; phase++)
		ipvs_phase(k, ops, ix, n, res, dep, phase, io, idx, st);
out:
	free(io);
	free(idx);
}

/* ipset */

static int
same_members_run(const struct pa_op *x, const struct pa_op *y)
{
	return x->kind == y->kind && x->u.entry.set == y->u.entry.set &&
	    x->u.entry.family == y->u.entry.family &&
	    !(y->u.entry.flags & PA_SETF_STAGED);
}

/* The cache of an op's set; NULL (never known) for an id out of range. */
static struct setcache_set *
op_cache(struct applier_kernel *k, uint8_t set, uint8_t family)
{
	return setcache_get(&k->sets, family, set);
}

static int
cache_state(const struct setcache_set *c)
{
	return c != NULL ? (int)c->state : SETC_UNKNOWN;
}

/*
 * A run of adds (or deletes) of one set: the members the cache shows to
 * be there already (not there) are "unchanged" and not sent; the rest go
 * in one aggregated ipset_members_change().
 */
/* Adds (or deletes) ix[0..n) of one set: one aggregated libipset call. */
static void
exec_members(struct applier_kernel *k, const struct pa_op *ops,
    const size_t *ix, size_t n, struct ap_result *res, const long *dep,
    struct exec_stats *st)
{
	const struct pa_op *first = &ops[ix[0]];
	struct setcache_set *c = op_cache(k, first->u.entry.set,
	    first->u.entry.family);
	struct ipset_spec sp;
	struct ipset_member *m;
	size_t *idx, i, j, nm = 0, failed = (size_t)-1;
	int del = first->kind == PA_OP_SET_DEL, err;

	m = calloc(n, sizeof(*m));
	idx = calloc(n, sizeof(*idx));
	if (m == NULL || idx == NULL ||
	    exec_set_spec(first->u.entry.set, first->u.entry.family,
	    &sp) == -1) {
		for (j = 0; j < n; j++)
			if (res[ix[j]].status != AP_REJECTED)
				set_failed(&res[ix[j]], ENOMEM, NULL);
		goto out;
	}
	for (j = 0; j < n; j++) {
		i = ix[j];
		if (res[i].status == AP_REJECTED || blocked(ops, res, dep, i))
			continue;
		exec_entry_to_member(&ops[i].u.entry, &m[nm]);
		if (setcache_has(c, &m[nm]) == !del) {
			set_ok(&res[i], 0);
			continue;
		}
		idx[nm++] = i;
	}
	if (nm == 0)
		goto out;
	st->ipset_sent += (uint32_t)nm;
	if (ipset_members_change(k->ipset, &sp, m, nm, del, &failed) == -1) {
		err = errno;
		for (i = 0; i < nm; i++)
			if (failed >= nm || i == failed)
				set_failed(&res[idx[i]], err,
				    ipset_last_error(k->ipset));
			else
				set_ok(&res[idx[i]], 1);
		/* Which of them the kernel holds now: ask it. */
		setcache_forget(c);
		st->sets_dirty = 1;
		goto out;
	}
	for (i = 0; i < nm; i++) {
		set_ok(&res[idx[i]], 1);
		if (del)
			setcache_del(c, &m[i]);
		else
			setcache_add(c, &m[i]);
	}
	if (cache_state(c) != SETC_PRESENT)
		st->sets_dirty = 1;
out:
	free(m);
	free(idx);
}

/* The commit of a reload: every staged member since its begin. */
static void
exec_reload(struct applier_kernel *k, const struct pa_op *ops, size_t c,
    struct ap_result *res, const long *dep, struct exec_stats *st)
{
	struct setcache_set *sc = op_cache(k, ops[c].u.set.set,
	    ops[c].u.set.family);
	struct ipset_spec sp;
	struct ipset_member *m = NULL;
	size_t a = (size_t)dep[c], i, nm = 0;
	int err = 0;

	if (blocked(ops, res, dep, a) || res[a].status != AP_OK) {
		set_result(&res[c], AP_BLOCKED, res[a].err ? res[a].err :
		    ECANCELED, "its reload did not start");
		goto members;
	}
	if (exec_set_spec(ops[c].u.set.set, ops[c].u.set.family, &sp) == -1 ||
	    (m = calloc(c - a + 1, sizeof(*m))) == NULL) {
		err = ENOMEM;
		goto fail;
	}
	for (i = a + 1; i < c; i++)
		if (ops[i].kind == PA_OP_SET_ADD &&
		    (ops[i].u.entry.flags & PA_SETF_STAGED) && dep[i] ==
		    (long)a && res[i].status != AP_REJECTED)
			exec_entry_to_member(&ops[i].u.entry, &m[nm++]);
	/* The set holds exactly these already: nothing to swap. */
	if (setcache_equals(sc, m, nm) == 1) {
		set_ok(&res[a], 0);
		set_ok(&res[c], 0);
		goto members;
	}
	st->ipset_sent++;
	if (ipset_reload(k->ipset, &sp, m, nm) == -1) {
		err = errno;
		goto fail;
	}
	setcache_present(sc, sp.kind);
	for (i = 0; i < nm; i++)
		setcache_add(sc, &m[i]);
	if (cache_state(sc) != SETC_PRESENT)
		st->sets_dirty = 1;
	set_ok(&res[a], 1);
	set_ok(&res[c], 1);
	goto members;
fail:
	setcache_forget(sc);
	st->sets_dirty = 1;
	set_failed(&res[c], err, k->ipset ? ipset_last_error(k->ipset) :
	    NULL);
	set_failed(&res[a], err, "the reload's commit failed");
members:
	for (i = a + 1; i < c; i++)
		if (ops[i].kind == PA_OP_SET_ADD &&
		    (ops[i].u.entry.flags & PA_SETF_STAGED) && dep[i] ==
		    (long)a && res[i].status != AP_REJECTED) {
			if (res[c].status == AP_OK)
				set_ok(&res[i], res[c].reason[0] == '\0');
			else
				set_result(&res[i], AP_BLOCKED, res[c].err,
				    "the reload did not complete");
		}
	free(m);
}

/* iptables */

static enum ipt_tbl
chain_table(uint8_t chain)
{
	return strcmp(pa_chain_table(chain), "nat") == 0 ? IPT_TABLE_NAT :
	    IPT_TABLE_FILTER;
}

static void
chain_params(const struct pa_chain *ch, struct ipt_kube_params *p)
{
	memset(p, 0, sizeof(*p));
	p->family = fam_af(ch->family);
	p->masq_bit = ch->masq_bit;
	p->random_fully = (ch->flags & PA_CHF_RANDOM_FULLY) != 0;
	p->masquerade_all = (ch->flags & PA_CHF_MASQUERADE_ALL) != 0;
	p->nonempty = ch->sets_nonempty >> 1;
	switch (ch->local_mode) {
	case PA_LOCAL_CIDR:
		p->local_mode = IPT_LOCAL_CIDR;
		memcpy(p->local_cidr, ch->local_cidr.addr.addr, 16);
		p->local_plen = ch->local_cidr.plen;
		break;
	case PA_LOCAL_BRIDGE:
		p->local_mode = IPT_LOCAL_IFACE;
		snprintf(p->local_iface, sizeof(p->local_iface), "%s",
		    ch->local_iface);
		break;
	case PA_LOCAL_IFPREFIX:
		p->local_mode = IPT_LOCAL_IFACE;
		snprintf(p->local_iface, sizeof(p->local_iface), "%.14s+",
		    ch->local_iface);
		break;
	default:
		p->local_mode = IPT_LOCAL_NONE;
	}
}

static void
chains_fail(const struct pa_op *ops, size_t n, struct ap_result *res,
    uint8_t family, int err, const char *msg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((ops[i].kind == PA_OP_CHAIN_REPLACE ||
		    ops[i].kind == PA_OP_CHAIN_DROP_VIP) &&
		    ops[i].u.chain.family == family &&
		    res[i].status == AP_OK)
			set_failed(&res[i], err, msg);
}

/* After a commit: the parameters of each chain replaced successfully. */
static void
chains_remember(struct applier_kernel *k, const struct pa_op *ops, size_t n,
    uint8_t family, const struct ap_result *res,
    struct ipt_kube_lb_drop *drops, size_t nd)
{
	struct exec_chain_memo *m = &k->chains;
	struct ipt_kube_lb_drop *keep;
	size_t i;
	int f = fi(family);

	for (i = 0; i < n; i++) {
		const struct pa_chain *ch = &ops[i].u.chain;

		if (ops[i].kind != PA_OP_CHAIN_REPLACE || ch->family != family ||
		    res[i].status != AP_OK || ch->chain < 1 ||
		    ch->chain > PA_CHAIN_ID_MAX)
			continue;
		if (ch->chain == PA_CHAIN_FILTER_IPVS_OUT_FILTER) {
			/* Its drops: those that came with this replace. */
			if ((keep = calloc(nd + 1, sizeof(*keep))) == NULL)
				continue;	/* stays unknown */
			memcpy(keep, drops, nd * sizeof(*keep));
			free(m->drops[f]);
			m->drops[f] = keep;
			m->n_drops[f] = nd;
		}
		m->params[f][ch->chain] = *ch;
		m->known[f][ch->chain] = 1;
	}
}

int
exec_chain_matches(struct applier_kernel *k, uint8_t family, uint8_t chain,
    size_t *nkern)
{
	struct exec_chain_memo *m = &k->chains;
	struct ipt_handle *h = k->ipt[fi(family)];
	struct ipt_kube_params p;
	struct ipt_rule *rules;
	size_t nr, max;
	int f = fi(family), rv;

	if (h == NULL || chain < 1 || chain > PA_CHAIN_ID_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (!m->known[f][chain])
		return ipt_chain_compare(h, chain_table(chain),
		    pa_chain_name(chain), NULL, 0, nkern);
	chain_params(&m->params[f][chain], &p);
	if (chain == PA_CHAIN_FILTER_IPVS_OUT_FILTER) {
		p.lb_drop = m->drops[f];
		p.n_lb_drop = m->n_drops[f];
	}
	max = 64 + p.n_lb_drop;
	if ((rules = calloc(max, sizeof(*rules))) == NULL)
		return -1;
	if (ipt_kube_rules(&p, chain_table(chain), pa_chain_name(chain),
	    rules, max, &nr) == -1)
		rv = ipt_chain_compare(h, chain_table(chain),
		    pa_chain_name(chain), NULL, 0, nkern);
	else
		rv = ipt_chain_compare(h, chain_table(chain),
		    pa_chain_name(chain), rules, nr, nkern);
	free(rules);
	return rv;
}

/*
 * Every chain op of one family: one libiptc batch, one commit per changed
 * table.  Results start as AP_OK for the ops to run (not rejected, not
 * blocked) and are lowered on failure.
 */
static void
exec_chains(struct applier_kernel *k, const struct pa_op *ops, size_t n,
    uint8_t family, struct ap_result *res, const long *dep,
    struct exec_stats *st)
{
	struct ipt_handle *h = k->ipt[fi(family)];
	struct ipt_kube_lb_drop *drops = NULL;
	struct ipt_kube_jump jumps[16];
	struct ipt_kube_params p;
	struct ipt_rule *rules = NULL;
	const char *const *c;
	size_t i, j, nd = 0, nr, nj, ndrop = 0;
	int t, commits = 0, any = 0;

	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_CHAIN_DROP_VIP &&
		    ops[i].u.drop_vip.family == family &&
		    res[i].status != AP_REJECTED)
			ndrop++;
		else if (ops[i].kind == PA_OP_CHAIN_REPLACE &&
		    ops[i].u.chain.family == family &&
		    res[i].status != AP_REJECTED)
			any = 1;
	if (!any)
		return;
	drops = calloc(ndrop + 1, sizeof(*drops));
	rules = calloc(64 + ndrop, sizeof(*rules));
	if (drops == NULL || rules == NULL || h == NULL) {
		chains_fail(ops, n, res, family, ENOMEM, NULL);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_CHAIN_DROP_VIP &&
		    ops[i].u.drop_vip.family == family &&
		    res[i].status != AP_REJECTED) {
			const struct pa_vs_key *v = &ops[i].u.drop_vip.vip;

			memcpy(drops[nd].addr, v->addr.addr, 16);
			drops[nd].proto = (uint8_t)proto_ip(v->protocol);
			drops[nd].port = v->port;
			nd++;
		}
	/* Until committed, what these chains hold is not known. */
	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_CHAIN_REPLACE &&
		    ops[i].u.chain.family == family &&
		    res[i].status != AP_REJECTED)
			k->chains.known[fi(family)][ops[i].u.chain.chain] = 0;
	if (ipt_begin(h) == -1) {
		chains_fail(ops, n, res, family, errno, ipt_last_error(h));
		goto out;
	}
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_ensure(h, t, *c) == -1) {
				chains_fail(ops, n, res, family, errno,
				    ipt_last_error(h));
				ipt_abort(h);
				goto out;
			}
	for (i = 0; i < n; i++) {
		const struct pa_chain *ch = &ops[i].u.chain;

		if (ops[i].kind != PA_OP_CHAIN_REPLACE ||
		    ch->family != family || res[i].status == AP_REJECTED)
			continue;
		chain_params(ch, &p);
		if (ch->chain == PA_CHAIN_FILTER_IPVS_OUT_FILTER) {
			p.lb_drop = drops;
			p.n_lb_drop = nd;
		}
		if (ipt_kube_rules(&p, chain_table(ch->chain),
		    pa_chain_name(ch->chain), rules, 64 + ndrop, &nr) == -1 ||
		    ipt_chain_replace(h, chain_table(ch->chain),
		    pa_chain_name(ch->chain), rules, nr) == -1)
			set_failed(&res[i], errno, ipt_last_error(h));
	}
	nj = ipt_kube_jumps(jumps, sizeof(jumps) / sizeof(jumps[0]));
	for (j = 0; j < nj; j++)
		if (ipt_jump_ensure(h, jumps[j].table, jumps[j].from,
		    &jumps[j].rule) == -1) {
			chains_fail(ops, n, res, family, errno,
			    ipt_last_error(h));
			ipt_abort(h);
			goto out;
		}
	if (ipt_commit(h, &commits) == -1) {
		chains_fail(ops, n, res, family, errno, ipt_last_error(h));
		goto out;
	}
	st->ipt_commits += (uint32_t)commits;
	for (i = 0; i < n; i++)
		if ((ops[i].kind == PA_OP_CHAIN_REPLACE ||
		    ops[i].kind == PA_OP_CHAIN_DROP_VIP) &&
		    ops[i].u.chain.family == family &&
		    res[i].status == AP_OK)
			set_ok(&res[i], commits > 0);
	chains_remember(k, ops, n, family, res, drops, nd);
out:
	/* A drop entry shares the fate of its chain's replace. */
	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_CHAIN_DROP_VIP &&
		    ops[i].u.drop_vip.family == family &&
		    res[i].status != AP_REJECTED)
			(void)blocked(ops, res, dep, i);
	free(drops);
	free(rules);
}

static void
exec_one(struct applier_kernel *k, const struct pa_op *op, struct ap_result *r, struct exec_stats *st)
{
	struct ipvs_timeouts to, cur;
	struct ipset_spec sp;
	struct setcache_set *sc;
	int created = 0;

	switch (op->kind) {
	case PA_OP_IPVS_TIMEOUTS:
		if (k->ipvs == NULL) {
			set_failed(r, EAFNOSUPPORT, "IPVS is not available");
			return;
		}
		to.tcp = op->u.timeouts.tcp;
		to.tcp_fin = op->u.timeouts.tcp_fin;
		to.udp = op->u.timeouts.udp;
		/* 0 leaves a value alone: equal ones need no write. */
		if (ipvs_get_timeouts(k->ipvs, &cur) == 0 &&
		    (to.tcp == 0 || to.tcp == cur.tcp) &&
		    (to.tcp_fin == 0 || to.tcp_fin == cur.tcp_fin) &&
		    (to.udp == 0 || to.udp == cur.udp)) {
			set_ok(r, 0);
			return;
		}
		if (ipvs_set_timeouts(k->ipvs, &to) == -1)
			set_failed(r, errno, NULL);
		else
			set_ok(r, 1);
		return;
	case PA_OP_LINK_ENSURE:
		if (addr_link_ensure(k->addr, &created) == -1)
			set_failed(r, errno, errno == EEXIST ? "a kube-ipvs0 "
			    "of another kind exists" : NULL);
		else
			set_ok(r, created);
		return;
	case PA_OP_SET_ENSURE:
		sc = op_cache(k, op->u.set.set, op->u.set.family);
		if (cache_state(sc) == SETC_PRESENT) {
			set_ok(r, 0);
			return;
		}
		st->ipset_sent++;
		if (exec_set_spec(op->u.set.set, op->u.set.family, &sp) == -1 ||
		    ipset_set_ensure(k->ipset, &sp) == -1) {
			set_failed(r, errno, ipset_last_error(k->ipset));
			setcache_forget(sc);
			st->sets_dirty = 1;
		} else if (cache_state(sc) == SETC_ABSENT) {
			/* Created just now: empty. */
			setcache_present(sc, sp.kind);
			set_ok(r, 1);
		} else {
			/* It may have existed: list it before the next one. */
			set_ok(r, 1);
			st->sets_dirty = 1;
		}
		return;
	case PA_OP_DUMP_REQUEST:
		set_ok(r, 1);
		return;
	default:
		set_failed(r, EINVAL, "not an op of its own");
	}
}

static int
is_addr(uint8_t kind)
{
	return kind == PA_OP_ADDR_ADD || kind == PA_OP_ADDR_DEL;
}

/* kube-ipvs0 address ops ix[0..n): many requests per sendmsg. */
static void
exec_addrs(struct applier_kernel *k, const struct pa_op *ops,
    const size_t *ix, size_t n, struct ap_result *res, const long *dep,
    struct exec_stats *st)
{
	struct addr_op *ao;
	size_t *idx, i, j, m = 0;

	ao = calloc(n, sizeof(*ao));
	idx = calloc(n, sizeof(*idx));
	if (ao == NULL || idx == NULL) {
		for (j = 0; j < n; j++)
			if (res[ix[j]].status != AP_REJECTED)
				set_failed(&res[ix[j]], ENOMEM, NULL);
		goto out;
	}
	for (j = 0; j < n; j++) {
		i = ix[j];
		if (res[i].status == AP_REJECTED || blocked(ops, res, dep, i))
			continue;
		ao[m].del = ops[i].kind == PA_OP_ADDR_DEL;
		ao[m].family = fam_af(ops[i].u.addr.family);
		memcpy(ao[m].addr, ops[i].u.addr.addr, sizeof(ao[m].addr));
		idx[m++] = i;
	}
	(void)addr_batch(k->addr, ao, m);
	st->addr_sent += (uint32_t)m;
	for (i = 0; i < m; i++)
		if (ao[i].err != 0)
			set_failed(&res[idx[i]], ao[i].err, NULL);
		else
			set_ok(&res[idx[i]], ao[i].changed);
out:
	free(ao);
	free(idx);
}

/* An op that is not part of an IPVS run or a member run. */
static void
exec_single(struct applier_kernel *k, const struct pa_op *ops, size_t n, size_t i, const long *last_chain,
    struct ap_result *res, const long *dep, struct exec_stats *st)
{
	const struct pa_op *op = &ops[i];

	switch (op->kind) {
	case PA_OP_SET_ADD:		/* staged: at the commit */
	case PA_OP_SET_RELOAD_BEGIN:
		break;
	case PA_OP_SET_RELOAD_COMMIT:
		exec_reload(k, ops, i, res, dep, st);
		break;
	case PA_OP_CHAIN_REPLACE:
	case PA_OP_CHAIN_DROP_VIP:
		if (last_chain[0] == (long)i)
			exec_chains(k, ops, n, 4, res, dep, st);
		if (last_chain[1] == (long)i)
			exec_chains(k, ops, n, 6, res, dep, st);
		break;
	default:
		if (!blocked(ops, res, dep, i))
			exec_one(k, op, &res[i], st);
	}
}

static enum exec_timer
op_timer(uint8_t kind)
{
	switch (kind) {
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
	case PA_OP_LINK_ENSURE:
		return EXEC_T_ADDR;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		return EXEC_T_SETS;
	case PA_OP_CHAIN_REPLACE:
	case PA_OP_CHAIN_DROP_VIP:
		return EXEC_T_CHAINS;
	default:
		return is_ipvs(kind) ? EXEC_T_IPVS : EXEC_T_OTHER;
	}
}

static int
is_member(const struct pa_op *op)
{
	return (op->kind == PA_OP_SET_ADD || op->kind == PA_OP_SET_DEL) &&
	    !(op->u.entry.flags & PA_SETF_STAGED);
}

/*
 * Ops whose kinds are independent in the kernel: a segment of them runs
 * kind by kind, not in the planner's interleaving (an address, a virtual
 * server with its real servers, its set members, the next Service ...),
 * so each kind goes in few large sends.
 */
static int
is_segment_op(const struct pa_op *op)
{
	return is_addr(op->kind) || is_ipvs(op->kind) || is_member(op);
}

/* Members by set and family, in batch order within each. */
static int
member_cmp(const void *x, const void *y, void *arg)
{
	const struct pa_op *ops = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct pa_set_entry *a = &ops[i].u.entry, *b = &ops[j].u.entry;

	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return i < j ? -1 : i > j;
}

/*
 * The segment [a, b) of segment ops: its addresses first (a virtual
 * server's prerequisite), then its IPVS ops (in runs, see ipvs_run_len),
 * then its set members, each set's in batch order.  Every op's own
 * prerequisite (dep) is an address, a virtual server of the same run, or
 * an op before the segment, so it has run by then.
 */
static void
exec_segment(struct applier_kernel *k, const struct pa_op *ops, size_t a,
    size_t b, struct ap_result *res, const long *dep, struct exec_stats *st)
{
	size_t *ix, i, m, r, e;
	uint64_t t0, t1;

	if ((ix = calloc(b - a, sizeof(*ix))) == NULL) {
		for (i = a; i < b; i++)
			if (res[i].status != AP_REJECTED)
				set_failed(&res[i], ENOMEM, NULL);
		return;
	}
	t0 = ipc_now_us();
	for (m = 0, i = a; i < b; i++)
		if (is_addr(ops[i].kind))
			ix[m++] = i;
	if (m > 0)
		exec_addrs(k, ops, ix, m, res, dep, st);
	t1 = ipc_now_us();
	st->us[EXEC_T_ADDR] += t1 - t0;

	for (m = 0, i = a; i < b; i++)
		if (is_ipvs(ops[i].kind))
			ix[m++] = i;
	for (r = 0; r < m; r += e) {
		e = ipvs_run_len(ops, ix + r, m - r);
		exec_ipvs(k, ops, ix + r, e, res, dep, st);
		progress();
	}
	t0 = ipc_now_us();
	st->us[EXEC_T_IPVS] += t0 - t1;

	for (m = 0, i = a; i < b; i++)
		if (is_member(&ops[i]))
			ix[m++] = i;
	if (m > 1)
		qsort_r(ix, m, sizeof(*ix), member_cmp, (void *)ops);
	for (r = 0; r < m; r += e) {
		for (e = 1; r + e < m &&
		    same_members_run(&ops[ix[r]], &ops[ix[r + e]]); e++)
			;
		exec_members(k, ops, ix + r, e, res, dep, st);
		progress();
	}
	st->us[EXEC_T_SETS] += ipc_now_us() - t0;
	free(ix);
}

void
exec_batch(struct applier_kernel *k, uint64_t batch, const struct pa_op *ops, size_t n, struct ap_result *res,
    const long *dep, struct exec_stats *st)
{
	long last_chain[2] = { -1, -1 };
	uint64_t t0, t1;
	size_t i, j;

	memset(st, 0, sizeof(*st));
	t0 = ipc_now_us();
	exec_audit_intent(k->audit_fd, batch, ops, n, res);
	t1 = ipc_now_us();
	st->us[EXEC_T_AUDIT] += t1 - t0;
	for (i = 0; i < n; i++) {
		if (res[i].status == AP_REJECTED)
			continue;
		if (ops[i].kind == PA_OP_CHAIN_REPLACE)
			last_chain[fi(ops[i].u.chain.family)] = (long)i;
		else if (ops[i].kind == PA_OP_CHAIN_DROP_VIP)
			last_chain[fi(ops[i].u.drop_vip.family)] = (long)i;
	}

	for (i = 0; i < n; i = j) {
		const struct pa_op *op = &ops[i];

		if (is_segment_op(op)) {
			for (j = i + 1; j < n && is_segment_op(&ops[j]); j++)
				;
			exec_segment(k, ops, i, j, res, dep, st);
			t1 = ipc_now_us();
			continue;
		}
		t0 = t1;
		j = i + 1;
		if (res[i].status != AP_REJECTED)
			exec_single(k, ops, n, i, last_chain, res, dep, st);
		t1 = ipc_now_us();
		st->us[op_timer(op->kind)] += t1 - t0;
		progress();
	}
	audit_buf_init(&k->abuf, k->audit_fd);
	for (i = 0; i < n; i++) {
		exec_audit(&k->abuf, batch, &ops[i], &res[i]);
		if (i % 4096 == 4095)
			progress();
	}
	if (k->abuf.len > 0 && audit_buf_flush(&k->abuf) == -1)
		log_warn("audit log: records of batch %llu",
		    (unsigned long long)batch);
	/* Durable before the planner hears of it (a pipe or tty: EINVAL). */
	if (k->audit_fd >= 0 && fdatasync(k->audit_fd) == -1 &&
	    errno != EINVAL && errno != EROFS)
		log_warn("audit log: fdatasync after batch %llu",
		    (unsigned long long)batch);
	st->us[EXEC_T_AUDIT] += ipc_now_us() - t1;
}
