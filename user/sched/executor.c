// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local executor: each task with a command runs as `sh -c COMMAND` in a
 * child process of its own, in a cgroup of its own beneath the one fogd runs
 * in (never elsewhere), limited to its requirements: CPU quota = cpu_cores x
 * period, memory limit = memory_mb (swap included where the kernel accounts it,
 * so the limit is a real limit). cgroup v2 is used when the memory and cpu
 * controllers are enabled for fogd's own cgroup; otherwise the v1 hierarchies
 * at /sys/fs/cgroup/{memory,cpu}/<fogd's path from /proc/self/cgroup>/.
 *
 * Children are watched through pidfds (pidfd_open), reaped with wait4 for
 * their CPU time; peak memory and OOM kills are read from the cgroup before it
 * is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "agent/log.h"
#include "agent/privs.h"
#include "sched/sched_int.h"

#define CG_ROOT "/sys/fs/cgroup"
#define MAX_RUN 1024
#define CFS_PERIOD_US 100000
#define OWN_LEN 1024	/* a cgroup path of fogd's own */
#define BASE_LEN (OWN_LEN + 128)	/* hierarchy + own path + group */
#define CG_LEN (BASE_LEN + FOG_SCHED_ID_LEN + 2)

struct child {
	char id[FOG_SCHED_ID_LEN];
	pid_t pid;
	int pidfd;
	char mem_cg[CG_LEN];	/* v1 memory or v2 cgroup folder; "" none */
	char cpu_cg[CG_LEN];	/* v1 cpu folder; "" none */
	bool killed;		/* cancelled: report nothing more */
};

struct fog_executor {
	struct fog_sched *s;
	int version;	/* 1, 2, or 0: no limits can be applied */
	char mem_base[BASE_LEN];	/* <hierarchy>/<own path>/<group> */
	char cpu_base[BASE_LEN];
	struct child run[MAX_RUN];
	unsigned int n_run;
};

static int write_str(const char *dir, const char *file, const char *val)
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

static int read_str(const char *dir, const char *file, char *buf, size_t len)
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
static int own_cgroup(const char *ctl, char *out, size_t len)
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

static bool v2_usable(char *base, size_t len, const char *group)
{
	static const char *const roots[] = { CG_ROOT, CG_ROOT "/unified" };
	char own[OWN_LEN], dir[OWN_LEN + 32], ctl[512];

	if (own_cgroup("", own, sizeof(own)))
		return false;
	for (size_t i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s%s", roots[i], own);
		if (read_str(dir, "cgroup.controllers", ctl, sizeof(ctl)))
			continue;
		if (!strstr(ctl, "memory") || !strstr(ctl, "cpu"))
			continue;
		if (snprintf(base, len, "%s/%.64s", dir, group) >= (int)len)
			return false;
		return true;
	}
	return false;
}

static void on_placed(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	struct fog_executor *x = ctx;
	int err;

	if (!t->spec.command[0])
		return;
	err = fog_executor__start(x, t->spec.id);
	if (err)
		fog_warnx("executor: task %s did not start: %s", t->spec.id, strerror(-err));
}

static void on_done(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	/* only ends decided by the engine: exits are reported by the reaper */
	if (t->state == FOG_TASK_CANCELLED || t->state == FOG_TASK_TIMED_OUT)
		fog_executor__kill(ctx, t->spec.id);
}

struct fog_executor *fog_executor__new(struct fog_sched *s, const char *group)
{
	struct fog_executor *x;
	char own[OWN_LEN];
	struct stat st;

	if (!s || !group || !*group || strchr(group, '/') || strlen(group) > 64) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->s = s;
	if (!stat(CG_ROOT "/memory/memory.limit_in_bytes", &st) && !own_cgroup("memory", own,
									sizeof(own))) {
		x->version = 1;
		snprintf(x->mem_base, sizeof(x->mem_base), CG_ROOT "/memory%s/%.64s", own,
			 group);
		if (!own_cgroup("cpu", own, sizeof(own)) &&
		    !stat(CG_ROOT "/cpu/cpu.cfs_quota_us", &st))
			snprintf(x->cpu_base, sizeof(x->cpu_base), CG_ROOT "/cpu%s/%.64s", own,
				 group);
	} else if (v2_usable(x->mem_base, sizeof(x->mem_base), group)) {
		x->version = 2;
	}
	if (x->version && mkdir(x->mem_base, 0755) && errno != EEXIST) {
		fog_warn("executor: cannot create %s, tasks run without limits", x->mem_base);
		x->version = 0;
	}
	if (x->version == 1 && x->cpu_base[0] && mkdir(x->cpu_base, 0755) && errno != EEXIST) {
		fog_warn("executor: cannot create %s, tasks run without a cpu quota", x->cpu_base);
		x->cpu_base[0] = '\0';
	}
	if (x->version == 2)	/* let children use the controllers */
		write_str(x->mem_base, "cgroup.subtree_control", "+memory +cpu");
	fog_sched__set_callbacks(s, on_placed, on_done, x);
	return x;
}

