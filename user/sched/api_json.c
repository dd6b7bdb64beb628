// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON in and out of the placement engine's API (see api_json.h). Each body
 * is read against its table of fields (base/body.h), so a misspelt field is
 * an error ("unknown field 'memroy_mb'") instead of a silently ignored
 * default; the rules between fields follow the table.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "base/body.h"
#include "sched/api_json.h"

static void __attribute__((format(printf, 3, 4))) set_err(char *err, size_t len, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

bool fog_sched_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (!n || n >= FOG_SCHED_ID_LEN || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':'))
			return false;
	}
	return true;
}

/* ---- request bodies: one table of fields each ---- */

static_assert(sizeof(enum fog_task_priority) == sizeof(int), "ENUM fields store an int");
static_assert(sizeof(enum fog_worker_type) == sizeof(int), "ENUM fields store an int");
static_assert(sizeof(enum fog_task_state) == sizeof(int), "ENUM fields store an int");

static const char *priority_name(int v)
{
	return fog_task_priority_name((enum fog_task_priority)v);
}

static const char *state_name(int v)
{
	return fog_task_state_name((enum fog_task_state)v);
}

static const char *type_name(int t)
{
	return t == FOG_TYPE_CPU ? "cpu" : t == FOG_TYPE_GPU ? "gpu" : "any";
}

static int check_id(const char *s, char *why, size_t len)
{
	if (fog_sched_id_ok(s))
		return 0;
	snprintf(why, len, "must be 1..%d of letters, digits, '.', '_', '-', ':'",
		 FOG_SCHED_ID_LEN - 1);
	return -EINVAL;
}

#define YEAR_S (365 * 86400.0)
#define YEAR_MS (365 * 86400000.0)

/* "deadline_s" (seconds from now) into the task's deadline_ns; ctx: the engine's now. */
static int read_deadline(const struct fog_body_field *f, const json_t *v, void *dst,
			 const char *name, void *ctx, char *err, size_t len)
{
	static const struct fog_body_field secs = { .type = FOG_BODY_NUM, .min = 0.001,
						    .max = YEAR_S };
	double d;

	if (fog_body_read_value(&secs, v, &d, NULL, name, err, len))
		return -EINVAL;
	*(__u64 *)dst = *(const __u64 *)ctx + (__u64)(d * 1e9);
	return 0;
}

#define TASK struct fog_task_spec

static const struct fog_body_field task_fields[] = {
	FOG_BODY_F_STR("id", TASK, id, .required = true, .check = check_id),
	FOG_BODY_F_ENUM("priority", TASK, priority, priority_name, FOG_PRIO_LOW,
			FOG_PRIO_CRITICAL, .nocase = true),
	FOG_BODY_F_ENUM("strategy", TASK, strategy, fog_sched_strategy_name, 0,
			FOG_STRAT_COUNT - 1, .nocase = true),
	FOG_BODY_F_NUM("cpu_cores", TASK, cpu_cores, 0, 1e6),
	FOG_BODY_F_U64("memory_mb", TASK, memory_mb, 0, 1ull << 40),
	FOG_BODY_F_U32("gpu_count", TASK, gpu_count, 0, 1024),
	FOG_BODY_F_ENUM("type", TASK, type, type_name, FOG_TYPE_ANY, FOG_TYPE_GPU),
	FOG_BODY_F_JSON("deadline_s", TASK, deadline_ns, read_deadline),
	FOG_BODY_F_U64("sla_ms", TASK, sla_ms, 0, YEAR_MS),
	FOG_BODY_F_NUM("budget_per_hour", TASK, budget_per_hour, 0, 1e9),
	FOG_BODY_F_NUM("est_runtime_ms", TASK, est_runtime_ms, 0, 1e12),
	FOG_BODY_F_STRS("affinity", TASK, affinity, n_affinity, .nonempty = true),
	FOG_BODY_F_STRS("anti_affinity", TASK, anti_affinity, n_anti, .nonempty = true),
	FOG_BODY_F_STR("class", TASK, task_class),
	FOG_BODY_F_STR("command", TASK, command),
	FOG_BODY_F_U64("timeout_ms", TASK, timeout_ms, 0, YEAR_MS),
};

