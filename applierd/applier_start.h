/*
 * applier_start: kipvs-applierd's start-up before its sandbox, from its
 * own configuration only: the module preload (libkmod, an exact
 * allow-list, install commands ignored), kube-proxy's sysctls, and the
 * kernel handles the backends keep for the life of the process.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_START_H
#define KIPVS_APPLIER_START_H

#include "applierd/applier_conf.h"
#include "applierd/applier_exec.h"

/*
 * Loads the allow-listed modules (ip_vs, the configured scheduler's,
 * conntrack, dummy, ip_set and kube-proxy's set types, the x_tables tables
 * and matches the templates use).  A module that is built in or absent is
 * logged and skipped.  0, or -1 if libkmod itself cannot start.
 */
int	applier_preload(const struct applier_conf *);
/* kube-proxy's sysctls (spec §7.1); fatal where kube-proxy is. */
void	applier_sysctls(const struct applier_conf *);
/*
 * Opens every handle.  Without IPVS this is fatal unless ipvs_optional
 * (then k->ipvs is NULL and IPVS ops fail with EAFNOSUPPORT).
 */
void	applier_kernel_open(struct applier_kernel *,
	    const struct applier_conf *, int audit_fd, int xtlock_fd,
	    int ipvs_optional);

#endif /* KIPVS_APPLIER_START_H */
