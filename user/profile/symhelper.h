/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The symbol helper: the process that parses what a tenant's ELF files and
 * DWARF say (issue 12), so that a file crafted to crash or bloat a parser
 * reaches no privileged code. fogd opens each file safely (safe_open.h) and
 * hands the descriptor over a SOCK_SEQPACKET socket; the helper, fogd's own
 * binary run again as "fogd --symbol-helper", parses it and answers with a
 * flat blob in a memfd, which fogd checks before use (elfsym.h).
 *
 * The helper runs as its own user ([fogd] helper_user, fogd-sym), with no
 * capabilities, no_new_privs, not dumpable, an empty environment, only its
 * socket and /dev/null open, limits on address space, CPU time, open files
 * and core size, and a seccomp filter that allows the few system calls its
 * parsing needs (no open, no socket, no exec, no fork). When it crashes, is
 * killed or does not answer within its time, fogd kills it, counts why, reads
 * that file as having no symbols (its frames show as [unknown]) and starts a
 * new helper for the next file.
 */
#ifndef FOG_PROFILE_SYMHELPER_H
#define FOG_PROFILE_SYMHELPER_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

struct fog_prom;

#define FOG_HELPER_ARG "--symbol-helper"

enum fog_helper_failure {
	FOG_HELPER_CRASH,	/* died or closed its socket while working */
	FOG_HELPER_TIMEOUT,	/* no answer in time: killed */
	FOG_HELPER_BAD_REPLY,	/* an answer that failed its checks: killed */
	FOG_HELPER_SPAWN,	/* could not be started */
	FOG_HELPER_N
};

struct fog_helper_stats {
	pid_t pid;	/* 0 when none runs */
	uid_t uid;
	bool enabled;
	__u64 requests;
	__u64 starts;
	__u64 failures[FOG_HELPER_N];
};

/*
 * Sets up the helper to run as user (its primary group), started at the first
 * file; routes every ELF and DWARF parse of this process through it. Returns
 * 0, or a negative errno with err naming what is wrong (no such user, root).
 */
int fog_helper_setup(const char *user, char *err, size_t len);
/* Stops the helper (closes its socket and reaps it) and parses locally again. */
void fog_helper_shutdown(void);
void fog_helper_get_stats(struct fog_helper_stats *st);
/* /metrics families: fog_profile_helper_* */
void fog_helper_metrics(void *ctx, struct fog_prom *w);
/* The helper's side: serves requests on fd sock until it closes; never returns. */
void fog_helper_main(int sock) __attribute__((noreturn));

#endif /* FOG_PROFILE_SYMHELPER_H */
