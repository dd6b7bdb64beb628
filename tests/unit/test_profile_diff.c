// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential profiles on hand-made profiles whose every weight is known: both
 * go through fogd's pprof encoding and back through the reader, the diff
 * matches stacks by function names across pids and addresses, its folded lines
 * carry both weights, its pprof holds NEW and BASE negated with pprof::base
 * labels, its page colours the grown frame red and the shrunk one blue. The
 * reader refuses bad input with a reason: not pprof, truncated gzip, indices
 * past their tables, unknown ids, negative values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile/diff.h"
#include "profile/pprof_read.h"
#include "profile/prof.h"
#include "profile.pb-c.h"

/*
 * app: main -> work -> fn_a: a samples; main -> work -> fn_b: b samples; main ->
 * read -> vfs_read (kernel): k samples. pid and addresses differ per call.
 */
static struct fog_prof *make_prof(__u32 pid, __u64 addr, __u64 a, __u64 b, __u64 k)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	__u32 m = fog_prof__mapping(p, "/bin/app", addr, addr + 0x100000, 0, "");
	long mn = fog_prof__frame(p, "main", "/bin/app", addr + 0x100, false, m);
	long wk = fog_prof__frame(p, "work", "/bin/app", addr + 0x200, false, m);
	long fa = fog_prof__frame(p, "fn_a", "/bin/app", addr + 0x300, false, m);
	long fb = fog_prof__frame(p, "fn_b", "/bin/app", addr + 0x400, false, m);
	long rd = fog_prof__frame(p, "read", "/bin/app", addr + 0x500, false, m);
	long vf = fog_prof__frame(p, "vfs_read", "[kernel.kallsyms]", 0, true, 0);
	__u32 sa[] = { (__u32)fa, (__u32)wk, (__u32)mn };
	__u32 sb[] = { (__u32)fb, (__u32)wk, (__u32)mn };
	__u32 sk[] = { (__u32)vf, (__u32)rd, (__u32)mn };

	p->period = 10101010;
	if (a)
		assert_int_equal(fog_prof__add_stack(p, pid, "app", sa, 3, a, a), 0);
	if (b)
		assert_int_equal(fog_prof__add_stack(p, pid, "app", sb, 3, b, b), 0);
	if (k)
		assert_int_equal(fog_prof__add_stack(p, pid, "app", sk, 3, k, k), 0);
	return p;
}

/* p through fogd's pprof writer and back through the reader (the file's preferred value). */
static struct fog_pprof *roundtrip(const struct fog_prof *p, struct fog_prof **out)
{
	char err[256];
	void *buf;
	size_t len;
	struct fog_pprof *pp;

	assert_int_equal(fog_prof_pprof(p, &buf, &len), 0);
	pp = fog_pprof__decode(buf, len, err, sizeof(err));
	free(buf);
	assert_non_null(pp);
	*out = fog_pprof_to_prof(pp, fog_pprof_sample_index(pp, "samples"), err, sizeof(err));
	assert_non_null(*out);
	return pp;
}

static char *folded_of(const struct fog_diff *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(fog_diff_write_folded(d, f), 0);
	fclose(f);
	return buf;
}

static void test_read_back(void **state)
{
	struct fog_prof *p = make_prof(10, 0x400000, 300, 100, 50), *q;
	struct fog_pprof *pp = roundtrip(p, &q);
	const char *unit;

	assert_int_equal(q->total, 450);
	assert_int_equal(q->nstacks, 3);
	assert_string_equal(fog_pprof_sample_type(pp, fog_pprof_sample_index(pp, "cpu"), &unit),
			    "cpu");
	assert_string_equal(unit, "nanoseconds");
	assert_int_equal(fog_pprof_sample_index(pp, "alloc_space"), -ENOENT);
	/* kernel frames are known by their module */
	for (size_t i = 0; i < q->nframes; i++)
		assert_int_equal(q->frames[i].kernel, !strcmp(q->frames[i].func, "vfs_read"));
	fog_pprof__free(pp);
	fog_prof__free(p);
	fog_prof__free(q);
}

