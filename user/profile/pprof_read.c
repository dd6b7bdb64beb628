// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof input: profile.proto as documented in github.com/google/pprof
 * (proto/profile.proto), decoded by protobuf-c with an allocator that stops at
 * FOG_PPROF_ALLOC_MAX, inflated by zlib up to FOG_PPROF_RAW_MAX. Ids are looked
 * up in hashes built once; every index the message holds is checked in
 * check() before anything follows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "profile.pb-c.h"
#include "profile/pprof_read.h"

/* id -> index + 1, open addressing over a power of two */
struct idmap {
	uint64_t *key;
	uint32_t *val;
	size_t cap;
};

struct fog_pprof {
	Fogpprof__Profile *msg;
	struct idmap locs, funcs, maps;
	size_t used;	/* bytes protobuf-c allocated */
	const char *comm_fallback;	/* the first mapping's file name, or NULL */
};

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static size_t id_slot(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

/* 0, -ENOMEM, or -EEXIST for an id given twice; id 0 is refused too (-EINVAL). */
static int idmap_build(struct idmap *m, size_t n, uint64_t (*id_of)(const void *, size_t),
		       const void *v)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->key = calloc(cap, sizeof(*m->key));
	m->val = calloc(cap, sizeof(*m->val));
	m->cap = cap;
	if (!m->key || !m->val)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = id_of(v, i);
		size_t j;

		if (!id)
			return -EINVAL;
		for (j = id_slot(id, cap); m->val[j]; j = (j + 1) & (cap - 1))
			if (m->key[j] == id)
				return -EEXIST;
		m->key[j] = id;
		m->val[j] = (uint32_t)i + 1;
	}
	return 0;
}

/* The index of id, or -1. */
static long idmap_get(const struct idmap *m, uint64_t id)
{
	if (!id || !m->cap)
		return -1;
	for (size_t j = id_slot(id, m->cap); m->val[j]; j = (j + 1) & (m->cap - 1))
		if (m->key[j] == id)
			return (long)m->val[j] - 1;
	return -1;
}

static uint64_t loc_id(const void *v, size_t i)
{
	return ((Fogpprof__Location *const *)v)[i]->id;
}

static uint64_t func_id(const void *v, size_t i)
{
	return ((Fogpprof__Function *const *)v)[i]->id;
}

static uint64_t map_id(const void *v, size_t i)
{
	return ((Fogpprof__Mapping *const *)v)[i]->id;
}

static void *bounded_alloc(void *data, size_t size)
{
	struct fog_pprof *pp = data;

	if (size > FOG_PPROF_ALLOC_MAX - pp->used)
		return NULL;
	pp->used += size;
	return malloc(size);
}

static void bounded_free(void *data, void *ptr)
{
	free(ptr);
}

/* Inflates a gzip stream into a malloc'd buffer of at most FOG_PPROF_RAW_MAX bytes. */
static int gunzip(const void *in, size_t len, unsigned char **out, size_t *out_len, char *err,
		  size_t errlen)
{
	z_stream z = { 0 };
	size_t cap = len * 4 < 65536 ? 65536 : len * 4;
	unsigned char *buf;
	int rc;

	if (cap > FOG_PPROF_RAW_MAX)
		cap = FOG_PPROF_RAW_MAX;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	/* 15 + 16: gzip only (pprof's files are gzip; a bare message is handled apart) */
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		z.next_out = buf + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_OK && z.avail_out == 0) {
			size_t ncap = cap * 2 > FOG_PPROF_RAW_MAX ? FOG_PPROF_RAW_MAX : cap * 2;
			unsigned char *nb;

			if (ncap == cap) {
				say(err, errlen, "inflates to more than %u MiB",
				    FOG_PPROF_RAW_MAX >> 20);
				rc = -EFBIG;
				goto fail;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = ncap;
			continue;
		}
		say(err, errlen, "bad gzip data (%s)",
		    rc == Z_BUF_ERROR ? "truncated" : z.msg ? z.msg : "inflate failed");
		rc = -EINVAL;
		goto fail;
	}
	*out_len = z.total_out;
	*out = buf;
	inflateEnd(&z);
	return 0;
