// SPDX-License-Identifier: GPL-2.0-only
/*
 * A malloc-heavy program doing real work, for the allocation sampler's
 * overhead beside alloc_bench's bare malloc/free loop: JSON documents built,
 * serialized, parsed back and freed with jansson, as an API server does with
 * every request. Every object, array, string and number is its own
 * allocation (about 1,400 per round trip). Prints the seconds it took.
 * Usage: alloc_json [ROUNDS] (default 2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#define TASKS 200	/* entries per document */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *document(unsigned long round)
{
	json_t *tasks = json_array();
	char name[32];

	for (int i = 0; i < TASKS; i++) {
		snprintf(name, sizeof(name), "task-%lu-%d", round, i);
		json_array_append_new(tasks, json_pack("{s:s,s:I,s:f,s:[s,s,s],s:{s:b,s:i}}",
						       "id", name, "priority", (json_int_t)(i % 4),
						       "cpu_cores", 0.25 * (i % 8),
						       "labels", "gpu", "zone-a", "ssd",
						       "state", "placed", i % 2, "worker", i % 16));
	}
	return json_pack("{s:I,s:o}", "round", (json_int_t)round, "tasks", tasks);
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000UL, check = 0;
	double t0 = now();

	for (unsigned long r = 0; r < rounds; r++) {
		json_t *doc = document(r), *back;
		char *text = json_dumps(doc, JSON_COMPACT);

		if (!text)
			return 1;
		back = json_loads(text, 0, NULL);
		if (!back)
			return 1;
		check += json_array_size(json_object_get(back, "tasks")) + strlen(text);
		json_decref(back);
		json_decref(doc);
		free(text);
	}
	printf("%.4f s for %lu JSON round trips (check %lu)\n", now() - t0, rounds, check & 1);
	return 0;
}
