// SPDX-License-Identifier: GPL-2.0-only
/*
 * What fogd accepts from its symbol helper (profile/symhelper.c), a process that
 * parsed a tenant's file and may have been taken over by it: a symbols blob
 * or a line table blob, on arbitrary bytes (the first byte picks which; line
 * tables are taken into the symbols of the fuzzer's own executable, read
 * through the helper's encoding). Properties: a blob is refused (NULL or
 * -EPROTO) or every lookup in it returns a NUL-ended name held by fogd,
 * starting at or below the address looked up.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "profile/elfsym.h"

static __u64 word(const uint8_t *data, size_t size, size_t i)
{
	__u64 v = 0;

	if (size)
		memcpy(&v, data + i % size, size - i % size < sizeof(v) ? size - i % size : sizeof(v));
	return v;
}

static struct fog_elfsym *self_syms(void)
{
	char *blob = NULL;
	size_t len = 0;
	bool debug_line;
	struct fog_elfsym *e;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(!fog_elfsym__serve_symbols(fd, &blob, &len));
	close(fd);
	e = fog_elfsym__from_blob(blob, len, &debug_line);
	FUZZ_CHECK(e);	/* what the helper writes passes fogd's checks */
	free(blob);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fog_elfsym *e;
	bool debug_line;
	char *blob;
	int rc;

	if (!size)
		return 0;
	blob = malloc(size);
	memcpy(blob, data + 1, size - 1);
	if (data[0] & 1) {
		const char *file;
		__u32 line;

		static struct fog_elfsym *self;	/* read once: the executable is large */

		if (!self)
			self = self_syms();
		e = self;
		rc = fog_elfsym__lines_from_blob(e, blob, size - 1);
		FUZZ_CHECK(!rc || rc == -EPROTO || rc == -ENOMEM);
		for (size_t i = 0; !rc && i < 64; i++)
			if (fog_elfsym__line(e, word(data, size, i), &file, &line))
				FUZZ_CHECK(strlen(file) < size);
		free(blob);
		return 0;
	}
	e = fog_elfsym__from_blob(blob, size - 1, &debug_line);
	if (!e) {
		FUZZ_CHECK(errno == EPROTO || errno == ENOMEM);
		free(blob);
		return 0;
	}
	FUZZ_CHECK(strlen(fog_elfsym__build_id(e)) <= 40);
	for (size_t i = 0; i < 64; i++) {
		__u64 v = word(data, size, i), start = 0, vaddr;
		const char *name = fog_elfsym__lookup(e, v, &start);

		if (name)
			FUZZ_CHECK(start <= v && strlen(name) < size);
		fog_elfsym__off_to_vaddr(e, v, &vaddr);
	}
	fog_elfsym__free(e);
	free(blob);
	return 0;
}
