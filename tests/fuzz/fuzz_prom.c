// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus exposition writer with label values from outside (process
 * names, cgroup paths, device and interface names) and any double or histogram.
 * Input: a control byte, then per sample a value (fuzz_double) and two label
 * values (NUL-separated), then histogram slots.
 * Properties: every sample line parses back (name, labels, value); unescaping a
 * label value gives the input; no label value spills over a line; numbers read
 * back as the same double; histogram buckets are cumulative and end in +Inf.
 * The output is always valid UTF-8: Prometheus rejects a whole scrape with an
 * invalid label value, and a process can name itself with any bytes.
 */
#include <math.h>
#include <string.h>

#include "base/prom.h"
#include "fuzz.h"

#define MAX_SAMPLES 8

/* Reads one escaped label value at *p up to its closing quote; returns it malloc'd. */
static char *unescape(const char **p)
{
	const char *s = *p;
	char *out = malloc(strlen(s) + 1), *o = out;

	FUZZ_CHECK(out);
	for (; *s && *s != '"'; s++) {
		FUZZ_CHECK(*s != '\n');
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		FUZZ_CHECK(*s == '\\' || *s == 'n' || *s == '"');
		*o++ = *s == 'n' ? '\n' : *s;
	}
	FUZZ_CHECK(*s == '"');
	*o = '\0';
	*p = s + 1;
	return out;
}

static bool same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Checks one sample line "name{a="..",b=".."} value" against what was written. */
static void check_line(const char *line, const char *name, const char *a, const char *b,
		       double v)
{
	const char *p = line;
	char *got;

	FUZZ_CHECK(!strncmp(p, name, strlen(name)));
	p += strlen(name);
	FUZZ_CHECK(!strncmp(p, "{a=\"", 4));
	p += 4;
	got = unescape(&p);
	/* invalid UTF-8 is replaced by U+FFFD: only valid input round-trips */
	FUZZ_CHECK(!fuzz_utf8_valid(a, strlen(a)) || !strcmp(got, a));
	free(got);
	FUZZ_CHECK(!strncmp(p, ",b=\"", 4));
	p += 4;
	got = unescape(&p);
	FUZZ_CHECK(!fuzz_utf8_valid(b, strlen(b)) || !strcmp(got, b));
	free(got);
	FUZZ_CHECK(!strncmp(p, "} ", 2));
	p += 2;
	if (isnan(v))
		FUZZ_CHECK(!strcmp(p, "NaN"));
	else if (isinf(v))
		FUZZ_CHECK(!strcmp(p, v > 0 ? "+Inf" : "-Inf"));
	else
		FUZZ_CHECK(same_double(strtod(p, NULL), v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t ctl = fuzz_u8(&in);
	bool om = ctl & 1;
	unsigned int n = (ctl >> 1) % MAX_SAMPLES, i;
	char *a[MAX_SAMPLES], *b[MAX_SAMPLES], num[64];
	double v[MAX_SAMPLES];
	struct fog_prom *w = fog_prom__new();
	struct fog_hist h = { 0 };
	const char *text, *line;
	char *copy, *save = NULL;
	size_t len;
	unsigned int seen = 0, buckets = 0;
	double last_cum = -1;

	FUZZ_CHECK(w);
	for (i = 0; i < n; i++) {
		v[i] = fuzz_double(&in);
		a[i] = fuzz_str(&in);
		b[i] = fuzz_str(&in);
		FUZZ_CHECK(fog_prom_format_double(num, sizeof(num), v[i]) < (int)sizeof(num));
		if (!isnan(v[i]) && !isinf(v[i]))
			FUZZ_CHECK(strtod(num, NULL) == v[i]);
	}
	for (i = 0; i < FOG_HIST_SLOTS && in.n; i++)
		h.slots[i] = fuzz_u32(&in);
	h.sum_ns = fuzz_u64(&in);

	fog_prom__begin(w, om);
	fog_prom__family(w, "fog_fuzz", FOG_PROM_GAUGE, "help with \\ and \"quotes\"\nand a newline");
	for (i = 0; i < n; i++)
		fog_prom__sample(w, (const char *[]){ "a", a[i], "b", b[i], NULL }, v[i]);
	fog_prom__family(w, "fog_fuzz_seconds", FOG_PROM_HISTOGRAM, "h");
	fog_prom__hist(w, (const char *[]){ "a", n ? a[0] : "", "b", n ? b[0] : "", NULL }, &h);
	text = fog_prom__end(w, &len);
	FUZZ_CHECK(!fog_prom__failed(w));
	FUZZ_CHECK(strlen(text) == len);
	FUZZ_CHECK(fuzz_utf8_valid(text, len));

	copy = strdup(text);
	FUZZ_CHECK(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (seen < n) {
			check_line(line, "fog_fuzz", a[seen], b[seen], v[seen]);
			seen++;
			continue;
		}
		if (!strncmp(line, "fog_fuzz_seconds_bucket", 23)) {
			const char *sp = strrchr(line, ' ');
			double cum;

			FUZZ_CHECK(sp);
			cum = strtod(sp + 1, NULL);
			FUZZ_CHECK(cum >= last_cum);
			last_cum = cum;
			buckets++;
			if (strstr(line, "le=\"+Inf\""))
				FUZZ_CHECK(buckets > 1);
		}
	}
	FUZZ_CHECK(seen == n);
	FUZZ_CHECK(buckets > 0);
	free(copy);
	for (i = 0; i < n; i++) {
		free(a[i]);
		free(b[i]);
	}
	fog_prom__free(w);
	return 0;
}
