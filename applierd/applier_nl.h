/*
 * applier_nl: what the applier's libnl users share.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_NL_H
#define KIPVS_APPLIER_NL_H

/* Maps a libnl error (negative NLE_* or positive) to a positive errno. */
int	applier_nlerr_errno(int nlerr);

#endif /* KIPVS_APPLIER_NL_H */
