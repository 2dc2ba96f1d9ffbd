/*
 * kube-proxy's IPVS-relevant flags: names, defaults and strict parsing.
 * One table drives parsing, the flag test the parent uses to pass flags
 * through, and --help.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/kpconf.h"

enum kp_type {
	KP_BOOL,		/* int */
	KP_STR,			/* char[size] */
	KP_U32,			/* uint32_t, within [min, max] */
	KP_INT,			/* int, within [min, max] */
	KP_DURATION_MS,		/* uint32_t milliseconds */
	KP_DURATION_S,		/* uint32_t seconds */
	KP_CIDRS,		/* exclude CIDRs: count at off2 */
	KP_CLUSTER_CIDRS,	/* at most one per family */
	KP_NODEPORT_ADDRS,	/* CIDRs or "primary" */
	KP_FAMILIES,		/* ipv4 | ipv6 | dual */
	KP_DETECT_LOCAL,
	KP_ADDR,		/* struct rec_addr */
	KP_PORT_RANGE,		/* "LO-HI" */
	KP_PROXY_MODE,		/* must be ipvs */
	KP_HOSTPORT,		/* "" or HOST:PORT */
	KP_SCHED,
};

struct kp_flag {
	const char	*name;
	enum kp_type	 type;
	size_t		 off;
	size_t		 size;		/* KP_STR: buffer size */
	long long	 min, max;	/* KP_U32, KP_INT */
	const char	*help;
};

#define F(m)	offsetof(struct kp_config, m)
#define S(m)	sizeof(((struct kp_config *)0)->m)

