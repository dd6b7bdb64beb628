// SPDX-License-Identifier: GPL-2.0-only
/*
 * The monitor's validation of what callers and fogd's [monitor] section give it:
 * options (fog_monitor__new), thresholds (fog_monitor__set_threshold), and
 * samples (fog_monitor__observe), then what it reports back.
 * Input: option figures, then operations: set or clear a threshold, observe a
 * sample, read alerts, trends and recommendations.
 * Properties: accepted thresholds satisfy the documented rules (finite, above
 * 0, fractions at most 1, critical not below warning, hysteresis below where
 * warning starts); rejected calls are -EINVAL with a message and change
 * nothing; a fired level is backed by the samples; trends and recommendations
 * hold finite figures.
 */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "fog/monitor.h"
#include "fuzz.h"

struct thr {
	bool set;
	bool fresh;	/* observed since its thresholds last changed */
};

static void check_threshold_ok(enum fog_monitor_resource r, double w, double c, double f,
			       double h, double approach)
{
	FUZZ_CHECK(isfinite(w) && isfinite(c) && isfinite(f) && isfinite(h));
	FUZZ_CHECK(w > 0 && c >= w && f >= 0 && h >= 0);
	if (fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION)
		FUZZ_CHECK(c <= 1);
	FUZZ_CHECK(h < approach * w);
}

static void check_alerts(struct fog_monitor *mon, const struct thr *thr)
{
	struct fog_alert_status st[FOG_MONITOR_RESOURCES];
	int n = fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES);
	int want = 0;

	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++)
		want += thr[r].set;
	FUZZ_CHECK(n == want);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(st[i].level < FOG_ALERT_LEVELS && st[i].pending < FOG_ALERT_LEVELS);
		FUZZ_CHECK(st[i].pending >= st[i].level);
		FUZZ_CHECK(thr[st[i].resource].set);
		if (!thr[st[i].resource].fresh)
			continue;
		/* ERROR and CRITICAL hold only while the last sample is near their threshold */
		if (st[i].level == FOG_ALERT_CRITICAL)
			FUZZ_CHECK(st[i].value >= st[i].threshold.critical - st[i].threshold.hysteresis);
		if (st[i].level == FOG_ALERT_ERROR)
			FUZZ_CHECK(st[i].value >= st[i].threshold.warning - st[i].threshold.hysteresis);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fog_monitor_opts o = { 0 };
	struct thr thr[FOG_MONITOR_RESOURCES] = { 0 };
	struct fog_monitor *mon;
	double now = 1e9, biggest = 0;

	/* a few options from the input, the rest default; history stays small */
	o.interval_seconds = fuzz_u8(&in) & 1 ? fuzz_double(&in) : 0;
	o.approach_ratio = fuzz_u8(&in) & 1 ? fuzz_double(&in) : 0;
	o.trend_alpha = fuzz_u8(&in) & 1 ? fuzz_double(&in) : 0;
	o.trend_window_seconds = fuzz_u8(&in) & 1 ? fuzz_double(&in) : 0;
	o.history = 3 + fuzz_u8(&in) % 64;
	o.instance = "fuzz";
	errno = 0;
	mon = fog_monitor__new(&o);
	if (!mon) {
		FUZZ_CHECK(errno == EINVAL);
		FUZZ_CHECK(fog_monitor_errmsg()[0] != '\0');
		return 0;
	}
	while (in.n) {
		uint8_t op = fuzz_u8(&in);
		enum fog_monitor_resource r = (enum fog_monitor_resource)(op >> 3) % 9;
		struct fog_monitor_sample s;
		struct fog_trend t;
		struct fog_recommendation rec[4];
		int rc, n;

		switch (op & 7) {
		case 0:
		case 1: {
			double w = fuzz_double(&in), c = fuzz_double(&in), f = fuzz_double(&in);
			double h = fuzz_double(&in);
			double approach = o.approach_ratio ? o.approach_ratio : 0.9;

			rc = fog_monitor__set_threshold(mon, r, w, c, f, h);
			if (!rc) {
				FUZZ_CHECK(r < FOG_MONITOR_RESOURCES);
				check_threshold_ok(r, w, c, f, h, approach);
				thr[r] = (struct thr){ true, false };
			} else {
				FUZZ_CHECK(rc == -EINVAL);
				FUZZ_CHECK(fog_monitor_errmsg()[0] != '\0');
			}
			break;
		}
		case 2:
			rc = fog_monitor__clear_threshold(mon, r);
			if (r < FOG_MONITOR_RESOURCES && !rc)
				thr[r].set = false;
			else
				FUZZ_CHECK(fuzz_is_neg_errno(rc));
			break;
		case 3:
		case 4:
		case 5:
			fog_monitor_sample_init(&s);
			for (int i = 0; i < FOG_MONITOR_RESOURCES; i++)
				if (fuzz_u8(&in) & 1)
					s.value[i] = fuzz_double(&in);
			now += (double)(int8_t)fuzz_u8(&in);
			rc = fog_monitor__observe(mon, now, &s);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			for (int i = 0; !rc && i < FOG_MONITOR_RESOURCES; i++) {
				thr[i].fresh |= !isnan(s.value[i]);
				if (s.value[i] > biggest)
					biggest = s.value[i];
			}
			break;
		case 6:
			rc = fog_monitor__trend(mon, r, &t);
			if (!rc) {
				FUZZ_CHECK(t.samples >= 3);
				FUZZ_CHECK(isfinite(t.slope) && isfinite(t.mean));
				FUZZ_CHECK(isnan(t.p_value) || (t.p_value >= 0 && t.p_value <= 1));
			} else {
				FUZZ_CHECK(rc == -ENODATA || rc == -EINVAL);
			}
			break;
		default:
			n = fog_monitor__recommendations(mon, rec, 4);
			FUZZ_CHECK(n >= 0 && n <= 4);
			for (int i = 0; i < n; i++) {
				FUZZ_CHECK(rec[i].n_evidence <= FOG_REC_EVIDENCE);
				FUZZ_CHECK(strlen(rec[i].summary) < sizeof(rec[i].summary));
			}
			check_alerts(mon, thr);
			break;
		}
	}
	check_alerts(mon, thr);
	fog_monitor__free(mon);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fog_log_set_level(FOG_LOG_ERROR);
	return 0;
}
