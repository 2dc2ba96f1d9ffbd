/*
 * `kipvs check`: kube-proxy's "can it use IPVS" start-up probe and the
 * usual reasons it cannot, as a report an operator reads before starting
 * kipvs.  Every check only reads: /proc, /sys, libkmod's module index,
 * the capability sets of this process, the account database and the
 * interface addresses.  Nothing is loaded, created or written.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>

#include <arpa/inet.h>
#include <cap-ng.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libkmod.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kpconf.h"
#include "common/kpconf_file.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "supervisor/check.h"

#define CHECK_LINK	"kube-ipvs0"
/* Without /lib/modules/<release>, a built-in module may be invisible. */
#define CHECK_UNKNOWN_REMEDY "a built-in module without parameters is " \
	"invisible without the kernel's module index (modules.builtin); if " \
	"one is missing, the applier's first sync reports the error"

enum check_res {
	CHECK_OK = 0,
	CHECK_WARN,
	CHECK_FAIL,
};

/* What the kernel has of one module, best first. */
enum check_mod {
	MOD_MISSING = 0,
	MOD_UNKNOWN,		/* no module index to tell from */
	MOD_LOADABLE,
	MOD_LOADED,
	MOD_BUILTIN,
};

struct check_vs {
	int		 family;	/* AF_INET, AF_INET6 */
	unsigned char	 addr[16];
};

struct check {
	struct kp_config kp;
	const char	*user[3];
	const char	*config;
	char		 config_err[512];
	char		 config_warn[512];
	struct kmod_ctx	*kmod;
	char		 release[65];
	char		 modtree[PATH_MAX];
	int		 has_modtree;
	int		 modules_disabled;
	int		 has_proc_modules;
	/* Modules that exist but are not loaded: someone must load them. */
	char		 to_load[512];
	int		 n_to_load;
	/* /proc/net/ip_vs: virtual server addresses and schedulers. */
	int		 ipvs_active;
	char		 ipvs_version[64];
	struct check_vs	*vs;
	size_t		 n_vs;
	int		 n_vs_sched;	/* those using kp.scheduler */
	int		 n_ok, n_warn, n_fail;
};

/* The applier's scheduler allow-list (applierd/applier_policy.c). */
static const char *const check_scheds[] = {
	"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq",
	"mh", NULL,
};

/* The set types kipvs creates (docs/applier.md, "ipsets"). */
static const char *const check_set_mods[] = {
	"ip_set_hash_ip", "ip_set_hash_ipport", "ip_set_hash_ipportip",
	"ip_set_hash_ipportnet", "ip_set_bitmap_port", NULL,
};

/*
 * What the applier's rules use (applierd/applier_ipt.c): a table, match or
 * target is there when /proc/net/<family>_tables_<kind> lists it, or its
 * module can be loaded.
 */
struct check_xt {
	const char	*kind;		/* names, matches, targets */
	const char	*name;
	const char	*mod4;
	const char	*mod6;
};

static const struct check_xt check_xts[] = {
	{ "names", "nat", "iptable_nat", "ip6table_nat" },
	{ "names", "filter", "iptable_filter", "ip6table_filter" },
	{ "matches", "comment", "xt_comment", "xt_comment" },
	{ "matches", "mark", "xt_mark", "xt_mark" },
	{ "matches", "conntrack", "xt_conntrack", "xt_conntrack" },
	{ "matches", "set", "xt_set", "xt_set" },
	{ "matches", "addrtype", "xt_addrtype", "xt_addrtype" },
	{ "matches", "physdev", "xt_physdev", "xt_physdev" },
	{ "matches", "ipvs", "xt_ipvs", "xt_ipvs" },
	{ "targets", "MARK", "xt_mark", "xt_mark" },
	{ "targets", "MASQUERADE", "xt_MASQUERADE", "xt_MASQUERADE" },
	{ "targets", "REJECT", "ipt_REJECT", "ip6t_REJECT" },
	{ NULL, NULL, NULL, NULL },
};

static void
check_usage(FILE *f)
{
	fprintf(f,
	    "usage: kipvs check [--config FILE] [kube-proxy flags]\n"
	    "                   [--watcher-user U] [--planner-user U]"
	    " [--applier-user U]\n"
	    "Reads the host and prints one OK, WARN or FAIL line per check;\n"
	    "exit status 0 without a FAIL (warnings allowed), 1 with one,\n"
	    "2 on a usage error.  Changes nothing.\n");
}

