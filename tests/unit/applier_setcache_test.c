/*
 * Unit tests for applierd/applier_setcache (and khash_del under it): the
 * cache's states, member keys that ignore the fields a set kind does not
 * store, add/del/has/count, reload equality with duplicates; the check of
 * a listing's "create" line; and applier_exec sending nothing for an
 * ensure of a present set, an add of a present member, a delete of an
 * absent one and a reload to the same contents (it runs without an ipset
 * handle: any kernel call would crash).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applierd/applier_exec.h"
#include "applierd/applier_khash.h"
#include "applierd/applier_policy.h"
#include "applierd/applier_setcache.h"
#include "tests/tap.h"

static struct ipset_member
M(enum ipset_kind kind, const char *text)
{
	struct ipset_member m;

	memset(&m, 0, sizeof(m));
	if (ipset_member_parse(kind, AF_INET, text, &m) == -1)
		fprintf(stderr, "# cannot parse %s\n", text);
	return m;
}

/* khash_del against a plain array, with many collisions (small keys). */
static int
khash_del_matches_reference(void)
{
	static int ref[4096];
	struct khash h;
	uint32_t key, i;
	int bad = 0;

	khash_init(&h, sizeof(key));
	srand(7);
	for (i = 0; i < 20000; i++) {
		key = (uint32_t)rand() % 4096;
		if (rand() % 3 == 0) {
			if (khash_del(&h, &key) != ref[key])
				bad++;
			ref[key] = 0;
		} else {
			if (khash_put(&h, &key, 1) == -1)
				bad++;
			ref[key] = 1;
		}
	}
	for (key = 0; key < 4096; key++)
		if ((khash_get(&h, &key) != -1) != ref[key])
			bad++;
	for (key = 0, i = 0; key < 4096; key++)
		i += (uint32_t)ref[key];
	if (h.n != i)
		bad++;
	khash_free(&h);
	return bad == 0;
}

