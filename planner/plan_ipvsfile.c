/*
 * `ipvsadm -Sn` reader.
 *
 * Grammar (what ipvsadm --save prints, plus the long option spellings):
 *
 *	-A SVC [-s SCHED] [-p [TIMEOUT]] [-M NETMASK] [-b FLAGS] [--pe NAME]
 *	-a SVC -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER]
 *	SVC := -t|-u|--sctp-service ADDR:PORT | -f FWMARK [-6]
 *
 * IPv6 addresses are bracketed.  A real server must follow the -A line of
 * its virtual server.  Blank lines and '#' comments are ignored.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_ipvsfile.h"

#define PI_MAX_TOKENS	32

struct pi_svc {
	struct rec_addr	 addr;
	uint16_t	 port;
	uint8_t		 proto;
	uint32_t	 fwmark;
};

/* Unsigned decimal, no sign, no leading zeros, at most max. */
static int
pi_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 10 || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* "1.2.3.4:80" or "[2001::1]:80"; with need_port 0 the port may miss. */
static int
pi_hostport(const char *s, int need_port, struct rec_addr *a,
    uint16_t *port)
{
	char host[ADDR_STRLEN];
	const char *end, *colon;
	unsigned long v;
	size_t len;

	*port = 0;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL)
			return -1;
		len = (size_t)(end - s - 1);
		if (len == 0 || len >= sizeof(host))
			return -1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (addr_parse(host, REC_FAMILY_IPV6, a, NULL, 0) == -1)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(s, ':');
		len = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (len == 0 || len >= sizeof(host))
			return -1;
		memcpy(host, s, len);
		host[len] = '\0';
		if (addr_parse(host, REC_FAMILY_IPV4, a, NULL, 0) == -1)
			return -1;
	}
	if (colon == NULL)
		return need_port ? -1 : 0;
	if (pi_uint(colon + 1, 65535, &v) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
pi_sched_flags(const char *s, uint32_t *flags)
{
	static const struct {
		const char	*name;
		uint32_t	 flag;
	} names[] = {
		{ "flag-1", PLAN_VS_F_SCHED1 }, { "flag-2", PLAN_VS_F_SCHED2 },
		{ "flag-3", PLAN_VS_F_SCHED3 },
		{ "sh-fallback", PLAN_VS_F_SCHED1 },
		{ "sh-port", PLAN_VS_F_SCHED2 },
		{ "mh-fallback", PLAN_VS_F_SCHED1 },
		{ "mh-port", PLAN_VS_F_SCHED2 },
	};
	char buf[128], *tok, *save = NULL;
	size_t i;
	int found;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		found = 0;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(tok, names[i].name) == 0) {
				*flags |= names[i].flag;
				found = 1;
			}
		if (!found)
			return -1;
	}
	return 0;
}

static int
pi_sched_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= PLAN_SCHED_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * Reads the service spec at tok[*i]; advances *i past it.  A trailing
 * "-6" after "-f MARK" makes a fwmark service IPv6.
 */
static int
pi_svc(char **tok, int ntok, int *i, struct pi_svc *svc, const char **err)
{
	const char *opt = tok[*i];
	unsigned long v;

	memset(svc, 0, sizeof(*svc));
	if (*i + 1 >= ntok) {
		*err = "service option without a value";
		return -1;
	}
	if (strcmp(opt, "-t") == 0 || strcmp(opt, "--tcp-service") == 0)
		svc->proto = REC_PROTO_TCP;
	else if (strcmp(opt, "-u") == 0 || strcmp(opt, "--udp-service") == 0)
		svc->proto = REC_PROTO_UDP;
	else if (strcmp(opt, "--sctp-service") == 0)
		svc->proto = REC_PROTO_SCTP;
	else if (strcmp(opt, "-f") == 0 ||
	    strcmp(opt, "--fwmark-service") == 0) {
		if (pi_uint(tok[*i + 1], 0xffffffffUL, &v) == -1 || v == 0) {
			*err = "bad firewall mark";
			return -1;
		}
		svc->fwmark = (uint32_t)v;
		svc->addr.family = REC_FAMILY_IPV4;
		*i += 2;
		return 0;
	} else {
		*err = "expected -t, -u, --sctp-service or -f";
		return -1;
	}
	if (pi_hostport(tok[*i + 1], 1, &svc->addr, &svc->port) == -1) {
		*err = "bad service address";
		return -1;
	}
	*i += 2;
	return 0;
}

static int
pi_svc_eq(const struct pi_svc *s, const struct plan_vs *vs)
{
	return s->proto == vs->proto && s->fwmark == vs->fwmark &&
	    s->port == vs->port && addr_eq(&s->addr, &vs->addr);
}

/*
 * -M: for IPv4 a dotted netmask or a number (kept as given), for IPv6 a
 * prefix length only (a dotted IPv4 mask there would not read back).
 */
