// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hot user function against a kernel leaf, and output integrity, on
 * profiles built by hand so every figure is known (issue 11, issue 12 #5):
 * - a kernel leaf (where the timer interrupt lands) holds more samples than
 *   any user function: the ranking, the summary JSON, the HTML report and the
 *   bottleneck rules name the user function, and kernel time apart;
 * - hostile names (invalid UTF-8, ';', '\n', 5000 bytes) give folded lines
 *   with the right field count, speedscope JSON whose samples index frames of
 *   their own process, and names of at most FOG_PROF_NAME_MAX bytes;
 * - 50,000 distinct functions give 50,000 pprof functions and right totals.
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
#include "profile/prof.h"
#include "profile/render.h"

#if __has_include("profile.pb-c.h")
#include "profile.pb-c.h"
#define HAVE_PB 1
#endif

/*
 * main -> work -> sys_write -> pvm_irq_enable: 400 samples
 * main -> cold -> sys_read -> pvm_irq_enable: 300
 * main -> work: 100; main -> cold: 150
 * pvm_irq_enable is the leaf of 700 of 950; work is the innermost user frame of
 * 500 (400 of them in the kernel), cold of 450.
 */
static struct fog_prof *make_kernel_leaf(void)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	long m = fog_prof__frame(p, "main", "/bin/app", 0x401000, false, 0);
	long work = fog_prof__frame(p, "work", "/bin/app", 0x402000, false, 0);
	long cold = fog_prof__frame(p, "cold", "/bin/app", 0x403000, false, 0);
	long wr = fog_prof__frame(p, "sys_write", "[kernel.kallsyms]", 0xffff1000, true, 0);
	long rd = fog_prof__frame(p, "sys_read", "[kernel.kallsyms]", 0xffff2000, true, 0);
	long irq = fog_prof__frame(p, "pvm_irq_enable", "[kernel.kallsyms]", 0xffff3000, true, 0);
	__u32 s1[] = { (__u32)irq, (__u32)wr, (__u32)work, (__u32)m };
	__u32 s2[] = { (__u32)irq, (__u32)rd, (__u32)cold, (__u32)m };
	__u32 s3[] = { (__u32)work, (__u32)m };
	__u32 s4[] = { (__u32)cold, (__u32)m };

	p->period = 10000000;	/* 100 Hz: a sample is 10 ms */
	p->frequency = 100;
	snprintf(p->target, sizeof(p->target), "pid 7");
	assert_int_equal(fog_prof__add_stack(p, 7, "app", s1, 4, 400, 400), 0);
	assert_int_equal(fog_prof__add_stack(p, 7, "app", s2, 4, 300, 300), 0);
	assert_int_equal(fog_prof__add_stack(p, 7, "app", s3, 2, 100, 100), 0);
	assert_int_equal(fog_prof__add_stack(p, 7, "app", s4, 2, 150, 150), 0);
	return p;
}

static void test_ranking(void **state)
{
	struct fog_prof *p = make_kernel_leaf();
	struct fog_prof_kernel_time k;
	struct fog_prof_func *fn;
	size_t n;

	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_ALL, &n);
	assert_string_equal(fn[0].func, "pvm_irq_enable");	/* the leaf with most samples */
	assert_int_equal(fn[0].self, 700);
	free(fn);
	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_USER, &n);
	assert_int_equal(n, 3);
	assert_string_equal(fn[0].func, "work");
	assert_int_equal(fn[0].self, 500);
	assert_int_equal(fn[0].in_kernel, 400);
	assert_string_equal(fn[1].func, "cold");
	assert_int_equal(fn[1].self, 450);
	free(fn);
	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_KERNEL, &n);
	assert_int_equal(n, 3);
	assert_string_equal(fn[0].func, "pvm_irq_enable");
	assert_false(fn[0].self == 0);
	assert_int_equal(fn[1].self, 0);	/* sys_read, sys_write: never the leaf */
	free(fn);
	assert_int_equal(fog_prof_kernel_time(p, &k), 0);
	assert_int_equal(k.value, 700);
	assert_int_equal(k.kernel_only, 0);
	assert_string_equal(k.func, "pvm_irq_enable");
	assert_int_equal(k.func_self, 700);
	assert_string_equal(k.path, "sys_write;pvm_irq_enable");
	assert_int_equal(k.path_value, 400);
	assert_string_equal(k.user_func, "work");
	fog_prof__free(p);
}

