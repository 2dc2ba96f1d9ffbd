/*
 * applier_ipset: kube-proxy's ipsets through libipset's session API (no
 * exec of ipset(8)).  Sets are ensured with "-exist" semantics, members are
 * added and deleted in aggregated netlink messages (libipset's restore
 * path), and a large set is reloaded by filling a temporary set and swapping
 * it in, so packets never see a half-filled set.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_IPSET_H
#define KIPVS_APPLIER_IPSET_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define IPSET_NAME_MAX	32	/* IPSET_MAXNAMELEN, with the NUL */
#define IPSET_TMP_NAME	"KIPVS-RELOAD-TMP"

/* The set types kube-proxy's IPVS mode uses. */
enum ipset_kind {
	IPSET_K_HASH_IP = 1,		/* KUBE-IPVS-IPS */
	IPSET_K_HASH_IP_PORT,		/* KUBE-CLUSTER-IP, ... */
	IPSET_K_HASH_IP_PORT_IP,	/* KUBE-LOOP-BACK, ...-SOURCE-IP */
	IPSET_K_HASH_IP_PORT_NET,	/* KUBE-LOAD-BALANCER-SOURCE-CIDR */
	IPSET_K_BITMAP_PORT,		/* KUBE-NODE-PORT-TCP, ... */
};

struct ipset_spec {
	char		 name[IPSET_NAME_MAX];
	enum ipset_kind	 kind;
	int		 family;	/* AF_INET or AF_INET6 (hash types) */
	uint32_t	 hashsize;	/* 0: 1024 */
	uint32_t	 maxelem;	/* 0: 65536 */
};

/* A member; which fields count depends on the set's kind. */
struct ipset_member {
	int		 family;
	uint8_t		 ip[16];	/* hash:* */
	uint8_t		 proto;		/* IPPROTO_TCP/UDP/SCTP (ip,port*) */
	uint16_t	 port;		/* host order (ip,port* and bitmap) */
	uint8_t		 ip2[16];	/* ip,port,ip and ip,port,net */
	uint8_t		 cidr2;		/* ip,port,net: prefix length */
};

struct ipset_handle;

/* NULL with errno on failure. */
struct ipset_handle *ipset_open(void);
void	ipset_close(struct ipset_handle *);

/* The library's message for the last failure (or ""). */
const char *ipset_last_error(struct ipset_handle *);

/* Creates the set, or succeeds if an equal one exists.  0 or -1/errno. */
int	ipset_set_ensure(struct ipset_handle *, const struct ipset_spec *);
/* Destroys a set; a missing set is success. */
int	ipset_set_destroy(struct ipset_handle *, const char *name);

/*
 * Adds (del = 0) or deletes (del = 1) n members in aggregated messages;
 * adding a present member or deleting a missing one is success.  On a
 * failure *failed (if not NULL) is the index of the first failed member.
 */
int	ipset_members_change(struct ipset_handle *, const struct ipset_spec *,
	    const struct ipset_member *m, size_t n, int del, size_t *failed);

/* 1 if the set exists, 0 if not, -1/errno. */
int	ipset_set_exists(struct ipset_handle *, const char *name);

/*
 * Lists the members of a set; cb gets each (borrowed).  0 or -1/errno
 * (EEXIST: the kernel's set has another type, family or maxelem).
 */
typedef int (*ipset_member_cb)(const struct ipset_member *, void *);
int	ipset_members_list(struct ipset_handle *, const struct ipset_spec *,
	    ipset_member_cb cb, void *arg);

/* Replaces the contents: create temp, fill, swap, destroy temp. */
int	ipset_reload(struct ipset_handle *, const struct ipset_spec *,
	    const struct ipset_member *m, size_t n);

/*
 * Pure helpers (unit-tested): kube-proxy's entry text for a member
 * ("10.96.0.1,tcp:443", "30080", "10.0.0.1,tcp:80,192.0.2.0/24") and back.
 * format returns the length or -1; parse returns 0 or -1.
 */
int	ipset_member_format(enum ipset_kind, const struct ipset_member *,
	    char *buf, size_t len);
int	ipset_member_parse(enum ipset_kind, int family, const char *s,
	    struct ipset_member *);
const char *ipset_kind_typename(enum ipset_kind);
/* 1 if a save-format "create" line is the set spec describes. */
int	ipset_create_line_matches(const struct ipset_spec *, const char *line);

#endif /* KIPVS_APPLIER_IPSET_H */
