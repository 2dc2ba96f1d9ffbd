/*
 * kipvs-watcherd's record cache: the last valid record of every object the
 * planner was told about, keyed by kind, namespace and name, kept in a
 * compact encoded form (no JSON, no fixed-size record structs: about 150
 * to 300 bytes per Service or small EndpointSlice).
 *
 * It serves two purposes:
 *
 *	- a planner that (re)connects gets a complete snapshot from the
 *	  cache at once, without asking the apiserver again;
 *	- a re-list of one resource (410 Gone) is reconciled here: items
 *	  are compared with what is cached (unchanged ones are not sent
 *	  again) and objects missing from the new list are deleted only
 *	  when the list is complete (wd_cache_sweep), so the planner sees
 *	  deltas and never a retraction before the list is whole.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_DAEMON_CACHE_H
#define KIPVS_WATCH_DAEMON_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proto_wp.h"
#include "ipc/records.h"

struct wd_cache;

/* One cached record, decoded for the caller (arrays owned by it). */
struct wd_rec {
	uint8_t		 kind;		/* enum wp_kind */
	struct rec_service svc;
	struct rec_slice slice;
	struct rec_node	 node;
};

struct wd_cache *wd_cache_new(void);
void	wd_cache_free(struct wd_cache *);

/*
 * Stores a record, marked as seen in list epoch `epoch`.  Returns 1 when
 * it is new or differs from the cached one, 0 when unchanged, -1 on
 * failure (errno; the cache is unchanged).
 */
int	wd_cache_put_service(struct wd_cache *, const struct rec_service *,
	    uint64_t epoch);
int	wd_cache_put_slice(struct wd_cache *, const struct rec_slice *,
	    uint64_t epoch);
int	wd_cache_put_node(struct wd_cache *, const struct rec_node *,
	    uint64_t epoch);
/* Marks a cached object as seen in epoch (an invalid update keeps it). */
void	wd_cache_touch(struct wd_cache *, uint8_t kind, const char *ns,
	    const char *name, uint64_t epoch);
/* Removes an object; 1 if it was cached. */
int	wd_cache_del(struct wd_cache *, uint8_t kind, const char *ns,
	    const char *name);
size_t	wd_cache_count(const struct wd_cache *, uint8_t kind);
/* Bytes held (entries, keys, encodings, table), for /metrics. */
size_t	wd_cache_bytes(const struct wd_cache *);

typedef void (*wd_cache_gone_fn)(void *arg, uint8_t kind, const char *ns,
    const char *name);
/*
 * Removes every object of kind not seen in epoch, calling fn for each
 * (before it is freed).  Returns how many.
 */
size_t	wd_cache_sweep(struct wd_cache *, uint8_t kind, uint64_t epoch,
	    wd_cache_gone_fn fn, void *arg);

/*
 * Calls fn with every cached record of kind, decoded; stops at the first
 * -1 from fn and returns -1.  The record is cleared after each call.
 */
typedef int (*wd_cache_each_fn)(void *arg, const struct wd_rec *);
int	wd_cache_foreach(struct wd_cache *, uint8_t kind, wd_cache_each_fn,
	    void *arg);

#endif /* KIPVS_WATCH_DAEMON_CACHE_H */
