/*
 * kipvs-planner's loop (see plan_daemon.h for what it decides and when).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/progress.h"
#include "ipc/proto_pa.h"
#include "ipc/proto_pw.h"
#include "planner/plan_daemon.h"
#include "planner/plan_desired.h"
#include "planner/plan_diff.h"
#include "planner/plan_model.h"
#include "planner/plan_optext.h"
#include "planner/plan_retry.h"

#define PD_MAX_INFLIGHT		16
/*
 * Ops per batch: the applier refuses a batch over its --max-batch-ops
 * (250,000 by default), and a cold start at 50,000 Services is ~485,000.
 */
#define PD_BATCH_OPS		100000
#define PD_DUMP_WAIT_MS		5000	/* for the dump of a new applier */
#define PD_MAX_NODE_IPS		256
#define PD_IFNAME_KIPVS		"kube-ipvs0"
#define PD_TRIM_OPS		4096	/* a batch this big trims the heap after */
#define PD_LOG_FAILED		100	/* failed ops logged one by one per batch */

/* --- small growable arrays ------------------------------------------------ */

struct pd_ops {
	struct pa_op	*v;
	size_t		 n;
	size_t		 cap;
};

static int
pd_grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	if ((nv = realloc(*v, ncap * size)) == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int
pd_ops_push(struct pd_ops *o, const struct pa_op *op)
{
	if (pd_grow((void **)&o->v, &o->cap, o->n, sizeof(*o->v)) == -1)
		return -1;
	o->v[o->n++] = *op;
	return 0;
}

static void
pd_ops_free(struct pd_ops *o)
{
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* Sorted "namespace/name" keys (the snapshot's records of one kind). */
struct pd_keys {
	char		**v;
	size_t		 n;
	size_t		 cap;
	int		 sorted;
};

static int
pd_keys_add(struct pd_keys *k, const char *ns, const char *name)
{
	size_t len = strlen(ns) + strlen(name) + 2;
	char *s;

	if (pd_grow((void **)&k->v, &k->cap, k->n, sizeof(*k->v)) == -1 ||
	    (s = malloc(len)) == NULL)
		return -1;
	memcpy(s, ns, strlen(ns));
	s[strlen(ns)] = '/';
	memcpy(s + strlen(ns) + 1, name, strlen(name) + 1);
	k->v[k->n++] = s;
	k->sorted = 0;
	return 0;
}

static int
pd_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
pd_keys_has(struct pd_keys *k, const char *ns, const char *name)
{
	char buf[REC_NAMESPACE_MAX + REC_NAME_MAX + 2], *key = buf;

	if (!k->sorted) {
		if (k->n > 1)
			qsort(k->v, k->n, sizeof(*k->v), pd_str_cmp);
		k->sorted = 1;
	}
	snprintf(buf, sizeof(buf), "%s/%s", ns, name);
	return k->n > 0 && bsearch(&key, k->v, k->n, sizeof(*k->v),
	    pd_str_cmp) != NULL;
}

static void
pd_keys_clear(struct pd_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* --- state ------------------------------------------------------------- */

struct pd_batch {
	uint64_t	 id;
	uint32_t	 flags;
	uint32_t	 first_seq;
	uint32_t	 answered;
	uint32_t	 failed;
	int		 has_dump;
	int		 cold;		/* one of the first sync's batches */
	struct pd_ops	 ops;
};

struct pd_conn {
	struct pa_vs_key vs;
	struct rec_addr	 addr;
	uint16_t	 port;
	uint32_t	 conns;
};

/* A dump being received. */
struct pd_dump {
	int		 open;
	uint32_t	 what;
	struct plan_ipvs_table ipvs;
	struct pd_conn	*conns;
	size_t		 n_conns;
	size_t		 cap_conns;
	struct rec_addr	*kaddrs;	/* on kube-ipvs0 */
	size_t		 n_kaddrs;
	size_t		 cap_kaddrs;
	struct rec_addr	*laddrs;	/* every other interface */
	size_t		 n_laddrs;
	size_t		 cap_laddrs;
	struct pa_set_entry *members;
	size_t		 n_members;
	size_t		 cap_members;
	/* Per family, per chain id: present, matching the template. */
	uint8_t		 chain_seen[2][PA_CHAIN_ID_MAX + 1];
	uint8_t		 chain_ok[2][PA_CHAIN_ID_MAX + 1];
};

struct pd_lep {
	struct pw_local_eps *v;
	size_t		 n;
	size_t		 cap;
};

struct plan_daemon {
	struct kp_config kc;
	struct plan_config cfg;
	struct rec_addr	*node_ips;	/* cfg.node_ips */
	struct rec_prefix cluster_cidrs[2];
	struct rec_prefix nodeport_cidrs[KP_MAX_CIDRS + 2];
	struct rec_prefix exclude_cidrs[KP_MAX_CIDRS];
	/* The own Node: its addresses give the primary IP of a family. */
	struct rec_node	 node;
	int		 have_node;

	struct plan_model *m;
	struct plan_diff *d;
	struct plan_retry *retry;
	struct ipc_link	*wp;
	struct ipc_link	*pa;
	unsigned	 hold_ms;

	/* Watcher side. */
	int		 in_snapshot;
	uint8_t		 complete;	/* 1 << enum wp_kind, ever seen */
	struct pd_keys	 snap_svc;
	struct pd_keys	 snap_slice;
	int		 snap_node;

	/* Applier side. */
	int		 have_dump;	/* of the current connection */
	int		 awaiting_dump;
	uint64_t	 dump_deadline;
	struct pd_dump	 dump;
	uint64_t	 batch_id;
	uint32_t	 op_seq;
	struct pd_batch	 inflight[PD_MAX_INFLIGHT];
	int		 n_inflight;
	int		 want_dump;
	int		 reap;
	int		 timeouts_pending;
	uint64_t	 next_dump;
	uint64_t	 last_sync;	/* monotonic; 0 never */
	int		 started;	/* the first sync was computed */
	int		 cold_left;	/* cold batches not yet answered */

	/* Ops of the sync being computed. */
	struct pd_ops	 first;
	struct pd_ops	 rest;
	struct pd_ops	 deferred;
	uint64_t	 defer_until;
	uint64_t	 now;

	/* Blast-radius hold. */
	int		 held;
	uint64_t	 hold_until;
	struct pd_ops	 held_first;
	struct pd_ops	 held_rest;
	uint32_t	 held_flags;

	/* Towards the watcher. */
	int		 synced;	/* the first sync was applied */
	int64_t		 last_sync_ms;
	int64_t		 last_apply_ms;
	struct pw_status sent_status;
	int		 status_sent;
	uint64_t	 next_status;
	struct pd_lep	 lep;
	int		 lep_dirty;
	uint64_t	 next_lep;
	struct plan_ep_buf epbuf;
	/* kipvs's own counters for /metrics (sent in PW_STATUS). */
	struct plan_neutral neutral;
	uint64_t	 ops_applied[PW_OPK_COUNT];
	uint64_t	 ops_failed[PW_OPK_COUNT];
};

static int64_t
pd_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
pd_min_wait(int wait, uint64_t at, uint64_t now)
{
	uint64_t d = at > now ? at - now : 0;
	int w = d > 600000 ? 600000 : (int)d;

	return wait < 0 || w < wait ? w : wait;
}

/* --- configuration ------------------------------------------------------ */

static void
pd_config(struct plan_daemon *pd)
{
	struct plan_config *c = &pd->cfg;
	const struct kp_config *kc = &pd->kc;
	size_t i;

	plan_config_init(c);
	snprintf(c->node_name, sizeof(c->node_name), "%s", kc->hostname);
	c->ipv4 = (kc->families & KP_FAMILY_V4) != 0;
	c->ipv6 = (kc->families & KP_FAMILY_V6) != 0;
	c->masquerade_all = kc->masquerade_all;
	if (kc->scheduler[0] != '\0')
		snprintf(c->scheduler, sizeof(c->scheduler), "%s",
		    kc->scheduler);
	c->strict_arp = kc->strict_arp;
	c->masquerade_bit = kc->masquerade_bit;
	c->nodeport_lo = kc->nodeport_range_lo;
	c->nodeport_hi = kc->nodeport_range_hi;
	c->neutral = &pd->neutral;
	for (i = 0; i < kc->n_exclude_cidrs && i < KP_MAX_CIDRS; i++)
		pd->exclude_cidrs[i] = kc->exclude_cidrs[i];
	c->exclude_cidrs = pd->exclude_cidrs;
	c->n_exclude_cidrs = i;
	c->cluster_cidrs = pd->cluster_cidrs;
	c->n_cluster_cidrs = 0;
	switch (kc->detect_local) {
	case KP_DETECT_CLUSTER_CIDR:
		for (i = 0; i < kc->n_cluster_cidrs && i < 2; i++)
			pd->cluster_cidrs[i] = kc->cluster_cidrs[i];
		c->n_cluster_cidrs = i;
		break;
	case KP_DETECT_NODE_CIDR:
		/* From the own Node's podCIDRs, when it arrives. */
		break;
	case KP_DETECT_BRIDGE_INTERFACE:
		c->local_mode = PA_LOCAL_BRIDGE;
		snprintf(c->local_iface, sizeof(c->local_iface), "%s",
		    kc->pod_bridge_interface);
		break;
	case KP_DETECT_INTERFACE_NAME_PREFIX:
		c->local_mode = PA_LOCAL_IFPREFIX;
		snprintf(c->local_iface, sizeof(c->local_iface), "%s",
		    kc->pod_interface_name_prefix);
		break;
	}
	c->nodeport_cidrs = pd->nodeport_cidrs;
	c->n_nodeport_cidrs = 0;
	c->node_ips = pd->node_ips;
	c->n_node_ips = 0;
}

/*
 * NodePort addresses: the flag's CIDRs, plus with "primary" the first
 * node IP of each family as a host prefix (kube-proxy's rewrite).
 */
static void
pd_nodeport_cidrs(struct plan_daemon *pd)
{
	struct plan_config *c = &pd->cfg;
	const struct kp_config *kc = &pd->kc;
	uint8_t fam[2] = { REC_FAMILY_IPV4, REC_FAMILY_IPV6 };
	size_t i, n = 0;
	int k;

	for (i = 0; i < kc->n_nodeport_cidrs && n < KP_MAX_CIDRS; i++)
		pd->nodeport_cidrs[n++] = kc->nodeport_cidrs[i];
	if (kc->nodeport_primary)
		for (k = 0; k < 2; k++)
			for (i = 0; i < c->n_node_ips; i++) {
				if (c->node_ips[i].family != fam[k])
					continue;
				pd->nodeport_cidrs[n].addr = c->node_ips[i];
				pd->nodeport_cidrs[n++].plen = fam[k] ==
				    REC_FAMILY_IPV4 ? 32 : 128;
				break;
			}
	c->n_nodeport_cidrs = n;
}

/*
 * The node IPs are the local addresses from the applier's dump (every
 * interface but kube-ipvs0); the own Node's addresses among them go
 * first, so the "primary" IP of a family is the Node's, as in kube-proxy.
 * Returns 1 if they changed.
 */
static int
pd_set_node_ips(struct plan_daemon *pd, const struct rec_addr *la, size_t n)
{
	struct rec_addr *v;
	size_t i, j, k = 0;

	if (n > PD_MAX_NODE_IPS)
		n = PD_MAX_NODE_IPS;
	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL)
		return -1;
	for (j = 0; pd->have_node && j < pd->node.n_addresses; j++)
		for (i = 0; i < n; i++)
			if (addr_eq(&la[i], &pd->node.addresses[j])) {
				v[k++] = la[i];
				break;
			}
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++)
			if (addr_eq(&v[j], &la[i]))
				break;
		if (j == k)
			v[k++] = la[i];
	}
	if (k == pd->cfg.n_node_ips && (k == 0 ||
	    memcmp(v, pd->node_ips, k * sizeof(*v)) == 0)) {
		free(v);
		return 0;
	}
	free(pd->node_ips);
	pd->node_ips = v;
	pd->cfg.node_ips = v;
	pd->cfg.n_node_ips = k;
	pd_nodeport_cidrs(pd);
	plan_diff_config_changed(pd->d);
	plan_model_mark_all(pd->m);
	log_info("node IPs: %zu address%s", k, k == 1 ? "" : "es");
	return 1;
}

/* The NodeCIDR detector: the own Node's podCIDRs. */
static void
pd_node_cidrs(struct plan_daemon *pd)
{
	size_t i, n = 0;

	if (pd->kc.detect_local != KP_DETECT_NODE_CIDR)
		return;
	for (i = 0; pd->have_node && i < pd->node.n_pod_cidrs && n < 2; i++)
		pd->cluster_cidrs[n++] = pd->node.pod_cidrs[i];
	if (n == pd->cfg.n_cluster_cidrs && (n == 0 || memcmp(
	    pd->cluster_cidrs, pd->node.pod_cidrs, n *
	    sizeof(*pd->cluster_cidrs)) == 0) && pd->started)
		return;
	pd->cfg.n_cluster_cidrs = n;
	plan_diff_chains_stale(pd->d);
}

struct plan_daemon *
plan_daemon_new(const struct kp_config *kc, unsigned hold_ms,
    struct ipc_link *wp, struct ipc_link *pa)
{
	struct plan_daemon *pd = calloc(1, sizeof(*pd));
	unsigned max_ms;

	if (pd == NULL)
		return NULL;
	pd->kc = *kc;
	pd->hold_ms = hold_ms;
	pd->wp = wp;
	pd->pa = pa;
	pd_config(pd);
	max_ms = kc->sync_period_ms > PLAN_RETRY_MIN_MS ?
	    kc->sync_period_ms : PLAN_RETRY_MIN_MS;
	pd->m = plan_model_new(pd->cfg.node_name);
	pd->d = plan_diff_new(&pd->cfg);
	pd->retry = plan_retry_new(PLAN_RETRY_MIN_MS, max_ms);
	if (pd->m == NULL || pd->d == NULL || pd->retry == NULL) {
		plan_daemon_free(pd);
		return NULL;
	}
	pd->timeouts_pending = kc->tcp_timeout_s != 0 ||
	    kc->tcpfin_timeout_s != 0 || kc->udp_timeout_s != 0;
	pd->awaiting_dump = 1;
	if (pd->kc.detect_local == KP_DETECT_NODE_CIDR)
		log_info("local traffic: NodeCIDR, from node %s's podCIDRs",
		    pd->cfg.node_name);
	return pd;
}

static void
pd_dump_clear(struct pd_dump *dp)
{
	plan_ipvs_table_clear(&dp->ipvs);
	free(dp->conns);
	free(dp->kaddrs);
	free(dp->laddrs);
	free(dp->members);
	memset(dp, 0, sizeof(*dp));
}

static void
pd_inflight_clear(struct plan_daemon *pd)
{
	int i;

	for (i = 0; i < pd->n_inflight; i++)
		pd_ops_free(&pd->inflight[i].ops);
	pd->n_inflight = 0;
}

static void
pd_hold_drop(struct plan_daemon *pd)
{
	pd_ops_free(&pd->held_first);
	pd_ops_free(&pd->held_rest);
	pd->held = 0;
}

void
plan_daemon_free(struct plan_daemon *pd)
{
	if (pd == NULL)
		return;
	plan_diff_free(pd->d);
	plan_model_free(pd->m);
	plan_retry_free(pd->retry);
	pd_keys_clear(&pd->snap_svc);
	pd_keys_clear(&pd->snap_slice);
	pd_dump_clear(&pd->dump);
	pd_inflight_clear(pd);
	pd_hold_drop(pd);
	pd_ops_free(&pd->first);
	pd_ops_free(&pd->rest);
	pd_ops_free(&pd->deferred);
	free(pd->lep.v);
	plan_ep_buf_free(&pd->epbuf);
	free(pd->node_ips);
	free(pd);
}

/* --- naming objects in logs --------------------------------------------- */

static const struct pa_vs_key *
pd_op_vs(const struct pa_op *op)
{
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		return &op->u.vs.key;
	case PA_OP_VS_DEL:
		return &op->u.vs_key;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		return &op->u.rs.vs;
	}
	return NULL;
}

