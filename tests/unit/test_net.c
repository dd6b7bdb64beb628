// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the net collector's bookkeeping (user/collect/net_stats.c). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/text.h"
#include "collect/net_stats.h"

#define SEC_NS 1000000000ull

/* ---- a fake interface-name resolver: a small table of what the "system" has ---- */

struct fake_if {
	__u32 ifindex;
	const char *name;	/* NULL: the interface does not exist */
	int err;	/* returned instead of a name when non-zero */
	bool no_nul;	/* fill the whole buffer without a terminating NUL */
};

struct fake_sys {
	struct fake_if ifs[8];
	unsigned int n;
	unsigned int calls;
};

static int fake_ifname(__u64 ifindex, char *name, size_t len, void *ctx)
{
	struct fake_sys *sys = ctx;

	sys->calls++;
	for (unsigned int i = 0; i < sys->n; i++) {
		const struct fake_if *f = &sys->ifs[i];

		if (f->ifindex != ifindex)
			continue;
		if (f->err)
			return f->err;
		if (!f->name)
			return -ENODEV;
		if (f->no_nul) {
			memset(name, 'x', len);
			return 0;
		}
		snprintf(name, len, "%s", f->name);
		return 0;
	}
	return -ENODEV;
}

static void fake_add(struct fake_sys *sys, __u32 ifindex, const char *name)
{
	assert_true(sys->n < sizeof(sys->ifs) / sizeof(sys->ifs[0]));
	sys->ifs[sys->n++] = (struct fake_if){ .ifindex = ifindex, .name = name };
}

static struct fake_if *fake_get(struct fake_sys *sys, __u32 ifindex)
{
	for (unsigned int i = 0; i < sys->n; i++)
		if (sys->ifs[i].ifindex == ifindex)
			return &sys->ifs[i];
	fail_msg("no fake interface %u", ifindex);
	return NULL;
}

struct fixture {
	struct fake_sys sys;
	struct fog_net_ifaces *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->t = fog_net_ifaces__new(4, fake_ifname, &f->sys);
	if (!f->t) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fog_net_ifaces__free(f->t);
	free(f);
	return 0;
}

static struct fog_net_counters ctr(__u64 rxb, __u64 rxp, __u64 txb, __u64 txp)
{
	return (struct fog_net_counters){
		.rx_bytes = rxb, .rx_packets = rxp, .tx_bytes = txb, .tx_packets = txp
	};
}

/* ---- rates ---- */

static void test_rate(void **state)
{
	assert_float_equal(fog_net_rate(1000, 3000, 2.0), 1000.0, 1e-9);
	assert_float_equal(fog_net_rate(5, 5, 1.0), 0.0, 1e-12);
	assert_float_equal(fog_net_rate(0, 1500, 0.5), 3000.0, 1e-9);
	/* a counter that went back was reset: it grew by its new value */
	assert_float_equal(fog_net_rate(10000, 400, 2.0), 200.0, 1e-9);
	/* near the top of the range */
	assert_float_equal(fog_net_rate(UINT64_MAX - 10, UINT64_MAX, 1.0), 10.0, 1e-9);
}

static void test_rate_bad_interval(void **state)
{
	assert_float_equal(fog_net_rate(0, 100, 0.0), 0.0, 0);
	assert_float_equal(fog_net_rate(0, 100, -1.0), 0.0, 0);
	assert_float_equal(fog_net_rate(0, 100, NAN), 0.0, 0);
	assert_float_equal(fog_net_rate(0, 100, INFINITY), 0.0, 0);
}

/* ---- the name cache ---- */

