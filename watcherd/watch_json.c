/*
 * apiserver JSON objects -> ipc/records.h records, strictly.
 *
 * The apiserver accepts objects that were stored before its validation
 * was tightened, and a compromised or buggy client can write odd ones, so
 * nothing here trusts a field: types are checked exactly, numbers must be
 * integers within range, strings are length- and charset-checked, every
 * address goes through a lexical check and inet_pton, and each array has a
 * cap.  A bad object is refused as a whole, with a reason that names it;
 * the caller logs that and carries on with the next object.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "watcherd/watch_json.h"

/* The object being converted, for error messages. */
struct wj_ctx {
	const char	*kind;
	const char	*ns;
	const char	*name;
	char		*why;
	size_t		 whylen;
};

static int	wj_fail(struct wj_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	wj_skip(struct wj_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	wj_setwhy(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
wj_setwhy(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
wj_vreason(struct wj_ctx *c, const char *fmt, va_list ap)
{
	char msg[WATCH_JSON_WHY_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->ns != NULL && c->ns[0] != '\0')
		wj_setwhy(c->why, c->whylen, "%s %s/%s: %s", c->kind, c->ns,
		    c->name != NULL ? c->name : "?", msg);
	else
		wj_setwhy(c->why, c->whylen, "%s %s: %s", c->kind,
		    c->name != NULL && c->name[0] != '\0' ? c->name : "?",
		    msg);
}

static int
wj_fail(struct wj_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wj_vreason(c, fmt, ap);
	va_end(ap);
	return WATCH_JSON_INVALID;
}

static int
wj_skip(struct wj_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wj_vreason(c, fmt, ap);
	va_end(ap);
	return WATCH_JSON_SKIP;
}

/*
 * Copies at most 40 bytes of an untrusted string for a message, with
 * anything but printable ASCII replaced, so a reason never carries
 * control characters into a log line.
 */
static const char *
wj_show(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < len && i < 40; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ?
		    s[i] : '?';
	if (s[i] != '\0' && i + 4 <= len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* --- addresses ---------------------------------------------------------- */

/*
 * Checks a dotted quad between s and end: exactly four decimal parts of
 * one to three digits, no leading zero, each at most 255.  This is what
 * makes "010.1.1.1" (octal to inet_aton, decimal to Go) and "10.1" (a
 * short form) errors instead of two different addresses.
 */
static int
wj_check_dotted(const char *s, const char *end, char *why, size_t whylen)
{
	int parts = 0, digits = 0, val = 0;
	const char *p;

	for (p = s; p <= end; p++) {
		if (p == end || *p == '.') {
			if (digits == 0) {
				wj_setwhy(why, whylen, "empty octet");
				return -1;
			}
			parts++;
			digits = 0;
			val = 0;
			continue;
		}
		if (*p < '0' || *p > '9') {
			wj_setwhy(why, whylen, "non-decimal octet");
			return -1;
		}
		if (digits == 1 && val == 0) {
			wj_setwhy(why, whylen, "leading zero in an octet");
			return -1;
		}
		val = val * 10 + (*p - '0');
		if (++digits > 3 || val > 255) {
			wj_setwhy(why, whylen, "octet out of range");
			return -1;
		}
	}
	if (parts != 4) {
		wj_setwhy(why, whylen, "not four octets (short form)");
		return -1;
	}
	return 0;
}

int
watch_json_parse_ip(const char *s, int family, struct rec_addr *out,
    char *why, size_t whylen)
{
	size_t len, i;
	const char *colon;

	memset(out, 0, sizeof(*out));
	len = strlen(s);
	if (len == 0) {
		wj_setwhy(why, whylen, "empty address");
		return -1;
	}
	if (len > INET6_ADDRSTRLEN - 1) {
		wj_setwhy(why, whylen, "address too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '/') {
			wj_setwhy(why, whylen, "prefix length in an address "
			    "field");
			return -1;
		}
		if (ch == '%') {
			wj_setwhy(why, whylen, "zone index in an address");
			return -1;
		}
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		    (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.')) {
			wj_setwhy(why, whylen, "invalid character in an "
			    "address");
			return -1;
		}
	}
	colon = strrchr(s, ':');
	if (colon == NULL) {
		if (wj_check_dotted(s, s + len, why, whylen) == -1)
			return -1;
		if (inet_pton(AF_INET, s, out->addr) != 1) {
			wj_setwhy(why, whylen, "not an IPv4 address");
			return -1;
		}
		out->family = REC_FAMILY_IPV4;
	} else {
		struct in6_addr a6;

		if (strchr(colon, '.') != NULL &&
		    wj_check_dotted(colon + 1, s + len, why, whylen) == -1)
			return -1;
		if (inet_pton(AF_INET6, s, &a6) != 1) {
			wj_setwhy(why, whylen, "not an IPv6 address");
			return -1;
		}
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			wj_setwhy(why, whylen, "IPv4-mapped IPv6 address");
			return -1;
		}
		memcpy(out->addr, &a6, 16);
		out->family = REC_FAMILY_IPV6;
	}
	if (family != 0 && out->family != family) {
		wj_setwhy(why, whylen, "address of the wrong family");
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int
watch_json_parse_cidr(const char *s, int family, struct rec_prefix *out,
    char *why, size_t whylen)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash, *p;
	size_t iplen;
	unsigned int plen = 0, max, i;

	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	if (slash == NULL) {
		wj_setwhy(why, whylen, "no prefix length");
		return -1;
	}
	iplen = (size_t)(slash - s);
	if (iplen == 0 || iplen >= sizeof(ip)) {
		wj_setwhy(why, whylen, "bad address part");
		return -1;
	}
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (watch_json_parse_ip(ip, family, &out->addr, why, whylen) == -1)
		return -1;
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0')) {
		wj_setwhy(why, whylen, "bad prefix length");
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			wj_setwhy(why, whylen, "bad prefix length");
			return -1;
		}
		plen = plen * 10 + (unsigned int)(*p - '0');
	}
	max = out->addr.family == REC_FAMILY_IPV4 ? 32 : 128;
	if (plen > max) {
		wj_setwhy(why, whylen, "prefix length out of range");
		return -1;
	}
	out->plen = (uint8_t)plen;
	/* Clear host bits, as Go's ParseCIDR does. */
	for (i = 0; i < 16; i++) {
		unsigned int bit = i * 8;

		if (bit >= plen)
			out->addr.addr[i] = 0;
		else if (bit + 8 > plen)
			out->addr.addr[i] &=
			    (uint8_t)(0xff << (8 - (plen - bit)));
	}
	return 0;
}

/* --- small field readers ------------------------------------------------- */

/* DNS-1123-ish names: lower-case alphanumerics, '-' and (dots) '.'. */
static int
wj_name_ok(const char *s, size_t max, int dots)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (ch == '-' || (dots && ch == '.'))
			continue;
		return 0;
	}
	return 1;
}

/* Label values: alphanumerics, '-', '_', '.', at most 63. */
static int
wj_label_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len > REC_LABEL_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.')
			continue;
		return 0;
	}
	return 1;
}

