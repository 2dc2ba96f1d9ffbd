/*
 * watch_driver: runs the watcher's list/watch engine against an apiserver
 * with a sink that prints what it receives, one line each, for the
 * tests/watch/ scripts:
 *
 *	<ms> <res> BEGIN
 *	<ms> <res> ITEM <ns/name> <rv>
 *	<ms> <res> END <rv> items=<n>
 *	<ms> <res> ADDED|MODIFIED|DELETED <ns/name> <rv>
 *	<ms> <res> BOOKMARK <rv>
 *	<ms> <res> REJECT <ns/name>	(a Service whose clusterIP does not
 *					parse: stands in for the record
 *					conversion that drops bad objects)
 *
 * <ms> is milliseconds since start.  At exit it prints one STATS line per
 * resource and the peak RSS.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/resource.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "watcherd/watch_api.h"
#include "watcherd/watch_http.h"
#include "watcherd/watch_kubeconfig.h"

/* The RSS of a sanitizer build means nothing; say so. */
#if defined(__SANITIZE_ADDRESS__)
#define DRV_SAN	" asan"
#else
#define DRV_SAN	""
#endif

struct drv {
	struct timespec		 t0;
	struct event_base	*base;
	struct watch_api	*api;
	int			 count_only;
	unsigned long		 items[WATCH_RES_COUNT];
};

static const char *const drv_res[WATCH_RES_COUNT] = { "svc", "slice",
    "node" };

static long
drv_ms(struct drv *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - d->t0.tv_sec) * 1000 +
	    (now.tv_nsec - d->t0.tv_nsec) / 1000000;
}

static void
drv_name(json_t *obj, char *buf, size_t len, const char **rv)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *ns, *name;

	ns = json_string_value(json_object_get(md, "namespace"));
	name = json_string_value(json_object_get(md, "name"));
	*rv = json_string_value(json_object_get(md, "resourceVersion"));
	if (*rv == NULL)
		*rv = "-";
	snprintf(buf, len, "%s%s%s", ns ? ns : "", ns ? "/" : "",
	    name ? name : "?");
}

/* Whether the object would be rejected by the record conversion. */
static int
drv_bad(enum watch_res res, json_t *obj)
{
	const char *ip;
	unsigned char a[16];

	if (res != WATCH_RES_SERVICE)
		return 0;
	ip = json_string_value(json_object_get(json_object_get(obj, "spec"),
	    "clusterIP"));
	if (ip == NULL || ip[0] == '\0' || strcmp(ip, "None") == 0)
		return 0;
	return inet_pton(AF_INET, ip, a) != 1 &&
	    inet_pton(AF_INET6, ip, a) != 1;
}

static void
drv_begin(void *arg, enum watch_res res)
{
	struct drv *d = arg;

	d->items[res] = 0;
	printf("%ld %s BEGIN\n", drv_ms(d), drv_res[res]);
	fflush(stdout);
}

static void
drv_item(void *arg, enum watch_res res, json_t *obj)
{
	struct drv *d = arg;
	char name[320];
	const char *rv;

	d->items[res]++;
	if (d->count_only)
		return;
	drv_name(obj, name, sizeof(name), &rv);
	if (drv_bad(res, obj))
		printf("%ld %s REJECT %s\n", drv_ms(d), drv_res[res], name);
	else
		printf("%ld %s ITEM %s %s\n", drv_ms(d), drv_res[res], name,
		    rv);
	fflush(stdout);
}

static void
drv_end(void *arg, enum watch_res res, const char *rv)
{
	struct drv *d = arg;

	printf("%ld %s END %s items=%lu\n", drv_ms(d), drv_res[res], rv,
	    d->items[res]);
	fflush(stdout);
}

static void
drv_event(void *arg, enum watch_res res, enum watch_ev ev, json_t *obj)
{
	static const char *const evs[] = { "?", "ADDED", "MODIFIED",
	    "DELETED" };
	struct drv *d = arg;
	char name[320];
	const char *rv;

	drv_name(obj, name, sizeof(name), &rv);
	if (drv_bad(res, obj))
		printf("%ld %s REJECT %s\n", drv_ms(d), drv_res[res], name);
	else
		printf("%ld %s %s %s %s\n", drv_ms(d), drv_res[res], evs[ev],
		    name, rv);
	fflush(stdout);
}

static void
drv_bookmark(void *arg, enum watch_res res, const char *rv)
{
	struct drv *d = arg;

	printf("%ld %s BOOKMARK %s\n", drv_ms(d), drv_res[res], rv);
	fflush(stdout);
}

