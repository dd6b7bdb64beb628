// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/pressure/{cpu,memory,io} text (fog_psi_parse) and its JSON.
 * Properties: a failure is -EINVAL with a message; success means a some line;
 * every kept average is in 0..100; the JSON has both keys and serialises.
 */
#include <errno.h>
#include <string.h>

#include "base/psi.h"
#include "fuzz.h"

static void check_line(const struct fog_psi_line *l)
{
	FUZZ_CHECK(l->avg10 >= 0 && l->avg10 <= 100);
	FUZZ_CHECK(l->avg60 >= 0 && l->avg60 <= 100);
	FUZZ_CHECK(l->avg300 >= 0 && l->avg300 <= 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), err[128];
	struct fog_psi p;
	json_t *j;
	char *out;
	int rc;

	rc = fog_psi_parse(text, &p, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc)
		FUZZ_CHECK(err[0] != '\0');
	else
		FUZZ_CHECK(p.has_some);
	if (p.has_some)
		check_line(&p.some);
	if (p.has_full)
		check_line(&p.full);
	/* no error buffer at all must work too */
	FUZZ_CHECK(fog_psi_parse(text, &p, NULL, 0) == rc);
	j = fog_psi_json(&p);
	FUZZ_CHECK(j && json_object_get(j, "some") && json_object_get(j, "full"));
	out = json_dumps(j, 0);
	FUZZ_CHECK(out);
	free(out);
	json_decref(j);
	free(text);
	return 0;
}