/*
 * Reads an optional string member: 1 found (in *out), 0 absent or null,
 * -1 present with another type.
 */
static int
wj_opt_str(const json_t *obj, const char *key, const char **out)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 1;
}

/* Optional integer in [lo, hi]: 1 found, 0 absent/null, -1 bad. */
static int
wj_opt_int(const json_t *obj, const char *key, long long lo, long long hi,
    long long *out)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return -1;
	return 1;
}

/* Optional array: 1 found, 0 absent/null, -1 another type. */
static int
wj_opt_array(const json_t *obj, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return -1;
	*out = v;
	return 1;
}

static const json_t *
wj_opt_object(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_object(v) ? v : NULL;
}

static int
wj_protocol(const char *s, uint8_t *out)
{
	if (s == NULL || strcmp(s, "TCP") == 0)
		*out = REC_PROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*out = REC_PROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*out = REC_PROTO_SCTP;
	else
		return -1;
	return 0;
}

/* "2006-01-02T15:04:05Z" (fraction and offset tolerated) -> epoch. */
static int
wj_timestamp(const char *s, int64_t *out)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/*
 * metadata: name and namespace (namespace optional for cluster-scoped
 * kinds).  Fills the context so later messages can name the object.
 */
static int
wj_metadata(struct wj_ctx *c, const json_t *obj, int namespaced,
    size_t namemax, const json_t **meta_out)
{
	char buf[64];
	const json_t *meta;
	const char *ns = NULL, *name = NULL;

	if (!json_is_object(obj))
		return wj_fail(c, "not a JSON object");
	meta = wj_opt_object(obj, "metadata");
	if (meta == NULL)
		return wj_fail(c, "no metadata");
	/*
	 * Whichever of name and namespace is valid names the object in the
	 * message when the other one is not.
	 */
	if (namespaced && wj_opt_str(meta, "namespace", &ns) == 1 &&
	    wj_name_ok(ns, REC_NAMESPACE_MAX, 0))
		c->ns = ns;
	if (wj_opt_str(meta, "name", &name) != 1)
		return wj_fail(c, "metadata.name missing or not a string");
	if (!wj_name_ok(name, namemax, 1))
		return wj_fail(c, "invalid metadata.name \"%s\"",
		    wj_show(name, buf, sizeof(buf)));
	c->name = name;
	if (namespaced) {
		if (wj_opt_str(meta, "namespace", &ns) != 1)
			return wj_fail(c, "metadata.namespace missing or not "
			    "a string");
		if (!wj_name_ok(ns, REC_NAMESPACE_MAX, 0))
			return wj_fail(c, "invalid metadata.namespace \"%s\"",
			    wj_show(ns, buf, sizeof(buf)));
	}
	*meta_out = meta;
	return WATCH_JSON_OK;
}

/*
 * kube-proxy's label selector: skip objects labelled headless, and those
 * labelled with a service-proxy-name other than ours.
 */
static int
wj_label_filter(struct wj_ctx *c, const json_t *meta, const char *proxy)
{
	const json_t *labels = json_object_get(meta, "labels");
	const json_t *v;

	if (labels == NULL || json_is_null(labels))
		return WATCH_JSON_OK;
	if (!json_is_object(labels))
		return wj_fail(c, "metadata.labels is not an object");
	if (json_object_get(labels, WATCH_JSON_LABEL_HEADLESS) != NULL)
		return wj_skip(c, "labelled %s", WATCH_JSON_LABEL_HEADLESS);
	v = json_object_get(labels, WATCH_JSON_LABEL_PROXY_NAME);
	if (v != NULL) {
		if (proxy == NULL || proxy[0] == '\0' || !json_is_string(v) ||
		    strcmp(json_string_value(v), proxy) != 0)
			return wj_skip(c, "handled by another proxy (%s)",
			    WATCH_JSON_LABEL_PROXY_NAME);
	}
	return WATCH_JSON_OK;
}

