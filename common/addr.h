/*
 * Address helpers shared by every process: strict parsing of configuration
 * and ipvsadm text (the same lexical rules as the watcher's object parser:
 * inet_pton only, no leading zeros, no short forms), canonical formatting,
 * ordering and prefix tests on struct rec_addr / struct rec_prefix.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_COMMON_ADDR_H
#define KIPVS_COMMON_ADDR_H

#include <stddef.h>

#include "ipc/records.h"

/* Big enough for any canonical address text plus "/128". */
#define ADDR_STRLEN	52

/* family 0 accepts either; 0 on success, -1 (why filled) otherwise. */
int	addr_parse(const char *s, int family, struct rec_addr *out,
	    char *why, size_t whylen);
/* "ADDR/LEN"; host bits are cleared. */
int	prefix_parse(const char *s, int family, struct rec_prefix *out,
	    char *why, size_t whylen);

/* Canonical text (RFC 5952 for IPv6, as Go prints it); returns buf. */
const char *addr_fmt(const struct rec_addr *, char *buf, size_t len);
const char *prefix_fmt(const struct rec_prefix *, char *buf,
	    size_t len);

/* IPv4 before IPv6, then numeric. */
int	addr_cmp(const struct rec_addr *, const struct rec_addr *);
int	addr_eq(const struct rec_addr *, const struct rec_addr *);
int	prefix_contains(const struct rec_prefix *,
	    const struct rec_addr *);
int	addr_is_loopback(const struct rec_addr *);
int	addr_is_linklocal6(const struct rec_addr *);
/* 0.0.0.0/0 or ::/0 */
int	prefix_is_zero(const struct rec_prefix *);

#endif /* KIPVS_COMMON_ADDR_H */