static const char *
pd_status_name(uint8_t st)
{
	switch (st) {
	case AP_FAILED:
		return "failed";
	case AP_REJECTED:
		return "rejected";
	case AP_BLOCKED:
		return "blocked";
	}
	return "ok";
}

/* --- local ready endpoints (health-check node ports) --------------------- */

static int
pd_lep_cmp(const void *a, const void *b)
{
	const struct pw_local_eps *x = a, *y = b;
	int c = strcmp(x->namespace, y->namespace);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/*
 * kube-proxy's count: distinct IPs of local, ready endpoints over all
 * ports and families of the Service (terminating ones do not count).
 */
static uint32_t
pd_ready_local(struct plan_daemon *pd, const struct plan_svc *svc)
{
	struct rec_addr ips[64];
	uint8_t fam[2] = { REC_FAMILY_IPV4, REC_FAMILY_IPV6 };
	size_t p, i, j, n = 0;
	uint32_t extra = 0;
	int f, ne;

	for (p = 0; p < svc->n_ports; p++)
		for (f = 0; f < 2; f++) {
			ne = plan_model_endpoints(pd->m, svc, &svc->ports[p],
			    fam[f], &pd->epbuf);
			for (i = 0; ne > 0 && i < (size_t)ne; i++) {
				const struct plan_ep *ep = &pd->epbuf.v[i];

				if (!ep->local || !(ep->cond & REC_EP_READY))
					continue;
				for (j = 0; j < n; j++)
					if (addr_eq(&ips[j], &ep->addr))
						break;
				if (j < n)
					continue;
				if (n < sizeof(ips) / sizeof(ips[0]))
					ips[n++] = ep->addr;
				else
					extra++;	/* beyond 64: an estimate */
			}
		}
	return (uint32_t)n + extra;
}

static void
pd_lep_set(struct plan_daemon *pd, const char *ns, const char *name,
    const struct plan_svc *svc)
{
	struct pw_local_eps key, *e;
	uint32_t n;

	memset(&key, 0, sizeof(key));
	snprintf(key.namespace, sizeof(key.namespace), "%s", ns);
	snprintf(key.name, sizeof(key.name), "%s", name);
	e = pd->lep.n > 0 ? bsearch(&key, pd->lep.v, pd->lep.n,
	    sizeof(key), pd_lep_cmp) : NULL;
	if (svc == NULL || svc->hc_node_port == 0) {
		if (e != NULL) {
			memmove(e, e + 1, (size_t)(pd->lep.v + pd->lep.n -
			    (e + 1)) * sizeof(*e));
			pd->lep.n--;
			pd->lep_dirty = 1;
		}
		return;
	}
	n = pd_ready_local(pd, svc);
	if (e != NULL) {
		if (e->ready_local != n ||
		    e->health_check_node_port != svc->hc_node_port) {
			e->ready_local = n;
			e->health_check_node_port = svc->hc_node_port;
			pd->lep_dirty = 1;
		}
		return;
	}
	if (pd->lep.n >= PW_MAX_LOCAL_EPS || pd_grow((void **)&pd->lep.v,
	    &pd->lep.cap, pd->lep.n, sizeof(*pd->lep.v)) == -1) {
		log_warnx("health-check table full: %s/%s left out", ns,
		    name);
		return;
	}
	key.health_check_node_port = svc->hc_node_port;
	key.ready_local = n;
	pd->lep.v[pd->lep.n++] = key;
	qsort(pd->lep.v, pd->lep.n, sizeof(key), pd_lep_cmp);
	pd->lep_dirty = 1;
}

static void
pd_lep_dirty_cb(const char *ns, const char *name, const struct plan_svc *svc,
    void *arg)
{
	pd_lep_set(arg, ns, name, svc);
}

static void
pd_lep_all_cb(const struct plan_svc *svc, void *arg)
{
	pd_lep_set(arg, svc->ns, svc->name, svc);
}

/* Before the diff clears the model's dirty set. */
static void
pd_lep_update(struct plan_daemon *pd)
{
	struct plan_daemon *p = pd;
	size_t i;

	if (plan_model_all_dirty(pd->m)) {
		/* Drop entries of Services that are gone, then refresh. */
		for (i = 0; i < p->lep.n;)
			if (plan_model_svc_get(p->m, p->lep.v[i].namespace,
			    p->lep.v[i].name) == NULL) {
				memmove(&p->lep.v[i], &p->lep.v[i + 1],
				    (p->lep.n - i - 1) * sizeof(*p->lep.v));
				p->lep.n--;
				p->lep_dirty = 1;
			} else
				i++;
		plan_model_foreach_svc(pd->m, pd_lep_all_cb, pd);
	} else
		plan_model_dirty_foreach(pd->m, pd_lep_dirty_cb, pd);
}

/* --- towards the watcher ------------------------------------------------- */

_Static_assert((int)PW_NEUT_COUNT == (int)PLAN_NEUT_COUNT,
    "enum pw_neut follows enum plan_neut");

/* The kind an op is counted under on /metrics. */
static enum pw_opk
pd_opk(uint8_t kind)
{
	switch (kind) {
	case PA_OP_VS_ENSURE:
	case PA_OP_VS_DEL:
		return PW_OPK_VS;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		return PW_OPK_RS;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		return PW_OPK_ADDR;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		return PW_OPK_SET_MEMBER;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT:
		return PW_OPK_SET;
	case PA_OP_CHAIN_REPLACE:
	case PA_OP_CHAIN_DROP_VIP:
		return PW_OPK_CHAIN;
	case PA_OP_LINK_ENSURE:
		return PW_OPK_LINK;
	}
	return PW_OPK_OTHER;
}

static void
pd_status_build(struct plan_daemon *pd, struct pw_status *st)
{
	memset(st, 0, sizeof(*st));
	if (pd->synced)
		st->flags |= PW_ST_SYNCED;
	if (pd->pa->up)
		st->flags |= PW_ST_APPLIER_UP;
	if (plan_retry_count(pd->retry) > 0 || pd->held)
		st->flags |= PW_ST_DEGRADED;
	st->last_sync_ms = pd->last_sync_ms;
	st->last_apply_ms = pd->last_apply_ms;
	st->n_services = (uint32_t)plan_model_nservices(pd->m);
	st->n_failed_ops = (uint32_t)plan_retry_count(pd->retry);
	memcpy(st->ops_applied, pd->ops_applied, sizeof(st->ops_applied));
	memcpy(st->ops_failed, pd->ops_failed, sizeof(st->ops_failed));
	memcpy(st->neutralised, pd->neutral.n, sizeof(st->neutralised));
}

static int
pd_to_watcher(struct plan_daemon *pd, uint64_t now, int wait)
{
	struct pw_status st;

	if (!pd->wp->up)
		return wait;
	pd_status_build(pd, &st);
	if (!pd->status_sent || memcmp(&st, &pd->sent_status,
	    sizeof(st)) != 0) {
		if (now >= pd->next_status) {
			if (pw_send_status(&pd->wp->chan, &st) == -1)
				log_warn("link watcher: sending status");
			pd->sent_status = st;
			pd->status_sent = 1;
			pd->next_status = now + PLAN_STATUS_MIN_MS;
		} else
			wait = pd_min_wait(wait, pd->next_status, now);
	}
	if (pd->lep_dirty) {
		if (now >= pd->next_lep) {
			if (pw_send_local_eps(&pd->wp->chan, pd->lep.v,
			    pd->lep.n) == -1)
				log_warn("link watcher: sending local "
				    "endpoints");
			pd->lep_dirty = 0;
			pd->next_lep = now + PLAN_STATUS_MIN_MS;
		} else
			wait = pd_min_wait(wait, pd->next_lep, now);
	}
	return wait;
}

void
plan_daemon_wp_up(struct plan_daemon *pd, uint64_t now)
{
	(void)now;
	/* A new watcher gets everything at once. */
	pd->status_sent = 0;
	pd->next_status = 0;
	pd->next_lep = 0;
	pd->lep_dirty = 1;
}

void
plan_daemon_wp_down(struct plan_daemon *pd)
{
	/* A snapshot cut short: what arrived stays, nothing is deleted. */
	pd->in_snapshot = 0;
	pd_keys_clear(&pd->snap_svc);
	pd_keys_clear(&pd->snap_slice);
}

/* --- watcher records ----------------------------------------------------- */

struct pd_gone {
	char		(*v)[REC_NAMESPACE_MAX + REC_NAME_MAX + 2];
	size_t		 n;
	size_t		 cap;
	struct pd_keys	*keep;
	int		 oom;
};

static void
pd_gone_add(struct pd_gone *g, const char *ns, const char *name)
{
	if (pd_keys_has(g->keep, ns, name))
		return;
	if (pd_grow((void **)&g->v, &g->cap, g->n, sizeof(*g->v)) == -1) {
		g->oom = 1;
		return;
	}
	snprintf(g->v[g->n], sizeof(g->v[0]), "%s", ns);
	snprintf(g->v[g->n] + strlen(ns) + 1, sizeof(g->v[0]) - strlen(ns) -
	    1, "%s", name);
	g->n++;
}

static void
pd_gone_svc(const struct plan_svc *svc, void *arg)
{
	pd_gone_add(arg, svc->ns, svc->name);
}

static void
pd_gone_slice(const char *ns, const char *name, void *arg)
{
	pd_gone_add(arg, ns, name);
}

/* Level-triggered: what the snapshot did not contain is gone. */
static void
pd_snapshot_end(struct plan_daemon *pd)
{
	struct pd_gone g;
	size_t i, nsvc = 0;

	memset(&g, 0, sizeof(g));
	g.keep = &pd->snap_svc;
	plan_model_foreach_svc(pd->m, pd_gone_svc, &g);
	for (i = 0; i < g.n; i++) {
		const char *ns = g.v[i], *name = g.v[i] + strlen(ns) + 1;

		log_info("service %s/%s: not in the snapshot, deleted", ns,
		    name);
		(void)plan_model_svc_delete(pd->m, ns, name);
	}
	nsvc = g.n;
	g.n = 0;
	g.keep = &pd->snap_slice;
	plan_model_foreach_slice(pd->m, pd_gone_slice, &g);
	for (i = 0; i < g.n; i++)
		(void)plan_model_slice_delete(pd->m, g.v[i],
		    g.v[i] + strlen(g.v[i]) + 1);
	if (g.oom)
		log_warnx("snapshot: out of memory; some deleted objects may "
		    "remain until the next snapshot");
	if (nsvc > 0 || g.n > 0)
		log_info("snapshot removed %zu services, %zu slices", nsvc,
		    g.n);
	free(g.v);
	if (!pd->snap_node && pd->have_node) {
		(void)plan_model_node_delete(pd->m, pd->node.name);
		pd->have_node = 0;
		pd_node_cidrs(pd);
	}
	pd_keys_clear(&pd->snap_svc);
	pd_keys_clear(&pd->snap_slice);
	pd->in_snapshot = 0;
}

static void
pd_node(struct plan_daemon *pd, const struct rec_node *n)
{
	int changed;

	if (strcmp(n->name, pd->cfg.node_name) != 0)
		return;
	pd->snap_node = 1;
	changed = !pd->have_node || pd->node.n_addresses != n->n_addresses ||
	    memcmp(pd->node.addresses, n->addresses,
	    sizeof(n->addresses)) != 0;
	pd->node = *n;
	pd->have_node = 1;
	(void)plan_model_node_set(pd->m, n);
	pd_node_cidrs(pd);
	/* The primary node IP may have moved: reorder. */
	if (changed && pd->cfg.n_node_ips > 0) {
		struct rec_addr *cur = malloc(pd->cfg.n_node_ips *
		    sizeof(*cur));

		if (cur != NULL) {
			memcpy(cur, pd->node_ips, pd->cfg.n_node_ips *
			    sizeof(*cur));
			(void)pd_set_node_ips(pd, cur, pd->cfg.n_node_ips);
			free(cur);
		}
	}
}

int
plan_daemon_wp_event(struct plan_daemon *pd, struct wp_event *ev,
    const char **reason)
{
	int r = 0;

	switch (ev->type) {
	case WP_EV_SNAPSHOT_BEGIN:
		pd_keys_clear(&pd->snap_svc);
		pd_keys_clear(&pd->snap_slice);
		pd->snap_node = 0;
		pd->in_snapshot = 1;
		log_info("link watcher: snapshot %llu begins",
		    (unsigned long long)ev->generation);
		break;
	case WP_EV_SNAPSHOT_END:
		if (!pd->in_snapshot) {
			*reason = "snapshot end without its begin";
			return -1;
		}
		log_info("link watcher: snapshot %llu complete: %u services, "
		    "%u slices, %u nodes", (unsigned long long)ev->end.generation,
		    ev->end.n_services, ev->end.n_slices, ev->end.n_nodes);
		pd_snapshot_end(pd);
		break;
	case WP_EV_SERVICE:
		if (pd->in_snapshot && pd_keys_add(&pd->snap_svc,
		    ev->svc.namespace, ev->svc.name) == -1)
			r = -1;
		if (r == 0 && plan_model_svc_upsert(pd->m, &ev->svc) == -1)
			r = -1;
		if (r == -1)
			log_warnx("service %s/%s: out of memory, skipped",
			    ev->svc.namespace, ev->svc.name);
		break;
	case WP_EV_SLICE:
		if (pd->in_snapshot && pd_keys_add(&pd->snap_slice,
		    ev->slice.namespace, ev->slice.name) == -1)
			r = -1;
		if (r == 0 && plan_model_slice_upsert(pd->m,
		    &ev->slice) == -1)
			r = -1;
		if (r == -1)
			log_warnx("endpoint slice %s/%s: out of memory, "
			    "skipped", ev->slice.namespace, ev->slice.name);
		break;
	case WP_EV_NODE:
		pd_node(pd, &ev->node);
		break;
	case WP_EV_DELETE:
		switch (ev->del.kind) {
		case WP_KIND_SERVICE:
			(void)plan_model_svc_delete(pd->m, ev->del.namespace,
			    ev->del.name);
			break;
		case WP_KIND_SLICE:
			(void)plan_model_slice_delete(pd->m,
			    ev->del.namespace, ev->del.name);
			break;
		case WP_KIND_NODE:
			if (strcmp(ev->del.name, pd->cfg.node_name) == 0) {
				(void)plan_model_node_delete(pd->m,
				    ev->del.name);
				pd->have_node = 0;
				pd_node_cidrs(pd);
			}
			break;
		}
		break;
	case WP_EV_LIST_COMPLETE:
		if (ev->kind >= WP_KIND_SERVICE && ev->kind <= WP_KIND_NODE)
			pd->complete |= (uint8_t)(1u << ev->kind);
		break;
	}
	return 0;
}

/* --- sending ------------------------------------------------------------- */

/* Ops that were not sent: the diff must emit them again. */
static void
pd_unsent(struct plan_daemon *pd, const struct pa_op *v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--)
		if (v[i - 1].kind == PA_OP_DUMP_REQUEST)
			pd->want_dump = 1;
		else
			plan_diff_op_failed(pd->d, &v[i - 1]);
}

