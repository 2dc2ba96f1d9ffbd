/*
 * planner_driver: runs the real kipvs-planner (sandboxed, so as root)
 * over socketpairs, playing its three peers: the parent (control link,
 * fresh sockets on "restarts"), a fake watcher (records from a kubectl
 * JSON file through watcherd/watch_json.c) and a fake applier (a
 * simulated kernel: applies each op and answers it, fails scripted ones,
 * rejects a virtual server on an address neither on kube-ipvs0 nor a
 * node address as the applier does, serves dumps).  It reads a script on stdin and prints what the planner
 * sends, one line each, for the scripts in tests/planner/:
 *
 *	batch <id> flags=<full|confirmed|-> ops=<n> t=<ms>
 *	op <text>		(plan_optext.h form) [FAILED <errno>]
 *	dump-sent <records>
 *	status <flags> services=<n> failed=<n> [<reason>=<n>...]
 *				(non-zero neutralisation counters)
 *	local-eps <ns/name> port=<p> ready=<n>
 *	mark <text>
 *
 * Script commands (one per line, # comments):
 *
 *	objects FILE		the watcher's world: a v1 List of Services,
 *				EndpointSlices and Nodes (a later one
 *				replaces it; send what changed)
 *	node-ip IP		an address of the fake node (not kube-ipvs0)
 *	snapshot [-NS/NAME...]	a complete snapshot; -NS/NAME leaves that
 *				Service out
 *	begin | end		snapshot brackets (end counts what was sent)
 *	services | slices | nodes	send every record of that kind
 *	complete svc|slice|node	a list-complete marker
 *	slice-ep NS/NAME I IP	endpoint I of the slice gets address IP;
 *				the slice is sent
 *	slice-drop NS/NAME I	endpoint I is removed; the slice is sent
 *	delete svc|slice NS/NAME
 *	fail SUBSTR N ERRNO	the next N ops whose text contains SUBSTR
 *				fail with ERRNO (a number)
 *	reject-batches N ERRNO	every op of the next N batches is rejected
 *				with ERRNO, as the applier's mass-deletion
 *				guard refuses a whole batch
 *	conns SUBSTR N		real servers whose "VS RS" text contains
 *				SUBSTR report N active connections
 *	kernel-del-vs SUBSTR	an outside change: the VS goes away
 *	dump			an unsolicited full dump now, as the
 *				applier's drift-check timer sends one
 *	stall MS		sleep MS milliseconds (scaled as wait)
 *				without reading or answering anything
 *				(what the planner sends meanwhile waits in
 *				the sockets)
 *	applier-restart | watcher-restart
 *				a fresh socket for that edge, as the parent
 *				hands one to a restarted peer
 *	wait MS			run for MS milliseconds
 *	save-ipvs|save-sets|save-addrs FILE
 *				the simulated kernel, as ipvsadm -Sn, set
 *				members ("SET ENTRY") and "ADDR/PREFIX"
 *	mark TEXT
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"
#include "ipc/link.h"
#include "ipc/proto_ap.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pa.h"
#include "ipc/proto_pw.h"
#include "ipc/proto_wp.h"
#include "planner/plan_desired.h"
#include "planner/plan_optext.h"
#include "planner/plan_render.h"
#include "watcherd/watch_json.h"

#define DRV_MAX		65536	/* Services (and slices) per objects file */

struct drv_fail {
	char		 substr[128];
	int		 n;
	int		 err;
};

struct drv {
	pid_t		 pid;
	uint64_t	 t0;
	struct ipc_link	 ctl, wp, pa;
	struct pw_rx	 pwrx;
	struct pa_rx	 parx;
	/* The watcher's world. */
	struct rec_service *svc;
	size_t		 n_svc;
	struct rec_slice *slice;
	size_t		 n_slice;
	struct rec_node	*node;
	size_t		 n_node;
	uint64_t	 gen;
	uint32_t	 sent[4];
	/* The simulated kernel; an RS's l_threshold holds its connections. */
	struct plan_ipvs_table ipvs;
	struct pa_set_entry *members;
	size_t		 n_members;
	struct rec_addr	*kaddrs;
	size_t		 n_kaddrs;
	struct rec_addr	 node_ips[16];
	size_t		 n_node_ips;
	uint8_t		 chains[2][PA_CHAIN_ID_MAX + 1];
	struct drv_fail	 fails[32];
	size_t		 n_fails;
	int		 reject_batches;	/* whole batches to refuse */
	int		 reject_err;
	int		 rejecting;	/* the batch being received */
	/* The batch being received. */
	uint64_t	 batch;
	struct ap_result *results;
	size_t		 n_results;
	size_t		 cap_results;
	int		 dump_after;
	uint64_t	 dump_id;
};

