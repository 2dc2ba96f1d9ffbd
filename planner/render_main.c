/*
 * kipvs-render: what kipvs would program on a node, computed offline and
 * without privilege from a file of API objects (`kubectl get
 * svc,endpointslices,nodes -A -o json`) or from one list of each kind
 * from a live cluster (--kubeconfig).  `kipvs render ...` execs this.
 *
 * It uses the same converters as the watcher (watcherd/watch_json.c), the
 * watcher's client for --kubeconfig (watch_kubeconfig, watch_http and
 * watch_api in its list_once mode: no watch, no retry) and the same model
 * and rules as the planner; docs/render.md is the manual.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "common/log.h"
#include "common/addr.h"
#include "planner/plan_desired.h"
#include "planner/plan_ipvsfile.h"
#include "planner/plan_model.h"
#include "planner/plan_render.h"
#include "watcherd/watch_api.h"
#include "watcherd/watch_http.h"
#include "watcherd/watch_json.h"
#include "watcherd/watch_kubeconfig.h"

#define RENDER_MAX_FILE		(256u * 1024 * 1024)
#define RENDER_MAX_LIST		64

enum render_out {
	RENDER_OUT_IPVS = 0x01,
	RENDER_OUT_IPSET = 0x02,
	RENDER_OUT_IPTABLES = 0x04,
	RENDER_OUT_ADDRESSES = 0x08,
	RENDER_OUT_ALL = 0x0f,
};

struct render_opts {
	const char	*objects;
	const char	*kubeconfig;
	const char	*current_ipvs;
	const char	*proxy_name;
	int		 outputs;
	int		 verbose;
	struct plan_config cfg;
	struct rec_addr	 node_ips[RENDER_MAX_LIST];
	struct rec_prefix cluster_cidrs[2];
	struct rec_prefix nodeport_cidrs[RENDER_MAX_LIST];
	struct rec_prefix exclude_cidrs[RENDER_MAX_LIST];
	int		 nodeport_primary;
};

enum {
	OPT_OBJECTS = 256,
	OPT_KUBECONFIG,
	OPT_HOSTNAME,
	OPT_NODE_IP,
	OPT_IP_FAMILY,
	OPT_CLUSTER_CIDR,
	OPT_MASQ_ALL,
	OPT_SCHEDULER,
	OPT_NODEPORT_ADDRS,
	OPT_EXCLUDE_CIDRS,
	OPT_STRICT_ARP,
	OPT_MASQ_BIT,
	OPT_RANDOM_FULLY,
	OPT_CURRENT_IPVS,
	OPT_OUTPUT,
	OPT_PROXY_NAME,
	OPT_HELP,
	OPT_VERSION,
	OPT_VERBOSE,
};

static const struct option render_longopts[] = {
	{ "objects", required_argument, NULL, OPT_OBJECTS },
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "hostname-override", required_argument, NULL, OPT_HOSTNAME },
	{ "node-ip", required_argument, NULL, OPT_NODE_IP },
	{ "ip-family", required_argument, NULL, OPT_IP_FAMILY },
	{ "cluster-cidr", required_argument, NULL, OPT_CLUSTER_CIDR },
	{ "masquerade-all", no_argument, NULL, OPT_MASQ_ALL },
	{ "ipvs-scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "nodeport-addresses", required_argument, NULL, OPT_NODEPORT_ADDRS },
	{ "ipvs-exclude-cidrs", required_argument, NULL, OPT_EXCLUDE_CIDRS },
	{ "ipvs-strict-arp", no_argument, NULL, OPT_STRICT_ARP },
	{ "iptables-masquerade-bit", required_argument, NULL, OPT_MASQ_BIT },
	{ "iptables-random-fully", required_argument, NULL,
	    OPT_RANDOM_FULLY },
	{ "current-ipvs", required_argument, NULL, OPT_CURRENT_IPVS },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "service-proxy-name", required_argument, NULL, OPT_PROXY_NAME },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void
render_usage(FILE *f)
{
	fputs(
"usage: kipvs render --objects FILE|- [options]\n"
"       kipvs render --kubeconfig FILE [options]\n"
"\n"
"Print, without any privilege and without touching the kernel, what kipvs\n"
"(kube-proxy --proxy-mode=ipvs semantics) would program on one node.\n"
"\n"
"  --objects FILE|-            API objects: `kubectl get svc,endpointslices,\n"
"                              nodes -A -o json` output (a v1 List; a\n"
"                              ServiceList, EndpointSliceList or NodeList,\n"
"                              or one object, works too); - is stdin\n"
"  --kubeconfig FILE           instead of --objects: list Services,\n"
"                              EndpointSlices and this node's Node once\n"
"                              from the cluster of the current context\n"
"                              (HTTPS, verified; token or client\n"
"                              certificate), with the watcher's selectors\n"
"  --hostname-override NAME    this node's name (default: the host name,\n"
"                              lower-cased); endpoints on it are local\n"
"  --node-ip IP[,IP...]        an address on the node's interfaces other\n"
"                              than kube-ipvs0; repeatable.  NodePort\n"
"                              virtual servers go on these; externalIPs and\n"
"                              LB IPs among them are not bound\n"
"  --ip-family ipv4|ipv6|dual  proxiers to run (default dual, as kube-proxy\n"
"                              on a host with both iptables and ip6tables)\n"
"  --cluster-cidr CIDR[,CIDR]  pod CIDR(s), at most one per family: enables\n"
"                              the ClusterCIDR local-traffic detector\n"
"  --masquerade-all            SNAT all traffic to ClusterIPs\n"
"  --ipvs-scheduler NAME       IPVS scheduler (default rr; mh adds mh-port)\n"
"  --nodeport-addresses CIDR,...|primary\n"
"                              restrict NodePorts to node IPs in these\n"
"                              CIDRs (default: all non-loopback addresses)\n"
"  --ipvs-exclude-cidrs CIDR,...\n"
"                              pre-existing virtual servers inside these are\n"
"                              never deleted\n"
"  --ipvs-strict-arp           set arp_ignore/arp_announce (a sysctl: no\n"
"                              effect on the printed state)\n"
"  --iptables-masquerade-bit N fwmark bit for SNAT, 0..31 (default 14)\n"
"  --iptables-random-fully true|false\n"
"                              MASQUERADE --random-fully (default true)\n"
"  --service-proxy-name NAME   kipvs's own name: objects labelled\n"
"                              service.kubernetes.io/service-proxy-name with\n"
"                              another value are skipped (default: all\n"
"                              labelled objects are skipped)\n"
"  --current-ipvs FILE         the node's IPVS table before the sync, in\n"
"                              `ipvsadm -Sn` form (default: empty); the\n"
"                              output is the table after one sync\n"
"  --output ipvs|ipset|iptables|addresses|all\n"
"                              what to print (default all; may repeat)\n"
"  --verbose                   also report objects that are not proxied\n"
"  --help                      this text\n"
"  --version                   the version\n"
"\n"
"Malformed objects are skipped one by one with a message on stderr naming\n"
"them; everything else renders.  Exit status: 0 on success (also when\n"
"objects were skipped), 1 on an input or output error (also a failed\n"
"request to the cluster), 2 on a usage error.\n",
	    f);
}

static int	render_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static int
render_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kipvs render: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'kipvs render --help'.\n");
	return 2;
}

/* Splits a comma list and calls fn on each non-empty item. */
static int
render_each(const char *list, int (*fn)(struct render_opts *, const char *),
    struct render_opts *o)
{
	char buf[4096], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (fn(o, tok) == -1)
			return -1;
	}
	return 0;
}

