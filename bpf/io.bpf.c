// SPDX-License-Identifier: GPL-2.0-only
/*
 * Block I/O for the io collector. block_rq_issue records when a request went
 * to the driver and which process was current then (for outlier events);
 * block_rq_complete turns that into per-device counts and latency. Per
 * process, the kernel's own I/O accounting is read by the task iterator
 * (bpf/tasks.bpf.c) instead of a hash lookup per request. Requests are
 * counted once, at their final completion, so that a request the driver
 * requeues and issues again is not counted twice. Only requests slower than
 * cfg_io_outlier_ns go to the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/io.h"

char LICENSE[] SEC("license") = "GPL";

/* requests slower than this go to the ring buffer; 0 turns it off; set at run time */
volatile __u64 cfg_io_outlier_ns = 0;

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/* the op values fog_io_classify relies on, checked against this kernel's headers */
_Static_assert(REQ_OP_READ == FOG_IO_REQ_OP_READ, "REQ_OP_READ moved");
_Static_assert(REQ_OP_WRITE == FOG_IO_REQ_OP_WRITE, "REQ_OP_WRITE moved");
_Static_assert(REQ_OP_FLUSH == FOG_IO_REQ_OP_FLUSH, "REQ_OP_FLUSH moved");
_Static_assert(REQ_OP_DISCARD == FOG_IO_REQ_OP_DISCARD, "REQ_OP_DISCARD moved");
_Static_assert(REQ_OP_SECURE_ERASE == FOG_IO_REQ_OP_SECURE_ERASE, "REQ_OP_SECURE_ERASE moved");
_Static_assert(REQ_OP_WRITE_ZEROES == FOG_IO_REQ_OP_WRITE_ZEROES, "REQ_OP_WRITE_ZEROES moved");

/*
 * A request between issue and its final completion. No comm: copying it at
 * every issue costs more than the rest of the issue handler; the rare paths
 * that need a name look the process up by tgid instead.
 */
struct io_start {
	__u64 ts_ns;	  /* when it was issued */
	__u32 tgid;	  /* current at issue, 0 for kernel threads */
	__u32 done_bytes; /* bytes of partial completions so far, without error */
};

/*
 * Requests in flight, in a table indexed by what names a request while it is
 * in flight: its queue, hardware context and driver tag. An array element is
 * reached without hashing or locking, which costs a fraction of a hash map
 * update and delete per request. The element also holds the request pointer
 * (the owner) and the full name, so that an index shared by two names (the
 * table folds them) is noticed: the second request then goes to io_start.
 */
struct io_slot {
	__u64 rq;	/* the request in flight here, 0: none */
	__u64 name;	/* queue id << 40 | hardware context << 20 | tag */
	struct io_start st;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FOG_IO_SLOTS);
	__type(key, __u32);
	__type(value, struct io_slot);
} io_slots SEC(".maps");

/* the rest, keyed by the struct request pointer; stale keys get overwritten */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FOG_IO_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct io_start);
} io_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FOG_IO_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct fog_io_dev);
} io_devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_io_counters);
} io_counters SEC(".maps");

FOG_EVENT_MAPS(io, 128 * 1024);

/* kernel 6.2 and later; without them names are left empty */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

static const struct fog_io_dev zero_dev;

/* kernels before 5.17 kept the disk in the request itself */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct fog_io_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&io_counters, &zero);
}

/*
 * The device the request was submitted to: the partition when there is one
 * (what stat() reports for a file on it), else the whole disk. Encoded as the
 * kernel encodes dev_t: major << 20 | minor.
 */
static __always_inline __u32 request_dev(struct request *rq)
{
	struct gendisk *disk;

	if (bpf_core_field_exists(rq->part)) {
		struct block_device *part = rq->part;

		if (part)
			return part->bd_dev;
	}
	if (bpf_core_field_exists(rq->q->disk))
		disk = BPF_CORE_READ(rq, q, disk);
	else
		disk = BPF_CORE_READ((struct request___old *)rq, rq_disk);
	if (!disk)
		return 0;
	return (BPF_CORE_READ(disk, major) << FOG_IO_MINOR_BITS) | BPF_CORE_READ(disk, first_minor);
}

static __always_inline __u32 request_class(struct request *rq)
{
	__u32 zone_append = FOG_IO_REQ_OP_MASK + 1;

	if (bpf_core_enum_value_exists(enum req_op, REQ_OP_ZONE_APPEND))
		zone_append = bpf_core_enum_value(enum req_op, REQ_OP_ZONE_APPEND);
	return fog_io_classify(rq->cmd_flags, zone_append);
}

static __always_inline struct fog_io_dev *device_stats(__u32 dev)
{
	struct fog_io_dev *st;

	st = bpf_map_lookup_elem(&io_devices, &dev);
	if (st)
		return st;
	bpf_map_update_elem(&io_devices, &dev, &zero_dev, BPF_NOEXIST);
	return bpf_map_lookup_elem(&io_devices, &dev);
}

