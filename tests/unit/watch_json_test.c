/*
 * Unit tests for watcherd/watch_json.c: the strict address parsers, the
 * Service / EndpointSlice / Node converters (valid, "not a record" and
 * malformed objects in every sloppy form), and the real apiserver
 * recordings in ../shared/apiserver (every .http file).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/addr.h"
#include "watcherd/watch_json.h"
#include "tests/tap.h"

static void
test_ip_parser(void)
{
	static const char *const good[] = { "10.0.0.1", "0.0.0.0",
	    "255.255.255.255", "2001:db8::1", "::1", "fe80::1",
	    "2001:0db8:0000::1", "64:ff9b::10.0.0.1" };
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "010.0.0.1", "leading zero" },
		{ "10.0.0.01", "leading zero" },
		{ "10.00.0.1", "leading zero" },
		{ "10.1", "short form" },
		{ "10", "short form" },
		{ "10.0.0", "short form" },
		{ "10.0.0.1/32", "prefix length" },
		{ "2001:db8::1/128", "prefix length" },
		{ "fe80::1%eth0", "zone index" },
		{ "::ffff:10.0.0.1", "IPv4-mapped" },
		{ "0x7f.0.0.1", "invalid character" },
		{ "10.0.0.256", "out of range" },
		{ "1.2.3.4.5", "short form" },
		{ " 10.0.0.1", "invalid character" },
		{ "10.0.0.1 ", "invalid character" },
		{ "", "empty" },
		{ "10..0.1", "empty octet" },
		{ "::ffff:010.0.0.1", "leading zero" },
		{ "1:2:3:4:5:6:7:8:9", "not an IPv6" },
		{ "2001:db8:::1", "not an IPv6" },
	};
	struct rec_addr a;
	char why[128], buf[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(watch_json_parse_ip(good[i], 0, &a, why, sizeof(why)) == 0,
		    "accepts %s", good[i]);
	ok(watch_json_parse_ip("2001:0db8:0000::1", 0, &a, why,
	    sizeof(why)) == 0 && strcmp(addr_fmt(&a, buf, sizeof(buf)),
	    "2001:db8::1") == 0, "IPv6 is canonicalised");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ok(watch_json_parse_ip(bad[i].in, 0, &a, why,
		    sizeof(why)) == -1 && strstr(why, bad[i].why) != NULL,
		    "refuses \"%s\" (%s)", bad[i].in, why);
	}
	ok(watch_json_parse_ip("10.0.0.1", REC_FAMILY_IPV6, &a, why,
	    sizeof(why)) == -1, "family mismatch refused");
}

static void
test_cidr_parser(void)
{
	struct rec_prefix p;
	char why[128], buf[ADDR_STRLEN];

	ok(watch_json_parse_cidr("10.1.2.3/8", 0, &p, why, sizeof(why)) == 0 &&
	    strcmp(prefix_fmt(&p, buf, sizeof(buf)), "10.0.0.0/8") == 0,
	    "host bits cleared");
	ok(watch_json_parse_cidr("2001:db8::1/48", 0, &p, why,
	    sizeof(why)) == 0 && strcmp(prefix_fmt(&p, buf, sizeof(buf)),
	    "2001:db8::/48") == 0, "IPv6 prefix");
	ok(watch_json_parse_cidr("10.0.0.0", 0, &p, why, sizeof(why)) == -1,
	    "no length refused");
	ok(watch_json_parse_cidr("10.0.0.0/33", 0, &p, why, sizeof(why)) == -1,
	    "/33 refused");
	ok(watch_json_parse_cidr("10.0.0.0/08", 0, &p, why, sizeof(why)) == -1,
	    "/08 refused");
	ok(watch_json_parse_cidr("010.0.0.0/8", 0, &p, why, sizeof(why)) == -1,
	    "leading zero refused");
	ok(watch_json_parse_cidr("0.0.0.0/0", 0, &p, why, sizeof(why)) == 0 &&
	    p.plen == 0, "zero CIDR");
}

static json_t *
load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (j == NULL) {
		diag("bad test JSON: %s: %s", err.text, text);
		abort();
	}
	return j;
}

static int
svc_from(const char *text, const char *proxy, struct rec_service *s,
    char *why, size_t whylen)
{
	json_t *j = load(text);
	int r = watch_json_service(j, proxy, s, why, whylen);

	json_decref(j);
	return r;
}

#define SVC_HEAD \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"," \
	"\"namespace\":\"ns1\"%s},\"spec\":{"
#define SVC_OK_SPEC \
	"\"clusterIP\":\"10.96.0.5\",\"clusterIPs\":[\"10.96.0.5\"]," \
	"\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]"

static void
test_service_valid(void)
{
	struct rec_service s;
	char why[WATCH_JSON_WHY_MAX];
	int r;

	r = svc_from("{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"namespace\":\"ns1\",\"uid\":\"u-1\",\"creationTimestamp\":"
	    "\"2024-01-02T03:04:05Z\",\"annotations\":{\"service.kubernetes."
	    "io/topology-mode\":\"Auto\"}},\"spec\":{\"type\":\"LoadBalancer\","
	    "\"clusterIP\":\"10.96.0.5\",\"clusterIPs\":[\"10.96.0.5\","
	    "\"fd00::5\"],\"ports\":[{\"name\":\"http\",\"port\":80,"
	    "\"protocol\":\"TCP\",\"nodePort\":30080},{\"name\":\"dns\","
	    "\"port\":53,\"protocol\":\"UDP\",\"nodePort\":30053}],"
	    "\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":"
	    "{\"clientIP\":{\"timeoutSeconds\":60}},\"externalTrafficPolicy\":"
	    "\"Local\",\"internalTrafficPolicy\":\"Local\","
	    "\"healthCheckNodePort\":32000,\"externalIPs\":[\"192.0.2.1\"],"
	    "\"loadBalancerSourceRanges\":[\" 10.0.0.0/8 \"]},\"status\":"
	    "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\"},"
	    "{\"ip\":\"203.0.113.2\",\"ipMode\":\"Proxy\"},{\"hostname\":"
	    "\"lb.example.com\"}]}}}", NULL, &s, why, sizeof(why));
	is(r, WATCH_JSON_OK, "full Service converts (%s)", why);
	is_str(s.namespace, "ns1", "namespace");
	is_str(s.name, "web", "name");
	is_str(s.uid, "u-1", "uid");
	is(s.created, 1704164645, "creationTimestamp");
	is(s.type, REC_SVC_LOADBALANCER, "type");
	is(s.n_cluster_ips, 2, "two cluster IPs");
	is(s.cluster_ips[1].family, REC_FAMILY_IPV6, "second is IPv6");
	is(s.n_ports, 2, "two ports");
	is(s.ports[1].protocol, REC_PROTO_UDP, "UDP port");
	is(s.ports[1].node_port, 30053, "nodePort");
	is(s.affinity, REC_AFFINITY_CLIENTIP, "ClientIP");
	is(s.affinity_timeout, 60, "timeout");
	ok((s.flags & (REC_SVC_ETP_LOCAL | REC_SVC_ITP_LOCAL |
	    REC_SVC_TOPOLOGY)) == (REC_SVC_ETP_LOCAL | REC_SVC_ITP_LOCAL |
	    REC_SVC_TOPOLOGY), "policy and topology flags");
	is(s.health_check_node_port, 32000, "healthCheckNodePort");
	is(s.n_external_ips, 1, "externalIPs");
	is(s.n_source_ranges, 1, "source range (trimmed)");
	is(s.source_ranges[0].plen, 8, "range length");
	is(s.n_lb_ingress, 2, "hostname-only ingress dropped");
	is(s.lb_ingress[1].ipmode, REC_IPMODE_PROXY, "ipMode Proxy kept");
	rec_service_clear(&s);

	r = svc_from("{\"metadata\":{\"name\":\"d\",\"namespace\":\"n\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.0.6\",\"sessionAffinity\":"
	    "\"ClientIP\",\"ports\":[{\"port\":1}]}}", NULL, &s, why,
	    sizeof(why));
	ok(r == WATCH_JSON_OK && s.affinity_timeout == 10800 &&
	    s.ports[0].protocol == REC_PROTO_TCP && s.n_cluster_ips == 1,
	    "defaults: ClientIP 10800, TCP, clusterIP alone");
	rec_service_clear(&s);
}

static void
test_service_skip(void)
{
	static const struct {
		const char *json, *proxy, *why;
	} t[] = {
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"spec\":"
		  "{\"type\":\"ExternalName\",\"externalName\":\"a.b\"}}", NULL,
		  "ExternalName" },
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"spec\":"
		  "{\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"],\"ports\":"
		  "[{\"port\":80}]}}", NULL, "headless" },
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"spec\":"
		  "{\"clusterIP\":\"\",\"ports\":[{\"port\":80}]}}", NULL,
		  "no cluster IP" },
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\","
		  "\"labels\":{\"service.kubernetes.io/headless\":\"\"}},"
		  "\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"port\":"
		  "80}]}}", NULL, "headless" },
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\","
		  "\"labels\":{\"service.kubernetes.io/service-proxy-name\":"
		  "\"other\"}},\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":"
		  "[{\"port\":80}]}}", "kipvs", "another proxy" },
		{ "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\","
		  "\"labels\":{\"service.kubernetes.io/service-proxy-name\":"
		  "\"kipvs\"}},\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":"
		  "[{\"port\":80}]}}", NULL, "another proxy" },
	};
	struct rec_service s;
	char why[WATCH_JSON_WHY_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(svc_from(t[i].json, t[i].proxy, &s, why, sizeof(why)) ==
		    WATCH_JSON_SKIP && strstr(why, t[i].why) != NULL &&
		    strstr(why, "n/x") != NULL, "not a record: %s", why);
	ok(svc_from("{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\","
	    "\"labels\":{\"service.kubernetes.io/service-proxy-name\":"
	    "\"kipvs\"}},\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":"
	    "[{\"port\":80}]}}", "kipvs", &s, why, sizeof(why)) ==
	    WATCH_JSON_OK, "our own service-proxy-name is proxied");
	rec_service_clear(&s);
}

static void
test_service_invalid(void)
{
	static const struct {
		const char *spec, *why;
	} t[] = {
		{ "\"clusterIP\":\"010.96.0.1\",\"ports\":[{\"port\":80}]",
		  "leading zero" },
		{ "\"clusterIP\":\"10.96.1\",\"ports\":[{\"port\":80}]",
		  "short form" },
		{ "\"clusterIP\":\"10.96.0.1/32\",\"ports\":[{\"port\":80}]",
		  "prefix length" },
		{ "\"clusterIP\":\"10.96.0.1\",\"clusterIPs\":[\"10.96.0.2\"],"
		  "\"ports\":[{\"port\":80}]", "differs" },
		{ "\"clusterIPs\":[\"10.96.0.1\",\"10.96.0.2\"],\"ports\":"
		  "[{\"port\":80}]", "one family" },
		{ SVC_OK_SPEC ",\"externalIPs\":[\"1.2.3.04\"]",
		  "leading zero" },
		{ SVC_OK_SPEC ",\"externalIPs\":[\"1.2.3.0/24\"]",
		  "prefix length" },
		{ SVC_OK_SPEC ",\"externalIPs\":[5]", "not a string" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":0}]",
		  "port not an integer in 1..65535" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":65536}]",
		  "port not an integer in 1..65535" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":-1}]",
		  "port not an integer" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":\"80\"}]",
		  "port not an integer" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80.5}]",
		  "port not an integer" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80,"
		  "\"nodePort\":65536}]", "nodePort" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80,"
		  "\"protocol\":\"ICMP\"}]", "protocol \"ICMP\"" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80,"
		  "\"protocol\":\"tcp\"}]", "protocol" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":\"a\"}]",
		  "port missing" },
		{ "\"clusterIP\":\"10.96.0.1\"", "spec.ports missing" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[]",
		  "missing or empty" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80},"
		  "{\"port\":81}]", "repeats" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":\"a\","
		  "\"port\":80},{\"name\":\"b\",\"port\":80}]",
		  "repeats port 80" },
		{ "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":\"a\","
		  "\"port\":80,\"nodePort\":30080},{\"name\":\"b\",\"port\":"
		  "81,\"nodePort\":30080}]", "repeats nodePort 30080" },
		{ SVC_OK_SPEC ",\"type\":\"Weird\"", "spec.type" },
		{ SVC_OK_SPEC ",\"sessionAffinity\":\"ClientIP\","
		  "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":"
		  "0}}", "timeoutSeconds" },
		{ SVC_OK_SPEC ",\"sessionAffinity\":\"ClientIP\","
		  "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":"
		  "86401}}", "timeoutSeconds" },
		{ SVC_OK_SPEC ",\"externalTrafficPolicy\":\"Global\"",
		  "externalTrafficPolicy" },
		{ SVC_OK_SPEC ",\"loadBalancerSourceRanges\":[\"10.0.0.0\"]",
		  "no prefix length" },
		{ SVC_OK_SPEC ",\"loadBalancerSourceRanges\":[\"10.0.0.0/33\"]",
		  "out of range" },
		{ SVC_OK_SPEC ",\"healthCheckNodePort\":70000",
		  "healthCheckNodePort" },
		{ SVC_OK_SPEC ",\"ports\":[{\"name\":\"Bad_Name\",\"port\":1}]",
		  "is invalid" },
	};
	struct rec_service s;
	char why[WATCH_JSON_WHY_MAX], json[2048];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(json, sizeof(json), SVC_HEAD "%s}}", "", t[i].spec);
		why[0] = '\0';
		ok(svc_from(json, NULL, &s, why, sizeof(why)) ==
		    WATCH_JSON_INVALID && strstr(why, "Service ns1/web") !=
		    NULL && strstr(why, t[i].why) != NULL,
		    "invalid: %s", why);
		ok(s.ports == NULL && s.external_ips == NULL,
		    "  nothing left allocated");
	}
	ok(svc_from("{\"metadata\":{\"namespace\":\"n\"},\"spec\":{}}", NULL,
	    &s, why, sizeof(why)) == WATCH_JSON_INVALID &&
	    strstr(why, "metadata.name") != NULL, "missing name: %s", why);
	ok(svc_from("{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", NULL,
	    &s, why, sizeof(why)) == WATCH_JSON_INVALID &&
	    strstr(why, "namespace") != NULL, "missing namespace: %s", why);
	ok(svc_from("{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"}}",
	    NULL, &s, why, sizeof(why)) == WATCH_JSON_INVALID &&
	    strstr(why, "no spec") != NULL, "missing spec: %s", why);
	ok(svc_from("[]", NULL, &s, why, sizeof(why)) == WATCH_JSON_INVALID,
	    "not an object");
	ok(svc_from("{\"metadata\":{\"name\":\"X\\u0001\",\"namespace\":"
	    "\"n\"},\"spec\":{}}", NULL, &s, why, sizeof(why)) ==
	    WATCH_JSON_INVALID && strchr(why, 1) == NULL,
	    "control characters never reach a reason: %s", why);
}

/* 10,000 externalIPs on one Service: refused as a whole, quickly. */
static void
test_service_huge(void)
{
	struct rec_service s;
	char why[WATCH_JSON_WHY_MAX], ip[32];
	json_t *j, *arr;
	int i;

	j = load("{\"metadata\":{\"name\":\"huge\",\"namespace\":\"n\"},"
	    "\"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":"
	    "[{\"port\":80}]}}");
	arr = json_array();
	for (i = 0; i < 10000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536 % 256,
		    i / 256 % 256, i % 256);
		json_array_append_new(arr, json_string(ip));
	}
	json_object_set_new(json_object_get(j, "spec"), "externalIPs", arr);
	ok(watch_json_service(j, NULL, &s, why, sizeof(why)) ==
	    WATCH_JSON_INVALID && strstr(why, "10000 externalIPs") != NULL &&
	    strstr(why, "n/huge") != NULL, "10,000 externalIPs: %s", why);
	json_decref(j);
}

