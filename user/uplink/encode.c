// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>

#include "remote.pb-c.h"
#include "uplink/encode.h"

#define MAX_LABELS 48 /* a series' labels at most, extra ones included */
#define MAX_NAME   256

const char *fog_uplink_class_name(enum fog_uplink_class c)
{
	static const char *const names[] = {"alert", "host", "detail"};

	return c < FOG_UPLINK_CLASSES ? names[c] : "?";
}

enum fog_uplink_class fog_uplink_classify(const char *name, const char *const *label_names)
{
	if (!strncmp(name, "fog_alert", 9) || !strcmp(name, "ALERTS") ||
	    !strcmp(name, "ALERTS_FOR_STATE"))
		return FOG_UPLINK_ALERT;
	for (; label_names && *label_names; label_names++) {
		if (!strcmp(*label_names, "pid") || !strcmp(*label_names, "comm") ||
		    !strcmp(*label_names, "cgroup"))
			return FOG_UPLINK_DETAIL;
	}
	return FOG_UPLINK_HOST;
}

static int buf_reserve(struct fog_rw_buf *b, size_t more)
{
	size_t cap;
	unsigned char *np;

	if (b->len + more <= b->cap)
		return 0;
	if (more > FOG_RW_MAX_RAW || b->len > FOG_RW_MAX_RAW)
		return -EMSGSIZE;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	np = realloc(b->p, cap);
	if (!np)
		return -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int fog_rw_buf_series(struct fog_rw_buf *b, const struct fog_rw_label *labels, size_t n,
		      double value, __s64 ts_ms)
{
	Fogrw__Label lab[MAX_LABELS], *lp[MAX_LABELS];
	Fogrw__Sample s = FOGRW__SAMPLE__INIT, *sp = &s;
	Fogrw__TimeSeries ts = FOGRW__TIME_SERIES__INIT;
	size_t size, hdr = 0;
	int err;

	if (n > MAX_LABELS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		lab[i] = (Fogrw__Label)FOGRW__LABEL__INIT;
		lab[i].name = (char *)labels[i].name;
		lab[i].value = (char *)labels[i].value;
		lp[i] = &lab[i];
	}
	s.value = value;
	s.timestamp = ts_ms;
	ts.n_labels = n;
	ts.labels = lp;
	ts.n_samples = 1;
	ts.samples = &sp;
	size = fogrw__time_series__get_packed_size(&ts);
	err = buf_reserve(b, size + 11);
	if (err)
		return err;
	/* WriteRequest field 1 (timeseries), length-delimited */
	b->p[b->len + hdr++] = 0x0a;
	for (size_t v = size;; v >>= 7) {
		b->p[b->len + hdr++] = (unsigned char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		if (v < 0x80)
			break;
	}
	fogrw__time_series__pack(&ts, b->p + b->len + hdr);
	b->len += hdr + size;
	b->series++;
	return 0;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct fog_rw_label *)a)->name,
		      ((const struct fog_rw_label *)b)->name);
}

static bool name_start(char c)
{
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* Parses a value as the exposition writes it ("+Inf", "-Inf", "NaN" or a number). */
static bool parse_value(char *s, double *v)
{
	char *end;

	if (!strcmp(s, "+Inf") || !strcmp(s, "Inf")) {
		*v = INFINITY;
		return true;
	}
	if (!strcmp(s, "-Inf")) {
		*v = -INFINITY;
		return true;
	}
	if (!strcmp(s, "NaN")) {
		*v = NAN;
		return true;
	}
	*v = strtod(s, &end);
	return end != s && !*end;
}

/*
 * One sample line, NUL-terminated, unescaped in place: name, labels and
 * value; false when it is not a sample line of the format.
 */
static bool parse_line(char *p, char **name, struct fog_rw_label *labels, size_t *n, double *value)
{
	char *v;

	*n = 0;
	if (!name_start(*p))
		return false;
	*name = p;
	while (name_char(*p))
		p++;
	if (p - *name >= MAX_NAME)
		return false;
	if (*p == '{') {
		*p++ = '\0';
		while (*p != '}') {
			char *ln = p, *out;

			if (!name_start(*p) || *n == MAX_LABELS - 3)
				return false;
			while (name_char(*p))
				p++;
			if (*p != '=' || p[1] != '"')
				return false;
			*p = '\0';
			p += 2;
			out = v = p;
			for (;; p++) {
				if (!*p)
					return false;
				if (*p == '"')
					break;
				if (*p == '\\') {
					p++;
					if (*p == 'n')
						*out++ = '\n';
					else if (*p == '\\' || *p == '"')
						*out++ = *p;
					else
						return false;
					continue;
				}
				*out++ = *p;
			}
			p++;
			*out = '\0';
			/* an empty value is no label (Prometheus' reading); remote write carries none */
			if (*v)
				labels[(*n)++] = (struct fog_rw_label){ln, v};
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p != ' ')
		return false;
	*p++ = '\0';
	v = p;
	while (*p && *p != ' ')
		p++;
	*p = '\0'; /* a timestamp after the value is not fogd's: ignored */
	return parse_value(v, value);
}

int fog_rw_encode(const char *text, size_t len, __s64 ts_ms, const char *const *extra,
		  struct fog_rw_buf out[FOG_UPLINK_CLASSES], unsigned int *bad)
{
	struct fog_rw_label labels[MAX_LABELS];
	const char *names[MAX_LABELS + 1];
	char *copy = malloc(len + 1), *line, *next;
	int err = 0;

	*bad = 0;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line && *line; line = next) {
		enum fog_uplink_class c;
		char *name;
		size_t n, k;
		double v;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line || *line == '#')
			continue;
		if (!parse_line(line, &name, labels, &n, &v)) {
			(*bad)++;
			continue;
		}
		for (k = 0; k < n; k++)
			names[k] = labels[k].name;
		names[n] = NULL;
		c = fog_uplink_classify(name, names);
		labels[n++] = (struct fog_rw_label){"__name__", name};
		for (const char *const *e = extra; e && e[0] && e[1]; e += 2) {
			bool own = false;

			for (k = 0; k < n && !own; k++)
				own = !strcmp(labels[k].name, e[0]);
			if (!own && n < MAX_LABELS)
				labels[n++] = (struct fog_rw_label){e[0], e[1]};
		}
		qsort(labels, n, sizeof(labels[0]), cmp_label);
		for (k = 1; k < n && strcmp(labels[k - 1].name, labels[k].name); k++)
			;
		if (k < n) { /* a label twice: not a series remote write can carry */
			(*bad)++;
			continue;
		}
		err = fog_rw_buf_series(&out[c], labels, n, v, ts_ms);
		if (err)
			break;
	}
	free(copy);
	return err;
}

