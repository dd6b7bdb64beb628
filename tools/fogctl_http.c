// SPDX-License-Identifier: GPL-2.0-only
/* fogctl's one HTTP client: requests to fogd over its Unix socket (libcurl). */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "fogctl.h"

const char *fogctl_socket(void)
{
	const char *s = fogctl_opts.socket;

	if (s && *s)
		return s;
	s = getenv("FOGCTL_SOCKET");
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
		fogctl_err("cannot initialise libcurl");
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
		fogctl_err("cannot reach fogd on %s: %s (is fogd running? set --socket or "
			   "FOGCTL_SOCKET)",
			   sock, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return status;
}

/* fogctl_call, with fogd's refusal said unless quiet. */
static long call(const char *what, const char *method, const char *path, const char *body,
		 long expect, bool quiet, json_t **out)
{
	struct fogctl_buf b = { 0 };
	long status = fogctl_request(method, path, body, &b, 10);
	json_error_t jerr;

	*out = NULL;
	if (status < 0)
		goto out;
	if (status != expect) {
		if (!quiet)
			fogctl_err_api(what, status, b.p);
		goto out;
	}
	*out = b.p ? json_loads(b.p, 0, &jerr) : NULL;
	if (!*out) {
		if (!quiet)
			fogctl_err("fogd sent malformed JSON for %s: %s", path,
				   b.p ? jerr.text : "an empty answer");
		status = -1;
	}
out:
	free(b.p);
	return status;
}

long fogctl_call(const char *what, const char *method, const char *path, const char *body,
		 long expect, json_t **out)
{
	return call(what, method, path, body, expect, false, out);
}

json_t *fogctl_get_json(const char *path, bool quiet)
{
	json_t *j;

	call(path, "GET", path, NULL, 200, quiet, &j);
	return j;
}

int fogctl_call_show(const char *what, const char *method, const char *path, const char *body,
		     long expect, fogctl_text_fn text)
{
	json_t *j;

	if (call(what, method, path, body, expect, false, &j) != expect)
		return 1;
	fogctl_show(j, text);
	json_decref(j);
	return 0;
}

char *fogctl_escape(const char *s)
{
	char *esc = curl_easy_escape(NULL, s, 0), *copy;

	if (!esc)
		return NULL;
	copy = strdup(esc);
	curl_free(esc);
	return copy;
}
