// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ELF symbolizer on arbitrary bytes given as a file (a memfd), as the
 * profiler opens the binaries of profiled processes: fog_elfsym__read directly
 * and through the cache, then lookups at addresses taken from the input.
 * Properties: a bad file is NULL with errno set, never a crash; a symbol found
 * has a non-empty name and starts at or below the address; the build-id is
 * hex; the cache gives the same symbols for the same file and frees them.
 * Then the file cut short (as its owner may truncate it) at a length taken from
 * the input: read again, a bad file is NULL with errno, never a crash. Run with
 * a memory bound (fuzz_elfsym.flags): the limits on sections, symbols and name
 * bytes keep what a small file costs small.
 */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "profile/elfsym.h"

static void check(struct fog_elfsym *e, const uint8_t *data, size_t size)
{
	const char *id = fog_elfsym__build_id(e);
	struct fuzz_in in = { data, size };

	FUZZ_CHECK(strlen(id) <= 40 && strlen(id) % 2 == 0);
	for (const char *p = id; *p; p++)
		FUZZ_CHECK(isxdigit((unsigned char)*p));
	/* addresses from the input's own words: where symbols and segments claim to be */
	for (int i = 0; i < 16 && in.n; i++) {
		__u64 a = fuzz_u64(&in), start = ~0ull, vaddr;
		const char *name = fog_elfsym__lookup(e, a, &start);

		if (name) {
			FUZZ_CHECK(name[0] != '\0');
			FUZZ_CHECK(start <= a);
		}
		if (fog_elfsym__off_to_vaddr(e, a, &vaddr))
			(void)fog_elfsym__lookup(e, vaddr, NULL);
		/* the line table: DWARF from a profiled binary is outside input too */
		if (i < 4) {
			const char *file = NULL;
			__u32 line = 0;

			if (fog_elfsym__line(e, a, &file, &line))
				FUZZ_CHECK(file && file[0]);
		}
	}
	FUZZ_CHECK(fog_elfsym__nsyms(e) || !fog_elfsym__lookup(e, 0x400000, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd(data, size);
	struct fog_elfcache *c;
	struct fog_elfsym *e, *a, *b;

	errno = 0;
	e = fog_elfsym__read(fd);
	if (!e) {
		FUZZ_CHECK(errno != 0);
	} else {
		check(e, data, size);
		c = fog_elfcache__new(1);
		FUZZ_CHECK(c);
		a = fog_elfcache__get(c, fd);
		FUZZ_CHECK(a);
		b = fog_elfcache__get(c, fd);
		FUZZ_CHECK(a == b);
		FUZZ_CHECK(fog_elfsym__nsyms(a) == fog_elfsym__nsyms(e));
		FUZZ_CHECK(!strcmp(fog_elfsym__build_id(a), fog_elfsym__build_id(e)));
		fog_elfcache__put(c, a);
		fog_elfcache__put(c, b);
		fog_elfcache__free(c);
		fog_elfsym__free(e);
	}
	if (size > 1) {
		size_t cut = (size_t)data[size - 1] * size / 256;

		FUZZ_CHECK(!ftruncate(fd, (off_t)cut));
		errno = 0;
		e = fog_elfsym__read(fd);
		if (e)
			check(e, data, cut);
		else
			FUZZ_CHECK(errno != 0);
		fog_elfsym__free(e);
	}
	close(fd);
	return 0;
}
