/*
 * Unit tests for applierd/applier_policy: the address deny-list, the
 * scheduler allow-list, the ownership rule, values, prerequisites, size
 * caps and the mass-deletion guard with its hold-off.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "applierd/applier_policy.h"
#include "common/addr.h"
#include "tests/tap.h"

static struct rec_addr
A(const char *s)
{
	struct rec_addr a;
	char why[64];

	if (addr_parse(s, 0, &a, why, sizeof(why)) == -1) {
		memset(&a, 0, sizeof(a));
		a.family = 6;
		(void)inet_pton(AF_INET6, s, a.addr);
	}
	return a;
}

static struct pa_op ops[64];
static struct ap_result res[64];
static long dep[64];
static size_t nops;

static struct pa_op *
op(uint8_t kind)
{
	struct pa_op *o = &ops[nops];

	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->seq = (uint32_t)++nops;
	return o;
}

static struct pa_op *
vs(const char *addr, uint16_t port, const char *sched)
{
	struct pa_op *o = op(PA_OP_VS_ENSURE);

	o->u.vs.key.addr = A(addr);
	o->u.vs.key.protocol = REC_PROTO_TCP;
	o->u.vs.key.port = port;
	snprintf(o->u.vs.sched, sizeof(o->u.vs.sched), "%s", sched);
	return o;
}

static struct pa_op *
rs(uint8_t kind, uint16_t vport, const char *addr)
{
	struct pa_op *o = op(kind);

	o->u.rs.vs.addr = A("10.96.0.7");
	o->u.rs.vs.protocol = REC_PROTO_TCP;
	o->u.rs.vs.port = vport;
	o->u.rs.addr = A(addr);
	o->u.rs.port = 8080;
	o->u.rs.weight = 1;
	return o;
}

/* The state after a batch, from its results (no kernel re-read). */
static void
state_from_results(void)
{
	struct policy_state s;
	struct pa_vs_key k;
	size_t i;
	int rc;

	policy_state_init(&s);
	nops = 0;
	vs("10.96.0.7", 80, "rr");
	rs(PA_OP_RS_ENSURE, 80, "10.128.0.1");
	rs(PA_OP_RS_ENSURE, 80, "10.128.0.2");
	vs("10.96.0.7", 81, "rr");
	rs(PA_OP_RS_ENSURE, 81, "10.128.0.1");
	rs(PA_OP_RS_ENSURE, 81, "10.128.0.9");	/* failed: not there */
	for (i = 0; i < nops; i++)
		res[i].status = AP_OK;
	res[5].status = AP_FAILED;
	rc = policy_state_apply(&s, ops, res, nops);
	ok(rc == 0 && s.vs.n == 2 &&
	    s.rs.n == 3, "ensures: 2 virtual, 3 real servers (%zu, %zu)",
	    s.vs.n, s.rs.n);
	memset(&k, 0, sizeof(k));
	k.addr = A("10.96.0.7");
	k.protocol = REC_PROTO_TCP;
	k.port = 80;
	is(khash_get(&s.vs, &k), 2, "the virtual server counts its 2 real "
	    "servers");
	/* Again: nothing is counted twice. */
	ok(policy_state_apply(&s, ops, res, nops) == 0 && s.rs.n == 3 &&
	    khash_get(&s.vs, &k) == 2, "an ensure of what is there changes "
	    "nothing");
	nops = 0;
	rs(PA_OP_RS_DEL, 80, "10.128.0.2");
	rs(PA_OP_RS_DEL, 80, "10.128.0.3");	/* was not there */
	op(PA_OP_VS_DEL)->u.vs_key = ops[0].u.rs.vs;
	ops[2].u.vs_key.port = 81;	/* and its real server */
	for (i = 0; i < nops; i++)
		res[i].status = AP_OK;
	rc = policy_state_apply(&s, ops, res, nops);
	ok(rc == 0 && s.vs.n == 1 &&
	    s.rs.n == 1 && khash_get(&s.vs, &k) == 1, "a delete and a "
	    "virtual server with its real servers gone: %zu, %zu", s.vs.n,
	    s.rs.n);
	policy_state_free(&s);
}

static long
run(const struct applier_conf *c, struct policy_state *s, uint32_t flags,
    uint64_t now)
{
	size_t i;

	for (i = 0; i < nops; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].seq = ops[i].seq;
		dep[i] = -1;
	}
	return policy_batch(c, s, flags, ops, nops, res, dep, now);
}

