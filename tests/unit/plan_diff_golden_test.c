/*
 * The incremental diff against the full computation, on kipvs's golden
 * cases: the ops plan_diff emits, applied to a simulated kernel, must
 * give exactly the state plan_desired_build() computes from scratch (the
 * state `kipvs render` prints) -- after the first sync, after deleting
 * every other Service and after putting them back.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/addr.h"
#include "planner/plan_diff.h"
#include "planner/plan_render.h"
#include "watcherd/watch_json.h"
#include "tests/tap.h"

/* --- a simulated kernel --------------------------------------------------- */

struct sim {
	struct plan_ipvs_table ipvs;
	char		**lines;	/* "SET ENTRY" and "addr ADDR" */
	size_t		 n;
	size_t		 cap;
};

static struct plan_vs *
sim_vs(struct sim *k, const struct pa_vs_key *pk)
{
	size_t i;

	for (i = 0; i < k->ipvs.n; i++)
		if (addr_eq(&k->ipvs.vs[i].addr, &pk->addr) &&
		    k->ipvs.vs[i].port == pk->port &&
		    k->ipvs.vs[i].proto == pk->protocol)
			return &k->ipvs.vs[i];
	return NULL;
}

static void
sim_line(struct sim *k, const char *line, int add)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->lines[i], line) == 0)
			break;
	if (add && i == k->n) {
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 64;
			k->lines = realloc(k->lines, k->cap * sizeof(char *));
		}
		k->lines[k->n++] = strdup(line);
	} else if (!add && i < k->n) {
		free(k->lines[i]);
		k->lines[i] = k->lines[--k->n];
	}
}

static int
sim_apply(const struct pa_op *op, void *arg)
{
	struct sim *k = arg;
	struct plan_vs *vs, nv;
	struct plan_rs rs;
	struct plan_set_entry e;
	char line[512], buf[256];
	size_t i;

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		vs = sim_vs(k, &op->u.vs.key);
		if (vs == NULL) {
			memset(&nv, 0, sizeof(nv));
			nv.addr = op->u.vs.key.addr;
			nv.port = op->u.vs.key.port;
			nv.proto = op->u.vs.key.protocol;
			plan_ipvs_table_add(&k->ipvs, &nv);
			vs = &k->ipvs.vs[k->ipvs.n - 1];
		}
		memset(vs->sched, 0, sizeof(vs->sched));
		memcpy(vs->sched, op->u.vs.sched, strlen(op->u.vs.sched));
		vs->flags = (op->u.vs.flags & PA_VS_PERSISTENT) ?
		    PLAN_VS_F_PERSISTENT : 0;
		/* What an applier must do: mh implies mh-port. */
		if (strcmp(vs->sched, "mh") == 0)
			vs->flags |= PLAN_VS_F_SCHED2;
		vs->timeout = op->u.vs.timeout;
		vs->netmask = vs->addr.family == REC_FAMILY_IPV4 ?
		    0xffffffffu : 128;
		break;
	case PA_OP_VS_DEL:
		vs = sim_vs(k, &op->u.vs_key);
		if (vs == NULL)
			return 0;
		free(vs->rs);
		*vs = k->ipvs.vs[--k->ipvs.n];
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		vs = sim_vs(k, &op->u.rs.vs);
		if (vs == NULL)
			abort();
		for (i = 0; i < vs->n_rs; i++)
			if (addr_eq(&vs->rs[i].addr, &op->u.rs.addr) &&
			    vs->rs[i].port == op->u.rs.port)
				break;
		if (op->kind == PA_OP_RS_DEL) {
			if (i < vs->n_rs) {
				vs->rs[i] = vs->rs[vs->n_rs - 1];
				vs->n_rs--;
			}
		} else if (i < vs->n_rs)
			vs->rs[i].weight = (int32_t)op->u.rs.weight;
		else {
			memset(&rs, 0, sizeof(rs));
			rs.addr = op->u.rs.addr;
			rs.port = op->u.rs.port;
			rs.weight = (int32_t)op->u.rs.weight;
			rs.fwd = PLAN_FWD_MASQ;
			plan_vs_add_rs(vs, &rs);
		}
		break;
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		memset(&e, 0, sizeof(e));
		e.ip = op->u.entry.addr;
		e.proto = op->u.entry.protocol;
		e.port = op->u.entry.port;
		e.ip2 = op->u.entry.net.addr;
		e.plen = op->u.entry.net.plen;
		snprintf(line, sizeof(line), "%s %s",
		    plan_set_name((enum plan_set)(op->u.entry.set - 1),
		    op->u.entry.family), plan_render_set_entry(&e,
		    plan_sets[op->u.entry.set - 1].type, buf, sizeof(buf)));
		sim_line(k, line, op->kind == PA_OP_SET_ADD);
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		snprintf(line, sizeof(line), "addr %s",
		    addr_fmt(&op->u.addr, buf, sizeof(buf)));
		sim_line(k, line, op->kind == PA_OP_ADDR_ADD);
		break;
	case PA_OP_CHAIN_DROP_VIP:
		snprintf(line, sizeof(line), "drop %s %u",
		    addr_fmt(&op->u.drop_vip.vip.addr, buf, sizeof(buf)),
		    op->u.drop_vip.vip.port);
		sim_line(k, line, 1);
		break;
	case PA_OP_CHAIN_REPLACE:
		if (op->u.chain.chain != PA_CHAIN_FILTER_IPVS_OUT_FILTER)
			break;
		for (i = 0; i < k->n;)
			if (strncmp(k->lines[i], "drop ", 5) == 0) {
				free(k->lines[i]);
				k->lines[i] = k->lines[--k->n];
			} else
				i++;
		break;
	}
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The simulated kernel as text: ipvsadm -Sn, then sorted lines. */
static char *
sim_text(struct sim *k)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	plan_ipvs_table_sort(&k->ipvs);
	plan_render_ipvs(f, &k->ipvs);
	if (k->n > 1)
		qsort(k->lines, k->n, sizeof(char *), str_cmp);
	for (i = 0; i < k->n; i++)
		fprintf(f, "%s\n", k->lines[i]);
	fclose(f);
	return buf;
}