static int
render_add_node_ip(struct render_opts *o, const char *s)
{
	char why[128];

	if (o->cfg.n_node_ips >= RENDER_MAX_LIST) {
		fprintf(stderr, "kipvs render: too many --node-ip values\n");
		return -1;
	}
	if (addr_parse(s, 0, &o->node_ips[o->cfg.n_node_ips], why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "kipvs render: --node-ip %s: %s\n", s, why);
		return -1;
	}
	o->cfg.n_node_ips++;
	return 0;
}

static int
render_add_cluster_cidr(struct render_opts *o, const char *s)
{
	struct rec_prefix p;
	char why[128];
	size_t i;

	if (prefix_parse(s, 0, &p, why, sizeof(why)) == -1) {
		fprintf(stderr, "kipvs render: --cluster-cidr %s: %s\n", s,
		    why);
		return -1;
	}
	for (i = 0; i < o->cfg.n_cluster_cidrs; i++)
		if (o->cluster_cidrs[i].addr.family == p.addr.family) {
			fprintf(stderr, "kipvs render: --cluster-cidr: at most "
			    "one CIDR per IP family\n");
			return -1;
		}
	o->cluster_cidrs[o->cfg.n_cluster_cidrs++] = p;
	return 0;
}

static int
render_add_nodeport(struct render_opts *o, const char *s)
{
	char why[128];

	if (strcmp(s, "primary") == 0) {
		o->nodeport_primary = 1;
		return 0;
	}
	if (o->cfg.n_nodeport_cidrs >= RENDER_MAX_LIST ||
	    prefix_parse(s, 0, &o->nodeport_cidrs[
	    o->cfg.n_nodeport_cidrs], why, sizeof(why)) == -1) {
		fprintf(stderr, "kipvs render: --nodeport-addresses %s: %s\n",
		    s, o->cfg.n_nodeport_cidrs >= RENDER_MAX_LIST ?
		    "too many" : why);
		return -1;
	}
	o->cfg.n_nodeport_cidrs++;
	return 0;
}