static void
drv_stop(evutil_socket_t fd, short kind, void *arg)
{
	struct drv *d = arg;

	(void)fd;
	(void)kind;
	event_base_loopbreak(d->base);
}

static void
drv_relist(evutil_socket_t fd, short kind, void *arg)
{
	struct drv *d = arg;

	(void)fd;
	(void)kind;
	printf("%ld RELIST\n", drv_ms(d));
	fflush(stdout);
	watch_api_relist(d->api);
}

static void
usage(void)
{
	fprintf(stderr, "usage: watch_driver [--kubeconfig F] [--master URL] "
	    "[--incluster DIR] [--node N]\n    [--proxy-name P] [--resources "
	    "svc,slice,node] [--page-limit N] [--watch-timeout S]\n"
	    "    [--watch-grace S] [--watch-idle S] [--list-idle S] "
	    "[--backoff-base MS] "
	    "[--backoff-cap MS]\n    [--jitter PCT] [--min-watch-ms MS] "
	    "[--max-page-bytes N] [--max-event-bytes N]\n    [--exit-after S] "
	    "[--relist-after S] [--count-only] [--check-config]\n"
	    "    [--keepalive IDLE,INTVL,CNT,USER_TIMEOUT_MS] [-v]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "master", required_argument, NULL, 'm' },
		{ "incluster", required_argument, NULL, 'i' },
		{ "node", required_argument, NULL, 'n' },
		{ "proxy-name", required_argument, NULL, 'p' },
		{ "resources", required_argument, NULL, 'r' },
		{ "page-limit", required_argument, NULL, 'l' },
		{ "watch-timeout", required_argument, NULL, 't' },
		{ "watch-grace", required_argument, NULL, 'g' },
		{ "list-idle", required_argument, NULL, 's' },
		{ "watch-idle", required_argument, NULL, 'I' },
		{ "backoff-base", required_argument, NULL, 'b' },
		{ "backoff-cap", required_argument, NULL, 'c' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "min-watch-ms", required_argument, NULL, 'w' },
		{ "max-page-bytes", required_argument, NULL, 'P' },
		{ "max-event-bytes", required_argument, NULL, 'E' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "relist-after", required_argument, NULL, 'R' },
		{ "count-only", no_argument, NULL, 'C' },
		{ "check-config", no_argument, NULL, 'K' },
		{ "keepalive", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_api_opts o;
	struct watch_sink sink;
	struct watch_api_stats st;
	struct watch_conn *conn;
	struct watch_http *http;
	struct event *sigterm, *sigint, *stop = NULL, *relist = NULL;
	struct timeval tv;
	struct rusage ru;
	struct drv d;
	const char *kubeconfig = NULL, *master = NULL, *incluster = NULL;
	char err[512], *tok, *save;
	double exit_after = 0, relist_after = 0;
	unsigned ka[4] = { 0, 0, 0, 0 };
	int ch, check = 0, i, rc;

	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	o.backoff_jitter_pct = UINT32_MAX;
	log_init("watch_driver", LOG_LEVEL_INFO, 0);
	while ((ch = getopt_long(argc, argv, "v", lopts, NULL)) != -1) {
		switch (ch) {
		case 'k': kubeconfig = optarg; break;
		case 'm': master = optarg; break;
		case 'i': incluster = optarg; break;
		case 'n': o.node_name = optarg; break;
		case 'p': o.proxy_name = optarg; break;
		case 'r':
			for (tok = strtok_r(optarg, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				for (i = 0; i < WATCH_RES_COUNT; i++)
					if (strcmp(tok, drv_res[i]) == 0)
						o.resources |= 1u << i;
			}
			break;
		case 'l': o.page_limit = (unsigned)atoi(optarg); break;
		case 't': o.watch_timeout_s = (unsigned)atoi(optarg); break;
		case 'g': o.watch_grace_s = (unsigned)atoi(optarg); break;
		case 's': o.list_idle_s = (unsigned)atoi(optarg); break;
		case 'I': o.watch_idle_s = (unsigned)atoi(optarg); break;
		case 'b': o.backoff_base_ms = (uint32_t)atol(optarg); break;
		case 'c': o.backoff_cap_ms = (uint32_t)atol(optarg); break;
		case 'j': o.backoff_jitter_pct = (uint32_t)atol(optarg); break;
		case 'w': o.min_watch_ms = (uint32_t)atol(optarg); break;
		case 'P': o.max_page_bytes = (size_t)atol(optarg); break;
		case 'E': o.max_event_bytes = (size_t)atol(optarg); break;
		case 'x': exit_after = atof(optarg); break;
		case 'R': relist_after = atof(optarg); break;
		case 'C': d.count_only = 1; break;
		case 'K': check = 1; break;
		case 'A':
			if (sscanf(optarg, "%u,%u,%u,%u", &ka[0], &ka[1],
			    &ka[2], &ka[3]) != 4)
				usage();
			break;
		case 'v': log_setlevel(LOG_LEVEL_DEBUG); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	clock_gettime(CLOCK_MONOTONIC, &d.t0);
	if ((conn = watch_conn_new()) == NULL)
		fatal("watch_conn_new");
	err[0] = '\0';
	if (kubeconfig != NULL)
		rc = watch_kubeconfig_load(conn, kubeconfig, master, err,
		    sizeof(err));
	else if (master != NULL)
		rc = watch_master_load(conn, master, err, sizeof(err));
	else
		rc = watch_incluster_load(conn,
		    getenv("KUBERNETES_SERVICE_HOST"),
		    getenv("KUBERNETES_SERVICE_PORT"),
		    incluster ? incluster : WATCH_SA_DIR, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "config error: %s\n", err);
		watch_conn_free(conn);
		return 2;
	}
	if (check) {
		printf("server %s\ncontext %s\nca_file %s\nca_pem %zu\n"
		    "tls_server_name %s\ntoken %s\ntoken_file %s\n",
		    conn->server, conn->context ? conn->context : "-",
		    conn->ca_file ? conn->ca_file : "-", conn->ca_pem.len,
		    conn->tls_server_name ? conn->tls_server_name : "-",
		    conn->token ? "set" : "-",
		    conn->token_file ? conn->token_file : "-");
		watch_conn_free(conn);
		return 0;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((http = watch_http_new(d.base, conn, err, sizeof(err))) == NULL) {
		fprintf(stderr, "http: %s\n", err);
		watch_conn_free(conn);
		return 2;
	}
	if (ka[0] != 0)
		watch_http_set_keepalive(http, ka[0], ka[1], ka[2], ka[3]);
	sink.begin = drv_begin;
	sink.item = drv_item;
	sink.end = drv_end;
	sink.event = drv_event;
	sink.bookmark = drv_bookmark;
	sink.arg = &d;
	if ((d.api = watch_api_new(d.base, http, &o, &sink)) == NULL)
		fatal("watch_api_new");
	sigterm = evsignal_new(d.base, SIGTERM, drv_stop, &d);
	sigint = evsignal_new(d.base, SIGINT, drv_stop, &d);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (exit_after > 0) {
		stop = evtimer_new(d.base, drv_stop, &d);
		tv.tv_sec = (time_t)exit_after;
		tv.tv_usec = (suseconds_t)((exit_after - tv.tv_sec) * 1e6);
		evtimer_add(stop, &tv);
	}
	if (relist_after > 0) {
		relist = evtimer_new(d.base, drv_relist, &d);
		tv.tv_sec = (time_t)relist_after;
		tv.tv_usec = (suseconds_t)((relist_after - tv.tv_sec) * 1e6);
		evtimer_add(relist, &tv);
	}
	watch_api_start(d.api);
	event_base_dispatch(d.base);

	for (i = 0; i < WATCH_RES_COUNT; i++) {
		watch_api_stats(d.api, (enum watch_res)i, &st);
		printf("%ld STATS %s lists=%llu relists=%llu pages=%llu "
		    "watches=%llu restarts=%llu failures=%llu events=%llu "
		    "bookmarks=%llu idle=%llu\n", drv_ms(&d), drv_res[i],
		    (unsigned long long)st.lists,
		    (unsigned long long)st.relists,
		    (unsigned long long)st.pages,
		    (unsigned long long)st.watches,
		    (unsigned long long)st.watch_restarts,
		    (unsigned long long)st.failures,
		    (unsigned long long)st.events,
		    (unsigned long long)st.bookmarks,
		    (unsigned long long)st.watch_idle);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%ld RSS %ld%s\n", drv_ms(&d), ru.ru_maxrss, DRV_SAN);
	fflush(stdout);
	watch_api_free(d.api);
	watch_http_free(http);
	watch_conn_free(conn);
	if (stop != NULL)
		event_free(stop);
	if (relist != NULL)
		event_free(relist);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(d.base);
	curl_global_cleanup();
	return 0;
}
