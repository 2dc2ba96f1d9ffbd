/*
 * libcurl multi-socket + libevent glue and the apiserver request policy:
 * see watch_http.h.
 *
 * curl tells us which sockets to wait on (http_sock_cb) and when to call it
 * back (http_timer_cb); libevent tells curl when a socket is ready
 * (http_event_cb).  Finished transfers are collected in http_check_done,
 * which calls each request's done callback after the easy handle has left
 * the multi handle, so a callback may start new requests.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "config.h"
#include "common/log.h"
#include "watcherd/watch_http.h"
#include "watcherd/watch_kubeconfig.h"

struct watch_req {
	TAILQ_ENTRY(watch_req)	 entry;
	struct watch_http	*http;
	CURL			*easy;
	struct curl_slist	*headers;
	struct watch_req_cb	 cb;
	size_t			 max_body;
	long			 idle_ms;
	struct timespec		 last_rx;	/* start, or the last byte */
	size_t			 got;		/* bytes of a 200 body */
	long			 status;	/* 0 until the first byte */
	int			 aborted;
	int			 too_big;
	char			*errbody;
	size_t			 errlen;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct http_sock {
	struct event		 ev;
	struct watch_http	*http;
	curl_socket_t		 fd;
	int			 added;
};

struct watch_http {
	struct event_base	*base;
	const struct watch_conn	*conn;
	CURLM			*multi;
	struct event		*timer;		/* curl's timeout */
	struct event		*upkeep;	/* HTTP/2 PING, token check */
	struct event		*watchdog;	/* requests idle too long */
	char			*base_url;	/* https://host:port[/path] */
	struct curl_slist	*connect_to;	/* tls-server-name */
	long			 keepidle_s;
	long			 keepintvl_s;
	int			 keepcnt;
	unsigned int		 user_timeout_ms;
	char			*token;		/* current bearer token */
	int			 token_dirfd;	/* -1, or the token file's dir */
	char			*token_name;	/* its name in token_dirfd */
	struct curl_slist	*resolve;	/* pinned addresses, or NULL */
	struct stat		 token_st;	/* of token_file when read */
	time_t			 token_read;	/* monotonic seconds */
	int			 token_stale;
	unsigned		 nactive;
	TAILQ_HEAD(, watch_req)	 reqs;
};

static void	http_check_done(struct watch_http *);
static void	http_watchdog_cb(evutil_socket_t, short, void *);

static time_t
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
http_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct watch_http *h = arg;
	int action = 0, running;

	if (kind & EV_READ)
		action |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	http_check_done(h);
}

static void
http_timeout_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct watch_http *h = arg;
	int running;

	(void)fd;
	(void)kind;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

static int
http_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct watch_http *h = userp;
	struct http_sock *hs = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			if (hs->added)
				event_del(&hs->ev);
			free(hs);
		}
		curl_multi_assign(h->multi, s, NULL);
		return 0;
	}
	if (hs == NULL) {
		if ((hs = calloc(1, sizeof(*hs))) == NULL) {
			log_warn("http socket");
			return -1;
		}
		hs->http = h;
		hs->fd = s;
		curl_multi_assign(h->multi, s, hs);
	} else if (hs->added) {
		event_del(&hs->ev);
		hs->added = 0;
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	event_assign(&hs->ev, h->base, s, kind, http_event_cb, h);
	if (event_add(&hs->ev, NULL) == -1) {
		log_warnx("http: event_add failed");
		return -1;
	}
	hs->added = 1;
	return 0;
}

static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct watch_http *h = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(h->timer, &tv);
}

/* Extra socket options curl has no setting for. */
static int
http_sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct watch_http *h = arg;
	int cnt = h->keepcnt;
	unsigned int uto = h->user_timeout_ms;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	/*
	 * curl sets SO_KEEPALIVE, TCP_KEEPIDLE and TCP_KEEPINTVL; the probe
	 * count and the limit on unacknowledged data are ours.  Together
	 * they bound how long a dead peer goes unnoticed, idle or not.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto,
	    sizeof(uto)) == -1)
		log_warn("http: setsockopt");
	return CURL_SOCKOPT_OK;
}

/*
 * Opens the token file: through the directory descriptor when the owner
 * gave one (watch_http_token_at: the sandboxed daemon), else by path.
 */
