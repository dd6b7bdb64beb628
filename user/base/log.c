// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

static enum fog_log_level log_level = FOG_LOG_INFO;

static const char *const level_names[] = {
	[FOG_LOG_ERROR] = "error",
	[FOG_LOG_WARN] = "warn",
	[FOG_LOG_INFO] = "info",
	[FOG_LOG_DEBUG] = "debug",
};

void fog_log_set_level(enum fog_log_level level)
{
	log_level = level;
}

enum fog_log_level fog_log_get_level(void)
{
	return log_level;
}

int fog_log_level_parse(const char *s, enum fog_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum fog_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void vlog(enum fog_log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02dZ fogd %s: %s%s%s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, level_names[level], msg,
		suffix ? ": " : "", suffix ? suffix : "");
}

void fog_log(enum fog_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void fog_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_WARN, err, fmt, ap);
	va_end(ap);
}

void fog_warnc(int err, const char *fmt, ...)
{
	const char *msg = strerror(err < 0 ? -err : err);
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_WARN, msg, fmt, ap);
	va_end(ap);
}

void fog_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_WARN, NULL, fmt, ap);
	va_end(ap);
}

void fog_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void fog_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void fog_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(FOG_LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
