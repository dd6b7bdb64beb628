// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the io collector's logic without BPF: dev_t encodings,
 * device names from uevent and /proc/partitions text (and files), request
 * classification shared with bpf/io.bpf.c, rates and JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <cmocka.h>

#include "base/hist.h"
#include "collect/io_dev.h"

/* ---- dev_t encodings ---- */

static void test_dev_make(void **state)
{
	__u32 d;

	assert_int_equal(fog_io_dev_make(254, 0, &d), 0);
	assert_int_equal(d, 254u << 20);
	assert_int_equal(fog_io_dev_major(d), 254);
	assert_int_equal(fog_io_dev_minor(d), 0);
	assert_int_equal(fog_io_dev_make(4095, 1048575, &d), 0);
	assert_int_equal(d, 0xffffffffu);
	assert_int_equal(fog_io_dev_major(d), 4095);
	assert_int_equal(fog_io_dev_minor(d), 1048575);
	d = 7;
	assert_int_equal(fog_io_dev_make(4096, 0, &d), -ERANGE);
	assert_int_equal(fog_io_dev_make(8, 1048576, &d), -ERANGE);
	assert_int_equal(d, 7); /* untouched on error */
}

static void test_dev_from_user(void **state)
{
	__u32 d;

	/* user-space dev_t interleaves the bits differently from the kernel's */
	assert_int_equal(fog_io_dev_from_user(makedev(259, 3), &d), 0);
	assert_int_equal(d, (259u << 20) | 3);
	assert_int_equal(fog_io_dev_from_user(makedev(8, 300), &d), 0);
	assert_int_equal(d, (8u << 20) | 300);
	assert_int_not_equal((__u32)makedev(8, 300), d);
	assert_int_equal(fog_io_dev_from_user(makedev(5000, 1), &d), -ERANGE);
	assert_int_equal(fog_io_dev_from_user(makedev(1, 1u << 20), &d), -ERANGE);
}

static void test_dev_format(void **state)
{
	char buf[FOG_IO_DEV_STR_LEN], small[4];

	assert_int_equal(fog_io_dev_format((254u << 20) | 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "254:1");
	assert_int_equal(fog_io_dev_format(0xffffffffu, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4095:1048575");
	assert_int_equal(fog_io_dev_format((254u << 20) | 1, small, sizeof(small)), -ENOSPC);
}

static void test_dev_parse(void **state)
{
	static const char *const bad[] = {
		"",	"8",	"8:",	":1",	 "8:1x", " 8:1",  "8:1 ",  "-1:0",
		"8:-1", "+8:1", "8::1", "8:1:2", "a:b",	 "0x8:1", "8.0:1", "\xef\xbc\x98:1"};
	__u32 d = 0;
	char back[FOG_IO_DEV_STR_LEN];

	assert_int_equal(fog_io_dev_parse("8:16", &d), 0);
	assert_int_equal(d, (8u << 20) | 16);
	assert_int_equal(fog_io_dev_parse("0:0", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(fog_io_dev_parse("4095:1048575", &d), 0);
	assert_int_equal(fog_io_dev_format(d, back, sizeof(back)), 0);
	assert_string_equal(back, "4095:1048575");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = 42;
		if (fog_io_dev_parse(bad[i], &d) != -EINVAL)
			fail_msg("\"%s\" was not rejected as malformed", bad[i]);
		assert_int_equal(d, 42);
	}
	assert_int_equal(fog_io_dev_parse("4096:0", &d), -ERANGE);
	assert_int_equal(fog_io_dev_parse("1:1048576", &d), -ERANGE);
	assert_int_equal(fog_io_dev_parse("99999999999:1", &d), -ERANGE);
	assert_int_equal(fog_io_dev_parse("1:4294967296", &d), -ERANGE);
	assert_int_equal(fog_io_dev_parse(NULL, &d), -EINVAL);
}

/* ---- names ---- */

static void test_uevent_devname(void **state)
{
	char name[FOG_IO_NAME_LEN], tiny[4];

	assert_int_equal(
		fog_io_uevent_devname("MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\n"
				      "PARTN=1\n",
				      name, sizeof(name)),
		0);
	assert_string_equal(name, "vda1");
	/* last line without a newline */
	assert_int_equal(fog_io_uevent_devname("MAJOR=8\nDEVNAME=sda", name, sizeof(name)), 0);
	assert_string_equal(name, "sda");
	/* names below a /dev subfolder keep their slash */
	assert_int_equal(fog_io_uevent_devname("DEVNAME=cciss/c0d0\n", name, sizeof(name)), 0);
	assert_string_equal(name, "cciss/c0d0");
	/* the key must start the line */
	assert_int_equal(fog_io_uevent_devname("XDEVNAME=foo\nMAJOR=1\n", name, sizeof(name)),
			 -ENOENT);
	assert_int_equal(fog_io_uevent_devname("MAJOR=1\nMINOR=2\n", name, sizeof(name)), -ENOENT);
	assert_int_equal(fog_io_uevent_devname("", name, sizeof(name)), -ENOENT);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=\n", name, sizeof(name)), -EINVAL);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=a b\n", name, sizeof(name)), -EINVAL);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=a\tb\n", name, sizeof(name)), -EINVAL);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=ab\x01\n", name, sizeof(name)), -EINVAL);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=nvme0n1\n", tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	assert_int_equal(fog_io_uevent_devname("DEVNAME=abc\n", tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "abc");
}