/* The same text from a full computation. */
static char *
full_text(const struct plan_model *m, const struct plan_config *c)
{
	struct plan_desired d[2];
	const struct plan_desired *ds[2];
	struct plan_ipvs_table after;
	struct sim k;
	char line[512], buf[256];
	size_t nd = 0, f, s, i;
	char *text;

	memset(&k, 0, sizeof(k));
	plan_desired_init(&d[0], REC_FAMILY_IPV4);
	plan_desired_init(&d[1], REC_FAMILY_IPV6);
	if (c->ipv4) {
		plan_desired_build(&d[0], c, m);
		ds[nd++] = &d[0];
	}
	if (c->ipv6) {
		plan_desired_build(&d[1], c, m);
		ds[nd++] = &d[1];
	}
	plan_ipvs_after_sync(ds, nd, NULL, c, &after);
	k.ipvs = after;
	for (f = 0; f < nd; f++) {
		for (s = 0; s < PLAN_SET_COUNT; s++)
			for (i = 0; i < ds[f]->sets[s].n; i++) {
				snprintf(line, sizeof(line), "%s %s",
				    plan_set_name((enum plan_set)s,
				    ds[f]->family), plan_render_set_entry(
				    &ds[f]->sets[s].v[i], plan_sets[s].type,
				    buf, sizeof(buf)));
				sim_line(&k, line, 1);
			}
		for (i = 0; i < ds[f]->n_addrs; i++) {
			snprintf(line, sizeof(line), "addr %s",
			    addr_fmt(&ds[f]->addrs[i], buf, sizeof(buf)));
			sim_line(&k, line, 1);
		}
		for (i = 0; i < ds[f]->n_outfilter; i++) {
			snprintf(line, sizeof(line), "drop %s %u",
			    addr_fmt(&ds[f]->outfilter[i].ip, buf,
			    sizeof(buf)), ds[f]->outfilter[i].port);
			sim_line(&k, line, 1);
		}
	}
	text = sim_text(&k);
	plan_ipvs_table_clear(&k.ipvs);
	for (i = 0; i < k.n; i++)
		free(k.lines[i]);
	free(k.lines);
	plan_desired_clear(&d[0]);
	plan_desired_clear(&d[1]);
	return text;
}

/* --- a case: flags and objects -------------------------------------------- */

struct cfgbuf {
	struct plan_config c;
	struct rec_addr	 ips[16];
	struct rec_prefix cidrs[4];
	struct rec_prefix np[8];
};

static void
add_list(const char *list, int prefixes, void *arr, size_t *n, size_t max)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok != NULL && *n < max;
	    tok = strtok_r(NULL, ",", &save)) {
		if (prefixes ? prefix_parse(tok, 0,
		    &((struct rec_prefix *)arr)[*n], NULL, 0) == 0 :
		    addr_parse(tok, 0, &((struct rec_addr *)arr)[*n],
		    NULL, 0) == 0)
			(*n)++;
	}
}

