// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HISTORY (1u << 18)

#include "base/clock.h"
#include "base/log.h"
#include "monitor/format.h"
#include "monitor/json.h"
#include "monitor/object.h"
#include "monitor/recommend.h"
#include "monitor/sampler.h"
#include "monitor/series.h"
#include "monitor/threshold.h"
#include "monitor/trend.h"

static double or_default(double v, double def)
{
	return v == 0 ? def : v;
}

static void fill_defaults(struct fog_monitor_opts *o)
{
	o->interval_seconds = or_default(o->interval_seconds, 1);
	o->trend_window_seconds = or_default(o->trend_window_seconds, 900);
	o->trend_alpha = or_default(o->trend_alpha, 0.05);
	o->approach_ratio = or_default(o->approach_ratio, 0.9);
	o->cpu_rule.quantile = or_default(o->cpu_rule.quantile, 0.95);
	o->cpu_rule.threshold = or_default(o->cpu_rule.threshold, 0.80);
	o->cpu_rule.window_seconds = or_default(o->cpu_rule.window_seconds, 3600);
	o->memory_rule.limit = or_default(o->memory_rule.limit, 1.0);
	o->memory_rule.horizon_seconds = or_default(o->memory_rule.horizon_seconds, 86400);
	o->memory_rule.window_seconds = or_default(o->memory_rule.window_seconds, 3600);
	o->runq_rule.quantile = or_default(o->runq_rule.quantile, 0.5);
	o->runq_rule.threshold = or_default(o->runq_rule.threshold, 0.010);
	o->runq_rule.window_seconds = or_default(o->runq_rule.window_seconds, 3600);
	o->queue_len = o->queue_len ? o->queue_len : 256;
	o->max_attempts = o->max_attempts ? o->max_attempts : 8;
	o->retry_seconds = or_default(o->retry_seconds, 1);
	o->retry_max_seconds = or_default(o->retry_max_seconds, 60);
	o->http_timeout_seconds = or_default(o->http_timeout_seconds, 5);
}

/* Checks the options after defaults; 0 or -EINVAL with the message set. */
static int check_opts(const struct fog_monitor_opts *o)
{
	const struct {
		const char *name;
		double v;
		double lo, hi; /* lo < v <= hi, or lo <= v with zero_ok */
		bool zero_ok;
	} figs[] = {
		{ "interval_seconds", o->interval_seconds, 0, 86400 },
		{ "trend_window_seconds", o->trend_window_seconds, 0, 366 * 86400.0 },
		{ "trend_alpha", o->trend_alpha, 0, 0.5 },
		{ "trend_min_change", o->trend_min_change, 0, INFINITY, true },
		{ "approach_ratio", o->approach_ratio, 0, 1 },
		{ "cpu_rule.quantile", o->cpu_rule.quantile, 0, 1 },
		{ "cpu_rule.threshold", o->cpu_rule.threshold, 0, 1 },
		{ "cpu_rule.window_seconds", o->cpu_rule.window_seconds, 0, 366 * 86400.0 },
		{ "memory_rule.limit", o->memory_rule.limit, 0, 1 },
		{ "memory_rule.horizon_seconds", o->memory_rule.horizon_seconds, 0, INFINITY },
		{ "memory_rule.window_seconds", o->memory_rule.window_seconds, 0, 366 * 86400.0 },
		{ "runq_rule.quantile", o->runq_rule.quantile, 0, 1 },
		{ "runq_rule.threshold", o->runq_rule.threshold, 0, 3600 },
		{ "runq_rule.window_seconds", o->runq_rule.window_seconds, 0, 366 * 86400.0 },
		{ "retry_seconds", o->retry_seconds, 0, 86400 },
		{ "retry_max_seconds", o->retry_max_seconds, 0, 86400 },
		{ "http_timeout_seconds", o->http_timeout_seconds, 0, 3600 },
		{ "link_bytes_per_second", o->link_bytes_per_second, 0, INFINITY, true },
	};

	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		double v = figs[i].v;

		bool low = figs[i].zero_ok ? v < figs[i].lo : !(v > figs[i].lo);

		if (!isfinite(v) || low || v > figs[i].hi)
			return fog_monitor_fail(
				-EINVAL, "monitor option %s is %g: must be %s %g and at most %g",
				figs[i].name, v, figs[i].zero_ok ? "at least" : "above", figs[i].lo,
				figs[i].hi);
	}
	if (o->retry_max_seconds < o->retry_seconds)
		return fog_monitor_fail(
			-EINVAL, "monitor option retry_max_seconds %g is below retry_seconds %g",
			o->retry_max_seconds, o->retry_seconds);
	if (o->queue_len > 65536)
		return fog_monitor_fail(-EINVAL, "monitor option queue_len %u is above 65536",
					o->queue_len);
	if (o->history > MAX_HISTORY)
		return fog_monitor_fail(-EINVAL, "monitor option history %u is above %u",
					o->history, MAX_HISTORY);
	return 0;
}