static const char partitions[] = "major minor  #blocks  name\n"
				 "\n"
				 " 254        0  268435456 vda\n"
				 " 254        1     523264 vda1\n"
				 " 259        0 1953514584 nvme0n1\n"
				 " 259        1 1953513472 nvme0n1p1\n"
				 "   8       16 99999999999999 sdb\n"
				 "   7        0          0 loop0";

static void test_partitions_name(void **state)
{
	char name[FOG_IO_NAME_LEN], tiny[5];

	assert_int_equal(fog_io_partitions_name(partitions, 254u << 20, name, sizeof(name)), 0);
	assert_string_equal(name, "vda");
	assert_int_equal(fog_io_partitions_name(partitions, (254u << 20) | 1, name, sizeof(name)),
			 0);
	assert_string_equal(name, "vda1");
	assert_int_equal(fog_io_partitions_name(partitions, (259u << 20) | 1, name, sizeof(name)),
			 0);
	assert_string_equal(name, "nvme0n1p1");
	/* a block count beyond 32 bits is still a number */
	assert_int_equal(fog_io_partitions_name(partitions, (8u << 20) | 16, name, sizeof(name)),
			 0);
	assert_string_equal(name, "sdb");
	/* last row without a newline */
	assert_int_equal(fog_io_partitions_name(partitions, 7u << 20, name, sizeof(name)), 0);
	assert_string_equal(name, "loop0");
	assert_int_equal(fog_io_partitions_name(partitions, (254u << 20) | 2, name, sizeof(name)),
			 -ENOENT);
	assert_int_equal(fog_io_partitions_name(partitions, (259u << 20) | 1, tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	assert_int_equal(fog_io_partitions_name("", 0, name, sizeof(name)), -ENOENT);
}

static void test_partitions_malformed(void **state)
{
	/* every row but the last is malformed and must be skipped, not half-read */
	static const char text[] = "major minor #blocks name\n"
				   "254 1 100\n"	     /* too few fields */
				   "254 1 100 vda1 extra\n"  /* too many */
				   "254x 1 100 bad1\n"	     /* non-numeric major */
				   "254 -1 100 bad2\n"	     /* signed minor */
				   "254 1 -100 bad3\n"	     /* signed #blocks */
				   "254 1 1e3 bad4\n"	     /* not decimal */
				   "4096 1 100 bad5\n"	     /* major out of range */
				   "4294967550 1 100 bad6\n" /* wraps to 254 in 32 bits */
				   "\t254\t1\t100\tvda1\n";
	char name[FOG_IO_NAME_LEN];

	assert_int_equal(fog_io_partitions_name(text, (254u << 20) | 1, name, sizeof(name)), 0);
	assert_string_equal(name, "vda1");
	assert_int_equal(fog_io_partitions_name("254 1 100 vda1 extra\n254 1 100\n",
						(254u << 20) | 1, name, sizeof(name)),
			 -ENOENT);
	assert_int_equal(fog_io_partitions_name("\n\n   \n", 0, name, sizeof(name)), -ENOENT);
}

/* A scratch tree standing in for /sys/dev/block and /proc/partitions. */
struct name_fixture {
	char root[64];
	char sysfs[128];
	char parts[128];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int name_setup(void **state)
{
	struct name_fixture *f = calloc(1, sizeof(*f));
	char dir[256];

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/fog-test-io.XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	snprintf(f->sysfs, sizeof(f->sysfs), "%s/block", f->root);
	snprintf(f->parts, sizeof(f->parts), "%s/partitions", f->root);
	mkdir(f->sysfs, 0700);
	snprintf(dir, sizeof(dir), "%s/254:0", f->sysfs);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/254:0/uevent", f->sysfs);
	write_file(dir, "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
	/* a device whose uevent has no name: the partitions file answers */
	snprintf(dir, sizeof(dir), "%s/8:0", f->sysfs);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/8:0/uevent", f->sysfs);
	write_file(dir, "MAJOR=8\nMINOR=0\n");
	write_file(f->parts, "major minor  #blocks  name\n\n 254 0 100 fromparts\n 8 0 50 sda\n"
			     " 9 0 10 md0\n");
	*state = f;
	return 0;
}

static int name_teardown(void **state)
{
	struct name_fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_dev_name_files(void **state)
{
	struct name_fixture *f = *state;
	char name[FOG_IO_NAME_LEN], missing[160];

	/* sysfs first */
	assert_int_equal(fog_io_dev_name(f->sysfs, f->parts, 254u << 20, name, sizeof(name)), 0);
	assert_string_equal(name, "vda");
	/* uevent without DEVNAME, and no sysfs entry at all: /proc/partitions */
	assert_int_equal(fog_io_dev_name(f->sysfs, f->parts, 8u << 20, name, sizeof(name)), 0);
	assert_string_equal(name, "sda");
	assert_int_equal(fog_io_dev_name(f->sysfs, f->parts, 9u << 20, name, sizeof(name)), 0);
	assert_string_equal(name, "md0");
	/* known to neither: the device is gone */
	assert_int_equal(fog_io_dev_name(f->sysfs, f->parts, (9u << 20) | 1, name, sizeof(name)),
			 -ENOENT);
	snprintf(missing, sizeof(missing), "%s/nothing", f->root);
	assert_int_equal(fog_io_dev_name(missing, missing, 254u << 20, name, sizeof(name)),
			 -ENOENT);
	/* an unreadable partitions file is an error, not a missing device */
	assert_int_equal(fog_io_dev_name(missing, f->sysfs, 254u << 20, name, sizeof(name)),
			 -EISDIR);
}

/* ---- request classification, shared with bpf/io.bpf.c ---- */

#define NO_ZONE_APPEND (FOG_IO_REQ_OP_MASK + 1)

static void test_classify(void **state)
{
	const __u32 sync = 1u << 11, fua = 1u << 17; /* flag bits above the op byte */

	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_READ, NO_ZONE_APPEND), FOG_IO_READ);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_READ | sync, NO_ZONE_APPEND), FOG_IO_READ);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_WRITE, NO_ZONE_APPEND), FOG_IO_WRITE);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_WRITE | sync | fua, NO_ZONE_APPEND),
			 FOG_IO_WRITE);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_WRITE_ZEROES, NO_ZONE_APPEND), FOG_IO_WRITE);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_DISCARD, NO_ZONE_APPEND), FOG_IO_DISCARD);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_SECURE_ERASE, NO_ZONE_APPEND),
			 FOG_IO_DISCARD);
	/* a flush carries no data and must not count as a read */
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_FLUSH, NO_ZONE_APPEND), FOG_IO_FLUSH);
	assert_int_equal(fog_io_classify(FOG_IO_REQ_OP_FLUSH | sync, NO_ZONE_APPEND), FOG_IO_FLUSH);
	/* zone append is where this kernel puts it (7 since 6.0, 13 before) */
	assert_int_equal(fog_io_classify(7, 7), FOG_IO_WRITE);
	assert_int_equal(fog_io_classify(13, 13), FOG_IO_WRITE);
	assert_int_equal(fog_io_classify(7, NO_ZONE_APPEND), FOG_IO_OTHER);
	assert_int_equal(fog_io_classify(13, 7), FOG_IO_OTHER);
	/* zone management and driver-private commands */
	assert_int_equal(fog_io_classify(17, 7), FOG_IO_OTHER);
	assert_int_equal(fog_io_classify(34, 7), FOG_IO_OTHER);
	assert_int_equal(fog_io_classify(35, 7), FOG_IO_OTHER);
	assert_int_equal(fog_io_classify(0xff, NO_ZONE_APPEND), FOG_IO_OTHER);
	/* only the low 8 bits are the op */
	assert_int_equal(fog_io_classify(0x100 | FOG_IO_REQ_OP_DISCARD, 7), FOG_IO_DISCARD);
}

