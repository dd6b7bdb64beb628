// SPDX-License-Identifier: GPL-2.0-only
/*
 * Noisy neighbours in the placement engine: the interference table of task
 * classes (bounded, eviction of the class used longest ago, decay with the
 * half-life, hostile input refused) and the decisions that read it (AFFINITY
 * keeps a class from a worker running its culprit unless nothing else fits;
 * ML_ADAPTIVE's prediction pays for the co-runner), with the explanation
 * naming the pair. Time is a fake clock the test advances.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fog/sched.h"
#include "sched/sched_int.h"

#define MS 1000000ull
#define SEC 1000000000ull

static __u64 fake_now = 1 * SEC;

static __u64 fake_clock(void *ctx)
{
	return fake_now;
}

static struct fog_sched *engine(enum fog_sched_strategy strat, double threshold)
{
	struct fog_sched_opts o = {
		.strategy = strat,
		.clock = fake_clock,
		.interference_threshold = threshold,
		.interference_half_life_s = 60,
		.ucb_alpha = 1e-9,	/* ML: the greedy choice, no exploration */
	};
	struct fog_sched *s;

	fake_now = 1 * SEC;
	s = fog_sched__new(&o);
	assert_non_null(s);
	return s;
}

static void add_worker(struct fog_sched *s, const char *id, double cores)
{
	struct fog_worker_spec w = { .cpu_cores = cores, .memory_mb = 4096 };
	char err[256] = "";

	snprintf(w.id, sizeof(w.id), "%s", id);
	assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
}

static struct fog_task_spec task(const char *id, const char *cls, double cores)
{
	struct fog_task_spec t = { .cpu_cores = cores, .memory_mb = 100,
				   .strategy = FOG_STRAT_DEFAULT, .priority = FOG_PRIO_MEDIUM,
				   .est_runtime_ms = 100 };

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.task_class, sizeof(t.task_class), "%s", cls);
	return t;
}

/* Submits and places one task; returns its worker's id (static buffer). */
static const char *place(struct fog_sched *s, const char *id, const char *cls, double cores,
			 struct fog_task_info *ti)
{
	struct fog_task_spec t = task(id, cls, cores);
	char err[256] = "";

	if (fog_sched__submit(s, &t, err, sizeof(err)))
		fail_msg("submit %s: %s", id, err);
	assert_int_equal(fog_sched__place(s, id), 1);
	assert_int_equal(fog_sched__task(s, id, ti), 0);
	return ti->worker;
}

static void run_for(struct fog_sched *s, const char *id, __u64 ns)
{
	assert_int_equal(fog_sched__task_started(s, id), 0);
	fake_now += ns;
	assert_int_equal(fog_sched__task_finished(s, id, FOG_TASK_SUCCEEDED, 0, false, 0, 0), 0);
}

/* ---- the table ---- */

static void test_table_cost_and_decay(void **st)
{
	struct fog_intf *f = fog_intf__new(0.1, 60);
	struct fog_sched_interference v;
	__u32 x = fog_intf_hash("x"), y = fog_intf_hash("y");
	__u64 t0 = 10 * SEC;

	assert_non_null(f);
	/* x waited 0.5 s of 2 s beside y: a share of 1/4, its run 4/3 as long */
	assert_int_equal(fog_intf__charge(f, "x", "y", 0.5, 2.0, t0), 0);
	assert_true(fabs(fog_intf__cost(f, x, y, t0, &v) - 1.0 / 3) < 1e-9);
	assert_string_equal(v.victim, "x");
	assert_string_equal(v.culprit, "y");
	assert_true(v.interferes);
	assert_true(fog_intf__involved(f, x, t0));
	assert_true(fog_intf__involved(f, y, t0));	/* either way */
	/* no data the other way round */
	assert_true(fog_intf__cost(f, y, x, t0, NULL) == 0);
	/* one half-life on: the figures halve, their ratio stays */
	fog_intf__cost(f, x, y, t0 + 60 * SEC, &v);
	assert_true(fabs(v.wait_s - 0.25) < 1e-9 && fabs(v.exposure_s - 1.0) < 1e-9);
	assert_true(fabs(v.cost - 1.0 / 3) < 1e-9);
	/* two: under a second side by side is too little to judge; it fades out */
	assert_true(fog_intf__cost(f, x, y, t0 + 120 * SEC, &v) == 0);
	assert_false(v.interferes);
	assert_false(fog_intf__involved(f, x, t0 + 120 * SEC));
	/* a harmless neighbour: side by side without waits */
	assert_int_equal(fog_intf__charge(f, "x", "z", 0, 5.0, t0), 0);
	assert_true(fog_intf__cost(f, x, fog_intf_hash("z"), t0, &v) == 0);
	assert_false(v.interferes);
	fog_intf__free(f);
}

