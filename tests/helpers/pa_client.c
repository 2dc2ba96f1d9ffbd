/*
 * pa_client: plays kipvs (the parent) and kipvs-planner for one
 * kipvs-applierd started directly over socketpairs, and sends it scripted
 * batches from stdin, printing every result and dump record.  For the
 * applier's VM tests (tests/vm/guest/applierd-*.sh).
 *
 *	pa_client [-a AUDIT] [-l LOCK] [-q] -- APPLIERD [ARGS...]
 *
 * The daemon gets fd 3 (control), 4 (planner link), 5 (AUDIT, O_APPEND),
 * 6 (LOCK) as kipvs would give them.  Script lines (# comments):
 *
 *	begin [confirmed] [full]	start a batch
 *	vs ADDR PROTO PORT SCHED [persistent T] [netmask N] [mhport]
 *	vsdel ADDR PROTO PORT
 *	rs|rsdel|rsweight VADDR PROTO VPORT RADDR RPORT WEIGHT
 *	timeouts TCP FIN UDP | link | addr ADDR | addrdel ADDR
 *	set SETNAME | member SETNAME ENTRY | memberdel SETNAME ENTRY
 *	reload SETNAME | staged SETNAME ENTRY | commit SETNAME
 *	chain 4|6 CHAIN [masqall] [randomfully] [bit N] [cidr P]
 *	    [nonempty SET,SET..]
 *	dropvip 4|6 ADDR PROTO PORT
 *	dump [ipvs,addrs,sets,chains]	a dump-request op
 *	scale NVS NRS			10.200.x.y VS with NRS RS each
 *	end				send; print the results (and dump)
 *	waitdump			wait for a dump and print it
 *	sleep MS
 *
 * What a compromised planner could send (tests/vm/guest/applier-hostile.sh):
 *
 *	hostile WHAT [N]		one protocol violation, then wait for
 *					the applier to close the channel:
 *					"hostile WHAT closed" (or "... open")
 *	    set-id N | chain-id N | op-kind N | family N   an op naming a
 *					set, chain, op kind or family that
 *					does not exist
 *	    oversized | short | len-mismatch | bad-magic | bad-version |
 *	    bad-seq | bad-flags | unknown-type | wrong-dir | fd | trailing
 *					frames broken in that one way
 *	    ops-outside | end-mismatch | too-many-ops | batch-replay |
 *	    more-ops				batch brackets broken
 *	reconnect			a fresh planner socket through the
 *					control link, as kipvs hands one over
 *	flood NBATCH NOPS		NBATCH batches of NOPS deny-listed
 *					virtual servers, sent without waiting;
 *					"flood ... results N rejected N"
 *
 * Output: "result SEQ STATUS ERRNO REASON", "summary ok=N failed=N
 * rejected=N blocked=N", dump records "rec ...".  -q prints only the
 * results that are not ok, and the summary.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applierd/applier_exec.h"
#include "applierd/applier_ipset.h"
#include "common/addr.h"
#include "common/log.h"
#include "ipc/link.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pa.h"

static struct ipc_link ctl, pa;
static struct ap_rx arx;
static int quiet;
static pid_t child;
static int got_dump, results_done;
static size_t n_ok, n_failed, n_rejected, n_blocked, n_recs;
static size_t n_batches_done;

static void die(const char *, const char *)
    __attribute__((format(printf, 1, 0), noreturn));

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "pa_client: ");
	fprintf(stderr, "%s", fmt[0] == '%' ? arg : fmt);
	if (fmt[0] != '%')
		fprintf(stderr, " (%s)", arg);
	fprintf(stderr, "\n");
	if (child > 0)
		kill(child, SIGKILL);
	exit(2);
}

static const char *
proto_str(uint8_t p)
{
	return p == REC_PROTO_TCP ? "tcp" : p == REC_PROTO_UDP ? "udp" :
	    "sctp";
}

static void
print_rec(const struct ap_rec *r)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN], obj[256];
	struct pa_op op;

	switch (r->kind) {
	case AP_REC_VS:
		printf("rec vs %s %s:%u %s flags %u timeout %u\n",
		    proto_str(r->u.vs.key.protocol),
		    addr_fmt(&r->u.vs.key.addr, a, sizeof(a)),
		    r->u.vs.key.port, r->u.vs.sched, r->u.vs.flags,
		    r->u.vs.timeout);
		break;
	case AP_REC_RS:
		printf("rec rs %s %s:%u -> %s:%u weight %u active %u "
		    "inactive %u\n", proto_str(r->u.rs.rs.vs.protocol),
		    addr_fmt(&r->u.rs.rs.vs.addr, a, sizeof(a)),
		    r->u.rs.rs.vs.port, addr_fmt(&r->u.rs.rs.addr, b,
		    sizeof(b)), r->u.rs.rs.port, r->u.rs.rs.weight,
		    r->u.rs.active, r->u.rs.inactive);
		break;
	case AP_REC_ADDR:
		printf("rec addr %s %s\n", r->u.addr.ifname,
		    prefix_fmt(&r->u.addr.prefix, a, sizeof(a)));
		break;
	case AP_REC_SET_MEMBER:
		memset(&op, 0, sizeof(op));
		op.kind = PA_OP_SET_ADD;
		op.u.entry = r->u.member;
		printf("rec member %s\n", exec_op_object(&op, obj,
		    sizeof(obj)));
		break;
	case AP_REC_CHAIN:
		printf("rec chain %u %s %s rules %u matches %u\n",
		    r->u.chain.family, pa_chain_table(r->u.chain.chain),
		    pa_chain_name(r->u.chain.chain), r->u.chain.n_rules,
		    r->u.chain.matches);
		break;
	}
}

static void
on_ap(const struct frame_msg *m)
{
	static const char *const st[] = { "ok", "failed", "rejected",
	    "blocked" };
	struct ap_event ev;
	const char *reason = NULL;
	size_t i;

	memset(&ev, 0, sizeof(ev));
	if (ap_rx_feed(&arx, m, &ev, &reason) == -1)
		die("protocol violation from the applier: %s",
		    reason ? reason : "?");
	switch (ev.type) {
	case AP_EV_RESULTS:
		for (i = 0; i < ev.n; i++) {
			const struct ap_result *r = &ev.results[i];

			switch (r->status) {
			case AP_OK: n_ok++; break;
			case AP_FAILED: n_failed++; break;
			case AP_REJECTED: n_rejected++; break;
			default: n_blocked++; break;
			}
			if (!quiet || r->status != AP_OK)
				printf("result %u %s %d %s\n", r->seq,
				    st[r->status <= 3 ? r->status : 1],
				    r->err, r->reason);
		}
		if (ev.last) {
			results_done = 1;
			n_batches_done++;
		}
		break;
	case AP_EV_DUMP_BEGIN:
		n_recs = 0;
		printf("dump %llu begin what %#x\n",
		    (unsigned long long)ev.dbegin.dump, ev.dbegin.what);
		break;
	case AP_EV_DUMP_RECS:
		for (i = 0; i < ev.n; i++) {
			n_recs++;
			if (!quiet)
				print_rec(&ev.recs[i]);
		}
		break;
	case AP_EV_DUMP_END:
		printf("dump %llu end records %u\n",
		    (unsigned long long)ev.dend.dump, ev.dend.n_recs);
		got_dump = 1;
		break;
	}
	ap_event_clear(&ev);
	fflush(stdout);
}

/* One round of the poll loop; -1 when the daemon is gone. */
static int
pump(int timeout_ms)
{
	struct pollfd pfd[2];
	struct ipc_link *l[2] = { &ctl, &pa };
	struct frame_msg m;
	int i, rv, t;

	for (i = 0; i < 2; i++) {
		if (!l[i]->open)
			return -1;
		t = link_tick(l[i], ipc_now_ms());
		if (t >= 0 && t < timeout_ms)
			timeout_ms = t;
		pfd[i].fd = l[i]->chan.fd;
		pfd[i].events = POLLIN | (frame_pending(&l[i]->chan) ?
		    POLLOUT : 0);
	}
	if (poll(pfd, 2, timeout_ms) == -1 && errno != EINTR)
		return -1;
	for (i = 0; i < 2; i++) {
		if (pfd[i].revents & POLLOUT)
			(void)frame_flush(&l[i]->chan);
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		while ((rv = link_recv(l[i], &m)) != LINK_IDLE) {
			if (rv == LINK_DOWN) {
				link_close(l[i]);
				return -1;
			}
			if (rv == LINK_MSG && i == 1)
				on_ap(&m);
		}
	}
	return 0;
}

