// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPython code objects read from a tenant's memory (user/profile/pyframes.c):
 * the input is a process image mapped at IMG_BASE (a code object at its
 * start, its strings and location table wherever its pointers say), after a
 * header with the type the code object must have and an instruction offset.
 * Properties: reads stay inside the image (the reader refuses the rest); a
 * code object read has NUL-terminated, cut, valid UTF-8 names, a location
 * table within its bound and lines that are 0 or positive below 2^31; the
 * location table decoder on the raw bytes never reads past them; the merge
 * writes at most its bound and only frames it was given.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "profile/pyframes.h"

#define IMG_BASE 0x10000ull

struct image {
	const uint8_t *p;
	size_t n;
};

static int img_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (addr < IMG_BASE || addr - IMG_BASE > im->n || len > im->n - (addr - IMG_BASE))
		return -EFAULT;
	memcpy(buf, im->p + (addr - IMG_BASE), len);
	return 0;
}

static void check_merge(const uint8_t *data, size_t size)
{
	__u32 native[16], py[16], out[24];
	bool is_eval[16], entry[16];
	size_t n = size > 0 ? data[0] % 17 : 0, m = size > 1 ? data[1] % 17 : 0, k;
	size_t max = size > 2 ? data[2] % 25 : 0;

	for (size_t i = 0; i < 16; i++) {
		uint8_t b = i + 3 < size ? data[i + 3] : 0;

		native[i] = (__u32)i;
		py[i] = 100 + (__u32)i;
		is_eval[i] = b & 1;
		entry[i] = b & 2;
	}
	k = fog_py_merge(native, is_eval, n, py, entry, m, out, max);
	FUZZ_CHECK(k <= max && k <= n + m);
	for (size_t i = 0; i < k; i++)
		FUZZ_CHECK(out[i] < n || (out[i] >= 100 && out[i] < 100 + m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	__u64 code_type = fuzz_u64(&in), off = fuzz_u32(&in);
	struct image im = { in.p, in.n };
	struct fog_py_code c;
	char name[FOG_PY_NAME_MAX + 64];
	int rc;

	check_merge(data, size);
	for (long a = -2; a < 64; a += 6)
		FUZZ_CHECK(fog_py_line(im.p, im.n, (__s32)code_type, a) <= 0x7fffffffu);
	rc = fog_py_code_read(img_read, &im, IMG_BASE, code_type & 1 ? 0 : code_type, &c);
	if (rc) {
		FUZZ_CHECK(fuzz_is_neg_errno(rc));
		return 0;
	}
	FUZZ_CHECK(strlen(c.qualname) < sizeof(c.qualname));
	FUZZ_CHECK(strlen(c.filename) < sizeof(c.filename));
	FUZZ_CHECK(fuzz_utf8_valid(c.qualname, strlen(c.qualname)));
	FUZZ_CHECK(fuzz_utf8_valid(c.filename, strlen(c.filename)));
	FUZZ_CHECK(c.linetable_len <= FOG_PY_LINETABLE_MAX);
	FUZZ_CHECK(!c.linetable == !c.linetable_len);
	FUZZ_CHECK(c.ncode > 0 && c.ncode <= FOG_PY_CODE_UNITS_MAX);
	for (__u64 i = 0; i < 8; i++) {
		__u64 instr = IMG_BASE + FOG_PY311_CO_CODE + (off % (2ull * c.ncode + 8)) + 2 * i - 2;
		__u32 line = fog_py_code_line(&c, IMG_BASE, instr);

		FUZZ_CHECK(line <= 0x7fffffffu);
		FUZZ_CHECK(fog_py_frame_name(name, sizeof(name), c.qualname, c.filename, line) <
			   sizeof(name));
	}
	fog_py_code_clear(&c);
	return 0;
}