static void test_table_bounded(void **st)
{
	struct fog_intf *f = fog_intf__new(0.1, 60);
	struct fog_sched_interference v;
	char name[32];
	unsigned int n = 0;

	/* class c0 first, the others after: c0 was used longest ago */
	for (int i = 0; i < FOG_INTF_CLASSES; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(fog_intf__charge(f, name, name, 0.1, 1, (__u64)(i + 1) * SEC), 0);
	}
	assert_int_equal(fog_intf__classes(f), FOG_INTF_CLASSES);
	assert_int_equal(fog_intf__evicted(f), 0);
	/* c1 is used again: c0 is the one to go */
	assert_int_equal(fog_intf__charge(f, "c1", "c2", 0.5, 1, 40 * SEC), 0);
	assert_int_equal(fog_intf__charge(f, "new", "c1", 0.5, 1, 41 * SEC), 0);
	assert_int_equal(fog_intf__classes(f), FOG_INTF_CLASSES);
	assert_int_equal(fog_intf__evicted(f), 1);
	assert_true(fog_intf__cost(f, fog_intf_hash("c0"), fog_intf_hash("c0"), 41 * SEC, NULL) == 0);
	for (unsigned int i = 0; !fog_intf__at(f, i, 41 * SEC, &v); i++, n++)
		assert_string_not_equal(v.victim, "c0");
	/* 31 self pairs left, c1 beside c2, new beside c1 */
	assert_int_equal(n, FOG_INTF_CLASSES - 1 + 2);
	/* a thousand more classes: still bounded */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "more%d", i);
		assert_int_equal(fog_intf__charge(f, name, "c1", 0.1, 1, (__u64)(50 + i) * SEC), 0);
	}
	assert_int_equal(fog_intf__classes(f), FOG_INTF_CLASSES);
	n = 0;
	for (unsigned int i = 0; !fog_intf__at(f, i, 2000 * SEC, &v); i++)
		n++;
	assert_true(n <= FOG_INTF_CLASSES * FOG_INTF_CLASSES);
	/* the pair charged just now survives its own charge (its victim is not evicted) */
	assert_true(fog_intf__cost(f, fog_intf_hash("more999"), fog_intf_hash("c1"), 1049 * SEC,
				   NULL) > 0);
	fog_intf__free(f);
}

