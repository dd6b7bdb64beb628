/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory use as the kernel reports it in text files: the host's from
 * /proc/meminfo, a process's from /proc/PID/statm and a cgroup's from its
 * memory controller files (v1 memory.usage_in_bytes and friends, v2
 * memory.current and memory.max). Parsing only: the caller reads the files.
 */
#ifndef FOG_MEMINFO_H
#define FOG_MEMINFO_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#define FOG_MEMINFO_TOTAL      (1u << 0)
#define FOG_MEMINFO_FREE       (1u << 1)
#define FOG_MEMINFO_AVAILABLE  (1u << 2)
#define FOG_MEMINFO_SWAP_TOTAL (1u << 3)
#define FOG_MEMINFO_SWAP_FREE  (1u << 4)
#define FOG_MEMINFO_ALL	       ((1u << 5) - 1)

struct fog_meminfo {
	__u64 total_bytes;     /* MemTotal */
	__u64 free_bytes;      /* MemFree */
	__u64 available_bytes; /* MemAvailable: what can be allocated without swapping */
	__u64 swap_total_bytes;
	__u64 swap_free_bytes;
	unsigned int have; /* FOG_MEMINFO_* bits of the fields read */
};

/*
 * Parses /proc/meminfo text. Fields that parse are kept even when others do
 * not. Returns 0, or -EINVAL with err naming the first problem: a line
 * without "Key:", a bad value for a field fogd reads, or such a field missing.
 */
int fog_meminfo_parse(const char *text, struct fog_meminfo *out, char *err, size_t errlen);

/*
 * {"total_bytes", "available_bytes", "used_bytes", "free_bytes", "swap_total_bytes",
 * "swap_free_bytes"}; a figure that was not read is null. used is total - available.
 */
json_t *fog_meminfo_json(const struct fog_meminfo *m);

/* The resident set, in pages, from /proc/PID/statm text ("size resident shared ..."). */
int fog_statm_parse(const char *text, __u64 *resident_pages);

/* What a memory controller file reports as "no limit". */
#define FOG_MEMCG_NO_LIMIT UINT64_MAX

/*
 * One byte count from a memory controller file: memory.current, memory.max,
 * memory.usage_in_bytes, memory.limit_in_bytes, memory.failcnt. "max" (v2) and
 * v1's unlimited value (PAGE_COUNTER_MAX pages: 2^63 - 1 rounded down to a
 * page) are both FOG_MEMCG_NO_LIMIT. Returns 0 or -EINVAL.
 */
int fog_memcg_parse_value(const char *text, __u64 *out);

/*
 * The value of one "key value" line of a flat-keyed file (v2 memory.events,
 * memory.stat). Returns 0, -ENOENT when the key is absent, or -EINVAL.
 */
int fog_memcg_parse_key(const char *text, const char *key, __u64 *out);

#endif /* FOG_MEMINFO_H */
