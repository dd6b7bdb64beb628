// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who slowed whom. bpf/sched.bpf.c charges each run-queue wait to the
 * cgroups and processes that held the CPU meanwhile (schedlat.neighbours:
 * the task switched out when the victim came in, or every task that ran, by
 * its time there); this reads the pair map once per tick into a table sorted
 * by pair, whose interval figures are the growth since the tick before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "base/prom.h"
#include "base/sort.h"
#include "base/text.h"
#include "collect/agg.h"
#include "collect/collect_int.h"
#include "collect/neighbours.h"

_Static_assert(sizeof(struct fog_nbr_val) % 8 == 0, "fog_nbr_val is not 8-byte sized");
_Static_assert(sizeof(struct fog_culprit) % 8 == 0, "fog_culprit is not 8-byte sized");
_Static_assert((FOG_NBR_SEGS & (FOG_NBR_SEGS - 1)) == 0, "FOG_NBR_SEGS is not a power of 2");

struct nbr_pair {
	struct fog_nbr_key key;
	__u64 wait_ns;	/* since fogd started charging the pair */
	__u64 prev_wait_ns;	/* at the tick before */
	__u64 waits;
	__u64 seen_tick;	/* the last tick the map held it */
};

struct fog_nbr {
	struct nbr_pair *pairs;	/* sorted by key */
	unsigned int n, max;
	int ncpu;
	struct fog_nbr_val *values;	/* scratch: one per-CPU lookup */
	bool *used;	/* scratch: CPUs whose pending pair is counted */
	__u64 charged_ns, unattributed_ns;	/* all CPUs, since start */
	__u64 overflow;	/* pairs not kept: the table was full */
};

static const char *const mode_names[] = { "off", "last", "proportional", NULL };

enum fog_nbr_mode fog_nbr_mode_of(const char *name)
{
	for (int i = 0; mode_names[i]; i++)
		if (!strcmp(name, mode_names[i]))
			return (enum fog_nbr_mode)i;
	return FOG_NBR_OFF;
}

const char *fog_nbr_mode_name(enum fog_nbr_mode m)
{
	return m <= FOG_NBR_PROPORTIONAL ? mode_names[m] : "off";
}

struct fog_nbr *fog_nbr__new(unsigned int max_pairs, int ncpu)
{
	struct fog_nbr *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->max = max_pairs;
	n->ncpu = ncpu;
	n->pairs = calloc(max_pairs, sizeof(*n->pairs));
	n->values = calloc(ncpu, sizeof(*n->values));
	n->used = calloc(ncpu, sizeof(*n->used));
	if (!n->pairs || !n->values || !n->used) {
		fog_nbr__free(n);
		errno = ENOMEM;
		return NULL;
	}
	return n;
}

void fog_nbr__free(struct fog_nbr *n)
{
	if (!n)
		return;
	free(n->pairs);
	free(n->values);
	free(n->used);
	free(n);
}

static int cmp_key(const struct fog_nbr_key *a, const struct fog_nbr_key *b)
{
	if (a->victim_cgid != b->victim_cgid)
		return a->victim_cgid < b->victim_cgid ? -1 : 1;
	if (a->culprit_cgid != b->culprit_cgid)
		return a->culprit_cgid < b->culprit_cgid ? -1 : 1;
	return 0;
}

/* The pair's slot, inserted in order when absent; NULL when the table is full. */
static struct nbr_pair *pair_slot(struct fog_nbr *n, const struct fog_nbr_key *key)
{
	unsigned int lo = 0, hi = n->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int c = cmp_key(&n->pairs[mid].key, key);

		if (!c)
			return &n->pairs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (n->n >= n->max) {
		n->overflow++;
		return NULL;
	}
	memmove(&n->pairs[lo + 1], &n->pairs[lo], (n->n - lo) * sizeof(*n->pairs));
	n->n++;
	memset(&n->pairs[lo], 0, sizeof(*n->pairs));
	n->pairs[lo].key = *key;
	return &n->pairs[lo];
}

static void update_pair(struct fog_nbr *n, const struct fog_nbr_key *key, __u64 wait_ns,
			__u64 waits, __u64 tick)
{
	struct nbr_pair *p = pair_slot(n, key);

	if (!p)
		return;
	/* a pair the map lost is dropped at once: one kept was read at the tick before */
	if (p->seen_tick != tick)
		p->prev_wait_ns = p->seen_tick ? p->wait_ns : 0;
	p->wait_ns = wait_ns;
	p->waits = waits;
	p->seen_tick = tick;
}

