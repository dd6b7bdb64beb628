// SPDX-License-Identifier: GPL-2.0-only
/*
 * Placement engine: each strategy's queue order and worker choice on hand-built
 * clusters, hard constraints, rejection reasons, load spreading, signal expiry,
 * PRIORITY's starvation-freedom and SLA's EDF order. Time is a fake clock the
 * test advances, so every expectation is computed from what the test set up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fog/sched.h"

#define MS 1000000ull
#define SEC 1000000000ull

static __u64 fake_now = 1 * SEC;

static __u64 fake_clock(void *ctx)
{
	return fake_now;
}

/* Placement order, recorded by on_placed. */
static char placed[64][FOG_SCHED_ID_LEN];
static char placed_on[64][FOG_SCHED_ID_LEN];
static int n_placed;

static void on_placed(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	if (n_placed < 64) {
		snprintf(placed[n_placed], FOG_SCHED_ID_LEN, "%s", t->spec.id);
		snprintf(placed_on[n_placed], FOG_SCHED_ID_LEN, "%s", t->worker);
	}
	n_placed++;
}

static struct fog_sched *engine(enum fog_sched_strategy strat)
{
	struct fog_sched_opts o = {
		.strategy = strat,
		.clock = fake_clock,
		.on_placed = on_placed,
		.aging_ns = 1 * SEC,
		.sla_reject = true,
	};
	struct fog_sched *s;

	fake_now = 1 * SEC;
	n_placed = 0;
	s = fog_sched__new(&o);
	assert_non_null(s);
	return s;
}

static void add_worker(struct fog_sched *s, const char *id, double cores, __u64 mem, __u32 gpus,
		       double cost, const char *label)
{
	struct fog_worker_spec w = { .cpu_cores = cores, .memory_mb = mem, .gpu_count = gpus,
				     .cost_per_hour = cost };
	char err[256] = "";

	snprintf(w.id, sizeof(w.id), "%s", id);
	if (label) {
		snprintf(w.labels[0], sizeof(w.labels[0]), "%s", label);
		w.n_labels = 1;
	}
	assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
}

static struct fog_task_spec task(const char *id, double cores, __u64 mem)
{
	struct fog_task_spec t = { .cpu_cores = cores, .memory_mb = mem,
				   .strategy = FOG_STRAT_DEFAULT, .priority = FOG_PRIO_MEDIUM };

	snprintf(t.id, sizeof(t.id), "%s", id);
	return t;
}

static void submit_ok(struct fog_sched *s, const struct fog_task_spec *t)
{
	char err[256] = "";
	int rc = fog_sched__submit(s, t, err, sizeof(err));

	if (rc)
		fail_msg("submit %s: %d %s", t->id, rc, err);
}

static void finish_ok(struct fog_sched *s, const char *id)
{
	assert_int_equal(fog_sched__task_started(s, id), 0);
	assert_int_equal(fog_sched__task_finished(s, id, FOG_TASK_SUCCEEDED, 0, false, 0, 0), 0);
}

static enum fog_task_state state_of(struct fog_sched *s, const char *id)
{
	struct fog_task_info ti;

	assert_int_equal(fog_sched__task(s, id, &ti), 0);
	return ti.state;
}

/* FIFO: submission order, and no overtaking by a smaller task behind a blocked one. */
static void test_fifo_order(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec a = task("a", 1, 100), b = task("b", 2, 100), c = task("c", 1, 100);

	add_worker(s, "w", 2, 1000, 0, 1, NULL);
	submit_ok(s, &a);
	submit_ok(s, &b);
	submit_ok(s, &c);
	assert_int_equal(fog_sched__schedule(s, 0), 1);	/* b does not fit beside a */
	assert_string_equal(placed[0], "a");
	assert_int_equal(state_of(s, "c"), FOG_TASK_PENDING);	/* c would fit, but FIFO */
	finish_ok(s, "a");
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_string_equal(placed[1], "b");
	finish_ok(s, "b");
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_string_equal(placed[2], "c");
	fog_sched__free(s);
}

/* PRIORITY: highest first; a smaller task may backfill. */
static void test_priority_order(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	const char *ids[] = { "low", "medium", "critical", "high" };
	const enum fog_task_priority pr[] = { FOG_PRIO_LOW, FOG_PRIO_MEDIUM, FOG_PRIO_CRITICAL,
					      FOG_PRIO_HIGH };
	const char *want[] = { "critical", "high", "medium", "low" };

	add_worker(s, "w", 1, 1000, 0, 1, NULL);
	for (int i = 0; i < 4; i++) {
		struct fog_task_spec t = task(ids[i], 1, 10);

		t.priority = pr[i];
		submit_ok(s, &t);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fog_sched__schedule(s, 0), 1);
		assert_string_equal(placed[i], want[i]);
		finish_ok(s, want[i]);
	}
	fog_sched__free(s);
}

