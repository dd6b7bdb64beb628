// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPython 3.11 code objects and their location tables read from hostile
 * memory, and interpreter frames merged into native stacks (pyframes.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/pyframes.h"

/* Location table entry codes (CPython 3.11, Include/cpython/code.h: _PyCodeLocationInfoKind) */
#define LOC_NONE 15	/* no location */
#define LOC_LONG 14	/* line delta, end line, columns as varints */
#define LOC_NO_COLUMNS 13	/* line delta alone */
#define LOC_ONE_LINE0 10	/* 10-12: line delta 0-2, then two column bytes */

/*
 * A varint of the table: 6 bits a byte, low first, bit 6 set while more
 * follow (bit 7 is clear: it marks the start of an entry). false when the
 * table ends inside it or it is longer than 32 bits.
 */
static bool varint(const __u8 *tab, size_t len, size_t *pos, __u32 *v)
{
	__u32 val = 0;

	for (unsigned int shift = 0; *pos < len && shift < 32; shift += 6) {
		__u8 b = tab[(*pos)++];

		val |= (__u32)(b & 63) << shift;
		if (!(b & 64)) {
			*v = val;
			return true;
		}
	}
	return false;
}

__u32 fog_py_line(const __u8 *tab, size_t len, __s32 firstlineno, long addr)
{
	long line = firstlineno, start = 0;
	size_t pos = 0;

	if (addr < 0)
		return firstlineno > 0 ? (__u32)firstlineno : 0;
	while (pos < len) {
		__u8 b = tab[pos];
		int code = (b >> 3) & 15;
		long end = start + ((b & 7) + 1) * 2;
		size_t p = pos + 1;
		__u32 v;

		if (!(b & 0x80)) {	/* not an entry's first byte: the table is damaged */
			pos++;
			continue;
		}
		if (code == LOC_LONG || code == LOC_NO_COLUMNS) {
			if (!varint(tab, len, &p, &v))
				return 0;
			line += (v & 1) ? -(long)(v >> 1) : (long)(v >> 1);
		} else if (code >= LOC_ONE_LINE0 && code < LOC_NO_COLUMNS) {
			line += code - LOC_ONE_LINE0;
		}
		if (addr < end)
			return code == LOC_NONE || line <= 0 || line > 0x7fffffff ? 0 : (__u32)line;
		start = end;
		for (pos++; pos < len && !(tab[pos] & 0x80); pos++)
			;
	}
	return 0;
}

/* One code point as UTF-8 at out[*n], when it fits cap - 1; false when it does not. */
static bool put_utf8(char *out, size_t cap, size_t *n, __u32 c)
{
	char b[4];
	size_t k;

	if (c >= 0xd800 && c < 0xe000)
		c = '?';	/* a lone surrogate */
	if (c < 0x80) {
		b[0] = (char)(c ? c : '?');
		k = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 63));
		k = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 63));
		b[2] = (char)(0x80 | (c & 63));
		k = 3;
	} else if (c < 0x110000) {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 63));
		b[2] = (char)(0x80 | ((c >> 6) & 63));
		b[3] = (char)(0x80 | (c & 63));
		k = 4;
	} else {
		b[0] = '?';
		k = 1;
	}
	if (*n + k >= cap)
		return false;
	memcpy(out + *n, b, k);
	*n += k;
	return true;
}

/*
 * A compact str object (names and file names always are) as UTF-8, cut to
 * cap - 1 bytes. 0, -EINVAL for another object, or the read's error.
 */
static int read_str(fog_py_read_fn rd, void *ctx, __u64 addr, char *out, size_t cap)
{
	__u8 h[FOG_PY311_STR_ASCII_DATA], buf[FOG_PY_FILE_MAX];
	__u32 state, kind, want;
	__s64 length;
	size_t n = 0;
	int err;

	out[0] = '\0';
	if (!addr || cap < 2)
		return -EINVAL;
	err = rd(ctx, addr, h, sizeof(h));
	if (err)
		return err;
	memcpy(&length, h + FOG_PY311_OB_SIZE, sizeof(length));
	memcpy(&state, h + FOG_PY311_STR_STATE, sizeof(state));
	kind = (state >> 2) & 7;
	if (length < 0 || length > (1 << 24) || !(state & (1u << 5)))	/* not compact */
		return -EINVAL;
	if (state & (1u << 6)) {	/* ASCII: the bytes follow the header */
		want = (__u32)(length < (__s64)cap - 1 ? length : (__s64)cap - 1);
		if (want > sizeof(buf))
			want = sizeof(buf);
		err = want ? rd(ctx, addr + FOG_PY311_STR_ASCII_DATA, buf, want) : 0;
		if (err)
			return err;
		for (; n < want; n++)
			out[n] = buf[n] && buf[n] < 0x80 ? (char)buf[n] : '?';
		out[n] = '\0';
		return 0;
	}
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	want = (__u32)(length < (__s64)(cap - 1) ? length : (__s64)(cap - 1)) * kind;
	if (want > sizeof(buf))
		want = sizeof(buf) / kind * kind;
	err = want ? rd(ctx, addr + FOG_PY311_STR_COMPACT_DATA, buf, want) : 0;
	if (err)
		return err;
	for (__u32 i = 0; i + kind <= want; i += kind) {
		__u32 c = 0;

		for (__u32 k = kind; k-- > 0;)	/* little-endian code units of 1, 2 or 4 bytes */
			c = c << 8 | buf[i + k];
		if (!put_utf8(out, cap, &n, c))
			break;
	}
	out[n] = '\0';
	return 0;
}

