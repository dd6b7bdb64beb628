// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Kubernetes scheduler extender v1 (see extender.h). The wire format is
 * the one of k8s.io/kube-scheduler/extender/v1/types.go, whose Go structs
 * carry no json tags, so the keys are the Go field names:
 *   ExtenderArgs         {"Pod": v1.Pod, "Nodes": v1.NodeList | null,
 *                         "NodeNames": [string] | null}
 *   ExtenderFilterResult {"Nodes", "NodeNames", "FailedNodes": {name: why},
 *                         "FailedAndUnresolvableNodes": {name: why}, "Error": string}
 *   HostPriorityList     [{"Host": string, "Score": int64 0..MaxExtenderPriority(10)}]
 * Nodes is filled when the extender is not nodeCacheCapable, NodeNames when it
 * is; the answer uses the same form as the question.
 *
 * Node signals, read from Prometheus' instant-query API (GET /api/v1/query),
 * over the series fogd exports:
 *   cpu_util   avg by (node) (rate(fog_cpu_busy_seconds_total[1m]))
 *   runq_p99_s histogram_quantile(0.99, sum by (node, le)
 *              (rate(fog_runqueue_latency_seconds_bucket[1m])))
 *   mem_psi    max by (node) (rate(fog_pressure_stall_seconds_total{resource="memory",
 *              kind="some"}[1m]))
 *   mem_used   1 - available / total bytes, and the total itself
 *   age_s      time() - timestamp(fog_build_info): how old the newest scrape is
 * extender_glue.c fetches them on a thread of its own and serves the routes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/text.h"
#include "sched/extender.h"

#define MAX_NODES 65536


static void __attribute__((format(printf, 3, 4))) set_err(char *err, size_t len, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

void fog_ext_policy_defaults(struct fog_ext_policy *p)
{
	p->max_age_s = 60;
	p->cpu_util = 0.95;
	p->runq_p99_s = 0.05;
	p->mem_psi = 0.20;
	p->mem_used = 0.95;
}

void fog_ext_nodes_free(struct fog_ext_nodes *ns)
{
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

struct fog_ext_node *fog_ext_nodes_find(const struct fog_ext_nodes *ns, const char *name)
{
	for (unsigned int i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i].name, name))
			return &ns->v[i];
	return NULL;
}

static struct fog_ext_node *node_get(struct fog_ext_nodes *ns, const char *name)
{
	struct fog_ext_node *n = fog_ext_nodes_find(ns, name);

	if (n)
		return n;
	if (ns->n == ns->cap) {
		unsigned int cap = ns->cap ? ns->cap * 2 : 16;
		struct fog_ext_node *v;

		if (cap > MAX_NODES)
			return NULL;
		v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	n = &ns->v[ns->n++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	return n;
}

/* "host:9477" -> "host", "[::1]:9477" -> "::1"; other labels stay as they are. */
static void node_name(const char *label, const char *value, char *out, size_t len)
{
	const char *colon;

	snprintf(out, len, "%s", value);
	if (strcmp(label, "instance"))
		return;
	if (value[0] == '[') {
		const char *end = strchr(value, ']');

		if (end)
			snprintf(out, len, "%.*s", (int)(end - value - 1), value + 1);
		return;
	}
	colon = strrchr(value, ':');
	if (colon && colon == strchr(value, ':'))
		out[colon - value < (long)len ? colon - value : (long)len - 1] = '\0';
}

int fog_ext_prom_vector(const char *body, const char *label, size_t field, unsigned int bit,
			struct fog_ext_nodes *ns, char *err, size_t len)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je), *data, *res, *e;
	const char *status, *type;
	size_t i;
	int rc = -EINVAL;

