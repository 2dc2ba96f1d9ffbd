/*
 * applier_policy: the checks of applier_policy.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_policy.h"
#include "common/addr.h"

#define POLICY_TIMEOUT_MAX	86400u
#define POLICY_WEIGHT_MAX	65535u

void
policy_state_init(struct policy_state *s)
{
	memset(s, 0, sizeof(*s));
	khash_init(&s->kube, sizeof(struct rec_addr));
	khash_init(&s->node, sizeof(struct rec_addr));
	khash_init(&s->vs, sizeof(struct pa_vs_key));
	khash_init(&s->rs, sizeof(struct policy_rs_key));
}

void
policy_state_free(struct policy_state *s)
{
	khash_free(&s->kube);
	khash_free(&s->node);
	khash_free(&s->vs);
	khash_free(&s->rs);
}

void
policy_state_clear_addrs(struct policy_state *s)
{
	khash_free(&s->kube);
	khash_free(&s->node);
	s->link = 0;
}

void
policy_state_clear_ipvs(struct policy_state *s)
{
	khash_free(&s->vs);
	khash_free(&s->rs);
}

void
policy_addr_key(struct rec_addr *dst, const struct rec_addr *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->family = src->family;
	memcpy(dst->addr, src->addr, src->family == 4 ? 4 : 16);
}

void
policy_vs_key(struct pa_vs_key *dst, const struct pa_vs_key *src)
{
	memset(dst, 0, sizeof(*dst));
	policy_addr_key(&dst->addr, &src->addr);
	dst->protocol = src->protocol;
	dst->port = src->port;
}

static void
policy_rs_key(struct policy_rs_key *k, const struct pa_rs *rs)
{
	memset(k, 0, sizeof(*k));
	policy_vs_key(&k->vs, &rs->vs);
	policy_addr_key(&k->addr, &rs->addr);
	k->port = rs->port;
}

int
policy_state_add_addr(struct policy_state *s, int kube,
    const struct rec_addr *a)
{
	struct rec_addr k;

	policy_addr_key(&k, a);
	return khash_put(kube ? &s->kube : &s->node, &k, 1);
}

int
policy_state_add_vs(struct policy_state *s, const struct pa_vs_key *key,
    size_t n_rs)
{
	struct pa_vs_key k;

	policy_vs_key(&k, key);
	return khash_put(&s->vs, &k, (long)n_rs);
}

int
policy_state_add_rs(struct policy_state *s, const struct pa_rs *rs)
{
	struct policy_rs_key k;

	policy_rs_key(&k, rs);
	return khash_put(&s->rs, &k, 1);
}

/* A real server's virtual server gained (+1) or lost (-1) one. */
static int
vs_count(struct policy_state *s, const struct pa_vs_key *vs, int d)
{
	struct pa_vs_key k;
	long n;

	policy_vs_key(&k, vs);
	if ((n = khash_get(&s->vs, &k)) == -1)
		n = 0;
	n += d;
	return khash_put(&s->vs, &k, n > 0 ? n : 0);
}

/* Drops the real servers of the virtual servers in dead. */
static int
drop_orphans(struct policy_state *s, const struct khash *dead)
{
	struct policy_rs_key *v, *p;
	size_t i, n = 0;

	for (i = 0; i < s->rs.cap; i++) {
		if (s->rs.vals[i] == -1)
			continue;
		p = (struct policy_rs_key *)(s->rs.keys + i * s->rs.keylen);
		if (khash_get(dead, &p->vs) != -1)
			n++;
	}
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0, n = 0; i < s->rs.cap; i++) {
		if (s->rs.vals[i] == -1)
			continue;
		p = (struct policy_rs_key *)(s->rs.keys + i * s->rs.keylen);
		if (khash_get(dead, &p->vs) != -1)
			v[n++] = *p;
	}
	for (i = 0; i < n; i++)
		(void)khash_del(&s->rs, &v[i]);
	free(v);
	return 0;
}

