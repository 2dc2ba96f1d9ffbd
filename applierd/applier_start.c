/*
 * applier_start: module preload, sysctls and kernel handles, before the
 * sandbox.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applierd/applier_addr.h"
#include "applierd/applier_ipset.h"
#include "applierd/applier_ipt.h"
#include "applierd/applier_ipvs.h"
#include "applierd/applier_policy.h"
#include "applierd/applier_start.h"
#include "common/log.h"

/* Never a name from outside: this list, plus ip_vs_<allow-listed sched>. */
static const char *const preload_modules[] = {
	"ip_vs", "nf_conntrack", "dummy",
	"ip_set", "ip_set_hash_ip", "ip_set_hash_ipport",
	"ip_set_hash_ipportip", "ip_set_hash_ipportnet", "ip_set_bitmap_port",
	"ip_tables", "ip6_tables", "iptable_nat", "iptable_filter",
	"ip6table_nat", "ip6table_filter",
	"xt_set", "xt_comment", "xt_mark", "xt_MASQUERADE", "xt_conntrack",
	"xt_addrtype", "xt_multiport", "xt_tcpudp", "xt_physdev", "xt_ipvs",
	"ipt_REJECT", "ip6t_REJECT",
	NULL,
};

static void
preload_one(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	int rv, st;

	if ((rv = kmod_module_new_from_name(ctx, name, &mod)) < 0) {
		log_warnx("module %s: %s", name, strerror(-rv));
		return;
	}
	st = kmod_module_get_initstate(mod);
	if (st == KMOD_MODULE_BUILTIN || st == KMOD_MODULE_LIVE) {
		log_debug("module %s: %s", name, st == KMOD_MODULE_BUILTIN ?
		    "built in" : "already loaded");
		goto out;
	}
	/* Install commands would run a program: never. */
	rv = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_COMMAND,
	    NULL, NULL, NULL, NULL);
	if (rv < 0)
		log_info("module %s not loaded: %s", name, strerror(-rv));
	else
		log_debug("module %s loaded", name);
out:
	kmod_module_unref(mod);
}

int
applier_preload(const struct applier_conf *c)
{
	struct kmod_ctx *ctx;
	char sched[32];
	int i;

	if ((ctx = kmod_new(NULL, NULL)) == NULL) {
		log_warnx("libkmod: cannot start");
		return -1;
	}
	if (kmod_load_resources(ctx) < 0)
		log_info("libkmod: no module index (modules built in?)");
	for (i = 0; preload_modules[i] != NULL; i++)
		preload_one(ctx, preload_modules[i]);
	if (policy_sched_allowed(c->kp.scheduler)) {
		snprintf(sched, sizeof(sched), "ip_vs_%s", c->kp.scheduler);
		preload_one(ctx, sched);
	}
	kmod_unref(ctx);
	return 0;
}

