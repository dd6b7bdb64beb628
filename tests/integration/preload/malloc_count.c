// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for tests: counts heap allocations (malloc, calloc,
 * realloc, the aligned variants) of the whole process and writes the counts
 * to $FOG_MALLOC_COUNT_FILE on SIGUSR2: "malloc N calloc N realloc N aligned N".
 * Allocation goes on through glibc's own entry points.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static atomic_ulong n_malloc, n_calloc, n_realloc, n_aligned;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	atomic_fetch_add_explicit(&n_calloc, 1, memory_order_relaxed);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
	atomic_fetch_add_explicit(&n_aligned, 1, memory_order_relaxed);
	return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p = memalign(align, n);

	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

static char *put_num(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static const char *out_path;

/* async-signal-safe: open, write, close only */
static void dump(int sig __attribute__((unused)))
{
	char buf[160], *p = buf;
	int fd, saved = errno;

	p = put_str(p, "malloc ");
	p = put_num(p, atomic_load(&n_malloc));
	p = put_str(p, " calloc ");
	p = put_num(p, atomic_load(&n_calloc));
	p = put_str(p, " realloc ");
	p = put_num(p, atomic_load(&n_realloc));
	p = put_str(p, " aligned ");
	p = put_num(p, atomic_load(&n_aligned));
	*p++ = '\n';
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, buf, (size_t)(p - buf)) < 0)
			(void)0;
		close(fd);
	}
	errno = saved;
}

__attribute__((constructor)) static void init(void)
{
	struct sigaction sa;

	out_path = getenv("FOG_MALLOC_COUNT_FILE");
	if (!out_path)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dump;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
}
