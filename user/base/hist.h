/* SPDX-License-Identifier: GPL-2.0-only */
/* Log2 latency histograms (struct fog_hist from the BPF ABI) and their percentiles. */
#ifndef FOG_HIST_H
#define FOG_HIST_H

#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/common.h"

/* Lower and upper bounds in ns of a slot: [2^i, 2^(i+1)), slot 0 is [0, 2). */
__u64 fog_hist_slot_lo(unsigned int slot);
__u64 fog_hist_slot_hi(unsigned int slot);
__u64 fog_hist_count(const struct fog_hist *h);
void fog_hist_merge(struct fog_hist *dst, const struct fog_hist *src);
/* out = now - before, slot by slot, clamped at zero (a map entry may have been reset). */
void fog_hist_delta(struct fog_hist *out, const struct fog_hist *now, const struct fog_hist *before);
/*
 * The q-quantile (0 < q <= 1) in ns, interpolated linearly inside the slot that
 * holds it; -1 when the histogram is empty.
 */
double fog_hist_quantile(const struct fog_hist *h, double q);
/* {"count", "sum_seconds", "p50_seconds", "p95_seconds", "p99_seconds", "buckets": [[le_seconds, cumulative]...]} */
json_t *fog_hist_json(const struct fog_hist *h);

#endif /* FOG_HIST_H */
