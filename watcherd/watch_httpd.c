/*
 * kube-proxy's HTTP endpoints: see watch_httpd.h.
 *
 * Bodies follow kube-proxy 1.33+: /healthz and /livez are a marshalled
 * ProxyHealthStatus (RFC 3339 times with nanoseconds, per-family status,
 * nodeEligible only on /healthz), the service health check is the
 * tab-indented object without a trailing newline that kube-proxy has always
 * written.  Times are UTC.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "common/log.h"
#include "watcherd/watch_httpd.h"

struct httpd_hc {
	TAILQ_ENTRY(httpd_hc)	 entry;
	struct watch_httpd	*httpd;
	char			*ns;
	char			*name;
	uint16_t		 port;
	unsigned		 endpoints;
	struct evhttp		*http;
};

struct httpd_family {
	struct timespec		 last_updated;
	struct timespec		 oldest_queued;	/* zero: nothing pending */
};

struct watch_httpd {
	struct event_base	*base;
	struct watch_httpd_conf	 conf;
	struct evhttp		*healthz;
	struct evhttp		*metrics;
	uint16_t		 healthz_port;
	uint16_t		 metrics_port;
	watch_httpd_metrics_fn	 metrics_fn;
	void			*metrics_arg;
	struct httpd_family	 fam[WATCH_FAMILY_COUNT];
	int			 node_eligible;
	/* kubeproxy_proxy_{healthz,livez}_total{code="200"|"503"} */
	uint64_t		 healthz_total[2];
	uint64_t		 livez_total[2];
	TAILQ_HEAD(, httpd_hc)	 hcs;
};

static const char *const httpd_family_name[WATCH_FAMILY_COUNT] = {
	"IPv4", "IPv6",
};

/* Go's time.RFC3339Nano in UTC: fraction without trailing zeros. */
static void
httpd_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	char frac[16];
	size_t n, f;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	frac[0] = '\0';
	if (ts->tv_nsec != 0) {
		snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
		for (f = strlen(frac); frac[f - 1] == '0'; f--)
			frac[f - 1] = '\0';
	}
	snprintf(buf + n, len - n, "%sZ", frac);
}

static int64_t
httpd_ms_since(const struct timespec *then, const struct timespec *now)
{
	return (int64_t)(now->tv_sec - then->tv_sec) * 1000 +
	    (now->tv_nsec - then->tv_nsec) / 1000000;
}

static int
httpd_family_healthy(const struct watch_httpd *h, int f,
    const struct timespec *now)
{
	const struct httpd_family *fam = &h->fam[f];

	/* Healthy if nothing waits, or what waits is not too old yet. */
	if (fam->oldest_queued.tv_sec == 0 && fam->oldest_queued.tv_nsec == 0)
		return 1;
	return httpd_ms_since(&fam->oldest_queued, now) <
	    (int64_t)h->conf.health_timeout_ms;
}

static int
httpd_healthy_at(const struct watch_httpd *h, const struct timespec *now,
    struct timespec *last)
{
	int f, healthy = 1;

	memset(last, 0, sizeof(*last));
	for (f = 0; f < WATCH_FAMILY_COUNT; f++) {
		if (!(h->conf.families & (1u << f)))
			continue;
		if (!httpd_family_healthy(h, f, now))
			healthy = 0;
		if (h->fam[f].last_updated.tv_sec > last->tv_sec ||
		    (h->fam[f].last_updated.tv_sec == last->tv_sec &&
		    h->fam[f].last_updated.tv_nsec > last->tv_nsec))
			*last = h->fam[f].last_updated;
	}
	return healthy;
}

int
watch_httpd_healthy(const struct watch_httpd *h)
{
	struct timespec now, last;

	clock_gettime(CLOCK_REALTIME, &now);
	return httpd_healthy_at(h, &now, &last);
}

void
watch_httpd_queued(struct watch_httpd *h, enum watch_family f)
{
	struct httpd_family *fam = &h->fam[f];

	if (fam->oldest_queued.tv_sec == 0 && fam->oldest_queued.tv_nsec == 0)
		clock_gettime(CLOCK_REALTIME, &fam->oldest_queued);
}

