// SPDX-License-Identifier: GPL-2.0-only
/*
 * Block device numbers and names from outside text: "major:minor"
 * (fog_io_dev_parse), sysfs uevent files (fog_io_uevent_devname) and
 * /proc/partitions (fog_io_partitions_name), plus the per-device JSON.
 * Input: a selector byte, a dev_t (4 bytes) and the text.
 * Properties: a parsed number formats back to the same text (no leading zeros
 * aside); names are non-empty printable words that fit; failures are the
 * documented errnos; the JSON serialises with the name given.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "base/hist.h"
#include "collect/io_dev.h"
#include "fuzz.h"

static void check_name(const char *name, size_t len)
{
	size_t n = strlen(name);

	FUZZ_CHECK(n > 0 && n < len);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(isgraph((unsigned char)name[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_u8(&in);
	__u32 dev = fuzz_u32(&in), parsed;
	size_t outlen = 1 + fuzz_u8(&in) % FOG_IO_NAME_LEN;
	char *text = fuzz_cstr(in.p, in.n), name[FOG_IO_NAME_LEN], str[FOG_IO_DEV_STR_LEN];
	struct fog_io_dev totals = { 0 };
	struct fog_io_dev_rates rates = { 0 };
	json_t *j;
	char *js;
	int rc;

	switch (sel % 3) {
	case 0:
		rc = fog_io_dev_parse(text, &parsed);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
		if (!rc) {
			unsigned int ma, mi;

			FUZZ_CHECK(fog_io_dev_format(parsed, str, sizeof(str)) == 0);
			FUZZ_CHECK(sscanf(text, "%u:%u", &ma, &mi) == 2);
			FUZZ_CHECK(fog_io_dev_major(parsed) == ma && fog_io_dev_minor(parsed) == mi);
		}
		break;
	case 1:
		rc = fog_io_uevent_devname(text, name, outlen);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ENAMETOOLONG);
		if (!rc)
			check_name(name, outlen);
		break;
	default:
		rc = fog_io_partitions_name(text, dev, name, outlen);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ENAMETOOLONG);
		if (!rc)
			check_name(name, outlen);
		break;
	}
	FUZZ_CHECK(fog_io_dev_format(dev, str, sizeof(str)) == 0);
	FUZZ_CHECK(fog_io_dev_parse(str, &parsed) == 0 && parsed == dev);
	j = fog_io_dev_json(dev, rc == 0 && sel % 3 ? name : NULL, &totals, &rates, NULL);
	FUZZ_CHECK(j);
	js = json_dumps(j, 0);
	FUZZ_CHECK(js);
	if (rc == 0 && sel % 3)
		FUZZ_CHECK(json_is_string(json_object_get(j, "name")));
	free(js);
	json_decref(j);
	free(text);
	return 0;
}