#undef TASK

static const struct fog_body_table task_table = FOG_BODY_TABLE(NULL, task_fields);

int fog_sched_json_task(const json_t *j, __u64 now, struct fog_task_spec *t, char *err,
			size_t len)
{
	memset(t, 0, sizeof(*t));
	t->priority = FOG_PRIO_MEDIUM;
	t->strategy = FOG_STRAT_DEFAULT;
	/* refused: t holds what was read before the bad field (a batch result names its id) */
	return fog_body_read(j, &task_table, t, &now, NULL, err, len);
}

/* A remote runner's report, before its outcome becomes a wait status. */
struct result_body {
	int state;
	__u64 exit_code, signal;
	double wall_s, cpu_s, peak_mem_mb;
	bool oom_killed;
	char worker[FOG_SCHED_ID_LEN];
};

enum { R_STATE, R_CODE, R_SIGNAL, R_WALL, R_CPU, R_PEAK, R_OOM, R_WORKER };

static const struct fog_body_field result_fields[] = {
	[R_STATE] = FOG_BODY_F_ENUM("state", struct result_body, state, state_name,
				    FOG_TASK_RUNNING, FOG_TASK_FAILED, .required = true),
	[R_CODE] = FOG_BODY_F_U64("exit_code", struct result_body, exit_code, 0, 255),
	[R_SIGNAL] = FOG_BODY_F_U64("signal", struct result_body, signal, 1, 64),
	[R_WALL] = FOG_BODY_F_NUM("wall_s", struct result_body, wall_s, 0, YEAR_S),
	[R_CPU] = FOG_BODY_F_NUM("cpu_s", struct result_body, cpu_s, 0, 1e9),
	[R_PEAK] = FOG_BODY_F_NUM("peak_memory_mb", struct result_body, peak_mem_mb, 0, 1e12),
	[R_OOM] = FOG_BODY_F_BOOL("oom_killed", struct result_body, oom_killed),
	[R_WORKER] = FOG_BODY_F_STR("worker", struct result_body, worker, .check = check_id),
};

static const struct fog_body_table result_table = FOG_BODY_TABLE(NULL, result_fields);

/* The rules between a report's fields: what each state may carry. */
static int result_rules(const struct result_body *b, __u64 seen, char *err, size_t len)
{
	bool code = seen & FOG_BODY_BIT(R_CODE), sig = seen & FOG_BODY_BIT(R_SIGNAL);

	if (code && sig) {
		set_err(err, len, "fields 'exit_code' and 'signal' exclude each other");
		return -EINVAL;
	}
	if (b->state == FOG_TASK_RUNNING &&
	    (code || sig || b->wall_s != 0 || b->cpu_s != 0 || b->peak_mem_mb != 0 ||
	     b->oom_killed)) {
		set_err(err, len, "a running report carries no outcome fields");
		return -EINVAL;
	}
	if (b->state == FOG_TASK_SUCCEEDED && (sig || b->exit_code || b->oom_killed)) {
		set_err(err, len, "a succeeded task has exit_code 0, no signal and no OOM kill");
		return -EINVAL;
	}
	return 0;
}

int fog_sched_json_result(const json_t *j, struct fog_task_result *r, char *worker, char *err,
			  size_t len)
{
	struct result_body b = { 0 };
	__u64 seen = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->exit_status = -1;
	worker[0] = '\0';
	rc = fog_body_read(j, &result_table, &b, NULL, &seen, err, len);
	if (!rc)
		rc = result_rules(&b, seen, err, len);
	if (rc)
		return rc;
	r->state = (enum fog_task_state)b.state;
	r->wall_ms = b.wall_s * 1e3;
	r->cpu_ms = b.cpu_s * 1e3;
	r->peak_mem_mb = b.peak_mem_mb;
	r->oom_killed = b.oom_killed;
	memcpy(worker, b.worker, sizeof(b.worker));
	if (r->state == FOG_TASK_RUNNING)
		return 0;
	if (seen & FOG_BODY_BIT(R_SIGNAL))
		r->exit_status = (int)b.signal;	/* as waitpid reports a signal */
	else if ((seen & FOG_BODY_BIT(R_CODE)) || r->state == FOG_TASK_SUCCEEDED)
		r->exit_status = (int)b.exit_code << 8;
	return 0;
}

