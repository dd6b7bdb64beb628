// SPDX-License-Identifier: GPL-2.0-only
/*
 * The symbolizer against ground truth this test owns: its own functions,
 * resolved through /proc/self/maps, PT_LOAD translation and .symtab; a
 * stripped copy of itself; and malformed ELF files, which must never crash it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "profile/elfsym.h"
#include "profile/symbolize.h"

__attribute__((noinline, used)) int fog_test_known_function(int x)
{
	return x * 3 + 1;
}

static char tmpdir[] = "/tmp/fog-symtest.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_resolves_own_function(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(4);
	struct fog_symbolizer *s = fog_symbolizer__new(c);
	__u64 ip = (__u64)(uintptr_t)&fog_test_known_function;
	struct fog_sym sym;

	assert_non_null(s);
	assert_int_equal(fog_symbolizer__add_pid(s, (__u32)getpid()), 0);
	/* an address inside the function, not only its first byte */
	assert_int_equal(fog_symbolizer__user(s, (__u32)getpid(), ip + 2, &sym), 0);
	assert_string_equal(sym.func, "fog_test_known_function");
	assert_non_null(sym.module);
	assert_non_null(strstr(sym.module, "test_profile_symbols"));
	assert_true(sym.map_start <= ip && ip < sym.map_limit);
	/* an address in no mapping is unresolved, not mislabelled */
	assert_int_equal(fog_symbolizer__user(s, (__u32)getpid(), 16, &sym), -ENOENT);
	assert_null(sym.func);
	fog_symbolizer__free(s);
	fog_elfcache__free(c);
}

static void test_kernel_symbols(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(1);
	struct fog_symbolizer *s = fog_symbolizer__new(c);
	unsigned long long addr = 0;
	char line[512], name[256], type;
	struct fog_sym sym;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		skip();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 && addr &&
		    !strcmp(name, "schedule"))
			break;
	fclose(f);
	if (!addr || strcmp(name, "schedule")) {
		fog_symbolizer__free(s);
		fog_elfcache__free(c);
		skip();	/* kptr_restrict hides addresses from this user */
	}
	assert_int_equal(fog_symbolizer__kernel(s, addr + 1, &sym), 0);
	assert_string_equal(sym.func, "schedule");
	assert_string_equal(sym.module, "[kernel.kallsyms]");
	fog_symbolizer__free(s);
	fog_elfcache__free(c);
}

static int copy_self(const char *dst)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe %s", getpid(), dst);
	return system(cmd);
}

static void test_stripped_copy(void **state)
{
	char path[256], cmd[600];
	struct fog_elfsym *e;
	__u64 start;
	int fd;

	snprintf(path, sizeof(path), "%s/stripped", tmpdir);
	assert_int_equal(copy_self(path), 0);
	snprintf(cmd, sizeof(cmd), "strip --strip-all %s", path);
	if (system(cmd))
		skip();
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	e = fog_elfsym__read(fd);
	close(fd);
	assert_non_null(e);
	assert_false(fog_elfsym__has_symtab(e));
	/* the build-id note survives stripping */
	assert_true(strlen(fog_elfsym__build_id(e)) >= 16);
	/* a static function is not in .dynsym: no name rather than a neighbour's */
	fog_elfsym__lookup(e, 0, &start);
	fog_elfsym__free(e);
}

static void test_not_elf(void **state)
{
	char path[256];
	struct fog_elfsym *e;
	int fd;

	snprintf(path, sizeof(path), "%s/text", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, not an ELF\n", 18), 18);
	e = fog_elfsym__read(fd);
	assert_null(e);
	assert_int_equal(ftruncate(fd, 0), 0);
	e = fog_elfsym__read(fd);	/* empty file */
	assert_null(e);
	close(fd);
}

/* Truncations and byte flips of a real ELF: any answer is fine, a crash is not. */
static void test_malformed_never_crash(void **state)
{
	char src[256], path[256];
	unsigned char *buf;
	struct stat st;
	int fd;

	snprintf(src, sizeof(src), "%s/orig", tmpdir);
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	assert_int_equal(copy_self(src), 0);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	srand(42);
	for (int iter = 0; iter < 300; iter++) {
		size_t len = (size_t)st.st_size;
		unsigned char *copy = malloc(len);
		struct fog_elfsym *e;
		__u64 v, start;

		memcpy(copy, buf, len);
		if (iter % 3 == 0) {
			len = (size_t)rand() % len;	/* truncated */
		} else {
			/* corrupt the headers, where the offsets and sizes are */
			for (int k = 0; k < 16; k++)
				copy[(size_t)rand() % (len < 4096 ? len : 4096)] = (unsigned char)rand();
			/* and somewhere in the section header table */
			for (int k = 0; k < 16; k++)
				copy[len - 1 - (size_t)rand() % (len < 2048 ? len : 2048)] =
					(unsigned char)rand();
		}
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, copy, len), (ssize_t)len);
		e = fog_elfsym__read(fd);
		if (e) {
			fog_elfsym__off_to_vaddr(e, 0x1000, &v);
			fog_elfsym__lookup(e, 0x1100, &start);
			fog_elfsym__build_id(e);
			fog_elfsym__free(e);
		}
		close(fd);
		free(copy);
	}
	free(buf);
}

