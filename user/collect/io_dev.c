// SPDX-License-Identifier: GPL-2.0-only
/* Block device numbers, names, rates and JSON for the io collector. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>

#include "base/hist.h"
#include "collect/io_dev.h"

#define IO_MAJOR_MAX 0xfffU	/* 32-bit kernel dev_t: 12 bits of major */
#define IO_TEXT_MAX  (1U << 20) /* the longest sysfs or procfs text read */

int fog_io_dev_make(unsigned int major, unsigned int minor, __u32 *out)
{
	if (major > IO_MAJOR_MAX || minor > FOG_IO_MINOR_MASK)
		return -ERANGE;
	*out = (__u32)major << FOG_IO_MINOR_BITS | minor;
	return 0;
}

int fog_io_dev_from_user(dev_t d, __u32 *out)
{
	unsigned long long ma = major(d), mi = minor(d);

	if (ma > IO_MAJOR_MAX || mi > FOG_IO_MINOR_MASK)
		return -ERANGE;
	return fog_io_dev_make((unsigned int)ma, (unsigned int)mi, out);
}

int fog_io_dev_format(__u32 dev, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u:%u", fog_io_dev_major(dev), fog_io_dev_minor(dev));

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* A decimal number without sign or spaces; *end is left after it. */
static int parse_uint(const char *s, const char **end, unsigned int *out)
{
	unsigned long long v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > 0xffffffffULL)
			return -ERANGE;
	}
	*end = p;
	*out = (unsigned int)v;
	return 0;
}

int fog_io_dev_parse(const char *s, __u32 *out)
{
	unsigned int ma, mi;
	const char *p;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_uint(s, &p, &ma);
	if (err)
		return err;
	if (*p != ':')
		return -EINVAL;
	err = parse_uint(p + 1, &p, &mi);
	if (err)
		return err;
	if (*p != '\0')
		return -EINVAL;
	return fog_io_dev_make(ma, mi, out);
}

static int copy_name(const char *name, size_t n, char *out, size_t len)
{
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)name[i]))
			return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

int fog_io_uevent_devname(const char *text, char *out, size_t len)
{
	static const char key[] = "DEVNAME=";
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);

		if (n >= sizeof(key) - 1 && !memcmp(line, key, sizeof(key) - 1))
			return copy_name(line + sizeof(key) - 1, n - (sizeof(key) - 1), out, len);
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/* Splits one line into at most max whitespace-separated fields; returns how many. */
static int split_fields(const char *line, size_t n, const char **f, size_t *flen, int max)
{
	int nf = 0;
	size_t i = 0;

	while (i < n) {
		while (i < n && isspace((unsigned char)line[i]))
			i++;
		if (i == n)
			break;
		if (nf == max)
			return max + 1;
		f[nf] = line + i;
		while (i < n && !isspace((unsigned char)line[i]))
			i++;
		flen[nf] = (size_t)(line + i - f[nf]);
		nf++;
	}
	return nf;
}

static bool field_is_uint(const char *f, size_t n, unsigned int *out)
{
	const char *end;

	return parse_uint(f, &end, out) == 0 && (size_t)(end - f) == n;
}

static bool field_is_digits(const char *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)f[i]))
			return false;
	return n > 0;
}

int fog_io_partitions_name(const char *text, __u32 dev, char *out, size_t len)
{
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n'), *f[4];
		size_t n = eol ? (size_t)(eol - line) : strlen(line), flen[4];
		unsigned int ma, mi;
		__u32 d;
		int nf = split_fields(line, n, f, flen, 4);

		line = eol ? eol + 1 : NULL;
		/* "major minor #blocks name"; the header and anything malformed is skipped */
		if (nf != 4 || !field_is_uint(f[0], flen[0], &ma) ||
		    !field_is_uint(f[1], flen[1], &mi) || !field_is_digits(f[2], flen[2]))
			continue;
		if (fog_io_dev_make(ma, mi, &d) || d != dev)
			continue;
		return copy_name(f[3], flen[3], out, len);
	}
	return -ENOENT;
}