int
policy_state_apply(struct policy_state *s, const struct pa_op *ops,
    const struct ap_result *res, size_t n)
{
	struct policy_rs_key rk;
	struct pa_vs_key k;
	struct khash dead;
	size_t i;
	int rc = 0;

	khash_init(&dead, sizeof(struct pa_vs_key));
	for (i = 0; i < n && rc == 0; i++) {
		const struct pa_op *op = &ops[i];

		if (res[i].status != AP_OK)
			continue;
		switch (op->kind) {
		case PA_OP_VS_ENSURE:
			policy_vs_key(&k, &op->u.vs.key);
			(void)khash_del(&dead, &k);
			if (khash_get(&s->vs, &k) == -1)
				rc = khash_put(&s->vs, &k, 0);
			break;
		case PA_OP_VS_DEL:
			policy_vs_key(&k, &op->u.vs_key);
			if (khash_del(&s->vs, &k))
				rc = khash_put(&dead, &k, 1);
			break;
		case PA_OP_RS_ENSURE:
			policy_rs_key(&rk, &op->u.rs);
			if (khash_get(&s->rs, &rk) == -1 &&
			    (rc = khash_put(&s->rs, &rk, 1)) == 0)
				rc = vs_count(s, &op->u.rs.vs, 1);
			break;
		case PA_OP_RS_DEL:
			policy_rs_key(&rk, &op->u.rs);
			if (khash_del(&s->rs, &rk))
				rc = vs_count(s, &op->u.rs.vs, -1);
			break;
		default:
			break;
		}
	}
	if (rc == 0 && dead.n > 0)
		rc = drop_orphans(s, &dead);
	khash_free(&dead);
	return rc;
}

uint64_t
policy_state_owned(const struct policy_state *s)
{
	uint64_t n = s->vs.n + s->rs.n + s->kube.n;
	int f, i;

	for (f = 0; f < 2; f++)
		for (i = 1; i <= PA_SET_ID_MAX; i++)
			n += s->members[f][i];
	return n;
}

static int
in_prefix(const struct rec_addr *a, const uint8_t *p, unsigned plen)
{
	unsigned i;

	for (i = 0; i < plen; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));

		if ((a->addr[i / 8] & m) != (p[i / 8] & m))
			return 0;
	}
	return 1;
}

const char *
policy_rs_addr_denied(const struct rec_addr *a)
{
	static const uint8_t zero[16];
	static const uint8_t v4lo[] = { 127 }, v4ll[] = { 169, 254 },
	    v4mc[] = { 224 }, v6lo[16] = { [15] = 1 }, v6ll[] = { 0xfe, 0x80 },
	    v6mc[] = { 0xff }, v6mapped[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (a->family == 4) {
		if (memcmp(a->addr, zero, 4) == 0)
			return "unspecified address";
		if (in_prefix(a, v4lo, 8))
			return "loopback address";
		if (in_prefix(a, v4ll, 16))
			return "link-local address";
		if (in_prefix(a, v4mc, 4))
			return "multicast address";
		return NULL;
	}
	if (memcmp(a->addr, zero, 16) == 0)
		return "unspecified address";
	if (memcmp(a->addr, v6lo, 16) == 0)
		return "loopback address";
	if (in_prefix(a, v6ll, 10))
		return "link-local address";
	if (in_prefix(a, v6mc, 8))
		return "multicast address";
	/* ::ffff:127.0.0.1 would reach IPv4 loopback past the checks above. */
	if (in_prefix(a, v6mapped, 96))
		return "IPv4-mapped IPv6 address";
	return NULL;
}

const char *
policy_addr_denied(const struct applier_conf *c, const struct rec_addr *a)
{
	static const uint8_t v4bc[] = { 255, 255, 255, 255 };
	const char *why;
	size_t i;

	if ((why = policy_rs_addr_denied(a)) != NULL)
		return why;
	if (a->family == 4 && memcmp(a->addr, v4bc, 4) == 0)
		return "broadcast address";
	for (i = 0; i < c->n_apiserver; i++)
		if (addr_eq(&c->apiserver[i], a))
			return "the apiserver's address";
	return NULL;
}

int
policy_sched_allowed(const char *s)
{
	static const char *const ok[] = {
		"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed",
		"nq", "mh", NULL,
	};
	int i;

	for (i = 0; ok[i] != NULL; i++)
		if (strcmp(ok[i], s) == 0)
			return 1;
	return 0;
}

static int
excluded(const struct applier_conf *c, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < c->kp.n_exclude_cidrs; i++)
		if (prefix_contains(&c->kp.exclude_cidrs[i], a))
			return 1;
	return 0;
}

