/*
 * bench_ingest FILE: watch ingest throughput, watcher -> planner, in one
 * process and without a kernel (docs/benchmarks.md, "watch ingest").
 *
 * FILE is a prerecorded watch stream (tests/bench/gen-objects.py writes
 * watch.jsonl: one compact JSON event per line, as the apiserver sends
 * them).  The whole file is read into memory first; the clock then runs
 * over the path each event takes in the daemons: the watcher's stream
 * splitter (watch_stream.c) fed in 16 KiB pieces, jansson, the record
 * conversion (watch_json.c), the watcher->planner encoding (proto_wp.c)
 * over a real SOCK_SEQPACKET socketpair, the planner's decoding, its
 * model (plan_model.c) and, after each piece, its incremental diff
 * (plan_diff_sync, what the daemon runs once per poll turn).
 *
 * Prints "events <n> seconds <t> records/s <r> cpu-seconds <c>
 * records/cpu-s <q> ops <k> rejected <j>" and the peak RSS.  The machine
 * is shared, so the rate per CPU second (user + system of this
 * single-threaded process) is the "on one core" figure; the wall-clock
 * rate is printed beside it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "ipc/frame.h"
#include "ipc/proto_wp.h"
#include "planner/plan_diff.h"
#include "planner/plan_model.h"
#include "watcherd/watch_json.h"
#include "watcherd/watch_stream.h"

#define ING_PIECE	16384

struct ing {
	struct ipc_chan	 wch;		/* the watcher's end */
	struct ipc_chan	 pch;		/* the planner's end */
	struct wp_rx	 rx;
	struct plan_model *m;
	struct plan_diff *d;
	struct plan_diff_sink sink;
	long		 events;
	long		 rejected;
	long		 ops;
};

static int
ing_count(const struct pa_op *op, void *arg)
{
	(void)op;
	((struct ing *)arg)->ops++;
	return 0;
}

/* The watcher's side: one event line to a record on the wire. */
static int
ing_line(void *arg, const char *line, size_t len)
{
	struct ing *g = arg;
	struct rec_service s;
	struct rec_slice sl;
	char why[WATCH_JSON_WHY_MAX];
	json_error_t err;
	json_t *ev, *obj;
	const char *kind;
	int r = -1;

	ev = json_loadb(line, len, 0, &err);
	if (ev == NULL)
		fatalx("event %ld: %s", g->events + 1, err.text);
	obj = json_object_get(ev, "object");
	kind = json_string_value(json_object_get(obj, "kind"));
	g->events++;
	if (kind != NULL && strcmp(kind, "Service") == 0) {
		if ((r = watch_json_service(obj, NULL, &s, why,
		    sizeof(why))) == WATCH_JSON_OK) {
			if (wp_send_service(&g->wch, &s) == -1)
				fatal("send service");
			rec_service_clear(&s);
		}
	} else if (kind != NULL && strcmp(kind, "EndpointSlice") == 0) {
		if ((r = watch_json_slice(obj, NULL, &sl, why,
		    sizeof(why))) == WATCH_JSON_OK) {
			if (wp_send_slice(&g->wch, &sl) == -1)
				fatal("send slice");
			rec_slice_clear(&sl);
		}
	}
	if (r != WATCH_JSON_OK)
		g->rejected++;
	json_decref(ev);
	return 0;
}

/* The planner's side: everything queued, received and applied. */
static void
ing_pump(struct ing *g)
{
	struct frame_msg msg;
	struct wp_event ev;
	const char *reason;
	int r;

	for (;;) {
		if (frame_pending(&g->wch) && frame_flush(&g->wch) == -1 &&
		    errno != EAGAIN)
			fatal("flush");
		while ((r = frame_recv(&g->pch, &msg)) == 1) {
			memset(&ev, 0, sizeof(ev));
			r = wp_rx_feed(&g->rx, &msg, &ev, &reason);
			if (r == -1)
				fatalx("planner side: %s", reason);
			if (r == 0)
				continue;
			if (ev.type == WP_EV_SERVICE &&
			    plan_model_svc_upsert(g->m, &ev.svc) == -1)
				fatal("service upsert");
			if (ev.type == WP_EV_SLICE &&
			    plan_model_slice_upsert(g->m, &ev.slice) == -1)
				fatal("slice upsert");
			wp_event_clear(&ev);
		}
		if (r == -1 && errno != EAGAIN)
			fatal("recv: %s", g->pch.reason);
		if (!frame_pending(&g->wch))
			break;
	}
	if (plan_diff_sync(g->d, g->m, &g->sink) == -1)
		fatalx("sync failed");
}

static double
now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct ing g;
	struct plan_config c;
	struct watch_stream *st;
	struct rusage ru;
	struct stat sb;
	char *buf;
	size_t off;
	double t0, c0, t, cpu;
	int fd, sv[2];

	log_init("bench_ingest", LOG_LEVEL_WARN, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: bench_ingest WATCH.jsonl\n");
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		fatal("%s", argv[1]);
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		fatal("malloc");
	for (off = 0; off < (size_t)sb.st_size; ) {
		ssize_t n = read(fd, buf + off, (size_t)sb.st_size - off);

		if (n <= 0)
			fatal("read %s", argv[1]);
		off += (size_t)n;
	}
	close(fd);

	memset(&g, 0, sizeof(g));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		fatal("socketpair");
	if (ipc_chan_init(&g.wch, sv[0], IPC_DIR_PW, IPC_DIR_WP) == -1 ||
	    ipc_chan_init(&g.pch, sv[1], IPC_DIR_WP, IPC_DIR_PW) == -1)
		fatal("channels");
	wp_rx_init(&g.rx);
	plan_config_init(&c);
	snprintf(c.node_name, sizeof(c.node_name), "node-1");
	if ((g.m = plan_model_new("node-1")) == NULL ||
	    (g.d = plan_diff_new(&c)) == NULL)
		fatal("planner");
	g.sink.emit = ing_count;
	g.sink.arg = &g;
	if ((st = watch_stream_new(1 << 22, ing_line, &g)) == NULL)
		fatal("stream");

	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (off = 0; off < (size_t)sb.st_size; off += ING_PIECE) {
		size_t n = (size_t)sb.st_size - off;

		if (n > ING_PIECE)
			n = ING_PIECE;
		if (watch_stream_feed(st, buf + off, n) == -1)
			fatal("stream");
		ing_pump(&g);
	}
	if (watch_stream_finish(st) == -1)
		fatal("stream end");
	ing_pump(&g);
	t = now(CLOCK_MONOTONIC) - t0;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;

	getrusage(RUSAGE_SELF, &ru);
	printf("events %ld seconds %.6f records/s %.0f cpu-seconds %.6f "
	    "records/cpu-s %.0f ops %ld rejected %ld\n", g.events, t,
	    (double)g.events / t, cpu, (double)g.events / cpu, g.ops,
	    g.rejected);
	printf("peak-rss-kb %ld\n", ru.ru_maxrss);
	watch_stream_free(st);
	wp_rx_reset(&g.rx);
	plan_diff_free(g.d);
	plan_model_free(g.m);
	ipc_chan_close(&g.wch);
	ipc_chan_close(&g.pch);
	free(buf);
	return g.rejected ? 1 : 0;
}
