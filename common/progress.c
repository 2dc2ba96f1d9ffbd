/*
 * progress: the hook of progress.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>

#include "common/progress.h"

static progress_fn	progress_hook;
static void		*progress_arg;

void
progress_set(progress_fn fn, void *arg)
{
	progress_hook = fn;
	progress_arg = arg;
}

void
progress(void)
{
	if (progress_hook != NULL)
		progress_hook(progress_arg);
}
