/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What run.c (the library API of include/fog/profiler.h) parses of a profiled
 * process's /proc files, declared apart so the parsers can be fuzzed
 * (tests/fuzz/fuzz_procfiles.c). The process's comm is in that text: hostile.
 */
#ifndef FOG_PROF_RUN_H
#define FOG_PROF_RUN_H

#include <stdbool.h>
#include <linux/types.h>

/*
 * utime + stime (fields 14 and 15, clock ticks) of /proc/PID/stat text (NUL
 * terminated); false when the text is not such a line.
 */
bool fog_profile_stat_cpu_ticks(const char *stat, __u64 *ticks);

#endif /* FOG_PROF_RUN_H */
