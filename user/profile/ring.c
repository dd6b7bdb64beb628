// SPDX-License-Identifier: GPL-2.0-only
/* The continuous profiler's on-disk ring of snapshots (see ring.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/log.h"
#include "profile/ring.h"

struct snap {
	char name[64];
	time_t t;
	__u64 bytes;
};

struct fog_prof_ring {
	char dir[256];
	__u64 max_bytes;
	double max_age_s;
	struct snap *v;	/* oldest first */
	size_t n, cap;
	__u64 bytes;
	__u64 removed;
};

/* The time of "STAMP[-N].pb.gz" at p (the rest of a name), or -1. */
static time_t stamp_time(const char *p)
{
	size_t sl = strlen(FOG_PROF_RING_SUFFIX), len = strlen(p);
	struct tm tm = { 0 };
	const char *end;
	char stamp[24];
	time_t t;

	if (len < 16 + sl || strcmp(p + len - sl, FOG_PROF_RING_SUFFIX))
		return -1;
	end = strptime(p, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || end != p + 16)
		return -1;
	/* an optional -N (1..99) tells apart snapshots started in the same second */
	if (end[0] == '-') {
		if (end[1] < '1' || end[1] > '9')
			return -1;
		end += end[2] >= '0' && end[2] <= '9' ? 3 : 2;
	}
	if (strcmp(end, FOG_PROF_RING_SUFFIX))
		return -1;
	/*
	 * only the stamp the ring writes for that time: strptime also takes
	 * spaces for digits, February 31 and second 60, which name other times
	 * (and would make a file the ring does not own one of its snapshots)
	 */
	t = timegm(&tm);
	if (t < 0 || !gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) ||
	    strncmp(stamp, p, 16))
		return -1;
	return t;
}

/* After "alert-": "ID-cpu-" or "ID-offcpu-" (ID 1..20 digits, no leading zero); the rest. */
static const char *alert_rest(const char *p)
{
	size_t digits = 0;

	if (*p < '1' || *p > '9')
		return NULL;
	while (p[digits] >= '0' && p[digits] <= '9')
		digits++;
	if (digits > 20 || p[digits] != '-')
		return NULL;
	p += digits + 1;
	if (!strncmp(p, "cpu-", 4))
		return p + 4;
	if (!strncmp(p, "offcpu-", 7))
		return p + 7;
	return NULL;
}

time_t fog_prof_ring_name_time(const char *name)
{
	size_t pl = strlen(FOG_PROF_RING_PREFIX), al = strlen(FOG_PROF_RING_ALERT_PREFIX);
	const char *rest;

	if (!strncmp(name, FOG_PROF_RING_PREFIX, pl))
		return stamp_time(name + pl);
	if (strncmp(name, FOG_PROF_RING_ALERT_PREFIX, al))
		return -1;
	rest = alert_rest(name + al);
	return rest ? stamp_time(rest) : -1;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int ring_add(struct fog_prof_ring *r, const char *name, time_t t, __u64 bytes)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct snap *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n] = (struct snap){ .t = t, .bytes = bytes };
	snprintf(r->v[r->n].name, sizeof(r->v[r->n].name), "%s", name);
	r->n++;
	r->bytes += bytes;
	return 0;
}

/* Removes the oldest snapshot; its file may already be gone. */
static void ring_drop_oldest(struct fog_prof_ring *r)
{
	char path[sizeof(r->dir) + 80];

	snprintf(path, sizeof(path), "%s/%s", r->dir, r->v[0].name);
	if (unlink(path) && errno != ENOENT)
		fog_warn("continuous profile: cannot remove %s", path);
	r->bytes -= r->v[0].bytes;
	r->removed++;
	memmove(r->v, r->v + 1, (r->n - 1) * sizeof(*r->v));
	r->n--;
}

