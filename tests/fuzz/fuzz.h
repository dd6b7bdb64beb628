/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the libFuzzer targets: a reader that takes typed values from
 * the input (zeros once it runs out), NUL-terminated copies, a memfd holding
 * bytes as a file, a UTF-8 check, and FUZZ_CHECK, which aborts (a finding) when a
 * property of the code under test does not hold.
 */
#ifndef FOG_FUZZ_H
#define FOG_FUZZ_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: property failed: %s (%s:%d)\n", #cond, __FILE__,    \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint64_t fuzz_bytes_u64(struct fuzz_in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_bytes_u64(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_bytes_u64(in, 8);
}

/* A double: often one of the values that break numeric code, else raw bits. */
static inline double fuzz_double(struct fuzz_in *in)
{
	static const double special[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 0.9, 0.95, 1e-9, 1e9, 100.0, 1e300, -1e300,
		5e-324, 1.7976931348623157e308, INFINITY, -INFINITY, NAN, 9007199254740993.0,
	};
	uint8_t sel = fuzz_u8(in);
	uint64_t bits;
	double d;

	if (sel < 0x80)
		return special[sel % (sizeof(special) / sizeof(special[0]))];
	if (sel < 0xc0) /* small decimals: thresholds, seconds, fractions */
		return (double)fuzz_u32(in) / 1e6;
	bits = fuzz_u64(in);
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* A malloc'd copy of the next bytes up to a NUL (or the end); never NULL. */
static inline char *fuzz_str(struct fuzz_in *in)
{
	const uint8_t *nul = memchr(in->p, 0, in->n);
	size_t len = nul ? (size_t)(nul - in->p) : in->n;
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len + (nul ? 1 : 0);
	in->n -= len + (nul ? 1 : 0);
	return s;
}

/* A malloc'd NUL-terminated copy of data (which may itself hold NULs). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A memory file holding data; returns its fd (the caller closes it). */
static inline int fuzz_memfd(const void *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t w = pwrite(fd, (const char *)data + off, size - off, (off_t)off);

		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	return fd;
}

/* Whether s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		unsigned int need, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= need)
			return false;
		for (unsigned int i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += need + 1;
	}
	return true;
}

/* Whether a non-negative errno return is in the range errno values use. */
static inline bool fuzz_is_neg_errno(int rc)
{
	return rc < 0 && rc > -4096;
}

#endif /* FOG_FUZZ_H */