static int
render_add_exclude(struct render_opts *o, const char *s)
{
	char why[128];

	if (o->cfg.n_exclude_cidrs >= RENDER_MAX_LIST ||
	    prefix_parse(s, 0, &o->exclude_cidrs[o->cfg.n_exclude_cidrs],
	    why, sizeof(why)) == -1) {
		fprintf(stderr, "kipvs render: --ipvs-exclude-cidrs %s: %s\n",
		    s, o->cfg.n_exclude_cidrs >= RENDER_MAX_LIST ?
		    "too many" : why);
		return -1;
	}
	o->cfg.n_exclude_cidrs++;
	return 0;
}

/*
 * "primary": kube-proxy rewrites it to the node's primary address of each
 * family as a host prefix; here that is the first --node-ip of a family.
 */
static int
render_nodeport_primary(struct render_opts *o)
{
	int fam[2] = { REC_FAMILY_IPV4, REC_FAMILY_IPV6 }, k;
	size_t i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < o->cfg.n_node_ips; i++) {
			struct rec_prefix *p;

			if (o->node_ips[i].family != fam[k])
				continue;
			if (o->cfg.n_nodeport_cidrs >= RENDER_MAX_LIST)
				return -1;
			p = &o->nodeport_cidrs[o->cfg.n_nodeport_cidrs++];
			p->addr = o->node_ips[i];
			p->plen = fam[k] == REC_FAMILY_IPV4 ? 32 : 128;
			break;
		}
	return 0;
}

static int
render_name(struct render_opts *o, const char *s)
{
	size_t len, i;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(o->cfg.node_name))
		return -1;
	for (i = 0; i < len; i++) {
		char ch = (char)tolower((unsigned char)s[i]);

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.'))
			return -1;
		o->cfg.node_name[i] = ch;
	}
	o->cfg.node_name[len] = '\0';
	return 0;
}

static int
render_output(struct render_opts *o, const char *s)
{
	if (strcmp(s, "ipvs") == 0)
		o->outputs |= RENDER_OUT_IPVS;
	else if (strcmp(s, "ipset") == 0)
		o->outputs |= RENDER_OUT_IPSET;
	else if (strcmp(s, "iptables") == 0)
		o->outputs |= RENDER_OUT_IPTABLES;
	else if (strcmp(s, "addresses") == 0)
		o->outputs |= RENDER_OUT_ADDRESSES;
	else if (strcmp(s, "all") == 0)
		o->outputs |= RENDER_OUT_ALL;
	else
		return -1;
	return 0;
}

