// SPDX-License-Identifier: GPL-2.0-only
/*
 * libcurl, loaded when first used. fogd posts to webhooks and Alertmanager
 * and queries Prometheus with libcurl, but only when those are configured;
 * linked at start, libcurl and the 20 libraries it needs (OpenSSL, Kerberos,
 * LDAP, SSH, ...) cost 3 MiB of resident memory in every fogd. These
 * definitions of the libcurl functions fogd calls take their place at link
 * time and forward to the real ones, found with dlopen("libcurl.so.4") at the
 * first call. When libcurl cannot be loaded, every call fails the way libcurl
 * reports failure (NULL, CURLE_FAILED_INIT) and the reason is logged once.
 */
#define CURL_DISABLE_TYPECHECK
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <curl/curl.h>

#include "base/log.h"

#define LIBCURL "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
} fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;

#define SYM(field, name)                                     \
	do {                                                 \
		*(void **)&fn.field = dlsym(h, name);        \
		if (!fn.field) {                             \
			missing = name;                      \
			goto fail;                           \
		}                                            \
	} while (0)

static void load(void)
{
	const char *missing = NULL;
	void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fog_warnx("%s cannot be loaded (%s): webhooks, Alertmanager and Prometheus "
			  "queries are off", LIBCURL, dlerror());
		return;
	}
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_escape, "curl_easy_escape");
	SYM(free, "curl_free");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(url, "curl_url");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(url_get, "curl_url_get");
	SYM(url_set, "curl_url_set");
	loaded = true;
	return;
fail:
	fog_warnx("%s has no %s: webhooks, Alertmanager and Prometheus queries are off",
		  LIBCURL, missing);
	dlclose(h);
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (ready())
		fn.global_cleanup();
}

CURL *curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	if (c && ready())
		fn.easy_cleanup(c);
}

/*
 * The option's number says the type of its value (curl.h: CURLOPTTYPE_*):
 * each is passed on as that type.
 */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(c, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(c, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *c)
{
	return ready() ? fn.easy_perform(c) : CURLE_FAILED_INIT;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = fn.easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode rc)
{
	return ready() ? fn.easy_strerror(rc) : "libcurl could not be loaded";
}

char *curl_easy_escape(CURL *c, const char *s, int len)
{
	return ready() ? fn.easy_escape(c, s, len) : NULL;
}

void curl_free(void *p)
{
	if (p && ready())
		fn.free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (l && ready())
		fn.slist_free_all(l);
}

CURLU *curl_url(void)
{
	return ready() ? fn.url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	if (u && ready())
		fn.url_cleanup(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart part, char **out, unsigned int flags)
{
	return ready() ? fn.url_get(u, part, out, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart part, const char *s, unsigned int flags)
{
	return ready() ? fn.url_set(u, part, s, flags) : CURLUE_OUT_OF_MEMORY;
}