static unsigned int default_history(const struct fog_monitor_opts *o)
{
	double w = fmax(fmax(o->trend_window_seconds, o->cpu_rule.window_seconds),
			fmax(o->memory_rule.window_seconds, o->runq_rule.window_seconds));
	double n = ceil(w / o->interval_seconds) + 2;

	return n > MAX_HISTORY ? MAX_HISTORY : (unsigned int)n;
}

struct fog_monitor *fog_monitor__new(const struct fog_monitor_opts *opts)
{
	struct fog_monitor *mon;
	unsigned int history;
	int err;

	mon = calloc(1, sizeof(*mon));
	if (!mon) {
		fog_monitor_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	if (opts)
		mon->opts = *opts;
	fill_defaults(&mon->opts);
	err = check_opts(&mon->opts);
	if (err)
		goto out_free;
	if (opts && opts->instance)
		snprintf(mon->instance, sizeof(mon->instance), "%s", opts->instance);
	else if (gethostname(mon->instance, sizeof(mon->instance) - 1))
		snprintf(mon->instance, sizeof(mon->instance), "localhost");
	snprintf(mon->generator_url, sizeof(mon->generator_url), "%s",
		 opts && opts->generator_url ? opts->generator_url : "");
	mon->opts.instance = mon->instance;
	mon->opts.generator_url = mon->generator_url;
	/* the sampler copies the roots; they are not kept */
	mon->opts.proc_root = NULL;
	mon->opts.sys_root = NULL;

	history = mon->opts.history ? mon->opts.history : default_history(&mon->opts);
	mon->opts.history = history;
	err = -ENOMEM;
	mon->scratch_t = calloc(history, sizeof(double));
	mon->scratch_v = calloc(history, sizeof(double));
	if (!mon->scratch_t || !mon->scratch_v)
		goto out_nomem;
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++) {
		if (fog_series_init(&mon->series[r], history))
			goto out_nomem;
	}
	if (fog_host_sampler_init(&mon->hs, opts ? opts->proc_root : NULL,
				  opts ? opts->sys_root : NULL, mon->opts.link_bytes_per_second))
		goto out_nomem;
	fog_monitor_sample_init(&mon->latest);
	mon->last_now = NAN;
	mon->next_id = mon->opts.first_alert_id ? mon->opts.first_alert_id : 1;
	pthread_mutex_init(&mon->lock, NULL);
	err = fog_cond_init_mono(&mon->stop_cond);
	if (err) {
		pthread_mutex_destroy(&mon->lock);
		fog_monitor_fail(err, "monitor: %s", strerror(-err));
		goto out_free;
	}
	return mon;

out_nomem:
	fog_monitor_fail(err, "monitor: out of memory for %u samples per resource", history);
out_free:
	fog_host_sampler_release(&mon->hs);
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++)
		fog_series_release(&mon->series[r]);
	free(mon->scratch_t);
	free(mon->scratch_v);
	free(mon);
	errno = -err;
	return NULL;
}

