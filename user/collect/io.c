// SPDX-License-Identifier: GPL-2.0-only
/*
 * The io collector: block requests per device (counts, bytes, issue-to-complete
 * latency) from bpf/io.bpf.c; per process the kernel's I/O accounting (bytes
 * read from and written to storage, read and write calls), from the task
 * iterator (collect/tasks.c). Device names come from
 * sysfs or /proc/partitions and are cached; requests slower than
 * io.outlier_us arrive as FOG_EV_IO_OUTLIER events.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/hist.h"
#include "base/log.h"
#include "base/prom.h"
#include "collect/collect_int.h"
#include "collect/io_dev.h"
#include "collect/tasks.h"
#include "io.skel.h"

_Static_assert(sizeof(struct fog_io_dev) % 8 == 0, "fog_io_dev is not 8-byte sized");
_Static_assert(sizeof(struct fog_io_counters) % 8 == 0, "fog_io_counters is not 8-byte sized");

#define IO_SYSFS_DEV_BLOCK "/sys/dev/block"
#define IO_PARTITIONS	   "/proc/partitions"
#define IO_NAME_REFRESH_NS (60 * 1000000000ull) /* device names are looked up again */

/* One device seen in io_devices; the array is kept sorted by dev. */
struct io_device {
	__u32 dev;	 /* kernel dev_t */
	bool named;	 /* name holds a resolved name */
	bool ever_named; /* it was resolved once: a later -ENOENT means it is gone */
	char name[FOG_IO_NAME_LEN];
	__u64 name_ns;			/* when the name was last looked up */
	struct fog_io_dev totals, prev; /* this tick's and the last tick's reading */
	bool has_prev;
	struct fog_io_dev_rates rates;
	struct fog_hist recent; /* latency over the last tick */
};

struct io_state {
	struct io_bpf *skel;
	void *values; /* scratch for one per-CPU lookup of io_devices or io_counters */
	struct io_device *devices;
	unsigned int n_devices;
	__u32 *doomed; /* device keys to delete after an iteration */
	struct fog_io_counters counters;
	bool tasks; /* per-process figures come from the task iterator */
	__u64 name_errors;    /* look-ups that failed for another reason than a missing device */
};

static bool io_enabled(const struct fog_config *cfg)
{
	return cfg->io;
}

static void io_set_outlier(struct io_state *s, const struct fog_config *cfg)
{
	s->skel->bss->cfg_io_outlier_ns = (__u64)cfg->io_outlier_us * 1000;
}

static void io_free_state(struct io_state *s)
{
	if (!s)
		return;
	io_bpf__destroy(s->skel);
	free(s->values);
	free(s->devices);
	free(s->doomed);
	free(s);
}

static int io_start(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	size_t largest = sizeof(struct fog_io_dev);
	struct io_state *s;
	int err;

	if (sizeof(struct fog_io_counters) > largest)
		largest = sizeof(struct fog_io_counters);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fog_collector_fail(c, -ENOMEM, "out of memory");
	s->values = calloc((size_t)o->ncpu, largest);
	s->devices = calloc(FOG_IO_MAX_DEVICES, sizeof(*s->devices));
	s->doomed = calloc(FOG_IO_MAX_DEVICES, sizeof(*s->doomed));
	if (!s->values || !s->devices || !s->doomed) {
		err = fog_collector_fail(c, -ENOMEM, "out of memory");
		goto out_free;
	}
	s->skel = io_bpf__open();
	if (!s->skel) {
		err = fog_collector_fail(c, -errno, "cannot open bpf object io: %s",
					 strerror(errno));
		goto out_free;
	}
	s->skel->rodata->cfg_cgroup_mode = fog_collector_cgroup_mode(c);
	err = io_bpf__load(s->skel);
	if (err) {
		err = fog_collector_fail(c, err,
					 "cannot load bpf object io: %s (run with "
					 "-o fogd.log_level=debug for the verifier log)",
					 strerror(-err));
		goto out_free;
	}
	io_set_outlier(s, o->cfg);
	err = io_bpf__attach(s->skel);
	if (err) {
		err = fog_collector_fail(c, err,
					 "cannot attach tracepoints block_rq_issue and "
					 "block_rq_complete: %s",
					 strerror(-err));
		goto out_free;
	}
	err = fog_collector_pin_maps(c, s->skel->obj);
	if (err)
		goto out_free;
	err = fog_collector_add_events(c, s->skel->obj, "io");
	if (err)
		goto out_unpin;
	s->tasks = !fog_tasks__get(c, FOG_TASKS_IO);
	if (s->tasks)
		c->error[0] = '\0';
	else
		fog_warnx("io: no per-process figures: %s", c->error);
	c->obj = s->skel->obj;
	c->priv = s;
	return 0;

out_unpin:
	fog_collector_unpin_maps(c, s->skel->obj);
out_free:
	io_free_state(s);
	return err;
}

