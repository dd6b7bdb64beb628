/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An interactive SVG flame graph (Brendan Gregg's visualisation, "The Flame
 * Graph", CACM 59(6), 2016): stacks merged into a tree, root at the bottom,
 * width proportional to the value; hover shows counts and percentages,
 * click zooms, a search highlights matching frames and their share, kernel
 * frames fold into one. A differential graph (Gregg, "Differential Flame
 * Graphs", 2014) colours each frame by the change of its share between two
 * profiles: red grew, blue shrank.
 */
#ifndef FOG_PROF_FLAME_H
#define FOG_PROF_FLAME_H

#include <stdio.h>

#include "profile/prof.h"

struct fog_flame_opts {
	const char *title;
	unsigned int width;	/* pixels, 0: 1200 */
	double min_width;	/* frames narrower than this many pixels are left out, 0: 0.1 */
	bool inline_svg;	/* for an HTML page: no XML declaration, the width of its box,
				 * controls in the page's toolbar (fog_flame_write_toolbar) */
	const struct fog_prof *base;	/* differential: widths from p, colours by the
					 * change of each frame's share against base */
	const char *unit;	/* of values in frame titles, NULL: by the profile's kind */
};

int fog_flame_write_svg(const struct fog_prof *p, const struct fog_flame_opts *o, FILE *f);
/* With the default options. */
int fog_flame_write_svg_default(const struct fog_prof *p, FILE *f);
/* The search box, kernel fold toggle, zoom reset and match share above an inline graph. */
void fog_flame_write_toolbar(FILE *f, const char *title);
/* Writes s with XML's five special characters escaped. */
void fog_xml_escape(FILE *f, const char *s);

#endif /* FOG_PROF_FLAME_H */
