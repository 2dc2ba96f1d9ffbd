/*
 * KubeProxyConfiguration files (kubeproxy.config.k8s.io/v1alpha1) with
 * libyaml's document API, kube-proxy's flag precedence under --config, and
 * struct kp_config back to flags.
 *
 * The loader walks the document against one table of fields.  A supported
 * field becomes its kube-proxy flag ("--ipvs-sync-period=30s") and all of
 * them are handed to kpconf_parse() at the end, so values are checked by
 * exactly the code that checks flags; its messages are rewritten to name
 * the field and its line.  Only the structure (mappings, sequences,
 * scalar types, duplicates, unknown names) is checked here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "common/addr.h"
#include "common/kpconf_file.h"
#include "common/log.h"

enum kf_type {
	KF_META,	/* apiVersion, kind: checked before the walk */
	KF_SECTION,	/* a mapping of further fields */
	KF_STR,		/* a scalar handed to the flag as it is */
	KF_DURATION,	/* Go duration string */
	KF_BOOL,
	KF_INT,
	KF_QPS,		/* a float in kube-proxy; whole numbers here */
	KF_LIST,	/* a sequence of scalars, joined with commas */
	KF_HOSTPORT,	/* IP[:PORT]; a missing port is defaulted */
	KF_BINDADDR,	/* an unspecified address means "no override" */
	KF_MODE,
	KF_CONTENT_TYPE,
	KF_GATES,
	KF_IGNORED,	/* no effect in ipvs mode: warn when set */
	KF_REFUSED,	/* a boolean kipvs cannot honour when true */
};

/* kube-proxy's defaulting replaces a zero value by the default. */
#define KF_ZERO_DEFAULT	0x01

struct kf_field {
	const char	*path;
	enum kf_type	 type;
	const char	*flag;		/* kpconf flag, without dashes */
	unsigned	 flags;
	unsigned	 port;		/* KF_HOSTPORT: the default port */
	const char	*note;		/* KF_IGNORED, KF_REFUSED: why */
};

