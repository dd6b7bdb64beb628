// SPDX-License-Identifier: GPL-2.0-only
/*
 * sched/api_json.c: the placement API's request bodies as the routes read
 * them. Each accepted body's reading is stated by the test; each refusal
 * must name the field that is wrong.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched/api_json.h"

#define NOW 100000000000000ull	/* 100000 s on the engine's clock */

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fail_msg("test body is not JSON: %s: %s", text, je.text);
	return j;
}

static int task(const char *text, struct fog_task_spec *t, char *err, size_t len)
{
	json_t *j = parse(text);
	int rc = fog_sched_json_task(j, NOW, t, err, len);

	json_decref(j);
	return rc;
}

/* text is refused and the message holds want */
static void task_refused(const char *text, const char *want)
{
	struct fog_task_spec t;
	char err[256] = "";

	if (task(text, &t, err, sizeof(err)) != -EINVAL || !strstr(err, want))
		fail_msg("%s: '%s' does not name '%s'", text, err, want);
}

static void test_task_full(void **state)
{
	struct fog_task_spec t;
	char err[256];

	assert_int_equal(task("{\"id\":\"job-1:a.b_c\",\"priority\":\"HIGH\","
			      "\"strategy\":\"Cost\",\"cpu_cores\":1.5,\"memory_mb\":2048,"
			      "\"gpu_count\":2,\"type\":\"gpu\","
			      "\"deadline_s\":2.5,\"sla_ms\":9000,\"budget_per_hour\":0.75,"
			      "\"est_runtime_ms\":1200,\"affinity\":[\"zone=a\",\"ssd\"],"
			      "\"anti_affinity\":[\"spot\"],\"class\":\"train\","
			      "\"command\":\"sleep 1\",\"timeout_ms\":60000}",
			      &t, err, sizeof(err)),
			 0);
	assert_string_equal(t.id, "job-1:a.b_c");
	assert_int_equal(t.priority, FOG_PRIO_HIGH);
	assert_int_equal(t.strategy, FOG_STRAT_COST);
	assert_true(t.cpu_cores == 1.5);
	assert_int_equal(t.memory_mb, 2048);
	assert_int_equal(t.gpu_count, 2);
	assert_int_equal(t.type, FOG_TYPE_GPU);
	assert_true(t.deadline_ns == NOW + 2500000000ull);
	assert_int_equal(t.sla_ms, 9000);
	assert_true(t.budget_per_hour == 0.75);
	assert_true(t.est_runtime_ms == 1200);
	assert_int_equal(t.n_affinity, 2);
	assert_string_equal(t.affinity[0], "zone=a");
	assert_string_equal(t.affinity[1], "ssd");
	assert_int_equal(t.n_anti, 1);
	assert_string_equal(t.anti_affinity[0], "spot");
	assert_string_equal(t.task_class, "train");
	assert_string_equal(t.command, "sleep 1");
	assert_int_equal(t.timeout_ms, 60000);
}

static void test_task_defaults(void **state)
{
	struct fog_task_spec t;
	char err[256];

	assert_int_equal(task("{\"id\":\"a\"}", &t, err, sizeof(err)), 0);
	assert_int_equal(t.priority, FOG_PRIO_MEDIUM);
	assert_int_equal(t.strategy, FOG_STRAT_DEFAULT);
	assert_int_equal(t.type, FOG_TYPE_ANY);
	assert_true(t.deadline_ns == 0 && t.cpu_cores == 0 && t.memory_mb == 0);
	assert_true(!t.command[0] && !t.task_class[0] && !t.n_affinity && !t.n_anti);
}