static uint64_t
drv_ms(struct drv *d)
{
	return ipc_now_ms() - d->t0;
}

static void
out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* --- the simulated kernel ------------------------------------------------ */

static struct plan_vs *
sim_vs(struct drv *d, const struct pa_vs_key *k)
{
	size_t i;

	for (i = 0; i < d->ipvs.n; i++)
		if (addr_eq(&d->ipvs.vs[i].addr, &k->addr) &&
		    d->ipvs.vs[i].port == k->port &&
		    d->ipvs.vs[i].proto == k->protocol)
			return &d->ipvs.vs[i];
	return NULL;
}

static void
sim_norm(struct pa_set_entry *e, const struct pa_set_entry *in)
{
	memset(e, 0, sizeof(*e));
	e->set = in->set;
	e->family = in->family;
	e->addr = in->addr;
	e->protocol = in->protocol;
	e->port = in->port;
	e->net = in->net;
}

static int
sim_member(struct drv *d, const struct pa_set_entry *in)
{
	struct pa_set_entry e;
	size_t i;

	sim_norm(&e, in);
	for (i = 0; i < d->n_members; i++)
		if (memcmp(&d->members[i], &e, sizeof(e)) == 0)
			return (int)i;
	return -1;
}

static int
sim_addr(struct drv *d, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < d->n_kaddrs; i++)
		if (addr_eq(&d->kaddrs[i], a))
			return (int)i;
	return -1;
}

/* The applier's ownership rule: on kube-ipvs0 or a node address. */
static int
sim_owned(struct drv *d, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < d->n_node_ips; i++)
		if (addr_eq(&d->node_ips[i], a))
			return 1;
	return sim_addr(d, a) >= 0;
}

/*
 * Applies one op; returns 0 or an errno, negated when the op is rejected
 * (refused before the kernel) rather than failed.
 */
static int
sim_apply(struct drv *d, const struct pa_op *op)
{
	struct plan_vs *vs, nv;
	struct plan_rs rs;
	struct pa_set_entry e;
	size_t i;
	int k;

	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		if (!sim_owned(d, &op->u.vs.key.addr))
			return -EPERM;
		if ((vs = sim_vs(d, &op->u.vs.key)) == NULL) {
			memset(&nv, 0, sizeof(nv));
			nv.addr = op->u.vs.key.addr;
			nv.port = op->u.vs.key.port;
			nv.proto = op->u.vs.key.protocol;
			plan_ipvs_table_add(&d->ipvs, &nv);
			vs = &d->ipvs.vs[d->ipvs.n - 1];
		}
		memset(vs->sched, 0, sizeof(vs->sched));
		memcpy(vs->sched, op->u.vs.sched, strlen(op->u.vs.sched));
		vs->flags = ((op->u.vs.flags & PA_VS_PERSISTENT) ?
		    PLAN_VS_F_PERSISTENT : 0) | ((op->u.vs.flags &
		    PA_VS_SCHED_PORT) ? PLAN_VS_F_SCHED2 : 0);
		vs->timeout = op->u.vs.timeout;
		vs->netmask = vs->addr.family == REC_FAMILY_IPV4 ?
		    0xffffffffu : 128;
		return 0;
	case PA_OP_VS_DEL:
		if ((vs = sim_vs(d, &op->u.vs_key)) != NULL) {
			free(vs->rs);
			*vs = d->ipvs.vs[--d->ipvs.n];
		}
		return 0;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		if ((vs = sim_vs(d, &op->u.rs.vs)) == NULL)
			return op->kind == PA_OP_RS_DEL ? 0 : ESRCH;
		for (i = 0; i < vs->n_rs; i++)
			if (addr_eq(&vs->rs[i].addr, &op->u.rs.addr) &&
			    vs->rs[i].port == op->u.rs.port)
				break;
		if (op->kind == PA_OP_RS_DEL) {
			if (i < vs->n_rs)
				vs->rs[i] = vs->rs[--vs->n_rs];
		} else if (i < vs->n_rs)
			vs->rs[i].weight = (int32_t)op->u.rs.weight;
		else if (op->kind == PA_OP_RS_WEIGHT)
			return ENOENT;
		else {
			memset(&rs, 0, sizeof(rs));
			rs.addr = op->u.rs.addr;
			rs.port = op->u.rs.port;
			rs.weight = (int32_t)op->u.rs.weight;
			plan_vs_add_rs(vs, &rs);
		}
		return 0;
	case PA_OP_SET_ADD:
		if (sim_member(d, &op->u.entry) < 0) {
			d->members = realloc(d->members, (d->n_members + 1) *
			    sizeof(*d->members));
			sim_norm(&e, &op->u.entry);
			d->members[d->n_members++] = e;
		}
		return 0;
	case PA_OP_SET_DEL:
		if ((k = sim_member(d, &op->u.entry)) >= 0)
			d->members[k] = d->members[--d->n_members];
		return 0;
	case PA_OP_ADDR_ADD:
		if (sim_addr(d, &op->u.addr) < 0) {
			d->kaddrs = realloc(d->kaddrs, (d->n_kaddrs + 1) *
			    sizeof(*d->kaddrs));
			d->kaddrs[d->n_kaddrs++] = op->u.addr;
		}
		return 0;
	case PA_OP_ADDR_DEL:
		if ((k = sim_addr(d, &op->u.addr)) >= 0)
			d->kaddrs[k] = d->kaddrs[--d->n_kaddrs];
		return 0;
	case PA_OP_CHAIN_REPLACE:
		d->chains[op->u.chain.family == REC_FAMILY_IPV6][
		    op->u.chain.chain] = 1;
		return 0;
	}
	return 0;
}