static const struct kf_field kf_fields[] = {
	{ "apiVersion", KF_META, NULL, 0, 0, NULL },
	{ "kind", KF_META, NULL, 0, 0, NULL },
	{ "mode", KF_MODE, "proxy-mode", 0, 0, NULL },
	{ "hostnameOverride", KF_STR, "hostname-override", 0, 0, NULL },
	{ "bindAddress", KF_BINDADDR, "bind-address", 0, 0, NULL },
	{ "healthzBindAddress", KF_HOSTPORT, "healthz-bind-address", 0,
	    10256, NULL },
	{ "metricsBindAddress", KF_HOSTPORT, "metrics-bind-address", 0,
	    10249, NULL },
	{ "bindAddressHardFail", KF_BOOL, "bind-address-hard-fail", 0, 0,
	    NULL },
	{ "enableProfiling", KF_REFUSED, NULL, 0, 0,
	    "kipvs serves no pprof profiles" },
	{ "clusterCIDR", KF_STR, "cluster-cidr", 0, 0, NULL },
	{ "detectLocalMode", KF_STR, "detect-local-mode", 0, 0, NULL },
	{ "detectLocal", KF_SECTION, NULL, 0, 0, NULL },
	{ "detectLocal.bridgeInterface", KF_STR, "pod-bridge-interface", 0, 0,
	    NULL },
	{ "detectLocal.interfaceNamePrefix", KF_STR,
	    "pod-interface-name-prefix", 0, 0, NULL },
	{ "nodePortAddresses", KF_LIST, "nodeport-addresses", 0, 0, NULL },
	{ "oomScoreAdj", KF_INT, "oom-score-adj", 0, 0, NULL },
	{ "configSyncPeriod", KF_DURATION, "config-sync-period",
	    KF_ZERO_DEFAULT, 0, NULL },
	{ "clientConnection", KF_SECTION, NULL, 0, 0, NULL },
	{ "clientConnection.kubeconfig", KF_STR, "kubeconfig", 0, 0, NULL },
	{ "clientConnection.qps", KF_QPS, "kube-api-qps", KF_ZERO_DEFAULT, 0,
	    NULL },
	{ "clientConnection.burst", KF_INT, "kube-api-burst", KF_ZERO_DEFAULT,
	    0, NULL },
	{ "clientConnection.contentType", KF_CONTENT_TYPE, NULL, 0, 0, NULL },
	{ "clientConnection.acceptContentTypes", KF_IGNORED, NULL, 0, 0,
	    "kipvs always asks the apiserver for JSON" },
	{ "ipvs", KF_SECTION, NULL, 0, 0, NULL },
	{ "ipvs.scheduler", KF_STR, "ipvs-scheduler", 0, 0, NULL },
	{ "ipvs.syncPeriod", KF_DURATION, "ipvs-sync-period", KF_ZERO_DEFAULT,
	    0, NULL },
	{ "ipvs.minSyncPeriod", KF_DURATION, "ipvs-min-sync-period", 0, 0,
	    NULL },
	{ "ipvs.excludeCIDRs", KF_LIST, "ipvs-exclude-cidrs", 0, 0, NULL },
	{ "ipvs.strictARP", KF_BOOL, "ipvs-strict-arp", 0, 0, NULL },
	{ "ipvs.tcpTimeout", KF_DURATION, "ipvs-tcp-timeout", 0, 0, NULL },
	{ "ipvs.tcpFinTimeout", KF_DURATION, "ipvs-tcpfin-timeout", 0, 0,
	    NULL },
	{ "ipvs.udpTimeout", KF_DURATION, "ipvs-udp-timeout", 0, 0, NULL },
	{ "iptables", KF_SECTION, NULL, 0, 0, NULL },
	{ "iptables.masqueradeAll", KF_BOOL, "masquerade-all", 0, 0, NULL },
	{ "iptables.masqueradeBit", KF_INT, "iptables-masquerade-bit", 0, 0,
	    NULL },
	{ "iptables.syncPeriod", KF_IGNORED, NULL, 0, 0,
	    "iptables mode only; ipvs.syncPeriod applies" },
	{ "iptables.minSyncPeriod", KF_IGNORED, NULL, 0, 0,
	    "iptables mode only; ipvs.minSyncPeriod applies" },
	{ "iptables.localhostNodePorts", KF_IGNORED, NULL, 0, 0,
	    "iptables mode only" },
	{ "conntrack", KF_SECTION, NULL, 0, 0, NULL },
	{ "conntrack.maxPerCore", KF_INT, "conntrack-max-per-core", 0, 0,
	    NULL },
	{ "conntrack.min", KF_INT, "conntrack-min", 0, 0, NULL },
	{ "conntrack.tcpEstablishedTimeout", KF_DURATION,
	    "conntrack-tcp-timeout-established", 0, 0, NULL },
	{ "conntrack.tcpCloseWaitTimeout", KF_DURATION,
	    "conntrack-tcp-timeout-close-wait", 0, 0, NULL },
	{ "conntrack.tcpBeLiberal", KF_BOOL, "conntrack-tcp-be-liberal", 0, 0,
	    NULL },
	{ "conntrack.udpTimeout", KF_DURATION, "conntrack-udp-timeout", 0, 0,
	    NULL },
	{ "conntrack.udpStreamTimeout", KF_DURATION,
	    "conntrack-udp-timeout-stream", 0, 0, NULL },
	{ "featureGates", KF_GATES, NULL, 0, 0, NULL },
	{ "nftables", KF_IGNORED, NULL, 0, 0, "nftables mode only" },
	{ "winkernel", KF_IGNORED, NULL, 0, 0, "Windows only" },
	{ "windowsRunAsService", KF_IGNORED, NULL, 0, 0, "Windows only" },
	{ "logging", KF_IGNORED, NULL, 0, 0,
	    "kipvs logs by its own --log-level flag" },
	{ "showHiddenMetricsForVersion", KF_IGNORED, NULL, 0, 0,
	    "kipvs has no hidden metrics" },
	{ "portRange", KF_IGNORED, NULL, 0, 0, "userspace mode only" },
	{ "udpIdleTimeout", KF_IGNORED, NULL, 0, 0, "userspace mode only" },
};

#define KF_NFIELDS	(sizeof(kf_fields) / sizeof(kf_fields[0]))
#define KF_PATH_MAX	96
#define KF_MAX_ARGS	KF_NFIELDS
#define KF_FLAG_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789-"

/* kpconf flags that have no field in the file: --config leaves them be. */
static const char *const kf_flag_only[] = {
	"hostname-override",	/* kube-proxy's one exception */
	"master",
	"service-proxy-name",
	"ip-family",
	"nodeport-range",
};

struct kf_ctx {
	const char	*name;
	yaml_document_t	*doc;
	kpconf_warn_fn	 warn;
	void		*warn_arg;
	char		*err;
	size_t		 errlen;
	int		 argc;
	char		*argv[KF_MAX_ARGS + 1];
	int		 line[KF_MAX_ARGS];
};