static void test_task_refusals_named(void **state)
{
	task_refused("{\"id\":\"a\",\"memroy_mb\":1}", "unknown field 'memroy_mb'");
	task_refused("{\"id\":\"a\",\"cpu_cores\":-1}", "field 'cpu_cores' must be in");
	task_refused("{\"id\":\"a\",\"memory_mb\":-5}", "field 'memory_mb'");
	task_refused("{\"id\":\"a\",\"memory_mb\":1.5}", "field 'memory_mb' must be an integer");
	task_refused("{\"cpu_cores\":1}", "field 'id' is required");
	task_refused("{\"id\":\"a/b\"}", "field 'id' must be 1..63 of letters");
	task_refused("{\"id\":\"..\"}", "field 'id'");
	task_refused("{\"id\":\"a\",\"priority\":\"urgent\"}",
		     "field 'priority' must be low, medium, high or critical (got 'urgent')");
	task_refused("{\"id\":\"a\",\"strategy\":\"random\"}",
		     "field 'strategy' must be fifo, priority, sla, cost, affinity or ml_adaptive");
	task_refused("{\"id\":\"a\",\"type\":\"GPU\"}", "field 'type' must be any, cpu or gpu");
	task_refused("{\"id\":\"a\",\"deadline_s\":0}", "field 'deadline_s'");
	task_refused("{\"id\":\"a\",\"affinity\":[\"\"]}", "field 'affinity[0]' must not be empty");
	task_refused("{\"id\":\"a\",\"anti_affinity\":[1,2,3,4,5,6,7,8,9]}",
		     "field 'anti_affinity' must be an array of at most 8 strings");
	task_refused("{\"id\":\"a\",\"gpu_count\":1025}", "field 'gpu_count' must be in 0..1024");
	task_refused("{\"id\":\"a\",\"timeout_ms\":31536000001}", "field 'timeout_ms'");
	task_refused("[1]", "the body must be a JSON object");
}

static int worker(const char *text, struct fog_worker_spec *w, struct fog_worker_signals *sig,
		  bool *has_sig, char *err, size_t len)
{
	json_t *j = parse(text);
	int rc = fog_sched_json_worker(j, NOW, w, sig, has_sig, err, len);

	json_decref(j);
	return rc;
}

static void worker_refused(const char *text, const char *want)
{
	struct fog_worker_spec w;
	struct fog_worker_signals sig;
	char err[256] = "";
	bool has;

	if (worker(text, &w, &sig, &has, err, sizeof(err)) != -EINVAL || !strstr(err, want))
		fail_msg("%s: '%s' does not name '%s'", text, err, want);
}

static void test_worker_with_signals(void **state)
{
	struct fog_worker_spec w;
	struct fog_worker_signals sig;
	char err[256];
	bool has = false;

	assert_int_equal(worker("{\"id\":\"edge-1\",\"cpu_cores\":4,\"memory_mb\":8192,"
				"\"gpu_count\":1,\"cost_per_hour\":0.5,\"labels\":[\"zone=a\"],"
				"\"signals\":{\"cpu_util\":0.5,\"runq_p99_us\":null,\"mem_psi\":3,"
				"\"load\":1.25,\"age_s\":2}}",
				&w, &sig, &has, err, sizeof(err)),
			 0);
	assert_string_equal(w.id, "edge-1");
	assert_true(w.cpu_cores == 4 && w.memory_mb == 8192 && w.gpu_count == 1);
	assert_true(w.cost_per_hour == 0.5);
	assert_int_equal(w.n_labels, 1);
	assert_string_equal(w.labels[0], "zone=a");
	assert_true(has);
	/* null is "not measured": no bit; io_p99_us absent: no bit */
	assert_int_equal(sig.have, FOG_SIG_CPU_UTIL | FOG_SIG_MEM_PSI | FOG_SIG_LOAD);
	assert_true(sig.cpu_util == 0.5 && sig.mem_psi == 3 && sig.load == 1.25);
	assert_true(sig.at_ns == NOW - 2000000000ull);
	/* no signals: has_sig false; signals with only an age: no figure, that old */
	assert_int_equal(worker("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1}", &w, &sig, &has,
				err, sizeof(err)), 0);
	assert_false(has);
	assert_int_equal(worker("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,"
				"\"signals\":{\"age_s\":86400}}", &w, &sig, &has, err, sizeof(err)),
			 0);
	assert_true(has && sig.have == 0 && sig.at_ns == NOW - 86400000000000ull);
}

