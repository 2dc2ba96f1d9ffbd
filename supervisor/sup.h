/*
 * The parent's supervision of the three daemons: wiring, start, restart
 * with back-off, signal forwarding, heartbeats.  See docs/supervisor.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_SUP_H
#define KIPVS_SUP_H

#include <sys/types.h>

#include "common/log.h"

struct sup_conf {
	const char	*libexec_dir;
	const char	*user[3];	/* watcher, planner, applier */
	const char	*audit_log;	/* path, or "-" for stderr */
	const char	*xtables_lock;
	unsigned	 heartbeat_ms;
	unsigned	 heartbeat_timeout_ms;
	unsigned	 restart_min_ms;
	unsigned	 restart_max_ms;
	unsigned	 restart_reset_ms;
	unsigned	 storm_count;
	unsigned	 storm_window_ms;
	enum log_level	 level;
	int		 seccomp_debug;
	/* kube-proxy's flags, for every daemon; each daemon's own flags. */
	char		**kp_args;
	int		 n_kp_args;
	char		**own_args[3];	/* watcher, planner, applier */
	int		 n_own_args[3];
};

void	sup_conf_defaults(struct sup_conf *);
/* Runs the daemons until a signal (0) or a restart storm (1). */
int	sup_run(const struct sup_conf *);

#endif /* KIPVS_SUP_H */