	if (!j) {
		set_err(err, len, "prometheus answered no JSON: %s", je.text);
		return -EINVAL;
	}
	status = json_string_value(json_object_get(j, "status"));
	data = json_object_get(j, "data");
	type = json_string_value(json_object_get(data, "resultType"));
	res = json_object_get(data, "result");
	if (!status || strcmp(status, "success")) {
		set_err(err, len, "prometheus query failed: %s: %s",
			json_string_value(json_object_get(j, "errorType")) ?: "no errorType",
			json_string_value(json_object_get(j, "error")) ?: "no error message");
		goto out;
	}
	if (!type || strcmp(type, "vector") || !json_is_array(res)) {
		set_err(err, len, "prometheus answered a %s, not a vector", type ? type : "?");
		goto out;
	}
	json_array_foreach(res, i, e) {
		const char *who = json_string_value(json_object_get(json_object_get(e, "metric"),
								    label));
		json_t *val = json_object_get(e, "value");
		const char *vs = json_string_value(json_array_get(val, 1));
		char name[FOG_EXT_NODE_LEN], *end;
		struct fog_ext_node *n;
		double v;

		if (!who || !vs || json_array_size(val) != 2) {
			set_err(err, len, "prometheus sample %zu has no '%s' label or no value", i,
				label);
			goto out;
		}
		v = strtod(vs, &end);
		if (end == vs || *end) {
			set_err(err, len, "prometheus sample %zu: '%.32s' is not a number", i, vs);
			goto out;
		}
		if (!isfinite(v))	/* NaN: no data (e.g. a histogram without samples) */
			continue;
		node_name(label, who, name, sizeof(name));
		if (!name[0])	/* an empty label (or "[]" / ":port"): no node to judge */
			continue;
		n = node_get(ns, name);
		if (!n) {
			set_err(err, len, "more than %d nodes", MAX_NODES);
			rc = -ENOMEM;
			goto out;
		}
		*(double *)((char *)n + field) = v;
		n->have |= bit;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int fog_ext_quantity(const char *s, double *out)
{
	static const struct {
		const char *suffix;
		double mul;
	} sfx[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
		{ "Ei", 1152921504606846976.0 }, { "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 },
		{ "", 1 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 },
		{ "E", 1e18 },
	};
	char *end;
	double v;

	if (!s || !*s || strchr(" \t+", *s))
		return -EINVAL;
	/* strtod would read hex and "inf": allow only digits, one '.', an exponent */
	if (strspn(s, "-0123456789.") == 0 || strpbrk(s, "xX"))
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (!strcmp(end, sfx[i].suffix)) {
			*out = v * sfx[i].mul;
			return 0;
		}
	return -EINVAL;
}

/* ---- ExtenderArgs ---- */

struct pod_req {
	char name[300];
	double cpu;	/* cores */
	double mem_mb;
};

/* Sums resources.requests of a container list into cpu and mem (bytes). */
static int sum_requests(const json_t *containers, double *cpu, double *mem, bool max,
			char *err, size_t len)
{
	size_t i;
	json_t *c;

	if (!containers)
		return 0;
	if (!json_is_array(containers)) {
		set_err(err, len, "Pod.spec containers must be an array");
		return -EINVAL;
	}
	json_array_foreach(containers, i, c) {
		json_t *req = json_object_get(json_object_get(c, "resources"), "requests");
		const char *qc = json_string_value(json_object_get(req, "cpu"));
		const char *qm = json_string_value(json_object_get(req, "memory"));
		double vc = 0, vm = 0;

		if ((qc && fog_ext_quantity(qc, &vc)) || (qm && fog_ext_quantity(qm, &vm))) {
			set_err(err, len, "container %zu: bad resource quantity '%.32s'", i,
				qc && fog_ext_quantity(qc, &vc) ? qc : qm);
			return -EINVAL;
		}
		if (max) {	/* init containers run one at a time */
			*cpu = fmax(*cpu, vc);
			*mem = fmax(*mem, vm);
		} else {
			*cpu += vc;
			*mem += vm;
		}
	}
	return 0;
}

/* The pod's effective requests: max(sum of containers, largest init container). */
static int pod_requests(const json_t *pod, struct pod_req *r, char *err, size_t len)
{
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *meta = json_object_get(pod, "metadata");
	double cpu = 0, mem = 0, icpu = 0, imem = 0;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(pod) || !json_is_object(spec)) {
		set_err(err, len, "Pod must be an object with a spec");
		return -EINVAL;
	}
	snprintf(r->name, sizeof(r->name), "%s/%s",
		 json_string_value(json_object_get(meta, "namespace")) ?: "default",
		 json_string_value(json_object_get(meta, "name")) ?: "?");
	if (sum_requests(json_object_get(spec, "containers"), &cpu, &mem, false, err, len) ||
	    sum_requests(json_object_get(spec, "initContainers"), &icpu, &imem, true, err, len))
		return -EINVAL;
	r->cpu = fmax(cpu, icpu);
	r->mem_mb = fmax(mem, imem) / 1048576.0;
	return 0;
}

/* Checks the args' shape; *items gets Nodes.items or NULL, *names NodeNames or NULL. */
static int read_args(const json_t *args, struct pod_req *pod, json_t **items, json_t **names,
		     char *err, size_t len)
{
	json_t *nodes, *e;
	size_t i;

	*items = *names = NULL;
	if (!json_is_object(args)) {
		set_err(err, len, "ExtenderArgs must be a JSON object");
		return -EINVAL;
	}
	if (pod_requests(json_object_get(args, "Pod"), pod, err, len))
		return -EINVAL;
	nodes = json_object_get(args, "Nodes");
	*names = json_object_get(args, "NodeNames");
	if (json_is_null(*names))
		*names = NULL;
	if (nodes && !json_is_null(nodes)) {
		*items = json_object_get(nodes, "items");
		if (!json_is_array(*items)) {
			set_err(err, len, "Nodes must be a NodeList with an items array");
			return -EINVAL;
		}
		json_array_foreach(*items, i, e)
			if (!json_is_string(json_object_get(json_object_get(e, "metadata"),
							    "name"))) {
				set_err(err, len, "Nodes.items[%zu] has no metadata.name", i);
				return -EINVAL;
			}
	}
	if (*names) {
		if (!json_is_array(*names)) {
			set_err(err, len, "NodeNames must be an array of strings");
			return -EINVAL;
		}
		json_array_foreach(*names, i, e)
			if (!json_is_string(e)) {
				set_err(err, len, "NodeNames[%zu] is not a string", i);
				return -EINVAL;
			}
	}
	if (!*items && !*names) {
		set_err(err, len, "ExtenderArgs has neither Nodes nor NodeNames");
		return -EINVAL;
	}
	return 0;
}

static const char *item_name(const json_t *item)
{
	return json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
}

/* Node signals for a Kubernetes node name: exact, else the same short host name. */
static const struct fog_ext_node *lookup(const struct fog_ext_nodes *ns, const char *name)
{
	size_t n = strcspn(name, ".");

	for (unsigned int i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i].name, name))
			return &ns->v[i];
	for (unsigned int i = 0; i < ns->n; i++) {
		size_t m = strcspn(ns->v[i].name, ".");

		if (m == n && !strncmp(ns->v[i].name, name, n))
			return &ns->v[i];
	}
	return NULL;
}