static void
check_line(struct check *c, enum check_res res, const char *name,
    const char *remedy, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
check_line(struct check *c, enum check_res res, const char *name,
    const char *remedy, const char *fmt, ...)
{
	static const char *const word[] = { "OK", "WARN", "FAIL" };
	va_list ap;

	printf("%-4s  %-16s ", word[res], name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (res != CHECK_OK && remedy != NULL)
		printf("      remedy: %s\n", remedy);
	if (res == CHECK_OK)
		c->n_ok++;
	else if (res == CHECK_WARN)
		c->n_warn++;
	else
		c->n_fail++;
}

/* Appends ", s" (or s) to buf. */
static void
check_list_add(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 2 >= len)
		return;
	snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", s);
}

/* 1 if the ", "-separated list in buf has the item s. */
static int
check_list_has(const char *buf, const char *s)
{
	size_t len = strlen(s);
	const char *p;

	for (p = buf; (p = strstr(p, s)) != NULL; p += len)
		if ((p == buf || p[-1] == ' ') && (p[len] == '\0' ||
		    p[len] == ','))
			return 1;
	return 0;
}

/* Reads the first line of a small file, without its newline. */
static int
check_read_line(const char *path, char *buf, size_t len)
{
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* 1 if the file at path has a line that is exactly word. */
static int
check_file_has(const char *path, const char *word)
{
	char line[256];
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, word) == 0;
	}
	fclose(f);
	return found;
}

static void
check_env(struct check *c)
{
	struct utsname u;
	struct stat st;
	char buf[16];

	if (uname(&u) == 0)
		snprintf(c->release, sizeof(c->release), "%s", u.release);
	snprintf(c->modtree, sizeof(c->modtree), "/lib/modules/%s",
	    c->release);
	c->has_modtree = stat(c->modtree, &st) == 0 && S_ISDIR(st.st_mode);
	c->has_proc_modules = access("/proc/modules", R_OK) == 0;
	c->modules_disabled = check_read_line(
	    "/proc/sys/kernel/modules_disabled", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "1") == 0;
	/* libkmod reads the index files of /lib/modules/<release>. */
	if (c->has_modtree && (c->kmod = kmod_new(NULL, NULL)) != NULL)
		kmod_set_log_priority(c->kmod, 0);
}

/*
 * A module's state.  /sys/module/NAME exists for a loaded module (with an
 * "initstate" file) and for a built-in one that has parameters; libkmod
 * knows the other built-in ones (modules.builtin) and where a loadable
 * one is (modules.dep).
 */
static enum check_mod
check_module(struct check *c, const char *name)
{
	struct kmod_module *mod = NULL;
	enum check_mod res = MOD_MISSING;
	char path[PATH_MAX];
	struct stat st;
	int s;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
		return access(path, F_OK) == 0 ? MOD_LOADED : MOD_BUILTIN;
	}
	if (c->kmod == NULL)
		return MOD_UNKNOWN;
	if (kmod_module_new_from_name(c->kmod, name, &mod) < 0)
		return MOD_UNKNOWN;
	s = kmod_module_get_initstate(mod);
	if (s == KMOD_MODULE_BUILTIN)
		res = MOD_BUILTIN;
	else if (s == KMOD_MODULE_LIVE || s == KMOD_MODULE_COMING)
		res = MOD_LOADED;
	else if (kmod_module_get_path(mod) != NULL)
		res = MOD_LOADABLE;
	kmod_module_unref(mod);
	if (res == MOD_LOADABLE) {
		if (!check_list_has(c->to_load, name)) {
			check_list_add(c->to_load, sizeof(c->to_load), name);
			c->n_to_load++;
		}
	}
	return res;
}

static const char *
check_mod_word(enum check_mod m)
{
	switch (m) {
	case MOD_BUILTIN:
		return "built in";
	case MOD_LOADED:
		return "loaded";
	case MOD_LOADABLE:
		return "loadable";
	case MOD_UNKNOWN:
		return "unknown";
	case MOD_MISSING:
		break;
	}
	return "missing";
}

/* Where to find a module, for a remedy. */
static void
check_mod_remedy(struct check *c, char *buf, size_t len, const char *what)
{
	if (!c->has_proc_modules)
		snprintf(buf, len, "this kernel (%s) has no module support: "
		    "boot one built with %s (built in), or Debian's "
		    "linux-image-amd64 with its modules", c->release, what);
	else if (!c->has_modtree)
		snprintf(buf, len, "no module tree %.200s: install the modules "
		    "of the running kernel, or boot a kernel that has %s",
		    c->modtree, what);
	else
		snprintf(buf, len, "boot a kernel built with %s (=m or =y; "
		    "Debian's linux-image-amd64 has it as a module)", what);
}

/*
 * Checks a list of modules and reports them as one line: FAIL if one is
 * missing, WARN if one cannot be told (no module index: built-in ones
 * without parameters are invisible), else OK with each one's state.
 */