static void
wait_for(int *flag, int secs)
{
	uint64_t end = ipc_now_ms() + (uint64_t)secs * 1000;

	while (!*flag) {
		if (ipc_now_ms() > end)
			die("%s", "timed out waiting for the applier");
		if (pump(200) == -1)
			die("%s", "the applier went away");
	}
}

/* The batch being built. */
static struct pa_op *ops;
static size_t n_ops, cap_ops;
static uint32_t next_seq = 1, batch_flags;
static uint64_t next_batch = 1;
static int want_dump;

static struct pa_op *
op_new(uint8_t kind)
{
	if (n_ops == cap_ops) {
		cap_ops = cap_ops ? cap_ops * 2 : 1024;
		if ((ops = reallocarray(ops, cap_ops, sizeof(*ops))) == NULL)
			die("%s", "out of memory");
	}
	memset(&ops[n_ops], 0, sizeof(ops[0]));
	ops[n_ops].kind = kind;
	ops[n_ops].seq = next_seq++;
	return &ops[n_ops++];
}

static void
p_addr(const char *s, struct rec_addr *a)
{
	char why[128];

	if (s == NULL)
		die("%s", "address missing");
	if (addr_parse(s, 0, a, why, sizeof(why)) == 0)
		return;
	/* Forms the strict parser refuses (v4-mapped): policy tests. */
	memset(a, 0, sizeof(*a));
	a->family = 6;
	if (inet_pton(AF_INET6, s, a->addr) != 1)
		die("bad address %s", s);
}

