/*
 * applier_ipt: libiptc under the xtables lock, rules from templates.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_ipvs.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include "applierd/applier_ipt.h"

#define IPT_ENTRY_MAX	1024
#define IPT_ERR_MAX	256
#define IPT_LOCK_STEP_MS 10

struct ipt_handle {
	int			 family;
	int			 lock_fd;
	int			 wait_ms;
	int			 locked;
	int			 set_fd;	/* for set name -> index */
	unsigned int		 set_version;	/* 0: not asked yet */
	struct xtc_handle	*tc[IPT_TABLE_COUNT];
	int			 dirty[IPT_TABLE_COUNT];
	char			 err[IPT_ERR_MAX];
};

static const char *const ipt_table_names[IPT_TABLE_COUNT] = {
	[IPT_TABLE_NAT] = "nat",
	[IPT_TABLE_FILTER] = "filter",
};

/*
 * libiptc's table socket.  libip4tc and libip6tc call
 * socket(AF_INET[6], SOCK_RAW, IPPROTO_RAW) in iptc_init(), which needs
 * CAP_NET_RAW; the IPT_SO_* and IP6T_SO_* socket options are served for any
 * socket of the family and checked against CAP_NET_ADMIN only, so a
 * datagram socket does the same job.  This definition interposes glibc's
 * for the whole program (the libraries bind to the executable's symbol);
 * the applier never sends raw packets, so nothing else is affected, and
 * every other socket(2) call passes through unchanged.
 */
int
socket(int domain, int type, int protocol)
{
	if ((domain == AF_INET || domain == AF_INET6) &&
	    (type & 0xf) == SOCK_RAW && protocol == IPPROTO_RAW) {
		type = (type & ~0xf) | SOCK_DGRAM;
		protocol = 0;
	}
	return (int)syscall(SYS_socket, domain, type, protocol);
}

