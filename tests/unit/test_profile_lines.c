// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source lines and off-CPU profiles on ground truth this test holds: its own
 * binary (built with -g) read through the ELF cache gives the file and line of
 * one of its functions; a hand-built profile with lines prints them in folded
 * stacks only when asked, pprof carries them, and an off-CPU profile's pprof
 * says nanoseconds without scaling the values by a period.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "profile/elfsym.h"
#include "profile/prof.h"
#include "profile/symbolize.h"

#if __has_include("profile.pb-c.h")
#include "profile.pb-c.h"
#define HAVE_PB 1
#endif

static volatile int sink;
/* marker_fn spans these three lines: its code maps to one of them, by compiler and flags */
static const int marker_line = __LINE__ + 1;
__attribute__((noinline)) void marker_fn(void)
{
	sink++;
}

/* The ELF vaddr of a function of this process, through its mapping. */
static __u64 vaddr_of(const struct fog_elfsym *e, const void *fn)
{
	__u64 ip = (__u64)(uintptr_t)fn, start, end, pgoff, vaddr = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *path;
		bool exec;

		if (fog_maps_parse_line(line, &start, &end, &pgoff, &exec, &path) || ip < start ||
		    ip >= end)
			continue;
		assert_true(fog_elfsym__off_to_vaddr(e, ip - start + pgoff, &vaddr));
	}
	fclose(f);
	assert_int_not_equal(vaddr, 0);
	return vaddr;
}

static void test_own_line(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(4);
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct fog_elfsym *e;
	const char *file = NULL, *name;
	__u32 line = 0;
	__u64 v, start;

	assert_true(fd >= 0);
	e = fog_elfcache__get(c, fd);
	close(fd);	/* the cache keeps what it needs for the line table */
	assert_non_null(e);
	assert_true(fog_elfsym__has_lines(e));
	v = vaddr_of(e, (const void *)marker_fn);
	name = fog_elfsym__lookup(e, v, &start);
	assert_non_null(name);
	assert_string_equal(name, "marker_fn");
	assert_true(fog_elfsym__line(e, v, &file, &line));
	assert_non_null(strstr(file, "test_profile_lines.c"));
	assert_in_range(line, marker_line, marker_line + 3);
	/* an address in the body maps to a line of the body */
	assert_true(fog_elfsym__line(e, v + 2, &file, &line));
	assert_in_range(line, marker_line, marker_line + 3);
	/* no line for an address outside every sequence */
	assert_false(fog_elfsym__line(e, 1, &file, &line));
	fog_elfcache__put(c, e);
	fog_elfcache__free(c);
}

/* The symbolizer gives lines only when asked, for this process's own frames. */
static void test_symbolizer_lines(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(16);
	struct fog_symbolizer *s = fog_symbolizer__new(c);
	struct fog_sym sym;

	assert_int_equal(fog_symbolizer__add_pid(s, (__u32)getpid()), 0);
	assert_int_equal(fog_symbolizer__user(s, (__u32)getpid(), (__u64)(uintptr_t)marker_fn,
					      &sym), 0);
	assert_string_equal(sym.func, "marker_fn");
	assert_null(sym.file);
	fog_symbolizer__set_lines(s, true);
	assert_int_equal(fog_symbolizer__user(s, (__u32)getpid(), (__u64)(uintptr_t)marker_fn,
					      &sym), 0);
	assert_non_null(sym.file);
	assert_non_null(strstr(sym.file, "test_profile_lines.c"));
	assert_in_range(sym.line, marker_line, marker_line + 3);
	assert_non_null(sym.func_file);
	assert_non_null(strstr(sym.func_file, "test_profile_lines.c"));
	/* pruning keeps a live process */
	fog_symbolizer__prune(s);
	assert_int_equal(fog_symbolizer__procs(s), 1);
	fog_symbolizer__free(s);
	fog_elfcache__free(c);
}

