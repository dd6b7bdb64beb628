/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How the monitor writes figures for people: values in their unit ("93.2%",
 * "12 ms"), durations ("about 3 h 10 min") and RFC 3339 timestamps.
 */
#ifndef FOG_MONITOR_FORMAT_H
#define FOG_MONITOR_FORMAT_H

#include <stddef.h>
#include "fog/monitor.h"

/* "93.2%" for a fraction, "12 ms" / "1.5 s" / "250 us" for seconds. */
void fog_monitor_format_value(char *buf, size_t len, enum fog_monitor_resource r, double v);

/*
 * A rounded duration: "45 s", "12 min", "3 h 10 min", "2 d 4 h"; "less than
 * a second" below one. Hours and days drop a zero tail ("3 h").
 */
void fog_monitor_format_duration(char *buf, size_t len, double seconds);

/* Epoch seconds as "2024-05-01T12:00:00.250Z" (UTC, milliseconds); -EINVAL if out of range. */
int fog_monitor_format_time(char *buf, size_t len, double epoch_seconds);

/* The camel-case name used in Alertmanager alert names: "Cpu", "IoLatency". */
const char *fog_monitor_resource_title(enum fog_monitor_resource r);

/* Thread-local message behind fog_monitor_errmsg(). */
void fog_monitor_set_errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets that message and returns err, for `return fog_monitor_fail(-EINVAL, ...)`. */
int fog_monitor_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* FOG_MONITOR_FORMAT_H */
