/*
 * libFuzzer target: the applier's validator.  Each message of the input
 * (fuzz_feed.h framing) is a PA_OPS payload; the ops it decodes to go
 * through policy_batch() as one batch, with the message's flags as the
 * batch flags and its type as the milliseconds since the previous batch.
 * The ops the policy lets through are then "executed" on the policy
 * state, so later batches see the addresses, virtual and real servers
 * the earlier ones made.
 *
 * Whatever policy_batch() accepts must hold the rules of
 * applierd/applier_policy.h when checked independently here: no port 0,
 * no deny-listed VIP or real server, only allow-listed schedulers,
 * persistence timeouts in (0, 86400], node addresses never bound, no
 * virtual server touched that is not kipvs's, no more ops than the cap.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_policy.h"
#include "common/addr.h"
#include "common/log.h"
#include "tests/fuzz/fuzz_feed.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static struct applier_conf conf;

struct run {
	struct policy_state	 s;
	uint64_t		 now;
};

static struct rec_addr
A(const char *s)
{
	struct rec_addr a;
	char why[64];

	if (addr_parse(s, 0, &a, why, sizeof(why)) == -1)
		abort();
	return a;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[64];

	(void)argc;
	(void)argv;
	applier_conf_defaults(&conf);
	conf.apiserver[conf.n_apiserver++] = A("192.168.1.1");
	conf.apiserver[conf.n_apiserver++] = A("2001:db8::1");
	if (prefix_parse("10.250.0.0/16", 0, &conf.kp.exclude_cidrs[0], why,
	    sizeof(why)) == -1)
		abort();
	conf.kp.n_exclude_cidrs = 1;
	/* Small caps so the fuzzer reaches them. */
	conf.mass_delete_min = 4;
	conf.mass_delete_holdoff_ms = 1000;
	conf.max_batch_ops = 2000;
	conf.max_vs = 64;
	conf.max_rs = 256;
	conf.max_addrs = 64;
	return 0;
}

static int
same_addr(const struct rec_addr *a, const struct rec_addr *b)
{
	struct rec_addr x, y;

	policy_addr_key(&x, a);
	policy_addr_key(&y, b);
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/* 1 if an ADDR_ADD of a that the policy accepted comes before op i. */
static int
bound_before(const struct pa_op *ops, const struct ap_result *res, size_t i,
    const struct rec_addr *a)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (ops[j].kind == PA_OP_ADDR_ADD && res[j].status == AP_OK &&
		    same_addr(&ops[j].u.addr, a))
			return 1;
	return 0;
}

static void
check_key(const struct run *r, const struct pa_op *ops,
    const struct ap_result *res, size_t i, const struct pa_vs_key *k)
{
	if (k->port == 0 || policy_addr_denied(&conf, &k->addr) != NULL)
		abort();
	if (!policy_vs_owned(&conf, &r->s, k) &&
	    !bound_before(ops, res, i, &k->addr))
		abort();
}

/* The independent check of one accepted op. */
static void
check_ok(const struct run *r, const struct pa_op *ops,
    const struct ap_result *res, size_t i)
{
	const struct pa_op *op = &ops[i];
	struct policy_state *s = (struct policy_state *)&r->s;
	struct rec_addr k;
	int t;

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		check_key(r, ops, res, i, &op->u.vs.key);
		if (!policy_sched_allowed(op->u.vs.sched))
			abort();
		if ((op->u.vs.flags & PA_VS_PERSISTENT) &&
		    (op->u.vs.timeout == 0 || op->u.vs.timeout > 86400))
			abort();
		break;
	case PA_OP_VS_DEL:
		check_key(r, ops, res, i, &op->u.vs_key);
		break;
	case PA_OP_RS_ENSURE:
		if (op->u.rs.port == 0 ||
		    policy_rs_addr_denied(&op->u.rs.addr) != NULL ||
		    op->u.rs.addr.family != op->u.rs.vs.addr.family)
			abort();
		/* FALLTHROUGH */
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		check_key(r, ops, res, i, &op->u.rs.vs);
		break;
	case PA_OP_ADDR_ADD:
		policy_addr_key(&k, &op->u.addr);
		if (policy_addr_denied(&conf, &op->u.addr) != NULL ||
		    khash_get(&s->node, &k) != -1)
			abort();
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		t = pa_set_type(op->u.entry.set);
		if (t != PA_SETTYPE_HASH_IP && op->u.entry.port == 0)
			abort();
		if (t != PA_SETTYPE_BITMAP_PORT &&
		    (op->u.entry.addr.family != op->u.entry.family ||
		    (op->u.entry.set != PA_SET_LOOP_BACK &&
		    policy_rs_addr_denied(&op->u.entry.addr) != NULL)))
			abort();
		break;
	default:
		break;
	}
}