static bool fresh(const struct fog_ext_node *n, const struct fog_ext_policy *p)
{
	return n && (n->have & FOG_EXT_AGE) && n->age_s <= p->max_age_s;
}

/*
 * Why a node cannot take the pod, or NULL. *unresolvable: preemption would not
 * help (the pod needs more memory than the node has at all).
 */
static const char *judge(const struct fog_ext_node *n, const json_t *item,
			 const struct pod_req *pod, const struct fog_ext_policy *p, char *buf,
			 size_t len, bool *unresolvable)
{
	const char *alloc = json_string_value(json_object_get(
		json_object_get(json_object_get(item, "status"), "allocatable"), "memory"));
	double total_mb = 0, bytes;

	*unresolvable = false;
	if (alloc && !fog_ext_quantity(alloc, &bytes))
		total_mb = bytes / 1048576.0;
	else if (n && n->mem_total_mb > 0)
		total_mb = n->mem_total_mb;
	if (total_mb > 0 && pod->mem_mb > total_mb) {
		*unresolvable = true;
		snprintf(buf, len, "fogd: pod requests %.0f MiB, the node has %.0f MiB in all",
			 pod->mem_mb, total_mb);
		return buf;
	}
	if (!fresh(n, p))
		return NULL;	/* no data: not ours to refuse */
	if ((n->have & FOG_EXT_CPU) && n->cpu_util >= p->cpu_util) {
		snprintf(buf, len, "fogd: cpu %.0f%% busy (limit %.0f%%), %.0f s ago",
			 n->cpu_util * 100, p->cpu_util * 100, n->age_s);
		return buf;
	}
	if ((n->have & FOG_EXT_RUNQ) && n->runq_p99_s >= p->runq_p99_s) {
		snprintf(buf, len, "fogd: run-queue latency p99 %.1f ms (limit %.1f ms), %.0f s ago",
			 n->runq_p99_s * 1e3, p->runq_p99_s * 1e3, n->age_s);
		return buf;
	}
	if ((n->have & FOG_EXT_PSI) && n->mem_psi >= p->mem_psi) {
		snprintf(buf, len, "fogd: memory pressure %.0f%% (limit %.0f%%), %.0f s ago",
			 n->mem_psi * 100, p->mem_psi * 100, n->age_s);
		return buf;
	}
	if ((n->have & FOG_EXT_MEM) && total_mb > 0 &&
	    (1 - n->mem_used) * total_mb < pod->mem_mb) {
		snprintf(buf, len, "fogd: %.0f MiB available, pod requests %.0f MiB, %.0f s ago",
			 (1 - n->mem_used) * total_mb, pod->mem_mb, n->age_s);
		return buf;
	}
	if ((n->have & FOG_EXT_MEM) && n->mem_used >= p->mem_used) {
		snprintf(buf, len, "fogd: memory %.0f%% used (limit %.0f%%), %.0f s ago",
			 n->mem_used * 100, p->mem_used * 100, n->age_s);
		return buf;
	}
	return NULL;
}