int fog_rw_compress(const void *in, size_t len, void **out, size_t *out_len)
{
	size_t n = snappy_max_compressed_length(len);
	char *b = malloc(n ? n : 1);

	if (!b)
		return -ENOMEM;
	if (snappy_compress(in, len, b, &n) != SNAPPY_OK) {
		free(b);
		return -EINVAL;
	}
	*out = b;
	*out_len = n;
	return 0;
}

int fog_rw_uncompress(const void *in, size_t len, size_t max, struct fog_rw_buf *b)
{
	size_t n;
	int err;

	if (snappy_uncompressed_length(in, len, &n) != SNAPPY_OK || n > max)
		return -EBADMSG;
	err = buf_reserve(b, n ? n : 1);
	if (err)
		return err;
	if (snappy_uncompress(in, len, (char *)b->p + b->len, &n) != SNAPPY_OK)
		return -EBADMSG;
	b->len += n;
	return 0;
}

/* The merge's table: one slot per series, keyed by its labels. */
struct slot {
	const Fogrw__TimeSeries *ts;
	const Fogrw__Sample *last;
	__u64 hash;
};

static __u64 series_hash(const Fogrw__TimeSeries *ts)
{
	__u64 h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < ts->n_labels; i++) {
		for (const char *s = ts->labels[i]->name; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const char *s = ts->labels[i]->value; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0xfe) * 1099511628211ull;
	}
	return h;
}

static bool same_labels(const Fogrw__TimeSeries *a, const Fogrw__TimeSeries *b)
{
	if (a->n_labels != b->n_labels)
		return false;
	for (size_t i = 0; i < a->n_labels; i++)
		if (strcmp(a->labels[i]->name, b->labels[i]->name) ||
		    strcmp(a->labels[i]->value, b->labels[i]->value))
			return false;
	return true;
}

/* The slot of ts's series in an open-addressed table of cap (a power of two) slots. */
static size_t find_slot(const struct slot *tab, size_t cap, const Fogrw__TimeSeries *ts)
{
	__u64 h = series_hash(ts);
	size_t j = h & (cap - 1);

	while (tab[j].ts && !(tab[j].hash == h && same_labels(tab[j].ts, ts)))
		j = (j + 1) & (cap - 1);
	return j;
}

int fog_rw_merge(const struct fog_rw_buf *in, struct fog_rw_buf *out)
{
	Fogrw__WriteRequest *wr = fogrw__write_request__unpack(NULL, in->len, in->p);
	struct fog_rw_label labels[MAX_LABELS];
	struct slot *tab;
	size_t cap = 64;
	int err = 0;

	if (!wr)
		return -EBADMSG;
	while (cap < wr->n_timeseries * 2)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (!tab) {
		fogrw__write_request__free_unpacked(wr, NULL);
		return -ENOMEM;
	}
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		const Fogrw__TimeSeries *ts = wr->timeseries[i];
		size_t j;

		if (ts->n_labels > MAX_LABELS)
			continue;
		j = find_slot(tab, cap, ts);
		if (!tab[j].ts)
			tab[j] = (struct slot){.ts = ts, .hash = series_hash(ts)};
		for (size_t k = 0; k < ts->n_samples; k++)
			if (!tab[j].last || ts->samples[k]->timestamp >= tab[j].last->timestamp)
				tab[j].last = ts->samples[k];
	}
	/* in the order series first appeared, so a merged body reads like a tick's */
	for (size_t i = 0; i < wr->n_timeseries && !err; i++) {
		const Fogrw__TimeSeries *ts = wr->timeseries[i];
		size_t j;

		if (ts->n_labels > MAX_LABELS)
			continue;
		j = find_slot(tab, cap, ts);
		if (tab[j].ts != ts || !tab[j].last)
			continue; /* a later copy of a series already written, or no sample */
		for (size_t k = 0; k < ts->n_labels; k++)
			labels[k] =
				(struct fog_rw_label){ts->labels[k]->name, ts->labels[k]->value};
		err = fog_rw_buf_series(out, labels, ts->n_labels, tab[j].last->value,
					tab[j].last->timestamp);
	}
	free(tab);
	fogrw__write_request__free_unpacked(wr, NULL);
	return err;
}
