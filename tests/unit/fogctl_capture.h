/* SPDX-License-Identifier: GPL-2.0-only */
/* The fogctl unit tests' capture of what the writer prints on stdout and stderr. */
#ifndef FOGCTL_CAPTURE_H
#define FOGCTL_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"

struct capture {
	char *out, *err;	/* what was printed, NUL-terminated after cap_end */
	size_t out_len, err_len;
	FILE *o, *e;
};

/* The writer prints into memory from here, in --json mode or not, as command cmd. */
static inline void cap_start(struct capture *c, bool json, const char *cmd)
{
	memset(c, 0, sizeof(*c));
	c->o = open_memstream(&c->out, &c->out_len);
	c->e = open_memstream(&c->err, &c->err_len);
	assert_non_null(c->o);
	assert_non_null(c->e);
	fogctl_out_redirect(c->o, c->e);
	fogctl_opts.json = json;
	snprintf(fogctl_opts.cmd, sizeof(fogctl_opts.cmd), "%s", cmd);
}

static inline void cap_end(struct capture *c)
{
	fclose(c->o);
	fclose(c->e);
	fogctl_out_redirect(NULL, NULL);
	fogctl_opts.json = false;
	fogctl_opts.cmd[0] = '\0';
}

static inline void cap_free(struct capture *c)
{
	free(c->out);
	free(c->err);
}

#endif /* FOGCTL_CAPTURE_H */
