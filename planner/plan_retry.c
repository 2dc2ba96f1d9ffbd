/*
 * Per-object retry back-off (see plan_retry.h): a small chained hash of
 * fixed-size object keys.  Entries untouched for a long time (the object
 * was no longer sent) are dropped on lookup, so the table holds only
 * objects that fail now.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_retry.h"

/* Packed by construction; always memset before filling. */
struct rt_key {
	uint8_t		 cls;		/* enum rt_class */
	uint8_t		 family;
	uint8_t		 proto;
	uint8_t		 set;
	uint16_t	 port;
	uint8_t		 plen;
	uint8_t		 pad;
	uint8_t		 a[16];
	uint8_t		 b[16];
};

enum rt_class {
	RT_VS = 1,
	RT_ADDR,
	RT_MEMBER,
	RT_SET,
	RT_CHAINS,
	RT_LINK,
	RT_TIMEOUTS,
	RT_OTHER,
};

struct rt_ent {
	struct rt_ent	*next;
	struct rt_key	 key;
	unsigned	 failures;
	uint64_t	 last;		/* time of the last failure */
	uint64_t	 due;
	uint32_t	 seen;		/* sweep generation last asked in */
};

#define RT_BUCKETS	256

struct plan_retry {
	struct rt_ent	*b[RT_BUCKETS];
	size_t		 n;
	unsigned	 min_ms;
	unsigned	 max_ms;
	uint32_t	 gen;		/* current sweep generation */
};

struct plan_retry *
plan_retry_new(unsigned min_ms, unsigned max_ms)
{
	struct plan_retry *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->min_ms = min_ms > 0 ? min_ms : 1;
	r->max_ms = max_ms >= r->min_ms ? max_ms : r->min_ms;
	return r;
}

void
plan_retry_free(struct plan_retry *r)
{
	struct rt_ent *e, *next;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < RT_BUCKETS; i++)
		for (e = r->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(r);
}

static void
rt_vs(struct rt_key *k, const struct pa_vs_key *v)
{
	k->cls = RT_VS;
	k->family = v->addr.family;
	k->proto = v->protocol;
	k->port = v->port;
	memcpy(k->a, v->addr.addr, 16);
}

static void
rt_key_of(const struct pa_op *op, struct rt_key *k)
{
	memset(k, 0, sizeof(*k));
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		rt_vs(k, &op->u.vs.key);
		break;
	case PA_OP_VS_DEL:
		rt_vs(k, &op->u.vs_key);
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		rt_vs(k, &op->u.rs.vs);
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		k->cls = RT_ADDR;
		k->family = op->u.addr.family;
		memcpy(k->a, op->u.addr.addr, 16);
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		k->cls = RT_MEMBER;
		k->family = op->u.entry.family;
		k->set = op->u.entry.set;
		k->proto = op->u.entry.protocol;
		k->port = op->u.entry.port;
		k->plen = op->u.entry.net.plen;
		memcpy(k->a, op->u.entry.addr.addr, 16);
		memcpy(k->b, op->u.entry.net.addr.addr, 16);
		break;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		k->cls = RT_SET;
		k->family = op->u.set.family;
		k->set = op->u.set.set;
		break;
	case PA_OP_CHAIN_REPLACE:
		k->cls = RT_CHAINS;
		k->family = op->u.chain.family;
		break;
	case PA_OP_CHAIN_DROP_VIP:
		k->cls = RT_CHAINS;
		k->family = op->u.drop_vip.family;
		break;
	case PA_OP_LINK_ENSURE:
		k->cls = RT_LINK;
		break;
	case PA_OP_IPVS_TIMEOUTS:
		k->cls = RT_TIMEOUTS;
		break;
	default:
		k->cls = RT_OTHER;
		k->proto = op->kind;
		break;
	}
}

static uint32_t
rt_hash(const struct rt_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ^ (h >> 16);
}

