// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl's parsers of option values: the one duration syntax every duration
 * option takes (-d, --interval, --deadline, --sla, --timeout, --duty, ...),
 * whole numbers and numbers. Bad input is refused with one error that names
 * the option, the value and what is wrong with it.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ms", 1000000ULL },
	{ "s", FOGCTL_NS_PER_S },
	{ "m", 60 * FOGCTL_NS_PER_S },
	{ "h", 3600 * FOGCTL_NS_PER_S },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The unit's length in nanoseconds; 0 when u is not one (a bare number is seconds). */
static uint64_t unit_ns(const char *u)
{
	if (!*u)
		return FOGCTL_NS_PER_S;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(u, units[i].name))
			return units[i].ns;
	return 0;
}

int fogctl_parse_duration(const char *s, uint64_t *ns, const char **why)
{
	uint64_t whole = 0, frac = 0, scale = 1, unit;
	unsigned __int128 total;
	const char *p = s;
	bool digits = false;

	*why = NULL;
	if (!s || !*s)
		return *why = "empty", -EINVAL;
	if (*p == '-')
		return *why = "it is negative", -EINVAL;
	for (; is_digit(*p); p++, digits = true) {
		unsigned int d = (unsigned int)(*p - '0');

		if (whole > (UINT64_MAX - d) / 10)
			return *why = "too large (over 584 years)", -ERANGE;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		for (p++; is_digit(*p); p++, digits = true) {
			if (scale >= 1000000000000000000ULL)
				continue;	/* past 18 digits: below a nanosecond of an hour */
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (!digits)
		return *why = *p && unit_ns(p) ? "no number before the unit" : "not a number",
		       -EINVAL;
	unit = unit_ns(p);
	if (!unit)
		return *why = "the unit is not ms, s, m or h", -EINVAL;
	total = (unsigned __int128)whole * unit + (unsigned __int128)frac * unit / scale;
	if (total > UINT64_MAX)
		return *why = "too large (over 584 years)", -ERANGE;
	*ns = (uint64_t)total;
	return 0;
}

int fogctl_opt_duration(const char *opt, const char *val, unsigned int flags, uint64_t *ns)
{
	const char *why;
	int err = fogctl_parse_duration(val, ns, &why);

	if (err) {
		fogctl_err("%s '%s' is not a duration: %s (for example 500ms, 30s, 1.5m, 2h; a "
			   "bare number is seconds)",
			   opt, val ? val : "", why);
		return err;
	}
	if (!*ns && !(flags & FOGCTL_DUR_ZERO)) {
		fogctl_err("%s '%s': the duration must be more than 0", opt, val);
		return -EINVAL;
	}
	return 0;
}

int fogctl_opt_seconds(const char *opt, const char *val, unsigned int *s, bool *rounded)
{
	uint64_t ns, whole;
	int err = fogctl_opt_duration(opt, val, 0, &ns);

	if (err)
		return err;
	whole = ns / FOGCTL_NS_PER_S + (ns % FOGCTL_NS_PER_S != 0);
	if (whole > UINT_MAX) {
		fogctl_err("%s '%s' is not a duration: too large", opt, val);
		return -ERANGE;
	}
	*s = (unsigned int)whole;
	*rounded = ns % FOGCTL_NS_PER_S != 0;
	return 0;
}

int fogctl_opt_uint(const char *opt, const char *val, unsigned long long min,
		    unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = val ? val : "";

	if (!*p)
		goto bad;
	for (; *p; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (!is_digit(*p))
			goto bad;
		if (v > (ULLONG_MAX - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	fogctl_err("%s '%s' is not a whole number", opt, val ? val : "");
	return -EINVAL;
range:
	fogctl_err("%s '%s' is out of range: give %llu to %llu", opt, val, min, max);
	return -ERANGE;
}

int fogctl_opt_number(const char *opt, const char *val, double *out)
{
	char *end;

	errno = 0;
	*out = val ? strtod(val, &end) : 0;
	if (!val || end == val || *end || errno || !isfinite(*out)) {
		fogctl_err("%s '%s' is not a number", opt, val ? val : "");
		return -EINVAL;
	}
	return 0;
}
