// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/child.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/prom.h"
#include "base/safe_open.h"
#include "profile/elfsym.h"
#include "profile/symhelper.h"
#include "profile/unwind.h"

#define HELPER_MAGIC 0x46474850u	/* "PHGF" */
#define OP_SYMBOLS 1u
#define OP_LINES 2u
#define OP_OFFSETS 3u	/* functions' file offsets, for uprobes */
#define OP_UNWIND 4u	/* a batch of copied user stacks (unwind.h): its memfd, then the files */
#define MAX_FDS (1 + FOG_UNW_MAX_MODS)	/* descriptors with one request */
#define MAX_UNWIND_BYTES (96ull << 20)	/* a batch: FOG_UNW_BATCH stacks and some */
#define SYMBOLS_TIMEOUT_MS 20000	/* a 512 MiB file's symbols take about 2 s */
#define LINES_TIMEOUT_MS 60000	/* its line table up to about 10 s */
#define MAX_REPLY_BYTES (256ull << 20)	/* the largest blob elfsym.c accepts, and some */
#define RESTART_WINDOW_NS (10ull * 1000000000ull)
#define RESTARTS_PER_WINDOW 5	/* more failures than this in the window: pause */
#define LOG_EVERY_NS (60ull * 1000000000ull)

/* Limits of the helper process: its reads are bounded copies of up to 512 MiB. */
#define HELPER_AS_BYTES (3ull << 30)
#define HELPER_CPU_S 600	/* cumulative: a helper that used it is replaced */
#define HELPER_NOFILE (16 + MAX_FDS + 256)	/* a request's, and the unwinder's kept files */

struct req {
	__u32 magic;
	__u32 op;
	char build_id[48];	/* OP_LINES: what the file must have, or "" */
	__u32 nnames;	/* OP_OFFSETS: names, each NUL-ended, one after the other */
	__u32 nfds;	/* descriptors that came with it (OP_UNWIND: 1 + modules) */
	char names[256];
};

struct rep {
	__u32 magic;
	__u32 op;
	__s32 err;	/* 0: a memfd with the blob comes with it */
	__u32 pad;
	__u64 counts[FOG_SYMERR_N];	/* refusals while parsing */
	char msgs[FOG_SYMERR_N][FOG_SYMERR_MSG_LEN];
	__u64 offs[FOG_ELFSYM_MAX_NAMES];	/* OP_OFFSETS, with no memfd */
};

static const char *const failure_names[FOG_HELPER_N] = {
	[FOG_HELPER_CRASH] = "crash",
	[FOG_HELPER_TIMEOUT] = "timeout",
	[FOG_HELPER_BAD_REPLY] = "bad_reply",
	[FOG_HELPER_SPAWN] = "spawn",
};

static struct {
	pthread_mutex_t lock;	/* one request at a time; the counters are atomic */
	bool enabled;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int sock;
	__u64 requests;
	__u64 starts;
	__u64 failures[FOG_HELPER_N];
	__u64 window_start;
	unsigned int window_failures;
	__u64 last_log;
} h = { .lock = PTHREAD_MUTEX_INITIALIZER, .sock = -1 };

/* ---- fogd's side ---- */

/* In the child between fork and exec: system calls only. */
static void __attribute__((noreturn)) child(int sock, int devnull)
{
	static char *const argv[] = { "fogd-symbol-helper", FOG_HELPER_ARG, NULL };
	static char *const envp[] = { NULL };
	struct rlimit lim;
	int s, n;

	/* above the three standard fds first, so the dup2s below cannot collide */
	s = fcntl(sock, F_DUPFD, 10);
	n = fcntl(devnull, F_DUPFD, 10);
	if (s < 0 || n < 0 || dup2(n, 0) < 0 || dup2(n, 1) < 0 || dup2(n, 2) < 0 || dup2(s, 3) < 0)
		_exit(126);
	syscall(SYS_close_range, 4u, ~0u, 0u);
#if !defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer reserves terabytes of address space: no bound there */
	lim = (struct rlimit){ HELPER_AS_BYTES, HELPER_AS_BYTES };
	if (setrlimit(RLIMIT_AS, &lim))
		_exit(126);
#endif
	lim = (struct rlimit){ HELPER_CPU_S, HELPER_CPU_S + 5 };
	if (setrlimit(RLIMIT_CPU, &lim))
		_exit(126);
	lim = (struct rlimit){ HELPER_NOFILE, HELPER_NOFILE };
	if (setrlimit(RLIMIT_NOFILE, &lim))
		_exit(126);
	lim = (struct rlimit){ 0, 0 };
	if (setrlimit(RLIMIT_CORE, &lim))
		_exit(126);
	if (fog_privs_child_as(h.uid, h.gid))
		_exit(126);
	execve("/proc/self/exe", argv, envp);
	_exit(127);
}