static int kf_fail(struct kf_ctx *, const yaml_node_t *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));
static void kf_warnf(struct kf_ctx *, const yaml_node_t *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static int
kf_fail(struct kf_ctx *x, const yaml_node_t *n, const char *path,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL && path != NULL)
		snprintf(x->err, x->errlen, "%s:%zu: %s: %s", x->name,
		    n->start_mark.line + 1, path, msg);
	else if (n != NULL)
		snprintf(x->err, x->errlen, "%s:%zu: %s", x->name,
		    n->start_mark.line + 1, msg);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->name, msg);
	errno = EINVAL;
	return -1;
}

static void
kf_warnf(struct kf_ctx *x, const yaml_node_t *n, const char *path,
    const char *fmt, ...)
{
	char msg[256], line[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%zu: %s: %s", x->name,
	    n->start_mark.line + 1, path, msg);
	if (x->warn != NULL)
		x->warn(x->warn_arg, line);
	else
		log_warnx("%s", line);
}

static const struct kf_field *
kf_lookup(const char *path)
{
	size_t i;

	for (i = 0; i < KF_NFIELDS; i++)
		if (strcmp(kf_fields[i].path, path) == 0)
			return &kf_fields[i];
	return NULL;
}

static const struct kf_field *
kf_lookup_flag(const char *flag, size_t len)
{
	size_t i;

	for (i = 0; i < KF_NFIELDS; i++)
		if (kf_fields[i].flag != NULL &&
		    strlen(kf_fields[i].flag) == len &&
		    strncmp(kf_fields[i].flag, flag, len) == 0)
			return &kf_fields[i];
	return NULL;
}

/*
 * A scalar's text, or NULL when n is not a scalar or holds a NUL byte
 * (a double-quoted "\0"), which no setting can contain.
 */
static const char *
kf_text(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static int
kf_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty plain scalar, ~ or null (any of its spellings). */
static int
kf_is_null(const yaml_node_t *n)
{
	const char *v = kf_text(n);

	if (v == NULL || !kf_plain(n))
		return 0;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * The zero value of any field: null, "", false, 0, a zero duration or an
 * empty collection.  Collections are not descended into, so an aliased
 * structure costs nothing here.
 */
static int
kf_is_empty(const yaml_node_t *n)
{
	const char *v;

	switch (n->type) {
	case YAML_MAPPING_NODE:
		return n->data.mapping.pairs.top ==
		    n->data.mapping.pairs.start;
	case YAML_SEQUENCE_NODE:
		return n->data.sequence.items.top ==
		    n->data.sequence.items.start;
	case YAML_SCALAR_NODE:
		if (kf_is_null(n))
			return 1;
		if ((v = kf_text(n)) == NULL)
			return 0;
		return *v == '\0' || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0 || strcmp(v, "0s") == 0;
	case YAML_NO_NODE:
		break;
	}
	return 1;
}

/* A duration with no non-zero digit is zero ("0", "0s", "0h0m0s"). */
static int
kf_duration_is_zero(const char *v)
{
	return strpbrk(v, "123456789") == NULL;
}

static int
kf_bool_text(const char *v, const char **out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
	    strcmp(v, "TRUE") == 0)
		*out = "true";
	else if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
	    strcmp(v, "FALSE") == 0)
		*out = "false";
	else
		return -1;
	return 0;
}

static int
kf_int_text(const char *v)
{
	if (*v == '-' || *v == '+')
		v++;
	if (!isdigit((unsigned char)*v))
		return -1;
	while (isdigit((unsigned char)*v))
		v++;
	return *v == '\0' ? 0 : -1;
}

/* Adds "--flag=value" for the field at node n. */
static int
kf_push(struct kf_ctx *x, const yaml_node_t *n, const struct kf_field *f,
    const char *value)
{
	char *s;

	if (x->argc >= (int)KF_MAX_ARGS)
		return kf_fail(x, n, f->path, "too many settings");
	if (asprintf(&s, "--%s=%s", f->flag, value) == -1) {
		snprintf(x->err, x->errlen, "%s: out of memory", x->name);
		errno = ENOMEM;
		return -1;
	}
	x->argv[x->argc] = s;
	x->line[x->argc] = (int)n->start_mark.line + 1;
	x->argc++;
	return 0;
}

/* Scalars only; NULL (after an error) otherwise. */
static const char *
kf_want_scalar(struct kf_ctx *x, const yaml_node_t *n, const char *path)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE) {
		kf_fail(x, n, path, "want a single value, got a %s",
		    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return NULL;
	}
	if ((v = kf_text(n)) == NULL)
		kf_fail(x, n, path, "NUL byte in value");
	return v;
}