static void
check_modules(struct check *c, const char *name, const char *const *mods,
    const char *what)
{
	char missing[512] = "", unknown[512] = "", have[1024] = "";
	char one[128], remedy[512];
	enum check_mod m;
	int i;

	for (i = 0; mods[i] != NULL; i++) {
		m = check_module(c, mods[i]);
		if (m == MOD_MISSING)
			check_list_add(missing, sizeof(missing), mods[i]);
		else if (m == MOD_UNKNOWN)
			check_list_add(unknown, sizeof(unknown), mods[i]);
		else {
			snprintf(one, sizeof(one), "%s %s", mods[i],
			    check_mod_word(m));
			check_list_add(have, sizeof(have), one);
		}
	}
	check_mod_remedy(c, remedy, sizeof(remedy), what);
	if (missing[0] != '\0')
		check_line(c, CHECK_FAIL, name, remedy, "missing: %s%s%s",
		    missing, have[0] != '\0' ? "; have: " : "", have);
	else if (unknown[0] != '\0')
		check_line(c, CHECK_WARN, name, CHECK_UNKNOWN_REMEDY,
		    "cannot tell whether "
		    "%s are built in (no module index for kernel %s)%s%s",
		    unknown, c->release, have[0] != '\0' ? "; have: " : "",
		    have);
	else
		check_line(c, CHECK_OK, name, NULL, "%s", have);
}

/* "0A600001:01BB" or "[2001:0db8:...]:0035" into a struct check_vs. */
static int
check_vs_parse(const char *s, struct check_vs *v)
{
	char buf[64];
	const char *end;
	unsigned long a;
	size_t n;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL ||
		    (n = (size_t)(end - s - 1)) >= sizeof(buf))
			return -1;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		v->family = AF_INET6;
		return inet_pton(AF_INET6, buf, v->addr) == 1 ? 0 : -1;
	}
	if (strlen(s) < 8 || s[8] != ':')
		return -1;
	memcpy(buf, s, 8);
	buf[8] = '\0';
	errno = 0;
	a = strtoul(buf, NULL, 16);
	if (errno != 0)
		return -1;
	v->family = AF_INET;
	v->addr[0] = (unsigned char)(a >> 24);
	v->addr[1] = (unsigned char)(a >> 16);
	v->addr[2] = (unsigned char)(a >> 8);
	v->addr[3] = (unsigned char)a;
	return 0;
}

/*
 * /proc/net/ip_vs (this network namespace): the version line, then one
 * "PROTO ADDR:PORT SCHED ..." line per virtual server and one "  -> ..."
 * per real server.  Firewall-mark services have no address.
 */
static void
check_ipvs_read(struct check *c)
{
	char line[512], proto[16], addr[80], sched[32];
	struct check_vs v, *nv;
	FILE *f;

	if ((f = fopen("/proc/net/ip_vs", "re")) == NULL)
		return;
	c->ipvs_active = 1;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(c->ipvs_version, sizeof(c->ipvs_version), "%.63s",
		    line);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!isupper((unsigned char)line[0]) ||
		    sscanf(line, "%15s %79s %31s", proto, addr, sched) != 3)
			continue;
		if (strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 &&
		    strcmp(proto, "SCTP") != 0 && strcmp(proto, "FWM") != 0)
			continue;	/* the two header lines */
		if (strcmp(sched, c->kp.scheduler) == 0)
			c->n_vs_sched++;
		if (strcmp(proto, "FWM") == 0 || check_vs_parse(addr, &v) == -1)
			continue;
		nv = reallocarray(c->vs, c->n_vs + 1, sizeof(*c->vs));
		if (nv == NULL)
			fatal("ip_vs");
		c->vs = nv;
		c->vs[c->n_vs++] = v;
	}
	fclose(f);
}

static void
check_ipvs(struct check *c)
{
	char remedy[512];
	enum check_mod m;

	check_mod_remedy(c, remedy, sizeof(remedy), "CONFIG_IP_VS");
	if (c->ipvs_active) {
		check_line(c, CHECK_OK, "ipvs", NULL, "active: %s, %zu virtual "
		    "server(s) with an address", c->ipvs_version, c->n_vs);
		return;
	}
	m = check_module(c, "ip_vs");
	if (m == MOD_LOADABLE && c->modules_disabled)
		check_line(c, CHECK_FAIL, "ipvs", "load ip_vs before "
		    "kernel.modules_disabled is set (modules-load.d: "
		    "kipvs.modules)", "module ip_vs is not loaded and "
		    "kernel.modules_disabled=1 forbids loading it");
	else if (m == MOD_LOADABLE)
		check_line(c, CHECK_OK, "ipvs", NULL, "module ip_vs loadable "
		    "(%s); the applier loads it at start", c->modtree);
	else if (m == MOD_LOADED || m == MOD_BUILTIN)
		check_line(c, CHECK_OK, "ipvs", NULL, "ip_vs %s",
		    check_mod_word(m));
	else
		check_line(c, CHECK_FAIL, "ipvs", remedy, "no IPVS: "
		    "/proc/net/ip_vs is absent and kernel %s has no module "
		    "ip_vs", c->release);
}