static void test_names_cache(void **state)
{
	struct fake_sys sys = { 0 };
	struct fog_net_names *n = fog_net_names__new(2, fake_ifname, &sys);
	const char *name;

	assert_non_null(n);
	fake_add(&sys, 10, "a");
	fake_add(&sys, 20, "b");
	fake_add(&sys, 30, "c");
	assert_int_equal(fog_net_names__get(n, 10, 1 * SEC_NS, &name), 0);
	assert_string_equal(name, "a");
	assert_int_equal(fog_net_names__get(n, 20, 2 * SEC_NS, &name), 0);
	assert_string_equal(name, "b");
	assert_int_equal(sys.calls, 2);
	/* hits do not ask again; 10 becomes the most recently used */
	assert_int_equal(fog_net_names__get(n, 10, 3 * SEC_NS, &name), 0);
	assert_string_equal(name, "a");
	assert_int_equal(sys.calls, 2);
	/* full: 30 replaces the least recently used, 20 */
	assert_int_equal(fog_net_names__get(n, 30, 4 * SEC_NS, &name), 0);
	assert_string_equal(name, "c");
	assert_int_equal(fog_net_names__count(n), 2);
	assert_int_equal(fog_net_names__get(n, 10, 4 * SEC_NS, &name), 0);
	assert_int_equal(sys.calls, 3);
	assert_int_equal(fog_net_names__get(n, 20, 4 * SEC_NS, &name), 0);
	assert_string_equal(name, "b");
	assert_int_equal(sys.calls, 4);
	/* gone: reported once the TTL makes it look again, and dropped */
	fake_get(&sys, 20)->name = NULL;
	assert_int_equal(fog_net_names__get(n, 20, 4 * SEC_NS + FOG_NET_NAME_TTL_NS, &name),
			 -ENODEV);
	assert_null(name);
	assert_int_equal(fog_net_names__count(n), 1);
	fog_net_names__free(n);
}

static void test_names_bad_input(void **state)
{
	struct fake_sys sys = { 0 };
	struct fog_net_names *n;
	const char *name = "x";

	assert_null(fog_net_names__new(0, fake_ifname, &sys));
	assert_int_equal(errno, EINVAL);
	assert_null(fog_net_names__new(4, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	n = fog_net_names__new(4, fake_ifname, &sys);
	assert_non_null(n);
	assert_int_equal(fog_net_names__get(n, 0, SEC_NS, &name), -EINVAL);
	assert_null(name);
	assert_int_equal(sys.calls, 0);
	/* a name known before survives a failed refresh */
	fake_add(&sys, 5, "eth5");
	assert_int_equal(fog_net_names__get(n, 5, SEC_NS, &name), 0);
	fake_get(&sys, 5)->err = -EAGAIN;
	assert_int_equal(fog_net_names__get(n, 5, SEC_NS + FOG_NET_NAME_TTL_NS, &name), 0);
	assert_string_equal(name, "eth5");
	fog_net_names__free(n);
	fog_net_names__free(NULL);
}

/* ---- the interface table ---- */

static void test_iface_new_and_rates(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(2000, 2, 1000, 1);
	const struct fog_net_iface *e;

	fake_add(&f->sys, 1, "lo");
	/* first seen: the map entry was created during this tick, so its rate counts from 0 */
	assert_int_equal(fog_net_ifaces__update(f->t, 1, &v, 1, 1 * SEC_NS, 2.0), 0);
	e = fog_net_ifaces__find(f->t, 1);
	assert_non_null(e);
	assert_string_equal(e->name, "lo");
	assert_float_equal(e->rx_bytes_per_s, 1000.0, 1e-9);
	assert_float_equal(e->tx_bytes_per_s, 500.0, 1e-9);

	v = ctr(6000, 6, 1500, 2);
	assert_int_equal(fog_net_ifaces__update(f->t, 1, &v, 2, 2 * SEC_NS, 0.5), 0);
	e = fog_net_ifaces__find(f->t, 1);
	assert_float_equal(e->rx_bytes_per_s, 8000.0, 1e-9);
	assert_float_equal(e->tx_bytes_per_s, 1000.0, 1e-9);
	assert_int_equal(e->total.rx_packets, 6);
	assert_int_equal(e->total.tx_packets, 2);
	assert_int_equal(e->seen_tick, 2);
}

static void test_iface_counter_reset(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1000000, 1000, 1000000, 1000);
	const struct fog_net_iface *e;

	fake_add(&f->sys, 3, "eth0");
	assert_int_equal(fog_net_ifaces__update(f->t, 3, &v, 1, SEC_NS, 1.0), 0);
	/* the map entry was deleted and created again: totals start over */
	v = ctr(300, 1, 700, 2);
	assert_int_equal(fog_net_ifaces__update(f->t, 3, &v, 2, 2 * SEC_NS, 1.0), 0);
	e = fog_net_ifaces__find(f->t, 3);
	assert_float_equal(e->rx_bytes_per_s, 300.0, 1e-9);
	assert_float_equal(e->tx_bytes_per_s, 700.0, 1e-9);
	assert_int_equal(e->total.rx_bytes, 300);
}

static void test_iface_name_cached(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1, 1, 1, 1);
	__u64 t0 = 100 * SEC_NS;

	fake_add(&f->sys, 2, "eth0");
	assert_int_equal(fog_net_ifaces__update(f->t, 2, &v, 1, t0, 1.0), 0);
	assert_int_equal(f->sys.calls, 1);
	/* within the TTL the name is not asked for again */
	for (int tick = 2; tick < 6; tick++)
		assert_int_equal(fog_net_ifaces__update(f->t, 2, &v, tick, t0 + tick * SEC_NS / 2,
							1.0),
				 0);
	assert_int_equal(f->sys.calls, 1);
	/* renamed, then the TTL runs out: the new name is picked up */
	fake_get(&f->sys, 2)->name = "wan0";
	assert_int_equal(fog_net_ifaces__update(f->t, 2, &v, 6, t0 + FOG_NET_NAME_TTL_NS, 1.0), 0);
	assert_int_equal(f->sys.calls, 2);
	assert_string_equal(fog_net_ifaces__find(f->t, 2)->name, "wan0");
}