/*
 * Starvation-freedom: one slot, a CRITICAL task arriving every 200 ms and
 * running 200 ms keeps the slot busy forever. A LOW task submitted first is
 * placed within 3 aging periods plus one run; with aging effectively off it
 * never is, which shows the scenario really starves without aging.
 */
static __u64 low_wait(__u64 aging_ns)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_PRIORITY, .clock = fake_clock,
				    .aging_ns = aging_ns };
	struct fog_sched *s;
	struct fog_task_spec low = task("low", 1, 10);
	char running[FOG_SCHED_ID_LEN] = "";
	__u64 run_end = 0, start = 1 * SEC, got = 0;
	int next = 0;

	fake_now = start;
	s = fog_sched__new(&o);
	assert_non_null(s);
	add_worker(s, "w", 1, 1000, 0, 1, NULL);
	low.priority = FOG_PRIO_LOW;
	submit_ok(s, &low);
	for (int step = 0; step < 400; step++) {	/* 40 s in 100 ms steps */
		struct fog_task_spec c;
		char id[16];
		struct fog_task_info ti;

		if (step % 2 == 0) {
			snprintf(id, sizeof(id), "c%d", next++);
			c = task(id, 1, 10);
			c.priority = FOG_PRIO_CRITICAL;
			submit_ok(s, &c);
		}
		if (running[0] && fake_now >= run_end) {
			finish_ok(s, running);
			running[0] = '\0';
		}
		if (!running[0] && fog_sched__schedule(s, 1) == 1) {
			if (!fog_sched__task(s, "low", &ti) && ti.state == FOG_TASK_PLACED) {
				got = fake_now - start;
				break;
			}
			for (int k = next - 1; k >= 0; k--) {
				snprintf(id, sizeof(id), "c%d", k);
				if (!fog_sched__task(s, id, &ti) && ti.state == FOG_TASK_PLACED) {
					snprintf(running, sizeof(running), "%s", id);
					break;
				}
			}
			assert_true(running[0]);
			run_end = fake_now + 200 * MS;
		}
		fake_now += 100 * MS;
	}
	fog_sched__free(s);
	return got;
}

static void test_priority_starvation_free(void **st)
{
	__u64 w = low_wait(1 * SEC);

	assert_true(w > 0);
	assert_true(w <= 3 * SEC + 400 * MS);
	assert_int_equal(low_wait(1000000 * SEC), 0);	/* without aging: starved */
}

/* SLA: earliest deadline first, whatever the submission order. */
static void test_sla_edf(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_SLA);
	const unsigned int dl_s[] = { 50, 10, 40, 20, 30 };
	const char *want[] = { "d10", "d20", "d30", "d40", "d50" };

	add_worker(s, "w", 1, 1000, 0, 1, NULL);
	for (int i = 0; i < 5; i++) {
		struct fog_task_spec t;
		char id[16];

		snprintf(id, sizeof(id), "d%u", dl_s[i]);
		t = task(id, 1, 10);
		t.deadline_ns = fake_now + dl_s[i] * SEC;
		t.priority = i == 0 ? FOG_PRIO_CRITICAL : FOG_PRIO_LOW;	/* EDF beats priority */
		submit_ok(s, &t);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(fog_sched__schedule(s, 0), 1);
		assert_string_equal(placed[i], want[i]);
		finish_ok(s, want[i]);
	}
	fog_sched__free(s);
}