static int
render_sched_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= PLAN_SCHED_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int
render_parse_args(int argc, char *argv[], struct render_opts *o)
{
	char host[256], *end;
	long v;
	int ch;

	memset(o, 0, sizeof(*o));
	plan_config_init(&o->cfg);
	o->cfg.ipv4 = o->cfg.ipv6 = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hv", render_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_OBJECTS:
			o->objects = optarg;
			break;
		case OPT_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case OPT_HOSTNAME:
			if (render_name(o, optarg) == -1)
				return render_usage_error("--hostname-override "
				    "'%s': not a valid node name", optarg);
			break;
		case OPT_NODE_IP:
			if (render_each(optarg, render_add_node_ip, o) == -1)
				return 2;
			break;
		case OPT_IP_FAMILY:
			if (strcmp(optarg, "ipv4") == 0) {
				o->cfg.ipv4 = 1;
				o->cfg.ipv6 = 0;
			} else if (strcmp(optarg, "ipv6") == 0) {
				o->cfg.ipv4 = 0;
				o->cfg.ipv6 = 1;
			} else if (strcmp(optarg, "dual") == 0)
				o->cfg.ipv4 = o->cfg.ipv6 = 1;
			else
				return render_usage_error("--ip-family '%s': "
				    "expected ipv4, ipv6 or dual", optarg);
			break;
		case OPT_CLUSTER_CIDR:
			if (render_each(optarg, render_add_cluster_cidr, o) ==
			    -1)
				return 2;
			break;
		case OPT_MASQ_ALL:
			o->cfg.masquerade_all = 1;
			break;
		case OPT_SCHEDULER:
			if (!render_sched_ok(optarg))
				return render_usage_error("--ipvs-scheduler "
				    "'%s': not a scheduler name", optarg);
			memset(o->cfg.scheduler, 0, sizeof(o->cfg.scheduler));
			memcpy(o->cfg.scheduler, optarg, strlen(optarg));
			break;
		case OPT_NODEPORT_ADDRS:
			if (render_each(optarg, render_add_nodeport, o) == -1)
				return 2;
			break;
		case OPT_EXCLUDE_CIDRS:
			if (render_each(optarg, render_add_exclude, o) == -1)
				return 2;
			break;
		case OPT_STRICT_ARP:
			o->cfg.strict_arp = 1;
			break;
		case OPT_MASQ_BIT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    v < 0 || v > 31)
				return render_usage_error(
				    "--iptables-masquerade-bit '%s': expected "
				    "0..31", optarg);
			o->cfg.masquerade_bit = (unsigned int)v;
			break;
		case OPT_RANDOM_FULLY:
			if (strcmp(optarg, "true") == 0)
				o->cfg.random_fully = 1;
			else if (strcmp(optarg, "false") == 0)
				o->cfg.random_fully = 0;
			else
				return render_usage_error(
				    "--iptables-random-fully '%s': expected "
				    "true or false", optarg);
			break;
		case OPT_CURRENT_IPVS:
			o->current_ipvs = optarg;
			break;
		case OPT_OUTPUT:
			if (render_output(o, optarg) == -1)
				return render_usage_error("--output '%s': "
				    "expected ipvs, ipset, iptables, "
				    "addresses or all", optarg);
			break;
		case OPT_PROXY_NAME:
			o->proxy_name = optarg;
			break;
		case 'v':
		case OPT_VERBOSE:
			o->verbose = 1;
			break;
		case 'h':
		case OPT_HELP:
			render_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("kipvs-render %s\n", KIPVS_VERSION);
			return 0;
		case ':':
			return render_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return render_usage_error("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return render_usage_error("unexpected argument '%s'",
		    argv[optind]);
	if (o->objects != NULL && o->kubeconfig != NULL)
		return render_usage_error("%s", "--objects and --kubeconfig "
		    "are mutually exclusive: render from a file or from a "
		    "cluster");
	if (o->objects == NULL && o->kubeconfig == NULL)
		return render_usage_error("%s", "--objects FILE|- or "
		    "--kubeconfig FILE is required");
	if (o->cfg.node_name[0] == '\0') {
		if (gethostname(host, sizeof(host)) == -1)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		if (render_name(o, host) == -1)
			return render_usage_error("%s", "cannot use the host "
			    "name as node name; give --hostname-override");
	}
	o->cfg.node_ips = o->node_ips;
	if (o->nodeport_primary && render_nodeport_primary(o) == -1)
		return render_usage_error("%s", "--nodeport-addresses: too "
		    "many");
	o->cfg.cluster_cidrs = o->cluster_cidrs;
	o->cfg.nodeport_cidrs = o->nodeport_cidrs;
	o->cfg.exclude_cidrs = o->exclude_cidrs;
	if (o->outputs == 0)
		o->outputs = RENDER_OUT_ALL;
	return -1;
}

