/*
 * watcher_peer: plays kipvs (the parent) and kipvs-planner for one
 * kipvs-watcherd started directly over socketpairs, prints every record
 * the watcher sends as one readable line, and sends the status and local
 * endpoint counts it is told to.  For tests/watch/2x-daemon-*.t.
 *
 *	watcher_peer -c CMDFIFO -- WATCHERD [ARGS...]
 *
 * The daemon gets fd 3 (control) and 4 (planner link) as kipvs gives
 * them.  Output lines (stdout, flushed each):
 *
 *	pid PID
 *	begin GEN | end GEN svc=N slice=N node=N | complete KIND
 *	svc NS/NAME type=T ips=A,B ports=P/PORT/NODEPORT,.. ext=.. lb=..
 *	    hc=PORT flags=F
 *	slice NS/NAME svc=S fam=4|6 ports=NAME/P/PORT,.. eps=ADDR/COND/NODE,..
 *	node NAME addrs=A,.. cidrs=P,..
 *	delete service|endpointslice|node NS/NAME
 *	exit STATUS		(the daemon ended)
 *
 * Commands, one per line written to CMDFIFO:
 *
 *	status FLAGS SYNC_MS APPLY_MS SERVICES FAILED	(a time of "now"
 *						 is the current time)
 *	eps NS NAME PORT COUNT [NS NAME PORT COUNT...]	the whole table
 *	reconnect	a fresh planner socket (as after a planner restart)
 *	quit
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/log.h"
#include "ipc/link.h"
#include "ipc/proto_ctl.h"
#include "ipc/proto_pw.h"
#include "ipc/proto_wp.h"

static struct ipc_link ctl, wp;
static struct wp_rx wrx;
static pid_t child;

static void
die(const char *msg)
{
	fprintf(stderr, "watcher_peer: %s\n", msg);
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
print_svc(const struct rec_service *s)
{
	static const char *const types[] = { "?", "ClusterIP", "NodePort",
	    "LoadBalancer" };
	char a[ADDR_STRLEN];
	unsigned i;

	printf("svc %s/%s type=%s ips=", s->namespace, s->name,
	    types[s->type <= 3 ? s->type : 0]);
	for (i = 0; i < s->n_cluster_ips; i++)
		printf("%s%s", i ? "," : "", addr_fmt(&s->cluster_ips[i], a,
		    sizeof(a)));
	printf(" ports=");
	for (i = 0; i < s->n_ports; i++)
		printf("%s%s/%s/%u/%u", i ? "," : "", s->ports[i].name,
		    proto_str(s->ports[i].protocol), s->ports[i].port,
		    s->ports[i].node_port);
	printf(" ext=");
	for (i = 0; i < s->n_external_ips; i++)
		printf("%s%s", i ? "," : "", addr_fmt(&s->external_ips[i], a,
		    sizeof(a)));
	printf(" lb=");
	for (i = 0; i < s->n_lb_ingress; i++)
		printf("%s%s", i ? "," : "", addr_fmt(&s->lb_ingress[i].ip, a,
		    sizeof(a)));
	printf(" hc=%u flags=%u affinity=%u\n", s->health_check_node_port,
	    s->flags, s->affinity);
}

static void
print_slice(const struct rec_slice *s)
{
	char a[ADDR_STRLEN];
	unsigned i;

	printf("slice %s/%s svc=%s fam=%u ports=", s->namespace, s->name,
	    s->service, s->family);
	for (i = 0; i < s->n_ports; i++)
		printf("%s%s/%s/%u", i ? "," : "", s->ports[i].name,
		    proto_str(s->ports[i].protocol), s->ports[i].port);
	printf(" eps=");
	for (i = 0; i < s->n_endpoints; i++)
		printf("%s%s/%u/%s", i ? "," : "",
		    addr_fmt(&s->endpoints[i].addr, a, sizeof(a)),
		    s->endpoints[i].conditions,
		    s->endpoints[i].node_name[0] ?
		    s->endpoints[i].node_name : "-");
	printf("\n");
}

static void
print_node(const struct rec_node *n)
{
	char a[ADDR_STRLEN];
	unsigned i;

	printf("node %s addrs=", n->name);
	for (i = 0; i < n->n_addresses; i++)
		printf("%s%s", i ? "," : "", addr_fmt(&n->addresses[i], a,
		    sizeof(a)));
	printf(" cidrs=");
	for (i = 0; i < n->n_pod_cidrs; i++)
		printf("%s%s", i ? "," : "", prefix_fmt(&n->pod_cidrs[i], a,
		    sizeof(a)));
	printf("\n");
}

static void
on_wp(const struct frame_msg *m)
{
	static const char *const kinds[] = { "?", "service",
	    "endpointslice", "node" };
	struct wp_event ev;
	const char *reason = NULL;
	int rv;

	memset(&ev, 0, sizeof(ev));
	if ((rv = wp_rx_feed(&wrx, m, &ev, &reason)) == -1) {
		fprintf(stderr, "watcher_peer: violation: %s\n",
		    reason ? reason : "?");
		die("protocol violation from the watcher");
	}
	if (rv == 0)
		return;
	switch (ev.type) {
	case WP_EV_SNAPSHOT_BEGIN:
		printf("begin %llu\n", (unsigned long long)ev.generation);
		break;
	case WP_EV_SNAPSHOT_END:
		printf("end %llu svc=%u slice=%u node=%u\n",
		    (unsigned long long)ev.end.generation, ev.end.n_services,
		    ev.end.n_slices, ev.end.n_nodes);
		break;
	case WP_EV_SERVICE:
		print_svc(&ev.svc);
		break;
	case WP_EV_SLICE:
		print_slice(&ev.slice);
		break;
	case WP_EV_NODE:
		print_node(&ev.node);
		break;
	case WP_EV_DELETE:
		printf("delete %s %s%s%s\n", kinds[ev.del.kind <= 3 ?
		    ev.del.kind : 0], ev.del.namespace,
		    ev.del.namespace[0] ? "/" : "", ev.del.name);
		break;
	case WP_EV_LIST_COMPLETE:
		printf("complete %s\n", kinds[ev.kind <= 3 ? ev.kind : 0]);
		break;
	}
	wp_event_clear(&ev);
	fflush(stdout);
}

static int64_t
p_time(const char *s)
{
	struct timespec ts;

	if (s != NULL && strcmp(s, "now") == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/* A fresh planner socket: the old link ends, the child gets the new end. */