static void test_table_hostile(void **st)
{
	struct fog_intf *f = fog_intf__new(0.1, 60);
	char long_name[FOG_SCHED_LABEL_LEN + 8], max_name[FOG_SCHED_LABEL_LEN];
	struct fog_sched *s = engine(FOG_STRAT_AFFINITY, 0);
	struct fog_sched_interference v;

	memset(long_name, 'a', sizeof(long_name));	/* not terminated within the limit */
	long_name[sizeof(long_name) - 1] = '\0';
	memset(max_name, 'b', sizeof(max_name) - 1);
	max_name[sizeof(max_name) - 1] = '\0';
	assert_int_equal(fog_intf__charge(f, "x", "y", NAN, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "x", "y", 1, INFINITY, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "x", "y", -1, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "x", "y", 1, -1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "x", "y", 2e9, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "", "y", 1, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, "x", NULL, 1, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__charge(f, long_name, "y", 1, 1, SEC), -EINVAL);
	assert_int_equal(fog_intf__classes(f), 0);
	assert_int_equal(fog_intf__charge(f, max_name, "y", 1, 1, SEC), 0);
	/* more wait than time side by side (threads, or a lie): the share is capped */
	assert_int_equal(fog_intf__charge(f, "x", "y", 100, 1, SEC), 0);
	assert_true(fabs(fog_intf__cost(f, fog_intf_hash("x"), fog_intf_hash("y"), SEC, NULL) -
			 9.0) < 1e-9);
	/* completions that make no sense are dropped */
	fog_intf__observe(f, fog_intf_hash("x"), NULL, 0, NAN, SEC);
	fog_intf__observe(f, fog_intf_hash("x"), NULL, 0, -5, SEC);
	fog_intf__observe(f, fog_intf_hash("nobody"), NULL, 0, 5, SEC);
	fog_intf__cost(f, fog_intf_hash("x"), fog_intf_hash("y"), SEC, &v);
	assert_true(v.runs_without == 0);
	/* the engine's entry points */
	assert_int_equal(fog_sched__interference_charge(NULL, "x", "y", 1, 1), -EINVAL);
	assert_int_equal(fog_sched__interference_charge(s, "x", "y", NAN, 1), -EINVAL);
	assert_int_equal(fog_sched__interference_at(s, 0, &v), -ENOENT);
	assert_int_equal(fog_sched__interference_at(s, 0, NULL), -EINVAL);
	assert_null(fog_intf__new(NAN, 60));
	assert_null(fog_intf__new(0.1, 0));
	fog_sched__free(s);
	fog_intf__free(f);
}

/* Completions: beside the culprit against alone, when the signal has not seen the pair. */
static void test_table_completions(void **st)
{
	struct fog_intf *f = fog_intf__new(0.1, 600);
	struct fog_sched_interference v;
	__u32 x = fog_intf__touch(f, "x", SEC), y = fog_intf__touch(f, "y", SEC);

	for (int i = 0; i < 3; i++) {
		fog_intf__observe(f, x, NULL, 0, 100, SEC);
		fog_intf__observe(f, x, &y, 1, 200, SEC);
	}
	assert_true(fabs(fog_intf__cost(f, x, y, SEC, &v) - 1.0) < 1e-9);
	assert_true(fabs(v.slowdown - 2.0) < 1e-9);
	assert_true(v.interferes);
	/* the signal, where it saw them side by side, names the culprit better */
	assert_int_equal(fog_intf__charge(f, "x", "y", 0, 10, SEC), 0);
	assert_true(fog_intf__cost(f, x, y, SEC, &v) == 0);
	assert_true(fabs(v.slowdown - 2.0) < 1e-9);
	fog_intf__free(f);
}

/* ---- decisions ---- */

/*
 * Two workers of 4 cores, a filler without a class (3 cores) on "near": the
 * least loaded is "far" until something is placed there.
 */
static struct fog_sched *cluster(enum fog_sched_strategy strat, double threshold)
{
	struct fog_sched *s = engine(strat, threshold);
	struct fog_task_info ti;

	add_worker(s, "near", 4);
	add_worker(s, "far", 4);
	assert_string_equal(place(s, "filler", "", 3, &ti), "near");
	return s;
}

static void test_affinity_keeps_apart(void **st)
{
	struct fog_sched *s = cluster(FOG_STRAT_AFFINITY, 0.1);
	struct fog_task_info ti;

	/* filler on near (3 of 4): the burner goes to far (1 of 4 then) */
	assert_string_equal(place(s, "burn1", "burner", 1, &ti), "far");
	/* with nothing known, a task goes where load is least: far, beside the burner */
	assert_string_equal(place(s, "z1", "quiet", 0.5, &ti), "far");
	assert_false(ti.explain.interference);
	/* the signal: class victim waited 1 s of 4 s beside the burner */
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 1.0, 4.0), 0);
	assert_string_equal(place(s, "x1", "victim", 0.5, &ti), "near");
	assert_true(ti.explain.interference);
	assert_false(ti.explain.beside);
	assert_string_equal(ti.explain.avoided, "far");
	assert_string_equal(ti.explain.victim_class, "victim");
	assert_string_equal(ti.explain.culprit_class, "burner");
	assert_true(fabs(ti.explain.intf_wait_s - 1.0) < 1e-9);
	assert_true(fabs(ti.explain.intf_cost - 1.0 / 3) < 1e-9);
	/* a class without a known culprit is not kept from anything */
	assert_string_equal(place(s, "z2", "quiet", 0.25, &ti), "far");
	assert_false(ti.explain.interference);
	/* nothing else fits: beside the culprit anyway, and said so */
	assert_string_equal(place(s, "x2", "victim", 1.5, &ti), "far");
	assert_true(ti.explain.interference);
	assert_true(ti.explain.beside);
	assert_string_equal(ti.explain.avoided, "");
	fog_sched__free(s);
}

/* The other way round: a culprit is not placed beside a running victim either. */
static void test_affinity_culprit_kept_away(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_AFFINITY, 0.1);
	struct fog_task_info ti;

	add_worker(s, "p", 4);
	add_worker(s, "q", 4);
	assert_string_equal(place(s, "v", "victim", 0.5, &ti), "p");
	assert_string_equal(place(s, "filler", "", 2, &ti), "q");
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 1.0, 2.0), 0);
	assert_string_equal(place(s, "burn", "burner", 1, &ti), "q");
	assert_true(ti.explain.interference);
	assert_string_equal(ti.explain.avoided, "p");
	assert_string_equal(ti.explain.victim_class, "victim");
	assert_string_equal(ti.explain.culprit_class, "burner");
	fog_sched__free(s);
}

