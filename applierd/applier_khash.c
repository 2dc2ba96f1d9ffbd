/*
 * applier_khash: fixed-size keys to indexes (FNV-1a, linear probing).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_khash.h"

void
khash_init(struct khash *h, size_t keylen)
{
	memset(h, 0, sizeof(*h));
	h->keylen = keylen;
}

void
khash_free(struct khash *h)
{
	free(h->keys);
	free(h->vals);
	h->keys = NULL;
	h->vals = NULL;
	h->cap = h->n = 0;
}

static uint64_t
khash_fn(const uint8_t *k, size_t len)
{
	uint64_t x = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= k[i];
		x *= 1099511628211ULL;
	}
	return x ^ (x >> 29);
}

static size_t
khash_slot(const struct khash *h, const void *key)
{
	size_t i = (size_t)khash_fn(key, h->keylen) & (h->cap - 1);

	while (h->vals[i] != -1 &&
	    memcmp(h->keys + i * h->keylen, key, h->keylen) != 0)
		i = (i + 1) & (h->cap - 1);
	return i;
}

static int
khash_grow(struct khash *h)
{
	struct khash g;
	size_t i;

	g = *h;
	g.cap = h->cap ? h->cap * 2 : 64;
	g.n = 0;
	if ((g.keys = calloc(g.cap, h->keylen)) == NULL ||
	    (g.vals = malloc(g.cap * sizeof(long))) == NULL) {
		free(g.keys);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < g.cap; i++)
		g.vals[i] = -1;
	for (i = 0; i < h->cap; i++)
		if (h->vals[i] != -1) {
			size_t s = khash_slot(&g, h->keys + i * h->keylen);

			memcpy(g.keys + s * h->keylen, h->keys + i * h->keylen,
			    h->keylen);
			g.vals[s] = h->vals[i];
			g.n++;
		}
	khash_free(h);
	*h = g;
	return 0;
}

int
khash_put(struct khash *h, const void *key, long val)
{
	size_t s;

	if ((h->n + 1) * 2 > h->cap && khash_grow(h) == -1)
		return -1;
	s = khash_slot(h, key);
	if (h->vals[s] == -1) {
		memcpy(h->keys + s * h->keylen, key, h->keylen);
		h->n++;
	}
	h->vals[s] = val;
	return 0;
}

long
khash_get(const struct khash *h, const void *key)
{
	if (h->cap == 0)
		return -1;
	return h->vals[khash_slot(h, key)];
}

/*
 * Backward-shift deletion: the entries after the hole move up when their
 * home slot does not lie between the hole and them, so every key stays
 * reachable from its home slot without tombstones.
 */
int
khash_del(struct khash *h, const void *key)
{
	size_t i, j, home, mask = h->cap - 1;

	if (h->cap == 0 || h->vals[i = khash_slot(h, key)] == -1)
		return 0;
	for (j = (i + 1) & mask; h->vals[j] != -1; j = (j + 1) & mask) {
		home = (size_t)khash_fn(h->keys + j * h->keylen, h->keylen) &
		    mask;
		/* Stays if home is cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(h->keys + i * h->keylen, h->keys + j * h->keylen,
		    h->keylen);
		h->vals[i] = h->vals[j];
		i = j;
	}
	h->vals[i] = -1;
	h->n--;
	return 1;
}