void fog_monitor__free(struct fog_monitor *mon)
{
	if (!mon)
		return;
	fog_monitor__stop(mon);
	fog_monitor_free_actions(mon);
	fog_host_sampler_release(&mon->hs);
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++)
		fog_series_release(&mon->series[r]);
	free(mon->scratch_t);
	free(mon->scratch_v);
	pthread_cond_destroy(&mon->stop_cond);
	pthread_mutex_destroy(&mon->lock);
	free(mon);
}

static int check_resource(enum fog_monitor_resource r)
{
	if ((unsigned int)r >= FOG_MONITOR_RESOURCES)
		return fog_monitor_fail(-EINVAL, "unknown resource %d", (int)r);
	return 0;
}

/*
 * Gives a change its episode's id (a new one when it leaves INFO) and link,
 * lets the annotator add one, and keeps both with the episode; lock held.
 */
static void episode_locked(struct fog_monitor *mon, struct fog_threshold_state *s,
			   struct fog_alert *ev)
{
	if (ev->previous == FOG_ALERT_INFO && !ev->resolved) {
		s->id = mon->next_id++;
		s->profile_url[0] = '\0';
	}
	ev->id = s->id;
	snprintf(ev->profile_url, sizeof(ev->profile_url), "%s", s->profile_url);
	if (mon->annotate)
		mon->annotate(ev, mon->annotate_ctx);
	ev->profile_url[sizeof(ev->profile_url) - 1] = '\0';
	snprintf(s->profile_url, sizeof(s->profile_url), "%s", ev->profile_url);
}

static void count_locked(struct fog_monitor *mon, const struct fog_alert *ev)
{
	if (ev->resolved)
		mon->resolved++;
	else if (ev->level > ev->previous)
		mon->fired++;
}

/* Calls the callbacks outside the lock, on a copy of their table. */
static void call_back(const struct callback *cbs, unsigned int ncbs, const struct fog_alert *evs,
		      unsigned int nevs)
{
	for (unsigned int e = 0; e < nevs; e++) {
		for (unsigned int i = 0; i < ncbs; i++)
			cbs[i].fn(&evs[e], cbs[i].ctx);
	}
}

static int check_sample(struct fog_monitor *mon, double now,
			const struct fog_monitor_sample *sample)
{
	if (!sample)
		return fog_monitor_fail(-EINVAL, "no sample");
	if (!isfinite(now))
		return fog_monitor_fail(-EINVAL, "observation time %g is not a finite number", now);
	if (now < mon->last_now)
		return fog_monitor_fail(-EINVAL,
					"observation time %.3f is before the previous one %.3f",
					now, mon->last_now);
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++) {
		double v = sample->value[r];

		if (isinf(v) || v < 0)
			return fog_monitor_fail(-EINVAL, "%s sample %g is %s",
						fog_monitor_resource_name(r), v,
						isinf(v) ? "infinite" : "negative");
		/* fractions and seconds: beyond this the trend sums lose all meaning */
		if (v > FOG_MONITOR_SAMPLE_MAX)
			return fog_monitor_fail(-EINVAL, "%s sample %g is above %g",
						fog_monitor_resource_name(r), v,
						FOG_MONITOR_SAMPLE_MAX);
	}
	return 0;
}

/* Records a checked sample and acts on level changes; called with the lock held. */
static unsigned int observe_locked(struct fog_monitor *mon, double now,
				   const struct fog_monitor_sample *sample, struct fog_alert *evs)
{
	unsigned int nevs = 0;

	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++) {
		double v = sample->value[r];

		if (isnan(v))
			continue;
		fog_series_push(&mon->series[r], now, v);
		mon->latest.value[r] = v;
		if (mon->thr[r].configured &&
		    fog_threshold_step(&mon->thr[r], (enum fog_monitor_resource)r, now, v,
				       &evs[nevs]))
			episode_locked(mon, &mon->thr[r], &evs[nevs++]);
	}
	mon->last_now = now;
	mon->observations++;
	for (unsigned int e = 0; e < nevs; e++) {
		count_locked(mon, &evs[e]);
		fog_monitor_act_locked(mon, &evs[e]);
	}
	fog_monitor_resend_locked(mon, now);
	return nevs;
}