static void note_failure(enum fog_helper_failure why, const char *what)
{
	__u64 now = fog_now_ns();

	__atomic_add_fetch(&h.failures[why], 1, __ATOMIC_RELAXED);
	if (now - h.window_start > RESTART_WINDOW_NS) {
		h.window_start = now;
		h.window_failures = 0;
	}
	h.window_failures++;
	if (!h.last_log || now - h.last_log >= LOG_EVERY_NS) {
		h.last_log = now;
		fog_warnx("symbol helper: %s (%s); the file's frames stay [unknown] and a new "
			  "helper serves the next file (logged at most once a minute; "
			  "fog_profile_helper_failures_total counts them)", what,
			  failure_names[why]);
	}
}

/* Ends the helper, whatever it is doing. */
static void stop(void)
{
	if (h.sock >= 0)
		close(h.sock);
	h.sock = -1;
	if (h.pid > 0) {
		kill(h.pid, SIGKILL);
		while (waitpid(h.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	__atomic_store_n(&h.pid, 0, __ATOMIC_RELAXED);
}

static int start(void)
{
	int sv[2], devnull;
	pid_t pid;

	if (h.window_failures > RESTARTS_PER_WINDOW && fog_now_ns() - h.window_start <=
							       RESTART_WINDOW_NS)
		return -EAGAIN;	/* failing over and over: files go unread for a while */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	pid = fork();
	if (!pid)
		child(sv[1], devnull);
	close(sv[1]);
	close(devnull);
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		note_failure(FOG_HELPER_SPAWN, "fork failed");
		return err;
	}
	__atomic_store_n(&h.pid, pid, __ATOMIC_RELAXED);
	h.sock = sv[0];
	__atomic_add_fetch(&h.starts, 1, __ATOMIC_RELAXED);
	return 0;
}

static int send_req(const struct req *r, const int *fds, int nfd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)] = { 0 };
	struct iovec iov = { (void *)r, sizeof(*r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
	return sendmsg(h.sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(*r) ? 0 : -errno;
}

/*
 * Waits for the answer; *blob_fd gets the memfd that came with it (-1 when
 * none). Returns 0, or 1 + the failure (enum fog_helper_failure).
 */
#define FAILED(why) (1 + (why))
static int recv_rep(struct rep *r, int timeout_ms, int *blob_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { r, sizeof(*r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct pollfd p = { .fd = h.sock, .events = POLLIN };
	__u64 deadline = fog_now_ns() + (__u64)timeout_ms * 1000000ull;
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	*blob_fd = -1;
	for (;;) {
		__u64 now = fog_now_ns();

		if (now >= deadline)
			return FAILED(FOG_HELPER_TIMEOUT);
		rc = poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return FAILED(FOG_HELPER_CRASH);
	}
	n = recvmsg(h.sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n <= 0)
		return FAILED(FOG_HELPER_CRASH);
	/* every descriptor that came along is taken, whatever else is wrong */
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*blob_fd < 0)
				*blob_fd = fd;
			else
				close(fd);
		}
	}
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n != (ssize_t)sizeof(*r) ||
	    r->magic != HELPER_MAGIC)
		return FAILED(FOG_HELPER_BAD_REPLY);
	return 0;
}

/* The refusals the helper counted: its messages are cleaned before they are logged. */
static void take_refusals(struct rep *r)
{
	for (int i = 0; i < FOG_SYMERR_N; i++) {
		char *msg = r->msgs[i];

		msg[FOG_SYMERR_MSG_LEN - 1] = '\0';
		for (char *p = msg; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
		if (r->counts[i] > (1ull << 32))
			r->counts[i] = 1ull << 32;
		fog_symerr_add((enum fog_symerr)i, r->counts[i], msg);
	}
}

/*
 * One request: q with fd; the answer in *r, and its blob (OP_SYMBOLS,
 * OP_LINES) in *blob. 0, the helper's own error, or -EIO when it failed.
 */
static int call(struct req *q, const int *fds, int nfd, struct rep *out, char **blob,
		size_t *len)
{
	struct rep r;
	__u32 op = q->op;
	bool want_blob = op != OP_OFFSETS;
	int rc, err, blob_fd = -1;
	bool truncated = false;

	*blob = NULL;
	*len = 0;
	q->magic = HELPER_MAGIC;
	pthread_mutex_lock(&h.lock);
	__atomic_add_fetch(&h.requests, 1, __ATOMIC_RELAXED);
	if (h.pid <= 0 && (err = start())) {
		pthread_mutex_unlock(&h.lock);
		return err;
	}
	q->nfds = (__u32)nfd;
	err = send_req(q, fds, nfd);
	if (err) {
		/* it ended while idle (its CPU limit, a signal): once more with a new one */
		stop();
		err = start();
		if (!err)
			err = send_req(q, fds, nfd);
		if (err) {
			note_failure(FOG_HELPER_CRASH, "it cannot be reached");
			stop();
			pthread_mutex_unlock(&h.lock);
			return -EIO;
		}
	}
	rc = recv_rep(&r, op == OP_LINES ? LINES_TIMEOUT_MS : SYMBOLS_TIMEOUT_MS, &blob_fd);
	if (!rc && !r.err && want_blob && op == OP_UNWIND)
		*len = MAX_UNWIND_BYTES;	/* read below within this bound */
	if (!rc && (r.op != op || (!r.err && want_blob != (blob_fd >= 0))))
		rc = FAILED(FOG_HELPER_BAD_REPLY);
	if (!rc && !r.err && want_blob) {
		err = fog_safe_read_fd(blob_fd, *len ? *len : MAX_REPLY_BYTES, blob, len,
				       &truncated);
		if (err || truncated) {
			free(*blob);
			*blob = NULL;
			*len = 0;
			rc = FAILED(FOG_HELPER_BAD_REPLY);
		}
	}
	if (blob_fd >= 0)
		close(blob_fd);
	if (rc) {
		enum fog_helper_failure why = (enum fog_helper_failure)(rc - 1);

		note_failure(why, why == FOG_HELPER_TIMEOUT ? "no answer in time, killed" :
				  why == FOG_HELPER_CRASH  ? "it died while parsing a file" :
							     "its answer failed the checks, killed");
		stop();
		pthread_mutex_unlock(&h.lock);
		return -EIO;
	}
	take_refusals(&r);
	pthread_mutex_unlock(&h.lock);
	*out = r;
	if (r.err)
		return r.err < 0 && r.err > -4096 ? r.err : -EINVAL;
	return 0;
}

static int remote_symbols(void *ctx, int fd, char **blob, size_t *len)
{
	struct req q = { .op = OP_SYMBOLS };
	struct rep r;

	(void)ctx;
	return call(&q, &fd, 1, &r, blob, len);
}

static int remote_lines(void *ctx, int fd, const char *build_id, char **blob, size_t *len)
{
	struct req q = { .op = OP_LINES };
	struct rep r;

	(void)ctx;
	if (build_id)
		snprintf(q.build_id, sizeof(q.build_id), "%s", build_id);
	return call(&q, &fd, 1, &r, blob, len);
}

static int remote_offsets(void *ctx, int fd, const char *const *names, int n, __u64 *offs)
{
	struct req q = { .op = OP_OFFSETS };
	size_t used = 0, len;
	struct rep r;
	char *blob;
	int err;

	(void)ctx;
	if (n < 0 || n > FOG_ELFSYM_MAX_NAMES)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		len = strlen(names[i]) + 1;
		if (used + len > sizeof(q.names))
			return -ENAMETOOLONG;
		memcpy(q.names + used, names[i], len);
		used += len;
	}
	q.nnames = (__u32)n;
	err = call(&q, &fd, 1, &r, &blob, &len);
	free(blob);
	if (err)
		return err;
	memcpy(offs, r.offs, (size_t)n * sizeof(*offs));
	return 0;
}

static int blob_memfd(const char *blob, size_t len);

/* A batch of stacks to unwind: the request in a memfd, then the module files. */
static int remote_unwind(const char *req, size_t len, const int *mod_fds, int nfds, char **blob,
			 size_t *blob_len)
{
	struct req q = { .op = OP_UNWIND };
	int fds[MAX_FDS], err;
	struct rep r;

	if (nfds < 0 || nfds > FOG_UNW_MAX_MODS || len > MAX_UNWIND_BYTES)
		return -EINVAL;
	fds[0] = blob_memfd(req, len);
	if (fds[0] < 0)
		return fds[0];
	memcpy(fds + 1, mod_fds, (size_t)nfds * sizeof(int));
	err = call(&q, fds, 1 + nfds, &r, blob, blob_len);
	close(fds[0]);
	return err;
}

/* A blob that parsed as a reply but failed elfsym.c's checks: the helper is not trusted again. */
static void remote_bad_reply(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&h.lock);
	note_failure(FOG_HELPER_BAD_REPLY, "its symbols failed the checks, killed");
	stop();
	pthread_mutex_unlock(&h.lock);
}