/* Takes the ops (leaves o empty); 0, or -1 with everything reverted. */
static int
pd_send(struct plan_daemon *pd, struct pd_ops *o, uint32_t flags, int cold)
{
	struct pa_batch_begin b;
	struct pd_batch *pb;
	struct pa_tx tx;
	size_t i;
	int has_dump = 0;

	if (o->n == 0)
		return 0;
	if (pd->n_inflight >= PD_MAX_INFLIGHT)
		fatalx("planner: too many batches in flight");
	memset(&b, 0, sizeof(b));
	b.batch = ++pd->batch_id;
	b.flags = flags;
	b.n_ops = (uint32_t)o->n;
	for (i = 0; i < o->n; i++) {
		o->v[i].seq = ++pd->op_seq;
		if (o->v[i].kind == PA_OP_DUMP_REQUEST)
			has_dump = 1;
	}
	if (pa_tx_begin(&tx, &pd->pa->chan, &b) == -1)
		goto fail;
	for (i = 0; i < o->n; i++) {
		if (pa_tx_op(&tx, &o->v[i]) == -1) {
			pa_tx_abort(&tx);
			goto fail;
		}
		if (i % 4096 == 4095)
			progress();
	}
	if (pa_tx_end(&tx) == -1)
		goto fail;
	pb = &pd->inflight[pd->n_inflight++];
	memset(pb, 0, sizeof(*pb));
	pb->id = b.batch;
	pb->flags = flags;
	pb->first_seq = o->v[0].seq;
	pb->has_dump = has_dump;
	pb->cold = cold;
	pb->ops = *o;
	memset(o, 0, sizeof(*o));
	log_debug("batch %llu sent: %u ops%s%s",
	    (unsigned long long)b.batch, b.n_ops,
	    (flags & PA_BATCH_FULL) ? ", full" : "",
	    (flags & PA_BATCH_CONFIRMED) ? ", confirmed" : "");
	return 0;
 fail:
	log_warn("link applier: sending batch %llu",
	    (unsigned long long)b.batch);
	pd_unsent(pd, o->v, o->n);
	o->n = 0;
	return -1;
}

