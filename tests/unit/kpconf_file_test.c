/*
 * Unit tests for common/kpconf_file.c: every field of a
 * KubeProxyConfiguration mapped to the configuration, kube-proxy's
 * defaulting of zero values, strict errors naming the field and its line,
 * warnings for fields without effect in ipvs mode, the --config flag
 * precedence, and the round trip file -> config -> flags -> config.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/kpconf.h"
#include "common/kpconf_file.h"
#include "tests/tap.h"

#define HEAD	"apiVersion: kubeproxy.config.k8s.io/v1alpha1\n" \
		"kind: KubeProxyConfiguration\n"

/* Every supported field set to something other than its default. */
static const char full[] =
	HEAD
	"mode: ipvs\n"
	"hostnameOverride: Node-7\n"
	"bindAddress: 192.0.2.10\n"
	"healthzBindAddress: 0.0.0.0:20256\n"
	"metricsBindAddress: \"[::1]:20249\"\n"
	"bindAddressHardFail: true\n"
	"enableProfiling: false\n"
	"clusterCIDR: 10.244.0.0/16,fd00:10:244::/56\n"
	"detectLocalMode: InterfaceNamePrefix\n"
	"detectLocal:\n"
	"  bridgeInterface: cbr0\n"
	"  interfaceNamePrefix: veth\n"
	"nodePortAddresses:\n"
	"  - 192.0.2.0/24\n"
	"  - 2001:db8::/64\n"
	"oomScoreAdj: -500\n"
	"configSyncPeriod: 20m\n"
	"clientConnection:\n"
	"  kubeconfig: /var/lib/kipvs/kubeconfig\n"
	"  qps: 50\n"
	"  burst: 100\n"
	"  contentType: application/vnd.kubernetes.protobuf\n"
	"  acceptContentTypes: \"\"\n"
	"ipvs:\n"
	"  scheduler: wlc\n"
	"  syncPeriod: 1m30s\n"
	"  minSyncPeriod: 250ms\n"
	"  excludeCIDRs: [198.51.100.0/24, \"2001:db8:1::/48\"]\n"
	"  strictARP: true\n"
	"  tcpTimeout: 15m\n"
	"  tcpFinTimeout: 2m\n"
	"  udpTimeout: 5m\n"
	"iptables:\n"
	"  masqueradeAll: true\n"
	"  masqueradeBit: 5\n"
	"conntrack:\n"
	"  maxPerCore: 0\n"
	"  min: 262144\n"
	"  tcpEstablishedTimeout: 12h\n"
	"  tcpCloseWaitTimeout: 30m\n"
	"  tcpBeLiberal: true\n"
	"  udpTimeout: 30s\n"
	"  udpStreamTimeout: 2m\n"
	"featureGates: {}\n"
	"portRange: \"\"\n";

/*
 * The shape of the config.conf kubeadm writes into kube-proxy's ConfigMap:
 * every field present, most of them zero or null.
 */
