/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the memory optimizer shared by memopt.c and pressure.c. */
#ifndef FOG_MEM_MEMOPT_INT_H
#define FOG_MEM_MEMOPT_INT_H

#include <pthread.h>

#include "fog/memopt.h"

#define MEMOPT_MAX_REG 32
#define PSI_RING       16 /* PSI readings kept to find one a window old */

enum memopt_src {
	SRC_HOST_PSI,
	SRC_CGROUP_PSI,
	SRC_HOST_USAGE,
	SRC_CGROUP_USAGE,
	SRC_COUNT,
};

struct psi_reading {
	uint64_t t_ns;
	uint64_t some_us; /* PSI "total" of the some line */
	uint64_t full_us; /* of the full line; 0 when the file has none */
	bool has_full;
};

struct psi_watch {
	int read_fd;	/* the pressure file, read from offset 0 on each sample */
	int trig_fd[2]; /* some and full triggers (EPOLLPRI), -1 when not set */
	struct psi_reading ring[PSI_RING];
	unsigned int n;	   /* readings kept */
	unsigned int next; /* where the next one goes */
};

struct memopt_cb {
	fog_mem_pressure_fn fn;
	void *ctx;
};

struct memopt_reclaim_cb {
	fog_mem_reclaim_fn fn;
	void *ctx;
};

struct fog_memopt {
	struct fog_memopt_opts opts; /* defaults filled in, paths copied below */
	char psi_path[256];
	char meminfo_path[256];
	int epfd; /* what fog_memopt__fd hands out */
	int timerfd;
	struct fog_memopt_source src[SRC_COUNT];
	struct psi_watch psi[2]; /* host, cgroup */
	int meminfo_fd;
	int cg_usage_fd;
	int cg_limit_fd;

	pthread_mutex_t lock; /* everything below */
	struct fog_mem_pressure last;
	uint64_t wakeups;
	struct memopt_cb cbs[MEMOPT_MAX_REG];
	unsigned int ncbs;
	struct memopt_reclaim_cb reclaims[MEMOPT_MAX_REG];
	unsigned int nreclaims;
	struct fog_arena *arenas[MEMOPT_MAX_REG];
	unsigned int narenas;
	struct fog_lazy *lazies[MEMOPT_MAX_REG];
	unsigned int nlazies;

	pthread_mutex_t eval_lock; /* one evaluation at a time (thread and callers) */
	pthread_t thread;
	int stop_fd; /* eventfd that ends the thread, -1 when not running */
};

/* pressure.c: finds and opens every source, registers triggers in m->epfd. */
int fog_memopt_sources_open(struct fog_memopt *m);
void fog_memopt_sources_close(struct fog_memopt *m);
/* pressure.c: reads every source and evaluates; fills *p (prev is the caller's). */
void fog_memopt_sample(struct fog_memopt *m, struct fog_mem_pressure *p);

#endif /* FOG_MEM_MEMOPT_INT_H */