static const struct kp_flag kp_flags[] = {
	{ "hostname-override", KP_STR, F(hostname), S(hostname), 0, 0,
	    "node name (default: the host name, lower-cased)" },
	{ "kubeconfig", KP_STR, F(kubeconfig), S(kubeconfig), 0, 0,
	    "kubeconfig file (default: in-cluster configuration)" },
	{ "master", KP_STR, F(master), S(master), 0, 0,
	    "apiserver URL, overrides the kubeconfig's server" },
	{ "service-proxy-name", KP_STR, F(service_proxy_name),
	    S(service_proxy_name), 0, 0,
	    "handle only Services labelled service.kubernetes.io/"
	    "service-proxy-name=NAME (default: unlabelled ones)" },
	{ "config-sync-period", KP_DURATION_MS, F(config_sync_period_ms), 0,
	    0, 0, "informer resync period (15m)" },
	{ "kube-api-qps", KP_U32, F(kube_api_qps), 0, 1, 100000,
	    "apiserver requests per second (5)" },
	{ "kube-api-burst", KP_U32, F(kube_api_burst), 0, 1, 100000,
	    "apiserver request burst (10)" },
	{ "proxy-mode", KP_PROXY_MODE, 0, 0, 0, 0,
	    "must be ipvs (the only mode kipvs implements)" },
	{ "ip-family", KP_FAMILIES, F(families), 0, 0, 0,
	    "ipv4, ipv6 or dual (dual)" },
	{ "ipvs-scheduler", KP_SCHED, F(scheduler), S(scheduler), 0, 0,
	    "IPVS scheduler (rr)" },
	{ "ipvs-sync-period", KP_DURATION_MS, F(sync_period_ms), 0, 0, 0,
	    "drift-check interval (30s)" },
	{ "ipvs-min-sync-period", KP_DURATION_MS, F(min_sync_period_ms), 0,
	    0, 0, "minimum interval between applies (0s)" },
	{ "ipvs-strict-arp", KP_BOOL, F(strict_arp), 0, 0, 0,
	    "set arp_ignore=1 and arp_announce=2 (false)" },
	{ "ipvs-tcp-timeout", KP_DURATION_S, F(tcp_timeout_s), 0, 0, 0,
	    "IPVS TCP timeout, 0 leaves the kernel's (0s)" },
	{ "ipvs-tcpfin-timeout", KP_DURATION_S, F(tcpfin_timeout_s), 0, 0, 0,
	    "IPVS TCP FIN timeout, 0 leaves the kernel's (0s)" },
	{ "ipvs-udp-timeout", KP_DURATION_S, F(udp_timeout_s), 0, 0, 0,
	    "IPVS UDP timeout, 0 leaves the kernel's (0s)" },
	{ "ipvs-exclude-cidrs", KP_CIDRS, F(exclude_cidrs),
	    F(n_exclude_cidrs), 0, 0,
	    "virtual servers in these CIDRs are never touched" },
	{ "masquerade-all", KP_BOOL, F(masquerade_all), 0, 0, 0,
	    "SNAT all traffic sent to cluster IPs (false)" },
	{ "iptables-masquerade-bit", KP_U32, F(masquerade_bit), 1, 0, 31,
	    "fwmark bit marking packets to SNAT (14)" },
	{ "cluster-cidr", KP_CLUSTER_CIDRS, F(cluster_cidrs), 0, 0, 0,
	    "pod CIDRs, at most one per family (none)" },
	{ "detect-local-mode", KP_DETECT_LOCAL, F(detect_local), 0, 0, 0,
	    "ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix "
	    "(ClusterCIDR)" },
	{ "pod-bridge-interface", KP_STR, F(pod_bridge_interface),
	    S(pod_bridge_interface), 0, 0,
	    "bridge for detect-local-mode=BridgeInterface" },
	{ "pod-interface-name-prefix", KP_STR, F(pod_interface_name_prefix),
	    S(pod_interface_name_prefix), 0, 0,
	    "interface prefix for detect-local-mode=InterfaceNamePrefix" },
	{ "nodeport-addresses", KP_NODEPORT_ADDRS, F(nodeport_cidrs), 0, 0, 0,
	    "CIDRs of node addresses serving NodePorts, or primary "
	    "(all addresses)" },
	{ "bind-address", KP_ADDR, F(bind_address), 0, 0, 0,
	    "overrides the primary node IP (0.0.0.0)" },
	{ "healthz-bind-address", KP_HOSTPORT, F(healthz_bind),
	    S(healthz_bind), 0, 0, "IP:port of /healthz, empty disables "
	    "(0.0.0.0:10256)" },
	{ "metrics-bind-address", KP_HOSTPORT, F(metrics_bind),
	    S(metrics_bind), 0, 0, "IP:port of /metrics, empty disables "
	    "(127.0.0.1:10249)" },
	{ "bind-address-hard-fail", KP_BOOL, F(bind_address_hard_fail), 0, 0,
	    0, "exit if healthz or metrics cannot bind (false)" },
	{ "conntrack-max-per-core", KP_U32, F(conntrack_max_per_core), 0, 0,
	    UINT32_MAX, "conntrack entries per core, 0 leaves it (32768)" },
	{ "conntrack-min", KP_U32, F(conntrack_min), 0, 0, UINT32_MAX,
	    "minimum conntrack table size (131072)" },
	{ "conntrack-tcp-timeout-established", KP_DURATION_S,
	    F(conntrack_tcp_established_s), 0, 0, 0,
	    "established TCP conntrack timeout, 0 leaves it (24h0m0s)" },
	{ "conntrack-tcp-timeout-close-wait", KP_DURATION_S,
	    F(conntrack_tcp_close_wait_s), 0, 0, 0,
	    "CLOSE_WAIT conntrack timeout, 0 leaves it (1h0m0s)" },
	{ "conntrack-tcp-be-liberal", KP_BOOL, F(conntrack_tcp_be_liberal), 0,
	    0, 0, "mark out-of-window TCP packets INVALID no more (false)" },
	{ "conntrack-udp-timeout", KP_DURATION_S, F(conntrack_udp_timeout_s),
	    0, 0, 0, "UDP conntrack timeout, 0 leaves it (0s)" },
	{ "conntrack-udp-timeout-stream", KP_DURATION_S,
	    F(conntrack_udp_stream_timeout_s), 0, 0, 0,
	    "UDP stream conntrack timeout, 0 leaves it (0s)" },
	{ "oom-score-adj", KP_INT, F(oom_score_adj), 0, -1000, 1000,
	    "OOM score adjustment of every kipvs process (-999)" },
	{ "nodeport-range", KP_PORT_RANGE, 0, 0, 0, 0,
	    "kipvs: the cluster's NodePort range; the applier binds node "
	    "addresses only for ports inside it (30000-32767)" },
};

