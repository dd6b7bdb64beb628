// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/meminfo.h"
#include "base/psi.h"
#include "monitor/sampler.h"

#define SAMPLER_BUF (256 * 1024)

static const char *const psi_files[3] = { "cpu", "memory", "io" };

int fog_parse_proc_stat(const char *text, __u64 *busy, __u64 *total)
{
	unsigned long long f[10] = { 0 };
	const char *line = text;
	int n;

	while (line && strncmp(line, "cpu ", 4)) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line)
		return -EINVAL;
	n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
		   &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
	if (n < 4)
		return -EINVAL;
	/* user nice system idle iowait irq softirq steal; guest time is already in user */
	*total = 0;
	for (int i = 0; i < 8 && i < n; i++)
		*total += f[i];
	*busy = *total - f[3] - f[4];
	return 0;
}

int fog_parse_meminfo_used(const char *text, double *used)
{
	struct fog_meminfo m;
	char err[128];

	/* fields that parse are kept even when another does not: only these two matter */
	fog_meminfo_parse(text, &m, err, sizeof(err));
	if (!(m.have & FOG_MEMINFO_TOTAL) || !(m.have & FOG_MEMINFO_AVAILABLE) || !m.total_bytes ||
	    m.available_bytes > m.total_bytes)
		return -EINVAL;
	*used = 1.0 - (double)m.available_bytes / (double)m.total_bytes;
	return 0;
}

int fog_parse_psi_some_total(const char *text, __u64 *total_us)
{
	struct fog_psi p;
	char err[128];

	fog_psi_parse(text, &p, err, sizeof(err));
	if (!p.has_some)
		return -EINVAL;
	*total_us = p.some.total_us;
	return 0;
}

