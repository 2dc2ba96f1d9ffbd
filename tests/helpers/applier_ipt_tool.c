/*
 * applier_ipt_tool: drives applierd/applier_ipt from the netns tests.
 *
 *	applier_ipt_tool [options] kube	   sets of the spec §4.2 example, then
 *					   every chain, rule and jump (§6)
 *	applier_ipt_tool [options] render  prints the templates' own rendering
 *	applier_ipt_tool [options] clean   removes the jumps and the chains
 *
 *	-6		IPv6 (ip6tables, KUBE-6-* sets)
 *	-l PATH		xtables lock file (default: no lock)
 *	-w MS		lock wait (default 5000)
 *	-c		first drop to uid/gid 65534 keeping exactly
 *			CAP_NET_ADMIN (libcap-ng), and show it
 *	-r		no --random-fully
 *	-o		add the spec's KUBE-IPVS-OUT-FILTER entry (LB
 *			203.0.113.10 or 2001:db8::10, tcp 80; needs xt_ipvs)
 *	-x		no externalIPs (their rule needs xt_physdev)
 *
 * Prints "commits=N" after kube/clean.  Exit status: 0 ok, 1 failure,
 * 3 lock timeout.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applierd/applier_ipset.h"
#include "applierd/applier_ipt.h"

static const enum ipset_kind set_kinds[IPT_KS_COUNT] = {
	[IPT_KS_LOOP_BACK] = IPSET_K_HASH_IP_PORT_IP,
	[IPT_KS_CLUSTER_IP] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_EXTERNAL_IP] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_EXTERNAL_IP_LOCAL] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_LOAD_BALANCER] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_LOAD_BALANCER_LOCAL] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_LOAD_BALANCER_FW] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_LOAD_BALANCER_SOURCE_IP] = IPSET_K_HASH_IP_PORT_IP,
	[IPT_KS_LOAD_BALANCER_SOURCE_CIDR] = IPSET_K_HASH_IP_PORT_NET,
	[IPT_KS_NODE_PORT_TCP] = IPSET_K_BITMAP_PORT,
	[IPT_KS_NODE_PORT_LOCAL_TCP] = IPSET_K_BITMAP_PORT,
	[IPT_KS_NODE_PORT_UDP] = IPSET_K_BITMAP_PORT,
	[IPT_KS_NODE_PORT_LOCAL_UDP] = IPSET_K_BITMAP_PORT,
	[IPT_KS_NODE_PORT_SCTP_HASH] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_NODE_PORT_LOCAL_SCTP_HASH] = IPSET_K_HASH_IP_PORT,
	[IPT_KS_HEALTH_CHECK_NODE_PORT] = IPSET_K_BITMAP_PORT,
	[IPT_KS_IPVS_IPS] = IPSET_K_HASH_IP,
};

/* The spec's example (§3.2): which sets hold something. */
static const uint32_t example_nonempty =
    1U << IPT_KS_LOOP_BACK | 1U << IPT_KS_CLUSTER_IP |
    1U << IPT_KS_EXTERNAL_IP_LOCAL | 1U << IPT_KS_LOAD_BALANCER |
    1U << IPT_KS_LOAD_BALANCER_LOCAL | 1U << IPT_KS_LOAD_BALANCER_FW |
    1U << IPT_KS_LOAD_BALANCER_SOURCE_CIDR | 1U << IPT_KS_NODE_PORT_TCP |
    1U << IPT_KS_NODE_PORT_LOCAL_TCP | 1U << IPT_KS_HEALTH_CHECK_NODE_PORT |
    1U << IPT_KS_IPVS_IPS;

static int
drop_to_net_admin(void)
{
	FILE *f;
	char line[256];

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_NET_ADMIN) < 0 ||
	    capng_change_id(65534, 65534,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) < 0) {
		fprintf(stderr, "capng_change_id failed\n");
		return -1;
	}
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "Uid:", 4) == 0 ||
			    strncmp(line, "CapEff:", 7) == 0 ||
			    strncmp(line, "CapPrm:", 7) == 0 ||
			    strncmp(line, "CapBnd:", 7) == 0)
				printf("%s", line);
		fclose(f);
	}
	/* A raw socket libiptc would not ask for must now be refused. */
	if (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0) {
		fprintf(stderr, "raw socket still allowed\n");
		return -1;
	}
	printf("raw socket: %s\n", strerror(errno));
	return 0;
}

static int
make_sets(int family)
{
	struct ipset_handle *ih;
	struct ipset_spec spec;
	enum ipt_kube_set s;
	int rc = 0;

	if ((ih = ipset_open()) == NULL)
		return -1;
	for (s = 0; s < IPT_KS_COUNT; s++) {
		memset(&spec, 0, sizeof(spec));
		ipt_kube_set_name(family, s, spec.name, sizeof(spec.name));
		spec.kind = set_kinds[s];
		spec.family = family;
		if (ipset_set_ensure(ih, &spec) < 0) {
			fprintf(stderr, "set %s: %s\n", spec.name,
			    ipset_last_error(ih));
			rc = -1;
			break;
		}
	}
	ipset_close(ih);
	return rc;
}