/* What the executor would leave in the kernel had every accepted op worked. */
static void
execute(struct run *r, const struct pa_op *ops, const struct ap_result *res,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (res[i].status != AP_OK)
			continue;
		switch (ops[i].kind) {
		case PA_OP_ADDR_ADD:
			(void)policy_state_add_addr(&r->s, 1, &ops[i].u.addr);
			break;
		case PA_OP_VS_ENSURE:
			(void)policy_state_add_vs(&r->s, &ops[i].u.vs.key, 0);
			break;
		case PA_OP_RS_ENSURE:
			(void)policy_state_add_rs(&r->s, &ops[i].u.rs);
			break;
		case PA_OP_SET_ADD:
			if (!(ops[i].u.entry.flags & PA_SETF_STAGED) &&
			    ops[i].u.entry.set <= PA_SET_ID_MAX)
				r->s.members[ops[i].u.entry.family == 6]
				    [ops[i].u.entry.set]++;
			break;
		default:
			break;
		}
	}
}

static int
one(const struct frame_msg *m, void *arg)
{
	struct run *r = arg;
	struct pa_op *ops;
	struct ap_result *res;
	const char *reason;
	long *dep, rejected, nrej = 0;
	size_t n, i;

	if (pa_decode_ops(m->payload, m->len, &ops, &n, &reason) == -1)
		return 0;	/* the real receiver closes the channel */
	res = calloc(n, sizeof(*res));
	dep = calloc(n, sizeof(*dep));
	if (res == NULL || dep == NULL)
		abort();
	for (i = 0; i < n; i++) {
		res[i].seq = ops[i].seq;
		res[i].status = AP_OK;
		dep[i] = -1;
	}
	r->now += m->type;
	rejected = policy_batch(&conf, &r->s, m->flags & PA_BATCH_ALL, ops, n,
	    res, dep, r->now);
	if (rejected < 0 || (size_t)rejected > n)
		abort();
	for (i = 0; i < n; i++) {
		if (res[i].seq != ops[i].seq)
			abort();
		if (res[i].status == AP_REJECTED) {
			nrej++;
			if (res[i].err == 0 || res[i].reason[0] == '\0' ||
			    memchr(res[i].reason, '\0',
			    sizeof(res[i].reason)) == NULL)
				abort();
			continue;
		}
		if (res[i].status != AP_OK || dep[i] < -1 || dep[i] >= (long)n)
			abort();
		check_ok(r, ops, res, i);
	}
	if (nrej != rejected || (n > conf.max_batch_ops && nrej != (long)n))
		abort();
	execute(r, ops, res, n);
	free(dep);
	free(res);
	free(ops);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;

	memset(&r, 0, sizeof(r));
	policy_state_init(&r.s);
	/* The kernel as a dump would show it: a node, two VIPs, a VS. */
	{
		static const char *const kube[] = { "10.96.0.1", "10.96.0.10",
		    "fd00:96::1" };
		static const char *const node[] = { "192.168.1.10",
		    "2001:db8::10" };
		struct pa_rs rs;
		size_t i;

		for (i = 0; i < sizeof(kube) / sizeof(kube[0]); i++) {
			struct rec_addr a = A(kube[i]);

			(void)policy_state_add_addr(&r.s, 1, &a);
		}
		for (i = 0; i < sizeof(node) / sizeof(node[0]); i++) {
			struct rec_addr a = A(node[i]);

			(void)policy_state_add_addr(&r.s, 0, &a);
		}
		memset(&rs, 0, sizeof(rs));
		rs.vs.addr = A("10.96.0.1");
		rs.vs.protocol = REC_PROTO_TCP;
		rs.vs.port = 443;
		rs.addr = A("192.168.1.1");
		rs.port = 6443;
		rs.weight = 1;
		(void)policy_state_add_vs(&r.s, &rs.vs, 1);
		(void)policy_state_add_rs(&r.s, &rs);
		r.s.members[0][PA_SET_CLUSTER_IP] = 1;
		r.s.link = 1;
	}
	fuzz_feed(data, size, one, &r);
	policy_state_free(&r.s);
	return 0;
}
