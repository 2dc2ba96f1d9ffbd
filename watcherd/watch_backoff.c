/*
 * Back-off computation: see watch_backoff.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "watcherd/watch_backoff.h"

void
watch_backoff_init(struct watch_backoff *bo, uint32_t base_ms,
    uint32_t cap_ms, uint32_t jitter_pct)
{
	bo->base_ms = base_ms ? base_ms : 1;
	bo->cap_ms = cap_ms < bo->base_ms ? bo->base_ms : cap_ms;
	bo->jitter_pct = jitter_pct;
	watch_backoff_reset(bo);
}

void
watch_backoff_reset(struct watch_backoff *bo)
{
	bo->cur_ms = 0;
	bo->failures = 0;
}

uint32_t
watch_backoff_next(struct watch_backoff *bo, uint32_t rnd)
{
	uint64_t extra;

	if (bo->cur_ms == 0)
		bo->cur_ms = bo->base_ms;
	else if (bo->cur_ms >= bo->cap_ms / 2)
		bo->cur_ms = bo->cap_ms;
	else
		bo->cur_ms *= 2;
	bo->failures++;
	/* 64-bit: cap (up to 2^32 ms) * 100 * 2^32 would not fit otherwise. */
	extra = (uint64_t)bo->cur_ms * bo->jitter_pct / 100;
	extra = extra * rnd >> 32;
	return bo->cur_ms + (uint32_t)extra;
}