static void test_summary_json(void **state)
{
	struct fog_prof *p = make_kernel_leaf();
	json_t *j = fog_prof_summary_json(p, 10), *hot, *k;

	hot = json_object_get(j, "hot_user_function");
	assert_string_equal(json_string_value(json_object_get(hot, "function")), "work");
	assert_int_equal(json_integer_value(json_object_get(hot, "self")), 500);
	assert_int_equal(json_integer_value(json_object_get(hot, "self_in_kernel")), 400);
	assert_false(json_is_true(json_object_get(hot, "kernel")));
	k = json_object_get(j, "kernel");
	assert_int_equal(json_integer_value(json_object_get(k, "total")), 700);
	assert_true(json_real_value(json_object_get(k, "share")) > 0.736 &&
		    json_real_value(json_object_get(k, "share")) < 0.738);
	assert_string_equal(json_string_value(json_object_get(k, "hottest_function")),
			    "pvm_irq_enable");
	assert_string_equal(json_string_value(json_object_get(k, "hottest_path")),
			    "sys_write;pvm_irq_enable");
	assert_string_equal(json_string_value(json_object_get(k, "hottest_path_user_function")),
			    "work");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
				    json_object_get(j, "top_self"), 0), "function")), "work");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
				    json_object_get(j, "top_kernel"), 0), "function")),
			    "pvm_irq_enable");
	/* top_self holds user functions only */
	for (size_t i = 0; i < json_array_size(json_object_get(j, "top_self")); i++)
		assert_false(json_is_true(json_object_get(
			json_array_get(json_object_get(j, "top_self"), i), "kernel")));
	json_decref(j);
	fog_prof__free(p);
}

static void test_report_text(void **state)
{
	struct fog_prof *p = make_kernel_leaf();
	struct fog_prof_output out;
	const char *top;

	assert_int_equal(fog_prof_render(p, "html", &out), 0);
	assert_non_null(strstr(out.body, "<tr><th>hottest user function</th><td>work, 52.6% of "
					 "samples incl. kernel time it caused (42.1% in the "
					 "kernel)</td></tr>"));
	assert_non_null(strstr(out.body, "<tr><th>kernel time</th><td>73.7% of samples in the "
					 "kernel"));
	assert_non_null(strstr(out.body, "<tr><th>hottest kernel function</th><td>"
					 "pvm_irq_enable, 73.7% of samples as the leaf"));
	assert_non_null(strstr(out.body, "sys_write;pvm_irq_enable, 42.1% of samples, under "
					 "user function work"));
	/* the user table's first row is work; the kernel table's is pvm_irq_enable */
	top = strstr(out.body, "<h3>Top user functions by self</h3>");
	assert_non_null(top);
	assert_non_null(strstr(top, "<tr><td>work</td>"));
	assert_true(strstr(top, "<tr><td>work</td>") < strstr(top, "<tr><td>cold</td>"));
	/* no kernel function in the user tables: its first row is after the kernel heading */
	assert_true(strstr(top, "<tr><td>pvm_irq_enable</td>") >
		    strstr(top, "<h3>Top kernel functions"));
	top = strstr(out.body, "<h3>Top kernel functions by self</h3>");
	assert_non_null(top);
	assert_non_null(strstr(top, "<tr><td>pvm_irq_enable</td>"));
	free(out.body);
	fog_prof__free(p);
}

static void test_bottleneck_findings(void **state)
{
	struct fog_prof *p = make_kernel_leaf();
	struct fog_bottleneck_cfg cfg;
	struct fog_finding f[8];
	bool user = false, kern = false;
	size_t n;

	fog_bottleneck_defaults(&cfg);
	n = fog_bottleneck_find(p, &cfg, f, 8);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i].rule, "cpu_function")) {
			assert_null(strstr(f[i].evidence, "pvm_irq_enable used"));
			if (!strncmp(f[i].evidence, "work used 5.00 s", 16)) {
				user = true;
				assert_int_equal(f[i].severity, FOG_SEV_CRITICAL);
				assert_non_null(strstr(f[i].evidence, "52.6% in this user function "
								      "itself incl. the kernel time "
								      "it caused, 42.1% in the kernel"));
			}
		}
		if (!strcmp(f[i].rule, "cpu_kernel")) {
			kern = true;
			assert_int_equal(f[i].severity, FOG_SEV_WARNING);
			assert_non_null(strstr(f[i].evidence, "kernel: pvm_irq_enable 73.7% of "
							      "samples"));
			assert_non_null(strstr(f[i].evidence, "under user function work"));
		}
	}
	assert_true(user);
	assert_true(kern);
	/* over the budget by the kernel leaf alone: a warning, never critical */
	cfg.func_seconds = 5.5;
	n = fog_bottleneck_find(p, &cfg, f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].rule, "cpu_kernel");
	assert_int_equal(f[0].severity, FOG_SEV_WARNING);
	fog_prof__free(p);
}

/* ---- hostile names ---- */

