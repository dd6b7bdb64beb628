// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output formats and rules on a profile this test builds by hand, so every
 * figure is known: folded lines, self/total per function, the pprof encoding
 * (decoded back with protobuf-c), the SVG's frames and the bottleneck rules.
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

#include "profile/bottleneck.h"
#include "profile/flame.h"
#include "profile/prof.h"
#include "profile/render.h"

#if __has_include("profile.pb-c.h")
#include "profile.pb-c.h"
#define HAVE_PB 1
#endif

/* main -> work -> hot: 300 samples; main -> cold: 100; a [unknown] leaf: 10 */
static struct fog_prof *make_prof(void)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	__u32 m = fog_prof__mapping(p, "/bin/app", 0x400000, 0x500000, 0, "abcdef0123");
	long main_f = fog_prof__frame(p, "main", "/bin/app", 0x401000, false, m);
	long work = fog_prof__frame(p, "work", "/bin/app", 0x402000, false, m);
	long hot = fog_prof__frame(p, "hot", "/bin/app", 0x403000, false, m);
	long cold = fog_prof__frame(p, "cold", "/bin/app", 0x404000, false, m);
	long unk = fog_prof__frame(p, NULL, "/bin/app", 0x405000, false, m);
	__u32 s1[] = { (__u32)hot, (__u32)work, (__u32)main_f };
	__u32 s2[] = { (__u32)cold, (__u32)main_f };
	__u32 s3[] = { (__u32)unk, (__u32)main_f };

	p->period = 10000000;	/* 100 Hz */
	p->frequency = 100;
	snprintf(p->target, sizeof(p->target), "pid 42");
	assert_int_equal(fog_prof__add_stack(p, 42, "app", s1, 3, 200, 200), 0);
	assert_int_equal(fog_prof__add_stack(p, 42, "app", s2, 2, 100, 100), 0);
	assert_int_equal(fog_prof__add_stack(p, 42, "app", s1, 3, 100, 100), 0);	/* merges */
	assert_int_equal(fog_prof__add_stack(p, 42, "app", s3, 2, 10, 10), 0);
	return p;
}

static void test_frames_interned(void **state)
{
	struct fog_prof *p = make_prof();

	assert_int_equal(p->nframes, 5);
	assert_int_equal(fog_prof__frame(p, "hot", "/bin/app", 0x403000, false, 1), 2);
	assert_int_equal(p->nstacks, 3);
	assert_int_equal(p->total, 410);
	assert_string_equal(p->frames[4].func, FOG_PROF_UNKNOWN);	/* kept, labelled */
	fog_prof__free(p);
}

static void test_folded(void **state)
{
	struct fog_prof *p = make_prof();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(fog_prof_write_folded(p, f), 0);
	fclose(f);
	assert_string_equal(buf, "app;main;work;hot 300\napp;main;cold 100\napp;main;[unknown] 10\n");
	free(buf);
	fog_prof__free(p);
}

static void test_functions(void **state)
{
	struct fog_prof *p = make_prof();
	struct fog_prof_func *fn;
	size_t n;

	fn = fog_prof_functions(p, false, &n);
	assert_int_equal(n, 5);
	assert_string_equal(fn[0].func, "hot");
	assert_int_equal(fn[0].self, 300);
	free(fn);
	fn = fog_prof_functions(p, true, &n);
	assert_string_equal(fn[0].func, "main");
	assert_int_equal(fn[0].total, 410);
	assert_int_equal(fn[0].self, 0);
	free(fn);
	fog_prof__free(p);
}

