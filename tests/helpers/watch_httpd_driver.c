/*
 * watch_httpd_driver: serves kube-proxy's HTTP endpoints (watcherd/
 * watch_httpd.c) with a scripted health state, for tests/watch/12-httpd.t.
 *
 *	--healthz ADDR --metrics ADDR	listen addresses (port 0: any)
 *	--families 4|6|46		families served
 *	--timeout-ms N			health timeout (2 x sync period)
 *	--hc NS/NAME:PORT:N		a service health check
 *	--queue-at S, --update-at S	a change queued / a sync done (IPv4)
 *	--ineligible-at S		the node becomes ineligible
 *	--ports-file F			"<healthz port> <metrics port>"
 *	--exit-after S
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "watcherd/watch_httpd.h"

enum drv_act {
	DRV_QUEUE,
	DRV_UPDATE,
	DRV_INELIGIBLE,
	DRV_EXIT,
};

struct drv_timer {
	struct watch_httpd	*h;
	struct event_base	*base;
	struct event		*ev;
	enum drv_act		 act;
};

static void
drv_fire(evutil_socket_t fd, short kind, void *arg)
{
	struct drv_timer *t = arg;

	(void)fd;
	(void)kind;
	switch (t->act) {
	case DRV_QUEUE:
		watch_httpd_queued(t->h, WATCH_FAMILY_IPV4);
		break;
	case DRV_UPDATE:
		watch_httpd_updated(t->h, WATCH_FAMILY_IPV4);
		break;
	case DRV_INELIGIBLE:
		watch_httpd_node_eligible(t->h, 0);
		break;
	case DRV_EXIT:
		event_base_loopbreak(t->base);
		break;
	}
}

static void
drv_metrics(void *arg, struct evbuffer *out)
{
	(void)arg;
	evbuffer_add_printf(out, "# HELP kipvs_watch_relists_total "
	    "Relists after 410 Gone.\n# TYPE kipvs_watch_relists_total "
	    "counter\nkipvs_watch_relists_total{resource=\"services\"} 0\n");
}

static void
drv_at(struct drv_timer *t, double s)
{
	struct timeval tv;

	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	if ((t->ev = evtimer_new(t->base, drv_fire, t)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(t->ev, &tv);
}

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "healthz", required_argument, NULL, 'h' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "families", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "hc", required_argument, NULL, 'c' },
		{ "queue-at", required_argument, NULL, 'q' },
		{ "update-at", required_argument, NULL, 'u' },
		{ "ineligible-at", required_argument, NULL, 'i' },
		{ "ports-file", required_argument, NULL, 'p' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_httpd_conf conf;
	struct drv_timer timers[4];
	struct watch_httpd *h;
	struct event_base *base;
	char *hcs[16], err[256], ns[64], name[256];
	const char *ports_file = NULL;
	double at[4] = { 0, 0, 0, 0 };
	unsigned port, n;
	int ch, i, nhc = 0;
	FILE *f;

	memset(&conf, 0, sizeof(conf));
	conf.health_timeout_ms = 60000;
	log_init("watch_httpd_driver", LOG_LEVEL_INFO, 0);
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			conf.healthz_addr = optarg;
			break;
		case 'm':
			conf.metrics_addr = optarg;
			break;
		case 'f':
			if (strchr(optarg, '4') != NULL)
				conf.families |= 1u << WATCH_FAMILY_IPV4;
			if (strchr(optarg, '6') != NULL)
				conf.families |= 1u << WATCH_FAMILY_IPV6;
			break;
		case 't':
			conf.health_timeout_ms = (uint32_t)atol(optarg);
			break;
		case 'c':
			if (nhc < 16)
				hcs[nhc++] = optarg;
			break;
		case 'q':
			at[DRV_QUEUE] = atof(optarg);
			break;
		case 'u':
			at[DRV_UPDATE] = atof(optarg);
			break;
		case 'i':
			at[DRV_INELIGIBLE] = atof(optarg);
			break;
		case 'p':
			ports_file = optarg;
			break;
		case 'x':
			at[DRV_EXIT] = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((h = watch_httpd_new(base, &conf, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	watch_httpd_set_metrics(h, drv_metrics, NULL);
	for (i = 0; i < nhc; i++) {
		if (sscanf(hcs[i], "%63[^/]/%255[^:]:%u:%u", ns, name, &port,
		    &n) != 4)
			fatalx("bad --hc %s", hcs[i]);
		if (watch_httpd_hc_set(h, ns, name, (uint16_t)port, n) == -1)
			fatalx("cannot serve the health check of %s", hcs[i]);
	}
	for (i = 0; i < 4; i++) {
		timers[i].h = h;
		timers[i].base = base;
		timers[i].act = (enum drv_act)i;
		timers[i].ev = NULL;
		if (at[i] > 0)
			drv_at(&timers[i], at[i]);
	}
	if (ports_file != NULL) {
		if ((f = fopen(ports_file, "w")) == NULL)
			fatal("%s", ports_file);
		fprintf(f, "%u %u\n", watch_httpd_healthz_port(h),
		    watch_httpd_metrics_port(h));
		fclose(f);
	}
	event_base_dispatch(base);
	for (i = 0; i < 4; i++)
		if (timers[i].ev != NULL)
			event_free(timers[i].ev);
	watch_httpd_free(h);
	event_base_free(base);
	return 0;
}
