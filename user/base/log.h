/* SPDX-License-Identifier: GPL-2.0-only */
/* One logger for fogd: lowercase messages, no final period, one line each. */
#ifndef FOG_LOG_H
#define FOG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum fog_log_level {
	FOG_LOG_ERROR,
	FOG_LOG_WARN,
	FOG_LOG_INFO,
	FOG_LOG_DEBUG,
};

void fog_log_set_level(enum fog_log_level level);
enum fog_log_level fog_log_get_level(void);
int fog_log_level_parse(const char *s, enum fog_log_level *out);
/* Sends libbpf's own messages through fog_log. */
void fog_log_route_libbpf(void);

void fog_log(enum fog_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fog_warn appends strerror(errno); fog_warnx does not. */
void fog_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fog_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fog_warnc appends strerror(err), err an errno either sign (the -errno functions return). */
void fog_warnc(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only: logs and exits with status 1. */
void fog_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* FOG_LOG_H */