void
watch_httpd_updated(struct watch_httpd *h, enum watch_family f)
{
	struct httpd_family *fam = &h->fam[f];

	clock_gettime(CLOCK_REALTIME, &fam->last_updated);
	memset(&fam->oldest_queued, 0, sizeof(fam->oldest_queued));
}

void
watch_httpd_node_eligible(struct watch_httpd *h, int eligible)
{
	h->node_eligible = eligible != 0;
}

void
watch_httpd_set_metrics(struct watch_httpd *h, watch_httpd_metrics_fn fn,
    void *arg)
{
	h->metrics_fn = fn;
	h->metrics_arg = arg;
}

static void
httpd_reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, struct evbuffer *body)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);

	evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, code, reason, body);
}

static void
httpd_not_found(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "404 page not found\n");
	httpd_reply(req, 404, "Not Found", "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* /healthz (with the node check) and /livez (without). */
static void
httpd_health(struct watch_httpd *h, struct evhttp_request *req, int healthz)
{
	struct timespec now, last;
	struct evbuffer *b;
	char tnow[64], tlast[64], tfam[64];
	int healthy, f, first = 1;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	healthy = httpd_healthy_at(h, &now, &last);
	if (healthz && !h->node_eligible)
		healthy = 0;
	/* kube-proxy reports the current time as lastUpdated when healthy. */
	if (healthy)
		last = now;
	httpd_time(&now, tnow, sizeof(tnow));
	httpd_time(&last, tlast, sizeof(tlast));
	evbuffer_add_printf(b, "{\"lastUpdated\":\"%s\",\"currentTime\":\"%s\"",
	    tlast, tnow);
	if (healthz)
		evbuffer_add_printf(b, ",\"nodeEligible\":%s",
		    h->node_eligible ? "true" : "false");
	evbuffer_add_printf(b, ",\"healthy\":%s,\"status\":{",
	    healthy ? "true" : "false");
	for (f = 0; f < WATCH_FAMILY_COUNT; f++) {
		if (!(h->conf.families & (1u << f)))
			continue;
		httpd_time(&h->fam[f].last_updated, tfam, sizeof(tfam));
		evbuffer_add_printf(b, "%s\"%s\":{\"lastUpdated\":\"%s\","
		    "\"healthy\":%s}", first ? "" : ",", httpd_family_name[f],
		    tfam, httpd_family_healthy(h, f, &now) ? "true" : "false");
		first = 0;
	}
	evbuffer_add_printf(b, "}}");
	if (healthz)
		h->healthz_total[!healthy]++;
	else
		h->livez_total[!healthy]++;
	httpd_reply(req, healthy ? 200 : 503, healthy ? "OK" :
	    "Service Unavailable", "application/json", b);
	evbuffer_free(b);
}

static void
httpd_healthz_cb(struct evhttp_request *req, void *arg)
{
	struct watch_httpd *h = arg;
	const char *path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path != NULL && strcmp(path, "/healthz") == 0)
		httpd_health(h, req, 1);
	else if (path != NULL && strcmp(path, "/livez") == 0)
		httpd_health(h, req, 0);
	else
		httpd_not_found(req);
}

static void
httpd_counter(struct evbuffer *b, const char *name, const char *help,
    const uint64_t total[2])
{
	evbuffer_add_printf(b, "# HELP %s [ALPHA] %s\n# TYPE %s counter\n",
	    name, help, name);
	if (total[0] != 0)
		evbuffer_add_printf(b, "%s{code=\"200\"} %llu\n", name,
		    (unsigned long long)total[0]);
	if (total[1] != 0)
		evbuffer_add_printf(b, "%s{code=\"503\"} %llu\n", name,
		    (unsigned long long)total[1]);
}