static int
wj_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len = strlen(src);

	if (len >= dstlen)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* --- Service ------------------------------------------------------------- */

static int
wj_svc_cluster_ips(struct wj_ctx *c, const json_t *spec,
    struct rec_service *s)
{
	char reason[128], buf[64];
	const json_t *ips = NULL, *v;
	const char *single = NULL, *ip;
	size_t i, n;

	if (wj_opt_str(spec, "clusterIP", &single) == -1)
		return wj_fail(c, "spec.clusterIP is not a string");
	if (wj_opt_array(spec, "clusterIPs", &ips) == -1)
		return wj_fail(c, "spec.clusterIPs is not an array");
	n = ips != NULL ? json_array_size(ips) : 0;
	if (n == 0) {
		if (single == NULL || single[0] == '\0')
			return wj_skip(c, "no cluster IP");
		if (strcmp(single, "None") == 0)
			return wj_skip(c, "headless (clusterIP None)");
	}
	if (n > REC_MAX_CLUSTER_IPS)
		return wj_fail(c, "%zu clusterIPs (at most %d)", n,
		    REC_MAX_CLUSTER_IPS);
	for (i = 0; i < (n == 0 ? 1 : n); i++) {
		if (n == 0)
			ip = single;
		else {
			v = json_array_get(ips, i);
			if (!json_is_string(v))
				return wj_fail(c, "spec.clusterIPs[%zu] is not "
				    "a string", i);
			ip = json_string_value(v);
		}
		if (i == 0 && (ip[0] == '\0' || strcmp(ip, "None") == 0))
			return wj_skip(c, "headless (clusterIP None)");
		if (i == 0 && single != NULL && single[0] != '\0' &&
		    strcmp(single, ip) != 0)
			return wj_fail(c, "spec.clusterIP differs from "
			    "spec.clusterIPs[0]");
		if (watch_json_parse_ip(ip, 0, &s->cluster_ips[i], reason,
		    sizeof(reason)) == -1)
			return wj_fail(c, "spec.clusterIPs[%zu] \"%s\": %s", i,
			    wj_show(ip, buf, sizeof(buf)), reason);
		if (i == 1 && s->cluster_ips[0].family ==
		    s->cluster_ips[1].family)
			return wj_fail(c, "two clusterIPs of one family");
	}
	s->n_cluster_ips = (uint8_t)(n == 0 ? 1 : n);
	return WATCH_JSON_OK;
}

static int
wj_svc_ports(struct wj_ctx *c, const json_t *spec, struct rec_service *s)
{
	char buf[64];
	const json_t *ports, *p;
	const char *name, *proto;
	long long port, nodeport;
	size_t i, j, n;
	int r;

	r = wj_opt_array(spec, "ports", &ports);
	if (r == -1)
		return wj_fail(c, "spec.ports is not an array");
	n = r == 1 ? json_array_size(ports) : 0;
	if (n == 0)
		return wj_fail(c, "spec.ports missing or empty");
	if (n > REC_MAX_SVC_PORTS)
		return wj_fail(c, "%zu ports (at most %d)", n,
		    REC_MAX_SVC_PORTS);
	s->ports = calloc(n, sizeof(*s->ports));
	if (s->ports == NULL)
		return wj_fail(c, "out of memory");
	for (i = 0; i < n; i++) {
		struct rec_svc_port *sp = &s->ports[i];

		p = json_array_get(ports, i);
		if (!json_is_object(p))
			return wj_fail(c, "spec.ports[%zu] is not an object",
			    i);
		r = wj_opt_str(p, "name", &name);
		if (r == -1)
			return wj_fail(c, "spec.ports[%zu].name is not a "
			    "string", i);
		if (r == 1 && name[0] != '\0') {
			if (!wj_name_ok(name, REC_PORTNAME_MAX, 0))
				return wj_fail(c, "spec.ports[%zu].name \"%s\" "
				    "is invalid", i,
				    wj_show(name, buf, sizeof(buf)));
			(void)wj_copy(sp->name, sizeof(sp->name), name);
		}
		if (wj_opt_str(p, "protocol", &proto) == -1 ||
		    wj_protocol(proto, &sp->protocol) == -1)
			return wj_fail(c, "spec.ports[%zu].protocol \"%s\" is "
			    "not TCP, UDP or SCTP", i,
			    proto != NULL ? wj_show(proto, buf, sizeof(buf)) :
			    "?");
		r = wj_opt_int(p, "port", 1, 65535, &port);
		if (r != 1)
			return wj_fail(c, "spec.ports[%zu].port %s", i,
			    r == 0 ? "missing" : "not an integer in 1..65535");
		sp->port = (uint16_t)port;
		if (wj_opt_int(p, "nodePort", 0, 65535, &nodeport) == -1)
			return wj_fail(c, "spec.ports[%zu].nodePort not an "
			    "integer in 0..65535", i);
		sp->node_port = (uint16_t)nodeport;
		/*
		 * The apiserver refuses these too; an old or forged object
		 * would make two claims on one virtual server.
		 */
		for (j = 0; j < i; j++) {
			if (strcmp(s->ports[j].name, sp->name) == 0 &&
			    s->ports[j].protocol == sp->protocol)
				return wj_fail(c, "spec.ports[%zu] repeats "
				    "name \"%s\" and protocol", i, sp->name);
			if (s->ports[j].port == sp->port &&
			    s->ports[j].protocol == sp->protocol)
				return wj_fail(c, "spec.ports[%zu] repeats "
				    "port %u and protocol", i, sp->port);
			if (sp->node_port != 0 && s->ports[j].node_port ==
			    sp->node_port && s->ports[j].protocol ==
			    sp->protocol)
				return wj_fail(c, "spec.ports[%zu] repeats "
				    "nodePort %u and protocol", i,
				    sp->node_port);
		}
	}
	s->n_ports = (uint16_t)n;
	return WATCH_JSON_OK;
}

