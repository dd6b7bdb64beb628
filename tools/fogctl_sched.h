/* SPDX-License-Identifier: GPL-2.0-only */
/* What the files of fogctl sched share. */
#ifndef FOGCTL_SCHED_H
#define FOGCTL_SCHED_H

#include <stdio.h>
#include <jansson.h>

/* One task as text: state, worker, requirements, times, how it ended. */
void fogctl_sched_text_task(FILE *f, json_t *t);

#endif /* FOGCTL_SCHED_H */
