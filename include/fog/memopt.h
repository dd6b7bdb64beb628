/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog memory optimizer: watches memory pressure and gives memory back.
 *
 * Pressure comes from pressure stall information (PSI, Documentation/
 * accounting/psi.rst): triggers on /proc/pressure/memory and on the
 * process's cgroup's memory.pressure wake the caller as soon as tasks stall
 * on memory for long enough within a window, and a periodic sample reads
 * host usage (/proc/meminfo) and cgroup usage against its limit. The level
 * is recomputed from those figures on every wake-up and callbacks hear of
 * each change. One fd (fog_memopt__fd) drives it all from the caller's own
 * poll/epoll loop; fog_memopt__start runs a thread instead for library
 * users without a loop.
 *
 * Reclaim gives back what the process holds but does not need: free
 * committed arena chunks (fog_arena__trim), releasable lazy values, idle
 * pool resources (through callbacks) and glibc's free heap (malloc_trim).
 * It is the C counterpart of a garbage collector's tuning knobs and
 * force_gc; glibc's own knobs are set with fog_malloc_tune.
 */
#ifndef FOG_MEMOPT_H
#define FOG_MEMOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fog_arena;
struct fog_lazy;

enum fog_mem_level {
	FOG_MEM_OK = 0, /* no stall above the thresholds, usage below the alert */
	FOG_MEM_WARN,	/* host or cgroup usage at or above alert_pct */
	FOG_MEM_SOME,	/* some tasks stalled on memory for some_stall_us per window */
	FOG_MEM_FULL,	/* all non-idle tasks stalled at once for full_stall_us per window */
};

const char *fog_mem_level_name(enum fog_mem_level level);

/* Memory use of the host or of a cgroup. */
struct fog_mem_usage {
	uint64_t used;	/* bytes: MemTotal - MemAvailable, or the cgroup's usage */
	uint64_t total; /* bytes: MemTotal, or the cgroup's limit (0: no limit) */
	double pct;	/* used / total * 100, or -1 when unknown or unlimited */
};

/* One evaluation of every source. Percentages are of wall time, -1 when unknown. */
struct fog_mem_pressure {
	enum fog_mem_level level; /* the highest level any source gives */
	enum fog_mem_level prev;  /* the level before this evaluation */
	const char *reason;	  /* the source behind level, e.g. "host psi full" */
	double host_some_pct;	  /* share of the last window with some tasks stalled */
	double host_full_pct;	  /* share with all non-idle tasks stalled */
	double cgroup_some_pct;
	double cgroup_full_pct;
	struct fog_mem_usage host;
	struct fog_mem_usage cgroup;
	uint64_t when_ns; /* CLOCK_MONOTONIC */
	uint64_t wakeups; /* fd wake-ups so far (trigger or timer) */
};

/* Called on every level change, in the thread that dispatches. */
typedef void (*fog_mem_pressure_fn)(const struct fog_mem_pressure *p, void *ctx);
/* Releases what it can (idle pool resources, caches); returns the bytes released. */
typedef uint64_t (*fog_mem_reclaim_fn)(void *ctx);

/* fog_memopt_opts.flags */
#define FOG_MEMOPT_NO_PSI	(1u << 0) /* no PSI triggers: periodic samples only */
#define FOG_MEMOPT_NO_CGROUP	(1u << 1) /* host figures only */
#define FOG_MEMOPT_REQUIRE_PSI	(1u << 2) /* fail __new if the host trigger cannot be set */
#define FOG_MEMOPT_AUTO_RECLAIM (1u << 3) /* reclaim on each rise to SOME or FULL */

/*
 * Unprivileged processes (no CAP_SYS_RESOURCE) may only register PSI
 * triggers whose window is a multiple of 2 s; privileged ones any window
 * from 500 ms to 10 s. The defaults (2 s) work for both.
 */
#define FOG_MEMOPT_DEFAULT_WINDOW_US   2000000u
#define FOG_MEMOPT_DEFAULT_SOME_US     200000u /* 10% of the window */
#define FOG_MEMOPT_DEFAULT_FULL_US     100000u /* 5% of the window */
#define FOG_MEMOPT_DEFAULT_INTERVAL_MS 1000u
#define FOG_MEMOPT_DEFAULT_ALERT_PCT   85.0

struct fog_memopt_opts {
	uint32_t window_us;	  /* PSI trigger window; 0: 2 s */
	uint32_t some_stall_us;	  /* "some" stall per window that raises SOME; 0: 200 ms */
	uint32_t full_stall_us;	  /* "full" stall per window that raises FULL; 0: 100 ms */
	unsigned int interval_ms; /* periodic sample; 0: 1 s */
	double alert_pct;	  /* usage alert threshold; 0: 85 */
	const char *psi_path;	  /* NULL: /proc/pressure/memory */
	const char *meminfo_path; /* NULL: /proc/meminfo */
	const char *cgroup_dir;	  /* NULL: this process's cgroup; "": none */
	unsigned int flags;	  /* FOG_MEMOPT_* */
};

/* A pressure or usage source and whether it works. */
struct fog_memopt_source {
	char name[24]; /* "host psi", "cgroup psi", "host usage", "cgroup usage" */
	char path[512];
	bool active;	 /* read on every sample */
	bool trigger;	 /* a PSI trigger is registered on it */
	char error[200]; /* why it is inactive or has no trigger; "" if fine */
};