int fog_parse_diskstats(const char *text, struct fog_disk_counters *out, size_t max)
{
	size_t n = 0;

	for (const char *p = text; p && *p && n < max;) {
		unsigned long long f[11];
		char name[FOG_SAMPLER_NAME];
		unsigned int maj, min;

		if (sscanf(p, "%u %u %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &maj, &min, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
			   &f[8], &f[9], &f[10]) == 14) {
			struct fog_disk_counters *d = &out[n++];

			snprintf(d->name, sizeof(d->name), "%s", name);
			d->ios = f[0] + f[4];	   /* reads and writes completed */
			d->ticks_ms = f[3] + f[7]; /* ms spent reading and writing */
			d->io_ticks_ms = f[9];	   /* ms with I/O in flight */
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return (int)n;
}

int fog_parse_net_dev(const char *text, struct fog_net_counters *out, size_t max)
{
	size_t n = 0;

	for (const char *p = text; p && *p && n < max;) {
		const char *colon = strchr(p, ':'), *eol = strchr(p, '\n');
		unsigned long long f[9];

		if (colon && (!eol || colon < eol) &&
		    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
			   &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) == 9) {
			struct fog_net_counters *c = &out[n];
			const char *b = p;
			size_t len;

			while (*b == ' ')
				b++;
			len = (size_t)(colon - b);
			if (len && len < sizeof(c->name)) {
				memcpy(c->name, b, len);
				c->name[len] = 0;
				c->rx_bytes = f[0];
				c->tx_bytes = f[8];
				n++;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return (int)n;
}

int fog_parse_schedstat(const char *text, __u64 *run_delay_ns, __u64 *timeslices)
{
	bool found = false;

	*run_delay_ns = 0;
	*timeslices = 0;
	for (const char *p = text; p && *p;) {
		unsigned long long f[9];
		unsigned int cpu;

		/* cpuN yld_count legacy sched_count sched_goidle ttwu_count ttwu_local
		 * rq_cpu_time run_delay pcount (Documentation/scheduler/sched-stats.rst) */
		if (sscanf(p, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &f[0],
			   &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) == 10) {
			*run_delay_ns += f[7];
			*timeslices += f[8];
			found = true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return found ? 0 : -EINVAL;
}

int fog_host_sampler_init(struct fog_host_sampler *s, const char *proc, const char *sys,
			  double link_bytes_per_second)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->proc, sizeof(s->proc), "%s", proc ? proc : "/proc");
	snprintf(s->sys, sizeof(s->sys), "%s", sys ? sys : "/sys");
	s->link_bytes = link_bytes_per_second;
	s->buflen = SAMPLER_BUF;
	s->buf = malloc(s->buflen);
	return s->buf ? 0 : -ENOMEM;
}

void fog_host_sampler_release(struct fog_host_sampler *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* Reads root/rel into s->buf; NULL when it cannot be read. */
static const char *slurp(struct fog_host_sampler *s, const char *root, const char *rel)
{
	char path[320];
	size_t off = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (off < s->buflen - 1) {
		ssize_t r = read(fd, s->buf + off, s->buflen - 1 - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	s->buf[off] = 0;
	return s->buf;
}

static __u64 grew(__u64 now, __u64 before)
{
	return now > before ? now - before : 0;
}

static const struct fog_disk_counters *find_disk(const struct fog_host_sampler *s, const char *name)
{
	for (size_t i = 0; i < s->ndisks; i++) {
		if (!strcmp(s->disks[i].name, name))
			return &s->disks[i];
	}
	return NULL;
}

static const struct fog_net_counters *find_net(const struct fog_host_sampler *s, const char *name)
{
	for (size_t i = 0; i < s->nnets; i++) {
		if (!strcmp(s->nets[i].name, name))
			return &s->nets[i];
	}
	return NULL;
}

/* Whole devices only: partitions would count their disk's time twice. */
static bool is_whole_disk(const struct fog_host_sampler *s, const char *name)
{
	char path[320];

	if ((size_t)snprintf(path, sizeof(path), "%s/block/%s", s->sys, name) >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/* Link capacity in bytes per second: sysfs speed (Mbit/s), else the configured one. */
static double link_capacity(struct fog_host_sampler *s, const char *ifname)
{
	char path[320];
	long mbit = -1;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/class/net/%s/speed", s->sys, ifname) >=
	    sizeof(path))
		return s->link_bytes > 0 ? s->link_bytes : 0;
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &mbit) != 1)
			mbit = -1;
		fclose(f);
	}
	if (mbit > 0)
		return (double)mbit * 1e6 / 8;
	return s->link_bytes > 0 ? s->link_bytes : 0;
}

static void read_disks(struct fog_host_sampler *s, double dt, struct fog_monitor_sample *out)
{
	struct fog_disk_counters now[FOG_SAMPLER_DEVICES];
	const char *text = slurp(s, s->proc, "diskstats");
	double busiest = -1;
	__u64 ios = 0, ticks = 0;
	size_t n = 0;
	int got;

	if (!text) {
		s->ndisks = 0;
		return;
	}
	got = fog_parse_diskstats(text, now, FOG_SAMPLER_DEVICES);
	for (int i = 0; i < got; i++) {
		if (is_whole_disk(s, now[i].name))
			now[n++] = now[i];
	}
	for (size_t i = 0; dt > 0 && i < n; i++) {
		const struct fog_disk_counters *b = find_disk(s, now[i].name);

		if (!b)
			continue;
		busiest =
			fmax(busiest, (double)grew(now[i].io_ticks_ms, b->io_ticks_ms) / 1000 / dt);
		ios += grew(now[i].ios, b->ios);
		ticks += grew(now[i].ticks_ms, b->ticks_ms);
	}
	if (busiest >= 0) {
		out->value[FOG_MONITOR_DISK] = fmin(1, busiest);
		/* no request completed: nobody waited */
		out->value[FOG_MONITOR_IO_LATENCY] = ios ? (double)ticks / 1000 / (double)ios : 0;
	}
	memcpy(s->disks, now, n * sizeof(now[0]));
	s->ndisks = n;
}

static void read_nets(struct fog_host_sampler *s, double dt, struct fog_monitor_sample *out)
{
	struct fog_net_counters now[FOG_SAMPLER_DEVICES];
	const char *text = slurp(s, s->proc, "net/dev");
	double busiest = -1;
	int n;

	if (!text) {
		s->nnets = 0;
		return;
	}
	n = fog_parse_net_dev(text, now, FOG_SAMPLER_DEVICES);
	for (int i = 0; dt > 0 && i < n; i++) {
		const struct fog_net_counters *b = find_net(s, now[i].name);
		double cap, bytes;

		if (!b || !strcmp(now[i].name, "lo"))
			continue;
		cap = link_capacity(s, now[i].name);
		if (!(cap > 0))
			continue;
		bytes = (double)fmax(grew(now[i].rx_bytes, b->rx_bytes),
				     grew(now[i].tx_bytes, b->tx_bytes));
		busiest = fmax(busiest, bytes / dt / cap);
	}
	if (busiest >= 0)
		out->value[FOG_MONITOR_NETWORK] = fmin(1, busiest);
	memcpy(s->nets, now, (size_t)n * sizeof(now[0]));
	s->nnets = (size_t)n;
}

void fog_host_sampler_read(struct fog_host_sampler *s, double now, struct fog_monitor_sample *out)
{
	double dt = s->primed ? now - s->t : 0, used;
	const char *text;
	__u64 busy, total, run_delay, slices;

	fog_monitor_sample_init(out);

	text = slurp(s, s->proc, "stat");
	if (text && !fog_parse_proc_stat(text, &busy, &total)) {
		if (s->have_cpu && total > s->cpu_total)
			out->value[FOG_MONITOR_CPU] =
				(double)grew(busy, s->cpu_busy) / (double)(total - s->cpu_total);
		s->cpu_busy = busy;
		s->cpu_total = total;
		s->have_cpu = true;
	}

	text = slurp(s, s->proc, "meminfo");
	if (text && !fog_parse_meminfo_used(text, &used))
		out->value[FOG_MONITOR_MEMORY] = used;

	for (int i = 0; i < 3; i++) {
		char rel[32];
		__u64 t;

		snprintf(rel, sizeof(rel), "pressure/%s", psi_files[i]);
		text = slurp(s, s->proc, rel);
		if (!text || fog_parse_psi_some_total(text, &t)) {
			s->have_psi[i] = false;
			continue;
		}
		if (s->have_psi[i] && dt > 0) {
			double share = fmin(1, (double)grew(t, s->psi[i]) / 1e6 / dt);

			if (isnan(out->value[FOG_MONITOR_PSI]) ||
			    share > out->value[FOG_MONITOR_PSI])
				out->value[FOG_MONITOR_PSI] = share;
		}
		s->psi[i] = t;
		s->have_psi[i] = true;
	}

	text = slurp(s, s->proc, "schedstat");
	if (text && !fog_parse_schedstat(text, &run_delay, &slices)) {
		if (s->have_sched && slices >= s->timeslices)
			out->value[FOG_MONITOR_RUNQ_LATENCY] =
				slices > s->timeslices
					? (double)grew(run_delay, s->run_delay) / 1e9 /
						  (double)(slices - s->timeslices)
					: 0;
		s->run_delay = run_delay;
		s->timeslices = slices;
		s->have_sched = true;
	} else {
		s->have_sched = false;
	}

	read_disks(s, dt, out);
	read_nets(s, dt, out);
	s->t = now;
	s->primed = true;
}