/* The entry of op's object; expired ones are dropped and not returned. */
static struct rt_ent *
rt_find(struct plan_retry *r, const struct rt_key *k, uint64_t now,
    struct rt_ent ***slot)
{
	struct rt_ent **pp, *e;

	pp = &r->b[rt_hash(k) % RT_BUCKETS];
	for (; (e = *pp) != NULL; pp = &e->next) {
		if (memcmp(&e->key, k, sizeof(*k)) != 0)
			continue;
		/* Not sent for a long while: forgotten. */
		if (now != 0 && now > e->last + 4ull * r->max_ms &&
		    now > e->due) {
			*pp = e->next;
			free(e);
			r->n--;
			break;
		}
		if (slot != NULL)
			*slot = pp;
		return e;
	}
	if (slot != NULL)
		*slot = &r->b[rt_hash(k) % RT_BUCKETS];
	return NULL;
}

int
plan_retry_may(struct plan_retry *r, const struct pa_op *op, uint64_t now,
    uint64_t *due)
{
	struct rt_key k;
	struct rt_ent *e;

	if (r->n == 0)
		return 1;
	rt_key_of(op, &k);
	if ((e = rt_find(r, &k, now, NULL)) == NULL)
		return 1;
	e->seen = r->gen;
	if (now >= e->due)
		return 1;
	*due = e->due;
	return 0;
}

int
plan_retry_held(struct plan_retry *r, const struct pa_op *op, uint64_t now,
    uint64_t *due)
{
	struct rt_key k;
	struct rt_ent *e;

	if (r->n == 0)
		return 0;
	rt_key_of(op, &k);
	if ((e = rt_find(r, &k, now, NULL)) == NULL || e->seen != r->gen ||
	    now >= e->due)
		return 0;
	*due = e->due;
	return 1;
}

unsigned
plan_retry_failed(struct plan_retry *r, const struct pa_op *op,
    uint64_t now)
{
	struct rt_ent **slot, *e;
	struct rt_key k;
	uint64_t wait;
	unsigned i;

	rt_key_of(op, &k);
	if ((e = rt_find(r, &k, now, &slot)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return 0;
		e->key = k;
		e->seen = r->gen;
		e->next = *slot;
		*slot = e;
		r->n++;
	}
	/* Several ops of one object failing in one batch count once. */
	if (e->failures > 0 && e->last == now)
		return (unsigned)(e->due - now);
	e->failures++;
	wait = r->min_ms;
	for (i = 1; i < e->failures && wait < r->max_ms; i++)
		wait *= 2;
	if (wait > r->max_ms)
		wait = r->max_ms;
	e->last = now;
	e->due = now + wait;
	return (unsigned)wait;
}

unsigned
plan_retry_failures(struct plan_retry *r, const struct pa_op *op)
{
	struct rt_key k;
	struct rt_ent *e;

	rt_key_of(op, &k);
	e = rt_find(r, &k, 0, NULL);
	return e != NULL ? e->failures : 0;
}

void
plan_retry_ok(struct plan_retry *r, const struct pa_op *op, uint64_t now)
{
	struct rt_ent **slot, *e;
	struct rt_key k;

	if (r->n == 0)
		return;
	rt_key_of(op, &k);
	if ((e = rt_find(r, &k, 0, &slot)) == NULL)
		return;
	/* Another op of the object failed in the same batch. */
	if (e->last == now)
		return;
	*slot = e->next;
	free(e);
	r->n--;
}

size_t
plan_retry_count(const struct plan_retry *r)
{
	return r->n;
}

void
plan_retry_sweep_begin(struct plan_retry *r)
{
	r->gen++;
}

size_t
plan_retry_sweep_end(struct plan_retry *r)
{
	struct rt_ent **pp, *e;
	size_t i, n = 0;

	for (i = 0; i < RT_BUCKETS && r->n > 0; i++)
		for (pp = &r->b[i]; (e = *pp) != NULL;) {
			if (e->seen == r->gen) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e);
			r->n--;
			n++;
		}
	return n;
}