static int
slice_from(const char *text, const char *proxy, struct rec_slice *sl,
    char *why, size_t whylen)
{
	json_t *j = load(text);
	int r = watch_json_slice(j, proxy, sl, why, whylen);

	json_decref(j);
	return r;
}

#define SL_HEAD \
	"{\"metadata\":{\"name\":\"s1\",\"namespace\":\"ns1\",\"labels\":" \
	"{\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\","

static void
test_slice(void)
{
	struct rec_slice sl;
	char why[WATCH_JSON_WHY_MAX];
	int r;

	r = slice_from(SL_HEAD "\"ports\":[{\"name\":\"http\",\"port\":8080,"
	    "\"protocol\":\"TCP\"},{\"name\":null,\"port\":1},{\"name\":\"a\","
	    "\"port\":null},{\"name\":\"b\",\"port\":0},{\"name\":\"\","
	    "\"port\":"
	    "9,\"protocol\":\"SCTP\"}],\"endpoints\":[{\"addresses\":"
	    "[\"10.0.0.1\"],\"conditions\":{},\"nodeName\":\"node-a\","
	    "\"hints\":{\"forZones\":[{\"name\":\"zone-a\"}],\"forNodes\":"
	    "[{\"name\":\"node-a\"}]}},{\"addresses\":[]},{\"addresses\":"
	    "[\"10.0.0.2\"],\"conditions\":{\"ready\":false,\"serving\":true,"
	    "\"terminating\":true}},{\"addresses\":[\"10.0.0.3\"]}]}", NULL,
	    &sl, why, sizeof(why));
	is(r, WATCH_JSON_OK, "slice converts (%s)", why);
	is_str(sl.service, "web", "service label");
	is(sl.n_ports, 2, "ports with nil name or nil/0 number skipped");
	is(sl.ports[1].protocol, REC_PROTO_SCTP, "SCTP port");
	is_str(sl.ports[1].name, "", "unnamed port");
	is(sl.n_endpoints, 3, "endpoint without addresses skipped");
	is(sl.endpoints[0].conditions, REC_EP_READY | REC_EP_SERVING,
	    "{} conditions: ready and serving");
	is_str(sl.endpoints[0].node_name, "node-a", "nodeName");
	ok(sl.endpoints[0].n_zone_hints == 1 && sl.endpoints[0].n_node_hints ==
	    1 && strcmp(sl.endpoints[0].zone_hints[0], "zone-a") == 0,
	    "hints");
	is(sl.endpoints[1].conditions, REC_EP_SERVING | REC_EP_TERMINATING,
	    "serving terminating");
	is(sl.endpoints[2].conditions, REC_EP_READY | REC_EP_SERVING,
	    "no conditions: ready");
	rec_slice_clear(&sl);

	ok(slice_from("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"},"
	    "\"addressType\":\"IPv4\"}", NULL, &sl, why, sizeof(why)) ==
	    WATCH_JSON_SKIP, "no service-name label: %s", why);
	ok(slice_from("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"x\"}},"
	    "\"addressType\":\"FQDN\"}", NULL, &sl, why, sizeof(why)) ==
	    WATCH_JSON_SKIP, "FQDN: %s", why);
	ok(slice_from("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"x\","
	    "\"service.kubernetes.io/headless\":\"\"}},\"addressType\":"
	    "\"IPv4\"}", NULL, &sl, why, sizeof(why)) == WATCH_JSON_SKIP,
	    "headless label: %s", why);
	ok(slice_from("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"x\"}},"
	    "\"addressType\":\"IPv4\",\"endpoints\":null,\"ports\":null}",
	    NULL, &sl, why, sizeof(why)) == WATCH_JSON_OK &&
	    sl.n_endpoints == 0, "null arrays are empty");
	rec_slice_clear(&sl);
}

