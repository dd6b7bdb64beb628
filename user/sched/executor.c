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
 * Tasks start from a pool of pre-forked runners (libfog's pool manager,
 * pool.h): a runner is a child of fogd that closed everything it inherited,
 * dropped every capability (fog_privs_child: none left, no_new_privs) and
 * waits on a socketpair; handed a task (its command and cgroup paths), it moves
 * itself into the task's cgroups and execs the command, so the fork is off the
 * submission path. The pool forks a replacement on the next reap pass; a runner
 * that died while idle fails the pool's validation and is replaced; freeing
 * the executor (fogd's exit) ends the idle runners.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "agent/log.h"
#include "agent/privs.h"
#include "fog/pool.h"
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

/* What a runner is sent: one message on its SOCK_SEQPACKET socketpair. */
struct runner_msg {
	char mem_cg[CG_LEN];
	char cpu_cg[CG_LEN];
	char command[FOG_SCHED_CMD_LEN];
};

/* A pre-forked runner, as the pool holds it. */
struct runner {
	pid_t pid;
	int pidfd;
	int sock;	/* fogd's end of the socketpair */
	bool launched;	/* it took a task: it is that task now, not the pool's to end */
};

struct fog_executor {
	struct fog_sched *s;
	int version;	/* 1, 2, or 0: no limits can be applied */
	char mem_base[BASE_LEN];	/* <hierarchy>/<own path>/<group> */
	char cpu_base[BASE_LEN];
	struct child run[MAX_RUN];
	unsigned int n_run;
	struct fog_pool *runners;
	unsigned int n_runners;	/* the pool's size: runners kept waiting */
	struct runner *live[FOG_EXEC_MAX_RUNNERS * 2];	/* runners the pool has made */
	unsigned int n_live;
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

/* ---- the pre-forked runners ---- */

/*
 * A runner's life: wait for one task, become it. Runs in the child after
 * fork: no heap, no stdio, no return. Exit 126: the task could not be set up
 * (cgroup, privileges); 127: the shell could not be run.
 */
static void __attribute__((noreturn)) runner_main(int sock, pid_t parent)
{
	struct runner_msg m;
	sigset_t all;
	char pid_s[32];
	ssize_t n;
	int null, privs_err;

	/* a clean slate: default signal actions, nothing blocked (fogd blocks its signals) */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* an idle runner must not outlive fogd */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(0);
	/* nothing of fogd's stays open here: BPF links, listeners, the loop */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		_exit(126);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (sock > 3)
		close_range(3, (unsigned int)sock - 1, 0);
	close_range((unsigned int)sock + 1, ~0u, 0);
	setpgid(0, 0);	/* cancelling kills the task's whole group */
	/*
	 * no capability from here on, while idle too (joining a cgroup takes
	 * only uid 0's file permissions); a failure fails the task it gets
	 */
	privs_err = fog_privs_child();
	do
		n = recv(sock, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		_exit(0);	/* fogd closed the pool: an idle runner just leaves */
	m.mem_cg[sizeof(m.mem_cg) - 1] = m.cpu_cg[sizeof(m.cpu_cg) - 1] = '\0';
	m.command[sizeof(m.command) - 1] = '\0';
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	/* a task runs with no capability, whatever fogd holds */
	if (privs_err || (m.mem_cg[0] && write_str(m.mem_cg, "cgroup.procs", pid_s)) ||
	    (m.cpu_cg[0] && write_str(m.cpu_cg, "cgroup.procs", pid_s)))
		_exit(126);
	/* the task is not tied to fogd's life, as a child forked for it would not be */
	prctl(PR_SET_PDEATHSIG, 0);
	execl("/bin/sh", "sh", "-c", m.command, (char *)NULL);
	_exit(127);
}

static int runner_new(void *ctx, void **res)
{
	struct fog_executor *x = ctx;
	struct runner *r;
	pid_t parent = getpid();
	int sv[2], err;

	if (x->n_live == sizeof(x->live) / sizeof(x->live[0]))
		return -EAGAIN;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		free(r);
		return err;
	}
	r->pid = fork();
	if (r->pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		free(r);
		return err;
	}
	if (r->pid == 0) {
		close(sv[0]);
		runner_main(sv[1], parent);
	}
	close(sv[1]);
	r->sock = sv[0];
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	x->live[x->n_live++] = r;
	*res = r;
	return 0;
}

static void runner_free(void *ctx, void *res)
{
	struct fog_executor *x = ctx;
	struct runner *r = res;

	for (unsigned int i = 0; i < x->n_live; i++)
		if (x->live[i] == r) {
			x->live[i] = x->live[--x->n_live];
			break;
		}
	close(r->sock);
	if (!r->launched) {
		/* idle (or dead): it ends at EOF on its socket; SIGKILL makes sure */
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (r->pidfd >= 0)
			close(r->pidfd);
	}
	free(r);
}

/*
 * An idle runner is usable while it lives: asked without reaping it (WNOWAIT),
 * so the destructor still finds it; ECHILD (reaped elsewhere) is dead too.
 */
static bool runner_alive(void *ctx, void *res)
{
	const struct runner *r = res;
	siginfo_t si = { 0 };

	return !waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) && !si.si_pid;
}

/*
 * Replaces runners that died while idle: every idle one goes through the
 * pool's validation (a dead one is destroyed, and reaped), then the pool is
 * topped up to its size.
 */
static void sweep_runners(struct fog_executor *x)
{
	struct runner *held[FOG_EXEC_MAX_RUNNERS * 2];
	struct fog_pool_stats ps;
	unsigned int n = 0;
	bool dead = false;

	for (unsigned int i = 0; i < x->n_live && !dead; i++)
		dead = !x->live[i]->launched && !runner_alive(x, x->live[i]);
	if (dead && !fog_pool__stats(x->runners, &ps)) {
		while (n < ps.idle && n < sizeof(held) / sizeof(held[0]) &&
		       (held[n] = fog_pool__try_get(x->runners)))
			n++;
		while (n)
			fog_pool__put(x->runners, held[--n]);
	}
	fog_pool__reap(x->runners, 0);
}

/* Hands the task's command and cgroups to an idle runner; its pid runs the task. */
static int launch(struct fog_executor *x, struct child *c, const char *command)
{
	struct runner_msg *m = calloc(1, sizeof(*m));
	int err = -EAGAIN;

	if (!m)
		return -ENOMEM;
	snprintf(m->mem_cg, sizeof(m->mem_cg), "%s", c->mem_cg);
	snprintf(m->cpu_cg, sizeof(m->cpu_cg), "%s", c->cpu_cg);
	snprintf(m->command, sizeof(m->command), "%s", command);
	/* a runner may have died since its validation: then the next one */
	for (int tries = 0; tries < 3; tries++) {
		struct runner *r = fog_pool__try_get(x->runners);

		if (!r) {
			err = -errno;
			break;
		}
		if (send(r->sock, m, sizeof(*m), MSG_NOSIGNAL) == (ssize_t)sizeof(*m)) {
			c->pid = r->pid;
			c->pidfd = r->pidfd;
			r->pidfd = -1;
			r->launched = true;
			fog_pool__invalidate(x->runners, r);	/* it is the task now */
			err = 0;
			break;
		}
		err = -errno;
		fog_pool__invalidate(x->runners, r);
	}
	free(m);
	return err;
}

int fog_executor__idle_runners(const struct fog_executor *x, int *pids, unsigned int n)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < x->n_live; i++) {
		if (x->live[i]->launched)
			continue;
		if (k < n)
			pids[k] = x->live[i]->pid;
		k++;
	}
	return (int)k;
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

