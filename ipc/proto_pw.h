/*
 * planner -> watcher: sync status (for /healthz and /metrics) and the
 * number of ready local endpoints per Service (for health-check node
 * ports of externalTrafficPolicy: Local Services).
 *
 *	PW_STATUS	flags, times of the last full sync and last apply,
 *			counters; then the operation counters by kind
 *			(count, applied[count], failed[count]) and the
 *			planner's neutralisation counters (count,
 *			n[count]), each count exactly the one below
 *	PW_LOCAL_EPS	count, entries; FRAME_F_MORE on every part but the
 *			last.  The parts together are the complete table
 *			(level-triggered: it replaces the previous one).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_PROTO_PW_H
#define KIPVS_IPC_PROTO_PW_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"

struct ipc_chan;
struct frame_msg;

#define PW_STATUS		0x0201
#define PW_LOCAL_EPS		0x0202

#define PW_MAX_LOCAL_EPS	65536u

/* Status flags. */
#define PW_ST_SYNCED		0x01	/* the first full sync was applied */
#define PW_ST_APPLIER_UP	0x02
#define PW_ST_DEGRADED		0x04	/* the last sync had failed ops */
#define PW_ST_ALL		0x07

/* Kinds of applier operations, for kipvs's own counters. */
enum pw_opk {
	PW_OPK_VS = 0,		/* IPVS virtual service */
	PW_OPK_RS,		/* IPVS real server (add, delete, weight) */
	PW_OPK_ADDR,		/* address on kube-ipvs0 */
	PW_OPK_SET_MEMBER,	/* ipset member */
	PW_OPK_SET,		/* ipset (ensure, reload) */
	PW_OPK_CHAIN,		/* iptables chain (replace, drop VIP) */
	PW_OPK_LINK,		/* the kube-ipvs0 link */
	PW_OPK_OTHER,		/* IPVS timeouts, dump requests */
	PW_OPK_COUNT
};

/*
 * Why the planner left part of a Service out (the planner's enum
 * plan_neut, same order).
 */
enum pw_neut {
	PW_NEUT_VIP_DENIED = 0,
	PW_NEUT_VIP_NODE,
	PW_NEUT_NODEPORT_RANGE,
	PW_NEUT_ENDPOINT_DENIED,
	PW_NEUT_CONFLICT,
	PW_NEUT_COUNT
};

struct pw_status {
	uint8_t		flags;		/* PW_ST_* */
	int64_t		last_sync_ms;	/* CLOCK_REALTIME ms; 0 = never */
	int64_t		last_apply_ms;
	uint32_t	n_services;
	uint32_t	n_failed_ops;
	/* Since the planner started (counters, never decreasing). */
	uint64_t	ops_applied[PW_OPK_COUNT];
	uint64_t	ops_failed[PW_OPK_COUNT];
	uint64_t	neutralised[PW_NEUT_COUNT];
};

/* Metric label values: "ipvs_service", ...; "vip_denied", ... */
const char *pw_opk_name(enum pw_opk);
const char *pw_neut_name(enum pw_neut);

struct pw_local_eps {
	char		namespace[REC_NAMESPACE_MAX + 1];
	char		name[REC_NAME_MAX + 1];
	uint16_t	health_check_node_port;
	uint32_t	ready_local;
};

int	pw_type_valid(uint16_t type);

int	pw_send_status(struct ipc_chan *, const struct pw_status *);
/* Sends the complete table, split as needed. */
int	pw_send_local_eps(struct ipc_chan *, const struct pw_local_eps *,
	    size_t n);

int	pw_decode_status(const uint8_t *, size_t, struct pw_status *,
	    const char **reason);
/* Allocates *eps (caller frees). */
int	pw_decode_local_eps(const uint8_t *, size_t, struct pw_local_eps **,
	    size_t *n, const char **reason);

struct pw_rx {
	struct pw_local_eps *eps;	/* table being assembled */
	size_t		 n;
	int		 pending;
};

enum pw_event_type {
	PW_EV_STATUS = 1,
	PW_EV_LOCAL_EPS,	/* a complete table */
};

struct pw_event {
	int		 type;
	struct pw_status status;
	struct pw_local_eps *eps;	/* caller frees */
	size_t		 n;
};

void	pw_rx_init(struct pw_rx *);
void	pw_rx_reset(struct pw_rx *);
/* 1 with *ev, 0 for a part of a table, -1 with *reason. */
int	pw_rx_feed(struct pw_rx *, const struct frame_msg *,
	    struct pw_event *, const char **reason);

#endif /* KIPVS_IPC_PROTO_PW_H */