static void
test_slice_invalid(void)
{
	static const struct {
		const char *body, *why;
	} t[] = {
		{ "\"endpoints\":[{\"addresses\":[\"10.0.0.01\"]}]",
		  "leading zero" },
		{ "\"endpoints\":[{\"addresses\":[\"10.0.1\"]}]",
		  "short form" },
		{ "\"endpoints\":[{\"addresses\":[\"10.0.0.1/32\"]}]",
		  "prefix length" },
		{ "\"endpoints\":[{\"addresses\":[\"fd00::1\"]}]",
		  "wrong family" },
		{ "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":"
		  "{\"ready\":\"yes\"}}]", "non-boolean" },
		{ "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"nodeName\":"
		  "\"Node A\"}]", "nodeName" },
		{ "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"hints\":"
		  "{\"forZones\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":"
		  "\"c\"},{\"name\":\"d\"},{\"name\":\"e\"}]}}]", "at most" },
		{ "\"ports\":[{\"name\":\"p\",\"port\":65536}]", "1..65535" },
		{ "\"ports\":[{\"name\":\"p\",\"port\":80,"
		  "\"protocol\":\"GRE\"}]", "protocol" },
		{ "\"endpoints\":{}", "not an array" },
	};
	struct rec_slice sl;
	char why[WATCH_JSON_WHY_MAX], json[1024];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(json, sizeof(json), SL_HEAD "%s}", t[i].body);
		ok(slice_from(json, NULL, &sl, why, sizeof(why)) ==
		    WATCH_JSON_INVALID && strstr(why, "EndpointSlice ns1/s1") !=
		    NULL && strstr(why, t[i].why) != NULL, "invalid: %s", why);
	}
	ok(slice_from("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\","
	    "\"labels\":{\"kubernetes.io/service-name\":\"x\"}}}", NULL, &sl,
	    why, sizeof(why)) == WATCH_JSON_INVALID, "missing addressType");
}

