// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/safe_open.h"

#define FIRST_CHUNK (64u << 10)	/* first buffer for a file that reports no size */

int fog_safe_root(pid_t pid)
{
	char path[64];
	int fd;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	else
		snprintf(path, sizeof(path), "/");
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Where openat2 is missing: one component at a time, symlinks and ".." refused. */
static int walk_nofollow(int root_fd, const char *path)
{
	char comp[256];
	int dir = root_fd, fd;

	for (;;) {
		size_t n;

		while (*path == '/')
			path++;
		n = strcspn(path, "/");
		if (!n) {
			fd = -EISDIR;
			break;
		}
		if (n >= sizeof(comp)) {
			fd = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, path, n);
		comp[n] = '\0';
		path += n;
		while (*path == '/')
			path++;
		if (!strcmp(comp, "..")) {
			fd = -EXDEV;
			break;
		}
		if (!strcmp(comp, ".") && *path)
			continue;
		fd = openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (*path ? O_DIRECTORY : 0));
		if (fd < 0)
			fd = -errno;
		if (dir != root_fd)
			close(dir);
		if (fd < 0 || !*path)
			return fd;
		dir = fd;
	}
	if (dir != root_fd)
		close(dir);
	return fd;
}

/* An O_PATH fd of path inside root_fd: nothing is opened for reading yet. */
static int path_fd(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	return walk_nofollow(root_fd, path);
}

static int check_regular(int fd, off_t max_size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (max_size && st.st_size > max_size)
		return -EFBIG;
	return 0;
}

/*
 * Opens for reading the very inode an O_PATH fd names (through /proc/self/fd,
 * so nothing can be swapped in between), after checking it is a regular file:
 * a FIFO or a device is never opened at all.
 */
static int reopen(int pfd, off_t max_size)
{
	char self[64];
	int fd, err;

	err = check_regular(pfd, max_size);
	if (err)
		return err;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = check_regular(fd, max_size);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int fog_safe_openat(int root_fd, const char *path, off_t max_size)
{
	int pfd, fd;

	if (!path || !*path)
		return -EINVAL;
	pfd = path_fd(root_fd, path);
	if (pfd < 0)
		return pfd;
	fd = reopen(pfd, max_size);
	close(pfd);
	return fd;
}

int fog_safe_open_in_root(pid_t pid, const char *path, off_t max_size)
{
	int root = fog_safe_root(pid), fd;

	if (root < 0)
		return root;
	fd = fog_safe_openat(root, path, max_size);
	close(root);
	return fd;
}

int fog_safe_open_proc(const char *path, off_t max_size)
{
	int pfd, fd;

	/* O_PATH follows the kernel's own link (map_files) without opening the target */
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	fd = reopen(pfd, max_size);
	close(pfd);
	return fd;
}

int fog_safe_read_fd(int fd, size_t max, char **buf, size_t *len, bool *truncated)
{
	size_t want, cap, used = 0;
	struct stat st;
	char *b = NULL;
	bool sized;

	*buf = NULL;
	*len = 0;
	if (truncated)
		*truncated = false;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* a size from fstat is read no further; /proc reports 0 and is read to its end */
	sized = st.st_size > 0;
	want = sized && (size_t)st.st_size < max ? (size_t)st.st_size : max;
	cap = sized ? want : (want < FIRST_CHUNK ? want : FIRST_CHUNK);
	b = malloc(cap + 1);
	if (!b)
		return -ENOMEM;
	while (used < want) {
		ssize_t n;

		if (used == cap) {
			size_t ncap = cap * 2 < want ? cap * 2 : want;
			char *nb = realloc(b, ncap + 1);

			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap = ncap;
		}
		n = pread(fd, b + used, cap - used, (off_t)used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(b);
			return (int)n;
		}
		if (!n)
			break;	/* shrank, or the end of a /proc file */
		used += (size_t)n;
	}
	if (truncated && used == max) {
		char c;

		/* max was reached: is there more? */
		*truncated = (sized && (size_t)st.st_size > max) ||
			     (!sized && pread(fd, &c, 1, (off_t)used) == 1);
	}
	b[used] = '\0';
	*buf = b;
	*len = used;
	return 0;
}

int fog_safe_read_proc(const char *path, size_t max, char **buf, size_t *len, bool *truncated)
{
	int fd = fog_safe_open_proc(path, 0), err;

	if (fd < 0) {
		*buf = NULL;
		*len = 0;
		return fd;
	}
	err = fog_safe_read_fd(fd, max, buf, len, truncated);
	close(fd);
	return err;
}