fail:
	inflateEnd(&z);
	free(buf);
	return rc;
}

static bool str_ok(const Fogpprof__Profile *m, int64_t i)
{
	return i >= 0 && (uint64_t)i < m->n_string_table;
}

/* Every index and id the message holds points inside it; 0 or -EINVAL with err. */
static int check(struct fog_pprof *pp, char *err, size_t errlen)
{
	const Fogpprof__Profile *m = pp->msg;
	int rc;

	if (!m->n_string_table || m->string_table[0][0]) {
		say(err, errlen, "not a pprof profile (its string table does not start with \"\")");
		return -EINVAL;
	}
	if (!m->n_sample_type) {
		say(err, errlen, "not a pprof profile (no sample types)");
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n_sample_type; i++)
		if (!str_ok(m, m->sample_type[i]->type) || !str_ok(m, m->sample_type[i]->unit)) {
			say(err, errlen, "sample type %zu names string %lld of %zu", i,
			    (long long)m->sample_type[i]->type, m->n_string_table);
			return -EINVAL;
		}
	if ((m->period_type && (!str_ok(m, m->period_type->type) ||
				!str_ok(m, m->period_type->unit))) ||
	    !str_ok(m, m->default_sample_type) || !str_ok(m, m->drop_frames) ||
	    !str_ok(m, m->keep_frames)) {
		say(err, errlen, "a string index past the string table of %zu", m->n_string_table);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n_comment; i++)
		if (!str_ok(m, m->comment[i])) {
			say(err, errlen, "comment %zu names string %lld of %zu", i,
			    (long long)m->comment[i], m->n_string_table);
			return -EINVAL;
		}
	if ((rc = idmap_build(&pp->maps, m->n_mapping, map_id, m->mapping)) ||
	    (rc = idmap_build(&pp->funcs, m->n_function, func_id, m->function)) ||
	    (rc = idmap_build(&pp->locs, m->n_location, loc_id, m->location))) {
		if (rc == -ENOMEM)
			return rc;
		say(err, errlen, "a mapping, function or location id is %s",
		    rc == -EEXIST ? "given twice" : "0");
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n_mapping; i++) {
		const Fogpprof__Mapping *mp = m->mapping[i];

		if (!str_ok(m, mp->filename) || !str_ok(m, mp->build_id)) {
			say(err, errlen, "mapping %llu names a string past the table",
			    (unsigned long long)mp->id);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < m->n_function; i++) {
		const Fogpprof__Function *f = m->function[i];

		if (!str_ok(m, f->name) || !str_ok(m, f->system_name) || !str_ok(m, f->filename)) {
			say(err, errlen, "function %llu names a string past the table",
			    (unsigned long long)f->id);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < m->n_location; i++) {
		const Fogpprof__Location *l = m->location[i];

		if (l->mapping_id && idmap_get(&pp->maps, l->mapping_id) < 0) {
			say(err, errlen, "location %llu names mapping %llu, which is not there",
			    (unsigned long long)l->id, (unsigned long long)l->mapping_id);
			return -EINVAL;
		}
		for (size_t k = 0; k < l->n_line; k++)
			if (l->line[k]->function_id &&
			    idmap_get(&pp->funcs, l->line[k]->function_id) < 0) {
				say(err, errlen, "location %llu names function %llu, which is not "
				    "there", (unsigned long long)l->id,
				    (unsigned long long)l->line[k]->function_id);
				return -EINVAL;
			}
	}
	for (size_t i = 0; i < m->n_sample; i++) {
		const Fogpprof__Sample *s = m->sample[i];

		if (s->n_value != m->n_sample_type) {
			say(err, errlen, "sample %zu has %zu values for %zu sample types", i,
			    s->n_value, m->n_sample_type);
			return -EINVAL;
		}
		for (size_t k = 0; k < s->n_value; k++)
			if (s->value[k] < 0) {
				say(err, errlen, "sample %zu has a negative value (a differential "
				    "profile? give the profiles it was made from)", i);
				return -EINVAL;
			}
		for (size_t k = 0; k < s->n_location_id; k++)
			if (idmap_get(&pp->locs, s->location_id[k]) < 0) {
				say(err, errlen, "sample %zu names location %llu, which is not there",
				    i, (unsigned long long)s->location_id[k]);
				return -EINVAL;
			}
		for (size_t k = 0; k < s->n_label; k++)
			if (!str_ok(m, s->label[k]->key) || !str_ok(m, s->label[k]->str) ||
			    !str_ok(m, s->label[k]->num_unit)) {
				say(err, errlen, "sample %zu has a label past the string table", i);
				return -EINVAL;
			}
	}
	return 0;
}

void fog_pprof__free(struct fog_pprof *pp)
{
	ProtobufCAllocator a = { bounded_alloc, bounded_free, pp };

	if (!pp)
		return;
	if (pp->msg)
		fogpprof__profile__free_unpacked(pp->msg, &a);
	free(pp->locs.key);
	free(pp->locs.val);
	free(pp->funcs.key);
	free(pp->funcs.val);
	free(pp->maps.key);
	free(pp->maps.val);
	free(pp);
}

struct fog_pprof *fog_pprof__decode(const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	struct fog_pprof *pp = calloc(1, sizeof(*pp));
	ProtobufCAllocator a = { bounded_alloc, bounded_free, pp };
	unsigned char *raw = NULL;
	size_t raw_len = len;
	int rc = -ENOMEM;

	say(err, errlen, "out of memory");
	if (!pp)
		goto fail;
	if (len > FOG_PPROF_FILE_MAX) {
		say(err, errlen, "larger than %u MiB", FOG_PPROF_FILE_MAX >> 20);
		rc = -EFBIG;
		goto fail;
	}
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		rc = gunzip(buf, len, &raw, &raw_len, err, errlen);
		if (rc)
			goto fail;
		b = raw;
	}
	if (!raw_len) {
		say(err, errlen, "empty: not a pprof profile");
		rc = -EINVAL;
		goto fail;
	}
	pp->msg = fogpprof__profile__unpack(&a, raw_len, b);
	free(raw);
	raw = NULL;
	if (!pp->msg) {
		if (pp->used > FOG_PPROF_ALLOC_MAX / 2)
			say(err, errlen, "decoding needs more than %u MiB", FOG_PPROF_ALLOC_MAX >> 20);
		else
			say(err, errlen, "not a pprof profile (neither gzip nor a profile.proto "
			    "message)");
		rc = -EINVAL;
		goto fail;
	}
	rc = check(pp, err, errlen);
	if (rc == -ENOMEM)
		say(err, errlen, "out of memory");
	if (rc)
		goto fail;
	for (size_t i = 0; i < pp->msg->n_mapping && !pp->comm_fallback; i++) {
		const char *f = pp->msg->string_table[pp->msg->mapping[i]->filename];
		const char *slash = strrchr(f, '/');

		if (*f && *f != '[')
			pp->comm_fallback = slash ? slash + 1 : f;
	}
	return pp;
fail:
	free(raw);
	fog_pprof__free(pp);
	errno = -rc;
	return NULL;
}

struct fog_pprof *fog_pprof__read_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct fog_pprof *pp = NULL;
	size_t got = 0;
	struct stat st;
	char *buf = NULL;
	int e;

	if (fd < 0) {
		e = errno;
		say(err, errlen, "cannot open: %s", strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		say(err, errlen, "not a regular file");
		e = EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > FOG_PPROF_FILE_MAX) {
		say(err, errlen, "larger than %u MiB", FOG_PPROF_FILE_MAX >> 20);
		e = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		say(err, errlen, "out of memory");
		e = ENOMEM;
		goto out;
	}
	/* the size at fstat bounds the read: a file that grows meanwhile is cut there */
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			say(err, errlen, "read failed: %s", strerror(e));
			goto out;
		}
		if (!r)
			break;
		got += (size_t)r;
	}
	pp = fog_pprof__decode(buf, got, err, errlen);
	e = pp ? 0 : errno;
