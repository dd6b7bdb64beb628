// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "uplink/seglog.h"
#include "uplink/seglog_int.h"

int fog_seg_push(struct seg *s, const struct seg_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct seg_entry *ne = realloc(s->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		s->e = ne;
		s->cap = cap;
	}
	s->e[s->n++] = *e;
	return 0;
}

void fog_seg_file(char *name, size_t len, __u64 n, const char *suffix)
{
	snprintf(name, len, "%020" PRIu64 ".seg%s", (uint64_t)n, suffix);
}

bool fog_seg_acked(const struct fog_seglog_ack *a, __u64 seq)
{
	return seq < a->lo || (seq >= a->live_from && seq < a->hi);
}

/* Reads a whole file (at most FOG_SEG_MAX_FILE bytes) into a malloc'd buffer. */
int fog_seg_read_file(int dirfd, const char *name, unsigned char **out, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	unsigned char *b;
	size_t n = 0, want;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	want = st.st_size > FOG_SEG_MAX_FILE ? FOG_SEG_MAX_FILE : (size_t)st.st_size;
	b = malloc(want ? want : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (n < want) {
		ssize_t r = read(fd, b + n, want - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = b;
	*len = n;
	return 0;
}

void fog_seglog__free(struct fog_seglog *l)
{
	if (!l)
		return;
	if (l->wfd >= 0) {
		if (l->dirty)
			fdatasync(l->wfd);
		close(l->wfd);
	}
	if (l->rfd >= 0)
		close(l->rfd);
	if (l->dirfd > 0)
		close(l->dirfd);
	for (size_t i = 0; i < l->n; i++)
		free(l->segs[i].e);
	free(l->segs);
	free(l->buf);
	free(l);
}

static int write_all(int fd, const struct iovec *iov, int n, size_t total)
{
	struct iovec v[4];
	size_t done = 0;

	memcpy(v, iov, (size_t)n * sizeof(*v));
	while (done < total) {
		ssize_t r = writev(fd, v, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
		/* advance the vectors past what was written */
		while (n && (size_t)r >= v[0].iov_len) {
			r -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, (size_t)(n - 1) * sizeof(*v));
			n--;
		}
		if (n && r) {
			v[0].iov_base = (char *)v[0].iov_base + r;
			v[0].iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int new_segment(struct fog_seglog *l, __u32 level)
{
	char hdr[FOG_SEG_HDR_LEN] = FOG_SEG_MAGIC;
	struct iovec v = {hdr, sizeof(hdr)};
	char name[40];
	int fd, err;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct seg *ns = realloc(l->segs, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		l->segs = ns;
		l->cap = cap;
	}
	if (l->n && l->segs[l->n - 1].name >= l->next_seq)
		return -EEXIST; /* an empty newest segment already has this name */
	memcpy(hdr + 8, &level, sizeof(level));
	fog_seg_file(name, sizeof(name), l->next_seq, "");
	fd = openat(l->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, &v, 1, sizeof(hdr));
	if (!err && fdatasync(fd))
		err = -errno;
	if (!err && fsync(l->dirfd))
		err = -errno;
	if (err) {
		close(fd);
		unlinkat(l->dirfd, name, 0);
		return err;
	}
	l->segs[l->n++] = (struct seg){.name = l->next_seq, .size = sizeof(hdr)};
	l->wfd = fd;
	return 0;
}

int fog_seglog__append(struct fog_seglog *l, __s64 ts_ms, __u32 samples, const void *data,
		       __u32 len, __u64 *seq)
{
	struct fog_seg_rec_hdr h;
	struct iovec v[2];
	struct seg *s;
	struct seg_entry e;
	int err;

	if (len > FOG_SEG_REC_MAX)
		return -EMSGSIZE;
	s = l->n ? &l->segs[l->n - 1] : NULL;
	if (l->wfd >= 0 && s && s->n && s->size + sizeof(h) + len > l->seg_max) {
		/* rotate: the full segment is made durable before the next one starts */
		if (l->dirty && fdatasync(l->wfd))
			return -errno;
		l->dirty = false;
		l->synced_end = l->next_seq;
		close(l->wfd);
		l->wfd = -1;
	}
	if (l->wfd < 0) {
		err = new_segment(l, 0);
		if (err)
			return err;
	}
	s = &l->segs[l->n - 1];
	fog_seg_rec_hdr_fill(&h, l->next_seq, ts_ms, samples, data, len);
	v[0] = (struct iovec){&h, sizeof(h)};
	v[1] = (struct iovec){(void *)data, len};
	err = write_all(l->wfd, v, 2, sizeof(h) + len);
	if (err) {
		/* a part written (a full disk) is cut, so the file stays whole records */
		if (ftruncate(l->wfd, (off_t)s->size))
			err = err ?: -errno;
		/*
		 * and the segment is closed: once acknowledged it can go, making room
		 * (the segment being written is never removed)
		 */
		if (s->n) {
			if (l->dirty)
				fdatasync(l->wfd);
			l->dirty = false;
			l->synced_end = l->next_seq;
			close(l->wfd);
			l->wfd = -1;
		}
		return err;
	}
	e = (struct seg_entry){.seq = l->next_seq,
			       .ts_ms = ts_ms,
			       .off = (__u32)s->size,
			       .len = len,
			       .samples = samples};
	err = fog_seg_push(s, &e);
	if (err)
		return err;
	s->size += sizeof(h) + len;
	*seq = l->next_seq++;
	l->dirty = true;
	return 0;
}

int fog_seglog__sync(struct fog_seglog *l)
{
	if (!l->dirty) {
		l->synced_end = l->next_seq;
		return 0;
	}
	if (l->wfd >= 0 && fdatasync(l->wfd))
		return -errno;
	l->dirty = false;
	l->synced_end = l->next_seq;
	return 0;
}

__u64 fog_seglog__synced_end(const struct fog_seglog *l)
{
	return l->synced_end;
}

__u64 fog_seglog__end(const struct fog_seglog *l)
{
	return l->next_seq;
}

/* Segments not being written: all but the newest while it is open for appending. */
static size_t closed(const struct fog_seglog *l)
{
	return l->wfd >= 0 && l->n ? l->n - 1 : l->n;
}

/* First entry of s with seq >= from, or s->n. */
static size_t entry_at(const struct seg *s, __u64 from)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->e[mid].seq < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int read_entry(struct fog_seglog *l, const struct seg *s, const struct seg_entry *e)
{
	struct fog_seg_rec_hdr h;
	size_t need = sizeof(h) + e->len;
	ssize_t r;

	if (l->rfd < 0 || l->rfd_name != s->name) {
		char name[40];

		if (l->rfd >= 0)
			close(l->rfd);
		fog_seg_file(name, sizeof(name), s->name, "");
		l->rfd = openat(l->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (l->rfd < 0)
			return -errno;
		l->rfd_name = s->name;
	}
	if (need > l->buf_cap) {
		unsigned char *nb = realloc(l->buf, need);

		if (!nb)
			return -ENOMEM;
		l->buf = nb;
		l->buf_cap = need;
	}
	r = pread(l->rfd, l->buf, need, e->off);
	if (r < 0)
		return -errno;
	if ((size_t)r != need)
		return -EBADMSG;
	memcpy(&h, l->buf, sizeof(h));
	if (h.magic != FOG_SEG_REC_MAGIC || h.seq != e->seq || h.len != e->len ||
	    fog_seg_crc(&h, l->buf + sizeof(h)) != h.crc)
		return -EBADMSG;
	return 0;
}

int fog_seglog__next(struct fog_seglog *l, __u64 from, __u64 to, struct fog_seg_rec *r,
		     unsigned long long *bad)
{
	for (size_t i = 0; i < l->n; i++) {
		struct seg *s = &l->segs[i];

		if (!s->n || s->e[s->n - 1].seq < from)
			continue;
		for (size_t j = entry_at(s, from); j < s->n; j++) {
			const struct seg_entry *e = &s->e[j];
			int err;

			if (e->seq >= to)
				return -ENOENT;
			err = read_entry(l, s, e);
			if (err == -ENOMEM)
				return err;
			if (err) {
				(*bad)++;
				continue;
			}
			*r = (struct fog_seg_rec){.seq = e->seq,
						  .ts_ms = e->ts_ms,
						  .samples = e->samples,
						  .len = e->len,
						  .data = l->buf + sizeof(struct fog_seg_rec_hdr),
						  .off = e->off};
			return 0;
		}
	}
	return -ENOENT;
}

void fog_seglog__get_ack(const struct fog_seglog *l, struct fog_seglog_ack *a)
{
	*a = l->ack;
}

/* Whether every record of s is acknowledged under a. */
static bool seg_acked(const struct seg *s, const struct fog_seglog_ack *a)
{
	size_t j;

	if (!s->n)
		return true;
	j = entry_at(s, a->lo);
	if (j < s->n && s->e[j].seq < a->live_from)
		return false;
	return entry_at(s, a->hi) == s->n;
}

static void remove_seg(struct fog_seglog *l, size_t i)
{
	char name[40];

	fog_seg_file(name, sizeof(name), l->segs[i].name, "");
	unlinkat(l->dirfd, name, 0);
	if (l->rfd >= 0 && l->rfd_name == l->segs[i].name) {
		close(l->rfd);
		l->rfd = -1;
	}
	free(l->segs[i].e);
	memmove(&l->segs[i], &l->segs[i + 1], (l->n - i - 1) * sizeof(*l->segs));
	l->n--;
}

int fog_seglog__set_ack(struct fog_seglog *l, const struct fog_seglog_ack *a)
{
	char buf[96];
	int fd, len, err = 0;

	if (a->live_from < a->lo || a->hi < a->live_from)
		return -EINVAL;
	len = snprintf(buf, sizeof(buf), "%llu %llu %llu\n", (unsigned long long)a->lo,
		       (unsigned long long)a->live_from, (unsigned long long)a->hi);
	fd = openat(l->dirfd, "ack.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len || fdatasync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && renameat(l->dirfd, "ack.tmp", l->dirfd, "ack"))
		err = -errno;
	/*
	 * acknowledged segments go even when the file could not be saved (a full
	 * disk): what they held was received, and removing them makes room
	 */
	l->ack = *a;
	/* the segment being written stays */
	for (size_t i = 0; i < closed(l);) {
		if (seg_acked(&l->segs[i], a))
			remove_seg(l, i);
		else
			i++;
	}
	return err;
}

unsigned long long fog_seglog__bytes(const struct fog_seglog *l)
{
	unsigned long long b = 0;

	for (size_t i = 0; i < l->n; i++)
		b += l->segs[i].size;
	return b;
}

void fog_seglog__backlog(const struct fog_seglog *l, unsigned long long *bytes,
			 unsigned long long *samples, __s64 *oldest_ms)
{
	*bytes = *samples = 0;
	*oldest_ms = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct seg *s = &l->segs[i];

		for (size_t j = entry_at(s, l->ack.lo); j < s->n; j++) {
			if (fog_seg_acked(&l->ack, s->e[j].seq))
				continue;
			*bytes += sizeof(struct fog_seg_rec_hdr) + s->e[j].len;
			*samples += s->e[j].samples;
			if (!*oldest_ms || s->e[j].ts_ms < *oldest_ms)
				*oldest_ms = s->e[j].ts_ms;
		}
	}
}

int fog_seglog__oldest_closed(const struct fog_seglog *l, unsigned int level_below, __u32 *level,
			      unsigned int *run)
{
	for (size_t i = 0; i < closed(l); i++) {
		const struct seg *s = &l->segs[i];

		if (s->level >= level_below || seg_acked(s, &l->ack))
			continue;
		*level = s->level;
		*run = 1;
		while (i + *run < closed(l) && *run < FOG_SEG_REWRITE_MAX &&
		       l->segs[i + *run].level == s->level)
			(*run)++;
		return (int)i;
	}
	return -ENOENT;
}

struct fog_seglog_out {
	int fd;
	struct seg seg;
	__u64 last_seq;
	__u64 lo_seq, hi_seq; /* kept records must stay in the old segment's range */
	int err;
};

int fog_seglog_out_add(struct fog_seglog_out *o, __u64 seq, __s64 ts_ms, __u32 samples,
		       const void *data, __u32 len)
{
	struct fog_seg_rec_hdr h;
	struct iovec v[2];
	struct seg_entry e;
	int err;

	if (o->err)
		return o->err;
	if (seq < o->lo_seq || seq > o->hi_seq || (o->seg.n && seq <= o->last_seq) ||
	    len > FOG_SEG_REC_MAX)
		return o->err = -EINVAL;
	fog_seg_rec_hdr_fill(&h, seq, ts_ms, samples, data, len);
	v[0] = (struct iovec){&h, sizeof(h)};
	v[1] = (struct iovec){(void *)data, len};
	err = write_all(o->fd, v, 2, sizeof(h) + len);
	if (err)
		return o->err = err;
	e = (struct seg_entry){.seq = seq,
			       .ts_ms = ts_ms,
			       .off = (__u32)o->seg.size,
			       .len = len,
			       .samples = samples};
	err = fog_seg_push(&o->seg, &e);
	if (err)
		return o->err = err;
	o->seg.size += sizeof(h) + len;
	o->last_seq = seq;
	return 0;
}

/* Reads the unacknowledged, intact records of s out of its file's bytes b into recs. */
static size_t seg_records(const struct fog_seglog *l, const struct seg *s, const unsigned char *b,
			  size_t len, struct fog_seg_rec *recs)
{
	size_t n = 0;

	for (size_t j = 0; j < s->n; j++) {
		const struct seg_entry *e = &s->e[j];
		struct fog_seg_rec_hdr h;

		if (fog_seg_acked(&l->ack, e->seq) || (size_t)e->off + sizeof(h) + e->len > len)
			continue;
		memcpy(&h, b + e->off, sizeof(h));
		if (h.seq != e->seq || h.len != e->len ||
		    fog_seg_crc(&h, b + e->off + sizeof(h)) != h.crc)
			continue;
		recs[n++] = (struct fog_seg_rec){.seq = e->seq,
						 .ts_ms = e->ts_ms,
						 .samples = e->samples,
						 .len = e->len,
						 .data = b + e->off + sizeof(h),
						 .off = e->off};
	}
	return n;
}

int fog_seglog__rewrite(struct fog_seglog *l, int idx, unsigned int run, __u32 level,
			fog_seglog_rewrite_fn fn, void *ctx)
{
	char name[40], tmp[48];
	char hdr[FOG_SEG_HDR_LEN] = FOG_SEG_MAGIC;
	struct iovec v = {hdr, sizeof(hdr)};
	struct fog_seglog_out o = {.fd = -1};
	struct fog_seg_rec *recs = NULL;
	unsigned char *bufs[FOG_SEG_REWRITE_MAX] = {NULL};
	size_t n = 0, total = 0;
	int err = 0;

	if (idx < 0 || !run || run > FOG_SEG_REWRITE_MAX || (size_t)idx + run > closed(l))
		return -EINVAL;
	for (unsigned int k = 0; k < run; k++)
		total += l->segs[idx + k].n;
	recs = calloc(total ? total : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (unsigned int k = 0; k < run && !err; k++) {
		const struct seg *s = &l->segs[idx + k];
		size_t len = 0;

		fog_seg_file(name, sizeof(name), s->name, "");
		err = fog_seg_read_file(l->dirfd, name, &bufs[k], &len);
		if (!err)
			n += seg_records(l, s, bufs[k], len, recs + n);
	}
	if (err)
		goto out;
	fog_seg_file(name, sizeof(name), l->segs[idx].name, "");
	fog_seg_file(tmp, sizeof(tmp), l->segs[idx].name, ".tmp");
	memcpy(hdr + 8, &level, sizeof(level));
	o.fd = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o.fd < 0) {
		err = -errno;
		goto out;
	}
	o.seg = (struct seg){.name = l->segs[idx].name, .level = level, .size = sizeof(hdr)};
	o.lo_seq = l->segs[idx].n ? l->segs[idx].e[0].seq : 0;
	o.hi_seq = o.lo_seq;
	for (unsigned int k = 0; k < run; k++) {
		const struct seg *s = &l->segs[idx + k];

		if (s->n)
			o.hi_seq = s->e[s->n - 1].seq;
	}
	err = write_all(o.fd, &v, 1, sizeof(hdr));
	if (!err)
		err = fn(recs, n, &o, ctx);
	if (!err)
		err = o.err;
	if (!err && fdatasync(o.fd))
		err = -errno;
	/*
	 * the merged file replaces the first; a crash before the others are
	 * removed leaves them behind it, holding only numbers it covers: the
	 * next open removes them as such
	 */
	if (!err && renameat(l->dirfd, tmp, l->dirfd, name))
		err = -errno;
	if (err) {
		unlinkat(l->dirfd, tmp, 0);
		free(o.seg.e);
		goto out;
	}
	for (unsigned int k = run; k-- > 1;)
		remove_seg(l, (size_t)idx + k);
	if (fsync(l->dirfd))
		err = -errno;
	if (l->rfd >= 0 && l->rfd_name == l->segs[idx].name) {
		close(l->rfd);
		l->rfd = -1;
	}
	free(l->segs[idx].e);
	l->segs[idx] = o.seg;
out:
	if (o.fd >= 0)
		close(o.fd);
	free(recs);
	for (unsigned int k = 0; k < FOG_SEG_REWRITE_MAX; k++)
		free(bufs[k]);
	return err;
}

static unsigned long long unacked_samples(const struct seg *s, const struct fog_seglog_ack *a)
{
	unsigned long long n = 0;

	for (size_t j = 0; j < s->n; j++)
		if (!fog_seg_acked(a, s->e[j].seq))
			n += s->e[j].samples;
	return n;
}

int fog_seglog__drop(struct fog_seglog *l, int idx, unsigned long long *samples)
{
	if (idx < 0 || (size_t)idx >= closed(l))
		return -EINVAL;
	*samples = unacked_samples(&l->segs[idx], &l->ack);
	remove_seg(l, (size_t)idx);
	return 0;
}

int fog_seglog__drop_older(struct fog_seglog *l, __s64 before_ms, unsigned long long *samples)
{
	*samples = 0;
	for (size_t i = 0; i < closed(l);) {
		const struct seg *s = &l->segs[i];

		if (s->n && s->e[s->n - 1].ts_ms < before_ms) {
			*samples += unacked_samples(s, &l->ack);
			remove_seg(l, i);
		} else {
			i++;
		}
	}
	return 0;
}