static uint8_t
p_proto(const char *s)
{
	if (s == NULL)
		die("%s", "protocol missing");
	if (strcmp(s, "tcp") == 0)
		return REC_PROTO_TCP;
	if (strcmp(s, "udp") == 0)
		return REC_PROTO_UDP;
	if (strcmp(s, "sctp") == 0)
		return REC_PROTO_SCTP;
	die("bad protocol %s", s);
	return 0;
}

static unsigned long
p_num(const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL)
		die("%s", "number missing");
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		die("bad number %s", s);
	return v;
}

static void
p_set(const char *s, uint8_t *id, uint8_t *family)
{
	uint8_t i;
	int f;

	for (f = 4; f <= 6; f += 2)
		for (i = 1; i <= PA_SET_ID_MAX; i++)
			if (s != NULL && strcmp(pa_set_name(i, (uint8_t)f),
			    s) == 0) {
				*id = i;
				*family = (uint8_t)f;
				return;
			}
	die("unknown set %s", s ? s : "(none)");
}

static uint8_t
p_chain(const char *s)
{
	uint8_t i;

	/* Names repeat across tables: "nat/KUBE-NODE-PORT". */
	for (i = 1; i <= PA_CHAIN_ID_MAX; i++) {
		char full[64];

		snprintf(full, sizeof(full), "%s/%s", pa_chain_table(i),
		    pa_chain_name(i));
		if (s != NULL && strcmp(full, s) == 0)
			return i;
	}
	die("unknown chain %s (table/NAME)", s ? s : "(none)");
	return 0;
}

static void
p_entry(uint8_t kind, const char *set, const char *text, uint8_t flags)
{
	struct ipset_spec sp;
	struct ipset_member m;
	struct pa_op *op = op_new(kind);
	struct pa_set_entry *e = &op->u.entry;
	int t;

	p_set(set, &e->set, &e->family);
	e->flags = flags;
	if (exec_set_spec(e->set, e->family, &sp) == -1 || text == NULL ||
	    ipset_member_parse(sp.kind, e->family == 6 ? AF_INET6 : AF_INET,
	    text, &m) == -1)
		die("bad member %s", text ? text : "(none)");
	exec_member_to_entry(e->set, e->family, &m, e);
	e->flags = flags;
	t = pa_set_type(e->set);
	if (t == PA_SETTYPE_HASH_IP_PORT_IP)
		e->net.plen = e->family == 6 ? 128 : 32;
}

static void
p_rs(uint8_t kind, char **w)
{
	struct pa_op *op = op_new(kind);

	p_addr(w[1], &op->u.rs.vs.addr);
	op->u.rs.vs.protocol = p_proto(w[2]);
	op->u.rs.vs.port = (uint16_t)p_num(w[3]);
	p_addr(w[4], &op->u.rs.addr);
	op->u.rs.port = (uint16_t)p_num(w[5]);
	op->u.rs.weight = (uint32_t)p_num(w[6]);
}

static void
gen_scale(unsigned nvs, unsigned nrs)
{
	unsigned i, j, nip = (nvs + 99) / 100;
	struct pa_op *op;

	op_new(PA_OP_LINK_ENSURE);
	for (i = 0; i < nip; i++) {
		op = op_new(PA_OP_ADDR_ADD);
		op->u.addr.family = 4;
		op->u.addr.addr[0] = 10;
		op->u.addr.addr[1] = 200;
		op->u.addr.addr[2] = (uint8_t)(i / 250);
		op->u.addr.addr[3] = (uint8_t)(i % 250 + 1);
	}
	for (i = 0; i < nvs; i++) {
		struct pa_vs_key k;

		memset(&k, 0, sizeof(k));
		k.addr.family = 4;
		k.addr.addr[0] = 10;
		k.addr.addr[1] = 200;
		k.addr.addr[2] = (uint8_t)((i / 100) / 250);
		k.addr.addr[3] = (uint8_t)((i / 100) % 250 + 1);
		k.protocol = REC_PROTO_TCP;
		k.port = (uint16_t)(1000 + i % 100);
		op = op_new(PA_OP_VS_ENSURE);
		op->u.vs.key = k;
		snprintf(op->u.vs.sched, sizeof(op->u.vs.sched), "rr");
		for (j = 0; j < nrs; j++) {
			op = op_new(PA_OP_RS_ENSURE);
			op->u.rs.vs = k;
			op->u.rs.addr.family = 4;
			op->u.rs.addr.addr[0] = 10;
			op->u.rs.addr.addr[1] = 244;
			op->u.rs.addr.addr[2] = (uint8_t)(j + 1);
			op->u.rs.addr.addr[3] = (uint8_t)(i % 250 + 1);
			op->u.rs.port = (uint16_t)(8000 + i / 250);
			op->u.rs.weight = 1;
		}
	}
}

