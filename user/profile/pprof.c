// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof output: the profile.proto message of github.com/google/pprof (see
 * proto/profile.proto there and user/profile/profile.proto here), encoded with
 * protobuf-c and gzip-compressed with zlib, as `go tool pprof` and Go's
 * net/http/pprof expect it. Locations are the profile's frames, functions
 * are (name, module) pairs, or (name, source file) when source lines were
 * resolved (Line.line then holds the line), mappings carry build-ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile/pprof_read.h"
#include "profile/prof.h"

#if __has_include("profile.pb-c.h")
#include "profile.pb-c.h"

struct strtab {
	char **v;	/* borrowed strings, [0] is "" */
	size_t n, cap;
	__u32 *hash;	/* index + 1 */
	size_t hcap;
	bool failed;	/* an allocation failed: ids may be -1 */
};

static __u64 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	size_t hcap = t->hcap ? t->hcap * 2 : 1024;
	__u32 *h = calloc(hcap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = str_hash(t->v[i]) & (hcap - 1);

		while (h[j])
			j = (j + 1) & (hcap - 1);
		h[j] = (__u32)i + 1;
	}
	free(t->hash);
	t->hash = h;
	t->hcap = hcap;
	return 0;
}

/* The index of s in the table (added once); -1 when out of memory. */
static int64_t strtab_id(struct strtab *t, const char *s)
{
	size_t j;

	if (!s)
		s = "";
	if ((t->n + 1) * 2 > t->hcap && strtab_grow(t))
		goto fail;
	for (j = str_hash(s) & (t->hcap - 1); t->hash[j]; j = (j + 1) & (t->hcap - 1))
		if (!strcmp(t->v[t->hash[j] - 1], s))
			return t->hash[j] - 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			goto fail;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = (char *)s;
	t->hash[j] = (__u32)++t->n;
	return (int64_t)t->n - 1;
fail:
	t->failed = true;
	return -1;
}