/* SLA admission: an expected run longer than the SLA is rejected or flagged. */
static void test_sla_admission(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_SLA);
	struct fog_sched_opts o = { .strategy = FOG_STRAT_SLA, .clock = fake_clock };
	struct fog_task_spec t = task("slow", 1, 10), ok = task("ok", 1, 10);
	struct fog_task_info ti;
	char err[256] = "";

	add_worker(s, "w", 1, 1000, 0, 1, NULL);
	t.est_runtime_ms = 10000;
	t.sla_ms = 1000;
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ETIME);
	assert_non_null(strstr(err, "deadline cannot be met"));
	ok.est_runtime_ms = 500;
	ok.sla_ms = 1000;
	submit_ok(s, &ok);
	/* queued work counts: 3 x 500 ms ahead of a 1 s SLA cannot be met */
	for (int i = 0; i < 2; i++) {
		struct fog_task_spec q = task(i ? "q1" : "q0", 1, 10);

		q.est_runtime_ms = 500;
		q.sla_ms = 1000;
		if (i == 0)
			submit_ok(s, &q);
		else
			assert_int_equal(fog_sched__submit(s, &q, err, sizeof(err)), -ETIME);
	}
	fog_sched__free(s);

	s = fog_sched__new(&o);	/* flag instead of reject */
	add_worker(s, "w", 1, 1000, 0, 1, NULL);
	submit_ok(s, &t);
	assert_int_equal(fog_sched__task(s, "slow", &ti), 0);
	assert_true(ti.at_risk);
	fog_sched__free(s);
}

/* COST: cheapest worker under the budget; never one above it. */
static void test_cost(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_COST);
	char err[256] = "";

	add_worker(s, "dear", 4, 1000, 0, 3.0, NULL);
	add_worker(s, "cheap", 1, 1000, 0, 1.0, NULL);
	add_worker(s, "mid", 1, 1000, 0, 2.0, NULL);
	for (int i = 0; i < 3; i++) {
		struct fog_task_spec t;
		char id[8];

		snprintf(id, sizeof(id), "t%d", i);
		t = task(id, 1, 10);
		t.budget_per_hour = 2.5;
		submit_ok(s, &t);
	}
	assert_int_equal(fog_sched__schedule(s, 0), 2);
	assert_string_equal(placed_on[0], "cheap");
	assert_string_equal(placed_on[1], "mid");
	assert_int_equal(state_of(s, "t2"), FOG_TASK_PENDING);	/* "dear" is over budget */
	{
		struct fog_task_spec t = task("poor", 1, 10);

		t.budget_per_hour = 0.5;
		assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOSPC);
		assert_non_null(strstr(err, "budget"));
	}
	fog_sched__free(s);
}

/* AFFINITY: labels, anti-labels and the worker type are requirements. */
static void test_affinity(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_AFFINITY);
	struct fog_task_spec a = task("a", 1, 10), b = task("b", 1, 10), g = task("g", 1, 10);
	struct fog_task_spec c = task("c", 1, 10);

	add_worker(s, "za", 8, 1000, 0, 1, "zone=a");
	add_worker(s, "zb", 8, 1000, 0, 1, "zone=b");
	add_worker(s, "gpu", 64, 100000, 4, 1, "zone=a");
	snprintf(a.affinity[0], FOG_SCHED_LABEL_LEN, "zone=b");
	a.n_affinity = 1;
	snprintf(b.anti_affinity[0], FOG_SCHED_LABEL_LEN, "zone=a");
	b.n_anti = 1;
	g.type = FOG_TYPE_GPU;
	c.type = FOG_TYPE_CPU;
	/* load zb so that only constraints can send tasks there */
	for (int i = 0; i < 6; i++) {
		struct fog_task_spec f;
		char id[8];

		snprintf(id, sizeof(id), "f%d", i);
		f = task(id, 1, 10);
		snprintf(f.affinity[0], FOG_SCHED_LABEL_LEN, "zone=b");
		f.n_affinity = 1;
		submit_ok(s, &f);
	}
	assert_int_equal(fog_sched__schedule(s, 0), 6);
	n_placed = 0;
	submit_ok(s, &a);
	submit_ok(s, &b);
	submit_ok(s, &g);
	submit_ok(s, &c);
	assert_int_equal(fog_sched__schedule(s, 0), 4);
	for (int i = 0; i < 4; i++) {
		if (!strcmp(placed[i], "a") || !strcmp(placed[i], "b"))
			assert_string_equal(placed_on[i], "zb");
		else if (!strcmp(placed[i], "g"))
			assert_string_equal(placed_on[i], "gpu");
		else	/* CPU type: not the idle GPU worker, the less loaded CPU one */
			assert_string_equal(placed_on[i], "za");
	}
	fog_sched__free(s);
}

