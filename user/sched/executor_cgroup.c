// SPDX-License-Identifier: GPL-2.0-only
/*
 * The executor's cgroups: each task gets a folder per hierarchy beneath
 * fogd's own (v1: memory, cpu, pids, freezer; v2: one folder), its limits
 * written there, its processes killed as a whole and its folders removed,
 * or drained later when processes remain.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/log.h"
#include "sched/executor_int.h"

const char *const cg_hier[CG_N] = { "memory", "cpu", "pids", "freezer" };

int fog_cg_write(const char *dir, const char *file, const char *val)
{
	char path[CG_LEN + 64];
	int fd, err = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

int fog_cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[CG_LEN + 64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The path of this process's cgroup in a v1 hierarchy with controller ctl, or v2 (ctl ""). */
int fog_cg_own(const char *ctl, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[OWN_LEN + 64];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (*ctl) {
			/* the controller list, e.g. "cpu,cpuacct" */
			char *list = c1 + 1, *tok, *save;

			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, ctl))
					break;
			if (!tok)
				continue;
		} else if (c1[1] != '\0') {
			continue;
		}
		snprintf(out, len, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "");
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

bool fog_cg_v2_usable(char *base, size_t len, const char *group, bool *pids)
{
	static const char *const roots[] = { CG_ROOT, CG_ROOT "/unified" };
	char own[OWN_LEN], dir[OWN_LEN + 32], ctl[512];

	if (fog_cg_own("", own, sizeof(own)))
		return false;
	for (size_t i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s%s", roots[i], own);
		if (fog_cg_read(dir, "cgroup.controllers", ctl, sizeof(ctl)))
			continue;
		if (!strstr(ctl, "memory") || !strstr(ctl, "cpu"))
			continue;
		if (snprintf(base, len, "%s/%.64s", dir, group) >= (int)len)
			return false;
		*pids = strstr(ctl, "pids") != NULL;
		return true;
	}
	return false;
}

/* Moves pid into every cgroup folder of the task (fogd does it: the runner is unprivileged). */
int fog_cg_join(const struct child *c, pid_t pid)
{
	char pid_s[32];
	int err;

	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	for (int i = 0; i < CG_N; i++) {
		if (!c->cg[i][0])
			continue;
		err = fog_cg_write(c->cg[i], "cgroup.procs", pid_s);
		if (err)
			return err;
	}
	return 0;
}

/* The v1 hierarchy of controller ctl, at name's folder beneath fogd's own; false if absent. */
bool fog_cg_v1_base(const char *ctl, const char *probe, const char *group, char *out, size_t len)
{
	char own[OWN_LEN], path[OWN_LEN + 64];
	struct stat st;

	snprintf(path, sizeof(path), CG_ROOT "/%s/%s", ctl, probe);
	if (stat(path, &st) || fog_cg_own(ctl, own, sizeof(own)))
		return false;
	return snprintf(out, len, CG_ROOT "/%s%s/%.64s", ctl, own, group) < (int)len;
}

/* The controllers a v2 task folder's parent hands down. */
const char *fog_cg_v2_controllers(const struct fog_executor *x)
{
	return x->v2_pids ? "+memory +cpu +pids" : "+memory +cpu";
}