int fog_helper_setup(const char *user, char *err, size_t len)
{
	static const struct fog_elfsym_remote r = {
		.symbols = remote_symbols,
		.lines = remote_lines,
		.offsets = remote_offsets,
		.bad_reply = remote_bad_reply,
	};
	int rc;

	rc = fog_privs_lookup(user, NULL, &h.uid, &h.gid, err, len);
	if (rc)
		return rc;
	__atomic_store_n(&h.enabled, true, __ATOMIC_RELAXED);
	fog_elfsym_set_remote(&r);
	fog_unwind_set_remote(remote_unwind);
	return 0;
}

void fog_helper_shutdown(void)
{
	fog_elfsym_set_remote(NULL);
	fog_unwind_set_remote(NULL);
	pthread_mutex_lock(&h.lock);
	stop();
	__atomic_store_n(&h.enabled, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&h.lock);
}

/* Without the lock, which a request holds for up to its time: the loop reads these. */
void fog_helper_get_stats(struct fog_helper_stats *st)
{
	*st = (struct fog_helper_stats){
		.pid = __atomic_load_n(&h.pid, __ATOMIC_RELAXED),
		.uid = h.uid,
		.enabled = __atomic_load_n(&h.enabled, __ATOMIC_RELAXED),
		.requests = __atomic_load_n(&h.requests, __ATOMIC_RELAXED),
		.starts = __atomic_load_n(&h.starts, __ATOMIC_RELAXED),
	};
	for (int i = 0; i < FOG_HELPER_N; i++)
		st->failures[i] = __atomic_load_n(&h.failures[i], __ATOMIC_RELAXED);
}