static void test_iface_vanished(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(10, 1, 10, 1);

	fake_add(&f->sys, 7, "veth7");
	assert_int_equal(fog_net_ifaces__update(f->t, 7, &v, 1, SEC_NS, 1.0), 0);
	/* removed from the system: found out when the name is checked again */
	fake_get(&f->sys, 7)->name = NULL;
	assert_int_equal(fog_net_ifaces__update(f->t, 7, &v, 2, 2 * SEC_NS, 1.0), 0);
	assert_non_null(fog_net_ifaces__find(f->t, 7));
	assert_int_equal(
		fog_net_ifaces__update(f->t, 7, &v, 3, SEC_NS + FOG_NET_NAME_TTL_NS, 1.0),
		-ENODEV);
	assert_null(fog_net_ifaces__find(f->t, 7));
	assert_int_equal(fog_net_ifaces__count(f->t), 0);
	/* an ifindex the system never had is not added at all */
	assert_int_equal(fog_net_ifaces__update(f->t, 99, &v, 3, 3 * SEC_NS, 1.0), -ENODEV);
	assert_int_equal(fog_net_ifaces__count(f->t), 0);
}

static void test_iface_sweep(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1, 1, 1, 1);

	fake_add(&f->sys, 1, "lo");
	fake_add(&f->sys, 2, "eth0");
	fake_add(&f->sys, 5, "eth1");
	assert_int_equal(fog_net_ifaces__update(f->t, 5, &v, 1, SEC_NS, 1.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 1, &v, 1, SEC_NS, 1.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 2, &v, 1, SEC_NS, 1.0), 0);
	fog_net_ifaces__sweep(f->t, 1);
	assert_int_equal(fog_net_ifaces__count(f->t), 3);
	/* tick 2 reads only 1 and 5 from the map: 2's entry is gone */
	assert_int_equal(fog_net_ifaces__update(f->t, 1, &v, 2, 2 * SEC_NS, 1.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 5, &v, 2, 2 * SEC_NS, 1.0), 0);
	fog_net_ifaces__sweep(f->t, 2);
	assert_int_equal(fog_net_ifaces__count(f->t), 2);
	assert_null(fog_net_ifaces__find(f->t, 2));
	assert_non_null(fog_net_ifaces__find(f->t, 1));
	assert_non_null(fog_net_ifaces__find(f->t, 5));
	fog_net_ifaces__sweep(f->t, 3);
	assert_int_equal(fog_net_ifaces__count(f->t), 0);
}

static void test_iface_full(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1, 1, 1, 1);

	for (__u32 i = 1; i <= 5; i++)
		fake_add(&f->sys, i, "if");
	for (__u32 i = 1; i <= 4; i++)
		assert_int_equal(fog_net_ifaces__update(f->t, i, &v, 1, SEC_NS, 1.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 5, &v, 1, SEC_NS, 1.0), -ENOSPC);
	/* known ones still update */
	assert_int_equal(fog_net_ifaces__update(f->t, 4, &v, 2, SEC_NS, 1.0), 0);
	assert_int_equal(fog_net_ifaces__count(f->t), 4);
}

