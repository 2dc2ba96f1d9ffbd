/*
 * The parent: forks and execs the three daemons with their sockets on
 * fixed descriptors, forwards signals, reaps, restarts a dead child alone
 * (its peers get fresh sockets over their control link), and gives up on
 * a restart storm.  It reads nothing from a child but the hello and
 * heartbeat of the control link, through ipc/.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "ipc/link.h"
#include "ipc/proc.h"
#include "ipc/proto_ctl.h"
#include "supervisor/sup.h"
#include "supervisor/sup_backoff.h"

#define SUP_WATCHER	0
#define SUP_PLANNER	1
#define SUP_APPLIER	2
#define SUP_NCHILD	3
#define SUP_STOP_MS	5000	/* SIGTERM to SIGKILL on shutdown */
#define SUP_HIGH_FD	64	/* staging area for the child's fd layout */
#define SUP_MAX_FDS	8

struct sup_child {
	const char	*name;
	const char	*bin;
	uint8_t		 role;
	char		 path[PATH_MAX];
	char		 user[32];	/* "uid:gid" for the child */
	pid_t		 pid;		/* 0 when not running */
	struct ipc_link	 ctl;
	uint64_t	 started_ms;
	uint64_t	 restart_at_ms;	/* 0: no restart pending */
	struct sup_backoff bo;
};

struct sup {
	const struct sup_conf *conf;
	struct sup_child child[SUP_NCHILD];
	int		 sigfd;
	int		 devnull;
	int		 audit_fd;
	int		 xtlock_fd;
	int		 stopping;
	int		 exit_code;
	uint64_t	 kill_at_ms;
	char		 hb_arg[16];
};

void
sup_conf_defaults(struct sup_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->user[SUP_WATCHER] = "kipvs-watch";
	c->user[SUP_PLANNER] = "kipvs-plan";
	c->user[SUP_APPLIER] = "kipvs-apply";
	c->audit_log = "-";
	c->xtables_lock = "/run/xtables.lock";
	c->heartbeat_ms = 1000;
	c->heartbeat_timeout_ms = 10000;
	c->restart_min_ms = 100;
	c->restart_max_ms = 30000;
	c->restart_reset_ms = 60000;
	c->storm_count = 10;
	c->storm_window_ms = 300000;
	c->level = LOG_LEVEL_INFO;
}

/* The other child on an edge of child i, or -1. */
static int
sup_peer(int i, uint8_t link)
{
	if (link == IPC_LINK_WP)
		return i == SUP_WATCHER ? SUP_PLANNER :
		    i == SUP_PLANNER ? SUP_WATCHER : -1;
	return i == SUP_PLANNER ? SUP_APPLIER :
	    i == SUP_APPLIER ? SUP_PLANNER : -1;
}

static const char *
level_name(enum log_level l)
{
	switch (l) {
	case LOG_LEVEL_ERROR:
		return "error";
	case LOG_LEVEL_WARN:
		return "warning";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		break;
	}
	return "debug";
}

/*
 * In the child, between fork and exec: put src[i] on descriptor i and
 * close everything else.  Sources are first moved above the targets.
 */
static void
child_fds(int *src, int n)
{
	int i, hi[SUP_MAX_FDS];

	for (i = 0; i < n; i++)
		if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, SUP_HIGH_FD)) == -1)
			_exit(126);
	for (i = 0; i < n; i++)
		if (dup2(hi[i], i) == -1)
			_exit(126);
	if (syscall(SYS_close_range, (unsigned)n, ~0U, 0) == -1)
		_exit(126);
}

/* Variables a child's environment keeps; everything else is dropped. */
static const char *const env_all[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", NULL
};
static const char *const env_watcher[] = {
	"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", NULL
};

/*
 * Appends to envp, from index e, the parent's "NAME=value" entries of the
 * listed names (the entries themselves, so nothing is cut short) and
 * returns the new count.  envp must have room for every name.
 */
static int
env_keep(char **envp, int e, const char *const *names)
{
	char **ep;
	size_t len;

	for (; *names != NULL; names++) {
		len = strlen(*names);
		for (ep = environ; *ep != NULL; ep++)
			if (strncmp(*ep, *names, len) == 0 &&
			    (*ep)[len] == '=') {
				envp[e++] = *ep;
				break;
			}
	}
	return e;
}

