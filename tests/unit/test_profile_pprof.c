// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel addresses never leave in a pprof profile (it may be served over TCP
 * with [http] tcp_pprof = on): a kernel frame's location carries its name and
 * address 0, a user frame keeps its address for pprof tools.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile/prof.h"
#include "profile/render.h"

#if __has_include("profile.pb-c.h")
#include "profile.pb-c.h"
#define HAVE_PB 1
#endif

static void test_kernel_addresses_zeroed(void **state)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	__u32 m = fog_prof__mapping(p, "/bin/app", 0x400000, 0x500000, 0, "abcdef");
	long user = fog_prof__frame(p, "work", "/bin/app", 0x401234, false, m);
	long kern = fog_prof__frame(p, "do_syscall_64", "[kernel.kallsyms]", 0xffffffff81234567ULL,
				    true, 0);
	__u32 stack[2];
	void *gz;
	size_t len;
	int rc;

	assert_true(user >= 0 && kern >= 0);
	stack[0] = (__u32)kern;
	stack[1] = (__u32)user;
	p->period = 10000000;
	assert_int_equal(fog_prof__add_stack(p, 7, "app", stack, 2, 5, 5), 0);
	rc = fog_prof_pprof(p, &gz, &len);
#ifndef HAVE_PB
	assert_int_equal(rc, -EPROTONOSUPPORT);
	fog_prof__free(p);
	skip();
#else
	unsigned char *raw = malloc(1 << 20);
	z_stream z = { .next_in = gz, .avail_in = (uInt)len, .next_out = raw,
		       .avail_out = 1 << 20 };
	Fogpprof__Profile *pb;
	int seen_user = 0, seen_kern = 0;

	assert_int_equal(rc, 0);
	assert_non_null(raw);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	pb = fogpprof__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	assert_non_null(pb);
	for (size_t l = 0; l < pb->n_location; l++) {
		const Fogpprof__Location *loc = pb->location[l];
		const char *name = NULL;

		for (size_t f = 0; f < pb->n_function; f++)
			if (pb->function[f]->id == loc->line[0]->function_id)
				name = pb->string_table[pb->function[f]->name];
		assert_non_null(name);
		if (!strcmp(name, "do_syscall_64")) {
			assert_int_equal(loc->address, 0);
			seen_kern++;
		} else if (!strcmp(name, "work")) {
			assert_int_equal(loc->address, 0x401234);
			seen_user++;
		}
	}
	assert_int_equal(seen_kern, 1);
	assert_int_equal(seen_user, 1);
	fogpprof__profile__free_unpacked(pb, NULL);
	free(raw);
	free(gz);
	fog_prof__free(p);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_addresses_zeroed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
