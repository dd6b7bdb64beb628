// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl: the command-line client of fogd. It reads fogd's JSON API over the
 * local Unix socket (libcurl), never the kernel. This file is the top-level
 * command table; each command family lives in its own fogctl_*.c and shares
 * the writer, the error printer and the parsers of fogctl.h.
 */
#include <string.h>
#include <curl/curl.h>

#include "fogctl.h"

static const struct fogctl_cmd cmds[] = {
	{ "status", fogctl_status, "collectors, cgroup mode, event counters" },
	{ "top", fogctl_top, "live view of processes [--once] [--json] [--sort K] [--limit N]" },
	{ "neighbours", fogctl_neighbours,
	  "who slowed whom: run-queue wait charged to culprits [--cgroup PATH | -p PID]" },
	{ "events", fogctl_events, "recent events [exec|exit|runq_outlier|oom_kill|io_outlier]" },
	{ "metrics", fogctl_metrics, "the monitor's latest host sample" },
	{ "alerts", fogctl_alerts, "alert level and thresholds per resource" },
	{ "trends", fogctl_trends, "trend per resource with its forecast" },
	{ "recommend", fogctl_recommend, "capacity recommendations with their evidence" },
	{ "profile", fogctl_profile,
	  "profile -p PID|--cgroup PATH|--all [-d 10s] [--mode cpu|offcpu|mem [--uprobe]]\n"
	  "             [--lines] -o out.html|.svg|.pb.gz|.folded; profile continuous [NAME];\n"
	  "             profile diff BASE.pb.gz NEW.pb.gz -o diff.html" },
	{ "sched", fogctl_sched,
	  "placement engine: submit|list|show|explain|cancel|workers|stats|claim|report" },
	{ "get", fogctl_get, "any API path as JSON, e.g. fogctl get /api/v1/io" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl [--socket PATH] [--json] COMMAND [ARGS]\n");
	fogctl_usage_table(f, cmds, sizeof(cmds) / sizeof(cmds[0]));
	fprintf(f, "--json may also follow the command; durations read 500ms, 30s, 1.5m, 2h\n"
		   "the socket defaults to $FOGCTL_SOCKET or %s\n",
		FOGCTL_DEFAULT_SOCKET);
}

/* The options before the command; the index of the command word, or -1 with rc set. */
static int global_opts(int argc, char **argv, int *rc)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			fogctl_opts.socket = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			*rc = 0;
			return -1;
		} else {
			fogctl_err("unknown option '%s'", argv[i]);
			usage(stderr);
			*rc = 2;
			return -1;
		}
	}
	if (i == argc) {
		fogctl_err("a command is missing");
		usage(stderr);
		*rc = 2;
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	int i, rc = 2;

	argc = fogctl_take_json(argc, argv);
	i = global_opts(argc, argv, &rc);
	if (i < 0)
		return rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* argv[i - 1] stands for the table's word: "fogctl" or the socket path */
	rc = fogctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), usage, NULL, argc - i + 1,
			     argv + i - 1);
	curl_global_cleanup();
	return rc;
}
