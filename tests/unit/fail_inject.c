// SPDX-License-Identifier: GPL-2.0-only
/*
 * The --wrap fakes of fail_inject.h. Each wrapper counts its call while armed and fails the
 * chosen one the way the real call fails (NULL or -1 with errno); every other call goes to the
 * real function. One counter for the whole process: the tests that use it are single-threaded
 * around the call under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "fail_inject.h"

static unsigned int armed_mask;
static unsigned long fail_at, calls;
static bool fired;

void fail_inject_arm(unsigned int mask, unsigned long n)
{
	armed_mask = mask;
	fail_at = n;
	calls = 0;
	fired = false;
}

bool fail_inject_disarm(void)
{
	armed_mask = 0;
	return fired;
}

unsigned long fail_inject_calls(void)
{
	return calls;
}

/* true if this call of the given kind is the one to fail */
static bool should_fail(unsigned int kind)
{
	if (!(armed_mask & kind))
		return false;
	if (++calls != fail_at)
		return false;
	fired = true;
	return true;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t align, size_t size);
int __real_posix_memalign(void **res, size_t align, size_t size);
int __real_open(const char *path, int flags, ...);
FILE *__real_fopen(const char *path, const char *mode);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_write(int fd, const void *buf, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t size);
int __wrap_posix_memalign(void **res, size_t align, size_t size);
int __wrap_open(const char *path, int flags, ...);
FILE *__wrap_fopen(const char *path, const char *mode);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

#define FAIL_NULL(kind, err)                                                                       \
	do {                                                                                       \
		if (should_fail(kind)) {                                                           \
			errno = (err);                                                             \
			return NULL;                                                               \
		}                                                                                  \
	} while (0)

void *__wrap_malloc(size_t size)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_strndup(s, n);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	FAIL_NULL(FAIL_INJECT_ALLOC, ENOMEM);
	return __real_aligned_alloc(align, size);
}

int __wrap_posix_memalign(void **res, size_t align, size_t size)
{
	/* posix_memalign returns the error and leaves errno alone */
	if (should_fail(FAIL_INJECT_ALLOC))
		return ENOMEM;
	return __real_posix_memalign(res, align, size);
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (should_fail(FAIL_INJECT_FILE)) {
		errno = EMFILE;
		return -1;
	}
	return __real_open(path, flags, mode);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	FAIL_NULL(FAIL_INJECT_FILE, EMFILE);
	return __real_fopen(path, mode);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (should_fail(FAIL_INJECT_FILE)) {
		errno = EIO;
		return -1;
	}
	return __real_read(fd, buf, n);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	if (should_fail(FAIL_INJECT_FILE)) {
		errno = EIO;
		return -1;
	}
	return __real_pread(fd, buf, n, off);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (should_fail(FAIL_INJECT_FILE)) {
		errno = EIO;
		return -1;
	}
	return __real_write(fd, buf, n);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (should_fail(FAIL_INJECT_MMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}
