// SPDX-License-Identifier: GPL-2.0-only
/*
 * ML_ADAPTIVE on a small simulated cluster with a known, seeded ground truth:
 * six workers whose speeds differ by 30% steps, tasks run one at a time. The
 * learner must find the fastest worker (generous margin: 80% of the last 200
 * choices; the precise figure is the benchmark's), then move away from it when
 * it degrades (3x slower, its run-queue latency signal high), and explain its
 * choices (prediction, uncertainty, runner-up). A second case degrades the
 * fastest worker with no signal to show it: the change detector on the
 * residuals must notice within a few completions there (and the statistics
 * report its alarms). Then a task shape a worker never ran, and noisy
 * neighbours learnt on some workers and applied to others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fog/sched.h"
#include "sched/api_json.h"

#define NW 6
#define MS 1000000ull

static __u64 now = 1000 * MS;
static __u64 rng = 12345;

static __u64 clk(void *ctx)
{
	return now;
}

static double unif(void)
{
	__u64 z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* Hidden speeds: worker 4 is the fastest, then 1, ... */
static const double speed[NW] = { 1.0, 2.2, 1.3, 0.77, 2.86, 1.69 };
static double slow[NW] = { 1, 1, 1, 1, 1, 1 };

static void signals(struct fog_sched *s)
{
	for (int i = 0; i < NW; i++) {
		struct fog_worker_signals sig = { .have = FOG_SIG_RUNQ_P99 | FOG_SIG_CPU_UTIL,
						  .runq_p99_us = slow[i] > 1 ? 5000 : 50,
						  .cpu_util = slow[i] > 1 ? 0.6 : 0.1 };
		char id[8];

		snprintf(id, sizeof(id), "w%d", i);
		assert_int_equal(fog_sched__worker_signals(s, id, &sig), 0);
	}
}

/* Runs n tasks one after another; returns how many of the last `last` went to worker w. */
static int run_tasks(struct fog_sched *s, int n, int last, int w, int *base)
{
	int hits = 0;

	for (int k = 0; k < n; k++) {
		struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT, .cpu_cores = 1,
					   .memory_mb = 100 };
		struct fog_task_info ti;
		char err[200];
		double nominal = 200 + 300 * unif(), ms;
		int wi;

		snprintf(t.id, sizeof(t.id), "t%d", (*base)++);
		t.est_runtime_ms = nominal;
		if (fog_sched__submit(s, &t, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(fog_sched__schedule(s, 0), 1);
		assert_int_equal(fog_sched__task(s, t.id, &ti), 0);
		assert_true(ti.explain.valid);
		wi = atoi(ti.worker + 1);
		if (k >= n - last)
			hits += wi == w;
		assert_int_equal(fog_sched__task_started(s, t.id), 0);
		ms = nominal / speed[wi] * slow[wi] * exp(0.1 * (unif() - 0.5));
		now += (__u64)(ms * 1e6);
		assert_int_equal(fog_sched__task_finished(s, t.id, FOG_TASK_SUCCEEDED, 0, false, 0,
							  0), 0);
		signals(s);
	}
	return hits;
}

/* The worker ML_ADAPTIVE picks now for a typical task (not placed). */
static int pick_now(struct fog_sched *s)
{
	struct fog_task_spec t = { .id = "probe", .strategy = FOG_STRAT_DEFAULT, .cpu_cores = 1,
				   .memory_mb = 100, .est_runtime_ms = 350 };
	struct fog_sched_explain why;
	int wi = fog_sched__pick(s, &t, &why);

	assert_true(wi >= 0 && why.valid);
	print_message("probe: %s (%.0f ms predicted), runner-up %s (%.0f ms)%s\n", why.worker,
		      why.predicted_ms, why.runner_up, why.runner_up_ms,
		      why.explored ? ", explored" : "");
	return wi;
}

static void test_converges_and_adapts(void **st)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_ML_ADAPTIVE, .clock = clk, .seed = 9 };
	struct fog_sched *s = fog_sched__new(&o);
	struct fog_sched_stats ss;
	struct fog_task_info ti;
	int base = 0, hits;
	char id[16];

	assert_non_null(s);
	for (int i = 0; i < NW; i++) {
		struct fog_worker_spec w = { .cpu_cores = 4, .memory_mb = 4096 };
		char err[200];

		snprintf(w.id, sizeof(w.id), "w%d", i);
		assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
	}
	signals(s);
	hits = run_tasks(s, 600, 200, 4, &base);
	print_message("fastest worker chosen %d of the last 200\n", hits);
	assert_true(hits >= 160);

	/* explanation of the last decision: prediction near the truth, a runner-up */
	snprintf(id, sizeof(id), "t%d", base - 1);
	assert_int_equal(fog_sched__task(s, id, &ti), 0);
	assert_string_equal(ti.explain.worker, "w4");
	assert_true(ti.explain.predicted_ms > 0 && ti.explain.uncertainty_ms >= 0);
	assert_string_not_equal(ti.explain.runner_up, "");
	assert_string_not_equal(ti.explain.runner_up, "w4");

	/* w4 degrades behind a noisy neighbour: 3x slower, run-queue p99 5 ms */
	slow[4] = 3.0;
	signals(s);
	hits = run_tasks(s, 400, 200, 1, &base);	/* w1 is now the fastest */
	print_message("after the degradation, new fastest chosen %d of the last 200\n", hits);
	assert_true(hits >= 140);
	fog_sched__stats(s, &ss);
	assert_true(ss.explorations <= 0.05 * 1000 + 3 * NW + NW);	/* bounded exploration */

	/*
	 * The learner caches each worker's terms between decisions: new signals
	 * alone, with no completion in between, must reach the very next one
	 * (with the terms of the previous signals, w1 would be chosen again).
	 */
	assert_int_equal(pick_now(s), 1);
	slow[1] = 3.0;	/* w1 behind a noisy neighbour now, as w4 was */
	signals(s);
	assert_int_not_equal(pick_now(s), 1);
	slow[1] = 1.0;
	signals(s);
	assert_int_equal(pick_now(s), 1);
	fog_sched__free(s);
}