static void
test_node(void)
{
	struct rec_node nd;
	char why[WATCH_JSON_WHY_MAX];
	json_t *j;

	j = load("{\"metadata\":{\"name\":\"node-a\",\"labels\":{\"topology."
	    "kubernetes.io/zone\":\"zone-a\"}},\"spec\":{\"podCIDRs\":"
	    "[\"10.244.1.0/24\"]},\"status\":{\"addresses\":[{\"type\":"
	    "\"Hostname\",\"address\":\"node-a\"},{\"type\":\"ExternalIP\","
	    "\"address\":\"203.0.113.1\"},{\"type\":\"InternalIP\","
	    "\"address\":\"192.168.0.1\"}]}}");
	is(watch_json_node(j, &nd, why, sizeof(why)), WATCH_JSON_OK, "node");
	is_str(nd.zone, "zone-a", "zone");
	is(nd.n_pod_cidrs, 1, "podCIDRs");
	ok(nd.n_addresses == 2 && nd.addresses[0].addr[0] == 192,
	    "InternalIP first");
	json_decref(j);
	j = load("{\"metadata\":{\"name\":\"node-a\"},\"status\":"
	    "{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
	    "\"192.168.0.01\"}]}}");
	ok(watch_json_node(j, &nd, why, sizeof(why)) == WATCH_JSON_INVALID,
	    "bad node address: %s", why);
	json_decref(j);
}

