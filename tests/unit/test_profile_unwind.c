// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unwinder's helper side (user/profile/unwind_dw.c) and the check of its
 * answers: a real stack of this process unwound from a copy (the frames of
 * the known chain uw_outer -> uw_middle -> uw_inner come back, this binary
 * being built without frame pointers at -O2), and requests and answers that
 * lie about their sizes refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile/symbolize.h"
#include "profile/unwind.h"

/*
 * Fills regs as they are in the caller right after this call returns: its
 * return address as the ip, the stack pointer above it, the callee-saved
 * registers as they are (the caller's); the others are zero.
 */
void uw_capture(__u64 *regs);
__asm__(".text\n.globl uw_capture\n.type uw_capture,@function\nuw_capture:\n"
	".cfi_startproc\n"
	"lea 8(%rsp), %rax\n mov %rax, 56(%rdi)\n"	/* rsp (7) */
	"mov (%rsp), %rax\n mov %rax, 128(%rdi)\n"	/* rip (16) */
	"mov %rbx, 24(%rdi)\n mov %rbp, 48(%rdi)\n"	/* rbx (3), rbp (6) */
	"mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n"	/* r12-r15 (12-15) */
	"mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
	"ret\n.cfi_endproc\n.size uw_capture, .-uw_capture\n");

struct copy {
	struct fog_unw_req_sample s;
	__u8 stack[FOG_UNW_STACK_BYTES];
};

static struct copy copied;

/* The raw stack crosses AddressSanitizer's redzones, as BPF's copy does: not instrumented. */
__attribute__((noinline, no_sanitize_address)) void uw_inner(void)
{
	const volatile __u8 *sp;

	memset(&copied, 0, sizeof(copied));
	uw_capture(copied.s.regs);
	/* what lies above the captured sp: this frame and its callers' (main's stack is deep) */
	copied.s.stack_len = 4096;
	sp = (const volatile __u8 *)copied.s.regs[FOG_UNW_REG_SP];
	for (__u32 i = 0; i < copied.s.stack_len; i++)
		copied.stack[i] = sp[i];
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void uw_middle(void)
{
	uw_inner();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void uw_outer(void)
{
	uw_middle();
	__asm__ volatile("" ::: "memory");
}

/* This executable as a module: where its offset 0 is mapped and where its mappings end. */
static int self_module(struct fog_unw_req_mod *m)
{
	char exe[4096], line[8192];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = fopen("/proc/self/maps", "r");

	assert_true(n > 0 && f);
	exe[n] = '\0';
	m->low = m->high = 0;
	while (fgets(line, sizeof(line), f)) {
		__u64 start, end, pgoff;
		const char *path;
		bool x;

		if (fog_maps_parse_line(line, &start, &end, &pgoff, &x, &path) || strcmp(path, exe))
			continue;
		if (!m->low)
			m->low = start - pgoff;
		m->high = end;
	}
	fclose(f);
	assert_true(m->high > m->low);
	return open(exe, O_RDONLY | O_CLOEXEC);
}

struct got {
	__u64 ips[FOG_PROF_MAX_DEPTH];
	__u32 n, calls;
};

static void take(void *ctx, __u32 i, const __u64 *ips, __u32 n)
{
	struct got *g = ctx;

	g->calls++;
	memcpy(g->ips, ips, n * sizeof(*ips));
	g->n = n;
}

/* ip is inside fn: after its start, and before the next function (a few hundred bytes). */
static bool in(__u64 ip, void (*fn)(void))
{
	return ip > (__u64)(unsigned long)fn && ip < (__u64)(unsigned long)fn + 256;
}

static char *request(const struct fog_unw_req_mod *mods, __u32 nmods, const struct copy *c,
		     __u32 nsamples, size_t *len)
{
	struct fog_unw_req_hdr h = { FOG_UNW_REQ_MAGIC, nmods, nsamples, 0 };
	size_t one = sizeof(c->s) + ((c->s.stack_len + 7u) & ~7u);
	char *req;

	*len = sizeof(h) + nmods * sizeof(*mods) + nsamples * one;
	req = calloc(1, *len);
	assert_non_null(req);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), mods, nmods * sizeof(*mods));
	for (__u32 i = 0; i < nsamples; i++)
		memcpy(req + sizeof(h) + nmods * sizeof(*mods) + i * one, c, one);
	return req;
}

static void test_unwinds_own_stack(void **state)
{
	struct fog_unw_req_mod mod;
	struct got g = { 0 };
	char *req, *rep;
	size_t len, rlen;
	int fd = self_module(&mod);

	assert_true(fd >= 0);
	uw_outer();
	req = request(&mod, 1, &copied, 2, &len);
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), 0);
	assert_int_equal(fog_unwind__parse_reply(rep, rlen, 2, take, &g), 0);
	assert_int_equal(g.calls, 2);
	/* the leaf is the captured ip in uw_inner, then the returns into its callers */
	assert_true(g.n >= 3);
	assert_true(in(g.ips[0], uw_inner));
	assert_true(in(g.ips[1], uw_middle));
	assert_true(in(g.ips[2], uw_outer));
	free(rep);

	/* the same with no stack bytes: the leaf alone, nothing read outside the copy */
	copied.s.stack_len = 0;
	free(req);
	req = request(&mod, 1, &copied, 1, &len);
	g = (struct got){ 0 };
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), 0);
	assert_int_equal(fog_unwind__parse_reply(rep, rlen, 1, take, &g), 0);
	assert_true(g.n >= 1 && g.n <= 2);
	assert_true(in(g.ips[0], uw_inner));
	free(rep);
	free(req);
	close(fd);
}

