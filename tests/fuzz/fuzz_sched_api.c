// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement engine's request bodies (user/sched/api_json.c, read against
 * the field tables of user/base/body.c) and what the engine does with what
 * they accept: task submissions (one object, or an array as a batch), worker
 * registrations with signals, remote runners' status reports and claims, and
 * bulk cancels.
 *
 * Input: a selector byte (task, worker, report, claim, cancel), then JSON text.
 * Properties: a refused body leaves a message naming what is wrong; an accepted
 * task, worker or report holds values in the documented ranges; the engine
 * answers every accepted body with 0 or a documented negative errno (with a
 * message for a refused task), placed tasks can be claimed and reported, and
 * its counts reconcile afterwards (submitted == pending + placed + running +
 * completed + failed + timed_out + cancelled).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "fog/sched.h"
#include "fuzz.h"
#include "sched/api_json.h"

static __u64 fake_now = 1000000000000ull;

static __u64 fake_clock(void *ctx)
{
	return fake_now;
}

static struct fog_sched *engine(void)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_ML_ADAPTIVE, .clock = fake_clock,
				    .max_tasks = 64 };
	struct fog_worker_spec w = { .id = "w0", .cpu_cores = 8, .memory_mb = 16384,
				     .gpu_count = 2, .cost_per_hour = 1 };
	struct fog_sched *s = fog_sched__new(&o);
	char err[256];

	FUZZ_CHECK(s);
	FUZZ_CHECK(!fog_sched__worker_add(s, &w, err, sizeof(err)));
	return s;
}

static void check_reconciles(struct fog_sched *s)
{
	struct fog_sched_stats st;

	fog_sched__stats(s, &st);
	FUZZ_CHECK(st.active == st.placed + st.running);
	FUZZ_CHECK(st.submitted == st.pending + st.placed + st.running + st.completed + st.failed +
					   st.timed_out + st.cancelled);
}

static void check_task(const struct fog_task_spec *t)
{
	FUZZ_CHECK(fog_sched_id_ok(t->id));
	FUZZ_CHECK(isfinite(t->cpu_cores) && t->cpu_cores >= 0 && t->cpu_cores <= 1e6);
	FUZZ_CHECK(t->memory_mb <= (1ull << 40) && t->gpu_count <= 1024);
	FUZZ_CHECK((unsigned int)t->priority < FOG_PRIO_COUNT);
	FUZZ_CHECK(t->strategy >= FOG_STRAT_DEFAULT && t->strategy < FOG_STRAT_COUNT);
	FUZZ_CHECK(t->n_affinity <= FOG_SCHED_MAX_LABELS && t->n_anti <= FOG_SCHED_MAX_LABELS);
	FUZZ_CHECK(memchr(t->command, 0, sizeof(t->command)));
	FUZZ_CHECK(t->timeout_ms <= 365 * 86400000ull);
}

/* One task body: parsed, and when accepted submitted, placed, claimed and reported. */
static void one_task(struct fog_sched *s, const json_t *j, unsigned int k)
{
	struct fog_task_spec t;
	struct fog_task_result r = { .state = k % 2 ? FOG_TASK_SUCCEEDED : FOG_TASK_FAILED,
				     .exit_status = k % 2 ? 0 : 1 << 8, .wall_ms = k };
	char err[256] = "";
	int rc = fog_sched_json_task(j, fake_now, &t, err, sizeof(err));

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0]);
		return;
	}
	check_task(&t);
	err[0] = '\0';
	rc = fog_sched__submit(s, &t, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL || rc == -EEXIST || rc == -ENOSPC || rc == -ETIME ||
			   rc == -ENOMEM);
		FUZZ_CHECK(err[0]);
		return;
	}
	rc = fog_sched__place(s, t.id);
	FUZZ_CHECK(rc == 0 || rc == 1);
	if (rc == 1 && k % 3) {
		FUZZ_CHECK(!fog_sched__task_claimed(s, t.id, 1000000000ull));
		FUZZ_CHECK(!fog_sched__task_report(s, t.id, &r));
	} else if (k % 5 == 0) {
		FUZZ_CHECK(!fog_sched__cancel(s, t.id));
	}
	fake_now += 1000000;
}

static void tasks(const json_t *j)
{
	struct fog_sched *s = engine();
	size_t i;
	json_t *e;

	if (json_is_array(j)) {
		json_array_foreach(j, i, e)
			one_task(s, e, (unsigned int)i);
	} else {
		one_task(s, j, 1);
	}
	fake_now += 10000000000ull;
	fog_sched__expire(s);
	fog_sched__retry(s, 64);
	check_reconciles(s);
	fog_sched__free(s);
}

