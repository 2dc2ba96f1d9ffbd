/*
 * Unit tests for applierd/applier_ipset's entry text: kube-proxy's member
 * formats for every set kind, both ways, and the inputs that must be
 * refused.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "applierd/applier_ipset.h"
#include "tests/tap.h"

/* Parses s and formats it again; returns the text or "(parse error)". */
static const char *
round_trip(enum ipset_kind k, int family, const char *s)
{
	static char buf[128];
	struct ipset_member m;

	if (ipset_member_parse(k, family, s, &m) < 0)
		return "(parse error)";
	if (ipset_member_format(k, &m, buf, sizeof(buf)) < 0)
		return "(format error)";
	return buf;
}

static int
refused(enum ipset_kind k, int family, const char *s)
{
	struct ipset_member m;

	return ipset_member_parse(k, family, s, &m) < 0;
}

int
main(void)
{
	struct ipset_member m;
	char small[8];

	plan(27);

	is_str(round_trip(IPSET_K_HASH_IP, AF_INET, "10.96.0.1"), "10.96.0.1",
	    "hash:ip");
	is_str(round_trip(IPSET_K_HASH_IP, AF_INET6, "fd00:0:0::a"), "fd00::a",
	    "hash:ip, IPv6 in canonical (compressed) text");
	is_str(round_trip(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.10,udp:53"),
	    "10.96.0.10,udp:53", "hash:ip,port");
	is_str(round_trip(IPSET_K_HASH_IP_PORT, AF_INET6, "fd00::a,sctp:9000"),
	    "fd00::a,sctp:9000", "hash:ip,port, IPv6, sctp");
	is_str(round_trip(IPSET_K_HASH_IP_PORT_IP, AF_INET,
	    "10.244.1.5,tcp:53,10.244.1.5"), "10.244.1.5,tcp:53,10.244.1.5",
	    "hash:ip,port,ip");
	is_str(round_trip(IPSET_K_HASH_IP_PORT_NET, AF_INET,
	    "203.0.113.10,tcp:80,198.51.100.0/24"),
	    "203.0.113.10,tcp:80,198.51.100.0/24", "hash:ip,port,net");
	is_str(round_trip(IPSET_K_HASH_IP_PORT_NET, AF_INET,
	    "203.0.113.10,tcp:80,1.2.3.4"), "203.0.113.10,tcp:80,1.2.3.4/32",
	    "hash:ip,port,net: ipset's bare host net is /32");
	is_str(round_trip(IPSET_K_HASH_IP_PORT_NET, AF_INET6,
	    "fd00::1,tcp:80,fd00::2"), "fd00::1,tcp:80,fd00::2/128",
	    "... and /128 for IPv6");
	is_str(round_trip(IPSET_K_BITMAP_PORT, AF_INET, "30080"), "30080",
	    "bitmap:port");
	is_str(round_trip(IPSET_K_BITMAP_PORT, AF_INET, "65535"), "65535",
	    "bitmap:port upper bound");

	ok(ipset_member_parse(IPSET_K_HASH_IP_PORT, AF_INET,
	    "10.96.0.1,tcp:443", &m) == 0 && m.proto == IPPROTO_TCP &&
	    m.port == 443 && m.ip[0] == 10 && m.ip[3] == 1, "parsed fields");

	is_str(round_trip(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1,6:443"),
	    "10.96.0.1,tcp:443",
	    "numeric protocol (libipset without /etc/protocols)");
	ok(refused(IPSET_K_BITMAP_PORT, AF_INET, "65536"), "port 65536");
	ok(refused(IPSET_K_BITMAP_PORT, AF_INET, "-1"), "negative port");
	ok(refused(IPSET_K_BITMAP_PORT, AF_INET, "80x"), "trailing garbage");
	ok(refused(IPSET_K_HASH_IP, AF_INET, "fd00::a"), "family mismatch");
	ok(refused(IPSET_K_HASH_IP, AF_INET, "10.96.0.256"), "bad address");
	ok(refused(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1,icmp:0"),
	    "protocol outside tcp/udp/sctp");
	ok(refused(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1,tcp:"),
	    "missing port");
	ok(refused(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1:80"),
	    "missing protocol");
	ok(refused(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1,tcp:80,1.2.3.4"),
	    "extra field for hash:ip,port");
	ok(refused(IPSET_K_HASH_IP_PORT_IP, AF_INET, "10.96.0.1,tcp:80"),
	    "missing field for hash:ip,port,ip");
	ok(refused(IPSET_K_HASH_IP_PORT_IP, AF_INET,
	    "1.1.1.1,tcp:80,2.2.2.2/8"),
	    "a prefix where an address is expected");
	ok(refused(IPSET_K_HASH_IP_PORT_NET, AF_INET,
	    "1.1.1.1,tcp:80,1.0.0.0/33"),
	    "prefix longer than 32");
	ok(refused(IPSET_K_HASH_IP_PORT_NET, AF_INET,
	    "1.1.1.1,tcp:80,1.0.0.0/"),
	    "empty prefix");

	ipset_member_parse(IPSET_K_HASH_IP_PORT, AF_INET, "10.96.0.1,tcp:443",
	    &m);
	ok(ipset_member_format(IPSET_K_HASH_IP_PORT, &m, small,
	    sizeof(small)) < 0, "formatting into a short buffer fails");
	is_str(ipset_kind_typename(IPSET_K_HASH_IP_PORT_NET),
	    "hash:ip,port,net", "type names");
	return done();
}
