/*
 * kipvs-watcherd's daemon: see watch_daemon.h and docs/watcher.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/daemon.h"
#include "common/log.h"
#include "ipc/frame.h"
#include "ipc/proto_pw.h"
#include "ipc/proto_wp.h"
#include "watcherd/watch_api.h"
#include "watcherd/watch_daemon.h"
#include "watcherd/watch_daemon_cache.h"
#include "watcherd/watch_http.h"
#include "watcherd/watch_httpd.h"
#include "watcherd/watch_ipc.h"
#include "watcherd/watch_json.h"
#include "watcherd/watch_kubeconfig.h"

/* A snapshot larger than this is written while the planner reads it. */
#define WD_QUEUE_HIGH	(4u << 20)
#define WD_QUEUE_LOW	(1u << 20)
#define WD_DRAIN_MS	10000

/* enum watch_res -> enum wp_kind */
static const uint8_t wd_kind[WATCH_RES_COUNT] = {
	WP_KIND_SERVICE, WP_KIND_SLICE, WP_KIND_NODE,
};
static const char *const wd_kind_name[4] = {
	"", "service", "endpointslice", "node",
};

struct watch_daemon {
	struct kp_config	 kp;
	char			 node[REC_NODENAME_MAX + 1];
	struct event_base	*base;
	struct watch_conn	*conn;
	struct watch_http	*http;
	struct watch_api	*api;
	struct watch_httpd	*httpd;
	struct watch_ipc	 ipc;
	struct wd_cache		*cache;
	struct watch_sink	 sink;
	int			 token_dirfd;
	unsigned		 families;	/* 1 << enum watch_family */

	uint64_t		 epoch_ctr;
	uint64_t		 epoch[WATCH_RES_COUNT];
	int			 complete[WATCH_RES_COUNT];

	/* The planner link. */
	int			 planner_synced; /* got its snapshot */
	int			 snapshot_owed;	/* up, lists not complete */
	uint64_t		 generation;
	struct pw_rx		 rx;
	struct pw_status	 status;
	int			 have_status;
	int64_t			 seen_sync_ms;
	int64_t			 queued_ms;	/* realtime of the oldest
						   unsynced change, 0 */
	struct pw_local_eps	*hc;		/* served health checks */
	size_t			 n_hc;

	/* kipvs's own counters, per enum wp_kind. */
	uint64_t		 sent[4];
	uint64_t		 deletes[4];
	uint64_t		 rejected[4];
	uint64_t		 skipped[4];
	uint64_t		 snapshots;
	int			 node_eligible;	/* as /healthz serves it */
};

static int64_t
wd_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- to the planner ------------------------------------------------------ */

/* A delta was sent: kube-proxy's QueuedUpdate for every family. */
static void
wd_queued(struct watch_daemon *d)
{
	int f;

	if (d->queued_ms == 0)
		d->queued_ms = wd_realtime_ms();
	for (f = 0; f < WATCH_FAMILY_COUNT; f++)
		if (d->families & (1u << f))
			watch_httpd_queued(d->httpd, (enum watch_family)f);
}

/* After a send: keep the queue bounded; a failure closes the link. */
static void
wd_sent(struct watch_daemon *d, struct ipc_chan *c, int rv)
{
	if (rv == -1) {
		log_warn("link planner: send");
		watch_ipc_planner_close(&d->ipc);
		return;
	}
	if (c->outq_bytes > WD_QUEUE_HIGH)
		(void)watch_ipc_drain(&d->ipc, WD_QUEUE_LOW, WD_DRAIN_MS);
	watch_ipc_kick(&d->ipc);
}

/* The planner channel for deltas: NULL until it has had its snapshot. */
static struct ipc_chan *
wd_delta_chan(struct watch_daemon *d)
{
	return d->planner_synced ? watch_ipc_planner(&d->ipc) : NULL;
}

static void
wd_send_delete(struct watch_daemon *d, uint8_t kind, const char *ns,
    const char *name)
{
	struct ipc_chan *c;
	struct wp_delete del;

	if ((c = wd_delta_chan(d)) == NULL)
		return;
	memset(&del, 0, sizeof(del));
	del.kind = kind;
	snprintf(del.namespace, sizeof(del.namespace), "%s", ns);
	snprintf(del.name, sizeof(del.name), "%s", name);
	d->deletes[kind]++;
	wd_queued(d);
	wd_sent(d, c, wp_send_delete(c, &del));
}