/*
 * Sends o in order as batches of at most PD_BATCH_OPS ops (larger only
 * when so many would not fit in flight).  The applier runs batches in
 * order and reads the kernel's addresses before each, so a virtual server
 * may come a batch after its address.  Takes the ops; the number of
 * batches sent.
 */
static int
pd_send_split(struct plan_daemon *pd, struct pd_ops *o, uint32_t flags,
    int cold)
{
	struct pd_ops c;
	size_t slots = PD_MAX_INFLIGHT - pd->n_inflight, per, off, k;
	int sent = 0;

	if (o->n <= PD_BATCH_OPS || slots <= 1)
		return pd_send(pd, o, flags, cold) == 0 && o->n == 0 ? 1 : 0;
	per = (o->n + slots - 1) / slots;
	if (per < PD_BATCH_OPS)
		per = PD_BATCH_OPS;
	for (off = 0; off < o->n; off += k) {
		k = o->n - off < per ? o->n - off : per;
		memset(&c, 0, sizeof(c));
		if ((c.v = malloc(k * sizeof(*c.v))) == NULL) {
			log_warn("batch of %zu ops", k);
			pd_unsent(pd, o->v + off, o->n - off);
			break;
		}
		memcpy(c.v, o->v + off, k * sizeof(*c.v));
		c.n = c.cap = k;
		if (pd_send(pd, &c, flags, cold) == -1) {
			pd_ops_free(&c);
			pd_unsent(pd, o->v + off + k, o->n - off - k);
			break;
		}
		sent++;
	}
	pd_ops_free(o);
	return sent;
}