/* ---- rates and JSON ---- */

static void test_rates(void **state)
{
	struct fog_io_dev before = {}, now = {};
	struct fog_io_dev_rates r;

	before.read_ops = 100;
	before.write_ops = 50;
	before.flush_ops = 2;
	before.read_bytes = 1 << 20;
	before.write_bytes = 4096;
	now = before;
	now.read_ops += 40;
	now.write_ops += 10;
	now.discard_ops += 5;
	now.flush_ops += 5;
	now.other_ops += 2;
	now.read_bytes += 8192;
	now.write_bytes += 2048;
	assert_int_equal(fog_io_dev_ops(&now), 140 + 60 + 5 + 7 + 2);
	fog_io_dev_rates(&now, &before, 2.0, &r);
	assert_float_equal(r.read_bytes_per_s, 4096.0, 1e-9);
	assert_float_equal(r.write_bytes_per_s, 1024.0, 1e-9);
	assert_float_equal(r.ops_per_s, 31.0, 1e-9);

	/* the entry was made again: counts start from zero */
	now = (struct fog_io_dev){.read_ops = 6, .read_bytes = 300};
	fog_io_dev_rates(&now, &before, 3.0, &r);
	assert_float_equal(r.read_bytes_per_s, 100.0, 1e-9);
	assert_float_equal(r.write_bytes_per_s, 0.0, 1e-9);
	assert_float_equal(r.ops_per_s, 2.0, 1e-9);

	/* no interval: no rate rather than a division by zero */
	fog_io_dev_rates(&now, &before, 0.0, &r);
	assert_float_equal(r.ops_per_s, 0.0, 0);
	fog_io_dev_rates(&now, &before, -1.0, &r);
	assert_float_equal(r.read_bytes_per_s, 0.0, 0);
	fog_io_dev_rates(&now, &before, NAN, &r);
	assert_float_equal(r.write_bytes_per_s, 0.0, 0);
}

