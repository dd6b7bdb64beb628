// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "profile/prof.h"

struct fog_prof *fog_prof__new(enum fog_prof_kind kind)
{
	struct fog_prof *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->mem_psi_some_avg10 = -1;
	return p;
}

void fog_prof__free(struct fog_prof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nframes; i++) {
		free(p->frames[i].func);
		free(p->frames[i].module);
		free(p->frames[i].file);
		free(p->frames[i].func_file);
	}
	for (size_t i = 0; i < p->nstacks; i++)
		free(p->stacks[i].frames);
	for (size_t i = 0; i < p->nmaps; i++)
		free(p->maps[i].file);
	for (size_t i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->frames);
	free(p->hash);
	free(p->stacks);
	free(p->maps);
	free(p->notes);
	for (size_t i = 0; i < p->nleaks; i++) {
		free(p->leaks[i].func);
		free(p->leaks[i].stack);
	}
	free(p->leaks);
	free(p->growth);
	free(p->procs);
	free(p);
}

static __u64 hash_str(__u64 h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;	/* FNV-1a */
	return h;
}

static __u64 frame_hash(const char *func, const char *module, __u64 addr)
{
	__u64 h = hash_str(0xcbf29ce484222325ULL, func);

	h = hash_str(h ^ 0xff, module);
	return (h ^ addr) * 0x100000001b3ULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int rehash(struct fog_prof *p, size_t cap)
{
	__u32 *h = calloc(cap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct fog_prof_frame *f = &p->frames[i];
		size_t j = frame_hash(f->func, f->module, f->addr) & (cap - 1);

		while (h[j])
			j = (j + 1) & (cap - 1);
		h[j] = (__u32)i + 1;
	}
	free(p->hash);
	p->hash = h;
	p->hash_cap = cap;
	return 0;
}

long fog_prof__frame(struct fog_prof *p, const char *func, const char *module, __u64 addr,
		     bool kernel, __u32 mapping)
{
	struct fog_prof_frame *f;
	size_t j;

	if (!func)
		func = FOG_PROF_UNKNOWN;
	if ((p->nframes + 1) * 2 > p->hash_cap && rehash(p, p->hash_cap ? p->hash_cap * 2 : 1024))
		return -ENOMEM;
	j = frame_hash(func, module, addr) & (p->hash_cap - 1);
	for (; p->hash[j]; j = (j + 1) & (p->hash_cap - 1)) {
		f = &p->frames[p->hash[j] - 1];
		if (f->addr == addr && !strcmp(f->func, func) && same(f->module, module))
			return (long)p->hash[j] - 1;
	}
	if (p->nframes == p->cap_frames) {
		size_t cap = p->cap_frames ? p->cap_frames * 2 : 256;
		struct fog_prof_frame *v = realloc(p->frames, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->frames = v;
		p->cap_frames = cap;
	}
	f = &p->frames[p->nframes];
	*f = (struct fog_prof_frame){ strdup(func), module ? strdup(module) : NULL, addr, addr,
				      mapping, kernel, 0, NULL, NULL };
	if (!f->func || (module && !f->module)) {
		free(f->func);
		free(f->module);
		return -ENOMEM;
	}
	p->hash[j] = (__u32)++p->nframes;
	return (long)p->nframes - 1;
}

int fog_prof__frame_src(struct fog_prof *p, size_t frame, const char *file, __u32 line,
			const char *func_file)
{
	struct fog_prof_frame *f = &p->frames[frame];
	char *a = file ? strdup(file) : NULL, *b = func_file ? strdup(func_file) : NULL;

	if ((file && !a) || (func_file && !b)) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	free(f->file);
	free(f->func_file);
	f->file = a;
	f->func_file = b;
	f->line = line;
	return 0;
}

__u32 fog_prof__mapping(struct fog_prof *p, const char *file, __u64 start, __u64 limit,
			__u64 offset, const char *build_id)
{
	struct fog_prof_mapping *v;

	for (size_t i = 0; i < p->nmaps; i++)
		if (p->maps[i].start == start && same(p->maps[i].file, file))
			return (__u32)i + 1;
	v = realloc(p->maps, (p->nmaps + 1) * sizeof(*v));
	if (!v)
		return 0;
	p->maps = v;
	v = &p->maps[p->nmaps];
	*v = (struct fog_prof_mapping){ start, limit, offset, strdup(file ? file : "") };
	if (!v->file)
		return 0;
	snprintf(v->build_id, sizeof(v->build_id), "%s", build_id ? build_id : "");
	return (__u32)++p->nmaps;
}

int fog_prof__add_stack(struct fog_prof *p, __u32 pid, const char *comm, const __u32 *frames,
			__u32 n, __u64 value, __u64 count)
{
	struct fog_prof_stack *s;

	/* distinct kernel stack ids can symbolize alike; merging keeps outputs small */
	for (size_t i = p->nstacks; i-- > 0;) {
		s = &p->stacks[i];
		if (s->pid == pid && s->n == n && !memcmp(s->frames, frames, n * sizeof(*frames))) {
			s->value += value;
			s->count += count;
			p->total += value;
			return 0;
		}
		if (p->nstacks - i > 64)	/* merging is best effort: bounded work */
			break;
	}
	if (p->nstacks == p->cap_stacks) {
		size_t cap = p->cap_stacks ? p->cap_stacks * 2 : 256;
		struct fog_prof_stack *v = realloc(p->stacks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->stacks = v;
		p->cap_stacks = cap;
	}
	s = &p->stacks[p->nstacks];
	*s = (struct fog_prof_stack){ .pid = pid, .value = value, .count = count, .n = n };
	snprintf(s->comm, sizeof(s->comm), "%s", comm ? comm : "");
	s->frames = malloc((n ? n : 1) * sizeof(*frames));
	if (!s->frames)
		return -ENOMEM;
	memcpy(s->frames, frames, n * sizeof(*frames));
	p->nstacks++;
	p->total += value;
	return 0;
}

void fog_prof__note(struct fog_prof *p, const char *fmt, ...)
{
	char buf[512], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < p->nnotes; i++)
		if (!strcmp(p->notes[i], buf))
			return;
	v = realloc(p->notes, (p->nnotes + 1) * sizeof(*v));
	if (!v)
		return;
	p->notes = v;
	v[p->nnotes] = strdup(buf);
	if (v[p->nnotes])
		p->nnotes++;
}

size_t fog_prof_stack_name(const struct fog_prof *p, const struct fog_prof_stack *s, char *buf,
			   size_t len)
{
	size_t o = 0;
	int n;

	n = snprintf(buf, len, "%s", s->comm[0] ? s->comm : FOG_PROF_UNKNOWN);
	o = n > 0 ? (size_t)n : 0;
	for (__u32 i = s->n; i-- > 0 && o < len;) {
		n = snprintf(buf + o, len - o, ";%s", p->frames[s->frames[i]].func);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return o < len ? o : len - 1;
}

static int cmp_self(const void *a, const void *b)
{
	const struct fog_prof_func *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return strcmp(x->func, y->func);
}

static int cmp_total(const void *a, const void *b)
{
	const struct fog_prof_func *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->func, y->func);
}

/* Functions are named by (func, module): frames at different addresses merge. */
struct fog_prof_func *fog_prof_functions(const struct fog_prof *p, bool by_total, size_t *n)
{
	long *func_of = malloc((p->nframes ? p->nframes : 1) * sizeof(*func_of));
	__u64 *seen = calloc(p->nframes + 1, sizeof(*seen));
	struct fog_prof_func *fn = calloc(p->nframes + 1, sizeof(*fn));
	size_t nf = 0;

	*n = 0;
	if (!func_of || !seen || !fn)
		goto fail;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct fog_prof_frame *f = &p->frames[i];
		size_t j;

		for (j = 0; j < nf; j++)	/* frames are few per function name: linear is fine */
			if (!strcmp(fn[j].func, f->func) && same(fn[j].module, f->module))
				break;
		if (j == nf)
			fn[nf++] = (struct fog_prof_func){ f->func, f->module, 0, 0 };
		func_of[i] = (long)j;
	}
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];

		if (s->n)
			fn[func_of[s->frames[0]]].self += s->value;
		for (__u32 k = 0; k < s->n; k++) {
			long j = func_of[s->frames[k]];

			if (seen[j] == i + 1)	/* recursion counts once per stack */
				continue;
			seen[j] = i + 1;
			fn[j].total += s->value;
		}
	}
	qsort(fn, nf, sizeof(*fn), by_total ? cmp_total : cmp_self);
	free(func_of);
	free(seen);
	*n = nf;
	return fn;