void fog_helper_metrics(void *ctx, struct fog_prom *w)
{
	struct fog_helper_stats st;

	(void)ctx;
	fog_helper_get_stats(&st);
	fog_prom__family(w, "fog_profile_helper_enabled", FOG_PROM_GAUGE,
			 "Whether ELF and DWARF files are parsed in the unprivileged symbol helper");
	fog_prom__sample(w, NULL, st.enabled ? 1 : 0);
	fog_prom__family(w, "fog_profile_helper_requests", FOG_PROM_COUNTER,
			 "Files handed to the symbol helper");
	fog_prom__sample(w, NULL, (double)st.requests);
	fog_prom__family(w, "fog_profile_helper_starts", FOG_PROM_COUNTER,
			 "Symbol helper processes started");
	fog_prom__sample(w, NULL, (double)st.starts);
	fog_prom__family(w, "fog_profile_helper_failures", FOG_PROM_COUNTER,
			 "Symbol helper requests lost, by reason (the file's frames stay [unknown])");
	for (int i = 0; i < FOG_HELPER_N; i++)
		fog_prom__sample(w, (const char *[]){ "reason", failure_names[i], NULL },
				 (double)st.failures[i]);
}

/* ---- the helper's side ---- */

#if defined(__x86_64__)
#define HELPER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HELPER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/*
 * What parsing needs: memory, reading the fds it was given, its socket, a
 * memfd for the answer, time and exiting. Anything else fails with EPERM (a
 * library that tries to open a locale file just goes without); on another
 * architecture than the one built for, the process is killed.
 */
static int install_filter(void)
{
#ifdef HELPER_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HELPER_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_pread64), ALLOW(SYS_lseek),
		ALLOW(SYS_close), ALLOW(SYS_fstat),
		/* fstat is fstatat(fd, "", AT_EMPTY_PATH) in glibc: never a path */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AT_EMPTY_PATH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		ALLOW(SYS_fcntl), ALLOW(SYS_recvmsg), ALLOW(SYS_sendmsg), ALLOW(SYS_ppoll),
#ifdef SYS_poll
		ALLOW(SYS_poll),
#endif
		ALLOW(SYS_mmap), ALLOW(SYS_munmap), ALLOW(SYS_mremap), ALLOW(SYS_mprotect),
		ALLOW(SYS_brk), ALLOW(SYS_madvise), ALLOW(SYS_memfd_create), ALLOW(SYS_ftruncate),
		ALLOW(SYS_futex), ALLOW(SYS_clock_gettime), ALLOW(SYS_getpid), ALLOW(SYS_gettid),
		ALLOW(SYS_getrandom), ALLOW(SYS_rt_sigreturn), ALLOW(SYS_rt_sigprocmask),
		ALLOW(SYS_rt_sigaction), ALLOW(SYS_sigaltstack), ALLOW(SYS_tgkill),
		ALLOW(SYS_restart_syscall), ALLOW(SYS_exit), ALLOW(SYS_exit_group),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return -errno;
#endif
	return 0;
}

