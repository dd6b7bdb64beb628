// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "uplink/send.h"

#define ANSWER_KEEP 200 /* bytes of an error answer kept for the log */

enum fog_rw_result fog_rw_classify(long status)
{
	if (status >= 200 && status < 300)
		return FOG_RW_OK;
	if (status == 0 || status == 429 || status >= 500)
		return FOG_RW_RETRY;
	return FOG_RW_REJECTED;
}

double fog_rw_backoff(double prev, double min, double max)
{
	double next = prev > 0 ? prev * 2 : min;

	if (next < min)
		next = min;
	return next > max ? max : next;
}

int fog_rw_read_secret(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > 4096 ||
	    (size_t)st.st_size >= len) {
		snprintf(err, errlen, "%s is not a regular file of at most 4 KiB", path);
		close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!n || strlen(buf) != (size_t)n || strpbrk(buf, "\r\n")) {
		memset(buf, 0, len);
		snprintf(err, errlen, "%s must hold one non-empty line", path);
		return -EINVAL;
	}
	return 0;
}

struct fog_rw_client {
	CURL *curl;
	struct curl_slist *headers;
	char url[512];
	char ca_file[256];
	char username[256];
	char password[4097];
	char auth[4200]; /* "Authorization: Bearer ..." */
	double timeout_s;
	const int *cancel;
	char answer[ANSWER_KEEP + 1];
	size_t answer_len;
};

static size_t on_answer(char *p, size_t size, size_t n, void *ctx)
{
	struct fog_rw_client *c = ctx;
	size_t len = size * n, keep = ANSWER_KEEP - c->answer_len;

	if (keep > len)
		keep = len;
	memcpy(c->answer + c->answer_len, p, keep);
	c->answer_len += keep;
	return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct fog_rw_client *c = ctx;

	return c->cancel && __atomic_load_n(c->cancel, __ATOMIC_RELAXED);
}

/* Options every POST shares: set once, so the connection is kept between POSTs. */
static void setup(struct fog_rw_client *c)
{
	CURL *h = c->curl;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	/* the operator's URL only: no redirect is followed elsewhere */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_s * 1000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	/* fogd stopping does not wait for a slow receiver */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	if (c->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->username[0]) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
}

struct fog_rw_client *fog_rw_client__new(const struct fog_rw_client_opts *o)
{
	struct fog_rw_client *c = calloc(1, sizeof(*c));
	static const char *const hdrs[] = {
		"Content-Type: application/x-protobuf",
		"Content-Encoding: snappy",
		"X-Prometheus-Remote-Write-Version: 0.1.0",
		"User-Agent: fogd",
		"Expect:", /* no 100-continue round trip */
	};

	if (!c)
		return NULL;
	if (strlen(o->url) >= sizeof(c->url) ||
	    (o->ca_file && strlen(o->ca_file) >= sizeof(c->ca_file)) ||
	    (o->username && strlen(o->username) >= sizeof(c->username)) ||
	    (o->password && strlen(o->password) >= sizeof(c->password)) ||
	    (o->bearer && strlen(o->bearer) >= sizeof(c->auth) - 32)) {
		free(c);
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(c->url, sizeof(c->url), "%s", o->url);
	if (o->ca_file)
		snprintf(c->ca_file, sizeof(c->ca_file), "%s", o->ca_file);
	if (o->username)
		snprintf(c->username, sizeof(c->username), "%s", o->username);
	if (o->password)
		snprintf(c->password, sizeof(c->password), "%s", o->password);
	c->timeout_s = o->timeout_s;
	c->cancel = o->cancel;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		struct curl_slist *l = curl_slist_append(c->headers, hdrs[i]);

		if (!l)
			goto fail;
		c->headers = l;
	}
	if (o->bearer) {
		struct curl_slist *l;

		snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", o->bearer);
		l = curl_slist_append(c->headers, c->auth);
		if (!l)
			goto fail;
		c->headers = l;
	}
	setup(c);
	return c;
fail:
	fog_rw_client__free(c);
	errno = ENOMEM;
	return NULL;
}

void fog_rw_client__free(struct fog_rw_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	/* the header list holds the token: cleared before it is given back */
	for (struct curl_slist *l = c->headers; l; l = l->next)
		memset(l->data, 0, strlen(l->data));
	curl_slist_free_all(c->headers);
	explicit_bzero(c->password, sizeof(c->password));
	explicit_bzero(c->auth, sizeof(c->auth));
	free(c);
}

enum fog_rw_result fog_rw_client__post(struct fog_rw_client *c, const void *body, size_t len,
				       long *status, char *err, size_t errlen)
{
	CURL *h = c->curl;
	CURLcode rc;
	enum fog_rw_result res;

	*status = 0;
	c->answer_len = 0;
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return FOG_RW_RETRY;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	res = fog_rw_classify(*status);
	if (res != FOG_RW_OK) {
		size_t n = 0;

		/* the answer is the receiver's: shown with what does not print replaced */
		for (size_t i = 0; i < c->answer_len; i++) {
			unsigned char ch = (unsigned char)c->answer[i];

			c->answer[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		c->answer[n] = '\0';
		while (n && c->answer[n - 1] == '?')
			c->answer[--n] = '\0';
		snprintf(err, errlen, "HTTP %ld%s%s", *status, n ? ": " : "", c->answer);
	}
	return res;
}