/* Requirements no worker can meet are rejected at submit with the reason. */
static void test_reject_impossible(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec t = task("big", 64, 10);
	struct fog_worker_spec bad = { .id = "bad", .cpu_cores = -1, .memory_mb = 10 };
	struct fog_sched_stats ss;
	char err[256] = "";

	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "no workers"));
	add_worker(s, "w", 32, 4096, 1, 1, NULL);
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "64 cpu cores"));
	t = task("mem", 1, 8192);
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "8192 MiB"));
	t = task("gpu", 1, 10);
	t.gpu_count = 2;
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "2 GPUs"));
	t = task("neg", -1, 10);
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -EINVAL);
	t = task("ok", 1, 10);
	submit_ok(s, &t);
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -EEXIST);
	assert_int_equal(fog_sched__worker_add(s, &bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpu_cores"));
	assert_int_equal(fog_sched__worker_remove(s, "nope"), -ENOENT);
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.rejected, 6);
	assert_int_equal(ss.pending, 1);	/* nothing lost */
	fog_sched__free(s);
}

/* Equal workers share equal tasks; a busy worker (live signals) is avoided. */
static void test_load_balance_and_signals(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	struct fog_worker_signals busy = { .have = FOG_SIG_CPU_UTIL, .cpu_util = 0.9 };
	struct fog_worker_info wi;
	int count[4] = { 0 };

	for (int i = 0; i < 4; i++) {
		char id[8];

		snprintf(id, sizeof(id), "w%d", i);
		add_worker(s, id, 4, 1000, 0, 1, NULL);
	}
	for (int i = 0; i < 8; i++) {
		char id[8];
		struct fog_task_spec t;

		snprintf(id, sizeof(id), "t%d", i);
		t = task(id, 1, 10);
		submit_ok(s, &t);
	}
	assert_int_equal(fog_sched__schedule(s, 0), 8);
	for (int i = 0; i < 8; i++)
		count[placed_on[i][1] - '0']++;
	for (int i = 0; i < 4; i++)
		assert_int_equal(count[i], 2);

	/* w0 measured 90% busy: the next tasks go elsewhere */
	assert_int_equal(fog_sched__worker_signals(s, "w0", &busy), 0);
	for (int i = 0; i < 3; i++) {
		char id[8];
		struct fog_task_spec t;

		snprintf(id, sizeof(id), "u%d", i);
		t = task(id, 1, 10);
		submit_ok(s, &t);
	}
	assert_int_equal(fog_sched__schedule(s, 0), 3);
	for (int i = 8; i < 11; i++)
		assert_string_not_equal(placed_on[i], "w0");
	assert_int_equal(fog_sched__worker(s, "w0", &wi), 0);
	assert_true(wi.signals_fresh);

	/* expired signals are "no data": only reservations count again */
	fake_now += 31 * SEC;
	assert_int_equal(fog_sched__worker(s, "w0", &wi), 0);
	assert_false(wi.signals_fresh);
	assert_true(wi.signal_age_ns >= 31 * SEC);
	{
		struct fog_task_spec t = task("v", 1, 10);

		submit_ok(s, &t);
		assert_int_equal(fog_sched__schedule(s, 0), 1);
		assert_string_equal(placed_on[11], "w0");	/* least reserved now */
	}
	fog_sched__free(s);
}

/* Tasks placed after the last signals are counted as estimates on top of them. */
static void test_unseen_estimates(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	struct fog_worker_signals idle = { .have = FOG_SIG_CPU_UTIL, .cpu_util = 0.0 };
	struct fog_worker_info wi;
	struct fog_task_spec t = task("t", 2, 10);

	add_worker(s, "w", 4, 1000, 0, 1, NULL);
	assert_int_equal(fog_sched__worker_signals(s, "w", &idle), 0);
	fake_now += MS;
	submit_ok(s, &t);
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_int_equal(fog_sched__worker(s, "w", &wi), 0);
	assert_int_equal(wi.unseen, 1);
	fake_now += MS;
	assert_int_equal(fog_sched__worker_signals(s, "w", &idle), 0);
	assert_int_equal(fog_sched__worker(s, "w", &wi), 0);
	assert_int_equal(wi.unseen, 0);
	fog_sched__free(s);
}

