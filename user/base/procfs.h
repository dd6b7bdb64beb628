/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /proc/PID text as the kernel writes it, parsed once for every part: the
 * fields of stat that fogd reads and the last NSpid of status. The text is a
 * tenant's (comm is theirs: spaces, parentheses, any byte), so parsing is
 * bounded and refuses what it cannot read. Meminfo and PSI are in meminfo.h
 * and psi.h.
 */
#ifndef FOG_BASE_PROCFS_H
#define FOG_BASE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct fog_proc_stat {
	char state;		/* field 3 */
	__u64 utime_ticks;	/* fields 14 and 15, in clock ticks */
	__u64 stime_ticks;
	__u64 start_time;	/* field 22: clock ticks after boot; tells a reused pid apart */
};

/*
 * Parses /proc/PID/stat text (len bytes, need not end in NUL). Fields are read
 * after the last ')' (comm may hold spaces and parentheses); 0, or -EINVAL when
 * the text ends before field 22 or a field is not a number.
 */
int fog_proc_stat_parse(const char *text, size_t len, struct fog_proc_stat *out);
/*
 * The pid a process sees itself as: the last number of the NSpid line of
 * /proc/PID/status text (len bytes); pid when there is none or it is not a pid.
 */
__u32 fog_proc_status_ns_pid(const char *text, size_t len, __u32 pid);
/* /proc/PID/stat read and parsed (one bounded read); 0 or a negative errno. */
int fog_proc_stat_read(__u32 pid, struct fog_proc_stat *out);

#endif /* FOG_BASE_PROCFS_H */
