// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/clock.h"
#include "base/log.h"
#include "monitor/hook.h"

#define HOOK_MAX_ARGS	  256
#define HOOK_KILL_GRACE_S 1.0

struct hook_job {
	char **argv; /* NULL-terminated copies */
	char **envp;
	char *input; /* written to stdin */
	double timeout;
};

struct hook_child {
	struct hook_job *job;
	pid_t pid;
	int pidfd;	 /* -1 when pidfd_open is not available: polled instead */
	double deadline; /* monotonic: next escalation */
	int signals;	 /* 0 running, 1 after SIGTERM, 2 after SIGKILL */
};

struct fog_hook_runner {
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below but children */
	pthread_cond_t idle;  /* signalled when queued + active drops to 0 */
	int wake_fd;	      /* eventfd: a job was queued or stop was asked */
	bool stop;
	struct hook_job **queue; /* ring of queue_len */
	unsigned int queue_len, head, count;
	unsigned int active; /* jobs taken off the queue and not yet finished */
	struct fog_hook_stats stats;
	bool as_user;	/* hooks run as uid:gid, without capabilities */
	uid_t uid;
	gid_t gid;
	/* owned by the worker thread */
	struct hook_child *children;
	struct pollfd *pfd; /* the wake fd and one pidfd per child */
	unsigned int max_running, nchildren;
};

int fog_hook_check_argv(const char *const argv[], char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;

	if (!argv || !argv[0] || !argv[0][0]) {
		snprintf(err, errlen, "hook has no program (argv[0] is missing)");
		return -EINVAL;
	}
	while (argv[n])
		n++;
	if (n >= HOOK_MAX_ARGS) {
		snprintf(err, errlen, "hook %s has %zu arguments, more than %d", argv[0], n,
			 HOOK_MAX_ARGS - 1);
		return -EINVAL;
	}
	if (argv[0][0] != '/') {
		snprintf(err, errlen,
			 "hook program '%s' is not an absolute path (hooks run without a shell or "
			 "PATH search)",
			 argv[0]);
		return -EINVAL;
	}
	if (stat(argv[0], &st)) {
		int e = errno;

		snprintf(err, errlen, "hook program %s: %s", argv[0], strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "hook program %s is not a regular file", argv[0]);
		return -EINVAL;
	}
	if (access(argv[0], X_OK)) {
		int e = errno;

		snprintf(err, errlen, "hook program %s is not executable: %s", argv[0],
			 strerror(e));
		return -e;
	}
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			strv_free(out);
			return NULL;
		}
	}
	return out;
}

static void job_free(struct hook_job *j)
{
	if (!j)
		return;
	strv_free(j->argv);
	strv_free(j->envp);
	free(j->input);
	free(j);
}

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Writes the input without blocking: the alert JSON is far smaller than a
 * pipe's buffer. A hook that exits without reading makes write fail with
 * EPIPE; SIGPIPE is blocked in this thread and the pending one is consumed.
 */
static void feed_stdin(int fd, const char *input, const char *prog)
{
	size_t len = input ? strlen(input) : 0, off = 0;
	sigset_t pipe_set;
	struct timespec zero = { 0 };

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (off < len) {
		ssize_t w = write(fd, input + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno == EPIPE) {
				sigemptyset(&pipe_set);
				sigaddset(&pipe_set, SIGPIPE);
				sigtimedwait(&pipe_set, NULL, &zero);
			} else {
				fog_warn("hook %s: writing the alert to its stdin", prog);
			}
			break;
		}
		off += (size_t)w;
	}
	close(fd);
}

/* Runs in the child between fork and execve: async-signal-safe calls only. */
static void __attribute__((noreturn)) exec_child(int in_fd, const struct hook_job *j,
						  bool as_user, uid_t uid, gid_t gid)
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	setpgid(0, 0);
	/* the hook user, no capability, no way back; a failure runs nothing */
	if (as_user && (fog_privs_child_as(uid, gid) || chdir("/")))
		_exit(126);
	if (dup2(in_fd, STDIN_FILENO) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(j->argv[0], j->argv, j->envp);
	_exit(127);
}

