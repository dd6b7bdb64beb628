/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uplink's segment log: one folder of numbered segment files per class of
 * series. A record is one tick's samples of the class (a snappy-compressed
 * remote-write WriteRequest) under a header with its sequence number, time and
 * a CRC-32 over header and payload. Records are appended with write() and
 * made durable with fdatasync() when the caller syncs; a new segment is
 * created with the folder fsynced. At open every segment is read back: a torn
 * or corrupt tail of the newest is cut (truncated) and counted, never replayed;
 * a bad record in an older segment ends that segment there, counted too.
 *
 * What the receiver acknowledged is kept beside the segments in "ack" as
 * three sequence numbers (written to a temporary file, synced, renamed):
 * every record below lo was acknowledged, and so was every record in
 * [live_from, hi) (live data sent ahead of a backlog that is still catching up).
 */
#ifndef FOG_UPLINK_SEGLOG_H
#define FOG_UPLINK_SEGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define FOG_SEG_MAGIC	    "FOGUPSG1"
#define FOG_SEG_HDR_LEN	    16
#define FOG_SEG_REC_MAGIC   0x43455246u /* "FREC" */
#define FOG_SEG_REC_HDR_LEN 32
#define FOG_SEG_REC_MAX	    (16u << 20) /* a record's payload at most */
#define FOG_SEG_MAX_FILE    (64u << 20) /* a segment file read at most */

/* One record's header as it is on disk (little-endian, the hosts' order). */
struct fog_seg_rec_hdr {
	__u32 magic;
	__u32 len; /* payload bytes */
	__u64 seq;
	__s64 ts_ms; /* time of the newest sample */
	__u32 samples;
	__u32 crc; /* CRC-32 of the 28 bytes before it and the payload */
};
_Static_assert(sizeof(struct fog_seg_rec_hdr) == FOG_SEG_REC_HDR_LEN, "record header size");

/* Why a parse of a segment's bytes stopped before their end. */
enum fog_seg_stop {
	FOG_SEG_END,	    /* every byte was a whole, valid record */
	FOG_SEG_TORN,	    /* the last record is cut short */
	FOG_SEG_CORRUPT,    /* a record's magic, length, order or checksum is wrong */
	FOG_SEG_BAD_HEADER, /* the file's header is not a segment's */
};

struct fog_seg_rec {
	__u64 seq;
	__s64 ts_ms;
	__u32 samples;
	__u32 len;
	const void *data; /* into the parsed bytes */
	size_t off;	  /* of the record header in the file */
};

typedef int (*fog_seg_rec_fn)(const struct fog_seg_rec *r, void *ctx);

/*
 * Parses a segment file's bytes: calls fn for each valid record in order
 * (sequence numbers must increase) until one is not; fn returning non-zero
 * stops too. Returns the length of the valid prefix; *stop says why it ended,
 * *level is the header's downsampling level.
 */
size_t fog_seg_parse(const void *buf, size_t len, __u32 *level, enum fog_seg_stop *stop,
		     fog_seg_rec_fn fn, void *ctx);
/* The CRC a record's header carries, over the header's first 28 bytes and data. */
__u32 fog_seg_crc(const struct fog_seg_rec_hdr *h, const void *data);
/* Fills a record header (crc included). */
void fog_seg_rec_hdr_fill(struct fog_seg_rec_hdr *h, __u64 seq, __s64 ts_ms, __u32 samples,
			  const void *data, __u32 len);

struct fog_seglog;

/* What opening found wrong, for the caller to count and log. */
struct fog_seglog_open_report {
	unsigned int torn;	      /* tails cut */
	unsigned int corrupt;	      /* segments ended early or removed for bad bytes */
	unsigned long long cut_bytes; /* bytes cut or removed */
};

struct fog_seglog_ack {
	__u64 lo, live_from, hi;
};

/*
 * Opens (creating with mode 0700) the folder dir; segments grow to about
 * seg_max bytes. NULL with errno on failure.
 */
struct fog_seglog *fog_seglog__open(const char *dir, size_t seg_max,
				    struct fog_seglog_open_report *rep);
void fog_seglog__free(struct fog_seglog *l);

/* Appends a record; its sequence number in *seq. A failed write is undone (truncated). */
int fog_seglog__append(struct fog_seglog *l, __s64 ts_ms, __u32 samples, const void *data,
		       __u32 len, __u64 *seq);
/* fdatasync()s what was appended since the last sync. */
int fog_seglog__sync(struct fog_seglog *l);
/* One past the last record made durable (records below it may be sent). */
__u64 fog_seglog__synced_end(const struct fog_seglog *l);
/* One past the last record appended. */
__u64 fog_seglog__end(const struct fog_seglog *l);

/*
 * The first record with seq >= from and seq < to: 0 with *r filled (r->data
 * points into a buffer of the log's, valid until the next call), -ENOENT when
 * there is none. A record whose bytes changed on disk since they were checked
 * is skipped and counted in *bad.
 */
int fog_seglog__next(struct fog_seglog *l, __u64 from, __u64 to, struct fog_seg_rec *r,
		     unsigned long long *bad);

/* Acknowledged positions, as saved (all zero for a new log). */
void fog_seglog__get_ack(const struct fog_seglog *l, struct fog_seglog_ack *a);
/* Saves them durably and removes the segments whose every record is acknowledged. */
int fog_seglog__set_ack(struct fog_seglog *l, const struct fog_seglog_ack *a);

/* Bytes of the segment files. */
unsigned long long fog_seglog__bytes(const struct fog_seglog *l);
/* Records and samples not acknowledged (estimated from whole segments), and the oldest's time. */
void fog_seglog__backlog(const struct fog_seglog *l, unsigned long long *bytes,
			 unsigned long long *samples, __s64 *oldest_ms);

#define FOG_SEG_REWRITE_MAX 8 /* segments merged into one at most */

/*
 * The oldest segment below level_below that is not the one being written and
 * holds records not acknowledged: its index, or -ENOENT. *run counts it and
 * the closed segments of its level after it (at most FOG_SEG_REWRITE_MAX).
 */
int fog_seglog__oldest_closed(const struct fog_seglog *l, unsigned int level_below, __u32 *level,
			      unsigned int *run);
/*
 * Rewrites the run closed segments from idx as one at level, with records
 * merged by fn: fn gets their records (acknowledged ones left out) and
 * appends what it keeps with fog_seglog_out_add(). The new file replaces the
 * first atomically, then the others are removed.
 */
struct fog_seglog_out;
typedef int (*fog_seglog_rewrite_fn)(const struct fog_seg_rec *recs, size_t n,
				     struct fog_seglog_out *out, void *ctx);
int fog_seglog__rewrite(struct fog_seglog *l, int idx, unsigned int run, __u32 level,
			fog_seglog_rewrite_fn fn, void *ctx);
int fog_seglog_out_add(struct fog_seglog_out *o, __u64 seq, __s64 ts_ms, __u32 samples,
		       const void *data, __u32 len);
/* Removes closed segment idx; the samples it held that were not acknowledged in *samples. */
int fog_seglog__drop(struct fog_seglog *l, int idx, unsigned long long *samples);
/* Removes every closed segment whose newest record is older than before_ms. */
int fog_seglog__drop_older(struct fog_seglog *l, __s64 before_ms, unsigned long long *samples);

#endif /* FOG_UPLINK_SEGLOG_H */