/* Reads a whole file (or stdin) into a NUL-terminated buffer. */
static char *
render_slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= RENDER_MAX_FILE) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				errno = EIO;
				goto fail;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	n = (size_t)errno;
	if (f != stdin)
		fclose(f);
	free(buf);
	errno = (int)n;
	return NULL;
}

struct render_counts {
	size_t		 services;
	size_t		 slices;
	size_t		 skipped;
	size_t		 invalid;
};

/*
 * Converts one object and adds it to the model.  list and idx say where it
 * came from ("items" of --objects, or the name of a list from the cluster)
 * for the message that skips it.
 */
static void
render_item(const json_t *item, const char *list, size_t idx,
    const char *kind, struct render_opts *o, struct plan_model *m,
    struct render_counts *cnt)
{
	char why[WATCH_JSON_WHY_MAX];
	struct rec_service svc;
	struct rec_slice sl;
	struct rec_node nd;
	int r;

	if (strcmp(kind, "Service") == 0) {
		r = watch_json_service(item, o->proxy_name, &svc, why,
		    sizeof(why));
		if (r == WATCH_JSON_OK) {
			if (plan_model_svc_upsert(m, &svc) == -1)
				fatalx("out of memory");
			rec_service_clear(&svc);
			cnt->services++;
		}
	} else if (strcmp(kind, "EndpointSlice") == 0) {
		r = watch_json_slice(item, o->proxy_name, &sl, why,
		    sizeof(why));
		if (r == WATCH_JSON_OK) {
			if (plan_model_slice_upsert(m, &sl) == -1)
				fatalx("out of memory");
			rec_slice_clear(&sl);
			cnt->slices++;
		}
	} else if (strcmp(kind, "Node") == 0) {
		r = watch_json_node(item, &nd, why, sizeof(why));
		if (r == WATCH_JSON_OK)
			(void)plan_model_node_set(m, &nd);
	} else {
		if (o->verbose)
			log_info("ignoring an object of kind %.40s", kind);
		return;
	}
	if (r == WATCH_JSON_INVALID) {
		log_warnx("skipping %s[%zu]: %s", list, idx, why);
		cnt->invalid++;
	} else if (r == WATCH_JSON_SKIP) {
		if (o->verbose)
			log_info("not proxied: %s", why);
		cnt->skipped++;
	}
}

static int
render_load(struct render_opts *o, struct plan_model *m,
    struct render_counts *cnt)
{
	json_error_t err;
	json_t *root, *items, *item, *k;
	const char *listkind = NULL, *kind;
	char *text, itemkind[64];
	size_t len, i;