out:
	free(buf);
	close(fd);
	errno = e;
	return pp;
}

const struct Fogpprof__Profile *fog_pprof_message(const struct fog_pprof *pp)
{
	return pp->msg;
}

int fog_pprof_sample_index(const struct fog_pprof *pp, const char *type)
{
	const Fogpprof__Profile *m = pp->msg;

	const char *want = type;

	if (!want && m->default_sample_type)
		want = m->string_table[m->default_sample_type];
	for (size_t i = 0; want && i < m->n_sample_type; i++)
		if (!strcmp(m->string_table[m->sample_type[i]->type], want))
			return (int)i;
	/* a default that names no sample type is ignored, as pprof does */
	return type ? -ENOENT : (int)m->n_sample_type - 1;
}

size_t fog_pprof_sample_types(const struct fog_pprof *pp)
{
	return pp->msg->n_sample_type;
}

const char *fog_pprof_sample_type(const struct fog_pprof *pp, int idx, const char **unit)
{
	const Fogpprof__Profile *m = pp->msg;

	if (unit)
		*unit = m->string_table[m->sample_type[idx]->unit];
	return m->string_table[m->sample_type[idx]->type];
}

static enum fog_prof_kind kind_of(const char *type)
{
	if (!strncmp(type, "alloc_", 6))
		return FOG_PROF_ALLOC;
	if (!strncmp(type, "inuse_", 6))
		return FOG_PROF_INUSE;
	if (!strcmp(type, "offcpu") || !strcmp(type, "switches"))
		return FOG_PROF_OFFCPU;
	return FOG_PROF_CPU;
}

