/*
 * kipvs-watcherd's record cache: see watch_daemon_cache.h.
 *
 * A chained hash table of entries that each hold the key and the record
 * in an encoded form.  Services and Nodes use the watcher->planner
 * payload encoders (ipc/proto_wp); an EndpointSlice is kept whole in one
 * buffer with the same field forms (ipc/codec), because on the wire a
 * large slice is split over several messages.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/codec.h"
#include "watcherd/watch_daemon_cache.h"

#define WD_BUF_MAX	(1024 * 1024)	/* largest encoded slice: ~300 KiB */
#define WD_KINDS	4		/* indexed by enum wp_kind */

struct wd_ent {
	struct wd_ent	*next;
	uint64_t	 epoch;
	uint32_t	 hash;
	uint32_t	 len;		/* encoded record bytes */
	uint8_t		 kind;
	uint8_t		 nslen;
	uint8_t		 namelen;
	/* namespace NUL name NUL record */
	char		 data[];
};

struct wd_cache {
	struct wd_ent	**tab;
	size_t		 nbuckets;	/* power of two */
	size_t		 n;
	size_t		 count[WD_KINDS];
	size_t		 bytes;
	uint8_t		*buf;		/* encoding scratch, WD_BUF_MAX */
};

static uint32_t
wd_hash(uint8_t kind, const char *ns, const char *name)
{
	uint32_t h = 2166136261u ^ kind;
	const unsigned char *p;

	for (p = (const unsigned char *)ns; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

struct wd_cache *
wd_cache_new(void)
{
	struct wd_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->nbuckets = 1024;
	if ((c->tab = calloc(c->nbuckets, sizeof(*c->tab))) == NULL ||
	    (c->buf = malloc(WD_BUF_MAX)) == NULL) {
		free(c->tab);
		free(c);
		return NULL;
	}
	return c;
}

void
wd_cache_free(struct wd_cache *c)
{
	struct wd_ent *e, *next;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(c->tab);
	free(c->buf);
	free(c);
}

static struct wd_ent **
wd_find(struct wd_cache *c, uint8_t kind, const char *ns, const char *name,
    uint32_t h)
{
	struct wd_ent **pp;

	for (pp = &c->tab[h & (c->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->next) {
		const struct wd_ent *e = *pp;

		if (e->hash == h && e->kind == kind &&
		    strcmp(e->data, ns) == 0 &&
		    strcmp(e->data + e->nslen + 1, name) == 0)
			return pp;
	}
	return pp;
}

/* Doubles the table when it holds more entries than buckets. */
static void
wd_grow(struct wd_cache *c)
{
	struct wd_ent **tab, *e, *next;
	size_t i, nb = c->nbuckets * 2;

	if (c->n < c->nbuckets || (tab = calloc(nb, sizeof(*tab))) == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->tab[i]; e != NULL; e = next) {
			next = e->next;
			e->next = tab[e->hash & (nb - 1)];
			tab[e->hash & (nb - 1)] = e;
		}
	free(c->tab);
	c->bytes += (nb - c->nbuckets) * sizeof(*tab);
	c->tab = tab;
	c->nbuckets = nb;
}

static size_t
wd_ent_size(const struct wd_ent *e)
{
	return sizeof(*e) + e->nslen + e->namelen + 2 + e->len;
}

/* Stores len bytes of c->buf under the key; 1 changed, 0 same, -1. */
static int
wd_put(struct wd_cache *c, uint8_t kind, const char *ns, const char *name,
    size_t len, uint64_t epoch)
{
	struct wd_ent **pp, *e, *old;
	size_t nslen = strlen(ns), namelen = strlen(name);
	uint32_t h = wd_hash(kind, ns, name);

	if (nslen > REC_NAMESPACE_MAX || namelen > REC_NAME_MAX ||
	    kind >= WD_KINDS) {
		errno = EINVAL;
		return -1;
	}
	pp = wd_find(c, kind, ns, name, h);
	old = *pp;
	if (old != NULL && old->len == len &&
	    memcmp(old->data + nslen + namelen + 2, c->buf, len) == 0) {
		old->epoch = epoch;
		return 0;
	}
	if ((e = malloc(sizeof(*e) + nslen + namelen + 2 + len)) == NULL)
		return -1;
	e->epoch = epoch;
	e->hash = h;
	e->len = (uint32_t)len;
	e->kind = kind;
	e->nslen = (uint8_t)nslen;
	e->namelen = (uint8_t)namelen;
	memcpy(e->data, ns, nslen + 1);
	memcpy(e->data + nslen + 1, name, namelen + 1);
	memcpy(e->data + nslen + namelen + 2, c->buf, len);
	if (old != NULL) {
		e->next = old->next;
		c->bytes -= wd_ent_size(old);
		free(old);
	} else {
		e->next = NULL;
		c->n++;
		c->count[kind]++;
	}
	*pp = e;
	c->bytes += wd_ent_size(e);
	wd_grow(c);
	return 1;
}

int
wd_cache_put_service(struct wd_cache *c, const struct rec_service *s,
    uint64_t epoch)
{
	long len;

	if ((len = wp_encode_service(s, c->buf, WD_BUF_MAX)) < 0)
		return -1;
	return wd_put(c, WP_KIND_SERVICE, s->namespace, s->name, (size_t)len,
	    epoch);
}

int
wd_cache_put_node(struct wd_cache *c, const struct rec_node *n,
    uint64_t epoch)
{
	long len;

	if ((len = wp_encode_node(n, c->buf, WD_BUF_MAX)) < 0)
		return -1;
	return wd_put(c, WP_KIND_NODE, "", n->name, (size_t)len, epoch);
}

int
wd_cache_put_slice(struct wd_cache *c, const struct rec_slice *s,
    uint64_t epoch)
{
	struct ipc_wr w;
	unsigned i, j;

	ipc_wr_init(&w, c->buf, WD_BUF_MAX);
	ipc_wr_str(&w, s->service);
	ipc_wr_u8(&w, s->family);
	ipc_wr_u16(&w, s->n_ports);
	for (i = 0; i < s->n_ports; i++) {
		ipc_wr_str(&w, s->ports[i].name);
		ipc_wr_u8(&w, s->ports[i].protocol);
		ipc_wr_u16(&w, s->ports[i].port);
	}
	ipc_wr_u16(&w, s->n_endpoints);
	for (i = 0; i < s->n_endpoints; i++) {
		const struct rec_endpoint *e = &s->endpoints[i];

		ipc_wr_addr(&w, &e->addr);
		ipc_wr_u8(&w, e->conditions);
		ipc_wr_str(&w, e->node_name);
		ipc_wr_u8(&w, e->n_zone_hints);
		for (j = 0; j < e->n_zone_hints && j < REC_MAX_ZONE_HINTS; j++)
			ipc_wr_str(&w, e->zone_hints[j]);
		ipc_wr_u8(&w, e->n_node_hints);
		for (j = 0; j < e->n_node_hints && j < REC_MAX_NODE_HINTS; j++)
			ipc_wr_str(&w, e->node_hints[j]);
	}
	if (w.overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return wd_put(c, WP_KIND_SLICE, s->namespace, s->name, w.len, epoch);
}

/* The inverse of wd_cache_put_slice (our own bytes; checked anyway). */
static int
wd_slice_decode(const struct wd_ent *e, struct rec_slice *s)
{
	struct ipc_rd r;
	unsigned i, j;

	memset(s, 0, sizeof(*s));
	memcpy(s->namespace, e->data, e->nslen + 1);
	memcpy(s->name, e->data + e->nslen + 1, e->namelen + 1);
	ipc_rd_init(&r, e->data + e->nslen + e->namelen + 2, e->len);
	ipc_rd_str(&r, s->service, sizeof(s->service));
	ipc_rd_u8(&r, &s->family);
	ipc_rd_count16(&r, &s->n_ports, REC_MAX_SLICE_PORTS, 5);
	if (r.err == NULL && s->n_ports > 0 &&
	    (s->ports = calloc(s->n_ports, sizeof(*s->ports))) == NULL)
		goto fail;
	for (i = 0; r.err == NULL && i < s->n_ports; i++) {
		ipc_rd_str(&r, s->ports[i].name, sizeof(s->ports[i].name));
		ipc_rd_u8(&r, &s->ports[i].protocol);
		ipc_rd_u16(&r, &s->ports[i].port);
	}
	ipc_rd_count16(&r, &s->n_endpoints, REC_MAX_SLICE_ENDPOINTS, 10);
	if (r.err == NULL && s->n_endpoints > 0 && (s->endpoints =
	    calloc(s->n_endpoints, sizeof(*s->endpoints))) == NULL)
		goto fail;
	for (i = 0; r.err == NULL && i < s->n_endpoints; i++) {
		struct rec_endpoint *ep = &s->endpoints[i];

		ipc_rd_addr(&r, &ep->addr);
		ipc_rd_u8(&r, &ep->conditions);
		ipc_rd_str(&r, ep->node_name, sizeof(ep->node_name));
		ipc_rd_count8(&r, &ep->n_zone_hints, REC_MAX_ZONE_HINTS, 2);
		for (j = 0; r.err == NULL && j < ep->n_zone_hints; j++)
			ipc_rd_str(&r, ep->zone_hints[j],
			    sizeof(ep->zone_hints[j]));
		ipc_rd_count8(&r, &ep->n_node_hints, REC_MAX_NODE_HINTS, 2);
		for (j = 0; r.err == NULL && j < ep->n_node_hints; j++)
			ipc_rd_str(&r, ep->node_hints[j],
			    sizeof(ep->node_hints[j]));
	}
	if (ipc_rd_end(&r) == 0)
		return 0;
 fail:
	rec_slice_clear(s);
	errno = EINVAL;
	return -1;
}

void
wd_cache_touch(struct wd_cache *c, uint8_t kind, const char *ns,
    const char *name, uint64_t epoch)
{
	struct wd_ent *e;

	if (kind >= WD_KINDS)
		return;
	if ((e = *wd_find(c, kind, ns, name, wd_hash(kind, ns, name))) != NULL)
		e->epoch = epoch;
}

static void
wd_unlink(struct wd_cache *c, struct wd_ent **pp)
{
	struct wd_ent *e = *pp;

	*pp = e->next;
	c->n--;
	c->count[e->kind]--;
	c->bytes -= wd_ent_size(e);
	free(e);
}

int
wd_cache_del(struct wd_cache *c, uint8_t kind, const char *ns,
    const char *name)
{
	struct wd_ent **pp;

	if (kind >= WD_KINDS)
		return 0;
	pp = wd_find(c, kind, ns, name, wd_hash(kind, ns, name));
	if (*pp == NULL)
		return 0;
	wd_unlink(c, pp);
	return 1;
}

size_t
wd_cache_count(const struct wd_cache *c, uint8_t kind)
{
	return kind < WD_KINDS ? c->count[kind] : 0;
}

size_t
wd_cache_bytes(const struct wd_cache *c)
{
	return c->bytes + c->nbuckets * sizeof(*c->tab);
}

size_t
wd_cache_sweep(struct wd_cache *c, uint8_t kind, uint64_t epoch,
    wd_cache_gone_fn fn, void *arg)
{
	struct wd_ent **pp;
	size_t i, n = 0;

	for (i = 0; i < c->nbuckets; i++) {
		pp = &c->tab[i];
		while (*pp != NULL) {
			struct wd_ent *e = *pp;

			if (e->kind != kind || e->epoch == epoch) {
				pp = &e->next;
				continue;
			}
			if (fn != NULL)
				fn(arg, kind, e->data, e->data + e->nslen + 1);
			wd_unlink(c, pp);
			n++;
		}
	}
	return n;
}

static int
wd_decode(const struct wd_ent *e, struct wd_rec *r)
{
	const uint8_t *p = (const uint8_t *)e->data + e->nslen +
	    e->namelen + 2;
	const char *reason;

	memset(r, 0, sizeof(*r));
	r->kind = e->kind;
	switch (e->kind) {
	case WP_KIND_SERVICE:
		return wp_decode_service(p, e->len, &r->svc, &reason);
	case WP_KIND_SLICE:
		return wd_slice_decode(e, &r->slice);
	case WP_KIND_NODE:
		return wp_decode_node(p, e->len, &r->node, &reason);
	}
	errno = EINVAL;
	return -1;
}

int
wd_cache_foreach(struct wd_cache *c, uint8_t kind, wd_cache_each_fn fn,
    void *arg)
{
	struct wd_ent *e;
	struct wd_rec r;
	size_t i;
	int rv;

	for (i = 0; i < c->nbuckets; i++)
		for (e = c->tab[i]; e != NULL; e = e->next) {
			if (e->kind != kind)
				continue;
			if (wd_decode(e, &r) == -1)
				return -1;
			rv = fn(arg, &r);
			rec_service_clear(&r.svc);
			rec_slice_clear(&r.slice);
			if (rv == -1)
				return -1;
		}
	return 0;
}
