// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile continuous: the snapshots of fogd's continuous mode.
 *   fogctl profile continuous [--json]              the list
 *   fogctl profile continuous NAME|latest [-o FILE] one snapshot (gzipped pprof)
 */
#include <getopt.h>
#include <string.h>

#include "fogctl.h"
#include "fogctl_profile.h"

static void text_list(FILE *f, json_t *j)
{
	const char *last = fogctl_str(j, "last_error", NULL);
	json_t *snap;
	size_t i;

	fprintf(f, "continuous profiling: %s, %lld Hz, a snapshot every %g s, in %s\n",
		json_is_true(json_object_get(j, "enabled")) ? "on" : "off", fogctl_int(j, "frequency"),
		json_real_value(json_object_get(j, "snapshot_seconds")),
		fogctl_str(j, "directory", "?"));
	fprintf(f, "kept: %zu snapshots, %lld bytes (max %lld bytes, %g s); errors: %lld%s%s\n",
		json_array_size(json_object_get(j, "snapshots")), fogctl_int(j, "bytes"),
		fogctl_int(j, "max_bytes"), json_real_value(json_object_get(j, "max_age_seconds")),
		fogctl_int(j, "errors"), last ? ", last: " : "", last ? last : "");
	json_array_foreach(json_object_get(j, "snapshots"), i, snap)
		fprintf(f, "%-34s %s %10lld\n", fogctl_str(snap, "name", "?"),
			fogctl_str(snap, "time", "?"), fogctl_int(snap, "bytes"));
}

int fogctl_profile_continuous(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *name;
	char path[256];
	FILE *out = stdout;
	json_t *result;
	int opt, rc;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "o:jh", longopts)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'j':	/* as --json anywhere */
			fogctl_opts.json = true;
			break;
		case 'h':
			fogctl_profile_usage(stdout);
			return 0;
		default:
			fogctl_profile_usage(stderr);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fogctl_err("one snapshot name at a time");
		return 2;
	}
	if (optind == argc)
		return fogctl_call_show("cannot list the snapshots", "GET",
					"/api/v1/profiles/continuous", NULL, 200, text_list);
	name = argv[optind];
	if (strlen(name) > 64 || strchr(name, '/')) {
		fogctl_err("'%s' is not a snapshot name", name);
		return 2;
	}
	if (out_path && !(out = fogctl_profile_open(out_path)))
		return 1;
	snprintf(path, sizeof(path), "/api/v1/profiles/continuous/%s", name);
	result = json_pack("{s:s}", "name", name);
	rc = fogctl_profile_save(path, "cannot fetch the snapshot", 30, out, out_path, result);
	json_decref(result);
	return rc;
}