static int
in_nodeport_range(const struct applier_conf *c, uint16_t port)
{
	return port >= c->kp.nodeport_range_lo &&
	    port <= c->kp.nodeport_range_hi;
}

static int
has_addr(const struct khash *h, const struct rec_addr *a)
{
	struct rec_addr k;

	policy_addr_key(&k, a);
	return khash_get(h, &k) != -1;
}

int
policy_vs_owned(const struct applier_conf *c, const struct policy_state *s,
    const struct pa_vs_key *key)
{
	if (excluded(c, &key->addr))
		return 0;
	if (has_addr(&s->node, &key->addr))
		return in_nodeport_range(c, key->port);
	return has_addr(&s->kube, &key->addr);
}

static int
family_on(const struct applier_conf *c, uint8_t family)
{
	return (family == 4 && (c->kp.families & KP_FAMILY_V4)) ||
	    (family == 6 && (c->kp.families & KP_FAMILY_V6));
}

/* The per-batch bookkeeping of policy_batch(). */
struct pbatch {
	const struct applier_conf *c;
	struct policy_state	*s;
	struct khash		 bound;		/* rec_addr -> ADDR_ADD index */
	struct khash		 vs;		/* pa_vs_key -> VS_ENSURE index */
	struct khash		 rs;		/* policy_rs_key -> RS_ENSURE */
	long			 link;		/* LINK_ENSURE index */
	long			 set[2][PA_SET_ID_MAX + 1];
	long			 reload[2][PA_SET_ID_MAX + 1];	/* open */
	long			 commit[2][PA_SET_ID_MAX + 1];	/* last */
	long			 out_filter[2];
	uint64_t		 new_vs, new_rs, new_addrs;
};

