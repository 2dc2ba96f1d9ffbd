/*
 * kube-proxy's HTTP endpoints, served by the watcher on libevent's HTTP
 * server:
 *
 *	--healthz-bind-address (0.0.0.0:10256)	/healthz, /livez
 *	--metrics-bind-address (127.0.0.1:10249)
 *						/metrics, /healthz, /proxyMode
 *	one port per ETP=Local LoadBalancer Service	any path
 *
 * in kube-proxy 1.33+'s shapes (JSON-marshalled health with per-family
 * status).  The health state is fed by the owner from what the planner
 * reports: a change was queued, a sync completed, the node's eligibility,
 * and each health-checked Service's local ready endpoint count.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_HTTPD_H
#define KIPVS_WATCH_HTTPD_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct watch_httpd;

enum watch_family {
	WATCH_FAMILY_IPV4 = 0,
	WATCH_FAMILY_IPV6,
};
#define WATCH_FAMILY_COUNT	2

struct watch_httpd_conf {
	const char	*healthz_addr;	/* "host:port"; NULL or "": off */
	const char	*metrics_addr;	/* "host:port"; NULL or "": off */
	unsigned	 families;	/* mask of 1 << enum watch_family */
	uint32_t	 health_timeout_ms; /* 2 x the sync period */
};

/*
 * Extra /metrics text (Prometheus exposition format) the owner appends:
 * kube-proxy's sync metrics and kipvs's own.
 */
typedef void (*watch_httpd_metrics_fn)(void *arg, struct evbuffer *out);

struct watch_httpd *watch_httpd_new(struct event_base *base,
	    const struct watch_httpd_conf *conf, char *err, size_t errlen);
void	watch_httpd_free(struct watch_httpd *);

/* The ports actually bound (useful with port 0); 0 when off. */
uint16_t watch_httpd_healthz_port(const struct watch_httpd *);
uint16_t watch_httpd_metrics_port(const struct watch_httpd *);

void	watch_httpd_set_metrics(struct watch_httpd *, watch_httpd_metrics_fn,
	    void *arg);

/* A change for this family was queued (kube-proxy's QueuedUpdate). */
void	watch_httpd_queued(struct watch_httpd *, enum watch_family);
/* A sync of this family completed (kube-proxy's Updated). */
void	watch_httpd_updated(struct watch_httpd *, enum watch_family);
/* The own Node is (not) being deleted / drained by the autoscaler. */
void	watch_httpd_node_eligible(struct watch_httpd *, int eligible);
/* Whether the proxy is healthy now (no node check): for tests. */
int	watch_httpd_healthy(const struct watch_httpd *);

/*
 * Serves the health check of Service ns/name on 0.0.0.0:port with its
 * number of local ready endpoints; called again it updates the count (or
 * moves the port).  Returns -1 if the port cannot be bound (the owner
 * retries at its next sync, as kube-proxy does).
 */
int	watch_httpd_hc_set(struct watch_httpd *, const char *ns,
	    const char *name, uint16_t port, unsigned local_endpoints);
/* Stops serving it (the Service went away or lost its port). */
void	watch_httpd_hc_del(struct watch_httpd *, const char *ns,
	    const char *name);

#endif /* KIPVS_WATCH_HTTPD_H */
