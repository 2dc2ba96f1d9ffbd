/*
 * `kipvs check`: the preflight.  Reads the kernel's and the host's state
 * (modules, /proc, /sys, the capabilities and accounts kipvs needs, other
 * owners of kube-ipvs0) and prints one OK, WARN or FAIL line per check,
 * with a remedy under every line that is not OK.  It changes nothing: no
 * module is loaded, no file written, no netlink request sent but the
 * address dump of getifaddrs().  See docs/operations.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_CHECK_H
#define KIPVS_CHECK_H

#include "supervisor/sup.h"

/*
 * Runs `kipvs check ARGS`: argv[0] is "check", the rest are its flags
 * (--config, kube-proxy's flags, --watcher-user, --planner-user,
 * --applier-user, --help).  conf holds what the parent's command line
 * before "check" set.  Returns the exit status: 0 when no line failed
 * (warnings allowed), 1 when one did, 2 on a usage error.
 */
int	check_main(const struct sup_conf *conf, int argc, char *argv[]);

#endif /* KIPVS_CHECK_H */
