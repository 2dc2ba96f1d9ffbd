/*
 * ipvs_floor: the raw floor for programming IPVS, the yardstick kipvs's
 * applier is measured against (see docs/benchmarks.md).
 *
 * It adds (or deletes) a synthetic table of N TCP virtual servers with M
 * masquerading real servers each, or the table of an `ipvsadm -Sn` file
 * (-f: the kipvs rows of the benchmark load what kipvs-render computes for
 * the workload, so every method programs the same table), with hand-built
 * generic netlink messages,
 * BATCH requests per sendmsg() and one acknowledgement fence per batch: no
 * model, no IPC, no validation, no library.  It can also print the same
 * table as `ipvsadm -R` input and the matching KUBE-CLUSTER-IP members as
 * `ipset restore` input, so the benchmark times the reference tools on
 * exactly the same work.
 *
 *	ipvs_floor add|del|ipvsadm|ipset [-n SERVICES] [-m DESTS] [-b BATCH]
 *	ipvs_floor add|del -f FILE [-b BATCH]
 *
 * FILE holds IPv4 TCP lines "-A -t VIP:PORT -s SCHED" and "-a -t VIP:PORT
 * -r IP:PORT -m -w WEIGHT" (what `ipvsadm -Sn` prints for such a table).
 *
 * add/del print "ops=<n> errors=<n> seconds=<t>" on stdout.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE	(1 << 20)
#define NLA_ALIGN4(n)	(((n) + 3U) & ~3U)

struct nlbuf {
	uint8_t		*data;
	size_t		 len;
};

/* One request: a virtual server (rs_addr 0) or a real server of it. */
struct ent {
	uint32_t	 vs_addr;	/* network order */
	uint16_t	 vs_port;	/* host order */
	uint32_t	 rs_addr;
	uint16_t	 rs_port;
	uint32_t	 weight;
	char		 sched[16];
};

struct table {
	struct ent	*e;
	size_t		 n;
	size_t		 cap;
};

struct floor {
	int		 fd;
	uint16_t	 family;
	uint32_t	 seq;
	unsigned long	 errors;
	unsigned long	 ops;
};

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* Address of virtual server i: 10.96.0.0/12 from .1 upwards. */
static uint32_t
vs_addr(unsigned int i)
{
	return htonl((10U << 24 | 96U << 16) + 1 + i);
}

/* Address of real server j of service i: 10.128.0.0/9, one per pair. */
static uint32_t
rs_addr(unsigned int i, unsigned int j, unsigned int m)
{
	return htonl((10U << 24 | 128U << 16) + 1 + i * m + j);
}

static struct nlattr *
nla_put(struct nlbuf *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(b->data + b->len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0,
	    NLA_ALIGN4(len) - len);
	b->len += NLA_HDRLEN + NLA_ALIGN4(len);
	return a;
}

static void
nla_u16(struct nlbuf *b, uint16_t type, uint16_t v)
{
	nla_put(b, type, &v, sizeof(v));
}

static void
nla_u32(struct nlbuf *b, uint16_t type, uint32_t v)
{
	nla_put(b, type, &v, sizeof(v));
}

static struct nlmsghdr *
msg_begin(struct nlbuf *b, struct floor *f, uint16_t type, uint8_t cmd,
    uint16_t flags)
{
	struct nlmsghdr *n = (struct nlmsghdr *)(b->data + b->len);
	struct genlmsghdr *g;

	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | flags;
	n->nlmsg_seq = ++f->seq;
	n->nlmsg_pid = 0;
	b->len += NLMSG_HDRLEN;
	g = (struct genlmsghdr *)(b->data + b->len);
	g->cmd = cmd;
	g->version = IPVS_GENL_VERSION;
	g->reserved = 0;
	b->len += NLMSG_ALIGN(GENL_HDRLEN);
	return n;
}

static void
msg_end(struct nlbuf *b, struct nlmsghdr *n)
{
	n->nlmsg_len = (uint32_t)(b->data + b->len - (uint8_t *)n);
}

