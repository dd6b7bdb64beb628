// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON request bodies read against tables of fields (see body.h). Every
 * message names the field by its full name ("signals.mem_psi", "labels[2]").
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/body.h"

#define NAME_LEN 128

static void __attribute__((format(printf, 3, 4))) set_err(char *err, size_t len, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* A JSON string's text, or NULL when v is no string or holds a NUL. */
static const char *plain_string(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* The name of item idx of field name ("labels[2]"), or name itself when idx < 0. */
static const char *item_name(const char *name, long idx, char *buf, size_t len)
{
	if (idx < 0)
		return name;
	snprintf(buf, len, "%.100s[%ld]", name, idx);
	return buf;
}

/* A string into char[f->size]; idx >= 0: item idx of an array field (named only on error). */
static int read_str(const struct fog_body_field *f, const json_t *v, char *dst, const char *name,
		    long idx, char *err, size_t len)
{
	const char *s = plain_string(v);
	char why[128], nb[NAME_LEN + 24];
	size_t n = s ? strlen(s) : 0;

	if (!json_is_string(v)) {
		set_err(err, len, "field '%s' must be a string",
			item_name(name, idx, nb, sizeof(nb)));
		return -EINVAL;
	}
	if (!s || n >= f->size) {
		set_err(err, len, "field '%s' must be at most %zu characters without NUL",
			item_name(name, idx, nb, sizeof(nb)), f->size - 1);
		return -EINVAL;
	}
	if (f->nonempty && !n) {
		set_err(err, len, "field '%s' must not be empty",
			item_name(name, idx, nb, sizeof(nb)));
		return -EINVAL;
	}
	if (f->check && f->check(s, why, sizeof(why))) {
		set_err(err, len, "field '%s' %s", item_name(name, idx, nb, sizeof(nb)), why);
		return -EINVAL;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

static int read_strs(const struct fog_body_field *f, const json_t *v, char *dst,
		     unsigned int *count, const char *name, char *err, size_t len)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > f->max_items) {
		set_err(err, len, "field '%s' must be an array of at most %u strings", name,
			f->max_items);
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		if (read_str(f, e, dst + i * f->size, name, (long)i, err, len))
			return -EINVAL;
	}
	*count = (unsigned int)json_array_size(v);
	return 0;
}

static int read_num(const struct fog_body_field *f, const json_t *v, double *dst,
		    const char *name, char *err, size_t len)
{
	double d = json_number_value(v);

	if (!json_is_number(v)) {
		set_err(err, len, "field '%s' must be a number", name);
		return -EINVAL;
	}
	if (!isfinite(d) || d < f->min || d > f->max) {
		set_err(err, len, "field '%s' must be in [%g, %g] (got %g)", name, f->min, f->max,
			d);
		return -EINVAL;
	}
	*dst = d;
	return 0;
}

static int read_uint(const struct fog_body_field *f, const json_t *v, __u64 *dst,
		     const char *name, char *err, size_t len)
{
	json_int_t i = json_integer_value(v);
	__u64 lo = (__u64)f->min, hi = (__u64)f->max;

	if (!json_is_integer(v)) {
		set_err(err, len, "field '%s' must be an integer", name);
		return -EINVAL;
	}
	if (i < 0 || (__u64)i < lo || (__u64)i > hi) {
		set_err(err, len, "field '%s' must be in %llu..%llu (got %lld)", name,
			(unsigned long long)lo, (unsigned long long)hi, (long long)i);
		return -EINVAL;
	}
	*dst = (__u64)i;
	return 0;
}

int fog_body_enum(const char *(*name_of)(int value), int lo, int hi, bool nocase, const char *s)
{
	for (int i = lo; i <= hi; i++)
		if (nocase ? !strcasecmp(s, name_of(i)) : !strcmp(s, name_of(i)))
			return i;
	return -EINVAL;
}

void fog_body_enum_names(const char *(*name_of)(int value), int lo, int hi, char *buf,
			 size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = lo; i <= hi && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i == lo ? "" : i == hi ? " or " : ", ",
			      name_of(i));
}

static int read_enum(const struct fog_body_field *f, const json_t *v, int *dst,
		     const char *name, char *err, size_t len)
{
	const char *s = plain_string(v);
	char names[256];
	int e;

	if (!json_is_string(v)) {
		set_err(err, len, "field '%s' must be a string", name);
		return -EINVAL;
	}
	e = s ? fog_body_enum(f->name_of, (int)f->min, (int)f->max, f->nocase, s) : -EINVAL;
	if (e < 0) {
		fog_body_enum_names(f->name_of, (int)f->min, (int)f->max, names, sizeof(names));
		set_err(err, len, "field '%s' must be %s (got '%.32s')", name, names,
			json_string_value(v));
		return -EINVAL;
	}
	*dst = e;
	return 0;
}

int fog_body_read_value(const struct fog_body_field *f, const json_t *v, void *base, void *ctx,
			const char *name, char *err, size_t len)
{
	void *dst = (char *)base + f->offset;
	__u64 u;
	int rc;

	switch (f->type) {
	case FOG_BODY_STR:
		return read_str(f, v, dst, name, -1, err, len);
	case FOG_BODY_STRS:
		return read_strs(f, v, dst, (unsigned int *)((char *)base + f->count_offset), name,
				 err, len);
	case FOG_BODY_NUM:
		return read_num(f, v, dst, name, err, len);
	case FOG_BODY_U32:
		rc = read_uint(f, v, &u, name, err, len);
		if (!rc)
			*(__u32 *)dst = (__u32)u;
		return rc;
	case FOG_BODY_U64:
		return read_uint(f, v, dst, name, err, len);
	case FOG_BODY_BOOL:
		if (!json_is_boolean(v)) {
			set_err(err, len, "field '%s' must be true or false", name);
			return -EINVAL;
		}
		*(bool *)dst = json_is_true(v);
		return 0;
	case FOG_BODY_ENUM:
		return read_enum(f, v, dst, name, err, len);
	case FOG_BODY_JSON:
		return f->parse(f, v, dst, name, ctx, err, len);
	}
	set_err(err, len, "field '%s' has no reader", name);
	return -EINVAL;
}

/* A member's full name: key itself in the body, "where.key" in a nested object. */
static const char *full_name(const struct fog_body_table *t, const char *key, char *buf,
			     size_t len)
{
	size_t w = t->where ? strlen(t->where) : 0, k = strlen(key);

	if (!w && k < len)
		return key;
	/* at most 64 bytes of a key that is not a field: the message stays readable */
	k = k > 64 ? 64 : k;
	if (w + 1 + k >= len)
		w = 0;
	if (w) {
		memcpy(buf, t->where, w);
		buf[w++] = '.';
	}
	memcpy(buf + w, key, k);
	buf[w + k] = '\0';
	return buf;
}

int fog_body_read(const json_t *j, const struct fog_body_table *t, void *dst, void *ctx,
		  __u64 *seen, char *err, size_t len)
{
	char buf[NAME_LEN];
	const char *key, *name;
	__u64 have = 0;
	json_t *v;
	size_t i;

	if (t->n > 64) {
		set_err(err, len, "a body table holds at most 64 fields");
		return -EINVAL;
	}
	if (!json_is_object(j)) {
		if (t->where)
			set_err(err, len, "field '%s' must be an object", t->where);
		else
			set_err(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)j, key, v) {
		for (i = 0; i < t->n && strcmp(key, t->fields[i].name); i++)
			;
		name = full_name(t, key, buf, sizeof(buf));
		if (i == t->n) {
			set_err(err, len, "unknown field '%s'", name);
			return -EINVAL;
		}
		if (t->fields[i].nullable && json_is_null(v))
			continue;
		if (fog_body_read_value(&t->fields[i], v, dst, ctx, name, err, len))
			return -EINVAL;
		have |= FOG_BODY_BIT(i);
	}
	for (i = 0; i < t->n; i++) {
		if (t->fields[i].required && !(have & FOG_BODY_BIT(i))) {
			set_err(err, len, "field '%s' is required",
				full_name(t, t->fields[i].name, buf, sizeof(buf)));
			return -EINVAL;
		}
	}
	if (seen)
		*seen = have;
	return 0;
}
