/*
 * applier_setcache: the applier's view of its ipsets (applier_setcache.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "applierd/applier_setcache.h"

void
setcache_init(struct setcache *c)
{
	size_t f, i;

	memset(c, 0, sizeof(*c));
	for (f = 0; f < 2; f++)
		for (i = 0; i <= PA_SET_ID_MAX; i++)
			khash_init(&c->s[f][i].members,
			    sizeof(struct ipset_member));
}

void
setcache_free(struct setcache *c)
{
	size_t f, i;

	for (f = 0; f < 2; f++)
		for (i = 0; i <= PA_SET_ID_MAX; i++)
			setcache_forget(&c->s[f][i]);
}

struct setcache_set *
setcache_get(struct setcache *c, uint8_t family, uint8_t set)
{
	if ((family != 4 && family != 6) || set < 1 || set > PA_SET_ID_MAX)
		return NULL;
	return &c->s[family == 6][set];
}

/* No members, and this state. */
static void
setcache_reset(struct setcache_set *e, enum setcache_state state)
{
	if (e == NULL)
		return;
	khash_free(&e->members);
	e->state = state;
}

void
setcache_forget(struct setcache_set *e)
{
	setcache_reset(e, SETC_UNKNOWN);
}

void
setcache_absent(struct setcache_set *e)
{
	setcache_reset(e, SETC_ABSENT);
}

void
setcache_present(struct setcache_set *e, enum ipset_kind kind)
{
	setcache_reset(e, SETC_PRESENT);
	if (e != NULL)
		e->kind = kind;
}

/*
 * The member as a hash key: only the fields the set's kind stores, the
 * rest (and the padding) zero, so a member parsed from a listing and one
 * built from an op compare equal.
 */
static void
member_key(enum ipset_kind kind, const struct ipset_member *m,
    struct ipset_member *k)
{
	size_t alen = m->family == AF_INET6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	if (kind != IPSET_K_BITMAP_PORT) {
		k->family = m->family;
		memcpy(k->ip, m->ip, alen);
	}
	if (kind != IPSET_K_HASH_IP)
		k->port = m->port;
	if (kind != IPSET_K_HASH_IP && kind != IPSET_K_BITMAP_PORT)
		k->proto = m->proto;
	if (kind == IPSET_K_HASH_IP_PORT_IP || kind == IPSET_K_HASH_IP_PORT_NET)
		memcpy(k->ip2, m->ip2, alen);
	if (kind == IPSET_K_HASH_IP_PORT_NET)
		k->cidr2 = m->cidr2;
}

int
setcache_has(const struct setcache_set *e, const struct ipset_member *m)
{
	struct ipset_member k;

	if (e == NULL || e->state != SETC_PRESENT)
		return -1;
	member_key(e->kind, m, &k);
	return khash_get(&e->members, &k) != -1;
}

void
setcache_add(struct setcache_set *e, const struct ipset_member *m)
{
	struct ipset_member k;

	if (e == NULL || e->state != SETC_PRESENT)
		return;
	member_key(e->kind, m, &k);
	if (khash_put(&e->members, &k, 1) == -1)
		setcache_forget(e);
}

void
setcache_del(struct setcache_set *e, const struct ipset_member *m)
{
	struct ipset_member k;

	if (e == NULL || e->state != SETC_PRESENT)
		return;
	member_key(e->kind, m, &k);
	(void)khash_del(&e->members, &k);
}

size_t
setcache_count(const struct setcache_set *e)
{
	return e != NULL && e->state == SETC_PRESENT ? e->members.n : 0;
}

int
setcache_equals(const struct setcache_set *e, const struct ipset_member *m,
    size_t n)
{
	struct ipset_member k;
	struct khash seen;
	size_t i;
	int rv = 1;

	if (e == NULL || e->state != SETC_PRESENT || n < e->members.n)
		return 0;
	khash_init(&seen, sizeof(k));
	for (i = 0; i < n && rv == 1; i++) {
		member_key(e->kind, &m[i], &k);
		if (khash_get(&e->members, &k) == -1)
			rv = 0;
		else if (khash_put(&seen, &k, 1) == -1)
			rv = -1;
	}
	if (rv == 1 && seen.n != e->members.n)
		rv = 0;
	khash_free(&seen);
	return rv;
}
