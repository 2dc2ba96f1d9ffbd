/*
 * Field codec shared by every edge's protocol: little-endian integers,
 * length-prefixed NUL-terminated strings, addresses and prefixes.
 *
 * Writers never fail half-way: once a field does not fit, the buffer is
 * marked overflowed and every later write is ignored, so an encoder checks
 * once at the end.  Readers stop at the first bad field, keep the reason
 * (a static string) and fail every later read, so a decoder checks once at
 * the end too; ipc_rd_end() also rejects trailing bytes.
 *
 * Wire forms (see docs/ipc.md):
 *	u8 u16 u32 u64 i32 i64	little-endian, no padding
 *	str	u8 length n, n bytes without NUL, one NUL byte
 *	addr	u8 family (4 or 6), then 4 or 16 bytes in network order
 *	prefix	addr, u8 prefix length (host bits must be zero)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_CODEC_H
#define KIPVS_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"

/* Smallest encodings, used to bound counts before allocating. */
#define IPC_STR_MIN	2	/* empty string: length byte and NUL */
#define IPC_ADDR_MIN	5	/* IPv4 */
#define IPC_PREFIX_MIN	6

struct ipc_wr {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	int		 overflow;
};

struct ipc_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	const char	*err;		/* first failure, NULL while good */
};

void	ipc_wr_init(struct ipc_wr *, void *, size_t);
void	ipc_wr_u8(struct ipc_wr *, uint8_t);
void	ipc_wr_u16(struct ipc_wr *, uint16_t);
void	ipc_wr_u32(struct ipc_wr *, uint32_t);
void	ipc_wr_u64(struct ipc_wr *, uint64_t);
void	ipc_wr_i32(struct ipc_wr *, int32_t);
void	ipc_wr_i64(struct ipc_wr *, int64_t);
/* Strings longer than 255 bytes mark the buffer overflowed. */
void	ipc_wr_str(struct ipc_wr *, const char *);
void	ipc_wr_addr(struct ipc_wr *, const struct rec_addr *);
void	ipc_wr_prefix(struct ipc_wr *, const struct rec_prefix *);
/* Room left; 0 once overflowed. */
size_t	ipc_wr_room(const struct ipc_wr *);

void	ipc_rd_init(struct ipc_rd *, const void *, size_t);
int	ipc_rd_fail(struct ipc_rd *, const char *reason);
int	ipc_rd_u8(struct ipc_rd *, uint8_t *);
int	ipc_rd_u16(struct ipc_rd *, uint16_t *);
int	ipc_rd_u32(struct ipc_rd *, uint32_t *);
int	ipc_rd_u64(struct ipc_rd *, uint64_t *);
int	ipc_rd_i32(struct ipc_rd *, int32_t *);
int	ipc_rd_i64(struct ipc_rd *, int64_t *);
/*
 * Reads a string into dst (size dstsz, so at most dstsz - 1 characters):
 * too long, a NUL inside, or a missing terminator is a failure.
 */
int	ipc_rd_str(struct ipc_rd *, char *dst, size_t dstsz);
int	ipc_rd_addr(struct ipc_rd *, struct rec_addr *);
int	ipc_rd_prefix(struct ipc_rd *, struct rec_prefix *);
/* A u16 count: at most max, and count * minsize must fit what is left. */
int	ipc_rd_count16(struct ipc_rd *, uint16_t *, uint16_t max,
	    size_t minsize);
int	ipc_rd_count8(struct ipc_rd *, uint8_t *, uint8_t max, size_t minsize);
size_t	ipc_rd_left(const struct ipc_rd *);
/* Success only if nothing failed and every byte was consumed. */
int	ipc_rd_end(struct ipc_rd *);

#endif /* KIPVS_IPC_CODEC_H */