static int
kf_list(struct kf_ctx *x, const struct kf_field *f, const yaml_node_t *n)
{
	char buf[2048];
	yaml_node_item_t *it;
	size_t len = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return kf_fail(x, n, f->path, "want a list");
	buf[0] = '\0';
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(x->doc, *it);
		const char *v;
		int w;

		if (e == NULL || e->type != YAML_SCALAR_NODE ||
		    (v = kf_text(e)) == NULL || kf_is_null(e) || *v == '\0')
			return kf_fail(x, e != NULL ? e : n, f->path,
			    "want a list of non-empty strings");
		if (strchr(v, ',') != NULL)
			return kf_fail(x, e, f->path, "one CIDR per list "
			    "item, got '%s'", v);
		w = snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    len > 0 ? "," : "", v);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return kf_fail(x, n, f->path, "list too long");
		len += (size_t)w;
	}
	if (len == 0)
		return 0;
	return kf_push(x, n, f, buf);
}

static int
kf_hostport(struct kf_ctx *x, const struct kf_field *f, const yaml_node_t *n,
    const char *v)
{
	struct rec_addr a;
	char buf[KP_HOSTPORT_MAX + 1], why[64];

	/* kube-proxy: an empty address is defaulted, a bare IP gets a port. */
	if (*v == '\0')
		return 0;
	if (addr_parse(v, 0, &a, why, sizeof(why)) == 0) {
		if (snprintf(buf, sizeof(buf), a.family == REC_FAMILY_IPV6 ?
		    "[%s]:%u" : "%s:%u", v, f->port) >= (int)sizeof(buf))
			return kf_fail(x, n, f->path, "address too long");
		v = buf;
	}
	return kf_push(x, n, f, v);
}

static int
kf_gates(struct kf_ctx *x, const struct kf_field *f, const yaml_node_t *n)
{
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE)
		return kf_fail(x, n, f->path, "want a mapping of gate names "
		    "to true or false");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = kf_text(k), *b = kf_text(v), *dummy;

		if (name == NULL || b == NULL || !kf_plain(v) ||
		    kf_bool_text(b, &dummy) == -1)
			return kf_fail(x, v != NULL ? v : n, f->path,
			    "want a mapping of gate names to true or false");
		kf_warnf(x, k, f->path, "%s ignored: kipvs has no feature "
		    "gates", name);
	}
	return 0;
}

static int kf_mapping(struct kf_ctx *, const yaml_node_t *, const char *);

static int
kf_field(struct kf_ctx *x, const struct kf_field *f, const yaml_node_t *n)
{
	const char *v, *b;

	switch (f->type) {
	case KF_META:
		return 0;
	case KF_SECTION:
		if (kf_is_null(n))
			return 0;
		if (n->type != YAML_MAPPING_NODE)
			return kf_fail(x, n, f->path, "want a mapping");
		return kf_mapping(x, n, f->path);
	case KF_IGNORED:
		if (!kf_is_empty(n))
			kf_warnf(x, n, f->path, "ignored: %s", f->note);
		return 0;
	case KF_GATES:
		return kf_is_null(n) ? 0 : kf_gates(x, f, n);
	case KF_LIST:
		return kf_is_null(n) ? 0 : kf_list(x, f, n);
	default:
		break;
	}

	/* Everything else is one scalar; null keeps the default. */
	if ((v = kf_want_scalar(x, n, f->path)) == NULL)
		return -1;
	if (kf_is_null(n))
		return 0;
	switch (f->type) {
	case KF_STR:
		return *v == '\0' ? 0 : kf_push(x, n, f, v);
	case KF_DURATION:
		if (*v == '\0' ||
		    ((f->flags & KF_ZERO_DEFAULT) && kf_duration_is_zero(v)))
			return 0;
		return kf_push(x, n, f, v);
	case KF_BOOL:
	case KF_REFUSED:
		if (!kf_plain(n) || kf_bool_text(v, &b) == -1)
			return kf_fail(x, n, f->path, "want true or false, "
			    "got '%s'", v);
		if (f->type == KF_BOOL)
			return kf_push(x, n, f, b);
		if (strcmp(b, "true") == 0)
			return kf_fail(x, n, f->path, "not supported: %s",
			    f->note);
		return 0;
	case KF_INT:
		if (!kf_plain(n) || kf_int_text(v) == -1)
			return kf_fail(x, n, f->path, "want an integer, got "
			    "'%s'", v);
		if ((f->flags & KF_ZERO_DEFAULT) && strtoll(v, NULL, 10) == 0)
			return 0;
		return kf_push(x, n, f, v);
	case KF_QPS: {
		char whole[32];
		size_t k = strspn(v, "0123456789");

		/* "5" and "5.0" are whole; "0.5" cannot be honoured. */
		if (!kf_plain(n) || k == 0 || k >= sizeof(whole) ||
		    (v[k] != '\0' && (v[k] != '.' ||
		    v[k + 1 + strspn(v + k + 1, "0")] != '\0')))
			return kf_fail(x, n, f->path, "want a whole number of "
			    "requests per second, got '%s'", v);
		memcpy(whole, v, k);
		whole[k] = '\0';
		if (strtoll(whole, NULL, 10) == 0)
			return 0;
		return kf_push(x, n, f, whole);
	}
	case KF_HOSTPORT:
		return kf_hostport(x, f, n, v);
	case KF_BINDADDR: {
		struct rec_addr a;
		char why[64];
		static const uint8_t zero[16];

		if (*v == '\0' || (addr_parse(v, 0, &a, why,
		    sizeof(why)) == 0 && memcmp(a.addr, zero, 16) == 0))
			return 0;
		return kf_push(x, n, f, v);
	}
	case KF_MODE:
		if (*v == '\0') {
			kf_warnf(x, n, f->path, "empty: kube-proxy would run "
			    "iptables mode; kipvs runs ipvs");
			return 0;
		}
		if (strcmp(v, "ipvs") != 0)
			return kf_fail(x, n, f->path, "kipvs implements only "
			    "ipvs, got '%s'", v);
		return kf_push(x, n, f, v);
	case KF_CONTENT_TYPE:
		if (*v == '\0' ||
		    strcmp(v, "application/vnd.kubernetes.protobuf") == 0 ||
		    strcmp(v, "application/json") == 0)
			return 0;
		return kf_fail(x, n, f->path, "want application/json or "
		    "application/vnd.kubernetes.protobuf, got '%s'", v);
	default:
		break;
	}
	return kf_fail(x, n, f->path, "internal error: field type %d",
	    (int)f->type);
}

