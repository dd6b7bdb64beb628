// SPDX-License-Identifier: GPL-2.0-only
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames and one "sampled" profile per process, stacks root first.
 * Sample i of a profile names frame k by its index in shared.frames: every
 * frame is written (names are valid UTF-8, see fog_prof_clean_name, and a
 * frame jansson still refuses is written as "[unknown]"), so no index shifts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/prof.h"

struct by_pid {
	__u32 pid;
	bool used;
	json_t *samples, *weights;
	double end;
	size_t first;	/* its first stack, for the comm */
};

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;

	while (c < n)
		c *= 2;
	return c;
}

static json_t *frame_json(const struct fog_prof_frame *f)
{
	json_t *j = json_pack("{s:s,s:s?}", "name", f->func, "file", f->module);

	return j ? j : json_pack("{s:s}", "name", FOG_PROF_UNKNOWN);
}

json_t *fog_prof_speedscope(const struct fog_prof *p)
{
	json_t *root = json_object(), *frames = json_array(), *profiles = json_array();
	bool cpu = p->kind == FOG_PROF_CPU || p->kind == FOG_PROF_OFFCPU;
	/* off-CPU values are nanoseconds already: a period of 1 */
	double period = p->kind == FOG_PROF_OFFCPU ? 1 : (double)p->period;
	size_t cap = pow2_at_least(2 * p->nstacks + 2), npid = 0;
	struct by_pid *t = calloc(cap, sizeof(*t));	/* pid -> its profile, open addressing */
	size_t *order = calloc(p->nstacks + 1, sizeof(*order));	/* slots by first stack */

	if (!root || !frames || !profiles || !t || !order)
		goto fail;
	for (size_t i = 0; i < p->nframes; i++)
		if (json_array_append_new(frames, frame_json(&p->frames[i])))
			goto fail;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];
		size_t j = ((__u64)s->pid * 0x9e3779b97f4a7c15ULL >> 32) & (cap - 1);
		json_t *st = json_array();
		double w = cpu ? (double)s->value * period / 1e9 : (double)s->value;

		while (t[j].used && t[j].pid != s->pid)
			j = (j + 1) & (cap - 1);
		if (!t[j].used) {
			t[j] = (struct by_pid){ .pid = s->pid, .used = true, .samples = json_array(),
						.weights = json_array(), .first = i };
			order[npid++] = j;
		}
		for (__u32 n = s->n; st && n-- > 0;)
			json_array_append_new(st, json_integer(s->frames[n]));
		if (json_array_append_new(t[j].samples, st) ||
		    json_array_append_new(t[j].weights, json_real(w)))
			goto fail;
		t[j].end += w;
	}
	for (size_t i = 0; i < npid; i++) {
		struct by_pid *b = &t[order[i]];
		char name[48];
		json_t *prof;

		snprintf(name, sizeof(name), "%s pid %u", p->stacks[b->first].comm, b->pid);
		prof = json_pack("{s:s,s:s,s:s,s:f,s:f,s:o,s:o}", "type", "sampled", "name", name,
				 "unit", cpu ? "seconds" : "bytes", "startValue", 0.0, "endValue",
				 b->end, "samples", b->samples, "weights", b->weights);
		b->samples = b->weights = NULL;	/* owned by prof now (or freed) */
		if (json_array_append_new(profiles, prof))
			goto fail;
	}
	free(t);
	free(order);
	json_object_set_new(root, "$schema",
			    json_string("https://www.speedscope.app/file-format-schema.json"));
	json_object_set_new(root, "shared", json_pack("{s:o}", "frames", frames));
	json_object_set_new(root, "profiles", profiles);
	json_object_set_new(root, "name", json_string(p->target));
	json_object_set_new(root, "exporter", json_string("fogd"));
	return root;
fail:
	for (size_t i = 0; t && i < cap; i++) {
		json_decref(t[i].samples);
		json_decref(t[i].weights);
	}
	free(t);
	free(order);
	json_decref(frames);
	json_decref(profiles);
	json_decref(root);
	errno = ENOMEM;
	return NULL;
}
