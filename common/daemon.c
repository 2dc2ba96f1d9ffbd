/*
 * Command line shared by the three daemons.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "common/daemon.h"
#include "common/sandbox.h"

int
log_level_parse(const char *s, enum log_level *level)
{
	if (strcmp(s, "error") == 0)
		*level = LOG_LEVEL_ERROR;
	else if (strcmp(s, "warning") == 0 || strcmp(s, "warn") == 0)
		*level = LOG_LEVEL_WARN;
	else if (strcmp(s, "info") == 0)
		*level = LOG_LEVEL_INFO;
	else if (strcmp(s, "debug") == 0)
		*level = LOG_LEVEL_DEBUG;
	else
		return -1;
	return 0;
}

/*
 * Each daemon's own flags.  They live here, not in the daemons' folders,
 * because the parent routes them: it forwards exactly these to that
 * daemon alone.
 */
const struct daemon_flag daemon_watcher_flags[] = {
	{ "watch-idle-timeout", 1, 0, "S: a watch that got no byte this "
	    "long is replaced from its last resourceVersion (default 45)" },
	{ NULL, 0, 0, NULL },
};

const struct daemon_flag daemon_planner_flags[] = {
	{ "blast-radius-hold-ms", 1, 0, "hold a sync that deletes more than "
	    "half of what kipvs owns this long (ms, default 10000), then "
	    "send it confirmed" },
	{ NULL, 0, 0, NULL },
};

const struct daemon_flag daemon_applier_flags[] = {
	{ "apiserver-address", 1, 0,
	    "ADDR[,ADDR]: never bind or serve these (deny-list)" },
	{ "mass-delete-share", 1, 0,
	    "PCT: refuse a batch deleting more than this share of the owned "
	    "objects (50)" },
	{ "mass-delete-min", 1, 0,
	    "N: ... when it deletes more than N objects (20)" },
	{ "mass-delete-holdoff-ms", 1, 0,
	    "N: a confirmed mass deletion is accepted this long after the "
	    "refusal (30000)" },
	{ "max-batch-ops", 1, 0, "N: ops per batch (250000)" },
	{ "max-virtual-servers", 1, 0, "N: owned virtual servers (100000)" },
	{ "max-real-servers", 1, 0, "N: owned real servers (1000000)" },
	{ "max-addresses", 1, 0, "N: addresses on kube-ipvs0 (65536)" },
	{ "drift-check-ms", 1, 0,
	    "N: dump the kernel to the planner this often (0: the IPVS sync "
	    "period)" },
	{ "xtables-wait-ms", 1, 0, "N: wait for the xtables lock (5000)" },
	{ "cleanup", 0, 0, "remove what kipvs owns, then exit" },
	/* Hosts without IPVS (the process tests): no modules, no sysctls. */
	{ "test-no-kernel-setup", 0, 1, NULL },
	{ NULL, 0, 0, NULL },
};

const struct daemon_flag *
daemon_flag_find(const struct daemon_flag *table, const char *arg)
{
	const char *name;
	size_t len;

	if (table == NULL || arg[0] != '-' || arg[1] != '-')
		return NULL;
	name = arg + 2;
	len = strcspn(name, "=");
	for (; table->name != NULL; table++)
		if (strlen(table->name) == len &&
		    strncmp(table->name, name, len) == 0)
			return table;
	return NULL;
}

static void
usage(FILE *f, const char *prog, const struct daemon_flag *own)
{
	fprintf(f, "usage: %s --user NAME|UID:GID [--heartbeat-ms N] "
	    "[--log-level LEVEL] [--seccomp-debug] [kube-proxy flags]\n"
	    "       %s --version | --help\n"
	    "Started by kipvs(8) with its sockets on fixed descriptors.\n",
	    prog, prog);
	for (; own != NULL && own->name != NULL; own++)
		if (!own->hidden)
			fprintf(f, "  --%s%s  %s\n", own->name,
			    own->has_arg ? "=VALUE" : "", own->help);
}

