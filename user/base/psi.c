// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/psi.h"

#define PSI_LINE_MAX 256

const char *fog_psi_resource_name(enum fog_psi_resource r)
{
	switch (r) {
	case FOG_PSI_MEMORY:
		return "memory";
	case FOG_PSI_CPU:
		return "cpu";
	case FOG_PSI_IO:
		return "io";
	case FOG_PSI_RESOURCES:
		break;
	}
	return "unknown";
}

/* A share in percent: a plain non-negative decimal no larger than 100. */
static int parse_avg(const char *s, double *out)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v > 100.0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parses "avg10=.. avg60=.. avg300=.. total=.." after the kind word. */
static int parse_fields(char *rest, struct fog_psi_line *out, char *why, size_t whylen)
{
	static const char *const keys[] = {"avg10", "avg60", "avg300", "total"};
	unsigned int seen = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(rest, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		unsigned int k;
		int err;

		if (!eq) {
			snprintf(why, whylen, "'%.32s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = '\0';
		for (k = 0; k < 4 && strcmp(tok, keys[k]); k++)
			;
		if (k == 4)
			continue; /* a key added by a later kernel */
		if (seen & (1u << k)) {
			snprintf(why, whylen, "%.8s given twice", tok);
			return -EINVAL;
		}
		seen |= 1u << k;
		switch (k) {
		case 0:
			err = parse_avg(eq + 1, &out->avg10);
			break;
		case 1:
			err = parse_avg(eq + 1, &out->avg60);
			break;
		case 2:
			err = parse_avg(eq + 1, &out->avg300);
			break;
		default:
			err = parse_u64(eq + 1, &out->total_us);
			break;
		}
		if (err) {
			snprintf(why, whylen, "%s has a bad value '%.32s'", tok, eq + 1);
			return err;
		}
	}
	for (unsigned int k = 0; k < 4; k++) {
		if (!(seen & (1u << k))) {
			snprintf(why, whylen, "no %s", keys[k]);
			return -EINVAL;
		}
	}
	return 0;
}

static void set_err(char *err, size_t errlen, int *first, int line, const char *why)
{
	if (*first)
		return;
	*first = -EINVAL;
	if (err && errlen)
		snprintf(err, errlen, "line %d: %s", line, why);
}

int fog_psi_parse(const char *text, struct fog_psi *out, char *err, size_t errlen)
{
	const char *line = text;
	int first = 0, n = 0;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	while (line && *line) {
		const char *start = line, *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[PSI_LINE_MAX], why[128], *kind, *rest;
		struct fog_psi_line v = {0};
		bool *has;
		struct fog_psi_line *dst;

		n++;
		line = nl ? nl + 1 : NULL;
		if (!len)
			continue;
		if (len >= sizeof(buf)) {
			set_err(err, errlen, &first, n, "line too long");
			continue;
		}
		memcpy(buf, start, len);
		buf[len] = '\0';
		kind = buf;
		rest = strpbrk(buf, " \t");
		if (rest)
			*rest++ = '\0';
		if (!strcmp(kind, "some")) {
			has = &out->has_some;
			dst = &out->some;
		} else if (!strcmp(kind, "full")) {
			has = &out->has_full;
			dst = &out->full;
		} else {
			snprintf(why, sizeof(why), "unknown kind '%.32s', want some or full", kind);
			set_err(err, errlen, &first, n, why);
			continue;
		}
		if (*has) {
			snprintf(why, sizeof(why), "second %.4s line", kind);
			set_err(err, errlen, &first, n, why);
			continue;
		}
		if (parse_fields(rest ? rest : buf + len, &v, why, sizeof(why))) {
			set_err(err, errlen, &first, n, why);
			continue;
		}
		*has = true;
		*dst = v;
	}
	if (!out->has_some && !first) {
		first = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "no some line");
	}
	return first;
}

static json_t *line_json(const struct fog_psi_line *l)
{
	return json_pack("{s:f,s:f,s:f,s:f}", "avg10", l->avg10, "avg60", l->avg60, "avg300",
			 l->avg300, "total_seconds", (double)l->total_us / 1e6);
}

json_t *fog_psi_json(const struct fog_psi *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "some", p->has_some ? line_json(&p->some) : json_null());
	json_object_set_new(o, "full", p->has_full ? line_json(&p->full) : json_null());
	return o;
}
