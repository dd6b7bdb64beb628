/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening and reading files that a tenant controls (issue 12): anything under
 * /proc/PID/root, /proc/PID/map_files and /proc/PID/ text. A file opened here
 * is a regular file (never a FIFO, device, socket or directory), opened
 * O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC, within a size limit the caller gives; paths
 * inside a process's root resolve with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so no symlink or ".." leaves that root. Where openat2
 * is missing the walk is done a component at a time with O_NOFOLLOW (symlinks
 * refused). Reads are bounded copies (pread up to a limit): a file that grows
 * or shrinks while it is read changes only what is copied.
 */
#ifndef FOG_BASE_SAFE_OPEN_H
#define FOG_BASE_SAFE_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Opens the directory /proc/PID/root as an O_PATH descriptor for
 * fog_safe_openat; pid 0 means the host's "/". Returns the fd or -errno.
 */
int fog_safe_root(pid_t pid);
/*
 * Opens path (absolute or relative, resolved inside root_fd as if root_fd were
 * "/") read-only. A regular file whose size exceeds max_size (0: no limit) is
 * refused with -EFBIG; anything else that is not a regular file with -EINVAL
 * (-ELOOP for a symlink). Returns the fd or -errno.
 */
int fog_safe_openat(int root_fd, const char *path, off_t max_size);
/* The same inside /proc/PID/root. */
int fog_safe_open_in_root(pid_t pid, const char *path, off_t max_size);
/*
 * Opens a kernel-made path such as /proc/PID/maps or a /proc/PID/map_files
 * link (magic links by nature, followed once by the kernel), with O_NONBLOCK,
 * then checks it is a regular file within max_size (0: no limit).
 */
int fog_safe_open_proc(const char *path, off_t max_size);
/*
 * Reads at most max bytes of fd from offset 0 into a malloc'd buffer ending in
 * a NUL (not counted in *len). A file that reports no size (/proc) is read to
 * its end or max; a regular file up to the size fstat gave at the start, so a
 * file that grows is not followed. *truncated (may be NULL) says whether max
 * cut the read short. Returns 0 or -errno.
 */
int fog_safe_read_fd(int fd, size_t max, char **buf, size_t *len, bool *truncated);
/* fog_safe_open_proc + fog_safe_read_fd. */
int fog_safe_read_proc(const char *path, size_t max, char **buf, size_t *len, bool *truncated);

#endif /* FOG_BASE_SAFE_OPEN_H */