static int
wj_svc_external(struct wj_ctx *c, const json_t *spec, struct rec_service *s)
{
	char reason[128], buf[64], trimmed[64];
	const json_t *arr, *v;
	const char *str, *b, *e;
	size_t i, n;
	int r;

	r = wj_opt_array(spec, "externalIPs", &arr);
	if (r == -1)
		return wj_fail(c, "spec.externalIPs is not an array");
	n = r == 1 ? json_array_size(arr) : 0;
	if (n > REC_MAX_EXTERNAL_IPS)
		return wj_fail(c, "%zu externalIPs (at most %d)", n,
		    REC_MAX_EXTERNAL_IPS);
	if (n > 0) {
		s->external_ips = calloc(n, sizeof(*s->external_ips));
		if (s->external_ips == NULL)
			return wj_fail(c, "out of memory");
	}
	for (i = 0; i < n; i++) {
		v = json_array_get(arr, i);
		if (!json_is_string(v))
			return wj_fail(c, "spec.externalIPs[%zu] is not a "
			    "string", i);
		str = json_string_value(v);
		if (watch_json_parse_ip(str, 0, &s->external_ips[i], reason,
		    sizeof(reason)) == -1)
			return wj_fail(c, "spec.externalIPs[%zu] \"%s\": %s",
			    i, wj_show(str, buf, sizeof(buf)), reason);
	}
	s->n_external_ips = (uint16_t)n;

	r = wj_opt_array(spec, "loadBalancerSourceRanges", &arr);
	if (r == -1)
		return wj_fail(c, "spec.loadBalancerSourceRanges is not an "
		    "array");
	n = r == 1 ? json_array_size(arr) : 0;
	if (n > REC_MAX_SOURCE_RANGES)
		return wj_fail(c, "%zu loadBalancerSourceRanges (at most %d)",
		    n, REC_MAX_SOURCE_RANGES);
	if (n > 0) {
		s->source_ranges = calloc(n, sizeof(*s->source_ranges));
		if (s->source_ranges == NULL)
			return wj_fail(c, "out of memory");
	}
	for (i = 0; i < n; i++) {
		v = json_array_get(arr, i);
		if (!json_is_string(v))
			return wj_fail(c, "spec.loadBalancerSourceRanges[%zu] "
			    "is not a string", i);
		str = json_string_value(v);
		/* kube-proxy trims white space around each range. */
		for (b = str; *b == ' ' || *b == '\t'; b++)
			;
		for (e = b + strlen(b); e > b && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		if ((size_t)(e - b) >= sizeof(trimmed))
			return wj_fail(c, "spec.loadBalancerSourceRanges[%zu] "
			    "too long", i);
		memcpy(trimmed, b, (size_t)(e - b));
		trimmed[e - b] = '\0';
		if (watch_json_parse_cidr(trimmed, 0, &s->source_ranges[i],
		    reason, sizeof(reason)) == -1)
			return wj_fail(c, "spec.loadBalancerSourceRanges[%zu] "
			    "\"%s\": %s", i, wj_show(str, buf, sizeof(buf)),
			    reason);
	}
	s->n_source_ranges = (uint16_t)n;
	return WATCH_JSON_OK;
}

static int
wj_svc_status(struct wj_ctx *c, const json_t *obj, struct rec_service *s)
{
	char reason[128], buf[64];
	const json_t *status, *lb, *ingress, *e;
	const char *ip, *mode;
	size_t i, n;
	int r;

	status = wj_opt_object(obj, "status");
	lb = status != NULL ? wj_opt_object(status, "loadBalancer") : NULL;
	if (lb == NULL)
		return WATCH_JSON_OK;
	r = wj_opt_array(lb, "ingress", &ingress);
	if (r == -1)
		return wj_fail(c, "status.loadBalancer.ingress is not an "
		    "array");
	n = r == 1 ? json_array_size(ingress) : 0;
	if (n > REC_MAX_LB_INGRESS)
		return wj_fail(c, "%zu load-balancer ingress entries (at most "
		    "%d)", n, REC_MAX_LB_INGRESS);
	if (n > 0) {
		s->lb_ingress = calloc(n, sizeof(*s->lb_ingress));
		if (s->lb_ingress == NULL)
			return wj_fail(c, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct rec_lb_ingress *li = &s->lb_ingress[s->n_lb_ingress];

		e = json_array_get(ingress, i);
		if (!json_is_object(e))
			return wj_fail(c, "status.loadBalancer.ingress[%zu] is "
			    "not an object", i);
		if (wj_opt_str(e, "ip", &ip) == -1)
			return wj_fail(c, "status.loadBalancer.ingress[%zu].ip "
			    "is not a string", i);
		if (wj_opt_str(e, "ipMode", &mode) == -1)
			return wj_fail(c, "status.loadBalancer.ingress[%zu]."
			    "ipMode is not a string", i);
		if (mode == NULL || strcmp(mode, "VIP") == 0)
			li->ipmode = REC_IPMODE_VIP;
		else if (strcmp(mode, "Proxy") == 0)
			li->ipmode = REC_IPMODE_PROXY;
		else
			return wj_fail(c, "status.loadBalancer.ingress[%zu]."
			    "ipMode \"%s\" is not VIP or Proxy", i,
			    wj_show(mode, buf, sizeof(buf)));
		/* Hostname-only entries carry nothing for the proxy. */
		if (ip == NULL || ip[0] == '\0')
			continue;
		if (watch_json_parse_ip(ip, 0, &li->ip, reason,
		    sizeof(reason)) == -1)
			return wj_fail(c, "status.loadBalancer.ingress[%zu].ip "
			    "\"%s\": %s", i, wj_show(ip, buf, sizeof(buf)),
			    reason);
		s->n_lb_ingress++;
	}
	return WATCH_JSON_OK;
}

static int
wj_policy(struct wj_ctx *c, const json_t *spec, const char *key, int *local)
{
	char buf[64];
	const char *v;

	*local = 0;
	if (wj_opt_str(spec, key, &v) == -1)
		return wj_fail(c, "spec.%s is not a string", key);
	if (v == NULL || v[0] == '\0' || strcmp(v, "Cluster") == 0)
		return WATCH_JSON_OK;
	if (strcmp(v, "Local") == 0) {
		*local = 1;
		return WATCH_JSON_OK;
	}
	return wj_fail(c, "spec.%s \"%s\" is not Cluster or Local", key,
	    wj_show(v, buf, sizeof(buf)));
}

static int
wj_svc_spec(struct wj_ctx *c, const json_t *obj, const json_t *spec,
    struct rec_service *s)
{
	char buf[64];
	const json_t *cfg, *cip;
	const char *type, *aff;
	long long v;
	int r, local;

	if (wj_opt_str(spec, "type", &type) == -1)
		return wj_fail(c, "spec.type is not a string");
	if (type == NULL || strcmp(type, "ClusterIP") == 0)
		s->type = REC_SVC_CLUSTERIP;
	else if (strcmp(type, "NodePort") == 0)
		s->type = REC_SVC_NODEPORT;
	else if (strcmp(type, "LoadBalancer") == 0)
		s->type = REC_SVC_LOADBALANCER;
	else if (strcmp(type, "ExternalName") == 0)
		return wj_skip(c, "type ExternalName");
	else
		return wj_fail(c, "unknown spec.type \"%s\"",
		    wj_show(type, buf, sizeof(buf)));

	if ((r = wj_svc_cluster_ips(c, spec, s)) != WATCH_JSON_OK)
		return r;
	if ((r = wj_svc_ports(c, spec, s)) != WATCH_JSON_OK)
		return r;

	if (wj_opt_str(spec, "sessionAffinity", &aff) == -1)
		return wj_fail(c, "spec.sessionAffinity is not a string");
	if (aff == NULL || aff[0] == '\0' || strcmp(aff, "None") == 0)
		s->affinity = REC_AFFINITY_NONE;
	else if (strcmp(aff, "ClientIP") == 0) {
		s->affinity = REC_AFFINITY_CLIENTIP;
		s->affinity_timeout = 10800;
		cfg = wj_opt_object(spec, "sessionAffinityConfig");
		cip = cfg != NULL ? wj_opt_object(cfg, "clientIP") : NULL;
		if (cip != NULL) {
			r = wj_opt_int(cip, "timeoutSeconds", 1, 86400, &v);
			if (r == -1)
				return wj_fail(c, "sessionAffinityConfig."
				    "clientIP.timeoutSeconds not in 1..86400");
			if (r == 1)
				s->affinity_timeout = (uint32_t)v;
		}
	} else
		return wj_fail(c, "spec.sessionAffinity \"%s\" is not None or "
		    "ClientIP", wj_show(aff, buf, sizeof(buf)));

	if ((r = wj_policy(c, spec, "externalTrafficPolicy", &local)) !=
	    WATCH_JSON_OK)
		return r;
	if (local)
		s->flags |= REC_SVC_ETP_LOCAL;
	if ((r = wj_policy(c, spec, "internalTrafficPolicy", &local)) !=
	    WATCH_JSON_OK)
		return r;
	if (local)
		s->flags |= REC_SVC_ITP_LOCAL;

	if (wj_opt_int(spec, "healthCheckNodePort", 0, 65535, &v) == -1)
		return wj_fail(c, "spec.healthCheckNodePort not an integer in "
		    "0..65535");
	s->health_check_node_port = (uint16_t)v;

	if ((r = wj_svc_external(c, spec, s)) != WATCH_JSON_OK)
		return r;
	return wj_svc_status(c, obj, s);
}

/* The topology annotation: the deprecated key wins, as in kube-proxy. */
static int
wj_svc_topology(const json_t *meta)
{
	const json_t *ann = wj_opt_object(meta, "annotations"), *v;
	const char *s;

	if (ann == NULL)
		return 0;
	v = json_object_get(ann, "service.kubernetes.io/topology-aware-hints");
	if (v == NULL)
		v = json_object_get(ann, "service.kubernetes.io/topology-mode");
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	return !(s[0] == '\0' || strcmp(s, "disabled") == 0 ||
	    strcmp(s, "Disabled") == 0);
}

int
watch_json_service(const json_t *obj, const char *proxy_name,
    struct rec_service *s, char *why, size_t whylen)
{
	struct wj_ctx c = { "Service", NULL, NULL, why, whylen };
	const json_t *meta, *spec;
	const char *str;
	int r;

	memset(s, 0, sizeof(*s));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = wj_metadata(&c, obj, 1, REC_NAME_MAX, &meta)) !=
	    WATCH_JSON_OK)
		return r;
	(void)wj_copy(s->namespace, sizeof(s->namespace), c.ns);
	(void)wj_copy(s->name, sizeof(s->name), c.name);
	if ((r = wj_label_filter(&c, meta, proxy_name)) != WATCH_JSON_OK)
		goto fail;
	if (wj_opt_str(meta, "uid", &str) == 1 &&
	    wj_copy(s->uid, sizeof(s->uid), str) == -1) {
		r = wj_fail(&c, "metadata.uid too long");
		goto fail;
	}
	r = wj_opt_str(meta, "creationTimestamp", &str);
	if (r == -1 || (r == 1 && wj_timestamp(str, &s->created) == -1)) {
		r = wj_fail(&c, "bad metadata.creationTimestamp");
		goto fail;
	}
	if (wj_svc_topology(meta))
		s->flags |= REC_SVC_TOPOLOGY;
	spec = wj_opt_object(obj, "spec");
	if (spec == NULL) {
		r = wj_fail(&c, "no spec");
		goto fail;
	}
	if ((r = wj_svc_spec(&c, obj, spec, s)) != WATCH_JSON_OK)
		goto fail;
	return WATCH_JSON_OK;
fail:
	rec_service_clear(s);
	return r;
}

