/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local executor's state, shared by executor.c (runners, tasks, reaping)
 * and executor_cgroup.c (each task's cgroup folders on v1 or v2: limits,
 * kill as a whole, outcome, removal).
 */
#ifndef FOG_SCHED_EXECUTOR_INT_H
#define FOG_SCHED_EXECUTOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sched/sched_int.h"

#define CG_ROOT "/sys/fs/cgroup"
#define MAX_RUN 1024
#define CFS_PERIOD_US 100000
#define OWN_LEN 1024	/* a cgroup path of fogd's own */
#define BASE_LEN (OWN_LEN + 128)	/* hierarchy + own path + group */
#define CG_LEN (BASE_LEN + FOG_SCHED_ID_LEN + 2)
#define DRAIN_TRIES 100	/* reap passes a non-empty cgroup of an ended task is retried */

/* A task's cgroup folders, one per hierarchy; v2 uses CG_MEM only. */
enum { CG_MEM, CG_CPU, CG_PIDS, CG_FRZ, CG_N };

extern const char *const cg_hier[CG_N];	/* the v1 hierarchies' names */

struct child {
	char id[FOG_SCHED_ID_LEN];
	pid_t pid;
	int pidfd;
	char cg[CG_N][CG_LEN];	/* v1 folders, or v2's in cg[CG_MEM]; "" none */
	__u64 ino[CG_N];	/* their inodes: the cgroup ids BPF sees; 0 unknown */
	bool killed;		/* cancelled: report nothing more */
};

/* An ended task whose cgroup still held processes: killed again and removed later. */
struct drain {
	char id[FOG_SCHED_ID_LEN];
	char cg[CG_N][CG_LEN];
	unsigned int tries;
};

/* What a runner is sent: one message on its SOCK_SEQPACKET socketpair. */
struct runner_msg {
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
	char base[CG_N][BASE_LEN];	/* <hierarchy>/<own path>/<group>; "" none */
	bool v2_pids;	/* v2: the pids controller is enabled too */
	struct child run[MAX_RUN];
	unsigned int n_run;
	struct drain drain[MAX_RUN];
	unsigned int n_drain;
	uid_t uid;	/* the task user's, and the task group's gid */
	gid_t gid;
	char user_err[320];	/* why no task can run (the task user is missing); "" none */
	unsigned int pids_max;
	double default_cpu;	/* limits of a task that asks for none */
	__u64 default_mem_mb;
	struct fog_pool *runners;
	unsigned int n_runners;	/* the pool's size: runners kept waiting */
	struct runner *live[FOG_EXEC_MAX_RUNNERS * 2];	/* runners the pool has made */
	unsigned int n_live;
};

/* Writes val to dir/file (0 or a negative errno). */
int fog_cg_write(const char *dir, const char *file, const char *val);

/* Reads dir/file into buf, NUL-terminated and without its last newline. */
int fog_cg_read(const char *dir, const char *file, char *buf, size_t len);

/* The path of this process's cgroup in a v1 hierarchy with controller ctl, or v2 (ctl ""). */
int fog_cg_own(const char *ctl, char *out, size_t len);

/* Whether the v2 hierarchy can hold the task folders (base: where); pids: its controller too. */
bool fog_cg_v2_usable(char *base, size_t len, const char *group, bool *pids);

/* Moves pid into every cgroup folder of the task (fogd does it: the runner is unprivileged). */
int fog_cg_join(const struct child *c, pid_t pid);

/* The v1 hierarchy of controller ctl, at name's folder beneath fogd's own; false if absent. */
bool fog_cg_v1_base(const char *ctl, const char *probe, const char *group, char *out, size_t len);

/* The controllers a v2 task folder's parent hands down. */
const char *fog_cg_v2_controllers(const struct fog_executor *x);

/* Folder name for a task id: anything but [A-Za-z0-9._-] becomes '_'. */
void fog_cg_name(const char *id, char *out, size_t len);

/* Creates the task's folders and writes its limits (t's, or the defaults). */
int fog_cg_make(struct fog_executor *x, struct child *c, const struct fog_task_info *t);

/*
 * Kills every process in the task's cgroups, at once: v2's cgroup.kill; on
 * v1 the freezer folder is frozen first (a frozen process cannot fork while
 * its siblings are killed; SIGKILL takes effect at the thaw), else members
 * are killed as listed, and a child forked meanwhile is left to the next try.
 */
void fog_cg_kill(const struct fog_executor *x, char cg[CG_N][CG_LEN]);

/* Removes the task's folders that are empty; true when none is left. */
bool fog_cg_remove(char cg[CG_N][CG_LEN]);

/* Removes the task's folders, or keeps them to drain when processes remain. */
void fog_cg_remove_task(struct child *c);

/* Peak memory (MiB) and whether the OOM killer struck, from the task's cgroup. */
void fog_cg_outcome(const struct fog_executor *x, const struct child *c, double *peak_mb,
		    bool *oom);

/*
 * Removes an (empty) base folder at exit. Where fogd's own cgroup folder is
 * not writable but by capability (a v1 hierarchy's root is mode 0555), it
 * stays: the next start with the same name reuses it.
 */
void fog_cg_remove_base(const char *base);

#endif /* FOG_SCHED_EXECUTOR_INT_H */
