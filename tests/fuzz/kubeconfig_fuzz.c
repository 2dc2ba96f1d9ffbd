/*
 * libFuzzer target: the kubeconfig reader (watcherd/watch_kubeconfig.c,
 * libyaml and the *-data base64 decoder), read from a memfd as from a
 * file.  An accepted kubeconfig must name an https:// server without a
 * trailing '/' and the context used, and --master must replace the
 * server.  The same bytes also go through the base64 decoder and, split
 * at the first NUL, through the in-cluster host/port check.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "watcherd/watch_kubeconfig.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 kc_fd = -1;
static char	 kc_path[64];

static void
check(const struct watch_conn *c)
{
	size_t n;

	if (c->server == NULL || strncasecmp(c->server, "https://", 8) != 0 ||
	    c->context == NULL)
		abort();
	n = strlen(c->server);
	if (n <= 8 || c->server[n - 1] == '/')
		abort();
	if (c->ca_pem.data != NULL && c->ca_pem.data[c->ca_pem.len] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watch_conn *c;
	struct watch_blob b;
	const uint8_t *nul;
	char err[1024], *host;

	if (kc_fd == -1) {
		if ((kc_fd = memfd_create("kubeconfig", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(kc_path, sizeof(kc_path), "/proc/self/fd/%d", kc_fd);
	}
	if (ftruncate(kc_fd, 0) == -1 ||
	    (size > 0 && pwrite(kc_fd, data, size, 0) != (ssize_t)size))
		abort();
	if ((c = watch_conn_new()) == NULL)
		abort();
	if (watch_kubeconfig_load(c, kc_path, NULL, err, sizeof(err)) == 0) {
		check(c);
		if (watch_kubeconfig_load(c, kc_path, "https://10.0.0.1:6443/",
		    err, sizeof(err)) != 0 ||
		    strcmp(c->server, "https://10.0.0.1:6443") != 0)
			abort();
		check(c);
	}
	if (watch_base64_decode((const char *)data, size, &b) == 0) {
		if (b.data == NULL || b.data[b.len] != '\0' ||
		    b.len > size / 4 * 3)
			abort();
		free(b.data);
	}
	if ((nul = memchr(data, '\0', size)) != NULL &&
	    (host = strndup((const char *)data, (size_t)(nul - data))) !=
	    NULL) {
		char port[16];
		size_t pl = size - (size_t)(nul - data) - 1;

		if (pl >= sizeof(port))
			pl = sizeof(port) - 1;
		memcpy(port, nul + 1, pl);
		port[pl] = '\0';
		if (watch_incluster_load(c, host, port, "/nonexistent", err,
		    sizeof(err)) == 0)
			abort();	/* no token there */
		free(host);
	}
	watch_conn_free(c);
	return 0;
}
