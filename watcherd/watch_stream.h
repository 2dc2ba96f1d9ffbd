/*
 * Incremental splitter for the apiserver's watch stream: the body is a
 * sequence of JSON objects, each followed by one '\n', delivered in chunks
 * whose boundaries mean nothing (HTTP/1.1 chunks, HTTP/2 DATA frames and
 * TLS records may cut anywhere).  The splitter hands out whole lines and
 * refuses a line longer than its bound, so a hostile or broken server
 * cannot make the watcher buffer without limit.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_STREAM_H
#define KIPVS_WATCH_STREAM_H

#include <stddef.h>

/*
 * Called once per complete line, without its '\n' (nor a '\r' before it).
 * Lines that are empty or only blanks are skipped.  The line is borrowed:
 * it is valid only during the call.  Return 0 to go on, -1 to stop; the
 * splitter then returns -1 from watch_stream_feed() without looking at the
 * rest of the input.
 */
typedef int (*watch_stream_line_cb)(void *arg, const char *line, size_t len);

struct watch_stream;

/* maxline is the longest line accepted, in bytes, without the '\n'. */
struct watch_stream *watch_stream_new(size_t maxline, watch_stream_line_cb cb,
	    void *arg);
void	watch_stream_free(struct watch_stream *);

/*
 * Feeds len bytes.  Returns 0, or -1 with errno EMSGSIZE (a line over the
 * bound), ECANCELED (the callback stopped) or ENOMEM.  After -1 the
 * splitter is poisoned: every further feed fails until watch_stream_reset().
 */
int	watch_stream_feed(struct watch_stream *, const char *buf, size_t len);

/*
 * The end of the stream.  Returns 0 if nothing but blanks is left over,
 * -1 with errno EPROTO if the stream ended inside a line (the server or the
 * connection cut an event in half).
 */
int	watch_stream_finish(struct watch_stream *);

/* Forgets any partial line and clears the poisoned state. */
void	watch_stream_reset(struct watch_stream *);

/* Bytes of an unfinished line held right now (for tests and metrics). */
size_t	watch_stream_pending(const struct watch_stream *);

#endif /* KIPVS_WATCH_STREAM_H */