static void
check_scheduler(struct check *c)
{
	const char *sched = c->kp.scheduler;
	char mod[32], what[32], remedy[512], allowed[128] = "";
	enum check_mod m;
	size_t i;
	int ok = 0;

	for (i = 0; check_scheds[i] != NULL; i++) {
		check_list_add(allowed, sizeof(allowed), check_scheds[i]);
		ok |= strcmp(check_scheds[i], sched) == 0;
	}
	if (!ok) {
		snprintf(remedy, sizeof(remedy), "set --ipvs-scheduler "
		    "(ipvs.scheduler) to one of %s", allowed);
		check_line(c, CHECK_FAIL, "scheduler", remedy, "%s: the "
		    "applier refuses every virtual server with it", sched);
		return;
	}
	if (!c->ipvs_active && check_module(c, "ip_vs") < MOD_LOADABLE) {
		check_line(c, CHECK_FAIL, "scheduler", "see the ipvs line",
		    "%s: unusable without IPVS", sched);
		return;
	}
	if (c->n_vs_sched > 0) {
		check_line(c, CHECK_OK, "scheduler", NULL, "%s: in use by %d "
		    "virtual server(s)", sched, c->n_vs_sched);
		return;
	}
	snprintf(mod, sizeof(mod), "ip_vs_%s", sched);
	m = check_module(c, mod);
	if (m == MOD_MISSING) {
		/* rr: CONFIG_IP_VS_RR.  Names are lower-case letters. */
		snprintf(what, sizeof(what), "CONFIG_IP_VS_%s", sched);
		for (i = 13; what[i] != '\0'; i++)
			what[i] = (char)toupper((unsigned char)what[i]);
		check_mod_remedy(c, remedy, sizeof(remedy), what);
		check_line(c, CHECK_FAIL, "scheduler", remedy, "%s: no module "
		    "%s", sched, mod);
	} else if (m == MOD_UNKNOWN)
		check_line(c, CHECK_WARN, "scheduler", CHECK_UNKNOWN_REMEDY,
		    "%s: cannot tell whether %s is built in (no module index "
		    "for kernel %s)", sched, mod, c->release);
	else
		check_line(c, CHECK_OK, "scheduler", NULL, "%s: module %s %s",
		    sched, mod, check_mod_word(m));
}

static void
check_conntrack(struct check *c)
{
	static const char *const mods[] = { "nf_conntrack", NULL };

	if (access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK) == 0) {
		check_line(c, CHECK_OK, "conntrack", NULL, "nf_conntrack "
		    "active");
		return;
	}
	check_modules(c, "conntrack", mods, "CONFIG_NF_CONNTRACK");
}

static void
check_ipset(struct check *c)
{
	static const char *const core[] = { "ip_set", NULL };

	check_modules(c, "ipset", core, "CONFIG_IP_SET");
	check_modules(c, "ipset-types", check_set_mods,
	    "CONFIG_IP_SET_HASH_IP, _HASH_IPPORT, _HASH_IPPORTIP, "
	    "_HASH_IPPORTNET and _BITMAP_PORT");
}

/* The x_tables pieces of one family ("ip" or "ip6"). */
static void
check_xtables(struct check *c, int v6)
{
	const char *pre = v6 ? "ip6" : "ip";
	char missing[512] = "", unknown[512] = "", path[64], remedy[512];
	const struct check_xt *x;
	enum check_mod m;
	const char *mod;
	int n_have = 0;

	for (x = check_xts; x->kind != NULL; x++) {
		snprintf(path, sizeof(path), "/proc/net/%s_tables_%s", pre,
		    x->kind);
		if (check_file_has(path, x->name)) {
			n_have++;
			continue;
		}
		mod = v6 ? x->mod6 : x->mod4;
		m = check_module(c, mod);
		if (m == MOD_MISSING)
			check_list_add(missing, sizeof(missing), mod);
		else if (m == MOD_UNKNOWN)
			check_list_add(unknown, sizeof(unknown), mod);
		else
			n_have++;
	}
	check_mod_remedy(c, remedy, sizeof(remedy), v6 ?
	    "CONFIG_IP6_NF_IPTABLES and the x_tables matches and targets" :
	    "CONFIG_IP_NF_IPTABLES and the x_tables matches and targets");
	if (missing[0] != '\0')
		check_line(c, CHECK_FAIL, v6 ? "ip6tables" : "iptables",
		    remedy, "legacy x_tables: missing %s%s", missing, v6 ?
		    " (an IPv4-only node: --ip-family=ipv4)" : "");
	else if (unknown[0] != '\0')
		check_line(c, CHECK_WARN, v6 ? "ip6tables" : "iptables",
		    CHECK_UNKNOWN_REMEDY, "legacy x_tables: cannot tell "
		    "whether %s are "
		    "built in (no module index for kernel %s)", unknown,
		    c->release);
	else
		check_line(c, CHECK_OK, v6 ? "ip6tables" : "iptables", NULL,
		    "legacy x_tables: tables nat, filter and the %d matches "
		    "and targets kipvs uses are present or loadable", n_have);
}