	text = render_slurp(o->objects, &len);
	if (text == NULL) {
		log_warn("cannot read --objects %s", o->objects);
		return -1;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	free(text);
	if (root == NULL) {
		log_warnx("--objects %s: line %d: %s", o->objects, err.line,
		    err.text);
		return -1;
	}
	if (!json_is_object(root)) {
		log_warnx("--objects %s: not a JSON object", o->objects);
		json_decref(root);
		return -1;
	}
	k = json_object_get(root, "kind");
	if (json_is_string(k))
		listkind = json_string_value(k);
	items = json_object_get(root, "items");
	if (items == NULL) {
		/* One bare object. */
		if (listkind == NULL) {
			log_warnx("--objects %s: no kind and no items",
			    o->objects);
			json_decref(root);
			return -1;
		}
		render_item(root, "items", 0, listkind, o, m, cnt);
	} else if (!json_is_array(items)) {
		log_warnx("--objects %s: items is not an array", o->objects);
		json_decref(root);
		return -1;
	} else {
		/* A typed list (ServiceList...) has items without a kind. */
		itemkind[0] = '\0';
		if (listkind != NULL && strlen(listkind) > 4 &&
		    strlen(listkind) < sizeof(itemkind) &&
		    strcmp(listkind + strlen(listkind) - 4, "List") == 0) {
			memcpy(itemkind, listkind, strlen(listkind) - 4);
			itemkind[strlen(listkind) - 4] = '\0';
		}
		json_array_foreach(items, i, item) {
			k = json_object_get(item, "kind");
			kind = json_is_string(k) ? json_string_value(k) :
			    itemkind;
			if (kind[0] == '\0') {
				log_warnx("skipping items[%zu]: no kind", i);
				cnt->invalid++;
				continue;
			}
			render_item(item, "items", i, kind, o, m, cnt);
		}
	}
	json_decref(root);
	return 0;
}

/* --kubeconfig: the watcher's sink, fed by one list of each kind. */
struct render_fetch {
	struct render_opts	*o;
	struct plan_model	*m;
	struct render_counts	*cnt;
	size_t			 idx[WATCH_RES_COUNT];
};

static void
render_fetch_begin(void *arg, enum watch_res res)
{
	struct render_fetch *f = arg;

	f->idx[res] = 0;
}

static void
render_fetch_item(void *arg, enum watch_res res, json_t *obj)
{
	static const char *const kinds[WATCH_RES_COUNT] = {
		[WATCH_RES_SERVICE] = "Service",
		[WATCH_RES_SLICE] = "EndpointSlice",
		[WATCH_RES_NODE] = "Node",
	};
	struct render_fetch *f = arg;

	/* List items carry no kind: the list says what they are. */
	render_item(obj, watch_res_name(res), f->idx[res]++, kinds[res],
	    f->o, f->m, f->cnt);
}

static void
render_fetch_end(void *arg, enum watch_res res, const char *rv)
{
	(void)arg;
	(void)res;
	(void)rv;
}

/* list_once starts no watch, so these are never called. */
static void
render_fetch_event(void *arg, enum watch_res res, enum watch_ev ev,
    json_t *obj)
{
	(void)arg;
	(void)res;
	(void)ev;
	(void)obj;
}

static void
render_fetch_bookmark(void *arg, enum watch_res res, const char *rv)
{
	(void)arg;
	(void)res;
	(void)rv;
}

/*
 * Lists Services, EndpointSlices and the own Node once from the cluster
 * of the kubeconfig, with the watcher's selectors, connection rules and
 * HTTP client, and converts each item as --objects does.
 */
static int
render_fetch(struct render_opts *o, struct plan_model *m,
    struct render_counts *cnt)
{
	struct render_fetch f;
	struct watch_api_opts ao;
	struct watch_sink sink;
	struct watch_conn *conn;
	struct event_base *base = NULL;
	struct watch_http *http = NULL;
	struct watch_api *api = NULL;
	void (*oldpipe)(int);
	char err[512];
	int rc = -1;

