/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON request bodies read against a declarative table of fields, as the
 * configuration is read against its table of options: each field says its
 * name, JSON type, whether it is required, its bounds and where its value
 * goes in the caller's struct. A field not in the table, a value of the
 * wrong type and a value out of range are refused with an error naming the
 * field ("unknown field 'memroy_mb'", "field 'cpu_cores' must be in [0, 1e+06]
 * (got -1)"); absent fields keep what the caller put there first, so the
 * caller sets the defaults. Rules between fields (one excludes another) stay
 * with the caller, which learns from a bit mask which fields were present.
 */
#ifndef FOG_BASE_BODY_H
#define FOG_BASE_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

enum fog_body_type {
	FOG_BODY_STR,	/* a string without NUL, copied into char[size] */
	FOG_BODY_STRS,	/* an array of up to max_items such strings: char[][size] */
	FOG_BODY_NUM,	/* a finite number (integer or real) in [min, max]: double */
	FOG_BODY_U32,	/* an integer in min..max: __u32 */
	FOG_BODY_U64,	/* an integer in min..max: __u64 */
	FOG_BODY_BOOL,	/* true or false: bool */
	FOG_BODY_ENUM,	/* a string among name(min)..name(max): its value as an int */
	FOG_BODY_JSON,	/* any value, read by the field's parse callback */
};

struct fog_body_field;

/*
 * Reads a FOG_BODY_JSON field's value v into dst (the caller's struct plus
 * the field's offset); name is the field's full name for the error. 0, or
 * -EINVAL with err set.
 */
typedef int (*fog_body_parse_fn)(const struct fog_body_field *f, const json_t *v, void *dst,
				 const char *name, void *ctx, char *err, size_t len);

struct fog_body_field {
	const char *name;
	enum fog_body_type type;
	bool required;	/* absent: "field 'x' is required" */
	bool nullable;	/* null reads as absent (e.g. a figure not measured) */
	bool nonempty;	/* STR, STRS: "" is refused */
	bool nocase;	/* ENUM: names match whatever their case */
	size_t offset;	/* where the value goes in the caller's struct */
	size_t size;	/* STR, STRS: bytes of one string, with its NUL */
	double min, max;	/* NUM, U32, U64: value bounds; ENUM: value range */
	unsigned int max_items;	/* STRS: array length */
	size_t count_offset;	/* STRS: where the item count goes (unsigned int) */
	const char *(*name_of)(int value);	/* ENUM: the name of a value */
	/* STR: checks the string's form; why completes "field 'x' ..." */
	int (*check)(const char *s, char *why, size_t len);
	fog_body_parse_fn parse;	/* JSON */
};

/* A table: the fields of one JSON object, which is named where (NULL: the body). */
struct fog_body_table {
	const char *where;
	const struct fog_body_field *fields;
	size_t n;	/* at most 64 */
};

#define FOG_BODY_TABLE(w, f) { .where = (w), .fields = (f), .n = sizeof(f) / sizeof((f)[0]) }

/* Table entries: T is the caller's struct, m the member; more settings may follow. */
#define FOG_BODY_MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define FOG_BODY_F_STR(n, T, m, ...)                                                               \
	{ .name = (n), .type = FOG_BODY_STR, .offset = offsetof(T, m),                             \
	  .size = FOG_BODY_MEMBER_SIZE(T, m), __VA_ARGS__ }
#define FOG_BODY_F_STRS(n, T, m, cnt, ...)                                                         \
	{ .name = (n), .type = FOG_BODY_STRS, .offset = offsetof(T, m),                            \
	  .size = FOG_BODY_MEMBER_SIZE(T, m[0]),                                                   \
	  .max_items = FOG_BODY_MEMBER_SIZE(T, m) / FOG_BODY_MEMBER_SIZE(T, m[0]),                 \
	  .count_offset = offsetof(T, cnt), __VA_ARGS__ }
#define FOG_BODY_F_NUM(n, T, m, lo, hi, ...)                                                       \
	{ .name = (n), .type = FOG_BODY_NUM, .offset = offsetof(T, m), .min = (lo), .max = (hi),   \
	  __VA_ARGS__ }
#define FOG_BODY_F_U32(n, T, m, lo, hi, ...)                                                       \
	{ .name = (n), .type = FOG_BODY_U32, .offset = offsetof(T, m), .min = (lo), .max = (hi),   \
	  __VA_ARGS__ }
#define FOG_BODY_F_U64(n, T, m, lo, hi, ...)                                                       \
	{ .name = (n), .type = FOG_BODY_U64, .offset = offsetof(T, m), .min = (lo), .max = (hi),   \
	  __VA_ARGS__ }
#define FOG_BODY_F_BOOL(n, T, m, ...)                                                              \
	{ .name = (n), .type = FOG_BODY_BOOL, .offset = offsetof(T, m), __VA_ARGS__ }
#define FOG_BODY_F_ENUM(n, T, m, fn, lo, hi, ...)                                                  \
	{ .name = (n), .type = FOG_BODY_ENUM, .offset = offsetof(T, m), .name_of = (fn),          \
	  .min = (lo), .max = (hi), __VA_ARGS__ }
#define FOG_BODY_F_JSON(n, T, m, fn, ...)                                                          \
	{ .name = (n), .type = FOG_BODY_JSON, .offset = offsetof(T, m), .parse = (fn), __VA_ARGS__ }

/* Bit of field i (its index in the table) in the mask of fields present. */
#define FOG_BODY_BIT(i) (1ull << (i))

/*
 * Reads the object j into dst by table t: each member must be a field of t,
 * of its type and within its bounds, and every required field present.
 * *seen (may be NULL) gets the bits of the fields present (null ones of
 * nullable fields not counted). ctx goes to parse callbacks. 0, or -EINVAL
 * with err naming the field; dst may be partly written then.
 */
int fog_body_read(const json_t *j, const struct fog_body_table *t, void *dst, void *ctx,
		  __u64 *seen, char *err, size_t len);

/*
 * Reads the one value v by field f into base + f->offset, as fog_body_read
 * reads each member (name is the field's full name for the error): for a
 * parse callback that reads a value as a plain field would before converting it.
 */
int fog_body_read_value(const struct fog_body_field *f, const json_t *v, void *base, void *ctx,
			const char *name, char *err, size_t len);

/*
 * The value among lo..hi whose name_of is s (any case with nocase), or
 * -EINVAL: for enumerated query arguments as for ENUM fields.
 */
int fog_body_enum(const char *(*name_of)(int value), int lo, int hi, bool nocase, const char *s);
/* "a, b or c": the names of lo..hi, for an error; truncated to len. */
void fog_body_enum_names(const char *(*name_of)(int value), int lo, int hi, char *buf,
			 size_t len);

#endif /* FOG_BASE_BODY_H */
