/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The io collector's logic that needs no BPF: block device numbers as the
 * kernel encodes them inside BPF (major << 20 | minor) and as user space
 * writes them ("254:0"), device names from sysfs or /proc/partitions, and
 * per-device rates and JSON.
 */
#ifndef FOG_IO_DEV_H
#define FOG_IO_DEV_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/io.h"

#define FOG_IO_NAME_LEN	   64 /* longest device name kept, with its NUL */
#define FOG_IO_DEV_STR_LEN 24 /* "4095:1048575" and a NUL fit */

/* Parts of a kernel dev_t. */
static inline unsigned int fog_io_dev_major(__u32 dev)
{
	return dev >> FOG_IO_MINOR_BITS;
}

static inline unsigned int fog_io_dev_minor(__u32 dev)
{
	return dev & FOG_IO_MINOR_MASK;
}

/* A kernel dev_t from its parts; -ERANGE when they do not fit (12-bit major, 20-bit minor). */
int fog_io_dev_make(unsigned int major, unsigned int minor, __u32 *out);
/* The kernel dev_t of a user-space dev_t, as stat() returns in st_dev. */
int fog_io_dev_from_user(dev_t d, __u32 *out);
/* Writes "major:minor"; -ENOSPC when buf is too small. */
int fog_io_dev_format(__u32 dev, char *buf, size_t len);
/* Parses "major:minor" (decimal, nothing else around it); -EINVAL or -ERANGE. */
int fog_io_dev_parse(const char *s, __u32 *out);

/*
 * The DEVNAME= value of a sysfs uevent file's text (a name below /dev, such
 * as "vda1" or "cciss/c0d0"). -ENOENT when there is none, -EINVAL when it is
 * empty or holds spaces or control characters, -ENAMETOOLONG when it does
 * not fit.
 */
int fog_io_uevent_devname(const char *text, char *out, size_t len);
/*
 * The name of dev in the text of /proc/partitions ("major minor #blocks
 * name" rows after a header). Malformed rows are skipped; -ENOENT when dev
 * is not listed, -ENAMETOOLONG when the name does not fit.
 */
int fog_io_partitions_name(const char *text, __u32 dev, char *out, size_t len);
/*
 * Resolves dev's name from <sysfs_dev_block>/MAJ:MIN/uevent, then from the
 * partitions file; -ENOENT when neither knows it (the device is gone), other
 * negative errnos when neither could be read.
 */
int fog_io_dev_name(const char *sysfs_dev_block, const char *partitions, __u32 dev, char *out,
		    size_t len);

/* Per-second rates of one device over a tick. */
struct fog_io_dev_rates {
	double read_bytes_per_s;
	double write_bytes_per_s;
	double ops_per_s; /* requests of every class */
};

/* All requests a device completed, of every class. */
__u64 fog_io_dev_ops(const struct fog_io_dev *d);
/*
 * Rates between two readings seconds apart. A counter that went down (the
 * map entry was made again) counts from zero; no interval gives zero rates.
 */
void fog_io_dev_rates(const struct fog_io_dev *now, const struct fog_io_dev *before, double seconds,
		      struct fog_io_dev_rates *out);
/*
 * One element of /api/v1/io "devices": totals since the entry was made,
 * rates and latency over the last tick (recent may be NULL: no tick yet),
 * and the name, null when it could not be resolved.
 */
json_t *fog_io_dev_json(__u32 dev, const char *name, const struct fog_io_dev *totals,
			const struct fog_io_dev_rates *rates, const struct fog_hist *recent);

#endif /* FOG_IO_DEV_H */