	if ((conn = watch_conn_new()) == NULL)
		fatalx("out of memory");
	if (watch_kubeconfig_load(conn, o->kubeconfig, NULL, err,
	    sizeof(err)) == -1) {
		log_warnx("--kubeconfig %s: %s", o->kubeconfig, err);
		watch_conn_free(conn);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init");
	/* A peer that closes the TLS connection must not kill us. */
	oldpipe = signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((http = watch_http_new(base, conn, err, sizeof(err))) == NULL) {
		log_warnx("--kubeconfig %s: %s", o->kubeconfig, err);
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.o = o;
	f.m = m;
	f.cnt = cnt;
	memset(&ao, 0, sizeof(ao));
	ao.backoff_jitter_pct = UINT32_MAX;
	ao.node_name = o->cfg.node_name;
	ao.proxy_name = o->proxy_name;
	ao.list_once = 1;
	sink.begin = render_fetch_begin;
	sink.item = render_fetch_item;
	sink.end = render_fetch_end;
	sink.event = render_fetch_event;
	sink.bookmark = render_fetch_bookmark;
	sink.arg = &f;
	if ((api = watch_api_new(base, http, &ao, &sink)) == NULL)
		fatalx("out of memory");
	if (watch_api_start(api) == -1 ||
	    event_base_dispatch(base) == -1) {
		log_warnx("cannot run the event loop");
		goto out;
	}
	if (!watch_api_synced(api)) {
		log_warnx("cannot list the objects from %s (--kubeconfig %s, "
		    "context %s)", conn->server, o->kubeconfig,
		    conn->context != NULL ? conn->context : "-");
		goto out;
	}
	rc = 0;
out:
	watch_api_free(api);
	watch_http_free(http);
	event_base_free(base);
	watch_conn_free(conn);
	curl_global_cleanup();
	signal(SIGPIPE, oldpipe);
	return rc;
}

static int
render_current(struct render_opts *o, struct plan_ipvs_table *cur)
{
	char why[128], *text;
	size_t len;

	memset(cur, 0, sizeof(*cur));
	if (o->current_ipvs == NULL)
		return 0;
	text = render_slurp(o->current_ipvs, &len);
	if (text == NULL) {
		log_warn("cannot read --current-ipvs %s", o->current_ipvs);
		return -1;
	}
	if (plan_ipvsfile_parse(text, len, cur, why, sizeof(why)) == -1) {
		log_warnx("--current-ipvs %s: %s", o->current_ipvs, why);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

static int
render_print(const struct render_opts *o, const struct plan_desired *d[],
    size_t nd, const struct plan_ipvs_table *after)
{
	int all = o->outputs == RENDER_OUT_ALL, hdr = all ||
	    (o->outputs & (o->outputs - 1)) != 0;
	size_t i;

	if (o->outputs & RENDER_OUT_IPVS) {
		if (hdr)
			printf("# ipvs\n");
		if (plan_render_ipvs(stdout, after) == -1)
			return -1;
	}
	if (o->outputs & RENDER_OUT_IPSET) {
		if (hdr)
			printf("# ipset\n");
		for (i = 0; i < nd; i++)
			if (plan_render_ipset(stdout, d[i]) == -1)
				return -1;
	}
	if (o->outputs & RENDER_OUT_IPTABLES) {
		if (hdr)
			printf("# iptables\n");
		for (i = 0; i < nd; i++) {
			if (nd > 1)
				printf("# %s\n", d[i]->family ==
				    REC_FAMILY_IPV4 ? "iptables-save" :
				    "ip6tables-save");
			if (plan_render_iptables(stdout, d[i], &o->cfg) == -1)
				return -1;
		}
	}
	if (o->outputs & RENDER_OUT_ADDRESSES) {
		if (hdr)
			printf("# addresses\n");
		for (i = 0; i < nd; i++)
			if (plan_render_addresses(stdout, d[i]) == -1)
				return -1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("writing the output");
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct render_opts o;
	struct plan_model *m = NULL;
	struct plan_desired d4, d6;
	const struct plan_desired *ds[2];
	struct plan_ipvs_table cur, after;
	struct render_counts cnt = { 0, 0, 0, 0 };
	size_t nd = 0;
	int rc, status = 1;

	log_init("kipvs-render", LOG_LEVEL_INFO, 0);
	rc = render_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	plan_desired_init(&d4, REC_FAMILY_IPV4);
	plan_desired_init(&d6, REC_FAMILY_IPV6);
	memset(&cur, 0, sizeof(cur));
	memset(&after, 0, sizeof(after));
	m = plan_model_new(o.cfg.node_name);
	if (m == NULL)
		fatalx("out of memory");
	if (o.kubeconfig != NULL ? render_fetch(&o, m, &cnt) == -1 :
	    render_load(&o, m, &cnt) == -1)
		goto out;
	if (o.verbose)
		log_info("%zu services, %zu endpoint slices; %zu not proxied, "
		    "%zu malformed", cnt.services, cnt.slices, cnt.skipped,
		    cnt.invalid);
	if (render_current(&o, &cur) == -1)
		goto out;
	if (o.cfg.ipv4) {
		if (plan_desired_build(&d4, &o.cfg, m) == -1)
			fatalx("out of memory");
		ds[nd++] = &d4;
	}
	if (o.cfg.ipv6) {
		if (plan_desired_build(&d6, &o.cfg, m) == -1)
			fatalx("out of memory");
		ds[nd++] = &d6;
	}
	if (plan_ipvs_after_sync(ds, nd, &cur, &o.cfg, &after) == -1)
		fatalx("out of memory");
	if (render_print(&o, ds, nd, &after) == -1)
		goto out;
	status = 0;
out:
	plan_ipvs_table_clear(&after);
	plan_ipvs_table_clear(&cur);
	plan_desired_clear(&d4);
	plan_desired_clear(&d6);
	plan_model_free(m);
	return status;
}
