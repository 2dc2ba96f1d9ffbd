/*
 * applier_ipset: kube-proxy's ipsets through libipset's session API.
 *
 * Everything goes through one libipset session with the "exist" option set,
 * so ensure-create, add-present and delete-missing are successes (the
 * idempotence rule) decided by the kernel itself.  Adds and deletes are
 * aggregated: libipset packs consecutive commands for the same set into one
 * netlink message when they carry a line number, as ipset-restore does; a
 * failing element is named by its line number in the error, which is mapped
 * back to the member's index.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libipset/data.h>
#include <libipset/session.h>
#include <libipset/types.h>
#include <libipset/nf_inet_addr.h>

#include "applierd/applier_ipset.h"
#include "common/progress.h"

#define IPSET_ERR_MAX	512

struct ipset_handle {
	struct ipset_session	*s;
	char			*out;		/* list output collected */
	size_t			 out_len, out_cap;
	char			 err[IPSET_ERR_MAX];
};

static int ipset_outfn(struct ipset_session *, void *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * libipset names protocols with getprotobynumber() and parses them with
 * getprotobyname(), which go through NSS: a stat of /etc/nsswitch.conf and
 * an open of /etc/protocols on every call, which the sandboxed applier
 * (empty chroot, no open(2)) must not do.  As with socket() in
 * applier_ipt.c, the program defines both for itself, and libipset binds
 * to these: a fixed table of the protocols kube-proxy's sets use.
 */
static struct protoent *
proto_ent(int num, const char *name)
{
	static const struct {
		int		 num;
		const char	*name;
	} t[] = {
		{ IPPROTO_TCP, "tcp" }, { IPPROTO_UDP, "udp" },
		{ IPPROTO_SCTP, "sctp" }, { IPPROTO_ICMP, "icmp" },
		{ IPPROTO_ICMPV6, "ipv6-icmp" },
	};
	static char *aliases[] = { NULL };
	static struct protoent pe;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((name == NULL && t[i].num == num) ||
		    (name != NULL && strcmp(t[i].name, name) == 0)) {
			pe.p_name = (char *)t[i].name;
			pe.p_aliases = aliases;
			pe.p_proto = t[i].num;
			return &pe;
		}
	return NULL;
}

struct protoent *
getprotobynumber(int proto)
{
	return proto_ent(proto, NULL);
}

struct protoent *
getprotobyname(const char *name)
{
	return name != NULL ? proto_ent(0, name) : NULL;
}

const char *
ipset_kind_typename(enum ipset_kind kind)
{
	switch (kind) {
	case IPSET_K_HASH_IP:
		return "hash:ip";
	case IPSET_K_HASH_IP_PORT:
		return "hash:ip,port";
	case IPSET_K_HASH_IP_PORT_IP:
		return "hash:ip,port,ip";
	case IPSET_K_HASH_IP_PORT_NET:
		return "hash:ip,port,net";
	case IPSET_K_BITMAP_PORT:
		return "bitmap:port";
	}
	return NULL;
}

static const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return NULL;
}

/*
 * libipset prints a protocol with getprotobynumber(), so without a readable
 * /etc/protocols (a sandbox) it prints the number: accept both.
 */
static int
proto_parse(const char *s, size_t len)
{
	if ((len == 3 && strncmp(s, "tcp", 3) == 0) ||
	    (len == 1 && s[0] == '6'))
		return IPPROTO_TCP;
	if ((len == 3 && strncmp(s, "udp", 3) == 0) ||
	    (len == 2 && strncmp(s, "17", 2) == 0))
		return IPPROTO_UDP;
	if ((len == 4 && strncmp(s, "sctp", 4) == 0) ||
	    (len == 3 && strncmp(s, "132", 3) == 0))
		return IPPROTO_SCTP;
	return -1;
}