static void
reconnect(void)
{
	struct ctl_peer_fd pf;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	link_close(&wp);
	wp_rx_reset(&wrx);
	pf.link = IPC_LINK_WP;
	if (ctl_send_peer_fd(&ctl.chan, &pf, sv[1]) == -1)
		die("peer fd");
	close(sv[1]);
	if (link_open(&wp, sv[0]) == -1)
		die("link_open");
	printf("reconnected\n");
	fflush(stdout);
}

static void
command(char *line)
{
	struct pw_status st;
	struct pw_local_eps *eps = NULL;
	char *tok[64], *save = NULL, *t;
	size_t n = 0, i, k;

	for (t = strtok_r(line, " \t\n", &save); t != NULL && n < 64;
	    t = strtok_r(NULL, " \t\n", &save))
		tok[n++] = t;
	if (n == 0)
		return;
	if (strcmp(tok[0], "quit") == 0) {
		kill(child, SIGTERM);
		return;
	}
	if (strcmp(tok[0], "reconnect") == 0) {
		reconnect();
		return;
	}
	if (!wp.up)
		die("command before the watcher's hello");
	if (strcmp(tok[0], "status") == 0 && n == 6) {
		memset(&st, 0, sizeof(st));
		st.flags = (uint8_t)strtoul(tok[1], NULL, 0);
		st.last_sync_ms = p_time(tok[2]);
		st.last_apply_ms = p_time(tok[3]);
		st.n_services = (uint32_t)strtoul(tok[4], NULL, 10);
		st.n_failed_ops = (uint32_t)strtoul(tok[5], NULL, 10);
		if (pw_send_status(&wp.chan, &st) == -1)
			die("send status");
		return;
	}
	if (strcmp(tok[0], "eps") == 0 && (n - 1) % 4 == 0) {
		k = (n - 1) / 4;
		if ((eps = calloc(k + 1, sizeof(*eps))) == NULL)
			die("memory");
		for (i = 0; i < k; i++) {
			snprintf(eps[i].namespace, sizeof(eps[i].namespace),
			    "%s", tok[1 + 4 * i]);
			snprintf(eps[i].name, sizeof(eps[i].name), "%s",
			    tok[2 + 4 * i]);
			eps[i].health_check_node_port =
			    (uint16_t)atoi(tok[3 + 4 * i]);
			eps[i].ready_local = (uint32_t)atoi(tok[4 + 4 * i]);
		}
		if (pw_send_local_eps(&wp.chan, eps, k) == -1)
			die("send eps");
		free(eps);
		return;
	}
	die("bad command");
}

