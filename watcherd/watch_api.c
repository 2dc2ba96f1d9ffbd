/*
 * List-then-watch reflectors: see watch_api.h for what the sink sees.
 *
 * Each reflector is a small state machine driven by one libevent timer:
 *
 *	LIST  GET <coll>?<selector>&limit=N[&continue=T], one page at a time;
 *	      each page is parsed and handed out item by item, then freed,
 *	      so memory is bounded by one page, not by the cluster.
 *	WATCH GET <coll>?allowWatchBookmarks=true&<selector>&resourceVersion=
 *	      RV&timeoutSeconds=T&watch=true; the body is split into lines
 *	      (watch_stream) and each line is one event.
 *
 * Outcomes: a page with a continue token → next page at once; the last
 * page → end() and watch at once; a watch that ends cleanly → watch again
 * at once from the last rv; 410 Gone (HTTP status or in-stream ERROR) and
 * an expired continue token → list again at once (with back-off if that
 * keeps happening); a watch without a byte for watch_idle_s (a stalled
 * connection, or only a quiet resource) → replaced at once from the last
 * rv (on a new connection if it never got a response); anything else
 * (connection, TLS, timeout, 5xx, 401/403, a broken stream) →
 * exponential back-off with jitter, then retry the same
 * step; 429/503 with Retry-After → wait that long instead.  With
 * list_once (kipvs render) the last page ends the reflector and any
 * failure ends the event loop.
 *
 * Lists are consistent reads (no resourceVersion), so the apiserver pages
 * them; resourceVersion=0 would be served whole from its watch cache with
 * `limit` ignored, and the watcher would have to hold the whole list.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "watcherd/watch_api.h"
#include "watcherd/watch_backoff.h"
#include "watcherd/watch_http.h"
#include "watcherd/watch_stream.h"

enum refl_state {
	REFL_IDLE = 0,
	REFL_LISTING,
	REFL_WATCHING,
};

struct refl_kind {
	const char	*name;
	const char	*path;
	const char	*list_kind;
};

static const struct refl_kind refl_kinds[WATCH_RES_COUNT] = {
	[WATCH_RES_SERVICE] = { "services", "/api/v1/services",
	    "ServiceList" },
	[WATCH_RES_SLICE] = { "endpointslices",
	    "/apis/discovery.k8s.io/v1/endpointslices", "EndpointSliceList" },
	[WATCH_RES_NODE] = { "nodes", "/api/v1/nodes", "NodeList" },
};

struct watch_refl {
	struct watch_api	*api;
	enum watch_res		 res;
	const struct refl_kind	*kind;
	int			 enabled;
	enum refl_state		 state;
	char			*selector;	/* encoded selector parameter */
	int			 need_list;
	int			 in_snapshot;	/* begin() sent, no end() yet */
	int			 relist_pending;
	int			 synced;
	char			*rv;
	char			*cont;
	struct watch_req	*req;
	struct event		*timer;
	struct watch_backoff	 bo;
	unsigned		 expired_streak;
	/* list page being received */
	char			*page;
	size_t			 page_len;
	size_t			 page_cap;
	/* watch being received */
	struct watch_stream	*stream;
	struct timespec		 started;
	uint64_t		 watch_events;
	int			 gone;
	int			 broken;
	int			 fresh;		/* next watch: new connection */
	struct watch_api_stats	 st;
};

struct watch_api {
	struct event_base	*base;
	struct watch_http	*http;
	struct watch_sink	 sink;
	struct watch_api_opts	 o;
	char			*node_name;
	struct watch_refl	 refl[WATCH_RES_COUNT];
};

static void	refl_schedule(struct watch_refl *, uint32_t);

const char *
watch_res_name(enum watch_res res)
{
	if ((unsigned)res >= WATCH_RES_COUNT)
		return "?";
	return refl_kinds[res].name;
}

const char *
watch_label_selector(const char *proxy_name, char *buf, size_t len)
{
	if (proxy_name != NULL && proxy_name[0] != '\0')
		snprintf(buf, len, "service.kubernetes.io/service-proxy-name="
		    "%s", proxy_name);
	else
		snprintf(buf, len, "!service.kubernetes.io/headless,"
		    "!service.kubernetes.io/service-proxy-name");
	return buf;
}

