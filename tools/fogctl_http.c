// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "fogctl.h"

const char *fogctl_socket(void)
{
	const char *s = getenv("FOGCTL_SOCKET");

	return s && *s ? s : FOGCTL_DEFAULT_SOCKET;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct fogctl_buf *b = ctx;
	char *nb = realloc(b->p, b->len + size * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + b->len, p, size * n);
	b->p = nb;
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

long fogctl_request(const char *method, const char *path, const char *body,
		    struct fogctl_buf *out, long timeout_s)
{
	const char *sock = fogctl_socket();
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char url[512];
	long status = -1;
	CURLcode rc;

	if (!c) {
		fprintf(stderr, "fogctl: cannot initialise libcurl\n");
		return -1;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	if (body) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	rc = curl_easy_perform(c);
	if (rc)
		fprintf(stderr, "fogctl: cannot reach fogd on %s: %s (is fogd running? set --socket "
				"or FOGCTL_SOCKET)\n",
			sock, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return status;
}
