/*
 * applier_ipset_tool: drives applierd/applier_ipset from the netns tests.
 *
 *	applier_ipset_tool ensure  NAME TYPE FAMILY
 *	applier_ipset_tool add     NAME TYPE FAMILY ENTRY...
 *	applier_ipset_tool del     NAME TYPE FAMILY ENTRY...
 *	applier_ipset_tool list    NAME TYPE FAMILY
 *	applier_ipset_tool reload  NAME TYPE FAMILY ENTRY...	(- reads stdin)
 *	applier_ipset_tool destroy NAME
 *
 * TYPE is an ipset type name ("hash:ip,port"), FAMILY inet or inet6,
 * ENTRY kube-proxy's entry text.  Errors print "error[IDX]: errno: text".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "applierd/applier_ipset.h"

static int
kind_parse(const char *s, enum ipset_kind *k)
{
	enum ipset_kind i;

	for (i = IPSET_K_HASH_IP; i <= IPSET_K_BITMAP_PORT; i++)
		if (strcmp(ipset_kind_typename(i), s) == 0) {
			*k = i;
			return 0;
		}
	return -1;
}

static int
print_member(const struct ipset_member *m, void *arg)
{
	const struct ipset_spec *spec = arg;
	char buf[128];

	if (ipset_member_format(spec->kind, m, buf, sizeof(buf)) < 0)
		return -1;
	printf("%s\n", buf);
	return 0;
}

static struct ipset_member *
read_members(const struct ipset_spec *spec, char **argv, int argc,
    size_t *np)
{
	struct ipset_member *m = NULL, *nm;
	size_t n = 0, cap = 0;
	char line[256];
	int i = 0;

	for (;;) {
		const char *e;

		if (argc == 1 && strcmp(argv[0], "-") == 0) {
			if (fgets(line, sizeof(line), stdin) == NULL)
				break;
			line[strcspn(line, "\n")] = '\0';
			e = line;
		} else {
			if (i >= argc)
				break;
			e = argv[i++];
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nm = reallocarray(m, cap, sizeof(*m))) == NULL) {
				free(m);
				return NULL;
			}
			m = nm;
		}
		if (ipset_member_parse(spec->kind, spec->family, e,
		    &m[n]) < 0) {
			fprintf(stderr, "bad entry: %s\n", e);
			free(m);
			return NULL;
		}
		n++;
	}
	*np = n;
	return m ? m : calloc(1, sizeof(*m));
}

int
main(int argc, char **argv)
{
	struct ipset_handle *h;
	struct ipset_spec spec;
	struct ipset_member *m = NULL;
	struct timespec t0, t1;
	size_t n = 0, failed = 0;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: see the source\n");
		return 2;
	}
	if ((h = ipset_open()) == NULL) {
		perror("ipset_open");
		return 1;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "%s", argv[2]);
	if (strcmp(argv[1], "destroy") == 0) {
		rc = ipset_set_destroy(h, spec.name);
		goto out;
	}
	if (argc < 5 || kind_parse(argv[3], &spec.kind) < 0) {
		fprintf(stderr, "bad type\n");
		return 2;
	}
	spec.family = strcmp(argv[4], "inet6") == 0 ? AF_INET6 : AF_INET;
	if (strcmp(argv[1], "ensure") == 0)
		rc = ipset_set_ensure(h, &spec);
	else if (strcmp(argv[1], "list") == 0)
		rc = ipset_members_list(h, &spec, print_member, &spec);
	else {
		if ((m = read_members(&spec, argv + 5, argc - 5, &n)) == NULL)
			return 2;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (strcmp(argv[1], "add") == 0)
			rc = ipset_members_change(h, &spec, m, n, 0, &failed);
		else if (strcmp(argv[1], "del") == 0)
			rc = ipset_members_change(h, &spec, m, n, 1, &failed);
		else if (strcmp(argv[1], "reload") == 0)
			rc = ipset_reload(h, &spec, m, n);
		else {
			fprintf(stderr, "unknown command %s\n", argv[1]);
			return 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fprintf(stderr, "%s %zu members: %.3f ms\n", argv[1], n,
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
out:
	if (rc < 0) {
		printf("error[%zu]: %d: %s\n", failed, errno,
		    ipset_last_error(h));
		rc = 1;
	}
	free(m);
	ipset_close(h);
	return rc;
}
