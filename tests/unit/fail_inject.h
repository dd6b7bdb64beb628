/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Linker --wrap fakes that make the Nth allocation or file call fail, so a unit test can walk
 * every clean-up path of the call under test: arm with N = 1, 2, ... until the call succeeds
 * without a failure being injected. Only calls made while armed are counted, and only from
 * objects linked with the matching -Wl,--wrap=NAME (tests/unit/<name>.ldflags; FAIL_INJECT_WRAP
 * below lists them all). Calls made inside shared libraries (libc, jansson, inih) are not seen.
 */
#ifndef FOG_TEST_FAIL_INJECT_H
#define FOG_TEST_FAIL_INJECT_H

#include <stdbool.h>

enum fail_inject_kind {
	/* malloc, calloc, realloc, strdup, strndup, aligned_alloc, posix_memalign: NULL, ENOMEM */
	FAIL_INJECT_ALLOC = 1u << 0,
	/* open, fopen: -1 or NULL with EMFILE; read, pread, write: -1 with EIO */
	FAIL_INJECT_FILE = 1u << 1,
	/* mmap: MAP_FAILED with ENOMEM */
	FAIL_INJECT_MMAP = 1u << 2,
};

/* Counts calls of the kinds in mask from now on; the nth (1 = the next) fails, n = 0 never. */
void fail_inject_arm(unsigned int mask, unsigned long n);
/* Stops counting; true if the armed failure was injected (then the call under test saw it). */
bool fail_inject_disarm(void);
/* Calls counted since the last arm. */
unsigned long fail_inject_calls(void);

/*
 * Runs stmt with the 1st, 2nd, ... counted call failing until a run sees no failure; check
 * (an expression of `failed`) runs after every run; at most limit runs. Sets runs to the
 * number of runs made, the last one the clean one.
 */
#define FAIL_INJECT_LOOP(mask, limit, runs, stmt, check)                                           \
	do {                                                                                       \
		for ((runs) = 1;; (runs)++) {                                                      \
			bool failed;                                                               \
			fail_inject_arm((mask), (runs));                                           \
			stmt;                                                                      \
			failed = fail_inject_disarm();                                             \
			check;                                                                     \
			if (!failed)                                                               \
				break;                                                             \
			assert_true((runs) < (limit));                                             \
		}                                                                                  \
	} while (0)

#endif
