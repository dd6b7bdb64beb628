// SPDX-License-Identifier: GPL-2.0-only
#include "base/hist.h"

__u64 fog_hist_slot_lo(unsigned int slot)
{
	return slot == 0 ? 0 : 1ULL << slot;
}

__u64 fog_hist_slot_hi(unsigned int slot)
{
	return 1ULL << (slot + 1);
}

__u64 fog_hist_count(const struct fog_hist *h)
{
	__u64 n = 0;

	for (int i = 0; i < FOG_HIST_SLOTS; i++)
		n += h->slots[i];
	return n;
}

void fog_hist_merge(struct fog_hist *dst, const struct fog_hist *src)
{
	dst->sum_ns += src->sum_ns;
	for (int i = 0; i < FOG_HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
}

void fog_hist_delta(struct fog_hist *out, const struct fog_hist *now, const struct fog_hist *before)
{
	out->sum_ns = now->sum_ns > before->sum_ns ? now->sum_ns - before->sum_ns : 0;
	for (int i = 0; i < FOG_HIST_SLOTS; i++)
		out->slots[i] = now->slots[i] > before->slots[i] ? now->slots[i] - before->slots[i] : 0;
}

double fog_hist_quantile(const struct fog_hist *h, double q)
{
	__u64 total = fog_hist_count(h);
	double rank, seen = 0;

	if (!total || q <= 0 || q > 1)
		return -1;
	rank = q * (double)total;
	for (int i = 0; i < FOG_HIST_SLOTS; i++) {
		double n = (double)h->slots[i];

		if (n > 0 && seen + n >= rank) {
			double lo = (double)fog_hist_slot_lo(i), hi = (double)fog_hist_slot_hi(i);

			return lo + (hi - lo) * ((rank - seen) / n);
		}
		seen += n;
	}
	return (double)fog_hist_slot_hi(FOG_HIST_SLOTS - 1);
}

static json_t *seconds_or_null(double ns)
{
	return ns < 0 ? json_null() : json_real(ns / 1e9);
}

json_t *fog_hist_json(const struct fog_hist *h)
{
	json_t *o = json_object(), *buckets = json_array();
	__u64 cum = 0;
	int last = -1;

	for (int i = 0; i < FOG_HIST_SLOTS; i++)
		if (h->slots[i])
			last = i;
	for (int i = 0; i <= last; i++) {
		cum += h->slots[i];
		json_array_append_new(buckets, json_pack("[f,I]", (double)fog_hist_slot_hi(i) / 1e9,
							 (json_int_t)cum));
	}
	json_object_set_new(o, "count", json_integer((json_int_t)fog_hist_count(h)));
	json_object_set_new(o, "sum_seconds", json_real((double)h->sum_ns / 1e9));
	json_object_set_new(o, "p50_seconds", seconds_or_null(fog_hist_quantile(h, 0.50)));
	json_object_set_new(o, "p95_seconds", seconds_or_null(fog_hist_quantile(h, 0.95)));
	json_object_set_new(o, "p99_seconds", seconds_or_null(fog_hist_quantile(h, 0.99)));
	json_object_set_new(o, "buckets", buckets);
	return o;
}