/* base: fn_a 300, fn_b 100, kernel 100 (of 500); new: fn_a 50, fn_b 900, kernel 50 (of 1000) */
struct pair {
	struct fog_prof *b0, *n0;	/* as built */
	struct fog_prof *b, *n;	/* read back from their pprof */
	struct fog_pprof *bp, *np;
};

static int pair_setup(void **state)
{
	struct pair *pr = calloc(1, sizeof(*pr));

	assert_non_null(pr);
	pr->b0 = make_prof(10, 0x400000, 300, 100, 100);
	pr->n0 = make_prof(77, 0x7f0000000000, 50, 900, 50);
	pr->bp = roundtrip(pr->b0, &pr->b);
	pr->np = roundtrip(pr->n0, &pr->n);
	*state = pr;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *pr = *state;

	fog_pprof__free(pr->bp);
	fog_pprof__free(pr->np);
	fog_prof__free(pr->b0);
	fog_prof__free(pr->n0);
	fog_prof__free(pr->b);
	fog_prof__free(pr->n);
	free(pr);
	return 0;
}

static void test_diff_weights(void **state)
{
	struct pair *pr = *state;
	struct fog_diff *d = fog_diff__new(pr->b, pr->n);
	char *folded;

	assert_non_null(d);
	folded = folded_of(d);
	assert_string_equal(folded, "app;main;read;vfs_read 100 50\n"
				    "app;main;work;fn_a 300 50\n"
				    "app;main;work;fn_b 100 900\n");
	free(folded);
	/* by the change of self share, largest first: fn_b +0.7, fn_a -0.55, vfs_read -0.15 */
	assert_true(d->nfuncs >= 3);
	assert_string_equal(d->funcs[0].name, "fn_b");
	assert_string_equal(d->funcs[1].name, "fn_a");
	assert_string_equal(d->funcs[2].name, "vfs_read");
	assert_int_equal(d->funcs[0].base_self, 100);
	assert_int_equal(d->funcs[0].new_self, 900);
	assert_true(fog_diff_share_change(d, 100, 900) > 0.69 &&
		    fog_diff_share_change(d, 100, 900) < 0.71);
	assert_true(fog_diff_share_change(d, 300, 50) < -0.54 &&
		    fog_diff_share_change(d, 300, 50) > -0.56);
	for (size_t i = 0; i < d->nfuncs; i++)
		if (!strcmp(d->funcs[i].name, "work")) {
			assert_int_equal(d->funcs[i].base_total, 400);
			assert_int_equal(d->funcs[i].new_total, 950);
			assert_int_equal(d->funcs[i].base_self, 0);
		}
	fog_diff__free(d);
}

/* A stack only in base, one only in new: each keeps its weight, the other side 0. */
static void test_diff_vanished(void **state)
{
	struct fog_prof *b = make_prof(1, 0x1000, 30, 0, 0), *n = make_prof(2, 0x2000, 0, 40, 0);
	struct fog_diff *d = fog_diff__new(b, n);
	char *folded = folded_of(d);

	assert_string_equal(folded, "app;main;work;fn_a 30 0\napp;main;work;fn_b 0 40\n");
	free(folded);
	fog_diff__free(d);
	fog_prof__free(b);
	fog_prof__free(n);
}

