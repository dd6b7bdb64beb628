// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hooks run real programs: this test binary runs itself as the hook (through
 * /proc/self/exe) in one of the modes handled at the top of main():
 *   --hook-dump DIR        writes its argv, stdin and environment to DIR/{args,stdin,env}
 *   --hook-sleep PIDFILE   writes its pid and sleeps (overruns any timeout)
 *   --hook-stubborn PIDFILE  the same, ignoring SIGTERM
 *   --hook-spawn PIDFILE   forks a sleeping child, writes the child's pid, sleeps
 *   --hook-exit N          exits with status N
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "monitor/alert.h"
#include "monitor/hook.h"

extern char **environ;

static char self[PATH_MAX];
static char dir[] = "/tmp/fog-test-hook.XXXXXX";

/* ---- the hook side ---- */

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		_exit(90);
	close(fd);
}

static void write_pid(const char *path, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	write_file(path, buf, (size_t)n);
}

/* Each string followed by a NUL. */
static void write_strings(const char *path, char *const *v, int n)
{
	char buf[65536];
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;

		if (off + len > sizeof(buf))
			_exit(91);
		memcpy(buf + off, v[i], len);
		off += len;
	}
	write_file(path, buf, off);
}

static int hook_main(int argc, char **argv)
{
	char path[PATH_MAX + 16], done[PATH_MAX + 16];

	if (!strcmp(argv[1], "--hook-dump") && argc >= 3) {
		char in[65536];
		size_t off = 0;
		ssize_t r;
		int nenv = 0;

		while ((r = read(STDIN_FILENO, in + off, sizeof(in) - off)) > 0)
			off += (size_t)r;
		snprintf(path, sizeof(path), "%s/stdin", argv[2]);
		write_file(path, in, off);
		while (environ[nenv])
			nenv++;
		snprintf(path, sizeof(path), "%s/env", argv[2]);
		write_strings(path, environ, nenv);
		/* args last: the test waits for this file */
		snprintf(path, sizeof(path), "%s/args.tmp", argv[2]);
		write_strings(path, argv, argc);
		snprintf(done, sizeof(done), "%s/args", argv[2]);
		rename(path, done);
		return 0;
	}
	if (!strcmp(argv[1], "--hook-sleep") || !strcmp(argv[1], "--hook-stubborn")) {
		if (!strcmp(argv[1], "--hook-stubborn"))
			signal(SIGTERM, SIG_IGN);
		write_pid(argv[2], getpid());
		sleep(30);
		return 0;
	}
	if (!strcmp(argv[1], "--hook-spawn")) {
		pid_t child = fork();

		if (child == 0) {
			sleep(30);
			_exit(0);
		}
		write_pid(argv[2], child);
		sleep(30);
		return 0;
	}
	if (!strcmp(argv[1], "--hook-exit"))
		return atoi(argv[2]);
	return 99;
}

/* ---- the test side ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t slurp(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	r = read(fd, buf, len);
	close(fd);
	assert_true(r >= 0);
	return (size_t)r;
}

static pid_t read_pid(const char *path)
{
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		int pid = 0;

		if (f) {
			int got = fscanf(f, "%d", &pid);

			fclose(f);
			if (got == 1 && pid > 0)
				return pid;
		}
		usleep(10000);
	}
	fail_msg("no pid in %s", path);
	return -1;
}

/* Gone, or a zombie nobody will run again. */
static int is_dead(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && (p[2] == 'Z' || p[2] == 'X');
}

static void test_argv_arrives_intact(void **state)
{
	char marker[PATH_MAX], subst[PATH_MAX + 32], buf[65536];
	const char *argv[16];
	const char *const env[] = { "A=1", NULL };
	struct fog_hook_runner *r;
	struct fog_hook_stats st;
	size_t len, off = 0;
	int n = 0;

	snprintf(marker, sizeof(marker), "%s/shell-ran", dir);
	snprintf(subst, sizeof(subst), "$(touch %s)", marker);
	argv[n++] = self;
	argv[n++] = "--hook-dump";
	argv[n++] = dir;
	argv[n++] = "two words";
	argv[n++] = "it's \"quoted\"";
	argv[n++] = subst;
	argv[n++] = "`touch backtick`";
	argv[n++] = "; rm -rf / ;";
	argv[n++] = "*";
	argv[n++] = "";
	argv[n++] = "back\\slash\nnew line\ttab";
	argv[n++] = "$HOME ${PATH} | > <";
	argv[n] = NULL;

	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, argv, env, "", 10), 0);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.run, 1);
	assert_int_equal(st.failed, 0);
	fog_hook_runner__free(r);

	len = slurp("args", buf, sizeof(buf));
	for (int i = 0; i < n; i++) {
		assert_true(off < len);
		assert_string_equal(buf + off, argv[i]);
		off += strlen(argv[i]) + 1;
	}
	assert_int_equal(off, len); /* no extra argument either */
	/* nothing interpreted the arguments */
	assert_int_equal(access(marker, F_OK), -1);
}

