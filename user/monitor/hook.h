/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hooks: programs run for alerts with fork and execve (an argv array, never a
 * shell), the alert on stdin and in the environment, from one worker thread
 * so the caller's loop never waits for them. A hook that overruns its timeout
 * gets SIGTERM and, a grace second later, SIGKILL, sent to its process group.
 */
#ifndef FOG_MONITOR_HOOK_H
#define FOG_MONITOR_HOOK_H

#include <stddef.h>

struct fog_hook_runner;

struct fog_hook_stats {
	unsigned long run;     /* started */
	unsigned long failed;  /* could not start, exited non-zero or died of a signal */
	unsigned long killed;  /* overran the timeout */
	unsigned long dropped; /* the queue was full */
};

/*
 * Checks a hook's argv: at least argv[0], an absolute path to an executable
 * file, and fewer than 256 arguments. -EINVAL, -ENOENT or -EACCES with err.
 */
int fog_hook_check_argv(const char *const argv[], char *err, size_t errlen);

/* Starts the worker; queue_len jobs wait at most, max_running run at once. NULL + errno. */
struct fog_hook_runner *fog_hook_runner__new(unsigned int queue_len, unsigned int max_running);
/* Kills running hooks (SIGKILL), reaps them and drops queued ones; NULL is fine. */
void fog_hook_runner__free(struct fog_hook_runner *r);
/*
 * Hooks started from now on run as uid:gid with no supplementary group, no
 * capability and no_new_privs (fogd's hooks never run as root). Without it
 * they keep the caller's ids.
 */
void fog_hook_runner__set_user(struct fog_hook_runner *r, uid_t uid, gid_t gid);

/*
 * Queues a run of argv with exactly the environment envp and stdin_data on
 * its stdin; all three are copied. -ENOSPC when the queue is full (counted as
 * dropped), -ENOMEM.
 */
int fog_hook_runner__submit(struct fog_hook_runner *r, const char *const argv[],
			    const char *const envp[], const char *stdin_data,
			    double timeout_seconds);

/* Waits until nothing is queued or running; -ETIMEDOUT. */
int fog_hook_runner__drain(struct fog_hook_runner *r, double timeout_seconds);

void fog_hook_runner__stats(struct fog_hook_runner *r, struct fog_hook_stats *out);

#endif /* FOG_MONITOR_HOOK_H */
