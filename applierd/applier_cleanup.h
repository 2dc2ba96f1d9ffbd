/*
 * applier_cleanup: `kipvs cleanup` (kipvs-applierd --cleanup).  Removes
 * exactly what kipvs owns and nothing else: the virtual servers of the
 * ownership rule (applier_policy.h), the jump rules and the owned chains
 * (IPv4 and IPv6), the owned ipsets (KUBE-… and KUBE-6-…, and a reload's
 * temporary set), and kube-ipvs0 if it is a dummy.  Each removal is one
 * audit record (batch 0).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_CLEANUP_H
#define KIPVS_APPLIER_CLEANUP_H

#include "applierd/applier_conf.h"
#include "applierd/applier_exec.h"

/* 0 when everything owned is gone, 1 if anything failed. */
int	applier_cleanup(struct applier_kernel *, const struct applier_conf *);

#endif /* KIPVS_APPLIER_CLEANUP_H */