static int
pd_send_dump_request(struct plan_daemon *pd)
{
	struct pd_ops o;
	struct pa_op op;

	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	op.kind = PA_OP_DUMP_REQUEST;
	op.u.dump_what = PA_DUMP_ALL;
	if (pd_ops_push(&o, &op) == -1)
		return -1;
	pd->want_dump = 0;
	if (pd_send(pd, &o, 0, 0) == -1) {
		pd_ops_free(&o);
		return -1;
	}
	pd_ops_free(&o);
	return 0;
}

/* --- the sync ---------------------------------------------------------- */

struct pd_sink_arg {
	struct plan_daemon *pd;
	struct pd_ops	*dst;
};

/*
 * 1 if this sync held back an addr-add of `a` (it is backing off), with
 * the time it may go in *due.  The diff emits every wanted address that
 * is not bound, on every sync, before the virtual servers: so a held-back
 * address is known here before the ops of a virtual server on it.
 */
static int
pd_addr_held(struct plan_daemon *pd, const struct rec_addr *a,
    uint64_t *due)
{
	struct pa_op aop;

	memset(&aop, 0, sizeof(aop));
	aop.kind = PA_OP_ADDR_ADD;
	aop.u.addr = *a;
	return plan_retry_held(pd->retry, &aop, pd->now, due);
}

static int
pd_emit(const struct pa_op *op, void *arg)
{
	struct pd_sink_arg *a = arg;
	struct plan_daemon *pd = a->pd;
	const struct pa_vs_key *vk = pd_op_vs(op);
	uint64_t due, adue;
	int may;

	/*
	 * A virtual server waits for the address it needs: the applier
	 * refuses it on an address not (yet) on kube-ipvs0, and a VS that
	 * is new (say, the Service's port changed) has no back-off of its
	 * own to hold it.  Deletions need no address.
	 */
	may = plan_retry_may(pd->retry, op, pd->now, &due);
	if (vk != NULL && op->kind != PA_OP_VS_DEL &&
	    pd_addr_held(pd, &vk->addr, &adue) && (may || adue > due)) {
		may = 0;
		due = adue;
	}
	if (!may) {
		if (pd->defer_until == 0 || due < pd->defer_until)
			pd->defer_until = due;
		return pd_ops_push(&pd->deferred, op);
	}
	return pd_ops_push(a->dst, op);
}

static int
pd_is_delete(uint8_t kind)
{
	return kind == PA_OP_VS_DEL || kind == PA_OP_ADDR_DEL ||
	    kind == PA_OP_SET_DEL;
}

static size_t
pd_count_deletes(const struct pd_ops *o)
{
	size_t i, n = 0;

	for (i = 0; i < o->n; i++)
		n += pd_is_delete(o->v[i].kind);
	return n;
}

