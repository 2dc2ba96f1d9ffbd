/*
 * Seeds for applier_policy_fuzz: the ops the planner's diff really sends
 * for one of the render cases (tests/render/cases/NAME/{flags,
 * cluster.json}), in the fuzzer's framing (fuzz_feed.h): a cold-start
 * sync, then the sync after every other Service is deleted.  Each message
 * is one PA_OPS payload of at most PA_OPS_SEED_MAX bytes.
 *
 *	gen_policy_seeds CASE_DIR OUT_FILE
 *
 * Built and run by tests/fuzz/gen-seeds.sh; not part of any daemon.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/addr.h"
#include "planner/plan_diff.h"
#include "watcherd/watch_json.h"

#define PA_OPS_SEED_MAX	4000

struct out {
	FILE		*f;
	uint8_t		 buf[PA_OPS_SEED_MAX];
	size_t		 len;		/* after the u16 count */
	uint16_t	 n;
	uint32_t	 seq;
	uint8_t		 flags;
};

static void
flush(struct out *o)
{
	uint8_t hdr[5] = { 50, 0, 0, 0, 0 };

	if (o->n == 0)
		return;
	o->buf[0] = (uint8_t)(o->n & 0xff);
	o->buf[1] = (uint8_t)(o->n >> 8);
	hdr[2] = o->flags;
	hdr[3] = (uint8_t)(o->len & 0xff);
	hdr[4] = (uint8_t)(o->len >> 8);
	fwrite(hdr, 1, sizeof(hdr), o->f);
	fwrite(o->buf, 1, o->len, o->f);
	o->n = 0;
	o->len = 2;
}

static int
emit(const struct pa_op *op, void *arg)
{
	struct out *o = arg;
	struct pa_op c = *op;
	uint8_t one[512];
	long n;

	c.seq = ++o->seq;
	if ((n = pa_encode_op(&c, one, sizeof(one))) < 0) {
		fprintf(stderr, "gen_policy_seeds: an op does not encode\n");
		exit(1);
	}
	if (o->len + (size_t)n > sizeof(o->buf))
		flush(o);
	memcpy(o->buf + o->len, one, (size_t)n);
	o->len += (size_t)n;
	o->n++;
	return 0;
}

static void
read_flags(const char *path, struct plan_config *c, struct rec_addr *ips)
{
	char line[512], prev[64] = "", *tok, *save = NULL;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(prev, "--hostname-override") == 0)
			snprintf(c->node_name, sizeof(c->node_name), "%s",
			    line);
		else if (strcmp(prev, "--node-ip") == 0)
			for (tok = strtok_r(line, ",", &save); tok != NULL &&
			    c->n_node_ips < 8; tok = strtok_r(NULL, ",", &save))
				if (addr_parse(tok, 0, &ips[c->n_node_ips],
				    NULL, 0) == 0)
					c->n_node_ips++;
		else if (strcmp(prev, "--ipvs-scheduler") == 0)
			snprintf(c->scheduler, sizeof(c->scheduler), "%s",
			    line);
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
}

int
main(int argc, char *argv[])
{
	static struct out o;
	char path[4096], why[WATCH_JSON_WHY_MAX];
	struct plan_diff_sink sink = { emit, &o };
	struct plan_config c;
	struct rec_addr ips[8];
	struct plan_model *m;
	struct plan_diff *d;
	struct rec_service s;
	struct rec_slice sl;
	struct rec_node nd;
	json_t *root, *item;
	const char *kind;
	size_t i, nsvc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: gen_policy_seeds CASE_DIR OUT\n");
		return 2;
	}
	plan_config_init(&c);
	c.ipv4 = c.ipv6 = 1;
	c.node_ips = ips;
	snprintf(c.node_name, sizeof(c.node_name), "node-a");
	snprintf(path, sizeof(path), "%s/flags", argv[1]);
	read_flags(path, &c, ips);
	snprintf(path, sizeof(path), "%s/cluster.json", argv[1]);
	if ((root = json_load_file(path, 0, NULL)) == NULL)
		return 1;
	m = plan_model_new(c.node_name);
	json_array_foreach(json_object_get(root, "items"), i, item) {
		kind = json_string_value(json_object_get(item, "kind"));
		if (kind == NULL)
			continue;
		if (strcmp(kind, "Service") == 0 && watch_json_service(item,
		    NULL, &s, why, sizeof(why)) == WATCH_JSON_OK) {
			plan_model_svc_upsert(m, &s);
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
	if ((o.f = fopen(argv[2], "w")) == NULL)
		return 1;
	o.len = 2;
	o.flags = PA_BATCH_FULL;
	d = plan_diff_new(&c);
	if (plan_diff_sync(d, m, &sink) < 0)
		return 1;
	flush(&o);
	/* Every other Service goes away. */
	json_array_foreach(json_object_get(root, "items"), i, item) {
		const char *ns, *name;

		kind = json_string_value(json_object_get(item, "kind"));
		ns = json_string_value(json_object_get(json_object_get(item,
		    "metadata"), "namespace"));
		name = json_string_value(json_object_get(json_object_get(item,
		    "metadata"), "name"));
		if (kind != NULL && strcmp(kind, "Service") == 0 &&
		    ns != NULL && name != NULL && nsvc++ % 2 == 0)
			plan_model_svc_delete(m, ns, name);
	}
	o.flags = 0;
	if (plan_diff_sync(d, m, &sink) < 0)
		return 1;
	flush(&o);
	if (fclose(o.f) != 0)
		return 1;
	plan_diff_free(d);
	plan_model_free(m);
	json_decref(root);
	return 0;
}
