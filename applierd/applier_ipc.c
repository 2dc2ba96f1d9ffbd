/*
 * kipvs-applierd: dispatch of the planner link.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applierd/applier_audit.h"
#include "applierd/applier_dump.h"
#include "applierd/applier_ipc.h"
#include "common/log.h"
#include "ipc/proto_ctl.h"

/* A batch of more ops than this returns its memory afterwards. */
#define APPLIER_TRIM_OPS	4096

static uint32_t
drift_ms(const struct applier_ipc *a)
{
	return a->conf->drift_check_ms ? a->conf->drift_check_ms :
	    a->conf->kp.sync_period_ms;
}

static int
applier_send_dump(struct applier_ipc *a, struct ipc_chan *c, uint32_t what)
{
	struct ap_dump_begin b;
	struct ap_tx tx;
	int rv;

	b.dump = ++a->dump;
	b.what = what;
	if (ap_dump_begin(&tx, c, &b) == -1)
		return -1;
	if (dump_kernel(a->k, a->conf, &a->state, what, &tx) == -1) {
		log_warn("dump %llu", (unsigned long long)b.dump);
		/* A partial dump still closes: the planner sees the count. */
	}
	if (what & PA_DUMP_IPVS)
		a->ipvs_stale = 0;
	if (what & PA_DUMP_SETS)
		a->sets_stale = 0;
	a->next_drift_ms = ipc_now_ms() + drift_ms(a);
	rv = ap_dump_end(&tx);
	/* An IPVS dump reads every real server: give that memory back. */
	if (what & PA_DUMP_IPVS)
		malloc_trim(0);
	return rv;
}

static int
applier_collect(struct applier_ipc *a, const struct pa_op *ops, size_t n)
{
	struct pa_op *grown;
	size_t cap;

	if (a->n_ops + n > a->cap_ops) {
		cap = a->cap_ops ? a->cap_ops : 256;
		while (cap < a->n_ops + n)
			cap *= 2;
		if ((grown = reallocarray(a->ops, cap, sizeof(*grown))) ==
		    NULL)
			return -1;
		a->ops = grown;
		a->cap_ops = cap;
	}
	memcpy(a->ops + a->n_ops, ops, n * sizeof(*ops));
	a->n_ops += n;
	return 0;
}

/*
 * The policy's member counts (mass deletion) from the set cache, which
 * the batch kept up to date: no listing needed before the next batch.
 */
static void
applier_members_from_cache(struct applier_ipc *a)
{
	struct setcache_set *c;
	uint8_t id;
	int f;

	for (f = 4; f <= 6; f += 2)
		for (id = 1; id <= PA_SET_ID_MAX; id++)
			if ((c = setcache_get(&a->k->sets, (uint8_t)f,
			    id)) != NULL && c->state != SETC_UNKNOWN)
				a->state.members[f == 6][id] =
				    (uint32_t)setcache_count(c);
}

/* One "channel" audit record: the planner's channel closed, and why. */
static void
applier_audit_channel(struct applier_ipc *a, const char *text)
{
	struct audit_rec r;

	if (a->k->audit_fd < 0)
		return;
	memset(&r, 0, sizeof(r));
	r.record = "channel";
	r.batch = a->rx.in_batch ? a->batch : 0;
	r.op = "planner_link";
	r.object = "planner channel";
	r.err = a->violation[0] != '\0' ? EPROTO : 0;
	r.text = text;
	if (audit_write(a->k->audit_fd, &r) == -1)
		log_warn("audit channel record");
}