static int
pi_netmask(const char *val, uint8_t family, uint32_t *out)
{
	struct rec_addr m;
	unsigned long v;

	if (family != REC_FAMILY_IPV6 &&
	    addr_parse(val, REC_FAMILY_IPV4, &m, NULL, 0) == 0) {
		*out = (uint32_t)m.addr[0] << 24 | (uint32_t)m.addr[1] << 16 |
		    (uint32_t)m.addr[2] << 8 | m.addr[3];
		return 0;
	}
	if (pi_uint(val, 128, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
pi_line_vs(char **tok, int ntok, struct plan_ipvs_table *out,
    const char **err)
{
	struct plan_vs vs;
	struct pi_svc svc;
	unsigned long v;
	const char *mask = NULL;
	int i = 1, have_p = 0;

	if (pi_svc(tok, ntok, &i, &svc, err) == -1)
		return -1;
	memset(&vs, 0, sizeof(vs));
	vs.addr = svc.addr;
	vs.port = svc.port;
	vs.proto = svc.proto;
	vs.fwmark = svc.fwmark;
	memcpy(vs.sched, "wlc", 4);	/* ipvsadm's default */
	for (; i < ntok; i++) {
		const char *o = tok[i], *val = i + 1 < ntok ? tok[i + 1] : NULL;

		if (strcmp(o, "-6") == 0 || strcmp(o, "--ipv6") == 0) {
			if (vs.proto != 0) {
				*err = "-6 on an address service";
				return -1;
			}
			vs.addr.family = REC_FAMILY_IPV6;
			continue;
		}
		if (strcmp(o, "-p") == 0 || strcmp(o, "--persistent") == 0) {
			vs.flags |= PLAN_VS_F_PERSISTENT;
			vs.timeout = 300;
			have_p = 1;
			if (val != NULL && val[0] != '-') {
				if (pi_uint(val, 0xffffffffUL, &v) == -1 ||
				    v == 0) {
					*err = "bad persistence timeout";
					return -1;
				}
				vs.timeout = (uint32_t)v;
				i++;
			}
			continue;
		}
		if (val == NULL) {
			*err = "option without a value";
			return -1;
		}
		i++;
		if (strcmp(o, "-s") == 0 || strcmp(o, "--scheduler") == 0) {
			if (!pi_sched_ok(val)) {
				*err = "bad scheduler name";
				return -1;
			}
			memset(vs.sched, 0, sizeof(vs.sched));
			memcpy(vs.sched, val, strlen(val));
		} else if (strcmp(o, "-M") == 0 ||
		    strcmp(o, "--netmask") == 0) {
			/* Read once the family is known (-6 may follow). */
			mask = val;
		} else if (strcmp(o, "-b") == 0 ||
		    strcmp(o, "--sched-flags") == 0) {
			if (pi_sched_flags(val, &vs.flags) == -1) {
				*err = "bad scheduler flags";
				return -1;
			}
		} else if (strcmp(o, "--pe") == 0) {
			/* Persistence engines (sip) are kept out of scope. */
			continue;
		} else {
			*err = "unknown option";
			return -1;
		}
	}
	if (mask != NULL &&
	    pi_netmask(mask, vs.addr.family, &vs.netmask) == -1) {
		*err = "bad netmask";
		return -1;
	}
	if (vs.netmask == 0 || !have_p)
		vs.netmask = vs.addr.family == REC_FAMILY_IPV6 ? 128 :
		    0xffffffffu;
	if (out->n >= PLAN_IPVSFILE_MAX_VS) {
		*err = "too many virtual servers";
		return -1;
	}
	if (plan_ipvs_table_add(out, &vs) == -1) {
		*err = "out of memory";
		return -1;
	}
	return 0;
}

static int
pi_line_rs(char **tok, int ntok, struct plan_ipvs_table *out,
    size_t *nrs_total, const char **err)
{
	struct plan_vs *vs;
	struct plan_rs rs;
	struct pi_svc svc;
	unsigned long v;
	int i = 1, have_r = 0;

	if (pi_svc(tok, ntok, &i, &svc, err) == -1)
		return -1;
	/*
	 * ipvsadm writes the servers right after their service; anything
	 * else is refused, which also keeps the reader linear.
	 */
	if (out->n == 0 || !pi_svc_eq(&svc, &out->vs[out->n - 1])) {
		*err = "real server not under its virtual server";
		return -1;
	}
	vs = &out->vs[out->n - 1];
	if (i < ntok && strcmp(tok[i], "-6") == 0)
		i++;
	memset(&rs, 0, sizeof(rs));
	rs.weight = 1;
	rs.fwd = PLAN_FWD_ROUTE;	/* ipvsadm's default is -g */
	for (; i < ntok; i++) {
		const char *o = tok[i], *val = i + 1 < ntok ? tok[i + 1] : NULL;

		if (strcmp(o, "-m") == 0 || strcmp(o, "--masquerading") == 0) {
			rs.fwd = PLAN_FWD_MASQ;
			continue;
		}
		if (strcmp(o, "-g") == 0 || strcmp(o, "--gatewaying") == 0) {
			rs.fwd = PLAN_FWD_ROUTE;
			continue;
		}
		if (strcmp(o, "-i") == 0 || strcmp(o, "--ipip") == 0) {
			rs.fwd = PLAN_FWD_TUNNEL;
			continue;
		}
		if (val == NULL) {
			*err = "option without a value";
			return -1;
		}
		i++;
		if (strcmp(o, "-r") == 0 || strcmp(o, "--real-server") == 0) {
			if (pi_hostport(val, 0, &rs.addr, &rs.port) == -1) {
				*err = "bad real-server address";
				return -1;
			}
			if (rs.port == 0)
				rs.port = vs->port;
			have_r = 1;
		} else if (strcmp(o, "-w") == 0 || strcmp(o, "--weight") == 0) {
			if (pi_uint(val, 65535, &v) == -1) {
				*err = "bad weight";
				return -1;
			}
			rs.weight = (int32_t)v;
		} else if (strcmp(o, "-x") == 0 ||
		    strcmp(o, "--u-threshold") == 0) {
			if (pi_uint(val, 0xffffffffUL, &v) == -1) {
				*err = "bad upper threshold";
				return -1;
			}
			rs.u_threshold = (uint32_t)v;
		} else if (strcmp(o, "-y") == 0 ||
		    strcmp(o, "--l-threshold") == 0) {
			if (pi_uint(val, 0xffffffffUL, &v) == -1) {
				*err = "bad lower threshold";
				return -1;
			}
			rs.l_threshold = (uint32_t)v;
		} else {
			*err = "unknown option";
			return -1;
		}
	}
	if (!have_r) {
		*err = "real server without -r";
		return -1;
	}
	if (vs->proto != 0 && rs.addr.family != vs->addr.family) {
		*err = "real server of another family";
		return -1;
	}
	if (*nrs_total >= PLAN_IPVSFILE_MAX_RS) {
		*err = "too many real servers";
		return -1;
	}
	if (plan_vs_add_rs(vs, &rs) == -1) {
		*err = "out of memory";
		return -1;
	}
	(*nrs_total)++;
	return 0;
}

/* Sorts the table and refuses a repeated service or real server. */
static int
pi_check_dups(struct plan_ipvs_table *t, char *why, size_t whylen)
{
	const char *err = NULL;
	size_t i, k;

	plan_ipvs_table_sort(t);
	for (i = 0; i < t->n && err == NULL; i++) {
		if (i > 0 && plan_vs_cmp(&t->vs[i - 1], &t->vs[i]) == 0)
			err = "duplicate virtual server";
		for (k = 1; k < t->vs[i].n_rs && err == NULL; k++)
			if (addr_eq(&t->vs[i].rs[k - 1].addr,
			    &t->vs[i].rs[k].addr) &&
			    t->vs[i].rs[k - 1].port == t->vs[i].rs[k].port)
				err = "duplicate real server";
	}
	if (err == NULL)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", err);
	plan_ipvs_table_clear(t);
	return -1;
}

int
plan_ipvsfile_parse(const char *text, size_t len,
    struct plan_ipvs_table *out, char *why, size_t whylen)
{
	char line[PLAN_IPVSFILE_MAX_LINE + 1], *tok[PI_MAX_TOKENS], *save, *t;
	const char *err = NULL, *p = text, *end = text + len, *nl;
	size_t lineno = 0, n, nrs = 0;
	int ntok;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > PLAN_IPVSFILE_MAX_LINE) {
			err = "line too long";
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (memchr(line, '\0', n) != NULL) {
			err = "NUL byte";
			goto fail;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		ntok = 0;
		save = NULL;
		for (t = strtok_r(line, " \t", &save); t != NULL;
		    t = strtok_r(NULL, " \t", &save)) {
			if (ntok == PI_MAX_TOKENS) {
				err = "too many words";
				goto fail;
			}
			tok[ntok++] = t;
		}
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (strcmp(tok[0], "-A") == 0 ||
		    strcmp(tok[0], "--add-service") == 0) {
			if (pi_line_vs(tok, ntok, out, &err) == -1)
				goto fail;
		} else if (strcmp(tok[0], "-a") == 0 ||
		    strcmp(tok[0], "--add-server") == 0) {
			if (pi_line_rs(tok, ntok, out, &nrs, &err) == -1)
				goto fail;
		} else {
			err = "expected -A or -a";
			goto fail;
		}
	}
	return pi_check_dups(out, why, whylen);
fail:
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "line %zu: %s", lineno, err);
	plan_ipvs_table_clear(out);
	return -1;
}