/*
 * Silent degradation: four workers with identical, unchanging signals; w0 is
 * twice as fast as the rest until it becomes 4x slower than it was. With
 * residuals clipped and forgetting at 0.995 alone, re-learning w0 would take
 * hundreds of its completions; the CUSUM alarm must move the choice away after
 * at most five. (The robust CUSUM needs three large errors by design, so
 * that one or two outliers never raise an alarm; five leaves a margin.)
 */
static void test_detects_silent_degradation(void **st)
{
	static const double sp[4] = { 2.0, 1.0, 1.2, 0.8 };
	struct fog_sched_opts o = { .strategy = FOG_STRAT_ML_ADAPTIVE, .clock = clk, .seed = 3 };
	struct fog_sched *s = fog_sched__new(&o);
	struct fog_sched_stats ss;
	double factor = 1.0;
	int on_w0 = 0, hits = 0, after = 0;
	bool streak = true;	/* still choosing w0 since the change */

	assert_non_null(s);
	for (int i = 0; i < 4; i++) {
		struct fog_worker_spec w = { .cpu_cores = 4, .memory_mb = 4096 };
		struct fog_worker_signals sig = { .have = FOG_SIG_RUNQ_P99 | FOG_SIG_CPU_UTIL,
						  .runq_p99_us = 50, .cpu_util = 0.1 };
		char err[200];

		snprintf(w.id, sizeof(w.id), "w%d", i);
		assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
		assert_int_equal(fog_sched__worker_signals(s, w.id, &sig), 0);
	}
	for (int k = 0; k < 500; k++) {
		struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT, .cpu_cores = 1,
					   .memory_mb = 100 };
		struct fog_task_info ti;
		char err[200];
		double nominal = 200 + 300 * unif(), ms;
		int wi;

		if (k == 300) {
			fog_sched__stats(s, &ss);
			assert_int_equal(ss.ml_changes, 0);	/* no false alarm while steady */
			print_message("before the change, w0 chosen %d of the last 100\n", hits);
			assert_true(hits >= 80);
			factor = 4.0;
		}
		snprintf(t.id, sizeof(t.id), "t%d", k);
		t.est_runtime_ms = nominal;
		assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), 0);
		assert_int_equal(fog_sched__schedule(s, 0), 1);
		assert_int_equal(fog_sched__task(s, t.id, &ti), 0);
		wi = atoi(ti.worker + 1);
		if (k >= 200 && k < 300)
			hits += wi == 0;
		if (k >= 300 && streak) {
			if (wi == 0)
				on_w0++;	/* w0 chosen right after the change */
			else
				streak = false;
		}
		if (k >= 400)
			after += wi == 2;	/* w2 is the fastest now */
		assert_int_equal(fog_sched__task_started(s, t.id), 0);
		ms = nominal / sp[wi] * (wi == 0 ? factor : 1.0) * exp(0.1 * (unif() - 0.5));
		now += (__u64)(ms * 1e6);
		assert_int_equal(fog_sched__task_finished(s, t.id, FOG_TASK_SUCCEEDED, 0, false, 0,
							  0), 0);
	}
	fog_sched__stats(s, &ss);
	print_message("after the change: w0 chosen %d times in a row, %llu alarms\n", on_w0,
		      (unsigned long long)ss.ml_changes);
	assert_true(ss.ml_changes >= 1);
	{
		/* the API's statistics report the alarms next to the observations */
		json_t *j = fog_sched_stats_json(&ss, FOG_STRAT_ML_ADAPTIVE);
		json_t *ml = json_object_get(j, "ml");

		assert_non_null(ml);
		assert_int_equal(json_integer_value(json_object_get(ml, "changes")), ss.ml_changes);
		assert_int_equal(json_integer_value(json_object_get(ml, "observations")),
				 ss.ml_observations);
		json_decref(j);
	}
	assert_true(on_w0 >= 1 && on_w0 <= 5);
	print_message("new fastest chosen %d of the last 100\n", after);
	assert_true(after >= 80);
	fog_sched__free(s);
}

