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

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlong forms (e0 a0..), no surrogates (ed 80..9f) */
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* up to U+10FFFF, no overlong forms */
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80 ||
		    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

size_t fog_prof_clean_name(char *dst, size_t cap, const char *src, bool sep)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0, n;

	while (*s) {
		n = utf8_len(s);
		if (n == 1) {
			char c = (char)*s;

			if (*s < 0x20 || *s == 0x7f)
				c = '?';
			else if (sep && c == ';')
				c = ':';
			if (o + 1 >= cap)
				break;
			dst[o++] = c;
		} else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			if (o + 1 >= cap)	/* C1 controls (U+0080..U+009F) */
				break;
			dst[o++] = '?';
		} else if (n) {
			if (o + n >= cap)
				break;
			memcpy(dst + o, s, n);
			o += n;
		} else {
			if (o + 3 >= cap)	/* an invalid byte: U+FFFD */
				break;
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
		s += n;
	}
	dst[o] = '\0';
	return o;
}

/* A malloc'd clean copy of s, or NULL (for s NULL too). */
static char *clean_dup(const char *s)
{
	char buf[FOG_PROF_NAME_MAX];

	if (!s)
		return NULL;
	fog_prof_clean_name(buf, sizeof(buf), s, false);
	return strdup(buf);
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
	char fbuf[FOG_PROF_NAME_MAX], mbuf[FOG_PROF_NAME_MAX];
	struct fog_prof_frame *f;
	size_t j;

	if (!func)
		func = FOG_PROF_UNKNOWN;
	/* names come from tenants' binaries and maps: cleaned here, once, for every output */
	fog_prof_clean_name(fbuf, sizeof(fbuf), func, false);
	func = fbuf;
	if (module) {
		fog_prof_clean_name(mbuf, sizeof(mbuf), module, false);
		module = mbuf;
	}
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
	char *a = clean_dup(file), *b = clean_dup(func_file);

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
	*v = (struct fog_prof_mapping){ start, limit, offset, clean_dup(file ? file : "") };
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
	fog_prof_clean_name(s->comm, sizeof(s->comm), comm, false);
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
	char raw[512], buf[512], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	fog_prof_clean_name(buf, sizeof(buf), raw, false);	/* notes may quote names */
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

/* Appends ";name" to buf at o with ';' in the name replaced; returns the new length. */
static size_t append_frame(char *buf, size_t len, size_t o, const char *name)
{
	if (o + 1 >= len)
		return o;
	buf[o++] = ';';
	for (; *name && o + 1 < len; name++)
		buf[o++] = *name == ';' ? ':' : *name;
	/* cut short: never in the middle of a UTF-8 sequence */
	if (*name && (*name & 0xc0) == 0x80)
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
	if (*name && o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
		o--;
	buf[o] = '\0';
	return o;
}

size_t fog_prof_stack_name(const struct fog_prof *p, const struct fog_prof_stack *s, char *buf,
			   size_t len)
{
	size_t o;

	/* names are clean already: only the separator needs replacing */
	o = fog_prof_clean_name(buf, len, s->comm[0] ? s->comm : FOG_PROF_UNKNOWN, true);
	for (__u32 i = s->n; i-- > 0 && o + 1 < len;)
		o = append_frame(buf, len, o, p->frames[s->frames[i]].func);
	return o;
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

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;

	while (c < n)
		c *= 2;
	return c;
}

/*
 * Functions are named by (func, module): frames at different addresses merge.
 * func_of[frame] is the index of its function in fn (nf of them); hashed, so
 * linear in frames. Returns 0 or -ENOMEM.
 */
static int index_functions(const struct fog_prof *p, long *func_of, struct fog_prof_func *fn,
			   size_t *nf)
{
	size_t cap = pow2_at_least(2 * p->nframes + 2), n = 0;
	__u32 *h = calloc(cap, sizeof(*h));	/* function index + 1 */

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct fog_prof_frame *f = &p->frames[i];
		size_t j = hash_str(hash_str(0xcbf29ce484222325ULL, f->func) ^ 0xff, f->module) &
			   (cap - 1);

		for (; h[j]; j = (j + 1) & (cap - 1))
			if (!strcmp(fn[h[j] - 1].func, f->func) && same(fn[h[j] - 1].module, f->module))
				break;
		if (!h[j]) {
			fn[n] = (struct fog_prof_func){ .func = f->func, .module = f->module,
							.kernel = f->kernel };
			h[j] = (__u32)++n;
		}
		func_of[i] = (long)h[j] - 1;
	}
	free(h);
	*nf = n;
	return 0;
}

/* The first user frame of a stack (leaf first), or s->n when it has none. */
static __u32 first_user(const struct fog_prof *p, const struct fog_prof_stack *s)
{
	__u32 k = 0;

	while (k < s->n && p->frames[s->frames[k]].kernel)
		k++;
	return k;
}

struct fog_prof_func *fog_prof_functions_of(const struct fog_prof *p, bool by_total,
					    enum fog_prof_side side, size_t *n)
{
	long *func_of = malloc((p->nframes ? p->nframes : 1) * sizeof(*func_of));
	__u64 *seen = calloc(p->nframes + 1, sizeof(*seen));
	struct fog_prof_func *fn = calloc(p->nframes + 1, sizeof(*fn));
	size_t nf = 0, keep = 0;

	*n = 0;
	if (!func_of || !seen || !fn || index_functions(p, func_of, fn, &nf))
		goto fail;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];
		__u32 u = first_user(p, s);

		if (s->n && p->frames[s->frames[0]].kernel)
			fn[func_of[s->frames[0]]].self += s->value;
		if (u < s->n) {
			struct fog_prof_func *uf = &fn[func_of[s->frames[u]]];

			uf->self += s->value;
			if (u)
				uf->in_kernel += s->value;
		}
		for (__u32 k = 0; k < s->n; k++) {
			long j = func_of[s->frames[k]];

			if (seen[j] == i + 1)	/* recursion counts once per stack */
				continue;
			seen[j] = i + 1;
			if (!fn[j].total || s->value > p->stacks[fn[j].heaviest].value)
				fn[j].heaviest = i;
			fn[j].total += s->value;
		}
	}
	for (size_t i = 0; i < nf; i++)
		if (side == FOG_PROF_FUNCS_ALL || fn[i].kernel == (side == FOG_PROF_FUNCS_KERNEL))
			fn[keep++] = fn[i];
	qsort(fn, keep, sizeof(*fn), by_total ? cmp_total : cmp_self);
	free(func_of);
	free(seen);
	*n = keep;
	return fn;
