/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON of the placement engine's API: request bodies validated against tables
 * of fields (an unknown field, a wrong type or a value out of range is an
 * error naming the field), and the views of tasks, workers, explanations
 * and statistics. Times in the views are seconds: ages relative to now and Unix times.
 */
#ifndef FOG_SCHED_API_JSON_H
#define FOG_SCHED_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

#include "fog/sched.h"

/* Whether id is usable in a URL path: 1..63 of [A-Za-z0-9._:-], not "." or "..". */
bool fog_sched_id_ok(const char *id);

/*
 * Fills t from a submit body; now is the engine's clock (for deadline_s).
 * -EINVAL with err naming the field on bad input.
 */
int fog_sched_json_task(const json_t *j, __u64 now, struct fog_task_spec *t, char *err,
			size_t len);
/*
 * Fills w (and sig when the body has "signals"; *has_sig says so) from a
 * worker body; now is the engine's clock (for signals.age_s).
 */
int fog_sched_json_worker(const json_t *j, __u64 now, struct fog_worker_spec *w,
			  struct fog_worker_signals *sig, bool *has_sig, char *err, size_t len);

/*
 * A remote runner's status report: {"state": "running"|"succeeded"|"failed",
 * "exit_code", "signal", "wall_s", "cpu_s", "peak_memory_mb", "oom_killed",
 * "worker"}; r->state is RUNNING for "running". worker gets the optional
 * "worker" field ("" when absent), FOG_SCHED_ID_LEN bytes.
 */
int fog_sched_json_result(const json_t *j, struct fog_task_result *r, char *worker, char *err,
			  size_t len);

#define FOG_SCHED_CLAIM_MAX 1000	/* tasks handed to a remote runner per claim */
#define FOG_SCHED_BATCH_MAX 1000	/* tasks or ids in one batch body */

/* A claim body {"max": N}, N in 1..FOG_SCHED_CLAIM_MAX; *max keeps its value when absent. */
int fog_sched_json_claim(const json_t *j, unsigned int *max, char *err, size_t len);
/*
 * A cancel body {"ids": [up to FOG_SCHED_BATCH_MAX task ids]}: *ids is the
 * array inside j (borrowed), NULL when refused.
 */
int fog_sched_json_ids(const json_t *j, const json_t **ids, char *err, size_t len);
/* A task state by its name (as the views write it), or -EINVAL. */
int fog_sched_json_state(const char *name);
/* "pending, placed, ... or cancelled", for an error naming the states. */
void fog_sched_json_state_names(char *buf, size_t len);

json_t *fog_sched_task_json(const struct fog_task_info *t, __u64 now);
/* "interference": the pair of task classes that kept the task apart (null: none). */
json_t *fog_sched_explain_json(const struct fog_task_info *t, __u64 now);
/* One pair of the interference table (GET /api/v1/sched/interference). */
json_t *fog_sched_interference_json(const struct fog_sched_interference *p);
json_t *fog_sched_worker_json(const struct fog_worker_info *w);
json_t *fog_sched_stats_json(const struct fog_sched_stats *st, int strategy);

#endif /* FOG_SCHED_API_JSON_H */