static int
wd_send_rec(struct watch_daemon *d, struct ipc_chan *c,
    const struct wd_rec *r)
{
	int rv = -1;

	switch (r->kind) {
	case WP_KIND_SERVICE:
		rv = wp_send_service(c, &r->svc);
		break;
	case WP_KIND_SLICE:
		rv = wp_send_slice(c, &r->slice);
		break;
	case WP_KIND_NODE:
		rv = wp_send_node(c, &r->node);
		break;
	}
	if (rv == 0)
		d->sent[r->kind]++;
	return rv;
}

static void
wd_send_delta(struct watch_daemon *d, const struct wd_rec *r)
{
	struct ipc_chan *c;

	if ((c = wd_delta_chan(d)) == NULL)
		return;
	wd_queued(d);
	wd_sent(d, c, wd_send_rec(d, c, r));
}

struct wd_snap {
	struct watch_daemon	*d;
	struct ipc_chan		*c;
	uint32_t		 n;
};

static int
wd_snap_one(void *arg, const struct wd_rec *r)
{
	struct wd_snap *s = arg;

	if (wd_send_rec(s->d, s->c, r) == -1)
		return -1;
	s->n++;
	if (s->c->outq_bytes > WD_QUEUE_HIGH &&
	    watch_ipc_drain(&s->d->ipc, WD_QUEUE_LOW, WD_DRAIN_MS) == -1)
		return -1;
	return 0;
}

/*
 * Level-triggered: the planner gets everything the cache holds, the
 * list-complete marker of each kind whose list is complete, and the
 * counts.  Only sent once every reflector completed its first list: an
 * incomplete snapshot would make the planner delete what it lacks.
 */
static void
wd_snapshot(struct watch_daemon *d)
{
	struct wp_snapshot_end end;
	struct wd_snap s;
	struct ipc_chan *c;
	uint32_t *counts[4] = { NULL, &end.n_services, &end.n_slices,
	    &end.n_nodes };
	uint8_t k;
	int i;

	if ((c = watch_ipc_planner(&d->ipc)) == NULL)
		return;
	memset(&end, 0, sizeof(end));
	end.generation = ++d->generation;
	if (wp_send_snapshot_begin(c, end.generation) == -1)
		goto fail;
	for (k = WP_KIND_SERVICE; k <= WP_KIND_NODE; k++) {
		s.d = d;
		s.c = c;
		s.n = 0;
		if (wd_cache_foreach(d->cache, k, wd_snap_one, &s) == -1)
			goto fail;
		*counts[k] = s.n;
	}
	for (i = 0; i < WATCH_RES_COUNT; i++)
		if (d->complete[i] &&
		    wp_send_list_complete(c, wd_kind[i]) == -1)
			goto fail;
	if (wp_send_snapshot_end(c, &end) == -1)
		goto fail;
	d->planner_synced = 1;
	d->snapshot_owed = 0;
	d->snapshots++;
	wd_queued(d);
	log_info("link planner: snapshot %llu sent: %u services, %u slices, "
	    "%u nodes", (unsigned long long)end.generation, end.n_services,
	    end.n_slices, end.n_nodes);
	watch_ipc_kick(&d->ipc);
	return;
fail:
	log_warn("link planner: sending snapshot");
	if (watch_ipc_planner(&d->ipc) != NULL)
		watch_ipc_planner_close(&d->ipc);
}

/* --- the sink: objects -> records ---------------------------------------- */

/*
 * Every reflector completed a list (the sink's own account: the engine
 * marks itself synced only after end() returns).  The Node reflector
 * always runs: kube-proxy always has a node name.
 */
static int
wd_synced(const struct watch_daemon *d)
{
	int i;

	for (i = 0; i < WATCH_RES_COUNT; i++)
		if (!d->complete[i])
			return 0;
	return 1;
}

static void
wd_meta(json_t *obj, const char **ns, const char **name)
{
	json_t *md = json_object_get(obj, "metadata");

	*ns = json_string_value(json_object_get(md, "namespace"));
	*name = json_string_value(json_object_get(md, "name"));
	if (*ns == NULL)
		*ns = "";
}

