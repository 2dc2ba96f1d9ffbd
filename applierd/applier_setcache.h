/*
 * applier_setcache: what the applier knows of its own ipsets, so that an
 * ensure of an equal set, an add of a present member, a delete of an
 * absent one and a reload to the same contents send nothing to the
 * kernel.  Per set (family and PA_SET_* id) the cache is one of
 *
 *	UNKNOWN		nothing known: every op goes to the kernel
 *	ABSENT		the last listing found no such set
 *	PRESENT		the set exists with kube-proxy's type, family and
 *			size, and these are exactly its members
 *
 * It is filled by the dumps (applier_dump) and kept up to date by what the
 * executor itself writes; any failure makes that set UNKNOWN until the
 * next listing (before the next batch, or the drift-check dump, which
 * also catches changes made from outside).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_SETCACHE_H
#define KIPVS_APPLIER_SETCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "applierd/applier_ipset.h"
#include "applierd/applier_khash.h"
#include "ipc/proto_pa.h"

enum setcache_state {
	SETC_UNKNOWN = 0,
	SETC_ABSENT,
	SETC_PRESENT,
};

struct setcache_set {
	enum setcache_state	 state;
	enum ipset_kind		 kind;		/* of the members' keys */
	struct khash		 members;	/* canonical ipset_member */
};

struct setcache {
	struct setcache_set	 s[2][PA_SET_ID_MAX + 1];
};

void	setcache_init(struct setcache *);
void	setcache_free(struct setcache *);

/* The set's entry (family 4 or 6), or NULL for an id out of range. */
struct setcache_set *setcache_get(struct setcache *, uint8_t family,
	    uint8_t set);

/*
 * A NULL entry (an id out of range) is a set that is never known: the
 * functions below accept it and do nothing, has() says -1.
 */

/* Forget everything about one set (UNKNOWN). */
void	setcache_forget(struct setcache_set *);
/* The set does not exist (ABSENT, no members). */
void	setcache_absent(struct setcache_set *);
/* The set exists, of this kind, with no members (yet): PRESENT. */
void	setcache_present(struct setcache_set *, enum ipset_kind);

/*
 * Members of a PRESENT set.  has: 1 present, 0 absent, -1 not known (the
 * set is not PRESENT).  add and del make the set UNKNOWN when memory runs
 * out (the next listing refills it).
 */
int	setcache_has(const struct setcache_set *, const struct ipset_member *);
void	setcache_add(struct setcache_set *, const struct ipset_member *);
void	setcache_del(struct setcache_set *, const struct ipset_member *);
/* Members of a PRESENT set; 0 otherwise. */
size_t	setcache_count(const struct setcache_set *);

/*
 * 1 if the set is PRESENT and its members are exactly m[0..n) (duplicates
 * in m allowed), 0 if not or not known, -1 on ENOMEM.
 */
int	setcache_equals(const struct setcache_set *,
	    const struct ipset_member *m, size_t n);

#endif /* KIPVS_APPLIER_SETCACHE_H */