static void test_worker_refusals_named(void **state)
{
	worker_refused("{\"cpu_cores\":1,\"memory_mb\":1}", "field 'id' is required");
	worker_refused("{\"id\":\"w\",\"memory_mb\":1}", "field 'cpu_cores' is required");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1}", "field 'memory_mb' is required");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":0}", "field 'memory_mb'");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":0,\"memory_mb\":1}", "field 'cpu_cores'");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,\"signals\":[]}",
		       "field 'signals' must be an object");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,\"signals\":{\"cpu\":1}}",
		       "unknown field 'signals.cpu'");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,"
		       "\"signals\":{\"mem_psi\":101}}", "field 'signals.mem_psi' must be in");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,"
		       "\"signals\":{\"age_s\":null}}", "field 'signals.age_s' must be a number");
	worker_refused("{\"id\":\"w\",\"cpu_cores\":1,\"memory_mb\":1,\"labels\":[\"\"]}",
		       "field 'labels[0]' must not be empty");
}

static int result(const char *text, struct fog_task_result *r, char *worker, char *err)
{
	json_t *j = parse(text);
	int rc = fog_sched_json_result(j, r, worker, err, 256);

	json_decref(j);
	return rc;
}

static void result_refused(const char *text, const char *want)
{
	struct fog_task_result r;
	char err[256] = "", w[FOG_SCHED_ID_LEN];

	if (result(text, &r, w, err) != -EINVAL || !strstr(err, want))
		fail_msg("%s: '%s' does not name '%s'", text, err, want);
}

static void test_results(void **state)
{
	struct fog_task_result r;
	char err[256], w[FOG_SCHED_ID_LEN];

	assert_int_equal(result("{\"state\":\"failed\",\"exit_code\":3,\"wall_s\":1.5,"
				"\"cpu_s\":0.25,\"peak_memory_mb\":12,\"oom_killed\":true,"
				"\"worker\":\"edge-1\"}",
				&r, w, err), 0);
	assert_int_equal(r.state, FOG_TASK_FAILED);
	assert_int_equal(r.exit_status, 3 << 8);
	assert_true(r.wall_ms == 1500 && r.cpu_ms == 250 && r.peak_mem_mb == 12 && r.oom_killed);
	assert_string_equal(w, "edge-1");
	assert_int_equal(result("{\"state\":\"failed\",\"signal\":9}", &r, w, err), 0);
	assert_int_equal(r.exit_status, 9);
	assert_string_equal(w, "");
	assert_int_equal(result("{\"state\":\"failed\"}", &r, w, err), 0);
	assert_int_equal(r.exit_status, -1);
	assert_int_equal(result("{\"state\":\"succeeded\"}", &r, w, err), 0);
	assert_int_equal(r.exit_status, 0);
	assert_int_equal(result("{\"state\":\"running\",\"worker\":\"e\"}", &r, w, err), 0);
	assert_int_equal(r.state, FOG_TASK_RUNNING);
	assert_int_equal(r.exit_status, -1);
	result_refused("{\"state\":\"done\"}",
		       "field 'state' must be running, succeeded or failed (got 'done')");
	result_refused("{\"state\":\"pending\"}",
		       "field 'state' must be running, succeeded or failed");
	result_refused("{\"exit_code\":0}", "field 'state' is required");
	result_refused("{\"state\":\"succeeded\",\"exit_code\":2}",
		       "a succeeded task has exit_code 0");
	result_refused("{\"state\":\"failed\",\"exit_code\":1,\"signal\":9}",
		       "fields 'exit_code' and 'signal' exclude each other");
	result_refused("{\"state\":\"running\",\"cpu_s\":1}",
		       "a running report carries no outcome");
	result_refused("{\"state\":\"failed\",\"signal\":0}", "field 'signal' must be in 1..64");
	result_refused("{\"state\":\"failed\",\"exit_code\":256}",
		       "field 'exit_code' must be in 0..255");
	result_refused("{\"state\":\"failed\",\"oom_killed\":1}",
		       "field 'oom_killed' must be true or false");
	result_refused("{\"state\":\"failed\",\"worker\":\"a b\"}", "field 'worker'");
	result_refused("{\"state\":\"failed\",\"exitcode\":1}", "unknown field 'exitcode'");
}