static void
pd_send_all(struct plan_daemon *pd, struct pd_ops *first, struct pd_ops *rest,
    uint32_t flags, int cold)
{
	int n;

	if (first->n > 0) {
		if (pd_send(pd, first, flags | (cold ? PA_BATCH_FULL : 0),
		    cold) == 0 && cold)
			pd->cold_left++;
	}
	if (rest->n > 0) {
		n = pd_send_split(pd, rest, flags, cold);
		if (cold)
			pd->cold_left += n;
	}
}

static void
pd_sync(struct plan_daemon *pd, uint64_t now)
{
	struct pd_sink_arg fa = { pd, &pd->first }, ra = { pd, &pd->rest };
	struct plan_diff_sink sf = { pd_emit, &fa }, sr = { pd_emit, &ra };
	size_t owned = plan_diff_nowned(pd->d), ndel, i;
	int cold = !pd->started, no_k8s;
	uint32_t flags = 0;
	struct pa_op op;
	long n;

	pd->now = now;
	pd->first.n = pd->rest.n = pd->deferred.n = 0;
	pd->defer_until = 0;
	plan_retry_sweep_begin(pd->retry);
	if (pd->timeouts_pending) {
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_IPVS_TIMEOUTS;
		op.u.timeouts.tcp = pd->kc.tcp_timeout_s;
		op.u.timeouts.tcp_fin = pd->kc.tcpfin_timeout_s;
		op.u.timeouts.udp = pd->kc.udp_timeout_s;
		if (pd_emit(&op, cold ? &fa : &ra) == 0)
			pd->timeouts_pending = 0;
	}
	pd_lep_update(pd);
	n = plan_diff_sync_split(pd->d, pd->m, &sf, &sr);
	/* Only servers a dump counted after their weight 0 are reaped. */
	if (n >= 0 && pd->reap && plan_diff_reap(pd->d, &sr) >= 0)
		pd->reap = 0;
	if (n < 0)
		log_warnx("sync: out of memory; the rest follows next time");
	/* Objects still backing off: as if they had failed once more. */
	for (i = pd->deferred.n; i > 0; i--) {
		const struct pa_op *dop = &pd->deferred.v[i - 1];

		if (dop->kind == PA_OP_IPVS_TIMEOUTS)
			pd->timeouts_pending = 1;
		else
			plan_diff_op_failed(pd->d, dop);
	}
	/*
	 * Every object still failing was emitted (sent or held back) by
	 * this sync (unless it stopped short, or the reap did); the others
	 * are no longer wanted: not failing.
	 */
	if (n >= 0 && !pd->reap)
		(void)plan_retry_sweep_end(pd->retry);
	/*
	 * Servers now draining whose connections no dump has counted: the
	 * dump request ends this batch, so the applier dumps right after
	 * the weight 0 and the sync that follows that dump deletes the idle
	 * ones (kube-proxy's immediate delete, one round trip later).
	 */
	if (plan_diff_nuncounted(pd->d) > 0)
		pd->want_dump = 1;
	pd->started = 1;
	pd->last_sync = now;

	/* Blast radius: hold a sync that deletes too much. */
	ndel = pd_count_deletes(&pd->first) + pd_count_deletes(&pd->rest);
	no_k8s = plan_model_svc_get(pd->m, "default", "kubernetes") == NULL;
	if (ndel > 0 && (no_k8s || ndel * 2 > owned)) {
		log_warnx("sync held for %u ms: it deletes %zu of %zu owned "
		    "objects%s", pd->hold_ms, ndel, owned, no_k8s ?
		    " and default/kubernetes is missing" : "");
		pd->held = 1;
		pd->hold_until = now + pd->hold_ms;
		pd->held_first = pd->first;
		pd->held_rest = pd->rest;
		pd->held_flags = (cold ? PA_BATCH_FULL : 0) |
		    PA_BATCH_CONFIRMED;
		memset(&pd->first, 0, sizeof(pd->first));
		memset(&pd->rest, 0, sizeof(pd->rest));
		return;
	}
	if (pd->want_dump) {
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_DUMP_REQUEST;
		op.u.dump_what = PA_DUMP_ALL;
		if (pd_ops_push(&pd->rest, &op) == 0)
			pd->want_dump = 0;
	}
	if (pd->first.n == 0 && pd->rest.n == 0) {
		/* Nothing differs: in sync, unless objects are failing. */
		if (plan_retry_count(pd->retry) == 0 && pd->synced)
			pd->last_sync_ms = pd_realtime_ms();
		return;
	}
	if (cold)
		flags |= PA_BATCH_FULL;
	pd_send_all(pd, &pd->first, &pd->rest, flags, cold);
}

/* --- results and dumps ------------------------------------------------- */

static void
pd_op_failed(struct plan_daemon *pd, const struct pa_op *op,
    const struct ap_result *r, uint64_t now, int quiet)
{
	char text[PLAN_OPTEXT_MAX], owner[REC_NAMESPACE_MAX + REC_NAME_MAX + 8];
	const struct pa_vs_key *vk = pd_op_vs(op);
	const char *ns, *name;
	unsigned wait = 0;

	owner[0] = '\0';
	if (vk != NULL && plan_diff_vs_owner(pd->d, vk, &ns, &name) == 0)
		snprintf(owner, sizeof(owner), " (service %s/%s)", ns, name);
	switch (op->kind) {
	case PA_OP_DUMP_REQUEST:
		pd->want_dump = 1;
		break;
	case PA_OP_IPVS_TIMEOUTS:
		pd->timeouts_pending = 1;
		break;
	default:
		plan_diff_op_failed(pd->d, op);
		break;
	}
	/* A blocked op waits for its prerequisite, not on its own. */
	if (r->status != AP_BLOCKED)
		wait = plan_retry_failed(pd->retry, op, now);
	if (quiet)
		return;
	log_warnx("skipping %s%s: %s (errno %d%s%s); %s %u ms",
	    plan_op_text(op, text, sizeof(text)), owner,
	    pd_status_name(r->status), r->err, r->reason[0] ? ", " : "",
	    r->reason, r->status == AP_BLOCKED ? "retried with it in" :
	    "retry in", wait);
}