static void io_stop(struct fog_collector *c)
{
	struct io_state *s = c->priv;

	if (!s)
		return;
	fog_events__remove_source(c->owner->events, "io");
	fog_collector_unpin_maps(c, s->skel->obj);
	if (s->tasks)
		fog_tasks__put(c, FOG_TASKS_IO);
	io_free_state(s);
	c->priv = NULL;
	c->obj = NULL;
}

static void io_reconfigure(struct fog_collector *c, const struct fog_config *cfg)
{
	struct io_state *s = c->priv;

	if (s)
		io_set_outlier(s, cfg);
}

/* ---- devices ---- */

/* The device entry for dev, added in order when missing; NULL when the table is full. */
static struct io_device *io_device(struct io_state *s, __u32 dev)
{
	unsigned int lo = 0, hi = s->n_devices;
	struct io_device *d;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (s->devices[mid].dev == dev)
			return &s->devices[mid];
		if (s->devices[mid].dev < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n_devices == FOG_IO_MAX_DEVICES)
		return NULL;
	d = &s->devices[lo];
	memmove(d + 1, d, (s->n_devices - lo) * sizeof(*d));
	s->n_devices++;
	memset(d, 0, sizeof(*d));
	d->dev = dev;
	return d;
}

static void io_device_remove(struct io_state *s, struct io_device *d)
{
	unsigned int i = (unsigned int)(d - s->devices);

	memmove(d, d + 1, (s->n_devices - i - 1) * sizeof(*d));
	s->n_devices--;
}

/* Looks the name up when it is new or due; returns false when the device is gone. */
static bool io_device_name(struct io_state *s, struct io_device *d, __u64 now)
{
	int err;

	if (d->name_ns && now - d->name_ns < IO_NAME_REFRESH_NS)
		return true;
	d->name_ns = now;
	err = fog_io_dev_name(IO_SYSFS_DEV_BLOCK, IO_PARTITIONS, d->dev, d->name, sizeof(d->name));
	if (!err) {
		d->named = d->ever_named = true;
		return true;
	}
	d->named = false;
	if (err == -ENOENT)
		return !d->ever_named;
	if (!s->name_errors++)
		fog_warnc(-err, "io: cannot name block device %u:%u", fog_io_dev_major(d->dev),
			  fog_io_dev_minor(d->dev));
	return true;
}

static void io_read_devices(struct fog_collector *c, struct io_state *s, __u64 now)
{
	struct fog_collect *o = c->owner;
	int fd = bpf_map__fd(s->skel->maps.io_devices);
	unsigned int n_doomed = 0;
	__u32 key, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct io_device *d;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, s->values))
			continue; /* deleted meanwhile */
		d = io_device(s, key);
		if (!d)
			continue;
		if (!io_device_name(s, d, now)) {
			/* unplugged: its figures go with it */
			if (n_doomed < FOG_IO_MAX_DEVICES)
				s->doomed[n_doomed++] = key;
			io_device_remove(s, d);
			continue;
		}
		d->prev = d->totals;
		fog_percpu_sum(&d->totals, s->values, o->ncpu, sizeof(d->totals),
			       sizeof(d->totals));
		if (d->has_prev) {
			fog_io_dev_rates(&d->totals, &d->prev, o->tick_seconds, &d->rates);
			fog_hist_delta(&d->recent, &d->totals.latency, &d->prev.latency);
		}
		d->has_prev = true;
	}
	/* deleted after the walk: deleting the current key would restart it */
	for (unsigned int i = 0; i < n_doomed; i++)
		bpf_map_delete_elem(fd, &s->doomed[i]);
}

static void io_read_counters(struct fog_collector *c, struct io_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.io_counters);
	__u32 zero = 0;

	if (!bpf_map_lookup_elem(fd, &zero, s->values))
		fog_percpu_sum(&s->counters, s->values, c->owner->ncpu, sizeof(s->counters),
			       sizeof(s->counters));
}

static void io_tick(struct fog_collector *c, __u64 now)
{
	struct io_state *s = c->priv;

	if (!s)
		return;
	io_read_counters(c, s);
	io_read_devices(c, s, now);
	if (s->tasks)
		fog_tasks__read(c->owner);
	for (unsigned int i = 0; i < s->n_devices; i++) {
		double p99;

		if (!s->devices[i].has_prev)
			continue;
		p99 = fog_hist_quantile(&s->devices[i].recent, 0.99);
		if (p99 < 0)
			p99 = 0; /* no request this tick */
		if (isnan(c->owner->host.io_p99_s) || p99 / 1e9 > c->owner->host.io_p99_s)
			c->owner->host.io_p99_s = p99 / 1e9;
	}
}

