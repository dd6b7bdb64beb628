// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl neighbours: who slowed whom. The run-queue waits fogd charged to the
 * cgroups and processes that held the CPU meanwhile (GET /api/v1/neighbours),
 * for every victim or for one (--cgroup PATH, -p PID).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"

/* A cgroup path, or the id when fogd could not name it (removed, not yet scanned). */
static const char *cgroup_name(const json_t *o, const char *key, const char *id_key, char *buf,
			       size_t len)
{
	const char *p = fogctl_str(o, key, NULL);
	char tmp[256];

	if (p)
		return fogctl_safe(p, buf, len);
	snprintf(tmp, sizeof(tmp), "cgroup id %lld", fogctl_int(o, id_key));
	return fogctl_safe(tmp, buf, len);
}

static void text_pairs(FILE *f, json_t *pairs)
{
	json_t *p;
	size_t i;

	if (!json_array_size(pairs)) {
		fprintf(f, "no run-queue wait charged to a neighbour yet\n");
		return;
	}
	fprintf(f, "%-36s %-36s %12s %12s %9s\n", "VICTIM", "CULPRIT", "INTERVAL_S", "TOTAL_S",
		"WAITS");
	json_array_foreach(pairs, i, p) {
		char v[256], c[256];

		fprintf(f, "%-36s %-36s %12.6f %12.6f %9lld\n",
			cgroup_name(p, "victim", "victim_cgroup_id", v, sizeof(v)),
			cgroup_name(p, "culprit", "culprit_cgroup_id", c, sizeof(c)),
			fogctl_num(p, "interval_wait_seconds", 0), fogctl_num(p, "wait_seconds", 0),
			fogctl_int(p, "waits"));
	}
}

static void text_procs(FILE *f, json_t *procs)
{
	json_t *p, *c;
	size_t i, k;

	json_array_foreach(procs, i, p) {
		char comm[32], cg[256];
		const char *path = fogctl_str(p, "cgroup", NULL);

		/* comm and paths are the tenant's: no terminal control bytes */
		fprintf(f, "\n%lld %s (%s) waited %.6f s; charged to:\n", fogctl_int(p, "pid"),
			fogctl_safe(fogctl_str(p, "comm", "?"), comm, sizeof(comm)),
			path ? fogctl_safe(path, cg, sizeof(cg)) : "-",
			fogctl_num(p, "runq_wait_seconds", 0));
		json_array_foreach(json_object_get(p, "culprits"), k, c) {
			path = fogctl_str(c, "cgroup", NULL);
			fprintf(f, "  %7lld %-16s %12.6f s (last interval %.6f s)  %s\n",
				fogctl_int(c, "pid"), fogctl_safe(fogctl_str(c, "comm", "?"), comm, sizeof(comm)),
				fogctl_num(c, "wait_seconds", 0),
				fogctl_num(c, "interval_wait_seconds", 0),
				path ? fogctl_safe(path, cg, sizeof(cg)) : "-");
		}
	}
}

static void text_neighbours(FILE *f, json_t *j)
{
	fprintf(f, "mode %s; %.3f s of run-queue wait charged, %.3f s unattributed (all CPUs, "
		   "since start)\n",
		fogctl_str(j, "mode", "?"), fogctl_num(j, "charged_seconds", 0),
		fogctl_num(j, "unattributed_seconds", 0));
	if (fogctl_int(j, "pairs_overflow"))
		fprintf(f, "%lld pairs not kept: the table was full\n", fogctl_int(j, "pairs_overflow"));
	text_pairs(f, json_object_get(j, "pairs"));
	text_procs(f, json_object_get(j, "processes"));
}

int fogctl_neighbours(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cgroup = NULL;
	unsigned long long pid = 0, limit = 20;
	char path[512], *esc;
	int opt, rc;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "c:p:n:", longopts)) != -1) {
		switch (opt) {
		case 'c':
			cgroup = optarg;
			break;
		case 'p':
			if (fogctl_opt_uint("--pid", optarg, 1, 0x7fffffff, &pid))
				return 2;
			break;
		case 'n':
			if (fogctl_opt_uint("--limit", optarg, 1, 100000, &limit))
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fogctl_err("unexpected argument '%s' (usage: fogctl neighbours [--cgroup PATH | -p "
			   "PID] [--limit N])",
			   argv[optind]);
		return 2;
	}
	if (cgroup && pid) {
		fogctl_err("--cgroup and --pid each name the victim: give one");
		return 2;
	}
	if (cgroup && cgroup[0] != '/') {
		fogctl_err("--cgroup '%s' is not a path from the cgroup root (/...)", cgroup);
		return 2;
	}
	if (pid) {
		snprintf(path, sizeof(path), "/api/v1/neighbours?pid=%llu&limit=%llu", pid, limit);
	} else if (cgroup) {
		esc = fogctl_escape(cgroup);
		if (!esc) {
			fogctl_err("out of memory");
			return 1;
		}
		rc = snprintf(path, sizeof(path), "/api/v1/neighbours?cgroup=%s&limit=%llu", esc,
			      limit);
		free(esc);
		if (rc < 0 || (size_t)rc >= sizeof(path)) {
			fogctl_err("--cgroup '%.64s...' is too long", cgroup);
			return 2;
		}
	} else {
		snprintf(path, sizeof(path), "/api/v1/neighbours?limit=%llu", limit);
	}
	return fogctl_call_show("neighbours", "GET", path, NULL, 200, text_neighbours);
}