static int
pd_results(struct plan_daemon *pd, struct ap_event *ev, uint64_t now,
    const char **reason)
{
	struct pd_batch *b = &pd->inflight[0];
	size_t i;
	int big;

	if (pd->n_inflight == 0 || b->id != ev->batch) {
		*reason = "results for a batch that is not in flight";
		return -1;
	}
	for (i = 0; i < ev->n; i++) {
		const struct ap_result *r = &ev->results[i];
		uint32_t idx = r->seq - b->first_seq;
		const struct pa_op *op;

		if (r->seq < b->first_seq || idx >= b->ops.n) {
			*reason = "result for an op not in the batch";
			return -1;
		}
		op = &b->ops.v[idx];
		b->answered++;
		if (r->status == AP_OK) {
			plan_retry_ok(pd->retry, op, now);
			pd->ops_applied[pd_opk(op->kind)]++;
			continue;
		}
		b->failed++;
		pd->ops_failed[pd_opk(op->kind)]++;
		/* A batch failing wholesale is not 90,000 log lines. */
		pd_op_failed(pd, op, r, now, b->failed > PD_LOG_FAILED);
	}
	if (!ev->last)
		return 0;
	if (b->answered != b->ops.n) {
		/* Unknown outcome for some: read the kernel again. */
		log_warnx("batch %llu: %u of %zu ops answered; re-reading the "
		    "kernel", (unsigned long long)b->id, b->answered,
		    b->ops.n);
		pd->want_dump = 1;
	}
	pd->last_apply_ms = pd_realtime_ms();
	if (b->failed == 0 && plan_retry_count(pd->retry) == 0)
		pd->last_sync_ms = pd->last_apply_ms;
	if (b->has_dump) {
		pd->awaiting_dump = 1;
		pd->dump_deadline = now + PD_DUMP_WAIT_MS;
	}
	if (b->cold && pd->cold_left > 0 && --pd->cold_left == 0) {
		pd->synced = 1;
		log_info("first sync applied%s", b->failed > 0 ||
		    plan_retry_count(pd->retry) > 0 ?
		    " (some objects failed and are retried)" : "");
	}
	if (b->failed > PD_LOG_FAILED)
		log_warnx("batch %llu: %u more failed ops not logged one by one "
		    "(kipvs_ops_failed_total counts them)",
		    (unsigned long long)b->id, b->failed - PD_LOG_FAILED);
	log_info("link applier: batch %llu done: %u results, %u failed",
	    (unsigned long long)b->id, b->answered, b->failed);
	big = b->ops.n > PD_TRIM_OPS;
	pd_ops_free(&b->ops);
	/* A cold start's ops are megabytes: give the heap back. */
	if (big)
		malloc_trim(0);
	memmove(&pd->inflight[0], &pd->inflight[1],
	    (size_t)(pd->n_inflight - 1) * sizeof(pd->inflight[0]));
	pd->n_inflight--;
	return 0;
}

static int
pd_dump_recs(struct plan_daemon *pd, const struct ap_rec *recs, size_t n)
{
	struct pd_dump *dp = &pd->dump;
	struct plan_vs v;
	struct plan_rs rs;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct ap_rec *r = &recs[i];

		switch (r->kind) {
		case AP_REC_VS:
			memset(&v, 0, sizeof(v));
			v.addr = r->u.vs.key.addr;
			v.port = r->u.vs.key.port;
			v.proto = r->u.vs.key.protocol;
			memcpy(v.sched, r->u.vs.sched, sizeof(v.sched) - 1);
			v.flags = ((r->u.vs.flags & PA_VS_PERSISTENT) ?
			    PLAN_VS_F_PERSISTENT : 0) |
			    ((r->u.vs.flags & PA_VS_SCHED_PORT) ?
			    PLAN_VS_F_SCHED2 : 0);
			v.timeout = r->u.vs.timeout;
			if (plan_ipvs_table_add(&dp->ipvs, &v) == -1)
				return -1;
			break;
		case AP_REC_RS: {
			const struct pa_rs *prs = &r->u.rs.rs;
			struct plan_vs *vs = NULL;

			/* Usually right after its virtual server. */
			for (j = dp->ipvs.n; j > 0; j--) {
				struct plan_vs *c = &dp->ipvs.vs[j - 1];

				if (c->port == prs->vs.port &&
				    c->proto == prs->vs.protocol &&
				    addr_eq(&c->addr, &prs->vs.addr)) {
					vs = c;
					break;
				}
			}
			if (vs == NULL)
				break;
			memset(&rs, 0, sizeof(rs));
			rs.addr = prs->addr;
			rs.port = prs->port;
			rs.weight = (int32_t)prs->weight;
			if (plan_vs_add_rs(vs, &rs) == -1 ||
			    pd_grow((void **)&dp->conns, &dp->cap_conns,
			    dp->n_conns, sizeof(*dp->conns)) == -1)
				return -1;
			dp->conns[dp->n_conns].vs = prs->vs;
			dp->conns[dp->n_conns].addr = prs->addr;
			dp->conns[dp->n_conns].port = prs->port;
			dp->conns[dp->n_conns++].conns = r->u.rs.active +
			    r->u.rs.inactive;
			break;
		}
		case AP_REC_ADDR:
			if (strcmp(r->u.addr.ifname, PD_IFNAME_KIPVS) == 0) {
				if (pd_grow((void **)&dp->kaddrs,
				    &dp->cap_kaddrs, dp->n_kaddrs,
				    sizeof(*dp->kaddrs)) == -1)
					return -1;
				dp->kaddrs[dp->n_kaddrs++] =
				    r->u.addr.prefix.addr;
			} else {
				if (pd_grow((void **)&dp->laddrs,
				    &dp->cap_laddrs, dp->n_laddrs,
				    sizeof(*dp->laddrs)) == -1)
					return -1;
				dp->laddrs[dp->n_laddrs++] =
				    r->u.addr.prefix.addr;
			}
			break;
		case AP_REC_SET_MEMBER:
			if (pd_grow((void **)&dp->members, &dp->cap_members,
			    dp->n_members, sizeof(*dp->members)) == -1)
				return -1;
			dp->members[dp->n_members++] = r->u.member;
			break;
		case AP_REC_CHAIN:
			if (r->u.chain.chain < 1 ||
			    r->u.chain.chain > PA_CHAIN_ID_MAX)
				break;
			j = r->u.chain.family == REC_FAMILY_IPV6 ? 1 : 0;
			dp->chain_seen[j][r->u.chain.chain] = 1;
			dp->chain_ok[j][r->u.chain.chain] = r->u.chain.matches;
			break;
		}
	}
	return 0;
}

/* The dump replaces what the diff knows of the kernel. */
static int
pd_dump_apply(struct plan_daemon *pd)
{
	struct pd_dump *dp = &pd->dump;
	size_t i;
	int f, c, stale = 0;
	uint8_t fam[2] = { REC_FAMILY_IPV4, REC_FAMILY_IPV6 };

	if (plan_diff_kernel_begin(pd->d) == -1)
		return -1;
	for (i = 0; i < dp->ipvs.n; i++) {
		if (plan_diff_kernel_vs(pd->d, &dp->ipvs.vs[i]) == -1)
			return -1;
		if (i % 1024 == 1023)
			progress();
	}
	for (i = 0; i < dp->n_conns; i++)
		plan_diff_rs_conns(pd->d, &dp->conns[i].vs, &dp->conns[i].addr,
		    dp->conns[i].port, dp->conns[i].conns);
	for (i = 0; i < dp->n_kaddrs; i++)
		if (plan_diff_kernel_addr(pd->d, &dp->kaddrs[i]) == -1)
			return -1;
	for (i = 0; i < dp->n_members; i++)
		if (plan_diff_kernel_entry(pd->d, &dp->members[i]) == -1)
			return -1;
	if (plan_diff_kernel_end(pd->d) == -1)
		return -1;
	if (pd_set_node_ips(pd, dp->laddrs, dp->n_laddrs) == -1)
		return -1;
	if (dp->what & PA_DUMP_CHAINS)
		for (f = 0; f < 2; f++) {
			if ((f == 0 && !pd->cfg.ipv4) ||
			    (f == 1 && !pd->cfg.ipv6))
				continue;
			/*
			 * Missing, or not what the applier last wrote there
			 * (changed from outside, or an applier that has not
			 * written it yet): that chain alone is written again.
			 * The first sync writes every chain anyway.
			 */
			for (c = 1; c <= PA_CHAIN_ID_MAX; c++)
				if ((!dp->chain_seen[f][c] ||
				    !dp->chain_ok[f][c]) && pd->started) {
					plan_diff_chain_stale(pd->d, fam[f],
					    (uint8_t)c);
					stale++;
				}
		}
	if (stale > 0)
		log_info("kernel dump: %d chain%s differ%s from %s template%s; "
		    "writing %s again", stale, stale == 1 ? "" : "s",
		    stale == 1 ? "s" : "", stale == 1 ? "its" : "their",
		    stale == 1 ? "" : "s", stale == 1 ? "it" : "them");
	return 0;
}

