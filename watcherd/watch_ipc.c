/*
 * kipvs-watcherd: the parent and planner links on libevent (see
 * watch_ipc.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "ipc/proto_ctl.h"
#include "ipc/sd.h"
#include "watcherd/watch_ipc.h"

static struct ipc_proc_edge *
wi_edge(struct watch_ipc *w)
{
	return &w->p.edges[0];
}

/* Re-arms the heartbeat timer for the earliest link that needs it. */
static void
wi_tick(evutil_socket_t fd, short what, void *arg)
{
	struct watch_ipc *w = arg;
	struct timeval tv;
	uint64_t now = ipc_now_ms();
	int t, u;

	(void)fd;
	(void)what;
	t = link_tick(&w->p.ctl, now);
	u = link_tick(&wi_edge(w)->link, now);
	if (t < 0 || (u >= 0 && u < t))
		t = u;
	if (t < 0)
		t = (int)w->p.hb_ms;
	tv.tv_sec = t / 1000;
	tv.tv_usec = (t % 1000) * 1000;
	evtimer_add(w->ev_tick, &tv);
	watch_ipc_kick(w);
}

static void
wi_edge_close(struct watch_ipc *w)
{
	struct ipc_proc_edge *e = wi_edge(w);

	if (!e->link.open)
		return;
	event_del(w->ev_wp);
	event_del(w->ev_wp_out);
	link_close_hold(&e->link);
	if (w->cb.down != NULL)
		w->cb.down(w->cb.arg);
	/* No parent brings a new socket: systemd restarts us. */
	if (sd_active()) {
		log_warnx("link %s lost: exiting", e->link.name);
		w->exit_code = 1;
		event_base_loopbreak(w->base);
	}
}

void
watch_ipc_planner_close(struct watch_ipc *w)
{
	wi_edge_close(w);
}

static int
wi_edge_open(struct watch_ipc *w)
{
	struct ipc_proc_edge *e = wi_edge(w);

	if (link_open(&e->link, e->fixed_fd) == -1) {
		link_close_hold(&e->link);
		return -1;
	}
	event_add(w->ev_wp, NULL);
	watch_ipc_kick(w);
	return 0;
}

static void
wi_edge_read(evutil_socket_t fd, short what, void *arg)
{
	struct watch_ipc *w = arg;
	struct ipc_proc_edge *e = wi_edge(w);
	struct frame_msg m;
	const char *reason = NULL;
	int rv;

	(void)fd;
	(void)what;
	while ((rv = link_recv(&e->link, &m)) != LINK_IDLE) {
		if (rv == LINK_UP) {
			if (w->cb.up != NULL)
				w->cb.up(w->cb.arg, &e->link.chan);
			continue;
		}
		if (rv == LINK_MSG && w->cb.msg(w->cb.arg, &m, &reason) == 0)
			continue;
		if (rv == LINK_MSG)
			log_warnx("link %s: protocol violation: %s",
			    e->link.name, reason ? reason : "?");
		wi_edge_close(w);
		break;
	}
	watch_ipc_kick(w);
}

static void
wi_flush(evutil_socket_t fd, short what, void *arg)
{
	struct watch_ipc *w = arg;

	(void)what;
	if (fd == IPC_FD_CTL)
		(void)frame_flush(&w->p.ctl.chan);
	else if (wi_edge(w)->link.open)
		(void)frame_flush(&wi_edge(w)->link.chan);
	watch_ipc_kick(w);
}

void
watch_ipc_kick(struct watch_ipc *w)
{
	struct ipc_link *l = &wi_edge(w)->link;

	if (l->open && frame_pending(&l->chan) &&
	    !event_pending(w->ev_wp_out, EV_WRITE, NULL))
		event_add(w->ev_wp_out, NULL);
	if (w->p.ctl.open && frame_pending(&w->p.ctl.chan) &&
	    !event_pending(w->ev_ctl_out, EV_WRITE, NULL))
		event_add(w->ev_ctl_out, NULL);
}

int
watch_ipc_drain(struct watch_ipc *w, size_t bytes, int timeout_ms)
{
	struct ipc_link *l = &wi_edge(w)->link;
	struct pollfd pfd;
	size_t before;

	while (l->open && l->chan.outq_bytes > bytes) {
		before = l->chan.outq_bytes;
		pfd.fd = l->chan.fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) == -1 && errno != EINTR)
			break;
		if (frame_flush(&l->chan) == -1 && errno != EAGAIN)
			break;
		if (l->chan.outq_bytes >= before) {
			log_warnx("link %s: the planner does not read; "
			    "closing the link", l->name);
			break;
		}
	}
	if (l->open && l->chan.outq_bytes <= bytes)
		return 0;
	wi_edge_close(w);
	return -1;
}

