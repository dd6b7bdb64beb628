// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl's one output writer and error printer (JSON with --json, text
 * otherwise), and the command tables every family dispatches from.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fogctl.h"
#include "fogctl_capture.h"

/* stdout parsed back as exactly one JSON value */
static json_t *one_json(const struct capture *c)
{
	json_error_t jerr;
	json_t *j = json_loadb(c->out, c->out_len, 0, &jerr);

	if (!j)
		fail_msg("stdout is not one JSON value (%s): '%s'", jerr.text, c->out);
	return j;
}

static int texts;

static void text_fn(FILE *f, json_t *j)
{
	texts++;
	fprintf(f, "a=%lld\n", (long long)json_integer_value(json_object_get(j, "a")));
}

static void test_show_modes(void **state)
{
	json_t *j = json_pack("{s:i,s:f}", "a", 7, "b", 0.01), *back;
	struct capture c;

	cap_start(&c, false, "status");
	texts = 0;
	fogctl_show(j, text_fn);
	cap_end(&c);
	assert_string_equal(c.out, "a=7\n");
	assert_int_equal(texts, 1);
	assert_int_equal(c.err_len, 0);
	cap_free(&c);

	cap_start(&c, true, "status");
	fogctl_show(j, text_fn);
	cap_end(&c);
	assert_int_equal(texts, 1);	/* --json: no text */
	back = one_json(&c);
	assert_true(json_equal(back, j));	/* 0.01 comes back exactly */
	assert_int_equal(c.out[c.out_len - 1], '\n');
	json_decref(back);
	cap_free(&c);

	cap_start(&c, false, "get");
	fogctl_show(j, NULL);	/* no text renderer: JSON in both modes */
	cap_end(&c);
	back = one_json(&c);
	assert_true(json_equal(back, j));
	json_decref(back);
	cap_free(&c);
	json_decref(j);
}

static void test_error_plain(void **state)
{
	struct capture c;

	cap_start(&c, false, "sched submit");
	fogctl_err("--cpu '%s' is not a number", "x");
	fogctl_err_status(422, "no worker has %d MiB of memory", 9000);
	cap_end(&c);
	assert_int_equal(c.out_len, 0);
	assert_string_equal(c.err,
			    "fogctl sched submit: --cpu 'x' is not a number\n"
			    "fogctl sched submit: no worker has 9000 MiB of memory (HTTP 422)\n");
	cap_free(&c);

	/* outside a command: "fogctl: ..." */
	cap_start(&c, false, "");
	fogctl_err("unknown command '%s'", "bogus");
	cap_end(&c);
	assert_string_equal(c.err, "fogctl: unknown command 'bogus'\n");
	cap_free(&c);
}

static void test_error_json(void **state)
{
	struct capture c;
	json_t *j;

	cap_start(&c, true, "sched submit");
	fogctl_err_status(422, "no worker has %d MiB of memory", 9000);
	cap_end(&c);
	j = one_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "no worker has 9000 MiB of memory");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 422);
	assert_int_equal(json_object_size(j), 2);
	assert_int_equal(c.err_len, 0);
	json_decref(j);
	cap_free(&c);

	/* no HTTP answer: no status */
	cap_start(&c, true, "status");
	fogctl_err("cannot reach fogd on %s", "/x");
	cap_end(&c);
	j = one_json(&c);
	assert_null(json_object_get(j, "status"));
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "cannot reach fogd on /x");
	json_decref(j);
	cap_free(&c);
}

/* Only the first error goes to stdout: it stays one JSON value; the rest go to stderr. */
static void test_error_json_once(void **state)
{
	struct capture c;
	json_t *j;

	cap_start(&c, true, "top");
	fogctl_err("first");
	fogctl_err_status(500, "second");
	assert_int_equal(fogctl_err_count(), 2);
	cap_end(&c);
	j = one_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "first");
	assert_string_equal(c.err, "fogctl top: second (HTTP 500)\n");
	json_decref(j);
	cap_free(&c);
}

/* fogd's refusal: its "error" text, or a fallback for a body that is not JSON. */
static void test_error_api(void **state)
{
	struct capture c;
	json_t *j;

	cap_start(&c, false, "profile");
	fogctl_err_api("cannot start", 404, "{\"error\": \"no process 12\"}");
	fogctl_err_api("cannot start", 502, "<html>bad gateway</html>");
	fogctl_err_api(NULL, 500, NULL);
	cap_end(&c);
	assert_string_equal(c.err, "fogctl profile: cannot start: no process 12 (HTTP 404)\n"
				   "fogctl profile: cannot start: no reason given (HTTP 502)\n"
				   "fogctl profile: no reason given (HTTP 500)\n");
	cap_free(&c);

	cap_start(&c, true, "profile");
	fogctl_err_api("cannot start", 404, "{\"error\": \"no process 12\"}");
	cap_end(&c);
	j = one_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "cannot start: no process 12");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
	json_decref(j);
	cap_free(&c);
}

