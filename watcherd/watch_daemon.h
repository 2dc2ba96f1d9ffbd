/*
 * kipvs-watcherd's daemon: configuration from kube-proxy's flags,
 * everything that needs files or privileges acquired before the sandbox
 * (credentials, listeners, the event loop), then the apiserver engine
 * (watch_api) feeding a sink that turns objects into records for the
 * planner, and the planner's status feeding kube-proxy's HTTP endpoints.
 * See docs/watcher.md, "The daemon".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_DAEMON_H
#define KIPVS_WATCH_DAEMON_H

#include <stddef.h>

struct daemon_flag;
struct daemon_opts;
struct watch_daemon;

/* The watcher's own settings, from its own flags. */
struct watch_daemon_conf {
	unsigned	 watch_idle_s;	/* 0: WATCH_IDLE_S */
};

/*
 * The handler of the watcher's own flags (daemon_watcher_flags, which the
 * parent passes on) for daemon_opts_parse_own(); arg is a struct
 * watch_daemon_conf.
 */
int	watch_daemon_flag(void *arg, const char *name, const char *value,
	    char *err, size_t errlen);

/*
 * Before the sandbox: resolves the apiserver, reads the credentials,
 * opens the token file's directory, binds the HTTP listeners, makes the
 * signalfd and the event loop.  Fatal on a configuration error.  Returns
 * the highest descriptor it left open (the sandbox keeps 0..that).
 */
struct watch_daemon *watch_daemon_setup(const struct daemon_opts *,
	    const struct watch_daemon_conf *, int *max_fd);
/* After the sandbox: runs until SIGTERM (0) or the parent is gone (1). */
int	watch_daemon_run(struct watch_daemon *);
void	watch_daemon_free(struct watch_daemon *);

#endif /* KIPVS_WATCH_DAEMON_H */
