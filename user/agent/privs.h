/* SPDX-License-Identifier: GPL-2.0-only */
/* What fogd needs from the host before it loads anything: capabilities and mounts. */
#ifndef FOG_PRIVS_H
#define FOG_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Checks the effective capabilities fogd needs; on a miss returns -EPERM and
 * writes which ones are missing into msg.
 */
int fog_privs_check(char *msg, size_t len);
/*
 * After set-up: keeps only the capabilities a later reload, profile attach or
 * task launch needs (also in the bounding set) and drops the rest.
 */
int fog_privs_drop(void);
/*
 * In a child before exec (task executor): no capability at all, none in the
 * bounding or ambient sets, and no_new_privs, so the task cannot regain any.
 * Returns 0 or a negative errno.
 */
int fog_privs_child(void);
/*
 * The same, and before the sets are cleared: no supplementary groups, then
 * every gid and uid set to gid and uid ((uid_t)-1: ids kept). Only system
 * calls (safe after fork in a threaded process). 0 or a negative errno.
 */
int fog_privs_child_as(uid_t uid, gid_t gid);
/*
 * The uid and gid of user (group: its primary group when NULL or ""); refuses
 * uid or gid 0. -ENOENT, -EPERM or -EINVAL with a message naming what is wrong.
 */
int fog_privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
		     size_t len);
/* Names of this process's effective capabilities, comma-separated, into buf. */
void fog_privs_describe(char *buf, size_t len);

/* Mounts bpffs on /sys/fs/bpf and tracefs on /sys/kernel/tracing when missing. */
int fog_mounts_ensure(void);
/* Creates dir (0700) for pins and removes pins a previous fogd left behind. */
int fog_pins_prepare(const char *dir);
/* Removes dir if it is empty. */
void fog_pins_cleanup(const char *dir);

#endif /* FOG_PRIVS_H */