/* Cancel and worker removal: placed tasks go back to the queue, nothing is lost. */
static void test_cancel_and_remove(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec a = task("a", 1, 10), b = task("b", 1, 10);
	struct fog_task_info ti;

	add_worker(s, "w1", 1, 100, 0, 1, NULL);
	add_worker(s, "w2", 1, 100, 0, 1, NULL);
	submit_ok(s, &a);
	submit_ok(s, &b);
	assert_int_equal(fog_sched__schedule(s, 0), 2);
	assert_int_equal(fog_sched__task_started(s, "b"), 0);
	assert_int_equal(fog_sched__task(s, "a", &ti), 0);
	assert_int_equal(fog_sched__worker_remove(s, ti.worker), 0);
	assert_int_equal(state_of(s, "a"), FOG_TASK_PENDING);
	assert_int_equal(fog_sched__cancel(s, "b"), 0);
	assert_int_equal(state_of(s, "b"), FOG_TASK_CANCELLED);
	assert_int_equal(fog_sched__cancel(s, "b"), -EALREADY);
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_int_equal(state_of(s, "a"), FOG_TASK_PLACED);
	fog_sched__free(s);
}

/* A task past its deadline times out and counts as an SLA violation. */
static void test_expire(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_SLA);
	struct fog_task_spec t = task("t", 1, 10);
	struct fog_sched_stats ss;

	add_worker(s, "w", 1, 100, 0, 1, NULL);
	t.sla_ms = 500;
	submit_ok(s, &t);
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_int_equal(fog_sched__task_started(s, "t"), 0);
	fake_now += 400 * MS;
	assert_int_equal(fog_sched__expire(s), 0);
	fake_now += 200 * MS;
	assert_int_equal(fog_sched__expire(s), 1);
	assert_int_equal(state_of(s, "t"), FOG_TASK_TIMED_OUT);
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.sla_violations, 1);
	assert_int_equal(ss.timed_out, 1);
	assert_int_equal(ss.active, 0);
	fog_sched__free(s);
}

/* Counts of live tasks and the accounting identity every caller relies on. */
static void assert_reconciles(struct fog_sched *s)
{
	struct fog_sched_stats ss;

	fog_sched__stats(s, &ss);
	assert_int_equal(ss.active, ss.placed + ss.running);
	assert_int_equal(ss.submitted, ss.pending + ss.placed + ss.running + ss.completed +
					       ss.failed + ss.timed_out + ss.cancelled);
}

/*
 * Submission places only the new task; waiting tasks are retried when room
 * appears, not on every submission, and their misses count as retries, not
 * as decisions.
 */
static void test_place_new_and_retry(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	struct fog_task_spec big = task("big", 2, 10), small = task("small", 1, 10);
	struct fog_task_spec x = task("x", 1, 10);
	struct fog_sched_stats a, b;

	add_worker(s, "w", 2, 100, 0, 1, NULL);
	submit_ok(s, &x);
	assert_int_equal(fog_sched__place(s, "x"), 1);
	submit_ok(s, &big);
	assert_int_equal(fog_sched__place(s, "big"), 0);	/* 1 core free: waits */
	assert_int_equal(fog_sched__place(s, "x"), -EINVAL);	/* not pending */
	assert_int_equal(fog_sched__place(s, "nope"), -ENOENT);
	fog_sched__stats(s, &a);
	assert_int_equal(a.decisions, 2);	/* both first attempts are decisions */
	assert_int_equal(a.retries, 0);
	/* the worker's registration was a change: one pass, which finds nothing to try */
	assert_int_equal(fog_sched__retry(s, 64), 0);
	assert_false(fog_sched__retry_due(s));
	assert_int_equal(fog_sched__retry(s, 64), 0);
	fog_sched__stats(s, &a);
	assert_int_equal(a.retries, 0);
	/* a new small task backfills beside x without touching big */
	submit_ok(s, &small);
	assert_int_equal(fog_sched__place(s, "small"), 1);
	fog_sched__stats(s, &b);
	assert_int_equal(b.decisions, 3);
	assert_int_equal(b.retries, 0);
	assert_int_equal(b.placed, 2);
	assert_int_equal(b.pending, 1);
	/* x ends: 1 core is free, less than big needs: skipped without an attempt */
	finish_ok(s, "x");
	assert_true(fog_sched__retry_due(s));
	assert_int_equal(fog_sched__retry(s, 64), 0);
	assert_false(fog_sched__retry_due(s));
	fog_sched__stats(s, &b);
	assert_int_equal(b.retries, 0);
	assert_int_equal(b.decisions, 3);
	/* small ends: now big fits, and its placement is a decision */
	finish_ok(s, "small");
	assert_int_equal(fog_sched__retry(s, 64), 1);
	assert_int_equal(state_of(s, "big"), FOG_TASK_PLACED);
	fog_sched__stats(s, &b);
	assert_int_equal(b.decisions, 4);
	assert_int_equal(b.retries, 0);
	assert_reconciles(s);
	fog_sched__free(s);
}

