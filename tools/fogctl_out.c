// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl's one output writer and one error printer, as bpftool has: with
 * --json, answers and errors are JSON on stdout (an error is one object
 * {"error": "...", "status": N}); otherwise answers are text on stdout and
 * errors are "fogctl CMD: ..." lines on stderr.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"

struct fogctl_opts fogctl_opts;

static FILE *out_f, *err_f;	/* NULL: stdout, stderr */
static unsigned int n_errors;

void fogctl_out_redirect(FILE *out, FILE *err)
{
	out_f = out;
	err_f = err;
	n_errors = 0;
}

FILE *fogctl_out(void)
{
	return out_f ? out_f : stdout;
}

FILE *fogctl_errf(void)
{
	return err_f ? err_f : stderr;
}

unsigned int fogctl_err_count(void)
{
	return n_errors;
}

void fogctl_print_json(json_t *j)
{
	FILE *f = fogctl_out();

	if (json_dumpf(j, f, JSON_INDENT(2)))
		fputs("null", f);
	fputc('\n', f);
	fflush(f);
}

void fogctl_show(json_t *j, fogctl_text_fn text)
{
	if (fogctl_opts.json || !text)
		fogctl_print_json(j);
	else
		text(fogctl_out(), j);
}

const char *fogctl_safe(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (!len)
		return "";
	for (; s && s[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

/* A JSON string of msg: bytes that are not UTF-8 (fogd echoes names it was sent) as '?'. */
static json_t *json_text(const char *msg)
{
	json_t *s = json_string(msg);
	char *copy;

	if (s || !(copy = strdup(msg)))
		return s;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s;
}

static void say_error(long status, const char *fmt, va_list ap)
{
	char msg[1024], safe[sizeof(msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (fogctl_opts.json && !n_errors++) {
		json_t *j = json_object();

		json_object_set_new(j, "error", json_text(msg));
		if (status > 0)
			json_object_set_new(j, "status", json_integer(status));
		fogctl_print_json(j);
		json_decref(j);
		return;
	}
	if (!fogctl_opts.json)
		n_errors++;
	fprintf(fogctl_errf(), "fogctl%s%s: %s", fogctl_opts.cmd[0] ? " " : "", fogctl_opts.cmd,
		fogctl_safe(msg, safe, sizeof(safe)));
	if (status > 0)
		fprintf(fogctl_errf(), " (HTTP %ld)", status);
	fputc('\n', fogctl_errf());
}

void fogctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_error(0, fmt, ap);
	va_end(ap);
}

void fogctl_err_status(long status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_error(status, fmt, ap);
	va_end(ap);
}

void fogctl_err_api(const char *what, long status, const char *body)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "error"));

	fogctl_err_status(status, "%s%s%s", what ? what : "", what ? ": " : "",
			  msg ? msg : "no reason given");
	json_decref(j);
}

void fogctl_note(const char *fmt, ...)
{
	char msg[1024], safe[sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(fogctl_errf(), "fogctl%s%s: %s\n", fogctl_opts.cmd[0] ? " " : "", fogctl_opts.cmd,
		fogctl_safe(msg, safe, sizeof(safe)));
}

double fogctl_num(const json_t *o, const char *key, double missing)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : missing;
}

long long fogctl_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

const char *fogctl_str(const json_t *o, const char *key, const char *missing)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : missing;
}