static void
wd_gone(void *arg, uint8_t kind, const char *ns, const char *name)
{
	struct watch_daemon *d = arg;

	log_info("%s %s%s%s: not in the new list, deleted",
	    wd_kind_name[kind], ns, ns[0] ? "/" : "", name);
	wd_send_delete(d, kind, ns, name);
}

/* Converts one object and updates the cache and the planner. */
static void
wd_object(struct watch_daemon *d, enum watch_res res, json_t *obj)
{
	struct wd_rec r;
	char why[WATCH_JSON_WHY_MAX];
	const char *ns, *name, *proxy = d->kp.service_proxy_name;
	uint8_t kind = wd_kind[res];
	int rc, put = -1;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	why[0] = '\0';
	switch (res) {
	case WATCH_RES_SERVICE:
		rc = watch_json_service(obj, proxy, &r.svc, why, sizeof(why));
		if (rc == WATCH_JSON_OK)
			put = wd_cache_put_service(d->cache, &r.svc,
			    d->epoch[res]);
		break;
	case WATCH_RES_SLICE:
		rc = watch_json_slice(obj, proxy, &r.slice, why, sizeof(why));
		if (rc == WATCH_JSON_OK)
			put = wd_cache_put_slice(d->cache, &r.slice,
			    d->epoch[res]);
		break;
	default:
		rc = watch_json_node(obj, &r.node, why, sizeof(why));
		if (rc == WATCH_JSON_OK)
			put = wd_cache_put_node(d->cache, &r.node,
			    d->epoch[res]);
		break;
	}
	wd_meta(obj, &ns, &name);
	switch (rc) {
	case WATCH_JSON_OK:
		if (put == -1)
			log_warn("%s %s/%s: not cached", wd_kind_name[kind],
			    ns, name ? name : "?");
		else if (put == 1)
			wd_send_delta(d, &r);
		break;
	case WATCH_JSON_SKIP:
		/* Not a record (any more): as if deleted. */
		d->skipped[kind]++;
		log_debug("%s %s/%s: not proxied: %s", wd_kind_name[kind], ns,
		    name ? name : "?", why);
		if (name != NULL && wd_cache_del(d->cache, kind, ns, name))
			wd_send_delete(d, kind, ns, name);
		break;
	default:
		/*
		 * Rejected: logged and counted; the last valid version (if
		 * any) stays, so a bad update retracts nothing.
		 */
		d->rejected[kind]++;
		log_warnx("%s rejected: %s", wd_kind_name[kind], why);
		if (name != NULL)
			wd_cache_touch(d->cache, kind, ns, name,
			    d->epoch[res]);
		break;
	}
	rec_service_clear(&r.svc);
	rec_slice_clear(&r.slice);
}

/*
 * kube-proxy's node eligibility for /healthz (its NodeEligibleHandler):
 * every version of the own Node seen — listed, added, modified or
 * deleted — decides it: not eligible while it has a deletionTimestamp or
 * the cluster autoscaler's ToBeDeletedByClusterAutoscaler taint.  Until
 * the first one arrives the node is eligible.  Decided on the object
 * itself, so a Node that fails record validation still counts.
 */
static void
wd_node_eligible(struct watch_daemon *d, json_t *obj)
{
	json_t *md, *ts, *taints, *t, *key;
	const char *name;
	size_t i;
	int eligible = 1;

	md = json_object_get(obj, "metadata");
	name = json_string_value(json_object_get(md, "name"));
	if (name == NULL || strcmp(name, d->node) != 0)
		return;
	ts = json_object_get(md, "deletionTimestamp");
	if (ts != NULL && !json_is_null(ts))
		eligible = 0;
	taints = json_object_get(json_object_get(obj, "spec"), "taints");
	json_array_foreach(taints, i, t) {
		key = json_object_get(t, "key");
		if (json_is_string(key) && strcmp(json_string_value(key),
		    "ToBeDeletedByClusterAutoscaler") == 0)
			eligible = 0;
	}
	if (eligible != d->node_eligible)
		log_info("node %s: %s", name, eligible ? "eligible again" :
		    ts != NULL && !json_is_null(ts) ? "being deleted; not "
		    "eligible (/healthz 503)" : "tainted "
		    "ToBeDeletedByClusterAutoscaler; not eligible (/healthz "
		    "503)");
	d->node_eligible = eligible;
	watch_httpd_node_eligible(d->httpd, eligible);
}