/*
 * A waiting task that passes the free-room check but still fits nowhere
 * (CPU free on one worker, memory on another) is a retry, not a decision.
 */
static void test_retry_counts(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	struct fog_task_spec cpu = task("cpu-hog", 1, 95), mem = task("mem-hog", 0.5, 10);
	struct fog_task_spec t = task("t", 1, 50), u = task("u", 0.25, 1);
	struct fog_sched_stats a, b;

	/* w keeps 1 core and 5 MiB free, v 0.5 core and 990 MiB: t (1 core, 50 MiB) fits neither */
	add_worker(s, "w", 2, 100, 0, 1, "on=w");
	add_worker(s, "v", 1, 1000, 0, 1, "on=v");
	snprintf(cpu.affinity[0], sizeof(cpu.affinity[0]), "on=w");
	cpu.n_affinity = 1;
	snprintf(mem.affinity[0], sizeof(mem.affinity[0]), "on=v");
	mem.n_affinity = 1;
	submit_ok(s, &cpu);
	submit_ok(s, &mem);
	assert_int_equal(fog_sched__schedule(s, 0), 2);
	submit_ok(s, &t);
	assert_int_equal(fog_sched__place(s, "t"), 0);	/* its first miss: a decision */
	fog_sched__stats(s, &a);
	/* u ends on some worker: room changed, t is tried again and misses */
	submit_ok(s, &u);
	assert_int_equal(fog_sched__place(s, "u"), 1);
	assert_int_equal(fog_sched__task_started(s, "u"), 0);
	assert_int_equal(fog_sched__task_finished(s, "u", FOG_TASK_SUCCEEDED, 0, false, 0, 0), 0);
	assert_int_equal(fog_sched__retry(s, 64), 0);
	fog_sched__stats(s, &b);
	assert_int_equal(b.retries, a.retries + 1);
	assert_int_equal(b.decisions, a.decisions + 1);	/* u's placement only */
	assert_int_equal(state_of(s, "t"), FOG_TASK_PENDING);
	assert_reconciles(s);
	fog_sched__free(s);
}

/* FIFO: a new task does not overtake waiting ones, even when it would fit. */
static void test_place_fifo_waits_in_line(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec a = task("a", 1, 10), b = task("b", 2, 10), c = task("c", 1, 10);

	add_worker(s, "w", 2, 100, 0, 1, NULL);
	submit_ok(s, &a);
	assert_int_equal(fog_sched__place(s, "a"), 1);
	submit_ok(s, &b);
	assert_int_equal(fog_sched__place(s, "b"), 0);
	submit_ok(s, &c);
	assert_int_equal(fog_sched__place(s, "c"), 0);	/* would fit: but b is first */
	finish_ok(s, "a");
	assert_int_equal(fog_sched__retry(s, 64), 1);	/* b; then c blocks behind it */
	assert_int_equal(state_of(s, "b"), FOG_TASK_PLACED);
	assert_int_equal(state_of(s, "c"), FOG_TASK_PENDING);
	fog_sched__free(s);
}

/*
 * A retry pass makes at most budget attempts, in queue order, and resumes
 * where it stopped; tasks larger than any worker's free room cost no attempt.
 */