/*
 * A dump that ends while a batch is unanswered was taken before that
 * batch ran: the applier runs batches in order and sends a batch's
 * results before any dump it takes after it (on request or on its own
 * drift-check timer).  Applied, it would make the diff forget what the
 * batch does (at a cold start: everything) and send it all again.  A
 * held sync is the same: the diff counts its ops as sent, the kernel has
 * none of them yet.  So the dump is dropped.  Nothing waits for it: a
 * dump this planner is waiting for (a new applier's, a requested one) is
 * asked for again as soon as nothing is in flight; an unsolicited one is
 * followed by the next periodic dump.  A fresh applier link never has
 * anything in flight or held (plan_daemon_pa_down() drops both).
 */
static void
pd_dump_stale(struct plan_daemon *pd, uint64_t dump)
{
	if (pd->n_inflight > 0)
		log_info("dump %llu taken before batch %llu ran: ignored",
		    (unsigned long long)dump,
		    (unsigned long long)pd->inflight[0].id);
	else
		log_info("dump %llu taken before the held sync: ignored",
		    (unsigned long long)dump);
	pd_dump_clear(&pd->dump);
	if (pd->awaiting_dump)
		pd->want_dump = 1;
}

static int
pd_dump_event(struct plan_daemon *pd, struct ap_event *ev, uint64_t now,
    const char **reason)
{
	struct pd_dump *dp = &pd->dump;
	int big;

	switch (ev->type) {
	case AP_EV_DUMP_BEGIN:
		pd_dump_clear(dp);
		dp->open = 1;
		dp->what = ev->dbegin.what;
		break;
	case AP_EV_DUMP_RECS:
		if (!dp->open) {
			*reason = "dump records outside a dump";
			return -1;
		}
		if (pd_dump_recs(pd, ev->recs, ev->n) == -1)
			fatalx("dump: out of memory");
		break;
	case AP_EV_DUMP_END:
		if (!dp->open) {
			*reason = "dump end outside a dump";
			return -1;
		}
		if ((dp->what & (PA_DUMP_IPVS | PA_DUMP_ADDRS |
		    PA_DUMP_SETS)) != (PA_DUMP_IPVS | PA_DUMP_ADDRS |
		    PA_DUMP_SETS)) {
			log_warnx("partial kernel dump (0x%x) ignored; asking "
			    "for a full one", dp->what);
			pd_dump_clear(dp);
			pd->want_dump = 1;
			break;
		}
		if (pd->n_inflight > 0 || pd->held) {
			pd_dump_stale(pd, ev->dend.dump);
			break;
		}
		if (pd_dump_apply(pd) == -1)
			fatalx("dump: out of memory");
		log_info("link applier: dump %llu complete: %zu virtual "
		    "servers, %zu addresses, %zu set members",
		    (unsigned long long)ev->dend.dump, dp->ipvs.n,
		    dp->n_kaddrs, dp->n_members);
		big = dp->ipvs.n + dp->n_kaddrs + dp->n_members > PD_TRIM_OPS;
		pd_dump_clear(dp);
		/* A large dump's records are megabytes: give the heap back. */
		if (big)
			malloc_trim(0);
		pd->have_dump = 1;
		pd->awaiting_dump = 0;
		pd->reap = 1;
		pd->next_dump = now + pd->kc.sync_period_ms;
		break;
	}
	return 0;
}

int
plan_daemon_ap_event(struct plan_daemon *pd, struct ap_event *ev,
    uint64_t now, const char **reason)
{
	if (ev->type == AP_EV_RESULTS)
		return pd_results(pd, ev, now, reason);
	return pd_dump_event(pd, ev, now, reason);
}

void
plan_daemon_pa_up(struct plan_daemon *pd, uint64_t now)
{
	/* The applier sends a dump to every new connection: wait for it. */
	pd->have_dump = 0;
	pd->awaiting_dump = 1;
	pd->dump_deadline = now + PD_DUMP_WAIT_MS;
	log_info("applier up: waiting for its dump");
}

void
plan_daemon_pa_down(struct plan_daemon *pd)
{
	/*
	 * What was in flight may or may not be in the kernel; the next
	 * applier's dump says which.  A held sync is recomputed from it.
	 */
	pd_inflight_clear(pd);
	pd_dump_clear(&pd->dump);
	if (pd->held) {
		log_info("held sync dropped: the applier went away");
		pd_hold_drop(pd);
	}
	pd->cold_left = 0;
	pd->have_dump = 0;
	pd->awaiting_dump = 1;
}

/* --- the clock ---------------------------------------------------------- */

static int
pd_model_dirty(const struct plan_daemon *pd)
{
	return plan_model_all_dirty(pd->m) ||
	    plan_model_dirty_count(pd->m) > 0;
}

int
plan_daemon_tick(struct plan_daemon *pd, uint64_t now)
{
	const uint8_t lists = (1u << WP_KIND_SERVICE) | (1u << WP_KIND_SLICE);
	int wait = -1, can_send, want;

	can_send = pd->pa->up && pd->n_inflight == 0 && !pd->dump.open;
	if (pd->held) {
		if (pd_model_dirty(pd)) {
			log_info("held sync cancelled by new changes; "
			    "re-reading the kernel");
			pd_hold_drop(pd);
			/* The diff believes the held ops applied: re-read. */
			pd->want_dump = 1;
			pd->awaiting_dump = 1;
			pd->dump_deadline = now + PD_DUMP_WAIT_MS;
		} else if (now >= pd->hold_until && can_send) {
			log_warnx("hold-off over: sending the held sync as "
			    "confirmed");
			pd_send_all(pd, &pd->held_first, &pd->held_rest,
			    pd->held_flags, pd->held_flags & PA_BATCH_FULL);
			pd_hold_drop(pd);
			can_send = 0;
		} else
			wait = pd_min_wait(wait, pd->hold_until, now);
	}
	if (pd->have_dump && now >= pd->next_dump) {
		pd->want_dump = 1;
		pd->next_dump = now + pd->kc.sync_period_ms;
	}
	/* A new applier that does not send its dump is asked for one. */
	if (pd->pa->up && pd->awaiting_dump && can_send) {
		if (now >= pd->dump_deadline) {
			pd->want_dump = 1;
			pd->dump_deadline = now + PD_DUMP_WAIT_MS;
		} else
			wait = pd_min_wait(wait, pd->dump_deadline, now);
	}
	if (can_send && !pd->held && pd->have_dump && !pd->awaiting_dump &&
	    !pd->in_snapshot && (pd->complete & lists) == lists) {
		want = !pd->started || pd_model_dirty(pd) || pd->want_dump ||
		    pd->reap || (plan_diff_pending(pd->d) &&
		    (pd->defer_until == 0 || now >= pd->defer_until));
		if (want) {
			if (pd->last_sync == 0 || now >= pd->last_sync +
			    pd->kc.min_sync_period_ms) {
				pd_sync(pd, now);
				can_send = 0;
			} else
				wait = pd_min_wait(wait, pd->last_sync +
				    pd->kc.min_sync_period_ms, now);
		}
		if (pd->defer_until != 0 && plan_diff_pending(pd->d))
			wait = pd_min_wait(wait, pd->defer_until, now);
	}
	if (can_send && pd->want_dump && !pd->held &&
	    (pd->have_dump || pd->awaiting_dump))
		(void)pd_send_dump_request(pd);
	if (pd->have_dump)
		wait = pd_min_wait(wait, pd->next_dump, now);
	return pd_to_watcher(pd, now, wait);
}