static bool is_kernel_module(const char *module)
{
	return module && (!strncmp(module, "[kernel", 7) || !strcmp(module, "[vmlinux]"));
}

/* The frames of one location, innermost first, interned once: 0 or -errno. */
static int location_frames(const struct fog_pprof *pp, struct fog_prof *p, size_t li,
			   __u32 **out, __u32 *n, size_t *name_bytes)
{
	const Fogpprof__Profile *m = pp->msg;
	const Fogpprof__Location *l = m->location[li];
	const Fogpprof__Mapping *mp = NULL;
	const char *module = NULL;
	size_t nl = l->n_line ? l->n_line : 1;
	long mi = idmap_get(&pp->maps, l->mapping_id);
	__u32 *v;

	if (mi >= 0) {
		mp = m->mapping[mi];
		module = m->string_table[mp->filename][0] ? m->string_table[mp->filename] : NULL;
	}
	if (nl > FOG_PPROF_DEPTH_MAX)
		nl = FOG_PPROF_DEPTH_MAX;
	v = malloc(nl * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < nl; k++) {
		const Fogpprof__Function *f = NULL;
		const char *name = NULL, *mod = module;
		char addr[64 + FOG_PROF_NAME_MAX];
		long fi, fr;

		if (l->n_line) {
			fi = idmap_get(&pp->funcs, l->line[k]->function_id);
			f = fi >= 0 ? m->function[fi] : NULL;
		}
		if (f) {
			name = m->string_table[f->name][0] ? m->string_table[f->name] :
							     m->string_table[f->system_name];
			if (!mod && m->string_table[f->filename][0])
				mod = m->string_table[f->filename];
		}
		if (!name || !*name) {
			/* unsymbolized: by module and offset, which stay put across runs */
			const char *base = mod ? strrchr(mod, '/') : NULL;

			if (mp && mod)
				snprintf(addr, sizeof(addr), "[%s+0x%llx]", base ? base + 1 : mod,
					 (unsigned long long)(l->address - mp->memory_start +
							      mp->file_offset));
			else
				snprintf(addr, sizeof(addr), "0x%llx",
					 (unsigned long long)l->address);
			name = addr;
		}
		fr = fog_prof__frame(p, name, mod, 0, is_kernel_module(mod), 0);
		if (fr < 0) {
			free(v);
			return (int)fr;
		}
		/* few strings can name many (function, module) pairs: their copies are bounded */
		if ((size_t)fr == p->nframes - 1 && *name_bytes <= FOG_PPROF_NAMES_MAX) {
			*name_bytes += strlen(p->frames[fr].func) + 1;
			*name_bytes += p->frames[fr].module ? strlen(p->frames[fr].module) + 1 : 0;
		}
		if (*name_bytes > FOG_PPROF_NAMES_MAX) {
			free(v);
			return -E2BIG;
		}
		v[k] = (__u32)fr;
	}
	*out = v;
	*n = (__u32)nl;
	return 0;
}

