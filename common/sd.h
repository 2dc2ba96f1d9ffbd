/*
 * The sandbox of a daemon started by systemd (--systemd, ipc/sd.h): the
 * unit already set the account, the capabilities and NoNewPrivileges, so
 * nothing is changed that needs a privilege.  sd_sandbox_enter() is
 * sandbox_enter() (common/sandbox.h) with steps 2 to 5 replaced, after
 * READY=1 to the service manager:
 *
 *	1. close every descriptor above the declared ones
 *	2. chdir("/") (no chroot: ProtectSystem=strict and friends instead)
 *	3. clear the ambient set, then verify: real, effective and saved ids
 *	   are the account's, no supplementary group but the account's own
 *	   (systemd's initgroups() lists it), root cannot be
 *	   regained, effective = permitted = bounding = the declared
 *	   capabilities, ambient empty, inheritable within the declared ones
 *	   (AmbientCapabilities= puts them there and the unit filters capset;
 *	   without exec they are inert)
 *	4. rlimits, PR_SET_NO_NEW_PRIVS and the process's own seccomp filter,
 *	   as in the parent form
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_SD_H
#define KIPVS_SD_H

#include <sys/types.h>

#include "common/sandbox.h"

/* Sends READY=1 (sd_notify()), then the steps above; fatal on failure. */
void	sd_sandbox_enter(const struct sandbox_conf *);
/*
 * Sends state (e.g. "READY=1") to $NOTIFY_SOCKET (a path, or "@name" for
 * the abstract namespace), by hand: no libsystemd.  1 sent, 0 no
 * $NOTIFY_SOCKET, -1 error.
 */
int	sd_notify(const char *state);
/* Step 3's check alone.  0 or -1 (logged). */
int	sd_verify_ids(uid_t, gid_t, const int *caps, int n);

#endif /* KIPVS_SD_H */
