// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "base/sort.h"
#include "base/text.h"
#include "collect/net_stats.h"

double fog_net_rate(__u64 prev, __u64 cur, double seconds)
{
	if (!isfinite(seconds) || seconds <= 0)
		return 0;
	return (double)(cur >= prev ? cur - prev : cur) / seconds;
}

int fog_net_ifname_sys(__u64 ifindex, char *name, size_t len, void *ctx)
{
	char buf[IF_NAMESIZE];

	if (!ifindex || ifindex > 0x7fffffff)
		return -EINVAL;
	if (!if_indextoname((unsigned int)ifindex, buf))
		return errno == ENXIO || errno == ENODEV ? -ENODEV : -errno;
	if (strlen(buf) >= len)
		return -ENAMETOOLONG;
	strcpy(name, buf);
	return 0;
}

/* ---- names by id ---- */

struct net_name {
	__u64 id;
	__u64 checked_ns;	/* when name was resolved, 0: not resolved */
	__u64 used_ns;	/* last asked for, to pick what to evict */
	char name[FOG_NET_NAME_LEN];
};

struct fog_net_names {
	struct net_name *v;	/* sorted by id */
	unsigned int n, max;
	fog_net_name_fn fn;
	void *ctx;
};

struct fog_net_names *fog_net_names__new(unsigned int max, fog_net_name_fn fn, void *ctx)
{
	struct fog_net_names *n;

	if (!max || !fn) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->v = calloc(max, sizeof(*n->v));
	if (!n->v) {
		free(n);
		errno = ENOMEM;
		return NULL;
	}
	n->max = max;
	n->fn = fn;
	n->ctx = ctx;
	return n;
}

void fog_net_names__free(struct fog_net_names *n)
{
	if (!n)
		return;
	free(n->v);
	free(n);
}

unsigned int fog_net_names__count(const struct fog_net_names *n)
{
	return n->n;
}