static void test_json(void **state)
{
	struct fog_io_dev d = {.read_ops = 3,
			       .write_ops = 2,
			       .flush_ops = 1,
			       .errors = 1,
			       .read_bytes = 12288,
			       .write_bytes = 8192};
	struct fog_io_dev_rates r = {
		.read_bytes_per_s = 1.5, .write_bytes_per_s = 2.5, .ops_per_s = 6};
	struct fog_hist recent = {};
	json_t *j, *lat;

	d.latency.slots[10] = 4; /* 1024..2048 ns */
	d.latency.slots[20] = 2;
	d.latency.sum_ns = 4 * 1500 + 2 * 1500000;
	recent.slots[20] = 1;
	j = fog_io_dev_json((254u << 20) | 1, "vda1", &d, &r, &recent);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "dev")), "254:1");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "vda1");
	assert_int_equal(json_integer_value(json_object_get(j, "read_ops")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "write_ops")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "flush_ops")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "read_bytes")), 12288);
	assert_int_equal(json_integer_value(json_object_get(j, "write_bytes")), 8192);
	assert_float_equal(json_real_value(json_object_get(j, "read_bytes_per_s")), 1.5, 0);
	assert_float_equal(json_real_value(json_object_get(j, "write_bytes_per_s")), 2.5, 0);
	assert_float_equal(json_real_value(json_object_get(j, "ops_per_s")), 6, 0);
	lat = json_object_get(j, "latency");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 6);
	assert_float_equal(json_real_value(json_object_get(lat, "sum_seconds")),
			   (4 * 1500 + 2 * 1500000) / 1e9, 1e-9);
	lat = json_object_get(j, "latency_last_tick");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 1);
	json_decref(j);

	/* unresolved name and no tick yet: null, not a guess */
	j = fog_io_dev_json(0, NULL, &d, &r, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "dev")), "0:0");
	assert_true(json_is_null(json_object_get(j, "name")));
	assert_true(json_is_null(json_object_get(j, "latency_last_tick")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_make),
		cmocka_unit_test(test_dev_from_user),
		cmocka_unit_test(test_dev_format),
		cmocka_unit_test(test_dev_parse),
		cmocka_unit_test(test_uevent_devname),
		cmocka_unit_test(test_partitions_name),
		cmocka_unit_test(test_partitions_malformed),
		cmocka_unit_test_setup_teardown(test_dev_name_files, name_setup, name_teardown),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