int fog_pprof_gzip(const void *in, size_t len, void **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = compressBound(len) + 64;
	unsigned char *buf = malloc(cap);
	int rc;

	if (!buf)
		return -ENOMEM;
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)) {
		free(buf);
		return -ENOMEM;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

struct pb {
	Fogpprof__Profile prof;
	Fogpprof__ValueType types[2], period_type;
	Fogpprof__ValueType *type_ptrs[2];
	Fogpprof__Sample *samples;
	Fogpprof__Sample **sample_ptrs;
	Fogpprof__Label *labels;	/* two per sample: pid, comm */
	Fogpprof__Label **label_ptrs;
	int64_t *values;	/* two per sample */
	uint64_t *loc_ids;
	Fogpprof__Mapping *maps;
	Fogpprof__Mapping **map_ptrs;
	Fogpprof__Location *locs;
	Fogpprof__Location **loc_ptrs;
	Fogpprof__Line *lines;
	Fogpprof__Line **line_ptrs;
	Fogpprof__Function *funcs;
	Fogpprof__Function **func_ptrs;
	int64_t *comments;
	struct strtab st;
};

static void pb_free(struct pb *b)
{
	free(b->samples);
	free(b->sample_ptrs);
	free(b->labels);
	free(b->label_ptrs);
	free(b->values);
	free(b->loc_ids);
	free(b->maps);
	free(b->map_ptrs);
	free(b->locs);
	free(b->loc_ptrs);
	free(b->lines);
	free(b->line_ptrs);
	free(b->funcs);
	free(b->func_ptrs);
	free(b->comments);
	free(b->st.v);
	free(b->st.hash);
}

/*
 * Functions by (name, module): ids are 1-based; frame_func maps each frame to
 * one. Equal strings have equal ids, so functions are found by the pair of
 * ids in a hash (linear in frames).
 */
static int build_functions(struct pb *b, const struct fog_prof *p, __u64 *frame_func)
{
	size_t n = 0, cap = 16;
	__u32 *h;	/* function index + 1 */

	while (cap < 2 * p->nframes + 2)
		cap *= 2;
	h = calloc(cap, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct fog_prof_frame *f = &p->frames[i];
		int64_t name = strtab_id(&b->st, f->func);
		int64_t file = strtab_id(&b->st, f->func_file ? f->func_file : f->module);
		size_t j;

		if (name < 0 || file < 0) {
			free(h);
			return -ENOMEM;
		}
		j = (((__u64)name * 0x9e3779b97f4a7c15ULL) ^ ((__u64)file * 0xc2b2ae3d27d4eb4fULL)) >>
		    17;
		for (j &= cap - 1; h[j]; j = (j + 1) & (cap - 1))
			if (b->funcs[h[j] - 1].name == name && b->funcs[h[j] - 1].filename == file)
				break;
		if (!h[j]) {
			Fogpprof__Function init = FOGPPROF__FUNCTION__INIT;

			b->funcs[n] = init;
			b->funcs[n].id = n + 1;
			b->funcs[n].name = name;
			b->funcs[n].system_name = name;
			b->funcs[n].filename = file;
			b->func_ptrs[n] = &b->funcs[n];
			h[j] = (__u32)++n;
		}
		frame_func[i] = h[j];
	}
	free(h);
	b->prof.n_function = n;
	b->prof.function = b->func_ptrs;
	return 0;
}

/* The tables build() fills, sized for p; -ENOMEM (what was allocated is freed with b). */
static int alloc_tables(struct pb *b, const struct fog_prof *p)
{
	size_t nlocs = 0;

	b->samples = calloc(p->nstacks + 1, sizeof(*b->samples));
	b->sample_ptrs = calloc(p->nstacks + 1, sizeof(*b->sample_ptrs));
	b->labels = calloc(2 * p->nstacks + 1, sizeof(*b->labels));
	b->label_ptrs = calloc(2 * p->nstacks + 1, sizeof(*b->label_ptrs));
	b->values = calloc(2 * p->nstacks + 1, sizeof(*b->values));
	for (size_t i = 0; i < p->nstacks; i++)
		nlocs += p->stacks[i].n;
	b->loc_ids = calloc(nlocs + 1, sizeof(*b->loc_ids));
	b->maps = calloc(p->nmaps + 1, sizeof(*b->maps));
	b->map_ptrs = calloc(p->nmaps + 1, sizeof(*b->map_ptrs));
	b->locs = calloc(p->nframes + 1, sizeof(*b->locs));
	b->loc_ptrs = calloc(p->nframes + 1, sizeof(*b->loc_ptrs));
	b->lines = calloc(p->nframes + 1, sizeof(*b->lines));
	b->line_ptrs = calloc(p->nframes + 1, sizeof(*b->line_ptrs));
	b->funcs = calloc(p->nframes + 1, sizeof(*b->funcs));
	b->func_ptrs = calloc(p->nframes + 1, sizeof(*b->func_ptrs));
	b->comments = calloc(p->nnotes + 1, sizeof(*b->comments));
	if (!b->samples || !b->sample_ptrs || !b->labels || !b->label_ptrs || !b->values ||
	    !b->loc_ids || !b->maps || !b->map_ptrs || !b->locs || !b->loc_ptrs || !b->lines ||
	    !b->line_ptrs || !b->funcs || !b->func_ptrs || !b->comments)
		return -ENOMEM;
	return 0;
}

/* Sample and period types, in Go's names, and the profile's times. */
static void build_types(struct pb *b, const struct fog_prof *p)
{
	bool cpu = p->kind == FOG_PROF_CPU, off = p->kind == FOG_PROF_OFFCPU;

	for (int i = 0; i < 2; i++) {
		/* Go's names: heap profiles are alloc_* or inuse_* (objects, bytes) */
		static const char *const names[4][2][2] = {
			[FOG_PROF_CPU] = { { "samples", "count" }, { "cpu", "nanoseconds" } },
			[FOG_PROF_ALLOC] = { { "alloc_objects", "count" }, { "alloc_space", "bytes" } },
			[FOG_PROF_INUSE] = { { "inuse_objects", "count" }, { "inuse_space", "bytes" } },
			[FOG_PROF_OFFCPU] = { { "switches", "count" },
					      { "offcpu", "nanoseconds" } },
		};
		fogpprof__value_type__init(&b->types[i]);
		b->types[i].type = strtab_id(&b->st, names[p->kind][i][0]);
		b->types[i].unit = strtab_id(&b->st, names[p->kind][i][1]);
		b->type_ptrs[i] = &b->types[i];
	}
	b->prof.n_sample_type = 2;
	b->prof.sample_type = b->type_ptrs;
	fogpprof__value_type__init(&b->period_type);
	b->period_type.type = strtab_id(&b->st, cpu ? "cpu" : off ? "offcpu" : "space");
	b->period_type.unit = strtab_id(&b->st, cpu || off ? "nanoseconds" : "bytes");
	b->prof.period_type = &b->period_type;
	b->prof.period = (int64_t)p->period;
	b->prof.time_nanos = (int64_t)p->start_unix_ns;
	b->prof.duration_nanos = (int64_t)p->duration_ns;
	b->prof.default_sample_type = 1;
}

static void build_mappings(struct pb *b, const struct fog_prof *p)
{
	for (size_t i = 0; i < p->nmaps; i++) {
		Fogpprof__Mapping *m = &b->maps[i];

		fogpprof__mapping__init(m);
		m->id = i + 1;
		m->memory_start = p->maps[i].start;
		m->memory_limit = p->maps[i].limit;
		m->file_offset = p->maps[i].offset;
		m->filename = strtab_id(&b->st, p->maps[i].file);
		m->build_id = strtab_id(&b->st, p->maps[i].build_id);
		m->has_functions = true;
		b->map_ptrs[i] = m;
	}
	b->prof.n_mapping = p->nmaps;
	b->prof.mapping = b->map_ptrs;
}

/* Functions, then one location (with its line) per frame. */
static int build_locations(struct pb *b, const struct fog_prof *p)
{
	__u64 *frame_func = calloc(p->nframes + 1, sizeof(*frame_func));
	int err;

	if (!frame_func)
		return -ENOMEM;
	err = build_functions(b, p, frame_func);
	for (size_t i = 0; !err && i < p->nframes; i++) {
		Fogpprof__Location *l = &b->locs[i];

		fogpprof__location__init(l);
		fogpprof__line__init(&b->lines[i]);
		b->lines[i].function_id = frame_func[i];
		b->lines[i].line = p->frames[i].line;
		b->line_ptrs[i] = &b->lines[i];
		l->id = i + 1;
		l->mapping_id = p->frames[i].mapping;
		/* kernel frames are named here already; their addresses (KASLR) never leave */
		l->address = p->frames[i].kernel ? 0 : p->frames[i].ip;
		l->n_line = 1;
		l->line = &b->line_ptrs[i];
		b->loc_ptrs[i] = l;
	}
	free(frame_func);
	if (err)
		return err;
	b->prof.n_location = p->nframes;
	b->prof.location = b->loc_ptrs;
	return 0;
}

/* One sample per stack: its locations, count and value, pid and comm labels. */
static void build_samples(struct pb *b, const struct fog_prof *p)
{
	bool cpu = p->kind == FOG_PROF_CPU;
	size_t nlocs = 0;

	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];
		Fogpprof__Sample *smp = &b->samples[i];
		Fogpprof__Label *lb = &b->labels[2 * i];

		fogpprof__sample__init(smp);
		smp->n_location_id = s->n;
		smp->location_id = &b->loc_ids[nlocs];
		for (__u32 k = 0; k < s->n; k++)
			b->loc_ids[nlocs++] = s->frames[k] + 1;
		smp->n_value = 2;
		smp->value = &b->values[2 * i];
		smp->value[0] = (int64_t)s->count;
		smp->value[1] = cpu ? (int64_t)(s->value * p->period) : (int64_t)s->value;
		fogpprof__label__init(&lb[0]);
		fogpprof__label__init(&lb[1]);
		lb[0].key = strtab_id(&b->st, "pid");
		lb[0].num = s->pid;
		lb[1].key = strtab_id(&b->st, "comm");
		lb[1].str = strtab_id(&b->st, s->comm);
		b->label_ptrs[2 * i] = &lb[0];
		b->label_ptrs[2 * i + 1] = &lb[1];
		smp->n_label = 2;
		smp->label = &b->label_ptrs[2 * i];
		b->sample_ptrs[i] = smp;
	}
	b->prof.n_sample = p->nstacks;
	b->prof.sample = b->sample_ptrs;
}

