// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile diff: compares two pprof files locally (no fogd needed).
 *   fogctl profile diff BASE.pb.gz NEW.pb.gz [-o diff.html|diff.folded|diff.pb.gz]
 *                       [--sample TYPE]
 * Stacks match by function names; the page colours what grew red and what
 * shrank blue by the change of each frame's share of its own profile's total;
 * folded lines carry both weights ("stack BASE NEW"); pprof output is NEW with
 * BASE subtracted as negative samples labelled pprof::base, as pprof -diff_base
 * makes it. Both files are untrusted input (user/profile/pprof_read.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/diff.h"
#include "profile/pprof_read.h"
#include "profile/render.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl profile diff BASE.pb.gz NEW.pb.gz [-o FILE] [--sample TYPE]\n"
		   "  -o FILE        .html differential flame graph and changes, .folded (or .txt)\n"
		   "                 \"stack BASE NEW\" lines, .pb.gz pprof (NEW minus BASE);\n"
		   "                 default: folded lines on stdout\n"
		   "  --sample TYPE  the sample value to compare (cpu, samples, alloc_space...);\n"
		   "                 default: the one NEW prefers\n");
}

/* The output a file name asks for: html, folded or pprof; NULL for anything else. */
static const char *diff_format(const char *path)
{
	const char *f = fog_prof_format_of_path(path);

	return f && (!strcmp(f, "html") || !strcmp(f, "folded") || !strcmp(f, "pprof")) ? f :
											   NULL;
}

struct side {
	const char *path;
	struct fog_pprof *pp;
	struct fog_prof *p;
	int idx;
};

/* Reads one file and its profile of the sample value type (NULL: the file's choice); 0 or 1. */
static int load(struct side *s, const char *type)
{
	char err[256];

	s->pp = fog_pprof__read_file(s->path, err, sizeof(err));
	if (!s->pp) {
		fprintf(stderr, "fogctl profile diff: %s: %s\n", s->path, err);
		return 1;
	}
	s->idx = fog_pprof_sample_index(s->pp, type);
	if (s->idx < 0) {
		const char *unit;

		fprintf(stderr, "fogctl profile diff: %s: no sample value '%s'; it has:", s->path,
			type);
		for (size_t i = 0; i < fog_pprof_sample_types(s->pp); i++) {
			const char *t = fog_pprof_sample_type(s->pp, (int)i, &unit);

			fprintf(stderr, " %s/%s", t, unit);
		}
		fputc('\n', stderr);
		return 1;
	}
	s->p = fog_pprof_to_prof(s->pp, s->idx, err, sizeof(err));
	if (!s->p) {
		fprintf(stderr, "fogctl profile diff: %s: %s\n", s->path, err);
		return 1;
	}
	return 0;
}

static int write_out(const char *path, const char *format, struct side *base, struct side *new,
		     const struct fog_diff *d)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	char err[256] = "";
	int rc = 0;

	if (!f) {
		fprintf(stderr, "fogctl profile diff: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!strcmp(format, "pprof")) {
		void *buf;
		size_t len;

		rc = fog_diff_pprof(base->pp, new->pp, &buf, &len, err, sizeof(err));
		if (!rc && fwrite(buf, 1, len, f) != len)
			rc = -EIO;
		if (!rc)
			free(buf);
	} else if (!strcmp(format, "html")) {
		const char *unit, *type = fog_pprof_sample_type(new->pp, new->idx, &unit);
		struct fog_diff_page o = { base->path, new->path, type, unit };

		rc = fog_diff_write_html(d, &o, f);
	} else {
		rc = fog_diff_write_folded(d, f);
	}
	if ((path ? fclose(f) : fflush(f)) && !rc)
		rc = -EIO;
	if (rc) {
		fprintf(stderr, "fogctl profile diff: writing %s: %s\n", path ? path : "stdout",
			err[0] && rc != -EIO ? err : strerror(-rc));
		return 1;
	}
	if (path)
		fprintf(stderr, "fogctl profile diff: wrote %s\n", path);
	return 0;
}

int fogctl_profile_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "sample", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct side base = { 0 }, new = { 0 };
	const char *out = NULL, *format = "folded", *type = NULL;
	struct fog_diff *d = NULL;
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 's':
			type = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "fogctl profile diff: give two pprof files, BASE then NEW\n");
		usage(stderr);
		return 2;
	}
	if (out && !(format = diff_format(out))) {
		fprintf(stderr, "fogctl profile diff: -o %s: name it .html, .folded or .pb.gz\n",
			out);
		return 2;
	}
	base.path = argv[optind];
	new.path = argv[optind + 1];
	if (load(&new, type))
		goto out;
	/* the value NEW compares by is the one BASE must have */
	if (load(&base, fog_pprof_sample_type(new.pp, new.idx, NULL)))
		goto out;
	d = fog_diff__new(base.p, new.p);
	if (!d) {
		if (errno == E2BIG)
			fprintf(stderr, "fogctl profile diff: the stacks' names add up to more than "
				"%u MiB\n", FOG_PPROF_NAMES_MAX >> 20);
		else
			fprintf(stderr, "fogctl profile diff: %s\n", strerror(errno));
		goto out;
	}
	rc = write_out(out, format, &base, &new, d);
out:
	fog_diff__free(d);
	fog_prof__free(base.p);
	fog_prof__free(new.p);
	fog_pprof__free(base.pp);
	fog_pprof__free(new.pp);
	return rc;
}
