/*
 * Incremental diff (see plan_diff.h for the contract).
 *
 * Three hash tables with fixed-size keys: virtual servers (family,
 * protocol, port, address), reference-counted "refs" (set members,
 * kube-ipvs0 addresses, OUT-FILTER drops) and per-Service contributions
 * (keyed by the model's interned namespace and name pointers, which stay
 * valid while the Service exists: a Service that goes away is always dirty
 * and its contribution is dropped in that sync).  Objects whose desired or
 * known state may have changed are put on a "touched" list; emission
 * walks only that list.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/progress.h"
#include "planner/plan_diff.h"

/* --- fixed-key hash tables ----------------------------------------------- */

struct dh_node {
	struct dh_node	*next;
	uint32_t	 hash;
};

struct dh_tab {
	struct dh_node	**b;
	size_t		 nb;
	size_t		 n;
	size_t		 koff;		/* key offset */
	size_t		 klen;
};

static uint32_t
dh_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

static const void *
dh_key(const struct dh_tab *t, const struct dh_node *n)
{
	return (const char *)n + t->koff;
}

static void *
dh_get(const struct dh_tab *t, const void *key)
{
	struct dh_node *n;
	uint32_t h;

	if (t->nb == 0)
		return NULL;
	h = dh_hash(key, t->klen);
	for (n = t->b[h & (t->nb - 1)]; n != NULL; n = n->next)
		if (n->hash == h && memcmp(dh_key(t, n), key, t->klen) == 0)
			return n;
	return NULL;
}

static int
dh_put(struct dh_tab *t, struct dh_node *node)
{
	struct dh_node **nb, *e, *next;
	size_t i, n;

	if (t->n >= t->nb) {
		n = t->nb == 0 ? 64 : t->nb * 2;
		nb = calloc(n, sizeof(*nb));
		if (nb == NULL)
			return -1;
		for (i = 0; i < t->nb; i++)
			for (e = t->b[i]; e != NULL; e = next) {
				next = e->next;
				e->next = nb[e->hash & (n - 1)];
				nb[e->hash & (n - 1)] = e;
			}
		free(t->b);
		t->b = nb;
		t->nb = n;
	}
	node->hash = dh_hash(dh_key(t, node), t->klen);
	node->next = t->b[node->hash & (t->nb - 1)];
	t->b[node->hash & (t->nb - 1)] = node;
	t->n++;
	return 0;
}