/* A worker's live signals, and how old they are. */
struct signals_body {
	struct fog_worker_signals sig;
	double age_s;
};

enum { S_CPU, S_RUNQ, S_PSI, S_IO, S_LOAD, S_AGE };

static const struct fog_body_field signal_fields[] = {
	/* null: explicitly not measured */
	[S_CPU] = FOG_BODY_F_NUM("cpu_util", struct signals_body, sig.cpu_util, 0, 64,
				 .nullable = true),
	[S_RUNQ] = FOG_BODY_F_NUM("runq_p99_us", struct signals_body, sig.runq_p99_us, 0, 1e12,
				  .nullable = true),
	[S_PSI] = FOG_BODY_F_NUM("mem_psi", struct signals_body, sig.mem_psi, 0, 100,
				 .nullable = true),
	[S_IO] = FOG_BODY_F_NUM("io_p99_us", struct signals_body, sig.io_p99_us, 0, 1e12,
				.nullable = true),
	[S_LOAD] = FOG_BODY_F_NUM("load", struct signals_body, sig.load, 0, 1e6, .nullable = true),
	[S_AGE] = FOG_BODY_F_NUM("age_s", struct signals_body, age_s, 0, 86400),
};

static const __u32 signal_bits[] = {
	[S_CPU] = FOG_SIG_CPU_UTIL, [S_RUNQ] = FOG_SIG_RUNQ_P99, [S_PSI] = FOG_SIG_MEM_PSI,
	[S_IO] = FOG_SIG_IO_P99,    [S_LOAD] = FOG_SIG_LOAD,
};

static const struct fog_body_table signals_table = FOG_BODY_TABLE("signals", signal_fields);

/* The worker body's "signals" object into struct fog_worker_signals; ctx: the engine's now. */
static int read_signals(const struct fog_body_field *f, const json_t *v, void *dst,
			const char *name, void *ctx, char *err, size_t len)
{
	struct signals_body b = { 0 };
	__u64 now = *(const __u64 *)ctx, seen = 0, age_ns;
	int rc = fog_body_read(v, &signals_table, &b, NULL, &seen, err, len);

	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(signal_bits) / sizeof(signal_bits[0]); i++)
		if (seen & FOG_BODY_BIT(i))
			b.sig.have |= signal_bits[i];
	if (seen & FOG_BODY_BIT(S_AGE)) {
		/* an age past the engine's clock start is simply very old */
		age_ns = (__u64)(b.age_s * 1e9);
		b.sig.at_ns = age_ns < now ? now - age_ns : 1;
	}
	memcpy(dst, &b.sig, sizeof(b.sig));
	return 0;
}

struct worker_body {
	struct fog_worker_spec w;
	struct fog_worker_signals sig;
};

enum { W_ID, W_CPU, W_MEM, W_GPU, W_COST, W_LABELS, W_SIGNALS };

static const struct fog_body_field worker_fields[] = {
	[W_ID] = FOG_BODY_F_STR("id", struct worker_body, w.id, .required = true,
				.check = check_id),
	[W_CPU] = FOG_BODY_F_NUM("cpu_cores", struct worker_body, w.cpu_cores, 0.001, 1e6,
				 .required = true),
	[W_MEM] = FOG_BODY_F_U64("memory_mb", struct worker_body, w.memory_mb, 1, 1ull << 40,
				 .required = true),
	[W_GPU] = FOG_BODY_F_U32("gpu_count", struct worker_body, w.gpu_count, 0, 1024),
	[W_COST] = FOG_BODY_F_NUM("cost_per_hour", struct worker_body, w.cost_per_hour, 0, 1e9),
	[W_LABELS] = FOG_BODY_F_STRS("labels", struct worker_body, w.labels, w.n_labels,
				     .nonempty = true),
	[W_SIGNALS] = FOG_BODY_F_JSON("signals", struct worker_body, sig, read_signals),
};