static void test_claim_and_ids(void **state)
{
	char err[256], many[8200];
	unsigned int max = 100;
	const json_t *ids;
	json_t *j;
	size_t n;

	j = parse("{}");
	assert_int_equal(fog_sched_json_claim(j, &max, err, sizeof(err)), 0);
	assert_int_equal(max, 100);
	json_decref(j);
	j = parse("{\"max\":5}");
	assert_int_equal(fog_sched_json_claim(j, &max, err, sizeof(err)), 0);
	assert_int_equal(max, 5);
	json_decref(j);
	j = parse("{\"max\":0}");
	assert_int_equal(fog_sched_json_claim(j, &max, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "field 'max' must be in 1..1000"));
	assert_int_equal(max, 5);
	json_decref(j);
	j = parse("{\"most\":5}");
	assert_int_equal(fog_sched_json_claim(j, &max, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown field 'most'");
	json_decref(j);

	j = parse("{\"ids\":[\"a\",\"b-2\"]}");
	assert_int_equal(fog_sched_json_ids(j, &ids, err, sizeof(err)), 0);
	assert_ptr_equal(ids, json_object_get(j, "ids"));
	assert_int_equal(json_array_size(ids), 2);
	json_decref(j);
	j = parse("{\"ids\":[\"a\",7]}");
	assert_int_equal(fog_sched_json_ids(j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "field 'ids[1]' is not a task id");
	assert_null(ids);
	json_decref(j);
	j = parse("{}");
	assert_int_equal(fog_sched_json_ids(j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "field 'ids' is required");
	json_decref(j);
	j = parse("{\"ids\":[],\"all\":true}");
	assert_int_equal(fog_sched_json_ids(j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown field 'all'");
	json_decref(j);
	n = (size_t)snprintf(many, sizeof(many), "{\"ids\":[");
	for (int i = 0; i <= FOG_SCHED_BATCH_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s\"t%d\"", i ? "," : "", i);
	snprintf(many + n, sizeof(many) - n, "]}");
	j = parse(many);
	assert_int_equal(fog_sched_json_ids(j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "field 'ids': at most 1000 ids (got 1001)");
	json_decref(j);
}

static void test_state_names(void **state)
{
	char names[160];

	for (int i = 0; i < FOG_TASK_STATE_COUNT; i++)
		assert_int_equal(fog_sched_json_state(fog_task_state_name(i)), i);
	assert_int_equal(fog_sched_json_state("Running"), -EINVAL);
	assert_int_equal(fog_sched_json_state(""), -EINVAL);
	fog_sched_json_state_names(names, sizeof(names));
	assert_string_equal(names,
			    "pending, placed, running, succeeded, failed, timed_out or cancelled");
}

/* The explanation names the interfering pair (AFFINITY: no model decision) or says null. */
static void test_explain_interference(void **state)
{
	struct fog_task_info t = { .state = FOG_TASK_PLACED, .strategy = FOG_STRAT_AFFINITY,
				   .place_ns = 5 };
	json_t *j, *p;

	snprintf(t.spec.id, sizeof(t.spec.id), "x");
	snprintf(t.worker, sizeof(t.worker), "far");
	j = fog_sched_explain_json(&t, 10);
	assert_true(json_is_null(json_object_get(j, "interference")));
	json_decref(j);
	t.explain.interference = true;
	snprintf(t.explain.avoided, sizeof(t.explain.avoided), "near");
	snprintf(t.explain.victim_class, sizeof(t.explain.victim_class), "tick");
	snprintf(t.explain.culprit_class, sizeof(t.explain.culprit_class), "burn");
	t.explain.intf_wait_s = 1.5;
	t.explain.intf_cost = 0.25;
	j = fog_sched_explain_json(&t, 10);
	p = json_object_get(j, "interference");
	assert_true(json_is_object(p));
	assert_string_equal(json_string_value(json_object_get(p, "victim_class")), "tick");
	assert_string_equal(json_string_value(json_object_get(p, "culprit_class")), "burn");
	assert_string_equal(json_string_value(json_object_get(p, "avoided_worker")), "near");
	assert_true(json_real_value(json_object_get(p, "wait_seconds")) == 1.5);
	assert_true(json_is_null(json_object_get(p, "slowdown")));
	assert_true(json_is_false(json_object_get(p, "placed_beside")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_full),
		cmocka_unit_test(test_task_defaults),
		cmocka_unit_test(test_task_refusals_named),
		cmocka_unit_test(test_worker_with_signals),
		cmocka_unit_test(test_worker_refusals_named),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_claim_and_ids),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_explain_interference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
