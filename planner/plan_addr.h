/*
 * Transitional: the address helpers moved to common/addr.h so that the
 * configuration parser and the applier share them.  Planner files are
 * switched over once the concurrent planner work has landed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_ADDR_H
#define KIPVS_PLAN_ADDR_H

#include "common/addr.h"

#define PLAN_ADDR_STRLEN	ADDR_STRLEN
#define plan_addr_parse		addr_parse
#define plan_prefix_parse	prefix_parse
#define plan_addr_fmt		addr_fmt
#define plan_prefix_fmt		prefix_fmt
#define plan_addr_cmp		addr_cmp
#define plan_addr_eq		addr_eq
#define plan_prefix_contains	prefix_contains
#define plan_addr_is_loopback	addr_is_loopback
#define plan_addr_is_linklocal6	addr_is_linklocal6
#define plan_prefix_is_zero	prefix_is_zero

#endif /* KIPVS_PLAN_ADDR_H */
