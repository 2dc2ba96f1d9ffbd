/*
 * Unit tests for watcherd/watch_stream.c: the recorded watch bodies of a
 * real kube-apiserver (tests/apiserver/recorded/) split into the same
 * events whatever the chunking, plus the edge cases: CRLF, blank lines,
 * the line bound, a cut-off last event, a callback that stops.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watcherd/watch_stream.h"
#include "tests/tap.h"

#define REC_DIR	"tests/apiserver/recorded/"

struct lines {
	char	*buf;		/* every line, each followed by '\n' */
	size_t	 len;
	size_t	 cap;
	int	 n;
	int	 stop_at;	/* return -1 on this line (1-based); 0: never */
};

static int
collect(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;

	if (memchr(line, '\n', len) != NULL)
		return -1;
	if (l->len + len + 1 > l->cap) {
		l->cap = (l->len + len + 1) * 2;
		if ((l->buf = realloc(l->buf, l->cap)) == NULL)
			abort();
	}
	memcpy(l->buf + l->len, line, len);
	l->len += len;
	l->buf[l->len++] = '\n';
	l->n++;
	if (l->stop_at != 0 && l->n == l->stop_at)
		return -1;
	return 0;
}

static void
lines_reset(struct lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* The body of a recorded response: head dropped, chunked framing undone. */
static char *
load_body(const char *name, size_t *outlen)
{
	char path[256], *raw, *p, *end, *out;
	size_t rlen, olen = 0, sz;
	FILE *f;
	long n;
	int chunked;

	snprintf(path, sizeof(path), REC_DIR "%s", name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	raw = malloc((size_t)n + 1);
	rlen = fread(raw, 1, (size_t)n, f);
	fclose(f);
	raw[rlen] = '\0';
	chunked = strstr(raw, "Transfer-Encoding: chunked") != NULL;
	if ((p = strstr(raw, "\r\n\r\n")) == NULL) {
		free(raw);
		return NULL;
	}
	p += 4;
	end = raw + rlen;
	out = malloc(rlen + 1);
	if (!chunked) {
		olen = (size_t)(end - p);
		memcpy(out, p, olen);
	} else {
		while (p < end) {
			sz = strtoul(p, &p, 16);
			p += 2;
			if (sz == 0)
				break;
			memcpy(out + olen, p, sz);
			olen += sz;
			p += sz + 2;
		}
	}
	free(raw);
	*outlen = olen;
	return out;
}

/* Splits body into chunks of random sizes (1..maxchunk); 0 on success. */
static int
feed_random(struct watch_stream *ws, const char *body, size_t len,
    size_t maxchunk, unsigned *seed)
{
	size_t off = 0, n;

	while (off < len) {
		n = 1 + (size_t)rand_r(seed) % maxchunk;
		if (n > len - off)
			n = len - off;
		if (watch_stream_feed(ws, body + off, n) == -1)
			return -1;
		off += n;
	}
	return watch_stream_finish(ws);
}

static void
test_recording(const char *name, int want_events)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 1000, 100000 };
	struct lines whole, l;
	struct watch_stream *ws;
	char *body;
	size_t len, i;
	unsigned seed = 42;
	int same = 1, round;

	memset(&whole, 0, sizeof(whole));
	if ((body = load_body(name, &len)) == NULL) {
		skip(3, "%s not readable", name);
		return;
	}
	ws = watch_stream_new(1 << 20, collect, &whole);
	ok(watch_stream_feed(ws, body, len) == 0 &&
	    watch_stream_finish(ws) == 0, "%s: whole body splits", name);
	is(whole.n, want_events, "%s: %d events", name, want_events);
	watch_stream_free(ws);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (round = 0; round < 20; round++) {
			memset(&l, 0, sizeof(l));
			ws = watch_stream_new(1 << 20, collect, &l);
			if (feed_random(ws, body, len, sizes[i], &seed) != 0 ||
			    l.n != whole.n || l.len != whole.len ||
			    memcmp(l.buf, whole.buf, l.len) != 0)
				same = 0;
			watch_stream_free(ws);
			lines_reset(&l);
		}
	}
	ok(same, "%s: same events for 140 random chunkings", name);
	lines_reset(&whole);
	free(body);
}

static void
test_edges(void)
{
	struct lines l;
	struct watch_stream *ws;
	char big[40];

	memset(&l, 0, sizeof(l));
	ws = watch_stream_new(16, collect, &l);
	ok(watch_stream_feed(ws, "{\"a\":1}\r\n\n  \r\n{\"b\":2}\n", 22) == 0,
	    "CRLF and blank lines accepted");
	is(l.n, 2, "blank lines skipped");
	ok(l.len == 16 && memcmp(l.buf, "{\"a\":1}\n{\"b\":2}\n", 16) == 0,
	    "CR stripped");
	ok(watch_stream_feed(ws, "{\"c\"", 4) == 0 &&
	    watch_stream_pending(ws) == 4, "partial line held");
	ok(watch_stream_finish(ws) == -1 && errno == EPROTO,
	    "finish inside a line: EPROTO");
	watch_stream_reset(ws);
	ok(watch_stream_pending(ws) == 0 && watch_stream_finish(ws) == 0,
	    "reset forgets it");

	/* Exactly the bound, in pieces and whole; one over it. */
	memset(big, 'x', sizeof(big));
	lines_reset(&l);
	ok(watch_stream_feed(ws, big, 10) == 0 &&
	    watch_stream_feed(ws, big, 6) == 0 &&
	    watch_stream_feed(ws, "\n", 1) == 0 && l.n == 1,
	    "a line of exactly maxline, in pieces");
	ok(watch_stream_feed(ws, big, 16) == 0 &&
	    watch_stream_feed(ws, "\r\n", 2) == 0 && l.n == 2,
	    "maxline plus CR");
	ok(watch_stream_feed(ws, big, 17) == 0 &&
	    watch_stream_feed(ws, "\n", 1) == -1 && errno == EMSGSIZE,
	    "maxline + 1, then newline: EMSGSIZE");
	ok(watch_stream_feed(ws, "\n", 1) == -1,
	    "poisoned after an error");
	watch_stream_reset(ws);
	ok(watch_stream_feed(ws, big, 18) == -1 && errno == EMSGSIZE,
	    "maxline + 2 without newline: EMSGSIZE at once");
	watch_stream_reset(ws);
	memcpy(big + 17, "\n", 1);
	ok(watch_stream_feed(ws, big, 18) == -1 && errno == EMSGSIZE,
	    "maxline + 1 inside one buffer: EMSGSIZE");
	watch_stream_reset(ws);
	ok(watch_stream_feed(ws, big, 9) == 0 &&
	    watch_stream_feed(ws, big, 9) == -1 && errno == EMSGSIZE,
	    "maxline + 1 across buffers: EMSGSIZE");
	watch_stream_reset(ws);

	lines_reset(&l);
	l.stop_at = 2;
	ok(watch_stream_feed(ws, "a\nb\nc\n", 6) == -1 && errno == ECANCELED &&
	    l.n == 2, "callback stop: ECANCELED, nothing after it");
	watch_stream_free(ws);
	lines_reset(&l);

	ok(watch_stream_new(0, collect, &l) == NULL && errno == EINVAL,
	    "maxline 0 refused");
}

int
main(void)
{
	plan(30);
	test_recording("services-watch.http", 8);
	test_recording("endpointslices-watch.http", 6);
	test_recording("node-watch.http", 3);
	test_recording("watch-too-old.http", 1);
	test_recording("services-watch-http2.http", 6);
	test_edges();
	return done();
}
