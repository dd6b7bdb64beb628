// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a child of fogd does before it runs a tenant's code (tasks, hooks):
 * system calls only, no libcap-ng, so that libfog's executor and hook runner
 * link without it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "base/child.h"

/*
 * Only raw system calls: this runs between fork and exec, also in children
 * forked from a thread (hooks), where neither malloc nor libcap-ng's state is
 * safe. The bounding and ambient sets go first, while CAP_SETPCAP is held;
 * the ids next, while CAP_SETUID and CAP_SETGID are; the remaining sets last.
 */
int fog_privs_child_as(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	uid_t ru, eu, su;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue;	/* not in the set, or beyond the kernel's last */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			/*
			 * without CAP_SETPCAP a caller that is not root cannot
			 * shrink it; with no_new_privs and no uid 0 nothing in it
			 * is ever gained across exec
			 */
			if (errno == EPERM && geteuid() != 0)
				break;
			return -errno;
		}
	}
	if (uid != (uid_t)-1) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			return -errno;
		/* no way back: every id is the task user's */
		if (getresuid(&ru, &eu, &su) || ru != uid || eu != uid || su != uid ||
		    getegid() != gid)
			return -EPERM;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

int fog_privs_child(void)
{
	return fog_privs_child_as((uid_t)-1, (gid_t)-1);
}

int fog_privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
		     size_t len)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	char buf[4096];
	int rc;

	if (!user || !*user) {
		snprintf(err, len, "no task user is configured");
		return -EINVAL;
	}
	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwr);
	if (!pwr) {
		snprintf(err, len, "user %s does not exist%s%s", user, rc ? ": " : "",
			 rc ? strerror(rc) : "");
		return rc ? -rc : -ENOENT;
	}
	if (!pw.pw_uid) {
		snprintf(err, len, "user %s is uid 0: tasks and hooks must not run as root", user);
		return -EPERM;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	if (!group || !*group)
		return 0;
	rc = getgrnam_r(group, &gr, buf, sizeof(buf), &grr);
	if (!grr) {
		snprintf(err, len, "group %s does not exist%s%s", group, rc ? ": " : "",
			 rc ? strerror(rc) : "");
		return rc ? -rc : -ENOENT;
	}
	if (!gr.gr_gid) {
		snprintf(err, len, "group %s is gid 0: tasks and hooks must not run in it", group);
		return -EPERM;
	}
	*gid = gr.gr_gid;
	return 0;
}