static int
kf_mapping(struct kf_ctx *x, const yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t *p, *q;
	char path[KF_PATH_MAX];

	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const struct kf_field *f;
		const char *key = kf_text(k);

		if (key == NULL || v == NULL)
			return kf_fail(x, k != NULL ? k : map, prefix[0] ?
			    prefix : NULL, "field names are strings");
		if (snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] ? "." : "", key) >= (int)sizeof(path) ||
		    (f = kf_lookup(path)) == NULL)
			return kf_fail(x, k, NULL, "unknown field '%s%s%s'",
			    prefix, prefix[0] ? "." : "", key);
		/* Known names only get here, so this loop stays short. */
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const char *prev = kf_text(
			    yaml_document_get_node(x->doc, q->key));

			if (prev != NULL && strcmp(prev, key) == 0)
				return kf_fail(x, k, NULL, "duplicate field "
				    "'%s'", path);
		}
		if (kf_field(x, f, v) == -1)
			return -1;
	}
	return 0;
}

/* The value of a top-level key, or NULL. */
static yaml_node_t *
kf_top(struct kf_ctx *x, const yaml_node_t *root, const char *key)
{
	yaml_node_pair_t *p;

	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		const char *k = kf_text(yaml_document_get_node(x->doc,
		    p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(x->doc, p->value);
	}
	return NULL;
}

static int
kf_meta(struct kf_ctx *x, const yaml_node_t *root)
{
	static const struct {
		const char *key, *want;
	} meta[] = {
		{ "apiVersion", KPCONF_FILE_API },
		{ "kind", KPCONF_FILE_KIND },
	};
	size_t i;

	for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		yaml_node_t *n = kf_top(x, root, meta[i].key);
		const char *v = n != NULL ? kf_text(n) : NULL;

		if (n == NULL)
			return kf_fail(x, root, NULL, "%s missing: want %s",
			    meta[i].key, meta[i].want);
		if (v == NULL || strcmp(v, meta[i].want) != 0)
			return kf_fail(x, n, meta[i].key, "want %s, got '%s'",
			    meta[i].want, v != NULL ? v : "(not a string)");
	}
	return 0;
}

/*
 * Rewrites a kpconf_parse() message about flags into one about fields:
 * "--ipvs-sync-period: ..." becomes "FILE:LINE: ipvs.syncPeriod: ...",
 * the line being that of the first flag named.
 */
static void
kf_rewrite(struct kf_ctx *x, const char *msg)
{
	char out[512];
	const char *p = msg;
	size_t o = 0;
	int line = 0, i;

	while (*p != '\0' && o + 1 < sizeof(out)) {
		const struct kf_field *f = NULL;
		size_t len = 0;

		if (p[0] == '-' && p[1] == '-') {
			len = strspn(p + 2, KF_FLAG_CHARS);
			f = kf_lookup_flag(p + 2, len);
		}
		if (f == NULL) {
			out[o++] = *p++;
			continue;
		}
		if (line == 0)
			for (i = 0; i < x->argc; i++)
				if (strncmp(x->argv[i] + 2, f->flag,
				    len) == 0 && x->argv[i][2 + len] == '=') {
					line = x->line[i];
					break;
				}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", f->path);
		if (o >= sizeof(out))
			o = sizeof(out) - 1;
		p += 2 + len;
	}
	out[o] = '\0';
	if (line > 0)
		snprintf(x->err, x->errlen, "%s:%d: %s", x->name, line, out);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->name, out);
}