#define KP_NFLAGS	(sizeof(kp_flags) / sizeof(kp_flags[0]))

void
kpconf_defaults(struct kp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->config_sync_period_ms = 15 * 60 * 1000;
	c->kube_api_qps = 5;
	c->kube_api_burst = 10;
	c->families = KP_FAMILY_V4 | KP_FAMILY_V6;
	snprintf(c->scheduler, sizeof(c->scheduler), "rr");
	c->sync_period_ms = 30 * 1000;
	c->masquerade_bit = 14;
	c->detect_local = KP_DETECT_CLUSTER_CIDR;
	snprintf(c->healthz_bind, sizeof(c->healthz_bind), "0.0.0.0:10256");
	snprintf(c->metrics_bind, sizeof(c->metrics_bind), "127.0.0.1:10249");
	c->conntrack_max_per_core = 32768;
	c->conntrack_min = 131072;
	c->conntrack_tcp_established_s = 24 * 3600;
	c->conntrack_tcp_close_wait_s = 3600;
	c->oom_score_adj = -999;
	c->nodeport_range_lo = 30000;
	c->nodeport_range_hi = 32767;
}

static int kp_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
kp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static const struct kp_flag *
kp_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < KP_NFLAGS; i++)
		if (strlen(kp_flags[i].name) == len &&
		    strncmp(kp_flags[i].name, name, len) == 0)
			return &kp_flags[i];
	return NULL;
}

/* Strips "--" (or "-") and any "=value"; returns the name's length. */
static const char *
kp_name(const char *arg, size_t *len)
{
	const char *eq;

	if (arg[0] != '-')
		return NULL;
	arg += arg[1] == '-' ? 2 : 1;
	eq = strchr(arg, '=');
	*len = eq ? (size_t)(eq - arg) : strlen(arg);
	return arg;
}

int
kpconf_is_flag(const char *name)
{
	size_t len;
	const char *n = kp_name(name, &len);

	if (n == NULL) {
		n = name;
		len = strcspn(name, "=");
	}
	return kp_lookup(n, len) != NULL;
}

int
kpconf_is_bool(const char *name)
{
	size_t len;
	const char *n = kp_name(name, &len);
	const struct kp_flag *f;

	if (n == NULL) {
		n = name;
		len = strcspn(name, "=");
	}
	f = kp_lookup(n, len);
	return f != NULL && f->type == KP_BOOL;
}

/*
 * Go duration syntax: a sequence of decimal numbers with units ns, us,
 * ms, s, m, h ("1h30m", "250ms", "0").  Returns milliseconds.
 */
static int
kp_duration_ms(const char *s, uint64_t *out)
{
	uint64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		uint64_t v = 0, frac = 0, fracdiv = 1, unit;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > 1000000000ULL)
				return -1;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				if (fracdiv < 1000000) {
					frac = frac * 10 +
					    (uint64_t)(*s - '0');
					fracdiv *= 10;
				}
				s++;
			}
		}
		/* Unit, in microseconds. */
		if (strncmp(s, "ns", 2) == 0) {
			unit = 0;
			s += 2;
		} else if (strncmp(s, "us", 2) == 0 ||
		    strncmp(s, "\xc2\xb5s", 3) == 0) {
			unit = 1;
			s += s[0] == 'u' ? 2 : 3;
		} else if (strncmp(s, "ms", 2) == 0) {
			unit = 1000;
			s += 2;
		} else if (*s == 's') {
			unit = 1000000;
			s++;
		} else if (*s == 'm') {
			unit = 60000000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000000ULL;
			s++;
		} else
			return -1;
		total += v * unit + frac * unit / fracdiv;
		if (total > (uint64_t)UINT32_MAX * 1000)
			return -1;
	}
	*out = total / 1000;
	return 0;
}

