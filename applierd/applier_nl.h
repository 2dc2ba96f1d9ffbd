/*
 * applier_nl: what the applier's libnl users share.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_NL_H
#define KIPVS_APPLIER_NL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Maps a libnl error (negative NLE_* or positive) to a positive errno. */
int	applier_nlerr_errno(int nlerr);

/*
 * Sends the n requests laid out back to back in buf[0..len) (sequence
 * numbers first, first + 1, ...) in one sendto() on the netlink socket fd
 * and asks only the last one for an acknowledgement: the kernel handles a
 * datagram's requests in order and answers every failed one whatever its
 * flags, so once the last is answered, each request without an answer
 * succeeded.  err[i] gets 0 or request i's errno.  rbuf (rsize bytes)
 * receives.  Waits at most timeout_ms, calling progress() every second.
 * Returns 0, or -1 with errno when the transport failed; then each request
 * without an error answer has that errno in err[] (its outcome is unknown).
 */
/*
 * One datagram from the kernel (no other sender) on fd into rbuf: its
 * length, or -1 with errno (ETIMEDOUT after timeout_ms).  What is already
 * queued is read without a poll(): under emulation every poll() costs
 * clock reads.  progress() runs every second of waiting.
 */
ssize_t	applier_nl_recv(int fd, uint8_t *rbuf, size_t rsize, int timeout_ms);

int	applier_nl_batch(int fd, uint8_t *buf, size_t len, size_t n,
	    uint32_t first, int *err, uint8_t *rbuf, size_t rsize,
	    int timeout_ms);

#endif /* KIPVS_APPLIER_NL_H */