/*
 * Adds the pending pair of each CPU that matches key (slots: the entry's
 * per-CPU values read after the snapshot, NULL when it has none); a batch
 * the entry already holds is not counted twice (see fog_cgroup_sched).
 */
static void add_pending(struct fog_nbr *n, const struct fog_cpu_sched *cpus,
			const struct fog_nbr_key *key, const struct fog_nbr_val *slots,
			struct fog_nbr_val *sum)
{
	for (int c = 0; c < n->ncpu; c++) {
		const struct fog_cpu_sched *v = &cpus[c];

		if (n->used[c] || cmp_key(&v->pend_nbr, key))
			continue;
		if (!slots || slots[c].batches <= v->pend_nbr_batch) {
			sum->wait_ns += v->pend_nbr_val.wait_ns;
			sum->waits += v->pend_nbr_val.waits;
		}
		n->used[c] = true;
	}
}

void fog_nbr__read(struct fog_nbr *n, int map_fd, const struct fog_cpu_sched *cpus, __u64 tick,
		   fog_nbr_dead_fn dead)
{
	struct fog_nbr_key key, next, *prev = NULL;
	struct fog_nbr_val sum;
	unsigned int keep = 0;

	memset(n->used, 0, n->ncpu * sizeof(*n->used));
	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (dead(key.victim_cgid) || dead(key.culprit_cgid))
			continue;
		if (bpf_map_lookup_elem(map_fd, &key, n->values))
			continue;
		memset(&sum, 0, sizeof(sum));
		for (int c = 0; c < n->ncpu; c++) {
			sum.wait_ns += n->values[c].wait_ns;
			sum.waits += n->values[c].waits;
		}
		add_pending(n, cpus, &key, n->values, &sum);
		update_pair(n, &key, sum.wait_ns, sum.waits, tick);
	}
	n->charged_ns = n->unattributed_ns = 0;
	for (int c = 0; c < n->ncpu; c++) {
		n->charged_ns += cpus[c].nbr_charged_ns;
		n->unattributed_ns += cpus[c].nbr_unattributed_ns;
		if (n->used[c] || !cpus[c].pend_nbr_val.waits)
			continue;
		key = cpus[c].pend_nbr;
		if (dead(key.victim_cgid) || dead(key.culprit_cgid))
			continue;
		memset(&sum, 0, sizeof(sum));
		add_pending(n, cpus, &key, NULL, &sum);
		update_pair(n, &key, sum.wait_ns, sum.waits, tick);
	}
	/* pairs the map no longer holds (evicted, or their cgroup removed) */
	for (unsigned int i = 0; i < n->n; i++)
		if (n->pairs[i].seen_tick == tick)
			n->pairs[keep++] = n->pairs[i];
	n->n = keep;
}

void fog_nbr__forget(struct fog_nbr *n, int map_fd, __u64 id)
{
	struct fog_nbr_key key, next, *prev = NULL, gone[64];
	unsigned int ngone, keep = 0;

	for (unsigned int i = 0; i < n->n; i++)
		if (n->pairs[i].key.victim_cgid != id && n->pairs[i].key.culprit_cgid != id)
			n->pairs[keep++] = n->pairs[i];
	n->n = keep;
	/* deleting while walking would restart the walk: collect, then delete */
	do {
		ngone = 0;
		prev = NULL;
		while (ngone < 64 && !bpf_map_get_next_key(map_fd, prev, &next)) {
			key = next;
			prev = &key;
			if (key.victim_cgid == id || key.culprit_cgid == id)
				gone[ngone++] = key;
		}
		for (unsigned int i = 0; i < ngone; i++)
			bpf_map_delete_elem(map_fd, &gone[i]);
	} while (ngone == 64);
}

void fog_nbr__each(const struct fog_nbr *n, fog_nbr_pair_fn fn, void *ctx)
{
	for (unsigned int i = 0; i < n->n; i++) {
		const struct nbr_pair *p = &n->pairs[i];

		fn(p->key.victim_cgid, p->key.culprit_cgid,
		   p->wait_ns >= p->prev_wait_ns ? p->wait_ns - p->prev_wait_ns : 0, ctx);
	}
}

const struct fog_culprit *fog_nbr_main_culprit(const struct fog_culprit *c)
{
	const struct fog_culprit *best = NULL;

	for (int i = 0; i < FOG_NBR_CULPRITS; i++)
		if (c[i].tgid && (!best || c[i].wait_ns > best->wait_ns))
			best = &c[i];
	return best;
}

