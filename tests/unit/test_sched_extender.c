// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Kubernetes scheduler extender's JSON against hand-written samples of the
 * upstream wire format (k8s.io/kube-scheduler/extender/v1: ExtenderArgs,
 * ExtenderFilterResult, HostPriorityList, Go field names as keys), and the
 * Prometheus instant-query responses its node signals come from.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "sched/extender.h"

/* A pod asking for 500m CPU and 256Mi + 256Mi memory, as kube-scheduler sends it. */
#define POD                                                                                   \
	"\"Pod\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "      \
	"\"web-1\", \"namespace\": \"shop\", \"uid\": \"7d1c\"}, \"spec\": {\"containers\": " \
	"[{\"name\": \"app\", \"image\": \"nginx\", \"resources\": {\"requests\": {\"cpu\": " \
	"\"500m\", \"memory\": \"256Mi\"}}}, {\"name\": \"side\", \"image\": \"envoy\", "     \
	"\"resources\": {\"requests\": {\"memory\": \"256Mi\"}}}], \"initContainers\": "      \
	"[{\"name\": \"init\", \"image\": \"busybox\", \"resources\": {\"requests\": "        \
	"{\"memory\": \"64Mi\"}}}]}, \"status\": {\"phase\": \"Pending\"}}"

#define NODE(name, mem)                                                                       \
	"{\"metadata\": {\"name\": \"" name "\", \"labels\": {\"kubernetes.io/hostname\": \"" \
	name "\"}}, \"status\": {\"allocatable\": {\"cpu\": \"4\", \"memory\": \"" mem        \
	"\", \"pods\": \"110\"}}}"

/* nodeCacheCapable: false -> the full NodeList */
static const char *args_nodes =
	"{" POD ", \"Nodes\": {\"metadata\": {\"resourceVersion\": \"42\"}, \"items\": ["
	NODE("n1", "8Gi") ", " NODE("n2", "8Gi") ", " NODE("n3", "8Gi") ", "
	NODE("n4", "256Mi") ", " NODE("n5.example.com", "8Gi") "]}, \"NodeNames\": null}";

/* the upstream answer: passing nodes echoed whole, failed ones with reasons */
static const char *filter_nodes_names = "[\"n1\", \"n3\", \"n5.example.com\"]";

/* nodeCacheCapable: true -> names only */
static const char *args_names =
	"{" POD ", \"Nodes\": null, \"NodeNames\": [\"n1\", \"n2\", \"n3\", \"n6\"]}";

static const char *prom_age =
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	"{\"metric\":{\"instance\":\"n1:9477\"},\"value\":[1712000000.123,\"4.5\"]},"
	"{\"metric\":{\"instance\":\"n2:9477\"},\"value\":[1712000000.123,\"3\"]},"
	"{\"metric\":{\"instance\":\"n5:9477\"},\"value\":[1712000000.123,\"2\"]},"
	"{\"metric\":{\"instance\":\"n6:9477\"},\"value\":[1712000000.123,\"300\"]},"
	"{\"metric\":{\"instance\":\"[fd00::7]:9477\"},\"value\":[1712000000.123,\"1\"]}]}}";

static const char *prom_cpu =
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	"{\"metric\":{\"instance\":\"n1:9477\"},\"value\":[1712000000.123,\"0.2\"]},"
	"{\"metric\":{\"instance\":\"n2:9477\"},\"value\":[1712000000.123,\"0.99\"]},"
	"{\"metric\":{\"instance\":\"n5:9477\"},\"value\":[1712000000.123,\"0.1\"]},"
	"{\"metric\":{\"instance\":\"n6:9477\"},\"value\":[1712000000.123,\"0.99\"]}]}}";

static const char *prom_mem =
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	"{\"metric\":{\"instance\":\"n1:9477\"},\"value\":[1712000000.123,\"0.3\"]},"
	"{\"metric\":{\"instance\":\"n5:9477\"},\"value\":[1712000000.123,\"NaN\"]}]}}";

static const char *prom_runq =
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	"{\"metric\":{\"instance\":\"n5:9477\"},\"value\":[1712000000.123,\"0.025\"]}]}}";

static struct fog_ext_nodes ns;
static struct fog_ext_policy pol;

static int setup(void **st)
{
	char err[256];

	memset(&ns, 0, sizeof(ns));
	fog_ext_policy_defaults(&pol);
	if (fog_ext_prom_vector(prom_age, "instance", offsetof(struct fog_ext_node, age_s),
				FOG_EXT_AGE, &ns, err, sizeof(err)) ||
	    fog_ext_prom_vector(prom_cpu, "instance", offsetof(struct fog_ext_node, cpu_util),
				FOG_EXT_CPU, &ns, err, sizeof(err)) ||
	    fog_ext_prom_vector(prom_mem, "instance", offsetof(struct fog_ext_node, mem_used),
				FOG_EXT_MEM, &ns, err, sizeof(err)) ||
	    fog_ext_prom_vector(prom_runq, "instance", offsetof(struct fog_ext_node, runq_p99_s),
				FOG_EXT_RUNQ, &ns, err, sizeof(err)))
		return -1;
	return 0;
}

