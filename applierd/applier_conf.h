/*
 * kipvs-applierd's configuration: kube-proxy's flags (common/kpconf.h) plus
 * the applier's own (common/daemon.c: daemon_applier_flags).  All of it
 * comes from the applier's command line, never from the planner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_CONF_H
#define KIPVS_APPLIER_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "common/kpconf.h"
#include "ipc/records.h"

#define APPLIER_MAX_APISERVERS	8

struct applier_conf {
	struct kp_config kp;
	struct rec_addr	 apiserver[APPLIER_MAX_APISERVERS];
	size_t		 n_apiserver;
	uint32_t	 mass_delete_share;	/* percent */
	uint32_t	 mass_delete_min;
	uint32_t	 mass_delete_holdoff_ms;
	uint32_t	 max_batch_ops;
	uint32_t	 max_vs;
	uint32_t	 max_rs;
	uint32_t	 max_addrs;
	uint32_t	 drift_check_ms;	/* 0: kp.sync_period_ms */
	uint32_t	 xtables_wait_ms;
	int		 cleanup;		/* one-shot cleanup mode */
	int		 no_kernel_setup;	/* tests: no modules, sysctls */
};

void	applier_conf_defaults(struct applier_conf *);
/* daemon_flag_fn for the applier's own flags; arg is the conf. */
int	applier_conf_flag(void *arg, const char *name, const char *value,
	    char *err, size_t errlen);

#endif /* KIPVS_APPLIER_CONF_H */