static int
kf_document(struct kf_ctx *x, struct kp_config *c, const char *buf,
    size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	struct kp_config tmp;
	char msg[256];
	int rv = -1, have_doc = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(x->err, x->errlen, "%s: out of memory", x->name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(x->err, x->errlen, "%s:%zu: YAML: %s%s%s", x->name,
		    parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "syntax error",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		goto out;
	}
	have_doc = 1;
	x->doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		kf_fail(x, NULL, NULL, "empty file");
		goto out;
	}
	/* One document only: a second one would be silently dropped. */
	if (!yaml_parser_load(&parser, &extra)) {
		kf_fail(x, NULL, NULL, "YAML after the document: %s",
		    parser.problem != NULL ? parser.problem : "syntax error");
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		yaml_document_delete(&extra);
		kf_fail(x, NULL, NULL, "more than one YAML document");
		goto out;
	}
	yaml_document_delete(&extra);
	if (root->type != YAML_MAPPING_NODE) {
		kf_fail(x, root, NULL, "want a mapping of fields");
		goto out;
	}
	if (kf_meta(x, root) == -1 || kf_mapping(x, root, "") == -1)
		goto out;

	/* Values are checked by the flag parser, over a copy. */
	tmp = *c;
	x->argv[x->argc] = NULL;
	if (kpconf_parse(&tmp, x->argc, x->argv, msg, sizeof(msg)) == -1) {
		kf_rewrite(x, msg);
		errno = EINVAL;
		goto out;
	}
	*c = tmp;
	rv = 0;
 out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rv;
}

int
kpconf_file_parse(struct kp_config *c, const char *name, const char *buf,
    size_t len, kpconf_warn_fn warn, void *arg, char *err, size_t errlen)
{
	struct kf_ctx x;
	int rv, i;

	memset(&x, 0, sizeof(x));
	x.name = name;
	x.warn = warn;
	x.warn_arg = arg;
	x.err = err;
	x.errlen = errlen;
	if (len > KPCONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name,
		    KPCONF_FILE_MAX);
		errno = EFBIG;
		return -1;
	}
	rv = kf_document(&x, c, buf, len);
	for (i = 0; i < x.argc; i++)
		free(x.argv[i]);
	return rv;
}

int
kpconf_file_load(struct kp_config *c, const char *path, kpconf_warn_fn warn,
    void *arg, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rv = -1;

	/* No O_NOFOLLOW: a ConfigMap volume's files are symbolic links. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > KPCONF_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, KPCONF_FILE_MAX);
		errno = EINVAL;
		goto out;
	}
	/* One byte more than the size: a file that grew is caught below. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got <= (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		snprintf(err, errlen, "%s: changed while being read", path);
		errno = EAGAIN;
		goto out;
	}
	rv = kpconf_file_parse(c, path, buf, got, warn, arg, err, errlen);
 out:
	free(buf);
	close(fd);
	return rv;
}

static int
kf_flag_only_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(kf_flag_only) / sizeof(kf_flag_only[0]); i++)
		if (strlen(kf_flag_only[i]) == len &&
		    strncmp(kf_flag_only[i], name, len) == 0)
			return 1;
	return 0;
}

int
kpconf_file_merge(struct kp_config *c, int argc, char *const argv[],
    kpconf_warn_fn warn, void *arg, char *err, size_t errlen)
{
	struct kp_config tmp;
	char **keep, msg[256];
	int i, n = 0, rv;

	if ((keep = calloc((size_t)argc + 1, sizeof(*keep))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *name = a;
		size_t len;
		int sep;

		while (*name == '-')
			name++;
		len = strcspn(name, "=");
		/* "--flag value": the value is the next argument. */
		sep = strchr(a, '=') == NULL && kpconf_is_flag(a) &&
		    !kpconf_is_bool(a) && i + 1 < argc;
		if (a[0] != '-' || !kpconf_is_flag(a) ||
		    kf_flag_only_name(name, len)) {
			keep[n++] = argv[i];
			if (sep)
				keep[n++] = argv[++i];
			continue;
		}
		snprintf(msg, sizeof(msg), "--%.*s is ignored because "
		    "--config is given: set it in the file", (int)len, name);
		if (warn != NULL)
			warn(arg, msg);
		else
			log_warnx("%s", msg);
		if (sep)
			i++;
	}
	tmp = *c;
	rv = kpconf_parse(&tmp, n, keep, err, errlen);
	if (rv == 0)
		*c = tmp;
	free(keep);
	return rv;
}

