/*
 * applier_dump: kernel state to dump records and policy state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_dump.h"
#include "applierd/applier_ipset.h"
#include "applierd/applier_ipt.h"
#include "applierd/applier_ipvs.h"
#include "common/log.h"
#include "common/progress.h"

struct dctx {
	const struct applier_conf *c;
	struct policy_state	*s;
	struct ap_tx		*tx;
	struct setcache_set	*cache;		/* of the set being listed */
	uint8_t			 set, family;
	int			 send;
};

static int
send_rec(struct dctx *d, const struct ap_rec *r)
{
	if (d->tx == NULL || !d->send)
		return 0;
	return ap_dump_add(d->tx, r) == -1 ? -1 : 0;
}

static int
dump_addr_cb(const struct addr_entry *e, void *arg)
{
	struct dctx *d = arg;
	struct ap_rec r;
	int kube = strcmp(e->ifname, ADDR_KUBE_LINK) == 0;

	if (e->family != AF_INET && e->family != AF_INET6)
		return 0;
	memset(&r, 0, sizeof(r));
	r.kind = AP_REC_ADDR;
	snprintf(r.u.addr.ifname, sizeof(r.u.addr.ifname), "%s", e->ifname);
	r.u.addr.prefix.addr.family = e->family == AF_INET6 ? 6 : 4;
	memcpy(r.u.addr.prefix.addr.addr, e->addr,
	    e->family == AF_INET6 ? 16 : 4);
	/* The wire wants host bits clear: send the host route. */
	r.u.addr.prefix.plen = e->family == AF_INET6 ? 128 : 32;
	if (policy_state_add_addr(d->s, kube, &r.u.addr.prefix.addr) == -1)
		return -1;
	return send_rec(d, &r);
}

static int
dump_ipvs_cb(const struct ipvs_svc *svc, const struct ipvs_dest *dests,
    size_t n, void *arg)
{
	struct dctx *d = arg;
	struct ap_rec r;
	size_t i;

	progress();
	memset(&r, 0, sizeof(r));
	r.kind = AP_REC_VS;
	if (exec_svc_to_vs(svc, &r.u.vs) == -1 || r.u.vs.key.port == 0 ||
	    !policy_vs_owned(d->c, d->s, &r.u.vs.key))
		return 0;
	if (policy_state_add_vs(d->s, &r.u.vs.key, n) == -1 ||
	    send_rec(d, &r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		struct ap_rec rr;

		memset(&rr, 0, sizeof(rr));
		rr.kind = AP_REC_RS;
		rr.u.rs.rs.vs = r.u.vs.key;
		rr.u.rs.rs.addr.family = dests[i].family == AF_INET6 ? 6 : 4;
		if (rr.u.rs.rs.addr.family != r.u.vs.key.addr.family)
			continue;
		memcpy(rr.u.rs.rs.addr.addr, dests[i].addr.bytes,
		    dests[i].family == AF_INET6 ? 16 : 4);
		rr.u.rs.rs.port = dests[i].port;
		rr.u.rs.rs.weight = dests[i].weight;
		rr.u.rs.active = dests[i].active;
		rr.u.rs.inactive = dests[i].inactive;
		if (policy_state_add_rs(d->s, &rr.u.rs.rs) == -1 ||
		    send_rec(d, &rr) == -1)
			return -1;
	}
	return 0;
}

static int
dump_member_cb(const struct ipset_member *m, void *arg)
{
	struct dctx *d = arg;
	struct ap_rec r;

	d->s->members[d->family == 6][d->set]++;
	setcache_add(d->cache, m);
	memset(&r, 0, sizeof(r));
	r.kind = AP_REC_SET_MEMBER;
	exec_member_to_entry(d->set, d->family, m, &r.u.member);
	return send_rec(d, &r);
}

static int
family_on(const struct applier_conf *c, int f)
{
	return f == 4 ? (c->kp.families & KP_FAMILY_V4) != 0 :
	    (c->kp.families & KP_FAMILY_V6) != 0;
}

static int
dump_sets(struct applier_kernel *k, struct dctx *d)
{
	struct ipset_spec sp;
	int f;
	uint8_t id;

	for (f = 4; f <= 6; f += 2) {
		if (!family_on(d->c, f))
			continue;
		for (id = 1; id <= PA_SET_ID_MAX; id++) {
			d->s->members[f == 6][id] = 0;
			if (exec_set_spec(id, (uint8_t)f, &sp) == -1)
				continue;
			d->set = id;
			d->family = (uint8_t)f;
			d->cache = setcache_get(&k->sets, (uint8_t)f, id);
			switch (ipset_set_exists(k->ipset, sp.name)) {
			case 0:
				setcache_absent(d->cache);
				continue;
			case 1:
				break;
			default:
				setcache_forget(d->cache);
				continue;
			}
			/* The listing refills the cache, or it stays empty. */
			setcache_present(d->cache, sp.kind);
			if (ipset_members_list(k->ipset, &sp, dump_member_cb,
			    d) == -1) {
				setcache_forget(d->cache);
				if (errno != ENOENT)
					log_debug("listing %s: %s", sp.name,
					    ipset_last_error(k->ipset));
			}
		}
	}
	return 0;
}

static int
dump_chains(struct applier_kernel *k, struct dctx *d)
{
	struct ap_rec r;
	struct ipt_handle *h;
	size_t nk;
	uint8_t id;
	int f, m;

	for (f = 4; f <= 6; f += 2) {
		h = k->ipt[f == 6];
		if (!family_on(d->c, f) || h == NULL)
			continue;
		if (ipt_begin(h) == -1) {
			log_warnx("chain dump: %s", ipt_last_error(h));
			continue;
		}
		for (id = 1; id <= PA_CHAIN_ID_MAX; id++) {
			/* A missing chain has no record. */
			if ((m = exec_chain_matches(k, (uint8_t)f, id,
			    &nk)) == -1)
				continue;
			memset(&r, 0, sizeof(r));
			r.kind = AP_REC_CHAIN;
			r.u.chain.family = (uint8_t)f;
			r.u.chain.chain = id;
			r.u.chain.matches = (uint8_t)m;
			r.u.chain.n_rules = (uint32_t)nk;
			if (send_rec(d, &r) == -1) {
				ipt_abort(h);
				return -1;
			}
		}
		ipt_abort(h);
	}
	return 0;
}

int
dump_kernel(struct applier_kernel *k, const struct applier_conf *c,
    struct policy_state *s, uint32_t what, struct ap_tx *tx)
{
	struct dctx d;

	memset(&d, 0, sizeof(d));
	d.c = c;
	d.s = s;
	d.tx = tx;
	policy_state_clear_addrs(s);
	s->link = addr_link_index(k->addr) > 0;
	d.send = (what & PA_DUMP_ADDRS) != 0;
	if (addr_dump(k->addr, dump_addr_cb, &d) != 0)
		return -1;
	if (what & PA_DUMP_IPVS) {
		policy_state_clear_ipvs(s);
		d.send = 1;
		if (k->ipvs != NULL && ipvs_dump(k->ipvs, dump_ipvs_cb,
		    &d) != 0)
			return -1;
	}
	d.send = 1;
	if ((what & PA_DUMP_SETS) && dump_sets(k, &d) == -1)
		return -1;
	if ((what & PA_DUMP_CHAINS) && dump_chains(k, &d) == -1)
		return -1;
	return 0;
}