/* One tick from any thread: record, act, then call back without the lock. */
static int observe(struct fog_monitor *mon, double now, const struct fog_monitor_sample *sample,
		   bool from_sampler)
{
	struct fog_alert evs[FOG_MONITOR_RESOURCES];
	struct callback cbs[MAX_CALLBACKS];
	unsigned int nevs, ncbs;
	int err;

	pthread_mutex_lock(&mon->lock);
	if (mon->sampling && !from_sampler) {
		pthread_mutex_unlock(&mon->lock);
		return fog_monitor_fail(-EBUSY,
					"the monitor samples the host itself (fog_monitor__start)");
	}
	err = check_sample(mon, now, sample);
	if (err) {
		pthread_mutex_unlock(&mon->lock);
		return err;
	}
	nevs = observe_locked(mon, now, sample, evs);
	ncbs = mon->ncallbacks;
	memcpy(cbs, mon->callbacks, sizeof(cbs[0]) * ncbs);
	pthread_mutex_unlock(&mon->lock);
	call_back(cbs, ncbs, evs, nevs);
	return 0;
}

int fog_monitor__observe(struct fog_monitor *mon, double now,
			 const struct fog_monitor_sample *sample)
{
	return observe(mon, now, sample, false);
}

int fog_monitor__set_threshold(struct fog_monitor *mon, enum fog_monitor_resource r, double warning,
			       double critical, double for_seconds, double hysteresis)
{
	struct fog_threshold t = { warning, critical, for_seconds, hysteresis };
	char err[256];
	int ret;

	ret = fog_threshold_check(r, &t, mon->opts.approach_ratio, err, sizeof(err));
	if (ret)
		return fog_monitor_fail(ret, "%s", err);
	pthread_mutex_lock(&mon->lock);
	if (mon->thr[r].configured) {
		/* keep the alert's state; the new figures apply from the next sample */
		mon->thr[r].cfg = t;
	} else {
		fog_threshold_init(&mon->thr[r], &t, mon->opts.approach_ratio);
	}
	pthread_mutex_unlock(&mon->lock);
	return 0;
}

int fog_monitor__clear_threshold(struct fog_monitor *mon, enum fog_monitor_resource r)
{
	struct callback cbs[MAX_CALLBACKS];
	unsigned int ncbs, nevs = 0;
	struct fog_alert ev;
	int err = check_resource(r);

	if (err)
		return err;
	pthread_mutex_lock(&mon->lock);
	if (mon->thr[r].configured &&
	    fog_threshold_resolve(&mon->thr[r], r,
				  isnan(mon->last_now) ? fog_wall_now() : mon->last_now, &ev)) {
		nevs = 1;
		episode_locked(mon, &mon->thr[r], &ev);
		count_locked(mon, &ev);
		fog_monitor_act_locked(mon, &ev);
	}
	memset(&mon->thr[r], 0, sizeof(mon->thr[r]));
	ncbs = mon->ncallbacks;
	memcpy(cbs, mon->callbacks, sizeof(cbs[0]) * ncbs);
	pthread_mutex_unlock(&mon->lock);
	call_back(cbs, ncbs, &ev, nevs);
	return 0;
}

int fog_monitor__set_annotate(struct fog_monitor *mon, fog_monitor_annotate_fn fn, void *ctx)
{
	pthread_mutex_lock(&mon->lock);
	mon->annotate = fn;
	mon->annotate_ctx = ctx;
	pthread_mutex_unlock(&mon->lock);
	return 0;
}

int fog_monitor__off_alert(struct fog_monitor *mon, fog_monitor_alert_fn fn, void *ctx)
{
	int err = -ENOENT;

	pthread_mutex_lock(&mon->lock);
	for (unsigned int i = 0; i < mon->ncallbacks; i++) {
		if (mon->callbacks[i].fn != fn || mon->callbacks[i].ctx != ctx)
			continue;
		memmove(&mon->callbacks[i], &mon->callbacks[i + 1],
			(mon->ncallbacks - i - 1) * sizeof(mon->callbacks[0]));
		mon->ncallbacks--;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&mon->lock);
	return err ? fog_monitor_fail(err, "no such alert callback") : 0;
}