static void
wd_sink_begin(void *arg, enum watch_res res)
{
	struct watch_daemon *d = arg;

	/* A new epoch; a half-seen earlier list is simply forgotten. */
	d->epoch[res] = ++d->epoch_ctr;
}

static void
wd_sink_item(void *arg, enum watch_res res, json_t *obj)
{
	if (res == WATCH_RES_NODE)
		wd_node_eligible(arg, obj);
	wd_object(arg, res, obj);
}

static void
wd_sink_end(void *arg, enum watch_res res, const char *rv)
{
	struct watch_daemon *d = arg;
	struct ipc_chan *c;
	uint8_t kind = wd_kind[res];
	size_t gone;

	gone = wd_cache_sweep(d->cache, kind, d->epoch[res], wd_gone, d);
	d->complete[res] = 1;
	log_info("%s list complete at %s: %zu records, %zu removed",
	    wd_kind_name[kind], rv, wd_cache_count(d->cache, kind), gone);
	if ((c = wd_delta_chan(d)) != NULL)
		wd_sent(d, c, wp_send_list_complete(c, kind));
	else if (d->snapshot_owed && wd_synced(d))
		wd_snapshot(d);
}

static void
wd_sink_event(void *arg, enum watch_res res, enum watch_ev ev, json_t *obj)
{
	struct watch_daemon *d = arg;
	const char *ns, *name;
	uint8_t kind = wd_kind[res];

	if (res == WATCH_RES_NODE)
		wd_node_eligible(d, obj);
	if (ev != WATCH_EV_DELETED) {
		wd_object(d, res, obj);
		return;
	}
	wd_meta(obj, &ns, &name);
	if (name != NULL && wd_cache_del(d->cache, kind, ns, name))
		wd_send_delete(d, kind, ns, name);
}

static void
wd_sink_bookmark(void *arg, enum watch_res res, const char *rv)
{
	(void)arg;
	log_debug("%s bookmark %s", watch_res_name(res), rv);
}

/* --- from the planner ---------------------------------------------------- */

static void
wd_link_up(void *arg, struct ipc_chan *c)
{
	struct watch_daemon *d = arg;

	(void)c;
	d->planner_synced = 0;
	if (wd_synced(d))
		wd_snapshot(d);
	else {
		d->snapshot_owed = 1;
		log_info("link planner: snapshot deferred until the first "
		    "lists are complete");
	}
}

static void
wd_link_down(void *arg)
{
	struct watch_daemon *d = arg;

	d->planner_synced = 0;
	d->snapshot_owed = 0;
	pw_rx_reset(&d->rx);
}

static void
wd_status(struct watch_daemon *d, const struct pw_status *st)
{
	int64_t t = st->last_apply_ms > st->last_sync_ms ?
	    st->last_apply_ms : st->last_sync_ms;
	int f;

	if (!d->have_status || st->flags != d->status.flags)
		log_info("link planner: status flags %#x, %u services, %u "
		    "failed ops", st->flags, st->n_services, st->n_failed_ops);
	d->status = *st;
	d->have_status = 1;
	/* A sync newer than every change sent: kube-proxy's Updated. */
	if (t > d->seen_sync_ms) {
		d->seen_sync_ms = t;
		if (d->queued_ms == 0 || t >= d->queued_ms) {
			d->queued_ms = 0;
			for (f = 0; f < WATCH_FAMILY_COUNT; f++)
				if (d->families & (1u << f))
					watch_httpd_updated(d->httpd,
					    (enum watch_family)f);
		}
	}
}

