// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening a segment log: the segments in the folder in order, each checked
 * record by record; a torn or corrupt tail is cut (and counted), a file that
 * is not a segment removed, a segment a merge left behind dropped.
 */
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

static int index_rec(const struct fog_seg_rec *r, void *ctx)
{
	struct seg *s = ctx;
	struct seg_entry e = {.seq = r->seq,
			      .ts_ms = r->ts_ms,
			      .off = (__u32)r->off,
			      .len = r->len,
			      .samples = r->samples};

	return fog_seg_push(s, &e);
}

static int cmp_name(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->name < y->name ? -1 : x->name > y->name;
}

static void load_ack(struct fog_seglog *l)
{
	char buf[128];
	unsigned long long lo, lf, hi;
	int fd = openat(l->dirfd, "ack", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &lo, &lf, &hi) != 3 || lf < lo || hi < lf)
		return;
	l->ack = (struct fog_seglog_ack){lo, lf, hi};
}

static int mkdir_p(const char *dir)
{
	char p[512];

	if (strlen(dir) >= sizeof(p))
		return -ENAMETOOLONG;
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The folder's segment files, by number; 0 or a negative errno. */
static int list_segments(struct fog_seglog *l)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = fdopendir(dup(l->dirfd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long long v;

		if (strlen(de->d_name) != 24 || strcmp(de->d_name + 20, ".seg"))
			continue;
		errno = 0;
		v = strtoull(de->d_name, &end, 10);
		if (errno || end != de->d_name + 20)
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct seg *ns = realloc(l->segs, cap * sizeof(*ns));

			if (!ns) {
				err = -ENOMEM;
				break;
			}
			l->segs = ns;
			l->cap = cap;
		}
		l->segs[l->n++] = (struct seg){.name = v};
	}
	closedir(d);
	if (!err && l->n > 1)
		qsort(l->segs, l->n, sizeof(*l->segs), cmp_name);
	return err;
}

/*
 * Checks every segment record by record: a file that is not a segment is
 * removed, a segment a merge left behind dropped, a bad tail cut (torn when it
 * is the newest's); counted in rep. 0 or a negative errno.
 */
static int check_segments(struct fog_seglog *l, struct fog_seglog_open_report *rep)
{
	int err;

	for (size_t i = 0; i < l->n;) {
		struct seg *s = &l->segs[i];
		char name[40];
		unsigned char *b = NULL;
		size_t len = 0, valid;
		enum fog_seg_stop stop;

		fog_seg_file(name, sizeof(name), s->name, "");
		err = fog_seg_read_file(l->dirfd, name, &b, &len);
		if (err && err != -EINVAL)
			return err;
		valid = err ? 0 : fog_seg_parse(b, len, &s->level, &stop, index_rec, s);
		free(b);
		if (err || stop == FOG_SEG_BAD_HEADER) {
			/* not a segment of ours: nothing in it can be read back */
			rep->corrupt++;
			rep->cut_bytes += len;
			unlinkat(l->dirfd, name, 0);
			free(s->e);
			memmove(s, s + 1, (l->n - i - 1) * sizeof(*s));
			l->n--;
			err = 0;
			continue;
		}
		/* records must follow the previous segment's */
		if (i > 0 && s->n && l->segs[i - 1].n &&
		    s->e[s->n - 1].seq <= l->segs[i - 1].e[l->segs[i - 1].n - 1].seq) {
			/* left behind by a merge into the previous one (a crash in between) */
			unlinkat(l->dirfd, name, 0);
			free(s->e);
			memmove(s, s + 1, (l->n - i - 1) * sizeof(*s));
			l->n--;
			continue;
		}
		if (i > 0 && s->n && l->segs[i - 1].n &&
		    s->e[0].seq <= l->segs[i - 1].e[l->segs[i - 1].n - 1].seq) {
			valid = FOG_SEG_HDR_LEN;
			s->n = 0;
			stop = FOG_SEG_CORRUPT;
		}
		if (stop != FOG_SEG_END || valid < len) {
			int fd = openat(l->dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

			/*
			 * the newest segment's bad tail is what a crash leaves (a record cut
			 * short, or blocks of zeros the file system allocated before the data)
			 */
			if (stop == FOG_SEG_TORN || i + 1 == l->n)
				rep->torn++;
			else
				rep->corrupt++;
			rep->cut_bytes += len - valid;
			if (fd >= 0) {
				if (ftruncate(fd, (off_t)valid) == 0)
					fdatasync(fd);
				close(fd);
			}
		}
		s->size = valid < FOG_SEG_HDR_LEN ? FOG_SEG_HDR_LEN : valid;
		i++;
	}
	return 0;
}

struct fog_seglog *fog_seglog__open(const char *dir, size_t seg_max,
				    struct fog_seglog_open_report *rep)
{
	struct fog_seglog *l = calloc(1, sizeof(*l));
	int err;

	*rep = (struct fog_seglog_open_report){0};
	if (!l)
		return NULL;
	l->wfd = l->rfd = -1;
	l->seg_max = seg_max;
	err = mkdir_p(dir);
	if (err)
		goto fail;
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	load_ack(l);
	err = list_segments(l);
	if (!err)
		err = check_segments(l, rep);
	if (err)
		goto fail;
	for (size_t i = 0; i < l->n; i++) {
		struct seg *s = &l->segs[i];

		if (s->n && s->e[s->n - 1].seq + 1 > l->next_seq)
			l->next_seq = s->e[s->n - 1].seq + 1;
	}
	/* acknowledged numbers are never reused, even when their segments are gone */
	if (l->ack.hi > l->next_seq)
		l->next_seq = l->ack.hi;
	if (l->ack.lo > l->next_seq)
		l->next_seq = l->ack.lo;
	l->synced_end = l->next_seq;
	if (l->n) {
		struct seg *s = &l->segs[l->n - 1];
		char name[40];

		fog_seg_file(name, sizeof(name), s->name, "");
		if (s->level == 0 && s->size < seg_max)
			l->wfd = openat(l->dirfd, name,
					O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	}
	return l;
fail:
	fog_seglog__free(l);
	errno = -err;
	return NULL;
}