/* mkdir -p: parents 0755, the folder itself 0700. */
static int make_dir(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int ring_scan(struct fog_prof_ring *r, char *err, size_t len)
{
	DIR *d = opendir(r->dir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		snprintf(err, len, "cannot read %s: %s", r->dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		struct stat st;
		time_t t;

		/* ".cpu-....pb.gz.tmp": a write that did not finish (fogd died) */
		if (de->d_name[0] == '.' && nl > 5 && !strcmp(de->d_name + nl - 4, ".tmp") &&
		    (!strncmp(de->d_name + 1, FOG_PROF_RING_PREFIX, strlen(FOG_PROF_RING_PREFIX)) ||
		     !strncmp(de->d_name + 1, FOG_PROF_RING_ALERT_PREFIX,
			      strlen(FOG_PROF_RING_ALERT_PREFIX)))) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		t = fog_prof_ring_name_time(de->d_name);
		if (t < 0 || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		rc = ring_add(r, de->d_name, t, (__u64)st.st_size);
		if (rc) {
			snprintf(err, len, "out of memory");
			break;
		}
	}
	closedir(d);
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_snap);
	return rc;
}

struct fog_prof_ring *fog_prof_ring__new(const char *dir, __u64 max_bytes, double max_age_s,
					 char *err, size_t len)
{
	struct fog_prof_ring *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		snprintf(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (dir[0] != '/' || strlen(dir) >= sizeof(r->dir)) {
		snprintf(err, len, "%s: not an absolute path shorter than %zu bytes", dir,
			 sizeof(r->dir));
		rc = -EINVAL;
		goto fail;
	}
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->max_bytes = max_bytes;
	r->max_age_s = max_age_s;
	rc = make_dir(dir);
	if (rc) {
		snprintf(err, len, "cannot create %s: %s", dir, strerror(-rc));
		goto fail;
	}
	rc = ring_scan(r, err, len);
	if (rc)
		goto fail;
	return r;
fail:
	fog_prof_ring__free(r);
	errno = -rc;
	return NULL;
}

void fog_prof_ring__free(struct fog_prof_ring *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}

size_t fog_prof_ring__expire(struct fog_prof_ring *r, time_t now)
{
	size_t n = 0;

	/* oldest first, while too old or (after a smaller max_bytes) too many bytes */
	while (r->n && ((double)(now - r->v[0].t) > r->max_age_s || r->bytes > r->max_bytes)) {
		ring_drop_oldest(r);
		n++;
	}
	return n;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool ring_has(const struct fog_prof_ring *r, const char *name)
{
	for (size_t i = r->n; i-- > 0;)
		if (!strcmp(r->v[i].name, name))
			return true;
	return false;
}

int fog_prof_ring__write(struct fog_prof_ring *r, time_t t, const void *buf, size_t n, time_t now,
			 char *err, size_t len)
{
	return fog_prof_ring__write_as(r, FOG_PROF_RING_PREFIX, t, buf, n, now, err, len);
}

int fog_prof_ring__write_as(struct fog_prof_ring *r, const char *prefix, time_t t, const void *buf,
			    size_t n, time_t now, char *err, size_t len)
{
	char name[sizeof(r->v[0].name)], path[sizeof(r->dir) + 80], tmp[sizeof(r->dir) + 80];
	char stamp[24];
	struct tm tm;
	int fd, rc;

	if (n > r->max_bytes) {
		snprintf(err, len, "a snapshot of %zu bytes is larger than max_bytes (%llu): "
			 "not kept", n, (unsigned long long)r->max_bytes);
		return -EFBIG;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(name, sizeof(name), "%s%s%s", prefix, stamp, FOG_PROF_RING_SUFFIX);
	for (int k = 1; k < 100 && ring_has(r, name); k++)
		snprintf(name, sizeof(name), "%s%s-%d%s", prefix, stamp, k, FOG_PROF_RING_SUFFIX);
	/* only names the ring reads back as its own (no paths, no other files') */
	if (fog_prof_ring_name_time(name) != t || ring_has(r, name)) {
		snprintf(err, len, "'%.40s' is not a free snapshot name", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", r->dir, name);
	/* the folder may have gone (or never been creatable): try again each time */
	rc = make_dir(r->dir);
	if (rc) {
		snprintf(err, len, "cannot create %s: %s", r->dir, strerror(-rc));
		return rc;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, len, "cannot create %s: %s", tmp, strerror(-rc));
		return rc;
	}
	rc = write_all(fd, buf, n);
	if (!rc && fdatasync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		snprintf(err, len, "cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	rc = ring_add(r, name, t, n);
	if (rc) {
		snprintf(err, len, "out of memory");
		return rc;
	}
	if (r->n > 1 && r->v[r->n - 1].t < r->v[r->n - 2].t)	/* the clock went back */
		qsort(r->v, r->n, sizeof(*r->v), cmp_snap);
	/* the one just written is the newest and fits by itself: older ones go first */
	fog_prof_ring__expire(r, now);
	return 0;
}

size_t fog_prof_ring__count(const struct fog_prof_ring *r)
{
	return r->n;
}

__u64 fog_prof_ring__bytes(const struct fog_prof_ring *r)
{
	return r->bytes;
}

__u64 fog_prof_ring__removed(const struct fog_prof_ring *r)
{
	return r->removed;
}

json_t *fog_prof_ring__json(const struct fog_prof_ring *r)
{
	json_t *a = json_array();

	for (size_t i = r->n; a && i-- > 0;) {
		char when[32];
		struct tm tm;

		gmtime_r(&r->v[i].t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:I}", "name", r->v[i].name,
						   "time", when, "unix", (json_int_t)r->v[i].t,
						   "bytes", (json_int_t)r->v[i].bytes));
	}
	return a;
}

int fog_prof_ring__read(const struct fog_prof_ring *r, const char *name, void **buf, size_t *n)
{
	const struct snap *s = NULL;
	char path[sizeof(r->dir) + 80];
	struct stat st;
	char *b;
	int fd, rc = 0;
	size_t got = 0;

	for (size_t i = r->n; !strcmp(name, "latest") && !s && i-- > 0;)	/* the sampler's */
		if (!strncmp(r->v[i].name, FOG_PROF_RING_PREFIX, strlen(FOG_PROF_RING_PREFIX)))
			s = &r->v[i];
	for (size_t i = 0; !s && i < r->n; i++)	/* only names of the ring: no paths */
		if (!strcmp(r->v[i].name, name))
			s = &r->v[i];
	if (!s)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", r->dir, s->name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < 0 || (__u64)st.st_size > r->max_bytes) {
		close(fd);
		return -EFBIG;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, b + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)k;
	}
	close(fd);
	if (rc) {
		free(b);
		return rc;
	}
	*buf = b;
	*n = got;
	return 0;
}


int fog_prof_ring__find_newest(const struct fog_prof_ring *r, const char *prefix, char *name,
			       size_t len)
{
	size_t pl = strlen(prefix);

	for (size_t i = r->n; i-- > 0;) {
		if (strncmp(r->v[i].name, prefix, pl))
			continue;
		snprintf(name, len, "%s", r->v[i].name);
		return 0;
	}
	return -ENOENT;
}

int fog_prof_ring__find_alert(const struct fog_prof_ring *r, unsigned long id, bool offcpu,
			      char *name, size_t len)
{
	char pre[48];

	snprintf(pre, sizeof(pre), "%s%lu-%s-", FOG_PROF_RING_ALERT_PREFIX, id,
		 offcpu ? "offcpu" : "cpu");
	return fog_prof_ring__find_newest(r, pre, name, len);
}