static int
wd_hc_cmp(const void *a, const void *b)
{
	const struct pw_local_eps *x = a, *y = b;
	int c;

	if ((c = strcmp(x->namespace, y->namespace)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* The complete table of health-checked Services (takes ownership). */
static void
wd_local_eps(struct watch_daemon *d, struct pw_local_eps *eps, size_t n)
{
	size_t i;

	qsort(eps, n, sizeof(*eps), wd_hc_cmp);
	for (i = 0; i < d->n_hc; i++) {
		struct pw_local_eps *e = bsearch(&d->hc[i], eps, n,
		    sizeof(*eps), wd_hc_cmp);

		if (e == NULL || e->health_check_node_port == 0)
			watch_httpd_hc_del(d->httpd, d->hc[i].namespace,
			    d->hc[i].name);
	}
	for (i = 0; i < n; i++) {
		if (eps[i].health_check_node_port == 0)
			continue;
		if (watch_httpd_hc_set(d->httpd, eps[i].namespace,
		    eps[i].name, eps[i].health_check_node_port,
		    eps[i].ready_local) == -1)
			log_warnx("service %s/%s: cannot serve its health "
			    "check on port %u", eps[i].namespace,
			    eps[i].name, eps[i].health_check_node_port);
	}
	free(d->hc);
	d->hc = eps;
	d->n_hc = n;
	log_debug("link planner: %zu local endpoint counts", n);
}

static int
wd_link_msg(void *arg, const struct frame_msg *m, const char **reason)
{
	struct watch_daemon *d = arg;
	struct pw_event ev;
	int rv;

	memset(&ev, 0, sizeof(ev));
	if ((rv = pw_rx_feed(&d->rx, m, &ev, reason)) != 1)
		return rv;
	switch (ev.type) {
	case PW_EV_STATUS:
		wd_status(d, &ev.status);
		break;
	case PW_EV_LOCAL_EPS:
		wd_local_eps(d, ev.eps, ev.n);
		break;
	}
	return 0;
}

/* --- /metrics ------------------------------------------------------------ */

/* One counter per record kind (service, slice, node), with its HELP. */
static void
wd_per_kind(struct evbuffer *out, const char *name, const char *help,
    const uint64_t v[4])
{
	uint8_t k;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name,
	    help, name);
	for (k = WP_KIND_SERVICE; k <= WP_KIND_NODE; k++)
		evbuffer_add_printf(out, "%s{kind=\"%s\"} %llu\n", name,
		    wd_kind_name[k], (unsigned long long)v[k]);
}

static void
wd_metrics(void *arg, struct evbuffer *out)
{
	struct watch_daemon *d = arg;
	struct watch_api_stats st;
	int i;

	evbuffer_add_printf(out,
	    "# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The "
	    "last time proxy rules were successfully synced\n"
	    "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n"
	    "kubeproxy_sync_proxy_rules_last_timestamp_seconds %.3f\n",
	    (double)d->status.last_sync_ms / 1000.0);
	wd_per_kind(out, "kipvs_watch_records_sent_total",
	    "Records sent to the planner", d->sent);
	wd_per_kind(out, "kipvs_watch_deletes_sent_total",
	    "Deletions sent to the planner", d->deletes);
	wd_per_kind(out, "kipvs_watch_objects_rejected_total",
	    "Objects that failed validation and were skipped", d->rejected);
	evbuffer_add_printf(out,
	    "# HELP kipvs_watch_restarts_total Watches ended by a failure\n"
	    "# TYPE kipvs_watch_restarts_total counter\n");
	for (i = 0; i < WATCH_RES_COUNT; i++) {
		watch_api_stats(d->api, (enum watch_res)i, &st);
		evbuffer_add_printf(out, "kipvs_watch_restarts_total"
		    "{kind=\"%s\"} %llu\n", wd_kind_name[wd_kind[i]],
		    (unsigned long long)st.watch_restarts);
	}
	evbuffer_add_printf(out,
	    "# HELP kipvs_watch_relists_total Lists after 410 Gone or a "
	    "requested resync\n# TYPE kipvs_watch_relists_total counter\n");
	for (i = 0; i < WATCH_RES_COUNT; i++) {
		watch_api_stats(d->api, (enum watch_res)i, &st);
		evbuffer_add_printf(out, "kipvs_watch_relists_total"
		    "{kind=\"%s\"} %llu\n", wd_kind_name[wd_kind[i]],
		    (unsigned long long)st.relists);
	}
	evbuffer_add_printf(out,
	    "# HELP kipvs_watch_snapshots_total Snapshots sent to a planner\n"
	    "# TYPE kipvs_watch_snapshots_total counter\n"
	    "kipvs_watch_snapshots_total %llu\n"
	    "# HELP kipvs_watch_cache_bytes Bytes of the record cache\n"
	    "# TYPE kipvs_watch_cache_bytes gauge\n"
	    "kipvs_watch_cache_bytes %zu\n",
	    (unsigned long long)d->snapshots, wd_cache_bytes(d->cache));
	evbuffer_add_printf(out,
	    "# HELP kipvs_planner_synced Whether the planner applied its "
	    "first full sync\n# TYPE kipvs_planner_synced gauge\n"
	    "kipvs_planner_synced %d\n"
	    "# HELP kipvs_applier_up Whether the planner has an applier\n"
	    "# TYPE kipvs_applier_up gauge\nkipvs_applier_up %d\n"
	    "# HELP kipvs_planner_services Services in the planner's model\n"
	    "# TYPE kipvs_planner_services gauge\n"
	    "kipvs_planner_services %u\n"
	    "# HELP kipvs_ops_failed Operations that failed in the last "
	    "sync\n# TYPE kipvs_ops_failed gauge\nkipvs_ops_failed %u\n",
	    (d->status.flags & PW_ST_SYNCED) != 0,
	    (d->status.flags & PW_ST_APPLIER_UP) != 0,
	    d->status.n_services, d->status.n_failed_ops);
	/* The planner's counters (since it started), from its status. */
	evbuffer_add_printf(out,
	    "# HELP kipvs_ops_applied_total Operations the applier carried "
	    "out, by kind\n# TYPE kipvs_ops_applied_total counter\n");
	for (i = 0; i < PW_OPK_COUNT; i++)
		evbuffer_add_printf(out, "kipvs_ops_applied_total"
		    "{kind=\"%s\"} %llu\n", pw_opk_name((enum pw_opk)i),
		    (unsigned long long)d->status.ops_applied[i]);
	evbuffer_add_printf(out,
	    "# HELP kipvs_ops_failed_total Operations the applier refused "
	    "or failed, by kind\n# TYPE kipvs_ops_failed_total counter\n");
	for (i = 0; i < PW_OPK_COUNT; i++)
		evbuffer_add_printf(out, "kipvs_ops_failed_total"
		    "{kind=\"%s\"} %llu\n", pw_opk_name((enum pw_opk)i),
		    (unsigned long long)d->status.ops_failed[i]);
	evbuffer_add_printf(out,
	    "# HELP kipvs_planner_neutralised_total Parts of Services left "
	    "out of the kernel state (each computation counts), by reason\n"
	    "# TYPE kipvs_planner_neutralised_total counter\n");
	for (i = 0; i < PW_NEUT_COUNT; i++)
		evbuffer_add_printf(out, "kipvs_planner_neutralised_total"
		    "{reason=\"%s\"} %llu\n", pw_neut_name((enum pw_neut)i),
		    (unsigned long long)d->status.neutralised[i]);
}

/* The watch engine's own counters (kept apart from wd_metrics). */
static void
wd_metrics_watch(struct watch_daemon *d, struct evbuffer *out)
{
	struct watch_api_stats st;
	int i;

	evbuffer_add_printf(out,
	    "# HELP kipvs_watch_idle_restarts_total Watches replaced after "
	    "receiving no byte for the idle timeout\n"
	    "# TYPE kipvs_watch_idle_restarts_total counter\n");
	for (i = 0; i < WATCH_RES_COUNT; i++) {
		watch_api_stats(d->api, (enum watch_res)i, &st);
		evbuffer_add_printf(out, "kipvs_watch_idle_restarts_total"
		    "{kind=\"%s\"} %llu\n", wd_kind_name[wd_kind[i]],
		    (unsigned long long)st.watch_idle);
	}
}

static void
wd_metrics_all(void *arg, struct evbuffer *out)
{
	wd_metrics(arg, out);
	wd_metrics_watch(arg, out);
}

/* --- set-up -------------------------------------------------------------- */

/* Reads a credential file into a blob and forgets the path. */
static void
wd_slurp(char **path, struct watch_blob *blob, const char *what)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (*path == NULL)
		return;
	if ((fd = open(*path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		fatal("%s %s", what, *path);
	if ((buf = malloc(WATCH_CONF_FILE_MAX + 1)) == NULL)
		fatal("%s", what);
	while (len < WATCH_CONF_FILE_MAX) {
		n = read(fd, buf + len, WATCH_CONF_FILE_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal("%s %s", what, *path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0 || len >= WATCH_CONF_FILE_MAX)
		fatalx("%s %s: empty or larger than %d bytes", what, *path,
		    WATCH_CONF_FILE_MAX);
	buf[len] = '\0';
	if (blob->data != NULL) {
		explicit_bzero(blob->data, blob->len);
		free(blob->data);
	}
	blob->data = buf;
	blob->len = len;
	free(*path);
	*path = NULL;
}

/* The apiserver and credentials, with kube-proxy's precedence. */
static struct watch_conn *
wd_conn(const struct kp_config *kp)
{
	struct watch_conn *conn;
	char err[512];
	int rc;

	if ((conn = watch_conn_new()) == NULL)
		fatal("connection settings");
	err[0] = '\0';
	if (kp->kubeconfig[0] != '\0')
		rc = watch_kubeconfig_load(conn, kp->kubeconfig,
		    kp->master[0] ? kp->master : NULL, err, sizeof(err));
	else if (kp->master[0] != '\0')
		rc = watch_master_load(conn, kp->master, err, sizeof(err));
	else
		rc = watch_incluster_load(conn,
		    getenv("KUBERNETES_SERVICE_HOST"),
		    getenv("KUBERNETES_SERVICE_PORT"), WATCH_SA_DIR, err,
		    sizeof(err));
	if (rc == -1)
		fatalx("apiserver configuration: %s", err);
	/*
	 * Certificates and keys are read now and handed to curl as
	 * blobs: nothing of them is needed from the filesystem later.
	 */
	wd_slurp(&conn->ca_file, &conn->ca_pem, "certificate authority");
	wd_slurp(&conn->cert_file, &conn->cert_pem, "client certificate");
	wd_slurp(&conn->key_file, &conn->key_pem, "client key");
	return conn;
}

/*
 * The token file is re-read when it rotates, so it cannot be read once:
 * its directory stays open and the file is opened relative to it.
 */
static int
wd_token_dir(struct watch_daemon *d)
{
	char *a, *b, *dir, *base;
	int fd;

	if (d->conn->token_file == NULL)
		return -1;
	if ((a = strdup(d->conn->token_file)) == NULL ||
	    (b = strdup(d->conn->token_file)) == NULL)
		fatal("token file");
	dir = dirname(a);
	base = basename(b);
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("token directory %s", dir);
	if (watch_http_token_at(d->http, fd, base) == -1)
		fatal("token file");
	free(a);
	free(b);
	return fd;
}

static void
wd_httpd(struct watch_daemon *d)
{
	struct watch_httpd_conf hc;
	char err[256];
	const char *hz = d->kp.healthz_bind, *mt = d->kp.metrics_bind;

	memset(&hc, 0, sizeof(hc));
	hc.families = d->families;
	hc.health_timeout_ms = 2 * d->kp.sync_period_ms;
	hc.healthz_addr = hz;
	hc.metrics_addr = mt;
	if ((d->httpd = watch_httpd_new(d->base, &hc, err,
	    sizeof(err))) != NULL)
		goto done;
	if (d->kp.bind_address_hard_fail)
		fatalx("%s", err);
	/* kube-proxy logs a bind failure and goes on without it. */
	log_warnx("%s; going on without it", err);
	hc.metrics_addr = NULL;
	if ((d->httpd = watch_httpd_new(d->base, &hc, err,
	    sizeof(err))) != NULL)
		goto done;
	hc.healthz_addr = NULL;
	hc.metrics_addr = mt;
	if ((d->httpd = watch_httpd_new(d->base, &hc, err,
	    sizeof(err))) != NULL)
		goto done;
	hc.metrics_addr = NULL;
	if ((d->httpd = watch_httpd_new(d->base, &hc, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
 done:
	watch_httpd_set_metrics(d->httpd, wd_metrics_all, d);
	log_info("healthz on %s (port %u), metrics on %s (port %u)",
	    hz[0] ? hz : "-", watch_httpd_healthz_port(d->httpd),
	    mt[0] ? mt : "-", watch_httpd_metrics_port(d->httpd));
}

/* The highest open descriptor (everything above 5 is ours). */
static int
wd_max_fd(void)
{
	struct dirent *de;
	DIR *dir;
	int fd, max = WATCH_FD_SIGNAL;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		fatal("/proc/self/fd");
	while ((de = readdir(dir)) != NULL) {
		fd = atoi(de->d_name);
		if (fd != dirfd(dir) && fd > max)
			max = fd;
	}
	closedir(dir);
	return max;
}

int
watch_daemon_flag(void *arg, const char *name, const char *v, char *err,
    size_t errlen)
{
	struct watch_daemon_conf *wc = arg;
	unsigned long n;
	char *end;

	if (strcmp(name, "watch-idle-timeout") != 0) {
		snprintf(err, errlen, "unknown flag");
		return -1;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > 3600) {
		snprintf(err, errlen, "1 to 3600 seconds");
		return -1;
	}
	wc->watch_idle_s = (unsigned)n;
	return 0;
}

struct watch_daemon *
watch_daemon_setup(const struct daemon_opts *o,
    const struct watch_daemon_conf *wc, int *max_fd)
{
	struct watch_daemon *d;
	struct watch_api_opts ao;
	struct watch_ipc_cb cb;
	char err[512];
	size_t i;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("watcher");
	d->kp = o->kp;
	d->token_dirfd = -1;
	d->node_eligible = 1;
	pw_rx_init(&d->rx);
	if (d->kp.families & KP_FAMILY_V4)
		d->families |= 1u << WATCH_FAMILY_IPV4;
	if (d->kp.families & KP_FAMILY_V6)
		d->families |= 1u << WATCH_FAMILY_IPV6;
	/* kube-proxy's node name: --hostname-override, else the host's. */
	snprintf(d->node, sizeof(d->node), "%s", d->kp.hostname);
	if (d->node[0] == '\0' && gethostname(d->node, sizeof(d->node)) ==
	    -1)
		fatal("gethostname");
	d->node[sizeof(d->node) - 1] = '\0';
	for (i = 0; d->node[i] != '\0'; i++)
		d->node[i] = (char)tolower((unsigned char)d->node[i]);

	cb.up = wd_link_up;
	cb.down = wd_link_down;
	cb.msg = wd_link_msg;
	cb.arg = d;
	if (watch_ipc_init(&d->ipc, o->heartbeat_ms, &cb) == -1)
		fatal("links");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init");
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (watch_ipc_attach(&d->ipc, d->base) == -1)
		fatal("links");
	if ((d->cache = wd_cache_new()) == NULL)
		fatal("cache");

	d->conn = wd_conn(&d->kp);
	if ((d->http = watch_http_new(d->base, d->conn, err,
	    sizeof(err))) == NULL)
		fatalx("apiserver client: %s", err);
	if (watch_http_pin(d->http, err, sizeof(err)) == -1)
		fatalx("%s", err);
	d->token_dirfd = wd_token_dir(d);

	memset(&ao, 0, sizeof(ao));
	ao.backoff_jitter_pct = UINT32_MAX;
	ao.watch_idle_s = wc->watch_idle_s;
	ao.node_name = d->node;
	ao.proxy_name = d->kp.service_proxy_name[0] ?
	    d->kp.service_proxy_name : NULL;
	d->sink.begin = wd_sink_begin;
	d->sink.item = wd_sink_item;
	d->sink.end = wd_sink_end;
	d->sink.event = wd_sink_event;
	d->sink.bookmark = wd_sink_bookmark;
	d->sink.arg = d;
	if ((d->api = watch_api_new(d->base, d->http, &ao, &d->sink)) == NULL)
		fatal("apiserver engine");
	wd_httpd(d);
	log_info("apiserver %s, node %s%s%s", d->conn->server, d->node,
	    ao.proxy_name ? ", service proxy name " : "",
	    ao.proxy_name ? ao.proxy_name : "");
	*max_fd = wd_max_fd();
	return d;
}

int
watch_daemon_run(struct watch_daemon *d)
{
	if (watch_ipc_start(&d->ipc) == -1)
		fatalx("cannot talk to the parent");
	if (watch_api_start(d->api) == -1)
		fatal("apiserver engine");
	d->ipc.exit_code = 1;
	if (event_base_dispatch(d->base) == -1)
		fatalx("event loop");
	return d->ipc.exit_code;
}

void
watch_daemon_free(struct watch_daemon *d)
{
	if (d == NULL)
		return;
	watch_api_free(d->api);
	watch_httpd_free(d->httpd);
	watch_http_free(d->http);
	watch_conn_free(d->conn);
	watch_ipc_free(&d->ipc);
	wd_cache_free(d->cache);
	pw_rx_reset(&d->rx);
	free(d->hc);
	if (d->token_dirfd != -1)
		close(d->token_dirfd);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d);
}