static void
send_batch(void)
{
	struct pa_batch_begin b;
	struct pa_tx tx;
	size_t i;

	b.batch = next_batch++;
	b.flags = batch_flags;
	b.n_ops = (uint32_t)n_ops;
	if (pa_tx_begin(&tx, &pa.chan, &b) == -1)
		die("%s", "pa_tx_begin");
	for (i = 0; i < n_ops; i++) {
		if (pa_tx_op(&tx, &ops[i]) == -1)
			die("%s", "pa_tx_op");
		/* Keep the queue short and the heartbeats flowing. */
		if ((i & 1023) == 1023)
			(void)pump(0);
	}
	if (pa_tx_end(&tx) == -1)
		die("%s", "pa_tx_end");
	results_done = 0;
	got_dump = 0;
	n_ok = n_failed = n_rejected = n_blocked = 0;
	wait_for(&results_done, 600);
	printf("summary batch %llu ops %zu ok=%zu failed=%zu rejected=%zu "
	    "blocked=%zu\n", (unsigned long long)b.batch, n_ops, n_ok,
	    n_failed, n_rejected, n_blocked);
	fflush(stdout);
	if (want_dump)
		wait_for(&got_dump, 600);
	n_ops = 0;
	want_dump = 0;
	batch_flags = 0;
}

/* A raw datagram on the planner socket, bypassing the frame layer. */
static void
raw_send(uint16_t magic, uint16_t type, uint8_t version, uint8_t flags,
    uint32_t len, uint32_t seq, const uint8_t *payload, size_t plen,
    int pass_fd)
{
	static uint8_t buf[80000];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	size_t n = FRAME_HDR_LEN + plen;

	if (n > sizeof(buf))
		die("%s", "raw frame too large");
	buf[0] = (uint8_t)magic;
	buf[1] = (uint8_t)(magic >> 8);
	buf[2] = version;
	buf[3] = flags;
	buf[4] = (uint8_t)type;
	buf[5] = (uint8_t)(type >> 8);
	buf[6] = buf[7] = 0;
	memcpy(buf + 8, &len, 4);	/* little-endian hosts only */
	memcpy(buf + 12, &seq, 4);
	if (plen > 0)
		memcpy(buf + FRAME_HDR_LEN, payload, plen);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = n;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass_fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), &pass_fd, sizeof(int));
	}
	if (sendmsg(pa.chan.fd, &msg, MSG_NOSIGNAL) != (ssize_t)n)
		printf("raw send: %s\n", strerror(errno));
	pa.chan.tx_seq = seq;
}

/* The applier's answer to a violation: the channel closes. */
static void
wait_closed(const char *what)
{
	uint64_t end = ipc_now_ms() + 15000;

	while (pa.open && ipc_now_ms() < end)
		if (pump(100) == -1 && !ctl.open)
			die("%s", "the applier went away");
	printf("hostile %s %s\n", what, pa.open ? "open" : "closed");
	fflush(stdout);
}

/* Frames broken in exactly one way each. */
static const struct bad_frame {
	const char	*what;
	uint16_t	 magic;
	uint16_t	 type;
	uint8_t		 version;
	uint8_t		 flags;
	uint32_t	 len;		/* the header's payload length */
	uint32_t	 sent;		/* payload bytes actually sent */
	uint32_t	 seq_skip;	/* 0: the right sequence number */
	int		 with_fd;	/* SCM_RIGHTS attached */
} bad_frames[] = {
	{ "oversized", FRAME_MAGIC, PA_OPS, FRAME_VERSION, 0, 70000, 70000,
	    0, 0 },
	{ "len-mismatch", FRAME_MAGIC, PA_BATCH_BEGIN, FRAME_VERSION, 0, 100,
	    16, 0, 0 },
	{ "bad-magic", 0x4141, PA_BATCH_BEGIN, FRAME_VERSION, 0, 16, 16, 0,
	    0 },
	{ "bad-version", FRAME_MAGIC, PA_BATCH_BEGIN, 7, 0, 16, 16, 0, 0 },
	{ "bad-seq", FRAME_MAGIC, PA_BATCH_BEGIN, FRAME_VERSION, 0, 16, 16,
	    5, 0 },
	{ "bad-flags", FRAME_MAGIC, PA_BATCH_BEGIN, FRAME_VERSION, 0x80, 16,
	    16, 0, 0 },
	{ "unknown-type", FRAME_MAGIC, 0x0399, FRAME_VERSION, 0, 16, 16, 0,
	    0 },
	/* A type of the applier->planner direction. */
	{ "wrong-dir", FRAME_MAGIC, AP_RESULTS, FRAME_VERSION, 0, 16, 16, 0,
	    0 },
	{ "fd", FRAME_MAGIC, PA_BATCH_BEGIN, FRAME_VERSION, 0, 16, 16, 0, 1 },
	/* A batch begin is 16 bytes: 4 more are trailing garbage. */
	{ "trailing", FRAME_MAGIC, PA_BATCH_BEGIN, FRAME_VERSION, 0, 20, 20,
	    0, 0 },
};