/* Folder name for a task id: anything but [A-Za-z0-9._-] becomes '_'. */
void fog_cg_name(const char *id, char *out, size_t len)
{
	size_t i;

	for (i = 0; id[i] && i + 1 < len; i++) {
		char c = id[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
					 c == '-' || c == '_' || (c == '.' && i) ? c : '_';
	}
	out[i] = '\0';
}

/*
 * Creates a task's folder dir beneath base, and base again first when it has
 * gone (another fogd's exit or an operator removed it): tasks go on running.
 * Mode 0755, owned by root: the task user can neither make sub-cgroups there
 * nor write a limit or cgroup.procs.
 */
static int mkdir_task(struct fog_executor *x, const char *dir, const char *base)
{
	if (!mkdir(dir, 0755) || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (mkdir(base, 0755) && errno != EEXIST))
		return -errno;
	fog_warnx("executor: %s had gone: created it again", base);
	if (x->version == 2)
		fog_cg_write(base, "cgroup.subtree_control", fog_cg_v2_controllers(x));
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

int fog_cg_make(struct fog_executor *x, struct child *c, const struct fog_task_info *t)
{
	char name[FOG_SCHED_ID_LEN], val[64];
	__u64 mem_mb = t->spec.memory_mb ?: x->default_mem_mb;
	unsigned long long bytes = (unsigned long long)mem_mb << 20;
	double cores = t->spec.cpu_cores > 0 ? t->spec.cpu_cores : x->default_cpu;
	long quota = (long)(cores * CFS_PERIOD_US);
	struct stat st;
	int err;

	if (!x->version)
		return 0;
	if (quota < 1000)
		quota = 1000;
	fog_cg_name(t->spec.id, name, sizeof(name));
	for (int i = 0; i < CG_N; i++) {
		if (!x->base[i][0])
			continue;
		snprintf(c->cg[i], sizeof(c->cg[i]), "%s/%s", x->base[i], name);
		err = mkdir_task(x, c->cg[i], x->base[i]);
		if (err) {
			c->cg[i][0] = '\0';
			return err;
		}
		c->ino[i] = stat(c->cg[i], &st) ? 0 : (__u64)st.st_ino;
	}
	snprintf(val, sizeof(val), "%llu", bytes);
	if (x->version == 2) {
		err = fog_cg_write(c->cg[CG_MEM], "memory.max", val);
		if (err)
			return err;
		fog_cg_write(c->cg[CG_MEM], "memory.swap.max", "0");
		snprintf(val, sizeof(val), "%ld %d", quota, CFS_PERIOD_US);
		err = fog_cg_write(c->cg[CG_MEM], "cpu.max", val);
		if (err)
			return err;
		snprintf(val, sizeof(val), "%u", x->pids_max);
		return x->v2_pids ? fog_cg_write(c->cg[CG_MEM], "pids.max", val) : 0;
	}
	err = fog_cg_write(c->cg[CG_MEM], "memory.limit_in_bytes", val);
	if (err)
		return err;
	/* with swap accounting, the same limit for memory + swap */
	fog_cg_write(c->cg[CG_MEM], "memory.memsw.limit_in_bytes", val);
	if (c->cg[CG_CPU][0]) {
		snprintf(val, sizeof(val), "%d", CFS_PERIOD_US);
		fog_cg_write(c->cg[CG_CPU], "cpu.cfs_period_us", val);
		snprintf(val, sizeof(val), "%ld", quota);
		err = fog_cg_write(c->cg[CG_CPU], "cpu.cfs_quota_us", val);
		if (err)
			return err;
	}
	if (c->cg[CG_PIDS][0]) {
		snprintf(val, sizeof(val), "%u", x->pids_max);
		return fog_cg_write(c->cg[CG_PIDS], "pids.max", val);
	}
	return 0;
}

/* SIGKILL to every pid listed in dir/cgroup.procs; how many were listed. */
static unsigned int kill_members(const char *dir)
{
	char path[CG_LEN + 32], buf[4096];
	unsigned int n = 0;
	long pid = -1;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* a number may span two reads: the digits carry over */
	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < len; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				pid = (pid < 0 ? 0 : pid * 10) + (buf[i] - '0');
				continue;
			}
			if (pid > 0) {
				kill((pid_t)pid, SIGKILL);
				n++;
			}
			pid = -1;
		}
	}
	if (pid > 0) {
		kill((pid_t)pid, SIGKILL);
		n++;
	}
	close(fd);
	return n;
}

/*
 * Kills every process in the task's cgroups, at once: v2's cgroup.kill; on
 * v1 the freezer folder is frozen first (a frozen process cannot fork while
 * its siblings are killed; SIGKILL takes effect at the thaw), else members
 * are killed as listed, and a child forked meanwhile is left to the next try.
 */
void fog_cg_kill(const struct fog_executor *x, char cg[CG_N][CG_LEN])
{
	bool frozen = false;

	if (x->version == 2 && cg[CG_MEM][0] && !fog_cg_write(cg[CG_MEM], "cgroup.kill", "1"))
		return;
	if (cg[CG_FRZ][0])
		frozen = !fog_cg_write(cg[CG_FRZ], "freezer.state", "FROZEN");
	for (int i = 0; i < CG_N; i++)
		if (cg[i][0])
			kill_members(cg[i]);
	if (frozen)
		fog_cg_write(cg[CG_FRZ], "freezer.state", "THAWED");
}

/* Removes the task's folders that are empty; true when none is left. */
bool fog_cg_remove(char cg[CG_N][CG_LEN])
{
	bool all = true;

	for (int i = 0; i < CG_N; i++) {
		if (!cg[i][0])
			continue;
		if (!rmdir(cg[i]) || errno == ENOENT)
			cg[i][0] = '\0';
		else
			all = false;
	}
	return all;
}

void fog_cg_remove_task(struct child *c)
{
	for (int i = 0; i < CG_N; i++) {
		if (c->cg[i][0] && rmdir(c->cg[i]) && errno != ENOENT)
			fog_warn("executor: cannot remove %s", c->cg[i]);
		c->cg[i][0] = '\0';
	}
}

/* Peak memory (MiB) and whether the OOM killer struck, from the task's cgroup. */
void fog_cg_outcome(const struct fog_executor *x, const struct child *c, double *peak_mb,
		       bool *oom)
{
	char buf[4096], *p;
	const char *mem = c->cg[CG_MEM];

	*peak_mb = 0;
	*oom = false;
	if (!mem[0])
		return;
	if (!fog_cg_read(mem, x->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes", buf,
		      sizeof(buf)))
		*peak_mb = (double)strtoull(buf, NULL, 10) / (1 << 20);
	if (!fog_cg_read(mem, x->version == 2 ? "memory.events" : "memory.oom_control", buf,
		      sizeof(buf)) &&
	    (p = strstr(buf, "oom_kill ")))
		*oom = strtoull(p + strlen("oom_kill "), NULL, 10) > 0;
}

/*
 * Removes an (empty) base folder at exit. Where fogd's own cgroup folder is
 * not writable but by capability (a v1 hierarchy's root is mode 0555), it
 * stays: the next start with the same name reuses it.
 */
void fog_cg_remove_base(const char *base)
{
	if (!rmdir(base) || errno == ENOENT)
		return;
	if (errno == EACCES || errno == EPERM)
		fog_info("executor: %s stays (its parent is not writable without the "
			 "capabilities fogd dropped); the next start reuses it", base);
	else
		fog_warn("executor: cannot remove %s", base);
}