static const struct option daemon_longopts[] = {
	{ "user", required_argument, NULL, 'u' },
	{ "heartbeat-ms", required_argument, NULL, 'H' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "seccomp-debug", no_argument, NULL, 'S' },
	{ "systemd", no_argument, NULL, 'D' },
	{ "test-syscall", required_argument, NULL, 'T' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option *
daemon_longopt(const char *arg)
{
	const struct option *o;
	size_t len;

	if (arg[0] != '-' || arg[1] != '-')
		return NULL;
	len = strcspn(arg + 2, "=");
	for (o = daemon_longopts; o->name != NULL; o++)
		if (strlen(o->name) == len &&
		    strncmp(o->name, arg + 2, len) == 0)
			return o;
	return NULL;
}

static void
daemon_opt(struct daemon_opts *o, int ch, const char *val)
{
	unsigned long v;
	char *end;

	switch (ch) {
	case 'u':
		o->user = val;
		break;
	case 'H':
		errno = 0;
		v = strtoul(val, &end, 10);
		if (errno != 0 || *end != '\0' || v < 10 || v > 60000)
			fatalx("--heartbeat-ms: 10 to 60000");
		o->heartbeat_ms = (unsigned)v;
		break;
	case 'l':
		if (log_level_parse(val, &o->level) == -1)
			fatalx("--log-level: error, warning, info or debug");
		break;
	case 'S':
		o->seccomp_debug = 1;
		break;
	case 'D':
		o->systemd = 1;
		break;
	case 'T':
		o->test_syscall = val;
		break;
	}
}

void
daemon_opts_parse(struct daemon_opts *o, const char *prog, int argc,
    char *argv[])
{
	daemon_opts_parse_own(o, prog, argc, argv, NULL, NULL, NULL);
}

/*
 * The argument loop: the daemons' common flags, the daemon's own, and
 * kube-proxy's flags (collected and handed to kpconf_parse in one go).
 */
void
daemon_opts_parse_own(struct daemon_opts *o, const char *prog, int argc,
    char *argv[], const struct daemon_flag *own, daemon_flag_fn fn,
    void *arg)
{
	const struct option *lo;
	const struct daemon_flag *df;
	const char *env, *val, *eq;
	char **kpv, err[256], name[64];
	int i, kpc = 0;

	memset(o, 0, sizeof(o[0]));
	o->prog = prog;
	o->heartbeat_ms = 1000;
	o->level = LOG_LEVEL_INFO;
	kpconf_defaults(&o->kp);
	log_init(prog, o->level, 0);
	if ((kpv = calloc((size_t)argc + 1, sizeof(*kpv))) == NULL)
		fatal("arguments");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		eq = strchr(a, '=');
		if ((lo = daemon_longopt(a)) != NULL) {
			if (lo->val == 'V') {
				printf("%s %s\n", prog, KIPVS_VERSION);
				exit(0);
			}
			if (lo->val == 'h') {
				usage(stdout, prog, own);
				kpconf_usage(stdout);
				exit(0);
			}
			val = NULL;
			if (lo->has_arg == required_argument) {
				if (eq != NULL)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					fatalx("%s needs a value", a);
			} else if (eq != NULL)
				fatalx("%.*s takes no value", (int)(eq - a), a);
			daemon_opt(o, lo->val, val);
		} else if ((df = daemon_flag_find(own, a)) != NULL) {
			val = NULL;
			if (df->has_arg) {
				if (eq != NULL)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					fatalx("--%s needs a value", df->name);
			} else if (eq != NULL)
				fatalx("--%s takes no value", df->name);
			snprintf(name, sizeof(name), "%s", df->name);
			if (fn(arg, name, val, err, sizeof(err)) == -1)
				fatalx("--%s: %s", df->name, err);
		} else if (a[0] == '-' && kpconf_is_flag(a)) {
			kpv[kpc++] = argv[i];
			if (eq == NULL && !kpconf_is_bool(a) && i + 1 < argc)
				kpv[kpc++] = argv[++i];
		} else {
			log_warnx("unknown argument %s", a);
			usage(stderr, prog, own);
			exit(2);
		}
	}
	if (kpconf_parse(&o->kp, kpc, kpv, err, sizeof(err)) == -1)
		fatalx("%s", err);
	free(kpv);
	if ((env = getenv("KIPVS_SECCOMP_DEBUG")) != NULL &&
	    strcmp(env, "1") == 0)
		o->seccomp_debug = 1;
	log_init(prog, o->level, 0);
	if (o->user == NULL)
		fatalx("--user is required (kipvs passes it)");
	if (sandbox_parse_user(o->user, &o->uid, &o->gid, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	/* --systemd (ipc/sd.h): the unit's User= already is the account. */
	if (geteuid() != 0 && !o->systemd)
		fatalx("must be started as root (it drops to %s itself)",
		    o->user);
}

void
daemon_check_fds(int lo, int hi)
{
	int fd;

	for (fd = lo; fd <= hi; fd++)
		if (fcntl(fd, F_GETFD) == -1)
			fatalx("descriptor %d is not open: the daemons are "
			    "started by kipvs, which wires them", fd);
}

void
daemon_test_syscall(const char *name)
{
	int rv = sandbox_probe(name);

	if (rv < 0)
		fatalx("unknown test syscall %s", name);
	log_info("test syscall %s returned %d", name, rv);
	_exit(rv > 255 ? 255 : rv);
}