/*
 * Which iptables the host's tools use: the alternatives link of
 * /usr/sbin/iptables, followed link by link.  kipvs writes the legacy
 * x_tables as kube-proxy's iptables-legacy does; rules another agent
 * writes with iptables-nft live in nf_tables, beside them.
 */
static void
check_backend(struct check *c)
{
	char chain[1024], cur[PATH_MAX], next[PATH_MAX], *slash;
	size_t len;
	ssize_t n;
	int i;

	snprintf(cur, sizeof(cur), "/usr/sbin/iptables");
	if (access(cur, F_OK) != 0) {
		check_line(c, CHECK_OK, "iptables-tool", NULL, "no %s: kipvs "
		    "needs no iptables tool", cur);
		return;
	}
	snprintf(chain, sizeof(chain), "/usr/sbin/iptables");
	for (i = 0; i < 8; i++) {
		if ((n = readlink(cur, next, sizeof(next) - 1)) < 0)
			break;
		next[n] = '\0';
		/* A relative target is relative to the link's directory. */
		if (next[0] != '/' && (slash = strrchr(cur, '/')) != NULL) {
			slash[1] = '\0';
			if (strlen(cur) + strlen(next) >= sizeof(cur))
				break;
			memmove(next + strlen(cur), next, strlen(next) + 1);
			memcpy(next, cur, strlen(cur));
		}
		len = strlen(chain);
		/* A chain too long for the message is cut (-O1 warns). */
		if (snprintf(chain + len, sizeof(chain) - len, " -> %s",
		    next) < 0)
			break;
		snprintf(cur, sizeof(cur), "%s", next);
	}
	slash = strrchr(cur, '/');
	if (strstr(slash != NULL ? slash : cur, "nft") != NULL)
		check_line(c, CHECK_WARN, "iptables-tool",
		    "kipvs's chains are in the legacy tables: list them with "
		    "iptables-legacy-save; to make the host's iptables show "
		    "them too: update-alternatives --set iptables "
		    "/usr/sbin/iptables-legacy (and ip6tables), if nothing "
		    "else on the node relies on iptables-nft",
		    "the host's iptables is the nf_tables variant (%s) while "
		    "kipvs writes legacy x_tables", chain);
	else
		check_line(c, CHECK_OK, "iptables-tool", NULL, "%s", chain);
}

/*
 * Whether the applier (root) could write a sysctl.  Only root's answer
 * means anything: for anyone else access() says EACCES whatever the mount.
 */
static int
check_writable(const char *path)
{
	return geteuid() != 0 || access(path, W_OK) == 0;
}

/* kube-proxy's sysctls the applier sets at start (applier_start.c). */
static void
check_sysctls(struct check *c)
{
	static const struct {
		const char	*name;
		const char	*want;
		int		 strict_arp;
	} sc[] = {
		{ "net/ipv4/ip_forward", "1", 0 },
		{ "net/ipv4/vs/conntrack", "1", 0 },
		{ "net/ipv4/vs/expire_nodest_conn", "1", 0 },
		{ "net/ipv4/vs/expire_quiescent_template", "1", 0 },
		{ "net/ipv4/conf/all/arp_ignore", "1", 1 },
		{ "net/ipv4/conf/all/arp_announce", "2", 1 },
		{ NULL, NULL, 0 },
	};
	char path[128], cur[32], bad[512] = "", set[512] = "", one[160];
	int i;

	for (i = 0; sc[i].name != NULL; i++) {
		if (sc[i].strict_arp && !c->kp.strict_arp)
			continue;
		/* Unreadable: net/ipv4/vs/ appears only with ip_vs. */
		snprintf(path, sizeof(path), "/proc/sys/%s", sc[i].name);
		if (check_read_line(path, cur, sizeof(cur)) == -1 ||
		    strcmp(cur, sc[i].want) == 0)
			continue;
		snprintf(one, sizeof(one), "%s is %s (want %s)", sc[i].name,
		    cur, sc[i].want);
		check_list_add(check_writable(path) ? set : bad, sizeof(bad),
		    one);
	}
	/*
	 * A read-only /proc/sys (an unprivileged container) with ip_vs not
	 * loaded yet: its sysctls will have the kernel's defaults.
	 */
	if (!c->ipvs_active && !check_writable("/proc/sys/net/ipv4/ip_forward"))
		check_list_add(bad, sizeof(bad), "net/ipv4/vs/* (once ip_vs "
		    "loads) not writable");
	if (bad[0] != '\0')
		check_line(c, CHECK_FAIL, "sysctls", "set them before kipvs "
		    "starts (the DaemonSet's init container does), or run it "
		    "where /proc/sys is writable", "%s: the applier cannot "
		    "write them here and stops", bad);
	else if (set[0] != '\0')
		check_line(c, CHECK_OK, "sysctls", NULL, "%s: the applier "
		    "sets kube-proxy's value at start", set);
	else
		check_line(c, CHECK_OK, "sysctls", NULL, "kube-proxy's sysctls "
		    "are set%s", c->ipvs_active ? "" : " (net/ipv4/vs/* once "
		    "ip_vs loads: the applier sets them)");
}