static void
read_commands(int fd)
{
	static char buf[8192];
	static size_t len;
	ssize_t r;
	char *nl;

	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)r;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			command(buf);
			memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
			len -= (size_t)(nl + 1 - buf);
		}
		if (len == sizeof(buf) - 1)
			die("command too long");
	}
}

int
main(int argc, char *argv[])
{
	struct pollfd pfd[3];
	struct ipc_link *l[2] = { &ctl, &wp };
	struct frame_msg m;
	const char *fifo = NULL;
	int sv_ctl[2], sv_wp[2], cfd, ch, i, rv, t, timeout, st;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch == 'c')
			fifo = optarg;
		else
			return 2;
	}
	if (optind >= argc || fifo == NULL)
		die("usage: watcher_peer -c FIFO -- WATCHERD [ARGS...]");
	log_init("watcher_peer", LOG_LEVEL_WARN, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((cfd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		die("command fifo");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv_ctl) == -1 || socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC, 0, sv_wp) == -1)
		die("socketpair");
	if ((child = fork()) == -1)
		die("fork");
	if (child == 0) {
		int hi0 = fcntl(sv_ctl[1], F_DUPFD_CLOEXEC, 20);
		int hi1 = fcntl(sv_wp[1], F_DUPFD_CLOEXEC, 20);
		int dn = open("/dev/null", O_RDWR);

		dup2(dn, 0);
		dup2(dn, 1);
		dup2(hi0, 3);
		dup2(hi1, 4);
		execv(argv[optind], argv + optind);
		_exit(127);
	}
	close(sv_ctl[1]);
	close(sv_wp[1]);
	printf("pid %d\n", (int)child);
	fflush(stdout);
	link_init(&ctl, "watcher", IPC_ROLE_PARENT, IPC_ROLE_WATCHER,
	    IPC_DIR_CTL_UP, IPC_DIR_CTL_DOWN, 1000);
	link_init(&wp, "watcher", IPC_ROLE_PLANNER, IPC_ROLE_WATCHER,
	    IPC_DIR_WP, IPC_DIR_PW, 1000);
	wp_rx_init(&wrx);
	if (link_open(&ctl, sv_ctl[0]) == -1 || link_open(&wp, sv_wp[0]) == -1)
		die("link_open");
	for (;;) {
		timeout = 1000;
		for (i = 0; i < 2; i++) {
			t = link_tick(l[i], ipc_now_ms());
			if (t >= 0 && t < timeout)
				timeout = t;
			pfd[i].fd = l[i]->open ? l[i]->chan.fd : -1;
			pfd[i].events = POLLIN | (l[i]->open &&
			    frame_pending(&l[i]->chan) ? POLLOUT : 0);
			pfd[i].revents = 0;
		}
		pfd[2].fd = cfd;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (poll(pfd, 3, timeout) == -1 && errno != EINTR)
			die("poll");
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & POLLOUT)
				(void)frame_flush(&l[i]->chan);
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			while ((rv = link_recv(l[i], &m)) != LINK_IDLE) {
				if (rv == LINK_DOWN) {
					link_close(l[i]);
					break;
				}
				if (rv == LINK_MSG && i == 1)
					on_wp(&m);
			}
		}
		if (pfd[2].revents & POLLIN)
			read_commands(cfd);
		if (waitpid(child, &st, WNOHANG) == child) {
			printf("exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st));
			fflush(stdout);
			return 0;
		}
	}
}
