/*
 * The daemons' shared loop: parent link, edge links, signals.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "ipc/sd.h"

static const char *
link_name(uint8_t link_id, uint8_t peer_role)
{
	(void)link_id;
	return ipc_role_name(peer_role);
}

static enum ipc_dir
rx_dir_of(uint8_t self, uint8_t peer)
{
	if (self == IPC_ROLE_PLANNER)
		return peer == IPC_ROLE_WATCHER ? IPC_DIR_WP : IPC_DIR_AP;
	if (self == IPC_ROLE_WATCHER)
		return IPC_DIR_PW;
	return IPC_DIR_PA;
}

static enum ipc_dir
tx_dir_of(uint8_t self, uint8_t peer)
{
	if (self == IPC_ROLE_PLANNER)
		return peer == IPC_ROLE_WATCHER ? IPC_DIR_PW : IPC_DIR_PA;
	if (self == IPC_ROLE_WATCHER)
		return IPC_DIR_WP;
	return IPC_DIR_AP;
}

void
ipc_proc_init(struct ipc_proc *p, uint8_t role, unsigned hb_ms)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->hb_ms = hb_ms;
	p->sigfd = -1;
	link_init(&p->ctl, "parent", role, IPC_ROLE_PARENT, IPC_DIR_CTL_DOWN,
	    IPC_DIR_CTL_UP, hb_ms);
}

void
ipc_proc_add_edge(struct ipc_proc *p, int fixed_fd, uint8_t link_id,
    uint8_t peer_role)
{
	struct ipc_proc_edge *e;

	if (p->n_edges >= IPC_PROC_MAX_EDGES)
		fatalx("too many edges");
	e = &p->edges[p->n_edges++];
	e->fixed_fd = fixed_fd;
	e->link_id = link_id;
	link_init(&e->link, link_name(link_id, peer_role), p->role, peer_role,
	    rx_dir_of(p->role, peer_role), tx_dir_of(p->role, peer_role),
	    p->hb_ms);
}

int
ipc_proc_signals(struct ipc_proc *p, int fd)
{
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return -1;
	if (sfd != fd) {
		if (dup3(sfd, fd, O_CLOEXEC) == -1) {
			close(sfd);
			return -1;
		}
		close(sfd);
	}
	p->sigfd = fd;
	return 0;
}

/* A fresh socket for one edge, sent by the parent after a restart. */
static int
proc_peer_fd(struct ipc_proc *p, const struct frame_msg *m)
{
	struct ctl_peer_fd pf;
	struct ipc_proc_edge *e = NULL;
	const char *reason;
	int i, fd = m->fd;

	if (ctl_decode_peer_fd(m->payload, m->len, m->flags, &pf,
	    &reason) == -1) {
		log_warnx("parent: bad peer socket message: %s", reason);
		close(fd);
		return -1;
	}
	for (i = 0; i < p->n_edges; i++)
		if (p->edges[i].link_id == pf.link)
			e = &p->edges[i];
	if (e == NULL) {
		log_warnx("parent: socket for a link this process lacks");
		close(fd);
		return -1;
	}
	if (e->link.open) {
		link_close_hold(&e->link);
		if (p->on_down != NULL)
			p->on_down(p, e);
	}
	if (fd != e->fixed_fd) {
		if (dup3(fd, e->fixed_fd, O_CLOEXEC) == -1) {
			log_warn("dup3");
			close(fd);
			return -1;
		}
		close(fd);
	}
	log_info("link %s: fresh socket from the parent", e->link.name);
	if (link_open(&e->link, e->fixed_fd) == -1)
		link_close_hold(&e->link);
	return 0;
}

static int
proc_read_ctl(struct ipc_proc *p)
{
	struct frame_msg m;
	int rv;

	while ((rv = link_recv(&p->ctl, &m)) != LINK_IDLE) {
		if (rv == LINK_DOWN)
			return -1;
		if (rv == LINK_MSG && m.type == CTL_PEER_FD &&
		    proc_peer_fd(p, &m) == -1)
			return -1;
	}
	return 0;
}