static void
dh_del(struct dh_tab *t, struct dh_node *node)
{
	struct dh_node **pp;

	for (pp = &t->b[node->hash & (t->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			t->n--;
			return;
		}
}

/* --- entries -------------------------------------------------------------- */

/* Packed by construction (no padding); always memset before filling. */
struct df_vskey {
	uint8_t		 family;
	uint8_t		 proto;
	uint16_t	 port;
	uint8_t		 addr[16];
};

enum df_kind {
	DF_SET = 1,
	DF_ADDR,
	DF_DROP,
};

struct df_refkey {
	uint8_t		 kind;		/* enum df_kind */
	uint8_t		 family;
	uint8_t		 set;		/* enum plan_set */
	uint8_t		 proto;
	uint16_t	 port;
	uint8_t		 plen;
	uint8_t		 pad;
	uint8_t		 ip[16];
	uint8_t		 ip2[16];
};

struct df_gkey {
	const char	*ns;
	const char	*name;
};

/*
 * Connections of a draining server that no dump has counted since it was
 * set to weight 0: never reaped on a count read before that.
 */
#define DF_CONNS_UNKNOWN	UINT32_MAX

/* A real server known to be in the kernel. */
struct df_rs {
	struct rec_addr	 addr;
	uint16_t	 port;
	uint8_t		 terminating;	/* weight 0, draining */
	int32_t		 weight;
	uint32_t	 conns;		/* active + inactive, or unknown */
};

struct df_vsc;

struct df_vs {
	struct dh_node	 node;
	struct df_vskey	 key;
	struct df_vsc	*owners;
	int		 applied;
	int		 touched;
	char		 sched[PLAN_SCHED_MAX];
	uint32_t	 flags;
	uint32_t	 timeout;
	struct df_rs	*rs;
	size_t		 n_rs;
	size_t		 cap_rs;
	size_t		 n_term;
	int		 carry_lost;	/* see plan_diff.carry */
};

/* A wanted real server; the family is the virtual server's. */
struct df_want {
	uint8_t		 addr[16];
	uint16_t	 port;
};

/* One Service's claim on a virtual server, with its wanted real servers. */
struct df_vsc {
	struct df_vs	*vs;
	struct df_vsc	*next;		/* in vs->owners */
	int64_t		 created;
	const char	*ns;
	const char	*name;
	char		 sched[PLAN_SCHED_MAX];
	uint32_t	 flags;
	uint32_t	 timeout;
	uint32_t	 netmask;
	struct df_want	*rs;		/* sorted */
	size_t		 n_rs;
	int		 lost;		/* counted as a conflict's loser */
};

struct df_ref {
	struct dh_node	 node;
	struct df_refkey key;
	uint32_t	 refs;
	int		 applied;
	int		 touched;
};

struct df_group {
	struct dh_node	 node;
	struct df_gkey	 key;
	struct df_vsc	*vscs;
	size_t		 n_vscs;
	struct df_ref	**refs;
	size_t		 n_refs;
};

enum df_touch_type {
	DF_T_VS = 1,
	DF_T_REF,
};

struct df_touch {
	int		 type;
	void		*p;
};

/* Chain ids (1..PA_CHAIN_ID_MAX) as bits. */
#define DF_CHAIN_BIT(c)	(1u << (c))
#define DF_CHAINS_ALL	(((1u << (PA_CHAIN_ID_MAX + 1)) - 1) & ~1u)

#define DF_START_LINK	0x01
#define DF_START_SETS	0x02
#define DF_START_ALL	0x03

struct plan_diff {
	const struct plan_config *cfg;
	struct dh_tab	 vs;
	struct dh_tab	 refs;
	struct dh_tab	 groups;
	struct df_touch	*touched;
	size_t		 n_touched;
	size_t		 cap_touched;
	struct plan_desired scratch[2];
	/* Desired members per set and family (for the chain templates). */
	uint32_t	 set_members[2][PLAN_SET_COUNT];
	uint32_t	 chain_mask[2];	/* sets_nonempty last sent */
	struct df_ref	**drops;	/* every DF_DROP ref */
	size_t		 n_drops;
	size_t		 cap_drops;
	struct df_vs	**term;		/* VSs with draining RSs */
	size_t		 n_term;
	size_t		 cap_term;
	size_t		 n_terminating;
	/*
	 * While one Service is recomputed: the virtual servers it lost to an
	 * older claim before, so a claim it makes again keeps its "lost"
	 * mark (a conflict is counted once, not on every recompute).
	 */
	struct df_vs	**carry;
	size_t		 n_carry;
	size_t		 cap_carry;
	int		 first;
	uint32_t	 chains_stale[2];	/* DF_CHAIN_BIT per family */
	int		 start_stale;	/* DF_START_*: device, sets again */
	int		 stop;
};

static int
df_fi(uint8_t family)
{
	return family == REC_FAMILY_IPV6 ? 1 : 0;
}

static int
df_grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	nv = realloc(*v, ncap * size);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

struct plan_diff *
plan_diff_new(const struct plan_config *cfg)
{
	struct plan_diff *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->cfg = cfg;
	d->vs.koff = offsetof(struct df_vs, key);
	d->vs.klen = sizeof(struct df_vskey);
	d->refs.koff = offsetof(struct df_ref, key);
	d->refs.klen = sizeof(struct df_refkey);
	d->groups.koff = offsetof(struct df_group, key);
	d->groups.klen = sizeof(struct df_gkey);
	plan_desired_init(&d->scratch[0], REC_FAMILY_IPV4);
	plan_desired_init(&d->scratch[1], REC_FAMILY_IPV6);
	d->first = 1;
	return d;
}

static void
df_group_free_contrib(struct df_group *g)
{
	size_t i;

	for (i = 0; i < g->n_vscs; i++)
		free(g->vscs[i].rs);
	free(g->vscs);
	free(g->refs);
	g->vscs = NULL;
	g->refs = NULL;
	g->n_vscs = g->n_refs = 0;
}

static void
df_tab_free(struct dh_tab *t, void (*fn)(void *))
{
	struct dh_node *n, *next;
	size_t i;

	for (i = 0; i < t->nb; i++)
		for (n = t->b[i]; n != NULL; n = next) {
			next = n->next;
			fn(n);
		}
	free(t->b);
}

static void
df_free_vs(void *p)
{
	struct df_vs *vs = p;

	free(vs->rs);
	free(vs);
}

static void
df_free_group(void *p)
{
	df_group_free_contrib(p);
	free(p);
}

void
plan_diff_free(struct plan_diff *d)
{
	if (d == NULL)
		return;
	df_tab_free(&d->vs, df_free_vs);
	df_tab_free(&d->refs, free);
	df_tab_free(&d->groups, df_free_group);
	plan_desired_clear(&d->scratch[0]);
	plan_desired_clear(&d->scratch[1]);
	free(d->touched);
	free(d->drops);
	free(d->term);
	free(d->carry);
	free(d);
}

size_t
plan_diff_nvs(const struct plan_diff *d)
{
	return d->vs.n;
}

size_t
plan_diff_nterminating(const struct plan_diff *d)
{
	return d->n_terminating;
}

/* --- keys and lookups ----------------------------------------------------- */

static void
df_vskey_make(struct df_vskey *k, const struct rec_addr *a, uint8_t proto,
    uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->proto = proto;
	k->port = port;
	memcpy(k->addr, a->addr, 16);
}

static void
df_vskey_to_pa(const struct df_vskey *k, struct pa_vs_key *pk)
{
	memset(pk, 0, sizeof(*pk));
	pk->addr.family = k->family;
	memcpy(pk->addr.addr, k->addr, 16);
	pk->protocol = k->proto;
	pk->port = k->port;
}

static int
df_touch(struct plan_diff *d, int type, void *p)
{
	int *flag = type == DF_T_VS ? &((struct df_vs *)p)->touched :
	    &((struct df_ref *)p)->touched;

	if (*flag)
		return 0;
	if (df_grow((void **)&d->touched, &d->cap_touched, d->n_touched,
	    sizeof(*d->touched)) == -1)
		return -1;
	d->touched[d->n_touched].type = type;
	d->touched[d->n_touched].p = p;
	d->n_touched++;
	*flag = 1;
	return 0;
}

static struct df_vs *
df_vs_get(struct plan_diff *d, const struct df_vskey *k, int create)
{
	struct df_vs *vs = dh_get(&d->vs, k);

	if (vs != NULL || !create)
		return vs;
	vs = calloc(1, sizeof(*vs));
	if (vs == NULL)
		return NULL;
	vs->key = *k;
	if (dh_put(&d->vs, &vs->node) == -1) {
		free(vs);
		return NULL;
	}
	return vs;
}

static struct df_ref *
df_ref_get(struct plan_diff *d, const struct df_refkey *k, int create)
{
	struct df_ref *r = dh_get(&d->refs, k);

	if (r != NULL || !create)
		return r;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->key = *k;
	if (k->kind == DF_DROP && df_grow((void **)&d->drops, &d->cap_drops,
	    d->n_drops, sizeof(*d->drops)) == -1) {
		free(r);
		return NULL;
	}
	if (dh_put(&d->refs, &r->node) == -1) {
		free(r);
		return NULL;
	}
	if (k->kind == DF_DROP)
		d->drops[d->n_drops++] = r;
	return r;
}

static void
df_ref_free(struct plan_diff *d, struct df_ref *r)
{
	size_t i;

	if (r->key.kind == DF_DROP)
		for (i = 0; i < d->n_drops; i++)
			if (d->drops[i] == r) {
				d->drops[i] = d->drops[--d->n_drops];
				break;
			}
	dh_del(&d->refs, &r->node);
	free(r);
}

static void
df_term_forget(struct plan_diff *d, struct df_vs *vs)
{
	size_t i;

	for (i = 0; i < d->n_term; i++)
		if (d->term[i] == vs) {
			d->term[i] = d->term[--d->n_term];
			return;
		}
}

static void
df_vs_free(struct plan_diff *d, struct df_vs *vs)
{
	if (vs->n_term > 0) {
		d->n_terminating -= vs->n_term;
		df_term_forget(d, vs);
	}
	dh_del(&d->vs, &vs->node);
	df_free_vs(vs);
}

static void
df_entry_key(struct df_refkey *k, uint8_t family, enum plan_set set,
    const struct plan_set_entry *e)
{
	memset(k, 0, sizeof(*k));
	k->kind = DF_SET;
	k->family = family;
	k->set = (uint8_t)set;
	switch (plan_sets[set].type) {
	case PLAN_SETTYPE_HASH_IP:
		memcpy(k->ip, e->ip.addr, 16);
		break;
	case PLAN_SETTYPE_HASH_IP_PORT:
		memcpy(k->ip, e->ip.addr, 16);
		k->proto = e->proto;
		k->port = e->port;
		break;
	case PLAN_SETTYPE_HASH_IP_PORT_IP:
	case PLAN_SETTYPE_HASH_IP_PORT_NET:
		memcpy(k->ip, e->ip.addr, 16);
		k->proto = e->proto;
		k->port = e->port;
		memcpy(k->ip2, e->ip2.addr, 16);
		k->plen = plan_sets[set].type == PLAN_SETTYPE_HASH_IP_PORT_NET ?
		    e->plen : 0;
		break;
	case PLAN_SETTYPE_BITMAP_PORT:
		k->port = e->port;
		break;
	}
}

/* --- the kernel as dumped ---------------------------------------------- */

static struct df_rs *df_rs_find(struct df_vs *, const struct rec_addr *,
    uint16_t);

/*
 * Replaces what is known of a virtual server's real servers.  A server
 * that was draining and is still at weight 0 keeps draining: a new dump
 * must not turn it into an "unknown weight-0 leftover".
 */
static int
df_vs_set_rs(struct plan_diff *d, struct df_vs *vs, const struct plan_vs *v)
{
	struct df_rs *nrs = NULL, *old;
	size_t i, n_term = 0;
	int was_term = vs->n_term > 0;

	if (v->n_rs > 0 && (nrs = calloc(v->n_rs, sizeof(*nrs))) == NULL)
		return -1;
	for (i = 0; i < v->n_rs; i++) {
		nrs[i].addr = v->rs[i].addr;
		nrs[i].port = v->rs[i].port;
		nrs[i].weight = v->rs[i].weight;
		if (nrs[i].weight == 0 && vs->n_term > 0 &&
		    (old = df_rs_find(vs, &nrs[i].addr, nrs[i].port)) !=
		    NULL && old->terminating) {
			nrs[i].terminating = 1;
			n_term++;
		}
	}
	d->n_terminating -= vs->n_term;
	d->n_terminating += n_term;
	free(vs->rs);
	vs->rs = nrs;
	vs->n_rs = vs->cap_rs = v->n_rs;
	vs->n_term = n_term;
	if (was_term && n_term == 0)
		df_term_forget(d, vs);
	else if (!was_term && n_term > 0) {
		/* Cannot happen (nothing was draining), kept for safety. */
		if (df_grow((void **)&d->term, &d->cap_term, d->n_term,
		    sizeof(*d->term)) == -1)
			return -1;
		d->term[d->n_term++] = vs;
	}
	return 0;
}

int
plan_diff_kernel_vs(struct plan_diff *d, const struct plan_vs *v)
{
	struct df_vskey k;
	struct df_vs *vs;
	size_t i;

	df_vskey_make(&k, &v->addr, v->proto, v->port);
	vs = df_vs_get(d, &k, 1);
	if (vs == NULL)
		return -1;
	vs->applied = 1;
	memcpy(vs->sched, v->sched, sizeof(vs->sched));
	vs->flags = v->flags & ~PLAN_VS_F_HASHED;
	vs->timeout = v->timeout;
	if (df_vs_set_rs(d, vs, v) == -1)
		return -1;
	/* Sorted like the desired lists, for the merge. */
	for (i = 1; i < vs->n_rs; i++) {
		struct df_rs tmp = vs->rs[i];
		size_t j;

		for (j = i; j > 0 && (addr_cmp(&vs->rs[j - 1].addr,
		    &tmp.addr) > 0 || (addr_eq(&vs->rs[j - 1].addr,
		    &tmp.addr) && vs->rs[j - 1].port > tmp.port)); j--)
			vs->rs[j] = vs->rs[j - 1];
		vs->rs[j] = tmp;
	}
	return df_touch(d, DF_T_VS, vs);
}

int
plan_diff_kernel_begin(struct plan_diff *d)
{
	struct dh_node *n;
	size_t i;

	for (i = 0; i < d->vs.nb; i++)
		for (n = d->vs.b[i]; n != NULL; n = n->next) {
			struct df_vs *vs = (struct df_vs *)(void *)n;

			vs->applied = 0;
			if (df_touch(d, DF_T_VS, vs) == -1)
				return -1;
		}
	for (i = 0; i < d->refs.nb; i++)
		for (n = d->refs.b[i]; n != NULL; n = n->next) {
			struct df_ref *r = (struct df_ref *)(void *)n;

			/* OUT-FILTER drops are not dumped one by one. */
			if (r->key.kind == DF_DROP)
				continue;
			r->applied = 0;
			if (df_touch(d, DF_T_REF, r) == -1)
				return -1;
		}
	return 0;
}

int
plan_diff_kernel_end(struct plan_diff *d)
{
	struct plan_vs none;
	struct dh_node *n;
	size_t i;

	memset(&none, 0, sizeof(none));
	for (i = 0; i < d->vs.nb; i++)
		for (n = d->vs.b[i]; n != NULL; n = n->next) {
			struct df_vs *vs = (struct df_vs *)(void *)n;

			/* Gone from the kernel: so are its real servers. */
			if (!vs->applied && vs->n_rs > 0 &&
			    df_vs_set_rs(d, vs, &none) == -1)
				return -1;
		}
	return 0;
}

static int
df_kernel_ref(struct plan_diff *d, const struct df_refkey *k)
{
	struct df_ref *r = df_ref_get(d, k, 1);

	if (r == NULL)
		return -1;
	r->applied = 1;
	return df_touch(d, DF_T_REF, r);
}

int
plan_diff_kernel_addr(struct plan_diff *d, const struct rec_addr *a)
{
	struct df_refkey k;

	memset(&k, 0, sizeof(k));
	k.kind = DF_ADDR;
	k.family = a->family;
	memcpy(k.ip, a->addr, 16);
	return df_kernel_ref(d, &k);
}

int
plan_diff_kernel_entry(struct plan_diff *d, const struct pa_set_entry *pe)
{
	struct plan_set_entry e;
	struct df_refkey k;

	if (pe->set < 1 || pe->set > PLAN_SET_COUNT)
		return -1;
	memset(&e, 0, sizeof(e));
	e.ip = pe->addr;
	e.proto = pe->protocol;
	e.port = pe->port;
	e.ip2 = pe->net.addr;
	e.plen = pe->net.plen;
	df_entry_key(&k, pe->family, (enum plan_set)(pe->set - 1), &e);
	return df_kernel_ref(d, &k);
}

static struct df_rs *
df_rs_find(struct df_vs *vs, const struct rec_addr *a, uint16_t port)
{
	size_t i;

	for (i = 0; i < vs->n_rs; i++)
		if (vs->rs[i].port == port && addr_eq(&vs->rs[i].addr, a))
			return &vs->rs[i];
	return NULL;
}

void
plan_diff_rs_conns(struct plan_diff *d, const struct pa_vs_key *pk,
    const struct rec_addr *a, uint16_t port, uint32_t conns)
{
	struct df_vskey k;
	struct df_vs *vs;
	struct df_rs *rs;

	df_vskey_make(&k, &pk->addr, pk->protocol, pk->port);
	vs = dh_get(&d->vs, &k);
	if (vs != NULL && (rs = df_rs_find(vs, a, port)) != NULL)
		rs->conns = conns;
}

/* --- contributions ------------------------------------------------------- */

/*
 * Takes back everything a Service contributed; touches what it claimed.
 * With `carry`, the virtual servers it was losing go on d->carry.
 */
static int
df_withdraw(struct plan_diff *d, struct df_group *g, int carry)
{
	struct df_vsc **pp;
	size_t i;

	for (i = 0; i < g->n_vscs; i++) {
		struct df_vsc *c = &g->vscs[i];

		for (pp = &c->vs->owners; *pp != NULL; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		if (df_touch(d, DF_T_VS, c->vs) == -1)
			return -1;
		if (carry && c->lost && !c->vs->carry_lost) {
			if (df_grow((void **)&d->carry, &d->cap_carry,
			    d->n_carry, sizeof(*d->carry)) == -1)
				return -1;
			d->carry[d->n_carry++] = c->vs;
			c->vs->carry_lost = 1;
		}
	}
	for (i = 0; i < g->n_refs; i++) {
		struct df_ref *r = g->refs[i];

		if (--r->refs == 0 && r->key.kind == DF_SET)
			d->set_members[df_fi(r->key.family)][r->key.set]--;
		if (df_touch(d, DF_T_REF, r) == -1)
			return -1;
	}
	df_group_free_contrib(g);
	return 0;
}

static void
df_scratch_reset(struct plan_desired *s)
{
	size_t i;

	for (i = 0; i < s->ipvs.n; i++)
		free(s->ipvs.vs[i].rs);
	s->ipvs.n = 0;
	for (i = 0; i < PLAN_SET_COUNT; i++)
		s->sets[i].n = 0;
	s->n_addrs = 0;
	s->n_outfilter = 0;
}

static int
df_add_ref(struct plan_diff *d, struct df_group *g, const struct df_refkey *k)
{
	struct df_ref *r = df_ref_get(d, k, 1);

	if (r == NULL)
		return -1;
	if (r->refs++ == 0 && k->kind == DF_SET)
		d->set_members[df_fi(k->family)][k->set]++;
	g->refs[g->n_refs++] = r;
	return df_touch(d, DF_T_REF, r);
}

static int
df_contribute(struct plan_diff *d, struct df_group *g,
    struct plan_desired *s)
{
	struct df_vskey vk;
	struct df_refkey k;
	struct df_vs *vs;
	size_t i, j, nrefs = s->n_addrs + s->n_outfilter;

	for (i = 0; i < PLAN_SET_COUNT; i++)
		nrefs += s->sets[i].n;
	for (i = 0; i < s->ipvs.n; i++) {
		struct plan_vs *v = &s->ipvs.vs[i];
		struct df_vsc *c = &g->vscs[g->n_vscs];

		df_vskey_make(&vk, &v->addr, v->proto, v->port);
		vs = df_vs_get(d, &vk, 1);
		if (vs == NULL)
			return -1;
		memset(c, 0, sizeof(*c));
		c->vs = vs;
		c->created = v->created;
		c->ns = v->owner_ns;
		c->name = v->owner_name;
		memcpy(c->sched, v->sched, sizeof(c->sched));
		c->flags = v->flags;
		c->timeout = v->timeout;
		c->netmask = v->netmask;
		c->lost = vs->carry_lost;
		/* Kept compactly: address and port are all that vary. */
		if (v->n_rs > 0) {
			c->rs = calloc(v->n_rs, sizeof(*c->rs));
			if (c->rs == NULL)
				return -1;
			for (j = 0; j < v->n_rs; j++) {
				memcpy(c->rs[j].addr, v->rs[j].addr.addr, 16);
				c->rs[j].port = v->rs[j].port;
			}
			c->n_rs = v->n_rs;
		}
		c->next = vs->owners;
		vs->owners = c;
		g->n_vscs++;
		if (df_touch(d, DF_T_VS, vs) == -1)
			return -1;
	}
	if (nrefs > 0) {
		struct df_ref **nr = realloc(g->refs,
		    (g->n_refs + nrefs) * sizeof(*nr));

		if (nr == NULL)
			return -1;
		g->refs = nr;
	}
	for (i = 0; i < PLAN_SET_COUNT; i++)
		for (j = 0; j < s->sets[i].n; j++) {
			df_entry_key(&k, s->family, (enum plan_set)i,
			    &s->sets[i].v[j]);
			if (df_add_ref(d, g, &k) == -1)
				return -1;
		}
	for (i = 0; i < s->n_addrs; i++) {
		memset(&k, 0, sizeof(k));
		k.kind = DF_ADDR;
		k.family = s->family;
		memcpy(k.ip, s->addrs[i].addr, 16);
		if (df_add_ref(d, g, &k) == -1)
			return -1;
	}
	for (i = 0; i < s->n_outfilter; i++) {
		memset(&k, 0, sizeof(k));
		k.kind = DF_DROP;
		k.family = s->family;
		k.proto = s->outfilter[i].proto;
		k.port = s->outfilter[i].port;
		memcpy(k.ip, s->outfilter[i].ip.addr, 16);
		if (df_add_ref(d, g, &k) == -1)
			return -1;
	}
	return 0;
}

/*
 * Recomputes one Service: withdraw its old contribution, compute each of
 * its service ports for each running family, contribute the result.
 */
static int
df_recompute_one(struct plan_diff *d, const struct plan_model *m,
    const char *ns, const char *name, const struct plan_svc *svc)
{
	struct df_gkey gk;
	struct df_group *g;
	size_t f, p, nvs = 0;

	memset(&gk, 0, sizeof(gk));
	gk.ns = ns;
	gk.name = name;
	g = dh_get(&d->groups, &gk);
	if (g != NULL && df_withdraw(d, g, svc != NULL) == -1)
		return -1;
	if (svc == NULL) {
		if (g != NULL) {
			dh_del(&d->groups, &g->node);
			free(g);
		}
		return 0;
	}
	for (f = 0; f < 2; f++) {
		struct plan_desired *s = &d->scratch[f];

		df_scratch_reset(s);
		if ((f == 0 && !d->cfg->ipv4) || (f == 1 && !d->cfg->ipv6))
			continue;
		for (p = 0; p < svc->n_ports; p++)
			if (plan_desired_svcport(s, d->cfg, m, svc, p) == -1)
				return -1;
		if (plan_desired_finish(s) == -1)
			return -1;
		nvs += s->ipvs.n;
	}
	if (g == NULL) {
		g = calloc(1, sizeof(*g));
		if (g == NULL)
			return -1;
		g->key = gk;
		if (dh_put(&d->groups, &g->node) == -1) {
			free(g);
			return -1;
		}
	}
	if (nvs > 0) {
		g->vscs = calloc(nvs, sizeof(*g->vscs));
		if (g->vscs == NULL)
			return -1;
	}
	for (f = 0; f < 2; f++)
		if (df_contribute(d, g, &d->scratch[f]) == -1)
			return -1;
	return 0;
}

static int
df_recompute(struct plan_diff *d, const struct plan_model *m,
    const char *ns, const char *name, const struct plan_svc *svc)
{
	int rc = df_recompute_one(d, m, ns, name, svc);

	/* The marks concern this Service only (and a VS may be freed). */
	while (d->n_carry > 0)
		d->carry[--d->n_carry]->carry_lost = 0;
	return rc;
}

/* --- emission ------------------------------------------------------------- */

static int
df_emit(struct plan_diff *d, const struct plan_diff_sink *sink,
    const struct pa_op *op, long *count)
{
	if (d->stop)
		return -1;
	if (sink->emit(op, sink->arg) == -1) {
		d->stop = 1;
		return -1;
	}
	(*count)++;
	return 0;
}

static void
df_op_rs(struct pa_op *op, uint8_t kind, const struct df_vs *vs,
    const struct rec_addr *a, uint16_t port, uint32_t weight)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	df_vskey_to_pa(&vs->key, &op->u.rs.vs);
	op->u.rs.addr = *a;
	op->u.rs.port = port;
	op->u.rs.weight = weight;
}

static const struct df_vsc *
df_winner(const struct df_vs *vs)
{
	const struct df_vsc *c, *w = NULL;
	int cmp;

	for (c = vs->owners; c != NULL; c = c->next) {
		if (w == NULL) {
			w = c;
			continue;
		}
		if (c->created != w->created)
			cmp = c->created < w->created ? -1 : 1;
		else if ((cmp = strcmp(c->ns, w->ns)) == 0)
			cmp = strcmp(c->name, w->name);
		if (cmp < 0)
			w = c;
	}
	return w;
}

/*
 * Counts and logs each Service that loses a virtual server to an older
 * claim (df_winner) once, when it starts losing: what
 * plan_desired_finish() counts in a full computation.  The mark stays on
 * the claim while it keeps losing, across recomputes of its Service
 * (d->carry), and goes when it wins, so losing again counts again.
 */
static void
df_conflicts(struct plan_diff *d, struct df_vs *vs, const struct df_vsc *w)
{
	struct df_vsc *c;
	struct rec_addr a;
	char buf[ADDR_STRLEN];

	for (c = vs->owners; c != NULL; c = c->next) {
		if (c == w) {
			c->lost = 0;
			continue;
		}
		if (c->lost)
			continue;
		c->lost = 1;
		if (d->cfg->neutral != NULL)
			d->cfg->neutral->n[PLAN_NEUT_CONFLICT]++;
		memset(&a, 0, sizeof(a));
		a.family = vs->key.family;
		memcpy(a.addr, vs->key.addr, 16);
		log_warnx("service %s/%s: virtual server %s %s:%u is also "
		    "claimed by service %s/%s, which is older or sorts first: "
		    "left out (%s)", c->ns, c->name, vs->key.proto ==
		    REC_PROTO_UDP ? "UDP" : vs->key.proto == REC_PROTO_SCTP ?
		    "SCTP" : "TCP", addr_fmt(&a, buf, sizeof(buf)),
		    vs->key.port, w->ns, w->name,
		    plan_neut_names[PLAN_NEUT_CONFLICT]);
	}
}

static int
df_excluded(const struct plan_diff *d, const struct df_vs *vs)
{
	struct rec_addr a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.family = vs->key.family;
	memcpy(a.addr, vs->key.addr, 16);
	for (i = 0; i < d->cfg->n_exclude_cidrs; i++)
		if (prefix_contains(&d->cfg->exclude_cidrs[i], &a))
			return 1;
	return 0;
}

static int
df_rs_cmp(const struct rec_addr *a, uint16_t ap, const struct rec_addr *b,
    uint16_t bp)
{
	int c = addr_cmp(a, b);

	if (c != 0)
		return c;
	return (int)ap - (int)bp;
}

/* An unwanted known real server: delete it, or weight 0 while in use. */
static int
df_rs_unwanted(struct plan_diff *d, const struct plan_diff_sink *sink,
    struct df_vs *vs, struct df_rs *rs, long *count)
{
	struct pa_op op;

	if (rs->terminating)
		return 1;
	if (vs->key.proto != REC_PROTO_TCP) {
		df_op_rs(&op, PA_OP_RS_DEL, vs, &rs->addr, rs->port, 0);
		return df_emit(d, sink, &op, count) == -1 ? -1 : 0;
	}
	/*
	 * TCP: kube-proxy reads the live connection count before choosing
	 * between delete and drain.  The count known here is from the last
	 * dump, which may predate a connection, so every removed TCP server
	 * drains at weight 0 with its count unknown; the daemon asks for a
	 * dump right after the batch (plan_diff_nuncounted) and
	 * plan_diff_reap() deletes the ones that dump shows idle.
	 */
	if (rs->weight != 0) {
		df_op_rs(&op, PA_OP_RS_WEIGHT, vs, &rs->addr, rs->port, 0);
		if (df_emit(d, sink, &op, count) == -1)
			return -1;
	}
	rs->weight = 0;
	rs->conns = DF_CONNS_UNKNOWN;
	rs->terminating = 1;
	vs->n_term++;
	d->n_terminating++;
	return 1;
}

/*
 * Merges wanted and known real servers (both sorted).  Additions go out
 * first, then removals, as kube-proxy orders them, so a replaced endpoint
 * never leaves the service with fewer servers than needed.  Returns 0, or
 * -1 to stop (what is known stays consistent; the VS is touched again).
 */
static int
df_emit_rs(struct plan_diff *d, const struct plan_diff_sink *sink,
    struct df_vs *vs, const struct df_vsc *w, long *count)
{
	struct df_rs *out;
	struct pa_op op;
	size_t i = 0, j = 0, n = 0, k, cap = w->n_rs + vs->n_rs;
	size_t *gone = NULL, n_gone = 0;
	int c, r, was_term = vs->n_term > 0, rc = 0;

	out = cap > 0 ? calloc(cap, sizeof(*out)) : NULL;
	gone = vs->n_rs > 0 ? calloc(vs->n_rs, sizeof(*gone)) : NULL;
	if ((cap > 0 && out == NULL) || (vs->n_rs > 0 && gone == NULL)) {
		free(out);
		free(gone);
		return -1;
	}
	while (i < w->n_rs || j < vs->n_rs) {
		struct df_rs *have = j < vs->n_rs ? &vs->rs[j] : NULL;
		struct plan_rs wbuf, *want = NULL;

		if (i < w->n_rs) {
			memset(&wbuf, 0, sizeof(wbuf));
			wbuf.addr.family = vs->key.family;
			memcpy(wbuf.addr.addr, w->rs[i].addr, 16);
			wbuf.port = w->rs[i].port;
			want = &wbuf;
		}

		if (want == NULL)
			c = 1;
		else if (have == NULL)
			c = -1;
		else
			c = df_rs_cmp(&want->addr, want->port, &have->addr,
			    have->port);
		if (c > 0) {
			/* Decided after the additions. */
			gone[n_gone++] = j++;
			continue;
		}
		if (c < 0) {
			if (rc == 0) {
				df_op_rs(&op, PA_OP_RS_ENSURE, vs, &want->addr,
				    want->port, 1);
				rc = df_emit(d, sink, &op, count);
			}
			if (rc == 0) {
				memset(&out[n], 0, sizeof(out[n]));
				out[n].addr = want->addr;
				out[n].port = want->port;
				out[n++].weight = 1;
			}
			i++;
			continue;
		}
		out[n] = *have;
		if (rc == 0 && have->terminating) {
			/* kube-proxy cuts it and adds it afresh. */
			df_op_rs(&op, PA_OP_RS_DEL, vs, &have->addr,
			    have->port, 0);
			rc = df_emit(d, sink, &op, count);
			if (rc == 0) {
				df_op_rs(&op, PA_OP_RS_ENSURE, vs, &have->addr,
				    have->port, 1);
				rc = df_emit(d, sink, &op, count);
			}
			if (rc == 0) {
				out[n].terminating = 0;
				out[n].weight = 1;
				out[n].conns = 0;
				vs->n_term--;
				d->n_terminating--;
			}
		} else if (rc == 0 && d->first && have->weight != 1) {
			df_op_rs(&op, PA_OP_RS_WEIGHT, vs, &have->addr,
			    have->port, 1);
			rc = df_emit(d, sink, &op, count);
			if (rc == 0)
				out[n].weight = 1;
		}
		n++;
		i++;
		j++;
	}
	for (k = 0; k < n_gone; k++) {
		struct df_rs *have = &vs->rs[gone[k]];

		r = rc == 0 ? df_rs_unwanted(d, sink, vs, have, count) : 1;
		if (r == -1)
			rc = -1;
		if (r != 0) {
			/* Kept: terminating, or not yet decided. */
			size_t at = n++;

			while (at > 0 && df_rs_cmp(&out[at - 1].addr,
			    out[at - 1].port, &have->addr, have->port) > 0) {
				out[at] = out[at - 1];
				at--;
			}
			out[at] = *have;
		}
	}
	free(gone);
	free(vs->rs);
	/* Shrink to fit: most servers never change again. */
	if (n < cap && n > 0) {
		struct df_rs *fit = realloc(out, n * sizeof(*out));

		if (fit != NULL) {
			out = fit;
			cap = n;
		}
	}
	vs->rs = out;
	vs->n_rs = n;
	vs->cap_rs = cap;
	if (vs->n_term > 0 && !was_term) {
		if (df_grow((void **)&d->term, &d->cap_term, d->n_term,
		    sizeof(*d->term)) == -1)
			return -1;
		d->term[d->n_term++] = vs;
	} else if (vs->n_term == 0 && was_term)
		df_term_forget(d, vs);
	if (rc == -1) {
		vs->touched = 0;
		(void)df_touch(d, DF_T_VS, vs);
	}
	return rc;
}

static int
df_emit_vs(struct plan_diff *d, const struct plan_diff_sink *sink,
    struct df_vs *vs, long *count)
{
	const struct df_vsc *w = df_winner(vs);
	struct pa_op op;

	df_conflicts(d, vs, w);
	if (w == NULL) {
		if (!vs->applied) {
			df_vs_free(d, vs);
			return 0;
		}
		/* Not ours to delete when inside excludeCIDRs. */
		if (df_excluded(d, vs))
			return 0;
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_VS_DEL;
		df_vskey_to_pa(&vs->key, &op.u.vs_key);
		if (df_emit(d, sink, &op, count) == -1)
			return -1;
		df_vs_free(d, vs);
		return 0;
	}
	if (!vs->applied || strcmp(vs->sched, w->sched) != 0 ||
	    vs->flags != w->flags || vs->timeout != w->timeout) {
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_VS_ENSURE;
		df_vskey_to_pa(&vs->key, &op.u.vs.key);
		memcpy(op.u.vs.sched, w->sched, sizeof(op.u.vs.sched) - 1);
		op.u.vs.flags = ((w->flags & PLAN_VS_F_PERSISTENT) ?
		    PA_VS_PERSISTENT : 0) | ((w->flags & PLAN_VS_F_SCHED2) ?
		    PA_VS_SCHED_PORT : 0);
		op.u.vs.timeout = w->timeout;
		op.u.vs.netmask = vs->key.family == REC_FAMILY_IPV4 ? 32 :
		    128;
		if (df_emit(d, sink, &op, count) == -1)
			return -1;
		vs->applied = 1;
		memcpy(vs->sched, w->sched, sizeof(vs->sched));
		vs->flags = w->flags;
		vs->timeout = w->timeout;
	}
	return df_emit_rs(d, sink, vs, w, count);
}

static void
df_op_entry(struct pa_op *op, uint8_t kind, const struct df_refkey *k)
{
	struct pa_set_entry *e = &op->u.entry;
	uint8_t type = plan_sets[k->set].type;

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	e->set = (uint8_t)(k->set + 1);
	e->family = k->family;
	if (type != PLAN_SETTYPE_BITMAP_PORT) {
		e->addr.family = k->family;
		memcpy(e->addr.addr, k->ip, 16);
	}
	e->protocol = k->proto;
	e->port = k->port;
	if (type == PLAN_SETTYPE_HASH_IP_PORT_IP ||
	    type == PLAN_SETTYPE_HASH_IP_PORT_NET) {
		e->net.addr.family = k->family;
		memcpy(e->net.addr.addr, k->ip2, 16);
		e->net.plen = type == PLAN_SETTYPE_HASH_IP_PORT_NET ? k->plen :
		    (k->family == REC_FAMILY_IPV4 ? 32 : 128);
	}
}

static int
df_emit_ref(struct plan_diff *d, const struct plan_diff_sink *sink,
    struct df_ref *r, long *count)
{
	struct pa_op op;
	int add = r->refs > 0 && !r->applied;
	int del = r->refs == 0 && r->applied;

	if (add || del) {
		memset(&op, 0, sizeof(op));
		switch (r->key.kind) {
		case DF_SET:
			df_op_entry(&op, add ? PA_OP_SET_ADD : PA_OP_SET_DEL,
			    &r->key);
			break;
		case DF_ADDR:
			op.kind = add ? PA_OP_ADDR_ADD : PA_OP_ADDR_DEL;
			op.u.addr.family = r->key.family;
			memcpy(op.u.addr.addr, r->key.ip, 16);
			break;
		case DF_DROP:
			/* Removal is done by replacing the chain (below). */
			if (del)
				break;
			op.kind = PA_OP_CHAIN_DROP_VIP;
			op.u.drop_vip.family = r->key.family;
			op.u.drop_vip.vip.addr.family = r->key.family;
			memcpy(op.u.drop_vip.vip.addr.addr, r->key.ip, 16);
			op.u.drop_vip.vip.protocol = r->key.proto;
			op.u.drop_vip.vip.port = r->key.port;
			break;
		}
		if (op.kind != 0 && df_emit(d, sink, &op, count) == -1)
			return -1;
		r->applied = add;
	}
	if (r->refs == 0 && !r->applied)
		df_ref_free(d, r);
	return 0;
}

static uint32_t
df_mask(const struct plan_diff *d, int fi)
{
	uint32_t mask = 0;
	size_t s;

	for (s = 0; s < PLAN_SET_COUNT; s++)
		if (d->set_members[fi][s] > 0)
			mask |= 1u << (s + 1);
	return mask;
}

/* Replaces the chains of one family named in `which` (DF_CHAIN_BIT). */
static int
df_emit_chains(struct plan_diff *d, const struct plan_diff_sink *sink,
    int fi, uint32_t which, long *count)
{
	uint8_t family = fi ? REC_FAMILY_IPV6 : REC_FAMILY_IPV4;
	const struct plan_config *c = d->cfg;
	struct pa_op op;
	size_t i;
	int ch;

	for (ch = 1; ch <= PA_CHAIN_ID_MAX; ch++) {
		if (!(which & DF_CHAIN_BIT(ch)))
			continue;
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_CHAIN_REPLACE;
		op.u.chain.family = family;
		op.u.chain.chain = (uint8_t)ch;
		op.u.chain.flags = (c->masquerade_all ? PA_CHF_MASQUERADE_ALL :
		    0) | (c->random_fully ? PA_CHF_RANDOM_FULLY : 0);
		op.u.chain.masq_bit = (uint8_t)c->masquerade_bit;
		op.u.chain.sets_nonempty = df_mask(d, fi);
		for (i = 0; i < c->n_cluster_cidrs; i++)
			if (c->cluster_cidrs[i].addr.family == family) {
				op.u.chain.local_mode = PA_LOCAL_CIDR;
				op.u.chain.local_cidr = c->cluster_cidrs[i];
			}
		if (c->local_mode == PA_LOCAL_BRIDGE ||
		    c->local_mode == PA_LOCAL_IFPREFIX) {
			op.u.chain.local_mode = c->local_mode;
			memcpy(op.u.chain.local_iface, c->local_iface,
			    sizeof(op.u.chain.local_iface));
			op.u.chain.local_iface[PA_IFNAME_MAX] = '\0';
		}
		if (df_emit(d, sink, &op, count) == -1)
			return -1;
	}
	d->chain_mask[fi] = df_mask(d, fi);
	if (!(which & DF_CHAIN_BIT(PA_CHAIN_FILTER_IPVS_OUT_FILTER)))
		return 0;
	/* The OUT-FILTER chain starts empty again: re-add every drop. */
	for (i = 0; i < d->n_drops; i++)
		if (d->drops[i]->key.family == family) {
			d->drops[i]->applied = 0;
			if (df_touch(d, DF_T_REF, d->drops[i]) == -1)
				return -1;
		}
	return 0;
}

/* Ops every first sync starts with: the device, the sets. */
static int
df_emit_start(struct plan_diff *d, const struct plan_diff_sink *sink,
    int which, long *count)
{
	struct pa_op op;
	int fi, s;

	memset(&op, 0, sizeof(op));
	op.kind = PA_OP_LINK_ENSURE;
	if ((which & DF_START_LINK) && df_emit(d, sink, &op, count) == -1)
		return -1;
	for (fi = 0; fi < 2 && (which & DF_START_SETS); fi++) {
		if ((fi == 0 && !d->cfg->ipv4) || (fi == 1 && !d->cfg->ipv6))
			continue;
		for (s = 1; s <= PA_SET_ID_MAX; s++) {
			memset(&op, 0, sizeof(op));
			op.kind = PA_OP_SET_ENSURE;
			op.u.set.set = (uint8_t)s;
			op.u.set.family = fi ? REC_FAMILY_IPV6 :
			    REC_FAMILY_IPV4;
			if (df_emit(d, sink, &op, count) == -1)
				return -1;
		}
	}
	return 0;
}

/* --- sync ---------------------------------------------------------------- */

struct df_walk {
	struct plan_diff *d;
	const struct plan_model *m;
	int		 rc;
	int		 skip_first;	/* default/kubernetes done */
	size_t		 n;		/* Services walked */
};

static void
df_walk_dirty(const char *ns, const char *name, const struct plan_svc *svc,
    void *arg)
{
	struct df_walk *w = arg;

	if (w->rc == 0 && df_recompute(w->d, w->m, ns, name, svc) == -1)
		w->rc = -1;
}

static void
df_walk_all(const struct plan_svc *svc, void *arg)
{
	struct df_walk *w = arg;

	if (w->skip_first && strcmp(svc->ns, "default") == 0 &&
	    strcmp(svc->name, "kubernetes") == 0)
		return;
	if (w->rc == 0 && df_recompute(w->d, w->m, svc->ns, svc->name,
	    svc) == -1)
		w->rc = -1;
	if (++w->n % 1024 == 0)
		progress();
}

/* Groups whose Service no longer exists (only needed on a full pass). */
static int
df_drop_gone(struct plan_diff *d, const struct plan_model *m)
{
	struct dh_node *n, *next;
	size_t i;

	for (i = 0; i < d->groups.nb; i++)
		for (n = d->groups.b[i]; n != NULL; n = next) {
			struct df_group *g = (struct df_group *)(void *)n;

			next = n->next;
			if (plan_model_svc_get(m, g->key.ns, g->key.name) !=
			    NULL)
				continue;
			if (df_withdraw(d, g, 0) == -1)
				return -1;
			dh_del(&d->groups, &g->node);
			free(g);
		}
	return 0;
}

/* Cold start: what default/kubernetes contributes goes out first. */
static int
df_emit_group(struct plan_diff *d, const struct plan_diff_sink *sink,
    const struct plan_svc *svc, long *count)
{
	struct df_gkey gk;
	struct df_group *g;
	size_t i;

	memset(&gk, 0, sizeof(gk));
	gk.ns = svc->ns;
	gk.name = svc->name;
	if ((g = dh_get(&d->groups, &gk)) == NULL)
		return 0;
	/*
	 * These stay on the touched list; visiting them again there finds
	 * nothing left to do (they are referenced, so never freed here).
	 * Addresses first: the applier accepts a virtual server only on an
	 * address already bound (or bound earlier in the batch).
	 */
	for (i = 0; i < g->n_refs; i++)
		if (g->refs[i]->key.kind == DF_ADDR &&
		    df_emit_ref(d, sink, g->refs[i], count) == -1)
			return -1;
	for (i = 0; i < g->n_vscs; i++)
		if (df_emit_vs(d, sink, g->vscs[i].vs, count) == -1)
			return -1;
	for (i = 0; i < g->n_refs; i++)
		if (df_emit_ref(d, sink, g->refs[i], count) == -1)
			return -1;
	return 0;
}

long
plan_diff_sync(struct plan_diff *d, struct plan_model *m,
    const struct plan_diff_sink *sink)
{
	return plan_diff_sync_split(d, m, sink, sink);
}

long
plan_diff_sync_split(struct plan_diff *d, struct plan_model *m,
    const struct plan_diff_sink *first, const struct plan_diff_sink *rest)
{
	struct df_walk w = { d, m, 0, 0, 0 };
	const struct plan_diff_sink *sink = d->first ? first : rest;
	const struct plan_svc *k8s = NULL;
	long count = 0;
	size_t i;
	uint32_t which;
	int fi, replace[2] = { 0, 0 };

	d->stop = 0;
	if (d->first || plan_model_all_dirty(m)) {
		if (df_drop_gone(d, m) == -1)
			return -1;
		/* Cold start: the apiserver's own Service goes first. */
		k8s = plan_model_svc_get(m, "default", "kubernetes");
		if (k8s != NULL) {
			if (df_recompute(d, m, k8s->ns, k8s->name, k8s) == -1)
				return -1;
			w.skip_first = 1;
		}
		plan_model_foreach_svc(m, df_walk_all, &w);
	} else
		plan_model_dirty_foreach(m, df_walk_dirty, &w);
	if (w.rc == -1)
		return -1;
	plan_model_dirty_clear(m);

	if ((d->first || d->start_stale) && df_emit_start(d, sink,
	    d->first ? DF_START_ALL : d->start_stale, &count) == -1)
		return -1;
	d->start_stale = 0;
	/*
	 * A removed drop means rebuilding KUBE-IPVS-OUT-FILTER; so does an
	 * added one (the applier takes a drop only after a replace of that
	 * chain in the same batch).
	 */
	for (i = 0; i < d->n_touched; i++) {
		struct df_ref *r = d->touched[i].p;

		if (d->touched[i].type != DF_T_REF || r->key.kind != DF_DROP)
			continue;
		if (r->refs == 0 && r->applied)
			replace[df_fi(r->key.family)] = 1;
		else if (r->refs > 0 && !r->applied)
			d->chains_stale[df_fi(r->key.family)] |=
			    DF_CHAIN_BIT(PA_CHAIN_FILTER_IPVS_OUT_FILTER);
	}
	for (fi = 0; fi < 2; fi++) {
		if ((fi == 0 && !d->cfg->ipv4) || (fi == 1 && !d->cfg->ipv6))
			continue;
		which = d->chains_stale[fi];
		if (d->first || replace[fi] ||
		    df_mask(d, fi) != d->chain_mask[fi])
			which = DF_CHAINS_ALL;
		if (which != 0 &&
		    df_emit_chains(d, sink, fi, which, &count) == -1)
			return -1;
	}
	d->chains_stale[0] = d->chains_stale[1] = 0;
	if (d->first && k8s != NULL &&
	    df_emit_group(d, sink, k8s, &count) == -1)
		return -1;
	sink = rest;
	/*
	 * Address bindings before the virtual servers on them (the applier's
	 * ownership rule); the main pass then finds them done.
	 */
	for (i = 0; i < d->n_touched; i++) {
		struct df_ref *r = d->touched[i].p;

		if (d->touched[i].type == DF_T_REF && r->key.kind == DF_ADDR &&
		    r->refs > 0 && !r->applied &&
		    df_emit_ref(d, sink, r, &count) == -1)
			return -1;
	}
	for (i = 0; i < d->n_touched; i++) {
		struct df_touch t = d->touched[i];
		int rc;

		if (i % 1024 == 1023)
			progress();
		if (t.type == DF_T_VS) {
			((struct df_vs *)t.p)->touched = 0;
			rc = df_emit_vs(d, sink, t.p, &count);
		} else {
			((struct df_ref *)t.p)->touched = 0;
			rc = df_emit_ref(d, sink, t.p, &count);
		}
		if (rc == -1) {
			/*
			 * Keep this object and the rest for the next sync:
			 * touching again appends it behind the others.
			 */
			if (t.type == DF_T_VS)
				((struct df_vs *)t.p)->touched = 0;
			else
				((struct df_ref *)t.p)->touched = 0;
			(void)df_touch(d, t.type, t.p);
			memmove(d->touched, d->touched + i + 1,
			    (d->n_touched - i - 1) * sizeof(*d->touched));
			d->n_touched -= i + 1;
			return -1;
		}
	}
	d->n_touched = 0;
	/* A full pass touches everything; give that memory back. */
	if (d->cap_touched > 4096) {
		free(d->touched);
		d->touched = NULL;
		d->cap_touched = 0;
	}
	d->first = 0;
	return count;
}

long
plan_diff_reap(struct plan_diff *d, const struct plan_diff_sink *sink)
{
	struct pa_op op;
	long count = 0;
	size_t i, k;

	d->stop = 0;
	for (i = 0; i < d->n_term;) {
		struct df_vs *vs = d->term[i];

		for (k = 0; k < vs->n_rs;) {
			struct df_rs *rs = &vs->rs[k];

			/* Unknown counts as busy: only a dump says idle. */
			if (!rs->terminating || rs->conns != 0) {
				k++;
				continue;
			}
			df_op_rs(&op, PA_OP_RS_DEL, vs, &rs->addr, rs->port, 0);
			if (df_emit(d, sink, &op, &count) == -1)
				return -1;
			memmove(rs, rs + 1, (vs->n_rs - k - 1) * sizeof(*rs));
			vs->n_rs--;
			vs->n_term--;
			d->n_terminating--;
		}
		if (vs->n_term == 0)
			d->term[i] = d->term[--d->n_term];
		else
			i++;
	}
	return count;
}

size_t
plan_diff_nuncounted(const struct plan_diff *d)
{
	size_t i, k, n = 0;

	for (i = 0; i < d->n_term; i++)
		for (k = 0; k < d->term[i]->n_rs; k++)
			if (d->term[i]->rs[k].terminating &&
			    d->term[i]->rs[k].conns == DF_CONNS_UNKNOWN)
				n++;
	return n;
}

/* --- failures ------------------------------------------------------------ */

static void
df_fail_ref(struct plan_diff *d, const struct df_refkey *k, int was_add)
{
	struct df_ref *r = df_ref_get(d, k, 1);

	if (r == NULL)
		return;
	/* A failed add is not there; a failed delete still is. */
	r->applied = !was_add;
	(void)df_touch(d, DF_T_REF, r);
}

void
plan_diff_op_failed(struct plan_diff *d, const struct pa_op *op)
{
	struct plan_set_entry e;
	struct df_refkey k;
	struct df_vskey vk;
	struct df_vs *vs;
	struct df_rs *rs;
	const struct pa_vs_key *pk = NULL;

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		pk = &op->u.vs.key;
		break;
	case PA_OP_VS_DEL:
		pk = &op->u.vs_key;
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		pk = &op->u.rs.vs;
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		memset(&k, 0, sizeof(k));
		k.kind = DF_ADDR;
		k.family = op->u.addr.family;
		memcpy(k.ip, op->u.addr.addr, 16);
		df_fail_ref(d, &k, op->kind == PA_OP_ADDR_ADD);
		return;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		if (op->u.entry.set < 1 || op->u.entry.set > PLAN_SET_COUNT)
			return;
		memset(&e, 0, sizeof(e));
		e.ip = op->u.entry.addr;
		e.proto = op->u.entry.protocol;
		e.port = op->u.entry.port;
		e.ip2 = op->u.entry.net.addr;
		e.plen = op->u.entry.net.plen;
		df_entry_key(&k, op->u.entry.family,
		    (enum plan_set)(op->u.entry.set - 1), &e);
		df_fail_ref(d, &k, op->kind == PA_OP_SET_ADD);
		return;
	case PA_OP_LINK_ENSURE:
		d->start_stale |= DF_START_LINK;
		return;
	case PA_OP_SET_ENSURE:
		/* The chains' rules name the sets: written again after. */
		d->start_stale |= DF_START_SETS;
		d->chains_stale[df_fi(op->u.set.family)] =
		    DF_CHAINS_ALL;
		return;
	case PA_OP_CHAIN_REPLACE:
		if (op->u.chain.chain >= 1 &&
		    op->u.chain.chain <= PA_CHAIN_ID_MAX)
			d->chains_stale[df_fi(op->u.chain.family)] |=
			    DF_CHAIN_BIT(op->u.chain.chain);
		return;
	case PA_OP_CHAIN_DROP_VIP:
		d->chains_stale[df_fi(op->u.drop_vip.family)] |=
		    DF_CHAIN_BIT(PA_CHAIN_FILTER_IPVS_OUT_FILTER);
		return;
	default:
		return;
	}
	df_vskey_make(&vk, &pk->addr, pk->protocol, pk->port);
	vs = df_vs_get(d, &vk, 1);
	if (vs == NULL)
		return;
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		vs->applied = 0;
		vs->sched[0] = '\0';
		break;
	case PA_OP_VS_DEL:
		vs->applied = 1;
		break;
	case PA_OP_RS_ENSURE:
		rs = df_rs_find(vs, &op->u.rs.addr, op->u.rs.port);
		if (rs != NULL) {
			if (rs->terminating) {
				vs->n_term--;
				d->n_terminating--;
			}
			memmove(rs, rs + 1, (size_t)(vs->rs + vs->n_rs -
			    (rs + 1)) * sizeof(*rs));
			vs->n_rs--;
			if (vs->n_term == 0)
				df_term_forget(d, vs);
		}
		break;
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		/*
		 * Still there with an unknown weight: the next sync deletes
		 * it again or, if wanted, leaves it; a weight-0 attempt is
		 * retried because it is no longer marked terminating.
		 */
		rs = df_rs_find(vs, &op->u.rs.addr, op->u.rs.port);
		if (rs != NULL)
			rs->weight = -1;	/* unknown */
		if (rs != NULL && rs->terminating) {
			rs->terminating = 0;
			vs->n_term--;
			d->n_terminating--;
			if (vs->n_term == 0)
				df_term_forget(d, vs);
		} else if (rs == NULL && op->kind == PA_OP_RS_DEL &&
		    df_grow((void **)&vs->rs, &vs->cap_rs, vs->n_rs,
		    sizeof(*vs->rs)) == 0) {
			size_t i = vs->n_rs;

			while (i > 0 && df_rs_cmp(&vs->rs[i - 1].addr,
			    vs->rs[i - 1].port, &op->u.rs.addr,
			    op->u.rs.port) > 0) {
				vs->rs[i] = vs->rs[i - 1];
				i--;
			}
			memset(&vs->rs[i], 0, sizeof(vs->rs[i]));
			vs->rs[i].addr = op->u.rs.addr;
			vs->rs[i].port = op->u.rs.port;
			vs->rs[i].weight = 1;
			vs->n_rs++;
		}
		break;
	}
	(void)df_touch(d, DF_T_VS, vs);
}