static size_t
alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int
ipset_member_format(enum ipset_kind kind, const struct ipset_member *m,
    char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *p = NULL;
	int n;

	if (kind == IPSET_K_BITMAP_PORT) {
		n = snprintf(buf, len, "%u", m->port);
		goto out;
	}
	if (inet_ntop(m->family, m->ip, a, sizeof(a)) == NULL)
		return -1;
	if (kind != IPSET_K_HASH_IP && (p = proto_name(m->proto)) == NULL)
		return -1;
	if ((kind == IPSET_K_HASH_IP_PORT_IP ||
	    kind == IPSET_K_HASH_IP_PORT_NET) &&
	    inet_ntop(m->family, m->ip2, b, sizeof(b)) == NULL)
		return -1;
	switch (kind) {
	case IPSET_K_HASH_IP:
		n = snprintf(buf, len, "%s", a);
		break;
	case IPSET_K_HASH_IP_PORT:
		n = snprintf(buf, len, "%s,%s:%u", a, p, m->port);
		break;
	case IPSET_K_HASH_IP_PORT_IP:
		n = snprintf(buf, len, "%s,%s:%u,%s", a, p, m->port, b);
		break;
	case IPSET_K_HASH_IP_PORT_NET:
		n = snprintf(buf, len, "%s,%s:%u,%s/%u", a, p, m->port, b,
		    m->cidr2);
		break;
	default:
		return -1;
	}
out:
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_ip(int family, const char *s, size_t len, uint8_t *out)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(family, tmp, out) == 1 ? 0 : -1;
}

int
ipset_member_parse(enum ipset_kind kind, int family, const char *s,
    struct ipset_member *m)
{
	const char *c1, *colon, *c2, *slash;
	char port[8];
	size_t plen;
	int proto;
	unsigned long cidr;
	char *end;

	memset(m, 0, sizeof(*m));
	m->family = family;
	if (kind == IPSET_K_BITMAP_PORT)
		return parse_port(s, &m->port);
	if (kind == IPSET_K_HASH_IP)
		return parse_ip(family, s, strlen(s), m->ip);
	/* IP,proto:PORT[,IP2[/CIDR]] */
	if ((c1 = strchr(s, ',')) == NULL ||
	    (colon = strchr(c1, ':')) == NULL)
		return -1;
	if (parse_ip(family, s, (size_t)(c1 - s), m->ip) < 0)
		return -1;
	if ((proto = proto_parse(c1 + 1, (size_t)(colon - c1 - 1))) < 0)
		return -1;
	m->proto = (uint8_t)proto;
	c2 = strchr(colon, ',');
	if ((c2 != NULL) != (kind != IPSET_K_HASH_IP_PORT))
		return -1;
	plen = c2 ? (size_t)(c2 - colon - 1) : strlen(colon + 1);
	if (plen == 0 || plen >= sizeof(port))
		return -1;
	memcpy(port, colon + 1, plen);
	port[plen] = '\0';
	if (parse_port(port, &m->port) < 0)
		return -1;
	if (c2 == NULL)
		return 0;
	c2++;
	slash = strchr(c2, '/');
	if (kind == IPSET_K_HASH_IP_PORT_IP) {
		if (slash != NULL)
			return -1;
		return parse_ip(family, c2, strlen(c2), m->ip2);
	}
	/* ipset prints a host-length net without its prefix. */
	if (slash == NULL) {
		m->cidr2 = family == AF_INET6 ? 128 : 32;
		return parse_ip(family, c2, strlen(c2), m->ip2);
	}
	if (parse_ip(family, c2, (size_t)(slash - c2), m->ip2) < 0)
		return -1;
	errno = 0;
	cidr = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || slash[1] == '\0' ||
	    cidr > (family == AF_INET6 ? 128UL : 32UL))
		return -1;
	m->cidr2 = (uint8_t)cidr;
	return 0;
}

