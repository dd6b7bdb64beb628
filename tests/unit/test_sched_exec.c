// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local executor with real cgroups: exit statuses, a memory limit that the
 * OOM killer enforces (the task is reported failed and oom_killed), and a CPU
 * quota (a busy loop given 0.2 cores for 1 s uses about 200 ms of CPU, against
 * about 1 s unlimited); tasks start in pre-forked runners (the pid that runs a
 * task existed before it was submitted), a killed idle runner is replaced, and
 * freeing the executor ends the idle ones. Needs root and a memory controller
 * (v1 or v2); skips otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "fog/sched.h"

static struct fog_sched *s;
static struct fog_executor *x;

static int setup(void **st)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_FIFO };
	struct fog_worker_spec w = { .id = "local", .cpu_cores = 2, .memory_mb = 4096 };
	char group[64], err[200];

	s = fog_sched__new(&o);
	if (!s || fog_sched__worker_add(s, &w, err, sizeof(err)))
		return -1;
	snprintf(group, sizeof(group), "fog-test-exec-%d", getpid());
	x = fog_executor__new(s, group);
	return x ? 0 : -1;
}

static int teardown(void **st)
{
	fog_executor__free(x);
	fog_sched__free(s);
	return 0;
}

/* Runs one task to its end; returns its final info. */
static struct fog_task_info run(const char *id, const char *cmd, double cores, __u64 mem_mb)
{
	struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT, .cpu_cores = cores,
				   .memory_mb = mem_mb };
	struct fog_task_info ti;
	char err[200] = "";

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.command, sizeof(t.command), "%s", cmd);
	if (fog_sched__submit(s, &t, err, sizeof(err)))
		fail_msg("submit: %s", err);
	assert_int_equal(fog_sched__schedule(s, 0), 1);
	assert_int_equal(fog_sched__task(s, id, &ti), 0);
	assert_int_equal(ti.state, FOG_TASK_RUNNING);
	for (int i = 0; i < 300 && fog_executor__running(x); i++)
		fog_executor__reap(x, 100);
	assert_int_equal(fog_executor__running(x), 0);
	assert_int_equal(fog_sched__task(s, id, &ti), 0);
	return ti;
}

static bool usable(void)
{
	if (geteuid() != 0 || !fog_executor__cgroup_version(x)) {
		print_message("skipped: needs root and a cgroup memory controller\n");
		return false;
	}
	return true;
}

static void test_exit_status(void **st)
{
	struct fog_task_info ok, bad;

	if (!usable())
		skip();
	ok = run("ok", "true", 1, 64);
	assert_int_equal(ok.state, FOG_TASK_SUCCEEDED);
	assert_true(WIFEXITED(ok.exit_status) && WEXITSTATUS(ok.exit_status) == 0);
	bad = run("bad", "exit 3", 1, 64);
	assert_int_equal(bad.state, FOG_TASK_FAILED);
	assert_true(WIFEXITED(bad.exit_status) && WEXITSTATUS(bad.exit_status) == 3);
	assert_false(bad.oom_killed);
}

/* dd's 256 MiB buffer is filled from /dev/zero: far over a 32 MiB limit. */
static void test_memory_limit_oom(void **st)
{
	struct fog_task_info big, fits;

	if (!usable())
		skip();
	big = run("hog", "dd if=/dev/zero of=/dev/null bs=256M count=1", 1, 32);
	assert_int_equal(big.state, FOG_TASK_FAILED);
	assert_true(big.oom_killed);
	assert_true(WIFSIGNALED(big.exit_status) || WEXITSTATUS(big.exit_status) != 0);
	assert_true(big.peak_mem_mb <= 32.5);
	assert_non_null(strstr(big.reason, "OOM"));
	/* the same program with room to spare succeeds: the limit made the difference */
	fits = run("fits", "dd if=/dev/zero of=/dev/null bs=256M count=1", 1, 512);
	assert_int_equal(fits.state, FOG_TASK_SUCCEEDED);
	assert_false(fits.oom_killed);
	assert_true(fits.peak_mem_mb > 200);
}

