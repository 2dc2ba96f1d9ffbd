/*
 * libFuzzer target: the `ipvsadm -Sn` reader of `kipvs render
 * --current-ipvs`.  Whatever it accepts must render and parse back to the
 * same table.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/plan_ipvsfile.h"
#include "planner/plan_render.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_ipvs_table t, t2;
	char why[128], *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;

	if (plan_ipvsfile_parse((const char *)data, size, &t, why,
	    sizeof(why)) == -1)
		return 0;
	f = open_memstream(&buf, &len);
	plan_render_ipvs(f, &t);
	fclose(f);
	if (plan_ipvsfile_parse(buf, len, &t2, why, sizeof(why)) == -1)
		abort();
	f = open_memstream(&buf2, &len2);
	plan_render_ipvs(f, &t2);
	fclose(f);
	if (len != len2 || memcmp(buf, buf2, len) != 0)
		abort();
	free(buf);
	free(buf2);
	plan_ipvs_table_clear(&t);
	plan_ipvs_table_clear(&t2);
	return 0;
}