static void test_alert_on_stdin_and_env(void **state)
{
	const char *argv[] = { self, "--hook-dump", dir, NULL };
	struct fog_alert a = {
		.resource = FOG_MONITOR_MEMORY,
		.level = FOG_ALERT_CRITICAL,
		.previous = FOG_ALERT_ERROR,
		.value = 0.97,
		.threshold = 0.95,
		.since = 1714564800,
		.started_at = 1714564700,
		.at = 1714564810.5,
	};
	struct fog_alert_env env;
	struct fog_hook_runner *r;
	char buf[65536], *text;
	const char *want[] = {
		"FOG_ALERT_RESOURCE=memory",
		"FOG_ALERT_LEVEL=critical",
		"FOG_ALERT_PREVIOUS_LEVEL=error",
		"FOG_ALERT_STATE=firing",
		"FOG_ALERT_VALUE=0.97",
		"FOG_ALERT_THRESHOLD=0.95",
		"FOG_ALERT_UNIT=fraction",
		"FOG_ALERT_SINCE=2024-05-01T12:00:00.000Z",
		"FOG_ALERT_STARTED_AT=2024-05-01T11:58:20.000Z",
		"FOG_ALERT_TIME=2024-05-01T12:00:10.500Z",
		"FOG_ALERT_SUMMARY=memory at 97% is above the critical threshold 95%",
	};
	json_t *j;
	size_t len;

	snprintf(a.summary, sizeof(a.summary),
		 "memory at 97%% is above the critical threshold 95%%");
	fog_alert_env(&env, &a);
	j = fog_alert_json(&a);
	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	setenv("FOG_TEST_CANARY", "leaked", 1);

	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, argv, (const char *const *)env.envp, text, 10),
			 0);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	fog_hook_runner__free(r);

	len = slurp("stdin", buf, sizeof(buf) - 1);
	buf[len] = 0;
	assert_string_equal(buf, text);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "resource")), "memory");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "firing");
	assert_string_equal(json_string_value(json_object_get(j, "since")),
			    "2024-05-01T12:00:00.000Z");
	assert_true(json_real_value(json_object_get(j, "value")) == 0.97);
	json_decref(j);
	free(text);

	len = slurp("env", buf, sizeof(buf));
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		int found = 0;

		for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
			found |= !strcmp(buf + off, want[w]);
		if (!found)
			fail_msg("hook environment lacks %s", want[w]);
	}
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
		if (!strncmp(buf + off, "FOG_TEST_CANARY", 15))
			fail_msg("the caller's environment leaked into the hook");
	}
}

static void test_timeout_kills(void **state)
{
	char pidfile[PATH_MAX];
	const char *argv[] = { self, "--hook-sleep", pidfile, NULL };
	struct fog_hook_runner *r;
	struct fog_hook_stats st;
	double t0, submitted;
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/sleep.pid", dir);
	unlink(pidfile);
	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	t0 = now_s();
	assert_int_equal(fog_hook_runner__submit(r, argv, NULL, "{}", 0.3), 0);
	submitted = now_s();
	assert_true(submitted - t0 < 0.1); /* the caller does not wait for the hook */
	pid = read_pid(pidfile);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	assert_true(now_s() - t0 < 5); /* not the 30 s the hook wanted */
	assert_true(now_s() - t0 >= 0.3);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.killed, 1);
	assert_int_equal(st.failed, 0);
	assert_true(is_dead(pid));
	fog_hook_runner__free(r);
}

/* A hook ignoring SIGTERM gets SIGKILL after the grace second. */
static void test_timeout_escalates_to_sigkill(void **state)
{
	char pidfile[PATH_MAX];
	const char *argv[] = { self, "--hook-stubborn", pidfile, NULL };
	struct fog_hook_runner *r;
	double t0;
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/stubborn.pid", dir);
	unlink(pidfile);
	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	t0 = now_s();
	assert_int_equal(fog_hook_runner__submit(r, argv, NULL, "", 0.2), 0);
	pid = read_pid(pidfile);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	assert_true(now_s() - t0 >= 1.1); /* SIGTERM did not do it */
	assert_true(now_s() - t0 < 5);
	assert_true(is_dead(pid));
	fog_hook_runner__free(r);
}

/* The whole process group goes, not only the hook itself. */
static void test_timeout_kills_children(void **state)
{
	char pidfile[PATH_MAX];
	const char *argv[] = { self, "--hook-spawn", pidfile, NULL };
	struct fog_hook_runner *r;
	pid_t child;

	snprintf(pidfile, sizeof(pidfile), "%s/spawn.pid", dir);
	unlink(pidfile);
	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, argv, NULL, "", 0.3), 0);
	child = read_pid(pidfile);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	for (int i = 0; i < 100 && !is_dead(child); i++)
		usleep(10000);
	assert_true(is_dead(child));
	fog_hook_runner__free(r);
}

static void test_exit_status_counted(void **state)
{
	const char *fails[] = { self, "--hook-exit", "3", NULL };
	const char *works[] = { self, "--hook-exit", "0", NULL };
	struct fog_hook_runner *r;
	struct fog_hook_stats st;

	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, fails, NULL, "", 10), 0);
	assert_int_equal(fog_hook_runner__submit(r, works, NULL, "", 10), 0);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.run, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.killed, 0);
	fog_hook_runner__free(r);
}