/* ---- output ---- */

/* By the wait charged over the last interval, as the other cgroup series rank, then in all. */
static int cmp_pair(const void *a, const void *b)
{
	const struct nbr_pair *x = a, *y = b;
	__u64 dx = x->wait_ns - x->prev_wait_ns, dy = y->wait_ns - y->prev_wait_ns;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return x->wait_ns < y->wait_ns ? 1 : x->wait_ns > y->wait_ns ? -1 : 0;
}

/*
 * Pairs sorted by wait charged; named: only those whose two cgroups have
 * names (series are never labelled with a guess). Caller frees.
 */
static struct nbr_pair *sorted_pairs(struct fog_nbr *n, struct fog_collect *o, bool named,
				     unsigned int *len)
{
	struct nbr_pair *s = malloc((n->n ? n->n : 1) * sizeof(*s));

	*len = 0;
	if (!s)
		return NULL;
	for (unsigned int i = 0; i < n->n; i++)
		if (!named || (fog_collect__cgroup_path(o, n->pairs[i].key.victim_cgid) &&
			       fog_collect__cgroup_path(o, n->pairs[i].key.culprit_cgid)))
			s[(*len)++] = n->pairs[i];
	fog_sort(s, *len, sizeof(*s), cmp_pair);
	return s;
}

void fog_nbr__metrics(struct fog_nbr *n, struct fog_collect *o, struct fog_prom *w)
{
	unsigned int len, top = o->cfg->top_cgroups;
	struct nbr_pair *s = sorted_pairs(n, o, true, &len);

	if (!s)
		return;
	fog_prom__family(w, "fog_cgroup_runqueue_wait_caused_seconds", FOG_PROM_COUNTER,
			 "run-queue wait of the victim cgroup's tasks charged to the culprit cgroup "
			 "that held the CPU meanwhile (pairs charged most only)");
	for (unsigned int i = 0; i < len && i < top; i++) {
		/* copies: the cache may rescan between the two look-ups */
		char victim[256], culprit[256];
		const char *v = fog_collect__cgroup_path(o, s[i].key.victim_cgid);

		snprintf(victim, sizeof(victim), "%s", v ? v : "");
		v = fog_collect__cgroup_path(o, s[i].key.culprit_cgid);
		snprintf(culprit, sizeof(culprit), "%s", v ? v : "");
		if (!victim[0] || !culprit[0])
			continue;
		fog_prom__sample(w, (const char *[]){ "victim", victim, "culprit", culprit, NULL },
				 s[i].wait_ns / 1e9);
	}
	free(s);
}

static json_t *path_or_null(struct fog_collect *o, __u64 id)
{
	const char *p = fog_collect__cgroup_path(o, id);

	return p ? json_string(p) : json_null();
}

static json_t *pairs_json(struct fog_nbr *n, struct fog_collect *o, const char *cgroup,
			  __u64 cgroup_id, unsigned int limit)
{
	json_t *arr = json_array();
	unsigned int len, out = 0;
	struct nbr_pair *s = sorted_pairs(n, o, false, &len);

	for (unsigned int i = 0; s && i < len && out < limit; i++) {
		const char *v = fog_collect__cgroup_path(o, s[i].key.victim_cgid);

		if (cgroup && (!v || strcmp(v, cgroup)))
			continue;
		if (cgroup_id && s[i].key.victim_cgid != cgroup_id)
			continue;
		json_array_append_new(
			arr, json_pack("{s:o,s:I,s:o,s:I,s:f,s:f,s:I}", "victim", path_or_null(o, s[i].key.victim_cgid),
				       "victim_cgroup_id", (json_int_t)s[i].key.victim_cgid, "culprit",
				       path_or_null(o, s[i].key.culprit_cgid), "culprit_cgroup_id",
				       (json_int_t)s[i].key.culprit_cgid, "wait_seconds",
				       s[i].wait_ns / 1e9, "interval_wait_seconds",
				       (s[i].wait_ns - s[i].prev_wait_ns) / 1e9, "waits",
				       (json_int_t)s[i].waits));
		out++;
	}
	free(s);
	return arr;
}

/* The culprit's share of the wait in the last interval: its growth since the tick before. */
static __u64 culprit_interval(const struct fog_proc *p, const struct fog_culprit *c)
{
	for (int i = 0; i < FOG_NBR_CULPRITS; i++)
		if (p->culprits_prev[i].tgid == c->tgid)
			return c->wait_ns >= p->culprits_prev[i].wait_ns ?
				       c->wait_ns - p->culprits_prev[i].wait_ns : 0;
	return c->wait_ns - c->err_ns;
}

