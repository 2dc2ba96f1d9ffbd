/*
 * Unit tests for common/kpconf.c: kube-proxy's defaults, both flag forms,
 * durations, lists, and clear errors for unknown flags and bad values.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "common/addr.h"
#include "common/kpconf.h"
#include "tests/tap.h"

#define NARGS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static int
parse(struct kp_config *c, int argc, char *const argv[], char *err,
    size_t len)
{
	kpconf_defaults(c);
	err[0] = '\0';
	return kpconf_parse(c, argc, argv, err, len);
}

int
main(void)
{
	struct kp_config c;
	char err[256], buf[ADDR_STRLEN];

	plan(47);

	kpconf_defaults(&c);
	is_str(c.scheduler, "rr", "default scheduler rr");
	is(c.sync_period_ms, 30000, "default sync period 30s");
	is(c.min_sync_period_ms, 0, "default min sync period 0");
	is(c.masquerade_bit, 14, "default masquerade bit 14");
	is_str(c.healthz_bind, "0.0.0.0:10256", "default healthz address");
	is_str(c.metrics_bind, "127.0.0.1:10249", "default metrics address");
	is(c.config_sync_period_ms, 15 * 60 * 1000, "config sync 15m");
	is(c.conntrack_max_per_core, 32768, "conntrack max per core");
	is(c.conntrack_tcp_established_s, 86400, "established 24h");
	is(c.oom_score_adj, -999, "oom score -999");
	is(c.families, KP_FAMILY_V4 | KP_FAMILY_V6, "dual by default");
	is(c.nodeport_range_lo, 30000, "nodeport range low");
	is(c.nodeport_range_hi, 32767, "nodeport range high");

	{
		char *const a[] = { "--ipvs-scheduler=wlc",
		    "--ipvs-sync-period", "1m30s", "--masquerade-all",
		    "--iptables-masquerade-bit=5", "--hostname-override",
		    "Node-A", "--ipvs-min-sync-period=250ms",
		    "--ipvs-strict-arp=false", "--proxy-mode=ipvs" };

		is(parse(&c, NARGS(a), a, err, sizeof(err)), 0,
		    "both flag forms parse: %s", err);
		is_str(c.scheduler, "wlc", "scheduler set");
		is(c.sync_period_ms, 90000, "1m30s is 90,000 ms");
		is(c.min_sync_period_ms, 250, "250ms");
		ok(c.masquerade_all, "boolean without a value is true");
		is(c.masquerade_bit, 5, "masquerade bit 5");
		is_str(c.hostname, "node-a", "hostname lower-cased");
		ok(!c.strict_arp, "--flag=false");
	}
	{
		char *const a[] = { "--cluster-cidr=10.244.0.0/16, fd00::/48",
		    "--ipvs-exclude-cidrs=10.0.0.0/8,192.168.5.0/24",
		    "--nodeport-addresses=primary" };

		is(parse(&c, NARGS(a), a, err, sizeof(err)), 0,
		    "lists parse: %s", err);
		is(c.n_cluster_cidrs, 2, "two cluster CIDRs");
		is_str(prefix_fmt(&c.cluster_cidrs[1], buf, sizeof(buf)),
		    "fd00::/48", "IPv6 cluster CIDR, spaces trimmed");
		is(c.n_exclude_cidrs, 2, "two exclude CIDRs");
		ok(c.nodeport_primary && c.n_nodeport_cidrs == 0,
		    "nodeport-addresses=primary");
	}
	{
		char *const a[] = { "--ipvs-tcp-timeout=1h", "--nodeport-range",
		    "20000-20100", "--ip-family=ipv6" };

		is(parse(&c, NARGS(a), a, err, sizeof(err)), 0, "%s", err);
		is(c.tcp_timeout_s, 3600, "1h in seconds");
		is(c.nodeport_range_lo, 20000, "range low");
		is(c.nodeport_range_hi, 20100, "range high");
		is(c.families, KP_FAMILY_V6, "ipv6 only");
	}

	/* Errors: each names the flag. */
	{
		char *const a[] = { "--no-such-flag=1" };

		is(parse(&c, 1, a, err, sizeof(err)), -1, "unknown flag");
		is_str(err, "unknown flag --no-such-flag", "message names it");
	}
	{
		char *const a[] = { "--proxy-mode=iptables" };

		is(parse(&c, 1, a, err, sizeof(err)), -1, "iptables mode");
		ok(strstr(err, "only ipvs") != NULL, "says why: %s", err);
	}
	{
		char *const a[] = { "--iptables-masquerade-bit=32" };

		is(parse(&c, 1, a, err, sizeof(err)), -1, "bit 32 refused");
	}
	{
		char *const a[] = { "--cluster-cidr=10.0.0.0/8,10.1.0.0/16" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "two IPv4 cluster CIDRs refused");
	}
	{
		char *const a[] = { "--ipvs-exclude-cidrs=010.0.0.0/8" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "leading-zero CIDR refused: %s", err);
	}
	{
		char *const a[] = { "--ipvs-sync-period=30" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "duration without a unit refused");
	}
	{
		char *const a[] = { "--ipvs-sync-period=10s",
		    "--ipvs-min-sync-period=20s" };

		is(parse(&c, 2, a, err, sizeof(err)), -1,
		    "min sync period above sync period refused");
	}
	{
		char *const a[] = { "--healthz-bind-address=0.0.0.0" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "healthz address without a port refused");
	}
	{
		char *const a[] = { "--metrics-bind-address=",
		    "--healthz-bind-address=[::]:10256" };

		is(parse(&c, 2, a, err, sizeof(err)), 0,
		    "empty disables, IPv6 bracket form: %s", err);
	}
	{
		char *const a[] = { "--kubeconfig" };

		is(parse(&c, 1, a, err, sizeof(err)), -1, "missing value");
	}
	{
		char *const a[] = { "--detect-local-mode=BridgeInterface" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "bridge mode needs the bridge");
	}
	{
		char *const a[] = { "--nodeport-addresses=primary,10.0.0.0/8" };

		is(parse(&c, 1, a, err, sizeof(err)), -1,
		    "primary with CIDRs refused");
	}
	ok(kpconf_is_flag("--ipvs-scheduler=mh") &&
	    kpconf_is_flag("--kubeconfig") && !kpconf_is_flag("--user"),
	    "kpconf_is_flag tells its flags from others");
	ok(kpconf_is_bool("--masquerade-all") &&
	    !kpconf_is_bool("--kubeconfig"), "kpconf_is_bool");

	return done();
}