static void test_diff_html(void **state)
{
	struct pair *pr = *state;
	struct fog_diff *d = fog_diff__new(pr->b, pr->n);
	struct fog_diff_page o = { "base.pb.gz", "new.pb.gz", "samples", "count" };
	char *buf = NULL, *fa, *fb;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(fog_diff_write_html(d, &o, f), 0);
	fclose(f);
	/* frame titles carry both shares; fn_b (the largest change) is the deepest red */
	fb = strstr(buf, "<title>fn_b (900 samples, 90.00%; base 100 samples, 20.00%; change +70.00%)");
	fa = strstr(buf, "<title>fn_a (50 samples, 5.00%; base 300 samples, 60.00%; change -55.00%)");
	assert_non_null(fb);
	assert_non_null(fa);
	assert_true(strstr(fb, "fill=\"rgb(") == strstr(fb, "fill=\"rgb(255,35,35)\""));
	assert_true(strstr(fa, "fill=\"rgb(") == strstr(fa, "fill=\"rgb(78,78,255)\""));
	/* the kernel fold frame of main's kernel child */
	assert_non_null(strstr(buf, "class=\"f kf\""));
	assert_non_null(strstr(buf, "<td>fn_b</td><td>20.00</td><td>90.00</td>"
				    "<td class=\"grew\">+70.00</td>"));
	assert_non_null(strstr(buf, "<td class=\"shrank\">-55.00</td>"));
	free(buf);
	/* names and units come from the files read: escaped wherever they appear */
	o = (struct fog_diff_page){ "<i>base", "new\"", "<t>", "u&<z>" };
	f = open_memstream(&buf, &len);
	assert_int_equal(fog_diff_write_html(d, &o, f), 0);
	fclose(f);
	assert_null(strstr(buf, "<i>"));
	assert_null(strstr(buf, "<t>"));
	assert_null(strstr(buf, "u&<z>"));
	assert_non_null(strstr(buf, "(50 u&amp;&lt;z&gt;, 5.00%; base 300 u&amp;&lt;z&gt;"));
	assert_non_null(strstr(buf, "&lt;i&gt;base"));
	free(buf);
	fog_diff__free(d);
}

static bool has_base_label(const Fogpprof__Profile *m, const Fogpprof__Sample *s)
{
	for (size_t k = 0; k < s->n_label; k++)
		if (!strcmp(m->string_table[s->label[k]->key], "pprof::base") &&
		    !strcmp(m->string_table[s->label[k]->str], "true"))
			return true;
	return false;
}

/* The sum of value idx over samples (base-labelled or not) whose leaf function is leaf. */
static int64_t leaf_sum(const Fogpprof__Profile *m, const char *leaf, size_t idx, bool base)
{
	int64_t sum = 0;

	for (size_t i = 0; i < m->n_sample; i++) {
		const Fogpprof__Sample *s = m->sample[i];

		if (has_base_label(m, s) != base || !s->n_location_id)
			continue;
		for (size_t l = 0; l < m->n_location; l++) {
			const Fogpprof__Location *loc = m->location[l];

			if (loc->id != s->location_id[0])
				continue;
			for (size_t f = 0; f < m->n_function; f++)
				if (m->function[f]->id == loc->line[0]->function_id &&
				    !strcmp(m->string_table[m->function[f]->name], leaf))
					sum += s->value[idx];
		}
	}
	return sum;
}

static Fogpprof__Profile *unpack_gz(const void *buf, size_t len)
{
	static unsigned char raw[1 << 20];
	z_stream z = { 0 };
	Fogpprof__Profile *m;

	z.next_in = (unsigned char *)buf;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = sizeof(raw);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	m = fogpprof__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	assert_non_null(m);
	return m;
}

static void test_diff_pprof(void **state)
{
	struct pair *pr = *state;
	Fogpprof__Profile *m;
	char err[256];
	void *buf;
	size_t len;
	int s, c;

	assert_int_equal(fog_diff_pprof(pr->bp, pr->np, &buf, &len, err, sizeof(err)), 0);
	/* the reader refuses a diff by its negative values, saying why */
	assert_null(fog_pprof__decode(buf, len, err, sizeof(err)));
	assert_non_null(strstr(err, "negative value"));
	m = unpack_gz(buf, len);
	s = fog_pprof_sample_index(pr->np, "samples");
	c = fog_pprof_sample_index(pr->np, "cpu");
	assert_int_equal(m->n_sample_type, 2);
	assert_int_equal(m->n_sample, pr->n0->nstacks + pr->b0->nstacks);
	assert_int_equal(leaf_sum(m, "fn_b", (size_t)s, false), 900);
	assert_int_equal(leaf_sum(m, "fn_b", (size_t)s, true), -100);
	assert_int_equal(leaf_sum(m, "fn_a", (size_t)s, false), 50);
	assert_int_equal(leaf_sum(m, "fn_a", (size_t)s, true), -300);
	assert_int_equal(leaf_sum(m, "vfs_read", (size_t)c, true), -100 * 10101010LL);
	fogpprof__profile__free_unpacked(m, NULL);
	free(buf);
}

