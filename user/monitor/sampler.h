/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host sampler behind fog_monitor__start(): one sample per interval from
 * the kernel's text files, for programs that run without fogd.
 *   cpu          /proc/stat busy share of the "cpu" line
 *   memory       /proc/meminfo 1 - MemAvailable / MemTotal
 *   psi          /proc/pressure/{cpu,memory,io} growth of "some" total / wall time, worst of three
 *   disk         /proc/diskstats growth of io_ticks / wall time of the busiest /sys/block device
 *   io_latency   /proc/diskstats mean time per completed request (ticks / ios), those devices
 *   network      /proc/net/dev bytes of the busiest direction / link speed (sysfs, or a
 *                configured capacity), busiest interface; none when no speed is known
 *   runq_latency /proc/schedstat growth of run_delay / timeslices (needs CONFIG_SCHEDSTATS)
 * Rates need two readings: the first call fills memory only.
 */
#ifndef FOG_MONITOR_SAMPLER_H
#define FOG_MONITOR_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "fog/monitor.h"

#define FOG_SAMPLER_DEVICES 64 /* disks and interfaces followed, each */
#define FOG_SAMPLER_NAME    32

struct fog_disk_counters {
	char name[FOG_SAMPLER_NAME];
	__u64 ios;	   /* reads + writes completed */
	__u64 ticks_ms;	   /* time spent on them */
	__u64 io_ticks_ms; /* time with I/O in flight */
};

struct fog_net_counters {
	char name[FOG_SAMPLER_NAME];
	__u64 rx_bytes;
	__u64 tx_bytes;
};

/* Busy (all but idle and iowait) and total jiffies of the "cpu" line; -EINVAL. */
int fog_parse_proc_stat(const char *text, __u64 *busy, __u64 *total);
/* 1 - MemAvailable / MemTotal; -EINVAL when either is missing. */
int fog_parse_meminfo_used(const char *text, double *used);
/* The total= of the "some" line, microseconds; -EINVAL. */
int fog_parse_psi_some_total(const char *text, __u64 *total_us);
/* Fills up to max devices; returns how many. */
int fog_parse_diskstats(const char *text, struct fog_disk_counters *out, size_t max);
/* Fills up to max interfaces; returns how many. */
int fog_parse_net_dev(const char *text, struct fog_net_counters *out, size_t max);
/* Sums run_delay (ns) and timeslices over the cpuN lines; -EINVAL. */
int fog_parse_schedstat(const char *text, __u64 *run_delay_ns, __u64 *timeslices);

struct fog_host_sampler {
	char proc[128];
	char sys[128];
	double link_bytes; /* capacity when sysfs has no speed, 0: none */
	char *buf;	   /* file contents */
	size_t buflen;
	bool primed;
	double t; /* monotonic time of the previous reading */
	__u64 cpu_busy, cpu_total;
	bool have_cpu;
	__u64 psi[3];
	bool have_psi[3];
	__u64 run_delay, timeslices;
	bool have_sched;
	struct fog_disk_counters disks[FOG_SAMPLER_DEVICES];
	size_t ndisks;
	struct fog_net_counters nets[FOG_SAMPLER_DEVICES];
	size_t nnets;
};

/* -ENOMEM; proc and sys roots NULL for "/proc" and "/sys". */
int fog_host_sampler_init(struct fog_host_sampler *s, const char *proc, const char *sys,
			  double link_bytes_per_second);
void fog_host_sampler_release(struct fog_host_sampler *s);

/* Reads the files at monotonic time now and fills what can be measured (NAN otherwise). */
void fog_host_sampler_read(struct fog_host_sampler *s, double now, struct fog_monitor_sample *out);

#endif /* FOG_MONITOR_SAMPLER_H */