struct fog_executor *fog_executor__new_opts(struct fog_sched *s,
					    const struct fog_executor_opts *o)
{
	const char *group = o ? o->group : NULL;
	struct fog_pool_opts po = { 0 };
	struct fog_executor *x;
	char own[OWN_LEN];
	struct stat st;
	int err;

	if (!s || !group || !*group || strchr(group, '/') || strlen(group) > 64 ||
	    o->runners > FOG_EXEC_MAX_RUNNERS) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->s = s;
	x->n_runners = o->runners ?: FOG_EXEC_RUNNERS;
	po.type = FOG_POOL_WORKER;
	po.min_size = (int)x->n_runners;
	/* a burst beyond the idle ones forks on demand, as many again at most at once */
	po.max_size = (int)x->n_runners * 2;
	po.factory = runner_new;
	po.destroy = runner_free;
	po.validate = runner_alive;
	po.ctx = x;
	x->runners = fog_pool__new("sched-runners", &po);
	if (!x->runners) {
		err = errno;
		free(x);
		errno = err;
		return NULL;
	}
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

struct fog_executor *fog_executor__new(struct fog_sched *s, const char *group)
{
	struct fog_executor_opts o = { .group = group };

	return fog_executor__new_opts(s, &o);
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

/*
 * Creates a task's folder dir beneath base, and base again first when it has
 * gone (another fogd's exit or an operator removed it): tasks go on running.
 */
static int mkdir_task(struct fog_executor *x, const char *dir, const char *base)
{
	if (!mkdir(dir, 0755) || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (mkdir(base, 0755) && errno != EEXIST))
		return -errno;
	fog_warnx("executor: %s had gone: created it again", base);
	if (x->version == 2)
		write_str(base, "cgroup.subtree_control", "+memory +cpu");
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
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
	err = mkdir_task(x, c->mem_cg, x->mem_base);
	if (err) {
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
		err = mkdir_task(x, c->cpu_cg, x->cpu_base);
		if (err) {
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
	err = launch(x, c, t.spec.command);
	if (err) {
		fog_warnx("executor: task %s: no runner to start it: %s", task_id, strerror(-err));
		goto fail;
	}
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

	sweep_runners(x);
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

/*
 * Removes an (empty) base folder at exit. Where fogd's own cgroup folder is
 * not writable but by capability (a v1 hierarchy's root is mode 0555), it
 * stays: the next start with the same name reuses it.
 */
static void remove_base(const char *base)
{
	if (!rmdir(base) || errno == ENOENT)
		return;
	if (errno == EACCES || errno == EPERM)
		fog_info("executor: %s stays (its parent is not writable without the "
			 "capabilities fogd dropped); the next start reuses it", base);
	else
		fog_warn("executor: cannot remove %s", base);
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
	fog_pool__free(x->runners);	/* ends the idle runners */
	if (x->version)
		remove_base(x->mem_base);
	if (x->cpu_base[0])
		remove_base(x->cpu_base);
	free(x);
}