/* Reads a whole text file into a NUL-terminated buffer the caller frees. */
static int read_text(const char *path, char **out)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nb;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (cap >= IO_TEXT_MAX) {
				err = -EFBIG;
				goto out_free;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_free;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	return 0;

out_free:
	close(fd);
	free(buf);
	return err;
}

int fog_io_dev_name(const char *sysfs_dev_block, const char *partitions, __u32 dev, char *out,
		    size_t len)
{
	char path[512], uevent[4096], *text = NULL;
	int err_sys, err_part, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u:%u/uevent", sysfs_dev_block, fog_io_dev_major(dev),
		 fog_io_dev_minor(dev));
	/* a uevent file is a few lines: read on the stack, as names are re-checked while collecting */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	err_sys = fd < 0 ? -errno : 0;
	if (!err_sys) {
		n = read(fd, uevent, sizeof(uevent) - 1);
		err_sys = n < 0 ? -errno : 0;
		close(fd);
		if (!err_sys) {
			uevent[n] = '\0';
			err_sys = fog_io_uevent_devname(uevent, out, len);
			if (!err_sys)
				return 0;
		}
	}
	err_part = read_text(partitions, &text);
	if (!err_part) {
		err_part = fog_io_partitions_name(text, dev, out, len);
		free(text);
		if (!err_part)
			return 0;
	}
	if (err_part != -ENOENT)
		return err_part;
	return err_sys;
}

__u64 fog_io_dev_ops(const struct fog_io_dev *d)
{
	return d->read_ops + d->write_ops + d->discard_ops + d->flush_ops + d->other_ops;
}

static double rate(__u64 now, __u64 before, double seconds)
{
	return (double)(now >= before ? now - before : now) / seconds;
}

void fog_io_dev_rates(const struct fog_io_dev *now, const struct fog_io_dev *before, double seconds,
		      struct fog_io_dev_rates *out)
{
	if (!(seconds > 0)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	out->read_bytes_per_s = rate(now->read_bytes, before->read_bytes, seconds);
	out->write_bytes_per_s = rate(now->write_bytes, before->write_bytes, seconds);
	out->ops_per_s = rate(fog_io_dev_ops(now), fog_io_dev_ops(before), seconds);
}

json_t *fog_io_dev_json(__u32 dev, const char *name, const struct fog_io_dev *totals,
			const struct fog_io_dev_rates *rates, const struct fog_hist *recent)
{
	char id[FOG_IO_DEV_STR_LEN];
	json_t *o = json_object();

	if (!o)
		return NULL;
	fog_io_dev_format(dev, id, sizeof(id));
	json_object_set_new(o, "dev", json_string(id));
	json_object_set_new(o, "name", name ? json_string(name) : json_null());
	json_object_set_new(o, "read_ops", json_integer((json_int_t)totals->read_ops));
	json_object_set_new(o, "write_ops", json_integer((json_int_t)totals->write_ops));
	json_object_set_new(o, "discard_ops", json_integer((json_int_t)totals->discard_ops));
	json_object_set_new(o, "flush_ops", json_integer((json_int_t)totals->flush_ops));
	json_object_set_new(o, "other_ops", json_integer((json_int_t)totals->other_ops));
	json_object_set_new(o, "errors", json_integer((json_int_t)totals->errors));
	json_object_set_new(o, "read_bytes", json_integer((json_int_t)totals->read_bytes));
	json_object_set_new(o, "write_bytes", json_integer((json_int_t)totals->write_bytes));
	json_object_set_new(o, "discard_bytes", json_integer((json_int_t)totals->discard_bytes));
	json_object_set_new(o, "read_bytes_per_s", json_real(rates->read_bytes_per_s));
	json_object_set_new(o, "write_bytes_per_s", json_real(rates->write_bytes_per_s));
	json_object_set_new(o, "ops_per_s", json_real(rates->ops_per_s));
	json_object_set_new(o, "latency", fog_hist_json(&totals->latency));
	json_object_set_new(o, "latency_last_tick", recent ? fog_hist_json(recent) : json_null());
	return o;
}