int
main(void)
{
	struct setcache c;
	struct setcache_set *e, *np, *lb;
	struct ipset_member m1, m2, junk, list[4];
	struct ipset_spec sp;
	struct applier_kernel k;
	struct policy_state st;
	struct exec_stats xs;
	struct pa_op ops[8];
	struct ap_result res[8];
	long dep[8];
	char audit[8192];
	const char *intent;
	ssize_t n;
	size_t i, lines, nops;
	int p[2], unchanged;

	plan(25);

	ok(khash_del_matches_reference(),
	    "khash_del: 20,000 random puts and deletes agree with an array");

	setcache_init(&c);
	ok(setcache_get(&c, 4, 0) == NULL &&
	    setcache_get(&c, 4, PA_SET_ID_MAX + 1) == NULL &&
	    setcache_get(&c, 5, 1) == NULL, "ids and families out of range");
	e = setcache_get(&c, 4, PA_SET_CLUSTER_IP);
	m1 = M(IPSET_K_HASH_IP_PORT, "10.96.0.1,tcp:443");
	m2 = M(IPSET_K_HASH_IP_PORT, "10.96.0.10,udp:53");
	is(setcache_has(e, &m1), -1, "a new cache knows nothing");
	setcache_add(e, &m1);
	is(setcache_has(e, &m1), -1,
	    "adding to an UNKNOWN set records nothing");
	setcache_absent(e);
	ok(e->state == SETC_ABSENT && setcache_count(e) == 0 &&
	    setcache_has(e, &m1) == -1, "ABSENT: no members known");
	setcache_present(e, IPSET_K_HASH_IP_PORT);
	setcache_add(e, &m1);
	is(setcache_has(e, &m1), 1, "a member added is present");
	is(setcache_has(e, &m2), 0, "another is absent");
	/* Fields hash:ip,port does not store must not matter. */
	junk = m1;
	memset(junk.ip2, 0xa5, sizeof(junk.ip2));
	junk.cidr2 = 17;
	memset(junk.ip + 4, 0x5a, 12);
	is(setcache_has(e, &junk), 1,
	    "fields the kind does not store are ignored");
	junk = m1;
	junk.proto = IPPROTO_UDP;
	is(setcache_has(e, &junk), 0, "the protocol counts for ip,port");
	setcache_add(e, &m1);
	is(setcache_count(e), 1, "adding twice keeps one");
	setcache_add(e, &m2);
	setcache_del(e, &m1);
	ok(setcache_has(e, &m1) == 0 && setcache_has(e, &m2) == 1 &&
	    setcache_count(e) == 1, "delete removes exactly that member");
	setcache_del(e, &m1);
	is(setcache_count(e), 1, "deleting an absent member changes nothing");

	/* Reload equality. */
	list[0] = m2;
	list[1] = m2;
	is(setcache_equals(e, list, 2), 1, "equal contents (with a duplicate)");
	list[1] = m1;
	is(setcache_equals(e, list, 2), 0, "an extra member: not equal");
	is(setcache_equals(e, list, 0), 0, "empty vs one member: not equal");
	setcache_forget(e);
	is(setcache_equals(e, list, 0), 0, "UNKNOWN is never equal");
	setcache_add(NULL, &m1);
	setcache_del(NULL, &m1);
	setcache_present(NULL, IPSET_K_HASH_IP);
	setcache_forget(NULL);
	ok(setcache_has(NULL, &m1) == -1 && setcache_count(NULL) == 0 &&
	    setcache_equals(NULL, list, 0) == 0,
	    "a NULL entry (an id out of range) is never known");
	np = setcache_get(&c, 4, PA_SET_NODE_PORT_TCP);
	setcache_present(np, IPSET_K_BITMAP_PORT);
	is(setcache_equals(np, list, 0), 1, "empty vs empty: equal");

	/* The create line of a listing. */
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.name, sizeof(sp.name), "KUBE-CLUSTER-IP");
	sp.kind = IPSET_K_HASH_IP_PORT;
	sp.family = AF_INET;
	ok(ipset_create_line_matches(&sp, "create KUBE-CLUSTER-IP hash:ip,port "
	    "family inet hashsize 4096 maxelem 65536 bucketsize 12 "
	    "initval 0x1c2d3e4f"), "create line: kube-proxy's set (any hash "
	    "size)");
	ok(!ipset_create_line_matches(&sp, "create KUBE-CLUSTER-IP hash:ip "
	    "family inet hashsize 1024 maxelem 65536") &&
	    !ipset_create_line_matches(&sp, "create KUBE-CLUSTER-IP "
	    "hash:ip,port family inet6 hashsize 1024 maxelem 65536") &&
	    !ipset_create_line_matches(&sp, "create KUBE-CLUSTER-IP "
	    "hash:ip,port family inet hashsize 1024 maxelem 655360"),
	    "create line: another type, family or maxelem does not match");
	snprintf(sp.name, sizeof(sp.name), "KUBE-NODE-PORT-TCP");
	sp.kind = IPSET_K_BITMAP_PORT;
	ok(ipset_create_line_matches(&sp, "create KUBE-NODE-PORT-TCP "
	    "bitmap:port range 0-65535") &&
	    !ipset_create_line_matches(&sp, "create KUBE-NODE-PORT-TCP "
	    "bitmap:port range 0-1023"), "create line: bitmap:port range");

	/*
	 * The executor against a cache that shows every op to be no change:
	 * no ipset handle at all, so a kernel call would crash.
	 */
	memset(&k, 0, sizeof(k));
	k.sets = c;			/* the hashes move with it */
	e = setcache_get(&k.sets, 4, PA_SET_CLUSTER_IP);
	setcache_present(e, IPSET_K_HASH_IP_PORT);
	setcache_add(e, &m1);
	lb = setcache_get(&k.sets, 4, PA_SET_LOAD_BALANCER);
	setcache_present(lb, IPSET_K_HASH_IP_PORT);
	setcache_add(lb, &m2);
	memset(ops, 0, sizeof(ops));
	nops = 0;
	ops[nops].kind = PA_OP_SET_ENSURE;
	ops[nops].u.set.set = PA_SET_CLUSTER_IP;
	ops[nops++].u.set.family = 4;
	ops[nops].kind = PA_OP_SET_ADD;		/* present */
	ops[nops].u.entry.set = PA_SET_CLUSTER_IP;
	ops[nops].u.entry.family = 4;
	exec_member_to_entry(PA_SET_CLUSTER_IP, 4, &m1, &ops[nops++].u.entry);
	ops[nops].kind = PA_OP_SET_DEL;		/* absent */
	exec_member_to_entry(PA_SET_CLUSTER_IP, 4, &m2, &ops[nops++].u.entry);
	ops[nops].kind = PA_OP_SET_RELOAD_BEGIN;
	ops[nops].u.set.set = PA_SET_LOAD_BALANCER;
	ops[nops++].u.set.family = 4;
	ops[nops].kind = PA_OP_SET_ADD;		/* staged, same contents */
	exec_member_to_entry(PA_SET_LOAD_BALANCER, 4, &m2,
	    &ops[nops].u.entry);
	ops[nops++].u.entry.flags = PA_SETF_STAGED;
	ops[nops].kind = PA_OP_SET_RELOAD_COMMIT;
	ops[nops].u.set.set = PA_SET_LOAD_BALANCER;
	ops[nops++].u.set.family = 4;
	for (i = 0; i < nops; i++) {
		ops[i].seq = (uint32_t)i + 1;
		memset(&res[i], 0, sizeof(res[i]));
		res[i].seq = ops[i].seq;
		res[i].status = AP_OK;
		dep[i] = -1;
	}
	dep[4] = 3;			/* staged member -> its reload */
	dep[5] = 3;			/* commit -> begin */
	ok(pipe(p) == 0, "pipe for the audit records");
	k.audit_fd = p[1];
	policy_state_init(&st);
	exec_batch(&k, 42, ops, nops, res, dep, &xs);
	close(p[1]);
	for (i = 0, unchanged = 0; i < nops; i++)
		if (res[i].status == AP_OK &&
		    strcmp(res[i].reason, "unchanged") == 0)
			unchanged++;
	is(unchanged, (int)nops, "ensure, add, delete, reload: all ok, "
	    "\"unchanged\"");
	ok(xs.ipset_sent == 0 && !xs.sets_dirty,
	    "no ipset write counted, nothing to re-list");
	n = read(p[0], audit, sizeof(audit) - 1);
	audit[n > 0 ? n : 0] = '\0';
	for (i = 0, lines = 0; audit[i] != '\0'; i++)
		lines += audit[i] == '\n';
	intent = "\"record\":\"intent\",\"batch\":42,\"seq\":0,\"op\":"
	    "\"batch\",\"object\":\"6 ops, seq 1-6, 0 rejected\"";
	ok(lines == nops + 1 && strchr(audit, ',') != NULL &&
	    strncmp(strchr(audit, ',') + 1, intent, strlen(intent)) == 0 &&
	    strstr(strchr(audit, '\n'), "\"record\":\"intent\"") == NULL,
	    "audit: the intent record first, then one result per op");
	close(p[0]);
	policy_state_free(&st);
	setcache_free(&k.sets);
	return done();
}
