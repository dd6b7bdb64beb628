// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Kubernetes scheduler extender's outside input: kube-scheduler's
 * ExtenderArgs bodies and the Prometheus query answers the node signals come
 * from. The input's first byte picks the parser; the rest is its text:
 *   0: a Prometheus instant-query answer, read into every signal field;
 *   1: ExtenderArgs, answered by filter and prioritize over nodes read from a
 *      fixed Prometheus answer, both answers checked against the upstream types;
 *   2: a resource quantity.
 * Properties: no crash; a rejected body gives an error message; a filter answer
 * has exactly the five upstream keys and puts every node it was given in one
 * place only; a priority list has a score 0..10 for each node.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "sched/extender.h"

static const char *const prom_nodes =
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	"{\"metric\":{\"instance\":\"n1:9477\"},\"value\":[1,\"0.5\"]},"
	"{\"metric\":{\"instance\":\"n2:9477\"},\"value\":[1,\"0.99\"]},"
	"{\"metric\":{\"instance\":\"n3\"},\"value\":[1,\"NaN\"]}]}}";

static void read_vector(const char *body)
{
	static const size_t fields[] = {
		offsetof(struct fog_ext_node, age_s), offsetof(struct fog_ext_node, cpu_util),
		offsetof(struct fog_ext_node, runq_p99_s), offsetof(struct fog_ext_node, mem_psi),
		offsetof(struct fog_ext_node, mem_used), offsetof(struct fog_ext_node, mem_total_mb),
	};
	static const unsigned int bits[] = { FOG_EXT_AGE, FOG_EXT_CPU, FOG_EXT_RUNQ, FOG_EXT_PSI,
					     FOG_EXT_MEM, 0 };
	struct fog_ext_nodes ns = { 0 };
	char err[256];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = fog_ext_prom_vector(body, i % 2 ? "instance" : "node", fields[i], bits[i],
					 &ns, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || (fuzz_is_neg_errno(rc) && err[0]));
	}
	for (unsigned int i = 0; i < ns.n; i++) {
		FUZZ_CHECK(ns.v[i].name[0]);
		FUZZ_CHECK(memchr(ns.v[i].name, '\0', sizeof(ns.v[i].name)));
		FUZZ_CHECK(fog_ext_nodes_find(&ns, ns.v[i].name));
	}
	fog_ext_nodes_free(&ns);
}

/* Node names the args named, from Nodes.items[].metadata.name or NodeNames. */
static size_t names_in(const json_t *args)
{
	const json_t *items = json_object_get(json_object_get(args, "Nodes"), "items");
	const json_t *names = json_object_get(args, "NodeNames");

	if (json_is_array(items))
		return json_array_size(items);
	return json_is_array(names) ? json_array_size(names) : 0;
}

static void answer(const char *body, const struct fog_ext_nodes *ns,
		   const struct fog_ext_policy *pol)
{
	json_t *args = json_loads(body, 0, NULL), *res, *e;
	size_t given, placed = 0, i;
	char err[256];

	if (!args)
		return;	/* fogd answers 400 before the extender sees it */
	given = names_in(args);
	err[0] = '\0';
	res = fog_ext_filter(args, ns, pol, err, sizeof(err));
	if (!res) {
		FUZZ_CHECK(err[0]);
	} else {
		const json_t *items = json_object_get(json_object_get(res, "Nodes"), "items");
		const json_t *names = json_object_get(res, "NodeNames");

		FUZZ_CHECK(json_object_size(res) == 5);
		FUZZ_CHECK(json_is_object(json_object_get(res, "FailedNodes")));
		FUZZ_CHECK(json_is_object(json_object_get(res, "FailedAndUnresolvableNodes")));
		FUZZ_CHECK(json_is_string(json_object_get(res, "Error")));
		placed = json_object_size(json_object_get(res, "FailedNodes")) +
			 json_object_size(json_object_get(res, "FailedAndUnresolvableNodes"));
		placed += json_is_array(items) ? json_array_size(items) :
			  json_is_array(names) ? json_array_size(names) : 0;
		/* every node passes or fails (duplicates of a name may fold into one) */
		FUZZ_CHECK(placed <= given);
		json_decref(res);
	}
	err[0] = '\0';
	res = fog_ext_prioritize(args, ns, pol, err, sizeof(err));
	if (!res) {
		FUZZ_CHECK(err[0]);
	} else {
		FUZZ_CHECK(json_is_array(res));
		FUZZ_CHECK(json_array_size(res) == given);
		json_array_foreach(res, i, e) {
			json_int_t score = json_integer_value(json_object_get(e, "Score"));

			FUZZ_CHECK(json_is_string(json_object_get(e, "Host")));
			FUZZ_CHECK(json_is_integer(json_object_get(e, "Score")));
			FUZZ_CHECK(score >= 0 && score <= FOG_EXT_SCORE_MAX);
		}
		json_decref(res);
	}
	json_decref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fog_ext_nodes ns = { 0 };
	struct fog_ext_policy pol;
	char err[256], *text;
	double q;
	int rc;

	if (!size)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		read_vector(text);
		break;
	case 1:
		fog_ext_policy_defaults(&pol);
		rc = fog_ext_prom_vector(prom_nodes, "instance", offsetof(struct fog_ext_node, cpu_util),
					 FOG_EXT_CPU, &ns, err, sizeof(err));
		FUZZ_CHECK(rc == 0);
		rc = fog_ext_prom_vector(prom_nodes, "instance", offsetof(struct fog_ext_node, age_s),
					 FOG_EXT_AGE, &ns, err, sizeof(err));
		FUZZ_CHECK(rc == 0);
		answer(text, &ns, &pol);
		fog_ext_nodes_free(&ns);
		break;
	default:
		rc = fog_ext_quantity(text, &q);
		FUZZ_CHECK(rc == 0 || fuzz_is_neg_errno(rc));
		if (!rc)
			FUZZ_CHECK(!isnan(q));
		break;
	}
	free(text);
	return 0;
}