static int
http_token_open(struct watch_http *h)
{
	if (h->token_dirfd != -1)
		return openat(h->token_dirfd, h->token_name,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return open(h->conn->token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/*
 * Reads the token file if it changed (or must be checked again).  The
 * file is opened and fstat'ed, never stat'ed by name, so the same calls
 * work inside the watcher's sandbox.
 */
static void
http_token_refresh(struct watch_http *h)
{
	const char *path = h->conn->token_file;
	struct stat st;
	char buf[16384];
	ssize_t n;
	size_t len = 0;
	int fd;
	char *tok;

	if (path == NULL)
		return;
	if (h->token != NULL && !h->token_stale &&
	    http_now() - h->token_read < WATCH_HTTP_TOKEN_RECHECK_S)
		return;
	if ((fd = http_token_open(h)) == -1 || fstat(fd, &st) == -1) {
		log_warn("token file %s", path);
		if (fd != -1)
			close(fd);
		return;
	}
	if (h->token != NULL && !h->token_stale &&
	    st.st_ino == h->token_st.st_ino &&
	    st.st_dev == h->token_st.st_dev &&
	    st.st_size == h->token_st.st_size &&
	    st.st_mtim.tv_sec == h->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == h->token_st.st_mtim.tv_nsec) {
		close(fd);
		h->token_read = http_now();
		return;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (len == 0 || strpbrk(buf, "\r\n") != NULL) {
		log_warnx("token file %s: empty or not one line; keeping the "
		    "previous token", path);
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	if ((tok = strdup(buf)) == NULL) {
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	explicit_bzero(buf, sizeof(buf));
	if (h->token != NULL) {
		if (strcmp(h->token, tok) != 0)
			log_info("token file %s: new token", path);
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	h->token = tok;
	h->token_st = st;
	h->token_read = http_now();
	h->token_stale = 0;
}

int
watch_http_token_at(struct watch_http *h, int dirfd, const char *name)
{
	char *n;

	if ((n = strdup(name)) == NULL)
		return -1;
	free(h->token_name);
	h->token_name = n;
	h->token_dirfd = dirfd;
	return 0;
}

/*
 * Resolves the server's host now and hands the addresses to curl
 * (CURLOPT_RESOLVE), so that no request needs the resolver (its thread,
 * /etc/resolv.conf, sockets to a DNS server) later.  An address literal
 * needs nothing.
 */
int
watch_http_pin(struct watch_http *h, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	CURLU *u = NULL;
	char *host = NULL, *port = NULL, *entry = NULL;
	char addr[INET6_ADDRSTRLEN + 2], list[512];
	unsigned char tmp[16];
	size_t len = 0;
	int rc = -1, gai;

	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, h->conn->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		errfmt(err, errlen, "server \"%s\": not a URL",
		    h->conn->server);
		goto out;
	}
	if (host[0] == '[' || inet_pton(AF_INET, host, tmp) == 1) {
		rc = 0;
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		errfmt(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(gai));
		goto out;
	}
	list[0] = '\0';
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    inet_ntop(ai->ai_family, a, addr + 1,
		    sizeof(addr) - 2) == NULL)
			continue;
		if (ai->ai_family == AF_INET6) {
			addr[0] = '[';
			strcat(addr, "]");
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    len ? "," : "", ai->ai_family == AF_INET6 ? addr :
		    addr + 1);
		if (len >= sizeof(list) - INET6_ADDRSTRLEN - 4)
			break;
	}
	if (list[0] == '\0') {
		errfmt(err, errlen, "%s has no usable address", host);
		goto out;
	}
	if (asprintf(&entry, "%s:%s:%s", host, port, list) == -1) {
		entry = NULL;
		goto out;
	}
	curl_slist_free_all(h->resolve);
	if ((h->resolve = curl_slist_append(NULL, entry)) == NULL)
		goto out;
	log_info("apiserver %s pinned to %s", host, list);
	rc = 0;
out:
	if (rc == -1 && err != NULL && err[0] == '\0')
		errfmt(err, errlen, "resolving the server: %s",
		    strerror(errno));
	if (res != NULL)
		freeaddrinfo(res);
	free(entry);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

void
watch_http_set_keepalive(struct watch_http *h, unsigned idle_s,
    unsigned intvl_s, unsigned cnt, unsigned user_timeout_ms)
{
	h->keepidle_s = idle_s ? idle_s : 1;
	h->keepintvl_s = intvl_s ? intvl_s : 1;
	h->keepcnt = cnt ? (int)cnt : 1;
	h->user_timeout_ms = user_timeout_ms;
}

void
watch_http_token_invalidate(struct watch_http *h)
{
	h->token_stale = 1;
}

unsigned
watch_http_active(const struct watch_http *h)
{
	return h->nactive;
}

static void
http_upkeep_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct watch_http *h = arg;
	struct watch_req *r;

	(void)fd;
	(void)kind;
	/*
	 * One call per running transfer: a libcurl that walks the multi
	 * handle's connections here sends an HTTP/2 PING on any idle
	 * longer than the handle's upkeep interval.  libcurl 7.88 only
	 * looks at curl_easy_perform()'s own connections, so this does
	 * nothing there (docs/watcher.md).
	 */
	TAILQ_FOREACH(r, &h->reqs, entry)
		curl_easy_upkeep(r->easy);
	http_token_refresh(h);
}

/*
 * Splits the server URL; with tls-server-name the URL names that host and
 * curl is told to connect to the real one (CURLOPT_CONNECT_TO), so SNI and
 * the certificate check use the given name.
 */
static int
http_base_url(struct watch_http *h, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *host = NULL, *port = NULL, *path = NULL, *ct = NULL;
	size_t plen;
	int rc = -1;

	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, h->conn->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		errfmt(err, errlen, "server \"%s\": not a URL",
		    h->conn->server);
		goto out;
	}
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		path[--plen] = '\0';
	if (h->conn->tls_server_name != NULL) {
		if (strpbrk(h->conn->tls_server_name, ":/[]@ ") != NULL) {
			errfmt(err, errlen, "tls-server-name \"%s\" is not a "
			    "host name", h->conn->tls_server_name);
			goto out;
		}
		if (asprintf(&ct, "%s:%s:%s:%s", h->conn->tls_server_name,
		    port, host, port) == -1) {
			ct = NULL;
			goto out;
		}
		if ((h->connect_to = curl_slist_append(NULL, ct)) == NULL)
			goto out;
		if (asprintf(&h->base_url, "https://%s:%s%s",
		    h->conn->tls_server_name, port, path) == -1) {
			h->base_url = NULL;
			goto out;
		}
	} else if (asprintf(&h->base_url, "https://%s:%s%s", host, port,
	    path) == -1) {
		h->base_url = NULL;
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && err != NULL && err[0] == '\0')
		errfmt(err, errlen, "server URL: %s", strerror(errno));
	free(ct);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

struct watch_http *
watch_http_new(struct event_base *base, const struct watch_conn *conn,
    char *err, size_t errlen)
{
	struct watch_http *h;
	struct timeval tv;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		errfmt(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	h->base = base;
	h->conn = conn;
	h->token_dirfd = -1;
	TAILQ_INIT(&h->reqs);
	watch_http_set_keepalive(h, WATCH_HTTP_KEEPIDLE_S,
	    WATCH_HTTP_KEEPINTVL_S, WATCH_HTTP_KEEPCNT,
	    WATCH_HTTP_USER_TIMEOUT_MS);
	if (http_base_url(h, err, errlen) == -1)
		goto fail;
	if ((h->multi = curl_multi_init()) == NULL ||
	    (h->timer = evtimer_new(base, http_timeout_cb, h)) == NULL ||
	    (h->upkeep = event_new(base, -1, EV_PERSIST, http_upkeep_cb,
	    h)) == NULL ||
	    (h->watchdog = event_new(base, -1, EV_PERSIST, http_watchdog_cb,
	    h)) == NULL) {
		errfmt(err, errlen, "cannot set up the HTTP client");
		goto fail;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* Over HTTP/2 all watches share one connection. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	tv.tv_sec = WATCH_HTTP_UPKEEP_MS / 1000;
	tv.tv_usec = (WATCH_HTTP_UPKEEP_MS % 1000) * 1000;
	event_add(h->upkeep, &tv);
	tv.tv_sec = 0;
	tv.tv_usec = WATCH_HTTP_WATCHDOG_MS * 1000;
	event_add(h->watchdog, &tv);
	if (conn->token_file != NULL) {
		http_token_refresh(h);
		if (h->token == NULL)
			log_warnx("no token yet from %s; will retry",
			    conn->token_file);
	}
	return h;
fail:
	watch_http_free(h);
	return NULL;
}

static void
http_req_free(struct watch_req *r)
{
	struct watch_http *h = r->http;

	TAILQ_REMOVE(&h->reqs, r, entry);
	h->nactive--;
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->errbody);
	free(r);
}

void
watch_http_cancel(struct watch_req *r)
{
	if (r != NULL)
		http_req_free(r);
}

void
watch_http_free(struct watch_http *h)
{
	if (h == NULL)
		return;
	while (!TAILQ_EMPTY(&h->reqs))
		http_req_free(TAILQ_FIRST(&h->reqs));
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->upkeep != NULL)
		event_free(h->upkeep);
	if (h->watchdog != NULL)
		event_free(h->watchdog);
	curl_slist_free_all(h->connect_to);
	curl_slist_free_all(h->resolve);
	free(h->token_name);
	free(h->base_url);
	if (h->token != NULL) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	free(h);
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct watch_req *r = userdata;
	size_t len = size * nmemb, keep;
	char *nb;

	clock_gettime(CLOCK_MONOTONIC, &r->last_rx);

	if (r->status == 0)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status != 200) {
		/* A Status object: keep its start, drop the rest. */
		keep = WATCH_HTTP_ERRBODY_MAX - r->errlen;
		if (len < keep)
			keep = len;
		if (keep > 0) {
			if ((nb = realloc(r->errbody, r->errlen + keep + 1)) ==
			    NULL)
				return 0;
			r->errbody = nb;
			memcpy(r->errbody + r->errlen, ptr, keep);
			r->errlen += keep;
			r->errbody[r->errlen] = '\0';
		}
		return len;
	}
	if (r->max_body != 0 && len > r->max_body - r->got) {
		r->too_big = 1;
		return 0;
	}
	r->got += len;
	if (r->cb.data != NULL && r->cb.data(r->cb.arg, ptr, len) == -1) {
		r->aborted = 1;
		return 0;
	}
	return len;
}

static int
http_set_auth(struct watch_http *h, struct watch_req *r)
{
	const struct watch_conn *c = h->conn;
	const char *tok;
	char *hdr;

	http_token_refresh(h);
	tok = h->token != NULL ? h->token : c->token;
	if (tok != NULL) {
		if (asprintf(&hdr, "Authorization: Bearer %s", tok) == -1)
			return -1;
		r->headers = curl_slist_append(r->headers, hdr);
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
		if (r->headers == NULL)
			return -1;
	}
	return 0;
}

static int
http_set_tls(struct watch_http *h, CURL *e)
{
	const struct watch_conn *c = h->conn;
	struct curl_blob blob;
	CURLcode rc = CURLE_OK;

	/* HTTPS only, verified, never redirected or proxied. */
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	rc |= curl_easy_setopt(e, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_file != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
		rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (c->ca_pem.data != NULL) {
		/* The kubeconfig's CA is the only trust anchor. */
		blob.data = c->ca_pem.data;
		blob.len = c->ca_pem.len;
		blob.flags = CURL_BLOB_NOCOPY;
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	else if (c->cert_pem.data != NULL) {
		blob.data = c->cert_pem.data;
		blob.len = c->cert_pem.len;
		blob.flags = CURL_BLOB_NOCOPY;
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
	}
	if (c->cert_file != NULL || c->cert_pem.data != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	if (c->key_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	else if (c->key_pem.data != NULL) {
		blob.data = c->key_pem.data;
		blob.len = c->key_pem.len;
		blob.flags = CURL_BLOB_NOCOPY;
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
	}
	if (c->key_file != NULL || c->key_pem.data != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	if (h->connect_to != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);
	if (h->resolve != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve);
	return rc == CURLE_OK ? 0 : -1;
}

struct watch_req *
watch_http_get(struct watch_http *h, const char *path_query,
    const struct watch_req_opts *o, const struct watch_req_cb *cb)
{
	struct watch_req *r;
	CURL *e;
	char *url = NULL;
	CURLcode rc = CURLE_OK;

	if (path_query[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->http = h;
	r->cb = *cb;
	r->max_body = o->max_body;
	if ((r->easy = e = curl_easy_init()) == NULL)
		goto fail;
	if (asprintf(&url, "%s%s", h->base_url, path_query) == -1) {
		url = NULL;
		goto fail;
	}
	if ((r->headers = curl_slist_append(NULL,
	    "Accept: application/json")) == NULL ||
	    http_set_auth(h, r) == -1)
		goto fail;
	rc |= curl_easy_setopt(e, CURLOPT_URL, url);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT,
	    "kipvs-watcherd/" KIPVS_VERSION);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)WATCH_HTTP_CONNECT_MS);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE,
	    h->keepidle_s);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL,
	    h->keepintvl_s);
	rc |= curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, http_sockopt_cb);
	rc |= curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, h);
	rc |= curl_easy_setopt(e, CURLOPT_UPKEEP_INTERVAL_MS,
	    (long)WATCH_HTTP_UPKEEP_MS);
	rc |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (o->timeout_ms > 0)
		rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	/*
	 * A replacement for a request that got no response at all: over
	 * HTTP/2 its connection stays in the pool and may be what stalls.
	 */
	if (o->fresh)
		rc |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	r->idle_ms = o->idle_ms;
	clock_gettime(CLOCK_MONOTONIC, &r->last_rx);
	if (rc != CURLE_OK || http_set_tls(h, e) == -1) {
		errno = EINVAL;
		goto fail;
	}
	free(url);
	url = NULL;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		errno = ENOMEM;
		goto fail;
	}
	TAILQ_INSERT_TAIL(&h->reqs, r, entry);
	h->nactive++;
	return r;
fail:
	free(url);
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r);
	return NULL;
}

/*
 * Requests with an idle limit that got no byte for that long fail as
 * timed out.  (curl's own low-speed check averages over several seconds,
 * which makes the limit fuzzy; this one is exact to the watchdog's tick.)
 */
static void
http_watchdog_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct watch_http *h = arg;
	struct watch_http_result res;
	struct watch_req *r;
	struct timespec now;
	long idle;
	char msg[128];

	(void)fd;
	(void)kind;
again:
	clock_gettime(CLOCK_MONOTONIC, &now);
	TAILQ_FOREACH(r, &h->reqs, entry) {
		if (r->idle_ms <= 0)
			continue;
		idle = (now.tv_sec - r->last_rx.tv_sec) * 1000 +
		    (now.tv_nsec - r->last_rx.tv_nsec) / 1000000;
		if (idle < r->idle_ms)
			continue;
		memset(&res, 0, sizeof(res));
		res.curl_code = CURLE_OPERATION_TIMEDOUT;
		res.idle = 1;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		res.retry_after_s = -1;
		snprintf(msg, sizeof(msg), "no data for %ld ms", idle);
		res.errmsg = msg;
		res.body = r->errbody != NULL ? r->errbody : "";
		res.body_len = r->errlen;
		curl_multi_remove_handle(h->multi, r->easy);
		if (r->cb.done != NULL)
			r->cb.done(r->cb.arg, &res);
		http_req_free(r);
		/* done() may have started or ended requests: rescan. */
		goto again;
	}
}

static void
http_check_done(struct watch_http *h)
{
	struct watch_http_result res;
	struct watch_req *r;
	CURLMsg *msg;
	curl_off_t ra;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		if (r == NULL)
			continue;
		memset(&res, 0, sizeof(res));
		res.curl_code = msg->data.result;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		res.retry_after_s = -1;
		if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) ==
		    CURLE_OK && ra > 0)
			res.retry_after_s = ra > 86400 ? 86400 : (long)ra;
		res.aborted = r->aborted;
		res.too_big = r->too_big;
		res.errmsg = r->errbuf[0] != '\0' ? r->errbuf :
		    curl_easy_strerror(msg->data.result);
		if (res.curl_code == CURLE_OK)
			res.errmsg = "";
		res.body = r->errbody != NULL ? r->errbody : "";
		res.body_len = r->errlen;
		/* Off the multi handle first: done() may start new requests. */
		curl_multi_remove_handle(h->multi, r->easy);
		if (r->cb.done != NULL)
			r->cb.done(r->cb.arg, &res);
		http_req_free(r);
	}
}
