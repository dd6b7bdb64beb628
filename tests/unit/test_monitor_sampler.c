// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host sampler reads a fake /proc and /sys written by the test, so every
 * expected figure follows from counters the test chose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "monitor/sampler.h"

static char root[] = "/tmp/fog-test-sampler.XXXXXX";
static char proc[PATH_MAX], sys[PATH_MAX];

static void put(const char *base, const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *fmt, const char *a)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), fmt, root, a);
	mkdir(path, 0700);
}

static int setup(void **state)
{
	if (!mkdtemp(root))
		return -1;
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	mkdirs("%s/%s", "proc");
	mkdirs("%s/%s", "proc/pressure");
	mkdirs("%s/%s", "proc/net");
	mkdirs("%s/%s", "sys");
	mkdirs("%s/%s", "sys/block");
	mkdirs("%s/%s", "sys/block/vda");
	mkdirs("%s/%s", "sys/block/loop0");
	mkdirs("%s/%s", "sys/class");
	mkdirs("%s/%s", "sys/class/net");
	mkdirs("%s/%s", "sys/class/net/eth0");
	mkdirs("%s/%s", "sys/class/net/virt0");
	put(sys, "class/net/eth0/speed", "1000\n"); /* Mbit/s: 125,000,000 bytes/s */
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	/* only the folder this test made */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

static void write_tick(int second)
{
	if (!second) {
		put(proc, "stat",
		    "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 100 0 100 700 100 0 0 0 0 0\n"
		    "intr 1 2 3\nctxt 99\n");
		put(proc, "meminfo",
		    "MemTotal:        1000 kB\nMemFree:          100 kB\n"
		    "MemAvailable:     500 kB\nBuffers:           10 kB\n");
		put(proc, "pressure/cpu",
		    "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n"
		    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
		put(proc, "pressure/memory",
		    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
		put(proc, "pressure/io",
		    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
		put(proc, "diskstats",
		    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		    " 254       0 vda 100 0 800 1000 100 0 800 1000 0 2000 0 0 0 0 0 0 0\n"
		    " 254       1 vda1 100 0 800 1000 100 0 800 1000 0 2000 0 0 0 0 0 0 0\n");
		put(proc, "net/dev",
		    "Inter-|   Receive                                                |  Transmit\n"
		    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
		    "packets errs drop fifo colls carrier compressed\n"
		    "    lo: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		    "  eth0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		    " virt0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
		put(proc, "schedstat",
		    "version 15\ntimestamp 4295\n"
		    "cpu0 0 0 0 0 0 0 500 1000000 100\n"
		    "domain0 3 1 2 3\n"
		    "cpu1 0 0 0 0 0 0 500 2000000 100\n");
	} else {
		/* 2 s later */
		put(proc, "stat", "cpu  250 0 150 1000 100 0 0 0 0 0\n");
		put(proc, "meminfo", "MemTotal:        2000 kB\nMemAvailable:     500 kB\n");
		put(proc, "pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n");
		put(proc, "pressure/memory",
		    "some avg10=0.00 avg60=0.00 avg300=0.00 total=200000\n");
		put(proc, "pressure/io",
		    "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n"
		    "full avg10=0.00 avg60=0.00 avg300=0.00 total=900000\n");
		put(proc, "diskstats",
		    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		    " 254       0 vda 300 0 800 2000 300 0 800 3000 0 3000 0 0 0 0 0 0 0\n"
		    " 254       1 vda1 300 0 800 2000 300 0 800 3000 0 4000 0 0 0 0 0 0 0\n");
		put(proc, "net/dev",
		    "Inter-|   Receive                                                |  Transmit\n"
		    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
		    "packets errs drop fifo colls carrier compressed\n"
		    "    lo: 999999999999 0 0 0 0 0 0 0 999999999999 0 0 0 0 0 0 0\n"
		    "  eth0: 125000000 0 0 0 0 0 0 0 25000000 0 0 0 0 0 0 0\n"
		    " virt0: 1600000 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
		put(proc, "schedstat",
		    "version 15\ntimestamp 4795\n"
		    "cpu0 0 0 0 0 0 0 500 31000000 110\n"
		    "cpu1 0 0 0 0 0 0 500 12000000 110\n");
	}
}

#define near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_two_readings(void **state)
{
	struct fog_host_sampler s;
	struct fog_monitor_sample out;

	assert_int_equal(fog_host_sampler_init(&s, proc, sys, 0), 0);
	write_tick(0);
	fog_host_sampler_read(&s, 100, &out);
	/* rates need two readings: the first has memory only */
	near(out.value[FOG_MONITOR_MEMORY], 0.5);
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++) {
		if (r != FOG_MONITOR_MEMORY)
			assert_true(isnan(out.value[r]));
	}
	write_tick(1);
	fog_host_sampler_read(&s, 102, &out);
	near(out.value[FOG_MONITOR_CPU], 200.0 / 500);	 /* busy 200 of 500 jiffies */
	near(out.value[FOG_MONITOR_MEMORY], 0.75);	 /* 500 of 2000 kB available */
	near(out.value[FOG_MONITOR_PSI], 0.5);		 /* io: 1 s stalled in 2 s */
	near(out.value[FOG_MONITOR_DISK], 0.5);		 /* vda busy 1 s in 2; vda1 ignored */
	near(out.value[FOG_MONITOR_IO_LATENCY], 0.0075); /* 3000 ms over 400 requests */
	near(out.value[FOG_MONITOR_NETWORK], 0.5);	 /* eth0 62.5 MB/s of 125; virt0 no speed */
	near(out.value[FOG_MONITOR_RUNQ_LATENCY], 0.002); /* 40 ms waited over 20 slices */
	fog_host_sampler_release(&s);
}

/* Without a sysfs speed, a configured link capacity is used. */
static void test_link_capacity_fallback(void **state)
{
	struct fog_host_sampler s;
	struct fog_monitor_sample out;

	assert_int_equal(fog_host_sampler_init(&s, proc, sys, 1e6), 0);
	write_tick(0);
	fog_host_sampler_read(&s, 100, &out);
	write_tick(1);
	fog_host_sampler_read(&s, 102, &out);
	near(out.value[FOG_MONITOR_NETWORK], 0.8); /* virt0 0.8 MB/s of 1 MB/s beats eth0 */
	fog_host_sampler_release(&s);
}

/* Missing files leave their resources unmeasured instead of failing the rest. */
static void test_missing_files(void **state)
{
	char path[PATH_MAX * 2];
	struct fog_host_sampler s;
	struct fog_monitor_sample out;

	write_tick(0);
	snprintf(path, sizeof(path), "%s/schedstat", proc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/diskstats", proc);
	unlink(path);
	assert_int_equal(fog_host_sampler_init(&s, proc, sys, 0), 0);
	fog_host_sampler_read(&s, 100, &out);
	write_tick(1);
	snprintf(path, sizeof(path), "%s/schedstat", proc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/diskstats", proc);
	unlink(path);
	fog_host_sampler_read(&s, 102, &out);
	assert_true(isnan(out.value[FOG_MONITOR_RUNQ_LATENCY]));
	assert_true(isnan(out.value[FOG_MONITOR_DISK]));
	assert_true(isnan(out.value[FOG_MONITOR_IO_LATENCY]));
	near(out.value[FOG_MONITOR_CPU], 0.4);
	fog_host_sampler_release(&s);
}

static void test_parsers_reject_garbage(void **state)
{
	struct fog_disk_counters d[2];
	struct fog_net_counters n[2];
	__u64 a, b;
	double used;

	assert_int_equal(fog_parse_proc_stat("intr 1 2\n", &a, &b), -EINVAL);
	assert_int_equal(fog_parse_proc_stat("cpu  1 2\n", &a, &b), -EINVAL);
	assert_int_equal(fog_parse_proc_stat("cpu0 1 2 3 4\ncpu  1 2 3 4\n", &a, &b), 0);
	assert_int_equal(b, 10);
	assert_int_equal(a, 6);
	assert_int_equal(fog_parse_meminfo_used("MemTotal: 100 kB\n", &used), -EINVAL);
	assert_int_equal(fog_parse_meminfo_used("MemTotal: 100 kB\nMemAvailable: 200 kB\n", &used),
			 -EINVAL);
	assert_int_equal(fog_parse_meminfo_used("MemTotal: 0 kB\nMemAvailable: 0 kB\n", &used),
			 -EINVAL);
	assert_int_equal(fog_parse_psi_some_total("full avg10=0 total=5\n", &a), -EINVAL);
	assert_int_equal(fog_parse_psi_some_total("some avg10=0.00\nfull total=5\n", &a), -EINVAL);
	assert_int_equal(fog_parse_diskstats("garbage\n 8 0 sda 1 2\n", d, 2), 0);
	assert_int_equal(fog_parse_net_dev("no colon here\n eth0: 1 2\n", n, 2), 0);
	assert_int_equal(fog_parse_schedstat("version 15\n", &a, &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_readings),
		cmocka_unit_test(test_link_capacity_fallback),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_parsers_reject_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
