// SPDX-License-Identifier: GPL-2.0-only
/*
 * base/body.c: JSON bodies read against a table of fields. Each case builds
 * a body whose right reading (or refusal, and the field it names) the test
 * states itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/body.h"

struct rec {
	char name[8];
	char tags[3][6];
	unsigned int ntags;
	double ratio;
	__u32 count;
	__u64 big;
	bool on;
	int color;
	int shade;
	double maybe;
	const json_t *raw;
	char id[16];
};

static const char *color_name(int v)
{
	static const char *const names[] = { "red", "green", "blue" };

	return v >= 0 && v < 3 ? names[v] : "?";
}

/* the form check of "id": no 'x' in it */
static int check_no_x(const char *s, char *why, size_t len)
{
	if (!strchr(s, 'x'))
		return 0;
	snprintf(why, len, "must hold no 'x'");
	return -EINVAL;
}

/* "raw": an array of two items, kept borrowed; ctx counts the calls */
static int read_pair(const struct fog_body_field *f, const json_t *v, void *dst,
		     const char *name, void *ctx, char *err, size_t len)
{
	(*(int *)ctx)++;
	if (!json_is_array(v) || json_array_size(v) != 2) {
		snprintf(err, len, "field '%s' must be a pair", name);
		return -EINVAL;
	}
	*(const json_t **)dst = v;
	return 0;
}

enum { F_NAME, F_TAGS, F_RATIO, F_COUNT, F_BIG, F_ON, F_COLOR, F_SHADE, F_MAYBE, F_RAW, F_ID };

static const struct fog_body_field fields[] = {
	[F_NAME] = FOG_BODY_F_STR("name", struct rec, name),
	[F_TAGS] = FOG_BODY_F_STRS("tags", struct rec, tags, ntags, .nonempty = true),
	[F_RATIO] = FOG_BODY_F_NUM("ratio", struct rec, ratio, 0, 1),
	[F_COUNT] = FOG_BODY_F_U32("count", struct rec, count, 1, 10),
	[F_BIG] = FOG_BODY_F_U64("big", struct rec, big, 0, 1ull << 40),
	[F_ON] = FOG_BODY_F_BOOL("on", struct rec, on),
	[F_COLOR] = FOG_BODY_F_ENUM("color", struct rec, color, color_name, 0, 2),
	[F_SHADE] = FOG_BODY_F_ENUM("shade", struct rec, shade, color_name, 1, 2, .nocase = true),
	[F_MAYBE] = FOG_BODY_F_NUM("maybe", struct rec, maybe, -5, 5, .nullable = true),
	[F_RAW] = FOG_BODY_F_JSON("raw", struct rec, raw, read_pair),
	[F_ID] = FOG_BODY_F_STR("id", struct rec, id, .required = true, .check = check_no_x),
};

static const struct fog_body_table table = FOG_BODY_TABLE(NULL, fields);
static const struct fog_body_table nested = FOG_BODY_TABLE("sub", fields);

/* Reads text by t into *r (preset to defaults); returns the reader's code. */
static int read_text(const struct fog_body_table *t, const char *text, struct rec *r,
		     __u64 *seen, char *err, size_t len)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY,
			       &je);
	int calls = 0, rc;

	if (!j)
		fail_msg("test body is not JSON: %s: %s", text, je.text);
	memset(r, 0, sizeof(*r));
	r->count = 7;
	r->color = 1;
	err[0] = '\0';
	rc = fog_body_read(j, t, r, &calls, seen, err, len);
	if (!rc && r->raw) {
		assert_int_equal(calls, 1);
		r->raw = NULL;	/* borrowed from j, gone below */
	}
	json_decref(j);
	return rc;
}

static void test_reads_every_type(void **state)
{
	struct rec r;
	char err[256];
	__u64 seen = 0;

	assert_int_equal(read_text(&table,
				   "{\"name\":\"abc\",\"tags\":[\"a\",\"bb\"],\"ratio\":0.25,"
				   "\"count\":10,\"big\":1099511627776,\"on\":true,"
				   "\"color\":\"blue\",\"shade\":\"GrEeN\",\"maybe\":-5,"
				   "\"raw\":[1,2],\"id\":\"k1\"}",
				   &r, &seen, err, sizeof(err)),
			 0);
	assert_string_equal(r.name, "abc");
	assert_int_equal(r.ntags, 2);
	assert_string_equal(r.tags[0], "a");
	assert_string_equal(r.tags[1], "bb");
	assert_true(r.ratio == 0.25);
	assert_int_equal(r.count, 10);
	assert_true(r.big == 1ull << 40);
	assert_true(r.on);
	assert_int_equal(r.color, 2);
	assert_int_equal(r.shade, 1);
	assert_true(r.maybe == -5);
	assert_string_equal(r.id, "k1");
	assert_true(seen == (1ull << (F_ID + 1)) - 1);
	/* an integer is a number too */
	assert_int_equal(read_text(&table, "{\"id\":\"k\",\"ratio\":1}", &r, &seen, err,
				   sizeof(err)), 0);
	assert_true(r.ratio == 1);
}