static const struct fog_body_table worker_table = FOG_BODY_TABLE(NULL, worker_fields);

int fog_sched_json_worker(const json_t *j, __u64 now, struct fog_worker_spec *w,
			  struct fog_worker_signals *sig, bool *has_sig, char *err, size_t len)
{
	struct worker_body b = { 0 };
	__u64 seen = 0;
	int rc = fog_body_read(j, &worker_table, &b, &now, &seen, err, len);

	*w = b.w;
	*sig = b.sig;
	*has_sig = !rc && (seen & FOG_BODY_BIT(W_SIGNALS));
	return rc;
}

struct claim_body {
	__u64 max;
};

static const struct fog_body_field claim_fields[] = {
	FOG_BODY_F_U64("max", struct claim_body, max, 1, FOG_SCHED_CLAIM_MAX),
};

static const struct fog_body_table claim_table = FOG_BODY_TABLE(NULL, claim_fields);

int fog_sched_json_claim(const json_t *j, unsigned int *max, char *err, size_t len)
{
	struct claim_body b = { .max = *max };
	int rc = fog_body_read(j, &claim_table, &b, NULL, NULL, err, len);

	if (!rc)
		*max = (unsigned int)b.max;
	return rc;
}

/* "ids": up to FOG_SCHED_BATCH_MAX task ids, kept as the borrowed array. */
static int read_ids(const struct fog_body_field *f, const json_t *v, void *dst,
		    const char *name, void *ctx, char *err, size_t len)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v)) {
		set_err(err, len, "field '%s' must be an array of task ids", name);
		return -EINVAL;
	}
	if (json_array_size(v) > FOG_SCHED_BATCH_MAX) {
		set_err(err, len, "field '%s': at most %d ids (got %zu)", name, FOG_SCHED_BATCH_MAX,
			json_array_size(v));
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		if (!s || strlen(s) != json_string_length(e) || !fog_sched_id_ok(s)) {
			set_err(err, len, "field '%s[%zu]' is not a task id", name, i);
			return -EINVAL;
		}
	}
	*(const json_t **)dst = v;
	return 0;
}

struct ids_body {
	const json_t *ids;
};

static const struct fog_body_field ids_fields[] = {
	FOG_BODY_F_JSON("ids", struct ids_body, ids, read_ids, .required = true),
};

static const struct fog_body_table ids_table = FOG_BODY_TABLE(NULL, ids_fields);

int fog_sched_json_ids(const json_t *j, const json_t **ids, char *err, size_t len)
{
	struct ids_body b = { 0 };
	int rc = fog_body_read(j, &ids_table, &b, NULL, NULL, err, len);

	*ids = rc ? NULL : b.ids;
	return rc;
}

int fog_sched_json_state(const char *name)
{
	return fog_body_enum(state_name, 0, FOG_TASK_STATE_COUNT - 1, false, name);
}

void fog_sched_json_state_names(char *buf, size_t len)
{
	fog_body_enum_names(state_name, 0, FOG_TASK_STATE_COUNT - 1, buf, len);
}

/* ---- views ---- */