static void test_iface_bad_input(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1, 1, 1, 1);

	fake_add(&f->sys, 1, "lo");
	assert_int_equal(fog_net_ifaces__update(f->t, 0, &v, 1, SEC_NS, 1.0), -EINVAL);
	assert_int_equal(fog_net_ifaces__update(f->t, 1, NULL, 1, SEC_NS, 1.0), -EINVAL);
	assert_int_equal(fog_net_ifaces__count(f->t), 0);
	/* a bad interval gives rates of 0, never NaN */
	assert_int_equal(fog_net_ifaces__update(f->t, 1, &v, 1, SEC_NS, NAN), 0);
	assert_float_equal(fog_net_ifaces__find(f->t, 1)->rx_bytes_per_s, 0.0, 0);
	assert_null(fog_net_ifaces__new(0, fake_ifname, &f->sys));
	assert_int_equal(errno, EINVAL);
	fog_net_ifaces__free(NULL);
}

static void test_iface_resolver_errors(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1, 1, 1, 1);
	const struct fog_net_iface *e;

	/* the name cannot be found out now: tracked unnamed, asked again next tick */
	f->sys.ifs[f->sys.n++] = (struct fake_if){ .ifindex = 4, .name = "eth4", .err = -EMFILE };
	assert_int_equal(fog_net_ifaces__update(f->t, 4, &v, 1, SEC_NS, 1.0), 0);
	e = fog_net_ifaces__find(f->t, 4);
	assert_non_null(e);
	assert_string_equal(e->name, "");
	fake_get(&f->sys, 4)->err = 0;
	assert_int_equal(fog_net_ifaces__update(f->t, 4, &v, 2, SEC_NS + 1, 1.0), 0);
	assert_string_equal(fog_net_ifaces__find(f->t, 4)->name, "eth4");
	assert_int_equal(f->sys.calls, 2);

	/* a resolver that leaves the buffer unterminated cannot overrun it */
	f->sys.ifs[f->sys.n++] = (struct fake_if){ .ifindex = 6, .name = "x", .no_nul = true };
	assert_int_equal(fog_net_ifaces__update(f->t, 6, &v, 2, SEC_NS, 1.0), 0);
	e = fog_net_ifaces__find(f->t, 6);
	assert_int_equal(strlen(e->name), IF_NAMESIZE - 1);

	/* an empty name counts as unresolved: asked for again on the next tick */
	fake_add(&f->sys, 8, "");
	assert_int_equal(fog_net_ifaces__update(f->t, 8, &v, 2, SEC_NS, 1.0), 0);
	assert_string_equal(fog_net_ifaces__find(f->t, 8)->name, "");
	f->sys.calls = 0;
	assert_int_equal(fog_net_ifaces__update(f->t, 8, &v, 3, SEC_NS + 1, 1.0), 0);
	assert_int_equal(f->sys.calls, 1);
}

static json_t *iface_json(json_t *arr, __u32 ifindex)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
		if (json_integer_value(json_object_get(e, "ifindex")) == ifindex)
			return e;
	return NULL;
}

static void test_iface_json(void **state)
{
	struct fixture *f = *state;
	struct fog_net_counters v = ctr(1400, 2, 2800, 4);
	json_t *arr, *e;

	fake_add(&f->sys, 9, "eth9");
	fake_add(&f->sys, 3, "w\xff\xfe\x01name"); /* not UTF-8: the two bad bytes go */
	f->sys.ifs[f->sys.n++] = (struct fake_if){ .ifindex = 5, .name = "x", .err = -EIO };
	assert_int_equal(fog_net_ifaces__update(f->t, 9, &v, 1, SEC_NS, 2.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 3, &v, 1, SEC_NS, 2.0), 0);
	assert_int_equal(fog_net_ifaces__update(f->t, 5, &v, 1, SEC_NS, 2.0), 0);
	arr = fog_net_ifaces__json(f->t);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 3);
	/* ordered by ifindex */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "ifindex")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 2), "ifindex")), 9);

	e = iface_json(arr, 9);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "eth9");
	assert_int_equal(json_integer_value(json_object_get(e, "rx_bytes")), 1400);
	assert_int_equal(json_integer_value(json_object_get(e, "tx_bytes")), 2800);
	assert_int_equal(json_integer_value(json_object_get(e, "rx_packets")), 2);
	assert_int_equal(json_integer_value(json_object_get(e, "tx_packets")), 4);
	assert_float_equal(json_real_value(json_object_get(e, "rx_bytes_per_s")), 700.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(e, "tx_bytes_per_s")), 1400.0, 1e-9);
	assert_int_equal(json_object_size(e), 8);

	e = iface_json(arr, 3);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "w??\x01name");
	e = iface_json(arr, 5);
	assert_true(json_is_null(json_object_get(e, "name")));
	json_decref(arr);
}