/* Hostile text (fogd echoes names it was sent): no terminal escapes, always valid JSON. */
static void test_error_hostile_text(void **state)
{
	struct capture c;
	json_t *j;

	cap_start(&c, false, "sched show");
	fogctl_err("no task '%s'", "a\033[2Jb\nc\x7f");
	cap_end(&c);
	assert_string_equal(c.err, "fogctl sched show: no task 'a?[2Jb?c?'\n");
	cap_free(&c);

	cap_start(&c, true, "sched show");
	fogctl_err("no task '%s'", "\xff\xfe\"q\"\n");
	cap_end(&c);
	j = one_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "no task '??\"q\"\n'");
	json_decref(j);
	cap_free(&c);

	/* a message longer than the printer's buffer is cut, still one valid value */
	{
		char big[3000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		cap_start(&c, true, "get");
		fogctl_err("%s", big);
		cap_end(&c);
		j = one_json(&c);
		assert_true(strlen(json_string_value(json_object_get(j, "error"))) < 1024);
		json_decref(j);
		cap_free(&c);
	}
}

static void test_safe(void **state)
{
	char buf[8];

	assert_string_equal(fogctl_safe("ab\tc", buf, sizeof(buf)), "ab?c");
	assert_string_equal(fogctl_safe("0123456789", buf, sizeof(buf)), "0123456");
	assert_string_equal(fogctl_safe(NULL, buf, sizeof(buf)), "");
	assert_string_equal(fogctl_safe("\xc3\xa9t\xc3\xa9", buf, sizeof(buf)),
			    "\xc3\xa9t\xc3\xa9");
}

/* --json before or after the command, never after "--" (a task's own arguments). */
static void test_take_json(void **state)
{
	char *argv[] = { "fogctl", "sched", "submit", "--json", "--id", "x", "--",
			 "prog", "--json", NULL };
	int argc = fogctl_take_json(9, argv);

	assert_true(fogctl_opts.json);
	assert_int_equal(argc, 8);
	assert_string_equal(argv[3], "--id");
	assert_string_equal(argv[5], "--");
	assert_string_equal(argv[7], "--json");
	assert_null(argv[8]);
	fogctl_opts.json = false;

	{
		char *a2[] = { "fogctl", "status", NULL };

		assert_int_equal(fogctl_take_json(2, a2), 2);
		assert_false(fogctl_opts.json);
	}
}

static int ran_a, fell_back;

static int cmd_a(int argc, char **argv)
{
	ran_a++;
	assert_string_equal(argv[0], "a");
	assert_string_equal(fogctl_opts.cmd, "fam a");
	return argc;
}

static int cmd_fallback(int argc, char **argv)
{
	fell_back++;
	return 5;
}

static void no_usage(FILE *f)
{
	fprintf(f, "usage\n");
}

static void test_dispatch(void **state)
{
	static const struct fogctl_cmd table[] = {
		{ "missing", NULL, "a weak symbol not linked in" },
		{ "a", cmd_a, "runs a" },
	};
	char *run_a[] = { "fam", "a", "x", NULL };
	char *missing[] = { "fam", "missing", NULL };
	char *opt[] = { "fam", "-p", "1", NULL };
	char *help[] = { "fam", "--help", NULL };
	struct capture c;

	cap_start(&c, false, "fam");
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, NULL, 3, run_a), 2);
	assert_int_equal(ran_a, 1);
	fogctl_opts.cmd[3] = '\0';
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, NULL, 2, missing), 2);
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, cmd_fallback, 3, opt), 5);
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, cmd_fallback, 1, opt), 5);
	assert_int_equal(fell_back, 2);
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, NULL, 1, opt), 2);
	fogctl_usage_table(c.o, table, 2);
	cap_end(&c);
	assert_non_null(strstr(c.err, "fogctl fam: unknown command 'missing'"));
	assert_string_equal(c.out, "  a          runs a\n");	/* the missing row is not listed */
	cap_free(&c);

	cap_start(&c, false, "fam");
	assert_int_equal(fogctl_dispatch(table, 2, no_usage, NULL, 2, help), 0);
	cap_end(&c);
	cap_free(&c);
}

/* getopt's errors go through the error printer, so --json gets them as JSON too. */
static void test_getopt_errors(void **state)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *arg, *said;
	} cases[] = {
		{ "--bogus", "unknown option '--bogus'" },
		{ "-Z", "unknown option '-Z'" },
		{ "--max", "option '--max' needs a value" },
		{ "-m", "option '-m' needs a value" },
		{ "--wait=1", "option '--wait=1' is unknown or takes no value" },
	};
	struct capture c;
	json_t *j;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "cmd", (char *)cases[i].arg, NULL };

		cap_start(&c, true, "cmd");
		optind = 1;
		assert_int_equal(fogctl_getopt(2, argv, "m:", longopts), '?');
		cap_end(&c);
		j = one_json(&c);
		if (strcmp(json_string_value(json_object_get(j, "error")), cases[i].said))
			fail_msg("%s: said '%s'", cases[i].arg, c.out);
		json_decref(j);
		cap_free(&c);
	}
	{
		char *argv[] = { "cmd", "--max", "3", "--wait", "rest", NULL };

		cap_start(&c, false, "cmd");
		optind = 1;
		assert_int_equal(fogctl_getopt(5, argv, "m:", longopts), 'm');
		assert_string_equal(optarg, "3");
		assert_int_equal(fogctl_getopt(5, argv, "m:", longopts), 'w');
		assert_int_equal(fogctl_getopt(5, argv, "m:", longopts), -1);
		assert_string_equal(argv[optind], "rest");
		cap_end(&c);
		assert_int_equal(c.err_len, 0);
		cap_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_show_modes),
		cmocka_unit_test(test_error_plain),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_error_json_once),
		cmocka_unit_test(test_error_api),
		cmocka_unit_test(test_error_hostile_text),
		cmocka_unit_test(test_safe),
		cmocka_unit_test(test_take_json),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_getopt_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
