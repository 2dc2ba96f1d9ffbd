/*
 * Conversion of apiserver JSON objects (jansson trees) into the typed
 * records of ipc/records.h, with strict validation.
 *
 * Every converter returns one of three outcomes:
 *
 *	WATCH_JSON_OK		the record was filled in;
 *	WATCH_JSON_SKIP		the object is valid but is not a record
 *				kipvs proxies (ExternalName, headless,
 *				filtered by a label, FQDN slice): "why"
 *				says which;
 *	WATCH_JSON_INVALID	the object is malformed or over a cap: "why"
 *				names the object (namespace/name) and the
 *				reason; the caller logs it and skips it.
 *
 * On anything but WATCH_JSON_OK the record holds no allocations.  A filled
 * record owns its arrays; release them with rec_service_clear() /
 * rec_slice_clear() (ipc/records.c).
 *
 * Addresses are parsed with inet_pton only, after a lexical check that
 * refuses leading-zero octets, short IPv4 forms, zone indices, IPv4-mapped
 * IPv6 and a prefix in an address field.  Nothing here depends on libcurl
 * or libevent: the same code serves the watcher daemon and `kipvs render`.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_WATCH_JSON_H
#define KIPVS_WATCH_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "ipc/records.h"

#define WATCH_JSON_OK		0
#define WATCH_JSON_SKIP		1
#define WATCH_JSON_INVALID	(-1)

/* Room for a reason: the object name plus a short explanation. */
#define WATCH_JSON_WHY_MAX	512

/* The label kube-proxy and kipvs filter on (values compared exactly). */
#define WATCH_JSON_LABEL_HEADLESS	"service.kubernetes.io/headless"
#define WATCH_JSON_LABEL_PROXY_NAME \
	"service.kubernetes.io/service-proxy-name"
#define WATCH_JSON_LABEL_SERVICE_NAME	"kubernetes.io/service-name"
#define WATCH_JSON_LABEL_ZONE		"topology.kubernetes.io/zone"

/*
 * proxy_name is kipvs's own --service-proxy-name ("" or NULL: none); an
 * object labelled with another proxy name is skipped.
 */
int	watch_json_service(const json_t *obj, const char *proxy_name,
	    struct rec_service *out, char *why, size_t whylen);
int	watch_json_slice(const json_t *obj, const char *proxy_name,
	    struct rec_slice *out, char *why, size_t whylen);
int	watch_json_node(const json_t *obj, struct rec_node *out, char *why,
	    size_t whylen);

/*
 * Strict text parsers shared with the tests: 0 on success, -1 (and a
 * reason in why) otherwise.  family 0 accepts either family.
 */
int	watch_json_parse_ip(const char *s, int family, struct rec_addr *out,
	    char *why, size_t whylen);
int	watch_json_parse_cidr(const char *s, int family,
	    struct rec_prefix *out, char *why, size_t whylen);

#endif /* KIPVS_WATCH_JSON_H */