static void test_retry_budget(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_PRIORITY);
	struct fog_task_spec fill = task("fill", 4, 10), t;
	struct fog_sched_stats ss;
	char id[16];

	add_worker(s, "w", 4, 100, 0, 1, NULL);
	add_worker(s, "v", 1, 100, 0, 1, NULL);
	submit_ok(s, &fill);
	assert_int_equal(fog_sched__place(s, "fill"), 1);
	/* 6 waiting tasks of 2 cores (they fit only w), then 3 of 1 core */
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		t = task(id, i < 6 ? 2 : 1, 10);
		t.priority = i < 6 ? FOG_PRIO_HIGH : FOG_PRIO_LOW;
		submit_ok(s, &t);
	}
	/* v holds a 1-core task placed by the first LOW one; make room on v only */
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_int_equal(state_of(s, "t6"), FOG_TASK_PLACED);
	assert_int_equal(fog_sched__cancel(s, "t6"), 0);
	fog_sched__stats(s, &ss);
	__u64 r0 = ss.retries;
	/* free room is 1 core on v: the 2-core tasks are skipped without an attempt */
	assert_int_equal(fog_sched__retry(s, 1), 1);
	assert_int_equal(state_of(s, "t7"), FOG_TASK_PLACED);
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.retries, r0);
	/* nothing is free: t8 misses once, within a budget of one */
	assert_int_equal(fog_sched__cancel(s, "t7"), 0);
	assert_int_equal(fog_sched__task_started(s, "fill"), 0);
	assert_int_equal(fog_sched__retry(s, 1), 1);	/* t8 takes v */
	assert_int_equal(state_of(s, "t8"), FOG_TASK_PLACED);
	/* fill ends: 4 cores on w; budget 1 places one HIGH task per pass, in order */
	assert_int_equal(fog_sched__task_finished(s, "fill", FOG_TASK_SUCCEEDED, 0, false, 0, 0),
			 0);
	assert_int_equal(fog_sched__retry(s, 1), 1);
	assert_int_equal(state_of(s, "t0"), FOG_TASK_PLACED);
	assert_true(fog_sched__retry_due(s));
	assert_int_equal(fog_sched__retry(s, 1), 1);
	assert_int_equal(state_of(s, "t1"), FOG_TASK_PLACED);
	/* w is full now: no worker has 2 free cores, so no attempt is made */
	assert_int_equal(fog_sched__retry(s, 1), 0);
	assert_false(fog_sched__retry_due(s));
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.retries, r0);
	assert_int_equal(state_of(s, "t2"), FOG_TASK_PENDING);
	assert_reconciles(s);
	fog_sched__free(s);
}

/*
 * A full table evicts the task that ended first, never a live one; every kept
 * id stays findable through thousands of insertions and deletions.
 */
static void test_eviction_and_index(void **st)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_FIFO, .clock = fake_clock,
				    .max_tasks = 64 };
	struct fog_sched *s = fog_sched__new(&o);
	struct fog_sched_stats ss;
	struct fog_task_info ti;
	struct fog_task_spec t;
	char id[32], err[256];
	unsigned int kept = 0;

	assert_non_null(s);
	add_worker(s, "w", 1000, 100000, 0, 1, NULL);
	/* 20 live tasks that stay, then 5,000 that are cancelled at once */
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "live-%d", i);
		t = task(id, 1, 1);
		submit_ok(s, &t);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "gone-%d", i);
		t = task(id, 0.01, 1);
		submit_ok(s, &t);
		assert_int_equal(fog_sched__cancel(s, id), 0);
	}
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.submitted, 5020);
	assert_int_equal(ss.evicted, 5020 - 64);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "live-%d", i);
		assert_int_equal(fog_sched__task(s, id, &ti), 0);
	}
	/* the 44 most recently ended are kept, every older one is gone */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "gone-%d", i);
		if (!fog_sched__task(s, id, &ti)) {
			assert_true(i >= 5000 - 44);
			kept++;
		}
	}
	assert_int_equal(kept, 44);
	/* only live tasks left: the table refuses instead of dropping one */
	for (int i = 0; i < 44; i++) {
		snprintf(id, sizeof(id), "more-%d", i);
		t = task(id, 1, 1);
		submit_ok(s, &t);
	}
	t = task("one-too-many", 1, 1);
	assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "full"));
	assert_reconciles(s);
	fog_sched__free(s);
}

/*
 * Run limits: a task's own timeout_ms, else the claim's default, time it out
 * when no end is reported; a report with the runner's wall time is what the
 * task's run time and the learner see.
 */