static void test_bottlenecks(void **state)
{
	struct fog_prof *p = make_prof();
	struct fog_bottleneck_cfg cfg;
	struct fog_finding f[8];
	size_t n;

	fog_bottleneck_defaults(&cfg);
	/* hot: 300 samples * 10 ms = 3 s > 1 s; cold: 1 s is not over it; main is only a path */
	n = fog_bottleneck_find(p, &cfg, f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].rule, "cpu_function");
	assert_true(f[0].figure > 2.99 && f[0].figure < 3.01);
	assert_int_equal(f[0].severity, FOG_SEV_CRITICAL);	/* 3 s >= twice 1 s */
	assert_non_null(strstr(f[0].evidence, "app;main;work;hot"));
	cfg.func_seconds = 5;
	assert_int_equal(fog_bottleneck_find(p, &cfg, f, 8), 0);
	/* disk and run-queue rules from per-process figures */
	p->procs = calloc(1, sizeof(*p->procs));
	p->nprocs = 1;
	p->procs[0] = (struct fog_prof_proc){ .pid = 42, .comm = "app",
					      .io_read_bytes_per_s = 150e6, .runq_p99_ns = 1e6 };
	n = fog_bottleneck_find(p, &cfg, f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].rule, "disk");
	assert_int_equal(f[0].severity, FOG_SEV_WARNING);
	fog_prof__free(p);
}

static void test_svg_frames(void **state)
{
	struct fog_prof *p = make_prof();
	struct fog_prof_output out;

	assert_int_equal(fog_prof_render(p, "svg", &out), 0);
	assert_non_null(strstr(out.body, "<title>hot (300 samples, 73.17%)</title>"));
	assert_non_null(strstr(out.body, "<title>[unknown] (10 samples, 2.44%)</title>"));
	assert_non_null(strstr(out.body, "</svg>"));
	free(out.body);
	assert_int_equal(fog_prof_render(p, "nonsense", &out), -EINVAL);
	fog_prof__free(p);
}

static void test_pprof_roundtrip(void **state)
{
	struct fog_prof *p = make_prof();
	void *gz;
	size_t len;
	int rc = fog_prof_pprof(p, &gz, &len);

#ifndef HAVE_PB
	assert_int_equal(rc, -EPROTONOSUPPORT);
	fog_prof__free(p);
	skip();
#else
	unsigned char *raw = malloc(1 << 20);
	z_stream z = { .next_in = gz, .avail_in = (uInt)len, .next_out = raw,
		       .avail_out = 1 << 20 };
	Fogpprof__Profile *pb;
	__u64 hot = 0;

	assert_int_equal(rc, 0);
	assert_int_equal(((unsigned char *)gz)[0], 0x1f);	/* gzip magic */
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	pb = fogpprof__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	assert_non_null(pb);
	assert_string_equal(pb->string_table[0], "");
	assert_int_equal(pb->n_sample, 3);
	assert_int_equal(pb->n_location, 5);
	assert_int_equal(pb->n_function, 5);
	assert_int_equal(pb->n_mapping, 1);
	assert_string_equal(pb->string_table[pb->mapping[0]->build_id], "abcdef0123");
	assert_int_equal(pb->period, 10000000);
	for (size_t i = 0; i < pb->n_sample; i++) {
		Fogpprof__Sample *s = pb->sample[i];
		Fogpprof__Location *leaf = NULL;

		assert_int_equal(s->n_value, 2);
		assert_int_equal(s->value[1], s->value[0] * 10000000);
		for (size_t l = 0; l < pb->n_location; l++)
			if (pb->location[l]->id == s->location_id[0])
				leaf = pb->location[l];
		assert_non_null(leaf);
		for (size_t f = 0; f < pb->n_function; f++)
			if (pb->function[f]->id == leaf->line[0]->function_id &&
			    !strcmp(pb->string_table[pb->function[f]->name], "hot"))
				hot += (__u64)s->value[0];
	}
	assert_int_equal(hot, 300);
	fogpprof__profile__free_unpacked(pb, NULL);
	free(raw);
	free(gz);
	fog_prof__free(p);
#endif
}

static void test_empty_profile(void **state)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	const char *formats[] = { "folded", "svg", "html", "speedscope", "json" };
	struct fog_prof_output out;

	p->period = 10101010;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_int_equal(fog_prof_render(p, formats[i], &out), 0);
		free(out.body);
	}
	fog_prof__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_interned), cmocka_unit_test(test_folded),
		cmocka_unit_test(test_functions),	cmocka_unit_test(test_bottlenecks),
		cmocka_unit_test(test_svg_frames),	cmocka_unit_test(test_pprof_roundtrip),
		cmocka_unit_test(test_empty_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