static void
httpd_metrics_cb(struct evhttp_request *req, void *arg)
{
	struct watch_httpd *h = arg;
	struct evbuffer *b;
	const char *path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL) {
		httpd_not_found(req);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		evbuffer_add_printf(b, "ok");
		httpd_reply(req, 200, "OK", "text/plain; charset=utf-8", b);
	} else if (strcmp(path, "/proxyMode") == 0) {
		evbuffer_add_printf(b, "ipvs");
		httpd_reply(req, 200, "OK", "text/plain; charset=utf-8", b);
	} else if (strcmp(path, "/metrics") == 0) {
		httpd_counter(b, "kubeproxy_proxy_healthz_total",
		    "Cumulative proxy healthz HTTP status", h->healthz_total);
		httpd_counter(b, "kubeproxy_proxy_livez_total",
		    "Cumulative proxy livez HTTP status", h->livez_total);
		if (h->metrics_fn != NULL)
			h->metrics_fn(h->metrics_arg, b);
		httpd_reply(req, 200, "OK",
		    "text/plain; version=0.0.4; charset=utf-8", b);
	} else
		httpd_not_found(req);
	evbuffer_free(b);
}

/* Any path: the Service's local endpoint count, as kube-proxy answers. */
static void
httpd_hc_cb(struct evhttp_request *req, void *arg)
{
	struct httpd_hc *hc = arg;
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct evbuffer *b;
	json_t *jns, *jname;
	char *ns = NULL, *name = NULL, weight[16];
	int healthy, ok;

	healthy = watch_httpd_healthy(hc->httpd);
	ok = hc->endpoints > 0 && healthy;
	/* Names are DNS labels, but quote them as JSON all the same. */
	jns = json_string(hc->ns);
	jname = json_string(hc->name);
	if (jns != NULL && jname != NULL) {
		ns = json_dumps(jns, JSON_ENCODE_ANY);
		name = json_dumps(jname, JSON_ENCODE_ANY);
	}
	json_decref(jns);
	json_decref(jname);
	if ((b = evbuffer_new()) == NULL || ns == NULL || name == NULL) {
		evhttp_send_error(req, 500, NULL);
		goto out;
	}
	evbuffer_add_printf(b, "{\n\t\"service\": {\n\t\t\"namespace\": %s,\n"
	    "\t\t\"name\": %s\n\t},\n\t\"localEndpoints\": %u,\n"
	    "\t\"serviceProxyHealthy\": %s\n}", ns, name, hc->endpoints,
	    healthy ? "true" : "false");
	snprintf(weight, sizeof(weight), "%u", hc->endpoints);
	evhttp_add_header(oh, "Content-Type", "application/json");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(oh, "X-Load-Balancing-Endpoint-Weight", weight);
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" :
	    "Service Unavailable", b);
out:
	if (b != NULL)
		evbuffer_free(b);
	free(ns);
	free(name);
}

