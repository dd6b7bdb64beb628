// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential profiles. Stacks are matched by their folded names, so two runs
 * of one program match whatever their pids and addresses; shares are each
 * profile's own (normalised to its total), so a longer or busier run does not
 * read as growth everywhere (pprof -diff_base -normalize; Gregg, "Differential
 * Flame Graphs", 2014).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.pb-c.h"
#include "profile/diff.h"
#include "profile/flame.h"
#include "profile/report.h"

#define TOP_FUNCS 40

/* name -> index + 1, open addressing; grows at half full */
struct names {
	__u32 *slot;
	size_t cap;
};

static __u64 name_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The slot of name (index + 1 there, or 0 for a free slot); get(i) gives entry i's name. */
static size_t names_find(const struct names *t, const char *name,
			 const char *(*get)(const void *, size_t), const void *v)
{
	size_t j = name_hash(name) & (t->cap - 1);

	for (; t->slot[j]; j = (j + 1) & (t->cap - 1))
		if (!strcmp(get(v, t->slot[j] - 1), name))
			break;
	return j;
}

static int names_grow(struct names *t, size_t n, const char *(*get)(const void *, size_t),
		      const void *v)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct names nt = { calloc(cap, sizeof(__u32)), cap };

	if (!nt.slot)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		nt.slot[names_find(&nt, get(v, i), get, v)] = (__u32)i + 1;
	free(t->slot);
	*t = nt;
	return 0;
}

static const char *stack_name_at(const void *v, size_t i)
{
	return ((const struct fog_diff_stack *)v)[i].name;
}

static const char *func_name_at(const void *v, size_t i)
{
	return ((const struct fog_diff_func *)v)[i].name;
}

/* "comm;outer;...;leaf" of s, malloc'd; names are clean already but for ';'. */
static char *join_stack(const struct fog_prof *p, const struct fog_prof_stack *s)
{
	const char *comm = s->comm[0] ? s->comm : FOG_PROF_UNKNOWN;
	size_t len = strlen(comm) + 1, o = 0;
	char *buf;

	for (__u32 i = 0; i < s->n; i++)
		len += strlen(p->frames[s->frames[i]].func) + 1;
	buf = malloc(len);
	if (!buf)
		return NULL;
	for (__u32 i = s->n + 1; i-- > 0;) {
		const char *name = i == s->n ? comm : p->frames[s->frames[i]].func;

		if (i != s->n)
			buf[o++] = ';';
		for (; *name; name++)
			buf[o++] = *name == ';' ? ':' : *name;
	}
	buf[o] = '\0';
	return buf;
}

static int add_stacks(struct fog_diff *d, struct names *t, size_t *cap, const struct fog_prof *p,
		      bool is_new, size_t *name_bytes)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		char *name = join_stack(p, &p->stacks[i]);
		size_t j;

		if (!name)
			return -ENOMEM;
		/* deep stacks of long names: each key is up to depth x name length */
		*name_bytes += strlen(name) + 1;
		if (*name_bytes > FOG_PPROF_NAMES_MAX) {
			free(name);
			return -E2BIG;
		}
		if ((d->nstacks + 1) * 2 > t->cap && names_grow(t, d->nstacks, stack_name_at,
								 d->stacks)) {
			free(name);
			return -ENOMEM;
		}
		j = names_find(t, name, stack_name_at, d->stacks);
		if (!t->slot[j]) {
			if (d->nstacks == *cap) {
				size_t nc = *cap ? *cap * 2 : 256;
				struct fog_diff_stack *v = realloc(d->stacks, nc * sizeof(*v));

				if (!v) {
					free(name);
					return -ENOMEM;
				}
				d->stacks = v;
				*cap = nc;
			}
			d->stacks[d->nstacks] = (struct fog_diff_stack){ .name = name };
			t->slot[j] = (__u32)++d->nstacks;
		} else {
			free(name);
		}
		if (is_new)
			d->stacks[t->slot[j] - 1].new += p->stacks[i].value;
		else
			d->stacks[t->slot[j] - 1].base += p->stacks[i].value;
	}
	return 0;
}

