/*
 * The watcher's HTTP client: libcurl's multi-socket interface driven by a
 * libevent base, so every list and watch of the process runs in one thread
 * and one event loop.
 *
 * Every request is a GET to the configured apiserver over HTTPS only, with
 * the peer certificate and host name verified, no redirects, no proxy, a
 * bearer token (re-read from its file when that changes) or a client
 * certificate, and TCP keepalive plus TCP_USER_TIMEOUT, so that a
 * connection to a dead peer fails within WATCH_HTTP_DEAD_S seconds even
 * when no data is expected.  On HTTP/2, curl_easy_upkeep() is called for
 * PING frames, which libcurl 7.88 (Debian 12) does not send for handles in
 * a multi handle: see docs/watcher.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_HTTP_H
#define KIPVS_WATCH_HTTP_H

#include <stddef.h>

struct event_base;
struct watch_conn;
struct watch_http;
struct watch_req;

/* Bytes kept of a non-200 response body (a Status object). */
#define WATCH_HTTP_ERRBODY_MAX	(64 * 1024)

/* Keepalive: idle 15 s, then 3 probes 5 s apart; TCP_USER_TIMEOUT 30 s. */
#define WATCH_HTTP_KEEPIDLE_S	15
#define WATCH_HTTP_KEEPINTVL_S	5
#define WATCH_HTTP_KEEPCNT	3
#define WATCH_HTTP_USER_TIMEOUT_MS 30000
#define WATCH_HTTP_UPKEEP_MS	10000
#define WATCH_HTTP_WATCHDOG_MS	250	/* tick of the idle check */
#define WATCH_HTTP_CONNECT_MS	10000
#define WATCH_HTTP_DEAD_S	(WATCH_HTTP_KEEPIDLE_S + \
				 WATCH_HTTP_KEEPINTVL_S * WATCH_HTTP_KEEPCNT)
/* How long a cached token file is trusted before it is looked at again. */
#define WATCH_HTTP_TOKEN_RECHECK_S 60

struct watch_http_result {
	int		 curl_code;	/* CURLcode; 0 when the body arrived */
	long		 status;	/* HTTP status, 0 if none */
	long		 retry_after_s;	/* Retry-After in seconds, -1 if none */
	int		 aborted;	/* the data callback returned -1 */
	int		 too_big;	/* body over the request's max_body */
	int		 idle;		/* no byte for the request's idle_ms */
	const char	*errmsg;	/* curl's message, "" if none */
	const char	*body;		/* non-200 body (bounded), NUL-ended */
	size_t		 body_len;
};

struct watch_req_cb {
	/*
	 * Body bytes of a 200 response, in the order received.  Return 0,
	 * or -1 to abort the transfer (done() then sees aborted).
	 */
	int	(*data)(void *arg, const char *buf, size_t len);
	/*
	 * Called once when the request is over, whatever the outcome.  The
	 * request is freed right after it returns: do not cancel it here.
	 * The result and its strings are borrowed for the call.
	 */
	void	(*done)(void *arg, const struct watch_http_result *);
	void	*arg;
};

struct watch_req_opts {
	long		 timeout_ms;	/* whole request; 0: none */
	long		 idle_ms;	/* fail after that long without a
					   byte; 0: off */
	size_t		 max_body;	/* bytes of a 200 body; 0: unlimited */
	int		 fresh;		/* a new connection, not a pooled one */
};

/*
 * conn is borrowed and must outlive the client.  Returns NULL on failure
 * with a message in err (bad server URL, libcurl failure).
 */
struct watch_http *watch_http_new(struct event_base *base,
	    const struct watch_conn *conn, char *err, size_t errlen);
/* Cancels every request still running (without their done callbacks). */
void	watch_http_free(struct watch_http *);

/*
 * Starts GET <server><path_query>.  path_query starts with '/' and is
 * already URL-encoded.  Returns NULL on failure (errno set).
 */
struct watch_req *watch_http_get(struct watch_http *, const char *path_query,
	    const struct watch_req_opts *, const struct watch_req_cb *);

/* Stops a running request; its done callback is not called. */
void	watch_http_cancel(struct watch_req *);

/*
 * Dead-peer detection for new connections (defaults: the WATCH_HTTP_KEEP*
 * and WATCH_HTTP_USER_TIMEOUT_MS values above); tests shorten it.
 */
void	watch_http_set_keepalive(struct watch_http *, unsigned idle_s,
	    unsigned intvl_s, unsigned cnt, unsigned user_timeout_ms);

/*
 * From now on the token file is opened as name relative to the directory
 * descriptor dirfd (borrowed; opened before a sandbox), not by its path.
 * 0 or -1.
 */
int	watch_http_token_at(struct watch_http *, int dirfd, const char *name);

/*
 * Resolves the server's host name now (before a sandbox) and pins the
 * addresses for every later request (CURLOPT_RESOLVE); nothing for an
 * address literal.  0, or -1 with a message in err.
 */
int	watch_http_pin(struct watch_http *, char *err, size_t errlen);

/* Forces the token file to be read again before the next request. */
void	watch_http_token_invalidate(struct watch_http *);

/* Number of requests running (for tests and metrics). */
unsigned watch_http_active(const struct watch_http *);

#endif /* KIPVS_WATCH_HTTP_H */
