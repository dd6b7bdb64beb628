// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hist.h"
#include "base/prom.h"
#include "base/text.h"

/* Histogram buckets exported: 1 us .. ~34 s, doubling (2^10 .. 2^35 ns). */
#define PROM_HIST_FIRST 10
#define PROM_HIST_LAST 35

struct fog_prom {
	char *buf;
	size_t len, cap;
	bool openmetrics;
	bool failed;
	enum fog_prom_type type;
	char family[128];
	unsigned int series;
};

struct fog_prom *fog_prom__new(void)
{
	return calloc(1, sizeof(struct fog_prom));
}

void fog_prom__free(struct fog_prom *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static void put(struct fog_prom *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 16384;
		char *nb;

		while (w->len + n + 1 > cap)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->failed = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct fog_prom *w, const char *s)
{
	put(w, s, strlen(s));
}

void fog_prom__begin(struct fog_prom *w, bool openmetrics)
{
	w->len = 0;
	w->failed = false;
	w->openmetrics = openmetrics;
	w->family[0] = '\0';
	w->series = 0;
	if (w->buf)
		w->buf[0] = '\0';
}

const char *fog_prom__end(struct fog_prom *w, size_t *len)
{
	if (w->openmetrics)
		puts_(w, "# EOF\n");
	*len = w->len;
	return w->buf ? w->buf : "";
}

const char *fog_prom__content_type(const struct fog_prom *w)
{
	return w->openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8" :
				"text/plain; version=0.0.4; charset=utf-8";
}

unsigned int fog_prom__series(const struct fog_prom *w)
{
	return w->series;
}

bool fog_prom__failed(const struct fog_prom *w)
{
	return w->failed;
}

int fog_prom_format_double(char *buf, size_t len, double v)
{
	if (isnan(v))
		return snprintf(buf, len, "NaN");
	if (isinf(v))
		return snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	/* integers print without an exponent up to 2^53, as counters usually are */
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return snprintf(buf, len, "%.0f", v);
	/* the shortest form that reads back as the same double */
	for (int prec = 15; prec < 17; prec++) {
		int n = snprintf(buf, len, "%.*g", prec, v);

		if (strtod(buf, NULL) == v)
			return n;
	}
	return snprintf(buf, len, "%.17g", v);
}

/* HELP text escapes backslash and newline; label values also escape the double quote. */
static void escape(struct fog_prom *w, const char *s, bool quote)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '"':
			if (quote)
				put(w, "\\\"", 2);
			else
				put(w, s, 1);
			break;
		default: {
			/* the formats are UTF-8: a bad byte becomes U+FFFD, not a broken scrape */
			size_t n = fog_utf8_seq_len((const unsigned char *)s);

			if (!n) {
				put(w, "\xef\xbf\xbd", 3);
			} else {
				put(w, s, n);
				s += n - 1;
			}
		}
		}
	}
}

void fog_prom__family(struct fog_prom *w, const char *name, enum fog_prom_type type,
		      const char *help)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };

	/* text 0.0.4 names a counter family by its sample name; OpenMetrics without _total */
	const char *suffix = type == FOG_PROM_COUNTER && !w->openmetrics ? "_total" : "";

	snprintf(w->family, sizeof(w->family), "%s", name);
	w->type = type;
	puts_(w, "# HELP ");
	puts_(w, name);
	puts_(w, suffix);
	put(w, " ", 1);
	escape(w, help, false);
	puts_(w, "\n# TYPE ");
	puts_(w, name);
	puts_(w, suffix);
	put(w, " ", 1);
	puts_(w, types[type]);
	put(w, "\n", 1);
}

static void labels_out(struct fog_prom *w, const char *const *labels, const char *le)
{
	bool any = false;

	for (; labels && labels[0] && labels[1]; labels += 2) {
		put(w, any ? "," : "{", 1);
		puts_(w, labels[0]);
		puts_(w, "=\"");
		escape(w, labels[1], true);
		put(w, "\"", 1);
		any = true;
	}
	if (le) {
		put(w, any ? "," : "{", 1);
		puts_(w, "le=\"");
		puts_(w, le);
		put(w, "\"", 1);
		any = true;
	}
	if (any)
		put(w, "}", 1);
}

static void line(struct fog_prom *w, const char *suffix, const char *const *labels, const char *le,
		 double v)
{
	char num[64];

	puts_(w, w->family);
	puts_(w, suffix);
	labels_out(w, labels, le);
	put(w, " ", 1);
	fog_prom_format_double(num, sizeof(num), v);
	puts_(w, num);
	put(w, "\n", 1);
	w->series++;
}

void fog_prom__sample(struct fog_prom *w, const char *const *labels, double value)
{
	line(w, w->type == FOG_PROM_COUNTER ? "_total" : "", labels, NULL, value);
}

void fog_prom__hist(struct fog_prom *w, const char *const *labels, const struct fog_hist *h)
{
	char le[64];
	__u64 cum = 0;
	int i;

	/* the first exported bucket also holds every lower slot */
	for (i = 0; i < PROM_HIST_FIRST; i++)
		cum += h->slots[i];
	for (; i <= PROM_HIST_LAST; i++) {
		cum += h->slots[i];
		fog_prom_format_double(le, sizeof(le), (double)fog_hist_slot_hi(i) / 1e9);
		line(w, "_bucket", labels, le, (double)cum);
	}
	for (; i < FOG_HIST_SLOTS; i++)
		cum += h->slots[i];
	line(w, "_bucket", labels, "+Inf", (double)cum);
	line(w, "_sum", labels, NULL, (double)h->sum_ns / 1e9);
	line(w, "_count", labels, NULL, (double)cum);
}
