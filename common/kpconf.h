/*
 * kube-proxy's IPVS-relevant configuration, with kube-proxy's flag names
 * and defaults, plus kipvs's own settings.  The parent accepts these flags
 * on its command line and passes them unchanged to every daemon, which
 * parses them with kpconf_parse() and uses what concerns it; an unknown
 * flag or a bad value is an error naming the flag.
 *
 * Flags take "--name=value" or "--name value"; booleans take "--name",
 * "--name=true" or "--name=false".  Durations use Go's syntax ("30s",
 * "1m30s", "15m", "250ms").  Lists are comma-separated.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_KPCONF_H
#define KIPVS_KPCONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipc/records.h"

#define KP_MAX_CIDRS		16
#define KP_IFNAME_MAX		15
#define KP_SCHED_MAX		15
#define KP_PATH_MAX		1023
#define KP_HOSTPORT_MAX		63

/* Which IP families this node proxies (kube-proxy: one proxier each). */
#define KP_FAMILY_V4		0x01
#define KP_FAMILY_V6		0x02

enum kp_detect_local {
	KP_DETECT_CLUSTER_CIDR = 0,	/* kube-proxy's default */
	KP_DETECT_NODE_CIDR,
	KP_DETECT_BRIDGE_INTERFACE,
	KP_DETECT_INTERFACE_NAME_PREFIX,
};

struct kp_config {
	/* Identity and API access. */
	char		hostname[REC_NODENAME_MAX + 1];	/* lower-cased */
	char		kubeconfig[KP_PATH_MAX + 1];
	char		master[KP_PATH_MAX + 1];
	char		service_proxy_name[REC_LABEL_MAX + 1];
	uint32_t	config_sync_period_ms;	/* 15m */
	uint32_t	kube_api_qps;		/* 5 */
	uint32_t	kube_api_burst;		/* 10 */

	/* IPVS. */
	uint8_t		families;		/* KP_FAMILY_*, default both */
	char		scheduler[KP_SCHED_MAX + 1];	/* "rr" */
	uint32_t	sync_period_ms;		/* 30s */
	uint32_t	min_sync_period_ms;	/* 0 */
	int		strict_arp;
	uint32_t	tcp_timeout_s;		/* 0: leave the kernel's */
	uint32_t	tcpfin_timeout_s;
	uint32_t	udp_timeout_s;
	uint8_t		n_exclude_cidrs;
	struct rec_prefix exclude_cidrs[KP_MAX_CIDRS];

	/* iptables and local-traffic detection. */
	int		masquerade_all;
	uint8_t		masquerade_bit;		/* 14 */
	uint8_t		n_cluster_cidrs;	/* at most one per family */
	struct rec_prefix cluster_cidrs[2];
	uint8_t		detect_local;		/* enum kp_detect_local */
	char		pod_bridge_interface[KP_IFNAME_MAX + 1];
	char		pod_interface_name_prefix[KP_IFNAME_MAX + 1];

	/* NodePorts. */
	uint8_t		n_nodeport_cidrs;
	struct rec_prefix nodeport_cidrs[KP_MAX_CIDRS];
	int		nodeport_primary;	/* nodePortAddresses: primary */
	struct rec_addr	bind_address;		/* family 0 = unset */

	/* HTTP endpoints ("" disables, as in kube-proxy). */
	char		healthz_bind[KP_HOSTPORT_MAX + 1];  /* 0.0.0.0:10256 */
	char		metrics_bind[KP_HOSTPORT_MAX + 1];  /* 127.0.0.1:10249 */
	int		bind_address_hard_fail;

	/* Conntrack sysctls (applier, at start). */
	uint32_t	conntrack_max_per_core;	/* 32768 */
	uint32_t	conntrack_min;		/* 131072 */
	uint32_t	conntrack_tcp_established_s;	/* 86400 */
	uint32_t	conntrack_tcp_close_wait_s;	/* 3600 */
	int		conntrack_tcp_be_liberal;
	uint32_t	conntrack_udp_timeout_s;	/* 0: leave */
	uint32_t	conntrack_udp_stream_timeout_s;	/* 0: leave */
	int		oom_score_adj;		/* -999 */

	/* kipvs's own applier policy. */
	uint16_t	nodeport_range_lo;	/* 30000 */
	uint16_t	nodeport_range_hi;	/* 32767 */
};

/* Fills in kube-proxy's defaults. */
void	kpconf_defaults(struct kp_config *);

/*
 * Parses every argument of argv[0..argc) as a configuration flag.
 * Returns 0, or -1 with a message naming the flag in err.
 */
int	kpconf_parse(struct kp_config *, int argc, char *const argv[],
	    char *err, size_t errlen);

/* 1 if `name` (without leading dashes or "=value") is a kpconf flag. */
int	kpconf_is_flag(const char *name);
/* 1 if the flag `name` takes no separate value argument (a boolean). */
int	kpconf_is_bool(const char *name);

/* Prints one line per flag with its default, for --help. */
void	kpconf_usage(FILE *);

#endif /* KIPVS_KPCONF_H */
