/*
 * applier_addr: the kube-ipvs0 dummy link and its addresses, through
 * libnl-route-3 (rtnetlink).  Interfaces are found by netlink (the link
 * cache, RTM_GETLINK by name), never by ioctl.  The link is created down
 * and left down, as kube-proxy does: the kernel still treats its addresses
 * as local, which is all IPVS needs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_ADDR_H
#define KIPVS_APPLIER_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#define ADDR_KUBE_LINK	"kube-ipvs0"

struct addr_entry {
	int		 ifindex;
	char		 ifname[IF_NAMESIZE];
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	uint8_t		 prefixlen;
};

struct addr_handle;

struct addr_handle *addr_open(void);
void	addr_close(struct addr_handle *);

/*
 * Ensures kube-ipvs0 exists as a dummy link; *created (if not NULL) says
 * whether it was made now.  A kube-ipvs0 of another kind is EEXIST.  The
 * ifindex is remembered for the address calls.  0 or -1 with errno.
 */
int	addr_link_ensure(struct addr_handle *, int *created);
/* Deletes kube-ipvs0 (for cleanup); a missing link is success. */
int	addr_link_remove(struct addr_handle *);
/* ifindex of kube-ipvs0, 0 if it does not exist, -1/errno. */
int	addr_link_index(struct addr_handle *);

/* Adds or deletes a host address (/32 or /128) on kube-ipvs0; adding a
 * present one and deleting a missing one are successes. */
int	addr_add(struct addr_handle *, int family, const uint8_t *addr);
int	addr_del(struct addr_handle *, int family, const uint8_t *addr);

/*
 * Many adds and deletes: up to ADDR_BATCH requests per sendmsg, one
 * acknowledgement fence after the last (applier_nl_batch()).  Every op
 * gets err (0 or an errno; adding a
 * present address and deleting a missing one are 0) and changed (the
 * kernel was written).  Returns 0, or -1 if the transport failed (the ops
 * without an answer get its errno).
 */
#define ADDR_BATCH	256

struct addr_op {
	int		 del;
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	int		 err;
	int		 changed;
};

int	addr_batch(struct addr_handle *, struct addr_op *ops, size_t n);

/*
 * Every address of every interface (kube-ipvs0's and the others, the
 * NodePort addresses); cb gets each, borrowed.  A non-zero cb return stops
 * the walk and is returned.
 */
typedef int (*addr_dump_cb)(const struct addr_entry *, void *);
int	addr_dump(struct addr_handle *, addr_dump_cb cb, void *arg);

#endif /* KIPVS_APPLIER_ADDR_H */
