// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <cap-ng.h>

#include "agent/privs.h"
#include "base/log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const struct {
	int cap;
	const char *name;
	const char *why;
} needed[] = {
	{ CAP_BPF, "CAP_BPF", "load BPF programs and maps" },
	{ CAP_PERFMON, "CAP_PERFMON", "attach to tracepoints" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "mount bpffs and tracefs, read task details" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN", "attach cgroup_skb programs" },
};

int fog_privs_check(char *msg, size_t len)
{
	size_t n = 0;

	msg[0] = '\0';
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process())
		return snprintf(msg, len, "cannot read this process's capabilities"), -EPERM;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (capng_have_capability(CAPNG_EFFECTIVE, (unsigned int)needed[i].cap))
			continue;
		if (n < len)
			n += snprintf(msg + n, len - n, "%s%s (to %s)", n ? ", " : "",
				      needed[i].name, needed[i].why);
	}
	return n ? -EPERM : 0;
}

/*
 * What fogd still needs after set-up: loading and attaching collectors on
 * reload and profiles (BPF, PERFMON; NET_ADMIN for cgroup_skb), reading other
 * processes' maps and files for symbols (SYS_PTRACE, DAC_READ_SEARCH;
 * CHECKPOINT_RESTORE opens /proc/PID/map_files, which otherwise takes
 * SYS_ADMIN; SYSLOG for kernel symbols), and dropping every capability in the
 * task executor's children (SETPCAP) and switching them to the unprivileged
 * task user (SETUID, SETGID), and killing what runs as that user at a task's
 * or hook's end (KILL). SYS_ADMIN, needed only to mount bpffs
 * and tracefs at start, goes: the whole suite passes without it.
 */
static const int kept[] = {
	CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_CHECKPOINT_RESTORE,
	CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SETPCAP, CAP_SETUID, CAP_SETGID,
	CAP_KILL,	/* tasks and hooks run as another user: ending them takes it */
	CAP_SYSLOG,	/* /proc/kallsyms shows addresses only with it (kptr_restrict) */
};

int fog_privs_drop(void)
{
	char held[512];

	bool have[sizeof(kept) / sizeof(kept[0])];

	/* a capability fogd was started without (a narrower bounding set) cannot be kept */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process())
		return -EPERM;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		have[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned int)kept[i]);
	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		if (!have[i])
			continue;
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				 (unsigned int)kept[i]))
			return -EINVAL;
	}
	if (capng_apply(CAPNG_SELECT_BOTH)) {
		fog_warnx("cannot drop capabilities");
		return -EPERM;
	}
	fog_privs_describe(held, sizeof(held));
	fog_info("capabilities kept: %s", held);
	return 0;
}

void fog_privs_describe(char *buf, size_t len)
{
	char *names;

	buf[0] = '\0';
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process())
		return;
	names = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
	if (names) {
		snprintf(buf, len, "%s", names);
		free(names);
	}
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && (long)sfs.f_type == magic;
}

int fog_mounts_ensure(void)
{
	if (!is_fs("/sys/fs/bpf", BPF_FS_MAGIC)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			fog_warn("cannot mount bpffs on /sys/fs/bpf");
			return -errno;
		}
		fog_info("mounted bpffs on /sys/fs/bpf");
	}
	if (!is_fs("/sys/kernel/tracing", TRACEFS_MAGIC) &&
	    !is_fs("/sys/kernel/debug/tracing", TRACEFS_MAGIC)) {
		/* only classic tracepoints need it: a failure is not fatal */
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
			fog_warn("cannot mount tracefs on /sys/kernel/tracing");
		else
			fog_info("mounted tracefs on /sys/kernel/tracing");
	}
	return 0;
}

int fog_pins_prepare(const char *dir)
{
	struct dirent *de;
	DIR *d;
	char path[512];

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fog_warn("cannot create pin folder %s", dir);
		return -errno;
	}
	d = opendir(dir);
	if (!d) {
		fog_warn("cannot open pin folder %s", dir);
		return -errno;
	}
	/* pins left by a fogd that was killed: its programs are gone with its fds */
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!unlink(path))
			fog_info("removed stale pin %s", path);
	}
	closedir(d);
	return 0;
}

void fog_pins_cleanup(const char *dir)
{
	if (rmdir(dir) && errno != ENOENT)
		fog_warn("cannot remove pin folder %s", dir);
}
