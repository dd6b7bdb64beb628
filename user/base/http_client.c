// SPDX-License-Identifier: GPL-2.0-only
/* Bounded in-memory response bodies for libcurl transfers (see http_client.h). */
#include <stdlib.h>
#include <string.h>

#include "base/http_client.h"

size_t fog_http_body_write(char *data, size_t size, size_t n, void *body)
{
	struct fog_http_body *b = body;
	size_t len = size * n, take = len;
	char *np;

	if (n && len / n != size)
		return 0;
	if (len > b->max - b->len || b->len > b->max) {
		if (!b->keep_head)
			return 0;
		take = b->len < b->max ? b->max - b->len : 0;
	}
	if (!take)
		return len;
	np = realloc(b->p, b->len + take + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, data, take);
	b->p = np;
	b->len += take;
	b->p[b->len] = '\0';
	return len;
}

void fog_http_body_reset(struct fog_http_body *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}