static void ipt_seterr(struct ipt_handle *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
ipt_seterr(struct ipt_handle *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
}

/* libip4tc and libip6tc: the same calls under two prefixes. */

static struct xtc_handle *
tc_init(int fam, const char *table)
{
	return fam == AF_INET6 ? ip6tc_init(table) : iptc_init(table);
}

static void
tc_free(int fam, struct xtc_handle *t)
{
	if (fam == AF_INET6)
		ip6tc_free(t);
	else
		iptc_free(t);
}

static int
tc_is_chain(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_is_chain(chain, t) :
	    iptc_is_chain(chain, t);
}

static int
tc_builtin(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_builtin(chain, t) :
	    iptc_builtin(chain, t);
}

static int
tc_create_chain(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_create_chain(chain, t) :
	    iptc_create_chain(chain, t);
}

static int
tc_flush(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_flush_entries(chain, t) :
	    iptc_flush_entries(chain, t);
}

static int
tc_delete_chain(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_delete_chain(chain, t) :
	    iptc_delete_chain(chain, t);
}

static const void *
tc_first(int fam, const char *chain, struct xtc_handle *t)
{
	return fam == AF_INET6 ? (const void *)ip6tc_first_rule(chain, t) :
	    (const void *)iptc_first_rule(chain, t);
}

static const void *
tc_next(int fam, const void *e, struct xtc_handle *t)
{
	return fam == AF_INET6 ? (const void *)ip6tc_next_rule(e, t) :
	    (const void *)iptc_next_rule(e, t);
}

static const char *
tc_target(int fam, const void *e, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_get_target(e, t) :
	    iptc_get_target(e, t);
}

static int
tc_append(int fam, const char *chain, const void *e, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_append_entry(chain, e, t) :
	    iptc_append_entry(chain, e, t);
}

static int
tc_insert(int fam, const char *chain, const void *e, unsigned int num,
    struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_insert_entry(chain, e, num, t) :
	    iptc_insert_entry(chain, e, num, t);
}

static int
tc_delete_num(int fam, const char *chain, unsigned int num,
    struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_delete_num_entry(chain, num, t) :
	    iptc_delete_num_entry(chain, num, t);
}

static int
tc_commit(int fam, struct xtc_handle *t)
{
	return fam == AF_INET6 ? ip6tc_commit(t) : iptc_commit(t);
}

static const char *
tc_strerror(int fam, int err)
{
	return fam == AF_INET6 ? ip6tc_strerror(err) : iptc_strerror(err);
}

/* Entry layout of each family. */

static size_t
entry_hdr_size(int fam)
{
	return fam == AF_INET6 ? sizeof(struct ip6t_entry) :
	    sizeof(struct ipt_entry);
}

static void
entry_offsets(int fam, void *e, uint16_t target_offset, uint16_t next_offset)
{
	if (fam == AF_INET6) {
		((struct ip6t_entry *)e)->target_offset = target_offset;
		((struct ip6t_entry *)e)->next_offset = next_offset;
	} else {
		((struct ipt_entry *)e)->target_offset = target_offset;
		((struct ipt_entry *)e)->next_offset = next_offset;
	}
}

static uint16_t
entry_target_offset(int fam, const void *e)
{
	return fam == AF_INET6 ? ((const struct ip6t_entry *)e)->target_offset :
	    ((const struct ipt_entry *)e)->target_offset;
}

static uint16_t
entry_next_offset(int fam, const void *e)
{
	return fam == AF_INET6 ? ((const struct ip6t_entry *)e)->next_offset :
	    ((const struct ipt_entry *)e)->next_offset;
}

static void
plen_mask(uint8_t *mask, size_t alen, unsigned int plen)
{
	size_t i;

	memset(mask, 0, alen);
	for (i = 0; i < alen && plen > 0; i++) {
		mask[i] = plen >= 8 ? 0xff : (uint8_t)(0xff << (8 - plen));
		plen = plen >= 8 ? plen - 8 : 0;
	}
}

static void
iface_put(const char *name, char *iface, unsigned char *mask)
{
	size_t len = strlen(name);

	/* Like iptables: keep the '+' in the name, mask only the prefix. */
	memcpy(iface, name, len);
	if (len > 0 && name[len - 1] == '+')
		memset(mask, 0xff, len - 1);
	else
		memset(mask, 0xff, len + 1);
}

static void
entry_header(int fam, void *e, const struct ipt_rule *r)
{
	if (fam == AF_INET6) {
		struct ip6t_ip6 *ip = &((struct ip6t_entry *)e)->ipv6;

		if (r->src_set) {
			memcpy(&ip->src, r->src, 16);
			plen_mask((uint8_t *)&ip->smsk, 16, r->src_plen);
			if (r->src_neg)
				ip->invflags |= IP6T_INV_SRCIP;
		}
		if (r->in_iface[0] != '\0') {
			iface_put(r->in_iface, ip->iniface,
			    ip->iniface_mask);
			if (r->in_iface_neg)
				ip->invflags |= IP6T_INV_VIA_IN;
		}
		if (r->proto) {
			ip->proto = r->proto;
			ip->flags |= IP6T_F_PROTO;
		}
	} else {
		struct ipt_ip *ip = &((struct ipt_entry *)e)->ip;

		if (r->src_set) {
			memcpy(&ip->src, r->src, 4);
			plen_mask((uint8_t *)&ip->smsk, 4, r->src_plen);
			if (r->src_neg)
				ip->invflags |= IPT_INV_SRCIP;
		}
		if (r->in_iface[0] != '\0') {
			iface_put(r->in_iface, ip->iniface,
			    ip->iniface_mask);
			if (r->in_iface_neg)
				ip->invflags |= IPT_INV_VIA_IN;
		}
		ip->proto = r->proto;
	}
}

static int
put_match(uint8_t *buf, size_t *off, size_t max, const char *name,
    uint8_t rev, const void *data, size_t len)
{
	struct xt_entry_match *m = (struct xt_entry_match *)(buf + *off);
	size_t size = XT_ALIGN(sizeof(*m) + len);

	if (*off + size > max)
		return -1;
	m->u.match_size = (uint16_t)size;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	memcpy(m->data, data, len);
	*off += size;
	return 0;
}

static int
put_target(uint8_t *buf, size_t *off, size_t max, const char *name,
    uint8_t rev, const void *data, size_t len)
{
	struct xt_entry_target *t = (struct xt_entry_target *)(buf + *off);
	size_t size = XT_ALIGN(sizeof(*t) + len);

	if (*off + size > max)
		return -1;
	t->u.target_size = (uint16_t)size;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", name);
	t->u.user.revision = rev;
	memcpy(t->data, data, len);
	*off += size;
	return 0;
}

/* The name libiptc reports for a rule's target. */
static const char *
rule_target_name(const struct ipt_rule *r)
{
	switch (r->target) {
	case IPT_TGT_JUMP:
		return r->jump;
	case IPT_TGT_ACCEPT:
		return "ACCEPT";
	case IPT_TGT_DROP:
		return "DROP";
	case IPT_TGT_RETURN:
		return "RETURN";
	case IPT_TGT_REJECT:
		return "REJECT";
	case IPT_TGT_MARK_OR:
	case IPT_TGT_MARK_XOR:
		return "MARK";
	case IPT_TGT_MASQUERADE:
		return "MASQUERADE";
	}
	return NULL;
}

static int
rule_target_standard(const struct ipt_rule *r)
{
	return r->target == IPT_TGT_JUMP || r->target == IPT_TGT_ACCEPT ||
	    r->target == IPT_TGT_DROP || r->target == IPT_TGT_RETURN;
}

/* Resolves a set name to the kernel's index (xt_set needs the index). */
typedef int (*ipt_set_resolver)(void *ctx, const char *name, uint16_t *idx);

/*
 * The one entry builder: a template into an ipt_entry or ip6t_entry with
 * its matches and target.  Returns the entry's size, or -1/errno.
 */
static int
ipt_entry_build(int fam, const struct ipt_rule *r, ipt_set_resolver resolve,
    void *ctx, uint8_t *buf, size_t max)
{
	size_t off = entry_hdr_size(fam), toff;

	memset(buf, 0, max);
	entry_header(fam, buf, r);
	if (r->comment[0] != '\0') {
		struct xt_comment_info c;

		memset(&c, 0, sizeof(c));
		snprintf(c.comment, sizeof(c.comment), "%s", r->comment);
		if (put_match(buf, &off, max, "comment", 0, &c, sizeof(c)) < 0)
			goto toolong;
	}
	if (r->mark_set) {
		struct xt_mark_mtinfo1 m;

		memset(&m, 0, sizeof(m));
		m.mark = r->mark;
		m.mask = r->mark_mask;
		m.invert = r->mark_neg ? 1 : 0;
		if (put_match(buf, &off, max, "mark", 1, &m, sizeof(m)) < 0)
			goto toolong;
	}
	if (r->ctstate) {
		struct xt_conntrack_mtinfo3 c;

		memset(&c, 0, sizeof(c));
		c.match_flags = XT_CONNTRACK_STATE;
		c.state_mask = r->ctstate;
		if (put_match(buf, &off, max, "conntrack", 3, &c,
		    sizeof(c)) < 0)
			goto toolong;
	}
	if (r->set_name[0] != '\0') {
		/* Revision 4, as iptables 1.8 writes it; no counters. */
		struct xt_set_info_match_v4 s;

		memset(&s, 0, sizeof(s));
		if (r->set_dim < 1 || r->set_dim > IPSET_DIM_MAX) {
			errno = EINVAL;
			return -1;
		}
		if (resolve(ctx, r->set_name, &s.match_set.index) < 0)
			return -1;
		s.match_set.dim = r->set_dim;
		s.match_set.flags = (uint8_t)(r->set_src << 1);
		if (put_match(buf, &off, max, "set", 4, &s, sizeof(s)) < 0)
			goto toolong;
	}
	if (r->physdev_not_in) {
		struct xt_physdev_info p;

		memset(&p, 0, sizeof(p));
		p.bitmask = XT_PHYSDEV_OP_ISIN;
		p.invert = XT_PHYSDEV_OP_ISIN;
		if (put_match(buf, &off, max, "physdev", 0, &p, sizeof(p)) < 0)
			goto toolong;
	}
	if (r->src_type || r->dst_type) {
		struct xt_addrtype_info_v1 a;

		memset(&a, 0, sizeof(a));
		a.source = r->src_type;
		a.dest = r->dst_type;
		if (r->src_type_neg)
			a.flags |= XT_ADDRTYPE_INVERT_SOURCE;
		if (r->dst_type_neg)
			a.flags |= XT_ADDRTYPE_INVERT_DEST;
		if (put_match(buf, &off, max, "addrtype", 1, &a,
		    sizeof(a)) < 0)
			goto toolong;
	}
	if (r->ipvs_set) {
		struct xt_ipvs_mtinfo v;

		/* As libxt_ipvs: every option implies the ipvs property. */
		memset(&v, 0, sizeof(v));
		v.bitmask = XT_IPVS_IPVS_PROPERTY | XT_IPVS_PROTO |
		    XT_IPVS_VADDR | XT_IPVS_VPORT;
		v.l4proto = r->ipvs_proto;
		memcpy(&v.vaddr, r->ipvs_vaddr, fam == AF_INET6 ? 16 : 4);
		memset(&v.vmask, 0xff, fam == AF_INET6 ? 16 : 4);
		v.vport = htons(r->ipvs_vport);
		if (put_match(buf, &off, max, "ipvs", 0, &v, sizeof(v)) < 0)
			goto toolong;
	}
	toff = off;
	switch (r->target) {
	case IPT_TGT_JUMP:
	case IPT_TGT_ACCEPT:
	case IPT_TGT_DROP:
	case IPT_TGT_RETURN: {
		int verdict = 0;

		/* libiptc maps the name to a verdict or a chain jump. */
		if (r->target == IPT_TGT_JUMP && r->jump[0] == '\0') {
			errno = EINVAL;
			return -1;
		}
		if (put_target(buf, &off, max, rule_target_name(r), 0,
		    &verdict, sizeof(verdict)) < 0)
			goto toolong;
		break;
	}
	case IPT_TGT_REJECT:
		if (fam == AF_INET6) {
			struct ip6t_reject_info j = {
				.with = IP6T_ICMP6_PORT_UNREACH };

			if (put_target(buf, &off, max, "REJECT", 0, &j,
			    sizeof(j)) < 0)
				goto toolong;
		} else {
			struct ipt_reject_info j = {
				.with = IPT_ICMP_PORT_UNREACHABLE };

			if (put_target(buf, &off, max, "REJECT", 0, &j,
			    sizeof(j)) < 0)
				goto toolong;
		}
		break;
	case IPT_TGT_MARK_OR:
	case IPT_TGT_MARK_XOR: {
		struct xt_mark_tginfo2 m;

		memset(&m, 0, sizeof(m));
		m.mark = r->tmark;
		m.mask = r->target == IPT_TGT_MARK_OR ? r->tmark : 0;
		if (put_target(buf, &off, max, "MARK", 2, &m, sizeof(m)) < 0)
			goto toolong;
		break;
	}
	case IPT_TGT_MASQUERADE: {
		unsigned int fl = r->random_fully ?
		    NF_NAT_RANGE_PROTO_RANDOM_FULLY : 0;

		if (fam == AF_INET6) {
			struct nf_nat_range n;

			memset(&n, 0, sizeof(n));
			n.flags = fl;
			if (put_target(buf, &off, max, "MASQUERADE", 0, &n,
			    sizeof(n)) < 0)
				goto toolong;
		} else {
			struct nf_nat_ipv4_multi_range_compat n;

			memset(&n, 0, sizeof(n));
			n.rangesize = 1;
			n.range[0].flags = fl;
			if (put_target(buf, &off, max, "MASQUERADE", 0, &n,
			    sizeof(n)) < 0)
				goto toolong;
		}
		break;
	}
	default:
		errno = EINVAL;
		return -1;
	}
	entry_offsets(fam, buf, (uint16_t)toff, (uint16_t)off);
	return (int)off;
toolong:
	errno = E2BIG;
	return -1;
}

/*
 * Compares the matches in [hdr, end) one by one: size, name, revision and
 * data.  Not the whole region at once: the kernel copies a match's name
 * back only up to its NUL, so the bytes after it are whatever was there.
 */
static int
matches_equal(const uint8_t *a, const uint8_t *b, size_t off, size_t end)
{
	const struct xt_entry_match *ma, *mb;

	while (off < end) {
		if (end - off < sizeof(*ma))
			return 0;
		ma = (const struct xt_entry_match *)(a + off);
		mb = (const struct xt_entry_match *)(b + off);
		if (ma->u.match_size != mb->u.match_size ||
		    ma->u.match_size < sizeof(*ma) ||
		    ma->u.match_size > end - off ||
		    strncmp(ma->u.user.name, mb->u.user.name,
		    sizeof(ma->u.user.name)) != 0 ||
		    ma->u.user.revision != mb->u.user.revision ||
		    memcmp(ma->data, mb->data,
		    ma->u.match_size - sizeof(*ma)) != 0)
			return 0;
		off += ma->u.match_size;
	}
	return off == end;
}

/*
 * Is the kernel's rule (as libiptc holds it) the rule we built?  The header
 * and each match must be equal; the target is compared by the name
 * libiptc resolves (verdicts and jumps) or by its bytes (target modules).
 */
static int
entry_equal(int fam, const void *kern, const char *ktarget,
    const uint8_t *mine, const struct ipt_rule *r)
{
	size_t hdr = entry_hdr_size(fam);
	uint16_t kto = entry_target_offset(fam, kern);
	uint16_t mto = entry_target_offset(fam, mine);
	const struct xt_entry_target *kt, *mt;

	if (fam == AF_INET6) {
		if (memcmp(&((const struct ip6t_entry *)kern)->ipv6,
		    &((const struct ip6t_entry *)mine)->ipv6,
		    sizeof(struct ip6t_ip6)) != 0)
			return 0;
	} else if (memcmp(&((const struct ipt_entry *)kern)->ip,
	    &((const struct ipt_entry *)mine)->ip,
	    sizeof(struct ipt_ip)) != 0)
		return 0;
	if (kto != mto || !matches_equal((const uint8_t *)kern, mine, hdr, kto))
		return 0;
	if (ktarget == NULL || strcmp(ktarget, rule_target_name(r)) != 0)
		return 0;
	if (rule_target_standard(r))
		return 1;
	kt = (const struct xt_entry_target *)((const uint8_t *)kern + kto);
	mt = (const struct xt_entry_target *)(mine + mto);
	return entry_next_offset(fam, kern) == entry_next_offset(fam, mine) &&
	    kt->u.user.revision == mt->u.user.revision &&
	    kt->u.target_size == mt->u.target_size &&
	    memcmp(kt->data, mt->data, kt->u.target_size - sizeof(*kt)) == 0;
}

/* The handle. */

static int
set_resolve(void *ctx, const char *name, uint16_t *idx)
{
	struct ipt_handle *h = ctx;
	struct ip_set_req_get_set req;
	struct ip_set_req_version ver;
	socklen_t len = sizeof(ver);

	/*
	 * Asked at the first lookup, not at open: the socket option does not
	 * load ip_set, and the sets (created first) will have.
	 */
	if (h->set_version == 0) {
		memset(&ver, 0, sizeof(ver));
		ver.op = IP_SET_OP_VERSION;
		if (getsockopt(h->set_fd, SOL_IP, SO_IP_SET, &ver, &len) < 0) {
			ipt_seterr(h, "ipset version: %s", strerror(errno));
			return -1;
		}
		h->set_version = ver.version;
	}
	len = sizeof(req);
	memset(&req, 0, sizeof(req));
	req.op = IP_SET_OP_GET_BYNAME;
	req.version = h->set_version;
	snprintf(req.set.name, sizeof(req.set.name), "%s", name);
	if (getsockopt(h->set_fd, SOL_IP, SO_IP_SET, &req, &len) < 0) {
		ipt_seterr(h, "set %s: %s", name, strerror(errno));
		return -1;
	}
	if (req.set.index == IPSET_INVALID_ID) {
		ipt_seterr(h, "set %s does not exist", name);
		errno = ENOENT;
		return -1;
	}
	*idx = req.set.index;
	return 0;
}

struct ipt_handle *
ipt_open(int family, int lock_fd, int wait_ms)
{
	struct ipt_handle *h;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->family = family;
	h->lock_fd = lock_fd;
	h->wait_ms = wait_ms;
	if ((h->set_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void
ipt_close(struct ipt_handle *h)
{
	if (h == NULL)
		return;
	ipt_abort(h);
	close(h->set_fd);
	free(h);
}

const char *
ipt_last_error(struct ipt_handle *h)
{
	return h->err;
}

int
ipt_begin(struct ipt_handle *h)
{
	struct timespec step = { 0, IPT_LOCK_STEP_MS * 1000000L };
	int waited = 0;

	h->err[0] = '\0';
	if (h->locked || h->lock_fd < 0) {
		h->locked = 1;
		return 0;
	}
	while (flock(h->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		if (waited >= h->wait_ms) {
			ipt_seterr(h, "xtables lock still held by another "
			    "process after %d ms", h->wait_ms);
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&step, NULL);
		waited += IPT_LOCK_STEP_MS;
	}
	h->locked = 1;
	return 0;
}

static void
ipt_release(struct ipt_handle *h)
{
	enum ipt_tbl t;

	for (t = 0; t < IPT_TABLE_COUNT; t++) {
		if (h->tc[t] != NULL)
			tc_free(h->family, h->tc[t]);
		h->tc[t] = NULL;
		h->dirty[t] = 0;
	}
	if (h->locked && h->lock_fd >= 0)
		(void)flock(h->lock_fd, LOCK_UN);
	h->locked = 0;
}

void
ipt_abort(struct ipt_handle *h)
{
	ipt_release(h);
}

int
ipt_commit(struct ipt_handle *h, int *ncommits)
{
	enum ipt_tbl t;
	int n = 0, rc = 0, err = 0;

	for (t = 0; t < IPT_TABLE_COUNT; t++) {
		if (h->tc[t] == NULL || !h->dirty[t])
			continue;
		if (!tc_commit(h->family, h->tc[t])) {
			err = errno;
			ipt_seterr(h, "commit %s: %s", ipt_table_names[t],
			    tc_strerror(h->family, err));
			rc = -1;
			continue;
		}
		n++;
	}
	ipt_release(h);
	if (ncommits != NULL)
		*ncommits = n;
	if (rc < 0)
		errno = err;
	return rc;
}

static struct xtc_handle *
ipt_tc(struct ipt_handle *h, enum ipt_tbl t)
{
	if (t >= IPT_TABLE_COUNT) {
		errno = EINVAL;
		return NULL;
	}
	if (!h->locked) {
		ipt_seterr(h, "no batch open");
		errno = EINVAL;
		return NULL;
	}
	if (h->tc[t] == NULL &&
	    (h->tc[t] = tc_init(h->family, ipt_table_names[t])) == NULL)
		ipt_seterr(h, "table %s: %s", ipt_table_names[t],
		    tc_strerror(h->family, errno));
	return h->tc[t];
}

int
ipt_chain_ensure(struct ipt_handle *h, enum ipt_tbl t, const char *chain)
{
	struct xtc_handle *tc;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (tc_is_chain(h->family, chain, tc))
		return 0;
	if (!tc_create_chain(h->family, chain, tc)) {
		ipt_seterr(h, "create %s: %s", chain,
		    tc_strerror(h->family, errno));
		return -1;
	}
	h->dirty[t] = 1;
	return 0;
}

int
ipt_chain_exists(struct ipt_handle *h, enum ipt_tbl t, const char *chain)
{
	struct xtc_handle *tc;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	return tc_is_chain(h->family, chain, tc) ? 1 : 0;
}

int
ipt_chain_remove(struct ipt_handle *h, enum ipt_tbl t, const char *chain)
{
	struct xtc_handle *tc;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (!tc_is_chain(h->family, chain, tc))
		return 0;
	if (tc_builtin(h->family, chain, tc)) {
		ipt_seterr(h, "%s is a built-in chain", chain);
		errno = EPERM;
		return -1;
	}
	if (!tc_flush(h->family, chain, tc) ||
	    !tc_delete_chain(h->family, chain, tc)) {
		ipt_seterr(h, "remove %s: %s", chain,
		    tc_strerror(h->family, errno));
		return -1;
	}
	h->dirty[t] = 1;
	return 0;
}

/* Checks that a jump's target chain exists in the table. */
static int
ipt_jump_ok(struct ipt_handle *h, struct xtc_handle *tc,
    const struct ipt_rule *r)
{
	if (r->target != IPT_TGT_JUMP || tc_is_chain(h->family, r->jump, tc))
		return 0;
	ipt_seterr(h, "jump to missing chain %s", r->jump);
	errno = ENOENT;
	return -1;
}

int
ipt_chain_replace(struct ipt_handle *h, enum ipt_tbl t, const char *chain,
    const struct ipt_rule *rules, size_t n)
{
	struct xtc_handle *tc;
	uint8_t *ents = NULL;
	const void *e;
	size_t i;
	int same = 1, rc = -1;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (n > 0 && (ents = calloc(n, IPT_ENTRY_MAX)) == NULL)
		return -1;
	/* Build everything first: a bad rule must not leave a flushed chain. */
	for (i = 0; i < n; i++) {
		if (ipt_entry_build(h->family, &rules[i], set_resolve, h,
		    ents + i * IPT_ENTRY_MAX, IPT_ENTRY_MAX) < 0 ||
		    ipt_jump_ok(h, tc, &rules[i]) < 0) {
			if (h->err[0] == '\0')
				ipt_seterr(h, "%s rule %zu: %s", chain, i + 1,
				    strerror(errno));
			goto out;
		}
	}
	if (ipt_chain_ensure(h, t, chain) < 0)
		goto out;
	e = tc_first(h->family, chain, tc);
	for (i = 0; i < n && same; i++) {
		if (e == NULL || !entry_equal(h->family, e,
		    tc_target(h->family, e, tc), ents + i * IPT_ENTRY_MAX,
		    &rules[i]))
			same = 0;
		else
			e = tc_next(h->family, e, tc);
	}
	if (same && e == NULL) {
		rc = 0;
		goto out;
	}
	if (!tc_flush(h->family, chain, tc)) {
		ipt_seterr(h, "flush %s: %s", chain,
		    tc_strerror(h->family, errno));
		goto out;
	}
	h->dirty[t] = 1;
	for (i = 0; i < n; i++) {
		if (!tc_append(h->family, chain, ents + i * IPT_ENTRY_MAX,
		    tc)) {
			ipt_seterr(h, "%s rule %zu: %s", chain, i + 1,
			    tc_strerror(h->family, errno));
			goto out;
		}
	}
	rc = 0;
out:
	free(ents);
	return rc;
}

int
ipt_chain_compare(struct ipt_handle *h, enum ipt_tbl t, const char *chain,
    const struct ipt_rule *rules, size_t n, size_t *nkern)
{
	struct xtc_handle *tc;
	uint8_t *ents = NULL;
	const void *e;
	size_t i, k = 0;
	int same;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (!tc_is_chain(h->family, chain, tc)) {
		errno = ENOENT;
		return -1;
	}
	for (e = tc_first(h->family, chain, tc); e != NULL;
	    e = tc_next(h->family, e, tc))
		k++;
	*nkern = k;
	if (rules == NULL)
		return 0;
	if (n != k)
		return 0;
	if (n > 0 && (ents = calloc(n, IPT_ENTRY_MAX)) == NULL)
		return -1;
	same = 1;
	e = tc_first(h->family, chain, tc);
	for (i = 0; i < n && same; i++) {
		if (ipt_entry_build(h->family, &rules[i], set_resolve, h,
		    ents + i * IPT_ENTRY_MAX, IPT_ENTRY_MAX) < 0 ||
		    e == NULL || !entry_equal(h->family, e,
		    tc_target(h->family, e, tc), ents + i * IPT_ENTRY_MAX,
		    &rules[i]))
			same = 0;
		else
			e = tc_next(h->family, e, tc);
	}
	free(ents);
	return same;
}

/* Position (0-based) of the first rule in chain equal to ent, or -1. */
static int
ipt_find(struct ipt_handle *h, struct xtc_handle *tc, const char *chain,
    const uint8_t *ent, const struct ipt_rule *r)
{
	const void *e;
	int pos = 0;

	for (e = tc_first(h->family, chain, tc); e != NULL;
	    e = tc_next(h->family, e, tc), pos++)
		if (entry_equal(h->family, e, tc_target(h->family, e, tc),
		    ent, r))
			return pos;
	return -1;
}

int
ipt_jump_ensure(struct ipt_handle *h, enum ipt_tbl t, const char *chain,
    const struct ipt_rule *r)
{
	uint8_t ent[IPT_ENTRY_MAX];
	struct xtc_handle *tc;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (ipt_entry_build(h->family, r, set_resolve, h, ent,
	    sizeof(ent)) < 0 || ipt_jump_ok(h, tc, r) < 0)
		return -1;
	if (!tc_is_chain(h->family, chain, tc)) {
		ipt_seterr(h, "no chain %s", chain);
		errno = ENOENT;
		return -1;
	}
	if (ipt_find(h, tc, chain, ent, r) >= 0)
		return 0;
	if (!tc_insert(h->family, chain, ent, 0, tc)) {
		ipt_seterr(h, "insert into %s: %s", chain,
		    tc_strerror(h->family, errno));
		return -1;
	}
	h->dirty[t] = 1;
	return 0;
}

int
ipt_jump_remove(struct ipt_handle *h, enum ipt_tbl t, const char *chain,
    const struct ipt_rule *r)
{
	uint8_t ent[IPT_ENTRY_MAX];
	struct xtc_handle *tc;
	int pos;

	if ((tc = ipt_tc(h, t)) == NULL)
		return -1;
	if (!tc_is_chain(h->family, chain, tc))
		return 0;
	/* The target chain may be gone already; then no rule can jump. */
	if (r->target == IPT_TGT_JUMP && !tc_is_chain(h->family, r->jump, tc))
		return 0;
	if (ipt_entry_build(h->family, r, set_resolve, h, ent,
	    sizeof(ent)) < 0)
		return -1;
	while ((pos = ipt_find(h, tc, chain, ent, r)) >= 0) {
		if (!tc_delete_num(h->family, chain, (unsigned int)pos, tc)) {
			ipt_seterr(h, "delete from %s: %s", chain,
			    tc_strerror(h->family, errno));
			return -1;
		}
		h->dirty[t] = 1;
	}
	return 0;
}

/* Rendering, as iptables-save prints. */

struct strbuf {
	char	*p;
	size_t	 len, off;
	int	 over;
};

static void sb_add(struct strbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->off, sb->len - sb->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->len - sb->off) {
		sb->over = 1;
		return;
	}
	sb->off += (size_t)n;
}

static void
sb_quoted(struct strbuf *sb, const char *s)
{
	sb_add(sb, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == '\'')
			sb_add(sb, "\\%c", *s);
		else
			sb_add(sb, "%c", *s);
	}
	sb_add(sb, "\"");
}

static const char *
proto_str(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return NULL;
}

static void
sb_ctstate(struct strbuf *sb, uint16_t st)
{
	static const struct {
		uint16_t	 bit;
		const char	*name;
	} names[] = {
		{ XT_CONNTRACK_STATE_INVALID, "INVALID" },
		{ IPT_CT_NEW, "NEW" },
		{ IPT_CT_RELATED, "RELATED" },
		{ IPT_CT_ESTABLISHED, "ESTABLISHED" },
		{ XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED" },
		{ XT_CONNTRACK_STATE_SNAT, "SNAT" },
		{ XT_CONNTRACK_STATE_DNAT, "DNAT" },
	};
	size_t i;
	const char *sep = " ";

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (st & names[i].bit) {
			sb_add(sb, "%s%s", sep, names[i].name);
			sep = ",";
		}
	}
}

static const char *
addrtype_str(uint16_t t)
{
	return t == IPT_ADDRTYPE_LOCAL ? "LOCAL" : "?";
}

int
ipt_rule_format(int family, const char *chain, const struct ipt_rule *r,
    char *buf, size_t len)
{
	struct strbuf sb = { buf, len, 0, 0 };
	char a[INET6_ADDRSTRLEN];
	const char *p;
	unsigned int i;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	sb_add(&sb, "-A %s", chain);
	if (r->src_set) {
		if (inet_ntop(family, r->src, a, sizeof(a)) == NULL)
			return -1;
		sb_add(&sb, "%s -s %s/%u", r->src_neg ? " !" : "", a,
		    r->src_plen);
	}
	if (r->in_iface[0] != '\0')
		sb_add(&sb, "%s -i %s", r->in_iface_neg ? " !" : "",
		    r->in_iface);
	if (r->proto) {
		if ((p = proto_str(r->proto)) != NULL)
			sb_add(&sb, " -p %s", p);
		else
			sb_add(&sb, " -p %u", r->proto);
	}
	if (r->comment[0] != '\0') {
		sb_add(&sb, " -m comment --comment ");
		sb_quoted(&sb, r->comment);
	}
	if (r->mark_set) {
		sb_add(&sb, " -m mark%s --mark 0x%x", r->mark_neg ? " !" : "",
		    r->mark);
		if (r->mark_mask != 0xffffffffU)
			sb_add(&sb, "/0x%x", r->mark_mask);
	}
	if (r->ctstate) {
		sb_add(&sb, " -m conntrack --ctstate");
		sb_ctstate(&sb, r->ctstate);
	}
	if (r->set_name[0] != '\0') {
		sb_add(&sb, " -m set --match-set %s ", r->set_name);
		for (i = 0; i < r->set_dim; i++)
			sb_add(&sb, "%s%s", i ? "," : "",
			    r->set_src & (1U << i) ? "src" : "dst");
	}
	if (r->physdev_not_in)
		sb_add(&sb, " -m physdev ! --physdev-is-in");
	if (r->src_type || r->dst_type) {
		sb_add(&sb, " -m addrtype");
		if (r->src_type)
			sb_add(&sb, "%s --src-type %s",
			    r->src_type_neg ? " !" : "",
			    addrtype_str(r->src_type));
		if (r->dst_type)
			sb_add(&sb, "%s --dst-type %s",
			    r->dst_type_neg ? " !" : "",
			    addrtype_str(r->dst_type));
	}
	if (r->ipvs_set) {
		if (inet_ntop(family, r->ipvs_vaddr, a, sizeof(a)) == NULL)
			return -1;
		sb_add(&sb, " -m ipvs --vproto %u --vaddr %s --vport %u",
		    r->ipvs_proto, a, r->ipvs_vport);
	}
	switch (r->target) {
	case IPT_TGT_JUMP:
	case IPT_TGT_ACCEPT:
	case IPT_TGT_DROP:
	case IPT_TGT_RETURN:
		sb_add(&sb, " -j %s", rule_target_name(r));
		break;
	case IPT_TGT_REJECT:
		sb_add(&sb, " -j REJECT --reject-with %s",
		    family == AF_INET6 ? "icmp6-port-unreachable" :
		    "icmp-port-unreachable");
		break;
	case IPT_TGT_MARK_OR:
		sb_add(&sb, " -j MARK --set-xmark 0x%x/0x%x", r->tmark,
		    r->tmark);
		break;
	case IPT_TGT_MARK_XOR:
		sb_add(&sb, " -j MARK --set-xmark 0x%x/0x0", r->tmark);
		break;
	case IPT_TGT_MASQUERADE:
		sb_add(&sb, " -j MASQUERADE%s",
		    r->random_fully ? " --random-fully" : "");
		break;
	default:
		return -1;
	}
	return sb.over ? -1 : (int)sb.off;
}