static bool valid_utf8(const char *s)
{
	char *buf = malloc(strlen(s) * 3 + 4);
	bool ok;

	/* cleaning changes nothing in valid UTF-8 without control characters */
	fog_prof_clean_name(buf, strlen(s) * 3 + 4, s, false);
	ok = !strcmp(buf, s);
	free(buf);
	return ok;
}

#define NHOSTILE 6

/* pid 1: frames with hostile names; pid 2: plain ones. Leaf first. */
static struct fog_prof *make_hostile(char **long_name)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	char *big = malloc(5001);
	const char *names[NHOSTILE] = { "bad\xff\xfe name", "semi;colon", "new\nline",
					"ctl\x01\x7f", "cut\xe2\x82", NULL };
	__u32 hf[NHOSTILE], pf[2];

	memset(big, 'A', 5000);
	big[5000] = '\0';
	memcpy(big + 1021, "\xe2\x82\xac", 3);	/* a 3-byte character across the cap */
	names[5] = big;
	for (int i = 0; i < NHOSTILE; i++)
		hf[i] = (__u32)fog_prof__frame(p, names[i], "/tmp/x\xff;y", 0x1000 + i, false, 0);
	pf[0] = (__u32)fog_prof__frame(p, "plain_leaf", "/bin/ok", 0x9000, false, 0);
	pf[1] = (__u32)fog_prof__frame(p, "plain_main", "/bin/ok", 0x9100, false, 0);
	p->period = 10000000;
	assert_int_equal(fog_prof__add_stack(p, 1, "c\xff;m\n", hf, NHOSTILE, 5, 5), 0);
	assert_int_equal(fog_prof__add_stack(p, 1, "c\xff;m\n", hf + 1, 2, 3, 3), 0);
	assert_int_equal(fog_prof__add_stack(p, 2, "ok", pf, 2, 7, 7), 0);
	*long_name = big;
	return p;
}

static void test_hostile_names(void **state)
{
	char *big;
	struct fog_prof *p = make_hostile(&big);

	for (size_t i = 0; i < p->nframes; i++) {
		assert_true(strlen(p->frames[i].func) < FOG_PROF_NAME_MAX);
		assert_true(valid_utf8(p->frames[i].func));
		assert_true(valid_utf8(p->frames[i].module));
	}
	assert_string_equal(p->frames[0].func, "bad\xef\xbf\xbd\xef\xbf\xbd name");
	assert_string_equal(p->frames[2].func, "new?line");
	assert_string_equal(p->frames[3].func, "ctl??");
	assert_string_equal(p->frames[4].func, "cut\xef\xbf\xbd\xef\xbf\xbd");
	/* 1021 'A's, then the euro sign would pass 1023 bytes: cut before it */
	assert_int_equal(strlen(p->frames[5].func), 1021);
	assert_true(valid_utf8(p->stacks[0].comm));
	free(big);
	fog_prof__free(p);
}

static void test_hostile_folded(void **state)
{
	char *big, *buf = NULL, *line, *save;
	struct fog_prof *p = make_hostile(&big);
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&buf, &len);
	/* comm + frames, per stack in order */
	const size_t want_fields[] = { 1 + NHOSTILE, 1 + 2, 1 + 2 };
	const unsigned long want_value[] = { 5, 3, 7 };

	assert_int_equal(fog_prof_write_folded(p, f), 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;
		size_t fields = 1;

		assert_true(lines < 3);
		assert_non_null(sp);
		assert_int_equal(strtoul(sp + 1, &end, 10), want_value[lines]);
		assert_int_equal(*end, '\0');
		*sp = '\0';
		assert_true(valid_utf8(line));
		for (char *c = line; *c; c++)
			fields += *c == ';';
		assert_int_equal(fields, want_fields[lines]);
		lines++;
	}
	assert_int_equal(lines, 3);
	free(buf);
	free(big);
	fog_prof__free(p);
}

