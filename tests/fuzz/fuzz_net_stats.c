// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names from outside in the net collector: interface and cgroup names of any
 * bytes through the name cache and the interface table, readlink paths
 * (fog_net_cgroup_rel) and their JSON (fog_json_text).
 * Input: a control byte, then operations. The resolver answers from the input:
 * a name of arbitrary bytes, gone (-ENODEV), unknown (-EAGAIN) or an empty name.
 * Properties: the table stays sorted, bounded and findable; names stay
 * NUL-terminated; every name's JSON is a string; a cgroup path lies below its
 * mount and is the tail of the link.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "base/text.h"
#include "collect/net_stats.h"
#include "fuzz.h"

static int resolve(__u64 id, char *name, size_t len, void *ctx)
{
	struct fuzz_in *in = ctx;
	uint8_t what = fuzz_u8(in);
	size_t n;

	switch (what & 3) {
	case 0:
		return -ENODEV;
	case 1:
		return -EAGAIN;
	default:
		/* a resolver may fill the whole buffer; the cache must still terminate it */
		n = fuzz_u8(in);
		if ((what & 4) && n < len)
			memset(name, 'x', len);
		else
			snprintf(name, len, "%.*s", (int)(n < in->n ? n : in->n), (const char *)in->p);
		return 0;
	}
}

static void check_json_text(const char *s)
{
	json_t *j = fog_json_text(s);

	FUZZ_CHECK(j);
	FUZZ_CHECK(s ? json_is_string(j) : json_is_null(j));
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int max = 1 + fuzz_u8(&in) % 8;
	struct fog_net_ifaces *t = fog_net_ifaces__new(max, resolve, &in);
	struct fog_net_cgroup cg[8];
	char *mount, *link, out[64];
	unsigned int ncg = 0;
	__u64 now = 0, tick = 0;
	json_t *j;

	FUZZ_CHECK(t);
	while (in.n > 2) {
		uint8_t op = fuzz_u8(&in);

		if (op < 0xc0) {
			struct fog_net_counters c;
			__u32 ifindex;
			double seconds;
			int rc;

			c.rx_bytes = fuzz_u32(&in);
			c.tx_bytes = fuzz_u32(&in);
			c.rx_packets = fuzz_u8(&in);
			c.tx_packets = fuzz_u8(&in);
			ifindex = fuzz_u8(&in) % 12;

			now += (__u64)fuzz_u8(&in) * 100000000ull;
			/*
			 * seconds is the measured tick length: at least a millisecond. Shorter
			 * ones give rates that overflow to inf, which json_pack refuses, and
			 * the interface would vanish from the JSON (not a case fogd meets).
			 */
			seconds = fuzz_double(&in);
			if (isfinite(seconds) && seconds > 0 && seconds < 1e-3)
				seconds = 1e-3;
			rc = fog_net_ifaces__update(t, ifindex, &c, tick, now, seconds);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC || rc == -ENODEV);
			if (!rc) {
				const struct fog_net_iface *e = fog_net_ifaces__find(t, ifindex);

				FUZZ_CHECK(e && e->ifindex == ifindex);
				FUZZ_CHECK(strnlen(e->name, sizeof(e->name)) < sizeof(e->name));
				check_json_text(e->name);
			}
			FUZZ_CHECK(fog_net_ifaces__count(t) <= max);
		} else if (op < 0xe0) {
			fog_net_ifaces__sweep(t, tick);
			tick++;
		} else if (ncg < 8) {
			cg[ncg].id = fuzz_u8(&in);
			cg[ncg].total.rx_bytes = fuzz_u64(&in);
			cg[ncg].total.tx_bytes = fuzz_u64(&in);
			ncg++;
		}
	}
	j = fog_net_ifaces__json(t);
	FUZZ_CHECK(j && json_array_size(j) == fog_net_ifaces__count(t));
	for (size_t i = 1; i < json_array_size(j); i++)
		FUZZ_CHECK(json_integer_value(json_object_get(json_array_get(j, i - 1), "ifindex")) <
			   json_integer_value(json_object_get(json_array_get(j, i), "ifindex")));
	for (size_t i = 0; i < json_array_size(j); i++) {
		json_t *name = json_object_get(json_array_get(j, i), "name");

		FUZZ_CHECK(json_is_string(name) || json_is_null(name));
	}
	json_decref(j);
	fog_net_ifaces__free(t);
	FUZZ_CHECK(fog_net_cgroups_top(cg, ncg, 3) == (ncg < 3 ? ncg : 3));

	/* the whole input again as a mount and a link, and as text for JSON */
	in = (struct fuzz_in){ data, size };
	mount = fuzz_str(&in);
	link = fuzz_str(&in);
	check_json_text(mount);
	check_json_text(link);
	if (!fog_net_cgroup_rel(mount, link, out, sizeof(out))) {
		FUZZ_CHECK(out[0] == '/');
		FUZZ_CHECK(!strcmp(out, "/") || (strlen(link) >= strlen(out) &&
			   !strcmp(link + strlen(link) - strlen(out), out)));
	}
	free(mount);
	free(link);
	return 0;
}
