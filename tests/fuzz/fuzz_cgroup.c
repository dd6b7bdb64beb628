// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/PID/cgroup text (fog_cgroup_parse_self) for each hierarchy mode, into
 * an output buffer of fuzzed size.
 * Properties: 0 means a NUL-terminated path that fits and is the third field
 * of one of the text's lines; otherwise -ENOENT or -ENAMETOOLONG.
 */
#include <errno.h>
#include <string.h>

#include "base/cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t len = 1 + fuzz_u8(&in);
	char *text = fuzz_cstr(in.p, in.n), out[256];

	for (int m = FOG_CGROUP_V2; m <= FOG_CGROUP_V1_CPU; m++) {
		int rc;

		memset(out, 0xa5, sizeof(out));
		rc = fog_cgroup_parse_self(text, (enum fog_cgroup_mode)m, out, len);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG);
		if (rc)
			continue;
		FUZZ_CHECK(strnlen(out, len) < len);
		/* the path is what follows the second colon of some line */
		FUZZ_CHECK(strstr(text, out));
		FUZZ_CHECK(strcmp(fog_cgroup_mode_name((enum fog_cgroup_mode)m), "unknown"));
	}
	free(text);
	return 0;
}