static void
sim_rs_text(const struct plan_vs *vs, const struct plan_rs *rs, char *buf,
    size_t len)
{
	struct pa_op op;

	memset(&op, 0, sizeof(op));
	op.kind = PA_OP_RS_DEL;
	op.u.rs.vs.addr = vs->addr;
	op.u.rs.vs.port = vs->port;
	op.u.rs.vs.protocol = vs->proto;
	op.u.rs.addr = rs->addr;
	op.u.rs.port = rs->port;
	plan_op_text(&op, buf, len);
	/* Without "rs-del ". */
	memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

/* --- the fake applier ------------------------------------------------------ */

static void
drv_send_dump(struct drv *d)
{
	struct ap_dump_begin b;
	struct ap_rec r;
	struct ap_tx tx;
	size_t i, j, n = 0;
	int f, c;

	b.dump = ++d->dump_id;
	b.what = PA_DUMP_ALL;
	if (ap_dump_begin(&tx, &d->pa.chan, &b) == -1)
		fatal("dump");
	for (i = 0; i < d->ipvs.n; i++) {
		const struct plan_vs *vs = &d->ipvs.vs[i];

		memset(&r, 0, sizeof(r));
		r.kind = AP_REC_VS;
		r.u.vs.key.addr = vs->addr;
		r.u.vs.key.port = vs->port;
		r.u.vs.key.protocol = vs->proto;
		memcpy(r.u.vs.sched, vs->sched, strlen(vs->sched));
		r.u.vs.flags = ((vs->flags & PLAN_VS_F_PERSISTENT) ?
		    PA_VS_PERSISTENT : 0) | ((vs->flags & PLAN_VS_F_SCHED2) ?
		    PA_VS_SCHED_PORT : 0);
		r.u.vs.timeout = vs->timeout;
		r.u.vs.netmask = vs->addr.family == REC_FAMILY_IPV4 ? 32 : 128;
		ap_dump_add(&tx, &r);
		n++;
		for (j = 0; j < vs->n_rs; j++) {
			memset(&r, 0, sizeof(r));
			r.kind = AP_REC_RS;
			r.u.rs.rs.vs.addr = vs->addr;
			r.u.rs.rs.vs.port = vs->port;
			r.u.rs.rs.vs.protocol = vs->proto;
			r.u.rs.rs.addr = vs->rs[j].addr;
			r.u.rs.rs.port = vs->rs[j].port;
			r.u.rs.rs.weight = (uint32_t)vs->rs[j].weight;
			r.u.rs.active = vs->rs[j].l_threshold;
			ap_dump_add(&tx, &r);
			n++;
		}
	}
	for (i = 0; i < d->n_kaddrs + d->n_node_ips; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = AP_REC_ADDR;
		if (i < d->n_kaddrs) {
			snprintf(r.u.addr.ifname, sizeof(r.u.addr.ifname),
			    "kube-ipvs0");
			r.u.addr.prefix.addr = d->kaddrs[i];
			r.u.addr.prefix.plen = d->kaddrs[i].family ==
			    REC_FAMILY_IPV4 ? 32 : 128;
		} else {
			snprintf(r.u.addr.ifname, sizeof(r.u.addr.ifname),
			    "eth0");
			r.u.addr.prefix.addr = d->node_ips[i - d->n_kaddrs];
			r.u.addr.prefix.plen = r.u.addr.prefix.addr.family ==
			    REC_FAMILY_IPV4 ? 32 : 128;
		}
		ap_dump_add(&tx, &r);
		n++;
	}
	for (i = 0; i < d->n_members; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = AP_REC_SET_MEMBER;
		r.u.member = d->members[i];
		ap_dump_add(&tx, &r);
		n++;
	}
	for (f = 0; f < 2; f++)
		for (c = 1; c <= PA_CHAIN_ID_MAX; c++) {
			if (!d->chains[f][c])
				continue;
			memset(&r, 0, sizeof(r));
			r.kind = AP_REC_CHAIN;
			r.u.chain.family = f ? REC_FAMILY_IPV6 :
			    REC_FAMILY_IPV4;
			r.u.chain.chain = (uint8_t)c;
			r.u.chain.matches = 1;
			ap_dump_add(&tx, &r);
			n++;
		}
	if (ap_dump_end(&tx) == -1)
		fatal("dump end");
	out("dump-sent %zu\n", n);
}

static int
drv_fail_of(struct drv *d, const char *text)
{
	size_t i;

	for (i = 0; i < d->n_fails; i++)
		if (d->fails[i].n > 0 && strstr(text, d->fails[i].substr)) {
			d->fails[i].n--;
			return d->fails[i].err;
		}
	return 0;
}

static void
drv_pa_msg(struct drv *d, const struct frame_msg *m)
{
	struct pa_event ev;
	struct ap_tx tx;
	const char *reason = NULL;
	char text[PLAN_OPTEXT_MAX];
	size_t i;

	if (pa_rx_feed(&d->parx, m, &ev, &reason) == -1)
		fatalx("planner violated the PA protocol: %s", reason);
	switch (ev.type) {
	case PA_EV_BATCH_BEGIN:
		d->batch = ev.begin.batch;
		d->n_results = 0;
		d->dump_after = 0;
		d->rejecting = d->reject_batches > 0;
		if (d->rejecting)
			d->reject_batches--;
		out("batch %llu flags=%s%s%s ops=%u t=%llu\n",
		    (unsigned long long)ev.begin.batch,
		    (ev.begin.flags & PA_BATCH_FULL) ? "full" : "",
		    (ev.begin.flags == PA_BATCH_ALL) ? "," : "",
		    (ev.begin.flags & PA_BATCH_CONFIRMED) ? "confirmed" :
		    (ev.begin.flags == 0 ? "-" : ""), ev.begin.n_ops,
		    (unsigned long long)drv_ms(d));
		break;
	case PA_EV_OPS:
		for (i = 0; i < ev.n_ops; i++) {
			const struct pa_op *op = &ev.ops[i];
			struct ap_result *r;
			int err, rejected = 0;

			plan_op_text(op, text, sizeof(text));
			err = drv_fail_of(d, text);
			if (err == 0 && d->rejecting) {
				err = d->reject_err;
				rejected = 1;
			} else if (err == 0 && op->kind == PA_OP_DUMP_REQUEST)
				d->dump_after = 1;
			else if (err == 0 && (err = sim_apply(d, op)) < 0) {
				err = -err;
				rejected = 1;
			}
			if (err != 0)
				out("op %s %s %d\n", text, rejected ?
				    "REJECTED" : "FAILED", err);
			else
				out("op %s\n", text);
			if (d->n_results == d->cap_results) {
				d->cap_results = d->cap_results ?
				    d->cap_results * 2 : 256;
				d->results = realloc(d->results,
				    d->cap_results * sizeof(*d->results));
			}
			r = &d->results[d->n_results++];
			memset(r, 0, sizeof(*r));
			r->seq = op->seq;
			r->status = rejected ? AP_REJECTED : err ?
			    AP_FAILED : AP_OK;
			r->err = err;
			if (rejected)
				snprintf(r->reason, sizeof(r->reason),
				    d->rejecting ? "whole batch refused" :
				    "not kipvs's: address not owned");
			else if (err)
				snprintf(r->reason, sizeof(r->reason),
				    "scripted failure");
		}
		free(ev.ops);
		break;
	case PA_EV_BATCH_END:
		if (ap_results_begin(&tx, &d->pa.chan, d->batch) == -1)
			fatal("results");
		for (i = 0; i < d->n_results; i++)
			ap_results_add(&tx, &d->results[i]);
		if (ap_results_end(&tx) == -1)
			fatal("results end");
		if (d->dump_after)
			drv_send_dump(d);
		break;
	}
}

static void
drv_pw_msg(struct drv *d, const struct frame_msg *m)
{
	struct pw_event ev;
	const char *reason = NULL;
	size_t i;
	int rv;

	if ((rv = pw_rx_feed(&d->pwrx, m, &ev, &reason)) == -1)
		fatalx("planner violated the PW protocol: %s", reason);
	if (rv == 0)
		return;
	if (ev.type == PW_EV_STATUS) {
		char neut[256];
		size_t len = 0;

		neut[0] = '\0';
		for (i = 0; i < PLAN_NEUT_COUNT && len < sizeof(neut); i++)
			if (ev.status.neutralised[i] != 0)
				len += (size_t)snprintf(neut + len,
				    sizeof(neut) - len, " %s=%llu",
				    plan_neut_names[i], (unsigned long long)
				    ev.status.neutralised[i]);
		out("status %s%s%s services=%u failed=%u%s\n",
		    (ev.status.flags & PW_ST_SYNCED) ? "synced," : "",
		    (ev.status.flags & PW_ST_APPLIER_UP) ? "applier-up," : "",
		    (ev.status.flags & PW_ST_DEGRADED) ? "degraded," : "",
		    ev.status.n_services, ev.status.n_failed_ops, neut);
		return;
	}
	for (i = 0; i < ev.n; i++)
		out("local-eps %s/%s port=%u ready=%u\n", ev.eps[i].namespace,
		    ev.eps[i].name, ev.eps[i].health_check_node_port,
		    ev.eps[i].ready_local);
	free(ev.eps);
}

/* --- links and the loop ------------------------------------------------- */

static void
drv_read(struct drv *d, struct ipc_link *l)
{
	struct frame_msg m;
	int rv;

	while ((rv = link_recv(l, &m)) != LINK_IDLE) {
		if (rv == LINK_DOWN) {
			link_close(l);
			return;
		}
		if (rv == LINK_UP) {
			if (l == &d->pa)
				drv_send_dump(d);
			continue;
		}
		if (l == &d->pa)
			drv_pa_msg(d, &m);
		else if (l == &d->wp)
			drv_pw_msg(d, &m);
	}
}

static void
drv_run(struct drv *d, uint64_t ms)
{
	struct ipc_link *ls[3] = { &d->ctl, &d->wp, &d->pa };
	struct pollfd pfd[3];
	uint64_t end = ipc_now_ms() + ms, now;
	int i, t, status;

	while ((now = ipc_now_ms()) < end) {
		t = (int)(end - now);
		for (i = 0; i < 3; i++) {
			int lt = link_tick(ls[i], now);

			if (lt >= 0 && lt < t)
				t = lt;
			pfd[i].fd = ls[i]->open ? ls[i]->chan.fd : -1;
			pfd[i].events = POLLIN;
			if (ls[i]->open && frame_pending(&ls[i]->chan))
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, 3, t > 50 ? 50 : t) == -1 && errno != EINTR)
			fatal("poll");
		for (i = 0; i < 3; i++) {
			if (pfd[i].revents & POLLOUT)
				(void)frame_flush(&ls[i]->chan);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				drv_read(d, ls[i]);
		}
		if (d->pid > 0 && waitpid(d->pid, &status, WNOHANG) ==
		    d->pid) {
			out("planner-exited %d\n", WIFEXITED(status) ?
			    WEXITSTATUS(status) : 128 + WTERMSIG(status));
			d->pid = -1;
		}
	}
}