/* The name of process tgid, "" when it is gone (the request outlived it) or unknown. */
static __always_inline void tgid_comm(__u32 tgid, char *comm)
{
	struct task_struct *t;

	comm[0] = '\0';
	if (!bpf_task_from_pid || !bpf_task_release)
		return;
	t = bpf_task_from_pid(tgid);
	if (!t)
		return;
	bpf_probe_read_kernel_str(comm, FOG_COMM_LEN, t->comm);
	bpf_task_release(t);
}

/* The submitting process, or 0 when a kernel thread is current. */
static __always_inline __u32 current_tgid(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->flags & PF_KTHREAD ? 0 : t->tgid;
}

/* The slot of a request that has a driver tag, NULL without; *name gets its name. */
static __always_inline struct io_slot *request_slot(struct request *rq, __u64 *name)
{
	struct blk_mq_hw_ctx *hctx = rq->mq_hctx;
	int tag = rq->tag;
	__u32 qid, hw, idx;

	if (tag < 0 || !hctx || !rq->q)
		return NULL;
	qid = rq->q->id;
	hw = hctx->queue_num;
	*name = (__u64)qid << 40 | (__u64)(hw & 0xfffff) << 20 | (tag & 0xfffff);
	idx = ((__u32)tag + hw * 1031 + qid * 4099) & (FOG_IO_SLOTS - 1);
	return bpf_map_lookup_elem(&io_slots, &idx);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(handle_block_rq_issue, struct request *rq)
{
	struct io_start st = { .ts_ns = bpf_ktime_get_ns(), .tgid = current_tgid() };
	struct fog_io_counters *cnt;
	__u64 key = (__u64)rq, name = 0;
	struct io_slot *slot = request_slot(rq, &name);

	/*
	 * Free, or named as this request is: a tag is given to one request at a
	 * time, so whoever held it has completed. A request requeued and issued
	 * again starts over.
	 */
	if (slot && (!slot->rq || slot->name == name || slot->rq == key)) {
		slot->st = st;
		slot->name = name;
		slot->rq = key;
		return 0;
	}
	if (bpf_map_update_elem(&io_start, &key, &st, BPF_ANY)) {
		cnt = counters();
		if (cnt)
			cnt->start_full++;
	}
	return 0;
}

static __always_inline void emit_outlier(struct request *rq, const struct io_start *st, __u32 dev,
					 __u32 class, __u64 lat, __u64 bytes)
{
	struct fog_ev_io *ev;

	ev = fog_event_reserve(&io_events, &io_drops, sizeof(*ev), FOG_EV_IO_OUTLIER);
	if (!ev)
		return;
	ev->dev = dev;
	ev->pid = st->tgid;
	ev->latency_ns = lat;
	ev->bytes = bytes;
	ev->sector = rq->__sector; /* after partial completions: the last piece's */
	ev->write = class == FOG_IO_WRITE;
	ev->pad = 0;
	__builtin_memset(ev->comm, 0, FOG_COMM_LEN);
	if (st->tgid)
		tgid_comm(st->tgid, ev->comm);
	fog_event_submit(&io_events, ev, false);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(handle_block_rq_complete, struct request *rq, blk_status_t error,
	     unsigned int nr_bytes)
{
	struct fog_io_counters *cnt;
	struct fog_io_dev *ds;
	struct io_start *found, st;
	__u64 key = (__u64)rq, lat, bytes, limit, name = 0;
	struct io_slot *slot = request_slot(rq, &name);
	bool in_slot = slot && slot->rq == key;
	__u32 dev, class;

	if (slot && in_slot)
		found = &slot->st;
	else
		found = bpf_map_lookup_elem(&io_start, &key);
	if (!found) {
		cnt = counters();
		if (cnt)
			cnt->unmatched++;
		return 0;
	}
	/*
	 * The tracepoint fires before the request's length shrinks: fewer bytes
	 * than are left means the driver completed part of it and will come back.
	 */
	if (nr_bytes < rq->__data_len) {
		if (!error)
			found->done_bytes += nr_bytes;
		cnt = counters();
		if (cnt)
			cnt->partial++;
		return 0;
	}
	/* copy before delete: another CPU may reuse the element at once */
	st = *found;
	if (slot && in_slot)
		slot->rq = 0;
	else
		bpf_map_delete_elem(&io_start, &key);

	lat = bpf_ktime_get_ns() - st.ts_ns;
	bytes = st.done_bytes + (error ? 0 : nr_bytes);
	dev = request_dev(rq);
	class = request_class(rq);

	ds = device_stats(dev);
	if (!ds) {
		cnt = counters();
		if (cnt)
			cnt->device_full++;
	} else {
		switch (class) {
		case FOG_IO_READ:
			ds->read_ops++;
			ds->read_bytes += bytes;
			break;
		case FOG_IO_WRITE:
			ds->write_ops++;
			ds->write_bytes += bytes;
			break;
		case FOG_IO_DISCARD:
			ds->discard_ops++;
			ds->discard_bytes += bytes;
			break;
		case FOG_IO_FLUSH:
			ds->flush_ops++;
			break;
		default:
			ds->other_ops++;
			break;
		}
		if (error)
			ds->errors++;
		fog_hist_add(&ds->latency, lat);
	}

	limit = cfg_io_outlier_ns;
	if (limit && lat >= limit)
		emit_outlier(rq, &st, dev, class, lat, bytes);
	return 0;
}
