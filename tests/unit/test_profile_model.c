// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profile model (user/profile/prof.c) when its allocations fail: every call that builds
 * a profile (frames, source lines, mappings, stacks, notes) and every analysis of one
 * (functions, kernel time, the JSON summary) is run with its 1st, 2nd, ... allocation failing
 * (fail_inject.h). A failed call returns its error and leaves the profile as it was, so the
 * profile built under failures equals one built without them; LeakSanitizer (SAN=1) checks
 * that nothing leaks.
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

#include "profile/prof.h"
#include "fail_inject.h"

/* enough frames and stacks to grow every table of the model at least twice */
#define NFUNCS	  700
#define NSTACKS	  600
#define STACK_LEN 6

/* The 700 frames: f0..f99 kernel, the rest user functions of four modules. */
static void frame_name(int i, char *func, size_t flen, const char **module)
{
	static const char *const mods[] = {"/usr/bin/app", "/usr/lib/libc.so.6",
					   "/usr/lib/libm.so.6", "/opt/a b/lib.so"};

	snprintf(func, flen, "%s_%d", i < 100 ? "kfunc" : "func", i);
	*module = i < 100 ? "[kernel.kallsyms]" : mods[i % 4];
}

/* Stack s: a kernel leaf for every third stack, then user frames chosen by s. */
static void stack_of(int s, __u32 *frames)
{
	for (int k = 0; k < STACK_LEN; k++)
		frames[k] = (__u32)(k == 0 && s % 3 == 0 ? s % 100 : 100 + (s * 7 + k * 13) % 600);
}

/*
 * Builds the profile; with inject, each call runs with its allocations failing in turn
 * first, checking that a failed call changed nothing. Returns the failures injected.
 */
static unsigned long build(struct fog_prof *p, bool inject)
{
	unsigned long runs, failures = 0;
	__u32 frames[STACK_LEN];
	char func[64], note[64];
	const char *module;
	size_t nframes, nstacks, nmaps, nnotes;
	__u64 total;
	long idx;
	__u32 map;
	int err;

#define STEP(stmt, check)                                                                          \
	do {                                                                                       \
		nframes = p->nframes, nstacks = p->nstacks, nmaps = p->nmaps;                      \
		nnotes = p->nnotes, total = p->total;                                              \
		if (!inject) {                                                                     \
			bool failed __attribute__((unused)) = false;                               \
			stmt;                                                                      \
			check;                                                                     \
			break;                                                                     \
		}                                                                                  \
		FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, stmt, {                              \
			check;                                                                     \
			if (failed) {                                                              \
				assert_int_equal(p->nframes, nframes);                             \
				assert_int_equal(p->nstacks, nstacks);                             \
				assert_int_equal(p->nmaps, nmaps);                                 \
				assert_int_equal(p->nnotes, nnotes);                               \
				assert_int_equal(p->total, total);                                 \
			}                                                                          \
		});                                                                                \
		failures += runs - 1;                                                              \
	} while (0)

	for (int i = 0; i < 4; i++) {
		frame_name(100 + i, func, sizeof(func), &module);
		STEP(map = fog_prof__mapping(p, module, 0x400000 * (i + 1), 0x400000 * (i + 2), 0,
					     "abcd"),
		     assert_int_equal(map == 0, failed));
		assert_int_equal(map, i + 1);
	}
	for (int i = 0; i < NFUNCS; i++) {
		frame_name(i, func, sizeof(func), &module);
		STEP(idx = fog_prof__frame(p, func, module, 0x1000 + i, i < 100, i < 100 ? 0 : 1),
		     if (failed) assert_int_equal(idx, -ENOMEM);
		     else assert_int_equal(idx, i));
		if (i % 50 == 0) {
			snprintf(note, sizeof(note), "/src/file_%d.c", i);
			STEP(err = fog_prof__frame_src(p, (size_t)i, note, (__u32)i + 1, note),
			     assert_int_equal(err, failed ? -ENOMEM : 0));
		}
	}
	/* a frame already there is found again, whatever fails */
	frame_name(7, func, sizeof(func), &module);
	STEP(idx = fog_prof__frame(p, func, module, 0x1000 + 7, true, 0), assert_int_equal(idx, 7));
	for (int s = 0; s < NSTACKS; s++) {
		stack_of(s, frames);
		STEP(err = fog_prof__add_stack(p, 100 + s % 5, "app", frames, STACK_LEN, s + 1, 1),
		     assert_int_equal(err, failed ? -ENOMEM : 0));
	}
	for (int i = 0; i < 3; i++) {
		snprintf(note, sizeof(note), "note %d", i);
		/* a note is best effort: one that cannot be kept is not kept */
		STEP(fog_prof__note(p, "%s", note), assert_int_equal(p->nnotes, nnotes + !failed));
	}