static void test_affinity_threshold(void **st)
{
	struct fog_sched *s = cluster(FOG_STRAT_AFFINITY, 0.5);
	struct fog_sched *off = cluster(FOG_STRAT_AFFINITY, -1);
	struct fog_task_info ti;

	/* a cost of 1/3 is under a threshold of 0.5: no keeping apart */
	assert_string_equal(place(s, "burn", "burner", 1, &ti), "far");
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 1.0, 4.0), 0);
	assert_string_equal(place(s, "x", "victim", 0.5, &ti), "far");
	assert_false(ti.explain.interference);
	/* above it */
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 4.0, 4.0), 0);
	assert_string_equal(place(s, "x2", "victim", 0.5, &ti), "near");
	assert_true(ti.explain.interference);
	/* turned off */
	assert_string_equal(place(off, "burn", "burner", 1, &ti), "far");
	assert_int_equal(fog_sched__interference_charge(off, "victim", "burner", 4.0, 4.0), 0);
	assert_string_equal(place(off, "x", "victim", 0.5, &ti), "far");
	assert_false(ti.explain.interference);
	fog_sched__free(s);
	fog_sched__free(off);
}

/* Learnt from completions alone (no signal): beside the burner twice as slow. */
static void test_affinity_from_completions(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_AFFINITY, 0.1);
	struct fog_task_info ti;
	char id[32];

	add_worker(s, "a", 4);
	add_worker(s, "b", 4);
	assert_string_equal(place(s, "filler", "", 2, &ti), "a");	/* a: 2 of 4 */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "alone%d", i);
		assert_string_equal(place(s, id, "victim", 0.5, &ti), "b");
		run_for(s, id, 100 * MS);
	}
	assert_string_equal(place(s, "burn", "burner", 1, &ti), "b");	/* b: 1 of 4 */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "beside%d", i);
		assert_string_equal(place(s, id, "victim", 0.5, &ti), "b");
		assert_false(ti.explain.interference);
		run_for(s, id, 200 * MS);
	}
	/* now a, more loaded, is the one without the burner */
	assert_string_equal(place(s, "x", "victim", 0.5, &ti), "a");
	assert_true(ti.explain.interference);
	assert_string_equal(ti.explain.avoided, "b");
	assert_true(fabs(ti.explain.intf_slowdown - 2.0) < 0.01);
	assert_true(ti.explain.intf_wait_s == 0);
	fog_sched__free(s);
}

static void train(struct fog_sched *s, const char *w, const char *pfx, __u64 ms, int n)
{
	struct fog_task_info ti;
	char id[32];

	for (int i = 0; i < n; i++) {
		struct fog_task_spec t;
		char err[128];

		snprintf(id, sizeof(id), "%s%d", pfx, i);
		t = task(id, "", 1);
		snprintf(t.affinity[0], sizeof(t.affinity[0]), "name=%s", w);
		t.n_affinity = 1;
		assert_int_equal(fog_sched__submit(s, &t, err, sizeof(err)), 0);
		assert_int_equal(fog_sched__place(s, id), 1);
		assert_int_equal(fog_sched__task(s, id, &ti), 0);
		assert_string_equal(ti.worker, w);
		run_for(s, id, ms * MS);
	}
}

static void add_named(struct fog_sched *s, const char *id)
{
	struct fog_worker_spec w = { .cpu_cores = 4, .memory_mb = 4096, .n_labels = 1 };
	char err[128];

	snprintf(w.id, sizeof(w.id), "%s", id);
	snprintf(w.labels[0], sizeof(w.labels[0]), "name=%s", id);
	assert_int_equal(fog_sched__worker_add(s, &w, err, sizeof(err)), 0);
}