fail:
	free(func_of);
	free(seen);
	free(fn);
	errno = ENOMEM;
	return NULL;
}

struct fog_prof_func *fog_prof_functions(const struct fog_prof *p, bool by_total, size_t *n)
{
	return fog_prof_functions_of(p, by_total, FOG_PROF_FUNCS_ALL, n);
}

/* Kernel paths (the leading kernel frames of a stack) merged by their functions. */
struct kpath {
	size_t stack;	/* a stack with this path, +1; 0 for a free slot */
	__u64 value;
};

static bool same_kpath(const long *func_of, const struct fog_prof_stack *a, __u32 na,
		       const struct fog_prof_stack *b, __u32 nb)
{
	if (na != nb)
		return false;
	for (__u32 k = 0; k < na; k++)
		if (func_of[a->frames[k]] != func_of[b->frames[k]])
			return false;
	return true;
}

int fog_prof_kernel_time(const struct fog_prof *p, struct fog_prof_kernel_time *k)
{
	size_t cap = pow2_at_least(2 * p->nstacks + 2), nf = 0, best = 0;
	long *func_of = malloc((p->nframes ? p->nframes : 1) * sizeof(*func_of));
	struct fog_prof_func *fn = calloc(p->nframes + 1, sizeof(*fn));
	struct kpath *t = calloc(cap, sizeof(*t));
	int err = -ENOMEM;

	*k = (struct fog_prof_kernel_time){ 0 };
	if (!func_of || !fn || !t || index_functions(p, func_of, fn, &nf))
		goto out;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];
		__u32 u = first_user(p, s);
		__u64 h = 0xcbf29ce484222325ULL;
		size_t j;

		if (!u)
			continue;
		k->value += s->value;
		if (u == s->n)
			k->kernel_only += s->value;
		fn[func_of[s->frames[0]]].self += s->value;
		for (__u32 q = 0; q < u; q++)
			h = (h ^ (__u64)func_of[s->frames[q]]) * 0x100000001b3ULL;
		for (j = h & (cap - 1); t[j].stack; j = (j + 1) & (cap - 1)) {
			const struct fog_prof_stack *o = &p->stacks[t[j].stack - 1];

			if (same_kpath(func_of, s, u, o, first_user(p, o)))
				break;
		}
		if (!t[j].stack)
			t[j].stack = i + 1;
		t[j].value += s->value;
		if (t[j].value > k->path_value) {
			k->path_value = t[j].value;
			best = t[j].stack;
		}
	}
	for (size_t i = 0; i < nf; i++)
		if (fn[i].kernel && fn[i].self > k->func_self) {
			k->func = fn[i].func;
			k->module = fn[i].module;
			k->func_self = fn[i].self;
		}
	if (best) {
		const struct fog_prof_stack *s = &p->stacks[best - 1];
		__u32 u = first_user(p, s);
		size_t o = 0;

		for (__u32 q = u; q-- > 0;)
			o = o ? append_frame(k->path, sizeof(k->path), o,
					     p->frames[s->frames[q]].func) :
				fog_prof_clean_name(k->path, sizeof(k->path),
						    p->frames[s->frames[q]].func, true);
		if (u < s->n)
			k->user_func = p->frames[s->frames[u]].func;
	}
	err = 0;