static void test_timeouts_and_reports(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec a = task("a", 1, 10), b = task("b", 1, 10), c = task("c", 1, 10);
	struct fog_task_result r = { .state = FOG_TASK_FAILED, .exit_status = 3 << 8,
				     .cpu_ms = 40, .peak_mem_mb = 7, .wall_ms = 250 };
	struct fog_task_info ti;
	struct fog_sched_stats ss;

	add_worker(s, "w", 4, 100, 0, 1, NULL);
	a.timeout_ms = 1000;
	submit_ok(s, &a);
	submit_ok(s, &b);
	submit_ok(s, &c);
	assert_int_equal(fog_sched__schedule(s, 0), 3);
	assert_int_equal(fog_sched__task_claimed(s, "a", 5 * SEC), 0);	/* its own 1 s wins */
	assert_int_equal(fog_sched__task_claimed(s, "b", 2 * SEC), 0);
	assert_int_equal(fog_sched__task_claimed(s, "b", 2 * SEC), -EINVAL);	/* running */
	assert_int_equal(fog_sched__task_claimed(s, "c", 0), 0);	/* no limit at all */
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.running, 3);
	fake_now += 999 * MS;
	assert_int_equal(fog_sched__expire(s), 0);
	fake_now += 2 * MS;
	assert_int_equal(fog_sched__expire(s), 1);
	assert_int_equal(fog_sched__task(s, "a", &ti), 0);
	assert_int_equal(ti.state, FOG_TASK_TIMED_OUT);
	assert_non_null(strstr(ti.reason, "timeout of 1.000 s"));
	/* b reports before its 2 s are up: the runner's 250 ms is its run time */
	fake_now += 500 * MS;
	assert_int_equal(fog_sched__task_report(s, "b", &r), 0);
	assert_int_equal(fog_sched__task(s, "b", &ti), 0);
	assert_int_equal(ti.state, FOG_TASK_FAILED);
	assert_int_equal(ti.end_ns - ti.start_ns, 250 * MS);
	assert_int_equal(ti.exit_status, 3 << 8);
	assert_true(ti.cpu_ms == 40 && ti.peak_mem_mb == 7);
	assert_int_equal(fog_sched__task_report(s, "b", &r), -EALREADY);
	fake_now += 100 * SEC;
	assert_int_equal(fog_sched__expire(s), 0);	/* c has no limit */
	assert_int_equal(state_of(s, "c"), FOG_TASK_RUNNING);
	r.wall_ms = -1;
	assert_int_equal(fog_sched__task_report(s, "c", &r), -EINVAL);
	fog_sched__stats(s, &ss);
	assert_int_equal(ss.timed_out, 1);
	assert_int_equal(ss.failed, 1);
	assert_int_equal(ss.running, 1);
	assert_int_equal(ss.ml_observations, 1);
	assert_reconciles(s);
	fog_sched__free(s);
}

static int n_seen;

/* for_each_worker_task callback: every task must be on the worker ctx names. */
static void count_on(struct fog_sched *x, const struct fog_task_info *ti, void *ctx)
{
	assert_string_equal(ti->worker, (const char *)ctx);
	n_seen++;
}

/* Workers' task lists: per-worker iteration, and removal requeues placed tasks only. */
static void test_worker_tasks(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_FIFO);
	struct fog_task_spec t;
	char id[16];

	add_worker(s, "w1", 2, 100, 0, 1, NULL);
	add_worker(s, "w2", 2, 100, 0, 1, NULL);
	add_worker(s, "w3", 2, 100, 0, 1, NULL);
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		t = task(id, 1, 10);
		submit_ok(s, &t);
	}
	assert_int_equal(fog_sched__schedule(s, 0), 6);
	for (int w = 1; w <= 3; w++) {
		snprintf(id, sizeof(id), "w%d", w);
		n_seen = 0;
		assert_int_equal(fog_sched__for_each_worker_task(s, id, count_on, id), 0);
		assert_int_equal(n_seen, 2);
	}
	assert_int_equal(fog_sched__for_each_worker_task(s, "nope", count_on, NULL), -ENOENT);
	/* removing w1 moves w3 into its slot: w3's tasks must follow it */
	assert_int_equal(fog_sched__worker_remove(s, "w1"), 0);
	assert_int_equal(state_of(s, "t0"), FOG_TASK_PENDING);	/* placed on w1: back in line */
	n_seen = 0;
	assert_int_equal(fog_sched__for_each_worker_task(s, "w3", count_on, "w3"), 0);
	assert_int_equal(n_seen, 2);
	assert_int_equal(fog_sched__worker_remove(s, "w3"), 0);
	assert_int_equal(fog_sched__worker_remove(s, "w2"), 0);
	assert_reconciles(s);
	fog_sched__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_priority_starvation_free),
		cmocka_unit_test(test_sla_edf),
		cmocka_unit_test(test_sla_admission),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_affinity),
		cmocka_unit_test(test_reject_impossible),
		cmocka_unit_test(test_load_balance_and_signals),
		cmocka_unit_test(test_unseen_estimates),
		cmocka_unit_test(test_cancel_and_remove),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_place_new_and_retry),
		cmocka_unit_test(test_retry_counts),
		cmocka_unit_test(test_place_fifo_waits_in_line),
		cmocka_unit_test(test_retry_budget),
		cmocka_unit_test(test_eviction_and_index),
		cmocka_unit_test(test_timeouts_and_reports),
		cmocka_unit_test(test_worker_tasks),
	};

	return cmocka_run_group_tests_name("sched_engine", tests, NULL, NULL);
}