/* kpconf_to_args */

struct kf_args {
	char	**v;
	int	  n;
	int	  failed;
};

static void kf_add(struct kf_args *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
kf_add(struct kf_args *a, const char *fmt, ...)
{
	va_list ap;
	char **nv, *s;

	if (a->failed)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		va_end(ap);
		a->failed = 1;
		return;
	}
	va_end(ap);
	if ((nv = realloc(a->v, sizeof(*nv) * (size_t)(a->n + 2))) == NULL) {
		free(s);
		a->failed = 1;
		return;
	}
	a->v = nv;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static const char *
kf_bool(int v)
{
	return v ? "true" : "false";
}

/* A duration kpconf reads back exactly: whole seconds, else ms. */
static void
kf_add_ms(struct kf_args *a, const char *flag, uint32_t ms)
{
	if (ms % 1000 == 0)
		kf_add(a, "--%s=%us", flag, ms / 1000);
	else
		kf_add(a, "--%s=%ums", flag, ms);
}

static void
kf_add_prefixes(struct kf_args *a, const char *flag,
    const struct rec_prefix *p, size_t n, int primary)
{
	char buf[KP_MAX_CIDRS * (ADDR_STRLEN + 1) + 16], one[ADDR_STRLEN];
	size_t i, len = 0;

	buf[0] = '\0';
	if (primary)
		len = (size_t)snprintf(buf, sizeof(buf), "primary");
	for (i = 0; i < n; i++) {
		prefix_fmt(&p[i], one, sizeof(one));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    len > 0 ? "," : "", one);
		if (len >= sizeof(buf)) {
			a->failed = 1;
			return;
		}
	}
	kf_add(a, "--%s=%s", flag, buf);
}

