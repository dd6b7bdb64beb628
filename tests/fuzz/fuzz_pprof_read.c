// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pprof reader on arbitrary bytes, as `fogctl profile diff` reads a file it
 * is given. The first byte picks how the rest arrives: bit 0 set, gzip-compressed
 * here first (so mutations reach the protobuf decoder behind the inflater);
 * clear, as they are (a gzip stream or a bare message). Properties: a refusal
 * sets errno and says why; a profile read has, for every sample value, stacks
 * within FOG_PPROF_DEPTH_MAX whose values add up to its total and frames with
 * valid UTF-8 names; a diff of the profile against itself matches every stack
 * to itself (equal weights) and renders folded, HTML and pprof output, and that
 * pprof decodes again unless it holds negative (base) values, which are refused.
 */
#include <errno.h>
#include <string.h>

#include "profile/diff.h"
#include "profile/pprof_read.h"
#include "fuzz.h"

static void check_prof(const struct fog_prof *p)
{
	__u64 sum = 0;

	for (size_t i = 0; i < p->nstacks; i++) {
		FUZZ_CHECK(p->stacks[i].n <= FOG_PPROF_DEPTH_MAX);
		for (__u32 k = 0; k < p->stacks[i].n; k++)
			FUZZ_CHECK(p->stacks[i].frames[k] < p->nframes);
		sum += p->stacks[i].value;
	}
	FUZZ_CHECK(sum == p->total);
	for (size_t i = 0; i < p->nframes; i++)
		FUZZ_CHECK(fuzz_utf8_valid(p->frames[i].func, strlen(p->frames[i].func)));
}

static void check_diff(const struct fog_pprof *pp, const struct fog_prof *p)
{
	struct fog_diff_page o = { "base", "new", "samples", "count" };
	struct fog_diff *d = fog_diff__new(p, p);
	struct fog_pprof *back;
	char *buf = NULL, err[256];
	size_t len = 0;
	void *pb;
	FILE *f;

	if (!d)
		return;	/* out of memory only */
	for (size_t i = 0; i < d->nstacks; i++)
		FUZZ_CHECK(d->stacks[i].base == d->stacks[i].new);
	f = open_memstream(&buf, &len);
	FUZZ_CHECK(f);
	FUZZ_CHECK(fog_diff_write_folded(d, f) == 0);
	FUZZ_CHECK(fog_diff_write_html(d, &o, f) == 0);
	fclose(f);
	free(buf);
	if (!fog_diff_pprof(pp, pp, &pb, &len, err, sizeof(err))) {
		back = fog_pprof__decode(pb, len, err, sizeof(err));
		if (!back)
			FUZZ_CHECK(err[0]);
		fog_pprof__free(back);
		free(pb);
	}
	fog_diff__free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *in = data + 1;
	size_t n = size ? size - 1 : 0;
	void *gz = NULL;
	struct fog_pprof *pp;
	char err[256] = "";

	if (!size)
		return 0;
	if (data[0] & 1) {
		if (fog_pprof_gzip(in, n, &gz, &n))
			return 0;
		in = gz;
	}
	errno = 0;
	pp = fog_pprof__decode(in, n, err, sizeof(err));
	if (!pp) {
		FUZZ_CHECK(errno > 0);
		FUZZ_CHECK(err[0]);
		free(gz);
		return 0;
	}
	FUZZ_CHECK(fog_pprof_sample_types(pp) >= 1);
	for (size_t i = 0; i < fog_pprof_sample_types(pp) && i < 4; i++) {
		struct fog_prof *p = fog_pprof_to_prof(pp, (int)i, err, sizeof(err));

		if (!p) {
			FUZZ_CHECK(err[0]);
			continue;
		}
		check_prof(p);
		if (!i)
			check_diff(pp, p);
		fog_prof__free(p);
	}
	FUZZ_CHECK(fog_pprof_sample_index(pp, NULL) < (int)fog_pprof_sample_types(pp));
	fog_pprof__free(pp);
	free(gz);
	return 0;
}
