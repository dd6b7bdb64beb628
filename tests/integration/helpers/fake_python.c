// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile "CPython" for test_profile_python_hostile.sh: run as a file named python3.11,
 * it has the symbols fogd looks for (_PyRuntime, PyCode_Type, Py_Version = 3.11) and
 * memory laid out as 3.11's, so fogd takes it for an interpreter, and lies in it: its
 * thread's frames form a cycle (previous points back), one code object has a name that
 * claims a megabyte, a file name of invalid code points and a location table whose varint
 * never ends, the other the wrong type. Its hot loop is a function named
 * _PyEval_EvalFrameDefault, so the frames are merged in. Prints its pid, spins for
 * argv[1] seconds.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME_CLAIM (1u << 20)

/* the 3.11 offsets fogd reads (include/fog/abi/python.h, user/profile/pyframes.h) */
__attribute__((aligned(64))) unsigned char _PyRuntime[1024] = { 1 };
__attribute__((aligned(64))) unsigned char PyCode_Type[512] = { 1 };
const unsigned long Py_Version = 0x030b07f0;
static unsigned char interp[128], tstate[256], cframe[32], frames[2][80];
static unsigned char code_a[256], code_b[256], qual[4096], file[512], table[64];

static void put(void *base, size_t off, uint64_t v)
{
	memcpy((unsigned char *)base + off, &v, sizeof(v));
}

static void build(void)
{
	uint32_t state, ucs4[16];

	put(_PyRuntime, 40, (uintptr_t)interp);	/* interpreters.head */
	put(_PyRuntime, 576, (uintptr_t)tstate);	/* gilstate.tstate_current */
	put(interp, 16, (uintptr_t)tstate);	/* threads.head */
	put(interp, 40, (uintptr_t)_PyRuntime);	/* runtime */
	put(tstate, 56, (uintptr_t)cframe);
	put(tstate, 152, (uintptr_t)pthread_self());
	put(cframe, 8, (uintptr_t)frames[0]);
	for (int i = 0; i < 2; i++) {
		put(frames[i], 32, (uintptr_t)(i ? code_b : code_a));	/* f_code */
		put(frames[i], 48, (uintptr_t)frames[!i]);	/* previous: a cycle */
		put(frames[i], 56, 0xdeadbeefull);	/* prev_instr: nowhere */
	}
	put(code_a, 8, (uintptr_t)PyCode_Type);
	put(code_a, 16, 100);	/* ob_size */
	put(code_a, 72, (uint64_t)(uint32_t)-5);	/* co_firstlineno */
	put(code_a, 112, (uintptr_t)file);
	put(code_a, 120, (uintptr_t)qual);
	put(code_a, 128, (uintptr_t)qual);
	put(code_a, 136, (uintptr_t)table);
	put(code_b, 8, (uintptr_t)interp);	/* not PyCode_Type */
	put(code_b, 16, 100);
	/* a compact ASCII str claiming a megabyte of 'A' (4 KiB of them are there) */
	put(qual, 16, NAME_CLAIM);
	state = (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
	memcpy(qual + 32, &state, sizeof(state));
	memset(qual + 48, 'A', sizeof(qual) - 48);
	/* a compact UCS-4 str of code points that are none: past U+10FFFF, surrogates, NUL */
	for (int i = 0; i < 16; i++)
		ucs4[i] = i % 3 == 0 ? 0x110000 + i : i % 3 == 1 ? 0xd800 + i : 0;
	put(file, 16, 16);
	state = (4u << 2) | (1u << 5) | (1u << 7);
	memcpy(file + 32, &state, sizeof(state));
	memcpy(file + 72, ucs4, sizeof(ucs4));
	/* a bytes object: one long-form entry whose varint never ends */
	put(table, 16, 24);
	table[32] = 0xf0;
	memset(table + 33, 0x41, 23);
}

static volatile unsigned long sink;

__attribute__((noinline)) void _PyEval_EvalFrameDefault(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			sink = sink * 31 + (unsigned long)i;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

int main(int argc, char **argv)
{
	build();
	printf("%d\n", (int)getpid());
	fflush(stdout);
	_PyEval_EvalFrameDefault(argc > 1 ? atof(argv[1]) : 10);
	return 0;
}
