// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON in and out of the placement engine's API (see api_json.h). Bodies are
 * read field by field against a fixed list, so a misspelt field is an error
 * ("unknown field 'memroy_mb'") instead of a silently ignored default.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

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

static int get_str(const char *key, const json_t *v, char *out, size_t size, char *err,
		   size_t len)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v)) {
		set_err(err, len, "field '%s' must be a string", key);
		return -EINVAL;
	}
	if (strlen(s) >= size || strlen(s) != json_string_length(v)) {
		set_err(err, len, "field '%s' must be at most %zu characters without NUL", key,
			size - 1);
		return -EINVAL;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int get_num(const char *key, const json_t *v, double min, double max, double *out,
		   char *err, size_t len)
{
	double d = json_number_value(v);

	if (!json_is_number(v)) {
		set_err(err, len, "field '%s' must be a number", key);
		return -EINVAL;
	}
	if (!isfinite(d) || d < min || d > max) {
		set_err(err, len, "field '%s' must be in [%g, %g] (got %g)", key, min, max, d);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

static int get_uint(const char *key, const json_t *v, __u64 max, __u64 *out, char *err,
		    size_t len)
{
	json_int_t i = json_integer_value(v);

	if (!json_is_integer(v)) {
		set_err(err, len, "field '%s' must be an integer", key);
		return -EINVAL;
	}
	if (i < 0 || (__u64)i > max) {
		set_err(err, len, "field '%s' must be in 0..%llu (got %lld)", key,
			(unsigned long long)max, (long long)i);
		return -EINVAL;
	}
	*out = (__u64)i;
	return 0;
}

int fog_sched_json_uint(const char *key, const json_t *v, __u64 min, __u64 max, __u64 *out,
			char *err, size_t len)
{
	int rc = get_uint(key, v, max, out, err, len);

	if (!rc && *out < min) {
		set_err(err, len, "field '%s' must be in %llu..%llu (got %llu)", key,
			(unsigned long long)min, (unsigned long long)max,
			(unsigned long long)*out);
		rc = -EINVAL;
	}
	return rc;
}

static int get_labels(const char *key, const json_t *v, char out[][FOG_SCHED_LABEL_LEN],
		      unsigned int *n, char *err, size_t len)
{
	size_t i;
	json_t *e;
	char name[64];

	if (!json_is_array(v) || json_array_size(v) > FOG_SCHED_MAX_LABELS) {
		set_err(err, len, "field '%s' must be an array of at most %d strings", key,
			FOG_SCHED_MAX_LABELS);
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		snprintf(name, sizeof(name), "%s[%zu]", key, i);
		if (get_str(name, e, out[i], FOG_SCHED_LABEL_LEN, err, len))
			return -EINVAL;
		if (!out[i][0]) {
			set_err(err, len, "field '%s' must not be empty", name);
			return -EINVAL;
		}
	}
	*n = (unsigned int)json_array_size(v);
	return 0;
}

static int get_id(const char *key, const json_t *v, char *out, char *err, size_t len)
{
	if (get_str(key, v, out, FOG_SCHED_ID_LEN, err, len))
		return -EINVAL;
	if (!fog_sched_id_ok(out)) {
		set_err(err, len, "field '%s' must be 1..%d of letters, digits, '.', '_', '-', ':'",
			key, FOG_SCHED_ID_LEN - 1);
		return -EINVAL;
	}
	return 0;
}

int fog_sched_json_task(const json_t *j, __u64 now, struct fog_task_spec *t, char *err,
			size_t len)
{
	const char *key;
	json_t *v;
	char word[32];
	double d = 0;
	__u64 u = 0;
	int rc = 0, p = 0;

	memset(t, 0, sizeof(*t));
	t->priority = FOG_PRIO_MEDIUM;
	t->strategy = FOG_STRAT_DEFAULT;
	if (!json_is_object(j)) {
		set_err(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)j, key, v) {
		if (!strcmp(key, "id")) {
			rc = get_id(key, v, t->id, err, len);
		} else if (!strcmp(key, "priority")) {
			rc = get_str(key, v, word, sizeof(word), err, len);
			if (!rc && (p = fog_task_priority_parse(word)) < 0) {
				set_err(err, len, "field 'priority' must be low, medium, high or "
						  "critical (got '%s')", word);
				rc = -EINVAL;
			}
			if (!rc)
				t->priority = p;
		} else if (!strcmp(key, "strategy")) {
			rc = get_str(key, v, word, sizeof(word), err, len);
			if (!rc && (p = fog_sched_strategy_parse(word)) < 0) {
				set_err(err, len, "field 'strategy' must be fifo, priority, sla, cost, "
						  "affinity or ml_adaptive (got '%s')", word);
				rc = -EINVAL;
			}
			if (!rc)
				t->strategy = p;
		} else if (!strcmp(key, "cpu_cores")) {
			rc = get_num(key, v, 0, 1e6, &t->cpu_cores, err, len);
		} else if (!strcmp(key, "memory_mb")) {
			rc = get_uint(key, v, 1ull << 40, &t->memory_mb, err, len);
		} else if (!strcmp(key, "gpu_count")) {
			rc = get_uint(key, v, 1024, &u, err, len);
			t->gpu_count = (__u32)u;
		} else if (!strcmp(key, "type")) {
			rc = get_str(key, v, word, sizeof(word), err, len);
			if (!rc && !strcmp(word, "any"))
				t->type = FOG_TYPE_ANY;
			else if (!rc && !strcmp(word, "cpu"))
				t->type = FOG_TYPE_CPU;
			else if (!rc && !strcmp(word, "gpu"))
				t->type = FOG_TYPE_GPU;
			else if (!rc) {
				set_err(err, len, "field 'type' must be any, cpu or gpu (got '%s')",
					word);
				rc = -EINVAL;
			}
		} else if (!strcmp(key, "deadline_s")) {
			rc = get_num(key, v, 0.001, 365 * 86400.0, &d, err, len);
			t->deadline_ns = now + (__u64)(d * 1e9);
		} else if (!strcmp(key, "sla_ms")) {
			rc = get_uint(key, v, 365 * 86400000ull, &t->sla_ms, err, len);
		} else if (!strcmp(key, "budget_per_hour")) {
			rc = get_num(key, v, 0, 1e9, &t->budget_per_hour, err, len);
		} else if (!strcmp(key, "est_runtime_ms")) {
			rc = get_num(key, v, 0, 1e12, &t->est_runtime_ms, err, len);
		} else if (!strcmp(key, "affinity")) {
			rc = get_labels(key, v, t->affinity, &t->n_affinity, err, len);
		} else if (!strcmp(key, "anti_affinity")) {
			rc = get_labels(key, v, t->anti_affinity, &t->n_anti, err, len);
		} else if (!strcmp(key, "class")) {
			rc = get_str(key, v, t->task_class, sizeof(t->task_class), err, len);
		} else if (!strcmp(key, "command")) {
			rc = get_str(key, v, t->command, sizeof(t->command), err, len);
		} else if (!strcmp(key, "timeout_ms")) {
			rc = get_uint(key, v, 365 * 86400000ull, &t->timeout_ms, err, len);
		} else {
			set_err(err, len, "unknown field '%.64s'", key);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (!t->id[0]) {
		set_err(err, len, "field 'id' is required");
		return -EINVAL;
	}
	return 0;
}

int fog_sched_json_result(const json_t *j, struct fog_task_result *r, char *worker, char *err,
			  size_t len)
{
	const char *key;
	json_t *v;
	char word[16];
	__u64 code = 0, sig = 0;
	double d;
	bool has_state = false, has_code = false, has_sig = false;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->exit_status = -1;
	worker[0] = '\0';
	if (!json_is_object(j)) {
		set_err(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)j, key, v) {
		if (!strcmp(key, "state")) {
			rc = get_str(key, v, word, sizeof(word), err, len);
			if (!rc && !strcmp(word, "running"))
				r->state = FOG_TASK_RUNNING;
			else if (!rc && !strcmp(word, "succeeded"))
				r->state = FOG_TASK_SUCCEEDED;
			else if (!rc && !strcmp(word, "failed"))
				r->state = FOG_TASK_FAILED;
			else if (!rc) {
				set_err(err, len, "field 'state' must be running, succeeded or "
						  "failed (got '%s')", word);
				rc = -EINVAL;
			}
			has_state = true;
		} else if (!strcmp(key, "exit_code")) {
			rc = get_uint(key, v, 255, &code, err, len);
			has_code = true;
		} else if (!strcmp(key, "signal")) {
			rc = fog_sched_json_uint(key, v, 1, 64, &sig, err, len);
			has_sig = true;
		} else if (!strcmp(key, "wall_s")) {
			rc = get_num(key, v, 0, 365 * 86400.0, &d, err, len);
			r->wall_ms = d * 1e3;
		} else if (!strcmp(key, "cpu_s")) {
			rc = get_num(key, v, 0, 1e9, &d, err, len);
			r->cpu_ms = d * 1e3;
		} else if (!strcmp(key, "peak_memory_mb")) {
			rc = get_num(key, v, 0, 1e12, &r->peak_mem_mb, err, len);
		} else if (!strcmp(key, "oom_killed")) {
			if (!json_is_boolean(v)) {
				set_err(err, len, "field 'oom_killed' must be true or false");
				rc = -EINVAL;
			}
			r->oom_killed = json_is_true(v);
		} else if (!strcmp(key, "worker")) {
			rc = get_id(key, v, worker, err, len);
		} else {
			set_err(err, len, "unknown field '%.64s'", key);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (!has_state) {
		set_err(err, len, "field 'state' is required");
		return -EINVAL;
	}
	if (has_code && has_sig) {
		set_err(err, len, "fields 'exit_code' and 'signal' exclude each other");
		return -EINVAL;
	}
	if (r->state == FOG_TASK_RUNNING) {
		if (has_code || has_sig || r->wall_ms || r->cpu_ms || r->peak_mem_mb ||
		    r->oom_killed) {
			set_err(err, len, "a running report carries no outcome fields");
			return -EINVAL;
		}
		return 0;
	}
	if (r->state == FOG_TASK_SUCCEEDED && (has_sig || code || r->oom_killed)) {
		set_err(err, len, "a succeeded task has exit_code 0, no signal and no OOM kill");
		return -EINVAL;
	}
	if (has_sig)
		r->exit_status = (int)sig;	/* as waitpid reports a signal */
	else if (has_code || r->state == FOG_TASK_SUCCEEDED)
		r->exit_status = (int)code << 8;
	return 0;
}

static int json_signals(const json_t *j, __u64 now, struct fog_worker_signals *sig, char *err,
			size_t len)
{
	static const struct {
		const char *key;
		__u32 bit;
		size_t off;
		double max;
	} f[] = {
		{ "cpu_util", FOG_SIG_CPU_UTIL, offsetof(struct fog_worker_signals, cpu_util), 64 },
		{ "runq_p99_us", FOG_SIG_RUNQ_P99, offsetof(struct fog_worker_signals, runq_p99_us),
		  1e12 },
		{ "mem_psi", FOG_SIG_MEM_PSI, offsetof(struct fog_worker_signals, mem_psi), 100 },
		{ "io_p99_us", FOG_SIG_IO_P99, offsetof(struct fog_worker_signals, io_p99_us), 1e12 },
		{ "load", FOG_SIG_LOAD, offsetof(struct fog_worker_signals, load), 1e6 },
	};
	const char *key;
	json_t *v;
	char name[64];
	double age;

	memset(sig, 0, sizeof(*sig));
	if (!json_is_object(j)) {
		set_err(err, len, "field 'signals' must be an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)j, key, v) {
		size_t i;

		snprintf(name, sizeof(name), "signals.%.40s", key);
		if (!strcmp(key, "age_s")) {
			if (get_num(name, v, 0, 86400, &age, err, len))
				return -EINVAL;
			/* an age past the engine's clock start is simply very old */
			sig->at_ns = (__u64)(age * 1e9) < now ? now - (__u64)(age * 1e9) : 1;
			continue;
		}
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (!strcmp(key, f[i].key))
				break;
		if (i == sizeof(f) / sizeof(f[0])) {
			set_err(err, len, "unknown field '%s'", name);
			return -EINVAL;
		}
		if (json_is_null(v))	/* explicitly not measured */
			continue;
		if (get_num(name, v, 0, f[i].max, (double *)((char *)sig + f[i].off), err, len))
			return -EINVAL;
		sig->have |= f[i].bit;
	}
	return 0;
}

int fog_sched_json_worker(const json_t *j, __u64 now, struct fog_worker_spec *w,
			  struct fog_worker_signals *sig, bool *has_sig, char *err, size_t len)
{
	const char *key;
	json_t *v;
	__u64 u = 0;
	int rc = 0;
	bool cpu = false, mem = false;

	memset(w, 0, sizeof(*w));
	*has_sig = false;
	if (!json_is_object(j)) {
		set_err(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)j, key, v) {
		if (!strcmp(key, "id")) {
			rc = get_id(key, v, w->id, err, len);
		} else if (!strcmp(key, "cpu_cores")) {
			rc = get_num(key, v, 0.001, 1e6, &w->cpu_cores, err, len);
			cpu = true;
		} else if (!strcmp(key, "memory_mb")) {
			rc = get_uint(key, v, 1ull << 40, &w->memory_mb, err, len);
			if (!rc && !w->memory_mb) {
				set_err(err, len, "field 'memory_mb' must be at least 1");
				rc = -EINVAL;
			}
			mem = true;
		} else if (!strcmp(key, "gpu_count")) {
			rc = get_uint(key, v, 1024, &u, err, len);
			w->gpu_count = (__u32)u;
		} else if (!strcmp(key, "cost_per_hour")) {
			rc = get_num(key, v, 0, 1e9, &w->cost_per_hour, err, len);
		} else if (!strcmp(key, "labels")) {
			rc = get_labels(key, v, w->labels, &w->n_labels, err, len);
		} else if (!strcmp(key, "signals")) {
			rc = json_signals(v, now, sig, err, len);
			*has_sig = true;
		} else {
			set_err(err, len, "unknown field '%.64s'", key);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (!w->id[0] || !cpu || !mem) {
		set_err(err, len, "field '%s' is required", !w->id[0] ? "id" :
							      !cpu ? "cpu_cores" : "memory_mb");
		return -EINVAL;
	}
	return 0;
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

static const char *type_name(enum fog_worker_type t)
{
	return t == FOG_TYPE_CPU ? "cpu" : t == FOG_TYPE_GPU ? "gpu" : "any";
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