/* --- the apiserver recordings ------------------------------------------- */

/* Body of a recorded HTTP response, de-chunked when needed. */
static char *
http_body(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *raw, *body, *p, *out;
	long size;
	size_t n, len = 0;
	int chunked;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	raw = calloc(1, (size_t)size + 1);
	if (raw == NULL || fread(raw, 1, (size_t)size, f) != (size_t)size)
		abort();
	fclose(f);
	body = strstr(raw, "\r\n\r\n");
	if (body == NULL) {
		free(raw);
		return NULL;
	}
	*body = '\0';
	chunked = strcasestr(raw, "transfer-encoding: chunked") != NULL;
	body += 4;
	out = calloc(1, (size_t)size + 1);
	if (out == NULL)
		abort();
	if (!chunked) {
		len = strlen(body);
		memcpy(out, body, len);
	} else {
		for (p = body; *p != '\0';) {
			n = strtoul(p, &p, 16);
			if (strncmp(p, "\r\n", 2) != 0)
				break;
			p += 2;
			if (n == 0)
				break;
			memcpy(out + len, p, n);
			len += n;
			p += n + 2;
		}
	}
	free(raw);
	*lenp = len;
	return out;
}

struct rec_counts {
	int		 ok;
	int		 skip;
	int		 invalid;
};

