/*
 * Watch stream splitter: see watch_stream.h.
 *
 * A line that arrives whole inside one buffer is handed to the callback in
 * place, without copying; only the tail of a buffer that ends inside a line
 * is kept, in a buffer that grows geometrically up to the line bound.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "watcherd/watch_stream.h"

struct watch_stream {
	watch_stream_line_cb	 cb;
	void			*arg;
	size_t			 maxline;
	char			*buf;	/* the unfinished line */
	size_t			 len;
	size_t			 cap;
	int			 failed;
};

struct watch_stream *
watch_stream_new(size_t maxline, watch_stream_line_cb cb, void *arg)
{
	struct watch_stream *ws;

	if (maxline == 0 || cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return NULL;
	ws->cb = cb;
	ws->arg = arg;
	ws->maxline = maxline;
	return ws;
}

void
watch_stream_free(struct watch_stream *ws)
{
	if (ws == NULL)
		return;
	free(ws->buf);
	free(ws);
}

void
watch_stream_reset(struct watch_stream *ws)
{
	ws->len = 0;
	ws->failed = 0;
	/* Give back a buffer that one huge event made big. */
	if (ws->cap > 64 * 1024) {
		free(ws->buf);
		ws->buf = NULL;
		ws->cap = 0;
	}
}

size_t
watch_stream_pending(const struct watch_stream *ws)
{
	return ws->len;
}

static int
watch_stream_blank(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Delivers one line (without '\n'); strips one trailing '\r'. */
static int
watch_stream_emit(struct watch_stream *ws, const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > ws->maxline) {
		errno = EMSGSIZE;
		return -1;
	}
	if (watch_stream_blank(p, len))
		return 0;
	if (ws->cb(ws->arg, p, len) == -1) {
		errno = ECANCELED;
		return -1;
	}
	return 0;
}

static int
watch_stream_append(struct watch_stream *ws, const char *p, size_t len)
{
	size_t need, ncap;
	char *nbuf;

	/* One extra byte: a '\r' may still be stripped when the '\n' comes. */
	if (len > ws->maxline + 1 - ws->len) {
		errno = EMSGSIZE;
		return -1;
	}
	need = ws->len + len;
	if (need > ws->cap) {
		ncap = ws->cap ? ws->cap : 4096;
		while (ncap < need)
			ncap *= 2;
		if (ncap > ws->maxline + 1)
			ncap = ws->maxline + 1;
		if ((nbuf = realloc(ws->buf, ncap)) == NULL)
			return -1;
		ws->buf = nbuf;
		ws->cap = ncap;
	}
	memcpy(ws->buf + ws->len, p, len);
	ws->len += len;
	return 0;
}

int
watch_stream_feed(struct watch_stream *ws, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n;

	if (ws->failed) {
		errno = EPROTO;
		return -1;
	}
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (nl == NULL) {
			if (watch_stream_append(ws, p, end - p) == -1)
				goto fail;
			break;
		}
		if (ws->len == 0) {
			if (watch_stream_emit(ws, p, nl - p) == -1)
				goto fail;
		} else {
			if (watch_stream_append(ws, p, nl - p) == -1)
				goto fail;
			n = ws->len;
			ws->len = 0;
			if (watch_stream_emit(ws, ws->buf, n) == -1)
				goto fail;
		}
		p = nl + 1;
	}
	return 0;
fail:
	ws->failed = 1;
	return -1;
}

int
watch_stream_finish(struct watch_stream *ws)
{
	if (ws->failed) {
		errno = EPROTO;
		return -1;
	}
	if (ws->len > 0 && !watch_stream_blank(ws->buf, ws->len)) {
		errno = EPROTO;
		return -1;
	}
	ws->len = 0;
	return 0;
}
