/*
 * applier_cleanup: remove what kipvs owns, and only that.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_audit.h"
#include "applierd/applier_cleanup.h"
#include "applierd/applier_dump.h"
#include "applierd/applier_ipset.h"
#include "applierd/applier_ipt.h"
#include "applierd/applier_ipvs.h"
#include "common/log.h"

struct cleanup {
	struct applier_kernel	*k;
	uint64_t		 seq;
	int			 failed;
	size_t			 n_vs;		/* owned VS removed */
	struct ipvs_op		*ops;
	size_t			 n, cap;
};

static void
cleanup_audit(struct cleanup *cl, const char *op, const char *obj, int err,
    const char *text)
{
	struct audit_rec a;

	memset(&a, 0, sizeof(a));
	a.batch = 0;
	a.seq = ++cl->seq;
	a.op = op;
	a.object = obj;
	a.err = err;
	a.text = text != NULL && text[0] != '\0' ? text : NULL;
	if (err != 0) {
		cl->failed = 1;
		log_warnx("cleanup: %s %s: %s", op, obj,
		    text && text[0] ? text : strerror(err));
	}
	if (cl->k->audit_fd >= 0 && audit_write(cl->k->audit_fd, &a) == -1)
		log_warn("audit");
}

static int
cleanup_vs_cb(const struct ipvs_svc *svc, const struct ipvs_dest *d,
    size_t n, void *arg)
{
	struct cleanup *cl = arg;
	struct ipvs_op *grown;

	(void)d;
	(void)n;
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 256;
		if ((grown = reallocarray(cl->ops, cl->cap,
		    sizeof(*grown))) == NULL)
			return -1;
		cl->ops = grown;
	}
	memset(&cl->ops[cl->n], 0, sizeof(cl->ops[0]));
	cl->ops[cl->n].kind = IPVS_OP_SVC_DEL;
	cl->ops[cl->n].svc = *svc;
	cl->n++;
	return 0;
}

static void
cleanup_ipvs(struct cleanup *cl, const struct applier_conf *c,
    struct policy_state *s)
{
	struct pa_vs vs;
	char obj[128];
	size_t i;

	if (cl->k->ipvs == NULL)
		return;
	if (ipvs_dump(cl->k->ipvs, cleanup_vs_cb, cl) != 0) {
		cleanup_audit(cl, "cleanup_ipvs", "dump", errno, NULL);
		return;
	}
	/* Keep only the owned ones; the others are not even looked at. */
	for (i = 0; i < cl->n; ) {
		if (exec_svc_to_vs(&cl->ops[i].svc, &vs) == 0 &&
		    vs.key.port != 0 && policy_vs_owned(c, s, &vs.key)) {
			i++;
			continue;
		}
		cl->ops[i] = cl->ops[--cl->n];
	}
	if (cl->n > 0)
		(void)ipvs_batch(cl->k->ipvs, cl->ops, cl->n);
	for (i = 0; i < cl->n; i++) {
		cleanup_audit(cl, "vs_del", ipvs_svc_str(&cl->ops[i].svc, obj,
		    sizeof(obj)), cl->ops[i].err, NULL);
		if (cl->ops[i].err == 0)
			cl->n_vs++;
	}
	free(cl->ops);
	cl->ops = NULL;
	cl->n = cl->cap = 0;
}

static void
cleanup_ipt(struct cleanup *cl, int f)
{
	struct ipt_handle *h = cl->k->ipt[f == AF_INET6];
	struct ipt_kube_jump jumps[16];
	const char *const *c;
	char obj[64];
	size_t i, nj;
	int t, commits = 0;

	snprintf(obj, sizeof(obj), "IPv%d KUBE chains and jumps",
	    f == AF_INET6 ? 6 : 4);
	if (ipt_begin(h) == -1)
		goto fail;
	nj = ipt_kube_jumps(jumps, sizeof(jumps) / sizeof(jumps[0]));
	for (i = 0; i < nj; i++)
		if (ipt_jump_remove(h, jumps[i].table, jumps[i].from,
		    &jumps[i].rule) == -1)
			goto abort;
	/* Flush every owned chain first: they jump to each other. */
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_exists(h, t, *c) == 1 &&
			    ipt_chain_replace(h, t, *c, NULL, 0) == -1)
				goto abort;
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_remove(h, t, *c) == -1)
				goto abort;
	if (ipt_commit(h, &commits) == -1)
		goto fail;
	cleanup_audit(cl, "chains_remove", obj, 0, commits ? NULL :
	    "ok: unchanged");
	return;
abort:
	{
		int err = errno;

		cleanup_audit(cl, "chains_remove", obj, err,
		    ipt_last_error(h));
		ipt_abort(h);
	}
	return;
fail:
	cleanup_audit(cl, "chains_remove", obj, errno, ipt_last_error(h));
}

static void
cleanup_sets(struct cleanup *cl)
{
	const char *name;
	uint8_t id;
	int f;

	for (f = 4; f <= 6; f += 2)
		for (id = 1; id <= PA_SET_ID_MAX; id++) {
			if ((name = pa_set_name(id, (uint8_t)f)) == NULL)
				continue;
			if (ipset_set_destroy(cl->k->ipset, name) == -1)
				cleanup_audit(cl, "set_destroy", name, errno,
				    ipset_last_error(cl->k->ipset));
			else
				cleanup_audit(cl, "set_destroy", name, 0, NULL);
		}
	if (ipset_set_destroy(cl->k->ipset, IPSET_TMP_NAME) == -1)
		cleanup_audit(cl, "set_destroy", IPSET_TMP_NAME, errno,
		    ipset_last_error(cl->k->ipset));
}

int
applier_cleanup(struct applier_kernel *k, const struct applier_conf *c)
{
	struct policy_state s;
	struct cleanup cl;

	memset(&cl, 0, sizeof(cl));
	cl.k = k;
	policy_state_init(&s);
	/* A crash part-way leaves this without all its result records. */
	if (k->audit_fd >= 0) {
		struct audit_rec a;

		memset(&a, 0, sizeof(a));
		a.record = "intent";
		a.op = "cleanup";
		a.object = "owned virtual servers, chains and jumps, sets, "
		    ADDR_KUBE_LINK;
		a.text = "executing";
		if (audit_write(k->audit_fd, &a) == -1)
			log_warn("audit");
	}
	/* Ownership is judged on the addresses: read them first. */
	if (dump_kernel(k, c, &s, 0, NULL) == -1)
		cleanup_audit(&cl, "cleanup", "address dump", errno, NULL);
	else
		cleanup_ipvs(&cl, c, &s);
	cleanup_ipt(&cl, AF_INET);
	cleanup_ipt(&cl, AF_INET6);
	cleanup_sets(&cl);
	if (addr_link_remove(k->addr) == -1)
		cleanup_audit(&cl, "link_remove", ADDR_KUBE_LINK, errno, NULL);
	else
		cleanup_audit(&cl, "link_remove", ADDR_KUBE_LINK, 0, NULL);
	policy_state_free(&s);
	if (cl.failed)
		log_warnx("cleanup incomplete: the steps above failed; "
		    "everything else kipvs owns was removed");
	else
		log_info("cleanup done: %zu virtual servers, the KUBE chains "
		    "and jump rules, the KUBE sets and %s removed; nothing "
		    "else touched", cl.n_vs, ADDR_KUBE_LINK);
	return cl.failed;
}