fail:
	free(func_of);
	free(seen);
	free(fn);
	errno = ENOMEM;
	return NULL;
}

/* "comm;outer (a.c:3);...;leaf (b.c:9)": the file's base name keeps frames short. */
static void write_stack_lines(const struct fog_prof *p, const struct fog_prof_stack *s, FILE *f)
{
	fputs(s->comm[0] ? s->comm : FOG_PROF_UNKNOWN, f);
	for (__u32 i = s->n; i-- > 0;) {
		const struct fog_prof_frame *fr = &p->frames[s->frames[i]];
		const char *base = fr->file ? strrchr(fr->file, '/') : NULL;

		fprintf(f, ";%s", fr->func);
		if (fr->file && fr->line)
			fprintf(f, " (%s:%u)", base ? base + 1 : fr->file, fr->line);
	}
}

int fog_prof_write_folded(const struct fog_prof *p, FILE *f)
{
	char *buf = malloc(65536);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++) {
		if (p->lines) {
			write_stack_lines(p, &p->stacks[i], f);
			fprintf(f, " %llu\n", (unsigned long long)p->stacks[i].value);
			continue;
		}
		fog_prof_stack_name(p, &p->stacks[i], buf, 65536);
		fprintf(f, "%s %llu\n", buf, (unsigned long long)p->stacks[i].value);
	}
	free(buf);
	return ferror(f) ? -EIO : 0;
}

