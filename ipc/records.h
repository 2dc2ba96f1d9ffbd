/*
 * The typed object records that travel from kipvs-watcherd to
 * kipvs-planner: the parts of a Service, an EndpointSlice and the own Node
 * that the proxy needs, already validated and in binary form (addresses
 * parsed with strict inet_pton, enums instead of strings).  The watcher
 * builds them from JSON; `kipvs render` builds them from a file; the ipc
 * layer encodes and decodes them; the planner's model consumes them.
 *
 * Memory: fixed-size fields are inline; variable-length arrays are heap
 * pointers owned by the record and released by the matching *_free().
 * A record received from a decoder is owned by the caller.
 *
 * Limits (REC_MAX_*) are kipvs's own caps, at or above the apiserver's
 * validation limits where it has one.  An object over a cap is rejected
 * with its namespace/name by whoever builds the record, never truncated.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_IPC_RECORDS_H
#define KIPVS_IPC_RECORDS_H

#include <stdint.h>

#define REC_NAMESPACE_MAX	63	/* DNS-1123 label */
#define REC_NAME_MAX		253	/* DNS-1123 subdomain */
#define REC_PORTNAME_MAX	63	/* IANA_SVC_NAME is 15; slices allow 63 */
#define REC_LABEL_MAX		63	/* label value */
#define REC_NODENAME_MAX	253
#define REC_UID_MAX		36

#define REC_MAX_CLUSTER_IPS	2
#define REC_MAX_SVC_PORTS	256
#define REC_MAX_EXTERNAL_IPS	64
#define REC_MAX_LB_INGRESS	16
#define REC_MAX_SOURCE_RANGES	64
#define REC_MAX_SLICE_PORTS	100	/* apiserver limit */
#define REC_MAX_SLICE_ENDPOINTS	1000	/* apiserver limit */
#define REC_MAX_ZONE_HINTS	4
#define REC_MAX_NODE_HINTS	2
#define REC_MAX_NODE_PODCIDRS	2

enum rec_family {
	REC_FAMILY_NONE = 0,
	REC_FAMILY_IPV4 = 4,
	REC_FAMILY_IPV6 = 6,
};

enum rec_proto {
	REC_PROTO_TCP = 1,
	REC_PROTO_UDP = 2,
	REC_PROTO_SCTP = 3,
};

/* An IPv4 address uses the first 4 bytes of addr; the rest are zero. */
struct rec_addr {
	uint8_t		family;		/* enum rec_family */
	uint8_t		addr[16];	/* network byte order */
};

struct rec_prefix {
	struct rec_addr	addr;		/* host bits cleared */
	uint8_t		plen;		/* 0..32 or 0..128 */
};

enum rec_svc_type {
	REC_SVC_CLUSTERIP = 1,
	REC_SVC_NODEPORT = 2,
	REC_SVC_LOADBALANCER = 3,
	/* ExternalName and headless Services never become records. */
};

enum rec_affinity {
	REC_AFFINITY_NONE = 0,
	REC_AFFINITY_CLIENTIP = 1,
};

enum rec_lb_ipmode {
	REC_IPMODE_VIP = 0,		/* also when the field is absent */
	REC_IPMODE_PROXY = 1,
};

/* Flags on a Service record. */
#define REC_SVC_ETP_LOCAL	0x01	/* externalTrafficPolicy: Local */
#define REC_SVC_ITP_LOCAL	0x02	/* internalTrafficPolicy: Local */
#define REC_SVC_TOPOLOGY	0x04	/* topology annotation enables hints */

struct rec_svc_port {
	char		name[REC_PORTNAME_MAX + 1];	/* "" when unnamed */
	uint8_t		protocol;	/* enum rec_proto */
	uint16_t	port;		/* 1..65535 */
	uint16_t	node_port;	/* 0 = none */
};

struct rec_lb_ingress {
	struct rec_addr	ip;
	uint8_t		ipmode;		/* enum rec_lb_ipmode */
};

struct rec_service {
	char		namespace[REC_NAMESPACE_MAX + 1];
	char		name[REC_NAME_MAX + 1];
	char		uid[REC_UID_MAX + 1];
	/* metadata.creationTimestamp, seconds since the epoch (conflicts). */
	int64_t		created;
	uint8_t		type;		/* enum rec_svc_type */
	uint8_t		affinity;	/* enum rec_affinity */
	uint8_t		flags;		/* REC_SVC_* */
	uint32_t	affinity_timeout; /* seconds, 1..86400 when ClientIP */
	uint16_t	health_check_node_port;	/* 0 = none */

	uint8_t		n_cluster_ips;
	struct rec_addr	cluster_ips[REC_MAX_CLUSTER_IPS];

	uint16_t	n_ports;
	struct rec_svc_port *ports;
	uint16_t	n_external_ips;
	struct rec_addr	*external_ips;
	uint16_t	n_lb_ingress;
	struct rec_lb_ingress *lb_ingress;
	uint16_t	n_source_ranges;
	struct rec_prefix *source_ranges;
};

/* Endpoint condition flags. */
#define REC_EP_READY		0x01
#define REC_EP_SERVING		0x02
#define REC_EP_TERMINATING	0x04

struct rec_slice_port {
	char		name[REC_PORTNAME_MAX + 1];	/* "" when unnamed */
	uint8_t		protocol;	/* enum rec_proto */
	uint16_t	port;		/* 1..65535 */
};

struct rec_endpoint {
	struct rec_addr	addr;		/* addresses[0]; the rest unused */
	uint8_t		conditions;	/* REC_EP_* after nil defaults */
	char		node_name[REC_NODENAME_MAX + 1];	/* "" = unset */
	uint8_t		n_zone_hints;	/* hints.forZones[].name */
	char		zone_hints[REC_MAX_ZONE_HINTS][REC_LABEL_MAX + 1];
	uint8_t		n_node_hints;	/* hints.forNodes[].name [1.33+] */
	char		node_hints[REC_MAX_NODE_HINTS][REC_NODENAME_MAX + 1];
};

struct rec_slice {
	char		namespace[REC_NAMESPACE_MAX + 1];
	char		name[REC_NAME_MAX + 1];
	/* label kubernetes.io/service-name */
	char		service[REC_NAME_MAX + 1];
	uint8_t		family;		/* addressType; FQDN never a record */

	uint16_t	n_ports;
	struct rec_slice_port *ports;
	uint16_t	n_endpoints;
	struct rec_endpoint *endpoints;
};

struct rec_node {
	char		name[REC_NODENAME_MAX + 1];
	char		zone[REC_LABEL_MAX + 1];  /* topology.kubernetes.io/zone */
	uint8_t		n_pod_cidrs;
	struct rec_prefix pod_cidrs[REC_MAX_NODE_PODCIDRS];
	uint8_t		n_addresses;	/* InternalIP then ExternalIP */
	struct rec_addr	addresses[4];
};

/* Releases the arrays a record owns (not the record itself). */
void	rec_service_clear(struct rec_service *);
void	rec_slice_clear(struct rec_slice *);

#endif /* KIPVS_IPC_RECORDS_H */