static void
nest_end(struct nlbuf *b, struct nlattr *a)
{
	a->nla_len = (uint16_t)(b->data + b->len - (uint8_t *)a);
}

/* The service identity, plus the full entry the kernel needs on add. */
static void
put_service(struct nlbuf *b, const struct ent *e, int full)
{
	struct ip_vs_flags fl = { 0, ~0U };
	struct nlattr *nest;
	uint32_t addr[4] = { e->vs_addr, 0, 0, 0 };

	nest = nla_put(b, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, NULL, 0);
	nla_u16(b, IPVS_SVC_ATTR_AF, AF_INET);
	nla_u16(b, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
	nla_put(b, IPVS_SVC_ATTR_ADDR, addr, sizeof(addr));
	nla_u16(b, IPVS_SVC_ATTR_PORT, htons(e->vs_port));
	if (full) {
		nla_put(b, IPVS_SVC_ATTR_SCHED_NAME, e->sched,
		    strlen(e->sched) + 1);
		nla_put(b, IPVS_SVC_ATTR_FLAGS, &fl, sizeof(fl));
		nla_u32(b, IPVS_SVC_ATTR_TIMEOUT, 0);
		nla_u32(b, IPVS_SVC_ATTR_NETMASK, 0xffffffffU);
	}
	nest_end(b, nest);
}

static void
put_dest(struct nlbuf *b, const struct ent *e)
{
	struct nlattr *nest;
	uint32_t addr[4] = { e->rs_addr, 0, 0, 0 };

	nest = nla_put(b, IPVS_CMD_ATTR_DEST | NLA_F_NESTED, NULL, 0);
	nla_put(b, IPVS_DEST_ATTR_ADDR, addr, sizeof(addr));
	nla_u16(b, IPVS_DEST_ATTR_PORT, htons(e->rs_port));
	nla_u32(b, IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_MASQ);
	nla_u32(b, IPVS_DEST_ATTR_WEIGHT, e->weight);
	nla_u32(b, IPVS_DEST_ATTR_U_THRESH, 0);
	nla_u32(b, IPVS_DEST_ATTR_L_THRESH, 0);
	nla_u16(b, IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
	nest_end(b, nest);
}

/*
 * Reads replies until the acknowledgement of `fence` arrives; every other
 * error message is counted.
 */
static void
wait_fence(struct floor *f, uint32_t fence)
{
	static uint8_t rbuf[BUF_SIZE];
	ssize_t n;

	for (;;) {
		struct nlmsghdr *h;
		size_t left;

		n = recv(f->fd, rbuf, sizeof(rbuf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		left = (size_t)n;
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, left);
		    h = NLMSG_NEXT(h, left)) {
			struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if (e->error != 0)
				f->errors++;
			if (h->nlmsg_seq == fence)
				return;
		}
	}
}

static void
send_batch(struct floor *f, struct nlbuf *b)
{
	uint8_t *p = b->data;
	size_t left = b->len;

	while (left > 0) {
		ssize_t n = send(f->fd, p, left, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		/* A netlink send is all or nothing. */
		p += n;
		left -= (size_t)n;
	}
}

static uint16_t
resolve_family(struct floor *f)
{
	static uint8_t buf[8192];
	struct nlbuf b = { buf, 0 };
	struct nlmsghdr *n;
	struct genlmsghdr *g;
	ssize_t r;

	n = (struct nlmsghdr *)buf;
	n->nlmsg_type = GENL_ID_CTRL;
	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = ++f->seq;
	n->nlmsg_pid = 0;
	b.len = NLMSG_HDRLEN;
	g = (struct genlmsghdr *)(buf + b.len);
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	g->reserved = 0;
	b.len += NLMSG_ALIGN(GENL_HDRLEN);
	nla_put(&b, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME,
	    sizeof(IPVS_GENL_NAME));
	n->nlmsg_len = (uint32_t)b.len;
	send_batch(f, &b);
	r = recv(f->fd, buf, sizeof(buf), 0);
	if (r < 0)
		die("recv family");
	if (n->nlmsg_type == NLMSG_ERROR) {
		fprintf(stderr, "ipvs_floor: no IPVS generic netlink family "
		    "(is ip_vs loaded?)\n");
		exit(1);
	}
	{
		size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(GENL_HDRLEN);

		while (off + NLA_HDRLEN <= n->nlmsg_len) {
			struct nlattr *a = (struct nlattr *)(buf + off);

			if (a->nla_len < NLA_HDRLEN)
				break;
			if ((a->nla_type & NLA_TYPE_MASK) ==
			    CTRL_ATTR_FAMILY_ID)
				return *(uint16_t *)((uint8_t *)a +
				    NLA_HDRLEN);
			off += NLA_ALIGN4(a->nla_len);
		}
	}
	fprintf(stderr, "ipvs_floor: family reply without an id\n");
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Queues one request; sends the batch with an ACK fence on its last
 * message when it is full or `last` is set.
 */
static void
queue(struct floor *f, struct nlbuf *b, unsigned int *inbatch,
    unsigned int batch, int last, int op, const struct ent *e)
{
	struct nlmsghdr *n;
	int fence = last || *inbatch + 1 >= batch;

	n = msg_begin(b, f, f->family, (uint8_t)op, fence ? NLM_F_ACK : 0);
	put_service(b, e, op == IPVS_CMD_NEW_SERVICE);
	if (op == IPVS_CMD_NEW_DEST)
		put_dest(b, e);
	msg_end(b, n);
	f->ops++;
	if (fence) {
		send_batch(f, b);
		wait_fence(f, n->nlmsg_seq);
		b->len = 0;
		*inbatch = 0;
	} else
		(*inbatch)++;
}

static int
run_netlink(int del, const struct table *t, unsigned int batch)
{
	static uint8_t buf[BUF_SIZE];
	struct nlbuf b = { buf, 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct floor f = { .fd = -1 };
	unsigned int inbatch = 0;
	size_t i, last = 0;
	int rcv = 8 << 20;
	double t0;

	f.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (f.fd == -1)
		die("socket");
	if (setsockopt(f.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
	    sizeof(rcv)) == -1)
		setsockopt(f.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* One batch is one sendmsg: the send buffer must hold all of it. */
	if (setsockopt(f.fd, SOL_SOCKET, SO_SNDBUFFORCE, &rcv,
	    sizeof(rcv)) == -1)
		setsockopt(f.fd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	if (bind(f.fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("bind");
	f.family = resolve_family(&f);

	/* The last request carries the final fence. */
	for (i = 0; i < t->n; i++)
		if (!del || t->e[i].rs_addr == 0)
			last = i;
	t0 = now();
	for (i = 0; i < t->n; i++) {
		const struct ent *e = &t->e[i];

		if (del && e->rs_addr != 0)
			continue;
		queue(&f, &b, &inbatch, batch, i == last, del ?
		    IPVS_CMD_DEL_SERVICE : e->rs_addr == 0 ?
		    IPVS_CMD_NEW_SERVICE : IPVS_CMD_NEW_DEST, e);
	}
	printf("ops=%lu errors=%lu seconds=%.6f\n", f.ops, f.errors,
	    now() - t0);
	close(f.fd);
	return f.errors ? 1 : 0;
}

static void
ip4(uint32_t a, char *out, size_t len)
{
	inet_ntop(AF_INET, &a, out, (socklen_t)len);
}

static void
print_ipvsadm(unsigned int n, unsigned int m)
{
	char vs[INET_ADDRSTRLEN], rs[INET_ADDRSTRLEN];
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		ip4(vs_addr(i), vs, sizeof(vs));
		printf("-A -t %s:80 -s rr\n", vs);
		for (j = 0; j < m; j++) {
			ip4(rs_addr(i, j, m), rs, sizeof(rs));
			printf("-a -t %s:80 -r %s:8080 -m -w 1\n", vs, rs);
		}
	}
}

static void
print_ipset(unsigned int n)
{
	char vs[INET_ADDRSTRLEN];
	unsigned int i;

	printf("create KUBE-CLUSTER-IP hash:ip,port family inet "
	    "hashsize 1024 maxelem 65536\n");
	for (i = 0; i < n; i++) {
		ip4(vs_addr(i), vs, sizeof(vs));
		printf("add KUBE-CLUSTER-IP %s,tcp:80\n", vs);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: ipvs_floor add|del|ipvsadm|ipset "
	    "[-n SERVICES] [-m DESTS] [-b BATCH]\n"
	    "       ipvs_floor add|del -f FILE [-b BATCH]\n");
	exit(2);
}

static struct ent *
table_add(struct table *t)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 4096;
		t->e = realloc(t->e, t->cap * sizeof(*t->e));
		if (t->e == NULL)
			die("realloc");
	}
	memset(&t->e[t->n], 0, sizeof(t->e[0]));
	return &t->e[t->n++];
}

static void
table_synthetic(struct table *t, unsigned int n, unsigned int m)
{
	unsigned int i, j;
	struct ent *e;

	for (i = 0; i < n; i++) {
		e = table_add(t);
		e->vs_addr = vs_addr(i);
		e->vs_port = 80;
		snprintf(e->sched, sizeof(e->sched), "rr");
		for (j = 0; j < m; j++) {
			e = table_add(t);
			e->vs_addr = vs_addr(i);
			e->vs_port = 80;
			e->rs_addr = rs_addr(i, j, m);
			e->rs_port = 8080;
			e->weight = 1;
		}
	}
}

/* "A.B.C.D:PORT" into network-order address and host-order port. */
static int
hostport(const char *s, uint32_t *addr, uint16_t *port)
{
	char a[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	unsigned long p;
	char *end;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = '\0';
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535 ||
	    inet_pton(AF_INET, a, addr) != 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static void
table_file(struct table *t, const char *path)
{
	char line[512], vs[64], rs[64], sched[16];
	unsigned long w, lineno = 0;
	FILE *f = fopen(path, "r");
	struct ent *e;

	if (f == NULL)
		die(path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		e = table_add(t);
		if (sscanf(line, "-A -t %63s -s %15s", vs, sched) == 2) {
			if (hostport(vs, &e->vs_addr, &e->vs_port) == -1)
				goto bad;
			snprintf(e->sched, sizeof(e->sched), "%s", sched);
		} else if (sscanf(line, "-a -t %63s -r %63s -m -w %lu", vs, rs,
		    &w) == 3) {
			if (hostport(vs, &e->vs_addr, &e->vs_port) == -1 ||
			    hostport(rs, &e->rs_addr, &e->rs_port) == -1 ||
			    w > 65535)
				goto bad;
			e->weight = (uint32_t)w;
		} else
			goto bad;
	}
	fclose(f);
	return;
bad:
	fprintf(stderr, "ipvs_floor: %s:%lu: not an IPv4 TCP -A/-a line\n",
	    path, lineno);
	exit(1);
}

int
main(int argc, char *argv[])
{
	unsigned long n = 1000, m = 5, batch = 256;
	struct table t = { NULL, 0, 0 };
	const char *mode, *file = NULL;
	int c;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "n:m:b:f:")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			m = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	/* 10.96.0.0/12 and 10.128.0.0/9 bound the synthetic table. */
	if (n == 0 || n > 1000000 || m > 64 || batch == 0 || batch > 4096)
		usage();
	if (file != NULL)
		table_file(&t, file);
	else
		table_synthetic(&t, (unsigned)n, (unsigned)m);
	if (strcmp(mode, "add") == 0)
		return run_netlink(0, &t, (unsigned)batch);
	if (strcmp(mode, "del") == 0)
		return run_netlink(1, &t, (unsigned)batch);
	if (strcmp(mode, "ipvsadm") == 0)
		print_ipvsadm((unsigned)n, (unsigned)m);
	else if (strcmp(mode, "ipset") == 0)
		print_ipset((unsigned)n);
	else
		usage();
	return 0;
}
