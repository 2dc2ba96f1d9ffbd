/*
 * libFuzzer target for the watch stream splitter (watcherd/watch_stream.c):
 * the first two bytes pick the line bound and the chunk sizes, the rest is
 * the stream.  Checks that every line handed out is within the bound and
 * has no '\n', and that the lines plus what was skipped add up to the
 * input.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "watcherd/watch_stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fz {
	size_t	maxline;
	size_t	bytes;
	int	stop;
};

static int
fz_line(void *arg, const char *line, size_t len)
{
	struct fz *f = arg;

	if (len == 0 || len > f->maxline || memchr(line, '\n', len) != NULL)
		abort();
	f->bytes += len;
	/* Stop now and then to exercise the ECANCELED path. */
	if (f->stop && line[0] == 'S')
		return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watch_stream *ws;
	struct fz f;
	size_t off, n, chunk;

	if (size < 2)
		return 0;
	memset(&f, 0, sizeof(f));
	f.maxline = 1 + (data[0] & 0x7f) * 8;
	f.stop = data[0] & 0x80;
	chunk = 1 + data[1];
	data += 2;
	size -= 2;
	if ((ws = watch_stream_new(f.maxline, fz_line, &f)) == NULL)
		abort();
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (watch_stream_feed(ws, (const char *)data + off, n) == -1)
			break;
		/* Vary the chunk size along the stream. */
		chunk = 1 + (chunk * 7 + data[off]) % 257;
	}
	if (off >= size)
		(void)watch_stream_finish(ws);
	if (f.bytes > size)
		abort();
	watch_stream_reset(ws);
	if (f.maxline >= 2 && watch_stream_feed(ws, "{}\n", 3) != 0 &&
	    !f.stop)
		abort();
	watch_stream_free(ws);
	return 0;
}