static void test_ml_pays_for_the_neighbour(void **st)
{
	struct fog_sched *s = engine(FOG_STRAT_ML_ADAPTIVE, 0.1);
	struct fog_task_info ti;
	struct fog_task_spec b = task("burn", "burner", 1);
	char err[128];

	add_named(s, "fast");
	add_named(s, "slow");
	train(s, "fast", "f", 50, 12);
	train(s, "slow", "s", 100, 12);
	/* the burner on fast */
	snprintf(b.affinity[0], sizeof(b.affinity[0]), "name=fast");
	b.n_affinity = 1;
	assert_int_equal(fog_sched__submit(s, &b, err, sizeof(err)), 0);
	assert_int_equal(fog_sched__place(s, "burn"), 1);
	/* nothing known: fast, twice as fast, wins */
	assert_string_equal(place(s, "z", "quiet", 1, &ti), "fast");
	assert_false(ti.explain.interference);
	run_for(s, "z", 50 * MS);
	/* a cost of 1/3 (x 4/3) is not worth twice the run time: still fast, said so */
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 1.0, 4.0), 0);
	assert_string_equal(place(s, "x1", "victim", 1, &ti), "fast");
	assert_true(ti.explain.interference);
	assert_true(ti.explain.beside);
	run_for(s, "x1", 67 * MS);
	/* a cost of 9 (x 10) is: slow, and the explanation names the pair */
	assert_int_equal(fog_sched__interference_charge(s, "victim", "burner", 100, 4.0), 0);
	assert_string_equal(place(s, "x2", "victim", 1, &ti), "slow");
	assert_true(ti.explain.valid);
	assert_true(ti.explain.interference);
	assert_false(ti.explain.beside);
	assert_string_equal(ti.explain.avoided, "fast");
	assert_string_equal(ti.explain.victim_class, "victim");
	assert_string_equal(ti.explain.culprit_class, "burner");
	/* once the burner is gone, fast again */
	run_for(s, "x2", 100 * MS);
	run_for(s, "burn", 1 * MS);
	assert_string_equal(place(s, "x3", "victim", 1, &ti), "fast");
	assert_false(ti.explain.interference);
	fog_sched__free(s);
}

/*
 * A small simulation with ground truth: four equal workers, each running one
 * task of the same shape, two of them burners and two quiet, the burners moving
 * to other workers every 12 victims (so reservations say nothing); a victim
 * runs 100 ms alone and 300 ms beside a burner. The table learns from
 * completions only (no neighbour signal). Returns how many of the victims
 * after the first phase were placed beside a burner.
 */
static int simulate(double threshold, int *total)
{
	struct fog_sched *s = engine(FOG_STRAT_ML_ADAPTIVE, threshold);
	struct fog_task_info ti;
	int beside = 0, n = 0, seq = 0;
	char id[32], wname[8];

	for (int w = 0; w < 4; w++) {
		snprintf(wname, sizeof(wname), "w%d", w);
		add_named(s, wname);
	}
	for (int phase = 0; phase < 8; phase++) {
		int b0 = (phase * 3) % 4, b1 = (phase * 3 + 1) % 4;	/* where the burners run */

		/* every worker runs one task of the same shape: only its class differs */
		for (int k = 0; k < 4; k++) {
			int w = (b0 + k) % 4;
			struct fog_task_spec b;
			char err[128];

			snprintf(id, sizeof(id), "burn%d-%d", phase, k);
			b = task(id, w == b0 || w == b1 ? "burner" : "quiet", 1);
			snprintf(b.affinity[0], sizeof(b.affinity[0]), "name=w%d", w);
			b.n_affinity = 1;
			assert_int_equal(fog_sched__submit(s, &b, err, sizeof(err)), 0);
			assert_int_equal(fog_sched__place(s, id), 1);
		}
		for (int v = 0; v < 12; v++) {
			int w;
			bool near;

			snprintf(id, sizeof(id), "v%d", seq++);
			place(s, id, "victim", 1, &ti);
			w = ti.worker[1] - '0';
			near = w == b0 || w == b1;
			if (phase > 0) {
				n++;
				beside += near;
			}
			run_for(s, id, (near ? 300 : 100) * MS);
		}
		for (int k = 0; k < 4; k++) {
			snprintf(id, sizeof(id), "burn%d-%d", phase, k);
			assert_int_equal(fog_sched__cancel(s, id), 0);
		}
	}
	fog_sched__free(s);
	*total = n;
	return beside;
}

static void test_ml_simulated_neighbours(void **st)
{
	int n_on, n_off, on = simulate(0.1, &n_on), off = simulate(-1, &n_off);

	print_message("victims beside a burner after the first phase: %d of %d with the table, "
		      "%d of %d without\n", on, n_on, off, n_off);
	assert_true(on * 10 <= n_on);	/* at most 10% */
	assert_true(on * 3 <= off);	/* and a third of what worker speeds alone give */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_cost_and_decay),
		cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_table_hostile),
		cmocka_unit_test(test_table_completions),
		cmocka_unit_test(test_affinity_keeps_apart),
		cmocka_unit_test(test_affinity_culprit_kept_away),
		cmocka_unit_test(test_affinity_threshold),
		cmocka_unit_test(test_affinity_from_completions),
		cmocka_unit_test(test_ml_pays_for_the_neighbour),
		cmocka_unit_test(test_ml_simulated_neighbours),
	};

	return cmocka_run_group_tests_name("sched_interference", tests, NULL, NULL);
}
