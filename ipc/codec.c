/*
 * Field codec for the ipc protocols; see codec.h for the wire forms.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "ipc/codec.h"

void
ipc_wr_init(struct ipc_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = 0;
}

static void
wr_bytes(struct ipc_wr *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
wr_le(struct ipc_wr *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wr_bytes(w, b, n);
}

void
ipc_wr_u8(struct ipc_wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

void
ipc_wr_u16(struct ipc_wr *w, uint16_t v)
{
	wr_le(w, v, 2);
}

void
ipc_wr_u32(struct ipc_wr *w, uint32_t v)
{
	wr_le(w, v, 4);
}

void
ipc_wr_u64(struct ipc_wr *w, uint64_t v)
{
	wr_le(w, v, 8);
}

void
ipc_wr_i32(struct ipc_wr *w, int32_t v)
{
	wr_le(w, (uint32_t)v, 4);
}

void
ipc_wr_i64(struct ipc_wr *w, int64_t v)
{
	wr_le(w, (uint64_t)v, 8);
}

void
ipc_wr_str(struct ipc_wr *w, const char *s)
{
	size_t n = strlen(s);

	if (n > 255) {
		w->overflow = 1;
		return;
	}
	ipc_wr_u8(w, (uint8_t)n);
	wr_bytes(w, s, n);
	ipc_wr_u8(w, 0);
}

void
ipc_wr_addr(struct ipc_wr *w, const struct rec_addr *a)
{
	ipc_wr_u8(w, a->family);
	wr_bytes(w, a->addr, a->family == REC_FAMILY_IPV6 ? 16 : 4);
}

void
ipc_wr_prefix(struct ipc_wr *w, const struct rec_prefix *p)
{
	ipc_wr_addr(w, &p->addr);
	ipc_wr_u8(w, p->plen);
}

size_t
ipc_wr_room(const struct ipc_wr *w)
{
	return w->overflow ? 0 : w->cap - w->len;
}

void
ipc_rd_init(struct ipc_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	r->err = NULL;
}

int
ipc_rd_fail(struct ipc_rd *r, const char *reason)
{
	if (r->err == NULL)
		r->err = reason;
	return -1;
}

static int
rd_bytes(struct ipc_rd *r, void *dst, size_t n)
{
	if (r->err != NULL)
		return -1;
	if (n > r->len - r->off)
		return ipc_rd_fail(r, "payload too short");
	if (n > 0)
		memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

static int
rd_le(struct ipc_rd *r, uint64_t *v, size_t n)
{
	uint8_t b[8];
	size_t i;

	if (rd_bytes(r, b, n) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return 0;
}

int
ipc_rd_u8(struct ipc_rd *r, uint8_t *v)
{
	return rd_bytes(r, v, 1);
}

int
ipc_rd_u16(struct ipc_rd *r, uint16_t *v)
{
	uint64_t x;

	if (rd_le(r, &x, 2) == -1)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

int
ipc_rd_u32(struct ipc_rd *r, uint32_t *v)
{
	uint64_t x;

	if (rd_le(r, &x, 4) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
ipc_rd_u64(struct ipc_rd *r, uint64_t *v)
{
	return rd_le(r, v, 8);
}

int
ipc_rd_i32(struct ipc_rd *r, int32_t *v)
{
	uint32_t x;

	if (ipc_rd_u32(r, &x) == -1)
		return -1;
	*v = (int32_t)x;
	return 0;
}

int
ipc_rd_i64(struct ipc_rd *r, int64_t *v)
{
	uint64_t x;

	if (rd_le(r, &x, 8) == -1)
		return -1;
	*v = (int64_t)x;
	return 0;
}

int
ipc_rd_str(struct ipc_rd *r, char *dst, size_t dstsz)
{
	uint8_t n, nul;

	if (ipc_rd_u8(r, &n) == -1)
		return -1;
	if ((size_t)n + 1 > dstsz)
		return ipc_rd_fail(r, "string too long");
	if (rd_bytes(r, dst, n) == -1)
		return -1;
	if (memchr(dst, '\0', n) != NULL)
		return ipc_rd_fail(r, "NUL inside string");
	if (ipc_rd_u8(r, &nul) == -1)
		return -1;
	if (nul != 0)
		return ipc_rd_fail(r, "unterminated string");
	dst[n] = '\0';
	return 0;
}

int
ipc_rd_addr(struct ipc_rd *r, struct rec_addr *a)
{
	uint8_t fam;

	memset(a, 0, sizeof(*a));
	if (ipc_rd_u8(r, &fam) == -1)
		return -1;
	if (fam != REC_FAMILY_IPV4 && fam != REC_FAMILY_IPV6)
		return ipc_rd_fail(r, "bad address family");
	a->family = fam;
	return rd_bytes(r, a->addr, fam == REC_FAMILY_IPV6 ? 16 : 4);
}

int
ipc_rd_prefix(struct ipc_rd *r, struct rec_prefix *p)
{
	size_t bits, i;

	if (ipc_rd_addr(r, &p->addr) == -1 || ipc_rd_u8(r, &p->plen) == -1)
		return -1;
	bits = p->addr.family == REC_FAMILY_IPV6 ? 128 : 32;
	if (p->plen > bits)
		return ipc_rd_fail(r, "prefix length out of range");
	for (i = p->plen; i < bits; i++)
		if (p->addr.addr[i / 8] & (0x80 >> (i % 8)))
			return ipc_rd_fail(r, "prefix has host bits set");
	return 0;
}

int
ipc_rd_count16(struct ipc_rd *r, uint16_t *n, uint16_t max, size_t minsize)
{
	if (ipc_rd_u16(r, n) == -1)
		return -1;
	if (*n > max)
		return ipc_rd_fail(r, "count over limit");
	if ((size_t)*n * minsize > r->len - r->off)
		return ipc_rd_fail(r, "count larger than payload");
	return 0;
}

int
ipc_rd_count8(struct ipc_rd *r, uint8_t *n, uint8_t max, size_t minsize)
{
	if (ipc_rd_u8(r, n) == -1)
		return -1;
	if (*n > max)
		return ipc_rd_fail(r, "count over limit");
	if ((size_t)*n * minsize > r->len - r->off)
		return ipc_rd_fail(r, "count larger than payload");
	return 0;
}

size_t
ipc_rd_left(const struct ipc_rd *r)
{
	return r->len - r->off;
}

int
ipc_rd_end(struct ipc_rd *r)
{
	if (r->err != NULL)
		return -1;
	if (r->off != r->len)
		return ipc_rd_fail(r, "trailing bytes");
	return 0;
}