int fog_monitor__on_alert(struct fog_monitor *mon, fog_monitor_alert_fn fn, void *ctx)
{
	int err = 0;

	if (!fn)
		return fog_monitor_fail(-EINVAL, "no alert callback given");
	pthread_mutex_lock(&mon->lock);
	if (mon->ncallbacks == MAX_CALLBACKS)
		err = fog_monitor_fail(-ENOSPC, "at most %d alert callbacks", MAX_CALLBACKS);
	else
		mon->callbacks[mon->ncallbacks++] = (struct callback){ fn, ctx };
	pthread_mutex_unlock(&mon->lock);
	return err;
}

int fog_monitor__alerts(struct fog_monitor *mon, struct fog_alert_status *out, size_t n)
{
	size_t k = 0;

	pthread_mutex_lock(&mon->lock);
	for (int r = 0; r < FOG_MONITOR_RESOURCES && k < n; r++) {
		if (mon->thr[r].configured)
			fog_threshold_status(&mon->thr[r], (enum fog_monitor_resource)r, &out[k++]);
	}
	pthread_mutex_unlock(&mon->lock);
	return (int)k;
}

int fog_monitor__latest(struct fog_monitor *mon, struct fog_monitor_sample *out, double *at)
{
	int err = 0;

	pthread_mutex_lock(&mon->lock);
	if (isnan(mon->last_now)) {
		err = fog_monitor_fail(-ENODATA, "no sample observed yet");
	} else {
		*out = mon->latest;
		if (at)
			*at = mon->last_now;
	}
	pthread_mutex_unlock(&mon->lock);
	return err;
}

/* The forecast's aim: the lowest threshold above the line, else 100% for a fraction. */
static double forecast_target(const struct fog_monitor *mon, enum fog_monitor_resource r,
			      double fitted)
{
	const struct fog_threshold_state *t = &mon->thr[r];

	if (t->configured) {
		if (fitted < t->cfg.warning)
			return t->cfg.warning;
		if (fitted < t->cfg.critical)
			return t->cfg.critical;
	}
	if (fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION && fitted < 1)
		return 1;
	return NAN;
}

int fog_monitor__trend(struct fog_monitor *mon, enum fog_monitor_resource r, struct fog_trend *out)
{
	struct fog_fit fit;
	size_t n;
	int err = check_resource(r);

	if (err)
		return err;
	pthread_mutex_lock(&mon->lock);
	n = fog_series_window(&mon->series[r], mon->last_now - mon->opts.trend_window_seconds,
			      mon->scratch_t, mon->scratch_v);
	if (isnan(mon->last_now) || fog_trend_fit(mon->scratch_t, mon->scratch_v, n, &fit)) {
		err = fog_monitor_fail(-ENODATA,
				       "%s: %zu samples in the last %g s, a trend needs 3 at "
				       "different times",
				       fog_monitor_resource_name(r), isnan(mon->last_now) ? 0 : n,
				       mon->opts.trend_window_seconds);
	} else {
		fog_trend_describe(out, r, &fit, mon->scratch_v[n - 1], mon->opts.trend_alpha,
				   mon->opts.trend_min_change,
				   forecast_target(mon, r, fit.fitted_last));
	}
	pthread_mutex_unlock(&mon->lock);
	return err;
}

/* Copies resource r's samples of the last window seconds into the scratch arrays. */
static size_t window(struct fog_monitor *mon, enum fog_monitor_resource r, double seconds)
{
	if (isnan(mon->last_now))
		return 0;
	return fog_series_window(&mon->series[r], mon->last_now - seconds, mon->scratch_t,
				 mon->scratch_v);
}