static int recv_req(int sock, struct req *q, int *fds, int *nfd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = { q, sizeof(*q) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	*nfd = 0;
	n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfd < MAX_FDS)
				fds[(*nfd)++] = fd;
			else
				close(fd);
		}
	}
	if (n != (ssize_t)sizeof(*q) || q->magic != HELPER_MAGIC || !*nfd ||
	    (m.msg_flags & MSG_CTRUNC) || q->nfds != (__u32)*nfd ||
	    (q->op != OP_UNWIND && *nfd != 1))
		return 1;	/* answered with an error */
	q->build_id[sizeof(q->build_id) - 1] = '\0';
	return 0;
}

/* OP_OFFSETS: the names are checked to lie inside the request. */
static int serve_offsets(int fd, struct req *q, __u64 *offs)
{
	const char *names[FOG_ELFSYM_MAX_NAMES];
	size_t pos = 0;

	if (q->nnames > FOG_ELFSYM_MAX_NAMES)
		return -EINVAL;
	for (__u32 i = 0; i < q->nnames; i++) {
		size_t len = strnlen(q->names + pos, sizeof(q->names) - pos);

		if (pos + len >= sizeof(q->names))
			return -EINVAL;
		names[i] = q->names + pos;
		pos += len + 1;
	}
	return fog_elfsym__serve_func_offsets(fd, names, (int)q->nnames, offs);
}

/* OP_UNWIND: the batch is read from its memfd (bounded), the rest are its modules. */
static int serve_unwind(const int *fds, int nfd, char **blob, size_t *len)
{
	char *req;
	size_t rlen;
	bool truncated;
	int err;

	err = fog_safe_read_fd(fds[0], MAX_UNWIND_BYTES, &req, &rlen, &truncated);
	if (err)
		return err;
	err = truncated ? -EFBIG : fog_unwind__serve(req, rlen, fds + 1, nfd - 1, blob, len);
	free(req);
	return err;
}

static int blob_memfd(const char *blob, size_t len)
{
	int fd = memfd_create("fogd-symbols", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, blob + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			close(fd);
			return err;
		}
		off += (size_t)n;
	}
	return fd;
}

static void reply(int sock, __u32 op, int err, int blob_fd, const __u64 *offs)
{
	static struct rep r;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &r, sizeof(r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&r, 0, sizeof(r));
	r.magic = HELPER_MAGIC;
	r.op = op;
	r.err = err;
	fog_symerr_take(r.counts, r.msgs);
	if (offs)
		memcpy(r.offs, offs, sizeof(r.offs));
	if (blob_fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &blob_fd, sizeof(int));
	}
	if (sendmsg(sock, &m, MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		_exit(0);	/* fogd went away */
}

void fog_helper_main(int sock)
{
	if (geteuid() == 0 || getegid() == 0)
		_exit(125);	/* started by hand, or the drop failed: never parse as root */
	/* no ptrace or core by anyone of its uid; it ends when fogd's end of the socket closes */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "fogd-symhelper", 0, 0, 0);
	if (install_filter())
		_exit(125);
	fog_symerr_capture(true);
	for (;;) {
		struct req q;
		char *blob = NULL;
		size_t len = 0;
		int fds[MAX_FDS], nfd, fd, rc, err, blob_fd = -1;
		__u64 offs[FOG_ELFSYM_MAX_NAMES] = { 0 };

		rc = recv_req(sock, &q, fds, &nfd);
		fd = nfd ? fds[0] : -1;
		if (rc < 0)
			_exit(0);	/* fogd closed the socket */
		if (rc > 0) {
			err = -EPROTO;
		} else if (q.op == OP_SYMBOLS) {
			err = fog_elfsym__serve_symbols(fd, &blob, &len);
		} else if (q.op == OP_LINES) {
			err = fog_elfsym__serve_lines(fd, q.build_id[0] ? q.build_id : NULL, &blob,
						      &len);
		} else if (q.op == OP_OFFSETS) {
			err = serve_offsets(fd, &q, offs);
		} else if (q.op == OP_UNWIND) {
			err = serve_unwind(fds, nfd, &blob, &len);
		} else {
			err = -EPROTO;
		}
		for (int i = 0; i < nfd; i++)
			close(fds[i]);
		if (!err && q.op != OP_OFFSETS) {
			blob_fd = blob_memfd(blob, len);
			if (blob_fd < 0)
				err = blob_fd;
		}
		free(blob);
		reply(sock, q.op, err, blob_fd, q.op == OP_OFFSETS ? offs : NULL);
		if (blob_fd >= 0)
			close(blob_fd);
	}
}
