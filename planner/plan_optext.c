/*
 * Text form of planner->applier ops (see plan_optext.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_desired.h"
#include "planner/plan_optext.h"
#include "planner/plan_render.h"

static const char *
ot_proto(uint8_t p)
{
	switch (p) {
	case REC_PROTO_TCP:
		return "TCP";
	case REC_PROTO_UDP:
		return "UDP";
	case REC_PROTO_SCTP:
		return "SCTP";
	}
	return "?";
}

/* "10.0.0.1:80" or "[fd00::1]:80", as ipvsadm prints them. */
static const char *
ot_hostport(const struct rec_addr *a, uint16_t port, char *buf, size_t len)
{
	char ab[ADDR_STRLEN];

	addr_fmt(a, ab, sizeof(ab));
	snprintf(buf, len, a->family == REC_FAMILY_IPV6 ? "[%s]:%u" :
	    "%s:%u", ab, port);
	return buf;
}

const char *
plan_vs_key_text(const struct pa_vs_key *k, char *buf, size_t len)
{
	char hp[ADDR_STRLEN + 8];

	snprintf(buf, len, "%s %s", ot_proto(k->protocol),
	    ot_hostport(&k->addr, k->port, hp, sizeof(hp)));
	return buf;
}

static const char *
ot_family(uint8_t f)
{
	return f == REC_FAMILY_IPV6 ? "ipv6" : "ipv4";
}

static const char *
ot_entry(const struct pa_set_entry *pe, char *buf, size_t len)
{
	struct plan_set_entry e;
	const char *name;
	char eb[256];

	if (pe->set < 1 || pe->set > PLAN_SET_COUNT) {
		snprintf(buf, len, "set#%u ?", pe->set);
		return buf;
	}
	memset(&e, 0, sizeof(e));
	e.ip = pe->addr;
	e.proto = pe->protocol;
	e.port = pe->port;
	e.ip2 = pe->net.addr;
	e.plen = pe->net.plen;
	name = plan_set_name((enum plan_set)(pe->set - 1), pe->family);
	snprintf(buf, len, "%s %s%s", name != NULL ? name : "?",
	    plan_render_set_entry(&e, plan_sets[pe->set - 1].type, eb,
	    sizeof(eb)), (pe->flags & PA_SETF_STAGED) ? " staged" : "");
	return buf;
}

const char *
plan_op_text(const struct pa_op *op, char *buf, size_t len)
{
	const char *kind = pa_op_name(op->kind);
	char a[128], b[ADDR_STRLEN + 8], c[ADDR_STRLEN];
	const struct pa_chain *ch;

	if (kind == NULL)
		kind = "?";
	switch (op->kind) {
	case PA_OP_VS_ENSURE:
		snprintf(buf, len, "%s %s sched=%s", kind,
		    plan_vs_key_text(&op->u.vs.key, a, sizeof(a)),
		    op->u.vs.sched);
		if (op->u.vs.flags & PA_VS_PERSISTENT) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " persistent=%u",
			    op->u.vs.timeout);
		}
		if (op->u.vs.flags & PA_VS_SCHED_PORT) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " mh-port");
		}
		break;
	case PA_OP_VS_DEL:
		snprintf(buf, len, "%s %s", kind,
		    plan_vs_key_text(&op->u.vs_key, a, sizeof(a)));
		break;
	case PA_OP_RS_ENSURE:
	case PA_OP_RS_DEL:
	case PA_OP_RS_WEIGHT:
		snprintf(buf, len, "%s %s %s", kind,
		    plan_vs_key_text(&op->u.rs.vs, a, sizeof(a)),
		    ot_hostport(&op->u.rs.addr, op->u.rs.port, b, sizeof(b)));
		if (op->kind != PA_OP_RS_DEL) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " weight=%u",
			    op->u.rs.weight);
		}
		break;
	case PA_OP_IPVS_TIMEOUTS:
		snprintf(buf, len, "%s tcp=%u tcpfin=%u udp=%u", kind,
		    op->u.timeouts.tcp, op->u.timeouts.tcp_fin,
		    op->u.timeouts.udp);
		break;
	case PA_OP_LINK_ENSURE:
		snprintf(buf, len, "%s kube-ipvs0", kind);
		break;
	case PA_OP_ADDR_ADD:
	case PA_OP_ADDR_DEL:
		snprintf(buf, len, "%s %s", kind,
		    addr_fmt(&op->u.addr, c, sizeof(c)));
		break;
	case PA_OP_SET_ENSURE:
	case PA_OP_SET_RELOAD_BEGIN:
	case PA_OP_SET_RELOAD_COMMIT: {
		const char *name = pa_set_name(op->u.set.set,
		    op->u.set.family);

		snprintf(buf, len, "%s %s", kind, name != NULL ? name : "?");
		break;
	}
	case PA_OP_SET_ADD:
	case PA_OP_SET_DEL:
		snprintf(buf, len, "%s %s", kind,
		    ot_entry(&op->u.entry, a, sizeof(a)));
		break;
	case PA_OP_CHAIN_REPLACE:
		ch = &op->u.chain;
		snprintf(buf, len, "%s %s %s %s sets=0x%05x masq-bit=%u%s%s",
		    kind, ot_family(ch->family), pa_chain_table(ch->chain) !=
		    NULL ? pa_chain_table(ch->chain) : "?",
		    pa_chain_name(ch->chain) != NULL ?
		    pa_chain_name(ch->chain) : "?", ch->sets_nonempty,
		    ch->masq_bit, (ch->flags & PA_CHF_MASQUERADE_ALL) ?
		    " masquerade-all" : "", (ch->flags & PA_CHF_RANDOM_FULLY) ?
		    " random-fully" : "");
		if (ch->local_mode == PA_LOCAL_CIDR) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " local=%s",
			    prefix_fmt(&ch->local_cidr, a, sizeof(a)));
		} else if (ch->local_mode != PA_LOCAL_NONE) {
			size_t n = strlen(buf);

			snprintf(buf + n, len - n, " local-if=%s%s",
			    ch->local_iface, ch->local_mode ==
			    PA_LOCAL_IFPREFIX ? "+" : "");
		}
		break;
	case PA_OP_CHAIN_DROP_VIP:
		snprintf(buf, len, "%s %s %s", kind,
		    ot_family(op->u.drop_vip.family),
		    plan_vs_key_text(&op->u.drop_vip.vip, a, sizeof(a)));
		break;
	case PA_OP_DUMP_REQUEST:
		snprintf(buf, len, "%s 0x%x", kind, op->u.dump_what);
		break;
	default:
		snprintf(buf, len, "op#%u", op->kind);
		break;
	}
	return buf;
}