static void
child_exec(struct sup *s, struct sup_child *c, int *src, int n)
{
	const struct sup_conf *conf = s->conf;
	char **argv, *envp[5];
	sigset_t all;
	int a = 0, e = 0, i, own;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		_exit(126);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	child_fds(src, n);

	own = c->role == IPC_ROLE_WATCHER ? 0 :
	    c->role == IPC_ROLE_PLANNER ? 1 : 2;
	if ((argv = calloc((size_t)(12 + conf->n_kp_args +
	    conf->n_own_args[own]), sizeof(*argv))) == NULL)
		_exit(126);
	argv[a++] = c->path;
	argv[a++] = (char *)"--user";
	argv[a++] = c->user;
	argv[a++] = (char *)"--heartbeat-ms";
	argv[a++] = s->hb_arg;
	argv[a++] = (char *)"--log-level";
	argv[a++] = (char *)level_name(conf->level);
	if (conf->seccomp_debug)
		argv[a++] = (char *)"--seccomp-debug";
	/* kube-proxy's flags go to all three, each daemon's to it alone. */
	for (i = 0; i < conf->n_kp_args; i++)
		argv[a++] = conf->kp_args[i];
	for (i = 0; i < conf->n_own_args[own]; i++)
		argv[a++] = conf->own_args[own][i];
	argv[a] = NULL;
	/*
	 * A clean environment: only the sanitizers' settings pass, and to
	 * the watcher the in-cluster apiserver address (its configuration
	 * without --kubeconfig or --master, as client-go's).
	 */
	e = env_keep(envp, e, env_all);
	if (c->role == IPC_ROLE_WATCHER)
		e = env_keep(envp, e, env_watcher);
	envp[e] = NULL;
	execve(c->path, argv, envp);
	dprintf(STDERR_FILENO, "kipvs: exec %s: %s\n", c->path,
	    strerror(errno));
	_exit(127);
}

static int
sup_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/*
 * Starts child i.  edge_fd[] holds its ends of the edge sockets when the
 * caller made them (first start); otherwise fresh pairs are made here and
 * the other ends go to running peers over their control links.
 */
static int
sup_spawn(struct sup *s, int i, const int *edge_fd)
{
	struct sup_child *c = &s->child[i];
	static const uint8_t links[SUP_NCHILD][2] = {
		[SUP_WATCHER] = { IPC_LINK_WP, 0 },
		[SUP_PLANNER] = { IPC_LINK_WP, IPC_LINK_PA },
		[SUP_APPLIER] = { IPC_LINK_PA, 0 },
	};
	int ctl[2], mine[2] = { -1, -1 }, theirs[2] = { -1, -1 };
	int src[SUP_MAX_FDS], n = 0, k, peer;
	struct ctl_peer_fd pf;
	pid_t pid;

	if (sup_socketpair(ctl) == -1)
		return -1;
	for (k = 0; k < 2 && links[i][k] != 0; k++) {
		if (edge_fd != NULL) {
			mine[k] = edge_fd[k];
			continue;
		}
		int sv[2];

		if (sup_socketpair(sv) == -1)
			goto fail;
		mine[k] = sv[0];
		theirs[k] = sv[1];
	}
	src[n++] = s->devnull;
	src[n++] = s->devnull;
	src[n++] = STDERR_FILENO;
	src[n++] = ctl[1];
	for (k = 0; k < 2 && links[i][k] != 0; k++)
		src[n++] = mine[k];
	if (i == SUP_APPLIER) {
		src[n++] = s->audit_fd;
		src[n++] = s->xtlock_fd;
	}
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0)
		child_exec(s, c, src, n);

	c->pid = pid;
	c->started_ms = ipc_now_ms();
	c->restart_at_ms = 0;
	close(ctl[1]);
	ctl[1] = -1;
	if (link_open(&c->ctl, ctl[0]) == -1)
		log_warnx("%s: control link", c->name);
	log_info("%s started (pid %d)", c->name, (int)pid);

	/* Peers that are running get the other ends of the fresh sockets. */
	for (k = 0; k < 2 && links[i][k] != 0; k++) {
		if (edge_fd == NULL) {
			peer = sup_peer(i, links[i][k]);
			pf.link = links[i][k];
			if (peer >= 0 && s->child[peer].pid != 0 &&
			    s->child[peer].ctl.open &&
			    ctl_send_peer_fd(&s->child[peer].ctl.chan, &pf,
			    theirs[k]) == -1)
				log_warn("%s: handing a socket over",
				    s->child[peer].name);
			close(theirs[k]);
		}
		close(mine[k]);
	}
	return 0;
 fail:
	log_warn("%s: start", c->name);
	close(ctl[0]);
	if (ctl[1] != -1)
		close(ctl[1]);
	for (k = 0; k < 2; k++) {
		if (edge_fd == NULL && mine[k] != -1)
			close(mine[k]);
		if (theirs[k] != -1)
			close(theirs[k]);
	}
	return -1;
}