/* A batch begin for n ops, sent properly. */
static void
send_begin(uint64_t batch, uint32_t n)
{
	uint8_t p[16] = { 0 };

	memcpy(p, &batch, 8);		/* little-endian hosts only */
	memcpy(p + 12, &n, 4);
	if (frame_send(&pa.chan, PA_BATCH_BEGIN, 0, p, sizeof(p)) == -1)
		die("%s", "frame_send");
}

/* n link-ensure ops in one PA_OPS message. */
static void
send_link_ops(unsigned n)
{
	uint8_t p[256];
	struct pa_op op;
	size_t len = 2;
	long k;

	memset(&op, 0, sizeof(op));
	op.kind = PA_OP_LINK_ENSURE;
	p[0] = (uint8_t)n;
	p[1] = 0;
	while (n-- > 0) {
		op.seq = next_seq++;
		if ((k = pa_encode_op(&op, p + len, sizeof(p) - len)) < 0)
			die("%s", "encode");
		len += (size_t)k;
	}
	if (frame_send(&pa.chan, PA_OPS, 0, p, len) == -1)
		die("%s", "frame_send");
}

static void
hostile(char **w)
{
	static uint8_t p[80000];
	const struct bad_frame *f;
	const char *what = w[1];
	unsigned long v = w[2] ? p_num(w[2]) : 0;
	struct pa_op op;
	uint8_t one[128];
	uint64_t batch;
	size_t i;
	long len;
	int fd = -1, one_op;

	if (what == NULL)
		die("%s", "hostile what?");
	for (i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		f = &bad_frames[i];
		if (strcmp(what, f->what) != 0)
			continue;
		/* The payload of a valid begin (batch id, flags, 1 op). */
		memset(p, 0, f->sent);
		batch = next_batch;
		memcpy(p, &batch, 8);
		p[12] = 1;
		if (f->with_fd)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		raw_send(f->magic, f->type, f->version, f->flags, f->len,
		    pa.chan.tx_seq + 1 + f->seq_skip, p, f->sent, fd);
		if (fd != -1)
			close(fd);
		wait_closed(what);
		return;
	}
	if (strcmp(what, "short") == 0) {
		/* Half a header. */
		memset(p, 0, 8);
		if (send(pa.chan.fd, p, 8, MSG_NOSIGNAL) != 8)
			printf("raw send: %s\n", strerror(errno));
		wait_closed(what);
		return;
	}
	memset(&op, 0, sizeof(op));
	one_op = 1;
	if (strcmp(what, "set-id") == 0 || strcmp(what, "family") == 0) {
		/* set ensure: kind, seq, set id, family */
		op.kind = PA_OP_SET_ENSURE;
		op.u.set.set = what[0] == 's' ? (uint8_t)v : PA_SET_CLUSTER_IP;
		op.u.set.family = what[0] == 's' ? 4 : (uint8_t)v;
	} else if (strcmp(what, "chain-id") == 0) {
		op.kind = PA_OP_CHAIN_REPLACE;
		op.u.chain.family = 4;
		op.u.chain.chain = (uint8_t)v;
		op.u.chain.masq_bit = 14;
	} else if (strcmp(what, "op-kind") == 0) {
		op.kind = (uint8_t)v;	/* encoded as a bare kind and seq */
	} else
		one_op = 0;
	if (one_op) {
		op.seq = next_seq++;
		if (strcmp(what, "op-kind") == 0) {
			one[0] = op.kind;
			memcpy(one + 1, &op.seq, 4);
			len = 5;
		} else if ((len = pa_encode_op(&op, one, sizeof(one))) < 5)
			die("%s", "encode");
		send_begin(next_batch++, 1);
		p[0] = 1;
		p[1] = 0;
		memcpy(p + 2, one, (size_t)len);
		if (frame_send(&pa.chan, PA_OPS, 0, p, 2 + (size_t)len) == -1)
			die("%s", "frame_send");
	} else if (strcmp(what, "ops-outside") == 0) {
		send_link_ops(1);
	} else if (strcmp(what, "too-many-ops") == 0) {
		send_begin(next_batch++, PA_MAX_BATCH_OPS + 1);
	} else if (strcmp(what, "batch-replay") == 0) {
		/* A good batch, then its id again. */
		op_new(PA_OP_LINK_ENSURE);
		send_batch();
		send_begin(next_batch - 1, 1);
	} else if (strcmp(what, "more-ops") == 0) {
		send_begin(next_batch++, 2);
		send_link_ops(3);
	} else if (strcmp(what, "end-mismatch") == 0) {
		/* Declares 2, sends 1, ends claiming 2. */
		batch = next_batch++;
		send_begin(batch, 2);
		send_link_ops(1);
		memset(p, 0, 12);
		memcpy(p, &batch, 8);
		p[8] = 2;
		if (frame_send(&pa.chan, PA_BATCH_END, 0, p, 12) == -1)
			die("%s", "frame_send");
	} else
		die("unknown hostile action %s", what);
	wait_closed(what);
}

