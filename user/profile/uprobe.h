/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The profiler's uprobe memory mode: a memory profile of any running process,
 * without its cooperation, through uprobes on its libc's malloc, calloc,
 * realloc, free, mmap and munmap (bpf/memprobe.bpf.c). Sampled allocations are
 * kept in the allocation sampler's tables (allocfile.h) and built by the same
 * code (alloc.c), so the profiles, leak candidates, live bytes over time and
 * 10 MB allocations read exactly as those of LD_PRELOAD=libfogalloc.so.
 *
 * Every probe hit traps into the kernel, sampled or not (microseconds each,
 * against tens of nanoseconds for the preload sampler), so this mode is asked
 * for per pid, is time-limited (FOG_MEMPROBE_MAX_SECONDS), can be duty-cycled,
 * and reports its probe hits and their estimated cost, measured on this host.
 * The probes are detached when the profile ends, when the process exits and
 * when the profiler is freed; they are never pinned, so they also go when the
 * process holding them dies.
 */
#ifndef FOG_PROF_UPROBE_H
#define FOG_PROF_UPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <jansson.h>

#include "profile/elfsym.h"
#include "profile/prof.h"

#define FOG_MEMPROBE_DEFAULT_SECONDS 30
#define FOG_MEMPROBE_MAX_SECONDS 300	/* hard limit of one attachment */

struct fog_memprobe;

struct fog_memprobe_opts {
	__u32 pid;
	unsigned int seconds;	/* 0: FOG_MEMPROBE_DEFAULT_SECONDS; at most the maximum */
	/*
	 * Duty cycle: the allocation probes are attached on_ms out of every
	 * on_ms + off_ms (off_ms 0: all the time). free and munmap stay attached,
	 * so what was sampled is still matched with its free.
	 */
	unsigned int on_ms, off_ms;
	__u64 mean;	/* sampling interval mean in bytes; 0: 524288 */
};

/* Attaches to pid's libc. NULL, errno and err on failure (ESRCH, ENOENT: no libc, EPERM...). */
struct fog_memprobe *fog_memprobe__new(const struct fog_memprobe_opts *o,
				       struct fog_elfcache *cache, char *err, size_t len);
/* Detaches (if still attached) and frees; accepts NULL. */
void fog_memprobe__free(struct fog_memprobe *m);
/*
 * Reads the target's maps and files for its names (the tenant's files: call
 * it off the loop, soon after new, so a process that exits during the
 * profile still resolves); before finish, from one thread at a time.
 */
void fog_memprobe__read_target(struct fog_memprobe *m);
/*
 * Reads the samples so far and moves the duty cycle; call every few hundred
 * ms. Returns true when the profile is over: its time is up or the process exited.
 */
bool fog_memprobe__poll(struct fog_memprobe *m);
/* Detaches and builds the profiles (once; later calls return -EALREADY). */
int fog_memprobe__finish(struct fog_memprobe *m);
/* The live-bytes (inuse) or bytes-allocated profile after finish, else NULL. */
const struct fog_prof *fog_memprobe__prof(const struct fog_memprobe *m, bool allocated);
/* Sampled allocations so far. */
__u64 fog_memprobe__samples(struct fog_memprobe *m);
/* The source and what it cost: probes, hits, estimated time taken from the process. */
json_t *fog_memprobe__json(struct fog_memprobe *m);

/* What a probe hit costs the probed thread, in CPU ns. */
struct fog_memprobe_cost {
	double emulated_ns;	/* a breakpoint on an instruction the kernel emulates (push) */
	double stepped_ns;	/* one on an instruction it single-steps (a second trap) */
	double return_ns;	/* a return probe, on top of its entry */
};

/*
 * The costs on this host, measured once per process (by probing functions of
 * this process, about a second, in a thread of its own) and remembered. The
 * first call starts the measurement; without wait, -EINPROGRESS until it is
 * done. Returns 0, or a negative errno when they cannot be measured.
 */
int fog_memprobe_hit_cost(struct fog_memprobe_cost *out, bool wait);
/* Fills the 2^FOG_MEMPROBE_EXP_BITS + 1 quantiles of Exp(1) the BPF side samples from. */
void fog_memprobe_exp_table(__u32 *table);

#endif /* FOG_PROF_UPROBE_H */
