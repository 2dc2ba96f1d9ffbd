/*
 * applier_nl: libnl error codes back to errno.  libnl folds the kernel's
 * errno into its own NLE_* codes; the applier reports errno values (they
 * travel to the planner and into the audit log), so map them back.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdlib.h>

#include <netlink/errno.h>

#include "applierd/applier_nl.h"

int
applier_nlerr_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOATTR:
		return ENOENT;
	case NLE_PERM:
		return EPERM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_NODEV:
		return ENODEV;
	case NLE_IMMUTABLE:
		return EPERM;
	case NLE_DUMP_INTR:
		return EINTR;
	case NLE_ATTRSIZE:
		return ERANGE;
	default:
		return EIO;
	}
}