/* Check, execute, answer. */
static int
applier_batch_end(struct applier_ipc *a, struct ipc_proc_edge *e)
{
	struct exec_stats st;
	struct ap_result *res;
	struct ap_tx tx;
	uint32_t what = 0, refresh = 0;
	uint64_t t0, t_read, t_policy, t_exec;
	size_t i, failed = 0;
	long *dep, rejected;
	int rv = -1;

	res = calloc(a->n_ops ? a->n_ops : 1, sizeof(*res));
	dep = calloc(a->n_ops ? a->n_ops : 1, sizeof(*dep));
	if (res == NULL || dep == NULL)
		goto out;
	t0 = ipc_now_us();
	/* Ownership is judged on the kernel's addresses of now. */
	if (a->ipvs_stale)
		refresh |= PA_DUMP_IPVS;
	if (a->sets_stale)
		refresh |= PA_DUMP_SETS;
	if (dump_kernel(a->k, a->conf, &a->state, refresh, NULL) == -1)
		log_warn("reading the kernel before batch %llu",
		    (unsigned long long)a->batch);
	else {
		a->ipvs_stale &= !(refresh & PA_DUMP_IPVS);
		a->sets_stale &= !(refresh & PA_DUMP_SETS);
	}
	for (i = 0; i < a->n_ops; i++) {
		res[i].seq = a->ops[i].seq;
		res[i].status = AP_OK;
		dep[i] = -1;
		if (a->ops[i].kind == PA_OP_DUMP_REQUEST)
			what |= a->ops[i].u.dump_what;
	}
	t_read = ipc_now_us();
	rejected = policy_batch(a->conf, &a->state, a->batch_flags, a->ops,
	    a->n_ops, res, dep, ipc_now_ms());
	if (rejected < 0)
		goto out;
	t_policy = ipc_now_us();
	exec_batch(a->k, a->batch, a->ops, a->n_ops, res, dep,
	    &st);
	t_exec = ipc_now_us();
	/*
	 * The policy's view of IPVS follows the batch's own results; only
	 * a failed IPVS op (the kernel's state unknown) has it read again.
	 */
	if (st.ipvs_failed || (st.ipvs_dirty && policy_state_apply(&a->state,
	    a->ops, res, a->n_ops) == -1))
		a->ipvs_stale = 1;
	if (st.sets_dirty)
		a->sets_stale = 1;
	else
		applier_members_from_cache(a);
	if (ap_results_begin(&tx, &e->link.chan, a->batch) == -1)
		goto out;
	for (i = 0; i < a->n_ops; i++) {
		if (res[i].status != AP_OK)
			failed++;
		if (ap_results_add(&tx, &res[i]) == -1) {
			ap_tx_abort(&tx);
			goto out;
		}
	}
	if (ap_results_end(&tx) == -1)
		goto out;
	log_info("link %s: batch %llu: %zu results (%zu not ok, %ld "
	    "rejected), %u IPVS requests (%u changed), %u table commits, "
	    "%u ipset writes", e->link.name, (unsigned long long)a->batch,
	    a->n_ops, failed, rejected, st.ipvs_sent, st.ipvs_changed,
	    st.ipt_commits, st.ipset_sent);
	/* Where the time went, for operators and the benchmark. */
	log_info("link %s: batch %llu: %.3f s: kernel read %.3f, policy "
	    "%.3f, IPVS %.3f, addresses %.3f, ipsets %.3f, iptables %.3f, "
	    "other %.3f, audit %.3f, results %.3f", e->link.name,
	    (unsigned long long)a->batch, (ipc_now_us() - t0) / 1e6,
	    (t_read - t0) / 1e6, (t_policy - t_read) / 1e6,
	    st.us[EXEC_T_IPVS] / 1e6, st.us[EXEC_T_ADDR] / 1e6,
	    st.us[EXEC_T_SETS] / 1e6, st.us[EXEC_T_CHAINS] / 1e6,
	    st.us[EXEC_T_OTHER] / 1e6, st.us[EXEC_T_AUDIT] / 1e6,
	    (ipc_now_us() - t_exec) / 1e6);
	rv = 0;
	if (what != 0 && applier_send_dump(a, &e->link.chan, what) == -1)
		rv = -1;
out:
	free(res);
	free(dep);
	/*
	 * A cold start's batch leaves megabytes behind (its ops here, the
	 * executor's request arrays in the heap): give them back.
	 */
	if (a->n_ops > APPLIER_TRIM_OPS) {
		free(a->ops);
		a->ops = NULL;
		a->cap_ops = 0;
		malloc_trim(0);
	}
	a->n_ops = 0;
	return rv;
}