static struct fog_prof *make_prof(enum fog_prof_kind kind)
{
	struct fog_prof *p = fog_prof__new(kind);
	long outer = fog_prof__frame(p, "outer", "/bin/app", 0x401000, false, 0);
	long leaf = fog_prof__frame(p, "leaf", "/bin/app", 0x402000, false, 0);
	__u32 st[] = { (__u32)leaf, (__u32)outer };

	assert_true(outer >= 0 && leaf >= 0);
	assert_int_equal(fog_prof__frame_src(p, (size_t)outer, "/src/a.c", 3, "/src/a.c"), 0);
	assert_int_equal(fog_prof__frame_src(p, (size_t)leaf, "/src/lib/b.c", 9, "/src/lib/b.c"),
			 0);
	assert_int_equal(fog_prof__add_stack(p, 7, "app", st, 2, 5000, 2), 0);
	p->period = kind == FOG_PROF_CPU ? 10000000 : 1;
	return p;
}

static char *folded(const struct fog_prof *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fog_prof_write_folded(p, f), 0);
	fclose(f);
	return buf;
}

static void test_folded_lines(void **state)
{
	struct fog_prof *p = make_prof(FOG_PROF_CPU);
	char *out = folded(p);

	assert_string_equal(out, "app;outer;leaf 5000\n");	/* not asked for */
	free(out);
	p->lines = true;
	out = folded(p);
	assert_string_equal(out, "app;outer (a.c:3);leaf (b.c:9) 5000\n");
	free(out);
	fog_prof__free(p);
}

#ifdef HAVE_PB
static Fogpprof__Profile *decode(const struct fog_prof *p)
{
	static unsigned char raw[1 << 16];
	z_stream z = { 0 };
	Fogpprof__Profile *pb;
	void *gz;
	size_t len;

	assert_int_equal(fog_prof_pprof(p, &gz, &len), 0);
	z.next_in = gz;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = sizeof(raw);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	pb = fogpprof__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	free(gz);
	assert_non_null(pb);
	return pb;
}

static void test_pprof_lines_and_offcpu(void **state)
{
	struct fog_prof *p = make_prof(FOG_PROF_CPU);
	Fogpprof__Profile *pb = decode(p);
	int seen = 0;

	for (size_t l = 0; l < pb->n_location; l++) {
		Fogpprof__Line *ln = pb->location[l]->line[0];

		for (size_t f = 0; f < pb->n_function; f++) {
			const char *name = pb->string_table[pb->function[f]->name];
			const char *file = pb->string_table[pb->function[f]->filename];

			if (pb->function[f]->id != ln->function_id)
				continue;
			if (!strcmp(name, "leaf")) {
				assert_int_equal(ln->line, 9);
				assert_string_equal(file, "/src/lib/b.c");
				seen++;
			} else if (!strcmp(name, "outer")) {
				assert_int_equal(ln->line, 3);
				assert_string_equal(file, "/src/a.c");
				seen++;
			}
		}
	}
	assert_int_equal(seen, 2);
	assert_int_equal(pb->sample[0]->value[1], 5000 * 10000000LL);
	fogpprof__profile__free_unpacked(pb, NULL);
	fog_prof__free(p);

	p = make_prof(FOG_PROF_OFFCPU);
	pb = decode(p);
	assert_string_equal(pb->string_table[pb->sample_type[0]->type], "switches");
	assert_string_equal(pb->string_table[pb->sample_type[1]->type], "offcpu");
	assert_string_equal(pb->string_table[pb->sample_type[1]->unit], "nanoseconds");
	assert_string_equal(pb->string_table[pb->period_type->unit], "nanoseconds");
	assert_int_equal(pb->sample[0]->value[0], 2);
	assert_int_equal(pb->sample[0]->value[1], 5000);	/* nanoseconds as they are */
	fogpprof__profile__free_unpacked(pb, NULL);
	fog_prof__free(p);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_line),
		cmocka_unit_test(test_symbolizer_lines),
		cmocka_unit_test(test_folded_lines),
#ifdef HAVE_PB
		cmocka_unit_test(test_pprof_lines_and_offcpu),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
