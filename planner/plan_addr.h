/*
 * Address helpers of the planner: strict parsing of configuration and
 * ipvsadm text (the same lexical rules as the watcher's object parser:
 * inet_pton only, no leading zeros, no short forms), canonical formatting,
 * ordering and prefix tests on struct rec_addr / struct rec_prefix.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_ADDR_H
#define KIPVS_PLAN_ADDR_H

#include <stddef.h>

#include "ipc/records.h"

/* Big enough for any canonical address text plus "/128". */
#define PLAN_ADDR_STRLEN	52

/* family 0 accepts either; 0 on success, -1 (why filled) otherwise. */
int	plan_addr_parse(const char *s, int family, struct rec_addr *out,
	    char *why, size_t whylen);
/* "ADDR/LEN"; host bits are cleared. */
int	plan_prefix_parse(const char *s, int family, struct rec_prefix *out,
	    char *why, size_t whylen);

/* Canonical text (RFC 5952 for IPv6, as Go prints it); returns buf. */
const char *plan_addr_fmt(const struct rec_addr *, char *buf, size_t len);
const char *plan_prefix_fmt(const struct rec_prefix *, char *buf,
	    size_t len);

/* IPv4 before IPv6, then numeric. */
int	plan_addr_cmp(const struct rec_addr *, const struct rec_addr *);
int	plan_addr_eq(const struct rec_addr *, const struct rec_addr *);
int	plan_prefix_contains(const struct rec_prefix *,
	    const struct rec_addr *);
int	plan_addr_is_loopback(const struct rec_addr *);
int	plan_addr_is_linklocal6(const struct rec_addr *);
/* 0.0.0.0/0 or ::/0 */
int	plan_prefix_is_zero(const struct rec_prefix *);

#endif /* KIPVS_PLAN_ADDR_H */