static void
convert(json_t *obj, const char *kind, struct rec_counts *c)
{
	char why[WATCH_JSON_WHY_MAX];
	struct rec_service s;
	struct rec_slice sl;
	struct rec_node nd;
	int r;

	if (strcmp(kind, "Service") == 0) {
		r = watch_json_service(obj, NULL, &s, why, sizeof(why));
		if (r == WATCH_JSON_OK)
			rec_service_clear(&s);
	} else if (strcmp(kind, "EndpointSlice") == 0) {
		r = watch_json_slice(obj, NULL, &sl, why, sizeof(why));
		if (r == WATCH_JSON_OK)
			rec_slice_clear(&sl);
	} else if (strcmp(kind, "Node") == 0)
		r = watch_json_node(obj, &nd, why, sizeof(why));
	else
		return;
	if (r == WATCH_JSON_OK)
		c->ok++;
	else if (r == WATCH_JSON_SKIP)
		c->skip++;
	else {
		c->invalid++;
		diag("%s", why);
	}
}

/* One recording: a list, a bare object or a stream of watch events. */
static int
recording(const char *path, struct rec_counts *c)
{
	char *body, *line, *save = NULL, kind[64];
	json_t *j, *items, *item, *o;
	const char *k;
	size_t len, i;

	body = http_body(path, &len);
	if (body == NULL)
		return -1;
	for (line = strtok_r(body, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		j = json_loads(line, 0, NULL);
		if (j == NULL)
			continue;
		k = json_string_value(json_object_get(j, "kind"));
		items = json_object_get(j, "items");
		if (json_is_array(items) && k != NULL && strlen(k) > 4 &&
		    strlen(k) < sizeof(kind)) {
			memcpy(kind, k, strlen(k) - 4);
			kind[strlen(k) - 4] = '\0';
			json_array_foreach(items, i, item)
				convert(item, kind, c);
		} else if ((o = json_object_get(j, "object")) != NULL) {
			const char *type = json_string_value(
			    json_object_get(j, "type"));

			k = json_string_value(json_object_get(o, "kind"));
			if (k != NULL && type != NULL &&
			    strcmp(type, "BOOKMARK") != 0 &&
			    strcmp(type, "ERROR") != 0)
				convert(o, k, c);
		} else if (k != NULL)
			convert(j, k, c);
		json_decref(j);
	}
	free(body);
	return 0;
}

static void
test_recordings(void)
{
	static const struct {
		const char *file;
		int ok, skip;
	} want[] = {
		/* 5 proxied; headless and ExternalName are not records. */
		{ "services-list-selector-consistent.http", 5, 2 },
		{ "services-list-after-restart.http", 5, 2 },
		/* 6 slices; headless, other-proxy and FQDN are not. */
		{ "endpointslices-list-all.http", 6, 3 },
		{ "endpointslices-list.http", 6, 1 },
		{ "node-get-by-name.http", 1, 0 },
		{ "node-get.http", 1, 0 },
		{ "services-watch.http", 6, 0 },
		{ "endpointslices-watch.http", 5, 0 },
	};
	const char *shared = getenv("KIPVS_SHARED");
	char dir[512], path[1024];
	struct rec_counts c, all = { 0, 0, 0 };
	struct dirent *de;
	DIR *d;
	size_t i;
	int r;

	snprintf(dir, sizeof(dir), "%s/apiserver",
	    shared != NULL ? shared : "../shared");
	d = opendir(dir);
	if (d == NULL) {
		skip(1 + (int)(sizeof(want) / sizeof(want[0])),
		    "no recordings at %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".http") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(&c, 0, sizeof(c));
		if (recording(path, &c) == 0) {
			all.ok += c.ok;
			all.skip += c.skip;
			all.invalid += c.invalid;
		}
	}
	closedir(d);
	ok(all.invalid == 0 && all.ok > 20, "every recorded object converts "
	    "(%d records, %d not proxied, %d invalid)", all.ok, all.skip,
	    all.invalid);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i].file);
		memset(&c, 0, sizeof(c));
		r = recording(path, &c);
		ok(r == 0 && c.ok == want[i].ok && c.skip == want[i].skip &&
		    c.invalid == 0, "%s: %d records, %d not proxied",
		    want[i].file, c.ok, c.skip);
	}
}