static int
kp_bool(const char *v, int *out)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Calls fn for each comma-separated, space-trimmed item of v. */
static int
kp_list(const char *v, int (*fn)(void *, const char *), void *arg)
{
	char item[128];
	const char *p = v;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *b = p, *e = p + n;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e == b || (size_t)(e - b) >= sizeof(item))
			return -1;
		memcpy(item, b, (size_t)(e - b));
		item[e - b] = '\0';
		if (fn(arg, item) == -1)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

struct kp_cidrs {
	struct rec_prefix *v;
	uint8_t		  *n;
	size_t		   max;
	int		  *primary;	/* nodeport-addresses only */
};

static int
kp_add_cidr(void *arg, const char *item)
{
	struct kp_cidrs *c = arg;
	char why[128];

	if (c->primary != NULL && strcmp(item, "primary") == 0) {
		*c->primary = 1;
		return 0;
	}
	if (*c->n >= c->max)
		return -1;
	if (prefix_parse(item, 0, &c->v[*c->n], why, sizeof(why)) == -1)
		return -1;
	(*c->n)++;
	return 0;
}

static int
kp_set_str(const struct kp_flag *f, char *dst, const char *v, char *err,
    size_t errlen)
{
	size_t i, n = strlen(v);

	if (n >= f->size)
		return kp_err(err, errlen, "--%s: value longer than %zu "
		    "characters", f->name, f->size - 1);
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)v[i]))
			return kp_err(err, errlen, "--%s: unprintable "
			    "character in value", f->name);
	memcpy(dst, v, n + 1);
	return 0;
}

/* Checks "IP:port" / "[IPv6]:port" strictly; "" is allowed (disabled). */
static int
kp_hostport(const char *v)
{
	char host[64];
	const char *colon;
	struct rec_addr a;
	char why[64];
	char *end;
	unsigned long port;
	size_t hl;

	if (*v == '\0')
		return 0;
	if (*v == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - v - 1);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, v + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - v);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, v, hl);
	}
	host[hl] = '\0';
	if (addr_parse(host, 0, &a, why, sizeof(why)) == -1)
		return -1;
	if (!isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port > 65535)
		return -1;
	return 0;
}

