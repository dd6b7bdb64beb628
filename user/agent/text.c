// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "agent/text.h"

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