static int cmp_culprit(const void *a, const void *b)
{
	const struct fog_culprit *x = a, *y = b;

	return x->wait_ns < y->wait_ns ? 1 : x->wait_ns > y->wait_ns ? -1 : 0;
}

static json_t *proc_json(struct fog_collect *o, const struct fog_proc *p)
{
	struct fog_culprit c[FOG_NBR_CULPRITS];
	json_t *arr = json_array(), *j;

	memcpy(c, p->culprits, sizeof(c));
	fog_sort(c, FOG_NBR_CULPRITS, sizeof(c[0]), cmp_culprit);
	for (int i = 0; i < FOG_NBR_CULPRITS; i++) {
		struct fog_proc *q;

		if (!c[i].tgid)
			continue;
		q = fog_agg__proc(o->agg, c[i].tgid, false);
		json_array_append_new(
			arr, json_pack("{s:i,s:o,s:o,s:f,s:f,s:f}", "pid", (int)c[i].tgid, "comm",
				       q ? fog_json_text(q->comm) : json_null(), "cgroup", path_or_null(o, c[i].cgroup_id), "wait_seconds",
				       c[i].wait_ns / 1e9, "interval_wait_seconds",
				       culprit_interval(p, &c[i]) / 1e9, "error_seconds",
				       c[i].err_ns / 1e9));
	}
	j = json_pack("{s:i,s:o,s:o,s:f,s:o}", "pid", (int)p->pid, "comm", fog_json_text(p->comm),
		      "cgroup", path_or_null(o, p->cgroup_id), "runq_wait_seconds",
		      p->runq.sum_ns / 1e9, "culprits", arr);
	return j ? j : json_object();
}

struct procs_ctx {
	const struct fog_proc **procs;
	unsigned int n;
};

static void collect_proc(struct fog_proc *p, void *ctx)
{
	struct procs_ctx *pc = ctx;

	if (fog_nbr_main_culprit(p->culprits))
		pc->procs[pc->n++] = p;
}

static int cmp_proc_wait(const void *a, const void *b)
{
	const struct fog_proc *x = *(const struct fog_proc *const *)a;
	const struct fog_proc *y = *(const struct fog_proc *const *)b;

	return x->runq.sum_ns < y->runq.sum_ns ? 1 : x->runq.sum_ns > y->runq.sum_ns ? -1 : 0;
}

json_t *fog_nbr__json(struct fog_nbr *n, struct fog_collect *o, enum fog_nbr_mode mode,
		      const char *cgroup, __u32 pid, unsigned int limit)
{
	json_t *j = json_object(), *procs = json_array();
	struct procs_ctx pc = { 0 };
	__u64 victim_id = 0;

	if (pid) {
		struct fog_proc *p = fog_agg__proc(o->agg, pid, false);

		if (p) {
			json_array_append_new(procs, proc_json(o, p));
			victim_id = p->cgroup_id;
		}
	} else {
		pc.procs = malloc((fog_agg__count(o->agg) + 1) * sizeof(*pc.procs));
		if (pc.procs)
			fog_agg__for_each(o->agg, collect_proc, &pc);
		fog_sort(pc.procs, pc.n, sizeof(*pc.procs), cmp_proc_wait);
		for (unsigned int i = 0, out = 0; i < pc.n && out < limit; i++) {
			char path[256];
			const char *v = fog_collect__cgroup_path(o, pc.procs[i]->cgroup_id);

			snprintf(path, sizeof(path), "%s", v ? v : "");
			if (cgroup && strcmp(path, cgroup))
				continue;
			json_array_append_new(procs, proc_json(o, pc.procs[i]));
			out++;
		}
		free(pc.procs);
	}
	json_object_set_new(j, "mode", json_string(fog_nbr_mode_name(mode)));
	json_object_set_new(j, "interval_seconds", json_real(o->tick_seconds));
	json_object_set_new(j, "charged_seconds", json_real(n->charged_ns / 1e9));
	json_object_set_new(j, "unattributed_seconds", json_real(n->unattributed_ns / 1e9));
	json_object_set_new(j, "pairs_overflow", json_integer((json_int_t)n->overflow));
	json_object_set_new(j, "pairs", pairs_json(n, o, cgroup, pid ? victim_id : 0,
						   pid && !victim_id ? 0 : limit));
	json_object_set_new(j, "processes", procs);
	return j;
}