static int build(struct pb *b, const struct fog_prof *p)
{
	int err;

	fogpprof__profile__init(&b->prof);
	if (strtab_id(&b->st, "") != 0)
		return -ENOMEM;
	err = alloc_tables(b, p);
	if (err)
		return err;
	build_types(b, p);
	build_mappings(b, p);
	err = build_locations(b, p);
	if (err)
		return err;
	build_samples(b, p);
	for (size_t i = 0; i < p->nnotes; i++)
		b->comments[i] = strtab_id(&b->st, p->notes[i]);
	b->prof.n_comment = p->nnotes;
	b->prof.comment = b->comments;
	/* every id above came from strtab_id: a -1 means an allocation failed */
	if (b->st.failed)
		return -ENOMEM;
	b->prof.n_string_table = b->st.n;
	b->prof.string_table = b->st.v;
	return 0;
}

int fog_prof_pprof(const struct fog_prof *p, void **out, size_t *len)
{
	struct pb b = { 0 };
	size_t raw_len;
	void *raw;
	int err;

	*out = NULL;
	*len = 0;
	err = build(&b, p);
	if (err)
		goto out;
	raw_len = fogpprof__profile__get_packed_size(&b.prof);
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw) {
		err = -ENOMEM;
		goto out;
	}
	fogpprof__profile__pack(&b.prof, raw);
	err = fog_pprof_gzip(raw, raw_len, out, len);
	free(raw);
out:
	pb_free(&b);
	return err;
}

#else /* built without mk/profile.mk: no generated profile.pb-c.h */

int fog_prof_pprof(const struct fog_prof *p, void **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	return -EPROTONOSUPPORT;
}

#endif
