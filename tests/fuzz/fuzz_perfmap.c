// SPDX-License-Identifier: GPL-2.0-only
/*
 * The perf-PID.map parser on arbitrary bytes (a JIT's file, written by the
 * tenant), the whole file at once as the symbolizer reads it, and each line
 * through the /proc/kallsyms line parser too. Properties: every entry handed
 * out has a non-empty name within the line bound, no NUL or newline, a size
 * of at least 1 and a range that does not wrap; the entries plus the skipped
 * lines never exceed the lines of the input; a kallsyms entry has a non-zero
 * address, a non-empty name and fits its buffers.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "profile/symbolize.h"

struct seen {
	size_t entries;
};

static int on_entry(void *ctx, __u64 addr, __u64 size, const char *name)
{
	struct seen *s = ctx;
	size_t len = strlen(name);

	FUZZ_CHECK(size >= 1);
	FUZZ_CHECK(addr + size > addr);
	FUZZ_CHECK(len > 0 && len <= FOG_PERFMAP_LINE_MAX);
	FUZZ_CHECK(!strchr(name, '\n'));
	s->entries++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size), *copy = fuzz_cstr(data, size), *pos, *line;
	struct seen s = { 0 };
	size_t skipped = 0, lines = 0;
	bool too_long;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	lines += size && data[size - 1] != '\n';
	FUZZ_CHECK(fog_perfmap_parse(buf, size, on_entry, &s, &skipped) == 0);
	FUZZ_CHECK(s.entries + skipped <= lines);
	/* the same bytes as kallsyms lines */
	pos = copy;
	while ((line = fog_text_next_line(&pos, copy + size, 1024, &too_long))) {
		char name[256], mod[128];
		__u64 a;
		int rc;

		FUZZ_CHECK(pos <= copy + size);
		if (too_long)
			continue;
		rc = fog_kallsyms_parse_line(line, &a, name, sizeof(name), mod, sizeof(mod));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		if (!rc) {
			FUZZ_CHECK(a != 0);
			FUZZ_CHECK(name[0] && strlen(name) < sizeof(name));
			FUZZ_CHECK(strlen(mod) < sizeof(mod));
		}
	}
	free(buf);
	free(copy);
	return 0;
}