static void test_absent_keeps_defaults(void **state)
{
	struct rec r;
	char err[256];
	__u64 seen = ~0ull;

	assert_int_equal(read_text(&table, "{\"id\":\"k\"}", &r, &seen, err, sizeof(err)), 0);
	assert_int_equal(r.count, 7);
	assert_int_equal(r.color, 1);
	assert_int_equal(r.ntags, 0);
	assert_true(seen == FOG_BODY_BIT(F_ID));
	/* null of a nullable field reads as absent */
	assert_int_equal(read_text(&table, "{\"id\":\"k\",\"maybe\":null}", &r, &seen, err,
				   sizeof(err)), 0);
	assert_true(seen == FOG_BODY_BIT(F_ID));
}

/* Each body is refused with exactly this message. */
static void expect_refused(const struct fog_body_table *t, const char *text, const char *msg)
{
	struct rec r;
	char err[256];
	__u64 seen = 0;
	int rc = read_text(t, text, &r, &seen, err, sizeof(err));

	if (rc != -EINVAL || strcmp(err, msg))
		fail_msg("%s: got %d '%s', want '%s'", text, rc, err, msg);
}

static void test_unknown_and_required_named(void **state)
{
	expect_refused(&table, "{\"id\":\"k\",\"nmae\":\"x\"}", "unknown field 'nmae'");
	expect_refused(&nested, "{\"id\":\"k\",\"nmae\":\"x\"}", "unknown field 'sub.nmae'");
	expect_refused(&table, "{\"name\":\"a\"}", "field 'id' is required");
	expect_refused(&nested, "{}", "field 'sub.id' is required");
	expect_refused(&table, "[]", "the body must be a JSON object");
	expect_refused(&nested, "3", "field 'sub' must be an object");
	/* null is no value for a field that is not nullable */
	expect_refused(&table, "{\"id\":\"k\",\"ratio\":null}", "field 'ratio' must be a number");
}

static void test_wrong_types_named(void **state)
{
	expect_refused(&table, "{\"id\":\"k\",\"name\":5}", "field 'name' must be a string");
	expect_refused(&table, "{\"id\":\"k\",\"ratio\":\"0.5\"}",
		       "field 'ratio' must be a number");
	expect_refused(&table, "{\"id\":\"k\",\"count\":1.5}", "field 'count' must be an integer");
	expect_refused(&table, "{\"id\":\"k\",\"big\":true}", "field 'big' must be an integer");
	expect_refused(&table, "{\"id\":\"k\",\"on\":1}", "field 'on' must be true or false");
	expect_refused(&table, "{\"id\":\"k\",\"color\":0}", "field 'color' must be a string");
	expect_refused(&table, "{\"id\":\"k\",\"tags\":\"a\"}",
		       "field 'tags' must be an array of at most 3 strings");
	expect_refused(&table, "{\"id\":\"k\",\"tags\":[\"a\",2]}",
		       "field 'tags[1]' must be a string");
	expect_refused(&nested, "{\"id\":\"k\",\"on\":\"yes\"}",
		       "field 'sub.on' must be true or false");
}

static void test_bounds_named(void **state)
{
	expect_refused(&table, "{\"id\":\"k\",\"ratio\":1.5}",
		       "field 'ratio' must be in [0, 1] (got 1.5)");
	expect_refused(&table, "{\"id\":\"k\",\"ratio\":-0.001}",
		       "field 'ratio' must be in [0, 1] (got -0.001)");
	expect_refused(&table, "{\"id\":\"k\",\"count\":0}",
		       "field 'count' must be in 1..10 (got 0)");
	expect_refused(&table, "{\"id\":\"k\",\"count\":11}",
		       "field 'count' must be in 1..10 (got 11)");
	expect_refused(&table, "{\"id\":\"k\",\"count\":-3}",
		       "field 'count' must be in 1..10 (got -3)");
	expect_refused(&table, "{\"id\":\"k\",\"big\":1099511627777}",
		       "field 'big' must be in 0..1099511627776 (got 1099511627777)");
	/* a U32 field is never written past its bounds, whatever the JSON integer */
	expect_refused(&table, "{\"id\":\"k\",\"count\":4294967297}",
		       "field 'count' must be in 1..10 (got 4294967297)");
	expect_refused(&table, "{\"id\":\"k\",\"name\":\"abcdefgh\"}",
		       "field 'name' must be at most 7 characters without NUL");
	expect_refused(&table, "{\"id\":\"k\",\"name\":\"a\\u0000b\"}",
		       "field 'name' must be at most 7 characters without NUL");
	expect_refused(&table, "{\"id\":\"k\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}",
		       "field 'tags' must be an array of at most 3 strings");
	expect_refused(&table, "{\"id\":\"k\",\"tags\":[\"a\",\"\"]}",
		       "field 'tags[1]' must not be empty");
	expect_refused(&table, "{\"id\":\"k\",\"tags\":[\"abcdef\"]}",
		       "field 'tags[0]' must be at most 5 characters without NUL");
	expect_refused(&table, "{\"id\":\"k\",\"color\":\"purple\"}",
		       "field 'color' must be red, green or blue (got 'purple')");
	/* case matters unless the field says otherwise; the range bounds the names */
	expect_refused(&table, "{\"id\":\"k\",\"color\":\"RED\"}",
		       "field 'color' must be red, green or blue (got 'RED')");
	expect_refused(&table, "{\"id\":\"k\",\"shade\":\"red\"}",
		       "field 'shade' must be green or blue (got 'red')");
	expect_refused(&table, "{\"id\":\"k\",\"color\":\"red\\u0000\"}",
		       "field 'color' must be red, green or blue (got 'red')");
	expect_refused(&table, "{\"id\":\"k\",\"maybe\":6}",
		       "field 'maybe' must be in [-5, 5] (got 6)");
}