static int teardown(void **st)
{
	fog_ext_nodes_free(&ns);
	return 0;
}

static json_t *load(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (!j)
		fail_msg("sample does not parse: %s at %d:%d", je.text, je.line, je.column);
	return j;
}

static void test_prom_vector(void **st)
{
	const struct fog_ext_node *n1 = fog_ext_nodes_find(&ns, "n1");
	const struct fog_ext_node *n5 = fog_ext_nodes_find(&ns, "n5");
	const struct fog_ext_node *v6 = fog_ext_nodes_find(&ns, "fd00::7");

	assert_non_null(n1);
	assert_int_equal(n1->have, FOG_EXT_AGE | FOG_EXT_CPU | FOG_EXT_MEM);
	assert_float_equal(n1->age_s, 4.5, 1e-9);
	assert_float_equal(n1->cpu_util, 0.2, 1e-9);
	assert_float_equal(n1->mem_used, 0.3, 1e-9);
	/* NaN is no data, not a value */
	assert_non_null(n5);
	assert_false(n5->have & FOG_EXT_MEM);
	assert_true(n5->have & FOG_EXT_RUNQ);
	assert_non_null(v6);	/* "[v6]:port" loses its brackets and port */
	assert_null(fog_ext_nodes_find(&ns, "n1:9477"));
	assert_int_equal(ns.n, 5);
}