static int reject(struct ap_result *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
reject(struct ap_result *r, int err, const char *fmt, ...)
{
	va_list ap;

	r->status = AP_REJECTED;
	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fi(uint8_t family)
{
	return family == 6 ? 1 : 0;
}

/* The ownership rule for an op on virtual server key; dep if bound now. */
static int
check_vs_key(struct pbatch *b, const struct pa_vs_key *key,
    struct ap_result *r, long *dep)
{
	const struct applier_conf *c = b->c;
	struct rec_addr k;
	const char *why;
	char buf[ADDR_STRLEN];
	long i;

	if (!family_on(c, key->addr.family))
		return reject(r, EAFNOSUPPORT, "IPv%u is not proxied",
		    key->addr.family);
	if (key->port == 0)
		return reject(r, EINVAL, "port 0");
	if ((why = policy_addr_denied(c, &key->addr)) != NULL)
		return reject(r, EPERM, "%s %s is deny-listed", why,
		    addr_fmt(&key->addr, buf, sizeof(buf)));
	if (excluded(c, &key->addr))
		return reject(r, EPERM, "%s is inside --ipvs-exclude-cidrs",
		    addr_fmt(&key->addr, buf, sizeof(buf)));
	if (has_addr(&b->s->node, &key->addr)) {
		if (!in_nodeport_range(c, key->port))
			return reject(r, EPERM, "node address %s: port %u is "
			    "outside the NodePort range %u-%u",
			    addr_fmt(&key->addr, buf, sizeof(buf)), key->port,
			    c->kp.nodeport_range_lo, c->kp.nodeport_range_hi);
		return 0;
	}
	if (has_addr(&b->s->kube, &key->addr))
		return 0;
	policy_addr_key(&k, &key->addr);
	if ((i = khash_get(&b->bound, &k)) != -1) {
		if (dep != NULL && *dep == -1)
			*dep = i;
		return 0;
	}
	return reject(r, EPERM, "not kipvs's: %s is neither on kube-ipvs0 "
	    "nor a node address", addr_fmt(&key->addr, buf, sizeof(buf)));
}

static int
check_vs(struct pbatch *b, const struct pa_op *op, size_t idx,
    struct ap_result *r, long *dep)
{
	const struct pa_vs *vs = &op->u.vs;
	struct pa_vs_key k;

	if (check_vs_key(b, &vs->key, r, dep) == -1)
		return -1;
	if (!policy_sched_allowed(vs->sched))
		return reject(r, EINVAL, "scheduler %s is not allowed",
		    vs->sched);
	if (vs->flags & PA_VS_PERSISTENT) {
		if (vs->timeout == 0 || vs->timeout > POLICY_TIMEOUT_MAX)
			return reject(r, EINVAL, "persistence timeout %u is "
			    "outside (0, %u]", vs->timeout,
			    POLICY_TIMEOUT_MAX);
	} else if (vs->timeout != 0)
		return reject(r, EINVAL, "a timeout without persistence");
	if ((vs->flags & PA_VS_SCHED_PORT) && strcmp(vs->sched, "mh") != 0 &&
	    strcmp(vs->sched, "sh") != 0)
		return reject(r, EINVAL, "the port flag needs mh or sh");
	policy_vs_key(&k, &vs->key);
	if (khash_get(&b->s->vs, &k) == -1 && khash_get(&b->vs, &k) == -1) {
		if (b->s->vs.n + b->new_vs >= b->c->max_vs)
			return reject(r, ENOSPC, "more than %u virtual "
			    "servers", b->c->max_vs);
		b->new_vs++;
	}
	if (khash_put(&b->vs, &k, (long)idx) == -1)
		return reject(r, ENOMEM, "out of memory");
	return 0;
}

static int
check_rs(struct pbatch *b, const struct pa_op *op, size_t idx,
    struct ap_result *r, long *dep)
{
	const struct pa_rs *rs = &op->u.rs;
	struct policy_rs_key rk;
	struct pa_vs_key k;
	const char *why;
	char buf[ADDR_STRLEN];
	long i;

	policy_vs_key(&k, &rs->vs);
	if ((i = khash_get(&b->vs, &k)) != -1)
		*dep = i;
	if (check_vs_key(b, &rs->vs, r, dep) == -1)
		return -1;
	if ((why = policy_rs_addr_denied(&rs->addr)) != NULL)
		return reject(r, EPERM, "real server: %s %s", why,
		    addr_fmt(&rs->addr, buf, sizeof(buf)));
	if (rs->port == 0)
		return reject(r, EINVAL, "real server port 0");
	if (rs->weight > POLICY_WEIGHT_MAX)
		return reject(r, EINVAL, "weight %u over %u", rs->weight,
		    POLICY_WEIGHT_MAX);
	if (op->kind != PA_OP_RS_ENSURE)
		return 0;
	policy_rs_key(&rk, rs);
	if (khash_get(&b->s->rs, &rk) == -1 && khash_get(&b->rs, &rk) == -1) {
		if (b->s->rs.n + b->new_rs >= b->c->max_rs)
			return reject(r, ENOSPC, "more than %u real servers",
			    b->c->max_rs);
		b->new_rs++;
		if (khash_put(&b->rs, &rk, (long)idx) == -1)
			return reject(r, ENOMEM, "out of memory");
	}
	return 0;
}

static int
check_addr(struct pbatch *b, const struct pa_op *op, size_t idx,
    struct ap_result *r, long *dep)
{
	const struct rec_addr *a = &op->u.addr;
	struct rec_addr k;
	const char *why;
	char buf[ADDR_STRLEN];

	if (!family_on(b->c, a->family))
		return reject(r, EAFNOSUPPORT, "IPv%u is not proxied",
		    a->family);
	*dep = b->link;
	/*
	 * The delete works on kube-ipvs0 only, but an address another
	 * interface holds was never kipvs's to remove: refused, so the
	 * attempt is visible as such.
	 */
	if (op->kind == PA_OP_ADDR_DEL && has_addr(&b->s->node, a) &&
	    !has_addr(&b->s->kube, a))
		return reject(r, EPERM, "%s is a node address on another "
		    "interface, not kipvs's", addr_fmt(a, buf, sizeof(buf)));
	if (op->kind == PA_OP_ADDR_DEL)
		return 0;
	if ((why = policy_addr_denied(b->c, a)) != NULL)
		return reject(r, EPERM, "%s %s is deny-listed", why,
		    addr_fmt(a, buf, sizeof(buf)));
	if (has_addr(&b->s->node, a))
		return reject(r, EPERM, "%s is a node address: never bound "
		    "to kube-ipvs0", addr_fmt(a, buf, sizeof(buf)));
	if (excluded(b->c, a))
		return reject(r, EPERM, "%s is inside --ipvs-exclude-cidrs",
		    addr_fmt(a, buf, sizeof(buf)));
	policy_addr_key(&k, a);
	if (!has_addr(&b->s->kube, a) && khash_get(&b->bound, &k) == -1) {
		if (b->s->kube.n + b->new_addrs >= b->c->max_addrs)
			return reject(r, ENOSPC, "more than %u addresses",
			    b->c->max_addrs);
		b->new_addrs++;
	}
	if (khash_put(&b->bound, &k, (long)idx) == -1)
		return reject(r, ENOMEM, "out of memory");
	return 0;
}

static int
check_entry(struct pbatch *b, const struct pa_op *op, struct ap_result *r,
    long *dep)
{
	const struct pa_set_entry *e = &op->u.entry;
	int f = fi(e->family), t = pa_set_type(e->set);
	char buf[ADDR_STRLEN];

	if (!family_on(b->c, e->family))
		return reject(r, EAFNOSUPPORT, "IPv%u is not proxied",
		    e->family);
	if (t != PA_SETTYPE_BITMAP_PORT) {
		if (e->addr.family != e->family)
			return reject(r, EINVAL, "member family differs from "
			    "the set's");
		if (policy_rs_addr_denied(&e->addr) != NULL &&
		    e->set != PA_SET_LOOP_BACK)
			return reject(r, EPERM, "member %s is deny-listed",
			    addr_fmt(&e->addr, buf, sizeof(buf)));
	}
	if (t != PA_SETTYPE_HASH_IP && e->port == 0)
		return reject(r, EINVAL, "member port 0");
	if (e->flags & PA_SETF_STAGED) {
		if (op->kind != PA_OP_SET_ADD)
			return reject(r, EINVAL, "a staged delete");
		if (b->reload[f][e->set] == -1)
			return reject(r, EINVAL, "a staged member without a "
			    "reload in progress");
		*dep = b->reload[f][e->set];
		return 0;
	}
	*dep = b->set[f][e->set];
	return 0;
}

static int
check_chain(struct pbatch *b, const struct pa_op *op, size_t idx,
    struct ap_result *r)
{
	const struct pa_chain *ch = &op->u.chain;

	if (!family_on(b->c, ch->family))
		return reject(r, EAFNOSUPPORT, "IPv%u is not proxied",
		    ch->family);
	if (ch->masq_bit != b->c->kp.masquerade_bit)
		return reject(r, EINVAL, "masquerade bit %u, configured %u",
		    ch->masq_bit, b->c->kp.masquerade_bit);
	if (!(ch->flags & PA_CHF_MASQUERADE_ALL) != !b->c->kp.masquerade_all)
		return reject(r, EINVAL, "masquerade-all differs from the "
		    "configuration");
	if (ch->local_mode == PA_LOCAL_CIDR &&
	    ch->local_cidr.addr.family != ch->family)
		return reject(r, EINVAL, "local-traffic CIDR of the other "
		    "family");
	if (ch->chain == PA_CHAIN_FILTER_IPVS_OUT_FILTER)
		b->out_filter[fi(ch->family)] = (long)idx;
	return 0;
}

static int
check_drop_vip(struct pbatch *b, const struct pa_op *op,
    struct ap_result *r, long *dep)
{
	const struct pa_chain_drop_vip *d = &op->u.drop_vip;
	const char *why;
	char buf[ADDR_STRLEN];

	if (d->vip.addr.family != d->family)
		return reject(r, EINVAL, "address of the other family");
	if (d->vip.port == 0)
		return reject(r, EINVAL, "port 0");
	if ((why = policy_addr_denied(b->c, &d->vip.addr)) != NULL)
		return reject(r, EPERM, "%s %s is deny-listed", why,
		    addr_fmt(&d->vip.addr, buf, sizeof(buf)));
	if (b->out_filter[fi(d->family)] == -1)
		return reject(r, EINVAL, "no KUBE-IPVS-OUT-FILTER replace "
		    "before it in the batch");
	*dep = b->out_filter[fi(d->family)];
	return 0;
}

static void
check_op(struct pbatch *b, const struct pa_op *ops, size_t i,
    struct ap_result *r, long *dep)
{
	const struct pa_op *op = &ops[i];
	const struct pa_timeouts *t;
	int f;

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		(void)check_vs(b, op, i, r, dep);
		return;
	case PA_OP_VS_DEL:
		(void)check_vs_key(b, &op->u.vs_key, r, dep);
		*dep = -1;
		return;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		(void)check_rs(b, op, i, r, dep);
		return;
	case PA_OP_IPVS_TIMEOUTS:
		t = &op->u.timeouts;
		if (t->tcp != b->c->kp.tcp_timeout_s ||
		    t->tcp_fin != b->c->kp.tcpfin_timeout_s ||
		    t->udp != b->c->kp.udp_timeout_s)
			(void)reject(r, EINVAL, "timeouts differ from the "
			    "configuration");
		return;
	case PA_OP_LINK_ENSURE:
		b->link = (long)i;
		return;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		(void)check_addr(b, op, i, r, dep);
		return;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		f = fi(op->u.set.family);
		if (!family_on(b->c, op->u.set.family)) {
			(void)reject(r, EAFNOSUPPORT, "IPv%u is not proxied",
			    op->u.set.family);
			return;
		}
		if (op->kind == PA_OP_SET_ENSURE) {
			b->set[f][op->u.set.set] = (long)i;
		} else if (op->kind == PA_OP_SET_RELOAD_BEGIN) {
			if (b->commit[f][op->u.set.set] < (long)i)
				(void)reject(r, EINVAL, "a reload without a "
				    "commit later in the batch");
			else if (b->reload[f][op->u.set.set] != -1)
				(void)reject(r, EINVAL, "a reload is already "
				    "in progress");
			else
				b->reload[f][op->u.set.set] = (long)i;
			*dep = b->set[f][op->u.set.set];
		} else {
			*dep = b->reload[f][op->u.set.set];
			b->reload[f][op->u.set.set] = -1;
			if (*dep == -1)
				(void)reject(r, EINVAL, "a commit without a "
				    "reload");
		}
		return;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		(void)check_entry(b, op, r, dep);
		return;
	case PA_OP_CHAIN_REPLACE:
		(void)check_chain(b, op, i, r);
		return;
	case PA_OP_CHAIN_DROP_VIP:
		(void)check_drop_vip(b, op, r, dep);
		return;
	case PA_OP_DUMP_REQUEST:
		return;
	}
	(void)reject(r, EINVAL, "unknown op kind %u", op->kind);
}

/* Objects the batch would delete (a virtual server takes its RS along). */
static uint64_t
batch_deletes(const struct pbatch *b, const struct pa_op *ops, size_t n)
{
	uint64_t del = 0;
	uint32_t staged[2][PA_SET_ID_MAX + 1];
	struct pa_vs_key k;
	long rs;
	size_t i;
	int f, s;

	memset(staged, 0, sizeof(staged));
	for (i = 0; i < n; i++) {
		const struct pa_op *op = &ops[i];

		switch (op->kind) {
		case PA_OP_VS_DEL:
			policy_vs_key(&k, &op->u.vs_key);
			rs = khash_get(&b->s->vs, &k);
			del += 1 + (uint64_t)(rs > 0 ? rs : 0);
			break;
		case PA_OP_RS_DEL:
		case PA_OP_ADDR_DEL:
			del++;
			break;
		case PA_OP_SET_DEL:
			del++;
			break;
		case PA_OP_SET_ADD:
			if (op->u.entry.flags & PA_SETF_STAGED)
				staged[fi(op->u.entry.family)]
				    [op->u.entry.set]++;
			break;
		default:
			break;
		}
	}
	/* A reload replaces a set: what it leaves out is deleted. */
	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_SET_RELOAD_COMMIT) {
			f = fi(ops[i].u.set.family);
			s = ops[i].u.set.set;
			if (b->s->members[f][s] > staged[f][s])
				del += b->s->members[f][s] - staged[f][s];
		}
	return del;
}