/*
 * Runs n tasks of the given cores at once (placed together, then finished in
 * order); adds to hits those placed on worker `want`.
 */
static void run_batch(struct fog_sched *s, int *k, int n, double cores, const double *sp,
		      int want, int *hits)
{
	char ids[4][FOG_SCHED_ID_LEN];
	double ms[4];

	for (int j = 0; j < n; j++) {
		struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT, .cpu_cores = cores,
					   .memory_mb = 100 };
		char err[200];

		snprintf(t.id, sizeof(t.id), "s%d", (*k)++);
		snprintf(ids[j], sizeof(ids[j]), "%s", t.id);
		t.est_runtime_ms = 200 + 300 * unif();
		ms[j] = t.est_runtime_ms;
		assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), 0);
	}
	assert_int_equal(fog_sched__schedule(s, 0), n);
	for (int j = 0; j < n; j++) {
		struct fog_task_info ti;
		int wi;

		assert_int_equal(fog_sched__task(s, ids[j], &ti), 0);
		wi = atoi(ti.worker + 1);
		*hits += wi == want;
		assert_int_equal(fog_sched__task_started(s, ids[j]), 0);
		ms[j] = ms[j] / sp[wi] * exp(0.1 * (unif() - 0.5));
	}
	for (int j = 0; j < n; j++) {
		now += (__u64)(ms[j] * 1e6);
		assert_int_equal(fog_sched__task_finished(s, ids[j], FOG_TASK_SUCCEEDED, 0, false,
							  0, 0), 0);
	}
}

/*
 * A task shape a worker never ran is predicted from what the worker showed on
 * other shapes. The fastest worker, w0, has 8 cores; the others 32, w2 nearly
 * as fast. First only 8-core tasks arrive, two at a time: w0 runs one (its
 * whole machine), w2 mostly the other. Speed does not depend on the shape.
 * Then 1-core tasks, one at a time, must go to w0. (The task's share of the
 * worker is a shared feature, not one per worker: on w0 it was 1 for every
 * run, so a coefficient of w0's own could not be told from its speed.)
 */
static void test_unseen_shape(void **st)
{
	static const double sp[4] = { 1.5, 1.0, 1.4, 0.8 };
	struct fog_sched_opts o = { .strategy = FOG_STRAT_ML_ADAPTIVE, .clock = clk, .seed = 5 };
	struct fog_sched *s = fog_sched__new(&o);
	int hits = 0, k = 0;

	assert_non_null(s);
	for (int i = 0; i < 4; i++) {
		struct fog_worker_spec w = { .cpu_cores = i ? 32 : 8, .memory_mb = 65536 };
		struct fog_worker_signals sig = { .have = FOG_SIG_RUNQ_P99 | FOG_SIG_CPU_UTIL,
						  .runq_p99_us = 50, .cpu_util = 0.1 };
		char err[200];

		snprintf(w.id, sizeof(w.id), "w%d", i);
		assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
		assert_int_equal(fog_sched__worker_signals(s, w.id, &sig), 0);
	}
	for (int b = 0; b < 150; b++)
		run_batch(s, &k, 2, 8, sp, 0, &hits);
	print_message("8-core tasks on the fastest worker: %d of 300\n", hits);
	hits = 0;
	for (int b = 0; b < 100; b++)
		run_batch(s, &k, 1, 1, sp, 0, &hits);
	print_message("1-core tasks on the fastest worker: %d of 100\n", hits);
	assert_true(hits >= 80);
	fog_sched__free(s);
}

