/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The segment log's state, shared by seglog.c (append, sync, read, ack,
 * merge, drop) and seglog_open.c (opening a folder: listing the segments,
 * checking each, cutting torn tails).
 */
#ifndef FOG_UPLINK_SEGLOG_INT_H
#define FOG_UPLINK_SEGLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "uplink/seglog.h"

struct seg_entry {
	__u64 seq;
	__s64 ts_ms;
	__u32 off; /* of the record header */
	__u32 len; /* payload */
	__u32 samples;
};

struct seg {
	__u64 name; /* the number in the file name: orders the segments */
	__u32 level;
	size_t size; /* bytes in the file */
	struct seg_entry *e;
	size_t n, cap;
};

struct fog_seglog {
	int dirfd;
	size_t seg_max;
	struct seg *segs;
	size_t n, cap;
	int wfd;    /* the newest segment, open for appending, or -1 */
	bool dirty; /* appended since the last sync */
	__u64 next_seq;
	__u64 synced_end;
	struct fog_seglog_ack ack;
	int rfd; /* a segment open for reading, or -1 */
	__u64 rfd_name;
	unsigned char *buf; /* the record last read */
	size_t buf_cap;
};

/* Appends e to s's index (0 or -ENOMEM). */
int fog_seg_push(struct seg *s, const struct seg_entry *e);
/* A segment's file name from its number (and a suffix, "" none). */
void fog_seg_file(char *name, size_t len, __u64 n, const char *suffix);
/* Reads a whole file (at most FOG_SEG_MAX_FILE bytes) into a malloc'd buffer. */
int fog_seg_read_file(int dirfd, const char *name, unsigned char **out, size_t *len);
/* Whether the receiver acknowledged record seq. */
bool fog_seg_acked(const struct fog_seglog_ack *a, __u64 seq);

#endif /* FOG_UPLINK_SEGLOG_INT_H */