/*
 * The parent starts as root and keeps what its children need (the
 * CapabilityBoundingSet of systemd/kipvs.service): a missing one stops a
 * daemon's start.  CAP_SYS_MODULE matters only when a module it needs is
 * not loaded yet.
 */
static void
check_privileges(struct check *c)
{
	static const struct {
		int		 cap;
		const char	*name;
	} need[] = {
		{ CAP_SETUID, "CAP_SETUID" },
		{ CAP_SETGID, "CAP_SETGID" },
		{ CAP_SETPCAP, "CAP_SETPCAP" },
		{ CAP_SYS_CHROOT, "CAP_SYS_CHROOT" },
		{ CAP_KILL, "CAP_KILL" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ 0, NULL },
	};
	char missing[256] = "", remedy[768];
	int i;

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() != 0) {
		check_line(c, CHECK_FAIL, "privileges", "run it where "
		    "/proc/self/status is readable", "cannot read this "
		    "process's capabilities");
		return;
	}
	for (i = 0; need[i].name != NULL; i++)
		if (!capng_have_capability(CAPNG_EFFECTIVE,
		    (unsigned)need[i].cap))
			check_list_add(missing, sizeof(missing), need[i].name);
	if (geteuid() != 0 || missing[0] != '\0') {
		check_line(c, CHECK_FAIL, "privileges", "run kipvs as root "
		    "with at least CAP_SETUID CAP_SETGID CAP_SETPCAP "
		    "CAP_SYS_CHROOT CAP_KILL CAP_NET_ADMIN "
		    "(systemd/kipvs.service, or the DaemonSet's capabilities)",
		    "%s%s%s",
		    geteuid() != 0 ? "not root (kipvs starts as root and gives "
		    "each daemon its own account)" : "", geteuid() != 0 &&
		    missing[0] != '\0' ? "; missing " : missing[0] != '\0' ?
		    "missing " : "", missing);
		return;
	}
	if (c->n_to_load == 0) {
		check_line(c, CHECK_OK, "privileges", NULL, "root with the "
		    "capabilities kipvs needs; no module is left to load");
		return;
	}
	snprintf(remedy, sizeof(remedy), "load them before kipvs starts: "
	    "modules-load.d (systemd/kipvs.modules) or the DaemonSet's init "
	    "container; or give kipvs CAP_SYS_MODULE");
	if (c->modules_disabled)
		check_line(c, CHECK_FAIL, "privileges", "load them at boot, "
		    "before kernel.modules_disabled is set: modules-load.d "
		    "(systemd/kipvs.modules)", "not loaded, "
		    "and kernel.modules_disabled=1: %s", c->to_load);
	else if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_MODULE))
		check_line(c, CHECK_WARN, "privileges", remedy, "no "
		    "CAP_SYS_MODULE and not loaded: %s (the kernel may "
		    "autoload some on first use)", c->to_load);
	else
		check_line(c, CHECK_OK, "privileges", NULL, "root with the "
		    "capabilities kipvs needs; the applier loads %s at start "
		    "(CAP_SYS_MODULE, then dropped)", c->to_load);
}

static void
check_accounts(struct check *c)
{
	static const char *const who[] = { "watcher", "planner", "applier" };
	char err[256], list[512] = "", one[128], remedy[512];
	uid_t uid[3];
	gid_t gid[3];
	int i, j, bad = 0;

	for (i = 0; i < 3; i++) {
		if (sandbox_parse_user(c->user[i], &uid[i], &gid[i], err,
		    sizeof(err)) == -1) {
			snprintf(remedy, sizeof(remedy), "create the accounts "
			    "(systemd-sysusers with systemd/kipvs.sysusers, "
			    "installed as sysusers.d/kipvs.conf) or give "
			    "--%s-user UID:GID", who[i]);
			check_line(c, CHECK_FAIL, "accounts", remedy, "%s: %s",
			    who[i], err);
			bad = 1;
			continue;
		}
		snprintf(one, sizeof(one), "%s %s (%u:%u)", who[i], c->user[i],
		    (unsigned)uid[i], (unsigned)gid[i]);
		check_list_add(list, sizeof(list), one);
	}
	if (bad)
		return;
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (uid[i] == uid[j]) {
				check_line(c, CHECK_WARN, "accounts", "give "
				    "each daemon its own uid", "%s and %s "
				    "share uid %u: either can signal or "
				    "trace the other", who[i], who[j],
				    (unsigned)uid[i]);
				return;
			}
	check_line(c, CHECK_OK, "accounts", NULL, "%s", list);
}