/* ---- cgroups ---- */

static void test_cgroups_top(void **state)
{
	struct fog_net_cgroup cg[] = {
		{ .id = 10, .total = { .rx_bytes = 5, .tx_bytes = 5 } },	/* 10 */
		{ .id = 11, .total = { .rx_bytes = 1000 } },	/* 1000 */
		{ .id = 12, .total = { .tx_bytes = 70 } },	/* 70 */
		{ .id = 9, .total = { .rx_bytes = 30, .tx_bytes = 40 } },	/* 70, lower id */
		{ .id = 13 },	/* 0 */
	};

	assert_int_equal(fog_net_cgroups_top(cg, 5, 3), 3);
	assert_int_equal(cg[0].id, 11);
	assert_int_equal(cg[1].id, 9);
	assert_int_equal(cg[2].id, 12);
	assert_int_equal(cg[3].id, 10);
	assert_int_equal(cg[4].id, 13);
	assert_int_equal(fog_net_cgroups_top(cg, 5, 100), 5);
	assert_int_equal(fog_net_cgroups_top(cg, 5, 0), 0);
	assert_int_equal(fog_net_cgroups_top(cg, 0, 10), 0);
	assert_int_equal(fog_net_cgroups_top(NULL, 3, 10), 0);
}

static void test_cgroup_rel(void **state)
{
	const char *m = "/sys/fs/cgroup/unified";
	char out[32], tiny[4];

	assert_int_equal(fog_net_cgroup_rel(m, "/sys/fs/cgroup/unified/a/b", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(fog_net_cgroup_rel(m, "/sys/fs/cgroup/unified", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(fog_net_cgroup_rel("/sys/fs/cgroup/unified/", "/sys/fs/cgroup/unified/x",
					    out, sizeof(out)),
			 0);
	assert_string_equal(out, "/x");
	assert_int_equal(fog_net_cgroup_rel("/", "/a", out, sizeof(out)), 0);
	assert_string_equal(out, "/a");
	/* same prefix, another folder */
	assert_int_equal(fog_net_cgroup_rel(m, "/sys/fs/cgroup/unified2/a", out, sizeof(out)),
			 -EXDEV);
	assert_int_equal(fog_net_cgroup_rel(m, "/tmp", out, sizeof(out)), -EXDEV);
	assert_int_equal(fog_net_cgroup_rel(m, "", out, sizeof(out)), -EXDEV);
	assert_int_equal(fog_net_cgroup_rel(m, "/sys/fs/cgroup/unified/a (deleted)", out,
					    sizeof(out)),
			 -ENOENT);
	assert_int_equal(fog_net_cgroup_rel(m, "/sys/fs/cgroup/unified/abcd", tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	assert_int_equal(fog_net_cgroup_rel(NULL, "/a", out, sizeof(out)), -EINVAL);
	assert_int_equal(fog_net_cgroup_rel(m, NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(fog_net_cgroup_rel(m, "/a", NULL, 8), -EINVAL);
	assert_int_equal(fog_net_cgroup_rel(m, "/a", out, 0), -EINVAL);
}

static void test_json_text(void **state)
{
	json_t *j;

	j = fog_json_text("/system.slice/a b");
	assert_string_equal(json_string_value(j), "/system.slice/a b");
	json_decref(j);
	j = fog_json_text("caf\xc3\xa9"); /* valid UTF-8 stays as it is */
	assert_string_equal(json_string_value(j), "caf\xc3\xa9");
	json_decref(j);
	j = fog_json_text("/bad\xc3(\x80\x1f"); /* invalid bytes go, a control byte is JSON */
	assert_string_equal(json_string_value(j), "/bad?(?\x1f");
	json_decref(j);
	j = fog_json_text(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_bad_interval),
		cmocka_unit_test(test_names_cache),
		cmocka_unit_test(test_names_bad_input),
		cmocka_unit_test_setup_teardown(test_iface_new_and_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_counter_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_name_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_resolver_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iface_json, setup, teardown),
		cmocka_unit_test(test_cgroups_top),
		cmocka_unit_test(test_cgroup_rel),
		cmocka_unit_test(test_json_text),
	};

	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
