/*
 * libFuzzer target: API objects through the Service, EndpointSlice and
 * Node converters and, when they convert, into the planner's model and
 * the desired state of both families.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "planner/plan_desired.h"
#include "planner/plan_model.h"
#include "watcherd/watch_json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[WATCH_JSON_WHY_MAX];
	struct plan_model *m;
	struct plan_config c;
	struct plan_desired d;
	struct rec_service s;
	struct rec_slice sl;
	struct rec_node nd;
	json_t *j;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return 0;
	m = plan_model_new("node-a");
	if (watch_json_service(j, "kipvs", &s, why, sizeof(why)) ==
	    WATCH_JSON_OK) {
		plan_model_svc_upsert(m, &s);
		/* The slice below may belong to it: same namespace/name. */
		rec_service_clear(&s);
	}
	if (watch_json_slice(j, "kipvs", &sl, why, sizeof(why)) ==
	    WATCH_JSON_OK) {
		plan_model_slice_upsert(m, &sl);
		rec_slice_clear(&sl);
	}
	if (watch_json_node(j, &nd, why, sizeof(why)) == WATCH_JSON_OK)
		plan_model_node_set(m, &nd);
	plan_config_init(&c);
	plan_desired_init(&d, REC_FAMILY_IPV4);
	plan_desired_build(&d, &c, m);
	plan_desired_clear(&d);
	plan_desired_init(&d, REC_FAMILY_IPV6);
	plan_desired_build(&d, &c, m);
	plan_desired_clear(&d);
	plan_model_free(m);
	json_decref(j);
	return 0;
}
