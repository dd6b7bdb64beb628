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
 *
 * Tenants' code runs in tasks, so a task is as unprivileged as fogd can make
 * it: the runner drops every capability (all sets, bounding and ambient too),
 * sets no_new_privs and becomes the task user and group ([fogd] run_user,
 * run_group) with no supplementary groups, while it is idle, so nothing of
 * fogd's (uid 0, its socket, its files, its signals) is in reach when the
 * command starts. fogd itself moves the runner into the task's cgroups before
 * handing it the command; their folders and limit files stay root's.
 *
 * A task ends as a whole cgroup: when its main process exits, times out or is
 * cancelled, every member dies (cgroup.kill on v2; on v1 the freezer cgroup is
 * frozen, each member in cgroup.procs gets SIGKILL, then it is thawed), so a
 * double fork or a daemonised child does not outlive it. A cgroup that is not
 * empty yet is retried on the next reap passes (the agent's timer), never
 * waited for; after DRAIN_TRIES it is logged and left. A pids limit
 * (pids.max, v1 pids hierarchy or v2 pids controller) contains fork bombs;
 * tasks without CPU or memory requirements get the configured defaults.
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
#include <sys/types.h>

#include "base/child.h"
#include "base/log.h"
#include "fog/pool.h"
#include "sched/executor_int.h"

/* ---- the pre-forked runners ---- */

/*
 * A runner's life: wait for one task, become it. Runs in the child after
 * fork: no heap, no stdio, no return. Exit 126: the task could not be set up
 * (cgroup, privileges); 127: the shell could not be run.
 */
static void __attribute__((noreturn)) runner_main(int sock, pid_t parent, const struct
							 fog_executor *x)
{
	struct runner_msg m;
	sigset_t all;
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
	if (chdir("/"))
		_exit(126);
	/*
	 * the task user, no capability, no_new_privs from here on, while idle
	 * too (fogd moves it into the task's cgroups); a failure, or no task
	 * user, fails the task it gets
	 */
	privs_err = x->user_err[0] ? -ENOENT : fog_privs_child_as(x->uid, x->gid);
	/* a change of ids clears the parent-death signal: set it again */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(0);
	do
		n = recv(sock, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		_exit(0);	/* fogd closed the pool: an idle runner just leaves */
	m.command[sizeof(m.command) - 1] = '\0';
	/* a task runs as the task user with no capability, whatever fogd holds */
	if (privs_err)
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
		runner_main(sv[1], parent, x);
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

/* Moves an idle runner into the task's cgroups, then hands it the command; its pid runs the task. */
static int launch(struct fog_executor *x, struct child *c, const char *command)
{
	struct runner_msg *m = calloc(1, sizeof(*m));
	int err = -EAGAIN;

	if (!m)
		return -ENOMEM;
	snprintf(m->command, sizeof(m->command), "%s", command);
	/* a runner may have died since its validation: then the next one */
	for (int tries = 0; tries < 3; tries++) {
		struct runner *r = fog_pool__try_get(x->runners);

		if (!r) {
			err = -errno;
			break;
		}
		err = fog_cg_join(c, r->pid);
		if (err) {
			fog_pool__invalidate(x->runners, r);
			if (err == -ESRCH)
				continue;	/* it had died: the next one */
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
		fog_warnc(-err, "executor: task %s did not start", t->spec.id);
}

static void on_done(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	/* only ends decided by the engine: exits are reported by the reaper */
	if (t->state == FOG_TASK_CANCELLED || t->state == FOG_TASK_TIMED_OUT)
		fog_executor__kill(ctx, t->spec.id);
}

/* The task user and group: looked up once; missing, tasks fail with this reason. */
static void set_user(struct fog_executor *x, const struct fog_executor_opts *o)
{
	const char *user = o && o->user && *o->user ? o->user : FOG_EXEC_USER;
	const char *group = o && o->user_group && *o->user_group ? o->user_group : user;
	char why[160];

	/* a caller that is not root runs tasks as itself: it has no ids to give away */
	if (geteuid() != 0) {
		x->uid = (uid_t)-1;
		x->gid = (gid_t)-1;
		return;
	}
	if (!fog_privs_lookup(user, group, &x->uid, &x->gid, why, sizeof(why)))
		return;
	snprintf(x->user_err, sizeof(x->user_err),
		 "%s (make install creates user and group %s; or set [fogd] run_user and "
		 "run_group)", why, FOG_EXEC_USER);
	fog_warnx("executor: no task can run: %s", x->user_err);
}

struct fog_executor *fog_executor__new_opts(struct fog_sched *s,
					    const struct fog_executor_opts *o)
{
	const char *group = o ? o->group : NULL;
	struct fog_pool_opts po = { 0 };
	struct fog_executor *x;
	int err;

	if (!s || !group || !*group || strchr(group, '/') || strlen(group) > 64 ||
	    o->runners > FOG_EXEC_MAX_RUNNERS || !(o->default_cpu >= 0) ||
	    o->default_cpu > 1e6) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->s = s;
	x->n_runners = o->runners ?: FOG_EXEC_RUNNERS;
	x->pids_max = o->pids_max ?: FOG_EXEC_PIDS_MAX;
	x->default_cpu = o->default_cpu > 0 ? o->default_cpu : FOG_EXEC_DEFAULT_CPU;
	x->default_mem_mb = o->default_mem_mb ?: FOG_EXEC_DEFAULT_MEM_MB;
	/* before the first runner forks: runners become this user */
	set_user(x, o);
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
	if (fog_cg_v1_base("memory", "memory.limit_in_bytes", group, x->base[CG_MEM], BASE_LEN)) {
		x->version = 1;
		if (!fog_cg_v1_base("cpu", "cpu.cfs_quota_us", group, x->base[CG_CPU], BASE_LEN))
			x->base[CG_CPU][0] = '\0';
		if (!fog_cg_v1_base("pids", "cgroup.procs", group, x->base[CG_PIDS], BASE_LEN))
			x->base[CG_PIDS][0] = '\0';
		if (!fog_cg_v1_base("freezer", "cgroup.procs", group, x->base[CG_FRZ], BASE_LEN))
			x->base[CG_FRZ][0] = '\0';
	} else if (fog_cg_v2_usable(x->base[CG_MEM], BASE_LEN, group, &x->v2_pids)) {
		x->version = 2;
	}
	if (x->version && mkdir(x->base[CG_MEM], 0755) && errno != EEXIST) {
		fog_warn("executor: cannot create %s, tasks run without limits", x->base[CG_MEM]);
		x->version = 0;
		x->base[CG_MEM][0] = '\0';
	}
	for (int i = CG_CPU; x->version == 1 && i < CG_N; i++) {
		if (!x->base[i][0] || !mkdir(x->base[i], 0755) || errno == EEXIST)
			continue;
		fog_warn("executor: cannot create %s, tasks run without the %s controller",
			 x->base[i], cg_hier[i]);
		x->base[i][0] = '\0';
	}
	for (int i = CG_CPU; x->version != 1 && i < CG_N; i++)
		x->base[i][0] = '\0';
	if (x->version == 2)	/* let children use the controllers */
		fog_cg_write(x->base[CG_MEM], "cgroup.subtree_control", fog_cg_v2_controllers(x));
	if (x->version && !x->base[CG_PIDS][0] && !x->v2_pids)
		fog_warnx("executor: no pids controller (v1 or v2): a task's processes are not "
			  "limited in number");
	if (x->version == 1 && !x->base[CG_FRZ][0])
		fog_info("executor: no v1 freezer: an ended task's cgroup is emptied by killing "
			 "its members until none is left");
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

int fog_executor__running_at(const struct fog_executor *x, unsigned int i, const char *mount,
			     const char **id, __u64 *cgroup_id)
{
	size_t ml = mount ? strlen(mount) : 0;

	if (i >= x->n_run)
		return -ENOENT;
	*id = x->run[i].id;
	*cgroup_id = 0;
	for (int k = 0; ml && k < CG_N; k++)
		if (!strncmp(x->run[i].cg[k], mount, ml) && x->run[i].cg[k][ml] == '/') {
			*cgroup_id = x->run[i].ino[k];
			break;
		}
	return 0;
}

unsigned int fog_executor__draining(const struct fog_executor *x)
{
	return x->n_drain;
}

const char *fog_executor__user_error(const struct fog_executor *x)
{
	return x->user_err[0] ? x->user_err : NULL;
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
	if (x->user_err[0]) {
		err = -ENOENT;
		fog_warnx("executor: task %s cannot run: %s", task_id, x->user_err);
		goto fail;
	}
	err = fog_cg_make(x, c, &t);
	if (err) {
		fog_warnc(-err, "executor: task %s: cannot set up its cgroup", task_id);
		goto fail;
	}
	err = launch(x, c, t.spec.command);
	if (err) {
		fog_warnc(-err, "executor: task %s: no runner to start it", task_id);
		goto fail;
	}
	x->n_run++;
	fog_sched__task_started(x->s, task_id);
	return 0;
fail:
	fog_cg_remove_task(c);
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
	fog_cg_kill(x, c->cg);
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	return 0;
}

static void reap_one(struct fog_executor *x, unsigned int i, int status, const struct rusage *ru)
{
	struct child *c = &x->run[i];
	double cpu_ms = (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
			(double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
	double peak_mb;
	bool oom;

	fog_cg_outcome(x, c, &peak_mb, &oom);
	if (!c->killed) {
		enum fog_task_state st = WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
						 FOG_TASK_SUCCEEDED : FOG_TASK_FAILED;

		fog_sched__task_finished(x->s, c->id, st, status, oom, cpu_ms, peak_mb);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	/* the task is over: so is everything it started */
	fog_cg_kill(x, c->cg);
	if (!fog_cg_remove(c->cg)) {
		/* dying members still hold it: later passes remove it, never waited for here */
		struct drain *d = &x->drain[x->n_drain++];

		memcpy(d->id, c->id, sizeof(d->id));
		memcpy(d->cg, c->cg, sizeof(d->cg));
		d->tries = 0;
	}
	x->run[i] = x->run[--x->n_run];
}

/* One pass over the ended tasks' cgroups that still held processes. */
static void drain_pass(struct fog_executor *x)
{
	for (unsigned int i = 0; i < x->n_drain;) {
		struct drain *d = &x->drain[i];

		fog_cg_kill(x, d->cg);
		if (!fog_cg_remove(d->cg) && ++d->tries < DRAIN_TRIES) {
			i++;
			continue;
		}
		if (d->tries >= DRAIN_TRIES) {
			for (int k = 0; k < CG_N; k++)
				if (d->cg[k][0])
					fog_warnx("executor: task %s ended but %s still holds "
						  "processes after %d kills: left in place",
						  d->id, d->cg[k], DRAIN_TRIES);
		}
		x->drain[i] = x->drain[--x->n_drain];
	}
}

int fog_executor__reap(struct fog_executor *x, int timeout_ms)
{
	struct pollfd pfd[MAX_RUN];
	int n = 0;

	sweep_runners(x);
	drain_pass(x);
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
		pid_t r;

		if (x->n_drain == MAX_RUN)
			break;	/* room for one more draining cgroup first */
		r = wait4(x->run[i].pid, &status, WNOHANG, &ru);
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
		fog_cg_kill(x, x->run[i].cg);
		kill(-x->run[i].pid, SIGKILL);
		kill(x->run[i].pid, SIGKILL);
	}
	while (x->n_run)
		if (fog_executor__reap(x, 100) < 0)
			break;
	/* at exit, not on a loop: a bounded wait for the last members to die */
	for (int k = 0; k < 50 && x->n_drain; k++) {
		usleep(10000);
		drain_pass(x);
	}
	for (unsigned int i = 0; i < x->n_drain; i++)
		for (int k = 0; k < CG_N; k++)
			if (x->drain[i].cg[k][0])
				fog_warnx("executor: %s still holds processes at exit: left in "
					  "place", x->drain[i].cg[k]);
	fog_pool__free(x->runners);	/* ends the idle runners */
	for (int i = 0; i < CG_N; i++)
		if (x->base[i][0])
			fog_cg_remove_base(x->base[i]);
	free(x);
}
