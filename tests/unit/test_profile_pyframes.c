// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPython 3.11 frames (user/profile/pyframes.c): the location table decoder
 * against what CPython itself says (co_positions() of real code objects, with
 * and without columns, py311_linetables.h), on every truncation of those
 * tables; code objects read from a memory image laid out as CPython lays
 * them, and lying ones refused; the merge of interpreter frames into a native
 * stack.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/pyframes.h"
#include "py311_linetables.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_table(const __u8 *tab, size_t len, __s32 first, const __u32 *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fog_py_line(tab, len, first, (long)(2 * i)), lines[i]);
	assert_int_equal(fog_py_line(tab, len, first, -2), first);	/* not started */
	assert_int_equal(fog_py_line(tab, len, first, (long)(2 * n)), 0);	/* past the end */
	/* every prefix: a unit's line is right or unknown, never another */
	for (size_t cut = 0; cut < len; cut++)
		for (size_t i = 0; i < n; i++) {
			__u32 l = fog_py_line(tab, cut, first, (long)(2 * i));

			assert_true(l == 0 || l == lines[i]);
		}
}

static void test_line_tables(void **state)
{
	(void)state;
	check_table(gen_table, sizeof(gen_table), gen_first, gen_lines, N(gen_lines));
	check_table(nocol_table, sizeof(nocol_table), nocol_first, nocol_lines, N(nocol_lines));
}

static void test_hostile_tables(void **state)
{
	/* a long-form entry whose varint never ends, one that overflows, bytes with no entry */
	static const __u8 endless[] = { 0xf0, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41 };
	static const __u8 big[] = { 0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f };
	static const __u8 junk[] = { 0x01, 0x02, 0x03, 0x7f };
	static const __u8 back[] = { 0xe8, 0x0b };	/* no columns, line -5 */

	(void)state;
	assert_int_equal(fog_py_line(endless, sizeof(endless), 10, 0), 0);
	assert_int_equal(fog_py_line(big, sizeof(big), 10, 0), 0);
	assert_int_equal(fog_py_line(junk, sizeof(junk), 10, 0), 0);
	assert_int_equal(fog_py_line(back, sizeof(back), 3, 0), 0);	/* before line 1 */
	assert_int_equal(fog_py_line(back, sizeof(back), 30, 0), 25);
	assert_int_equal(fog_py_line(NULL, 0, 7, 0), 0);
}

/* ---- a process image: objects at IMG_BASE + offset ---- */

#define IMG_BASE 0x7f0000001000ull
#define IMG_SIZE 8192
#define CODE_TYPE 0x55550000ull
static __u8 img[IMG_SIZE];

static int img_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < IMG_BASE || addr - IMG_BASE > IMG_SIZE || len > IMG_SIZE - (addr - IMG_BASE))
		return -EFAULT;
	memcpy(buf, img + (addr - IMG_BASE), len);
	return 0;
}

static void put64(size_t off, __u64 v)
{
	memcpy(img + off, &v, sizeof(v));
}

static void put32(size_t off, __u32 v)
{
	memcpy(img + off, &v, sizeof(v));
}

/* A compact str at off: ASCII (kind 1, ascii bit) or UCS-2 (kind 2) */
static void put_str(size_t off, const char *ascii, const __u16 *ucs2, size_t n)
{
	put64(off + FOG_PY311_OB_SIZE, n);
	if (ascii) {
		put32(off + FOG_PY311_STR_STATE, (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7));
		memcpy(img + off + FOG_PY311_STR_ASCII_DATA, ascii, n);
	} else {
		put32(off + FOG_PY311_STR_STATE, (2u << 2) | (1u << 5) | (1u << 7));
		memcpy(img + off + FOG_PY311_STR_COMPACT_DATA, ucs2, 2 * n);
	}
}

enum { CODE = 0, QUAL = 512, FILE_ = 1024, TAB = 2048, NAME = 3072 };

static void make_image(void)
{
	static const __u16 file[] = { '/', 's', 'r', 'v', '/', 0xfc, 'n', '.', 'p', 'y' };

	memset(img, 0, sizeof(img));
	put64(CODE + FOG_PY311_OB_TYPE, CODE_TYPE);
	put64(CODE + FOG_PY311_OB_SIZE, N(gen_lines));
	put32(CODE + FOG_PY311_CO_FIRSTLINENO, (__u32)gen_first);
	put64(CODE + FOG_PY311_CO_QUALNAME, IMG_BASE + QUAL);
	put64(CODE + FOG_PY311_CO_NAME, IMG_BASE + NAME);
	put64(CODE + FOG_PY311_CO_FILENAME, IMG_BASE + FILE_);
	put64(CODE + FOG_PY311_CO_LINETABLE, IMG_BASE + TAB);
	put_str(QUAL, "Worker.run", NULL, 10);
	put_str(NAME, "run", NULL, 3);
	put_str(FILE_, NULL, file, N(file));
	put64(TAB + FOG_PY311_OB_SIZE, sizeof(gen_table));
	memcpy(img + TAB + FOG_PY311_BYTES_DATA, gen_table, sizeof(gen_table));
}