static void test_hostile_speedscope(void **state)
{
	char *big;
	struct fog_prof *p = make_hostile(&big);
	struct fog_prof_output out;
	json_error_t err;
	json_t *j, *frames, *profiles;
	bool saw_plain = false;

	assert_int_equal(fog_prof_render(p, "speedscope", &out), 0);
	j = json_loads(out.body, 0, &err);	/* jansson refuses invalid UTF-8 on load */
	assert_non_null(j);
	frames = json_object_get(json_object_get(j, "shared"), "frames");
	profiles = json_object_get(j, "profiles");
	assert_int_equal(json_array_size(frames), p->nframes);
	assert_int_equal(json_array_size(profiles), 2);
	for (size_t i = 0; i < json_array_size(profiles); i++) {
		json_t *pr = json_array_get(profiles, i);
		json_t *samples = json_object_get(pr, "samples");
		const char *name = json_string_value(json_object_get(pr, "name"));
		__u32 pid = (__u32)strtoul(strrchr(name, ' ') + 1, NULL, 10);

		assert_true(pid == 1 || pid == 2);
		assert_int_equal(json_array_size(samples),
				 json_array_size(json_object_get(pr, "weights")));
		for (size_t s = 0; s < json_array_size(samples); s++) {
			json_t *st = json_array_get(samples, s);

			for (size_t q = 0; q < json_array_size(st); q++) {
				size_t fi = (size_t)json_integer_value(json_array_get(st, q));
				const char *fname;

				assert_true(fi < json_array_size(frames));
				fname = json_string_value(json_object_get(json_array_get(frames, fi),
									  "name"));
				/* every sample names a frame of its own process */
				assert_true(pid == 2 ? !strncmp(fname, "plain_", 6) :
						       !!strncmp(fname, "plain_", 6));
				saw_plain |= pid == 2 && !strcmp(fname, "plain_leaf");
			}
		}
	}
	assert_true(saw_plain);
	json_decref(j);
	free(out.body);
	free(big);
	fog_prof__free(p);
}

/* ---- 50,000 distinct functions ---- */

#define NFUNCS 50000

static struct fog_prof *make_wide(__u64 *total)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	long m = fog_prof__frame(p, "main", "/bin/wide", 0x1000, false, 0);
	char name[32];

	p->period = 10000000;
	*total = 0;
	for (int i = 0; i < NFUNCS; i++) {
		__u32 s[2];

		snprintf(name, sizeof(name), "fn_%05d", i);
		s[0] = (__u32)fog_prof__frame(p, name, "/bin/wide", 0x10000 + 16 * i, false, 0);
		s[1] = (__u32)m;
		assert_int_equal(fog_prof__add_stack(p, 3, "wide", s, 2, 1 + i % 7, 1 + i % 7), 0);
		*total += 1 + i % 7;
	}
	return p;
}

static void test_wide(void **state)
{
	__u64 total, sum = 0;
	struct fog_prof *p = make_wide(&total);
	struct fog_prof_func *fn;
	struct fog_prof_output out;
	size_t n, lines = 0;

	assert_int_equal(p->total, total);
	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_USER, &n);
	assert_int_equal(n, NFUNCS + 1);
	for (size_t i = 0; i < n; i++)
		sum += fn[i].self;
	assert_int_equal(sum, total);	/* each stack's innermost user frame once */
	assert_int_equal(fn[0].self, 7);
	free(fn);
	fn = fog_prof_functions_of(p, true, FOG_PROF_FUNCS_USER, &n);
	assert_string_equal(fn[0].func, "main");
	assert_int_equal(fn[0].total, total);
	free(fn);
	assert_int_equal(fog_prof_render(p, "folded", &out), 0);
	for (size_t i = 0; i < out.len; i++)
		lines += out.body[i] == '\n';
	assert_int_equal(lines, NFUNCS);
	free(out.body);
	assert_int_equal(fog_prof_render(p, "svg", &out), 0);
	assert_non_null(strstr(out.body, "</svg>"));
	free(out.body);
	assert_int_equal(fog_prof_render(p, "speedscope", &out), 0);
	free(out.body);
#ifdef HAVE_PB
	{
		void *gz;
		size_t len, cap = 64u << 20;
		unsigned char *raw = malloc(cap);
		z_stream z = { 0 };
		Fogpprof__Profile *pb;
		__u64 count = 0;

		assert_int_equal(fog_prof_pprof(p, &gz, &len), 0);
		z.next_in = gz;
		z.avail_in = (uInt)len;
		z.next_out = raw;
		z.avail_out = (uInt)cap;
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		pb = fogpprof__profile__unpack(NULL, z.total_out, raw);
		inflateEnd(&z);
		assert_non_null(pb);
		assert_int_equal(pb->n_function, NFUNCS + 1);
		assert_int_equal(pb->n_location, NFUNCS + 1);
		assert_int_equal(pb->n_sample, NFUNCS);
		for (size_t i = 0; i < pb->n_sample; i++)
			count += (__u64)pb->sample[i]->value[0];
		assert_int_equal(count, total);
		fogpprof__profile__free_unpacked(pb, NULL);
		free(raw);
		free(gz);
	}
#endif
	fog_prof__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranking),		 cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_report_text),	 cmocka_unit_test(test_bottleneck_findings),
		cmocka_unit_test(test_hostile_names),	 cmocka_unit_test(test_hostile_folded),
		cmocka_unit_test(test_hostile_speedscope), cmocka_unit_test(test_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
