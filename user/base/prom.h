/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus exposition writer: text format 0.0.4 or OpenMetrics 1.0, into
 * one buffer reused across scrapes. The one place that escapes label values and
 * formats numbers (full precision, +Inf/-Inf/NaN spelled as the formats want).
 */
#ifndef FOG_PROM_H
#define FOG_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "fog/abi/common.h"

enum fog_prom_type {
	FOG_PROM_COUNTER,
	FOG_PROM_GAUGE,
	FOG_PROM_HISTOGRAM,
};

struct fog_prom;

struct fog_prom *fog_prom__new(void);
void fog_prom__free(struct fog_prom *w);
/* Starts a new exposition; openmetrics selects OpenMetrics 1.0 over text 0.0.4. */
void fog_prom__begin(struct fog_prom *w, bool openmetrics);
/* Ends it (OpenMetrics: "# EOF"); returns the text, valid until the next begin. */
const char *fog_prom__end(struct fog_prom *w, size_t *len);
const char *fog_prom__content_type(const struct fog_prom *w);
/* Series written since begin. */
unsigned int fog_prom__series(const struct fog_prom *w);
/* Whether a write failed for lack of memory (the exposition is then incomplete). */
bool fog_prom__failed(const struct fog_prom *w);

/*
 * Declares a metric family: name is the family name without suffixes (a
 * counter's samples get "_total" appended). Families must not be declared twice.
 */
void fog_prom__family(struct fog_prom *w, const char *name, enum fog_prom_type type,
		      const char *help);
/*
 * One sample of the current family. labels is NULL or a NULL-terminated list
 * of name, value pairs: (const char *[]){ "cpu", "0", NULL }.
 */
void fog_prom__sample(struct fog_prom *w, const char *const *labels, double value);
/* A histogram sample set of the current family from a log2 ns histogram, in seconds. */
void fog_prom__hist(struct fog_prom *w, const char *const *labels, const struct fog_hist *h);

/* Formats a double as the exposition formats want: "+Inf", "-Inf", "NaN" or %.17g. */
int fog_prom_format_double(char *buf, size_t len, double v);

#endif /* FOG_PROM_H */