static void test_cpu_quota(void **st)
{
	struct fog_task_info lim, free_run;
	double lim_share, free_share;

	if (!usable())
		skip();
	lim = run("spin-limited", "timeout 1 sh -c 'while :; do :; done'", 0.2, 64);
	free_run = run("spin-free", "timeout 1 sh -c 'while :; do :; done'", 1, 64);
	/*
	 * CPU time over the task's own wall time: the quota caps it at 0.2 whatever the
	 * host's speed or load (one 100 ms period of slack); a loaded host only lowers
	 * the free run's share, so that one is only compared with the limited one.
	 */
	assert_true(lim.end_ns > lim.start_ns && free_run.end_ns > free_run.start_ns);
	lim_share = lim.cpu_ms * 1e6 / (double)(lim.end_ns - lim.start_ns);
	free_share = free_run.cpu_ms * 1e6 / (double)(free_run.end_ns - free_run.start_ns);
	print_message("cpu: %.0f ms (%.2f of a core) at 0.2 cores, %.0f ms (%.2f) at 1 core\n",
		      lim.cpu_ms, lim_share, free_run.cpu_ms, free_share);
	assert_true(lim.cpu_ms > 0 && lim_share <= 0.3);
	assert_true(free_share > lim_share);
}

static bool has_pid(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Reaps until the pool is back to its size without the runners in gone[]. */
static int refilled(const int *gone, int n_gone, int *pids)
{
	int n = 0;

	for (int i = 0; i < 100; i++) {
		bool stale = false;

		fog_executor__reap(x, 10);
		n = fog_executor__idle_runners(x, pids, FOG_EXEC_MAX_RUNNERS);
		for (int k = 0; k < n_gone; k++)
			stale |= has_pid(pids, n < FOG_EXEC_MAX_RUNNERS ? n : FOG_EXEC_MAX_RUNNERS,
					 gone[k]);
		if (n == FOG_EXEC_RUNNERS && !stale)
			break;
		usleep(10000);
	}
	return n;
}

static void test_runner_pool(void **st)
{
	int before[FOG_EXEC_MAX_RUNNERS], after[FOG_EXEC_MAX_RUNNERS], victim, n, task_pid = 0;
	char path[64], cmd[128];
	struct fog_task_info ti;
	FILE *f;

	if (!usable())
		skip();
	n = fog_executor__idle_runners(x, before, FOG_EXEC_MAX_RUNNERS);
	assert_int_equal(n, FOG_EXEC_RUNNERS);
	/* the task's shell is one of the runners that waited before the submit */
	snprintf(path, sizeof(path), "/tmp/fog-test-exec-%d.pid", getpid());
	snprintf(cmd, sizeof(cmd), "echo $$ > %s", path);
	ti = run("pid", cmd, 1, 64);
	assert_int_equal(ti.state, FOG_TASK_SUCCEEDED);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &task_pid), 1);
	fclose(f);
	unlink(path);
	assert_true(has_pid(before, n, task_pid));
	/* it is replaced: the pool is full again, without it */
	assert_int_equal(refilled(&task_pid, 1, after), FOG_EXEC_RUNNERS);
	assert_false(has_pid(after, FOG_EXEC_RUNNERS, task_pid));
	/* an idle runner killed from outside is reaped and replaced */
	victim = after[0];
	assert_int_equal(kill(victim, SIGKILL), 0);
	assert_int_equal(refilled(&victim, 1, before), FOG_EXEC_RUNNERS);
	assert_false(has_pid(before, FOG_EXEC_RUNNERS, victim));
	assert_int_equal(kill(victim, 0), -1);	/* reaped, not a zombie */
	assert_int_equal(errno, ESRCH);
	/* the replacement runs tasks too */
	ti = run("after-kill", "exit 0", 1, 64);
	assert_int_equal(ti.state, FOG_TASK_SUCCEEDED);
}

/* Freeing the executor ends its idle runners (fogd's exit leaves none behind). */
static void test_runners_end_with_executor(void **st)
{
	struct fog_sched_opts o = { .strategy = FOG_STRAT_FIFO };
	struct fog_executor_opts eo = { .runners = 3 };
	struct fog_sched *s2 = fog_sched__new(&o);
	struct fog_executor *x2;
	int pids[FOG_EXEC_MAX_RUNNERS];
	char group[64];

	if (!usable())
		skip();
	assert_non_null(s2);
	snprintf(group, sizeof(group), "fog-test-exec2-%d", getpid());
	eo.group = group;
	x2 = fog_executor__new_opts(s2, &eo);
	assert_non_null(x2);
	assert_int_equal(fog_executor__idle_runners(x2, pids, FOG_EXEC_MAX_RUNNERS), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(kill(pids[i], 0), 0);
	fog_executor__free(x2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(kill(pids[i], 0), -1);
		assert_int_equal(errno, ESRCH);
	}
	fog_sched__free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_memory_limit_oom),
		cmocka_unit_test(test_cpu_quota),
		cmocka_unit_test(test_runner_pool),
		cmocka_unit_test(test_runners_end_with_executor),
	};

	return cmocka_run_group_tests_name("sched_exec", tests, setup, teardown);
}
