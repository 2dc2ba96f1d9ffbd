/*
 * The planner's model: interned strings, two hash tables (Service groups
 * and slices, both keyed by the interned namespace and name pointers) and
 * a dirty list of groups.
 *
 * A group exists per namespace/service-name as long as a Service or a
 * slice refers to it, or while it is dirty (so the diff can see that a
 * Service went away); plan_model_dirty_clear() frees the empty ones.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "planner/plan_model.h"

/* --- interned strings ---------------------------------------------------- */

struct pm_str {
	struct pm_str	*next;
	uint32_t	 hash;
	uint32_t	 refs;
	char		 s[];
};

struct pm_strtab {
	struct pm_str	**b;
	size_t		 nb;
	size_t		 n;
	size_t		 bytes;
};

static uint32_t
pm_strhash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static int
pm_strtab_grow(struct pm_strtab *t)
{
	struct pm_str **nb, *e, *next;
	size_t n = t->nb == 0 ? 256 : t->nb * 2, i;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return -1;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(t->b);
	t->b = nb;
	t->nb = n;
	return 0;
}

/* Returns an interned copy of s with one more reference, or NULL. */
static const char *
pm_intern(struct pm_strtab *t, const char *s)
{
	struct pm_str *e;
	uint32_t h = pm_strhash(s);
	size_t len;

	if (t->nb != 0)
		for (e = t->b[h & (t->nb - 1)]; e != NULL; e = e->next)
			if (e->hash == h && strcmp(e->s, s) == 0) {
				e->refs++;
				return e->s;
			}
	if (t->n >= t->nb && pm_strtab_grow(t) == -1)
		return NULL;
	len = strlen(s);
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->s, s, len + 1);
	e->hash = h;
	e->refs = 1;
	e->next = t->b[h & (t->nb - 1)];
	t->b[h & (t->nb - 1)] = e;
	t->n++;
	t->bytes += sizeof(*e) + len + 1;
	return e->s;
}

/* The interned string for s if there is one (no reference taken). */
static const char *
pm_lookup(const struct pm_strtab *t, const char *s)
{
	struct pm_str *e;
	uint32_t h;

	if (t->nb == 0)
		return NULL;
	h = pm_strhash(s);
	for (e = t->b[h & (t->nb - 1)]; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->s, s) == 0)
			return e->s;
	return NULL;
}

