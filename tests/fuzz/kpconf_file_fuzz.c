/*
 * libFuzzer target: the KubeProxyConfiguration reader (common/kpconf_file.c,
 * libyaml).  Whatever it accepts must turn into flags (kpconf_to_args) that
 * kpconf_parse() accepts over the defaults and that give the same flags
 * again: a file's setting and its flag cannot disagree.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/kpconf.h"
#include "common/kpconf_file.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_config c, c2;
	static char *const hostname[] = { "--hostname-override=Node-B" };
	char err[512], **args, **args2;
	int argc, argc2, i;

	kpconf_defaults(&c);
	if (kpconf_file_parse(&c, "fuzz.yaml", (const char *)data, size,
	    quiet, NULL, err, sizeof(err)) == -1)
		return 0;
	if ((args = kpconf_to_args(&c, &argc)) == NULL)
		abort();
	kpconf_defaults(&c2);
	if (kpconf_parse(&c2, argc, args, err, sizeof(err)) == -1)
		abort();	/* the file accepted what the flags refuse */
	if ((args2 = kpconf_to_args(&c2, &argc2)) == NULL)
		abort();
	if (argc != argc2)
		abort();
	for (i = 0; i < argc; i++)
		if (strcmp(args[i], args2[i]) != 0)
			abort();
	kpconf_args_free(args2);
	kpconf_args_free(args);
	/* kube-proxy's precedence over a file's settings. */
	(void)kpconf_file_merge(&c, 1, hostname, quiet, NULL, err,
	    sizeof(err));
	return 0;
}