/* libipset's output sink: collect into a growing buffer. */
static int
ipset_outfn(struct ipset_session *s, void *p, const char *fmt, ...)
{
	struct ipset_handle *h = p;
	va_list ap;
	char *nb;
	int n;

	(void)s;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (h->out_len + (size_t)n + 1 > h->out_cap) {
		size_t cap = h->out_cap ? h->out_cap : 8192;

		while (cap < h->out_len + (size_t)n + 1)
			cap *= 2;
		if ((nb = realloc(h->out, cap)) == NULL)
			return -1;
		h->out = nb;
		h->out_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(h->out + h->out_len, h->out_cap - h->out_len, fmt, ap);
	va_end(ap);
	h->out_len += (size_t)n;
	return 0;
}

struct ipset_handle *
ipset_open(void)
{
	struct ipset_handle *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	ipset_load_types();
	if ((h->s = ipset_session_init(ipset_outfn, h)) == NULL) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	ipset_envopt_set(h->s, IPSET_ENV_EXIST);
	return h;
}

void
ipset_close(struct ipset_handle *h)
{
	if (h == NULL)
		return;
	ipset_session_fini(h->s);
	free(h->out);
	free(h);
}

const char *
ipset_last_error(struct ipset_handle *h)
{
	return h->err;
}

/* Takes libipset's report as this handle's error; returns -1 with errno. */
static int
ipset_fail(struct ipset_handle *h, int deflt)
{
	const char *msg = ipset_session_report_msg(h->s);
	int err = deflt;

	snprintf(h->err, sizeof(h->err), "%s", msg ? msg : "");
	h->err[strcspn(h->err, "\n")] = '\0';
	if (strstr(h->err, "does not exist") != NULL)
		err = ENOENT;
	else if (strstr(h->err, "already exists") != NULL ||
	    strstr(h->err, "different type") != NULL)
		err = EEXIST;
	else if (strstr(h->err, "in use by a kernel") != NULL)
		err = EBUSY;
	else if (strstr(h->err, "is full") != NULL ||
	    strstr(h->err, "maximal number") != NULL)
		err = ENOSPC;
	else if (strstr(h->err, "ermission") != NULL ||
	    strstr(h->err, "not permitted") != NULL)
		err = EPERM;
	ipset_session_report_reset(h->s);
	ipset_data_reset(ipset_session_data(h->s));
	errno = err;
	return -1;
}

static int
ipset_create_one(struct ipset_handle *h, const struct ipset_spec *spec,
    const char *name)
{
	struct ipset_session *s = h->s;
	uint32_t hashsize, maxelem;
	uint16_t from = 0, to = 65535;
	uint8_t family;
	const char *tn;

	if ((tn = ipset_kind_typename(spec->kind)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	ipset_data_reset(ipset_session_data(s));
	if (ipset_session_data_set(s, IPSET_SETNAME, name) < 0 ||
	    ipset_session_data_set(s, IPSET_OPT_TYPENAME, tn) < 0 ||
	    ipset_type_get(s, IPSET_CMD_CREATE) == NULL)
		return ipset_fail(h, EINVAL);
	if (spec->kind == IPSET_K_BITMAP_PORT) {
		if (ipset_session_data_set(s, IPSET_OPT_PORT_FROM, &from) < 0 ||
		    ipset_session_data_set(s, IPSET_OPT_PORT_TO, &to) < 0)
			return ipset_fail(h, EINVAL);
	} else {
		family = spec->family == AF_INET6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4;
		hashsize = spec->hashsize ? spec->hashsize : 1024;
		maxelem = spec->maxelem ? spec->maxelem : 65536;
		if (ipset_session_data_set(s, IPSET_OPT_FAMILY, &family) < 0 ||
		    ipset_session_data_set(s, IPSET_OPT_HASHSIZE,
		    &hashsize) < 0 ||
		    ipset_session_data_set(s, IPSET_OPT_MAXELEM, &maxelem) < 0)
			return ipset_fail(h, EINVAL);
	}
	if (ipset_cmd(s, IPSET_CMD_CREATE, 0) < 0)
		return ipset_fail(h, EINVAL);
	h->err[0] = '\0';
	return 0;
}

int
ipset_set_ensure(struct ipset_handle *h, const struct ipset_spec *spec)
{
	return ipset_create_one(h, spec, spec->name);
}

int
ipset_set_destroy(struct ipset_handle *h, const char *name)
{
	ipset_data_reset(ipset_session_data(h->s));
	if (ipset_session_data_set(h->s, IPSET_SETNAME, name) < 0)
		return ipset_fail(h, EINVAL);
	if (ipset_cmd(h->s, IPSET_CMD_DESTROY, 0) < 0) {
		if (ipset_fail(h, EINVAL) < 0 && errno == ENOENT)
			return 0;
		return -1;
	}
	return 0;
}

/* Fills the session data with one member of the set; 0 or -1. */
static int
ipset_member_put(struct ipset_handle *h, const struct ipset_spec *spec,
    const char *name, const struct ipset_member *m)
{
	struct ipset_session *s = h->s;
	union nf_inet_addr a;
	uint8_t cidr;

	if (ipset_session_data_set(s, IPSET_SETNAME, name) < 0 ||
	    ipset_type_get(s, IPSET_CMD_ADD) == NULL)
		return -1;
	if (spec->kind == IPSET_K_BITMAP_PORT)
		return ipset_session_data_set(s, IPSET_OPT_PORT, &m->port);
	if (m->family != spec->family) {
		ipset_err(s, "member family does not match set %s", name);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	memcpy(&a, m->ip, alen(m->family));
	if (ipset_session_data_set(s, IPSET_OPT_IP, &a) < 0)
		return -1;
	if (spec->kind == IPSET_K_HASH_IP)
		return 0;
	if (ipset_session_data_set(s, IPSET_OPT_PROTO, &m->proto) < 0 ||
	    ipset_session_data_set(s, IPSET_OPT_PORT, &m->port) < 0)
		return -1;
	if (spec->kind == IPSET_K_HASH_IP_PORT)
		return 0;
	memset(&a, 0, sizeof(a));
	memcpy(&a, m->ip2, alen(m->family));
	if (ipset_session_data_set(s, IPSET_OPT_IP2, &a) < 0)
		return -1;
	if (spec->kind == IPSET_K_HASH_IP_PORT_NET) {
		cidr = m->cidr2;
		if (ipset_session_data_set(s, IPSET_OPT_CIDR2, &cidr) < 0)
			return -1;
	}
	return 0;
}

/* "... line N ..." in libipset's message; the 1-based line, or 0. */
static size_t
ipset_err_line(const char *msg)
{
	const char *p = strstr(msg, "line ");

	return p ? strtoul(p + 5, NULL, 10) : 0;
}

static int
ipset_change_into(struct ipset_handle *h, const struct ipset_spec *spec,
    const char *name, const struct ipset_member *m, size_t n, int del,
    size_t *failed)
{
	enum ipset_cmd cmd = del ? IPSET_CMD_DEL : IPSET_CMD_ADD;
	size_t i = 0, start, line, idx;
	int rc = 0, err = 0;
	char msg[IPSET_ERR_MAX] = "";

	while (i < n) {
		start = i;
		for (; i < n; i++) {
			/* A non-zero line number lets libipset aggregate. */
			if (ipset_member_put(h, spec, name, &m[i]) < 0 ||
			    ipset_cmd(h->s, cmd, (uint32_t)(i - start + 1)) < 0)
				break;
			if (i % 1024 == 1023)
				progress();
		}
		if (i == n && ipset_commit(h->s) == 0)
			break;
		/*
		 * The kernel stops at the failing element and libipset names
		 * its line: everything before it is applied, so go on after it.
		 */
		ipset_fail(h, EINVAL);
		if (rc == 0) {
			err = errno;
			snprintf(msg, sizeof(msg), "%s", h->err);
		}
		idx = i < n ? i : n - 1;
		line = ipset_err_line(h->err);
		if (line >= 1 && start + line - 1 <= idx)
			idx = start + line - 1;
		if (rc == 0 && failed != NULL)
			*failed = idx;
		rc = -1;
		i = idx + 1;
	}
	if (rc < 0) {
		snprintf(h->err, sizeof(h->err), "%s", msg);
		errno = err;
		return -1;
	}
	h->err[0] = '\0';
	return 0;
}

int
ipset_members_change(struct ipset_handle *h, const struct ipset_spec *spec,
    const struct ipset_member *m, size_t n, int del, size_t *failed)
{
	return ipset_change_into(h, spec, spec->name, m, n, del, failed);
}

/*
 * A header request, not a listing: a listing (a netlink dump) of a missing
 * set leaves a second error reply queued on some kernels, which libipset
 * then takes as the answer to the next request.
 */
int
ipset_set_exists(struct ipset_handle *h, const char *name)
{
	ipset_data_reset(ipset_session_data(h->s));
	h->out_len = 0;
	if (ipset_session_data_set(h->s, IPSET_SETNAME, name) < 0)
		return ipset_fail(h, EINVAL);
	if (ipset_cmd(h->s, IPSET_CMD_HEADER, 0) < 0) {
		(void)ipset_fail(h, EINVAL);
		return errno == ENOENT ? 0 : -1;
	}
	h->out_len = 0;
	return 1;
}

/*
 * Whether a listing's "create NAME TYPE ..." line is kube-proxy's set:
 * same type and, for the hash types, same family and maxelem (what makes
 * an ensure of it succeed).  The hash size is not compared: the kernel
 * prints the current one, which grows with the set.
 */
int
ipset_create_line_matches(const struct ipset_spec *spec, const char *line)
{
	char want[160];
	const char *p;
	size_t len;

	len = (size_t)snprintf(want, sizeof(want), "create %s %s ",
	    spec->name, ipset_kind_typename(spec->kind));
	if (strncmp(line, want, len) != 0)
		return 0;
	if (spec->kind == IPSET_K_BITMAP_PORT)
		return strstr(line + len, "range 0-65535") != NULL;
	snprintf(want, sizeof(want), "family %s ", spec->family == AF_INET6 ?
	    "inet6" : "inet");
	if (strncmp(line + len, want, strlen(want)) != 0)
		return 0;
	snprintf(want, sizeof(want), " maxelem %u",
	    spec->maxelem ? spec->maxelem : 65536);
	if ((p = strstr(line + len, want)) == NULL)
		return 0;
	p += strlen(want);
	return *p == ' ' || *p == '\0';
}

int
ipset_members_list(struct ipset_handle *h, const struct ipset_spec *spec,
    ipset_member_cb cb, void *arg)
{
	struct ipset_member m;
	char prefix[IPSET_NAME_MAX + 8], *line, *next;
	size_t plen;
	int rc = 0;

	h->out_len = 0;
	ipset_data_reset(ipset_session_data(h->s));
	if (ipset_session_output(h->s, IPSET_LIST_SAVE) < 0 ||
	    ipset_session_data_set(h->s, IPSET_SETNAME, spec->name) < 0)
		return ipset_fail(h, EINVAL);
	if (ipset_cmd(h->s, IPSET_CMD_LIST, 0) < 0)
		return ipset_fail(h, EINVAL);
	if (h->out_len == 0)
		return 0;
	snprintf(prefix, sizeof(prefix), "add %s ", spec->name);
	plen = strlen(prefix);
	for (line = h->out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "create ", 7) == 0 &&
		    !ipset_create_line_matches(spec, line)) {
			snprintf(h->err, sizeof(h->err), "set %s is not %s as "
			    "kube-proxy makes it: \"%.100s\"", spec->name,
			    ipset_kind_typename(spec->kind), line);
			errno = EEXIST;
			return -1;
		}
		if (strncmp(line, prefix, plen) != 0)
			continue;
		if (ipset_member_parse(spec->kind, spec->family, line + plen,
		    &m) < 0) {
			snprintf(h->err, sizeof(h->err),
			    "unparsable member \"%s\"", line + plen);
			errno = EBADMSG;
			return -1;
		}
		if ((rc = cb(&m, arg)) != 0)
			break;
	}
	return rc;
}

int
ipset_reload(struct ipset_handle *h, const struct ipset_spec *spec,
    const struct ipset_member *m, size_t n)
{
	int err;

	if (ipset_set_ensure(h, spec) < 0)
		return -1;
	/* A temporary set left by a crash is ours to remove. */
	if (ipset_set_destroy(h, IPSET_TMP_NAME) < 0 ||
	    ipset_create_one(h, spec, IPSET_TMP_NAME) < 0)
		return -1;
	if (ipset_change_into(h, spec, IPSET_TMP_NAME, m, n, 0, NULL) < 0)
		goto fail;
	ipset_data_reset(ipset_session_data(h->s));
	if (ipset_session_data_set(h->s, IPSET_SETNAME, spec->name) < 0 ||
	    ipset_session_data_set(h->s, IPSET_OPT_SETNAME2,
	    IPSET_TMP_NAME) < 0 ||
	    ipset_cmd(h->s, IPSET_CMD_SWAP, 0) < 0) {
		ipset_fail(h, EINVAL);
		goto fail;
	}
	return ipset_set_destroy(h, IPSET_TMP_NAME);
fail:
	err = errno;
	{
		char msg[IPSET_ERR_MAX];

		snprintf(msg, sizeof(msg), "%s", h->err);
		(void)ipset_set_destroy(h, IPSET_TMP_NAME);
		snprintf(h->err, sizeof(h->err), "%s", msg);
	}
	errno = err;
	return -1;
}