char **
kpconf_to_args(const struct kp_config *c, int *argc)
{
	static const char *const detect[] = {
		[KP_DETECT_CLUSTER_CIDR] = "ClusterCIDR",
		[KP_DETECT_NODE_CIDR] = "NodeCIDR",
		[KP_DETECT_BRIDGE_INTERFACE] = "BridgeInterface",
		[KP_DETECT_INTERFACE_NAME_PREFIX] = "InterfaceNamePrefix",
	};
	struct kp_config d;
	struct kf_args a = { NULL, 0, 0 };
	char buf[ADDR_STRLEN];

	kpconf_defaults(&d);
	/* Always at least an empty vector. */
	if ((a.v = calloc(1, sizeof(*a.v))) == NULL)
		return NULL;
	if (strcmp(c->hostname, d.hostname) != 0)
		kf_add(&a, "--hostname-override=%s", c->hostname);
	if (strcmp(c->kubeconfig, d.kubeconfig) != 0)
		kf_add(&a, "--kubeconfig=%s", c->kubeconfig);
	if (strcmp(c->master, d.master) != 0)
		kf_add(&a, "--master=%s", c->master);
	if (strcmp(c->service_proxy_name, d.service_proxy_name) != 0)
		kf_add(&a, "--service-proxy-name=%s", c->service_proxy_name);
	if (c->config_sync_period_ms != d.config_sync_period_ms)
		kf_add_ms(&a, "config-sync-period", c->config_sync_period_ms);
	if (c->kube_api_qps != d.kube_api_qps)
		kf_add(&a, "--kube-api-qps=%u", c->kube_api_qps);
	if (c->kube_api_burst != d.kube_api_burst)
		kf_add(&a, "--kube-api-burst=%u", c->kube_api_burst);
	if (c->families != d.families)
		kf_add(&a, "--ip-family=%s", c->families == KP_FAMILY_V4 ?
		    "ipv4" : c->families == KP_FAMILY_V6 ? "ipv6" : "dual");
	if (strcmp(c->scheduler, d.scheduler) != 0)
		kf_add(&a, "--ipvs-scheduler=%s", c->scheduler);
	if (c->sync_period_ms != d.sync_period_ms)
		kf_add_ms(&a, "ipvs-sync-period", c->sync_period_ms);
	if (c->min_sync_period_ms != d.min_sync_period_ms)
		kf_add_ms(&a, "ipvs-min-sync-period", c->min_sync_period_ms);
	if (c->strict_arp != d.strict_arp)
		kf_add(&a, "--ipvs-strict-arp=%s", kf_bool(c->strict_arp));
	if (c->tcp_timeout_s != d.tcp_timeout_s)
		kf_add(&a, "--ipvs-tcp-timeout=%us", c->tcp_timeout_s);
	if (c->tcpfin_timeout_s != d.tcpfin_timeout_s)
		kf_add(&a, "--ipvs-tcpfin-timeout=%us", c->tcpfin_timeout_s);
	if (c->udp_timeout_s != d.udp_timeout_s)
		kf_add(&a, "--ipvs-udp-timeout=%us", c->udp_timeout_s);
	if (c->n_exclude_cidrs > 0)
		kf_add_prefixes(&a, "ipvs-exclude-cidrs", c->exclude_cidrs,
		    c->n_exclude_cidrs, 0);
	if (c->masquerade_all != d.masquerade_all)
		kf_add(&a, "--masquerade-all=%s", kf_bool(c->masquerade_all));
	if (c->masquerade_bit != d.masquerade_bit)
		kf_add(&a, "--iptables-masquerade-bit=%u", c->masquerade_bit);
	if (c->n_cluster_cidrs > 0)
		kf_add_prefixes(&a, "cluster-cidr", c->cluster_cidrs,
		    c->n_cluster_cidrs, 0);
	if (c->detect_local != d.detect_local &&
	    c->detect_local < sizeof(detect) / sizeof(detect[0]))
		kf_add(&a, "--detect-local-mode=%s", detect[c->detect_local]);
	if (strcmp(c->pod_bridge_interface, d.pod_bridge_interface) != 0)
		kf_add(&a, "--pod-bridge-interface=%s",
		    c->pod_bridge_interface);
	if (strcmp(c->pod_interface_name_prefix,
	    d.pod_interface_name_prefix) != 0)
		kf_add(&a, "--pod-interface-name-prefix=%s",
		    c->pod_interface_name_prefix);
	if (c->n_nodeport_cidrs > 0 || c->nodeport_primary)
		kf_add_prefixes(&a, "nodeport-addresses", c->nodeport_cidrs,
		    c->n_nodeport_cidrs, c->nodeport_primary);
	if (c->bind_address.family != 0)
		kf_add(&a, "--bind-address=%s",
		    addr_fmt(&c->bind_address, buf, sizeof(buf)));
	if (strcmp(c->healthz_bind, d.healthz_bind) != 0)
		kf_add(&a, "--healthz-bind-address=%s", c->healthz_bind);
	if (strcmp(c->metrics_bind, d.metrics_bind) != 0)
		kf_add(&a, "--metrics-bind-address=%s", c->metrics_bind);
	if (c->bind_address_hard_fail != d.bind_address_hard_fail)
		kf_add(&a, "--bind-address-hard-fail=%s",
		    kf_bool(c->bind_address_hard_fail));
	if (c->conntrack_max_per_core != d.conntrack_max_per_core)
		kf_add(&a, "--conntrack-max-per-core=%u",
		    c->conntrack_max_per_core);
	if (c->conntrack_min != d.conntrack_min)
		kf_add(&a, "--conntrack-min=%u", c->conntrack_min);
	if (c->conntrack_tcp_established_s != d.conntrack_tcp_established_s)
		kf_add(&a, "--conntrack-tcp-timeout-established=%us",
		    c->conntrack_tcp_established_s);
	if (c->conntrack_tcp_close_wait_s != d.conntrack_tcp_close_wait_s)
		kf_add(&a, "--conntrack-tcp-timeout-close-wait=%us",
		    c->conntrack_tcp_close_wait_s);
	if (c->conntrack_tcp_be_liberal != d.conntrack_tcp_be_liberal)
		kf_add(&a, "--conntrack-tcp-be-liberal=%s",
		    kf_bool(c->conntrack_tcp_be_liberal));
	if (c->conntrack_udp_timeout_s != d.conntrack_udp_timeout_s)
		kf_add(&a, "--conntrack-udp-timeout=%us",
		    c->conntrack_udp_timeout_s);
	if (c->conntrack_udp_stream_timeout_s !=
	    d.conntrack_udp_stream_timeout_s)
		kf_add(&a, "--conntrack-udp-timeout-stream=%us",
		    c->conntrack_udp_stream_timeout_s);
	if (c->oom_score_adj != d.oom_score_adj)
		kf_add(&a, "--oom-score-adj=%d", c->oom_score_adj);
	if (c->nodeport_range_lo != d.nodeport_range_lo ||
	    c->nodeport_range_hi != d.nodeport_range_hi)
		kf_add(&a, "--nodeport-range=%u-%u", c->nodeport_range_lo,
		    c->nodeport_range_hi);
	if (a.failed) {
		kpconf_args_free(a.v);
		errno = ENOMEM;
		return NULL;
	}
	*argc = a.n;
	return a.v;
}

void
kpconf_args_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}