/* --- for the daemon ------------------------------------------------------ */

void
plan_diff_config_changed(struct plan_diff *d)
{
	int f;

	/* The node IPs are computed once per desired state: again. */
	for (f = 0; f < 2; f++) {
		d->scratch[f].nodeips_done = 0;
		d->scratch[f].n_nodeips = 0;
	}
	d->chains_stale[0] = d->chains_stale[1] = DF_CHAINS_ALL;
}

void
plan_diff_chains_stale(struct plan_diff *d)
{
	d->chains_stale[0] = d->chains_stale[1] = DF_CHAINS_ALL;
}

void
plan_diff_chain_stale(struct plan_diff *d, uint8_t family, uint8_t chain)
{
	if (chain >= 1 && chain <= PA_CHAIN_ID_MAX)
		d->chains_stale[df_fi(family)] |= DF_CHAIN_BIT(chain);
}

int
plan_diff_pending(const struct plan_diff *d)
{
	return d->n_touched > 0 || d->chains_stale[0] != 0 ||
	    d->chains_stale[1] != 0 || d->start_stale;
}

size_t
plan_diff_nowned(const struct plan_diff *d)
{
	return d->vs.n + d->refs.n;
}

int
plan_diff_vs_owner(const struct plan_diff *d, const struct pa_vs_key *pk,
    const char **ns, const char **name)
{
	const struct df_vsc *w;
	struct df_vskey k;
	struct df_vs *vs;

	df_vskey_make(&k, &pk->addr, pk->protocol, pk->port);
	if ((vs = dh_get(&d->vs, &k)) == NULL ||
	    (w = df_winner(vs)) == NULL)
		return -1;
	*ns = w->ns;
	*name = w->name;
	return 0;
}