json_t *fog_prof_summary_json(const struct fog_prof *p, size_t top)
{
	json_t *j = json_object(), *self = json_array(), *total = json_array(), *notes = json_array();
	struct fog_prof_func *fn;
	size_t n = 0;

	static const char *const kinds[] = { "cpu", "alloc", "inuse", "offcpu" };

	json_object_set_new(j, "kind", json_string(kinds[p->kind]));
	json_object_set_new(j, "target", json_string(p->target));
	json_object_set_new(j, "duration_seconds", json_real((double)p->duration_ns / 1e9));
	json_object_set_new(j, "frequency", json_integer(p->frequency));
	json_object_set_new(j, "period", json_integer((json_int_t)p->period));
	json_object_set_new(j, "total", json_integer((json_int_t)p->total));
	json_object_set_new(j, "stacks", json_integer((json_int_t)p->nstacks));
	json_object_set_new(j, "frames", json_integer((json_int_t)p->nframes));
	for (int pass = 0; pass < 2; pass++) {
		fn = fog_prof_functions(p, pass, &n);
		for (size_t i = 0; fn && i < n && i < top; i++)
			json_array_append_new(pass ? total : self,
					      json_pack("{s:s,s:s?,s:I,s:I}", "function", fn[i].func,
							"module", fn[i].module, "self",
							(json_int_t)fn[i].self, "total",
							(json_int_t)fn[i].total));
		free(fn);
	}
	json_object_set_new(j, "top_self", self);
	json_object_set_new(j, "top_total", total);
	for (size_t i = 0; i < p->nnotes; i++)
		json_array_append_new(notes, json_string(p->notes[i]));
	json_object_set_new(j, "notes", notes);
	if (p->kind == FOG_PROF_ALLOC || p->kind == FOG_PROF_INUSE) {
		json_t *leaks = json_array(), *growth = json_array();

		for (size_t i = 0; i < p->nleaks; i++) {
			const struct fog_prof_leak *l = &p->leaks[i];

			json_array_append_new(leaks, json_pack(
				"{s:s,s:s,s:I,s:I,s:I,s:b,s:f,s:I}", "function", l->func, "stack",
				l->stack, "live_bytes", (json_int_t)l->live_bytes, "live_objects",
				(json_int_t)l->live_objects, "growth_bytes", (json_int_t)l->growth_bytes,
				"growing", l->growing, "oldest_age_seconds", l->oldest_age_s,
				"big_allocations", (json_int_t)l->big));
		}
		for (size_t i = 0; i < p->ngrowth; i++)
			json_array_append_new(growth, json_pack("{s:f,s:I}", "t", p->growth[i].t_s,
								"live_bytes",
								(json_int_t)p->growth[i].bytes));
		json_object_set_new(j, "leaks", leaks);
		json_object_set_new(j, "growth", growth);
	}
	return j;
}
