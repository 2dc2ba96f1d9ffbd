/*
 * kipvs-applierd's own flags.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applierd/applier_conf.h"
#include "common/addr.h"

void
applier_conf_defaults(struct applier_conf *c)
{
	memset(c, 0, sizeof(*c));
	kpconf_defaults(&c->kp);
	c->mass_delete_share = 50;
	c->mass_delete_min = 20;
	c->mass_delete_holdoff_ms = 30000;
	c->max_batch_ops = 250000;
	c->max_vs = 100000;
	c->max_rs = 1000000;
	c->max_addrs = 65536;
	c->drift_check_ms = 0;
	c->xtables_wait_ms = 5000;
}

static int
conf_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out,
    char *err, size_t errlen)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' ||
	    n < min || n > max) {
		snprintf(err, errlen, "a number from %u to %u", min, max);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

static int
conf_apiservers(struct applier_conf *c, const char *v, char *err,
    size_t errlen)
{
	char item[64], why[128];
	size_t n;

	while (*v != '\0') {
		n = strcspn(v, ",");
		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "a list of addresses");
			return -1;
		}
		memcpy(item, v, n);
		item[n] = '\0';
		if (c->n_apiserver >= APPLIER_MAX_APISERVERS) {
			snprintf(err, errlen, "at most %d addresses",
			    APPLIER_MAX_APISERVERS);
			return -1;
		}
		if (addr_parse(item, 0, &c->apiserver[c->n_apiserver], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", item, why);
			return -1;
		}
		c->n_apiserver++;
		v += n;
		if (*v == ',')
			v++;
	}
	return 0;
}

int
applier_conf_flag(void *arg, const char *name, const char *v, char *err,
    size_t errlen)
{
	struct applier_conf *c = arg;

	if (strcmp(name, "apiserver-address") == 0)
		return conf_apiservers(c, v, err, errlen);
	if (strcmp(name, "mass-delete-share") == 0)
		return conf_u32(v, 1, 100, &c->mass_delete_share, err, errlen);
	if (strcmp(name, "mass-delete-min") == 0)
		return conf_u32(v, 0, UINT32_MAX, &c->mass_delete_min, err,
		    errlen);
	if (strcmp(name, "mass-delete-holdoff-ms") == 0)
		return conf_u32(v, 0, 86400000, &c->mass_delete_holdoff_ms,
		    err, errlen);
	if (strcmp(name, "max-batch-ops") == 0)
		return conf_u32(v, 1, 1000000, &c->max_batch_ops, err, errlen);
	if (strcmp(name, "max-virtual-servers") == 0)
		return conf_u32(v, 1, 10000000, &c->max_vs, err, errlen);
	if (strcmp(name, "max-real-servers") == 0)
		return conf_u32(v, 1, 100000000, &c->max_rs, err, errlen);
	if (strcmp(name, "max-addresses") == 0)
		return conf_u32(v, 1, 10000000, &c->max_addrs, err, errlen);
	if (strcmp(name, "drift-check-ms") == 0)
		return conf_u32(v, 0, 86400000, &c->drift_check_ms, err,
		    errlen);
	if (strcmp(name, "xtables-wait-ms") == 0)
		return conf_u32(v, 0, 600000, &c->xtables_wait_ms, err,
		    errlen);
	if (strcmp(name, "cleanup") == 0) {
		c->cleanup = 1;
		return 0;
	}
	if (strcmp(name, "test-no-kernel-setup") == 0) {
		c->no_kernel_setup = 1;
		return 0;
	}
	snprintf(err, errlen, "unknown flag");
	return -1;
}