static void test_code_read(void **state)
{
	struct fog_py_code c;
	__u64 code = IMG_BASE + CODE, first = code + FOG_PY311_CO_CODE;
	char name[256];

	(void)state;
	make_image();
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE, &c), 0);
	assert_string_equal(c.qualname, "Worker.run");
	assert_string_equal(c.filename, "/srv/\xc3\xbcn.py");
	assert_int_equal(c.ncode, N(gen_lines));
	for (size_t i = 0; i < N(gen_lines); i++)
		assert_int_equal(fog_py_code_line(&c, code, first + 2 * i), gen_lines[i]);
	assert_int_equal(fog_py_code_line(&c, code, first - 2), gen_first);
	assert_int_equal(fog_py_code_line(&c, code, first + 2 * N(gen_lines)), 0);
	fog_py_frame_name(name, sizeof(name), c.qualname, c.filename, 12);
	assert_string_equal(name, "py:Worker.run (\xc3\xbcn.py:12)");
	fog_py_frame_name(name, sizeof(name), c.qualname, c.filename, 0);
	assert_string_equal(name, "py:Worker.run (\xc3\xbcn.py)");
	fog_py_frame_name(name, 8, c.qualname, c.filename, 12);
	assert_string_equal(name, "py:Work");
	fog_py_code_clear(&c);
	fog_py_code_clear(&c);
}

static void test_hostile_code(void **state)
{
	struct fog_py_code c;
	__u64 code = IMG_BASE + CODE;

	(void)state;
	make_image();
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE + 8, &c), -EINVAL);
	assert_int_equal(fog_py_code_read(img_read, NULL, 0, 0, &c), -EINVAL);
	assert_int_equal(fog_py_code_read(img_read, NULL, IMG_BASE + IMG_SIZE - 8, 0, &c), -EFAULT);
	put64(CODE + FOG_PY311_OB_SIZE, (__u64)FOG_PY_CODE_UNITS_MAX + 1);	/* huge code */
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE, &c), -EINVAL);
	make_image();
	/* a qualified name that is no str falls back to the name; a name as long as memory is cut */
	put32(QUAL + FOG_PY311_STR_STATE, 0);
	put64(NAME + FOG_PY311_OB_SIZE, 1u << 20);
	memset(img + NAME + FOG_PY311_STR_ASCII_DATA, 'a', 1024);
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE, &c), 0);
	assert_int_equal(strlen(c.qualname), FOG_PY_NAME_MAX - 1);
	fog_py_code_clear(&c);
	/* a location table longer than allowed: named, its line the first */
	make_image();
	put64(TAB + FOG_PY311_OB_SIZE, FOG_PY_LINETABLE_MAX + 1);
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE, &c), 0);
	assert_null(c.linetable);
	assert_int_equal(fog_py_code_line(&c, code, code + FOG_PY311_CO_CODE + 4), gen_first);
	fog_py_code_clear(&c);
	/* neither name readable: refused */
	make_image();
	put64(CODE + FOG_PY311_CO_QUALNAME, 16);
	put64(CODE + FOG_PY311_CO_NAME, IMG_BASE + IMG_SIZE);
	assert_int_equal(fog_py_code_read(img_read, NULL, code, CODE_TYPE, &c), -EINVAL);
}

static void test_merge(void **state)
{
	/* leaf first: leaf, eval, PyObject_Call, eval, main; two eval calls of 2 and 1 frames */
	const __u32 native[] = { 1, 2, 3, 2, 5 };
	const bool is_eval[] = { false, true, false, true, false };
	const __u32 py[] = { 100, 101, 102, 103 };
	const bool entry[] = { false, true, true, true };
	const __u32 want[] = { 1, 100, 101, 3, 102, 5 };
	const __u32 short_want[] = { 1, 100, 101, 3, 2, 5 };
	__u32 out[16];
	size_t n;

	(void)state;
	/* the fourth frame has no eval call left (the native stack was cut): dropped */
	n = fog_py_merge(native, is_eval, 5, py, entry, 4, out, N(out));
	assert_int_equal(n, N(want));
	assert_memory_equal(out, want, sizeof(want));
	/* fewer interpreter frames than calls: the last eval frame stays */
	n = fog_py_merge(native, is_eval, 5, py, entry, 2, out, N(out));
	assert_int_equal(n, N(short_want));
	assert_memory_equal(out, short_want, sizeof(short_want));
	/* no entry flag at all: the first call takes every frame */
	{
		const bool none[] = { false, false, false, false };
		const __u32 all[] = { 1, 100, 101, 102, 103, 3, 2, 5 };

		n = fog_py_merge(native, is_eval, 5, py, none, 4, out, N(out));
		assert_int_equal(n, N(all));
		assert_memory_equal(out, all, sizeof(all));
	}
	/* bounded by max */
	assert_int_equal(fog_py_merge(native, is_eval, 5, py, entry, 4, out, 3), 3);
	assert_memory_equal(out, want, 3 * sizeof(*out));
	assert_int_equal(fog_py_merge(native, is_eval, 5, py, entry, 0, out, N(out)), 5);
	assert_memory_equal(out, native, sizeof(native));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_tables),
		cmocka_unit_test(test_hostile_tables),
		cmocka_unit_test(test_code_read),
		cmocka_unit_test(test_hostile_code),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