static void
proc_read_edge(struct ipc_proc *p, struct ipc_proc_edge *e)
{
	struct frame_msg m;
	const char *reason = NULL;
	int rv;

	while ((rv = link_recv(&e->link, &m)) != LINK_IDLE) {
		if (rv == LINK_UP) {
			if (p->on_up != NULL)
				p->on_up(p, e);
			continue;
		}
		if (rv == LINK_MSG && p->on_msg(p, e, &m, &reason) == 0)
			continue;
		if (rv == LINK_MSG)
			log_warnx("link %s: protocol violation: %s",
			    e->link.name, reason ? reason : "?");
		link_close_hold(&e->link);
		if (p->on_down != NULL)
			p->on_down(p, e);
		return;
	}
}

/* 0 to go on, 1 to exit. */
static int
proc_signal(struct ipc_proc *p)
{
	struct signalfd_siginfo si;

	while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("exiting on signal %u", si.ssi_signo);
			return 1;
		case SIGHUP:
			log_info("SIGHUP: nothing to reload yet");
			break;
		}
	}
	return 0;
}

void
ipc_proc_keepalive(void *proc)
{
	struct ipc_proc *p = proc;

	if (!p->ctl.open)
		return;
	link_heartbeat(&p->ctl, ipc_now_ms());
	if (frame_pending(&p->ctl.chan))
		(void)frame_flush(&p->ctl.chan);
}

static int
proc_loop(struct ipc_proc *p)
{
	struct pollfd pfd[2 + IPC_PROC_MAX_EDGES];
	struct ipc_link *links[1 + IPC_PROC_MAX_EDGES];
	uint64_t now;
	int i, n, nl, t, timeout;

	/* Started by systemd (ipc/sd.h): no parent to talk to. */
	if (!sd_active() && link_open(&p->ctl, IPC_FD_CTL) == -1)
		fatalx("cannot talk to the parent");
	for (i = 0; i < p->n_edges; i++)
		if (link_open(&p->edges[i].link, p->edges[i].fixed_fd) == -1)
			link_close_hold(&p->edges[i].link);
	for (;;) {
		/* No parent brings a new socket: systemd restarts us. */
		for (i = 0; sd_active() && i < p->n_edges; i++)
			if (!p->edges[i].link.open) {
				log_warnx("link %s lost: exiting",
				    p->edges[i].link.name);
				return 1;
			}
		now = ipc_now_ms();
		timeout = p->on_timer != NULL ? p->on_timer(p, now) : -1;
		nl = 0;
		links[nl++] = &p->ctl;
		for (i = 0; i < p->n_edges; i++)
			links[nl++] = &p->edges[i].link;
		n = 0;
		pfd[n].fd = p->sigfd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < nl; i++) {
			t = link_tick(links[i], now);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			pfd[n].fd = links[i]->open ? links[i]->chan.fd : -1;
			pfd[n].events = POLLIN;
			if (links[i]->open && frame_pending(&links[i]->chan))
				pfd[n].events |= POLLOUT;
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd[0].revents & POLLIN) && proc_signal(p))
			return 0;
		for (i = 0; i < nl; i++) {
			if (pfd[i + 1].revents & POLLOUT)
				(void)frame_flush(&links[i]->chan);
			if (!(pfd[i + 1].revents &
			    (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i == 0) {
				if (proc_read_ctl(p) == -1) {
					log_warnx("parent link lost: exiting");
					return 1;
				}
			} else
				proc_read_edge(p, &p->edges[i - 1]);
		}
	}
}

int
ipc_proc_run(struct ipc_proc *p)
{
	int i, rv;

	rv = proc_loop(p);
	/* The links' buffers (link_open); the descriptors go with them. */
	ipc_chan_close(&p->ctl.chan);
	for (i = 0; i < p->n_edges; i++)
		ipc_chan_close(&p->edges[i].link.chan);
	return rv;
}