/* An engine timestamp (monotonic ns) as a Unix time in seconds; null when 0. */
static json_t *unix_time(__u64 t, __u64 now)
{
	struct timespec ts;

	if (!t)
		return json_null();
	clock_gettime(CLOCK_REALTIME, &ts);
	return json_real((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - (double)(now - t) / 1e9);
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *labels_json(const char l[][FOG_SCHED_LABEL_LEN], unsigned int n)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(a, json_string(l[i]));
	return a;
}

json_t *fog_sched_task_json(const struct fog_task_info *t, __u64 now)
{
	const struct fog_task_spec *s = &t->spec;
	json_t *j = json_object();
	__u64 end = t->end_ns ? t->end_ns : now;

	json_object_set_new(j, "id", json_string(s->id));
	json_object_set_new(j, "state", json_string(fog_task_state_name(t->state)));
	json_object_set_new(j, "priority", json_string(fog_task_priority_name(s->priority)));
	json_object_set_new(j, "strategy", json_string(fog_sched_strategy_name(t->strategy)));
	json_object_set_new(j, "worker", str_or_null(t->worker));
	json_object_set_new(j, "cpu_cores", json_real(s->cpu_cores));
	json_object_set_new(j, "memory_mb", json_integer((json_int_t)s->memory_mb));
	json_object_set_new(j, "gpu_count", json_integer(s->gpu_count));
	json_object_set_new(j, "type", json_string(type_name(s->type)));
	json_object_set_new(j, "class", json_string(s->task_class));
	json_object_set_new(j, "command", str_or_null(s->command));
	json_object_set_new(j, "timeout_ms",
			    s->timeout_ms ? json_integer((json_int_t)s->timeout_ms) : json_null());
	json_object_set_new(j, "affinity", labels_json(s->affinity, s->n_affinity));
	json_object_set_new(j, "anti_affinity", labels_json(s->anti_affinity, s->n_anti));
	json_object_set_new(j, "submitted_at", unix_time(t->submit_ns, now));
	json_object_set_new(j, "placed_at", unix_time(t->place_ns, now));
	json_object_set_new(j, "started_at", unix_time(t->start_ns, now));
	json_object_set_new(j, "ended_at", unix_time(t->end_ns, now));
	json_object_set_new(j, "wait_s", t->place_ns ? json_real((double)(t->place_ns -
									  t->submit_ns) / 1e9) :
						       json_real((double)(end - t->submit_ns) / 1e9));
	json_object_set_new(j, "run_s", t->start_ns ? json_real((double)(end - t->start_ns) / 1e9) :
						      json_null());
	json_object_set_new(j, "deadline_in_s",
			    t->eff_deadline_ns ? json_real(((double)t->eff_deadline_ns -
							    (double)now) / 1e9) : json_null());
	json_object_set_new(j, "at_risk", json_boolean(t->at_risk));
	json_object_set_new(j, "sla_violated", json_boolean(t->sla_violated));
	if (t->exit_status >= 0 && WIFEXITED(t->exit_status))
		json_object_set_new(j, "exit_code", json_integer(WEXITSTATUS(t->exit_status)));
	else
		json_object_set_new(j, "exit_code", json_null());
	if (t->exit_status >= 0 && WIFSIGNALED(t->exit_status))
		json_object_set_new(j, "signal", json_integer(WTERMSIG(t->exit_status)));
	else
		json_object_set_new(j, "signal", json_null());
	json_object_set_new(j, "oom_killed", json_boolean(t->oom_killed));
	json_object_set_new(j, "cpu_s", json_real(t->cpu_ms / 1e3));
	json_object_set_new(j, "peak_memory_mb", json_real(t->peak_mem_mb));
	json_object_set_new(j, "reason", str_or_null(t->reason));
	return j;
}

json_t *fog_sched_interference_json(const struct fog_sched_interference *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "victim_class", json_string(p->victim));
	json_object_set_new(j, "culprit_class", json_string(p->culprit));
	json_object_set_new(j, "wait_seconds", json_real(p->wait_s));
	json_object_set_new(j, "beside_seconds", json_real(p->exposure_s));
	json_object_set_new(j, "slowdown", p->slowdown > 0 ? json_real(p->slowdown) : json_null());
	json_object_set_new(j, "runs_beside", json_real(p->runs_beside));
	json_object_set_new(j, "runs_without", json_real(p->runs_without));
	json_object_set_new(j, "cost", json_real(p->cost));
	json_object_set_new(j, "interferes", json_boolean(p->interferes));
	return j;
}