/* A stack full of addresses that point into itself: bounded frames, no loop. */
static void test_hostile_stack(void **state)
{
	struct fog_unw_req_mod mod;
	struct got g = { 0 };
	char *req, *rep;
	size_t len, rlen;
	int fd = self_module(&mod);
	__u64 sp = 0x7ff000000000ull;

	assert_true(fd >= 0);
	uw_outer();
	copied.s.regs[FOG_UNW_REG_SP] = sp;
	copied.s.stack_len = FOG_UNW_STACK_BYTES;
	for (size_t i = 0; i < FOG_UNW_STACK_BYTES / 8; i++) {
		__u64 v = i & 1 ? sp + 8 * i : copied.s.regs[FOG_UNW_REG_IP];

		memcpy(copied.stack + 8 * i, &v, 8);
	}
	req = request(&mod, 1, &copied, 1, &len);
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), 0);
	assert_int_equal(fog_unwind__parse_reply(rep, rlen, 1, take, &g), 0);
	assert_true(g.n >= 1 && g.n <= FOG_PROF_MAX_DEPTH);
	free(rep);
	free(req);
	close(fd);
}

static void test_bad_requests(void **state)
{
	struct fog_unw_req_mod mod = { 0x1000, 0x2000 };
	struct fog_unw_req_hdr *h;
	char *req, *rep;
	size_t len, rlen;
	int fd = -1;

	copied.s.stack_len = 64;
	req = request(&mod, 1, &copied, 1, &len);
	h = (struct fog_unw_req_hdr *)req;
	assert_int_equal(fog_unwind__serve(req, 3, &fd, 1, &rep, &rlen), -EINVAL);
	assert_int_equal(fog_unwind__serve(req, len, &fd, 0, &rep, &rlen), -EINVAL);	/* nmods */
	assert_int_equal(fog_unwind__serve(req, len - 1, &fd, 1, &rep, &rlen), -EINVAL);	/* cut */
	h->nsamples = 2;	/* more samples than bytes */
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), -EINVAL);
	h->nsamples = 1;
	h->magic ^= 1;
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), -EINVAL);
	h->magic ^= 1;
	/* a stack length past the bound, and one past the request's end */
	((struct fog_unw_req_sample *)(req + sizeof(*h) + sizeof(mod)))->stack_len =
		FOG_UNW_STACK_BYTES + 8;
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), -EINVAL);
	((struct fog_unw_req_sample *)(req + sizeof(*h) + sizeof(mod)))->stack_len = 4096;
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), -EINVAL);
	((struct fog_unw_req_sample *)(req + sizeof(*h) + sizeof(mod)))->stack_len = 64;
	/* a module ending before it starts */
	((struct fog_unw_req_mod *)(req + sizeof(*h)))->high = 0x800;
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), -EINVAL);
	((struct fog_unw_req_mod *)(req + sizeof(*h)))->high = 0x2000;
	/* well formed, with a module that cannot be read: the sampled ip alone */
	assert_int_equal(fog_unwind__serve(req, len, &fd, 1, &rep, &rlen), 0);
	free(rep);
	free(req);
}

static void never(void *ctx, __u32 i, const __u64 *ips, __u32 n)
{
	fail_msg("a bad answer was used");
}

static void test_bad_replies(void **state)
{
	char buf[256];
	struct fog_unw_rep_hdr h = { FOG_UNW_REP_MAGIC, 2 };
	struct fog_unw_rep_sample s = { 1, 0 };
	__u64 ip = 0x401000;
	size_t len = 0;
	struct got g = { 0 };

	memcpy(buf, &h, sizeof(h));
	len = sizeof(h);
	memcpy(buf + len, &s, sizeof(s));
	len += sizeof(s);
	memcpy(buf + len, &ip, 8);
	len += 8;
	/* the second sample is missing: nothing is used, not even the first */
	assert_int_equal(fog_unwind__parse_reply(buf, len, 2, never, NULL), -EPROTO);
	memcpy(buf + len, &s, sizeof(s));
	memcpy(buf + len + sizeof(s), &ip, 8);
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 8, 2, take, &g), 0);
	assert_int_equal(g.calls, 2);
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 8, 3, never, NULL), -EPROTO);
	/* trailing bytes, zero frames, too many frames, a bad magic */
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 9, 2, never, NULL), -EPROTO);
	s.nframes = 0;
	memcpy(buf + len, &s, sizeof(s));
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 8, 2, never, NULL), -EPROTO);
	s.nframes = FOG_PROF_MAX_DEPTH + 1;
	memcpy(buf + len, &s, sizeof(s));
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 8, 2, never, NULL), -EPROTO);
	s.nframes = 0xffffffffu;	/* a size that wraps */
	memcpy(buf + len, &s, sizeof(s));
	assert_int_equal(fog_unwind__parse_reply(buf, len + sizeof(s) + 8, 2, never, NULL), -EPROTO);
	buf[0] ^= 1;
	assert_int_equal(fog_unwind__parse_reply(buf, len, 1, never, NULL), -EPROTO);
	assert_int_equal(fog_unwind__parse_reply(buf, 4, 1, never, NULL), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwinds_own_stack),
		cmocka_unit_test(test_hostile_stack),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