int fog_executor__cgroup_version(const struct fog_executor *x)
{
	return x->version;
}

unsigned int fog_executor__running(const struct fog_executor *x)
{
	return x->n_run;
}

/* Folder name for a task id: anything but [A-Za-z0-9._-] becomes '_'. */
static void cg_name(const char *id, char *out, size_t len)
{
	size_t i;

	for (i = 0; id[i] && i + 1 < len; i++) {
		char c = id[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
					 c == '-' || c == '_' || (c == '.' && i) ? c : '_';
	}
	out[i] = '\0';
}

static int make_cgroups(struct fog_executor *x, struct child *c, const struct fog_task_info *t)
{
	char name[FOG_SCHED_ID_LEN], val[64];
	unsigned long long bytes = (unsigned long long)t->spec.memory_mb << 20;
	long quota = (long)(t->spec.cpu_cores * CFS_PERIOD_US);
	int err;

	if (!x->version)
		return 0;
	cg_name(t->spec.id, name, sizeof(name));
	snprintf(c->mem_cg, sizeof(c->mem_cg), "%s/%s", x->mem_base, name);
	if (mkdir(c->mem_cg, 0755) && errno != EEXIST) {
		err = -errno;
		c->mem_cg[0] = '\0';
		return err;
	}
	if (x->version == 2) {
		if (bytes) {
			snprintf(val, sizeof(val), "%llu", bytes);
			err = write_str(c->mem_cg, "memory.max", val);
			if (err)
				return err;
			write_str(c->mem_cg, "memory.swap.max", "0");
		}
		if (quota > 0) {
			snprintf(val, sizeof(val), "%ld %d", quota < 1000 ? 1000 : quota,
				 CFS_PERIOD_US);
			return write_str(c->mem_cg, "cpu.max", val);
		}
		return 0;
	}
	if (bytes) {
		snprintf(val, sizeof(val), "%llu", bytes);
		err = write_str(c->mem_cg, "memory.limit_in_bytes", val);
		if (err)
			return err;
		/* with swap accounting, the same limit for memory + swap */
		write_str(c->mem_cg, "memory.memsw.limit_in_bytes", val);
	}
	if (x->cpu_base[0] && quota > 0) {
		snprintf(c->cpu_cg, sizeof(c->cpu_cg), "%s/%s", x->cpu_base, name);
		if (mkdir(c->cpu_cg, 0755) && errno != EEXIST) {
			err = -errno;
			c->cpu_cg[0] = '\0';
			return err;
		}
		snprintf(val, sizeof(val), "%d", CFS_PERIOD_US);
		write_str(c->cpu_cg, "cpu.cfs_period_us", val);
		snprintf(val, sizeof(val), "%ld", quota < 1000 ? 1000 : quota);
		return write_str(c->cpu_cg, "cpu.cfs_quota_us", val);
	}
	return 0;
}

static void remove_cgroups(struct child *c)
{
	if (c->mem_cg[0] && rmdir(c->mem_cg) && errno != ENOENT)
		fog_warn("executor: cannot remove %s", c->mem_cg);
	if (c->cpu_cg[0] && rmdir(c->cpu_cg) && errno != ENOENT)
		fog_warn("executor: cannot remove %s", c->cpu_cg);
	c->mem_cg[0] = c->cpu_cg[0] = '\0';
}

static struct child *find(struct fog_executor *x, const char *id)
{
	for (unsigned int i = 0; i < x->n_run; i++)
		if (!strcmp(x->run[i].id, id))
			return &x->run[i];
	return NULL;
}

int fog_executor__start(struct fog_executor *x, const char *task_id)
{
	struct fog_task_info t;
	struct child *c;
	char pid_s[32];
	pid_t pid;
	int err;

	err = fog_sched__task(x->s, task_id, &t);
	if (err)
		return err;
	if (t.state != FOG_TASK_PLACED || !t.spec.command[0])
		return -EINVAL;
	if (x->n_run == MAX_RUN || find(x, task_id))
		return -EBUSY;
	c = &x->run[x->n_run];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", task_id);
	err = make_cgroups(x, c, &t);
	if (err) {
		fog_warnx("executor: task %s: cannot set up its cgroup: %s", task_id, strerror(-err));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto fail;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		snprintf(pid_s, sizeof(pid_s), "%d", getpid());
		if ((c->mem_cg[0] && write_str(c->mem_cg, "cgroup.procs", pid_s)) ||
		    (c->cpu_cg[0] && write_str(c->cpu_cg, "cgroup.procs", pid_s)))
			_exit(126);
		setpgid(0, 0);
		/* a task runs with no capability, whatever fogd holds */
		if (fog_privs_child())
			_exit(126);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execl("/bin/sh", "sh", "-c", t.spec.command, (char *)NULL);
		_exit(127);
	}
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	x->n_run++;
	fog_sched__task_started(x->s, task_id);
	return 0;
fail:
	remove_cgroups(c);
	fog_sched__task_started(x->s, task_id);
	fog_sched__task_finished(x->s, task_id, FOG_TASK_FAILED, -1, false, 0, 0);
	return err;
}

int fog_executor__kill(struct fog_executor *x, const char *task_id)
{
	struct child *c = find(x, task_id);

	if (!c)
		return -ENOENT;
	c->killed = true;
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	return 0;
}

/* Peak memory (MiB) and whether the OOM killer struck, from the task's cgroup. */
static void cg_outcome(const struct fog_executor *x, const struct child *c, double *peak_mb,
		       bool *oom)
{
	char buf[4096], *p;

	*peak_mb = 0;
	*oom = false;
	if (!c->mem_cg[0])
		return;
	if (!read_str(c->mem_cg, x->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes",
		      buf, sizeof(buf)))
		*peak_mb = (double)strtoull(buf, NULL, 10) / (1 << 20);
	if (!read_str(c->mem_cg, x->version == 2 ? "memory.events" : "memory.oom_control", buf,
		      sizeof(buf)) &&
	    (p = strstr(buf, "oom_kill ")))
		*oom = strtoull(p + strlen("oom_kill "), NULL, 10) > 0;
}

static void reap_one(struct fog_executor *x, unsigned int i, int status, const struct rusage *ru)
{
	struct child *c = &x->run[i];
	double cpu_ms = (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
			(double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
	double peak_mb;
	bool oom;

	cg_outcome(x, c, &peak_mb, &oom);
	if (!c->killed) {
		enum fog_task_state st = WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
						 FOG_TASK_SUCCEEDED : FOG_TASK_FAILED;

		fog_sched__task_finished(x->s, c->id, st, status, oom, cpu_ms, peak_mb);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	/* the cgroup may briefly still hold the exiting process */
	for (int k = 0; k < 50; k++) {
		if ((!c->mem_cg[0] || !rmdir(c->mem_cg) || errno == ENOENT) &&
		    (!c->cpu_cg[0] || !rmdir(c->cpu_cg) || errno == ENOENT)) {
			c->mem_cg[0] = c->cpu_cg[0] = '\0';
			break;
		}
		usleep(2000);
	}
	remove_cgroups(c);
	x->run[i] = x->run[--x->n_run];
}

int fog_executor__reap(struct fog_executor *x, int timeout_ms)
{
	struct pollfd pfd[MAX_RUN];
	int n = 0;

	if (!x->n_run)
		return 0;
	if (timeout_ms) {
		for (unsigned int i = 0; i < x->n_run; i++)
			pfd[i] = (struct pollfd){ .fd = x->run[i].pidfd, .events = POLLIN };
		if (poll(pfd, x->n_run, timeout_ms) < 0 && errno != EINTR)
			return -errno;
	}
	for (unsigned int i = 0; i < x->n_run;) {
		struct rusage ru;
		int status;
		pid_t r = wait4(x->run[i].pid, &status, WNOHANG, &ru);

		if (r == x->run[i].pid || (r < 0 && errno == ECHILD)) {
			if (r < 0) {
				status = -1;
				memset(&ru, 0, sizeof(ru));
			}
			reap_one(x, i, status, &ru);
			n++;
			continue;
		}
		i++;
	}
	return n;
}

void fog_executor__free(struct fog_executor *x)
{
	if (!x)
		return;
	fog_sched__set_callbacks(x->s, NULL, NULL, NULL);
	for (unsigned int i = 0; i < x->n_run; i++) {
		x->run[i].killed = true;
		kill(-x->run[i].pid, SIGKILL);
		kill(x->run[i].pid, SIGKILL);
	}
	while (x->n_run)
		if (fog_executor__reap(x, 100) < 0)
			break;
	if (x->version)
		rmdir(x->mem_base);
	if (x->cpu_base[0])
		rmdir(x->cpu_base);
	free(x);
}