int
main(void)
{
	static struct applier_conf c;
	struct policy_state s;
	struct rec_addr a;
	struct pa_op *o;
	char why[64];
	long r;
	int i;

	plan(51);
	applier_conf_defaults(&c);
	c.apiserver[c.n_apiserver++] = A("10.96.0.250");
	(void)prefix_parse("10.250.0.0/16", 0, &c.kp.exclude_cidrs[0], why,
	    sizeof(why));
	c.kp.n_exclude_cidrs = 1;
	c.mass_delete_min = 5;
	c.mass_delete_holdoff_ms = 1000;

	/* Deny-list. */
	{
		static const char *const deny[] = { "127.0.0.1", "0.0.0.0",
		    "169.254.169.254", "224.0.0.1", "255.255.255.255", "::1",
		    "::", "fe80::1", "ff02::1", "::ffff:10.0.0.1",
		    "10.96.0.250" };

		for (i = 0; i < (int)(sizeof(deny) / sizeof(deny[0])); i++) {
			a = A(deny[i]);
			ok(policy_addr_denied(&c, &a) != NULL, "%s is denied "
			    "(%s)", deny[i], policy_addr_denied(&c, &a));
		}
	}
	a = A("10.96.0.1");
	ok(policy_addr_denied(&c, &a) == NULL, "10.96.0.1 may be a VIP");
	a = A("fd00::1");
	ok(policy_addr_denied(&c, &a) == NULL, "fd00::1 may be a VIP");
	a = A("10.96.0.250");
	ok(policy_rs_addr_denied(&a) == NULL, "the apiserver may be a real "
	    "server (the kubernetes Service)");
	a = A("::ffff:127.0.0.1");
	ok(policy_rs_addr_denied(&a) != NULL, "::ffff:127.0.0.1 is no real "
	    "server (%s)", policy_rs_addr_denied(&a));
	a = A("::ffff:10.244.1.5");
	ok(policy_rs_addr_denied(&a) != NULL, "nor any IPv4-mapped address");
	ok(policy_sched_allowed("mh") && policy_sched_allowed("lblcr") &&
	    !policy_sched_allowed("fo") && !policy_sched_allowed(""),
	    "scheduler allow-list");

	policy_state_init(&s);
	a = A("10.96.0.1");
	policy_state_add_addr(&s, 1, &a);
	a = A("192.0.2.10");
	policy_state_add_addr(&s, 0, &a);

	nops = 0;
	vs("10.96.0.1", 443, "rr");					/* 0 */
	o = op(PA_OP_RS_ENSURE);					/* 1 */
	o->u.rs.vs = ops[0].u.vs.key;
	o->u.rs.addr = A("10.244.1.5");
	o->u.rs.port = 6443;
	o->u.rs.weight = 1;
	vs("192.0.2.10", 8080, "rr");					/* 2 */
	vs("192.0.2.10", 30080, "rr");					/* 3 */
	vs("10.96.0.1", 0, "rr");					/* 4 */
	vs("10.96.0.1", 444, "foo");					/* 5 */
	o = vs("10.96.0.1", 445, "rr");					/* 6 */
	o->u.vs.flags = PA_VS_PERSISTENT;
	o = vs("10.96.0.1", 446, "rr");					/* 7 */
	o->u.vs.flags = PA_VS_PERSISTENT;
	o->u.vs.timeout = 86401;
	o = vs("10.96.0.1", 447, "rr");					/* 8 */
	o->u.vs.flags = PA_VS_PERSISTENT;
	o->u.vs.timeout = 86400;
	o = op(PA_OP_ADDR_ADD);						/* 9 */
	o->u.addr = A("10.96.0.5");
	vs("10.96.0.5", 80, "rr");					/* 10 */
	vs("203.0.113.5", 80, "rr");					/* 11 */
	o = op(PA_OP_VS_DEL);						/* 12 */
	o->u.vs_key = ops[11].u.vs.key;
	o = op(PA_OP_ADDR_ADD);						/* 13 */
	o->u.addr = A("192.0.2.10");
	vs("10.250.0.1", 80, "rr");					/* 14 */
	o = op(PA_OP_RS_ENSURE);					/* 15 */
	o->u.rs.vs = ops[0].u.vs.key;
	o->u.rs.addr = A("127.0.0.1");
	o->u.rs.port = 80;
	o = vs("10.96.0.1", 448, "rr");					/* 16 */
	o->u.vs.flags = PA_VS_SCHED_PORT;
	o = op(PA_OP_CHAIN_REPLACE);					/* 17 */
	o->u.chain.family = 4;
	o->u.chain.chain = PA_CHAIN_NAT_SERVICES;
	o->u.chain.masq_bit = 13;
	o = op(PA_OP_CHAIN_DROP_VIP);					/* 18 */
	o->u.drop_vip.family = 4;
	o->u.drop_vip.vip.addr = A("203.0.113.9");
	o->u.drop_vip.vip.protocol = REC_PROTO_TCP;
	o->u.drop_vip.vip.port = 80;
	o = op(PA_OP_SET_ADD);						/* 19 */
	o->u.entry.set = PA_SET_CLUSTER_IP;
	o->u.entry.family = 4;
	o->u.entry.flags = PA_SETF_STAGED;
	o->u.entry.addr = A("10.96.0.1");
	o->u.entry.protocol = REC_PROTO_TCP;
	o->u.entry.port = 443;

	r = run(&c, &s, 0, 1000);
	is(res[0].status, AP_OK, "VS on a kube-ipvs0 address: ok");
	ok(res[1].status == AP_OK && dep[1] == 0, "its RS: ok, depends on "
	    "op 1");
	ok(res[2].status == AP_REJECTED && res[2].err == EPERM,
	    "node address outside the NodePort range: %s", res[2].reason);
	is(res[3].status, AP_OK, "node address, NodePort: ok");
	ok(res[4].status == AP_REJECTED && res[4].err == EINVAL, "port 0: %s",
	    res[4].reason);
	ok(res[5].status == AP_REJECTED, "scheduler foo: %s", res[5].reason);
	ok(res[6].status == AP_REJECTED, "persistence 0: %s", res[6].reason);
	ok(res[7].status == AP_REJECTED, "persistence 86401: %s",
	    res[7].reason);
	is(res[8].status, AP_OK, "persistence 86400: ok");
	is(res[9].status, AP_OK, "binding a new VIP: ok");
	ok(res[10].status == AP_OK && dep[10] == 9, "VS on it: ok, depends "
	    "on the bind");
	ok(res[11].status == AP_REJECTED, "VS on a foreign address: %s",
	    res[11].reason);
	ok(res[12].status == AP_REJECTED, "deleting a foreign VS: %s",
	    res[12].reason);
	ok(res[13].status == AP_REJECTED, "binding a node address: %s",
	    res[13].reason);
	ok(res[14].status == AP_REJECTED, "inside the exclude CIDRs: %s",
	    res[14].reason);
	ok(res[15].status == AP_REJECTED, "loopback real server: %s",
	    res[15].reason);
	ok(res[16].status == AP_REJECTED, "port flag with rr: %s",
	    res[16].reason);
	ok(res[17].status == AP_REJECTED, "masquerade bit not configured: "
	    "%s", res[17].reason);
	ok(res[18].status == AP_REJECTED, "drop-VIP without its chain: %s",
	    res[18].reason);
	ok(res[19].status == AP_REJECTED, "staged member without a reload: "
	    "%s", res[19].reason);
	is(r, 14, "14 rejected");

	/* Caps. */
	c.max_batch_ops = 3;
	r = run(&c, &s, 0, 1000);
	ok(r == (long)nops && res[0].err == E2BIG, "batch over the op cap: "
	    "all rejected");
	c.max_batch_ops = 100;
	c.max_vs = 1;
	nops = 0;
	vs("10.96.0.1", 1, "rr");
	vs("10.96.0.1", 2, "rr");
	run(&c, &s, 0, 1000);
	ok(res[0].status == AP_OK && res[1].status == AP_REJECTED &&
	    res[1].err == ENOSPC, "virtual-server cap: %s", res[1].reason);
	c.max_vs = 100000;

	/* Mass deletion: 10 VS with 2 RS each = 31 owned with the VIP. */
	for (i = 0; i < 10; i++) {
		struct pa_vs_key k;

		memset(&k, 0, sizeof(k));
		k.addr = A("10.96.0.1");
		k.protocol = REC_PROTO_TCP;
		k.port = (uint16_t)(100 + i);
		policy_state_add_vs(&s, &k, 2);
	}
	nops = 0;
	for (i = 0; i < 10; i++) {
		o = op(PA_OP_VS_DEL);
		o->u.vs_key.addr = A("10.96.0.1");
		o->u.vs_key.protocol = REC_PROTO_TCP;
		o->u.vs_key.port = (uint16_t)(100 + i);
	}
	r = run(&c, &s, 0, 5000);
	ok(r == 10 && res[0].err == ECANCELED, "mass deletion refused: %s",
	    res[0].reason);
	r = run(&c, &s, PA_BATCH_CONFIRMED, 5500);
	ok(r == 10 && strstr(res[0].reason, "hold-off") != NULL,
	    "confirmed within the hold-off: refused");
	r = run(&c, &s, PA_BATCH_CONFIRMED, 6000);
	is(r, 0, "confirmed after the hold-off: accepted");
	r = run(&c, &s, 0, 7000);
	is(r, 10, "the next unconfirmed one is refused again");
	nops = 1;	/* 3 objects: under --mass-delete-min */
	r = run(&c, &s, 0, 7000);
	is(r, 0, "a small deletion passes");

	/* Deleting an address: kube-ipvs0's may go, another link's not. */
	nops = 0;
	o = op(PA_OP_ADDR_DEL);
	o->u.addr = A("192.0.2.10");
	o = op(PA_OP_ADDR_DEL);
	o->u.addr = A("10.96.0.1");
	r = run(&c, &s, 0, 1000);
	ok(res[0].status == AP_REJECTED && res[0].err == EPERM,
	    "deleting another link's address: %s", res[0].reason);
	is(res[1].status, AP_OK, "deleting a kube-ipvs0 address: ok");
	policy_state_free(&s);
	state_from_results();
	return done();
}