/* a hook given a user runs as that user: no root, no other group, no capability */
static void test_runs_as_user(void **state)
{
	char tmp[] = "/tmp/fog-test-hook-user.XXXXXX", out[64], buf[512];
	const char *argv[] = { "/bin/sh", "-c",
			       "{ id -u; id -G; grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; "
			       "} > \"$1\"",
			       "sh", out, NULL };
	struct fog_hook_runner *r;
	struct fog_hook_stats st;
	ssize_t n;
	int fd;

	if (geteuid() != 0)
		skip();	/* changing ids takes root */
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0777), 0);
	snprintf(out, sizeof(out), "%s/ids", tmp);
	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	fog_hook_runner__set_user(r, 65534, 65534);
	assert_int_equal(fog_hook_runner__submit(r, argv, NULL, "", 10), 0);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.failed, 0);
	fog_hook_runner__free(r);
	fd = open(out, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "65534\n65534\nCapEff:\t0000000000000000\n"
				 "CapBnd:\t0000000000000000\nNoNewPrivs:\t1\n");
	unlink(out);
	rmdir(tmp);
}

static void test_queue_full_drops(void **state)
{
	char pidfile[PATH_MAX];
	const char *sleeper[] = { self, "--hook-sleep", pidfile, NULL };
	const char *quick[] = { self, "--hook-exit", "0", NULL };
	struct fog_hook_runner *r;
	struct fog_hook_stats st;

	snprintf(pidfile, sizeof(pidfile), "%s/busy.pid", dir);
	unlink(pidfile);
	r = fog_hook_runner__new(1, 1);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, sleeper, NULL, "", 0.5), 0);
	read_pid(pidfile); /* running: the queue is empty again */
	assert_int_equal(fog_hook_runner__submit(r, quick, NULL, "", 10), 0);
	assert_int_equal(fog_hook_runner__submit(r, quick, NULL, "", 10), -ENOSPC);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(fog_hook_runner__drain(r, 10), 0);
	fog_hook_runner__stats(r, &st);
	assert_int_equal(st.run, 2);
	fog_hook_runner__free(r);
}

/* Freeing the runner kills what runs instead of waiting for it. */
static void test_free_kills_running(void **state)
{
	char pidfile[PATH_MAX];
	const char *argv[] = { self, "--hook-sleep", pidfile, NULL };
	struct fog_hook_runner *r;
	double t0;
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/free.pid", dir);
	unlink(pidfile);
	r = fog_hook_runner__new(4, 2);
	assert_non_null(r);
	assert_int_equal(fog_hook_runner__submit(r, argv, NULL, "", 60), 0);
	pid = read_pid(pidfile);
	t0 = now_s();
	fog_hook_runner__free(r);
	assert_true(now_s() - t0 < 2);
	assert_true(is_dead(pid));
}

static void test_check_argv(void **state)
{
	char err[256], plain[PATH_MAX];
	const char *ok[] = { self, "x", NULL };
	const char *relative[] = { "sh", "-c", "true", NULL };
	const char *missing[] = { "/nonexistent/hook", NULL };
	const char *directory[] = { "/tmp", NULL };
	const char *noexec[] = { plain, NULL };
	const char *empty[] = { NULL };

	snprintf(plain, sizeof(plain), "%s/plain-file", dir);
	close(open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	assert_int_equal(fog_hook_check_argv(ok, err, sizeof(err)), 0);
	assert_int_equal(fog_hook_check_argv(relative, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an absolute path"));
	assert_int_equal(fog_hook_check_argv(missing, err, sizeof(err)), -ENOENT);
	assert_int_equal(fog_hook_check_argv(directory, err, sizeof(err)), -EINVAL);
	if (geteuid() != 0) /* root may execute anything */
		assert_int_equal(fog_hook_check_argv(noexec, err, sizeof(err)), -EACCES);
	else
		assert_int_not_equal(fog_hook_check_argv(noexec, err, sizeof(err)), 0);
	assert_int_equal(fog_hook_check_argv(empty, err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_hook_check_argv(NULL, err, sizeof(err)), -EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_arrives_intact),
		cmocka_unit_test(test_alert_on_stdin_and_env),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_timeout_escalates_to_sigkill),
		cmocka_unit_test(test_timeout_kills_children),
		cmocka_unit_test(test_exit_status_counted),
		cmocka_unit_test(test_runs_as_user),
		cmocka_unit_test(test_queue_full_drops),
		cmocka_unit_test(test_free_kills_running),
		cmocka_unit_test(test_check_argv),
	};
	const char *names[] = { "args",	     "stdin",	 "env",	     "sleep.pid", "stubborn.pid",
				"spawn.pid", "busy.pid", "free.pid", "plain-file" };
	char path[PATH_MAX + 32];
	ssize_t n;
	int rc;

	if (argc >= 2 && !strncmp(argv[1], "--hook-", 7))
		return hook_main(argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	if (!mkdtemp(dir))
		return 1;
	/* orphaned grandchildren come to this process, so their death can be seen */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