static void spawn(struct fog_hook_runner *r, struct hook_job *j)
{
	struct hook_child *c = &r->children[r->nchildren];
	bool as_user;
	uid_t uid;
	gid_t gid;
	int fds[2];
	pid_t pid;

	pthread_mutex_lock(&r->lock);
	as_user = r->as_user;
	uid = r->uid;
	gid = r->gid;
	pthread_mutex_unlock(&r->lock);

	if (pipe2(fds, O_CLOEXEC)) {
		fog_warn("hook %s: pipe", j->argv[0]);
		goto out_failed;
	}
	pid = fork();
	if (pid < 0) {
		fog_warn("hook %s: fork", j->argv[0]);
		close(fds[0]);
		close(fds[1]);
		goto out_failed;
	}
	if (pid == 0)
		exec_child(fds[0], j, as_user, uid, gid);
	close(fds[0]);
	/* also here, so the group exists before any kill (EACCES once it has exec'd) */
	setpgid(pid, pid);
	c->job = j;
	c->pid = pid;
	c->pidfd = pidfd_open_compat(pid);
	c->deadline = fog_mono_now() + j->timeout;
	c->signals = 0;
	r->nchildren++;
	pthread_mutex_lock(&r->lock);
	r->stats.run++;
	pthread_mutex_unlock(&r->lock);
	feed_stdin(fds[1], j->input, j->argv[0]);
	return;

out_failed:
	pthread_mutex_lock(&r->lock);
	r->stats.failed++;
	r->active--;
	if (!r->active && !r->count)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
	job_free(j);
}

