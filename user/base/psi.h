/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pressure stall information: the share of wall time in which some (or all)
 * non-idle tasks were stalled waiting for a resource, as the kernel reports
 * it in /proc/pressure/{cpu,memory,io} (Documentation/accounting/psi.rst).
 */
#ifndef FOG_PSI_H
#define FOG_PSI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <jansson.h>

enum fog_psi_resource {
	FOG_PSI_MEMORY,
	FOG_PSI_CPU,
	FOG_PSI_IO,
	FOG_PSI_RESOURCES,
};

struct fog_psi_line {
	double avg10; /* percent of the last 10 s stalled */
	double avg60;
	double avg300;
	__u64 total_us; /* stall time since boot */
};

struct fog_psi {
	bool has_some;
	bool has_full; /* cpu has no full line before Linux 5.13 */
	struct fog_psi_line some;
	struct fog_psi_line full;
};

/* "memory", "cpu" or "io". */
const char *fog_psi_resource_name(enum fog_psi_resource r);

/*
 * Parses the text of one pressure file. Every line that parses is kept even
 * when another does not. Returns 0, or -EINVAL with err naming the first
 * line that is wrong and why (a missing some line is wrong, a missing full
 * line is not). Unknown keys are ignored: later kernels may add some.
 */
int fog_psi_parse(const char *text, struct fog_psi *out, char *err, size_t errlen);

/* {"some": {"avg10", "avg60", "avg300", "total_seconds"} or null, "full": ... or null} */
json_t *fog_psi_json(const struct fog_psi *p);

#endif /* FOG_PSI_H */
