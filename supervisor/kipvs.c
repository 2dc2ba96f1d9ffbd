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
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/daemon.h"
#include "common/log.h"
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
	    "  --log-level LEVEL             error, warning, info, debug\n"
	    "  --seccomp-debug               log forbidden syscalls, no kill\n"
	    "  --version, --help\n", KIPVS_LIBEXECDIR);
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
	if (optind < argc) {
		log_warnx("unknown command %s", argv[optind]);
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
