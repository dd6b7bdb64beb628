// SPDX-License-Identifier: GPL-2.0-only
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames and one "sampled" profile per process, stacks root first.
 */
#include <stdio.h>
#include <stdlib.h>

#include "profile/prof.h"

json_t *fog_prof_speedscope(const struct fog_prof *p)
{
	json_t *root = json_object(), *frames = json_array(), *profiles = json_array();
	bool cpu = p->kind == FOG_PROF_CPU || p->kind == FOG_PROF_OFFCPU;
	/* off-CPU values are nanoseconds already: a period of 1 */
	double period = p->kind == FOG_PROF_OFFCPU ? 1 : (double)p->period;

	for (size_t i = 0; i < p->nframes; i++)
		json_array_append_new(frames, json_pack("{s:s,s:s?}", "name", p->frames[i].func,
							"file", p->frames[i].module));
	for (size_t i = 0; i < p->nstacks; i++) {
		__u32 pid = p->stacks[i].pid;
		json_t *samples, *weights, *prof = NULL, *st;
		char name[48];
		double w = cpu ? (double)p->stacks[i].value * period / 1e9 :
				 (double)p->stacks[i].value;
		size_t j;

		for (j = 0; j < i; j++)	/* one profile per pid, created at its first stack */
			if (p->stacks[j].pid == pid)
				break;
		if (j < i)
			continue;
		double end = 0;

		samples = json_array();
		weights = json_array();
		for (size_t k = i; k < p->nstacks; k++) {
			const struct fog_prof_stack *s = &p->stacks[k];

			if (s->pid != pid)
				continue;
			st = json_array();
			for (__u32 n = s->n; n-- > 0;)
				json_array_append_new(st, json_integer(s->frames[n]));
			json_array_append_new(samples, st);
			w = cpu ? (double)s->value * period / 1e9 : (double)s->value;
			json_array_append_new(weights, json_real(w));
			end += w;
		}
		snprintf(name, sizeof(name), "%s pid %u", p->stacks[i].comm, pid);
		prof = json_pack("{s:s,s:s,s:s,s:f,s:f,s:o,s:o}", "type", "sampled", "name", name,
				 "unit",
				 cpu ? "seconds" : "bytes", "startValue", 0.0, "endValue", end,
				 "samples", samples, "weights", weights);
		json_array_append_new(profiles, prof);
	}
	json_object_set_new(root, "$schema",
			    json_string("https://www.speedscope.app/file-format-schema.json"));
	json_object_set_new(root, "shared", json_pack("{s:o}", "frames", frames));
	json_object_set_new(root, "profiles", profiles);
	json_object_set_new(root, "name", json_string(p->target));
	json_object_set_new(root, "exporter", json_string("fogd"));
	return root;
}