/* Index of id in n->v, or where it would go when absent (*found false). */
static unsigned int name_pos(const struct fog_net_names *n, __u64 id, bool *found)
{
	unsigned int lo = 0, hi = n->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (n->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n->n && n->v[lo].id == id;
	return lo;
}

static void name_remove(struct fog_net_names *n, unsigned int i)
{
	memmove(&n->v[i], &n->v[i + 1], (n->n - i - 1) * sizeof(n->v[0]));
	n->n--;
}

static void name_evict_lru(struct fog_net_names *n)
{
	unsigned int old = 0;

	for (unsigned int i = 1; i < n->n; i++)
		if (n->v[i].used_ns < n->v[old].used_ns)
			old = i;
	name_remove(n, old);
}

int fog_net_names__get(struct fog_net_names *n, __u64 id, __u64 now_ns, const char **name)
{
	char buf[FOG_NET_NAME_LEN] = "";
	struct net_name *e = NULL;
	bool found;
	unsigned int i;
	int err;

	*name = NULL;
	if (!id)
		return -EINVAL;
	i = name_pos(n, id, &found);
	if (found) {
		e = &n->v[i];
		e->used_ns = now_ns;
		if (e->checked_ns && now_ns - e->checked_ns < FOG_NET_NAME_TTL_NS) {
			*name = e->name;
			return 0;
		}
	}
	err = n->fn(id, buf, sizeof(buf), n->ctx);
	if (err == -ENODEV) {
		if (e)
			name_remove(n, i);
		return err;
	}
	buf[sizeof(buf) - 1] = '\0'; /* a resolver that forgot the NUL cannot overrun */
	if (!e) {
		if (n->n == n->max) {
			name_evict_lru(n);
			i = name_pos(n, id, &found);
		}
		memmove(&n->v[i + 1], &n->v[i], (n->n - i) * sizeof(n->v[0]));
		n->n++;
		e = &n->v[i];
		memset(e, 0, sizeof(*e));
		e->id = id;
		e->used_ns = now_ns;
	}
	if (err || !buf[0]) {
		/* unknown for now: ask again next time, keep what was known */
		e->checked_ns = 0;
		*name = e->name[0] ? e->name : NULL;
		return 0;
	}
	memcpy(e->name, buf, sizeof(e->name));
	e->checked_ns = now_ns ? now_ns : 1;
	*name = e->name;
	return 0;
}

/* ---- interfaces ---- */

struct fog_net_ifaces {
	struct fog_net_iface *v;	/* sorted by ifindex */
	unsigned int n, max;
	struct fog_net_names *names;
};

struct fog_net_ifaces *fog_net_ifaces__new(unsigned int max, fog_net_name_fn fn, void *ctx)
{
	struct fog_net_ifaces *t;

	if (!max) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->v = calloc(max, sizeof(*t->v));
	t->names = fog_net_names__new(max, fn ? fn : fog_net_ifname_sys, ctx);
	if (!t->v || !t->names) {
		fog_net_ifaces__free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->max = max;
	return t;
}

void fog_net_ifaces__free(struct fog_net_ifaces *t)
{
	if (!t)
		return;
	fog_net_names__free(t->names);
	free(t->v);
	free(t);
}

/* Index of ifindex in t->v, or where it would go when absent (*found false). */
static unsigned int iface_pos(const struct fog_net_ifaces *t, __u32 ifindex, bool *found)
{
	unsigned int lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->v[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < t->n && t->v[lo].ifindex == ifindex;
	return lo;
}

static void iface_remove(struct fog_net_ifaces *t, unsigned int i)
{
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

int fog_net_ifaces__update(struct fog_net_ifaces *t, __u32 ifindex,
			   const struct fog_net_counters *total, __u64 tick, __u64 now_ns,
			   double seconds)
{
	static const struct fog_net_counters zero;
	const struct fog_net_counters *prev;
	struct fog_net_iface *e;
	const char *name;
	bool found;
	unsigned int i;
	int err;

	if (!ifindex || !total)
		return -EINVAL;
	i = iface_pos(t, ifindex, &found);
	if (!found && t->n == t->max)
		return -ENOSPC;
	err = fog_net_names__get(t->names, ifindex, now_ns, &name);
	if (err) {
		if (found)
			iface_remove(t, i);
		return err;
	}
	if (!found) {
		memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(t->v[0]));
		t->n++;
		memset(&t->v[i], 0, sizeof(t->v[i]));
		t->v[i].ifindex = ifindex;
	}
	e = &t->v[i];
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	prev = found ? &e->total : &zero;
	e->rx_bytes_per_s = fog_net_rate(prev->rx_bytes, total->rx_bytes, seconds);
	e->tx_bytes_per_s = fog_net_rate(prev->tx_bytes, total->tx_bytes, seconds);
	e->total = *total;
	e->seen_tick = tick;
	return 0;
}

void fog_net_ifaces__sweep(struct fog_net_ifaces *t, __u64 tick)
{
	unsigned int i = 0;

	while (i < t->n) {
		if (t->v[i].seen_tick != tick)
			iface_remove(t, i);
		else
			i++;
	}
}

const struct fog_net_iface *fog_net_ifaces__find(const struct fog_net_ifaces *t, __u32 ifindex)
{
	bool found;
	unsigned int i = iface_pos(t, ifindex, &found);

	return found ? &t->v[i] : NULL;
}

unsigned int fog_net_ifaces__count(const struct fog_net_ifaces *t)
{
	return t->n;
}

json_t *fog_net_ifaces__json(const struct fog_net_ifaces *t)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < t->n; i++) {
		const struct fog_net_iface *e = &t->v[i];

		json_array_append_new(arr, json_pack("{s:I,s:o,s:I,s:I,s:I,s:I,s:f,s:f}", "ifindex",
						     (json_int_t)e->ifindex, "name",
						     fog_json_text(e->name[0] ? e->name : NULL),
						     "rx_bytes", (json_int_t)e->total.rx_bytes,
						     "tx_bytes", (json_int_t)e->total.tx_bytes,
						     "rx_packets", (json_int_t)e->total.rx_packets,
						     "tx_packets", (json_int_t)e->total.tx_packets,
						     "rx_bytes_per_s", e->rx_bytes_per_s,
						     "tx_bytes_per_s", e->tx_bytes_per_s));
	}
	return arr;
}

static __u64 cg_bytes(const struct fog_net_cgroup *c)
{
	return c->total.rx_bytes + c->total.tx_bytes;
}

static int cmp_cg_bytes(const void *a, const void *b)
{
	const struct fog_net_cgroup *x = a, *y = b;
	__u64 bx = cg_bytes(x), by = cg_bytes(y);

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

unsigned int fog_net_cgroups_top(struct fog_net_cgroup *cg, unsigned int n, unsigned int limit)
{
	if (!cg || !n)
		return 0;
	fog_sort(cg, n, sizeof(*cg), cmp_cg_bytes);
	return n < limit ? n : limit;
}

int fog_net_cgroup_rel(const char *mount, const char *link, char *out, size_t len)
{
	static const char deleted[] = " (deleted)";
	size_t m, l, dl = sizeof(deleted) - 1;
	const char *rel;

	if (!mount || !mount[0] || !link || !out || !len)
		return -EINVAL;
	m = strlen(mount);
	while (m > 1 && mount[m - 1] == '/')
		m--;
	l = strlen(link);
	if (l >= dl && !strcmp(link + l - dl, deleted))
		return -ENOENT;
	if (m == 1 && mount[0] == '/')
		rel = link[0] == '/' ? link : NULL; /* mounted on "/": the whole link */
	else if (!strncmp(link, mount, m) && (link[m] == '/' || link[m] == '\0'))
		rel = link + m;
	else
		rel = NULL;
	if (!rel)
		return -EXDEV;
	if (!*rel)
		rel = "/";
	if (strlen(rel) >= len)
		return -ENAMETOOLONG;
	strcpy(out, rel);
	return 0;
}