static uint64_t
refl_elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - since->tv_sec) * 1000 +
	    (now.tv_nsec - since->tv_nsec) / 1000000;
}

static int
refl_set_str(char **dst, const char *src)
{
	char *s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/* The "message" of a Status body, for logs; "" if there is none. */
static void
refl_status_msg(const struct watch_http_result *res, char *buf, size_t len)
{
	json_t *j, *m;

	buf[0] = '\0';
	if (res->body_len == 0)
		return;
	if ((j = json_loadb(res->body, res->body_len, 0, NULL)) == NULL)
		return;
	if ((m = json_object_get(j, "message")) != NULL && json_is_string(m))
		snprintf(buf, len, ": %s", json_string_value(m));
	json_decref(j);
}

static int
refl_status_expired(const struct watch_http_result *res)
{
	json_t *j, *reason;
	int expired = 0;

	if (res->status != 410)
		return 0;
	if ((j = json_loadb(res->body, res->body_len, 0, NULL)) == NULL)
		return 1;
	reason = json_object_get(j, "reason");
	expired = reason == NULL || !json_is_string(reason) ||
	    strcmp(json_string_value(reason), "Expired") == 0 ||
	    strcmp(json_string_value(reason), "Gone") == 0;
	json_decref(j);
	return expired;
}

/*
 * A failed request: log it, then wait (back-off or Retry-After).  With
 * list_once there is no second attempt: the loop ends and the caller
 * reports the failure.
 */
static void
refl_fail(struct watch_refl *r, const char *what,
    const struct watch_http_result *res, const char *why)
{
	struct watch_api *api = r->api;
	char msg[512], reason[640];
	uint32_t delay;

	r->st.failures++;
	msg[0] = '\0';
	if (res != NULL && res->status != 0 && res->status != 200)
		refl_status_msg(res, msg, sizeof(msg));
	if (res != NULL && res->status == 401)
		watch_http_token_invalidate(api->http);
	if (why != NULL)
		snprintf(reason, sizeof(reason), "%s", why);
	else if (res != NULL && res->status != 0 && res->status != 200)
		snprintf(reason, sizeof(reason), "HTTP %ld%s", res->status,
		    msg);
	else
		snprintf(reason, sizeof(reason), "%s", res != NULL ?
		    res->errmsg : "failed");
	if (api->o.list_once) {
		log_warnx("%s: %s: %s", r->kind->name, what, reason);
		event_base_loopbreak(api->base);
		return;
	}
	if (res != NULL && (res->status == 429 || res->status == 503) &&
	    res->retry_after_s >= 0) {
		delay = (uint32_t)res->retry_after_s * 1000;
		log_warnx("%s: %s: %s; retrying after %ld s (Retry-After)",
		    r->kind->name, what, reason, res->retry_after_s);
	} else {
		delay = watch_backoff_next(&r->bo, arc4random());
		log_warnx("%s: %s: %s; retrying in %u ms", r->kind->name,
		    what, reason, delay);
	}
	refl_schedule(r, delay);
}

static void
refl_relist(struct watch_refl *r, const char *why)
{
	uint32_t delay = 0;

	r->need_list = 1;
	free(r->cont);
	r->cont = NULL;
	r->in_snapshot = 0;
	r->st.relists++;
	/* Gone again right after a fresh list: do not spin. */
	if (++r->expired_streak > 2)
		delay = watch_backoff_next(&r->bo, arc4random());
	log_info("%s: %s; listing again%s", r->kind->name, why,
	    delay ? " after a back-off" : "");
	refl_schedule(r, delay);
}

/* --- list ---------------------------------------------------------- */

static int
refl_list_data(void *arg, const char *buf, size_t len)
{
	struct watch_refl *r = arg;
	size_t ncap;
	char *np;

	if (len > r->page_cap - r->page_len) {
		ncap = r->page_cap ? r->page_cap : 64 * 1024;
		while (ncap - r->page_len < len)
			ncap *= 2;
		if ((np = realloc(r->page, ncap)) == NULL) {
			log_warn("%s: list page", r->kind->name);
			return -1;
		}
		r->page = np;
		r->page_cap = ncap;
	}
	memcpy(r->page + r->page_len, buf, len);
	r->page_len += len;
	return 0;
}

static void
refl_page_free(struct watch_refl *r)
{
	free(r->page);
	r->page = NULL;
	r->page_len = r->page_cap = 0;
}

/* Hands out one page; returns -1 (with a reason) if it is not a list. */
static int
refl_list_page(struct watch_refl *r, const char **why)
{
	struct watch_sink *s = &r->api->sink;
	json_t *j, *md, *rv, *cont, *items, *kind, *it;
	json_error_t jerr;
	size_t i;
	int rc = -1;

	j = json_loadb(r->page, r->page_len, 0, &jerr);
	/* The text is not needed any more: give its memory back first. */
	refl_page_free(r);
	if (j == NULL || !json_is_object(j)) {
		*why = "list page is not a JSON object";
		goto out;
	}
	kind = json_object_get(j, "kind");
	if (kind != NULL && (!json_is_string(kind) ||
	    strcmp(json_string_value(kind), r->kind->list_kind) != 0)) {
		*why = "list page of the wrong kind";
		goto out;
	}
	md = json_object_get(j, "metadata");
	rv = json_object_get(md, "resourceVersion");
	if (!json_is_string(rv) || json_string_length(rv) == 0) {
		*why = "list page without metadata.resourceVersion";
		goto out;
	}
	items = json_object_get(j, "items");
	if (items != NULL && !json_is_null(items) && !json_is_array(items)) {
		*why = "list page whose items are not an array";
		goto out;
	}
	cont = json_object_get(md, "continue");
	if (cont != NULL && !json_is_string(cont)) {
		*why = "list page with a bad continue token";
		goto out;
	}
	/* The first page of a list that arrived: a snapshot begins. */
	if (!r->in_snapshot) {
		r->in_snapshot = 1;
		r->st.lists++;
		s->begin(s->arg, r->res);
	}
	if (refl_set_str(&r->rv, json_string_value(rv)) == -1 ||
	    refl_set_str(&r->cont, cont != NULL &&
	    json_string_length(cont) > 0 ? json_string_value(cont) :
	    NULL) == -1) {
		*why = "out of memory";
		goto out;
	}
	r->st.pages++;
	json_array_foreach(items, i, it) {
		if (!json_is_object(it)) {
			log_warnx("%s: list item %zu is not an object; "
			    "skipped", r->kind->name, i);
			continue;
		}
		s->item(s->arg, r->res, it);
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static void
refl_list_done(void *arg, const struct watch_http_result *res)
{
	struct watch_refl *r = arg;
	struct watch_sink *s = &r->api->sink;
	const char *why = NULL;
	int had_cont = r->cont != NULL;

	r->req = NULL;
	r->state = REFL_IDLE;
	if (res->curl_code != CURLE_OK || res->status != 200) {
		refl_page_free(r);
		if (res->status == 410 && had_cont && !r->api->o.list_once &&
		    refl_status_expired(res)) {
			refl_relist(r, "continue token expired");
			return;
		}
		free(r->cont);
		r->cont = NULL;
		r->in_snapshot = 0;
		if (res->too_big)
			refl_fail(r, "list", NULL, "list page too large");
		else
			refl_fail(r, "list", res, NULL);
		return;
	}
	if (refl_list_page(r, &why) == -1) {
		free(r->cont);
		r->cont = NULL;
		r->in_snapshot = 0;
		refl_fail(r, "list", NULL, why);
		return;
	}
	if (r->cont != NULL) {
		refl_schedule(r, 0);
		return;
	}
	r->in_snapshot = 0;
	s->end(s->arg, r->res, r->rv);
	r->need_list = 0;
	r->synced = 1;
	r->expired_streak = 0;
	watch_backoff_reset(&r->bo);
	if (r->api->o.list_once) {
		/* This reflector is done; the last one ends the loop. */
		if (watch_api_synced(r->api))
			event_base_loopbreak(r->api->base);
		return;
	}
	refl_schedule(r, 0);
}

static int
refl_list_start(struct watch_refl *r)
{
	struct watch_api *api = r->api;
	struct watch_req_opts o;
	struct watch_req_cb cb;
	char *q = NULL, *cont = NULL;
	int n;

	if (r->cont != NULL &&
	    (cont = curl_easy_escape(NULL, r->cont, 0)) == NULL)
		return -1;
	/* Parameters in client-go's (alphabetical) order. */
	if (cont != NULL)
		n = asprintf(&q, "%s?continue=%s&%s&limit=%u", r->kind->path,
		    cont, r->selector, api->o.page_limit);
	else
		n = asprintf(&q, "%s?%s&limit=%u", r->kind->path, r->selector,
		    api->o.page_limit);
	curl_free(cont);
	if (n == -1)
		return -1;
	memset(&o, 0, sizeof(o));
	o.idle_ms = (long)api->o.list_idle_s * 1000;
	o.max_body = api->o.max_page_bytes;
	cb.data = refl_list_data;
	cb.done = refl_list_done;
	cb.arg = r;
	r->page_len = 0;
	r->req = watch_http_get(api->http, q, &o, &cb);
	free(q);
	if (r->req == NULL)
		return -1;
	r->state = REFL_LISTING;
	return 0;
}

/* --- watch --------------------------------------------------------- */

static const char *
refl_obj_rv(json_t *obj)
{
	json_t *rv;

	rv = json_object_get(json_object_get(obj, "metadata"),
	    "resourceVersion");
	if (!json_is_string(rv) || json_string_length(rv) == 0)
		return NULL;
	return json_string_value(rv);
}

static void
refl_obj_name(json_t *obj, char *buf, size_t len)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *ns, *name;

	ns = json_string_value(json_object_get(md, "namespace"));
	name = json_string_value(json_object_get(md, "name"));
	snprintf(buf, len, "%s%s%s", ns ? ns : "", ns ? "/" : "",
	    name ? name : "?");
}

/* One ERROR event: 410 means relist; anything else is a failure. */
static int
refl_watch_error(struct watch_refl *r, json_t *obj)
{
	json_t *code, *reason, *msg;

	code = json_object_get(obj, "code");
	reason = json_object_get(obj, "reason");
	msg = json_object_get(obj, "message");
	if ((json_is_integer(code) && json_integer_value(code) == 410) ||
	    (json_is_string(reason) &&
	    (strcmp(json_string_value(reason), "Expired") == 0 ||
	    strcmp(json_string_value(reason), "Gone") == 0))) {
		r->gone = 1;
		log_info("%s: watch: %s", r->kind->name, json_is_string(msg) ?
		    json_string_value(msg) : "410 Gone");
		return -1;
	}
	log_warnx("%s: watch: ERROR event: code %lld: %s", r->kind->name,
	    json_is_integer(code) ? (long long)json_integer_value(code) : 0,
	    json_is_string(msg) ? json_string_value(msg) : "?");
	r->broken = 1;
	return -1;
}

static int
refl_watch_line(void *arg, const char *line, size_t len)
{
	struct watch_refl *r = arg;
	struct watch_sink *s = &r->api->sink;
	json_t *ev, *type, *obj;
	const char *t, *rv;
	enum watch_ev kind;
	char name[320];
	int rc = -1;

	if ((ev = json_loadb(line, len, 0, NULL)) == NULL) {
		log_warnx("%s: watch: an event is not JSON", r->kind->name);
		r->broken = 1;
		return -1;
	}
	type = json_object_get(ev, "type");
	obj = json_object_get(ev, "object");
	if (!json_is_string(type) || !json_is_object(obj)) {
		log_warnx("%s: watch: an event without type or object",
		    r->kind->name);
		r->broken = 1;
		goto out;
	}
	t = json_string_value(type);
	if (strcmp(t, "ERROR") == 0) {
		rc = refl_watch_error(r, obj);
		goto out;
	}
	if (strcmp(t, "ADDED") == 0)
		kind = WATCH_EV_ADDED;
	else if (strcmp(t, "MODIFIED") == 0)
		kind = WATCH_EV_MODIFIED;
	else if (strcmp(t, "DELETED") == 0)
		kind = WATCH_EV_DELETED;
	else if (strcmp(t, "BOOKMARK") == 0) {
		if ((rv = refl_obj_rv(obj)) == NULL) {
			log_warnx("%s: watch: a bookmark without "
			    "resourceVersion", r->kind->name);
			r->broken = 1;
			goto out;
		}
		if (refl_set_str(&r->rv, rv) == -1)
			goto out;
		r->st.bookmarks++;
		r->watch_events++;
		s->bookmark(s->arg, r->res, rv);
		rc = 0;
		goto out;
	} else {
		log_warnx("%s: watch: unknown event type \"%.32s\"",
		    r->kind->name, t);
		r->broken = 1;
		goto out;
	}
	r->watch_events++;
	if ((rv = refl_obj_rv(obj)) == NULL) {
		/* As client-go: an object we cannot place is skipped. */
		refl_obj_name(obj, name, sizeof(name));
		log_warnx("%s: watch: %s %s has no resourceVersion; skipped",
		    r->kind->name, t, name);
		rc = 0;
		goto out;
	}
	if (refl_set_str(&r->rv, rv) == -1)
		goto out;
	r->st.events++;
	s->event(s->arg, r->res, kind, obj);
	rc = 0;
out:
	json_decref(ev);
	return rc;
}

static int
refl_watch_data(void *arg, const char *buf, size_t len)
{
	struct watch_refl *r = arg;

	if (watch_stream_feed(r->stream, buf, len) == -1) {
		if (errno == EMSGSIZE) {
			log_warnx("%s: watch: an event over %zu bytes",
			    r->kind->name, r->api->o.max_event_bytes);
			r->broken = 1;
		}
		return -1;
	}
	return 0;
}

static void
refl_watch_done(void *arg, const struct watch_http_result *res)
{
	struct watch_refl *r = arg;
	uint64_t ms = refl_elapsed_ms(&r->started);

	r->req = NULL;
	r->state = REFL_IDLE;
	if (r->gone || (res->status == 410 && refl_status_expired(res))) {
		refl_relist(r, "resourceVersion too old (410)");
		return;
	}
	if (r->broken) {
		r->st.watch_restarts++;
		refl_fail(r, "watch", NULL, "bad watch stream");
		return;
	}
	if (res->idle && (res->status == 200 || res->status == 0)) {
		/*
		 * Silence alone proves nothing (a quiet resource gets no
		 * bookmarks), so no back-off: the apiserver serves the
		 * resumed watch from its watch cache.  Over HTTP/1.1 the
		 * connection goes with the request.  Over HTTP/2 the
		 * stream is reset and the replacement shares the
		 * connection (which flushes the reset), unless the server
		 * never answered this request at all: then the
		 * connection itself is suspect and a new one is made.
		 */
		r->st.watch_idle++;
		r->fresh = res->status == 0;
		log_info("%s: watch: no byte for %u s; replacing it from %s",
		    r->kind->name, r->api->o.watch_idle_s, r->rv);
		refl_schedule(r, 0);
		return;
	}
	if (res->curl_code != CURLE_OK || res->status != 200) {
		r->st.watch_restarts++;
		refl_fail(r, "watch", res, NULL);
		return;
	}
	if (watch_stream_finish(r->stream) == -1) {
		r->st.watch_restarts++;
		refl_fail(r, "watch", NULL, "stream ended inside an event");
		return;
	}
	if (r->watch_events == 0 && ms < r->api->o.min_watch_ms) {
		r->st.watch_restarts++;
		refl_fail(r, "watch", NULL, "watch ended at once");
		return;
	}
	/* The server's timeoutSeconds: resume, no back-off. */
	log_debug("%s: watch ended after %llu ms; resuming from %s",
	    r->kind->name, (unsigned long long)ms, r->rv);
	watch_backoff_reset(&r->bo);
	r->expired_streak = 0;
	refl_schedule(r, 0);
}

static int
refl_watch_start(struct watch_refl *r)
{
	struct watch_api *api = r->api;
	struct watch_req_opts o;
	struct watch_req_cb cb;
	char *q = NULL, *rv;
	unsigned t;
	int n;

	if ((rv = curl_easy_escape(NULL, r->rv, 0)) == NULL)
		return -1;
	/* client-go: a random timeout in [min, 2 min) spreads reconnects. */
	t = api->o.watch_timeout_s + arc4random_uniform(api->o.watch_timeout_s);
	n = asprintf(&q, "%s?allowWatchBookmarks=true&%s&resourceVersion=%s"
	    "&timeoutSeconds=%u&watch=true", r->kind->path, r->selector, rv, t);
	curl_free(rv);
	if (n == -1)
		return -1;
	memset(&o, 0, sizeof(o));
	/* The server ends the watch after t s; no data is no error. */
	o.timeout_ms = ((long)t + api->o.watch_grace_s) * 1000;
	o.idle_ms = (long)api->o.watch_idle_s * 1000;
	o.fresh = r->fresh;
	cb.data = refl_watch_data;
	cb.done = refl_watch_done;
	cb.arg = r;
	watch_stream_reset(r->stream);
	r->gone = r->broken = 0;
	r->watch_events = 0;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->req = watch_http_get(api->http, q, &o, &cb);
	free(q);
	if (r->req == NULL)
		return -1;
	r->fresh = 0;
	r->st.watches++;
	r->state = REFL_WATCHING;
	return 0;
}

/* --- scheduling ---------------------------------------------------- */

static void
refl_step(evutil_socket_t fd, short kind, void *arg)
{
	struct watch_refl *r = arg;
	int rc;

	(void)fd;
	(void)kind;
	if (r->relist_pending) {
		/* Deferred from watch_api_relist(): drop what runs, list. */
		r->relist_pending = 0;
		if (r->req != NULL) {
			watch_http_cancel(r->req);
			r->req = NULL;
		}
		refl_page_free(r);
		free(r->cont);
		r->cont = NULL;
		r->in_snapshot = 0;
		r->need_list = 1;
		r->state = REFL_IDLE;
		r->st.relists++;
	}
	if (r->req != NULL)
		return;
	rc = r->need_list ? refl_list_start(r) : refl_watch_start(r);
	if (rc == -1) {
		log_warn("%s: cannot start a request", r->kind->name);
		if (r->api->o.list_once)
			event_base_loopbreak(r->api->base);
		else
			refl_schedule(r, watch_backoff_next(&r->bo,
			    arc4random()));
	}
}

static void
refl_schedule(struct watch_refl *r, uint32_t delay_ms)
{
	struct timeval tv;

	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

struct watch_api *
watch_api_new(struct event_base *base, struct watch_http *http,
    const struct watch_api_opts *opts, const struct watch_sink *sink)
{
	struct watch_api *api;
	struct watch_refl *r;
	char sel[512], *enc = NULL;
	int i, n;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		return NULL;
	api->base = base;
	api->http = http;
	api->sink = *sink;
	api->o = *opts;
	if (api->o.resources == 0)
		api->o.resources = (1u << WATCH_RES_COUNT) - 1;
	if (api->o.page_limit == 0)
		api->o.page_limit = WATCH_PAGE_LIMIT;
	if (api->o.watch_timeout_s == 0)
		api->o.watch_timeout_s = WATCH_TIMEOUT_S;
	if (api->o.watch_grace_s == 0)
		api->o.watch_grace_s = WATCH_GRACE_S;
	if (api->o.list_idle_s == 0)
		api->o.list_idle_s = WATCH_LIST_IDLE_S;
	if (api->o.watch_idle_s == 0)
		api->o.watch_idle_s = WATCH_IDLE_S;
	if (api->o.backoff_base_ms == 0)
		api->o.backoff_base_ms = WATCH_BACKOFF_BASE_MS;
	if (api->o.backoff_cap_ms == 0)
		api->o.backoff_cap_ms = WATCH_BACKOFF_CAP_MS;
	if (api->o.backoff_jitter_pct == UINT32_MAX)
		api->o.backoff_jitter_pct = WATCH_BACKOFF_JITTER;
	if (api->o.min_watch_ms == 0)
		api->o.min_watch_ms = WATCH_MIN_WATCH_MS;
	if (api->o.max_page_bytes == 0)
		api->o.max_page_bytes = WATCH_MAX_PAGE_BYTES;
	if (api->o.max_event_bytes == 0)
		api->o.max_event_bytes = WATCH_MAX_EVENT_BYTES;
	if (opts->node_name == NULL || opts->node_name[0] == '\0')
		api->o.resources &= ~(1u << WATCH_RES_NODE);
	else if ((api->node_name = strdup(opts->node_name)) == NULL)
		goto fail;
	api->o.node_name = api->node_name;
	api->o.proxy_name = NULL;

	for (i = 0; i < WATCH_RES_COUNT; i++) {
		r = &api->refl[i];
		r->api = api;
		r->res = (enum watch_res)i;
		r->kind = &refl_kinds[i];
		r->enabled = (api->o.resources & (1u << i)) != 0;
		r->need_list = 1;
		watch_backoff_init(&r->bo, api->o.backoff_base_ms,
		    api->o.backoff_cap_ms, api->o.backoff_jitter_pct);
		if ((r->timer = evtimer_new(base, refl_step, r)) == NULL ||
		    (r->stream = watch_stream_new(api->o.max_event_bytes,
		    refl_watch_line, r)) == NULL)
			goto fail;
		if (i == WATCH_RES_NODE) {
			if (api->node_name == NULL)
				continue;
			snprintf(sel, sizeof(sel), "metadata.name=%s",
			    api->node_name);
			enc = curl_easy_escape(NULL, sel, 0);
			n = enc ? asprintf(&r->selector, "fieldSelector=%s",
			    enc) : -1;
		} else {
			watch_label_selector(opts->proxy_name, sel,
			    sizeof(sel));
			enc = curl_easy_escape(NULL, sel, 0);
			n = enc ? asprintf(&r->selector, "labelSelector=%s",
			    enc) : -1;
		}
		curl_free(enc);
		if (n == -1) {
			r->selector = NULL;
			goto fail;
		}
	}
	return api;
fail:
	watch_api_free(api);
	return NULL;
}

void
watch_api_free(struct watch_api *api)
{
	struct watch_refl *r;
	int i;

	if (api == NULL)
		return;
	for (i = 0; i < WATCH_RES_COUNT; i++) {
		r = &api->refl[i];
		if (r->req != NULL)
			watch_http_cancel(r->req);
		if (r->timer != NULL)
			event_free(r->timer);
		watch_stream_free(r->stream);
		refl_page_free(r);
		free(r->selector);
		free(r->rv);
		free(r->cont);
	}
	free(api->node_name);
	free(api);
}

int
watch_api_start(struct watch_api *api)
{
	int i;

	for (i = 0; i < WATCH_RES_COUNT; i++)
		if (api->refl[i].enabled)
			refl_schedule(&api->refl[i], 0);
	return 0;
}

void
watch_api_relist(struct watch_api *api)
{
	struct watch_refl *r;
	int i;

	/*
	 * Deferred to each reflector's timer: this may be called from a sink
	 * callback, inside the transfer it would cancel.
	 */
	for (i = 0; i < WATCH_RES_COUNT; i++) {
		r = &api->refl[i];
		if (!r->enabled)
			continue;
		r->relist_pending = 1;
		refl_schedule(r, 0);
	}
}

int
watch_api_synced(const struct watch_api *api)
{
	int i;

	for (i = 0; i < WATCH_RES_COUNT; i++)
		if (api->refl[i].enabled && !api->refl[i].synced)
			return 0;
	return 1;
}

void
watch_api_stats(const struct watch_api *api, enum watch_res res,
    struct watch_api_stats *st)
{
	if ((unsigned)res >= WATCH_RES_COUNT) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = api->refl[res].st;
}
