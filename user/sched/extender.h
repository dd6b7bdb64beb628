/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Kubernetes scheduler extender v1 (kube-scheduler's HTTP extender API,
 * k8s.io/kube-scheduler/extender/v1): POST /scheduler/filter and POST
 * /scheduler/prioritize with the upstream wire format (Go field names as JSON
 * keys): ExtenderArgs {Pod, Nodes, NodeNames} in, ExtenderFilterResult {Nodes,
 * NodeNames, FailedNodes, FailedAndUnresolvableNodes, Error} or a
 * HostPriorityList [{Host, Score}] (0..10) out.
 *
 * Per-node signals come from a Prometheus server that scrapes fogd on every
 * host (its instant-query API), each with its age; a node whose samples are
 * missing or older than max_age_s is "no data": it passes the filter (the
 * extender cannot judge it) and gets the middle score, never the lowest.
 */
#ifndef FOG_SCHED_EXTENDER_H
#define FOG_SCHED_EXTENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>


#define FOG_EXT_NODE_LEN 254	/* a Kubernetes node name (DNS subdomain) and its NUL */
#define FOG_EXT_SCORE_MAX 10	/* upstream MaxExtenderPriority */
#define FOG_EXT_SCORE_NO_DATA 5

/* Which figures a node has (bits of fog_ext_node.have). */
enum {
	FOG_EXT_CPU = 1 << 0,
	FOG_EXT_RUNQ = 1 << 1,
	FOG_EXT_PSI = 1 << 2,
	FOG_EXT_MEM = 1 << 3,
	FOG_EXT_AGE = 1 << 4,
};

struct fog_ext_node {
	char name[FOG_EXT_NODE_LEN];
	unsigned int have;
	double cpu_util;	/* 0..1 of all CPUs */
	double runq_p99_s;	/* run-queue wait p99 */
	double mem_psi;		/* 0..1: share of time some tasks stalled on memory */
	double mem_used;	/* 0..1: 1 - available / total */
	double mem_total_mb;	/* 0 unknown */
	double age_s;		/* of the node's newest fogd sample */
};

struct fog_ext_nodes {
	struct fog_ext_node *v;
	unsigned int n, cap;
};

/* Overload thresholds of the filter; a node past one is a FailedNode. */
struct fog_ext_policy {
	double max_age_s;	/* older signals are "no data" */
	double cpu_util;	/* 0.95 */
	double runq_p99_s;	/* 0.05 */
	double mem_psi;		/* 0.20 */
	double mem_used;	/* 0.95 */
};



/* ---- the pieces below are pure, for tests ---- */

void fog_ext_policy_defaults(struct fog_ext_policy *p);
void fog_ext_nodes_free(struct fog_ext_nodes *ns);
struct fog_ext_node *fog_ext_nodes_find(const struct fog_ext_nodes *ns, const char *name);

/*
 * Reads a Prometheus instant-query response (resultType "vector") and stores
 * each sample's value in field (offsetof a double in struct fog_ext_node) of
 * the node named by label (with "instance", the port is dropped), setting bit.
 * -EINVAL with err when the response is malformed or not a success.
 */
int fog_ext_prom_vector(const char *body, const char *label, size_t field, unsigned int bit,
			struct fog_ext_nodes *ns, char *err, size_t len);

/* A Kubernetes resource quantity ("100m", "1.5", "128Mi", "1G", "2e3") as a number. */
int fog_ext_quantity(const char *s, double *out);

/*
 * Answers one call with the upstream types. args is the ExtenderArgs JSON;
 * the result is the ExtenderFilterResult or HostPriorityList JSON. On
 * malformed args they return NULL and fill err.
 */
json_t *fog_ext_filter(const json_t *args, const struct fog_ext_nodes *ns,
		       const struct fog_ext_policy *p, char *err, size_t len);
json_t *fog_ext_prioritize(const json_t *args, const struct fog_ext_nodes *ns,
			   const struct fog_ext_policy *p, char *err, size_t len);

#endif /* FOG_SCHED_EXTENDER_H */