static long
reject_all(const struct pa_op *ops, size_t n, struct ap_result *res,
    int err, const char *reason)
{
	size_t i;

	(void)ops;
	for (i = 0; i < n; i++)
		(void)reject(&res[i], err, "%s", reason);
	return (long)n;
}

long
policy_batch(const struct applier_conf *c, struct policy_state *s,
    uint32_t flags, const struct pa_op *ops, size_t n,
    struct ap_result *res, long *dep, uint64_t now_ms)
{
	struct pbatch b;
	char why[AP_REASON_MAX + 1];
	uint64_t del, owned;
	long rejected = 0;
	size_t i;
	int f, k;

	if (n > c->max_batch_ops) {
		snprintf(why, sizeof(why), "batch of %zu ops over the cap of "
		    "%u", n, c->max_batch_ops);
		return reject_all(ops, n, res, E2BIG, why);
	}
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.s = s;
	khash_init(&b.bound, sizeof(struct rec_addr));
	khash_init(&b.vs, sizeof(struct pa_vs_key));
	khash_init(&b.rs, sizeof(struct policy_rs_key));
	b.link = -1;
	for (f = 0; f < 2; f++) {
		b.out_filter[f] = -1;
		for (k = 0; k <= PA_SET_ID_MAX; k++)
			b.set[f][k] = b.reload[f][k] = b.commit[f][k] = -1;
	}
	for (i = 0; i < n; i++)
		if (ops[i].kind == PA_OP_SET_RELOAD_COMMIT)
			b.commit[fi(ops[i].u.set.family)][ops[i].u.set.set] =
			    (long)i;

	del = batch_deletes(&b, ops, n);
	owned = policy_state_owned(s);
	if (del > c->mass_delete_min &&
	    del * 100 > (uint64_t)c->mass_delete_share * owned) {
		if ((flags & PA_BATCH_CONFIRMED) && s->mass_refused_ms != 0 &&
		    now_ms - s->mass_refused_ms >= c->mass_delete_holdoff_ms)
			s->mass_refused_ms = 0;
		else {
			if (s->mass_refused_ms == 0)
				s->mass_refused_ms = now_ms;
			snprintf(why, sizeof(why), "mass deletion of %llu of "
			    "%llu owned objects refused%s",
			    (unsigned long long)del, (unsigned long long)owned,
			    (flags & PA_BATCH_CONFIRMED) ? ": hold-off not "
			    "over" : ": confirm after the hold-off");
			rejected = reject_all(ops, n, res, ECANCELED, why);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		dep[i] = -1;
		check_op(&b, ops, i, &res[i], &dep[i]);
		if (res[i].status == AP_REJECTED)
			rejected++;
	}
out:
	khash_free(&b.bound);
	khash_free(&b.vs);
	khash_free(&b.rs);
	return rejected;
}