static const char kubeadm[] =
	"apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
	"bindAddress: 0.0.0.0\n"
	"bindAddressHardFail: false\n"
	"clientConnection:\n"
	"  acceptContentTypes: \"\"\n"
	"  burst: 0\n"
	"  contentType: \"\"\n"
	"  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n"
	"  qps: 0\n"
	"clusterCIDR: 10.244.0.0/16\n"
	"configSyncPeriod: 0s\n"
	"conntrack:\n"
	"  maxPerCore: null\n"
	"  min: null\n"
	"  tcpBeLiberal: false\n"
	"  tcpCloseWaitTimeout: null\n"
	"  tcpEstablishedTimeout: null\n"
	"  udpStreamTimeout: 0s\n"
	"  udpTimeout: 0s\n"
	"detectLocal:\n"
	"  bridgeInterface: \"\"\n"
	"  interfaceNamePrefix: \"\"\n"
	"detectLocalMode: \"\"\n"
	"enableProfiling: false\n"
	"healthzBindAddress: \"\"\n"
	"hostnameOverride: \"\"\n"
	"iptables:\n"
	"  localhostNodePorts: null\n"
	"  masqueradeAll: false\n"
	"  masqueradeBit: null\n"
	"  minSyncPeriod: 0s\n"
	"  syncPeriod: 0s\n"
	"ipvs:\n"
	"  excludeCIDRs: null\n"
	"  minSyncPeriod: 0s\n"
	"  scheduler: \"\"\n"
	"  strictARP: false\n"
	"  syncPeriod: 0s\n"
	"  tcpFinTimeout: 0s\n"
	"  tcpTimeout: 0s\n"
	"  udpTimeout: 0s\n"
	"kind: KubeProxyConfiguration\n"
	"logging:\n"
	"  flushFrequency: 0\n"
	"  options:\n"
	"    json:\n"
	"      infoBufferSize: \"0\"\n"
	"  verbosity: 0\n"
	"metricsBindAddress: \"\"\n"
	"mode: ipvs\n"
	"nftables:\n"
	"  masqueradeAll: false\n"
	"  masqueradeBit: null\n"
	"  minSyncPeriod: 0s\n"
	"  syncPeriod: 0s\n"
	"nodePortAddresses: null\n"
	"oomScoreAdj: null\n"
	"portRange: \"\"\n"
	"showHiddenMetricsForVersion: \"\"\n"
	"winkernel:\n"
	"  enableDSR: false\n"
	"  forwardHealthCheckVip: false\n"
	"  networkName: \"\"\n"
	"  rootHnsEndpointName: \"\"\n"
	"  sourceVip: \"\"\n";

struct warns {
	int	n;
	char	last[512];
};