/* The bytes object at addr (the location table), malloc'd; 0 or a negative errno. */
static int read_bytes(fog_py_read_fn rd, void *ctx, __u64 addr, __u8 **out, __u32 *len)
{
	__u8 h[FOG_PY311_BYTES_DATA];
	__s64 size;
	int err;

	*out = NULL;
	*len = 0;
	if (!addr)
		return -EINVAL;
	err = rd(ctx, addr, h, sizeof(h));
	if (err)
		return err;
	memcpy(&size, h + FOG_PY311_OB_SIZE, sizeof(size));
	if (size <= 0 || size > FOG_PY_LINETABLE_MAX)
		return -EINVAL;
	*out = malloc((size_t)size);
	if (!*out)
		return -ENOMEM;
	err = rd(ctx, addr + FOG_PY311_BYTES_DATA, *out, (size_t)size);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	*len = (__u32)size;
	return 0;
}

static __u64 get_u64(const __u8 *h, size_t off)
{
	__u64 v;

	memcpy(&v, h + off, sizeof(v));
	return v;
}

int fog_py_code_read(fog_py_read_fn rd, void *ctx, __u64 code, __u64 code_type,
		     struct fog_py_code *out)
{
	__u8 h[FOG_PY311_CO_CODE];
	__s64 ncode;
	int err;

	memset(out, 0, sizeof(*out));
	if (!code)
		return -EINVAL;
	err = rd(ctx, code, h, sizeof(h));
	if (err)
		return err;
	memcpy(&ncode, h + FOG_PY311_OB_SIZE, sizeof(ncode));
	if ((code_type && get_u64(h, FOG_PY311_OB_TYPE) != code_type) || ncode <= 0 ||
	    ncode > FOG_PY_CODE_UNITS_MAX)
		return -EINVAL;
	out->ncode = (__u32)ncode;
	memcpy(&out->firstlineno, h + FOG_PY311_CO_FIRSTLINENO, sizeof(out->firstlineno));
	if (read_str(rd, ctx, get_u64(h, FOG_PY311_CO_QUALNAME), out->qualname,
		     sizeof(out->qualname)) &&
	    read_str(rd, ctx, get_u64(h, FOG_PY311_CO_NAME), out->qualname, sizeof(out->qualname)))
		return -EINVAL;
	if (read_str(rd, ctx, get_u64(h, FOG_PY311_CO_FILENAME), out->filename,
		     sizeof(out->filename)))
		out->filename[0] = '\0';
	/* without its table the frame still has a name: the line is then its first */
	read_bytes(rd, ctx, get_u64(h, FOG_PY311_CO_LINETABLE), &out->linetable,
		   &out->linetable_len);
	return 0;
}

void fog_py_code_clear(struct fog_py_code *c)
{
	if (!c)
		return;
	free(c->linetable);
	c->linetable = NULL;
	c->linetable_len = 0;
}

__u32 fog_py_code_line(const struct fog_py_code *c, __u64 code, __u64 instr)
{
	__u64 first = code + FOG_PY311_CO_CODE;

	if (instr < first)	/* prev_instr of a frame not started: one unit before its code */
		return fog_py_line(NULL, 0, c->firstlineno, -1);
	if (instr - first >= (__u64)c->ncode * 2)
		return 0;
	if (!c->linetable)
		return c->firstlineno > 0 ? (__u32)c->firstlineno : 0;
	return fog_py_line(c->linetable, c->linetable_len, c->firstlineno, (long)(instr - first));
}

size_t fog_py_frame_name(char *buf, size_t cap, const char *qualname, const char *filename,
			 __u32 line)
{
	const char *base = strrchr(filename, '/');
	int n;

	base = base ? base + 1 : filename;
	if (!qualname[0])
		qualname = "[unknown]";
	if (!base[0])
		n = snprintf(buf, cap, "py:%s", qualname);
	else if (line)
		n = snprintf(buf, cap, "py:%s (%s:%u)", qualname, base, line);
	else
		n = snprintf(buf, cap, "py:%s (%s)", qualname, base);
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

size_t fog_py_merge(const __u32 *native, const bool *is_eval, size_t n, const __u32 *py,
		    const bool *entry, size_t m, __u32 *out, size_t max)
{
	size_t k = 0, j = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		if (!is_eval[i] || j >= m) {
			out[k++] = native[i];
			continue;
		}
		/* the frames this call runs: up to the one it was entered with */
		for (; j < m && k < max; j++) {
			out[k++] = py[j];
			if (entry[j]) {
				j++;
				break;
			}
		}
	}
	return k;
}
