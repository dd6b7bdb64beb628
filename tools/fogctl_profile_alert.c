// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile alert: the profile fogd captured when an alert fired.
 *   fogctl profile alert [--json]                       the captures fogd remembers
 *   fogctl profile alert ID [--mode cpu|offcpu] [-o FILE]
 * fogd keeps the profile as gzipped pprof; fogctl renders it here in the
 * format the file name asks for (.html, .folded/.txt, .svg, .speedscope.json,
 * .json; .pb.gz as kept), folded lines on stdout without -o. The file is
 * read as untrusted input (user/profile/pprof_read.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fogctl.h"
#include "fogctl_profile.h"
#include "profile/pprof_read.h"
#include "profile/render.h"

#define WAIT_MS 500
#define WAIT_TRIES 700	/* profile_seconds is at most 300 s, and it is built after */

static void text_list(FILE *f, json_t *j)
{
	json_t *k;
	size_t i;

	fprintf(f, "alert profiles: profile_on = %s, %g s each, at most one per %g s\n",
		fogctl_str(j, "profile_on", "?"), fogctl_num(j, "profile_seconds", 0),
		fogctl_num(j, "profile_min_interval_s", 0));
	fprintf(f, "%-12s %-10s %-14s %-9s %s\n", "ALERT", "STATE", "RESOURCE", "LEVEL",
		"FILE / REASON");
	json_array_foreach(json_object_get(j, "captures"), i, k) {
		const char *what = fogctl_str(k, "cpu", NULL);

		if (!what)
			what = fogctl_str(k, "error", NULL);
		if (!what)
			what = fogctl_str(k, "reason", "");
		fprintf(f, "%-12lld %-10s %-14s %-9s %s\n",
			(long long)json_integer_value(json_object_get(k, "alert")),
			fogctl_str(k, "state", "?"), fogctl_str(k, "resource", "?"),
			fogctl_str(k, "level", "?"), what);
	}
}

/* Renders the gzipped pprof in b as format into out; 0, or 1 once the error is said. */
static int render(const struct fogctl_buf *b, const char *format, FILE *out, const char *out_path)
{
	struct fog_prof_output o = { 0 };
	struct fog_pprof *pp;
	struct fog_prof *p = NULL;
	char err[256];
	int rc = 1, e;

	pp = fog_pprof__decode(b->p, b->len, err, sizeof(err));
	if (!pp) {
		fogctl_err("the profile fogd sent cannot be read: %s", err);
		return 1;
	}
	p = fog_pprof_to_prof(pp, fog_pprof_sample_index(pp, NULL), err, sizeof(err));
	if (!p) {
		fogctl_err("the profile fogd sent cannot be read: %s", err);
		goto out;
	}
	e = fog_prof_render(p, format, &o);
	if (e) {
		fogctl_err("cannot render the profile as %s: %s", format, strerror(-e));
		goto out;
	}
	if (fwrite(o.body, 1, o.len, out) != o.len || fflush(out)) {
		fogctl_err("writing %s: %s", out_path ? out_path : "stdout", strerror(errno));
		goto out;
	}
	rc = 0;
	if (out_path && !fogctl_opts.json)
		fogctl_note("wrote %s (%zu bytes, %s)", out_path, o.len, format);
out:
	free(o.body);
	fog_prof__free(p);
	fog_pprof__free(pp);
	return rc;
}

/* Fetches alert id's profile and writes it as out_path asks; 0, 1 or 2. */
static int fetch(const char *id, const char *mode, const char *out_path)
{
	const char *format = out_path ? fog_prof_format_of_path(out_path) : "folded";
	struct fogctl_buf b = { 0 };
	FILE *out = stdout;
	char path[128];
	long status;
	int rc = 1;

	if (!format) {
		fogctl_err("-o %s: name it .html, .folded, .txt, .svg, .speedscope.json, .json or "
			   ".pb.gz", out_path);
		return 2;
	}
	if (out_path && !(out = fogctl_profile_open(out_path)))
		return 1;
	snprintf(path, sizeof(path), "/api/v1/profiles/alert/%s?mode=%s", id, mode);
	/* a profile still being captured (409) is waited for: its seconds are bounded by fogd */
	for (int tries = 0;; tries++) {
		status = fogctl_request("GET", path, NULL, &b, 60);
		if (status != 409 || tries >= WAIT_TRIES)
			break;
		if (!tries && !fogctl_opts.json)
			fogctl_note("alert %s: the profile is being captured, waiting", id);
		free(b.p);
		b = (struct fogctl_buf){ 0 };
		nanosleep(&(struct timespec){ 0, WAIT_MS * 1000000L }, NULL);
	}
	if (status != 200) {
		if (status > 0)
			fogctl_err_api("cannot fetch the alert's profile", status, b.p);
	} else if (!strcmp(format, "pprof")) {
		rc = fwrite(b.p, 1, b.len, out) != b.len || fflush(out);
		if (rc)
			fogctl_err("writing %s: %s", out_path ? out_path : "stdout",
				   strerror(errno));
		else if (out_path && !fogctl_opts.json)
			fogctl_note("wrote %s (%zu bytes)", out_path, b.len);
	} else {
		rc = render(&b, format, out, out_path);
	}
	if (out != stdout && fclose(out) && !rc) {
		fogctl_err("writing %s: %s", out_path, strerror(errno));
		rc = 1;
	}
	if (!rc && out_path && fogctl_opts.json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "alert", id, "mode", mode, "output",
				      out_path, "format", format);

		fogctl_print_json(j);
		json_decref(j);
	}
	free(b.p);
	return rc;
}

int fogctl_profile_alert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *mode = "cpu", *id;
	int opt;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "o:m:jh", longopts)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'm':
			mode = optarg;
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
	if (strcmp(mode, "cpu") && strcmp(mode, "offcpu")) {
		fogctl_err("--mode %s: the modes of an alert's profile are cpu and offcpu", mode);
		return 2;
	}
	if (optind < argc - 1) {
		fogctl_err("one alert id at a time");
		return 2;
	}
	if (optind == argc)
		return fogctl_call_show("cannot list the alert profiles", "GET",
					"/api/v1/profiles/alerts", NULL, 200, text_list);
	id = argv[optind];
	if (!id[0] || strlen(id) > 19 || strspn(id, "0123456789") != strlen(id)) {
		fogctl_err("'%s' is not an alert id (fogctl alerts shows them)", id);
		return 2;
	}
	return fetch(id, mode, out_path);
}