/* Bounded copy: the flags are short; longer ones are cut. */
static void
copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
read_flags(const char *path, struct cfgbuf *cb)
{
	char line[512], prev[64] = "";
	FILE *f = fopen(path, "r");
	struct plan_config *c = &cb->c;

	plan_config_init(c);
	c->ipv4 = c->ipv6 = 1;
	c->node_ips = cb->ips;
	c->cluster_cidrs = cb->cidrs;
	c->nodeport_cidrs = cb->np;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(prev, "--hostname-override") == 0)
			copy(c->node_name, sizeof(c->node_name), line);
		else if (strcmp(prev, "--node-ip") == 0)
			add_list(line, 0, cb->ips, &c->n_node_ips, 16);
		else if (strcmp(prev, "--cluster-cidr") == 0)
			add_list(line, 1, cb->cidrs, &c->n_cluster_cidrs, 4);
		else if (strcmp(prev, "--nodeport-addresses") == 0)
			add_list(line, 1, cb->np, &c->n_nodeport_cidrs, 8);
		else if (strcmp(prev, "--ipvs-scheduler") == 0)
			copy(c->scheduler, sizeof(c->scheduler), line);
		else if (strcmp(prev, "--ip-family") == 0) {
			c->ipv4 = strcmp(line, "ipv6") != 0;
			c->ipv6 = strcmp(line, "ipv4") != 0;
		}
		copy(prev, sizeof(prev), line);
	}
	fclose(f);
}

/* Loads the case's objects; returns the Services' names. */
static size_t
load_objects(const char *path, struct plan_model *m, char names[][2][256],
    size_t max)
{
	char why[WATCH_JSON_WHY_MAX];
	struct rec_service s;
	struct rec_slice sl;
	struct rec_node nd;
	json_t *root, *item;
	const char *kind;
	size_t i, n = 0;

	root = json_load_file(path, 0, NULL);
	json_array_foreach(json_object_get(root, "items"), i, item) {
		kind = json_string_value(json_object_get(item, "kind"));
		if (kind == NULL)
			continue;
		if (strcmp(kind, "Service") == 0 && watch_json_service(item,
		    NULL, &s, why, sizeof(why)) == WATCH_JSON_OK) {
			plan_model_svc_upsert(m, &s);
			if (n < max) {
				snprintf(names[n][0], 256, "%s", s.namespace);
				snprintf(names[n][1], 256, "%s", s.name);
				n++;
			}
			rec_service_clear(&s);
		} else if (strcmp(kind, "EndpointSlice") == 0 &&
		    watch_json_slice(item, NULL, &sl, why, sizeof(why)) ==
		    WATCH_JSON_OK) {
			plan_model_slice_upsert(m, &sl);
			rec_slice_clear(&sl);
		} else if (strcmp(kind, "Node") == 0 && watch_json_node(item,
		    &nd, why, sizeof(why)) == WATCH_JSON_OK)
			plan_model_node_set(m, &nd);
	}
	json_decref(root);
	return n;
}

static int
same(struct sim *k, const struct plan_model *m, const struct plan_config *c,
    const char *what)
{
	char *a = sim_text(k), *b = full_text(m, c);
	int r = strcmp(a, b) == 0;

	ok(r, "%s", what);
	if (!r)
		diag("incremental:\n%s\nfull:\n%s", a, b);
	free(a);
	free(b);
	return r;
}

static void
run_case(const char *dir, const char *name)
{
	char path[1024], label[512], names[64][2][256];
	struct cfgbuf cb;
	struct plan_model *m;
	struct plan_diff *d;
	struct plan_diff_sink sink;
	struct sim k;
	size_t n, i;

	snprintf(path, sizeof(path), "%s/%s/flags", dir, name);
	read_flags(path, &cb);
	m = plan_model_new(cb.c.node_name);
	snprintf(path, sizeof(path), "%s/%s/cluster.json", dir, name);
	n = load_objects(path, m, names, 64);
	memset(&k, 0, sizeof(k));
	d = plan_diff_new(&cb.c);
	sink.emit = sim_apply;
	sink.arg = &k;
	plan_diff_sync(d, m, &sink);
	snprintf(label, sizeof(label), "%s: first sync", name);
	same(&k, m, &cb.c, label);
	for (i = 0; i < n; i += 2)
		plan_model_svc_delete(m, names[i][0], names[i][1]);
	plan_diff_sync(d, m, &sink);
	snprintf(label, sizeof(label), "%s: every other Service deleted",
	    name);
	same(&k, m, &cb.c, label);
	/* The same objects again: only the deleted ones change anything. */
	load_objects(path, m, names, 64);
	plan_diff_sync(d, m, &sink);
	snprintf(label, sizeof(label), "%s: all back", name);
	same(&k, m, &cb.c, label);
	plan_diff_free(d);
	plan_model_free(m);
	plan_ipvs_table_clear(&k.ipvs);
	for (i = 0; i < k.n; i++)
		free(k.lines[i]);
	free(k.lines);
}

int
main(void)
{
	const char *dir = "tests/render/cases";
	char path[1024];
	struct dirent **list;
	int n, i;
	FILE *f;

	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0) {
		skip(1, "no %s (run from the repository root)", dir);
		return done();
	}
	for (i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '1')
			goto next;
		/* Cases starting from a current table are render's own. */
		snprintf(path, sizeof(path), "%s/%s/initial.ipvs", dir,
		    list[i]->d_name);
		if ((f = fopen(path, "r")) != NULL) {
			fclose(f);
			goto next;
		}
		run_case(dir, list[i]->d_name);
next:
		free(list[i]);
	}
	free(list);
	return done();
}
