// SPDX-License-Identifier: GPL-2.0-only
/*
 * direct_read FILE COUNT [HOLD_SECONDS]: reads COUNT distinct 4 KiB blocks of
 * FILE with O_DIRECT (so every read is a block request, not a page-cache hit),
 * in a scattered order, prints "done OPS BYTES", then stays alive for
 * HOLD_SECONDS (default 120) or until a signal so that its figures can be read.
 * Exits 3 when the filesystem refuses O_DIRECT, 1 on any other error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define BLOCK  4096
#define STRIDE 7919 /* a prime: i * STRIDE mod count visits every block once */

static unsigned long gcd(unsigned long a, unsigned long b)
{
	while (b) {
		unsigned long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*s || *end || errno || s[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long count, hold = 120, stride = STRIDE, ops = 0;
	struct stat st;
	void *buf;
	int fd;

	if (argc < 3 || argc > 4 || parse_ulong(argv[2], &count) || count == 0 ||
	    (argc == 4 && parse_ulong(argv[3], &hold))) {
		fprintf(stderr, "usage: direct_read FILE COUNT [HOLD_SECONDS]\n");
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "direct_read: open %s with O_DIRECT: %s\n", argv[1],
			strerror(errno));
		return errno == EINVAL ? 3 : 1;
	}
	if (fstat(fd, &st) || (unsigned long long)st.st_size < (unsigned long long)count * BLOCK) {
		fprintf(stderr, "direct_read: %s is smaller than %lu blocks of %d bytes\n", argv[1],
			count, BLOCK);
		return 1;
	}
	if (posix_memalign(&buf, BLOCK, BLOCK)) {
		fprintf(stderr, "direct_read: out of memory\n");
		return 1;
	}
	while (gcd(stride, count) != 1)
		stride++;
	for (unsigned long i = 0; i < count; i++) {
		off_t off = (off_t)((i * stride) % count) * BLOCK;
		ssize_t n = pread(fd, buf, BLOCK, off);

		if (n < 0 && errno == EINVAL && i == 0) {
			fprintf(stderr, "direct_read: pread with O_DIRECT: %s\n", strerror(errno));
			return 3;
		}
		if (n != BLOCK) {
			fprintf(stderr, "direct_read: pread at %lld returned %zd: %s\n",
				(long long)off, n, n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		ops++;
	}
	close(fd);
	printf("done %lu %lu\n", ops, ops * BLOCK);
	fflush(stdout);
	/* stay visible to fogd until the test has looked; SIGTERM ends it */
	while (hold > 0)
		hold = sleep((unsigned int)hold);
	free(buf);
	return 0;
}