static void test_callbacks(void **state)
{
	struct rec r;
	char err[256];
	__u64 seen = 0;

	/* the form check completes the message */
	expect_refused(&table, "{\"id\":\"axb\"}", "field 'id' must hold no 'x'");
	/* a parse callback's own message, with the field's full name */
	expect_refused(&table, "{\"id\":\"k\",\"raw\":[1]}", "field 'raw' must be a pair");
	expect_refused(&nested, "{\"id\":\"k\",\"raw\":{}}", "field 'sub.raw' must be a pair");
	assert_int_equal(read_text(&table, "{\"id\":\"k\",\"raw\":[{},null]}", &r, &seen, err,
				   sizeof(err)), 0);
	assert_true(seen & FOG_BODY_BIT(F_RAW));
}

static void test_first_bad_field_wins(void **state)
{
	/* fields are read in the body's order: the first bad one is named */
	expect_refused(&table, "{\"count\":0,\"ratio\":9}",
		       "field 'count' must be in 1..10 (got 0)");
	expect_refused(&table, "{\"ratio\":9,\"count\":0}",
		       "field 'ratio' must be in [0, 1] (got 9)");
}

static void test_long_names_bounded(void **state)
{
	char text[1200], err[64];
	struct rec r;
	__u64 seen;

	memset(text, 0, sizeof(text));
	strcpy(text, "{\"");
	memset(text + 2, 'k', 1000);
	strcat(text, "\":1}");
	assert_int_equal(read_text(&table, text, &r, &seen, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) < sizeof(err));
	assert_true(!strncmp(err, "unknown field 'kkkk", 19));
}

static void test_table_limit(void **state)
{
	static struct fog_body_field many[65];
	struct fog_body_table t = { .fields = many, .n = 65 };
	json_t *j = json_object();
	char err[128];
	struct rec r;

	for (int i = 0; i < 65; i++)
		many[i] = (struct fog_body_field)FOG_BODY_F_BOOL("on", struct rec, on);
	assert_int_equal(fog_body_read(j, &t, &r, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a body table holds at most 64 fields");
	json_decref(j);
}

static void test_enum_helpers(void **state)
{
	char buf[64];

	assert_int_equal(fog_body_enum(color_name, 0, 2, false, "green"), 1);
	assert_int_equal(fog_body_enum(color_name, 0, 2, false, "Green"), -EINVAL);
	assert_int_equal(fog_body_enum(color_name, 0, 2, true, "Green"), 1);
	assert_int_equal(fog_body_enum(color_name, 1, 2, false, "red"), -EINVAL);
	fog_body_enum_names(color_name, 0, 2, buf, sizeof(buf));
	assert_string_equal(buf, "red, green or blue");
	fog_body_enum_names(color_name, 1, 2, buf, sizeof(buf));
	assert_string_equal(buf, "green or blue");
	fog_body_enum_names(color_name, 2, 2, buf, sizeof(buf));
	assert_string_equal(buf, "blue");
	fog_body_enum_names(color_name, 0, 2, buf, 6);
	assert_string_equal(buf, "red, ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_every_type),
		cmocka_unit_test(test_absent_keeps_defaults),
		cmocka_unit_test(test_unknown_and_required_named),
		cmocka_unit_test(test_wrong_types_named),
		cmocka_unit_test(test_bounds_named),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_first_bad_field_wins),
		cmocka_unit_test(test_long_names_bounded),
		cmocka_unit_test(test_table_limit),
		cmocka_unit_test(test_enum_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