static int
applier_on_msg(struct ipc_proc *p, struct ipc_proc_edge *e,
    const struct frame_msg *m, const char **reason)
{
	struct applier_ipc *a = p->arg;
	struct pa_event ev;
	int rv = 0;

	if (pa_rx_feed(&a->rx, m, &ev, reason) == -1) {
		/* proc closes the channel; on_down audits it with this. */
		snprintf(a->violation, sizeof(a->violation), "%s",
		    *reason != NULL ? *reason : "?");
		return -1;
	}
	switch (ev.type) {
	case PA_EV_BATCH_BEGIN:
		a->batch = ev.begin.batch;
		a->batch_flags = ev.begin.flags;
		a->n_ops = 0;
		break;
	case PA_EV_OPS:
		rv = applier_collect(a, ev.ops, ev.n_ops);
		free(ev.ops);
		break;
	case PA_EV_BATCH_END:
		rv = applier_batch_end(a, e);
		break;
	}
	if (rv == -1)
		log_warn("link %s: batch %llu", e->link.name,
		    (unsigned long long)a->batch);
	return 0;
}

static void
applier_on_up(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct applier_ipc *a = p->arg;

	a->edge = e;
	/* The kernel is the source of truth: dump it to every new planner. */
	if (applier_send_dump(a, &e->link.chan, PA_DUMP_ALL) == -1)
		log_warn("link %s: sending dump", e->link.name);
}

static void
applier_on_down(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct applier_ipc *a = p->arg;
	char text[sizeof(a->violation) + 96];
	const char *drop;

	(void)e;
	/*
	 * A violation found by the decoders has its reason; one found by the
	 * frame layer (header, size, descriptors) is in the daemon's log.
	 */
	drop = a->n_ops || a->rx.in_batch ? "; the open batch is dropped" :
	    "";
	if (a->violation[0] != '\0')
		snprintf(text, sizeof(text), "closed: protocol violation: %s%s",
		    a->violation, drop);
	else
		snprintf(text, sizeof(text), "closed (peer gone, or a frame "
		    "refused: see the log)%s", drop);
	applier_audit_channel(a, text);
	a->violation[0] = '\0';
	a->edge = NULL;
	pa_rx_init(&a->rx);
	a->n_ops = 0;
}

/* The drift check: a full dump to the planner every period. */
static int
applier_on_timer(struct ipc_proc *p, uint64_t now)
{
	struct applier_ipc *a = p->arg;

	if (a->edge == NULL || !a->edge->link.up || a->rx.in_batch)
		return (int)drift_ms(a);
	if (now >= a->next_drift_ms &&
	    applier_send_dump(a, &a->edge->link.chan, PA_DUMP_ALL) == -1)
		log_warn("drift-check dump");
	if (a->next_drift_ms <= now)
		a->next_drift_ms = now + drift_ms(a);
	return (int)(a->next_drift_ms - now);
}

void
applier_ipc_init(struct applier_ipc *a, struct ipc_proc *p,
    const struct applier_conf *conf, struct applier_kernel *k)
{
	memset(a, 0, sizeof(*a));
	pa_rx_init(&a->rx);
	a->conf = conf;
	a->k = k;
	policy_state_init(&a->state);
	a->ipvs_stale = a->sets_stale = 1;
	p->arg = a;
	p->on_msg = applier_on_msg;
	p->on_up = applier_on_up;
	p->on_down = applier_on_down;
	p->on_timer = applier_on_timer;
	ipc_proc_add_edge(p, APPLY_FD_PA, IPC_LINK_PA, IPC_ROLE_PLANNER);
}

void
applier_ipc_free(struct applier_ipc *a)
{
	policy_state_free(&a->state);
	free(a->ops);
	a->ops = NULL;
	a->cap_ops = a->n_ops = 0;
}