/* --- EndpointSlice ------------------------------------------------------- */

static int
wj_slice_ports(struct wj_ctx *c, const json_t *obj, struct rec_slice *sl)
{
	char buf[64];
	const json_t *ports, *p, *pv;
	const char *name, *proto;
	long long port = 0;
	size_t i, n;
	int r;

	r = wj_opt_array(obj, "ports", &ports);
	if (r == -1)
		return wj_fail(c, "ports is not an array");
	n = r == 1 ? json_array_size(ports) : 0;
	if (n > REC_MAX_SLICE_PORTS)
		return wj_fail(c, "%zu ports (at most %d)", n,
		    REC_MAX_SLICE_PORTS);
	if (n > 0) {
		sl->ports = calloc(n, sizeof(*sl->ports));
		if (sl->ports == NULL)
			return wj_fail(c, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct rec_slice_port *sp = &sl->ports[sl->n_ports];

		p = json_array_get(ports, i);
		if (!json_is_object(p))
			return wj_fail(c, "ports[%zu] is not an object", i);
		r = wj_opt_str(p, "name", &name);
		if (r == -1)
			return wj_fail(c, "ports[%zu].name is not a string", i);
		if (wj_opt_str(p, "protocol", &proto) == -1 ||
		    wj_protocol(proto, &sp->protocol) == -1)
			return wj_fail(c, "ports[%zu].protocol \"%s\" is not "
			    "TCP, UDP or SCTP", i, proto != NULL ?
			    wj_show(proto, buf, sizeof(buf)) : "?");
		pv = json_object_get(p, "port");
		if (pv != NULL && !json_is_null(pv) &&
		    wj_opt_int(p, "port", 0, 65535, &port) != 1)
			return wj_fail(c, "ports[%zu].port not an integer in "
			    "1..65535", i);
		/*
		 * kube-proxy skips a port whose name or number is unset (a
		 * nil port would mean "all ports", which it does not do).
		 */
		if (r == 0 || pv == NULL || json_is_null(pv) || port == 0)
			continue;
		if (name[0] != '\0' && !wj_name_ok(name, REC_PORTNAME_MAX, 0))
			return wj_fail(c, "ports[%zu].name \"%s\" is invalid",
			    i, wj_show(name, buf, sizeof(buf)));
		(void)wj_copy(sp->name, sizeof(sp->name), name);
		sp->port = (uint16_t)port;
		sl->n_ports++;
	}
	return WATCH_JSON_OK;
}

static int
wj_cond(const json_t *conds, const char *key, int dflt, int *out)
{
	const json_t *v = conds != NULL ? json_object_get(conds, key) : NULL;

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static int
wj_hints(struct wj_ctx *c, size_t idx, const json_t *hints, const char *key,
    size_t max, char *dst, size_t dstsize, uint8_t *count, int nodes)
{
	char buf[64];
	const json_t *arr, *h;
	const char *name;
	size_t i, n;
	int r;

	r = wj_opt_array(hints, key, &arr);
	if (r == -1)
		return wj_fail(c, "endpoints[%zu].hints.%s is not an array",
		    idx, key);
	n = r == 1 ? json_array_size(arr) : 0;
	if (n > max)
		return wj_fail(c, "endpoints[%zu].hints.%s has %zu entries "
		    "(at most %zu)", idx, key, n, max);
	for (i = 0; i < n; i++) {
		h = json_array_get(arr, i);
		if (!json_is_object(h) || wj_opt_str(h, "name", &name) != 1)
			return wj_fail(c, "endpoints[%zu].hints.%s[%zu] has no "
			    "name", idx, key, i);
		if (nodes ? !wj_name_ok(name, REC_NODENAME_MAX, 1) :
		    !wj_label_ok(name))
			return wj_fail(c, "endpoints[%zu].hints.%s[%zu] \"%s\" "
			    "is invalid", idx, key, i,
			    wj_show(name, buf, sizeof(buf)));
		(void)wj_copy(dst + i * dstsize, dstsize, name);
	}
	*count = (uint8_t)n;
	return WATCH_JSON_OK;
}

static int
wj_slice_endpoint(struct wj_ctx *c, size_t idx, const json_t *e,
    uint8_t family, struct rec_endpoint *ep, int *used)
{
	char reason[128], buf[64];
	const json_t *addrs, *a0, *conds, *hints;
	const char *node;
	int ready, serving, terminating, r;

	*used = 0;
	if (!json_is_object(e))
		return wj_fail(c, "endpoints[%zu] is not an object", idx);
	r = wj_opt_array(e, "addresses", &addrs);
	if (r == -1)
		return wj_fail(c, "endpoints[%zu].addresses is not an array",
		    idx);
	if (r == 0 || json_array_size(addrs) == 0)
		return WATCH_JSON_OK;
	a0 = json_array_get(addrs, 0);
	if (!json_is_string(a0))
		return wj_fail(c, "endpoints[%zu].addresses[0] is not a string",
		    idx);
	if (watch_json_parse_ip(json_string_value(a0), family, &ep->addr,
	    reason, sizeof(reason)) == -1)
		return wj_fail(c, "endpoints[%zu].addresses[0] \"%s\": %s",
		    idx, wj_show(json_string_value(a0), buf, sizeof(buf)),
		    reason);
	conds = json_object_get(e, "conditions");
	if (conds != NULL && !json_is_null(conds) && !json_is_object(conds))
		return wj_fail(c, "endpoints[%zu].conditions is not an object",
		    idx);
	if (wj_cond(conds, "ready", 1, &ready) == -1 ||
	    wj_cond(conds, "serving", 1, &serving) == -1 ||
	    wj_cond(conds, "terminating", 0, &terminating) == -1)
		return wj_fail(c, "endpoints[%zu].conditions has a non-boolean "
		    "value", idx);
	ep->conditions = (uint8_t)((ready ? REC_EP_READY : 0) |
	    (serving ? REC_EP_SERVING : 0) |
	    (terminating ? REC_EP_TERMINATING : 0));
	r = wj_opt_str(e, "nodeName", &node);
	if (r == -1 || (r == 1 && node[0] != '\0' &&
	    !wj_name_ok(node, REC_NODENAME_MAX, 1)))
		return wj_fail(c, "endpoints[%zu].nodeName is invalid", idx);
	if (r == 1)
		(void)wj_copy(ep->node_name, sizeof(ep->node_name), node);
	hints = json_object_get(e, "hints");
	if (hints != NULL && !json_is_null(hints)) {
		if (!json_is_object(hints))
			return wj_fail(c, "endpoints[%zu].hints is not an "
			    "object", idx);
		if ((r = wj_hints(c, idx, hints, "forZones", REC_MAX_ZONE_HINTS,
		    &ep->zone_hints[0][0], sizeof(ep->zone_hints[0]),
		    &ep->n_zone_hints, 0)) != WATCH_JSON_OK)
			return r;
		if ((r = wj_hints(c, idx, hints, "forNodes", REC_MAX_NODE_HINTS,
		    &ep->node_hints[0][0], sizeof(ep->node_hints[0]),
		    &ep->n_node_hints, 1)) != WATCH_JSON_OK)
			return r;
	}
	*used = 1;
	return WATCH_JSON_OK;
}

int
watch_json_slice(const json_t *obj, const char *proxy_name,
    struct rec_slice *sl, char *why, size_t whylen)
{
	struct wj_ctx c = { "EndpointSlice", NULL, NULL, why, whylen };
	char buf[64];
	const json_t *meta, *labels, *eps, *svc;
	const char *at;
	size_t i, n;
	int r, used;

	memset(sl, 0, sizeof(*sl));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = wj_metadata(&c, obj, 1, REC_NAME_MAX, &meta)) !=
	    WATCH_JSON_OK)
		return r;
	(void)wj_copy(sl->namespace, sizeof(sl->namespace), c.ns);
	(void)wj_copy(sl->name, sizeof(sl->name), c.name);
	if ((r = wj_label_filter(&c, meta, proxy_name)) != WATCH_JSON_OK)
		goto fail;
	labels = wj_opt_object(meta, "labels");
	svc = labels != NULL ?
	    json_object_get(labels, WATCH_JSON_LABEL_SERVICE_NAME) : NULL;
	if (svc == NULL) {
		r = wj_skip(&c, "no %s label", WATCH_JSON_LABEL_SERVICE_NAME);
		goto fail;
	}
	if (!json_is_string(svc) ||
	    !wj_name_ok(json_string_value(svc), REC_NAME_MAX, 1)) {
		r = wj_fail(&c, "invalid %s label",
		    WATCH_JSON_LABEL_SERVICE_NAME);
		goto fail;
	}
	(void)wj_copy(sl->service, sizeof(sl->service),
	    json_string_value(svc));
	if (wj_opt_str(obj, "addressType", &at) != 1) {
		r = wj_fail(&c, "addressType missing");
		goto fail;
	}
	if (strcmp(at, "IPv4") == 0)
		sl->family = REC_FAMILY_IPV4;
	else if (strcmp(at, "IPv6") == 0)
		sl->family = REC_FAMILY_IPV6;
	else if (strcmp(at, "FQDN") == 0) {
		r = wj_skip(&c, "addressType FQDN");
		goto fail;
	} else {
		r = wj_fail(&c, "unknown addressType \"%s\"",
		    wj_show(at, buf, sizeof(buf)));
		goto fail;
	}
	if ((r = wj_slice_ports(&c, obj, sl)) != WATCH_JSON_OK)
		goto fail;
	r = wj_opt_array(obj, "endpoints", &eps);
	if (r == -1) {
		r = wj_fail(&c, "endpoints is not an array");
		goto fail;
	}
	n = r == 1 ? json_array_size(eps) : 0;
	if (n > REC_MAX_SLICE_ENDPOINTS) {
		r = wj_fail(&c, "%zu endpoints (at most %d)", n,
		    REC_MAX_SLICE_ENDPOINTS);
		goto fail;
	}
	if (n > 0) {
		sl->endpoints = calloc(n, sizeof(*sl->endpoints));
		if (sl->endpoints == NULL) {
			r = wj_fail(&c, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		r = wj_slice_endpoint(&c, i, json_array_get(eps, i),
		    sl->family, &sl->endpoints[sl->n_endpoints], &used);
		if (r != WATCH_JSON_OK)
			goto fail;
		if (used)
			sl->n_endpoints++;
		else
			memset(&sl->endpoints[sl->n_endpoints], 0,
			    sizeof(sl->endpoints[0]));
	}
	return WATCH_JSON_OK;
fail:
	rec_slice_clear(sl);
	return r;
}

/* --- Node ---------------------------------------------------------------- */

static int
wj_node_addresses(struct wj_ctx *c, const json_t *status, struct rec_node *nd)
{
	static const char *const types[] = { "InternalIP", "ExternalIP" };
	char reason[128], buf[64];
	const json_t *arr, *a;
	const char *type, *addr;
	size_t i, t;

	if (status == NULL || wj_opt_array(status, "addresses", &arr) != 1)
		return WATCH_JSON_OK;
	for (t = 0; t < 2; t++) {
		for (i = 0; i < json_array_size(arr); i++) {
			a = json_array_get(arr, i);
			if (!json_is_object(a) ||
			    wj_opt_str(a, "type", &type) != 1 ||
			    wj_opt_str(a, "address", &addr) != 1)
				return wj_fail(c, "status.addresses[%zu] is "
				    "malformed", i);
			if (strcmp(type, types[t]) != 0)
				continue;
			if (nd->n_addresses >= 4)
				return wj_fail(c, "more than 4 node "
				    "addresses");
			if (watch_json_parse_ip(addr, 0,
			    &nd->addresses[nd->n_addresses], reason,
			    sizeof(reason)) == -1)
				return wj_fail(c, "status.addresses[%zu] "
				    "\"%s\": %s", i,
				    wj_show(addr, buf, sizeof(buf)), reason);
			nd->n_addresses++;
		}
	}
	return WATCH_JSON_OK;
}

int
watch_json_node(const json_t *obj, struct rec_node *nd, char *why,
    size_t whylen)
{
	struct wj_ctx c = { "Node", NULL, NULL, why, whylen };
	char reason[128], buf[64];
	const json_t *meta, *labels, *spec, *cidrs, *v;
	const char *zone, *cidr;
	size_t i, n;
	int r;

	memset(nd, 0, sizeof(*nd));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = wj_metadata(&c, obj, 0, REC_NODENAME_MAX, &meta)) !=
	    WATCH_JSON_OK)
		return r;
	(void)wj_copy(nd->name, sizeof(nd->name), c.name);
	labels = wj_opt_object(meta, "labels");
	if (labels != NULL) {
		v = json_object_get(labels, WATCH_JSON_LABEL_ZONE);
		if (v != NULL) {
			zone = json_is_string(v) ? json_string_value(v) : NULL;
			if (zone == NULL || !wj_label_ok(zone))
				return wj_fail(&c, "invalid %s label",
				    WATCH_JSON_LABEL_ZONE);
			(void)wj_copy(nd->zone, sizeof(nd->zone), zone);
		}
	}
	spec = wj_opt_object(obj, "spec");
	cidrs = NULL;
	if (spec != NULL && wj_opt_array(spec, "podCIDRs", &cidrs) == -1)
		return wj_fail(&c, "spec.podCIDRs is not an array");
	n = cidrs != NULL ? json_array_size(cidrs) : 0;
	if (n > REC_MAX_NODE_PODCIDRS)
		return wj_fail(&c, "%zu podCIDRs (at most %d)", n,
		    REC_MAX_NODE_PODCIDRS);
	for (i = 0; i < n; i++) {
		v = json_array_get(cidrs, i);
		cidr = json_is_string(v) ? json_string_value(v) : "";
		if (watch_json_parse_cidr(cidr, 0, &nd->pod_cidrs[i], reason,
		    sizeof(reason)) == -1)
			return wj_fail(&c, "spec.podCIDRs[%zu] \"%s\": %s", i,
			    wj_show(cidr, buf, sizeof(buf)), reason);
	}
	nd->n_pod_cidrs = (uint8_t)n;
	return wj_node_addresses(&c, wj_opt_object(obj, "status"), nd);
}
