/*
 * Address parsing, formatting and ordering, shared by the planner, the
 * configuration parser and the applier.
 *
 * The parser repeats the watcher's lexical rules on purpose: the planner
 * links no JSON code, and flags and ipvsadm text deserve the same
 * strictness as API objects (no octal, no short forms, no zone indices).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"

static int
pa_fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return -1;
}

/* Four decimal octets, 1..3 digits each, no leading zero, <= 255. */
static int
pa_dotted(const char *s, const char *end, char *why, size_t whylen)
{
	int parts = 0, digits = 0, val = 0;
	const char *p;

	for (p = s; p <= end; p++) {
		if (p == end || *p == '.') {
			if (digits == 0)
				return pa_fail(why, whylen, "empty octet");
			parts++;
			digits = val = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return pa_fail(why, whylen, "non-decimal octet");
		if (digits == 1 && val == 0)
			return pa_fail(why, whylen, "leading zero in an octet");
		val = val * 10 + (*p - '0');
		if (++digits > 3 || val > 255)
			return pa_fail(why, whylen, "octet out of range");
	}
	if (parts != 4)
		return pa_fail(why, whylen, "not four octets (short form)");
	return 0;
}

int
addr_parse(const char *s, int family, struct rec_addr *out, char *why,
    size_t whylen)
{
	struct in6_addr a6;
	const char *colon;
	size_t i, len = strlen(s);

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return pa_fail(why, whylen, "empty or over-long address");
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '/')
			return pa_fail(why, whylen, "prefix length in an "
			    "address");
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		    (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.'))
			return pa_fail(why, whylen, "invalid character in an "
			    "address");
	}
	colon = strrchr(s, ':');
	if (colon == NULL) {
		if (pa_dotted(s, s + len, why, whylen) == -1)
			return -1;
		if (inet_pton(AF_INET, s, out->addr) != 1)
			return pa_fail(why, whylen, "not an IPv4 address");
		out->family = REC_FAMILY_IPV4;
	} else {
		if (strchr(colon, '.') != NULL &&
		    pa_dotted(colon + 1, s + len, why, whylen) == -1)
			return -1;
		if (inet_pton(AF_INET6, s, &a6) != 1)
			return pa_fail(why, whylen, "not an IPv6 address");
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return pa_fail(why, whylen, "IPv4-mapped IPv6 "
			    "address");
		memcpy(out->addr, &a6, 16);
		out->family = REC_FAMILY_IPV6;
	}
	if (family != 0 && out->family != family) {
		memset(out, 0, sizeof(*out));
		return pa_fail(why, whylen, "address of the wrong family");
	}
	return 0;
}

int
prefix_parse(const char *s, int family, struct rec_prefix *out,
    char *why, size_t whylen)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/'), *p;
	unsigned int plen = 0, i;

	memset(out, 0, sizeof(*out));
	if (slash == NULL)
		return pa_fail(why, whylen, "no prefix length");
	if (slash == s || (size_t)(slash - s) >= sizeof(ip))
		return pa_fail(why, whylen, "bad address part");
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (addr_parse(ip, family, &out->addr, why, whylen) == -1)
		return -1;
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0'))
		return pa_fail(why, whylen, "bad prefix length");
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return pa_fail(why, whylen, "bad prefix length");
		plen = plen * 10 + (unsigned int)(*p - '0');
	}
	if (plen > (out->addr.family == REC_FAMILY_IPV4 ? 32u : 128u))
		return pa_fail(why, whylen, "prefix length out of range");
	out->plen = (uint8_t)plen;
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

const char *
addr_fmt(const struct rec_addr *a, char *buf, size_t len)
{
	if (a->family == REC_FAMILY_IPV4) {
		if (inet_ntop(AF_INET, a->addr, buf, (socklen_t)len) != NULL)
			return buf;
	} else if (a->family == REC_FAMILY_IPV6) {
		if (inet_ntop(AF_INET6, a->addr, buf, (socklen_t)len) != NULL)
			return buf;
	}
	snprintf(buf, len, "?");
	return buf;
}

const char *
prefix_fmt(const struct rec_prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_fmt(&p->addr, a, sizeof(a)),
	    p->plen);
	return buf;
}

int
addr_cmp(const struct rec_addr *a, const struct rec_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

int
addr_eq(const struct rec_addr *a, const struct rec_addr *b)
{
	return addr_cmp(a, b) == 0;
}

int
prefix_contains(const struct rec_prefix *p, const struct rec_addr *a)
{
	unsigned int i, full, rest;

	if (p->addr.family != a->family)
		return 0;
	full = p->plen / 8;
	rest = p->plen % 8;
	for (i = 0; i < full; i++)
		if (p->addr.addr[i] != a->addr[i])
			return 0;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((p->addr.addr[full] & mask) != (a->addr[full] & mask))
			return 0;
	}
	return 1;
}

int
addr_is_loopback(const struct rec_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (a->family == REC_FAMILY_IPV4)
		return a->addr[0] == 127;
	return memcmp(a->addr, lo6, 16) == 0;
}

int
addr_is_linklocal6(const struct rec_addr *a)
{
	return a->family == REC_FAMILY_IPV6 && a->addr[0] == 0xfe &&
	    (a->addr[1] & 0xc0) == 0x80;
}

int
prefix_is_zero(const struct rec_prefix *p)
{
	return p->plen == 0;
}