/* One function's entry (made when new); NULL when out of memory. */
static struct fog_diff_func *func_of(struct fog_diff *d, struct names *t, size_t *cap,
				     const char *name, size_t len)
{
	char key[FOG_PROF_NAME_MAX + 1];
	size_t j;

	if (len > FOG_PROF_NAME_MAX)
		len = FOG_PROF_NAME_MAX;
	memcpy(key, name, len);
	key[len] = '\0';
	if ((d->nfuncs + 1) * 2 > t->cap && names_grow(t, d->nfuncs, func_name_at, d->funcs))
		return NULL;
	j = names_find(t, key, func_name_at, d->funcs);
	if (t->slot[j])
		return &d->funcs[t->slot[j] - 1];
	if (d->nfuncs == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct fog_diff_func *v = realloc(d->funcs, nc * sizeof(*v));

		if (!v)
			return NULL;
		d->funcs = v;
		*cap = nc;
	}
	d->funcs[d->nfuncs] = (struct fog_diff_func){ .name = strdup(key) };
	if (!d->funcs[d->nfuncs].name)
		return NULL;
	t->slot[j] = (__u32)++d->nfuncs;
	return &d->funcs[d->nfuncs - 1];
}

/* Per function self (as the leaf) and total (once per stack), from the matched stacks. */
static int count_funcs(struct fog_diff *d)
{
	struct names t = { 0 };
	size_t cap = 0;

	for (size_t i = 0; i < d->nstacks; i++) {
		const struct fog_diff_stack *s = &d->stacks[i];
		const char *p = strchr(s->name, ';');	/* the comm is no function */

		while (p) {
			const char *name = p + 1, *end = strchr(name, ';');
			struct fog_diff_func *fn;

			fn = func_of(d, &t, &cap, name, end ? (size_t)(end - name) : strlen(name));
			if (!fn) {
				free(t.slot);
				return -ENOMEM;
			}
			if (fn->stamp != i + 1) {
				fn->stamp = i + 1;
				fn->base_total += s->base;
				fn->new_total += s->new;
			}
			if (!end) {
				fn->base_self += s->base;
				fn->new_self += s->new;
			}
			p = end;
		}
	}
	free(t.slot);
	return 0;
}

double fog_diff_share_change(const struct fog_diff *d, __u64 base, __u64 new)
{
	double a = d->new->total ? (double)new / (double)d->new->total : 0;
	double b = d->base->total ? (double)base / (double)d->base->total : 0;

	return a - b;
}

static int cmp_func(const void *a, const void *b)
{
	const struct fog_diff_func *x = a, *y = b;
	double dx = fabs(x->change), dy = fabs(y->change);

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmp_stack(const void *a, const void *b)
{
	return strcmp(((const struct fog_diff_stack *)a)->name,
		      ((const struct fog_diff_stack *)b)->name);
}

struct fog_diff *fog_diff__new(const struct fog_prof *base, const struct fog_prof *new)
{
	struct fog_diff *d = calloc(1, sizeof(*d));
	struct names t = { 0 };
	size_t cap = 0, name_bytes = 0;
	int err = -ENOMEM;

	if (!d)
		goto fail;
	d->base = base;
	d->new = new;
	err = add_stacks(d, &t, &cap, new, true, &name_bytes);
	if (!err)
		err = add_stacks(d, &t, &cap, base, false, &name_bytes);
	free(t.slot);
	if (!err)
		err = count_funcs(d);
	if (err)
		goto fail;
	if (d->nstacks)
		qsort(d->stacks, d->nstacks, sizeof(*d->stacks), cmp_stack);
	for (size_t i = 0; i < d->nfuncs; i++)
		d->funcs[i].change = fog_diff_share_change(d, d->funcs[i].base_self,
							   d->funcs[i].new_self);
	if (d->nfuncs)
		qsort(d->funcs, d->nfuncs, sizeof(*d->funcs), cmp_func);
	return d;
fail:
	fog_diff__free(d);
	errno = -err;
	return NULL;
}

void fog_diff__free(struct fog_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nstacks; i++)
		free(d->stacks[i].name);
	for (size_t i = 0; i < d->nfuncs; i++)
		free(d->funcs[i].name);
	free(d->stacks);
	free(d->funcs);
	free(d);
}

