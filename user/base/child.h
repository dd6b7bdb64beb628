/* SPDX-License-Identifier: GPL-2.0-only */
/* What a child of fogd does before exec (tasks, hooks, the symbol helper): give up root. */
#ifndef FOG_BASE_CHILD_H
#define FOG_BASE_CHILD_H

#include <stddef.h>
#include <sys/types.h>

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

#endif /* FOG_BASE_CHILD_H */
