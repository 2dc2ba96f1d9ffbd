/*
 * kipvs: the parent process and the command-line entry point.
 *
 * `kipvs [flags]` runs the proxy: the parent forks and execs the three
 * daemons, wires them with socketpairs and restarts them (sup.c); it
 * parses nothing from the network or from a child.  `kipvs render ...`
 * runs the offline renderer from the libexec directory.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/daemon.h"
#include "common/kpconf.h"
#include "common/kpconf_file.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "ipc/proc.h"
#include "supervisor/check.h"
#include "supervisor/sup.h"

enum {
	OPT_LIBEXEC = 256,
	OPT_WATCHER_USER,
	OPT_PLANNER_USER,
	OPT_APPLIER_USER,
	OPT_AUDIT_LOG,
	OPT_XTABLES_LOCK,
	OPT_HB,
	OPT_HB_TIMEOUT,
	OPT_RESTART_MIN,
	OPT_RESTART_MAX,
	OPT_RESTART_RESET,
	OPT_STORM_COUNT,
	OPT_STORM_WINDOW,
	OPT_LOG_LEVEL,
	OPT_SECCOMP_DEBUG,
	OPT_VERSION,
	OPT_HELP,
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kipvs [flags]            run the proxy\n"
	    "       kipvs render [args]      print what would be programmed\n"
	    "       kipvs cleanup [flags]    remove what kipvs owns, exit\n"
	    "       kipvs check [flags]      preflight: can kipvs run here\n"
	    "flags:\n"
	    "  --libexec-dir DIR             daemons (default %s)\n"
	    "  --watcher-user USER           NAME or UID:GID (kipvs-watch)\n"
	    "  --planner-user USER           (kipvs-plan)\n"
	    "  --applier-user USER           (kipvs-apply)\n"
	    "  --audit-log PATH|-            applier audit log (- = stderr)\n"
	    "  --xtables-lock PATH           (/run/xtables.lock)\n"
	    "  --heartbeat-ms N              (1000)\n"
	    "  --heartbeat-timeout-ms N      kill a silent child (10000)\n"
	    "  --restart-min-ms N            back-off start (100)\n"
	    "  --restart-max-ms N            back-off cap (30000)\n"
	    "  --restart-reset-ms N          uptime that resets it (60000)\n"
	    "  --restart-storm-count N       restarts allowed (10) ...\n"
	    "  --restart-storm-window-ms N   ... within (300000)\n"
	    "  --config FILE                 a KubeProxyConfiguration; then\n"
	    "                                only --hostname-override of\n"
	    "                                kube-proxy's flags applies\n"
	    "  --log-level LEVEL             error, warning, info, debug\n"
	    "  --seccomp-debug               log forbidden syscalls, no kill\n"
	    "  --version, --help\n"
	    "kube-proxy's flags (below) go to every daemon; each daemon's own\n"
	    "(kipvs-watcherd, kipvs-planner, kipvs-applierd --help) to it\n"
	    "alone, e.g. --watch-idle-timeout, --blast-radius-hold-ms,\n"
	    "--mass-delete-holdoff-ms.\n", KIPVS_LIBEXECDIR);
	kpconf_usage(f);
}

static const struct option *
own_option(const struct option *lo, const char *a)
{
	size_t len;

	if (a[0] != '-' || a[1] != '-')
		return NULL;
	len = strcspn(a + 2, "=");
	for (; lo->name != NULL; lo++)
		if (strlen(lo->name) == len && strncmp(lo->name, a + 2, len) == 0)
			return lo;
	return NULL;
}

/*
 * Takes kube-proxy's flags and each daemon's own out of argv (with their
 * values), into conf; the parent's own flags, a subcommand and whatever
 * follows stay in argv for getopt.  Returns the new argc.
 */
/* Which daemon's own flag a is (0 watcher, 1 planner, 2 applier), or -1. */
static int
own_table(const struct daemon_flag *const tables[3], const char *a,
    const struct daemon_flag **df)
{
	int t;

	for (t = 0; t < 3; t++)
		if ((*df = daemon_flag_find(tables[t], a)) != NULL)
			return t;
	return -1;
}

static int
split_args(int argc, char *argv[], const struct option *lo,
    struct sup_conf *conf)
{
	const struct option *o;
	const struct daemon_flag *df;
	struct kp_config kp;
	const char *config = NULL;
	char err[256];
	int i, n = 1;

	static const struct daemon_flag *const tables[3] = {
		daemon_watcher_flags, daemon_planner_flags,
		daemon_applier_flags,
	};
	int t;