/* Splits "host:port" / "[v6]:port"; host "" means all addresses. */
static int
httpd_split(const char *addr, char *host, size_t hlen, uint16_t *port)
{
	const char *colon, *h = addr, *hend;
	char *end;
	unsigned long p;

	if ((colon = strrchr(addr, ':')) == NULL)
		return -1;
	hend = colon;
	if (addr[0] == '[') {
		if (colon == addr || colon[-1] != ']')
			return -1;
		h = addr + 1;
		hend = colon - 1;
	}
	if ((size_t)(hend - h) >= hlen)
		return -1;
	memcpy(host, h, hend - h);
	host[hend - h] = '\0';
	if (host[0] == '\0')
		snprintf(host, hlen, "0.0.0.0");
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static uint16_t
httpd_bound_port(struct evhttp_bound_socket *bs)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static struct evhttp *
httpd_listen(struct event_base *base, const char *addr,
    void (*cb)(struct evhttp_request *, void *), void *arg, uint16_t *bound,
    char *err, size_t errlen)
{
	struct evhttp *http;
	struct evhttp_bound_socket *bs;
	char host[256];
	uint16_t port;

	if (httpd_split(addr, host, sizeof(host), &port) == -1) {
		errfmt(err, errlen, "\"%s\" is not host:port", addr);
		return NULL;
	}
	if ((http = evhttp_new(base)) == NULL) {
		errfmt(err, errlen, "evhttp_new failed");
		return NULL;
	}
	evhttp_set_gencb(http, cb, arg);
	evhttp_set_max_headers_size(http, 16 * 1024);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_timeout(http, 30);
	if ((bs = evhttp_bind_socket_with_handle(http, host, port)) == NULL) {
		errfmt(err, errlen, "cannot listen on %s: %s", addr,
		    strerror(errno));
		evhttp_free(http);
		return NULL;
	}
	*bound = httpd_bound_port(bs);
	return http;
}

struct watch_httpd *
watch_httpd_new(struct event_base *base, const struct watch_httpd_conf *conf,
    char *err, size_t errlen)
{
	struct watch_httpd *h;
	int f;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		errfmt(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	h->base = base;
	h->conf = *conf;
	h->conf.healthz_addr = h->conf.metrics_addr = NULL;
	if (h->conf.families == 0)
		h->conf.families = 1u << WATCH_FAMILY_IPV4;
	h->node_eligible = 1;
	TAILQ_INIT(&h->hcs);
	/* Healthy while starting: as if a sync had just completed. */
	for (f = 0; f < WATCH_FAMILY_COUNT; f++)
		clock_gettime(CLOCK_REALTIME, &h->fam[f].last_updated);
	if (conf->healthz_addr != NULL && conf->healthz_addr[0] != '\0' &&
	    (h->healthz = httpd_listen(base, conf->healthz_addr,
	    httpd_healthz_cb, h, &h->healthz_port, err, errlen)) == NULL)
		goto fail;
	if (conf->metrics_addr != NULL && conf->metrics_addr[0] != '\0' &&
	    (h->metrics = httpd_listen(base, conf->metrics_addr,
	    httpd_metrics_cb, h, &h->metrics_port, err, errlen)) == NULL)
		goto fail;
	return h;
fail:
	watch_httpd_free(h);
	return NULL;
}

static void
httpd_hc_free(struct httpd_hc *hc)
{
	TAILQ_REMOVE(&hc->httpd->hcs, hc, entry);
	if (hc->http != NULL)
		evhttp_free(hc->http);
	free(hc->ns);
	free(hc->name);
	free(hc);
}

void
watch_httpd_free(struct watch_httpd *h)
{
	if (h == NULL)
		return;
	while (!TAILQ_EMPTY(&h->hcs))
		httpd_hc_free(TAILQ_FIRST(&h->hcs));
	if (h->healthz != NULL)
		evhttp_free(h->healthz);
	if (h->metrics != NULL)
		evhttp_free(h->metrics);
	free(h);
}

uint16_t
watch_httpd_healthz_port(const struct watch_httpd *h)
{
	return h->healthz_port;
}

uint16_t
watch_httpd_metrics_port(const struct watch_httpd *h)
{
	return h->metrics_port;
}

static struct httpd_hc *
httpd_hc_find(struct watch_httpd *h, const char *ns, const char *name)
{
	struct httpd_hc *hc;

	TAILQ_FOREACH(hc, &h->hcs, entry)
		if (strcmp(hc->ns, ns) == 0 && strcmp(hc->name, name) == 0)
			return hc;
	return NULL;
}

int
watch_httpd_hc_set(struct watch_httpd *h, const char *ns, const char *name,
    uint16_t port, unsigned local_endpoints)
{
	struct httpd_hc *hc;
	char addr[32], err[256];
	uint16_t bound;

	if (port == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((hc = httpd_hc_find(h, ns, name)) != NULL && hc->port != port) {
		httpd_hc_free(hc);
		hc = NULL;
	}
	if (hc == NULL) {
		if ((hc = calloc(1, sizeof(*hc))) == NULL)
			return -1;
		hc->httpd = h;
		hc->port = port;
		if ((hc->ns = strdup(ns)) == NULL ||
		    (hc->name = strdup(name)) == NULL) {
			free(hc->ns);
			free(hc);
			return -1;
		}
		TAILQ_INSERT_TAIL(&h->hcs, hc, entry);
		snprintf(addr, sizeof(addr), "0.0.0.0:%u", port);
		if ((hc->http = httpd_listen(h->base, addr, httpd_hc_cb, hc,
		    &bound, err, sizeof(err))) == NULL) {
			log_warnx("health check of %s/%s: %s", ns, name, err);
			httpd_hc_free(hc);
			return -1;
		}
	}
	hc->endpoints = local_endpoints;
	return 0;
}

void
watch_httpd_hc_del(struct watch_httpd *h, const char *ns, const char *name)
{
	struct httpd_hc *hc;

	if ((hc = httpd_hc_find(h, ns, name)) != NULL)
		httpd_hc_free(hc);
}
