// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory figures from kernel text files: /proc/meminfo (fog_meminfo_parse),
 * /proc/PID/statm (fog_statm_parse) and memory-cgroup files
 * (fog_memcg_parse_value, fog_memcg_parse_key with a key from the input).
 * Input: a selector byte; for parse_key a key up to a NUL, then the text.
 * Properties: failures are negative errnos (meminfo: with a message); success
 * means every field fogd needs was read; statm's resident set fits its size;
 * a key that parses starts a line of the text.
 */
#include <errno.h>
#include <string.h>

#include "base/meminfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_u8(&in);
	char *key = (sel & 3) == 3 ? fuzz_str(&in) : NULL;
	char *text = fuzz_cstr(in.p, in.n), err[128];
	struct fog_meminfo m;
	__u64 v = 0;
	json_t *j;
	int rc;

	switch (sel & 3) {
	case 0:
		err[0] = '\0';
		rc = fog_meminfo_parse(text, &m, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		FUZZ_CHECK(rc ? err[0] != '\0' : m.have == FOG_MEMINFO_ALL);
		FUZZ_CHECK((m.have & ~FOG_MEMINFO_ALL) == 0);
		FUZZ_CHECK(fog_meminfo_parse(text, &m, NULL, 0) == rc);
		j = fog_meminfo_json(&m);
		FUZZ_CHECK(j && json_object_size(j) == 6);
		if (!rc)
			FUZZ_CHECK(json_is_integer(json_object_get(j, "used_bytes")));
		json_decref(j);
		break;
	case 1:
		rc = fog_statm_parse(text, &v);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		break;
	case 2:
		rc = fog_memcg_parse_value(text, &v);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		if (!rc && v != FOG_MEMCG_NO_LIMIT)
			FUZZ_CHECK(v < (1ull << 62));
		break;
	default:
		if (!key[0]) /* keys are fogd's own words, never empty */
			break;
		rc = fog_memcg_parse_key(text, key, &v);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		if (!rc) {
			char want[512];

			/* a line starts with "key " */
			snprintf(want, sizeof(want), "\n%s ", key);
			FUZZ_CHECK(!strncmp(text, want + 1, strlen(want + 1)) || strstr(text, want));
		}
		break;
	}
	free(key);
	free(text);
	return 0;
}