static void test_cache_bounded_and_shared(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(2);
	struct fog_elfsym *a, *b;
	__u64 hits, reads;
	int fd = open("/proc/self/exe", O_RDONLY);

	assert_true(fd >= 0);
	a = fog_elfcache__get(c, fd);
	b = fog_elfcache__get(c, fd);
	assert_ptr_equal(a, b);	/* one read per file */
	fog_elfcache__stats(c, &hits, &reads);
	assert_int_equal(reads, 1);
	assert_int_equal(hits, 1);
	fog_elfcache__put(c, a);
	fog_elfcache__put(c, b);
	close(fd);
	assert_true(fog_elfcache__size(c) <= 2);
	fog_elfcache__free(c);
}

static void test_maps_line(void **state)
{
	char ok[] = "7f00a000-7f00b000 r-xp 00002000 08:01 1234    /usr/lib/x.so\n";
	char anon[] = "7f00a000-7f00b000 rw-p 00000000 00:00 0\n";
	char bad[] = "garbage\n";
	__u64 s, e, off;
	const char *path;
	bool exec;

	assert_int_equal(fog_maps_parse_line(ok, &s, &e, &off, &exec, &path), 0);
	assert_int_equal(s, 0x7f00a000);
	assert_int_equal(e, 0x7f00b000);
	assert_int_equal(off, 0x2000);
	assert_true(exec);
	assert_string_equal(path, "/usr/lib/x.so");
	assert_int_equal(fog_maps_parse_line(anon, &s, &e, &off, &exec, &path), 0);
	assert_false(exec);
	assert_string_equal(path, "");
	assert_int_equal(fog_maps_parse_line(bad, &s, &e, &off, &exec, &path), -EINVAL);
}

struct maps_seen {
	int calls, exec, stop_at;
	char last[64];
};

static int count_map(const struct fog_map_line *m, void *arg)
{
	struct maps_seen *c = arg;

	c->calls++;
	c->exec += m->exec;
	snprintf(c->last, sizeof(c->last), "%s", m->path);
	return c->calls == c->stop_at ? 7 : 0;
}

/* Malformed lines are skipped, over-long ones counted, and a callback's nonzero stops the walk. */
static void test_maps_each_bounds(void **state)
{
	size_t cap = FOG_MAPS_LINE_MAX + 4096, len;
	char *buf = malloc(cap), *p;
	struct fog_maps_stats st = { 0 };
	struct maps_seen c = { 0 };

	(void)state;
	assert_non_null(buf);
	p = buf;
	p += sprintf(p, "7f0000000000-7f0000001000 r-xp 00000000 08:01 12 /usr/lib/libc.so.6\n");
	p += sprintf(p, "not a maps line\n");
	p += sprintf(p, "7f0000002000-7f0000003000 rw-p 00001000 08:01 12 /");
	memset(p, 'a', FOG_MAPS_LINE_MAX);	/* a path past the line bound */
	p += FOG_MAPS_LINE_MAX;
	p += sprintf(p, "\n7f0000004000-7f0000005000 r-xp 00000000 00:00 0 [vdso]\n");
	len = (size_t)(p - buf);
	assert_int_equal(fog_maps_each(buf, len, count_map, &c, &st), 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.exec, 2);
	assert_string_equal(c.last, "[vdso]");
	assert_int_equal(st.long_lines, 1);
	assert_false(st.too_many);

	/* the callback's value ends the walk and is returned */
	p = buf;
	for (int i = 0; i < 3; i++)
		p += sprintf(p, "7f000000%d000-7f000000%d800 r--p 00000000 08:01 12 /x%d\n", i, i, i);
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(fog_maps_each(buf, (size_t)(p - buf), count_map, &c, NULL), 7);
	assert_int_equal(c.calls, 2);
	assert_string_equal(c.last, "/x1");
	free(buf);

	/* more lines than a process may map: walked up to the bound, said */
	cap = (size_t)(FOG_MAPS_MAX_LINES + 2) * 2 + 1;
	buf = malloc(cap);
	assert_non_null(buf);
	memset(buf, '\n', cap - 1);
	buf[cap - 1] = '\0';
	assert_int_equal(fog_maps_each(buf, cap - 1, count_map, &c, &st), 0);
	assert_true(st.too_many);
	free(buf);
}

/* This process's own maps: its executable text is among them; a gone pid is an error. */
static void test_maps_walk_self(void **state)
{
	struct maps_seen c = { 0 };
	struct fog_maps_stats st = { 0 };

	(void)state;
	assert_int_equal(fog_maps_walk((__u32)getpid(), count_map, &c, &st), 0);
	assert_true(c.calls > 0);
	assert_true(c.exec > 0);
	assert_false(st.truncated);
	assert_true(fog_maps_walk(0x7ffffff0u, count_map, &c, NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolves_own_function),
		cmocka_unit_test(test_kernel_symbols),
		cmocka_unit_test(test_stripped_copy),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_malformed_never_crash),
		cmocka_unit_test(test_cache_bounded_and_shared),
		cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_maps_each_bounds),
		cmocka_unit_test(test_maps_walk_self),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