/* A fresh planner socket, handed over as kipvs does after a restart. */
static void
reconnect(void)
{
	struct ctl_peer_fd pf;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		die("%s", "socketpair");
	if (pa.open)
		link_close(&pa);
	pf.link = IPC_LINK_PA;
	if (ctl_send_peer_fd(&ctl.chan, &pf, sv[1]) == -1)
		die("%s", "ctl_send_peer_fd");
	close(sv[1]);
	link_init(&pa, "applier", IPC_ROLE_PLANNER, IPC_ROLE_APPLIER,
	    IPC_DIR_AP, IPC_DIR_PA, 1000);
	ap_rx_init(&arx);
	if (link_open(&pa, sv[0]) == -1)
		die("%s", "link_open");
	got_dump = 0;
	wait_for(&got_dump, 120);
	printf("reconnected\n");
	fflush(stdout);
}

/* Batches sent back to back; the results counted as they come. */
static void
flood(unsigned nb, unsigned nops)
{
	struct pa_batch_begin b;
	struct pa_tx tx;
	struct pa_op op;
	unsigned i, j, done;
	size_t before;
	uint64_t end;

	n_ok = n_failed = n_rejected = n_blocked = 0;
	before = n_batches_done;
	for (i = 0; i < nb; i++) {
		b.batch = next_batch++;
		b.flags = 0;
		b.n_ops = nops;
		if (pa_tx_begin(&tx, &pa.chan, &b) == -1)
			die("%s", "pa_tx_begin");
		for (j = 0; j < nops; j++) {
			memset(&op, 0, sizeof(op));
			op.kind = PA_OP_VS_ENSURE;
			op.seq = next_seq++;
			op.u.vs.key.addr.family = 4;
			op.u.vs.key.addr.addr[0] = 127;
			op.u.vs.key.addr.addr[3] = 1;
			op.u.vs.key.protocol = REC_PROTO_TCP;
			op.u.vs.key.port = (uint16_t)(1 + j);
			snprintf(op.u.vs.sched, sizeof(op.u.vs.sched), "rr");
			if (pa_tx_op(&tx, &op) == -1)
				die("%s", "pa_tx_op");
		}
		if (pa_tx_end(&tx) == -1)
			die("%s", "pa_tx_end");
		(void)pump(0);
	}
	/* Every batch's results, however long the queue. */
	end = ipc_now_ms() + 600000;
	while (n_batches_done - before < nb && ipc_now_ms() < end)
		if (pump(200) == -1)
			die("%s", "the applier went away");
	done = (unsigned)(n_batches_done - before);
	printf("flood batches %u ops %u results %zu rejected %zu\n", done,
	    nb * nops, n_ok + n_failed + n_rejected + n_blocked, n_rejected);
	fflush(stdout);
}

