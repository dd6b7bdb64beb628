/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text from outside (process names, request bytes) made safe for JSON and the
 * exposition formats, which both require UTF-8: a process can name itself
 * with any bytes.
 */
#ifndef FOG_TEXT_H
#define FOG_TEXT_H

#include <stddef.h>
#include <jansson.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one. */
size_t fog_utf8_seq_len(const unsigned char *s);
/* Copies src into dst (size len), each byte that is not valid UTF-8 replaced by '?'. */
void fog_utf8_sanitize(char *dst, size_t len, const char *src);
/* A JSON string of s with invalid bytes replaced; JSON null for NULL. Never fails silently. */
json_t *fog_json_text(const char *s);

/*
 * Copies url into dst (size len, always terminated) with its credentials
 * replaced by FOG_REDACTED: the password of user:password@ (a user alone, often
 * a token, entirely), and the values of query parameters named like a secret
 * (token, password, key, secret, auth, credential, signature). What is shown
 * of a URL (fogd -n, /api/v1/config, log lines) goes through here. Returns dst.
 */
#define FOG_REDACTED "xxxxx"
char *fog_url_redact(char *dst, size_t len, const char *url);

#endif /* FOG_TEXT_H */
