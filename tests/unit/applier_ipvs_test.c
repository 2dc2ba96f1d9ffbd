/*
 * Unit tests for applierd/applier_ipvs's message building: every op kind
 * is built (for a made-up genl family id) and read back with the module's
 * own parsers and with raw attribute access, so the wire layout the kernel
 * sees is checked without a kernel.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/ip_vs.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "applierd/applier_ipvs.h"
#include "tests/tap.h"

#define FAMILY	0x1d

static struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];

/* Parses a built message; returns its genl command or -1. */
static int
parse(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);

	if (nlh->nlmsg_type != FAMILY || g->version != IPVS_GENL_VERSION)
		return -1;
	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, NULL) < 0)
		return -1;
	return g->cmd;
}

static void
svc_init(struct ipvs_svc *s, int family, const char *addr, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->protocol = IPPROTO_TCP;
	inet_pton(family, addr, s->addr.bytes);
	s->port = port;
	strcpy(s->sched, "rr");
	s->netmask = family == AF_INET6 ? 128 : 0xffffffffU;
}

int
main(void)
{
	struct ipvs_op op;
	struct ipvs_svc back, other;
	struct ipvs_dest dback;
	struct nlattr *stb[IPVS_SVC_ATTR_MAX + 1];
	struct nlattr *dtb[IPVS_DEST_ATTR_MAX + 1];
	struct ip_vs_flags fl;
	struct nl_msg *msg;
	char buf[128];

	plan(33);

	/* Add service, IPv4, persistent. */
	memset(&op, 0, sizeof(op));
	op.kind = IPVS_OP_SVC_ADD;
	svc_init(&op.svc, AF_INET, "10.96.100.20", 80);
	op.svc.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED;
	op.svc.timeout = 10800;
	msg = ipvs_msg_build(FAMILY, &op);
	ok(msg != NULL, "svc_add builds");
	is(parse(msg), IPVS_CMD_NEW_SERVICE, "svc_add is IPVS_CMD_NEW_SERVICE");
	ok(tb[IPVS_CMD_ATTR_SERVICE] && !tb[IPVS_CMD_ATTR_DEST],
	    "one service nest, no destination");
	nla_parse_nested(stb, IPVS_SVC_ATTR_MAX, tb[IPVS_CMD_ATTR_SERVICE],
	    NULL);
	is(nla_len(stb[IPVS_SVC_ATTR_ADDR]), 4, "IPv4 address is 4 bytes");
	is(nla_get_u16(stb[IPVS_SVC_ATTR_PORT]), htons(80),
	    "port in network order");
	memcpy(&fl, nla_data(stb[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
	ok(fl.flags == IP_VS_SVC_F_PERSISTENT && fl.mask == ~0U,
	    "flags: persistent without HASHED, full mask");
	is_str(nla_get_string(stb[IPVS_SVC_ATTR_SCHED_NAME]), "rr",
	    "scheduler name");
	is(nla_get_u32(stb[IPVS_SVC_ATTR_NETMASK]), 0xffffffffU, "netmask");
	ok(ipvs_svc_parse(tb[IPVS_CMD_ATTR_SERVICE], &back) == 0,
	    "the service parser reads it back");
	op.svc.flags &= ~IP_VS_SVC_F_HASHED;
	ok(ipvs_svc_equal(&back, &op.svc), "round trip is equal");
	nlmsg_free(msg);

	/* Equality ignores HASHED, not the rest. */
	other = back;
	other.flags |= IP_VS_SVC_F_HASHED;
	ok(ipvs_svc_equal(&back, &other), "HASHED is not a difference");
	other.timeout = 600;
	ok(!ipvs_svc_equal(&back, &other), "timeout is a difference");
	other = back;
	strcpy(other.sched, "wrr");
	ok(!ipvs_svc_equal(&back, &other), "scheduler is a difference");

	/* Delete service: identity only. */
	op.kind = IPVS_OP_SVC_DEL;
	msg = ipvs_msg_build(FAMILY, &op);
	is(parse(msg), IPVS_CMD_DEL_SERVICE, "svc_del is IPVS_CMD_DEL_SERVICE");
	nla_parse_nested(stb, IPVS_SVC_ATTR_MAX, tb[IPVS_CMD_ATTR_SERVICE],
	    NULL);
	ok(stb[IPVS_SVC_ATTR_AF] && stb[IPVS_SVC_ATTR_PROTOCOL] &&
	    stb[IPVS_SVC_ATTR_ADDR] && stb[IPVS_SVC_ATTR_PORT] &&
	    !stb[IPVS_SVC_ATTR_SCHED_NAME] && !stb[IPVS_SVC_ATTR_FLAGS],
	    "delete carries the identity only");
	nlmsg_free(msg);

	/* Edit service. */
	op.kind = IPVS_OP_SVC_EDIT;
	msg = ipvs_msg_build(FAMILY, &op);
	is(parse(msg), IPVS_CMD_SET_SERVICE,
	    "svc_edit is IPVS_CMD_SET_SERVICE");
	nlmsg_free(msg);

	/* Destination add, IPv6 service. */
	memset(&op, 0, sizeof(op));
	op.kind = IPVS_OP_DEST_ADD;
	svc_init(&op.svc, AF_INET6, "fd00::a", 53);
	op.svc.protocol = IPPROTO_UDP;
	op.dest.family = AF_INET6;
	inet_pton(AF_INET6, "fd00:10:244:1::5", op.dest.addr.bytes);
	op.dest.port = 5353;
	op.dest.weight = 1;
	msg = ipvs_msg_build(FAMILY, &op);
	is(parse(msg), IPVS_CMD_NEW_DEST, "dest_add is IPVS_CMD_NEW_DEST");
	ok(tb[IPVS_CMD_ATTR_SERVICE] && tb[IPVS_CMD_ATTR_DEST],
	    "service and destination nests");
	nla_parse_nested(stb, IPVS_SVC_ATTR_MAX, tb[IPVS_CMD_ATTR_SERVICE],
	    NULL);
	ok(!stb[IPVS_SVC_ATTR_SCHED_NAME], "the service is identity only");
	is(nla_len(stb[IPVS_SVC_ATTR_ADDR]), 16, "IPv6 address is 16 bytes");
	nla_parse_nested(dtb, IPVS_DEST_ATTR_MAX, tb[IPVS_CMD_ATTR_DEST],
	    NULL);
	is(nla_get_u32(dtb[IPVS_DEST_ATTR_FWD_METHOD]), IP_VS_CONN_F_MASQ,
	    "forwarding is masquerade");
	ok(dtb[IPVS_DEST_ATTR_U_THRESH] && dtb[IPVS_DEST_ATTR_L_THRESH] &&
	    nla_get_u32(dtb[IPVS_DEST_ATTR_U_THRESH]) == 0,
	    "thresholds present (the kernel requires them) and 0");
	is(nla_get_u16(dtb[IPVS_DEST_ATTR_ADDR_FAMILY]), AF_INET6,
	    "destination family");
	ok(ipvs_dest_parse(tb[IPVS_CMD_ATTR_DEST], AF_INET6, &dback) == 0 &&
	    dback.port == 5353 && dback.weight == 1 &&
	    memcmp(dback.addr.bytes, op.dest.addr.bytes, 16) == 0,
	    "the destination parser reads it back");
	op.dest.fwd = IP_VS_CONN_F_MASQ;
	ok(ipvs_dest_equal(&dback, &op.dest), "round trip is equal");
	dback.weight = 0;
	ok(!ipvs_dest_equal(&dback, &op.dest), "weight is a difference");
	nlmsg_free(msg);

	/* Destination delete and edit. */
	op.kind = IPVS_OP_DEST_DEL;
	msg = ipvs_msg_build(FAMILY, &op);
	is(parse(msg), IPVS_CMD_DEL_DEST, "dest_del is IPVS_CMD_DEL_DEST");
	nla_parse_nested(dtb, IPVS_DEST_ATTR_MAX, tb[IPVS_CMD_ATTR_DEST],
	    NULL);
	ok(!dtb[IPVS_DEST_ATTR_WEIGHT] && dtb[IPVS_DEST_ATTR_ADDR],
	    "delete carries the destination's identity only");
	nlmsg_free(msg);
	op.kind = IPVS_OP_DEST_EDIT;
	msg = ipvs_msg_build(FAMILY, &op);
	is(parse(msg), IPVS_CMD_SET_DEST, "dest_edit is IPVS_CMD_SET_DEST");
	nlmsg_free(msg);

	/* Names for logs and the audit trail. */
	is_str(ipvs_svc_str(&op.svc, buf, sizeof(buf)), "udp [fd00::a]:53",
	    "IPv6 service name");
	is_str(ipvs_dest_str(&op.svc, &op.dest, buf, sizeof(buf)),
	    "udp [fd00::a]:53 -> [fd00:10:244:1::5]:5353", "destination name");
	is_str(ipvs_op_name(IPVS_OP_DEST_DEL), "dest_del", "op name");

	op.kind = (enum ipvs_op_kind)99;
	ok(ipvs_msg_build(FAMILY, &op) == NULL, "an unknown op builds nothing");
	return done();
}
