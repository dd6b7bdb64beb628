// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process that misleads the symbolizer, run as an unprivileged user by
 * test_hostile_symbols.sh.
 *
 *   hostile_jit jit SECONDS
 *	spins SECONDS in code copied to anonymous executable memory (as a JIT
 *	does), so fogd looks for /tmp/perf-PID.map; the test puts a FIFO, a
 *	link or a sparse file there.
 *   hostile_jit elf SECONDS FILE
 *	copies its own executable to FILE (in a folder it owns), maps it
 *	executable (an ELF fogd reads as a mapped library), spins in the
 *	anonymous code and, after a second, truncates FILE to 0 bytes while fogd
 *	profiles it; the process never touches the truncated pages itself.
 *
 * Prints its pid once it runs.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

/*
 * x86-64: mov %rdi,%rax; 1: dec %rax; jnz 1b; ret. Counts its argument down:
 * position independent, so it runs wherever it is copied.
 */
static const unsigned char spin_code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long (*spin)(unsigned long);
	const char *file = NULL;
	bool truncated = false;
	double seconds, t0;
	struct stat st;
	void *mem;

	if (argc < 3 || (strcmp(argv[1], "jit") && strcmp(argv[1], "elf")) ||
	    (!strcmp(argv[1], "elf") && argc < 4)) {
		fprintf(stderr, "usage: hostile_jit jit SECONDS | elf SECONDS FILE\n");
		return 2;
	}
	seconds = atof(argv[2]);
	if (!strcmp(argv[1], "elf")) {
		void *elf;
		int fd;

		file = argv[3];
		if (copy_file("/proc/self/exe", file)) {
			perror(file);
			return 1;
		}
		fd = open(file, O_RDWR | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			perror(file);
			return 1;
		}
		elf = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		if (elf == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		close(fd);
	}
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memcpy(mem, spin_code, sizeof(spin_code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC)) {
		perror("mprotect");
		return 1;
	}
	spin = (unsigned long (*)(unsigned long))mem;
	printf("%d\n", (int)getpid());
	fflush(stdout);
	t0 = now();
	while (now() - t0 < seconds) {
		spin(20000000);
		if (file && !truncated && now() - t0 > 1.0) {
			/* the owner's right: fogd must survive it */
			if (truncate(file, 0))
				perror("truncate");
			truncated = true;
		}
	}
	return 0;
}