#undef STEP
	return failures;
}

static char *folded(const struct fog_prof *p, size_t *len)
{
	char *buf;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(fog_prof_write_folded(p, f), 0);
	fclose(f);
	return buf;
}

static void test_build(void **state)
{
	struct fog_prof *want = fog_prof__new(FOG_PROF_CPU), *p = NULL;
	char *a, *b;
	size_t alen, blen;
	unsigned long runs, failures;

	assert_non_null(want);
	assert_int_equal(build(want, false), 0);
	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, p = fog_prof__new(FOG_PROF_CPU),
			 { assert_int_equal(p == NULL, failed); });
	assert_int_equal(runs, 2);
	failures = build(p, true);
	/* mapping (2 each), frame (2 or 3 each) and its growth, lines, stacks, notes */
	assert_true(failures > 4 * 2 + NFUNCS * 2 + NSTACKS);
	assert_int_equal(p->nframes, NFUNCS);
	assert_int_equal(p->nmaps, 4);
	assert_int_equal(p->nnotes, 3);
	assert_int_equal(p->nstacks, want->nstacks);
	assert_int_equal(p->total, want->total);
	assert_int_equal(p->frames[50].line, 51);
	assert_string_equal(p->frames[50].file, "/src/file_50.c");
	a = folded(want, &alen);
	b = folded(p, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	fog_prof__free(p);
	fog_prof__free(want);
}

static void test_analysis(void **state)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	struct fog_prof_kernel_time kwant, k;
	struct fog_prof_func *want, *fn;
	char *jwant, *js = NULL;
	size_t nwant, n;
	unsigned long runs;
	json_t *j;
	int err;

	assert_non_null(p);
	build(p, false);
	want = fog_prof_functions_of(p, true, FOG_PROF_FUNCS_USER, &nwant);
	assert_non_null(want);
	assert_true(nwant > 100);
	assert_int_equal(fog_prof_kernel_time(p, &kwant), 0);
	assert_non_null(kwant.func);
	j = fog_prof_summary_json(p, 10);
	assert_non_null(j);
	jwant = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(jwant);
	assert_non_null(strstr(jwant, "\"hot_user_function\": {"));

	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs,
			 fn = fog_prof_functions_of(p, true, FOG_PROF_FUNCS_USER, &n), {
				 if (failed) {
					 assert_null(fn);
					 assert_int_equal(errno, ENOMEM);
					 assert_int_equal(n, 0);
				 } else {
					 assert_int_equal(n, nwant);
					 for (size_t i = 0; i < n; i++) {
						 assert_ptr_equal(fn[i].func, want[i].func);
						 assert_ptr_equal(fn[i].module, want[i].module);
						 assert_int_equal(fn[i].self, want[i].self);
						 assert_int_equal(fn[i].total, want[i].total);
						 assert_int_equal(fn[i].heaviest, want[i].heaviest);
					 }
				 }
				 free(fn);
			 });
	/* three arrays and the hash of functions */
	assert_int_equal(runs, 5);

	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, err = fog_prof_kernel_time(p, &k), {
		if (failed) {
			assert_int_equal(err, -ENOMEM);
			assert_null(k.func);
			assert_int_equal(k.value, 0);
		} else {
			assert_int_equal(err, 0);
			assert_memory_equal(&k, &kwant, sizeof(k));
		}
	});
	assert_int_equal(runs, 5);

	/* a summary that could not be computed is NULL, never one that claims no hot function */
	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 100, runs, j = fog_prof_summary_json(p, 10), {
		if (failed) {
			assert_null(j);
			assert_int_equal(errno, ENOMEM);
		} else {
			assert_non_null(j);
			js = json_dumps(j, JSON_SORT_KEYS);
			json_decref(j);
		}
	});
	/* four allocations each: the hot user function, three top lists, kernel time */
	assert_int_equal(runs, 4 * 4 + 4 + 1);
	assert_non_null(js);
	assert_string_equal(js, jwant);
	free(js);
	free(jwant);
	free(want);
	fog_prof__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_analysis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