json_t *fog_ext_filter(const json_t *args, const struct fog_ext_nodes *ns,
		       const struct fog_ext_policy *p, char *err, size_t len)
{
	json_t *items, *names, *keep, *failed, *unres, *e, *res;
	struct pod_req pod;
	char why[256];
	size_t i, n;

	if (read_args(args, &pod, &items, &names, err, len))
		return NULL;
	keep = json_array();
	failed = json_object();
	unres = json_object();
	n = items ? json_array_size(items) : json_array_size(names);
	for (i = 0; i < n; i++) {
		const json_t *item = items ? json_array_get(items, i) : NULL;
		const char *name = items ? item_name(item) : json_string_value(json_array_get(names,
											 i));
		const char *r;
		bool hopeless;

		r = judge(lookup(ns, name), item, &pod, p, why, sizeof(why), &hopeless);
		if (!r)
			json_array_append(keep, items ? json_array_get(items, i) :
							json_array_get(names, i));
		else
			json_object_set_new(hopeless ? unres : failed, name, json_string(r));
	}
	res = json_object();
	if (items) {
		e = json_object();
		json_object_set_new(e, "metadata", json_object());
		json_object_set_new(e, "items", keep);
		json_object_set_new(res, "Nodes", e);
		json_object_set_new(res, "NodeNames", json_null());
	} else {
		json_object_set_new(res, "Nodes", json_null());
		json_object_set_new(res, "NodeNames", keep);
	}
	json_object_set_new(res, "FailedNodes", failed);
	json_object_set_new(res, "FailedAndUnresolvableNodes", unres);
	json_object_set_new(res, "Error", json_string(""));
	return res;
}

/*
 * 0..10 from the node's headroom: 10 x (1 - the largest of cpu busy, memory
 * used, memory pressure and run-queue p99 relative to the filter's limit).
 * A node without fresh signals gets the middle score: unknown is not worst.
 */
static long long score(const struct fog_ext_node *n, const struct fog_ext_policy *p)
{
	double load = 0;

	if (!fresh(n, p) || !(n->have & (FOG_EXT_CPU | FOG_EXT_RUNQ | FOG_EXT_PSI | FOG_EXT_MEM)))
		return FOG_EXT_SCORE_NO_DATA;
	if (n->have & FOG_EXT_CPU)
		load = fmax(load, n->cpu_util);
	if (n->have & FOG_EXT_MEM)
		load = fmax(load, n->mem_used);
	if (n->have & FOG_EXT_PSI)
		load = fmax(load, n->mem_psi / p->mem_psi);
	if (n->have & FOG_EXT_RUNQ)
		load = fmax(load, n->runq_p99_s / p->runq_p99_s);
	load = fmin(fmax(load, 0), 1);
	return llround(FOG_EXT_SCORE_MAX * (1 - load));
}

json_t *fog_ext_prioritize(const json_t *args, const struct fog_ext_nodes *ns,
			   const struct fog_ext_policy *p, char *err, size_t len)
{
	json_t *items, *names, *res;
	struct pod_req pod;
	size_t i, n;

	if (read_args(args, &pod, &items, &names, err, len))
		return NULL;
	res = json_array();
	n = items ? json_array_size(items) : json_array_size(names);
	for (i = 0; i < n; i++) {
		const char *name = items ? item_name(json_array_get(items, i)) :
					   json_string_value(json_array_get(names, i));

		json_array_append_new(res, json_pack("{s:s,s:I}", "Host", name, "Score",
						     (json_int_t)score(lookup(ns, name), p)));
	}
	return res;
}

/* ---- Prometheus ---- */

