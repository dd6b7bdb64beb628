/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which cgroup hierarchy names a task's cgroup on this host, and a cache that
 * turns cgroup ids (kernfs inode numbers) into paths, rescanning on a miss.
 */
#ifndef FOG_CGROUP_H
#define FOG_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum fog_cgroup_mode {
	FOG_CGROUP_V2 = 0,	/* values match cfg_cgroup_mode in bpf/fog.bpf.h */
	FOG_CGROUP_V1_MEMORY = 1,
	FOG_CGROUP_V1_CPU = 2,
};

struct fog_cgroup_info {
	enum fog_cgroup_mode mode;
	char mount[256];	/* where the hierarchy is mounted */
	char self[512];	/* fogd's own cgroup in it, "/..." */
	bool v2_memory;	/* the v2 hierarchy has the memory controller */
	bool v2_cpu;	/* the v2 hierarchy has the cpu controller */
	char v1_memory[256];	/* v1 memory mount, "" if none */
	char v1_cpu[256];	/* v1 cpu mount, "" if none */
};

/*
 * Finds the hierarchies from /proc/self/mountinfo and /proc/self/cgroup.
 * want is "auto", "v2", "v1-memory" or "v1-cpu"; auto prefers a v2 hierarchy
 * that has the memory controller, then v1 memory, then v2.
 */
int fog_cgroup_detect(const char *want, struct fog_cgroup_info *info);
/* Parses one /proc/PID/cgroup file's text for the path in a hierarchy. */
int fog_cgroup_parse_self(const char *text, enum fog_cgroup_mode mode, char *out, size_t len);
const char *fog_cgroup_mode_name(enum fog_cgroup_mode mode);

struct fog_cgroup_cache;

struct fog_cgroup_cache *fog_cgroup_cache__new(const struct fog_cgroup_info *info,
					       unsigned int max_entries);
void fog_cgroup_cache__free(struct fog_cgroup_cache *c);
/*
 * The path ("/a/b", relative to the hierarchy's mount) of a cgroup id, or
 * NULL when it cannot be resolved (gone, or not in this hierarchy). A miss
 * rescans the hierarchy at most once a second.
 */
const char *fog_cgroup_cache__path(struct fog_cgroup_cache *c, __u64 id);
/* The id (inode) of a cgroup folder, or 0. */
__u64 fog_cgroup_id_of(const char *dir);

#endif /* FOG_CGROUP_H */