static void
script_line(char *line)
{
	char *w[16] = { NULL }, *save = NULL, *t;
	struct pa_op *op;
	int n = 0, i;

	for (t = strtok_r(line, " \t\n", &save); t != NULL && n < 15;
	    t = strtok_r(NULL, " \t\n", &save))
		w[n++] = t;
	if (n == 0 || w[0][0] == '#')
		return;
	if (strcmp(w[0], "begin") == 0) {
		n_ops = 0;
		batch_flags = 0;
		for (i = 1; i < n; i++)
			batch_flags |= strcmp(w[i], "confirmed") == 0 ?
			    PA_BATCH_CONFIRMED : PA_BATCH_FULL;
	} else if (strcmp(w[0], "end") == 0) {
		send_batch();
	} else if (strcmp(w[0], "waitdump") == 0) {
		got_dump = 0;
		wait_for(&got_dump, 600);
	} else if (strcmp(w[0], "sleep") == 0) {
		uint64_t end = ipc_now_ms() + p_num(w[1]);

		while (ipc_now_ms() < end)
			if (pump(50) == -1)
				die("%s", "the applier went away");
	} else if (strcmp(w[0], "vs") == 0) {
		op = op_new(PA_OP_VS_ENSURE);
		p_addr(w[1], &op->u.vs.key.addr);
		op->u.vs.key.protocol = p_proto(w[2]);
		op->u.vs.key.port = (uint16_t)p_num(w[3]);
		snprintf(op->u.vs.sched, sizeof(op->u.vs.sched), "%s",
		    w[4] ? w[4] : "rr");
		for (i = 5; i < n; i++) {
			if (strcmp(w[i], "persistent") == 0 && i + 1 < n) {
				op->u.vs.flags |= PA_VS_PERSISTENT;
				op->u.vs.timeout = (uint32_t)p_num(w[++i]);
			} else if (strcmp(w[i], "timeout") == 0 && i + 1 < n)
				op->u.vs.timeout = (uint32_t)p_num(w[++i]);
			else if (strcmp(w[i], "netmask") == 0 && i + 1 < n)
				op->u.vs.netmask = (uint8_t)p_num(w[++i]);
			else if (strcmp(w[i], "mhport") == 0)
				op->u.vs.flags |= PA_VS_SCHED_PORT;
			else
				die("bad vs option %s", w[i]);
		}
	} else if (strcmp(w[0], "vsdel") == 0) {
		op = op_new(PA_OP_VS_DEL);
		p_addr(w[1], &op->u.vs_key.addr);
		op->u.vs_key.protocol = p_proto(w[2]);
		op->u.vs_key.port = (uint16_t)p_num(w[3]);
	} else if (strcmp(w[0], "rs") == 0) {
		p_rs(PA_OP_RS_ENSURE, w);
	} else if (strcmp(w[0], "rsdel") == 0) {
		p_rs(PA_OP_RS_DEL, w);
	} else if (strcmp(w[0], "rsweight") == 0) {
		p_rs(PA_OP_RS_WEIGHT, w);
	} else if (strcmp(w[0], "timeouts") == 0) {
		op = op_new(PA_OP_IPVS_TIMEOUTS);
		op->u.timeouts.tcp = (uint32_t)p_num(w[1]);
		op->u.timeouts.tcp_fin = (uint32_t)p_num(w[2]);
		op->u.timeouts.udp = (uint32_t)p_num(w[3]);
	} else if (strcmp(w[0], "link") == 0) {
		op_new(PA_OP_LINK_ENSURE);
	} else if (strcmp(w[0], "addr") == 0 || strcmp(w[0], "addrdel") == 0) {
		op = op_new(w[0][4] ? PA_OP_ADDR_DEL : PA_OP_ADDR_ADD);
		p_addr(w[1], &op->u.addr);
	} else if (strcmp(w[0], "set") == 0 || strcmp(w[0], "reload") == 0 ||
	    strcmp(w[0], "commit") == 0) {
		op = op_new(w[0][0] == 's' ? PA_OP_SET_ENSURE :
		    w[0][0] == 'r' ? PA_OP_SET_RELOAD_BEGIN :
		    PA_OP_SET_RELOAD_COMMIT);
		p_set(w[1], &op->u.set.set, &op->u.set.family);
	} else if (strcmp(w[0], "member") == 0) {
		p_entry(PA_OP_SET_ADD, w[1], w[2], 0);
	} else if (strcmp(w[0], "memberdel") == 0) {
		p_entry(PA_OP_SET_DEL, w[1], w[2], 0);
	} else if (strcmp(w[0], "staged") == 0) {
		p_entry(PA_OP_SET_ADD, w[1], w[2], PA_SETF_STAGED);
	} else if (strcmp(w[0], "chain") == 0) {
		op = op_new(PA_OP_CHAIN_REPLACE);
		op->u.chain.family = (uint8_t)p_num(w[1]);
		op->u.chain.chain = p_chain(w[2]);
		op->u.chain.masq_bit = 14;
		for (i = 3; i < n; i++) {
			if (strcmp(w[i], "masqall") == 0)
				op->u.chain.flags |= PA_CHF_MASQUERADE_ALL;
			else if (strcmp(w[i], "randomfully") == 0)
				op->u.chain.flags |= PA_CHF_RANDOM_FULLY;
			else if (strcmp(w[i], "bit") == 0 && i + 1 < n)
				op->u.chain.masq_bit = (uint8_t)p_num(w[++i]);
			else if (strcmp(w[i], "cidr") == 0 && i + 1 < n) {
				char why[128];

				op->u.chain.local_mode = PA_LOCAL_CIDR;
				if (prefix_parse(w[++i], 0,
				    &op->u.chain.local_cidr, why,
				    sizeof(why)) == -1)
					die("bad cidr %s", w[i]);
			} else if (strcmp(w[i], "nonempty") == 0 && i + 1 < n) {
				char *s2 = NULL, *x;
				uint8_t id, fam;

				for (x = strtok_r(w[++i], ",", &s2); x != NULL;
				    x = strtok_r(NULL, ",", &s2)) {
					p_set(x, &id, &fam);
					op->u.chain.sets_nonempty |= 1u << id;
				}
			} else
				die("bad chain option %s", w[i]);
		}
	} else if (strcmp(w[0], "dropvip") == 0) {
		op = op_new(PA_OP_CHAIN_DROP_VIP);
		op->u.drop_vip.family = (uint8_t)p_num(w[1]);
		p_addr(w[2], &op->u.drop_vip.vip.addr);
		op->u.drop_vip.vip.protocol = p_proto(w[3]);
		op->u.drop_vip.vip.port = (uint16_t)p_num(w[4]);
	} else if (strcmp(w[0], "dump") == 0) {
		op = op_new(PA_OP_DUMP_REQUEST);
		op->u.dump_what = PA_DUMP_ALL;
		if (w[1] != NULL) {
			op->u.dump_what = 0;
			if (strstr(w[1], "ipvs"))
				op->u.dump_what |= PA_DUMP_IPVS;
			if (strstr(w[1], "addrs"))
				op->u.dump_what |= PA_DUMP_ADDRS;
			if (strstr(w[1], "sets"))
				op->u.dump_what |= PA_DUMP_SETS;
			if (strstr(w[1], "chains"))
				op->u.dump_what |= PA_DUMP_CHAINS;
		}
		want_dump = 1;
	} else if (strcmp(w[0], "hostile") == 0) {
		hostile(w);
	} else if (strcmp(w[0], "reconnect") == 0) {
		reconnect();
	} else if (strcmp(w[0], "flood") == 0) {
		flood((unsigned)p_num(w[1]), (unsigned)p_num(w[2]));
	} else if (strcmp(w[0], "scale") == 0) {
		gen_scale((unsigned)p_num(w[1]), (unsigned)p_num(w[2]));
	} else
		die("unknown script command %s", w[0]);
}

