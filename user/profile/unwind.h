/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unwinding user stacks without frame pointers, in perf's
 * --call-graph dwarf shape: the BPF programs copy the user registers and the
 * top of the user stack of a sample into a ring buffer
 * (include/fog/abi/unwind.h); an unwinder thread drains it (never the event
 * loop), groups the samples by process and hands each group, with the
 * process's mapped ELF files opened safely, to the symbol helper, which
 * unwinds them with libdw's frame API (Dwfl_Thread_Callbacks): registers from
 * the copy, memory reads only inside the copied bytes, call-frame information
 * from .eh_frame and .debug_frame, libdw's frame-pointer fallback where a
 * function has none. The answer is a list of return addresses per sample,
 * checked here and counted per (process, kernel stack, user stack) like the
 * in-kernel counts, then symbolized as any frame-pointer stack is.
 * This header is the wire format between the two and the helper's side
 * (unwind_dw.c, a core); the thread is unwinder.h (unwinder.c, capture).
 *
 * Every stack byte and every file is the tenant's: the helper bounds frames
 * (FOG_PROF_MAX_DEPTH), reads nothing outside the copy and runs with the
 * helper's limits; a batch it fails on leaves its samples as [unknown].
 */
#ifndef FOG_PROF_UNWIND_H
#define FOG_PROF_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fog/abi/profile.h"
#include "fog/abi/unwind.h"

#define FOG_UNW_MAX_MODS 64	/* ELF files of one process handed to the helper at once */
#define FOG_UNW_BATCH 256	/* samples of one process per helper request */
#define FOG_UNW_MAX_STACKS 65536	/* distinct unwound stacks counted per capture */

/*
 * The helper's side of one batch. The request is a blob (struct
 * fog_unw_req_hdr, then nmods struct fog_unw_req_mod, then nsamples struct
 * fog_unw_req_sample each followed by its stack bytes padded to 8), with
 * mod_fds[i] the file of module i; the answer a malloc'd blob (struct
 * fog_unw_rep_hdr, then per sample a struct fog_unw_rep_sample and its
 * nframes addresses). Every field of the request is checked. 0 or -errno.
 */
#define FOG_UNW_REQ_MAGIC 0x574e5546u	/* "FUNW" */
#define FOG_UNW_REP_MAGIC 0x50524e55u	/* "UNRP" */
struct fog_unw_req_hdr {
	__u32 magic;
	__u32 nmods;
	__u32 nsamples;
	__u32 pad;
};
struct fog_unw_req_mod {
	__u64 low;	/* where the file's first segment (file offset 0) is mapped */
	__u64 high;	/* the end of its last mapping */
};
struct fog_unw_req_sample {
	__u64 regs[FOG_UNW_NREGS];
	__u32 stack_len;
	__u32 pad;
};
struct fog_unw_rep_hdr {
	__u32 magic;
	__u32 nsamples;
};
struct fog_unw_rep_sample {
	__u32 nframes;	/* at most FOG_PROF_MAX_DEPTH */
	__u32 pad;
};
int fog_unwind__serve(const char *req, size_t len, const int *mod_fds, int nfds, char **blob,
		      size_t *blob_len);
/*
 * Checks an answer for a request of nsamples and calls fn for each sample's
 * frames; -EPROTO when it fails a check (nothing is called then).
 */
typedef void (*fog_unw_frames_fn)(void *ctx, __u32 i, const __u64 *ips, __u32 n);
int fog_unwind__parse_reply(const char *blob, size_t len, __u32 nsamples, fog_unw_frames_fn fn,
			    void *ctx);

/*
 * Unwinding in another process (fogd's symbol helper): when set, batches go
 * there (same arguments as fog_unwind__serve; 0, the helper's error or -EIO);
 * otherwise they are unwound in the calling thread.
 */
typedef int (*fog_unwind_remote_fn)(const char *req, size_t len, const int *mod_fds, int nfds,
				    char **blob, size_t *blob_len);
void fog_unwind_set_remote(fog_unwind_remote_fn fn);
/* The hook set, or NULL (unwind_dw.c, beside fog_unwind__serve). */
fog_unwind_remote_fn fog_unwind_remote(void);

#endif /* FOG_PROF_UNWIND_H */
