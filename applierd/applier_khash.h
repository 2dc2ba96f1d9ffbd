/*
 * applier_khash: a small open-addressing hash from fixed-size keys (the
 * bytes of a zero-padded struct) to an index, for the per-batch lookups of
 * the policy and the executor (which op ensured this virtual server, which
 * op bound this address) and of the ipset cache (applier_setcache).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_KHASH_H
#define KIPVS_APPLIER_KHASH_H

#include <stddef.h>
#include <stdint.h>

#define KHASH_KEY_MAX	48

struct khash {
	size_t		 keylen;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
	uint8_t		*keys;		/* cap * keylen */
	long		*vals;		/* cap; -1 marks an empty slot */
};

void	khash_init(struct khash *, size_t keylen);
void	khash_free(struct khash *);
/* Sets key's value (adding it).  0 or -1 (ENOMEM). */
int	khash_put(struct khash *, const void *key, long val);
/* The value of key, or -1. */
long	khash_get(const struct khash *, const void *key);
/* Removes key: 1 if it was there, 0 if not. */
int	khash_del(struct khash *, const void *key);

#endif /* KIPVS_APPLIER_KHASH_H */