struct fog_memopt;

/*
 * NULL opts: defaults. Sources that do not work are skipped and say why in
 * fog_memopt__sources. Returns NULL and sets errno: EINVAL for bad opts,
 * or the trigger's error with FOG_MEMOPT_REQUIRE_PSI.
 */
struct fog_memopt *fog_memopt__new(const struct fog_memopt_opts *opts);
/* Stops the thread if running, closes every fd. Accepts NULL. */
void fog_memopt__free(struct fog_memopt *m);

/*
 * An fd for the caller's poll/epoll loop (EPOLLIN): readable when a PSI
 * trigger fires or a periodic sample is due. Then call fog_memopt__dispatch.
 */
int fog_memopt__fd(const struct fog_memopt *m);
/* Handles what made the fd readable; returns the level, or a negative errno. */
int fog_memopt__dispatch(struct fog_memopt *m);
/* Samples every source now; returns the level, or a negative errno. */
int fog_memopt__check(struct fog_memopt *m);
/* The last evaluation. */
void fog_memopt__last(struct fog_memopt *m, struct fog_mem_pressure *out);

/* A thread that polls the fd and dispatches; callbacks then run in it. */
int fog_memopt__start(struct fog_memopt *m);
int fog_memopt__stop(struct fog_memopt *m);

/* Registrations, at most 32 of each; -ENOSPC beyond. */
int fog_memopt__on_pressure(struct fog_memopt *m, fog_mem_pressure_fn fn, void *ctx);
int fog_memopt__add_reclaim(struct fog_memopt *m, fog_mem_reclaim_fn fn, void *ctx);
int fog_memopt__add_arena(struct fog_memopt *m, struct fog_arena *a);
int fog_memopt__add_lazy(struct fog_memopt *m, struct fog_lazy *l);

/* Up to max sources; returns how many there are. */
int fog_memopt__sources(const struct fog_memopt *m, struct fog_memopt_source *out, int max);

struct fog_reclaim_result {
	uint64_t arena_bytes;	  /* committed arena memory given back (fog_arena__trim) */
	uint64_t lazy_bytes;	  /* size hints of the lazy values released */
	unsigned int lazies;	  /* lazy values released */
	unsigned int lazies_busy; /* releasable lazy values kept because they were held */
	uint64_t callback_bytes;  /* what reclaim callbacks reported (idle pool resources) */
	uint64_t malloc_bytes;	  /* resident set shrink across malloc_trim(0) */
	uint64_t rss_before;	  /* resident set of the process, bytes */
	uint64_t rss_after;
	uint64_t released; /* rss_before - rss_after; 0 when it did not shrink */
	uint64_t pause_ns; /* how long the call took */
};

/*
 * Gives memory back: trims the registered arenas, releases registered lazy
 * values nobody holds, runs the reclaim callbacks, then malloc_trim(0). m
 * may be NULL (malloc_trim only). Returns 0 or a negative errno.
 */
int fog_memopt__reclaim(struct fog_memopt *m, struct fog_reclaim_result *out);

/* glibc malloc knobs (mallopt); 0 leaves one unchanged. */
struct fog_malloc_tuning {
	int arena_max;	     /* M_ARENA_MAX: malloc arenas at most (threads share them) */
	long trim_threshold; /* M_TRIM_THRESHOLD: free heap top above this goes back */
	long mmap_threshold; /* M_MMAP_THRESHOLD: requests above this get their own mmap */
};

/*
 * Applies the knobs. Returns 0, or -EINVAL with err (may be NULL if errlen
 * is 0) naming the first knob refused; out-of-range values are refused
 * before any knob is applied. Setting a threshold turns off glibc's dynamic
 * adjustment of both thresholds.
 */
int fog_malloc_tune(const struct fog_malloc_tuning *t, char *err, size_t errlen);

/* ---- parsing and evaluation, pure functions (used by the tests) ---- */

/* Host usage from /proc/meminfo text. 0, or -EINVAL with err naming the problem. */
int fog_mem_usage_host(const char *meminfo, struct fog_mem_usage *out, char *err, size_t errlen);
/*
 * Cgroup usage from the text of its usage file (v2 memory.current, v1
 * memory.usage_in_bytes) and limit file (memory.max, memory.limit_in_bytes).
 * "max" and v1's unlimited value give total 0 and pct -1.
 */
int fog_mem_usage_cgroup(const char *usage, const char *limit, struct fog_mem_usage *out, char *err,
			 size_t errlen);
/*
 * Share of wall time stalled between two readings of a PSI total (in us),
 * taken span_ns apart: percent, or -1 when the readings cannot be compared
 * (no span, or the total went backwards).
 */
double fog_psi_stall_pct(uint64_t total_before_us, uint64_t total_now_us, uint64_t span_ns);
/*
 * The level of an evaluation from its percentages and usage, against opts
 * (NULL: defaults); sets p->level and p->reason.
 */
void fog_mem_pressure_eval(struct fog_mem_pressure *p, const struct fog_memopt_opts *opts);

#endif /* FOG_MEMOPT_H */
