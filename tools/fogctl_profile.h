/* SPDX-License-Identifier: GPL-2.0-only */
/* What the files of fogctl profile share. */
#ifndef FOGCTL_PROFILE_H
#define FOGCTL_PROFILE_H

#include <stdio.h>
#include <jansson.h>

/* The profile family's usage: the options of a profile, then the table's commands. */
void fogctl_profile_usage(FILE *f);
/*
 * Opens path for writing ("wb"); NULL once the error is said. Before sampling,
 * so a path that cannot be written fails now, not after.
 */
FILE *fogctl_profile_open(const char *path);
/*
 * GETs path into out (out_path NULL: stdout) and closes out unless it is
 * stdout; 0, or 1 once the error is said ("WHAT: REASON (HTTP N)"). Saved
 * to out_path with --json, result (borrowed, may be NULL) is printed with
 * "output" and "bytes" added; without --json a note says what was written.
 */
int fogctl_profile_save(const char *path, const char *what, long timeout_s, FILE *out,
			const char *out_path, json_t *result);

#endif /* FOGCTL_PROFILE_H */