static json_t *io_to_json(struct fog_collector *c)
{
	struct io_state *s = c->priv;
	json_t *j = json_object(), *devs = json_array();

	if (!s) {
		json_decref(devs);
		return j;
	}
	for (unsigned int i = 0; i < s->n_devices; i++) {
		const struct io_device *d = &s->devices[i];

		json_array_append_new(devs,
				      fog_io_dev_json(d->dev, d->named ? d->name : NULL, &d->totals,
						      &d->rates, d->has_prev ? &d->recent : NULL));
	}
	json_object_set_new(j, "devices", devs);
	json_object_set_new(j, "processes_tracked", json_integer(fog_agg__count(c->owner->agg)));
	json_object_set_new(j, "outlier_threshold_seconds",
			    json_real(c->owner->cfg->io_outlier_us / 1e6));
	/* requests the programs could not follow, and partial completions folded in */
	json_object_set_new(j, "unmatched_completions",
			    json_integer((json_int_t)s->counters.unmatched));
	json_object_set_new(j, "issues_not_recorded",
			    json_integer((json_int_t)s->counters.start_full));
	json_object_set_new(j, "device_table_full",
			    json_integer((json_int_t)s->counters.device_full));
	json_object_set_new(j, "partial_completions",
			    json_integer((json_int_t)s->counters.partial));
	/* per process the kernel accounts every request: none escape */
	json_object_set_new(j, "requests_untracked_per_process", json_integer(0));
	return j;
}

/* node_exporter's disk names, in base units, per device by its kernel name */
static void io_metrics(struct fog_collector *c, struct fog_prom *w)
{
	static const struct {
		const char *name;
		const char *help;
		size_t offset;
	} counters[] = {
		{ "fog_disk_reads_completed", "read requests completed",
		  offsetof(struct fog_io_dev, read_ops) },
		{ "fog_disk_writes_completed", "write requests completed",
		  offsetof(struct fog_io_dev, write_ops) },
		{ "fog_disk_discards_completed", "discard requests completed",
		  offsetof(struct fog_io_dev, discard_ops) },
		{ "fog_disk_flush_requests", "cache flush requests completed",
		  offsetof(struct fog_io_dev, flush_ops) },
		{ "fog_disk_io_errors", "requests completed with an error",
		  offsetof(struct fog_io_dev, errors) },
		{ "fog_disk_read_bytes", "bytes read", offsetof(struct fog_io_dev, read_bytes) },
		{ "fog_disk_written_bytes", "bytes written",
		  offsetof(struct fog_io_dev, write_bytes) },
	};
	struct io_state *s = c->priv;
	char devno[24];

	if (!s)
		return;
	for (size_t f = 0; f < sizeof(counters) / sizeof(counters[0]); f++) {
		fog_prom__family(w, counters[f].name, FOG_PROM_COUNTER, counters[f].help);
		for (unsigned int i = 0; i < s->n_devices; i++) {
			const struct io_device *d = &s->devices[i];
			__u64 v;

			memcpy(&v, (const char *)&d->totals + counters[f].offset, sizeof(v));
			snprintf(devno, sizeof(devno), "%u:%u", d->dev >> FOG_IO_MINOR_BITS,
				 d->dev & ((1u << FOG_IO_MINOR_BITS) - 1));
			fog_prom__sample(w,
					 (const char *[]){ "device", d->named ? d->name : devno,
							   "devno", devno, NULL },
					 (double)v);
		}
	}
	fog_prom__family(w, "fog_disk_request_latency_seconds", FOG_PROM_HISTOGRAM,
			 "block request time from issue to completion");
	for (unsigned int i = 0; i < s->n_devices; i++) {
		const struct io_device *d = &s->devices[i];

		snprintf(devno, sizeof(devno), "%u:%u", d->dev >> FOG_IO_MINOR_BITS,
			 d->dev & ((1u << FOG_IO_MINOR_BITS) - 1));
		fog_prom__hist(w,
			       (const char *[]){ "device", d->named ? d->name : devno, "devno", devno,
						 NULL },
			       &d->totals.latency);
	}
}

const struct fog_collector_ops fog_io_collector = {
	.name = "io",
	.enabled = io_enabled,
	.start = io_start,
	.stop = io_stop,
	.tick = io_tick,
	.to_json = io_to_json,
	.reconfigure = io_reconfigure,
	.metrics = io_metrics,
};
