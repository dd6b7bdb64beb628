/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Remote-write bodies (Prometheus remote write 1.0: a protobuf WriteRequest,
 * snappy block-compressed) from fogd's own exposition text, split into the
 * classes the uplink sends in order after an outage, and merged to a coarser
 * step when the buffer runs out of room.
 */
#ifndef FOG_UPLINK_ENCODE_H
#define FOG_UPLINK_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Classes in the order a backlog is sent: alert state first. */
enum fog_uplink_class {
	FOG_UPLINK_ALERT,  /* fog_alert_* and ALERTS-style series */
	FOG_UPLINK_HOST,   /* host aggregates */
	FOG_UPLINK_DETAIL, /* per-cgroup and per-process series */
	FOG_UPLINK_CLASSES,
};

const char *fog_uplink_class_name(enum fog_uplink_class c);
/* The class of a series from its name and label names (NULL-terminated). */
enum fog_uplink_class fog_uplink_classify(const char *name, const char *const *label_names);

/* A growing byte buffer; the holder frees p. */
struct fog_rw_buf {
	unsigned char *p;
	size_t len, cap;
	__u32 series; /* time series appended (one sample each) */
};

struct fog_rw_label {
	const char *name, *value;
};

/*
 * Appends one TimeSeries with one sample to b, a WriteRequest being built
 * (WriteRequests concatenate: the receiver reads the concatenation as one).
 * labels must be sorted by name without repeats.
 */
int fog_rw_buf_series(struct fog_rw_buf *b, const struct fog_rw_label *labels, size_t n,
		      double value, __s64 ts_ms);

/*
 * Encodes an exposition (text format 0.0.4) as one WriteRequest per class,
 * every sample at ts_ms, with the extra labels (sorted, NULL-terminated
 * name, value pairs; a series' own label of the same name wins). *bad counts
 * lines that are not samples of the format (skipped).
 */
int fog_rw_encode(const char *text, size_t len, __s64 ts_ms, const char *const *extra,
		  struct fog_rw_buf out[FOG_UPLINK_CLASSES], unsigned int *bad);

/* Snappy block compression into *out (malloc'd, the caller frees). */
int fog_rw_compress(const void *in, size_t len, void **out, size_t *out_len);
/* Decompresses a body of at most max bytes into b (appended). -EBADMSG when it is not one. */
int fog_rw_uncompress(const void *in, size_t len, size_t max, struct fog_rw_buf *b);

#define FOG_RW_MAX_RAW (64u << 20)

/*
 * Merges WriteRequests (uncompressed, concatenated in b) into one with the
 * last sample of each series (by time; for cumulative counters and histogram
 * buckets that is the merged value, for gauges the last reading), appended
 * to out (out->series counts them); -EBADMSG when in is not a WriteRequest.
 */
int fog_rw_merge(const struct fog_rw_buf *in, struct fog_rw_buf *out);

#endif /* FOG_UPLINK_ENCODE_H */