/* The pair of task classes that kept the task from a worker, or null. */
static json_t *explain_intf_json(const struct fog_sched_explain *e)
{
	json_t *j;

	if (!e->interference)
		return json_null();
	j = json_object();
	json_object_set_new(j, "victim_class", json_string(e->victim_class));
	json_object_set_new(j, "culprit_class", json_string(e->culprit_class));
	json_object_set_new(j, "wait_seconds", json_real(e->intf_wait_s));
	json_object_set_new(j, "cost", json_real(e->intf_cost));
	json_object_set_new(j, "slowdown", e->intf_slowdown > 0 ? json_real(e->intf_slowdown) :
								  json_null());
	json_object_set_new(j, "avoided_worker", str_or_null(e->avoided));
	json_object_set_new(j, "placed_beside", json_boolean(e->beside));
	return j;
}

json_t *fog_sched_explain_json(const struct fog_task_info *t, __u64 now)
{
	const struct fog_sched_explain *e = &t->explain;
	json_t *j = json_object(), *d;

	json_object_set_new(j, "task", json_string(t->spec.id));
	json_object_set_new(j, "state", json_string(fog_task_state_name(t->state)));
	json_object_set_new(j, "strategy", json_string(fog_sched_strategy_name(t->strategy)));
	json_object_set_new(j, "worker", str_or_null(t->worker));
	if (!t->place_ns) {
		json_object_set_new(j, "decision", json_null());
		json_object_set_new(j, "reason", json_string(t->reason[0] ? t->reason :
						   "not placed yet"));
		return j;
	}
	if (!e->valid) {
		/* score-based strategies keep no model: say what their score was */
		static const char *const why[FOG_STRAT_COUNT] = {
			[FOG_STRAT_FIFO] = "first in line; the least loaded worker with room",
			[FOG_STRAT_PRIORITY] = "highest aged priority; the least loaded worker "
					       "with room",
			[FOG_STRAT_SLA] = "earliest deadline; the worker with the earliest "
					  "expected completion",
			[FOG_STRAT_COST] = "the cheapest worker with room within the budget",
			[FOG_STRAT_AFFINITY] = "the least loaded worker of the required type and "
					       "labels",
			[FOG_STRAT_ML_ADAPTIVE] = "no model decision recorded",
		};
		int st = t->strategy >= 0 && t->strategy < FOG_STRAT_COUNT ? t->strategy :
									     FOG_STRAT_ML_ADAPTIVE;

		json_object_set_new(j, "decision", json_null());
		json_object_set_new(j, "reason", json_string(why[st]));
		json_object_set_new(j, "interference", explain_intf_json(e));
		return j;
	}
	d = json_object();
	json_object_set_new(d, "worker", json_string(e->worker));
	json_object_set_new(d, "predicted_ms", json_real(e->predicted_ms));
	json_object_set_new(d, "uncertainty_ms", json_real(e->uncertainty_ms));
	json_object_set_new(d, "success_probability", json_real(e->success_prob));
	json_object_set_new(d, "explored", json_boolean(e->explored));
	json_object_set_new(d, "runner_up", str_or_null(e->runner_up));
	json_object_set_new(d, "runner_up_ms", e->runner_up[0] ? json_real(e->runner_up_ms) :
								 json_null());
	json_object_set_new(d, "candidates", json_integer(e->candidates));
	json_object_set_new(j, "decision", d);
	json_object_set_new(j, "reason", json_string(e->reason));
	json_object_set_new(j, "interference", explain_intf_json(e));
	if (t->start_ns && t->end_ns && t->state == FOG_TASK_SUCCEEDED)
		json_object_set_new(j, "actual_ms",
				    json_real((double)(t->end_ns - t->start_ns) / 1e6));
	return j;
}

