/*
 * Text forms of the desired kernel state, as the standard tools print
 * them, for `kipvs render` and the golden tests:
 *
 *	ipvs		`ipvsadm -Sn`
 *	ipset		`ipset save` (the seventeen sets of each family)
 *	iptables	`iptables-save` / `ip6tables-save` of kipvs's chains
 *			and the jump rules into them (nat, then filter)
 *	addresses	the kube-ipvs0 addresses, one ADDR/PREFIX per line
 *
 * Output is deterministic: every list is sorted before it is written.
 * Each function returns 0, or -1 if writing failed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_RENDER_H
#define KIPVS_PLAN_RENDER_H

#include <stdio.h>

#include "planner/plan_desired.h"

/* The table must be sorted (plan_ipvs_table_sort). */
int	plan_render_ipvs(FILE *, const struct plan_ipvs_table *);
int	plan_render_ipset(FILE *, const struct plan_desired *);
int	plan_render_iptables(FILE *, const struct plan_desired *,
	    const struct plan_config *);
int	plan_render_addresses(FILE *, const struct plan_desired *);

/* One ipset entry as `ipset save` prints it (no set name). */
const char *plan_render_set_entry(const struct plan_set_entry *,
	    uint8_t settype, char *buf, size_t len);

#endif /* KIPVS_PLAN_RENDER_H */