int fog_monitor__recommendations(struct fog_monitor *mon, struct fog_recommendation *out, size_t n)
{
	const struct fog_monitor_opts *o = &mon->opts;
	size_t k = 0, got;

	pthread_mutex_lock(&mon->lock);
	got = window(mon, FOG_MONITOR_CPU, o->cpu_rule.window_seconds);
	if (k < n && fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &o->cpu_rule,
					     mon->scratch_t, mon->scratch_v, got, &out[k]))
		k++;
	got = window(mon, FOG_MONITOR_MEMORY, o->memory_rule.window_seconds);
	if (k < n && fog_recommend_growth(&o->memory_rule, o->trend_alpha, mon->scratch_t,
					  mon->scratch_v, got, &out[k]))
		k++;
	got = window(mon, FOG_MONITOR_RUNQ_LATENCY, o->runq_rule.window_seconds);
	if (k < n &&
	    fog_recommend_sustained(FOG_REC_RUNQ_LATENCY, FOG_MONITOR_RUNQ_LATENCY, &o->runq_rule,
				    mon->scratch_t, mon->scratch_v, got, &out[k]))
		k++;
	pthread_mutex_unlock(&mon->lock);
	return (int)k;
}

static void *sample_host(void *arg)
{
	struct fog_monitor *mon = arg;
	double next = fog_mono_now();

	pthread_mutex_lock(&mon->lock);
	while (!mon->stop) {
		struct fog_monitor_sample s;
		double now;

		pthread_mutex_unlock(&mon->lock);
		fog_host_sampler_read(&mon->hs, fog_mono_now(), &s);
		/* a wall clock stepped back holds the times still instead of failing ticks */
		pthread_mutex_lock(&mon->lock);
		now = isnan(mon->last_now) ? fog_wall_now() : fmax(fog_wall_now(), mon->last_now);
		pthread_mutex_unlock(&mon->lock);
		if (observe(mon, now, &s, true))
			fog_warnx("monitor: sample dropped: %s", fog_monitor_errmsg());
		next += mon->opts.interval_seconds;
		/* after a long stall, start the schedule again instead of catching up */
		if (next < fog_mono_now())
			next = fog_mono_now() + mon->opts.interval_seconds;
		pthread_mutex_lock(&mon->lock);
		while (!mon->stop && fog_mono_now() < next)
			fog_cond_wait_until(&mon->stop_cond, &mon->lock, next);
	}
	pthread_mutex_unlock(&mon->lock);
	return NULL;
}

int fog_monitor__start(struct fog_monitor *mon)
{
	int err = 0;

	pthread_mutex_lock(&mon->lock);
	if (mon->sampling) {
		err = fog_monitor_fail(-EALREADY, "the host sampler already runs");
	} else {
		mon->stop = false;
		mon->sampling = true;
		err = -pthread_create(&mon->sampler, NULL, sample_host, mon);
		if (err) {
			mon->sampling = false;
			fog_monitor_fail(err, "cannot start the host sampler: %s", strerror(-err));
		}
	}
	pthread_mutex_unlock(&mon->lock);
	return err;
}

int fog_monitor__stop(struct fog_monitor *mon)
{
	pthread_mutex_lock(&mon->lock);
	if (!mon->sampling) {
		pthread_mutex_unlock(&mon->lock);
		return 0;
	}
	if (pthread_equal(pthread_self(), mon->sampler)) {
		pthread_mutex_unlock(&mon->lock);
		return fog_monitor_fail(-EDEADLK, "the sampler cannot be stopped from its own "
						  "thread (an alert callback)");
	}
	mon->stop = true;
	pthread_cond_broadcast(&mon->stop_cond);
	pthread_mutex_unlock(&mon->lock);
	pthread_join(mon->sampler, NULL);
	pthread_mutex_lock(&mon->lock);
	mon->sampling = false;
	pthread_mutex_unlock(&mon->lock);
	return 0;
}

void fog_monitor__trend_settings(struct fog_monitor *mon, double *window_seconds, double *alpha)
{
	*window_seconds = mon->opts.trend_window_seconds;
	*alpha = mon->opts.trend_alpha;
}
