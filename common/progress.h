/*
 * progress: a hook that long-running loops call between chunks of work
 * (a chunk of netlink requests, one service of a dump), so the process can
 * keep its heartbeat to the parent going through a batch that takes many
 * seconds.  Without a hook set, progress() does nothing.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_COMMON_PROGRESS_H
#define KIPVS_COMMON_PROGRESS_H

typedef void (*progress_fn)(void *arg);

/* fn (NULL: none) is called by every progress(); it limits its own rate. */
void	progress_set(progress_fn fn, void *arg);
void	progress(void);

#endif /* KIPVS_COMMON_PROGRESS_H */