static struct ipt_kube_lb_drop lb_drop;

static void
params_example(struct ipt_kube_params *p, int family, int random_fully)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->masq_bit = 14;
	p->random_fully = random_fully;
	p->local_mode = IPT_LOCAL_CIDR;
	if (family == AF_INET6) {
		inet_pton(AF_INET6, "fd00:10:244::", p->local_cidr);
		p->local_plen = 48;
	} else {
		inet_pton(AF_INET, "10.244.0.0", p->local_cidr);
		p->local_plen = 16;
	}
	p->nonempty = example_nonempty;
	memset(&lb_drop, 0, sizeof(lb_drop));
	inet_pton(family, family == AF_INET6 ? "2001:db8::10" : "203.0.113.10",
	    lb_drop.addr);
	lb_drop.proto = IPPROTO_TCP;
	lb_drop.port = 80;
}

static int
render(const struct ipt_kube_params *p)
{
	static const char *tables[] = { "nat", "filter" };
	struct ipt_rule rules[32];
	struct ipt_kube_jump jumps[16];
	const char *const *c;
	char line[1024];
	enum ipt_tbl t;
	size_t n, i, nj;

	nj = ipt_kube_jumps(jumps, 16);
	for (t = 0; t < IPT_TABLE_COUNT; t++) {
		printf("*%s\n", tables[t]);
		for (i = 0; i < nj; i++)
			if (jumps[i].table == t && ipt_rule_format(p->family,
			    jumps[i].from, &jumps[i].rule, line,
			    sizeof(line)) > 0)
				printf("%s\n", line);
		for (c = ipt_kube_chains(t); *c != NULL; c++) {
			if (ipt_kube_rules(p, t, *c, rules, 32, &n) < 0)
				return -1;
			for (i = 0; i < n; i++) {
				if (ipt_rule_format(p->family, *c, &rules[i],
				    line, sizeof(line)) < 0)
					return -1;
				printf("%s\n", line);
			}
		}
	}
	return 0;
}

static int
clean(struct ipt_handle *h, int *commits)
{
	struct ipt_kube_jump jumps[16];
	const char *const *c;
	enum ipt_tbl t;
	size_t i, nj;

	if (ipt_begin(h) < 0)
		return -1;
	nj = ipt_kube_jumps(jumps, 16);
	for (i = 0; i < nj; i++)
		if (ipt_jump_remove(h, jumps[i].table, jumps[i].from,
		    &jumps[i].rule) < 0)
			goto fail;
	/* Flush all before deleting: chains reference each other. */
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_exists(h, t, *c) == 1 &&
			    ipt_chain_replace(h, t, *c, NULL, 0) < 0)
				goto fail;
	for (t = 0; t < IPT_TABLE_COUNT; t++)
		for (c = ipt_kube_chains(t); *c != NULL; c++)
			if (ipt_chain_remove(h, t, *c) < 0)
				goto fail;
	return ipt_commit(h, commits);
fail:
	ipt_abort(h);
	return -1;
}

int
main(int argc, char **argv)
{
	struct ipt_kube_params p;
	struct ipt_handle *h;
	const char *lock = NULL;
	int family = AF_INET, wait_ms = 5000, caps = 0, rf = 1, out = 0;
	int noext = 0;
	int opt, fd = -1, commits = 0, rc;

	while ((opt = getopt(argc, argv, "6l:w:crox")) != -1) {
		switch (opt) {
		case '6':
			family = AF_INET6;
			break;
		case 'l':
			lock = optarg;
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		case 'c':
			caps = 1;
			break;
		case 'r':
			rf = 0;
			break;
		case 'o':
			out = 1;
			break;
		case 'x':
			noext = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return 2;
	params_example(&p, family, rf);
	if (out) {
		p.lb_drop = &lb_drop;
		p.n_lb_drop = 1;
	}
	if (noext)
		p.nonempty &= ~(1U << IPT_KS_EXTERNAL_IP_LOCAL);
	if (strcmp(argv[optind], "render") == 0)
		return render(&p) < 0;
	/* The parent opens the lock file before the sandbox; so do we. */
	if (lock != NULL &&
	    (fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		perror(lock);
		return 1;
	}
	if (caps && drop_to_net_admin() < 0)
		return 1;
	if ((h = ipt_open(family, fd, wait_ms)) == NULL) {
		perror("ipt_open");
		return 1;
	}
	if (strcmp(argv[optind], "kube") == 0) {
		if (make_sets(family) < 0)
			return 1;
		rc = ipt_kube_apply(h, &p, &commits);
	} else if (strcmp(argv[optind], "clean") == 0)
		rc = clean(h, &commits);
	else
		return 2;
	if (rc < 0) {
		printf("error: %d (%s): %s\n", errno, strerror(errno),
		    ipt_last_error(h));
		rc = errno == ETIMEDOUT ? 3 : 1;
	} else
		printf("commits=%d\n", commits);
	ipt_close(h);
	return rc;
}