static void
sup_stop(struct sup *s, int sig, int code)
{
	int i;

	if (!s->stopping) {
		s->stopping = 1;
		s->exit_code = code;
		s->kill_at_ms = ipc_now_ms() + SUP_STOP_MS;
	}
	for (i = 0; i < SUP_NCHILD; i++)
		if (s->child[i].pid != 0)
			kill(s->child[i].pid, sig);
}

static void
sup_died(struct sup *s, struct sup_child *c, int status)
{
	uint64_t now = ipc_now_ms();
	unsigned delay;
	uint32_t rnd = 0;

	if (s->stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("%s (pid %d) stopped", c->name, (int)c->pid);
	else if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d", c->name,
		    (int)c->pid, WTERMSIG(status));
	else
		log_warnx("%s (pid %d) exited with status %d", c->name,
		    (int)c->pid, WEXITSTATUS(status));
	c->pid = 0;
	link_close(&c->ctl);
	if (s->stopping)
		return;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)now;
	if (sup_backoff_died(&c->bo, now, now - c->started_ms, rnd,
	    &delay)) {
		log_warnx("restart storm: %s died more than %u times in %u "
		    "ms; exiting so the service manager restarts the set",
		    c->name, s->conf->storm_count, s->conf->storm_window_ms);
		sup_stop(s, SIGTERM, 1);
		return;
	}
	c->restart_at_ms = now + delay + 1;
	log_info("%s: restarting in %u ms", c->name, delay);
}

static void
sup_reap(struct sup *s)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < SUP_NCHILD; i++)
			if (s->child[i].pid == pid)
				break;
		if (i < SUP_NCHILD)
			sup_died(s, &s->child[i], st);
	}
}

static void
sup_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	int i;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			sup_reap(s);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: stopping the daemons",
			    si.ssi_signo);
			sup_stop(s, (int)si.ssi_signo, 0);
			break;
		case SIGHUP:
			for (i = 0; i < SUP_NCHILD; i++)
				if (s->child[i].pid != 0)
					kill(s->child[i].pid, SIGHUP);
			break;
		}
	}
}

static void
sup_read_ctl(struct sup *s, struct sup_child *c)
{
	struct frame_msg m;
	int rv;

	while ((rv = link_recv(&c->ctl, &m)) != LINK_IDLE) {
		if (rv == LINK_UP && c->ctl.peer_pid == (uint32_t)c->pid)
			continue;
		if (rv == LINK_UP)
			log_warnx("%s: hello from pid %u, started pid %d",
			    c->name, c->ctl.peer_pid, (int)c->pid);
		/* A broken control link: the child is restarted. */
		link_close(&c->ctl);
		if (c->pid != 0 && !s->stopping)
			kill(c->pid, SIGKILL);
		return;
	}
}

