/*
 * The planner's model of the cluster: Services and EndpointSlices keyed by
 * namespace/name, the slices of each Service merged on demand per service
 * port, and the own Node's zone.
 *
 * The model keeps what the proxy needs and nothing else: names are
 * interned (one copy of "default", of a node name, of a port name, shared
 * by every record that uses it), endpoints are 40-byte entries, and no
 * JSON or record arrays are retained.  Records passed in are borrowed and
 * may be freed by the caller right after the call.
 *
 * Every change marks the Service it belongs to as dirty (an EndpointSlice
 * belongs to the Service named by its label, present or not).  The next
 * stage reads the dirty Services, recomputes only their service ports and
 * clears the set; a change of the node's zone marks everything.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_PLAN_MODEL_H
#define KIPVS_PLAN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/records.h"

struct plan_model;
struct plan_group;

struct plan_svc_port {
	const char	*name;		/* interned; "" when unnamed */
	uint8_t		 proto;		/* enum rec_proto */
	uint16_t	 port;
	uint16_t	 node_port;
};

struct plan_svc {
	const char	*ns;		/* interned */
	const char	*name;		/* interned */
	struct plan_group *group;	/* the slices of this Service */
	int64_t		 created;
	uint8_t		 type;		/* enum rec_svc_type */
	uint8_t		 affinity;	/* enum rec_affinity */
	uint8_t		 flags;		/* REC_SVC_* */
	uint8_t		 n_cluster_ips;
	uint32_t	 affinity_timeout;
	uint16_t	 hc_node_port;
	uint16_t	 n_ports;
	uint16_t	 n_external_ips;
	uint16_t	 n_lb_ingress;
	uint16_t	 n_source_ranges;
	struct rec_addr	 cluster_ips[REC_MAX_CLUSTER_IPS];
	struct plan_svc_port *ports;
	struct rec_addr	*external_ips;
	struct rec_lb_ingress *lb_ingress;
	struct rec_prefix *source_ranges;
};

/* One merged endpoint of a service port. */
struct plan_ep {
	struct rec_addr	 addr;
	uint8_t		 cond;		/* REC_EP_* */
	uint8_t		 local;		/* on the own node */
	uint16_t	 port;
	uint8_t		 n_zone_hints;
	uint8_t		 n_node_hints;
	const char *const *hints;	/* zone hints, then node hints */
};

/* A reusable buffer for plan_model_endpoints(). */
struct plan_ep_buf {
	struct plan_ep	*v;
	size_t		 n;
	size_t		 cap;
};

/* node_name is copied; "" means no endpoint is local. */
struct plan_model *plan_model_new(const char *node_name);
void	plan_model_free(struct plan_model *);

const char *plan_model_node_name(const struct plan_model *);
/* The own node's topology.kubernetes.io/zone ("" if unknown). */
const char *plan_model_zone(const struct plan_model *);

/*
 * Each returns 1 if the model changed (the Service is then dirty), 0 if
 * the record equals what is stored (nothing marked), -1 on allocation
 * failure (the model is unchanged).
 */
int	plan_model_svc_upsert(struct plan_model *,
	    const struct rec_service *);
int	plan_model_svc_delete(struct plan_model *, const char *ns,
	    const char *name);
int	plan_model_slice_upsert(struct plan_model *,
	    const struct rec_slice *);
int	plan_model_slice_delete(struct plan_model *, const char *ns,
	    const char *name);
/* Records of other nodes are ignored (0). */
int	plan_model_node_set(struct plan_model *, const struct rec_node *);
int	plan_model_node_delete(struct plan_model *, const char *name);

size_t	plan_model_nservices(const struct plan_model *);
size_t	plan_model_nslices(const struct plan_model *);
const struct plan_svc *plan_model_svc_get(const struct plan_model *,
	    const char *ns, const char *name);
void	plan_model_foreach_svc(const struct plan_model *,
	    void (*)(const struct plan_svc *, void *), void *);

/* Every slice's namespace and name (the model must not change meanwhile). */
void	plan_model_foreach_slice(const struct plan_model *,
	    void (*)(const char *ns, const char *name, void *), void *);

/*
 * The endpoints of one service port for one family: every slice of the
 * Service with that address type, the slice port with the same name and
 * protocol, deduplicated by IP:port (a non-terminating endpoint replaces a
 * terminating one, otherwise the first in slice-name order wins) and
 * sorted by IP then port.  Fills buf (growing it) and returns the count,
 * or -1 on allocation failure.
 */
int	plan_model_endpoints(const struct plan_model *,
	    const struct plan_svc *, const struct plan_svc_port *,
	    uint8_t family,
	    struct plan_ep_buf *buf);
void	plan_ep_buf_free(struct plan_ep_buf *);

/* Something every Service depends on changed (the node's addresses). */
void	plan_model_mark_all(struct plan_model *);

/* Dirty Services since the last plan_model_dirty_clear(). */
int	plan_model_all_dirty(const struct plan_model *);
size_t	plan_model_dirty_count(const struct plan_model *);
/* svc is NULL for a Service that is gone (or never existed). */
void	plan_model_dirty_foreach(const struct plan_model *,
	    void (*)(const char *ns, const char *name,
	    const struct plan_svc *svc, void *), void *);
void	plan_model_dirty_clear(struct plan_model *);

/* Bytes held by the model (interned strings, records, tables). */
size_t	plan_model_memory(const struct plan_model *);

#endif /* KIPVS_PLAN_MODEL_H */