/* Fields of the recorded beta/lb Service and node-a. */
static void
test_recorded_fields(void)
{
	const char *shared = getenv("KIPVS_SHARED");
	char path[1024], why[WATCH_JSON_WHY_MAX], *body;
	struct rec_service s;
	struct rec_node nd;
	json_t *j, *item;
	size_t len, i;
	int found = 0;

	snprintf(path, sizeof(path), "%s/apiserver/"
	    "services-list-selector-consistent.http",
	    shared != NULL ? shared : "../shared");
	body = http_body(path, &len);
	if (body == NULL) {
		skip(3, "no recordings");
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	free(body);
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (watch_json_service(item, NULL, &s, why, sizeof(why)) !=
		    WATCH_JSON_OK)
			continue;
		if (strcmp(s.name, "lb") == 0) {
			found = 1;
			ok(s.type == REC_SVC_LOADBALANCER && s.n_ports == 2 &&
			    s.ports[0].node_port == s.ports[1].node_port &&
			    (s.flags & REC_SVC_ETP_LOCAL) &&
			    s.health_check_node_port != 0,
			    "beta/lb: LB, TCP+UDP on one nodePort, ETP Local");
			ok(s.n_lb_ingress == 1 && s.lb_ingress[0].ip.addr[0] ==
			    198 && s.n_source_ranges > 0,
			    "beta/lb: ingress IP (hostname entry dropped)");
		}
		rec_service_clear(&s);
	}
	json_decref(j);
	if (!found)
		ok(0, "beta/lb found");
	snprintf(path, sizeof(path), "%s/apiserver/node-get-by-name.http",
	    shared != NULL ? shared : "../shared");
	body = http_body(path, &len);
	j = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	free(body);
	ok(j != NULL && watch_json_node(j, &nd, why, sizeof(why)) ==
	    WATCH_JSON_OK && strcmp(nd.zone, "zone-a") == 0 &&
	    nd.n_addresses == 2 && nd.n_pod_cidrs == 1,
	    "node-a: zone-a, InternalIP+ExternalIP, podCIDR");
	json_decref(j);
}

int
main(void)
{
	test_ip_parser();
	test_cidr_parser();
	test_service_valid();
	test_service_skip();
	test_service_invalid();
	test_service_huge();
	test_slice();
	test_slice_invalid();
	test_node();
	test_recordings();
	test_recorded_fields();
	return done();
}
