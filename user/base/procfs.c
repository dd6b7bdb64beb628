// SPDX-License-Identifier: GPL-2.0-only
/* /proc/PID/stat and status fields (see procfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/procfs.h"

#define STAT_MAX 1024	/* a stat line is some 300 bytes; comm is at most 64 */

/* The next space-separated field at *p (below end) as an unsigned number. */
static int take_u64(const char **p, const char *end, __u64 *out)
{
	const char *s = *p;
	__u64 v = 0;

	while (s < end && *s == ' ')
		s++;
	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (~0ull - 9) / 10)
			return -EINVAL;
		v = v * 10 + (__u64)(*s - '0');
	}
	if (s < end && *s != ' ' && *s != '\n')
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

/* Skips one space-separated field (signed numbers included). */
static int skip_field(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	if (s == end || *s == '\n')
		return -EINVAL;
	while (s < end && *s != ' ' && *s != '\n')
		s++;
	*p = s;
	return 0;
}

int fog_proc_stat_parse(const char *text, size_t len, struct fog_proc_stat *out)
{
	const char *end = text + len, *p = NULL;
	__u64 v;

	for (const char *s = text; s < end; s++)
		if (*s == ')')
			p = s;	/* the last one: comm may hold parentheses */
	if (!p || end - p < 4 || p[1] != ' ')
		return -EINVAL;	/* a text that ends at ')' has no fields after it */
	p += 2;
	*out = (struct fog_proc_stat){ .state = *p++ };
	/* fields 4..13, then utime (14) and stime (15), 16..21, then starttime (22) */
	for (int field = 4; field <= 22; field++) {
		if (field == 14 || field == 15 || field == 22) {
			if (take_u64(&p, end, &v))
				return -EINVAL;
			if (field == 14)
				out->utime_ticks = v;
			else if (field == 15)
				out->stime_ticks = v;
			else
				out->start_time = v;
		} else if (skip_field(&p, end)) {
			return -EINVAL;
		}
	}
	return 0;
}

__u32 fog_proc_status_ns_pid(const char *text, size_t len, __u32 pid)
{
	const char *end = text + len, *line = text;
	__u32 v = pid;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;

		if (le - line > 6 && !memcmp(line, "NSpid:", 6)) {
			const char *p = le;
			__u64 n = 0;

			while (p > line + 6 && p[-1] >= '0' && p[-1] <= '9')
				p--;
			if (p < le && (p[-1] == '\t' || p[-1] == ' ') && !take_u64(&p, le, &n) &&
			    n && n <= (1u << 22))
				v = (__u32)n;	/* PID_MAX_LIMIT is 2^22; anything above is not a pid */
		}
		line = le + 1;
	}
	return v;
}

int fog_proc_stat_read(__u32 pid, struct fog_proc_stat *out)
{
	char path[48], buf[STAT_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	return fog_proc_stat_parse(buf, (size_t)n, out);
}