/* A kube-proxy process on this node (in this pid namespace). */
static void
check_kube_proxy(struct check *c)
{
	char path[300], comm[32], pids[128] = "";
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL) {
		check_line(c, CHECK_WARN, "kube-proxy", "make sure no "
		    "kube-proxy runs on this node", "cannot read /proc");
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (check_read_line(path, comm, sizeof(comm)) == 0 &&
		    strcmp(comm, "kube-proxy") == 0)
			check_list_add(pids, sizeof(pids), d->d_name);
	}
	closedir(dir);
	if (pids[0] != '\0')
		check_line(c, CHECK_FAIL, "kube-proxy", "stop kube-proxy on "
		    "this node first (remove its DaemonSet in the same change "
		    "that adds kipvs's); leave its IPVS state, kipvs takes it "
		    "over", "kube-proxy is running (pid %s): two proxies on "
		    "one node fight over the same virtual servers, sets and "
		    "chains", pids);
	else
		check_line(c, CHECK_OK, "kube-proxy", NULL, "no kube-proxy "
		    "process");
}

static int
check_is_vs_addr(const struct check *c, int family, const void *a)
{
	size_t i;

	for (i = 0; i < c->n_vs; i++)
		if (c->vs[i].family == family && memcmp(c->vs[i].addr, a,
		    family == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

static int
check_prefixlen(const struct sockaddr *m)
{
	const unsigned char *p;
	int i, n = 0, len;

	if (m == NULL)
		return -1;
	if (m->sa_family == AF_INET) {
		p = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)m)->sin_addr;
		len = 4;
	} else {
		p = ((const struct sockaddr_in6 *)(const void *)m)->
		    sin6_addr.s6_addr;
		len = 16;
	}
	for (i = 0; i < len; i++)
		n += __builtin_popcount(p[i]);
	return n;
}

/* No kube-ipvs0 yet: the applier makes it, a dummy link. */
static void
check_link_absent(struct check *c)
{
	char remedy[512];
	enum check_mod m;

	m = check_module(c, "dummy");
	check_mod_remedy(c, remedy, sizeof(remedy), "CONFIG_DUMMY");
	if (m == MOD_MISSING)
		check_line(c, CHECK_FAIL, CHECK_LINK, remedy, "absent, and "
		    "no module dummy to create it with");
	else if (m == MOD_UNKNOWN)
		check_line(c, CHECK_WARN, CHECK_LINK, CHECK_UNKNOWN_REMEDY,
		    "absent; cannot tell whether dummy links are built in "
		    "(no module index for kernel %s)", c->release);
	else
		check_line(c, CHECK_OK, CHECK_LINK, NULL, "absent; the applier "
		    "creates it (a dummy link, left down; dummy %s)",
		    check_mod_word(m));
}

/*
 * kube-ipvs0 holds the virtual servers' addresses; kipvs adds only host
 * addresses (/32, /128) of virtual servers to it.  Anything else on it
 * was put there by another program.
 */
static void
check_link(struct check *c)
{
	struct ifaddrs *ifa, *i;
	char foreign[512] = "", one[INET6_ADDRSTRLEN + 8];
	const void *a;
	int found = 0, n_addr = 0, plen, fam;

	if (getifaddrs(&ifa) == -1) {
		check_line(c, CHECK_WARN, CHECK_LINK, "look at it yourself: "
		    "ip addr show kube-ipvs0", "cannot list addresses: %s",
		    strerror(errno));
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (strcmp(i->ifa_name, CHECK_LINK) != 0)
			continue;
		found = 1;
		if (i->ifa_addr == NULL)
			continue;
		fam = i->ifa_addr->sa_family;
		if (fam == AF_INET)
			a = &((struct sockaddr_in *)(void *)i->ifa_addr)->
			    sin_addr;
		else if (fam == AF_INET6) {
			a = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->
			    sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
				continue;
		} else
			continue;
		n_addr++;
		plen = check_prefixlen(i->ifa_netmask);
		if (plen == (fam == AF_INET ? 32 : 128) &&
		    check_is_vs_addr(c, fam, a))
			continue;
		inet_ntop(fam, a, one, INET6_ADDRSTRLEN);
		snprintf(one + strlen(one), sizeof(one) - strlen(one), "/%d",
		    plen);
		check_list_add(foreign, sizeof(foreign), one);
	}
	freeifaddrs(ifa);
	if (!found)
		check_link_absent(c);
	else if (foreign[0] != '\0')
		check_line(c, CHECK_WARN, CHECK_LINK, "kube-ipvs0 belongs to "
		    "the service proxy: find what added them (ip addr show "
		    "kube-ipvs0) and move them to another link; kipvs deletes "
		    "host addresses on it that no Service uses",
		    "carries address(es) no IPVS virtual server uses, which "
		    "kipvs did not put there: %s", foreign);
	else
		check_line(c, CHECK_OK, CHECK_LINK, NULL, "present with %d "
		    "address(es), each a virtual server's (a service proxy's "
		    "state: kipvs takes it over)", n_addr);
}

static void
check_warn_cb(void *arg, const char *msg)
{
	struct check *c = arg;

	check_list_add(c->config_warn, sizeof(c->config_warn), msg);
}

/*
 * The configuration the daemon would run with: kube-proxy's flags given
 * before and after "check", and --config with kube-proxy's precedence.
 * Returns 0, or -1 after printing a usage error.
 */
static int
check_conf(struct check *c, const struct sup_conf *conf, int argc,
    char *argv[])
{
	char **kp_args, err[512];
	int i, n = 0;

	if ((kp_args = calloc((size_t)(conf->n_kp_args + argc + 1),
	    sizeof(char *))) == NULL)
		fatal("arguments");
	for (i = 0; i < conf->n_kp_args; i++)
		kp_args[n++] = conf->kp_args[i];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int has_eq = strchr(a, '=') != NULL, u = -1;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			check_usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--watcher-user", 14) == 0)
			u = 0;
		else if (strncmp(a, "--planner-user", 14) == 0)
			u = 1;
		else if (strncmp(a, "--applier-user", 14) == 0)
			u = 2;
		if (u >= 0 || strncmp(a, "--config", 8) == 0) {
			size_t len = u >= 0 ? 14 : 8;

			if (a[len] == '=')
				v = a + len + 1;
			else if (a[len] == '\0' && i + 1 < argc)
				v = argv[++i];
			else if (a[len] != '\0')
				goto unknown;
			if (v == NULL) {
				log_warnx("%s needs a value", a);
				goto usage;
			}
			if (u >= 0)
				c->user[u] = v;
			else
				c->config = v;
		} else if (kpconf_is_flag(a)) {
			kp_args[n++] = argv[i];
			if (!kpconf_is_bool(a) && !has_eq && i + 1 < argc)
				kp_args[n++] = argv[++i];
		} else
			goto unknown;
	}
	kpconf_defaults(&c->kp);
	if (c->config != NULL) {
		if (kpconf_file_load(&c->kp, c->config, check_warn_cb, c,
		    c->config_err, sizeof(c->config_err)) == -1 ||
		    kpconf_file_merge(&c->kp, n, kp_args, check_warn_cb, c,
		    c->config_err, sizeof(c->config_err)) == -1) {
			/* Reported as a FAIL line; the rest uses defaults. */
			kpconf_defaults(&c->kp);
			(void)kpconf_parse(&c->kp, conf->n_kp_args, kp_args,
			    err, sizeof(err));
		}
	} else if (kpconf_parse(&c->kp, n, kp_args, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto usage;
	}
	free(kp_args);
	return 0;
 unknown:
	log_warnx("check: unknown flag %s", argv[i]);
 usage:
	free(kp_args);
	check_usage(stderr);
	return -1;
}

int
check_main(const struct sup_conf *conf, int argc, char *argv[])
{
	struct check c;

	memset(&c, 0, sizeof(c));
	memcpy(c.user, conf->user, sizeof(c.user));
	if (check_conf(&c, conf, argc, argv) == -1)
		return 2;
	check_env(&c);
	check_ipvs_read(&c);
	printf("kipvs check: kernel %s, scheduler %s, %s\n", c.release,
	    c.kp.scheduler, c.kp.families == KP_FAMILY_V4 ? "IPv4" :
	    c.kp.families == KP_FAMILY_V6 ? "IPv6" : "dual-stack");
	if (c.config != NULL && c.config_err[0] != '\0')
		check_line(&c, CHECK_FAIL, "config", "fix the file: kipvs "
		    "refuses to start with it", "%s", c.config_err);
	else if (c.config != NULL && c.config_warn[0] != '\0')
		check_line(&c, CHECK_WARN, "config", "remove the settings "
		    "kipvs ignores, or accept that they have no effect",
		    "%s: %s", c.config, c.config_warn);
	else if (c.config != NULL)
		check_line(&c, CHECK_OK, "config", NULL, "%s", c.config);
	check_ipvs(&c);
	check_scheduler(&c);
	check_conntrack(&c);
	check_ipset(&c);
	if (c.kp.families & KP_FAMILY_V4)
		check_xtables(&c, 0);
	if (c.kp.families & KP_FAMILY_V6)
		check_xtables(&c, 1);
	check_backend(&c);
	check_sysctls(&c);
	check_accounts(&c);
	check_kube_proxy(&c);
	check_link(&c);
	/* Last: it needs every module the lines above found to load. */
	check_privileges(&c);
	printf("kipvs check: %d ok, %d warning(s), %d failed\n", c.n_ok,
	    c.n_warn, c.n_fail);
	if (c.kmod != NULL)
		kmod_unref(c.kmod);
	free(c.vs);
	return c.n_fail > 0 ? 1 : 0;
}
