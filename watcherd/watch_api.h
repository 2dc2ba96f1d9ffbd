/*
 * The watcher's reflectors: for each resource kipvs needs (Services,
 * EndpointSlices, the own Node) a list-then-watch loop in the manner of
 * client-go's reflector, handing every object, as a jansson tree, to a
 * consumer (struct watch_sink) that turns it into a record.
 *
 * What the sink sees, per resource:
 *
 *	begin			a snapshot starts: the first page of a list
 *				arrived (first list, and every re-list after
 *				410 Gone or a requested resync)
 *	item * n		the objects of the snapshot, page by page
 *	end(rv)			the snapshot is complete
 *	event / bookmark * n	deltas from the watch, in order
 *
 * Deletions across a re-list are left to the sink's snapshot semantics:
 * the watcher computes none.  A sink keeps what it has until end(), then
 * treats every object it holds that was not in the snapshot as deleted.
 * A begin() can be followed by another begin() without end() when a list
 * fails after its first page; the sink then forgets the half-seen snapshot
 * and deletes nothing.  Failed list attempts that got no page are not
 * shown to the sink at all.  Watch failures and reconnects are invisible
 * to the sink: the watch resumes from the last resourceVersion seen.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_API_H
#define KIPVS_WATCH_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct watch_http;
struct watch_api;

enum watch_res {
	WATCH_RES_SERVICE = 0,
	WATCH_RES_SLICE,
	WATCH_RES_NODE,
};
#define WATCH_RES_COUNT	3

enum watch_ev {
	WATCH_EV_ADDED = 1,
	WATCH_EV_MODIFIED,
	WATCH_EV_DELETED,
};

/*
 * The consumer.  Objects are borrowed for the call (the sink takes a
 * reference with json_incref() if it keeps one).  A sink must not call
 * back into the watch_api from these callbacks except watch_api_relist().
 */
struct watch_sink {
	void	(*begin)(void *arg, enum watch_res);
	void	(*item)(void *arg, enum watch_res, json_t *obj);
	void	(*end)(void *arg, enum watch_res, const char *rv);
	void	(*event)(void *arg, enum watch_res, enum watch_ev, json_t *obj);
	void	(*bookmark)(void *arg, enum watch_res, const char *rv);
	void	*arg;
};

struct watch_api_opts {
	const char	*node_name;	/* NULL or "": no Node watch */
	const char	*proxy_name;	/* --service-proxy-name, or NULL */
	/*
	 * Zero means the default for every field below, except the jitter,
	 * where UINT32_MAX does (0 there is no jitter).
	 */
	unsigned	 resources;	/* mask of 1 << enum watch_res: all */
	unsigned	 page_limit;	/* list page size: 500 */
	unsigned	 watch_timeout_s; /* timeoutSeconds in [t, 2t): 300 */
	unsigned	 watch_grace_s;	/* client gives up t + grace: 30 */
	unsigned	 list_idle_s;	/* no byte that long fails a list: 30 */
	/*
	 * A watch that got no byte that long is replaced at once from the
	 * last rv (no back-off, no relist): 45.  A quiet resource type gets
	 * no bookmarks, so this is also how often its watch is renewed.
	 */
	unsigned	 watch_idle_s;
	uint32_t	 backoff_base_ms; /* 800 */
	uint32_t	 backoff_cap_ms; /* 30000 */
	uint32_t	 backoff_jitter_pct; /* 100: each wait in [d, 2d) */
	uint32_t	 min_watch_ms;	/* empty watch shorter: failure: 1000 */
	size_t		 max_page_bytes; /* 64 MiB */
	size_t		 max_event_bytes; /* 8 MiB */
	/*
	 * kipvs render: list every resource once, then stop.  No watch
	 * follows, and a failed request is logged and not retried (no
	 * back-off, no relist after an expired continue token).  The api
	 * calls event_base_loopbreak() on its base when every list is
	 * complete or at the first failure; watch_api_synced() then tells
	 * which it was.
	 */
	int		 list_once;
};

#define WATCH_PAGE_LIMIT	500
#define WATCH_TIMEOUT_S		300
#define WATCH_GRACE_S		30
#define WATCH_LIST_IDLE_S	30
#define WATCH_IDLE_S		45
#define WATCH_MIN_WATCH_MS	1000
#define WATCH_MAX_PAGE_BYTES	(64UL * 1024 * 1024)
#define WATCH_MAX_EVENT_BYTES	(8UL * 1024 * 1024)

struct watch_api_stats {
	uint64_t	lists;		/* snapshots started */
	uint64_t	relists;	/* of which after 410 or on request */
	uint64_t	pages;
	uint64_t	watches;	/* watch requests started */
	uint64_t	watch_restarts;	/* watches ended by a failure */
	uint64_t	watch_idle;	/* watches renewed after watch_idle_s */
	uint64_t	failures;	/* requests that failed (back-off) */
	uint64_t	events;
	uint64_t	bookmarks;
};

/* http and sink are borrowed and must outlive the api. */
struct watch_api *watch_api_new(struct event_base *base,
	    struct watch_http *http, const struct watch_api_opts *opts,
	    const struct watch_sink *sink);
void	watch_api_free(struct watch_api *);

/* Starts every reflector (each begins with a list). */
int	watch_api_start(struct watch_api *);

/*
 * Asks for a fresh snapshot of every resource (the planner reconnected):
 * running requests are dropped and each reflector lists again.
 */
void	watch_api_relist(struct watch_api *);

/* Whether every reflector has delivered at least one complete snapshot. */
int	watch_api_synced(const struct watch_api *);

void	watch_api_stats(const struct watch_api *, enum watch_res,
	    struct watch_api_stats *);

const char *watch_res_name(enum watch_res);

/* The label selector for Services and EndpointSlices (not URL-encoded). */
const char *watch_label_selector(const char *proxy_name, char *buf,
	    size_t len);

#endif /* KIPVS_WATCH_API_H */