static int
kp_apply(struct kp_config *c, const struct kp_flag *f, const char *v,
    char *err, size_t errlen)
{
	uint8_t *base = (uint8_t *)c;
	char why[128];
	uint64_t ms;
	char *end;
	long long n;

	switch (f->type) {
	case KP_BOOL:
		if (kp_bool(v, (int *)(base + f->off)) == -1)
			return kp_err(err, errlen, "--%s: want true or false, "
			    "got '%s'", f->name, v);
		return 0;
	case KP_STR:
		if (v == NULL)
			break;
		if (kp_set_str(f, (char *)(base + f->off), v, err,
		    errlen) == -1)
			return -1;
		if (f->off == F(hostname)) {
			char *h = c->hostname;

			for (; *h != '\0'; h++)
				*h = (char)tolower((unsigned char)*h);
		}
		return 0;
	case KP_U32:
	case KP_INT:
		if (v == NULL)
			break;
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < f->min ||
		    n > f->max)
			return kp_err(err, errlen, "--%s: want an integer in "
			    "[%lld, %lld], got '%s'", f->name, f->min, f->max,
			    v);
		if (f->type == KP_INT)
			*(int *)(base + f->off) = (int)n;
		else if (f->size == 1)
			*(uint8_t *)(base + f->off) = (uint8_t)n;
		else
			*(uint32_t *)(base + f->off) = (uint32_t)n;
		return 0;
	case KP_DURATION_MS:
	case KP_DURATION_S:
		if (v == NULL)
			break;
		if (kp_duration_ms(v, &ms) == -1)
			return kp_err(err, errlen, "--%s: want a duration such "
			    "as 30s, 1m30s or 250ms, got '%s'", f->name, v);
		*(uint32_t *)(base + f->off) = f->type == KP_DURATION_MS ?
		    (uint32_t)ms : (uint32_t)(ms / 1000);
		return 0;
	case KP_CIDRS:
	case KP_NODEPORT_ADDRS: {
		struct kp_cidrs cl;

		if (v == NULL)
			break;
		if (f->type == KP_CIDRS) {
			cl.v = c->exclude_cidrs;
			cl.n = &c->n_exclude_cidrs;
			cl.primary = NULL;
		} else {
			cl.v = c->nodeport_cidrs;
			cl.n = &c->n_nodeport_cidrs;
			cl.primary = &c->nodeport_primary;
			c->nodeport_primary = 0;
		}
		cl.max = KP_MAX_CIDRS;
		*cl.n = 0;
		if (kp_list(v, kp_add_cidr, &cl) == -1)
			return kp_err(err, errlen, "--%s: want at most %d "
			    "comma-separated CIDRs%s, got '%s'", f->name,
			    KP_MAX_CIDRS, cl.primary ? " or primary" : "", v);
		if (cl.primary != NULL && c->nodeport_primary &&
		    c->n_nodeport_cidrs > 0)
			return kp_err(err, errlen, "--%s: primary cannot be "
			    "combined with CIDRs", f->name);
		return 0;
	}
	case KP_CLUSTER_CIDRS: {
		struct kp_cidrs cl = { c->cluster_cidrs, &c->n_cluster_cidrs,
		    2, NULL };

		if (v == NULL)
			break;
		c->n_cluster_cidrs = 0;
		if (kp_list(v, kp_add_cidr, &cl) == -1 ||
		    (c->n_cluster_cidrs == 2 &&
		    c->cluster_cidrs[0].addr.family ==
		    c->cluster_cidrs[1].addr.family))
			return kp_err(err, errlen, "--%s: want at most one CIDR "
			    "per family, got '%s'", f->name, v);
		return 0;
	}
	case KP_FAMILIES:
		if (v == NULL)
			break;
		if (strcmp(v, "ipv4") == 0)
			c->families = KP_FAMILY_V4;
		else if (strcmp(v, "ipv6") == 0)
			c->families = KP_FAMILY_V6;
		else if (strcmp(v, "dual") == 0)
			c->families = KP_FAMILY_V4 | KP_FAMILY_V6;
		else
			return kp_err(err, errlen, "--%s: want ipv4, ipv6 or "
			    "dual, got '%s'", f->name, v);
		return 0;
	case KP_DETECT_LOCAL:
		if (v == NULL)
			break;
		if (strcmp(v, "ClusterCIDR") == 0)
			c->detect_local = KP_DETECT_CLUSTER_CIDR;
		else if (strcmp(v, "NodeCIDR") == 0)
			c->detect_local = KP_DETECT_NODE_CIDR;
		else if (strcmp(v, "BridgeInterface") == 0)
			c->detect_local = KP_DETECT_BRIDGE_INTERFACE;
		else if (strcmp(v, "InterfaceNamePrefix") == 0)
			c->detect_local = KP_DETECT_INTERFACE_NAME_PREFIX;
		else
			return kp_err(err, errlen, "--%s: want ClusterCIDR, "
			    "NodeCIDR, BridgeInterface or InterfaceNamePrefix, "
			    "got '%s'", f->name, v);
		return 0;
	case KP_ADDR:
		if (v == NULL)
			break;
		if (addr_parse(v, 0, &c->bind_address, why,
		    sizeof(why)) == -1)
			return kp_err(err, errlen, "--%s: %s", f->name, why);
		return 0;
	case KP_PORT_RANGE: {
		unsigned long lo, hi;
		char *dash;

		if (v == NULL)
			break;
		errno = 0;
		lo = strtoul(v, &dash, 10);
		if (errno != 0 || dash == v || *dash != '-' ||
		    !isdigit((unsigned char)dash[1]))
			return kp_err(err, errlen, "--%s: want LO-HI, got '%s'",
			    f->name, v);
		hi = strtoul(dash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || lo == 0 || hi > 65535 ||
		    lo > hi)
			return kp_err(err, errlen, "--%s: want 1 <= LO <= HI <= "
			    "65535, got '%s'", f->name, v);
		c->nodeport_range_lo = (uint16_t)lo;
		c->nodeport_range_hi = (uint16_t)hi;
		return 0;
	}
	case KP_PROXY_MODE:
		if (v == NULL)
			break;
		if (strcmp(v, "ipvs") != 0)
			return kp_err(err, errlen, "--%s: kipvs implements only "
			    "ipvs, got '%s'", f->name, v);
		return 0;
	case KP_HOSTPORT:
		if (v == NULL)
			break;
		if (kp_hostport(v) == -1)
			return kp_err(err, errlen, "--%s: want IP:PORT (or empty "
			    "to disable), got '%s'", f->name, v);
		return kp_set_str(f, (char *)(base + f->off), v, err, errlen);
	case KP_SCHED: {
		const char *p;

		if (v == NULL)
			break;
		for (p = v; *p != '\0'; p++)
			if (!islower((unsigned char)*p))
				return kp_err(err, errlen, "--%s: scheduler "
				    "names are lower-case letters, got '%s'",
				    f->name, v);
		/* kube-proxy: an empty scheduler means rr. */
		if (*v == '\0')
			v = "rr";
		return kp_set_str(f, (char *)(base + f->off), v, err, errlen);
	}
	}
	return kp_err(err, errlen, "--%s needs a value", f->name);
}

