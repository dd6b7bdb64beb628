/* SPDX-License-Identifier: GPL-2.0-only */
/* One entry point for every output format of a profile, by name. */
#ifndef FOG_PROF_RENDER_H
#define FOG_PROF_RENDER_H

#include <stddef.h>

#include "profile/prof.h"

struct fog_prof_output {
	char *body;	/* malloc'd */
	size_t len;
	const char *content_type;
	const char *encoding;	/* "gzip" for pprof, else NULL */
};

/* format: "folded", "pprof", "speedscope", "svg", "html" or "json". Returns 0 or -errno. */
int fog_prof_render(const struct fog_prof *p, const char *format, struct fog_prof_output *out);
/* The format a file name asks for (by its ending), or NULL. */
const char *fog_prof_format_of_path(const char *path);

#endif /* FOG_PROF_RENDER_H */