/* A fresh planner socket from the parent, moved onto fd 4. */
static int
wi_peer_fd(struct watch_ipc *w, const struct frame_msg *m)
{
	struct ipc_proc_edge *e = wi_edge(w);
	struct ctl_peer_fd pf;
	const char *reason;
	int fd = m->fd;

	if (ctl_decode_peer_fd(m->payload, m->len, m->flags, &pf,
	    &reason) == -1) {
		log_warnx("parent: bad peer socket message: %s", reason);
		close(fd);
		return -1;
	}
	if (pf.link != e->link_id) {
		log_warnx("parent: socket for a link this process lacks");
		close(fd);
		return -1;
	}
	wi_edge_close(w);
	if (fd != e->fixed_fd) {
		if (dup3(fd, e->fixed_fd, O_CLOEXEC) == -1) {
			log_warn("dup3");
			close(fd);
			return -1;
		}
		close(fd);
	}
	log_info("link %s: fresh socket from the parent", e->link.name);
	(void)wi_edge_open(w);
	return 0;
}

static void
wi_ctl_read(evutil_socket_t fd, short what, void *arg)
{
	struct watch_ipc *w = arg;
	struct frame_msg m;
	int rv;

	(void)fd;
	(void)what;
	while ((rv = link_recv(&w->p.ctl, &m)) != LINK_IDLE) {
		if (rv == LINK_DOWN ||
		    (rv == LINK_MSG && m.type == CTL_PEER_FD &&
		    wi_peer_fd(w, &m) == -1)) {
			log_warnx("parent link lost: exiting");
			w->exit_code = 1;
			event_base_loopbreak(w->base);
			return;
		}
	}
	watch_ipc_kick(w);
}

static void
wi_signal(evutil_socket_t fd, short what, void *arg)
{
	struct watch_ipc *w = arg;
	struct signalfd_siginfo si;

	(void)what;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("exiting on signal %u", si.ssi_signo);
			w->exit_code = 0;
			event_base_loopbreak(w->base);
			return;
		case SIGHUP:
			log_info("SIGHUP: nothing to reload");
			break;
		}
	}
}

int
watch_ipc_init(struct watch_ipc *w, unsigned hb_ms,
    const struct watch_ipc_cb *cb)
{
	memset(w, 0, sizeof(*w));
	w->cb = *cb;
	ipc_proc_init(&w->p, IPC_ROLE_WATCHER, hb_ms);
	ipc_proc_add_edge(&w->p, WATCH_FD_WP, IPC_LINK_WP, IPC_ROLE_PLANNER);
	return ipc_proc_signals(&w->p, WATCH_FD_SIGNAL);
}

int
watch_ipc_attach(struct watch_ipc *w, struct event_base *base)
{
	w->base = base;
	w->ev_ctl = event_new(base, IPC_FD_CTL, EV_READ | EV_PERSIST,
	    wi_ctl_read, w);
	w->ev_ctl_out = event_new(base, IPC_FD_CTL, EV_WRITE, wi_flush, w);
	w->ev_wp = event_new(base, WATCH_FD_WP, EV_READ | EV_PERSIST,
	    wi_edge_read, w);
	w->ev_wp_out = event_new(base, WATCH_FD_WP, EV_WRITE, wi_flush, w);
	w->ev_sig = event_new(base, WATCH_FD_SIGNAL, EV_READ | EV_PERSIST,
	    wi_signal, w);
	w->ev_tick = evtimer_new(base, wi_tick, w);
	if (w->ev_ctl == NULL || w->ev_ctl_out == NULL || w->ev_wp == NULL ||
	    w->ev_wp_out == NULL || w->ev_sig == NULL || w->ev_tick == NULL)
		return -1;
	return 0;
}

int
watch_ipc_start(struct watch_ipc *w)
{
	struct timeval tv = { 0, 0 };

	/* Started by systemd (ipc/sd.h): no parent to talk to. */
	if (!sd_active()) {
		if (link_open(&w->p.ctl, IPC_FD_CTL) == -1)
			return -1;
		event_add(w->ev_ctl, NULL);
	}
	event_add(w->ev_sig, NULL);
	/* --systemd: the edge made before the sandbox is the only one. */
	if (wi_edge_open(w) == -1 && sd_active())
		return -1;
	evtimer_add(w->ev_tick, &tv);
	return 0;
}

void
watch_ipc_free(struct watch_ipc *w)
{
	struct event **evs[] = { &w->ev_ctl, &w->ev_ctl_out, &w->ev_wp,
	    &w->ev_wp_out, &w->ev_sig, &w->ev_tick };
	size_t i;

	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i] != NULL) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	/* The links' buffers (link_open); the descriptors go with them. */
	ipc_chan_close(&w->p.ctl.chan);
	ipc_chan_close(&wi_edge(w)->link.chan);
}

struct ipc_chan *
watch_ipc_planner(struct watch_ipc *w)
{
	struct ipc_link *l = &wi_edge(w)->link;

	return l->open && l->up ? &l->chan : NULL;
}
