/*
 * A reader for `ipvsadm -Sn` text (the node's IPVS table before a sync,
 * for `kipvs render --current-ipvs`).  The input is untrusted: every line
 * is bounded, every number range-checked, every address parsed strictly,
 * and the whole table is capped; an error names the line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_IPVSFILE_H
#define KIPVS_PLAN_IPVSFILE_H

#include <stddef.h>

#include "planner/plan_desired.h"

#define PLAN_IPVSFILE_MAX_LINE	1024
#define PLAN_IPVSFILE_MAX_VS	100000
#define PLAN_IPVSFILE_MAX_RS	1000000

/*
 * Parses len bytes of text (need not be NUL-terminated) into out, which
 * must be empty.  0 on success; -1 with "line N: reason" in why and out
 * left empty.
 */
int	plan_ipvsfile_parse(const char *text, size_t len,
	    struct plan_ipvs_table *out, char *why, size_t whylen);

#endif /* KIPVS_PLAN_IPVSFILE_H */