int fog_diff_write_folded(const struct fog_diff *d, FILE *f)
{
	for (size_t i = 0; i < d->nstacks; i++)
		fprintf(f, "%s %llu %llu\n", d->stacks[i].name,
			(unsigned long long)d->stacks[i].base, (unsigned long long)d->stacks[i].new);
	return ferror(f) ? -EIO : 0;
}

static double share(__u64 v, __u64 total)
{
	return total ? 100.0 * (double)v / (double)total : 0;
}

static void change_cell(FILE *f, double pct_points)
{
	fprintf(f, "<td class=\"%s\">%+.2f</td>", pct_points > 0 ? "grew" : pct_points < 0 ?
		"shrank" : "same", pct_points);
}

int fog_diff_write_html(const struct fog_diff *d, const struct fog_diff_page *o, FILE *f)
{
	/* a count of events reads as what it counts: "samples", "switches", "alloc_objects" */
	const char *unit = strcmp(o->unit, "count") ? o->unit : o->type;
	struct fog_flame_opts fo = { .title = "Differential flame graph", .inline_svg = true,
				     .base = d->base, .unit = unit };
	int err;

	fog_report_write_head(f, "fogd differential profile");
	fputs("<style>.grew{color:#c00}.shrank{color:#00c}.key{padding:0 6px}"
	      ".key.r{background:rgb(255,80,80)}.key.b{background:rgb(80,80,255);color:#fff}"
	      "</style>\n<h1>fogd differential profile</h1>\n<p class=\"lead\">", f);
	fputs("base <b>", f);
	fog_xml_escape(f, o->base_name);
	fprintf(f, "</b>: %llu ", (unsigned long long)d->base->total);
	fog_xml_escape(f, unit);
	fputs("; new <b>", f);
	fog_xml_escape(f, o->new_name);
	fprintf(f, "</b>: %llu ", (unsigned long long)d->new->total);
	fog_xml_escape(f, unit);
	fputs(" (sample value ", f);
	fog_xml_escape(f, o->type);
	fputs("/", f);
	fog_xml_escape(f, o->unit);
	fputs("). Widths are the new profile's; <span class=\"key r\">red</span> grew and "
	      "<span class=\"key b\">blue</span> shrank, by the change of each frame's share of "
	      "its own profile's total.</p>\n<div class=\"flame\" id=\"flame\">\n", f);
	fog_flame_write_toolbar(f, fo.title);
	err = fog_flame_write_svg(d->new, &fo, f);
	if (err)
		return err;
	fputs("</div>\n<h2 id=\"changes\">Largest changes by function</h2>\n", f);
	if (!d->nfuncs) {
		fputs("<p>Neither profile has a sample.</p>\n", f);
	} else {
		fputs("<p class=\"note\">Shares of each profile's total, in percent; the change in "
		      "percentage points. Functions that vanished from the new profile are here "
		      "too, though the flame graph (new widths) cannot show them.</p>\n"
		      "<table class=\"changes\"><tr><th>function</th><th>self base</th>"
		      "<th>self new</th><th>self change</th><th>total base</th><th>total new</th>"
		      "<th>total change</th></tr>\n", f);
	}
	for (size_t i = 0; i < d->nfuncs && i < TOP_FUNCS; i++) {
		const struct fog_diff_func *fn = &d->funcs[i];

		fputs("<tr><td>", f);
		fog_xml_escape(f, fn->name);
		fprintf(f, "</td><td>%.2f</td><td>%.2f</td>", share(fn->base_self, d->base->total),
			share(fn->new_self, d->new->total));
		change_cell(f, 100.0 * fog_diff_share_change(d, fn->base_self, fn->new_self));
		fprintf(f, "<td>%.2f</td><td>%.2f</td>", share(fn->base_total, d->base->total),
			share(fn->new_total, d->new->total));
		change_cell(f, 100.0 * fog_diff_share_change(d, fn->base_total, fn->new_total));
		fputs("</tr>\n", f);
	}
	if (d->nfuncs)
		fputs("</table>\n", f);
	fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- pprof: NEW, then BASE negated (pprof's -diff_base convention) ---- */

struct merged {
	Fogpprof__Profile m;
	char **strs;
	Fogpprof__Mapping *maps, **map_ptrs;
	Fogpprof__Function *funcs, **func_ptrs;
	Fogpprof__Location *locs, **loc_ptrs;
	Fogpprof__Line *lines, **line_ptrs;
	Fogpprof__Sample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	int64_t *values;
	Fogpprof__Label *labels, **label_ptrs;
};

static void merged_free(struct merged *g)
{
	free(g->strs);
	free(g->maps);
	free(g->map_ptrs);
	free(g->funcs);
	free(g->func_ptrs);
	free(g->locs);
	free(g->loc_ptrs);
	free(g->lines);
	free(g->line_ptrs);
	free(g->samples);
	free(g->sample_ptrs);
	free(g->loc_ids);
	free(g->values);
	free(g->labels);
	free(g->label_ptrs);
}

static uint64_t max_id(void *const *v, size_t n, size_t id_off)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t id = *(const uint64_t *)((const char *)v[i] + id_off);

		if (id > m)
			m = id;
	}
	return m;
}

