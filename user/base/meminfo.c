// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/meminfo.h"

/* v1 reports no limit as PAGE_COUNTER_MAX pages in bytes: anything this large is none */
#define MEMCG_V1_NO_LIMIT_MIN (1ull << 62)

/* An unsigned decimal at *s, advancing *s past it. */
static int take_u64(const char **s, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(*s, &end, 10);
	if (errno)
		return -ERANGE;
	*s = end;
	*out = v;
	return 0;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static const struct {
	const char *key;
	unsigned int bit;
	size_t offset;
} meminfo_fields[] = {
	{"MemTotal", FOG_MEMINFO_TOTAL, offsetof(struct fog_meminfo, total_bytes)},
	{"MemFree", FOG_MEMINFO_FREE, offsetof(struct fog_meminfo, free_bytes)},
	{"MemAvailable", FOG_MEMINFO_AVAILABLE, offsetof(struct fog_meminfo, available_bytes)},
	{"SwapTotal", FOG_MEMINFO_SWAP_TOTAL, offsetof(struct fog_meminfo, swap_total_bytes)},
	{"SwapFree", FOG_MEMINFO_SWAP_FREE, offsetof(struct fog_meminfo, swap_free_bytes)},
};

#define N_MEMINFO_FIELDS (sizeof(meminfo_fields) / sizeof(meminfo_fields[0]))

/* "  12345 kB" (or a bare count) to bytes */
static int meminfo_value(const char *s, size_t len, __u64 *out)
{
	char buf[64];
	const char *p = buf;
	__u64 v, mult = 1;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = skip_blanks(p);
	if (take_u64(&p, &v))
		return -EINVAL;
	p = skip_blanks(p);
	if (!strncmp(p, "kB", 2)) {
		mult = 1024;
		p = skip_blanks(p + 2);
	}
	if (*p)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int fog_meminfo_parse(const char *text, struct fog_meminfo *out, char *err, size_t errlen)
{
	const char *line = text;
	int first = 0, n = 0;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *colon;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *start = line, *val;
		unsigned int f;
		size_t vlen;
		__u64 v;

		n++;
		line = nl ? nl + 1 : NULL;
		if (!len)
			continue;
		colon = memchr(start, ':', len);
		if (!colon || colon == start) {
			if (!first && err && errlen)
				snprintf(err, errlen, "line %d is not 'Key: value': '%.*s'", n,
					 (int)(len > 40 ? 40 : len), start);
			first = first ?: -EINVAL;
			continue;
		}
		for (f = 0; f < N_MEMINFO_FIELDS; f++)
			if (strlen(meminfo_fields[f].key) == (size_t)(colon - start) &&
			    !memcmp(meminfo_fields[f].key, start, (size_t)(colon - start)))
				break;
		if (f == N_MEMINFO_FIELDS || (out->have & meminfo_fields[f].bit))
			continue; /* not a field fogd reads, or a repeat: the first one counts */
		val = colon + 1;
		vlen = len - (size_t)(val - start);
		if (meminfo_value(val, vlen, &v)) {
			if (!first && err && errlen)
				snprintf(err, errlen, "line %d: %s has a bad value '%.*s'", n,
					 meminfo_fields[f].key, (int)(vlen > 40 ? 40 : vlen), val);
			first = first ?: -EINVAL;
			continue;
		}
		*(__u64 *)((char *)out + meminfo_fields[f].offset) = v;
		out->have |= meminfo_fields[f].bit;
	}
	for (unsigned int f = 0; f < N_MEMINFO_FIELDS && !first; f++) {
		if (!(out->have & meminfo_fields[f].bit)) {
			if (err && errlen)
				snprintf(err, errlen, "no %s line", meminfo_fields[f].key);
			first = -EINVAL;
		}
	}
	return first;
}

static json_t *bytes_or_null(const struct fog_meminfo *m, unsigned int bits, __u64 v)
{
	return (m->have & bits) == bits ? json_integer((json_int_t)v) : json_null();
}

json_t *fog_meminfo_json(const struct fog_meminfo *m)
{
	json_t *o = json_object();
	__u64 used = 0;

	if (m->total_bytes > m->available_bytes)
		used = m->total_bytes - m->available_bytes;
	json_object_set_new(o, "total_bytes", bytes_or_null(m, FOG_MEMINFO_TOTAL, m->total_bytes));
	json_object_set_new(o, "available_bytes",
			    bytes_or_null(m, FOG_MEMINFO_AVAILABLE, m->available_bytes));
	json_object_set_new(o, "used_bytes",
			    bytes_or_null(m, FOG_MEMINFO_TOTAL | FOG_MEMINFO_AVAILABLE, used));
	json_object_set_new(o, "free_bytes", bytes_or_null(m, FOG_MEMINFO_FREE, m->free_bytes));
	json_object_set_new(o, "swap_total_bytes",
			    bytes_or_null(m, FOG_MEMINFO_SWAP_TOTAL, m->swap_total_bytes));
	json_object_set_new(o, "swap_free_bytes",
			    bytes_or_null(m, FOG_MEMINFO_SWAP_FREE, m->swap_free_bytes));
	return o;
}

int fog_statm_parse(const char *text, __u64 *resident_pages)
{
	const char *p = text;
	__u64 size, resident;

	if (take_u64(&p, &size) || *p != ' ')
		return -EINVAL;
	p++;
	if (take_u64(&p, &resident) || (*p != ' ' && *p != '\n' && *p))
		return -EINVAL;
	if (resident > size) /* the resident set lies inside the address space */
		return -EINVAL;
	*resident_pages = resident;
	return 0;
}

/* Nothing but an optional newline may follow a value. */
static bool at_end(const char *p)
{
	return !*p || (*p == '\n' && !p[1]);
}

int fog_memcg_parse_value(const char *text, __u64 *out)
{
	const char *p = text;
	__u64 v;

	if (!strncmp(p, "max", 3) && at_end(p + 3)) {
		*out = FOG_MEMCG_NO_LIMIT;
		return 0;
	}
	if (take_u64(&p, &v) || !at_end(p))
		return -EINVAL;
	*out = v >= MEMCG_V1_NO_LIMIT_MIN ? FOG_MEMCG_NO_LIMIT : v;
	return 0;
}

int fog_memcg_parse_key(const char *text, const char *key, __u64 *out)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *p;
		__u64 v;

		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			p = line + klen + 1;
			if (take_u64(&p, &v) || (*p && *p != '\n'))
				return -EINVAL;
			*out = v;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}