/* Reaps child i if it has exited; returns true when it did. */
static bool reap(struct fog_hook_runner *r, unsigned int i)
{
	struct hook_child *c = &r->children[i];
	bool failed = false;
	int status;
	pid_t w;

	do
		w = waitpid(c->pid, &status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == 0)
		return false;
	if (w < 0) {
		/* someone else reaped it (a waitpid(-1) elsewhere in the process) */
		fog_warnc(errno, "hook %s: exit status lost", c->job->argv[0]);
		failed = true;
	} else if (c->signals) {
		/* counted as killed, not as failed */
	} else if (WIFEXITED(status) && WEXITSTATUS(status)) {
		fog_warnx("hook %s exited with status %d%s", c->job->argv[0], WEXITSTATUS(status),
			  WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
		failed = true;
	} else if (WIFSIGNALED(status)) {
		fog_warnx("hook %s died of signal %d", c->job->argv[0], WTERMSIG(status));
		failed = true;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	job_free(c->job);
	r->children[i] = r->children[--r->nchildren];
	pthread_mutex_lock(&r->lock);
	r->active--;
	if (failed)
		r->stats.failed++;
	if (!r->active && !r->count)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
	return true;
}

static void escalate(struct fog_hook_runner *r, struct hook_child *c, double now)
{
	if (c->signals == 0) {
		fog_warnx("hook %s ran over its timeout of %g s: terminating it", c->job->argv[0],
			  c->job->timeout);
		kill(-c->pid, SIGTERM);
		c->signals = 1;
		c->deadline = now + HOOK_KILL_GRACE_S;
		pthread_mutex_lock(&r->lock);
		r->stats.killed++;
		pthread_mutex_unlock(&r->lock);
	} else if (c->signals == 1) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		c->signals = 2;
		c->deadline = INFINITY;
	}
}

static void *worker(void *arg)
{
	struct fog_hook_runner *r = arg;
	struct pollfd *pfd = r->pfd;
	sigset_t pipe_set;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	for (;;) {
		double now, next = INFINITY;
		int timeout_ms, n = 0;
		uint64_t v;

		pthread_mutex_lock(&r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		while (r->nchildren < r->max_running && r->count) {
			struct hook_job *j = r->queue[r->head];

			r->queue[r->head] = NULL;
			r->head = (r->head + 1) % r->queue_len;
			r->count--;
			r->active++;
			pthread_mutex_unlock(&r->lock);
			spawn(r, j);
			pthread_mutex_lock(&r->lock);
		}
		if (!r->active && !r->count)
			pthread_cond_broadcast(&r->idle);
		pthread_mutex_unlock(&r->lock);

		pfd[n++] = (struct pollfd){ .fd = r->wake_fd, .events = POLLIN };
		for (unsigned int i = 0; i < r->nchildren; i++) {
			next = fmin(next, r->children[i].deadline);
			/* without a pidfd the child is checked every 50 ms */
			if (r->children[i].pidfd < 0)
				next = fmin(next, fog_mono_now() + 0.05);
			else
				pfd[n++] = (struct pollfd){ .fd = r->children[i].pidfd,
							    .events = POLLIN };
		}
		now = fog_mono_now();
		timeout_ms =
			isinf(next) ? -1 : (int)fmin(60000, fmax(0, ceil((next - now) * 1000)));
		if (poll(pfd, (nfds_t)n, timeout_ms) < 0 && errno != EINTR) {
			fog_warn("hook runner: poll");
			usleep(50000);
		}
		if (pfd[0].revents & POLLIN)
			(void)!read(r->wake_fd, &v, sizeof(v));
		for (unsigned int i = 0; i < r->nchildren;) {
			if (!reap(r, i))
				i++;
		}
		now = fog_mono_now();
		for (unsigned int i = 0; i < r->nchildren; i++) {
			if (now >= r->children[i].deadline)
				escalate(r, &r->children[i], now);
		}
	}
	/* stopping: kill what still runs and wait for it */
	for (unsigned int i = 0; i < r->nchildren; i++) {
		kill(-r->children[i].pid, SIGKILL);
		kill(r->children[i].pid, SIGKILL);
		while (waitpid(r->children[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (r->children[i].pidfd >= 0)
			close(r->children[i].pidfd);
		job_free(r->children[i].job);
	}
	r->nchildren = 0;
	return NULL;
}

void fog_hook_runner__set_user(struct fog_hook_runner *r, uid_t uid, gid_t gid)
{
	pthread_mutex_lock(&r->lock);
	r->as_user = true;
	r->uid = uid;
	r->gid = gid;
	pthread_mutex_unlock(&r->lock);
}

struct fog_hook_runner *fog_hook_runner__new(unsigned int queue_len, unsigned int max_running)
{
	struct fog_hook_runner *r;
	int err;

	if (!queue_len || !max_running) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->wake_fd = -1;
	r->queue_len = queue_len;
	r->max_running = max_running;
	r->queue = calloc(queue_len, sizeof(*r->queue));
	r->children = calloc(max_running, sizeof(*r->children));
	r->pfd = calloc(max_running + 1, sizeof(*r->pfd));
	if (!r->queue || !r->children || !r->pfd) {
		err = -ENOMEM;
		goto out_free;
	}
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0) {
		err = -errno;
		goto out_free;
	}
	pthread_mutex_init(&r->lock, NULL);
	err = fog_cond_init_mono(&r->idle);
	if (err)
		goto out_mutex;
	err = -pthread_create(&r->thread, NULL, worker, r);
	if (err)
		goto out_cond;
	return r;

out_cond:
	pthread_cond_destroy(&r->idle);
out_mutex:
	pthread_mutex_destroy(&r->lock);
out_free:
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	free(r->pfd);
	free(r->children);
	free(r->queue);
	free(r);
	errno = -err;
	return NULL;
}

static void wake(struct fog_hook_runner *r)
{
	uint64_t one = 1;

	(void)!write(r->wake_fd, &one, sizeof(one));
}

void fog_hook_runner__free(struct fog_hook_runner *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_mutex_unlock(&r->lock);
	wake(r);
	pthread_join(r->thread, NULL);
	while (r->count) {
		job_free(r->queue[r->head]);
		r->head = (r->head + 1) % r->queue_len;
		r->count--;
	}
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->lock);
	close(r->wake_fd);
	free(r->pfd);
	free(r->children);
	free(r->queue);
	free(r);
}

int fog_hook_runner__submit(struct fog_hook_runner *r, const char *const argv[],
			    const char *const envp[], const char *stdin_data,
			    double timeout_seconds)
{
	static const char *const no_env[] = { NULL };
	struct hook_job *j;

	pthread_mutex_lock(&r->lock);
	if (r->count == r->queue_len) {
		r->stats.dropped++;
		pthread_mutex_unlock(&r->lock);
		fog_warnx("hook %s not run: the hook queue is full (%u waiting)", argv[0],
			  r->queue_len);
		return -ENOSPC;
	}
	pthread_mutex_unlock(&r->lock);

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->argv = strv_dup(argv);
	j->envp = strv_dup(envp ? envp : no_env);
	j->input = strdup(stdin_data ? stdin_data : "");
	j->timeout = timeout_seconds;
	if (!j->argv || !j->envp || !j->input) {
		job_free(j);
		return -ENOMEM;
	}

	pthread_mutex_lock(&r->lock);
	if (r->count == r->queue_len) {
		r->stats.dropped++;
		pthread_mutex_unlock(&r->lock);
		job_free(j);
		return -ENOSPC;
	}
	r->queue[(r->head + r->count) % r->queue_len] = j;
	r->count++;
	pthread_mutex_unlock(&r->lock);
	wake(r);
	return 0;
}

int fog_hook_runner__drain(struct fog_hook_runner *r, double timeout_seconds)
{
	double deadline = fog_mono_now() + timeout_seconds;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	while (r->count || r->active) {
		if (fog_cond_wait_until(&r->idle, &r->lock, deadline) == ETIMEDOUT &&
		    (r->count || r->active)) {
			err = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

void fog_hook_runner__stats(struct fog_hook_runner *r, struct fog_hook_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->stats;
	pthread_mutex_unlock(&r->lock);
}
