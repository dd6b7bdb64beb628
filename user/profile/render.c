// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/flame.h"
#include "profile/render.h"
#include "profile/report.h"

static int memstream(const struct fog_prof *p, int (*fn)(const struct fog_prof *, FILE *),
		     struct fog_prof_output *out)
{
	FILE *f = open_memstream(&out->body, &out->len);
	int err;

	if (!f)
		return -errno;
	err = fn(p, f);
	if (fclose(f) && !err)
		err = -EIO;
	if (err) {
		free(out->body);
		out->body = NULL;
	}
	return err;
}

static int json_out(json_t *j, struct fog_prof_output *out)
{
	if (!j)
		return -ENOMEM;
	out->body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!out->body)
		return -ENOMEM;
	out->len = strlen(out->body);
	out->content_type = "application/json";
	return 0;
}

int fog_prof_render(const struct fog_prof *p, const char *format, struct fog_prof_output *out)
{
	int err;

	*out = (struct fog_prof_output){ 0 };
	if (!strcmp(format, "folded")) {
		out->content_type = "text/plain; charset=utf-8";
		return memstream(p, fog_prof_write_folded, out);
	}
	if (!strcmp(format, "pprof")) {
		void *buf;

		err = fog_prof_pprof(p, &buf, &out->len);
		if (err)
			return err;
		out->body = buf;
		out->content_type = "application/octet-stream";
		return 0;
	}
	if (!strcmp(format, "svg")) {
		out->content_type = "image/svg+xml";
		return memstream(p, fog_flame_write_svg_default, out);
	}
	if (!strcmp(format, "html")) {
		out->content_type = "text/html; charset=utf-8";
		return memstream(p, fog_report_write_html, out);
	}
	if (!strcmp(format, "speedscope"))
		return json_out(fog_prof_speedscope(p), out);
	if (!strcmp(format, "json"))
		return json_out(fog_prof_summary_json(p, 20), out);
	return -EINVAL;
}

const char *fog_prof_format_of_path(const char *path)
{
	static const char *const ends[][2] = {
		{ ".folded", "folded" }, { ".txt", "folded" }, { ".pb.gz", "pprof" },
		{ ".pprof", "pprof" }, { ".speedscope.json", "speedscope" }, { ".svg", "svg" },
		{ ".html", "html" }, { ".json", "json" },
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t e = strlen(ends[i][0]);

		if (n > e && !strcmp(path + n - e, ends[i][0]))
			return ends[i][1];
	}
	return NULL;
}