static void
pm_release(struct pm_strtab *t, const char *s)
{
	struct pm_str *e, **pp;

	if (s == NULL)
		return;
	e = (struct pm_str *)(void *)(s - offsetof(struct pm_str, s));
	if (--e->refs > 0)
		return;
	for (pp = &t->b[e->hash & (t->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	t->n--;
	t->bytes -= sizeof(*e) + strlen(e->s) + 1;
	free(e);
}

static void
pm_strtab_free(struct pm_strtab *t)
{
	struct pm_str *e, *next;
	size_t i;

	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

/* --- pointer-pair hash tables -------------------------------------------- */

struct pm_node {
	struct pm_node	*next;
	const char	*a;		/* interned namespace */
	const char	*b;		/* interned name */
};

struct pm_tab {
	struct pm_node	**b;
	size_t		 nb;
	size_t		 n;
};

static size_t
pm_hash2(const char *a, const char *b)
{
	uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)(uintptr_t)b + 0x7f4a7c159e3779b9ull + (h << 6) +
	    (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return (size_t)(h ^ (h >> 33));
}

static struct pm_node *
pm_tab_get(const struct pm_tab *t, const char *a, const char *b)
{
	struct pm_node *n;

	if (t->nb == 0 || a == NULL || b == NULL)
		return NULL;
	for (n = t->b[pm_hash2(a, b) & (t->nb - 1)]; n != NULL; n = n->next)
		if (n->a == a && n->b == b)
			return n;
	return NULL;
}

static int
pm_tab_put(struct pm_tab *t, struct pm_node *node)
{
	struct pm_node **nb, *e, *next;
	size_t i, n, h;

	if (t->n >= t->nb) {
		n = t->nb == 0 ? 256 : t->nb * 2;
		nb = calloc(n, sizeof(*nb));
		if (nb == NULL)
			return -1;
		for (i = 0; i < t->nb; i++)
			for (e = t->b[i]; e != NULL; e = next) {
				next = e->next;
				h = pm_hash2(e->a, e->b) & (n - 1);
				e->next = nb[h];
				nb[h] = e;
			}
		free(t->b);
		t->b = nb;
		t->nb = n;
	}
	h = pm_hash2(node->a, node->b) & (t->nb - 1);
	node->next = t->b[h];
	t->b[h] = node;
	t->n++;
	return 0;
}

static void
pm_tab_del(struct pm_tab *t, struct pm_node *node)
{
	struct pm_node **pp;

	for (pp = &t->b[pm_hash2(node->a, node->b) & (t->nb - 1)];
	    *pp != NULL; pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			t->n--;
			return;
		}
}

/* --- model types --------------------------------------------------------- */

struct pm_slice_port {
	const char	*name;
	uint8_t		 proto;
	uint16_t	 port;
};

struct pm_slice_ep {
	struct rec_addr	 addr;
	uint8_t		 cond;
	uint8_t		 n_zone;
	uint8_t		 n_node;
	const char	*node;		/* interned, NULL when unset */
	const char	**hints;	/* n_zone + n_node interned */
};

struct pm_slice {
	struct pm_node	 node;		/* namespace, slice name */
	struct plan_group *group;
	struct pm_slice	*gnext;		/* group list, by name */
	uint8_t		 family;
	uint16_t	 n_ports;
	uint16_t	 n_eps;
	struct pm_slice_port *ports;
	struct pm_slice_ep *eps;
};

struct plan_group {
	struct pm_node	 node;		/* namespace, service */
	struct plan_svc	*svc;
	struct pm_slice	*slices;
	struct plan_group *dnext;
	int		 dirty;
};

struct plan_model {
	struct pm_strtab strs;
	struct pm_tab	 groups;
	struct pm_tab	 slices;
	size_t		 nsvc;
	size_t		 bytes;		/* records only */
	const char	*node_name;	/* interned */
	char		 zone[REC_LABEL_MAX + 1];
	struct plan_group *dirty;
	size_t		 ndirty;
	int		 all_dirty;
};

struct plan_model *
plan_model_new(const char *node_name)
{
	struct plan_model *m;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->node_name = pm_intern(&m->strs, node_name != NULL ? node_name : "");
	if (m->node_name == NULL) {
		free(m);
		return NULL;
	}
	/* Nothing has been computed yet: the first pass covers everything. */
	m->all_dirty = 1;
	return m;
}

const char *
plan_model_node_name(const struct plan_model *m)
{
	return m->node_name;
}

const char *
plan_model_zone(const struct plan_model *m)
{
	return m->zone;
}

/* --- groups and the dirty list ------------------------------------------- */

static struct plan_group *
pm_group_get(struct plan_model *m, const char *ns, const char *name,
    int create)
{
	struct plan_group *g;
	const char *ins, *iname;

	g = (struct plan_group *)(void *)pm_tab_get(&m->groups,
	    pm_lookup(&m->strs, ns), pm_lookup(&m->strs, name));
	if (g != NULL || !create)
		return g;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	ins = pm_intern(&m->strs, ns);
	iname = ins != NULL ? pm_intern(&m->strs, name) : NULL;
	if (iname == NULL || (g->node.a = ins, g->node.b = iname,
	    pm_tab_put(&m->groups, &g->node) == -1)) {
		pm_release(&m->strs, ins);
		pm_release(&m->strs, iname);
		free(g);
		return NULL;
	}
	m->bytes += sizeof(*g);
	return g;
}

static void
pm_mark(struct plan_model *m, struct plan_group *g)
{
	if (g->dirty)
		return;
	g->dirty = 1;
	g->dnext = m->dirty;
	m->dirty = g;
	m->ndirty++;
}

static void
pm_group_free(struct plan_model *m, struct plan_group *g)
{
	pm_tab_del(&m->groups, &g->node);
	pm_release(&m->strs, g->node.a);
	pm_release(&m->strs, g->node.b);
	m->bytes -= sizeof(*g);
	free(g);
}

/* An unused group that is not on the dirty list can go at once. */
static void
pm_group_maybe_free(struct plan_model *m, struct plan_group *g)
{
	if (g->svc == NULL && g->slices == NULL && !g->dirty)
		pm_group_free(m, g);
}

int
plan_model_all_dirty(const struct plan_model *m)
{
	return m->all_dirty;
}

size_t
plan_model_dirty_count(const struct plan_model *m)
{
	return m->ndirty;
}

void
plan_model_dirty_foreach(const struct plan_model *m,
    void (*cb)(const char *, const char *, const struct plan_svc *, void *),
    void *arg)
{
	const struct plan_group *g;

	for (g = m->dirty; g != NULL; g = g->dnext)
		cb(g->node.a, g->node.b, g->svc, arg);
}

void
plan_model_dirty_clear(struct plan_model *m)
{
	struct plan_group *g, *next;

	for (g = m->dirty; g != NULL; g = next) {
		next = g->dnext;
		g->dirty = 0;
		g->dnext = NULL;
		pm_group_maybe_free(m, g);
	}
	m->dirty = NULL;
	m->ndirty = 0;
	m->all_dirty = 0;
}

/* --- Services ------------------------------------------------------------ */

static void
pm_svc_free(struct plan_model *m, struct plan_svc *s)
{
	uint16_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_ports; i++)
		pm_release(&m->strs, s->ports[i].name);
	pm_release(&m->strs, s->ns);
	pm_release(&m->strs, s->name);
	m->bytes -= sizeof(*s) + s->n_ports * sizeof(*s->ports) +
	    s->n_external_ips * sizeof(*s->external_ips) +
	    s->n_lb_ingress * sizeof(*s->lb_ingress) +
	    s->n_source_ranges * sizeof(*s->source_ranges);
	free(s->ports);
	free(s->external_ips);
	free(s->lb_ingress);
	free(s->source_ranges);
	free(s);
}

static void *
pm_dup(const void *p, size_t n, size_t size)
{
	void *d;

	if (n == 0)
		return NULL;
	d = calloc(n, size);
	if (d != NULL)
		memcpy(d, p, n * size);
	return d;
}

static struct plan_svc *
pm_svc_build(struct plan_model *m, const struct rec_service *r)
{
	struct plan_svc *s;
	uint16_t i;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	m->bytes += sizeof(*s);
	s->ns = pm_intern(&m->strs, r->namespace);
	s->name = pm_intern(&m->strs, r->name);
	if (s->ns == NULL || s->name == NULL)
		goto fail;
	s->created = r->created;
	s->type = r->type;
	s->affinity = r->affinity;
	s->flags = r->flags;
	s->affinity_timeout = r->affinity_timeout;
	s->hc_node_port = r->health_check_node_port;
	s->n_cluster_ips = r->n_cluster_ips > REC_MAX_CLUSTER_IPS ?
	    REC_MAX_CLUSTER_IPS : r->n_cluster_ips;
	memcpy(s->cluster_ips, r->cluster_ips, sizeof(s->cluster_ips));
	if (r->n_ports > 0) {
		s->ports = calloc(r->n_ports, sizeof(*s->ports));
		if (s->ports == NULL)
			goto fail;
		for (i = 0; i < r->n_ports; i++) {
			s->ports[i].name = pm_intern(&m->strs,
			    r->ports[i].name);
			if (s->ports[i].name == NULL)
				goto fail;
			s->n_ports++;
			m->bytes += sizeof(*s->ports);
			s->ports[i].proto = r->ports[i].protocol;
			s->ports[i].port = r->ports[i].port;
			s->ports[i].node_port = r->ports[i].node_port;
		}
	}
	s->external_ips = pm_dup(r->external_ips, r->n_external_ips,
	    sizeof(*r->external_ips));
	if (r->n_external_ips > 0 && s->external_ips == NULL)
		goto fail;
	s->n_external_ips = r->n_external_ips;
	s->lb_ingress = pm_dup(r->lb_ingress, r->n_lb_ingress,
	    sizeof(*r->lb_ingress));
	if (r->n_lb_ingress > 0 && s->lb_ingress == NULL)
		goto fail;
	s->n_lb_ingress = r->n_lb_ingress;
	s->source_ranges = pm_dup(r->source_ranges, r->n_source_ranges,
	    sizeof(*r->source_ranges));
	if (r->n_source_ranges > 0 && s->source_ranges == NULL)
		goto fail;
	s->n_source_ranges = r->n_source_ranges;
	m->bytes += s->n_external_ips * sizeof(*s->external_ips) +
	    s->n_lb_ingress * sizeof(*s->lb_ingress) +
	    s->n_source_ranges * sizeof(*s->source_ranges);
	return s;
fail:
	pm_svc_free(m, s);
	return NULL;
}

static int
pm_svc_eq(const struct plan_svc *a, const struct plan_svc *b)
{
	uint16_t i;

	if (a->created != b->created || a->type != b->type ||
	    a->affinity != b->affinity || a->flags != b->flags ||
	    a->affinity_timeout != b->affinity_timeout ||
	    a->hc_node_port != b->hc_node_port ||
	    a->n_cluster_ips != b->n_cluster_ips ||
	    a->n_ports != b->n_ports ||
	    a->n_external_ips != b->n_external_ips ||
	    a->n_lb_ingress != b->n_lb_ingress ||
	    a->n_source_ranges != b->n_source_ranges)
		return 0;
	if (memcmp(a->cluster_ips, b->cluster_ips, sizeof(a->cluster_ips)))
		return 0;
	for (i = 0; i < a->n_ports; i++)
		if (a->ports[i].name != b->ports[i].name ||
		    a->ports[i].proto != b->ports[i].proto ||
		    a->ports[i].port != b->ports[i].port ||
		    a->ports[i].node_port != b->ports[i].node_port)
			return 0;
	if (a->n_external_ips > 0 && memcmp(a->external_ips, b->external_ips,
	    a->n_external_ips * sizeof(*a->external_ips)) != 0)
		return 0;
	for (i = 0; i < a->n_lb_ingress; i++)
		if (!addr_eq(&a->lb_ingress[i].ip, &b->lb_ingress[i].ip) ||
		    a->lb_ingress[i].ipmode != b->lb_ingress[i].ipmode)
			return 0;
	for (i = 0; i < a->n_source_ranges; i++)
		if (!addr_eq(&a->source_ranges[i].addr,
		    &b->source_ranges[i].addr) ||
		    a->source_ranges[i].plen != b->source_ranges[i].plen)
			return 0;
	return 1;
}

int
plan_model_svc_upsert(struct plan_model *m, const struct rec_service *r)
{
	struct plan_group *g;
	struct plan_svc *s;

	g = pm_group_get(m, r->namespace, r->name, 1);
	if (g == NULL)
		return -1;
	s = pm_svc_build(m, r);
	if (s == NULL) {
		pm_group_maybe_free(m, g);
		return -1;
	}
	s->group = g;
	if (g->svc != NULL && pm_svc_eq(g->svc, s)) {
		pm_svc_free(m, s);
		return 0;
	}
	if (g->svc == NULL)
		m->nsvc++;
	pm_svc_free(m, g->svc);
	g->svc = s;
	pm_mark(m, g);
	return 1;
}

int
plan_model_svc_delete(struct plan_model *m, const char *ns, const char *name)
{
	struct plan_group *g = pm_group_get(m, ns, name, 0);

	if (g == NULL || g->svc == NULL)
		return 0;
	pm_svc_free(m, g->svc);
	g->svc = NULL;
	m->nsvc--;
	pm_mark(m, g);
	return 1;
}

size_t
plan_model_nservices(const struct plan_model *m)
{
	return m->nsvc;
}

size_t
plan_model_nslices(const struct plan_model *m)
{
	return m->slices.n;
}

const struct plan_svc *
plan_model_svc_get(const struct plan_model *m, const char *ns,
    const char *name)
{
	const struct plan_group *g;

	g = (const struct plan_group *)(const void *)pm_tab_get(&m->groups,
	    pm_lookup(&m->strs, ns), pm_lookup(&m->strs, name));
	return g != NULL ? g->svc : NULL;
}

void
plan_model_foreach_svc(const struct plan_model *m,
    void (*cb)(const struct plan_svc *, void *), void *arg)
{
	const struct pm_node *n;
	size_t i;

	for (i = 0; i < m->groups.nb; i++)
		for (n = m->groups.b[i]; n != NULL; n = n->next) {
			const struct plan_group *g =
			    (const struct plan_group *)(const void *)n;

			if (g->svc != NULL)
				cb(g->svc, arg);
		}
}

void
plan_model_foreach_slice(const struct plan_model *m,
    void (*cb)(const char *ns, const char *name, void *), void *arg)
{
	const struct pm_node *n;
	size_t i;

	for (i = 0; i < m->slices.nb; i++)
		for (n = m->slices.b[i]; n != NULL; n = n->next)
			cb(n->a, n->b, arg);
}

void
plan_model_mark_all(struct plan_model *m)
{
	m->all_dirty = 1;
}

/* --- EndpointSlices ------------------------------------------------------ */

static size_t
pm_slice_bytes(const struct pm_slice *sl)
{
	size_t b = sizeof(*sl) + sl->n_ports * sizeof(*sl->ports) +
	    sl->n_eps * sizeof(*sl->eps);
	uint16_t i;

	for (i = 0; i < sl->n_eps; i++)
		b += (size_t)(sl->eps[i].n_zone + sl->eps[i].n_node) *
		    sizeof(char *);
	return b;
}

static void
pm_slice_free(struct plan_model *m, struct pm_slice *sl)
{
	uint16_t i;
	int j;

	if (sl == NULL)
		return;
	m->bytes -= pm_slice_bytes(sl);
	for (i = 0; i < sl->n_ports; i++)
		pm_release(&m->strs, sl->ports[i].name);
	for (i = 0; i < sl->n_eps; i++) {
		struct pm_slice_ep *e = &sl->eps[i];

		pm_release(&m->strs, e->node);
		for (j = 0; j < e->n_zone + e->n_node; j++)
			pm_release(&m->strs, e->hints[j]);
		free(e->hints);
	}
	pm_release(&m->strs, sl->node.a);
	pm_release(&m->strs, sl->node.b);
	free(sl->ports);
	free(sl->eps);
	free(sl);
}

static int
pm_slice_ep_build(struct plan_model *m, const struct rec_endpoint *r,
    struct pm_slice_ep *e)
{
	int j, nz, nn;

	e->addr = r->addr;
	e->cond = r->conditions;
	if (r->node_name[0] != '\0') {
		e->node = pm_intern(&m->strs, r->node_name);
		if (e->node == NULL)
			return -1;
	}
	nz = r->n_zone_hints > REC_MAX_ZONE_HINTS ? REC_MAX_ZONE_HINTS :
	    r->n_zone_hints;
	nn = r->n_node_hints > REC_MAX_NODE_HINTS ? REC_MAX_NODE_HINTS :
	    r->n_node_hints;
	if (nz + nn == 0)
		return 0;
	e->hints = calloc((size_t)(nz + nn), sizeof(*e->hints));
	if (e->hints == NULL)
		return -1;
	for (j = 0; j < nz + nn; j++) {
		e->hints[j] = pm_intern(&m->strs, j < nz ? r->zone_hints[j] :
		    r->node_hints[j - nz]);
		if (e->hints[j] == NULL)
			return -1;
		if (j < nz)
			e->n_zone++;
		else
			e->n_node++;
	}
	return 0;
}

static struct pm_slice *
pm_slice_build(struct plan_model *m, const struct rec_slice *r)
{
	struct pm_slice *sl;
	uint16_t i;

	sl = calloc(1, sizeof(*sl));
	if (sl == NULL)
		return NULL;
	m->bytes += sizeof(*sl);
	sl->node.a = pm_intern(&m->strs, r->namespace);
	sl->node.b = pm_intern(&m->strs, r->name);
	if (sl->node.a == NULL || sl->node.b == NULL)
		goto fail;
	sl->family = r->family;
	if (r->n_ports > 0) {
		sl->ports = calloc(r->n_ports, sizeof(*sl->ports));
		if (sl->ports == NULL)
			goto fail;
	}
	for (i = 0; i < r->n_ports; i++) {
		sl->ports[i].name = pm_intern(&m->strs, r->ports[i].name);
		if (sl->ports[i].name == NULL)
			goto fail;
		sl->ports[i].proto = r->ports[i].protocol;
		sl->ports[i].port = r->ports[i].port;
		sl->n_ports++;
		m->bytes += sizeof(*sl->ports);
	}
	if (r->n_endpoints > 0) {
		sl->eps = calloc(r->n_endpoints, sizeof(*sl->eps));
		if (sl->eps == NULL)
			goto fail;
	}
	for (i = 0; i < r->n_endpoints; i++) {
		sl->n_eps++;
		m->bytes += sizeof(*sl->eps);
		if (pm_slice_ep_build(m, &r->endpoints[i], &sl->eps[i]) == -1) {
			m->bytes += (size_t)(sl->eps[i].n_zone +
			    sl->eps[i].n_node) * sizeof(char *);
			goto fail;
		}
		m->bytes += (size_t)(sl->eps[i].n_zone + sl->eps[i].n_node) *
		    sizeof(char *);
	}
	return sl;
fail:
	pm_slice_free(m, sl);
	return NULL;
}

static int
pm_slice_eq(const struct pm_slice *a, const struct pm_slice *b)
{
	uint16_t i;
	int j;

	if (a->family != b->family || a->n_ports != b->n_ports ||
	    a->n_eps != b->n_eps)
		return 0;
	for (i = 0; i < a->n_ports; i++)
		if (a->ports[i].name != b->ports[i].name ||
		    a->ports[i].proto != b->ports[i].proto ||
		    a->ports[i].port != b->ports[i].port)
			return 0;
	for (i = 0; i < a->n_eps; i++) {
		const struct pm_slice_ep *x = &a->eps[i], *y = &b->eps[i];

		if (!addr_eq(&x->addr, &y->addr) || x->cond != y->cond ||
		    x->node != y->node || x->n_zone != y->n_zone ||
		    x->n_node != y->n_node)
			return 0;
		for (j = 0; j < x->n_zone + x->n_node; j++)
			if (x->hints[j] != y->hints[j])
				return 0;
	}
	return 1;
}

static void
pm_group_unlink_slice(struct plan_group *g, struct pm_slice *sl)
{
	struct pm_slice **pp;

	for (pp = &g->slices; *pp != NULL; pp = &(*pp)->gnext)
		if (*pp == sl) {
			*pp = sl->gnext;
			break;
		}
	sl->gnext = NULL;
	sl->group = NULL;
}

/* Slices of a group stay sorted by name: "first wins" is deterministic. */
static void
pm_group_link_slice(struct plan_group *g, struct pm_slice *sl)
{
	struct pm_slice **pp;

	for (pp = &g->slices; *pp != NULL; pp = &(*pp)->gnext)
		if (strcmp((*pp)->node.b, sl->node.b) > 0)
			break;
	sl->gnext = *pp;
	*pp = sl;
	sl->group = g;
}

int
plan_model_slice_upsert(struct plan_model *m, const struct rec_slice *r)
{
	struct pm_slice *old, *sl;
	struct plan_group *g, *og;

	g = pm_group_get(m, r->namespace, r->service, 1);
	if (g == NULL)
		return -1;
	sl = pm_slice_build(m, r);
	if (sl == NULL) {
		pm_group_maybe_free(m, g);
		return -1;
	}
	old = (struct pm_slice *)(void *)pm_tab_get(&m->slices, sl->node.a,
	    sl->node.b);
	if (old != NULL && old->group == g && pm_slice_eq(old, sl)) {
		pm_slice_free(m, sl);
		return 0;
	}
	if (old != NULL) {
		og = old->group;
		pm_tab_del(&m->slices, &old->node);
		pm_group_unlink_slice(og, old);
		pm_slice_free(m, old);
		pm_mark(m, og);
	}
	if (pm_tab_put(&m->slices, &sl->node) == -1) {
		/* The old slice is gone already; the group is dirty. */
		pm_slice_free(m, sl);
		pm_mark(m, g);
		return -1;
	}
	pm_group_link_slice(g, sl);
	pm_mark(m, g);
	return 1;
}

int
plan_model_slice_delete(struct plan_model *m, const char *ns,
    const char *name)
{
	struct pm_slice *sl;
	struct plan_group *g;

	sl = (struct pm_slice *)(void *)pm_tab_get(&m->slices,
	    pm_lookup(&m->strs, ns), pm_lookup(&m->strs, name));
	if (sl == NULL)
		return 0;
	g = sl->group;
	pm_tab_del(&m->slices, &sl->node);
	pm_group_unlink_slice(g, sl);
	pm_slice_free(m, sl);
	pm_mark(m, g);
	return 1;
}

/* --- Node ---------------------------------------------------------------- */

int
plan_model_node_set(struct plan_model *m, const struct rec_node *n)
{
	if (strcmp(n->name, m->node_name) != 0)
		return 0;
	if (strcmp(n->zone, m->zone) == 0)
		return 0;
	memcpy(m->zone, n->zone, sizeof(m->zone));
	m->zone[sizeof(m->zone) - 1] = '\0';
	m->all_dirty = 1;
	return 1;
}

int
plan_model_node_delete(struct plan_model *m, const char *name)
{
	if (strcmp(name, m->node_name) != 0 || m->zone[0] == '\0')
		return 0;
	m->zone[0] = '\0';
	m->all_dirty = 1;
	return 1;
}

/* --- merged endpoints ---------------------------------------------------- */

struct pm_cand {
	struct plan_ep	 ep;
	size_t		 order;
};

static int
pm_ep_cmp(const void *pa, const void *pb)
{
	const struct plan_ep *a = pa, *b = pb;
	int c = addr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

static int
pm_cand_cmp(const void *pa, const void *pb)
{
	const struct pm_cand *a = pa, *b = pb;
	int c = pm_ep_cmp(&a->ep, &b->ep);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * Sorts by IP then port, keeping arrival order among equal keys so that
 * "first wins" means the first in slice-name order.  Short lists (the
 * common case) use an insertion sort in place; long ones sort an index.
 */
static int
pm_ep_sort(struct plan_ep *v, size_t n)
{
	struct pm_cand *c;
	struct plan_ep tmp;
	size_t i, j;

	if (n <= 32) {
		for (i = 1; i < n; i++) {
			tmp = v[i];
			for (j = i; j > 0 && pm_ep_cmp(&v[j - 1], &tmp) > 0;
			    j--)
				v[j] = v[j - 1];
			v[j] = tmp;
		}
		return 0;
	}
	c = calloc(n, sizeof(*c));
	if (c == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		c[i].ep = v[i];
		c[i].order = i;
	}
	qsort(c, n, sizeof(*c), pm_cand_cmp);
	for (i = 0; i < n; i++)
		v[i] = c[i].ep;
	free(c);
	return 0;
}

static int
pm_buf_push(struct plan_ep_buf *buf, const struct plan_ep *ep)
{
	struct plan_ep *nv;
	size_t ncap;

	if (buf->n == buf->cap) {
		ncap = buf->cap == 0 ? 16 : buf->cap * 2;
		nv = realloc(buf->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		buf->v = nv;
		buf->cap = ncap;
	}
	buf->v[buf->n++] = *ep;
	return 0;
}

int
plan_model_endpoints(const struct plan_model *m, const struct plan_svc *s,
    const struct plan_svc_port *sp, uint8_t family, struct plan_ep_buf *buf)
{
	const struct pm_slice *sl;
	struct plan_ep ep;
	size_t i, out, first;
	uint16_t p, e;

	buf->n = 0;
	if (s->group == NULL)
		return 0;
	for (sl = s->group->slices; sl != NULL; sl = sl->gnext) {
		if (sl->family != family)
			continue;
		for (p = 0; p < sl->n_ports; p++) {
			if (sl->ports[p].name != sp->name ||
			    sl->ports[p].proto != sp->proto)
				continue;
			for (e = 0; e < sl->n_eps; e++) {
				const struct pm_slice_ep *x = &sl->eps[e];

				memset(&ep, 0, sizeof(ep));
				ep.addr = x->addr;
				ep.port = sl->ports[p].port;
				ep.cond = x->cond;
				ep.local = x->node != NULL &&
				    x->node == m->node_name;
				ep.n_zone_hints = x->n_zone;
				ep.n_node_hints = x->n_node;
				ep.hints = x->hints;
				if (pm_buf_push(buf, &ep) == -1)
					return -1;
			}
		}
	}
	if (pm_ep_sort(buf->v, buf->n) == -1)
		return -1;
	/* Deduplicate runs of one IP:port. */
	for (i = 0, out = 0; i < buf->n; i = first) {
		size_t pick = i;

		for (first = i + 1; first < buf->n &&
		    pm_ep_cmp(&buf->v[i], &buf->v[first]) == 0; first++)
			if ((buf->v[pick].cond & REC_EP_TERMINATING) &&
			    !(buf->v[first].cond & REC_EP_TERMINATING))
				pick = first;
		buf->v[out++] = buf->v[pick];
	}
	buf->n = out;
	return (int)out;
}

void
plan_ep_buf_free(struct plan_ep_buf *buf)
{
	free(buf->v);
	memset(buf, 0, sizeof(*buf));
}

size_t
plan_model_memory(const struct plan_model *m)
{
	return sizeof(*m) + m->bytes + m->strs.bytes +
	    m->strs.nb * sizeof(*m->strs.b) +
	    m->groups.nb * sizeof(*m->groups.b) +
	    m->slices.nb * sizeof(*m->slices.b);
}

void
plan_model_free(struct plan_model *m)
{
	struct pm_node *n, *next;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->slices.nb; i++)
		for (n = m->slices.b[i]; n != NULL; n = next) {
			next = n->next;
			pm_slice_free(m, (struct pm_slice *)(void *)n);
		}
	for (i = 0; i < m->groups.nb; i++)
		for (n = m->groups.b[i]; n != NULL; n = next) {
			struct plan_group *g = (struct plan_group *)(void *)n;

			next = n->next;
			pm_svc_free(m, g->svc);
			free(g);
		}
	free(m->slices.b);
	free(m->groups.b);
	pm_strtab_free(&m->strs);
	free(m);
}