/*
 * Noisy neighbours, learnt once for all workers. Three workers run alone
 * while neighbours come and go on them in turn (run-queue p99 5 ms, 2x
 * slower), so the shared model learns what that signal costs. Then:
 * - all three are behind a neighbour at once: the fastest must still be
 *   chosen and its time predicted within 15% (the neighbour's cost applies
 *   to all alike, and unusual signals are no reason to explore: with the
 *   shared model's width in the bound, the slowest worker was "explored");
 * - w3, the fastest (2x w0), joins behind a neighbour of its own, so its first
 *   runs are slow; when the neighbour leaves, ML_ADAPTIVE must move to it
 *   within 20 tasks and keep 80% of the next 150 there: its runs were slow
 *   for a reason its signals showed, not because it is slow.
 */
static void test_neighbour_first_seen(void **st)
{
	static const double sp[4] = { 1.3, 1.0, 0.8, 2.6 };
	struct fog_sched_opts o = { .strategy = FOG_STRAT_ML_ADAPTIVE, .clock = clk, .seed = 11 };
	struct fog_sched *s = fog_sched__new(&o);
	bool nn[4] = { false };
	double slowdown[4];
	int hits = 0, k = 0, first = -1;

	assert_non_null(s);
	for (int i = 0; i < 4; i++) {
		struct fog_worker_spec w = { .cpu_cores = 16, .memory_mb = 65536 };
		char err[200];

		snprintf(w.id, sizeof(w.id), "w%d", i);
		if (i < 3)
			assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
	}
	for (int phase = 0; phase < 3; phase++) {
		int n = phase == 0 ? 600 : phase == 1 ? 20 : 150;

		if (phase == 1) {
			struct fog_worker_spec w = { .id = "w3", .cpu_cores = 16,
						     .memory_mb = 65536 };
			struct fog_task_spec t = { .id = "probe", .strategy = FOG_STRAT_DEFAULT,
						   .cpu_cores = 1, .memory_mb = 100,
						   .est_runtime_ms = 400 };
			struct fog_sched_explain why;
			char err[200];
			double truth;
			int wi;

			/*
			 * what a neighbour costs is learnt, and does not blur the
			 * workers' speeds: all three behind one now
			 */
			for (int i = 0; i < 3; i++) {
				struct fog_worker_signals sig = {
					.have = FOG_SIG_RUNQ_P99 | FOG_SIG_CPU_UTIL,
					.runq_p99_us = 5000, .cpu_util = 0.6 };
				char id[8];

				snprintf(id, sizeof(id), "w%d", i);
				assert_int_equal(fog_sched__worker_signals(s, id, &sig), 0);
			}
			wi = fog_sched__pick(s, &t, &why);
			assert_true(wi >= 0 && wi < 3 && why.valid);
			truth = 400 / sp[wi] * 2.0;
			print_message("all behind neighbours: %s%s predicted %.0f ms, "
				      "truth %.0f ms\n", why.worker,
				      why.explored ? " (explored)" : "", why.predicted_ms, truth);
			assert_int_equal(wi, 0);	/* still the fastest of the three */
			assert_true(fabs(why.predicted_ms / truth - 1) < 0.15);

			assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
			nn[3] = true;
		}
		if (phase == 2)
			nn[3] = false;
		for (int j = 0; j < n; j++) {
			/* phase 0: a neighbour on one of w0..w2 at a time, 15 tasks each */
			if (phase == 0)
				for (int i = 0; i < 3; i++)
					nn[i] = (j / 15) % 4 == i;
			for (int i = 0; i < 4; i++) {
				struct fog_worker_signals sig = {
					.have = FOG_SIG_RUNQ_P99 | FOG_SIG_CPU_UTIL,
					.runq_p99_us = nn[i] ? 5000 : 50,
					.cpu_util = nn[i] ? 0.6 : 0.1 };
				char id[8];

				snprintf(id, sizeof(id), "w%d", i);
				if (i < 3 || phase)
					assert_int_equal(fog_sched__worker_signals(s, id, &sig), 0);
				slowdown[i] = nn[i] ? 2.0 : 1.0;
			}
			{
				double eff[4];
				int before = hits;

				for (int i = 0; i < 4; i++)
					eff[i] = sp[i] / slowdown[i];
				run_batch(s, &k, 1, 1, eff, 3, &hits);
				if (phase == 2 && hits > before && first < 0)
					first = j;
			}
		}
		if (phase == 1)
			hits = 0;	/* count from the neighbour's departure */
	}
	print_message("after w3's neighbour left: first chosen at task %d, %d of 150\n", first,
		      hits);
	assert_true(first >= 0 && first < 20);
	assert_true(hits >= 120);
	fog_sched__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges_and_adapts),
		cmocka_unit_test(test_detects_silent_degradation),
		cmocka_unit_test(test_unseen_shape),
		cmocka_unit_test(test_neighbour_first_seen),
	};

	return cmocka_run_group_tests_name("sched_learner", tests, NULL, NULL);
}