	conf->kp_args = calloc((size_t)argc + 1, sizeof(char *));
	if (conf->kp_args == NULL)
		fatal("arguments");
	for (t = 0; t < 3; t++)
		if ((conf->own_args[t] = calloc((size_t)argc + 1,
		    sizeof(char *))) == NULL)
			fatal("arguments");
	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		int has_eq = strchr(a, '=') != NULL;

		if (a[0] != '-' || strcmp(a, "--") == 0) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if ((o = own_option(lo, a)) != NULL) {
			argv[n++] = a;
			if (o->has_arg == required_argument && !has_eq &&
			    i + 1 < argc)
				argv[n++] = argv[++i];
		} else if (strcmp(a, "--config") == 0 ||
		    strncmp(a, "--config=", 9) == 0) {
			if (has_eq)
				config = a + 9;
			else if (i + 1 < argc)
				config = argv[++i];
			else
				fatalx("--config needs a file");
		} else if ((t = own_table(tables, a, &df)) >= 0) {
			conf->own_args[t][conf->n_own_args[t]++] = a;
			if (df->has_arg && !has_eq && i + 1 < argc)
				conf->own_args[t][conf->n_own_args[t]++] =
				    argv[++i];
		} else if (kpconf_is_flag(a)) {
			conf->kp_args[conf->n_kp_args++] = a;
			if (!kpconf_is_bool(a) && !has_eq && i + 1 < argc)
				conf->kp_args[conf->n_kp_args++] = argv[++i];
		} else
			argv[n++] = a;
	}
	argv[n] = NULL;
	kpconf_defaults(&kp);
	if (config != NULL) {
		/*
		 * kube-proxy's precedence: the file's settings, with only
		 * --hostname-override and the flags the file has no field for
		 * taken from the command line.  The daemons receive the result
		 * as flags, so they parse one form only.
		 */
		if (kpconf_file_load(&kp, config, NULL, NULL, err,
		    sizeof(err)) == -1 ||
		    kpconf_file_merge(&kp, conf->n_kp_args, conf->kp_args,
		    NULL, NULL, err, sizeof(err)) == -1)
			fatalx("--config: %s", err);
		free(conf->kp_args);
		if ((conf->kp_args = kpconf_to_args(&kp,
		    &conf->n_kp_args)) == NULL)
			fatal("arguments");
		log_debug("configuration from %s: %d flag(s) for the daemons",
		    config, conf->n_kp_args);
	}
	/* A bad kube-proxy flag stops the parent, not three children. */
	kpconf_defaults(&kp);
	if (kpconf_parse(&kp, conf->n_kp_args, conf->kp_args, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	return n;
}

/*
 * `kipvs cleanup`: the applier in its one-shot mode, with the audit log
 * and the xtables lock on its descriptors, as the parent would start it.
 */
static void
run_cleanup(const struct sup_conf *conf)
{
	char path[PATH_MAX], user[32], err[256];
	char **argv;
	uid_t uid;
	gid_t gid;
	int a = 0, i, fd;

	if (geteuid() != 0)
		fatalx("cleanup must run as root");
	if (sandbox_parse_user(conf->user[2], &uid, &gid, err,
	    sizeof(err)) == -1)
		fatalx("applier: %s", err);
	snprintf(user, sizeof(user), "%u:%u", (unsigned)uid, (unsigned)gid);
	if (snprintf(path, sizeof(path), "%s/kipvs-applierd",
	    conf->libexec_dir) >= (int)sizeof(path))
		fatalx("--libexec-dir too long");
	if (strcmp(conf->audit_log, "-") == 0)
		fd = fcntl(STDERR_FILENO, F_DUPFD, 0);
	else
		fd = open(conf->audit_log, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW, 0600);
	if (fd == -1 || dup2(fd, APPLY_FD_AUDIT) == -1)
		fatal("audit log %s", conf->audit_log);
	if (fd != APPLY_FD_AUDIT)
		close(fd);
	fd = open(conf->xtables_lock, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (fd == -1 || dup2(fd, APPLY_FD_XTLOCK) == -1)
		fatal("xtables lock %s", conf->xtables_lock);
	if (fd != APPLY_FD_XTLOCK)
		close(fd);
	if ((argv = calloc((size_t)(8 + conf->n_kp_args +
	    conf->n_own_args[2]), sizeof(*argv))) == NULL)
		fatal("arguments");
	argv[a++] = path;
	argv[a++] = (char *)"--user";
	argv[a++] = user;
	argv[a++] = (char *)"--cleanup";
	for (i = 0; i < conf->n_kp_args; i++)
		argv[a++] = conf->kp_args[i];
	for (i = 0; i < conf->n_own_args[2]; i++)
		argv[a++] = conf->own_args[2][i];
	argv[a] = NULL;
	execv(path, argv);
	fatal("exec %s", path);
}

static unsigned
parse_ms(const char *flag, const char *s, unsigned min, unsigned max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		fatalx("%s: a number from %u to %u", flag, min, max);
	return (unsigned)v;
}

static void
run_render(const char *libexec, int argc, char *argv[])
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/kipvs-render", libexec) >=
	    (int)sizeof(path))
		fatalx("--libexec-dir too long");
	argv[0] = path;
	(void)argc;
	execv(path, argv);
	fatal("exec %s", path);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "libexec-dir", required_argument, NULL, OPT_LIBEXEC },
		{ "watcher-user", required_argument, NULL, OPT_WATCHER_USER },
		{ "planner-user", required_argument, NULL, OPT_PLANNER_USER },
		{ "applier-user", required_argument, NULL, OPT_APPLIER_USER },
		{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
		{ "xtables-lock", required_argument, NULL, OPT_XTABLES_LOCK },
		{ "heartbeat-ms", required_argument, NULL, OPT_HB },
		{ "heartbeat-timeout-ms", required_argument, NULL,
		    OPT_HB_TIMEOUT },
		{ "restart-min-ms", required_argument, NULL, OPT_RESTART_MIN },
		{ "restart-max-ms", required_argument, NULL, OPT_RESTART_MAX },
		{ "restart-reset-ms", required_argument, NULL,
		    OPT_RESTART_RESET },
		{ "restart-storm-count", required_argument, NULL,
		    OPT_STORM_COUNT },
		{ "restart-storm-window-ms", required_argument, NULL,
		    OPT_STORM_WINDOW },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "seccomp-debug", no_argument, NULL, OPT_SECCOMP_DEBUG },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct sup_conf conf;
	int ch;

	log_init("kipvs", LOG_LEVEL_INFO, 0);
	sup_conf_defaults(&conf);
	conf.libexec_dir = KIPVS_LIBEXECDIR;
	argc = split_args(argc, argv, longopts, &conf);
	/* "+": stop at the first non-flag, a subcommand. */
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LIBEXEC:
			conf.libexec_dir = optarg;
			break;
		case OPT_WATCHER_USER:
			conf.user[0] = optarg;
			break;
		case OPT_PLANNER_USER:
			conf.user[1] = optarg;
			break;
		case OPT_APPLIER_USER:
			conf.user[2] = optarg;
			break;
		case OPT_AUDIT_LOG:
			conf.audit_log = optarg;
			break;
		case OPT_XTABLES_LOCK:
			conf.xtables_lock = optarg;
			break;
		case OPT_HB:
			conf.heartbeat_ms = parse_ms("--heartbeat-ms", optarg,
			    10, 60000);
			break;
		case OPT_HB_TIMEOUT:
			conf.heartbeat_timeout_ms = parse_ms(
			    "--heartbeat-timeout-ms", optarg, 100, 600000);
			break;
		case OPT_RESTART_MIN:
			conf.restart_min_ms = parse_ms("--restart-min-ms",
			    optarg, 1, 600000);
			break;
		case OPT_RESTART_MAX:
			conf.restart_max_ms = parse_ms("--restart-max-ms",
			    optarg, 1, 3600000);
			break;
		case OPT_RESTART_RESET:
			conf.restart_reset_ms = parse_ms("--restart-reset-ms",
			    optarg, 1, 86400000);
			break;
		case OPT_STORM_COUNT:
			conf.storm_count = parse_ms("--restart-storm-count",
			    optarg, 1, 60);
			break;
		case OPT_STORM_WINDOW:
			conf.storm_window_ms = parse_ms(
			    "--restart-storm-window-ms", optarg, 1, 86400000);
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &conf.level) == -1)
				fatalx("--log-level: error, warning, info or "
				    "debug");
			break;
		case OPT_SECCOMP_DEBUG:
			conf.seccomp_debug = 1;
			break;
		case OPT_VERSION:
			printf("kipvs %s\n", KIPVS_VERSION);
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "render") == 0)
		run_render(conf.libexec_dir, argc - optind, argv + optind);
	if (optind < argc && strcmp(argv[optind], "check") == 0)
		return check_main(&conf, argc - optind, argv + optind);
	if (optind + 1 == argc && strcmp(argv[optind], "cleanup") == 0)
		run_cleanup(&conf);
	if (optind < argc) {
		log_warnx("unknown command or flag %s", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_setlevel(conf.level);
	if (conf.restart_max_ms < conf.restart_min_ms)
		fatalx("--restart-max-ms is below --restart-min-ms");
	if (geteuid() != 0)
		fatalx("must run as root: it starts each daemon under its own "
		    "account with only the capabilities it needs");
	return sup_run(&conf);
}
