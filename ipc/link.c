/*
 * Links: hello, heartbeat and liveness on top of a framed channel.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/log.h"
#include "ipc/link.h"
#include "ipc/proto_ctl.h"

uint64_t
ipc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
ipc_now_ms(void)
{
	return ipc_now_us() / 1000;
}

void
link_init(struct ipc_link *l, const char *name, uint8_t self_role,
    uint8_t peer_role, enum ipc_dir rx, enum ipc_dir tx, unsigned hb_ms)
{
	memset(l, 0, sizeof(*l));
	l->chan.fd = -1;
	l->name = name;
	l->self_role = self_role;
	l->peer_role = peer_role;
	l->rx_dir = rx;
	l->tx_dir = tx;
	l->hb_ms = hb_ms;
}

int
link_open(struct ipc_link *l, int fd)
{
	struct ctl_hello h;
	uint64_t now = ipc_now_ms();

	if (l->chan.rbuf == NULL) {
		if (ipc_chan_init(&l->chan, fd, l->rx_dir, l->tx_dir) == -1) {
			close(fd);
			return -1;
		}
	} else
		ipc_chan_reset(&l->chan, fd);
	l->open = 1;
	l->up = 0;
	l->peer_pid = 0;
	l->hb_tx = 0;
	l->hb_rx = 0;
	l->last_rx_ms = now;
	l->next_hb_ms = now + l->hb_ms;
	l->stale_logged = 0;

	memset(&h, 0, sizeof(h));
	h.role = l->self_role;
	h.proto = IPC_PROTO_VERSION;
	h.pid = (uint32_t)getpid();
	strncpy(h.version, KIPVS_VERSION, sizeof(h.version) - 1);
	if (ctl_send_hello(&l->chan, &h) == -1) {
		log_warn("link %s: sending hello", l->name);
		return -1;
	}
	return 0;
}

void
link_close(struct ipc_link *l)
{
	if (l->chan.fd != -1)
		close(l->chan.fd);
	l->chan.fd = -1;
	ipc_chan_reset(&l->chan, -1);
	if (l->up)
		log_info("link %s: down", l->name);
	l->open = 0;
	l->up = 0;
}

void
link_close_hold(struct ipc_link *l)
{
	/*
	 * dup3() closes the socket and puts /dev/null (descriptor 0) on its
	 * number in one step: no socket opened meanwhile (libcurl's, say)
	 * can take the number and then be replaced by the parent's fresh one.
	 */
	if (l->chan.fd > STDIN_FILENO &&
	    dup3(STDIN_FILENO, l->chan.fd, O_CLOEXEC) == l->chan.fd)
		l->chan.fd = -1;
	link_close(l);
}

static int
link_common(struct ipc_link *l, const struct frame_msg *m)
{
	struct ctl_hello h;
	struct ctl_heartbeat hb;
	const char *reason;

	if (m->type == CTL_HELLO) {
		if (l->up) {
			log_warnx("link %s: second hello", l->name);
			return LINK_DOWN;
		}
		if (ctl_decode_hello(m->payload, m->len, m->flags, &h,
		    &reason) == -1) {
			log_warnx("link %s: bad hello: %s", l->name, reason);
			return LINK_DOWN;
		}
		if (h.role != l->peer_role) {
			log_warnx("link %s: hello from a %s, expected a %s",
			    l->name, ipc_role_name(h.role),
			    ipc_role_name(l->peer_role));
			return LINK_DOWN;
		}
		l->up = 1;
		l->peer_pid = h.pid;
		log_info("link %s: up, peer pid %u, version %s", l->name,
		    h.pid, h.version);
		return LINK_UP;
	}
	if (ctl_decode_heartbeat(m->payload, m->len, m->flags, &hb,
	    &reason) == -1) {
		log_warnx("link %s: bad heartbeat: %s", l->name, reason);
		return LINK_DOWN;
	}
	if (hb.counter != l->hb_rx + 1) {
		log_warnx("link %s: heartbeat %llu after %llu", l->name,
		    (unsigned long long)hb.counter,
		    (unsigned long long)l->hb_rx);
		return LINK_DOWN;
	}
	l->hb_rx = hb.counter;
	log_debug("link %s: heartbeat %llu from pid %u", l->name,
	    (unsigned long long)hb.counter, l->peer_pid);
	return LINK_IDLE;
}

int
link_recv(struct ipc_link *l, struct frame_msg *m)
{
	int rv;

	if (!l->open)
		return LINK_IDLE;
	for (;;) {
		rv = frame_recv(&l->chan, m);
		if (rv == 0) {
			log_info("link %s: peer closed the socket", l->name);
			return LINK_DOWN;
		}
		if (rv == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return LINK_IDLE;
			if (errno == EPROTO)
				log_warnx("link %s: protocol violation: %s",
				    l->name, l->chan.reason);
			else
				log_warn("link %s: receive", l->name);
			return LINK_DOWN;
		}
		l->last_rx_ms = ipc_now_ms();
		l->stale_logged = 0;
		if (m->type == CTL_HELLO || m->type == CTL_HEARTBEAT) {
			rv = link_common(l, m);
			if (rv != LINK_IDLE)
				return rv;
			continue;
		}
		if (!l->up) {
			log_warnx("link %s: protocol violation: message %#x "
			    "before hello", l->name, m->type);
			if (m->fd != -1)
				close(m->fd);
			return LINK_DOWN;
		}
		return LINK_MSG;
	}
}

void
link_heartbeat(struct ipc_link *l, uint64_t now)
{
	struct ctl_heartbeat hb;

	if (!l->open || now < l->next_hb_ms)
		return;
	hb.counter = ++l->hb_tx;
	if (ctl_send_heartbeat(&l->chan, &hb) == -1 && errno != EPIPE)
		log_warn("link %s: sending heartbeat", l->name);
	l->next_hb_ms = now + l->hb_ms;
}

int
link_tick(struct ipc_link *l, uint64_t now)
{
	if (!l->open)
		return -1;
	link_heartbeat(l, now);
	if (l->up && !l->stale_logged && now - l->last_rx_ms >
	    3 * (uint64_t)l->hb_ms + 500) {
		log_warnx("link %s: nothing received for %llu ms", l->name,
		    (unsigned long long)(now - l->last_rx_ms));
		l->stale_logged = 1;
	}
	return (int)(l->next_hb_ms - now);
}

int
link_stale(const struct ipc_link *l, uint64_t now, unsigned timeout_ms)
{
	return l->open && now - l->last_rx_ms > timeout_ms;
}
