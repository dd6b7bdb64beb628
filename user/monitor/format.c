// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor/format.h"

static __thread char errmsg[256];

static const struct {
	const char *name;
	const char *title;
	enum fog_monitor_unit unit;
} resources[FOG_MONITOR_RESOURCES] = {
	[FOG_MONITOR_CPU] = { "cpu", "Cpu", FOG_MONITOR_FRACTION },
	[FOG_MONITOR_MEMORY] = { "memory", "Memory", FOG_MONITOR_FRACTION },
	[FOG_MONITOR_DISK] = { "disk", "Disk", FOG_MONITOR_FRACTION },
	[FOG_MONITOR_NETWORK] = { "network", "Network", FOG_MONITOR_FRACTION },
	[FOG_MONITOR_IO_LATENCY] = { "io_latency", "IoLatency", FOG_MONITOR_SECONDS },
	[FOG_MONITOR_RUNQ_LATENCY] = { "runq_latency", "RunqLatency", FOG_MONITOR_SECONDS },
	[FOG_MONITOR_PSI] = { "psi", "Pressure", FOG_MONITOR_FRACTION },
};

static const char *const levels[FOG_ALERT_LEVELS] = {
	[FOG_ALERT_INFO] = "info",
	[FOG_ALERT_WARNING] = "warning",
	[FOG_ALERT_ERROR] = "error",
	[FOG_ALERT_CRITICAL] = "critical",
};

const char *fog_monitor_errmsg(void)
{
	return errmsg;
}

void fog_monitor_set_errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
}

int fog_monitor_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

const char *fog_monitor_resource_name(enum fog_monitor_resource r)
{
	return (unsigned int)r < FOG_MONITOR_RESOURCES ? resources[r].name : "unknown";
}

const char *fog_monitor_resource_title(enum fog_monitor_resource r)
{
	return (unsigned int)r < FOG_MONITOR_RESOURCES ? resources[r].title : "Unknown";
}

enum fog_monitor_unit fog_monitor_resource_unit(enum fog_monitor_resource r)
{
	return (unsigned int)r < FOG_MONITOR_RESOURCES ? resources[r].unit : FOG_MONITOR_FRACTION;
}

int fog_monitor_resource_parse(const char *name, enum fog_monitor_resource *out)
{
	for (int i = 0; name && i < FOG_MONITOR_RESOURCES; i++) {
		if (!strcmp(name, resources[i].name)) {
			*out = (enum fog_monitor_resource)i;
			return 0;
		}
	}
	fog_monitor_set_errmsg("unknown resource '%s' (cpu, memory, disk, network, io_latency, "
			       "runq_latency, psi)",
			       name ? name : "(null)");
	return -EINVAL;
}

const char *fog_alert_level_name(enum fog_alert_level l)
{
	return (unsigned int)l < FOG_ALERT_LEVELS ? levels[l] : "unknown";
}

int fog_alert_level_parse(const char *name, enum fog_alert_level *out)
{
	for (int i = 0; name && i < FOG_ALERT_LEVELS; i++) {
		if (!strcmp(name, levels[i])) {
			*out = (enum fog_alert_level)i;
			return 0;
		}
	}
	fog_monitor_set_errmsg("unknown alert level '%s' (info, warning, error, critical)",
			       name ? name : "(null)");
	return -EINVAL;
}

const char *fog_trend_direction_name(enum fog_trend_direction d)
{
	switch (d) {
	case FOG_TREND_STABLE:
		return "stable";
	case FOG_TREND_INCREASING:
		return "increasing";
	case FOG_TREND_DECREASING:
		return "decreasing";
	}
	return "unknown";
}

const char *fog_recommendation_kind_name(enum fog_recommendation_kind k)
{
	switch (k) {
	case FOG_REC_CPU_SATURATED:
		return "cpu_saturated";
	case FOG_REC_MEMORY_EXHAUSTION:
		return "memory_exhaustion";
	case FOG_REC_RUNQ_LATENCY:
		return "runq_latency";
	}
	return "unknown";
}

/* One decimal, without a ".0" tail. */
static void trimmed(char *buf, size_t len, double v, const char *suffix)
{
	double r = round(v * 10) / 10;

	if (r == floor(r))
		snprintf(buf, len, "%.0f%s", r, suffix);
	else
		snprintf(buf, len, "%.1f%s", r, suffix);
}

void fog_monitor_format_value(char *buf, size_t len, enum fog_monitor_resource r, double v)
{
	double a = fabs(v);

	if (!isfinite(v))
		snprintf(buf, len, "n/a");
	else if (fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION)
		trimmed(buf, len, v * 100, "%");
	else if (a != 0 && a < 1e-3)
		trimmed(buf, len, v * 1e6, " us");
	else if (a < 1)
		trimmed(buf, len, v * 1e3, " ms");
	else
		trimmed(buf, len, v, " s");
}

void fog_monitor_format_duration(char *buf, size_t len, double s)
{
	long long m, h;

	if (!isfinite(s) || s < 0) {
		snprintf(buf, len, "n/a");
		return;
	}
	if (s < 59.5) {
		snprintf(buf, len, "%lld s", llround(s));
		return;
	}
	m = llround(s / 60);
	if (m < 60) {
		snprintf(buf, len, "%lld min", m);
		return;
	}
	if (m < 24 * 60) {
		if (m % 60)
			snprintf(buf, len, "%lld h %lld min", m / 60, m % 60);
		else
			snprintf(buf, len, "%lld h", m / 60);
		return;
	}
	h = llround(s / 3600);
	if (h % 24)
		snprintf(buf, len, "%lld d %lld h", h / 24, h % 24);
	else
		snprintf(buf, len, "%lld d", h / 24);
}

int fog_monitor_format_time(char *buf, size_t len, double t)
{
	time_t sec;
	long long ms;
	struct tm tm;

	/* years 1970..9999 only: RFC 3339 has four-digit years */
	if (!isfinite(t) || t < 0 || t >= 253402300800.0)
		return -EINVAL;
	/*
	 * Truncated, never rounded up: a time must not print later than it is.
	 * A resolve's endsAt rounded 0.4 ms ahead reached Alertmanager within a
	 * millisecond, still in its future, so it kept the firing endsAt.
	 */
	ms = (long long)floor(t * 1000);
	sec = (time_t)(ms / 1000);
	if (!gmtime_r(&sec, &tm))
		return -EINVAL;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
	return 0;
}
