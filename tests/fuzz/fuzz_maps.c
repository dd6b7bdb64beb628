// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /proc/PID/maps line parser on arbitrary bytes (the paths in it are the
 * tenant's: any byte but a newline), split into lines as the symbolizer
 * splits the bounded copy it reads. Properties: a parsed line has start <
 * end, a path inside the line without a newline; a refused line is -EINVAL.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "profile/symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size), *pos = buf, *line;
	bool too_long;

	while ((line = fog_text_next_line(&pos, buf + size, 8192, &too_long))) {
		size_t len = strlen(line);
		__u64 start, end, pgoff;
		const char *path;
		bool exec;
		int rc;

		if (too_long)
			continue;
		rc = fog_maps_parse_line(line, &start, &end, &pgoff, &exec, &path);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		if (rc)
			continue;
		FUZZ_CHECK(start < end);
		FUZZ_CHECK(path >= line && path <= line + len);
		FUZZ_CHECK(!strchr(path, '\n'));
	}
	free(buf);
	return 0;
}