static void
collect(void *arg, const char *msg)
{
	struct warns *w = arg;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static int
load(struct kp_config *c, const char *text, struct warns *w, char *err,
    size_t len)
{
	kpconf_defaults(c);
	memset(w, 0, sizeof(*w));
	err[0] = '\0';
	return kpconf_file_parse(c, "t.yaml", text, strlen(text), collect, w,
	    err, len);
}

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* Field by field: the struct has padding and string tails. */
static int
kp_equal(const struct kp_config *a, const struct kp_config *b)
{
	return strcmp(a->hostname, b->hostname) == 0 &&
	    strcmp(a->kubeconfig, b->kubeconfig) == 0 &&
	    strcmp(a->master, b->master) == 0 &&
	    strcmp(a->service_proxy_name, b->service_proxy_name) == 0 &&
	    a->config_sync_period_ms == b->config_sync_period_ms &&
	    a->kube_api_qps == b->kube_api_qps &&
	    a->kube_api_burst == b->kube_api_burst &&
	    a->families == b->families &&
	    strcmp(a->scheduler, b->scheduler) == 0 &&
	    a->sync_period_ms == b->sync_period_ms &&
	    a->min_sync_period_ms == b->min_sync_period_ms &&
	    a->strict_arp == b->strict_arp &&
	    a->tcp_timeout_s == b->tcp_timeout_s &&
	    a->tcpfin_timeout_s == b->tcpfin_timeout_s &&
	    a->udp_timeout_s == b->udp_timeout_s &&
	    a->n_exclude_cidrs == b->n_exclude_cidrs &&
	    memcmp(a->exclude_cidrs, b->exclude_cidrs,
	    a->n_exclude_cidrs * sizeof(a->exclude_cidrs[0])) == 0 &&
	    a->masquerade_all == b->masquerade_all &&
	    a->masquerade_bit == b->masquerade_bit &&
	    a->n_cluster_cidrs == b->n_cluster_cidrs &&
	    memcmp(a->cluster_cidrs, b->cluster_cidrs,
	    a->n_cluster_cidrs * sizeof(a->cluster_cidrs[0])) == 0 &&
	    a->detect_local == b->detect_local &&
	    strcmp(a->pod_bridge_interface, b->pod_bridge_interface) == 0 &&
	    strcmp(a->pod_interface_name_prefix,
	    b->pod_interface_name_prefix) == 0 &&
	    a->n_nodeport_cidrs == b->n_nodeport_cidrs &&
	    memcmp(a->nodeport_cidrs, b->nodeport_cidrs,
	    a->n_nodeport_cidrs * sizeof(a->nodeport_cidrs[0])) == 0 &&
	    a->nodeport_primary == b->nodeport_primary &&
	    memcmp(&a->bind_address, &b->bind_address,
	    sizeof(a->bind_address)) == 0 &&
	    strcmp(a->healthz_bind, b->healthz_bind) == 0 &&
	    strcmp(a->metrics_bind, b->metrics_bind) == 0 &&
	    a->bind_address_hard_fail == b->bind_address_hard_fail &&
	    a->conntrack_max_per_core == b->conntrack_max_per_core &&
	    a->conntrack_min == b->conntrack_min &&
	    a->conntrack_tcp_established_s == b->conntrack_tcp_established_s &&
	    a->conntrack_tcp_close_wait_s == b->conntrack_tcp_close_wait_s &&
	    a->conntrack_tcp_be_liberal == b->conntrack_tcp_be_liberal &&
	    a->conntrack_udp_timeout_s == b->conntrack_udp_timeout_s &&
	    a->conntrack_udp_stream_timeout_s ==
	    b->conntrack_udp_stream_timeout_s &&
	    a->oom_score_adj == b->oom_score_adj &&
	    a->nodeport_range_lo == b->nodeport_range_lo &&
	    a->nodeport_range_hi == b->nodeport_range_hi;
}

/* c -> flags -> kpconf_parse over the defaults; 1 if equal. */
static int
round_trip(const struct kp_config *c, int *nargs)
{
	struct kp_config back;
	char err[256];
	char **args;
	int n, rv;

	if ((args = kpconf_to_args(c, &n)) == NULL)
		return 0;
	*nargs = n;
	kpconf_defaults(&back);
	rv = kpconf_parse(&back, n, args, err, sizeof(err)) == 0 &&
	    kp_equal(c, &back);
	if (!rv)
		diag("round trip: %s", err);
	kpconf_args_free(args);
	return rv;
}

/* Every flag kpconf_usage() lists is produced by kpconf_to_args(). */
static int
all_flags_emitted(const struct kp_config *c)
{
	char *usage = NULL, *line, *save = NULL, **args;
	size_t ulen = 0;
	FILE *f;
	int n, i, missing = 0;

	if ((f = open_memstream(&usage, &ulen)) == NULL)
		return 0;
	kpconf_usage(f);
	fclose(f);
	if ((args = kpconf_to_args(c, &n)) == NULL) {
		free(usage);
		return 0;
	}
	for (line = strtok_r(usage, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		size_t len;
		int found = 0;

		if (sscanf(line, " --%63s", name) != 1)
			continue;
		/* proxy-mode has one value: it is never different. */
		if (strcmp(name, "proxy-mode") == 0)
			continue;
		len = strlen(name);
		for (i = 0; i < n; i++)
			if (strncmp(args[i] + 2, name, len) == 0 &&
			    args[i][2 + len] == '=')
				found = 1;
		if (!found) {
			diag("kpconf_to_args does not produce --%s", name);
			missing++;
		}
	}
	kpconf_args_free(args);
	free(usage);
	return missing == 0;
}

struct bad {
	const char	*yaml;
	const char	*want[2];	/* substrings of the message */
};

static const struct bad bad[] = {
	{ HEAD "mode: ipvs\nfoo: 1\n", { "t.yaml:4:", "unknown field 'foo'" } },
	{ HEAD "ipvs:\n  schedular: rr\n",
	    { "t.yaml:4:", "unknown field 'ipvs.schedular'" } },
	{ HEAD "iptables:\n  masqueradebit: 3\n",
	    { "unknown field 'iptables.masqueradebit'", NULL } },
	{ HEAD "linux:\n  masqueradeAll: true\n",
	    { "unknown field 'linux'", NULL } },
	{ "apiVersion: kubeproxy.config.k8s.io/v1alpha2\n"
	    "kind: KubeProxyConfiguration\n",
	    { "t.yaml:1: apiVersion",
	    "want kubeproxy.config.k8s.io/v1alpha1" } },
	{ "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
	    "kind: KubeletConfiguration\n",
	    { "t.yaml:2: kind", "got 'KubeletConfiguration'" } },
	{ "kind: KubeProxyConfiguration\nmode: ipvs\n",
	    { "apiVersion missing", NULL } },
	{ HEAD "ipvs:\n  syncPeriod: 30x\n",
	    { "t.yaml:4: ipvs.syncPeriod:", "got '30x'" } },
	{ HEAD "ipvs:\n  tcpTimeout: 5\n",
	    { "ipvs.tcpTimeout", "got '5'" } },
	{ HEAD "configSyncPeriod: -1m\n", { "configSyncPeriod", NULL } },
	{ HEAD "ipvs:\n  excludeCIDRs:\n  - 10.0.0.0/33\n",
	    { "t.yaml:5: ipvs.excludeCIDRs", "10.0.0.0/33" } },
	{ HEAD "ipvs:\n  excludeCIDRs:\n  - 10.0.0.0/8,10.1.0.0/16\n",
	    { "one CIDR per list item", NULL } },
	{ HEAD "ipvs:\n  excludeCIDRs: 10.0.0.0/8\n",
	    { "ipvs.excludeCIDRs: want a list", NULL } },
	{ HEAD "clusterCIDR: 10.0.0.0/8,10.1.0.0/16\n",
	    { "t.yaml:3: clusterCIDR", "one CIDR per family" } },
	{ HEAD "clusterCIDR: 10.0.0.300/8\n", { "clusterCIDR", NULL } },
	{ HEAD "nodePortAddresses: [primary, 10.0.0.0/8]\n",
	    { "nodePortAddresses: primary cannot be combined", NULL } },
	{ HEAD "ipvs:\n  syncPeriod: 10s\n  minSyncPeriod: 1m\n",
	    { "ipvs.minSyncPeriod must not exceed ipvs.syncPeriod", NULL } },
	{ HEAD "detectLocalMode: BridgeInterface\n",
	    { "detectLocalMode=BridgeInterface needs "
	    "detectLocal.bridgeInterface", NULL } },
	{ HEAD "detectLocalMode: Pods\n", { "t.yaml:3: detectLocalMode",
	    "got 'Pods'" } },
	{ HEAD "mode: iptables\n", { "t.yaml:3: mode",
	    "only ipvs, got 'iptables'" } },
	{ HEAD "ipvs:\n  strictARP: yes\n",
	    { "ipvs.strictARP: want true or false, got 'yes'", NULL } },
	{ HEAD "ipvs:\n  strictARP: \"true\"\n",
	    { "ipvs.strictARP: want true or false", NULL } },
	{ HEAD "iptables:\n  masqueradeBit: \"14\"\n",
	    { "iptables.masqueradeBit: want an integer", NULL } },
	{ HEAD "iptables:\n  masqueradeBit: 32\n",
	    { "iptables.masqueradeBit: want an integer in [0, 31]", NULL } },
	{ HEAD "oomScoreAdj: -1001\n", { "t.yaml:3: oomScoreAdj", NULL } },
	{ HEAD "clientConnection:\n  qps: 0.5\n",
	    { "clientConnection.qps: want a whole number", NULL } },
	{ HEAD "clientConnection:\n  contentType: text/plain\n",
	    { "clientConnection.contentType", "text/plain" } },
	{ HEAD "enableProfiling: true\n",
	    { "enableProfiling: not supported", NULL } },
	{ HEAD "ipvs:\n  scheduler: rr\nipvs:\n  scheduler: sh\n",
	    { "t.yaml:5:", "duplicate field 'ipvs'" } },
	{ HEAD "ipvs:\n  scheduler: rr\n  scheduler: sh\n",
	    { "duplicate field 'ipvs.scheduler'", NULL } },
	{ HEAD "ipvs: fast\n", { "ipvs: want a mapping", NULL } },
	{ HEAD "hostnameOverride: [a, b]\n",
	    { "hostnameOverride: want a single value", NULL } },
	{ HEAD "healthzBindAddress: 0.0.0.0:99999\n",
	    { "healthzBindAddress", "0.0.0.0:99999" } },
	{ HEAD "bindAddress: not-an-ip\n", { "bindAddress", NULL } },
	{ HEAD "featureGates:\n  Foo: maybe\n",
	    { "featureGates: want a mapping of gate names", NULL } },
	{ HEAD "---\n" HEAD, { "more than one YAML document", NULL } },
	{ HEAD "ipvs: {scheduler: rr\n", { "t.yaml:", "YAML" } },
	{ "- a\n- b\n", { "want a mapping of fields", NULL } },
	{ "", { "empty file", NULL } },
	{ HEAD "hostnameOverride: \"a\\0b\"\n", { "NUL byte", NULL } },
};

#define NBAD	((int)(sizeof(bad) / sizeof(bad[0])))

int
main(void)
{
	struct kp_config c, d, m;
	struct warns w;
	char err[512], buf[ADDR_STRLEN];
	int n, i;

	plan(91 + 2 * NBAD);

	/* 1. A full file: every field lands where its flag would. */
	is(load(&c, full, &w, err, sizeof(err)), 0, "full file loads: %s",
	    err);
	is(w.n, 0, "no warnings for a file of supported fields: %s", w.last);
	is_str(c.hostname, "node-7", "hostnameOverride, lower-cased");
	is_str(addr_fmt(&c.bind_address, buf, sizeof(buf)), "192.0.2.10",
	    "bindAddress");
	is_str(c.healthz_bind, "0.0.0.0:20256", "healthzBindAddress");
	is_str(c.metrics_bind, "[::1]:20249", "metricsBindAddress");
	ok(c.bind_address_hard_fail, "bindAddressHardFail");
	is(c.n_cluster_cidrs, 2, "clusterCIDR: two families");
	is_str(prefix_fmt(&c.cluster_cidrs[1], buf, sizeof(buf)),
	    "fd00:10:244::/56", "clusterCIDR IPv6");
	is(c.detect_local, KP_DETECT_INTERFACE_NAME_PREFIX, "detectLocalMode");
	is_str(c.pod_bridge_interface, "cbr0", "detectLocal.bridgeInterface");
	is_str(c.pod_interface_name_prefix, "veth",
	    "detectLocal.interfaceNamePrefix");
	is(c.n_nodeport_cidrs, 2, "nodePortAddresses: two");
	is_str(prefix_fmt(&c.nodeport_cidrs[0], buf, sizeof(buf)),
	    "192.0.2.0/24", "nodePortAddresses[0]");
	is(c.oom_score_adj, -500, "oomScoreAdj");
	is(c.config_sync_period_ms, 20 * 60 * 1000, "configSyncPeriod");
	is_str(c.kubeconfig, "/var/lib/kipvs/kubeconfig",
	    "clientConnection.kubeconfig");
	is(c.kube_api_qps, 50, "clientConnection.qps");
	is(c.kube_api_burst, 100, "clientConnection.burst");
	is_str(c.scheduler, "wlc", "ipvs.scheduler");
	is(c.sync_period_ms, 90000, "ipvs.syncPeriod");
	is(c.min_sync_period_ms, 250, "ipvs.minSyncPeriod");
	is(c.n_exclude_cidrs, 2, "ipvs.excludeCIDRs: two");
	is_str(prefix_fmt(&c.exclude_cidrs[1], buf, sizeof(buf)),
	    "2001:db8:1::/48", "ipvs.excludeCIDRs[1]");
	ok(c.strict_arp, "ipvs.strictARP");
	is(c.tcp_timeout_s, 900, "ipvs.tcpTimeout");
	is(c.tcpfin_timeout_s, 120, "ipvs.tcpFinTimeout");
	is(c.udp_timeout_s, 300, "ipvs.udpTimeout");
	ok(c.masquerade_all, "iptables.masqueradeAll");
	is(c.masquerade_bit, 5, "iptables.masqueradeBit");
	is(c.conntrack_max_per_core, 0, "conntrack.maxPerCore 0 (leave)");
	is(c.conntrack_min, 262144, "conntrack.min");
	is(c.conntrack_tcp_established_s, 12 * 3600,
	    "conntrack.tcpEstablishedTimeout");
	is(c.conntrack_tcp_close_wait_s, 1800, "conntrack.tcpCloseWaitTimeout");
	ok(c.conntrack_tcp_be_liberal, "conntrack.tcpBeLiberal");
	is(c.conntrack_udp_timeout_s, 30, "conntrack.udpTimeout");
	is(c.conntrack_udp_stream_timeout_s, 120,
	    "conntrack.udpStreamTimeout");

	/* 2. Round trip, and every flag has a serialiser. */
	ok(round_trip(&c, &n), "file -> config -> %d flags -> same config",
	    n);
	m = c;
	snprintf(m.master, sizeof(m.master), "https://10.0.0.1:6443");
	snprintf(m.service_proxy_name, sizeof(m.service_proxy_name), "kipvs");
	m.families = KP_FAMILY_V6;
	m.nodeport_range_lo = 20000;
	m.nodeport_range_hi = 22767;
	ok(round_trip(&m, &n), "flag-only settings round-trip too (%d flags)",
	    n);
	ok(all_flags_emitted(&m), "kpconf_to_args covers every kpconf flag");
	kpconf_defaults(&d);
	{
		char **args = kpconf_to_args(&d, &n);

		ok(args != NULL && n == 0 && args[0] == NULL,
		    "defaults give no flags");
		kpconf_args_free(args);
	}
	d.nodeport_primary = 1;
	snprintf(d.healthz_bind, sizeof(d.healthz_bind), "%s", "");
	ok(round_trip(&d, &n), "nodePortAddresses primary and a disabled "
	    "healthz round-trip");

	/* 3. kube-proxy's defaulting of zero values and bare addresses. */
	is(load(&c, HEAD "ipvs:\n  syncPeriod: 0s\n  scheduler: \"\"\n"
	    "configSyncPeriod: 0s\nclientConnection:\n  qps: 0\n  burst: 0\n"
	    "healthzBindAddress: 0.0.0.0\nmetricsBindAddress: \"\"\n"
	    "bindAddress: 0.0.0.0\noomScoreAdj: null\nconntrack:\n"
	    "  maxPerCore: null\n  min: ~\niptables:\ndetectLocalMode: \"\"\n",
	    &w, err, sizeof(err)), 0, "zero values load: %s", err);
	is(c.sync_period_ms, 30000, "syncPeriod 0s means 30s");
	is_str(c.scheduler, "rr", "empty scheduler means rr");
	is(c.config_sync_period_ms, 15 * 60 * 1000, "configSyncPeriod 0: 15m");
	is(c.kube_api_qps, 5, "qps 0 -> 5");
	is(c.kube_api_burst, 10, "burst 0 -> 10");
	is_str(c.healthz_bind, "0.0.0.0:10256", "bare healthz IP gets 10256");
	is_str(c.metrics_bind, "127.0.0.1:10249", "empty metrics address "
	    "keeps the default");
	is(c.bind_address.family, 0, "bindAddress 0.0.0.0 is no override");
	is(c.oom_score_adj, -999, "null oomScoreAdj keeps -999");
	is(c.conntrack_max_per_core, 32768, "null maxPerCore keeps 32768");
	is(c.conntrack_min, 131072, "~ keeps conntrack.min");
	is(w.n, 0, "no warnings");
	is(load(&c, HEAD "metricsBindAddress: \"::1\"\nclientConnection:\n"
	    "  qps: 20.0\n", &w, err, sizeof(err)), 0, "IPv6 bare address: %s",
	    err);
	is_str(c.metrics_bind, "[::1]:10249", "bare IPv6 metrics IP gets "
	    "[]:10249");
	is(c.kube_api_qps, 20, "qps 20.0 is 20");
	is(load(&c, HEAD, &w, err, sizeof(err)), 0, "a file with only the "
	    "type loads");
	kpconf_defaults(&d);
	ok(kp_equal(&c, &d), "and changes nothing");
	is(load(&c, HEAD "mode: \"\"\n", &w, err, sizeof(err)), 0,
	    "empty mode loads");
	ok(w.n == 1 && contains(w.last, "t.yaml:3: mode: empty"),
	    "with a warning: %s", w.last);
	is(load(&c, "# kube-proxy\n" HEAD "nodePortAddresses: [primary]\n",
	    &w, err, sizeof(err)), 0, "nodePortAddresses primary: %s", err);
	ok(c.nodeport_primary && c.n_nodeport_cidrs == 0, "primary set");

	/* A kubeadm-made ConfigMap works as it is. */
	is(load(&c, kubeadm, &w, err, sizeof(err)), 0, "kubeadm's file "
	    "loads: %s", err);
	is(w.n, 3, "warnings for logging, nftables and winkernel only");
	kpconf_defaults(&d);
	snprintf(d.kubeconfig, sizeof(d.kubeconfig), "%s",
	    "/var/lib/kube-proxy/kubeconfig.conf");
	{
		char *const a[] = { "--cluster-cidr=10.244.0.0/16" };

		ok(kpconf_parse(&d, 1, a, err, sizeof(err)) == 0 &&
		    kp_equal(&c, &d),
		    "defaults plus its kubeconfig and cluster CIDR");
	}

	/* 4. Fields without effect in ipvs mode: accepted, warned. */
	is(load(&c, HEAD "mode: ipvs\niptables:\n  syncPeriod: 30s\n"
	    "  minSyncPeriod: 1s\n  localhostNodePorts: true\n"
	    "  masqueradeBit: 14\nnftables:\n  syncPeriod: 30s\n"
	    "winkernel: {}\nlogging:\n  verbosity: 2\nportRange: \"\"\n"
	    "featureGates:\n  SomeGate: true\n  Other: false\n", &w, err,
	    sizeof(err)), 0, "no-effect fields load: %s", err);
	is(w.n, 7, "warned: iptables x3, nftables, logging, two gates");
	ok(contains(w.last, "featureGates: Other ignored"), "gate named: %s",
	    w.last);
	is(load(&c, HEAD "iptables:\n  syncPeriod: 30s\n", &w, err,
	    sizeof(err)), 0, "iptables.syncPeriod alone");
	ok(contains(w.last, "t.yaml:4: iptables.syncPeriod: ignored"),
	    "warning names the field and line: %s", w.last);
	kpconf_defaults(&d);
	ok(kp_equal(&c, &d), "and changes nothing");

	/* 5. Errors name the field and the line. */
	for (i = 0; i < NBAD; i++) {
		is(load(&c, bad[i].yaml, &w, err, sizeof(err)), -1,
		    "bad file %d refused", i);
		ok(contains(err, bad[i].want[0]) && (bad[i].want[1] == NULL ||
		    contains(err, bad[i].want[1])), "message: %s", err);
	}

	/* 6. --config precedence. */
	is(load(&c, full, &w, err, sizeof(err)), 0, "full file again");
	{
		char *const a[] = { "--hostname-override=Other",
		    "--ipvs-scheduler", "sh", "--masquerade-all",
		    "--master", "https://192.0.2.1:6443", "--ip-family=ipv4",
		    "--nodeport-range=31000-31999", "--service-proxy-name=x" };
		char *const bad_flag[] = { "--no-such-flag" };

		memset(&w, 0, sizeof(w));
		is(kpconf_file_merge(&c, 9, a, collect, &w, err, sizeof(err)),
		    0, "merge: %s", err);
		is_str(c.hostname, "other", "--hostname-override wins");
		is_str(c.scheduler, "wlc", "--ipvs-scheduler ignored");
		is(w.n, 2, "two flags ignored with a warning");
		ok(contains(w.last, "--masquerade-all is ignored because "
		    "--config is given"), "warning: %s", w.last);
		is_str(c.master, "https://192.0.2.1:6443", "--master applies");
		is(c.families, KP_FAMILY_V4, "--ip-family applies");
		is(c.nodeport_range_lo, 31000, "--nodeport-range applies");
		is_str(c.service_proxy_name, "x", "--service-proxy-name "
		    "applies");
		is(kpconf_file_merge(&c, 1, bad_flag, collect, &w, err,
		    sizeof(err)), -1, "unknown flag still an error");
		ok(contains(err, "unknown flag --no-such-flag"), "%s", err);
	}

	/* 7. From a file. */
	{
		char path[] = "/tmp/kpconf_file_testXXXXXX";
		int fd = mkstemp(path);

		ok(fd != -1 && write(fd, full, strlen(full)) ==
		    (ssize_t)strlen(full), "temporary file written");
		if (fd != -1)
			close(fd);
		kpconf_defaults(&c);
		is(kpconf_file_load(&c, path, collect, &w, err, sizeof(err)),
		    0, "kpconf_file_load: %s", err);
		is_str(c.scheduler, "wlc", "file's values loaded");
		unlink(path);
		is(kpconf_file_load(&c, path, collect, &w, err, sizeof(err)),
		    -1, "missing file refused");
		ok(contains(err, "No such file"), "%s", err);
		is(kpconf_file_load(&c, "/tmp", collect, &w, err,
		    sizeof(err)), -1, "a directory refused");
	}

	return done();
}
