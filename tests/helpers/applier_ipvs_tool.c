/*
 * applier_ipvs_tool: drives applierd/applier_ipvs and applier_addr from the
 * VM tests.
 *
 *	applier_ipvs_tool [-b BATCH] [-a AUDITFILE] batch < OPS
 *	applier_ipvs_tool dump		ipvsadm -Sn's format, + "# conns" lines
 *	applier_ipvs_tool count		"services N dests M"
 *	applier_ipvs_tool timeouts TCP TCPFIN UDP | gettimeouts
 *	applier_ipvs_tool link | unlink | addr add|del IP... | addrs
 *
 * OPS lines (all sent by one ipvs_batch call, BATCH per sendmsg):
 *	svc_add|svc_edit PROTO VIP PORT SCHED [PERSIST_TIMEOUT]
 *	svc_del PROTO VIP PORT
 *	dest_add|dest_edit PROTO VIP PORT RIP RPORT WEIGHT
 *	dest_del PROTO VIP PORT RIP RPORT
 * Results: one line per op "N err changed" (only failures unless -v),
 * then "# ops=N failed=F changed=C time=S" on stderr.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ip_vs.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_audit.h"
#include "applierd/applier_ipvs.h"

static int
parse_addr(const char *s, int *family, union ipvs_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
parse_proto(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcmp(s, "udp") == 0)
		return IPPROTO_UDP;
	if (strcmp(s, "sctp") == 0)
		return IPPROTO_SCTP;
	return -1;
}

static int
parse_op(char *line, struct ipvs_op *op)
{
	char *f[8];
	int nf = 0, proto;
	char *tok, *save = NULL;

	memset(op, 0, sizeof(*op));
	for (tok = strtok_r(line, " \t\n", &save); tok != NULL && nf < 8;
	    tok = strtok_r(NULL, " \t\n", &save))
		f[nf++] = tok;
	if (nf < 4)
		return -1;
	if (strcmp(f[0], "svc_add") == 0)
		op->kind = IPVS_OP_SVC_ADD;
	else if (strcmp(f[0], "svc_edit") == 0)
		op->kind = IPVS_OP_SVC_EDIT;
	else if (strcmp(f[0], "svc_del") == 0)
		op->kind = IPVS_OP_SVC_DEL;
	else if (strcmp(f[0], "dest_add") == 0)
		op->kind = IPVS_OP_DEST_ADD;
	else if (strcmp(f[0], "dest_edit") == 0)
		op->kind = IPVS_OP_DEST_EDIT;
	else if (strcmp(f[0], "dest_del") == 0)
		op->kind = IPVS_OP_DEST_DEL;
	else
		return -1;
	if ((proto = parse_proto(f[1])) < 0 ||
	    parse_addr(f[2], &op->svc.family, &op->svc.addr) < 0)
		return -1;
	op->svc.protocol = (uint16_t)proto;
	op->svc.port = (uint16_t)atoi(f[3]);
	op->svc.netmask = op->svc.family == AF_INET6 ? 128 : 0xffffffffU;
	switch (op->kind) {
	case IPVS_OP_SVC_ADD:
	case IPVS_OP_SVC_EDIT:
		if (nf < 5)
			return -1;
		snprintf(op->svc.sched, sizeof(op->svc.sched), "%s", f[4]);
		if (nf >= 6) {
			op->svc.flags = IP_VS_SVC_F_PERSISTENT;
			op->svc.timeout = (uint32_t)atoi(f[5]);
		}
		return 0;
	case IPVS_OP_SVC_DEL:
		return 0;
	default:
		if (nf < 6 || parse_addr(f[4], &op->dest.family,
		    &op->dest.addr) < 0)
			return -1;
		op->dest.port = (uint16_t)atoi(f[5]);
		if (op->kind != IPVS_OP_DEST_DEL) {
			if (nf < 7)
				return -1;
			op->dest.weight = (uint32_t)atoi(f[6]);
		}
		return 0;
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_batch(size_t batch, const char *audit, int verbose)
{
	struct ipvs_handle *h;
	struct ipvs_op *ops = NULL, *nops;
	size_t n = 0, cap = 0, i, failed = 0, changed = 0;
	char line[512], obj[256];
	double t0, t1;
	int afd = -1, rc;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nops = reallocarray(ops, cap, sizeof(*ops))) ==
			    NULL)
				return 1;
			ops = nops;
		}
		if (parse_op(line, &ops[n]) < 0) {
			fprintf(stderr, "bad op line %zu\n", n + 1);
			return 2;
		}
		n++;
	}
	if ((h = ipvs_open()) == NULL) {
		perror("ipvs_open");
		return 1;
	}
	if (batch)
		ipvs_set_batch_size(h, batch);
	t0 = now_s();
	rc = ipvs_batch(h, ops, n);
	t1 = now_s();
	if (audit != NULL &&
	    (afd = open(audit, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		perror(audit);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ops[i].err)
			failed++;
		if (ops[i].changed)
			changed++;
		if (verbose || ops[i].err)
			printf("%zu %d %d\n", i + 1, ops[i].err,
			    ops[i].changed);
		if (afd >= 0) {
			struct audit_rec r = {
				.batch = 1, .seq = i + 1,
				.op = ipvs_op_name(ops[i].kind),
				.object = ops[i].kind >= IPVS_OP_DEST_ADD ?
				    ipvs_dest_str(&ops[i].svc, &ops[i].dest,
				    obj, sizeof(obj)) :
				    ipvs_svc_str(&ops[i].svc, obj,
				    sizeof(obj)),
				.err = ops[i].err,
			};

			if (audit_write(afd, &r) < 0)
				perror("audit_write");
		}
	}
	fprintf(stderr, "# ops=%zu failed=%zu changed=%zu time=%.3f s "
	    "batch=%zu\n", n, failed, changed, t1 - t0, batch ? batch : 256);
	if (afd >= 0)
		close(afd);
	ipvs_close(h);
	free(ops);
	return rc < 0 ? 1 : 0;
}

static const char *
proto_flag(uint16_t p)
{
	return p == IPPROTO_UDP ? "-u" : p == IPPROTO_SCTP ? "--sctp-service" :
	    "-t";
}

static void
ap_str(int family, const union ipvs_addr *a, uint16_t port, char *buf,
    size_t len)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family, a->bytes, s, sizeof(s));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", s, port);
}

static int
dump_cb(const struct ipvs_svc *svc, const struct ipvs_dest *d, size_t nd,
    void *arg)
{
	char vs[80], rs[80];
	size_t i;

	(void)arg;
	ap_str(svc->family, &svc->addr, svc->port, vs, sizeof(vs));
	printf("-A %s %s -s %s", proto_flag(svc->protocol), vs, svc->sched);
	if (svc->flags & IP_VS_SVC_F_PERSISTENT)
		printf(" -p %u", svc->timeout);
	printf("\n");
	for (i = 0; i < nd; i++) {
		ap_str(d[i].family, &d[i].addr, d[i].port, rs, sizeof(rs));
		printf("-a %s %s -r %s %s -w %u\n", proto_flag(svc->protocol),
		    vs, rs, d[i].fwd == IP_VS_CONN_F_MASQ ? "-m" : "-?",
		    d[i].weight);
		if (d[i].active || d[i].inactive)
			fprintf(stderr, "# conns %s -> %s active %u "
			    "inactive %u\n", vs, rs, d[i].active,
			    d[i].inactive);
	}
	return 0;
}

struct counts {
	size_t	svcs, dests;
};

static int
count_cb(const struct ipvs_svc *svc, const struct ipvs_dest *d, size_t nd,
    void *arg)
{
	struct counts *c = arg;

	(void)svc;
	(void)d;
	c->svcs++;
	c->dests += nd;
	return 0;
}

static int
addr_cb(const struct addr_entry *e, void *arg)
{
	char s[INET6_ADDRSTRLEN];

	(void)arg;
	inet_ntop(e->family, e->addr, s, sizeof(s));
	printf("%s %s/%u\n", e->ifname, s, e->prefixlen);
	return 0;
}

static int
cmd_addr(int argc, char **argv)
{
	struct addr_handle *h;
	union ipvs_addr a;
	int i, fam, created = 0, rc = 0;

	if ((h = addr_open()) == NULL) {
		perror("addr_open");
		return 1;
	}
	if (strcmp(argv[0], "link") == 0) {
		rc = addr_link_ensure(h, &created);
		if (rc == 0)
			printf("created=%d ifindex=%d\n", created,
			    addr_link_index(h));
	} else if (strcmp(argv[0], "unlink") == 0)
		rc = addr_link_remove(h);
	else if (strcmp(argv[0], "addrs") == 0)
		rc = addr_dump(h, addr_cb, NULL);
	else if (strcmp(argv[0], "addr") == 0 && argc >= 2) {
		for (i = 2; i < argc && rc == 0; i++) {
			if (parse_addr(argv[i], &fam, &a) < 0) {
				fprintf(stderr, "bad address %s\n", argv[i]);
				return 2;
			}
			rc = strcmp(argv[1], "add") == 0 ?
			    addr_add(h, fam, a.bytes) :
			    addr_del(h, fam, a.bytes);
		}
	} else
		return 2;
	if (rc < 0)
		printf("error: %d: %s\n", errno, strerror(errno));
	addr_close(h);
	return rc < 0;
}

int
main(int argc, char **argv)
{
	struct ipvs_handle *h;
	struct ipvs_timeouts t;
	struct counts c = { 0, 0 };
	const char *audit = NULL;
	size_t batch = 0;
	int opt, verbose = 0, rc = 0;
	double t0;

	while ((opt = getopt(argc, argv, "b:a:v")) != -1) {
		switch (opt) {
		case 'b':
			batch = (size_t)atol(optarg);
			break;
		case 'a':
			audit = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return 2;
	if (strcmp(argv[0], "batch") == 0)
		return cmd_batch(batch, audit, verbose);
	if (strcmp(argv[0], "link") == 0 || strcmp(argv[0], "unlink") == 0 ||
	    strcmp(argv[0], "addr") == 0 || strcmp(argv[0], "addrs") == 0)
		return cmd_addr(argc, argv);
	if ((h = ipvs_open()) == NULL) {
		perror("ipvs_open");
		return 1;
	}
	t0 = now_s();
	if (strcmp(argv[0], "dump") == 0)
		rc = ipvs_dump(h, dump_cb, NULL);
	else if (strcmp(argv[0], "count") == 0) {
		if ((rc = ipvs_dump(h, count_cb, &c)) == 0)
			printf("services %zu dests %zu\n", c.svcs, c.dests);
		fprintf(stderr, "# dump time=%.3f s\n", now_s() - t0);
	} else if (strcmp(argv[0], "timeouts") == 0 && argc == 4) {
		t.tcp = (uint32_t)atoi(argv[1]);
		t.tcp_fin = (uint32_t)atoi(argv[2]);
		t.udp = (uint32_t)atoi(argv[3]);
		rc = ipvs_set_timeouts(h, &t);
	} else if (strcmp(argv[0], "gettimeouts") == 0) {
		if ((rc = ipvs_get_timeouts(h, &t)) == 0)
			printf("%u %u %u\n", t.tcp, t.tcp_fin, t.udp);
	} else
		return 2;
	if (rc < 0)
		printf("error: %d: %s\n", errno, strerror(errno));
	ipvs_close(h);
	return rc < 0;
}
