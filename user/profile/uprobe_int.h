/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uprobe memory mode's state, shared by uprobe.c (the session: libc,
 * attaching, the tables, the profiles) and uprobe_cost.c (a probe hit's cost).
 */
#ifndef FOG_PROF_UPROBE_INT_H
#define FOG_PROF_UPROBE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fog/abi/memprobe.h"
#include "profile/alloc.h"
#include "profile/uprobe.h"

struct bpf_program;
struct memprobe_bpf;

#define DEFAULT_MEAN 524288ULL
#define LIVE_MAX (FOG_ALLOC_LIVE / 2)	/* load limit of the live table */
#define GROWTH_STEP_NS 250000000ULL
#define CALIBRATE_CALLS 2000
#define CALIBRATE_ROUNDS 5

/* The probed functions; the first four allocate and have a return probe. */
enum probe { P_MALLOC, P_CALLOC, P_REALLOC, P_MMAP, P_FREE, P_MUNMAP, NPROBES };

static const char *const probe_names[NPROBES] = { "malloc", "calloc", "realloc", "mmap",
						  "free", "munmap" };

struct fog_memprobe {
	struct memprobe_bpf *skel;
	struct ring_buffer *rb;
	int alloc_fd;	/* uprobe_multi link: entries of malloc, calloc, realloc, mmap */
	int ret_fd;	/* uprobe_multi link: their returns */
	int free_fd;	/* uprobe_multi link: entries of free, munmap */
	__u64 offs[NPROBES];	/* the probes' offsets in the libc file */
	bool emulated[NPROBES];	/* the kernel emulates the instruction under the probe */
	unsigned int free_skip;	/* bytes of free's NULL test the probe sits after */
	bool alloc_on;	/* the allocation probes are attached */
	bool detaching;	/* the detacher thread closes dying[] */
	int detach_done;	/* set by it when it is done */
	pthread_t detacher;
	int dying[3];
	int ndying;
	bool finished;
	bool exited;
	__u32 pid;
	__u64 start_time;	/* /proc/PID/stat, tells a reused pid apart */
	char libc[160];	/* the libc file as the process maps it */
	char probe_path[96];	/* the path the probes were attached through */
	__u64 mean;
	unsigned int seconds, on_ms, off_ms;
	__u64 t0_ns, t0_unix_ns, end_ns;	/* monotonic, realtime, monotonic */
	__u64 next_switch_ns, on_since_ns, on_total_ns;
	unsigned int switches;
	struct fog_symbolizer *sym;
	struct fog_alloc_snap snap;	/* the tables, filled as samples arrive */
	struct fog_alloc_stack *start_stacks;	/* all zero: nothing was live at the attach */
	__u32 slot_of[FOG_MEMPROBE_STACKS];	/* stack id -> slot in snap.stacks, 0: none */
	/*
	 * DWARF unwinding (unwind.h): a sample's stack is unwound in the unwinder's
	 * thread, so it gets a slot of its own, named by its event (tid, ts_ns), whose
	 * frames are filled in and merged with its equals when the profile is built.
	 */
	struct fog_unwinder *unw;
	struct unw_key {
		__u32 tid;
		__u64 seq;
	} *unw_slot;	/* FOG_ALLOC_STACKS; seq 0: not an unwound slot */
	unsigned int live_used, live_dead;
	__u64 events, unmatched_frees;
	__u64 growth_last_ns;
	struct fog_prof *inuse, *alloc;
	struct fog_memprobe_stats final;	/* the counters when the BPF object went */
	char err[256];
};

/* A link of prog at the given file offsets of path, in process pid only; fd or -errno. */
int fog_memprobe_uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offs,
			const __u64 *cookies, __u32 cnt, __u32 pid, bool ret);

/* Before load: the programs are attached through fog_memprobe_uprobe_multi links. */
void fog_memprobe_set_multi(struct memprobe_bpf *skel);

int fog_memprobe_func_offsets_path(const struct fog_memprobe *m, const char *const *names, int n,
			     __u64 *offs);

/* Whether the kernel emulates the instruction at a probe (x86-64: push %reg), from its bytes. */
bool fog_memprobe_emulated(const __u8 *c);

/* uprobe_tables.c */
int fog_memprobe_on_event(void *ctx, void *data, size_t len);

/* One point of the live-bytes series; when full, every other point goes and the step doubles. */
void fog_memprobe_growth_point(struct fog_memprobe *m, __u64 now, bool force);

void fog_memprobe_read_stats(struct fog_memprobe *m, struct fog_memprobe_stats *out);

/*
 * The unwound slots get their frames (the unwinder is flushed first: the
 * probes are gone); a slot whose frames another slot has already is merged
 * into it, its live allocations moved with it.
 */
void fog_memprobe_resolve_unwound(struct fog_memprobe *m);

#endif /* FOG_PROF_UPROBE_INT_H */