/* memcpy, which a message's empty (NULL) arrays must not reach */
static void copy(void *dst, const void *src, size_t n, size_t size)
{
	if (n)
		memcpy(dst, src, n * size);
}

/* The base's value index for each of new's sample types, -1 where base has none. */
static void match_types(const Fogpprof__Profile *b, const Fogpprof__Profile *n, long *of)
{
	for (size_t i = 0; i < n->n_sample_type; i++) {
		const char *t = n->string_table[n->sample_type[i]->type];
		const char *u = n->string_table[n->sample_type[i]->unit];

		of[i] = -1;
		for (size_t j = 0; j < b->n_sample_type && of[i] < 0; j++)
			if (!strcmp(b->string_table[b->sample_type[j]->type], t) &&
			    !strcmp(b->string_table[b->sample_type[j]->unit], u))
				of[i] = (long)j;
	}
}

static int merge_alloc(struct merged *g, const Fogpprof__Profile *b, const Fogpprof__Profile *n)
{
	size_t nlines = 0, nlocids = 0, nvals = 0, nlabels = 0;

	for (size_t i = 0; i < b->n_location; i++)
		nlines += b->location[i]->n_line;
	for (size_t i = 0; i < b->n_sample; i++) {
		nlocids += b->sample[i]->n_location_id;
		nlabels += b->sample[i]->n_label + 1;
	}
	nvals = b->n_sample * n->n_sample_type;
	g->strs = calloc(n->n_string_table + b->n_string_table + 2, sizeof(*g->strs));
	g->maps = calloc(b->n_mapping + 1, sizeof(*g->maps));
	g->map_ptrs = calloc(n->n_mapping + b->n_mapping + 1, sizeof(*g->map_ptrs));
	g->funcs = calloc(b->n_function + 1, sizeof(*g->funcs));
	g->func_ptrs = calloc(n->n_function + b->n_function + 1, sizeof(*g->func_ptrs));
	g->locs = calloc(b->n_location + 1, sizeof(*g->locs));
	g->loc_ptrs = calloc(n->n_location + b->n_location + 1, sizeof(*g->loc_ptrs));
	g->lines = calloc(nlines + 1, sizeof(*g->lines));
	g->line_ptrs = calloc(nlines + 1, sizeof(*g->line_ptrs));
	g->samples = calloc(b->n_sample + 1, sizeof(*g->samples));
	g->sample_ptrs = calloc(n->n_sample + b->n_sample + 1, sizeof(*g->sample_ptrs));
	g->loc_ids = calloc(nlocids + 1, sizeof(*g->loc_ids));
	g->values = calloc(nvals + 1, sizeof(*g->values));
	g->labels = calloc(nlabels + 1, sizeof(*g->labels));
	g->label_ptrs = calloc(nlabels + 1, sizeof(*g->label_ptrs));
	if (!g->strs || !g->maps || !g->map_ptrs || !g->funcs || !g->func_ptrs || !g->locs ||
	    !g->loc_ptrs || !g->lines || !g->line_ptrs || !g->samples || !g->sample_ptrs ||
	    !g->loc_ids || !g->values || !g->labels || !g->label_ptrs)
		return -ENOMEM;
	return 0;
}