static void test_prom_errors(void **st)
{
	struct fog_ext_nodes t = { 0 };
	char err[256] = "";

	assert_int_equal(fog_ext_prom_vector("{\"status\":\"error\",\"errorType\":\"bad_data\","
					     "\"error\":\"parse error at char 5\"}",
					     "instance", offsetof(struct fog_ext_node, cpu_util),
					     FOG_EXT_CPU, &t, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bad_data"));
	assert_non_null(strstr(err, "parse error at char 5"));
	assert_int_equal(fog_ext_prom_vector("{\"status\":\"success\",\"data\":{\"resultType\":"
					     "\"matrix\",\"result\":[]}}", "instance", 0, 0, &t,
					     err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "matrix"));
	assert_int_equal(fog_ext_prom_vector("{\"status\":\"success\",\"data\":{\"resultType\":"
					     "\"vector\",\"result\":[{\"metric\":{},\"value\":"
					     "[1,\"2\"]}]}}", "instance", 0, 0, &t, err,
					     sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "instance"));
	assert_int_equal(fog_ext_prom_vector("<html>", "instance", 0, 0, &t, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(t.n, 0);
	fog_ext_nodes_free(&t);
}

static void test_quantity(void **st)
{
	double v;

	assert_int_equal(fog_ext_quantity("100m", &v), 0);
	assert_float_equal(v, 0.1, 1e-12);
	assert_int_equal(fog_ext_quantity("1.5", &v), 0);
	assert_float_equal(v, 1.5, 1e-12);
	assert_int_equal(fog_ext_quantity("128Mi", &v), 0);
	assert_float_equal(v, 134217728.0, 1e-3);
	assert_int_equal(fog_ext_quantity("1G", &v), 0);
	assert_float_equal(v, 1e9, 1e-3);
	assert_int_equal(fog_ext_quantity("2e3", &v), 0);
	assert_float_equal(v, 2000, 1e-9);
	assert_int_equal(fog_ext_quantity("2P", &v), 0);
	assert_float_equal(v, 2e15, 1);
	assert_int_equal(fog_ext_quantity("2E", &v), 0);	/* exa, not an exponent */
	assert_float_equal(v, 2e18, 1e3);
	assert_int_equal(fog_ext_quantity("", &v), -EINVAL);
	assert_int_equal(fog_ext_quantity("abc", &v), -EINVAL);
	assert_int_equal(fog_ext_quantity("1Xi", &v), -EINVAL);
	assert_int_equal(fog_ext_quantity("-1", &v), -EINVAL);
	assert_int_equal(fog_ext_quantity("0x10", &v), -EINVAL);
	assert_int_equal(fog_ext_quantity("inf", &v), -EINVAL);
}

static void test_filter_nodes(void **st)
{
	json_t *args = load(args_nodes), *res, *items, *want = load(filter_nodes_names);
	json_t *names = json_array(), *e, *fn, *fu;
	char err[256];
	size_t i;

	res = fog_ext_filter(args, &ns, &pol, err, sizeof(err));
	assert_non_null(res);
	/* exactly the upstream keys */
	assert_int_equal(json_object_size(res), 5);
	assert_true(json_is_null(json_object_get(res, "NodeNames")));
	assert_string_equal(json_string_value(json_object_get(res, "Error")), "");
	items = json_object_get(json_object_get(res, "Nodes"), "items");
	json_array_foreach(items, i, e)
		json_array_append(names, json_object_get(json_object_get(e, "metadata"), "name"));
	assert_true(json_equal(names, want));
	/* a passing node comes back whole, as it was sent */
	assert_true(json_equal(json_array_get(items, 0),
			       json_array_get(json_object_get(json_object_get(args, "Nodes"),
							      "items"), 0)));
	fn = json_object_get(res, "FailedNodes");
	fu = json_object_get(res, "FailedAndUnresolvableNodes");
	assert_int_equal(json_object_size(fn), 1);
	assert_non_null(strstr(json_string_value(json_object_get(fn, "n2")), "cpu 99% busy"));
	/* 512 MiB requested (the init container's 64 Mi is less) on a 256 MiB node */
	assert_int_equal(json_object_size(fu), 1);
	assert_non_null(strstr(json_string_value(json_object_get(fu, "n4")),
			       "pod requests 512 MiB"));
	json_decref(res);
	json_decref(args);
	json_decref(want);
	json_decref(names);
}

static void test_filter_names_roundtrip(void **st)
{
	json_t *args = load(args_names), *res, *want;
	char err[256], *text;

	res = fog_ext_filter(args, &ns, &pol, err, sizeof(err));
	assert_non_null(res);
	/* n6's figures are 300 s old: no data, so it passes; n3 has none at all */
	want = load("{\"Nodes\": null, \"NodeNames\": [\"n1\", \"n3\", \"n6\"], "
		    "\"FailedNodes\": {\"n2\": \"fogd: cpu 99% busy (limit 95%), 3 s ago\"}, "
		    "\"FailedAndUnresolvableNodes\": {}, \"Error\": \"\"}");
	assert_true(json_equal(res, want));
	/* and back through text, as it goes over the wire */
	text = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	res = load(text);
	free(text);
	assert_true(json_equal(res, want));
	json_decref(res);
	json_decref(want);
	json_decref(args);
}

static void test_prioritize(void **st)
{
	json_t *args = load(args_nodes), *res, *want;
	char err[256];

	res = fog_ext_prioritize(args, &ns, &pol, err, sizeof(err));
	assert_non_null(res);
	/*
	 * n1: the largest of cpu 0.2 and memory 0.3 -> 10 x 0.7 = 7; n2: 0.99 busy -> 0;
	 * n3, n4: no data -> 5 (the middle, not the lowest); n5.example.com is n5:
	 * run-queue p99 25 ms of the 50 ms limit -> 5.
	 */
	want = load("[{\"Host\": \"n1\", \"Score\": 7}, {\"Host\": \"n2\", \"Score\": 0}, "
		    "{\"Host\": \"n3\", \"Score\": 5}, {\"Host\": \"n4\", \"Score\": 5}, "
		    "{\"Host\": \"n5.example.com\", \"Score\": 5}]");
	assert_true(json_equal(res, want));
	json_decref(res);
	json_decref(want);
	json_decref(args);
	/* a stale node scores as no data even though its cpu is busy */
	args = load("{" POD ", \"NodeNames\": [\"n6\"]}");
	res = fog_ext_prioritize(args, &ns, &pol, err, sizeof(err));
	want = load("[{\"Host\": \"n6\", \"Score\": 5}]");
	assert_true(json_equal(res, want));
	json_decref(res);
	json_decref(want);
	json_decref(args);
}

static void test_malformed(void **st)
{
	static const char *const bad[][2] = {
		{ "[]", "ExtenderArgs" },
		{ "{\"NodeNames\": [\"n1\"]}", "Pod" },
		{ "{" POD "}", "neither Nodes nor NodeNames" },
		{ "{" POD ", \"Nodes\": {\"items\": 3}}", "items" },
		{ "{" POD ", \"Nodes\": {\"items\": [{\"metadata\": {}}]}}", "metadata.name" },
		{ "{" POD ", \"NodeNames\": [\"n1\", 7]}", "NodeNames[1]" },
		{ "{\"Pod\": {\"spec\": {\"containers\": [{\"resources\": {\"requests\": "
		  "{\"memory\": \"lots\"}}}]}}, \"NodeNames\": [\"n1\"]}", "lots" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *args = load(bad[i][0]);

		err[0] = '\0';
		assert_null(fog_ext_filter(args, &ns, &pol, err, sizeof(err)));
		if (!strstr(err, bad[i][1]))
			fail_msg("case %zu: error '%s' does not mention '%s'", i, err, bad[i][1]);
		assert_null(fog_ext_prioritize(args, &ns, &pol, err, sizeof(err)));
		json_decref(args);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prom_vector, setup, teardown),
		cmocka_unit_test(test_prom_errors),
		cmocka_unit_test(test_quantity),
		cmocka_unit_test_setup_teardown(test_filter_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_names_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prioritize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
