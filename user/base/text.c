// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"

size_t fog_utf8_seq_len(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and code points past U+10FFFF are not UTF-8 */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void fog_utf8_sanitize(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (!len)
		return;
	while (*s && o + 1 < len) {
		size_t n = fog_utf8_seq_len(s);

		if (!n) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= len)
			break; /* do not cut a character in two */
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
}

json_t *fog_json_text(const char *s)
{
	json_t *j;
	char *copy;
	size_t len;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	len = strlen(s) + 1;
	copy = malloc(len);
	if (!copy)
		return json_null();
	fog_utf8_sanitize(copy, len, s);
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

/* Appends n bytes of s to dst at *at, truncating at len - 1. */
static void put(char *dst, size_t len, size_t *at, const char *s, size_t n)
{
	if (*at + 1 >= len)
		return;
	if (n > len - 1 - *at)
		n = len - 1 - *at;
	memcpy(dst + *at, s, n);
	*at += n;
	dst[*at] = '\0';
}

static bool secret_name(const char *name, size_t n)
{
	/* "pass" covers password and passwd, "sig" signature, "key" api_key */
	static const char *const words[] = { "token", "pass",	    "key", "secret",
					     "auth",  "credential", "sig", NULL };

	for (int i = 0; words[i]; i++) {
		size_t w = strlen(words[i]);

		for (size_t k = 0; k + w <= n; k++)
			if (!strncasecmp(name + k, words[i], w))
				return true;
	}
	return false;
}

char *fog_url_redact(char *dst, size_t len, const char *url)
{
	const char *scheme = strstr(url, "://"), *auth, *auth_end, *at, *colon, *q, *frag;
	size_t o = 0;

	if (!len)
		return dst;
	dst[0] = '\0';
	if (!scheme) {
		put(dst, len, &o, url, strlen(url));
		return dst;
	}
	auth = scheme + 3;
	auth_end = auth + strcspn(auth, "/?#");
	put(dst, len, &o, url, (size_t)(auth - url));
	/* the last '@' of the authority ends the user information */
	at = NULL;
	for (const char *c = auth; c < auth_end; c++)
		if (*c == '@')
			at = c;
	if (at) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			put(dst, len, &o, auth, (size_t)(colon + 1 - auth));
			put(dst, len, &o, FOG_REDACTED, strlen(FOG_REDACTED));
		} else {
			put(dst, len, &o, FOG_REDACTED, strlen(FOG_REDACTED));
		}
		auth = at;
	}
	q = strchr(auth_end, '?');
	frag = strchr(auth_end, '#');
	if (!q || (frag && frag < q)) {
		put(dst, len, &o, auth, strlen(auth));
		return dst;
	}
	put(dst, len, &o, auth, (size_t)(q + 1 - auth));
	for (const char *p = q + 1; *p && *p != '#';) {
		size_t n = strcspn(p, "&;#");
		const char *eq = memchr(p, '=', n);

		if (eq && secret_name(p, (size_t)(eq - p))) {
			put(dst, len, &o, p, (size_t)(eq + 1 - p));
			put(dst, len, &o, FOG_REDACTED, strlen(FOG_REDACTED));
		} else {
			put(dst, len, &o, p, n);
		}
		p += n;
		if (*p == '&' || *p == ';')
			put(dst, len, &o, p++, 1);
		if (*p == '#')
			break;
	}
	frag = strchr(q, '#');
	if (frag)
		put(dst, len, &o, frag, strlen(frag));
	return dst;
}
