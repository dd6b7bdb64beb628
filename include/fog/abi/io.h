/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps of bpf/io.bpf.c, read by the io collector: block requests counted per
 * device and per issuing process, with issue-to-complete latency per device.
 */
#ifndef FOG_ABI_IO_H
#define FOG_ABI_IO_H

#include "common.h"

#define FOG_IO_MAX_DEVICES  512	  /* io_devices: block devices (disks and partitions) */
#define FOG_IO_MAX_INFLIGHT 16384 /* io_start: requests between issue and completion */
#define FOG_IO_SLOTS	    16384 /* io_slots: the same, by queue and tag (a power of 2) */

/* The kernel's dev_t inside the kernel (not the one stat() returns): major << 20 | minor. */
#define FOG_IO_MINOR_BITS 20
#define FOG_IO_MINOR_MASK ((1U << FOG_IO_MINOR_BITS) - 1)

/* io_devices: per-CPU values keyed by the kernel dev_t (__u32) of the request's device */
struct fog_io_dev {
	__u64 read_ops;
	__u64 write_ops;   /* writes, write-zeroes and zone appends */
	__u64 discard_ops; /* discards and secure erases */
	__u64 flush_ops;   /* cache flushes, which carry no data */
	__u64 other_ops;   /* zone management and driver-private requests */
	__u64 errors;	   /* requests completed with a non-zero blk_status_t */
	__u64 read_bytes;  /* bytes completed without error */
	__u64 write_bytes;
	__u64 discard_bytes;
	__u64 pad;
	struct fog_hist latency; /* issue to completion, every class of request */
};

/* io_counters: one per-CPU entry, index 0: requests the programs could not follow */
struct fog_io_counters {
	__u64 unmatched;   /* completions without a recorded issue (issued before load) */
	__u64 start_full;  /* issues not recorded because io_start was full */
	__u64 device_full; /* completions lost because io_devices was full */
	__u64 partial;	   /* partial completions folded into the final one */
};

/* What a request is, as counted in struct fog_io_dev. */
enum fog_io_class {
	FOG_IO_READ = 0,
	FOG_IO_WRITE = 1,
	FOG_IO_DISCARD = 2,
	FOG_IO_FLUSH = 3,
	FOG_IO_OTHER = 4,
};

/*
 * The kernel's request operations (enum req_op, the low 8 bits of cmd_flags)
 * whose values have not changed since they were introduced; the BPF side
 * checks them against vmlinux.h at build time. Zone-append moved (13 before
 * 6.0, 7 since), so its value is passed in, read through CO-RE.
 */
#define FOG_IO_REQ_OP_MASK	   0xffU
#define FOG_IO_REQ_OP_READ	   0U
#define FOG_IO_REQ_OP_WRITE	   1U
#define FOG_IO_REQ_OP_FLUSH	   2U
#define FOG_IO_REQ_OP_DISCARD	   3U
#define FOG_IO_REQ_OP_SECURE_ERASE 5U
#define FOG_IO_REQ_OP_WRITE_ZEROES 9U

/*
 * Classifies a request from its cmd_flags, as /proc/diskstats groups them
 * (block/blk.h op_stat_group) but with flushes and zone or driver commands
 * apart, so that data-less requests do not count as reads. zone_append_op is
 * the kernel's REQ_OP_ZONE_APPEND, or FOG_IO_REQ_OP_MASK + 1 when it has none.
 * Shared with user space so that the unit tests check the BPF side's logic.
 */
static inline __u32 fog_io_classify(__u32 cmd_flags, __u32 zone_append_op)
{
	__u32 op = cmd_flags & FOG_IO_REQ_OP_MASK;

	switch (op) {
	case FOG_IO_REQ_OP_READ:
		return FOG_IO_READ;
	case FOG_IO_REQ_OP_WRITE:
	case FOG_IO_REQ_OP_WRITE_ZEROES:
		return FOG_IO_WRITE;
	case FOG_IO_REQ_OP_DISCARD:
	case FOG_IO_REQ_OP_SECURE_ERASE:
		return FOG_IO_DISCARD;
	case FOG_IO_REQ_OP_FLUSH:
		return FOG_IO_FLUSH;
	default:
		return op == zone_append_op ? FOG_IO_WRITE : FOG_IO_OTHER;
	}
}

#endif /* FOG_ABI_IO_H */