int
kpconf_parse(struct kp_config *c, int argc, char *const argv[], char *err,
    size_t errlen)
{
	int i;

	for (i = 0; i < argc; i++) {
		const struct kp_flag *f;
		const char *name, *eq, *v;
		size_t len;

		name = kp_name(argv[i], &len);
		if (name == NULL)
			return kp_err(err, errlen, "unexpected argument '%s'",
			    argv[i]);
		f = kp_lookup(name, len);
		if (f == NULL)
			return kp_err(err, errlen, "unknown flag --%.*s",
			    (int)len, name);
		eq = strchr(argv[i], '=');
		if (eq != NULL)
			v = eq + 1;
		else if (f->type == KP_BOOL)
			v = NULL;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return kp_err(err, errlen, "--%s needs a value",
			    f->name);
		if (kp_apply(c, f, v, err, errlen) == -1)
			return -1;
	}
	if (c->min_sync_period_ms > c->sync_period_ms)
		return kp_err(err, errlen, "--ipvs-min-sync-period must not "
		    "exceed --ipvs-sync-period");
	if (c->sync_period_ms == 0)
		return kp_err(err, errlen, "--ipvs-sync-period must be > 0");
	if (c->detect_local == KP_DETECT_BRIDGE_INTERFACE &&
	    c->pod_bridge_interface[0] == '\0')
		return kp_err(err, errlen, "--detect-local-mode=BridgeInterface "
		    "needs --pod-bridge-interface");
	if (c->detect_local == KP_DETECT_INTERFACE_NAME_PREFIX &&
	    c->pod_interface_name_prefix[0] == '\0')
		return kp_err(err, errlen, "--detect-local-mode="
		    "InterfaceNamePrefix needs --pod-interface-name-prefix");
	return 0;
}

void
kpconf_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < KP_NFLAGS; i++)
		fprintf(f, "  --%-34s %s\n", kp_flags[i].name,
		    kp_flags[i].help);
}
