// SPDX-License-Identifier: GPL-2.0-only
/*
 * Query and path arguments of the JSON API (export/api.c: limit, since, pid,
 * /api/v1/processes/PID; the profiler's are in fuzz_profile_api) on arbitrary
 * bytes, and the 400 answer that echoes them. Properties: a number is taken
 * only when it is all digits and within its bound, and then equals what the
 * digits say; every error answer is valid JSON naming the bytes it refused.
 */
#include <errno.h>
#include <string.h>
#include <jansson.h>

#include "export/http.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long long maxes[] = { 0, 1, 1000, 1 << 20, 0x7fffffff, ~0ull };
	char *v = fuzz_cstr(data, size);

	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		unsigned long long n = 12345, check = 0;
		bool digits = *v != '\0';
		int rc = fog_http_parse_u64(v, maxes[i], &n);

		for (const char *p = v; *p; p++)
			digits &= *p >= '0' && *p <= '9';
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		if (rc) {
			struct fog_http_resp resp = { 0 };
			json_t *j;

			FUZZ_CHECK(n == 12345);	/* untouched */
			FUZZ_CHECK(!fog_http_error(&resp, 400, "query argument limit: '%.64s' is "
						   "not a number in 0..%llu", v, maxes[i]));
			j = json_loadb(resp.body, resp.len, 0, NULL);
			FUZZ_CHECK(j && json_is_string(json_object_get(j, "error")));
			json_decref(j);
			free(resp.body);
			continue;
		}
		FUZZ_CHECK(digits && n <= maxes[i]);
		for (const char *p = v; *p; p++)
			check = check * 10 + (unsigned long long)(*p - '0');
		FUZZ_CHECK(check == n || strlen(v) > 19);	/* long inputs: strtoull's own range check */
	}
	free(v);
	return 0;
}