/* Moves fd above 10 so the child's dup2 into 3..5 cannot clobber it. */
static int
drv_high(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	if (h == -1)
		fatal("dup");
	close(fd);
	return h;
}

static void
drv_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	sv[0] = drv_high(sv[0]);
	sv[1] = drv_high(sv[1]);
}

static void
drv_start(struct drv *d, const char *bin, char **args, int nargs)
{
	int c[2], w[2], a[2], i, nul;
	char **argv = calloc((size_t)nargs + 2, sizeof(*argv));

	drv_pair(c);
	drv_pair(w);
	drv_pair(a);
	argv[0] = (char *)bin;
	for (i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	if ((d->pid = fork()) == -1)
		fatal("fork");
	if (d->pid == 0) {
		nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(c[1], 3);
		dup2(w[1], 4);
		dup2(a[1], 5);
		execv(bin, argv);
		_exit(127);
	}
	close(c[1]);
	close(w[1]);
	close(a[1]);
	free(argv);
	link_init(&d->ctl, "planner", IPC_ROLE_PARENT, IPC_ROLE_PLANNER,
	    IPC_DIR_CTL_UP, IPC_DIR_CTL_DOWN, 200);
	link_init(&d->wp, "planner", IPC_ROLE_WATCHER, IPC_ROLE_PLANNER,
	    IPC_DIR_PW, IPC_DIR_WP, 200);
	link_init(&d->pa, "planner", IPC_ROLE_APPLIER, IPC_ROLE_PLANNER,
	    IPC_DIR_PA, IPC_DIR_AP, 200);
	if (link_open(&d->ctl, c[0]) == -1 || link_open(&d->wp, w[0]) == -1 ||
	    link_open(&d->pa, a[0]) == -1)
		fatal("links");
}

/* A restarted peer: a fresh socketpair, one end to the planner. */
static void
drv_restart(struct drv *d, struct ipc_link *l, uint8_t link_id)
{
	struct ctl_peer_fd pf;
	int sv[2];

	link_close(l);
	if (l == &d->pa)
		pa_rx_init(&d->parx);
	else
		pw_rx_reset(&d->pwrx);
	drv_pair(sv);
	pf.link = link_id;
	if (ctl_send_peer_fd(&d->ctl.chan, &pf, sv[1]) == -1)
		fatal("peer fd");
	close(sv[1]);
	if (link_open(l, sv[0]) == -1)
		fatal("link");
}

/* --- the watcher's world -------------------------------------------------- */

static void
drv_objects(struct drv *d, const char *path)
{
	char why[WATCH_JSON_WHY_MAX];
	json_t *root, *item;
	const char *kind;
	json_error_t err;
	size_t i;

	if ((root = json_load_file(path, 0, &err)) == NULL)
		fatalx("%s: %s", path, err.text);
	/* A later file replaces the world. */
	for (i = 0; i < d->n_svc; i++)
		rec_service_clear(&d->svc[i]);
	for (i = 0; i < d->n_slice; i++)
		rec_slice_clear(&d->slice[i]);
	free(d->svc);
	free(d->slice);
	free(d->node);
	d->n_svc = d->n_slice = d->n_node = 0;
	d->svc = calloc(DRV_MAX, sizeof(*d->svc));
	d->slice = calloc(DRV_MAX, sizeof(*d->slice));
	d->node = calloc(16, sizeof(*d->node));
	json_array_foreach(json_object_get(root, "items"), i, item) {
		kind = json_string_value(json_object_get(item, "kind"));
		if (kind == NULL)
			continue;
		if (strcmp(kind, "Service") == 0 && d->n_svc < DRV_MAX) {
			if (watch_json_service(item, NULL, &d->svc[d->n_svc],
			    why, sizeof(why)) == WATCH_JSON_OK)
				d->n_svc++;
		} else if (strcmp(kind, "EndpointSlice") == 0 &&
		    d->n_slice < DRV_MAX) {
			if (watch_json_slice(item, NULL,
			    &d->slice[d->n_slice], why, sizeof(why)) ==
			    WATCH_JSON_OK)
				d->n_slice++;
		} else if (strcmp(kind, "Node") == 0 && d->n_node < 16) {
			if (watch_json_node(item, &d->node[d->n_node], why,
			    sizeof(why)) == WATCH_JSON_OK)
				d->n_node++;
		}
	}
	json_decref(root);
}

static int
drv_split(const char *key, char *ns, char *name)
{
	const char *s = strchr(key, '/');

	if (s == NULL || (size_t)(s - key) > REC_NAMESPACE_MAX)
		return -1;
	memcpy(ns, key, (size_t)(s - key));
	ns[s - key] = '\0';
	snprintf(name, REC_NAME_MAX + 1, "%s", s + 1);
	return 0;
}

static struct rec_slice *
drv_slice(struct drv *d, const char *key)
{
	char ns[REC_NAMESPACE_MAX + 1], name[REC_NAME_MAX + 1];
	size_t i;

	if (drv_split(key, ns, name) == -1)
		fatalx("bad key %s", key);
	for (i = 0; i < d->n_slice; i++)
		if (strcmp(d->slice[i].namespace, ns) == 0 &&
		    strcmp(d->slice[i].name, name) == 0)
			return &d->slice[i];
	fatalx("no slice %s", key);
}

static void
drv_snapshot(struct drv *d, char **skip, int nskip)
{
	struct wp_snapshot_end e;
	char key[REC_NAMESPACE_MAX + REC_NAME_MAX + 3];
	size_t i;
	int k, skipped;

	memset(&e, 0, sizeof(e));
	e.generation = ++d->gen;
	wp_send_snapshot_begin(&d->wp.chan, e.generation);
	for (i = 0; i < d->n_svc; i++) {
		snprintf(key, sizeof(key), "-%s/%s", d->svc[i].namespace,
		    d->svc[i].name);
		for (skipped = 0, k = 0; k < nskip; k++)
			skipped |= strcmp(skip[k], key) == 0;
		if (skipped)
			continue;
		wp_send_service(&d->wp.chan, &d->svc[i]);
		e.n_services++;
	}
	for (i = 0; i < d->n_slice; i++, e.n_slices++)
		wp_send_slice(&d->wp.chan, &d->slice[i]);
	for (i = 0; i < d->n_node; i++, e.n_nodes++)
		wp_send_node(&d->wp.chan, &d->node[i]);
	for (k = WP_KIND_SERVICE; k <= WP_KIND_NODE; k++)
		wp_send_list_complete(&d->wp.chan, (uint8_t)k);
	wp_send_snapshot_end(&d->wp.chan, &e);
}

static void
drv_save(struct drv *d, const char *what, const char *path)
{
	FILE *f = fopen(path, "w");
	char buf[256], pb[ADDR_STRLEN];
	size_t i;

	if (f == NULL)
		fatal("%s", path);
	if (strcmp(what, "save-ipvs") == 0) {
		plan_ipvs_table_sort(&d->ipvs);
		plan_render_ipvs(f, &d->ipvs);
	} else if (strcmp(what, "save-sets") == 0) {
		for (i = 0; i < d->n_members; i++) {
			struct plan_set_entry e;
			const struct pa_set_entry *m = &d->members[i];

			memset(&e, 0, sizeof(e));
			e.ip = m->addr;
			e.proto = m->protocol;
			e.port = m->port;
			e.ip2 = m->net.addr;
			e.plen = m->net.plen;
			fprintf(f, "%s %s\n", plan_set_name((enum plan_set)(
			    m->set - 1), m->family), plan_render_set_entry(&e,
			    plan_sets[m->set - 1].type, buf, sizeof(buf)));
		}
	} else {
		for (i = 0; i < d->n_kaddrs; i++) {
			struct rec_prefix p;

			p.addr = d->kaddrs[i];
			p.plen = p.addr.family == REC_FAMILY_IPV4 ? 32 : 128;
			fprintf(f, "%s\n", prefix_fmt(&p, pb, sizeof(pb)));
		}
	}
	fclose(f);
}

static void
drv_command(struct drv *d, char *line)
{
	char *argv[16], *save = NULL, *tok;
	int argc = 0, k;
	size_t i;

	for (tok = strtok_r(line, " \t\n", &save); tok != NULL && argc < 16;
	    tok = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = tok;
	if (argc == 0 || argv[0][0] == '#')
		return;
#define ARGS(n) do { if (argc < (n) + 1) fatalx("%s: needs %d arguments", \
	argv[0], (n)); } while (0)
	if (strcmp(argv[0], "objects") == 0) {
		ARGS(1);
		drv_objects(d, argv[1]);
	} else if (strcmp(argv[0], "node-ip") == 0) {
		ARGS(1);
		if (addr_parse(argv[1], 0, &d->node_ips[d->n_node_ips++],
		    NULL, 0) == -1)
			fatalx("bad address %s", argv[1]);
	} else if (strcmp(argv[0], "snapshot") == 0)
		drv_snapshot(d, argv + 1, argc - 1);
	else if (strcmp(argv[0], "begin") == 0) {
		memset(d->sent, 0, sizeof(d->sent));
		wp_send_snapshot_begin(&d->wp.chan, ++d->gen);
	} else if (strcmp(argv[0], "end") == 0) {
		struct wp_snapshot_end e;

		e.generation = d->gen;
		e.n_services = d->sent[WP_KIND_SERVICE];
		e.n_slices = d->sent[WP_KIND_SLICE];
		e.n_nodes = d->sent[WP_KIND_NODE];
		wp_send_snapshot_end(&d->wp.chan, &e);
	} else if (strcmp(argv[0], "services") == 0) {
		for (i = 0; i < d->n_svc; i++, d->sent[WP_KIND_SERVICE]++)
			wp_send_service(&d->wp.chan, &d->svc[i]);
	} else if (strcmp(argv[0], "slices") == 0) {
		for (i = 0; i < d->n_slice; i++, d->sent[WP_KIND_SLICE]++)
			wp_send_slice(&d->wp.chan, &d->slice[i]);
	} else if (strcmp(argv[0], "nodes") == 0) {
		for (i = 0; i < d->n_node; i++, d->sent[WP_KIND_NODE]++)
			wp_send_node(&d->wp.chan, &d->node[i]);
	} else if (strcmp(argv[0], "complete") == 0) {
		ARGS(1);
		k = strcmp(argv[1], "svc") == 0 ? WP_KIND_SERVICE :
		    strcmp(argv[1], "slice") == 0 ? WP_KIND_SLICE :
		    WP_KIND_NODE;
		wp_send_list_complete(&d->wp.chan, (uint8_t)k);
	} else if (strcmp(argv[0], "slice-ep") == 0) {
		struct rec_slice *s;

		ARGS(3);
		s = drv_slice(d, argv[1]);
		k = atoi(argv[2]);
		if (k < 0 || k >= s->n_endpoints || addr_parse(argv[3],
		    s->family, &s->endpoints[k].addr, NULL, 0) == -1)
			fatalx("slice-ep: bad endpoint");
		wp_send_slice(&d->wp.chan, s);
	} else if (strcmp(argv[0], "slice-drop") == 0) {
		struct rec_slice *s;

		ARGS(2);
		s = drv_slice(d, argv[1]);
		k = atoi(argv[2]);
		if (k < 0 || k >= s->n_endpoints)
			fatalx("slice-drop: bad endpoint");
		memmove(&s->endpoints[k], &s->endpoints[k + 1],
		    (size_t)(s->n_endpoints - k - 1) *
		    sizeof(*s->endpoints));
		s->n_endpoints--;
		wp_send_slice(&d->wp.chan, s);
	} else if (strcmp(argv[0], "delete") == 0) {
		struct wp_delete del;

		ARGS(2);
		memset(&del, 0, sizeof(del));
		del.kind = strcmp(argv[1], "svc") == 0 ? WP_KIND_SERVICE :
		    WP_KIND_SLICE;
		if (drv_split(argv[2], del.namespace, del.name) == -1)
			fatalx("bad key %s", argv[2]);
		wp_send_delete(&d->wp.chan, &del);
	} else if (strcmp(argv[0], "fail") == 0) {
		struct drv_fail *f = &d->fails[d->n_fails++];

		ARGS(3);
		snprintf(f->substr, sizeof(f->substr), "%s", argv[1]);
		/* The op text has spaces: '_' stands for one. */
		for (i = 0; f->substr[i] != '\0'; i++)
			if (f->substr[i] == '_')
				f->substr[i] = ' ';
		f->n = atoi(argv[2]);
		f->err = atoi(argv[3]);
	} else if (strcmp(argv[0], "reject-batches") == 0) {
		ARGS(2);
		d->reject_batches = atoi(argv[1]);
		d->reject_err = atoi(argv[2]);
	} else if (strcmp(argv[0], "conns") == 0 ||
	    strcmp(argv[0], "kernel-del-vs") == 0) {
		char text[PLAN_OPTEXT_MAX], pat[128];
		size_t j;

		ARGS(1);
		snprintf(pat, sizeof(pat), "%s", argv[1]);
		for (i = 0; pat[i] != '\0'; i++)
			if (pat[i] == '_')
				pat[i] = ' ';
		for (i = 0; i < d->ipvs.n; i++) {
			struct plan_vs *vs = &d->ipvs.vs[i];

			if (argv[0][0] == 'k') {
				struct pa_vs_key key;

				memset(&key, 0, sizeof(key));
				key.addr = vs->addr;
				key.port = vs->port;
				key.protocol = vs->proto;
				if (strstr(plan_vs_key_text(&key, text,
				    sizeof(text)), pat) != NULL) {
					free(vs->rs);
					*vs = d->ipvs.vs[--d->ipvs.n];
					out("kernel: %s deleted\n", text);
					return;
				}
				continue;
			}
			ARGS(2);
			for (j = 0; j < vs->n_rs; j++) {
				sim_rs_text(vs, &vs->rs[j], text,
				    sizeof(text));
				if (strstr(text, pat) != NULL)
					vs->rs[j].l_threshold =
					    (uint32_t)atoi(argv[2]);
			}
		}
	} else if (strcmp(argv[0], "dump") == 0)
		drv_send_dump(d);
	else if (strcmp(argv[0], "stall") == 0) {
		ARGS(1);
		usleep((useconds_t)atol(argv[1]) * 1000 *
		    (getenv("KIPVS_TIME_SCALE") != NULL ?
		    (useconds_t)atol(getenv("KIPVS_TIME_SCALE")) : 1));
	} else if (strcmp(argv[0], "applier-restart") == 0)
		drv_restart(d, &d->pa, IPC_LINK_PA);
	else if (strcmp(argv[0], "watcher-restart") == 0)
		drv_restart(d, &d->wp, IPC_LINK_WP);
	else if (strcmp(argv[0], "wait") == 0) {
		ARGS(1);
		/* KIPVS_TIME_SCALE: a slower planner (make memcheck). */
		drv_run(d, (uint64_t)atol(argv[1]) *
		    (getenv("KIPVS_TIME_SCALE") != NULL ?
		    (uint64_t)atol(getenv("KIPVS_TIME_SCALE")) : 1));
	} else if (strncmp(argv[0], "save-", 5) == 0) {
		ARGS(1);
		drv_save(d, argv[0], argv[1]);
	} else if (strcmp(argv[0], "mark") == 0)
		out("mark %s\n", argc > 1 ? argv[1] : "");
	else
		fatalx("unknown command %s", argv[0]);
}

int
main(int argc, char *argv[])
{
	struct drv d;
	char line[1024];
	int status;

	log_init("planner_driver", LOG_LEVEL_INFO, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		fprintf(stderr, "usage: planner_driver PLANNER [ARGS...] "
		    "< script\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.t0 = ipc_now_ms();
	pw_rx_init(&d.pwrx);
	pa_rx_init(&d.parx);
	drv_start(&d, argv[1], argv + 2, argc - 2);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		drv_run(&d, 0);
		drv_command(&d, line);
		drv_run(&d, 0);
	}
	drv_run(&d, 100);
	if (d.pid > 0) {
		kill(d.pid, SIGTERM);
		if (waitpid(d.pid, &status, 0) == d.pid)
			out("planner-exited %d\n", WIFEXITED(status) ?
			    WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return 0;
}