/* Appends base's locations and samples to a copy of new's message (ids and strings shifted). */
static int merge(struct merged *g, const Fogpprof__Profile *b, const Fogpprof__Profile *n,
		 char *err, size_t errlen)
{
	uint64_t mo = max_id((void *const *)n->mapping, n->n_mapping,
			     offsetof(Fogpprof__Mapping, id));
	uint64_t fo = max_id((void *const *)n->function, n->n_function,
			     offsetof(Fogpprof__Function, id));
	uint64_t lo = max_id((void *const *)n->location, n->n_location,
			     offsetof(Fogpprof__Location, id));
	int64_t so = (int64_t)n->n_string_table, key, yes;
	size_t nl = 0, nli = 0, nv = 0, nlb = 0;
	long of[64];
	int err_no;

	if (n->n_sample_type > sizeof(of) / sizeof(of[0])) {
		snprintf(err, errlen, "more than %zu sample types", sizeof(of) / sizeof(of[0]));
		return -EINVAL;
	}
	if (max_id((void *const *)b->mapping, b->n_mapping, offsetof(Fogpprof__Mapping, id)) >
		    UINT64_MAX - mo ||
	    max_id((void *const *)b->function, b->n_function, offsetof(Fogpprof__Function, id)) >
		    UINT64_MAX - fo ||
	    max_id((void *const *)b->location, b->n_location, offsetof(Fogpprof__Location, id)) >
		    UINT64_MAX - lo) {
		snprintf(err, errlen, "ids too large to renumber");
		return -EOVERFLOW;
	}
	err_no = merge_alloc(g, b, n);
	if (err_no)
		return err_no;
	match_types(b, n, of);
	g->m = *n;
	copy(g->strs, n->string_table, n->n_string_table, sizeof(*g->strs));
	copy(g->strs + so, b->string_table, b->n_string_table, sizeof(*g->strs));
	key = so + (int64_t)b->n_string_table;
	yes = key + 1;
	g->strs[key] = "pprof::base";
	g->strs[yes] = "true";
	g->m.string_table = g->strs;
	g->m.n_string_table = (size_t)yes + 1;

	copy(g->map_ptrs, n->mapping, n->n_mapping, sizeof(*g->map_ptrs));
	for (size_t i = 0; i < b->n_mapping; i++) {
		g->maps[i] = *b->mapping[i];
		g->maps[i].id += mo;
		g->maps[i].filename += so;
		g->maps[i].build_id += so;
		g->map_ptrs[n->n_mapping + i] = &g->maps[i];
	}
	g->m.mapping = g->map_ptrs;
	g->m.n_mapping = n->n_mapping + b->n_mapping;

	copy(g->func_ptrs, n->function, n->n_function, sizeof(*g->func_ptrs));
	for (size_t i = 0; i < b->n_function; i++) {
		g->funcs[i] = *b->function[i];
		g->funcs[i].id += fo;
		g->funcs[i].name += so;
		g->funcs[i].system_name += so;
		g->funcs[i].filename += so;
		g->func_ptrs[n->n_function + i] = &g->funcs[i];
	}
	g->m.function = g->func_ptrs;
	g->m.n_function = n->n_function + b->n_function;

	copy(g->loc_ptrs, n->location, n->n_location, sizeof(*g->loc_ptrs));
	for (size_t i = 0; i < b->n_location; i++) {
		const Fogpprof__Location *l = b->location[i];

		g->locs[i] = *l;
		g->locs[i].id += lo;
		if (l->mapping_id)
			g->locs[i].mapping_id += mo;
		g->locs[i].line = &g->line_ptrs[nl];
		for (size_t k = 0; k < l->n_line; k++, nl++) {
			g->lines[nl] = *l->line[k];
			if (g->lines[nl].function_id)
				g->lines[nl].function_id += fo;
			g->line_ptrs[nl] = &g->lines[nl];
		}
		g->loc_ptrs[n->n_location + i] = &g->locs[i];
	}
	g->m.location = g->loc_ptrs;
	g->m.n_location = n->n_location + b->n_location;

	copy(g->sample_ptrs, n->sample, n->n_sample, sizeof(*g->sample_ptrs));
	for (size_t i = 0; i < b->n_sample; i++) {
		const Fogpprof__Sample *s = b->sample[i];
		Fogpprof__Sample *d = &g->samples[i];

		*d = *s;
		d->location_id = &g->loc_ids[nli];
		for (size_t k = 0; k < s->n_location_id; k++)
			g->loc_ids[nli++] = s->location_id[k] + lo;
		d->value = &g->values[nv];
		d->n_value = n->n_sample_type;
		for (size_t k = 0; k < n->n_sample_type; k++)
			g->values[nv++] = of[k] < 0 ? 0 : -s->value[of[k]];
		d->label = &g->label_ptrs[nlb];
		for (size_t k = 0; k < s->n_label; k++) {
			g->labels[nlb] = *s->label[k];
			g->labels[nlb].key += so;
			g->labels[nlb].str += so;
			g->labels[nlb].num_unit += so;
			g->label_ptrs[nlb] = &g->labels[nlb];
			nlb++;
		}
		fogpprof__label__init(&g->labels[nlb]);
		g->labels[nlb].key = key;
		g->labels[nlb].str = yes;
		g->label_ptrs[nlb] = &g->labels[nlb];
		nlb++;
		d->n_label = s->n_label + 1;
		g->sample_ptrs[n->n_sample + i] = d;
	}
	g->m.sample = g->sample_ptrs;
	g->m.n_sample = n->n_sample + b->n_sample;
	return 0;
}

int fog_diff_pprof(const struct fog_pprof *base, const struct fog_pprof *new, void **out,
		   size_t *len, char *err, size_t errlen)
{
	struct merged g = { 0 };
	size_t raw_len;
	void *raw;
	int rc;

	*out = NULL;
	*len = 0;
	snprintf(err, errlen, "out of memory");
	rc = merge(&g, fog_pprof_message(base), fog_pprof_message(new), err, errlen);
	if (rc)
		goto out;
	raw_len = fogpprof__profile__get_packed_size(&g.m);
	raw = malloc(raw_len ? raw_len : 1);
	rc = -ENOMEM;
	if (!raw)
		goto out;
	fogpprof__profile__pack(&g.m, raw);
	rc = fog_pprof_gzip(raw, raw_len, out, len);
	free(raw);
out:
	merged_free(&g);
	return rc;
}