static int
sup_open_files(struct sup *s)
{
	const struct sup_conf *conf = s->conf;

	if ((s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("/dev/null");
		return -1;
	}
	if (strcmp(conf->audit_log, "-") == 0)
		s->audit_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		s->audit_fd = open(conf->audit_log, O_WRONLY | O_APPEND |
		    O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->audit_fd == -1) {
		log_warn("audit log %s", conf->audit_log);
		return -1;
	}
	s->xtlock_fd = open(conf->xtables_lock, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (s->xtlock_fd == -1) {
		log_warn("xtables lock %s", conf->xtables_lock);
		return -1;
	}
	return 0;
}

static int
sup_setup(struct sup *s, const struct sup_conf *conf)
{
	static const char *const names[] = { "watcher", "planner", "applier" };
	static const char *const bins[] = {
		"kipvs-watcherd", "kipvs-planner", "kipvs-applierd",
	};
	static const uint8_t roles[] = {
		IPC_ROLE_WATCHER, IPC_ROLE_PLANNER, IPC_ROLE_APPLIER,
	};
	char err[256];
	sigset_t set;
	uid_t uid;
	gid_t gid;
	int i;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	snprintf(s->hb_arg, sizeof(s->hb_arg), "%u", conf->heartbeat_ms);
	for (i = 0; i < SUP_NCHILD; i++) {
		struct sup_child *c = &s->child[i];

		c->name = names[i];
		c->bin = bins[i];
		c->role = roles[i];
		if (sandbox_parse_user(conf->user[i], &uid, &gid, err,
		    sizeof(err)) == -1) {
			log_warnx("%s: %s", c->name, err);
			return -1;
		}
		snprintf(c->user, sizeof(c->user), "%u:%u", (unsigned)uid,
		    (unsigned)gid);
		if (snprintf(c->path, sizeof(c->path), "%s/%s",
		    conf->libexec_dir, c->bin) >= (int)sizeof(c->path) ||
		    access(c->path, X_OK) == -1) {
			log_warn("%s: %s (see --libexec-dir)", c->name,
			    c->path);
			return -1;
		}
		link_init(&c->ctl, c->name, IPC_ROLE_PARENT, c->role,
		    IPC_DIR_CTL_UP, IPC_DIR_CTL_DOWN, conf->heartbeat_ms);
		sup_backoff_init(&c->bo, conf->restart_min_ms,
		    conf->restart_max_ms, conf->restart_reset_ms,
		    conf->storm_count, conf->storm_window_ms);
	}
	if (sup_open_files(s) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1) {
		log_warn("signalfd");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* First start: all edges made here so nobody sees a closed peer. */
static int
sup_start_all(struct sup *s)
{
	int wp[2], pa[2], fds[2];

	if (sup_socketpair(wp) == -1 || sup_socketpair(pa) == -1) {
		log_warn("socketpair");
		return -1;
	}
	fds[0] = wp[0];
	if (sup_spawn(s, SUP_WATCHER, fds) == -1)
		return -1;
	fds[0] = wp[1];
	fds[1] = pa[0];
	if (sup_spawn(s, SUP_PLANNER, fds) == -1)
		return -1;
	fds[0] = pa[1];
	return sup_spawn(s, SUP_APPLIER, fds);
}

int
sup_run(const struct sup_conf *conf)
{
	struct pollfd pfd[1 + SUP_NCHILD];
	struct sup s;
	uint64_t now;
	int i, n, t, timeout, running;

	if (sup_setup(&s, conf) == -1)
		return 1;
	if (sup_start_all(&s) == -1) {
		sup_stop(&s, SIGKILL, 1);
		s.kill_at_ms = 0;
	}
	for (;;) {
		now = ipc_now_ms();
		timeout = -1;
		running = 0;
		for (i = 0; i < SUP_NCHILD; i++) {
			struct sup_child *c = &s.child[i];

			if (c->pid != 0) {
				running++;
				t = link_tick(&c->ctl, now);
				if (t >= 0 && (timeout < 0 || t < timeout))
					timeout = t;
				if (!s.stopping && link_stale(&c->ctl, now,
				    conf->heartbeat_timeout_ms)) {
					log_warnx("%s: no heartbeat for %u "
					    "ms: killing it", c->name,
					    conf->heartbeat_timeout_ms);
					kill(c->pid, SIGKILL);
					link_close(&c->ctl);
				}
			} else if (!s.stopping && c->restart_at_ms != 0) {
				if (now >= c->restart_at_ms) {
					if (sup_spawn(&s, i, NULL) == -1)
						c->restart_at_ms = now + 1000;
					continue;
				}
				t = (int)(c->restart_at_ms - now);
				if (timeout < 0 || t < timeout)
					timeout = t;
			}
		}
		if (s.stopping) {
			if (running == 0)
				break;
			if (s.kill_at_ms != 0 && now >= s.kill_at_ms) {
				log_warnx("daemons did not stop: SIGKILL");
				sup_stop(&s, SIGKILL, s.exit_code);
				s.kill_at_ms = 0;
			}
			if (timeout < 0 || timeout > 100)
				timeout = 100;
		}
		n = 0;
		pfd[n].fd = s.sigfd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < SUP_NCHILD; i++) {
			struct ipc_link *l = &s.child[i].ctl;

			pfd[n].fd = l->open ? l->chan.fd : -1;
			pfd[n].events = POLLIN;
			if (l->open && frame_pending(&l->chan))
				pfd[n].events |= POLLOUT;
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (i = 0; i < SUP_NCHILD; i++) {
			struct sup_child *c = &s.child[i];

			if (pfd[1 + i].revents & POLLOUT)
				(void)frame_flush(&c->ctl.chan);
			if (pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
				sup_read_ctl(&s, c);
		}
		if (pfd[0].revents & POLLIN)
			sup_signal(&s);
	}
	log_info("all daemons stopped");
	return s.exit_code;
}