static void worker(const json_t *j)
{
	struct fog_sched *s = engine();
	struct fog_worker_spec w;
	struct fog_worker_signals sig;
	char err[256] = "";
	bool has_sig;
	int rc = fog_sched_json_worker(j, fake_now, &w, &sig, &has_sig, err, sizeof(err));

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0]);
		fog_sched__free(s);
		return;
	}
	FUZZ_CHECK(fog_sched_id_ok(w.id));
	FUZZ_CHECK(isfinite(w.cpu_cores) && w.cpu_cores > 0 && w.memory_mb >= 1);
	FUZZ_CHECK(w.n_labels <= FOG_SCHED_MAX_LABELS);
	rc = fog_sched__worker_add(s, &w, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EEXIST);
	if (rc == -EEXIST)
		rc = fog_sched__worker_update(s, &w, err, sizeof(err));
	FUZZ_CHECK(rc == 0);
	if (has_sig) {
		FUZZ_CHECK(sig.at_ns <= fake_now);
		rc = fog_sched__worker_signals(s, w.id, &sig);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	}
	FUZZ_CHECK(!fog_sched__worker_remove(s, w.id));
	check_reconciles(s);
	fog_sched__free(s);
}

static void report(const json_t *j)
{
	struct fog_sched *s = engine();
	struct fog_task_spec t = { .id = "t", .strategy = FOG_STRAT_DEFAULT, .cpu_cores = 1,
				   .memory_mb = 1 };
	struct fog_task_result r;
	char err[256] = "", worker[FOG_SCHED_ID_LEN];
	int rc = fog_sched_json_result(j, &r, worker, err, sizeof(err));

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0]);
		fog_sched__free(s);
		return;
	}
	FUZZ_CHECK(!worker[0] || fog_sched_id_ok(worker));
	FUZZ_CHECK(r.state == FOG_TASK_RUNNING || r.state == FOG_TASK_SUCCEEDED ||
		   r.state == FOG_TASK_FAILED);
	FUZZ_CHECK(isfinite(r.cpu_ms) && r.cpu_ms >= 0 && isfinite(r.wall_ms) && r.wall_ms >= 0);
	FUZZ_CHECK(isfinite(r.peak_mem_mb) && r.peak_mem_mb >= 0);
	if (r.state == FOG_TASK_RUNNING)
		FUZZ_CHECK(r.exit_status == -1 && !r.oom_killed && !r.cpu_ms && !r.wall_ms);
	if (r.state == FOG_TASK_SUCCEEDED)
		FUZZ_CHECK(r.exit_status == 0 && !r.oom_killed);
	FUZZ_CHECK(!fog_sched__submit(s, &t, err, sizeof(err)));
	FUZZ_CHECK(fog_sched__place(s, "t") == 1);
	FUZZ_CHECK(!fog_sched__task_claimed(s, "t", 0));
	fake_now += 5000000000ull;
	if (r.state != FOG_TASK_RUNNING) {
		struct fog_task_info ti;

		FUZZ_CHECK(!fog_sched__task_report(s, "t", &r));
		FUZZ_CHECK(!fog_sched__task(s, "t", &ti));
		FUZZ_CHECK(ti.state == r.state && ti.end_ns >= ti.start_ns);
		FUZZ_CHECK(ti.start_ns >= ti.place_ns);
		FUZZ_CHECK(fog_sched__task_report(s, "t", &r) == -EALREADY);
	}
	check_reconciles(s);
	fog_sched__free(s);
}

/* A claim body: the default stays when "max" is absent, else 1..FOG_SCHED_CLAIM_MAX. */
static void claim(const json_t *j)
{
	unsigned int max = 100;
	char err[256] = "";
	int rc = fog_sched_json_claim(j, &max, err, sizeof(err));
	json_t *v;

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0] && max == 100);
		return;
	}
	FUZZ_CHECK(json_is_object(j) && json_object_size(j) <= 1);
	FUZZ_CHECK(max >= 1 && max <= FOG_SCHED_CLAIM_MAX);
	v = json_object_get(j, "max");
	FUZZ_CHECK(v ? (json_int_t)max == json_integer_value(v) : max == 100);
}

/* A cancel body: every id accepted is a usable id, and cancelling them keeps the counts. */
static void cancel(const json_t *j)
{
	struct fog_sched *s;
	const json_t *ids;
	char err[256] = "";
	int rc = fog_sched_json_ids(j, &ids, err, sizeof(err));
	size_t i;
	json_t *e;

	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0] && !ids);
		return;
	}
	FUZZ_CHECK(json_is_array(ids) && json_array_size(ids) <= FOG_SCHED_BATCH_MAX);
	s = engine();
	json_array_foreach(ids, i, e) {
		struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT, .cpu_cores = 1,
					   .memory_mb = 1 };
		const char *id = json_string_value(e);

		FUZZ_CHECK(id && fog_sched_id_ok(id));
		if (i % 2) {	/* every other one exists, maybe already cancelled */
			snprintf(t.id, sizeof(t.id), "%s", id);
			rc = fog_sched__submit(s, &t, err, sizeof(err));
			FUZZ_CHECK(rc == 0 || rc == -EEXIST || rc == -ENOSPC);
		}
		rc = fog_sched__cancel(s, id);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EALREADY);
	}
	check_reconciles(s);
	fog_sched__free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;

	if (size < 1)
		return 0;
	j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	switch (data[0] % 5) {
	case 0:
		tasks(j);
		break;
	case 1:
		worker(j);
		break;
	case 2:
		report(j);
		break;
	case 3:
		claim(j);
		break;
	default:
		cancel(j);
		break;
	}
	json_decref(j);
	return 0;
}