out:
	free(func_of);
	free(fn);
	free(t);
	return err;
}

/*
 * One folded line's frames, "comm;outer;...;leaf", with p->lines "func (file.c:12)"
 * (the file's base name keeps frames short). Written name by name: no stack is cut.
 */
static void write_stack(const struct fog_prof *p, const struct fog_prof_stack *s, FILE *f)
{
	char buf[FOG_PROF_NAME_MAX];

	fog_prof_clean_name(buf, sizeof(buf), s->comm[0] ? s->comm : FOG_PROF_UNKNOWN, true);
	fputs(buf, f);
	for (__u32 i = s->n; i-- > 0;) {
		const struct fog_prof_frame *fr = &p->frames[s->frames[i]];
		const char *base = fr->file ? strrchr(fr->file, '/') : NULL;

		fog_prof_clean_name(buf, sizeof(buf), fr->func, true);
		fprintf(f, ";%s", buf);
		if (p->lines && fr->file && fr->line) {
			fog_prof_clean_name(buf, sizeof(buf), base ? base + 1 : fr->file, true);
			fprintf(f, " (%s:%u)", buf, fr->line);
		}
	}
}

int fog_prof_write_folded(const struct fog_prof *p, FILE *f)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		write_stack(p, &p->stacks[i], f);
		fprintf(f, " %llu\n", (unsigned long long)p->stacks[i].value);
	}
	return ferror(f) ? -EIO : 0;
}

static json_t *func_json(const struct fog_prof_func *f)
{
	json_t *j = json_pack("{s:s,s:s?,s:b,s:I,s:I}", "function", f->func, "module", f->module,
			      "kernel", f->kernel, "self", (json_int_t)f->self, "total",
			      (json_int_t)f->total);

	if (j && !f->kernel)
		json_object_set_new(j, "self_in_kernel", json_integer((json_int_t)f->in_kernel));
	return j;
}

/* The hottest user function and the kernel time, apart: what a reader asks first. */
static int summary_hot(const struct fog_prof *p, json_t *j)
{
	struct fog_prof_kernel_time k;
	struct fog_prof_func *fn;
	size_t n = 0;

	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_USER, &n);
	if (!fn)
		return -ENOMEM;
	json_object_set_new(j, "hot_user_function", n && fn[0].self ? func_json(&fn[0]) : json_null());
	free(fn);
	if (fog_prof_kernel_time(p, &k))
		return -ENOMEM;
	json_object_set_new(j, "kernel", json_pack(
		"{s:I,s:f,s:I,s:s?,s:I,s:s,s:I,s:s?}", "total", (json_int_t)k.value, "share",
		p->total ? (double)k.value / (double)p->total : 0.0, "kernel_only",
		(json_int_t)k.kernel_only, "hottest_function", k.func, "hottest_function_self",
		(json_int_t)k.func_self, "hottest_path", k.path, "hottest_path_total",
		(json_int_t)k.path_value, "hottest_path_user_function", k.user_func));
	return 0;
}

json_t *fog_prof_summary_json(const struct fog_prof *p, size_t top)
{
	json_t *j = json_object(), *self = json_array(), *total = json_array(), *notes = json_array();
	json_t *kself = json_array();
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
	if (summary_hot(p, j))
		goto fail;
	/* top_self and top_total: user functions; top_kernel: kernel functions as the leaf */
	for (int pass = 0; pass < 3; pass++) {
		fn = fog_prof_functions_of(p, pass == 1, pass == 2 ? FOG_PROF_FUNCS_KERNEL :
								     FOG_PROF_FUNCS_USER, &n);
		if (!fn)
			goto fail;
		for (size_t i = 0; i < n && i < top; i++)
			json_array_append_new(pass == 0 ? self : pass == 1 ? total : kself,
					      func_json(&fn[i]));
		free(fn);
	}
	json_object_set_new(j, "top_self", self);
	json_object_set_new(j, "top_total", total);
	json_object_set_new(j, "top_kernel", kself);
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
fail:
	/* a summary without its analysis would claim the profile has no hot function */
	json_decref(self);
	json_decref(total);
	json_decref(kself);
	json_decref(notes);
	json_decref(j);
	errno = ENOMEM;
	return NULL;
}