static int
sysctl_read(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* "Ensure": read, write only if different.  0 or -1 (logged). */
static int
sysctl_ensure(const char *name, long value)
{
	char path[128], cur[64], want[32];
	int fd, n;

	snprintf(want, sizeof(want), "%ld", value);
	if (sysctl_read(name, cur, sizeof(cur)) == 0 &&
	    strcmp(cur, want) == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("sysctl %s", name);
		return -1;
	}
	n = (int)strlen(want);
	if (write(fd, want, (size_t)n) != n) {
		log_warn("sysctl %s = %s", name, want);
		close(fd);
		return -1;
	}
	close(fd);
	log_info("sysctl %s = %s (was %s)", name, want, cur);
	return 0;
}

/* 1 when 4.1 <= kernel < 5.9: conn_reuse_mode must be 0 there. */
static int
kernel_needs_conn_reuse_0(void)
{
	struct utsname u;
	unsigned maj = 0, min = 0;

	if (uname(&u) == -1 || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return 0;
	return (maj > 4 || (maj == 4 && min >= 1)) &&
	    (maj < 5 || (maj == 5 && min < 9));
}

void
applier_sysctls(const struct applier_conf *c)
{
	const struct kp_config *kp = &c->kp;
	char buf[32];
	long ncpu, max;
	int bad = 0;

	bad |= sysctl_ensure("net/ipv4/vs/conntrack", 1);
	if (kernel_needs_conn_reuse_0())
		bad |= sysctl_ensure("net/ipv4/vs/conn_reuse_mode", 0);
	bad |= sysctl_ensure("net/ipv4/vs/expire_nodest_conn", 1);
	bad |= sysctl_ensure("net/ipv4/vs/expire_quiescent_template", 1);
	bad |= sysctl_ensure("net/ipv4/ip_forward", 1);
	if (kp->strict_arp) {
		bad |= sysctl_ensure("net/ipv4/conf/all/arp_ignore", 1);
		bad |= sysctl_ensure("net/ipv4/conf/all/arp_announce", 2);
	}
	if (bad)
		fatalx("cannot set kube-proxy's IPVS sysctls");
	if (sysctl_read("net/bridge/bridge-nf-call-iptables", buf,
	    sizeof(buf)) == 0 && strcmp(buf, "1") != 0)
		log_warnx("net/bridge/bridge-nf-call-iptables is %s, not 1: "
		    "bridged pod traffic bypasses the rules", buf);
	/* Conntrack: failures are logged only. */
	if (kp->conntrack_max_per_core > 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		max = (long)kp->conntrack_max_per_core * (ncpu > 0 ? ncpu : 1);
		if (max < (long)kp->conntrack_min)
			max = (long)kp->conntrack_min;
		(void)sysctl_ensure("net/netfilter/nf_conntrack_max", max);
	}
	if (kp->conntrack_tcp_established_s > 0)
		(void)sysctl_ensure(
		    "net/netfilter/nf_conntrack_tcp_timeout_established",
		    (long)kp->conntrack_tcp_established_s);
	if (kp->conntrack_tcp_close_wait_s > 0)
		(void)sysctl_ensure(
		    "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
		    (long)kp->conntrack_tcp_close_wait_s);
	if (kp->conntrack_tcp_be_liberal)
		(void)sysctl_ensure("net/netfilter/nf_conntrack_tcp_be_liberal",
		    1);
	if (kp->conntrack_udp_timeout_s > 0)
		(void)sysctl_ensure("net/netfilter/nf_conntrack_udp_timeout",
		    (long)kp->conntrack_udp_timeout_s);
	if (kp->conntrack_udp_stream_timeout_s > 0)
		(void)sysctl_ensure(
		    "net/netfilter/nf_conntrack_udp_timeout_stream",
		    (long)kp->conntrack_udp_stream_timeout_s);
}

void
applier_kernel_open(struct applier_kernel *k, const struct applier_conf *c,
    int audit_fd, int xtlock_fd, int ipvs_optional)
{
	struct ipvs_timeouts to;

	memset(k, 0, sizeof(*k));
	k->audit_fd = audit_fd;
	setcache_init(&k->sets);
	if ((k->ipvs = ipvs_open()) == NULL) {
		if (!ipvs_optional)
			fatal("IPVS is not available in this kernel (module "
			    "ip_vs missing or not loadable): kipvs cannot run "
			    "here");
		log_warn("IPVS is not available; IPVS ops will fail");
	}
	if ((k->addr = addr_open()) == NULL)
		fatal("rtnetlink");
	if ((k->ipset = ipset_open()) == NULL)
		fatal("ipset");
	if ((k->ipt[0] = ipt_open(AF_INET, xtlock_fd,
	    (int)c->xtables_wait_ms)) == NULL ||
	    (k->ipt[1] = ipt_open(AF_INET6, xtlock_fd,
	    (int)c->xtables_wait_ms)) == NULL)
		fatal("iptables");
	if (k->ipvs != NULL && (c->kp.tcp_timeout_s || c->kp.tcpfin_timeout_s ||
	    c->kp.udp_timeout_s)) {
		to.tcp = c->kp.tcp_timeout_s;
		to.tcp_fin = c->kp.tcpfin_timeout_s;
		to.udp = c->kp.udp_timeout_s;
		if (ipvs_set_timeouts(k->ipvs, &to) == -1)
			log_warn("IPVS timeouts");
	}
}
