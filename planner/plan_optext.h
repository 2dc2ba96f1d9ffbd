/*
 * One planner->applier op as a line of text, for logs ("skipping
 * virtual server TCP 10.96.0.10:53 of kube-system/kube-dns: ...") and for
 * the test driver, which prints every op the planner sends this way.
 *
 *	vs-ensure TCP 10.96.0.1:443 sched=rr [persistent=10800] [mh-port]
 *	rs-ensure TCP 10.96.0.1:443 10.244.1.5:6443 weight=1
 *	set-add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
 *	addr-add 10.96.0.1
 *	chain-replace ipv4 KUBE-SERVICES sets=0x00022 ...
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_OPTEXT_H
#define KIPVS_PLAN_OPTEXT_H

#include <stddef.h>

#include "ipc/proto_pa.h"

#define PLAN_OPTEXT_MAX		320

/* Writes the text into buf (always terminated) and returns buf. */
const char *plan_op_text(const struct pa_op *, char *buf, size_t len);
/* "TCP 10.96.0.1:443" or "UDP [fd00::1]:53". */
const char *plan_vs_key_text(const struct pa_vs_key *, char *buf,
	    size_t len);

#endif /* KIPVS_PLAN_OPTEXT_H */