/* A message made by hand, packed bare (no gzip), for the reader's refusals. */
static struct fog_pprof *decode_msg(Fogpprof__Profile *m, char *err, size_t errlen)
{
	size_t len = fogpprof__profile__get_packed_size(m);
	unsigned char *buf = malloc(len + 1);
	struct fog_pprof *pp;

	assert_non_null(buf);
	fogpprof__profile__pack(m, buf);
	pp = fog_pprof__decode(buf, len, err, errlen);
	free(buf);
	return pp;
}

static void test_reader_refuses(void **state)
{
	char *strs[] = { "", "samples", "count", "main" };
	Fogpprof__ValueType vt = FOGPPROF__VALUE_TYPE__INIT, *vts[] = { &vt };
	Fogpprof__Function fn = FOGPPROF__FUNCTION__INIT, *fns[] = { &fn };
	Fogpprof__Line ln = FOGPPROF__LINE__INIT, *lns[] = { &ln };
	Fogpprof__Location loc = FOGPPROF__LOCATION__INIT, *locs[] = { &loc };
	Fogpprof__Sample smp = FOGPPROF__SAMPLE__INIT, *smps[] = { &smp };
	Fogpprof__Profile m = FOGPPROF__PROFILE__INIT;
	uint64_t loc_id = 1;
	int64_t value = 5;
	struct fog_pprof *pp;
	struct fog_prof *p;
	char err[256];
	static const unsigned char gz_head[] = { 0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 1 };

	vt.type = 1;
	vt.unit = 2;
	fn.id = 7;
	fn.name = 3;
	ln.function_id = 7;
	loc.id = 1;
	loc.n_line = 1;
	loc.line = lns;
	smp.n_location_id = 1;
	smp.location_id = &loc_id;
	smp.n_value = 1;
	smp.value = &value;
	m.n_sample_type = 1;
	m.sample_type = vts;
	m.n_sample = 1;
	m.sample = smps;
	m.n_location = 1;
	m.location = locs;
	m.n_function = 1;
	m.function = fns;
	m.n_string_table = 4;
	m.string_table = strs;

	/* the good message first: read, one stack main of 5 */
	pp = decode_msg(&m, err, sizeof(err));
	assert_non_null(pp);
	p = fog_pprof_to_prof(pp, fog_pprof_sample_index(pp, NULL), err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->total, 5);
	assert_string_equal(p->frames[p->stacks[0].frames[0]].func, "main");
	fog_prof__free(p);
	fog_pprof__free(pp);

	fn.name = 4;	/* past the string table */
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "function 7 names a string past the table"));
	fn.name = 3;
	ln.function_id = 8;
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "location 1 names function 8"));
	ln.function_id = 7;
	loc_id = 2;
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "sample 0 names location 2"));
	loc_id = 1;
	value = -1;
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "negative value"));
	value = 5;
	smp.n_value = 0;
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "sample 0 has 0 values for 1 sample types"));
	smp.n_value = 1;
	strs[0] = "x";
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "not a pprof profile"));
	strs[0] = "";
	loc.id = 0;
	assert_null(decode_msg(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "id is 0"));
	loc.id = 1;

	/* not pprof at all, and a gzip stream cut short */
	assert_null(fog_pprof__decode("hello, world\n", 13, err, sizeof(err)));
	assert_non_null(strstr(err, "not a pprof profile"));
	assert_null(fog_pprof__decode(gz_head, sizeof(gz_head), err, sizeof(err)));
	assert_non_null(strstr(err, "bad gzip data"));
	assert_null(fog_pprof__decode("", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	assert_null(fog_pprof__read_file("/nonexistent/x.pb.gz", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(fog_pprof__read_file("/dev/null", err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

/*
 * pprof as other tools write it: no comm label (the root is the first mapping's file
 * name), inline frames as a location's lines (innermost first), an unsymbolized
 * location named by module and offset, ids that are not dense, no default type.
 */
static void test_other_tools(void **state)
{
	char *strs[] = { "", "alloc_space", "bytes", "inuse_space", "/usr/bin/goapp", "leaf_inl",
			 "work", "main" };
	Fogpprof__ValueType vt0 = FOGPPROF__VALUE_TYPE__INIT, vt1 = FOGPPROF__VALUE_TYPE__INIT;
	Fogpprof__ValueType *vts[] = { &vt0, &vt1 };
	Fogpprof__Mapping mp = FOGPPROF__MAPPING__INIT, *mps[] = { &mp };
	Fogpprof__Function f1 = FOGPPROF__FUNCTION__INIT, f2 = FOGPPROF__FUNCTION__INIT;
	Fogpprof__Function f3 = FOGPPROF__FUNCTION__INIT, *fns[] = { &f1, &f2, &f3 };
	Fogpprof__Line l1 = FOGPPROF__LINE__INIT, l2 = FOGPPROF__LINE__INIT;
	Fogpprof__Line l3 = FOGPPROF__LINE__INIT, *inl[] = { &l1, &l2 }, *lm[] = { &l3 };
	Fogpprof__Location a = FOGPPROF__LOCATION__INIT, b = FOGPPROF__LOCATION__INIT;
	Fogpprof__Location c = FOGPPROF__LOCATION__INIT, *locs[] = { &a, &b, &c };
	Fogpprof__Sample smp = FOGPPROF__SAMPLE__INIT, *smps[] = { &smp };
	Fogpprof__Profile m = FOGPPROF__PROFILE__INIT;
	uint64_t ids[] = { 300, 100, 200 };
	int64_t values[] = { 7, 4096 };
	struct fog_pprof *pp;
	struct fog_prof *p;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	vt0 = (Fogpprof__ValueType){ .base = vt0.base, .type = 1, .unit = 2 };
	vt1 = (Fogpprof__ValueType){ .base = vt1.base, .type = 3, .unit = 2 };
	mp.id = 9;
	mp.memory_start = 0x400000;
	mp.memory_limit = 0x500000;
	mp.filename = 4;
	f1.id = 11;
	f1.name = 5;
	f2.id = 12;
	f2.name = 6;
	f3.id = 13;
	f3.name = 7;
	l1.function_id = 11;
	l2.function_id = 12;
	l3.function_id = 13;
	a.id = 100;	/* leaf_inl inlined into work */
	a.mapping_id = 9;
	a.n_line = 2;
	a.line = inl;
	b.id = 200;	/* main */
	b.mapping_id = 9;
	b.n_line = 1;
	b.line = lm;
	c.id = 300;	/* no symbol */
	c.mapping_id = 9;
	c.address = 0x401234;
	smp.n_location_id = 3;
	smp.location_id = ids;
	smp.n_value = 2;
	smp.value = values;
	m.n_sample_type = 2;
	m.sample_type = vts;
	m.n_sample = 1;
	m.sample = smps;
	m.n_mapping = 1;
	m.mapping = mps;
	m.n_location = 3;
	m.location = locs;
	m.n_function = 3;
	m.function = fns;
	m.n_string_table = sizeof(strs) / sizeof(strs[0]);
	m.string_table = strs;

	pp = decode_msg(&m, err, sizeof(err));
	assert_non_null(pp);
	/* no default: the last sample type, as pprof picks */
	assert_int_equal(fog_pprof_sample_index(pp, NULL), 1);
	p = fog_pprof_to_prof(pp, fog_pprof_sample_index(pp, NULL), err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->kind, FOG_PROF_INUSE);
	f = open_memstream(&buf, &len);
	assert_int_equal(fog_prof_write_folded(p, f), 0);
	fclose(f);
	assert_string_equal(buf, "goapp;main;work;leaf_inl;[goapp+0x1234] 4096\n");
	free(buf);
	fog_prof__free(p);
	fog_pprof__free(pp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_back),
		cmocka_unit_test_setup_teardown(test_diff_weights, pair_setup, pair_teardown),
		cmocka_unit_test(test_diff_vanished),
		cmocka_unit_test_setup_teardown(test_diff_html, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_diff_pprof, pair_setup, pair_teardown),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_other_tools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
