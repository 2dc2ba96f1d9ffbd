/*
 * The per-component systemd form of the daemons (docs/systemd.md): each
 * daemon is started by its own unit instead of by the parent `kipvs`.
 * There is no control link; the edges come from socket units
 * (SOCK_SEQPACKET, Accept=no) and are set up before the sandbox, with the
 * peer checked through SO_PEERCRED:
 *
 *	watcher	connects to --connect (wp.sock); the listener must be root's
 *	planner	accepts one watcher on $LISTEN_FDS "watcher" (uid of
 *		--peer-user), connects to --connect (pa.sock)
 *	applier	accepts one planner on $LISTEN_FDS "planner" (uid of
 *		--peer-user), opens --audit-log and --xtables-lock itself
 *
 * Each lands on the fixed descriptor the parent form uses
 * (ipc/proc.h; fd 3, the control link's, holds the listening socket or
 * /dev/null).  A daemon whose edge goes down exits 1 and systemd
 * restarts it (Restart=always); its peers see the end of the stream and
 * do the same.  READY=1 goes to $NOTIFY_SOCKET (written by hand: no
 * libsystemd) just before the sandbox (common/sd.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_SD_H
#define KIPVS_IPC_SD_H

#include <stddef.h>
#include <sys/types.h>

enum sd_role {
	SD_WATCHER = 1,
	SD_PLANNER,
	SD_APPLIER,
};

struct sd_opts {
	int		 on;		/* --systemd */
	const char	*peer_user;	/* --peer-user NAME|UID */
	const char	*connect;	/* --connect PATH */
	const char	*audit_log;	/* --audit-log PATH|- (applier) */
	const char	*xtables_lock;	/* --xtables-lock PATH (applier) */
};

/*
 * Takes the flags above but --systemd out of argv (both "--f V" and
 * "--f=V") and, with --systemd and no --user, adds "--user=UID:GID" of
 * the running process (the unit's User=): the result is what
 * daemon_opts_parse() expects (--systemd lifts its root check).
 * Fatal on a flag without its value, or --systemd as root.  Returns the
 * new argv (argv itself, or an allocated copy), *argc updated.
 */
char	**sd_opts_take(struct sd_opts *, int *argc, char *argv[]);
/* 1 once sd_opts_take() saw --systemd. */
int	 sd_active(void);

/*
 * The sd_listen_fds_with_names() protocol, parsed by hand: the
 * descriptor named want in $LISTEN_FDNAMES (or the only one when names
 * are absent), if $LISTEN_PID is self.  Returns the descriptor (3 and
 * up), or -1 with a reason.
 */
int	 sd_listen_parse(const char *pid, const char *fds, const char *names,
	    pid_t self, const char *want, const char **reason);
/* The same from the environment, which is then cleared of the three. */
int	 sd_listen_fd(const char *want, const char **reason);

/* SO_PEERCRED of a connected unix socket.  0 or -1. */
int	 sd_peer_uid(int fd, uid_t *uid, pid_t *pid);
/*
 * Accepts on lfd until a peer with uid arrives; others are closed with a
 * warning.  Returns the connection (close-on-exec) or -1.
 */
int	 sd_accept_peer(int lfd, uid_t uid);
/*
 * Connects a SOCK_SEQPACKET socket to path, retrying a missing or
 * refusing socket for up to wait_ms; the listener must belong to uid
 * (systemd's: 0).  Returns the socket or -1.
 */
int	 sd_connect(const char *path, uid_t uid, unsigned wait_ms);
/* "NAME" or "UID": the uid.  0 or -1. */
int	 sd_user_uid(const char *spec, uid_t *uid);

/*
 * Puts the role's edges (and the applier's files) on their fixed
 * descriptors, as the parent would; fatal on any failure.
 */
void	 sd_daemon_setup(const struct sd_opts *, enum sd_role);

#endif /* KIPVS_IPC_SD_H */