static const char *sample_comm(const Fogpprof__Profile *m, const Fogpprof__Sample *s)
{
	for (size_t k = 0; k < s->n_label; k++)
		if (!strcmp(m->string_table[s->label[k]->key], "comm") && s->label[k]->str)
			return m->string_table[s->label[k]->str];
	return NULL;
}

struct fog_prof *fog_pprof_to_prof(const struct fog_pprof *pp, int idx, char *err, size_t errlen)
{
	const Fogpprof__Profile *m = pp->msg;
	struct fog_prof *p = NULL;
	__u32 **lf = NULL, *nlf = NULL, stack[FOG_PPROF_DEPTH_MAX];
	size_t frames = 0, cut = 0, name_bytes = 0;
	int rc = -ENOMEM;

	say(err, errlen, "out of memory");
	if (idx < 0 || (size_t)idx >= m->n_sample_type) {
		say(err, errlen, "no sample value %d", idx);
		errno = EINVAL;
		return NULL;
	}
	p = fog_prof__new(kind_of(fog_pprof_sample_type(pp, idx, NULL)));
	lf = calloc(m->n_location + 1, sizeof(*lf));
	nlf = calloc(m->n_location + 1, sizeof(*nlf));
	if (!p || !lf || !nlf)
		goto fail;
	p->period = m->period > 0 ? (__u64)m->period : 1;
	p->start_unix_ns = m->time_nanos > 0 ? (__u64)m->time_nanos : 0;
	p->duration_ns = m->duration_nanos > 0 ? (__u64)m->duration_nanos : 0;
	for (size_t i = 0; i < m->n_sample; i++) {
		const Fogpprof__Sample *s = m->sample[i];
		__u64 v = (__u64)s->value[idx];
		const char *comm = sample_comm(m, s);
		__u32 n = 0;

		if (!v)
			continue;
		if (v > UINT64_MAX / 4 - p->total) {
			say(err, errlen, "sample values add up past 2^62");
			rc = -EOVERFLOW;
			goto fail;
		}
		for (size_t k = 0; k < s->n_location_id && n < FOG_PPROF_DEPTH_MAX; k++) {
			long li = idmap_get(&pp->locs, s->location_id[k]);

			if (!lf[li]) {
				rc = location_frames(pp, p, (size_t)li, &lf[li], &nlf[li],
						     &name_bytes);
				if (rc == -E2BIG)
					say(err, errlen, "names of its frames add up to more than "
					    "%u MiB", FOG_PPROF_NAMES_MAX >> 20);
				if (rc)
					goto fail;
			}
			for (__u32 j = 0; j < nlf[li] && n < FOG_PPROF_DEPTH_MAX; j++)
				stack[n++] = lf[li][j];
		}
		cut += n == FOG_PPROF_DEPTH_MAX;
		frames += n;
		if (frames > FOG_PPROF_FRAMES_MAX) {
			say(err, errlen, "more than %u frames over all samples",
			    FOG_PPROF_FRAMES_MAX);
			rc = -EFBIG;
			goto fail;
		}
		rc = fog_prof__add_stack(p, 0, comm ? comm : pp->comm_fallback ?: "", stack, n, v,
					 1);
		if (rc)
			goto fail;
	}
	if (cut)
		fog_prof__note(p, "%zu stacks deeper than %d frames were cut at the root side", cut,
			       FOG_PPROF_DEPTH_MAX);
	for (size_t i = 0; i < m->n_location; i++)
		free(lf[i]);
	free(lf);
	free(nlf);
	return p;
fail:
	for (size_t i = 0; lf && i < m->n_location; i++)
		free(lf[i]);
	free(lf);
	free(nlf);
	fog_prof__free(p);
	errno = -rc;
	return NULL;
}
