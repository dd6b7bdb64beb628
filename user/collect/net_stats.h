/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The net collector's bookkeeping, apart from BPF so that it can be tested
 * alone: a name cache for interfaces and cgroups, per-interface totals and
 * rates, the top-N choice of cgroups, and names from outside as JSON text.
 */
#ifndef FOG_NET_STATS_H
#define FOG_NET_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/net.h"

/* Longest name kept: interface names and cgroup paths below the mount. */
#define FOG_NET_NAME_LEN 256
/* How long a resolved name is trusted before it is checked again (renames, removal). */
#define FOG_NET_NAME_TTL_NS (5ull * 1000000000ull)

/*
 * Growth per second of a counter from prev to cur over seconds. A counter
 * that went back was reset (its map entry re-created), so it grew by cur.
 * Returns 0 when seconds is not a positive finite number.
 */
double fog_net_rate(__u64 prev, __u64 cur, double seconds);

/*
 * Puts the name of object id (an ifindex, a cgroup id) into name (len
 * bytes). Returns 0, -ENODEV when the object does not exist (any more), or
 * another negative errno when its name cannot be found out now.
 */
typedef int (*fog_net_name_fn)(__u64 id, char *name, size_t len, void *ctx);
/* Interface names of fogd's network namespace: if_indextoname(3). */
int fog_net_ifname_sys(__u64 ifindex, char *name, size_t len, void *ctx);

/*
 * A bounded cache of names by id, refreshed on a miss and when an entry is
 * older than FOG_NET_NAME_TTL_NS, which is also how removed objects are
 * noticed. When full, the entry unused for longest makes room.
 */
struct fog_net_names;

struct fog_net_names *fog_net_names__new(unsigned int max, fog_net_name_fn fn, void *ctx);
void fog_net_names__free(struct fog_net_names *n);
/*
 * The name of id at now_ns: 0 with *name pointing into the cache (NULL when
 * it cannot be resolved now; asked again on the next call), -ENODEV when id
 * is gone (dropped from the cache), -EINVAL for id 0. *name stays valid
 * until the next call.
 */
int fog_net_names__get(struct fog_net_names *n, __u64 id, __u64 now_ns, const char **name);
unsigned int fog_net_names__count(const struct fog_net_names *n);

struct fog_net_iface {
	__u32 ifindex;
	char name[IF_NAMESIZE];	/* "" while unresolved */
	struct fog_net_counters total;	/* at the last tick */
	double rx_bytes_per_s;	/* over the last tick */
	double tx_bytes_per_s;
	__u64 seen_tick;	/* the last tick its map entry was read */
};

struct fog_net_ifaces;

/* A table of at most max interfaces whose names come from fn (NULL: fog_net_ifname_sys). */
struct fog_net_ifaces *fog_net_ifaces__new(unsigned int max, fog_net_name_fn fn, void *ctx);
void fog_net_ifaces__free(struct fog_net_ifaces *t);
/*
 * Records the totals of interface ifindex read at tick (now_ns, seconds
 * since the previous tick). An interface first seen has its rates taken
 * from zero: its map entry was created during this tick. Returns 0,
 * -EINVAL for ifindex 0 or a NULL total, -ENOSPC when the table is full, or
 * -ENODEV when the interface is gone (it leaves the table; the caller
 * deletes its map entry).
 */
int fog_net_ifaces__update(struct fog_net_ifaces *t, __u32 ifindex,
			   const struct fog_net_counters *total, __u64 tick, __u64 now_ns,
			   double seconds);
/* Drops interfaces that were not updated in tick: their map entries are gone. */
void fog_net_ifaces__sweep(struct fog_net_ifaces *t, __u64 tick);
const struct fog_net_iface *fog_net_ifaces__find(const struct fog_net_ifaces *t, __u32 ifindex);
unsigned int fog_net_ifaces__count(const struct fog_net_ifaces *t);
/*
 * [{"ifindex", "name", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets",
 * "rx_bytes_per_s", "tx_bytes_per_s"}] ordered by ifindex; name null while unresolved
 */
json_t *fog_net_ifaces__json(const struct fog_net_ifaces *t);

/* One cgroup's totals as read from the map. */
struct fog_net_cgroup {
	__u64 id;
	struct fog_net_counters total;
};

/*
 * Orders cg by bytes in both directions, most first (ties by id), and
 * returns how many of them to report: at most limit.
 */
unsigned int fog_net_cgroups_top(struct fog_net_cgroup *cg, unsigned int n, unsigned int limit);

/*
 * The path of a cgroup below mount from the full path link points to
 * (readlink of /proc/self/fd/N): "/" for the mount itself. Returns 0,
 * -ENOENT when the cgroup was removed (" (deleted)"), -EXDEV when link is not
 * below mount, -ENAMETOOLONG when out is too small, -EINVAL for NULL input.
 */
int fog_net_cgroup_rel(const char *mount, const char *link, char *out, size_t len);

#endif /* FOG_NET_STATS_H */
