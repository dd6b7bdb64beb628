/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One machine's load as fogd's collectors measure it, in one unit system:
 * seconds and fractions of 1; NAN where a figure was not measured (its
 * collector is off), never 0. The monitor (fog_monitor_sample_from_signals)
 * and the placement engine (fog_worker_signals_from) take it as it is.
 */
#ifndef FOG_SIGNALS_H
#define FOG_SIGNALS_H

#include <math.h>

struct fog_signals {
	double cpu_busy;	/* 0..1 of all CPUs */
	double runq_p99_s;	/* run-queue wait p99 over the interval */
	double mem_used;	/* 0..1: 1 - MemAvailable / MemTotal */
	double psi_some;	/* 0..1: the worst "some" avg10 of cpu, memory and io */
	double io_p99_s;	/* the worst device's request latency p99 over the interval */
};

static inline void fog_signals_init(struct fog_signals *s)
{
	*s = (struct fog_signals){ NAN, NAN, NAN, NAN, NAN };
}

#endif /* FOG_SIGNALS_H */