int
main(int argc, char *argv[])
{
	const char *audit = NULL, *lock = NULL;
	char line[1024];
	int sv_ctl[2], sv_pa[2], afd, lfd, ch, st;

	while ((ch = getopt(argc, argv, "a:l:q")) != -1) {
		switch (ch) {
		case 'a': audit = optarg; break;
		case 'l': lock = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: pa_client [-a AUDIT] [-l LOCK] "
			    "[-q] -- APPLIERD [ARGS...]\n");
			return 2;
		}
	}
	if (optind >= argc)
		die("%s", "no daemon given");
	log_init("pa_client", LOG_LEVEL_WARN, 0);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv_ctl) == -1 || socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC, 0, sv_pa) == -1)
		die("%s", "socketpair");
	afd = audit ? open(audit, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600) : fcntl(2, F_DUPFD_CLOEXEC, 10);
	lfd = open(lock ? lock : "/run/xtables.lock", O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600);
	if (afd == -1 || lfd == -1)
		die("%s", "audit or lock file");
	if ((child = fork()) == -1)
		die("%s", "fork");
	if (child == 0) {
		int src[4] = { sv_ctl[1], sv_pa[1], afd, lfd }, hi[4], i, dn;

		for (i = 0; i < 4; i++)
			hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 20);
		dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		for (i = 0; i < 4; i++)
			dup2(hi[i], 3 + i);
		execv(argv[optind], argv + optind);
		_exit(127);
	}
	close(sv_ctl[1]);
	close(sv_pa[1]);
	printf("pid %d\n", (int)child);
	fflush(stdout);
	link_init(&ctl, "applier", IPC_ROLE_PARENT, IPC_ROLE_APPLIER,
	    IPC_DIR_CTL_UP, IPC_DIR_CTL_DOWN, 1000);
	link_init(&pa, "applier", IPC_ROLE_PLANNER, IPC_ROLE_APPLIER,
	    IPC_DIR_AP, IPC_DIR_PA, 1000);
	ap_rx_init(&arx);
	if (link_open(&ctl, sv_ctl[0]) == -1 || link_open(&pa, sv_pa[0]) == -1)
		die("%s", "link_open");
	/* The first dump arrives once the daemon is up. */
	wait_for(&got_dump, 120);
	while (fgets(line, sizeof(line), stdin) != NULL)
		script_line(line);
	link_close(&pa);
	link_close(&ctl);
	if (waitpid(child, &st, 0) == -1)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