json_t *fog_sched_worker_json(const struct fog_worker_info *w)
{
	const struct fog_worker_signals *g = &w->sig;
	json_t *j = json_object(), *sig = json_object(), *a = json_object();

	json_object_set_new(j, "id", json_string(w->spec.id));
	json_object_set_new(j, "cpu_cores", json_real(w->spec.cpu_cores));
	json_object_set_new(j, "memory_mb", json_integer((json_int_t)w->spec.memory_mb));
	json_object_set_new(j, "gpu_count", json_integer(w->spec.gpu_count));
	json_object_set_new(j, "cost_per_hour", json_real(w->spec.cost_per_hour));
	json_object_set_new(j, "labels", labels_json(w->spec.labels, w->spec.n_labels));
	json_object_set_new(a, "cpu_cores", json_real(w->alloc_cpu));
	json_object_set_new(a, "memory_mb", json_integer((json_int_t)w->alloc_mem_mb));
	json_object_set_new(a, "gpu_count", json_integer(w->alloc_gpu));
	json_object_set_new(j, "allocated", a);
	json_object_set_new(j, "tasks", json_integer(w->tasks));
	json_object_set_new(j, "unseen_estimates", json_integer(w->unseen));
	json_object_set_new(j, "completed", json_integer((json_int_t)w->completed));
	json_object_set_new(j, "failed", json_integer((json_int_t)w->failed));
	/* "no data" is a state of its own, never a zero */
	json_object_set_new(sig, "state", json_string(!g->have ? "no data" :
						       w->signals_fresh ? "fresh" : "expired"));
	json_object_set_new(sig, "age_s", g->have ? json_real((double)w->signal_age_ns / 1e9) :
						    json_null());
#define SIG(bit, name, val) \
	json_object_set_new(sig, name, (g->have & (bit)) ? json_real(val) : json_null())
	SIG(FOG_SIG_CPU_UTIL, "cpu_util", g->cpu_util);
	SIG(FOG_SIG_RUNQ_P99, "runq_p99_us", g->runq_p99_us);
	SIG(FOG_SIG_MEM_PSI, "mem_psi", g->mem_psi);
	SIG(FOG_SIG_IO_P99, "io_p99_us", g->io_p99_us);
	SIG(FOG_SIG_LOAD, "load", g->load);
#undef SIG
	json_object_set_new(j, "signals", sig);
	return j;
}

json_t *fog_sched_stats_json(const struct fog_sched_stats *st, int strategy)
{
	json_t *j = json_object(), *h = json_array(), *ml = json_object();
	char le[32];

	json_object_set_new(j, "strategy", json_string(fog_sched_strategy_name(strategy)));
#define U(name) json_object_set_new(j, #name, json_integer((json_int_t)st->name))
	U(submitted);
	U(rejected);
	U(pending);
	U(active);
	U(completed);
	U(failed);
	U(timed_out);
	U(cancelled);
	U(sla_violations);
	U(decisions);
	U(placed);
	U(running);
	U(retries);
	U(evicted);
#undef U
	json_object_set_new(j, "throughput_per_s", json_real(st->throughput_per_s));
	for (int i = 0; i < FOG_SCHED_LAT_BUCKETS; i++) {
		if (!st->lat_hist[i])
			continue;
		snprintf(le, sizeof(le), "%llu", 2ull << i);
		json_array_append_new(h, json_pack("{s:s,s:I}", "le_ns", le, "count",
						   (json_int_t)st->lat_hist[i]));
	}
	json_object_set_new(j, "decision_latency",
			    json_pack("{s:f,s:f,s:o}", "p50_ns", st->lat_p50_ns, "p99_ns",
				      st->lat_p99_ns, "buckets", h));
	json_object_set_new(ml, "observations", json_integer((json_int_t)st->ml_observations));
	json_object_set_new(ml, "changes", json_integer((json_int_t)st->ml_changes));
	json_object_set_new(ml, "explorations", json_integer((json_int_t)st->explorations));
	json_object_set_new(ml, "mean_abs_rel_error",
			    st->ml_observations ? json_real(st->ml_mean_abs_err) : json_null());
	json_object_set_new(j, "ml", ml);
	return j;
}
