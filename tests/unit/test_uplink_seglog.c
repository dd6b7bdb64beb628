// SPDX-License-Identifier: GPL-2.0-only
/* The uplink's segment log, on a real folder under /tmp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "uplink/seglog.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/fog-seglog.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static struct fog_seglog *open_log(struct fx *f, size_t seg_max, struct fog_seglog_open_report *r)
{
	struct fog_seglog_open_report rep;
	struct fog_seglog *l = fog_seglog__open(f->dir, seg_max, r ? r : &rep);

	assert_non_null(l);
	return l;
}

/* Appends n records "rec-<seq>" with ts = 1000 * seq; returns the last seq. */
static __u64 fill(struct fog_seglog *l, int n)
{
	__u64 seq = 0;

	for (int i = 0; i < n; i++) {
		char buf[64];
		int len = snprintf(buf, sizeof(buf), "rec-%llu",
				   (unsigned long long)fog_seglog__end(l));

		assert_int_equal(fog_seglog__append(l, (__s64)fog_seglog__end(l) * 1000, 2, buf,
						    (__u32)len, &seq),
				 0);
	}
	return seq;
}

/* The sequence numbers readable in [from, to). */
static int count_from(struct fog_seglog *l, __u64 from, __u64 to, __u64 *first)
{
	struct fog_seg_rec r;
	unsigned long long bad = 0;
	int n = 0;

	while (!fog_seglog__next(l, from, to, &r, &bad)) {
		char want[64];

		snprintf(want, sizeof(want), "rec-%llu", (unsigned long long)r.seq);
		assert_int_equal(r.len, strlen(want));
		assert_memory_equal(r.data, want, r.len);
		if (!n && first)
			*first = r.seq;
		n++;
		from = r.seq + 1;
	}
	return n;
}

static int files(struct fx *f, const char *sub)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, sub) != NULL;
	closedir(d);
	return n;
}

static void last_segment(struct fx *f, char *path, size_t len)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	char best[256] = "";

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".seg") && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	closedir(d);
	snprintf(path, len, "%s/%.40s", f->dir, best);
}

static void test_append_read_reopen(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 4096, NULL);

	assert_int_equal(fill(l, 300), 299);
	assert_true(files(f, ".seg") > 1); /* rotated by size */
	assert_int_equal(fog_seglog__synced_end(l) < 300, true);
	assert_int_equal(fog_seglog__sync(l), 0);
	assert_int_equal(fog_seglog__synced_end(l), 300);
	assert_int_equal(count_from(l, 0, 300, NULL), 300);
	assert_int_equal(count_from(l, 250, 260, NULL), 10);
	fog_seglog__free(l);
	l = open_log(f, 4096, NULL);
	assert_int_equal(fog_seglog__end(l), 300);
	assert_int_equal(count_from(l, 0, 1000, NULL), 300);
	fill(l, 1);
	assert_int_equal(count_from(l, 0, 1000, NULL), 301);
	fog_seglog__free(l);
}

static void test_ack_removes_and_resumes(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 1024, NULL);
	struct fog_seglog_ack a = {100, 200, 250}, got;
	unsigned long long bytes, samples;
	__s64 oldest;
	__u64 first = 0;
	int before;

	fill(l, 300);
	before = files(f, ".seg");
	assert_int_equal(fog_seglog__set_ack(l, &a), 0);
	assert_true(files(f, ".seg") < before);
	/* unacknowledged: [100, 200) and [250, 300) */
	fog_seglog__backlog(l, &bytes, &samples, &oldest);
	assert_int_equal(samples, 2 * 150);
	assert_int_equal(oldest, 100 * 1000);
	fog_seglog__free(l);
	l = open_log(f, 1024, NULL);
	fog_seglog__get_ack(l, &got);
	assert_memory_equal(&got, &a, sizeof(a));
	assert_int_equal(count_from(l, got.lo, got.live_from, &first), 100);
	assert_int_equal(first, 100);
	/* everything acknowledged, every closed segment gone: numbers are not reused */
	a = (struct fog_seglog_ack){300, 300, 300};
	assert_int_equal(fog_seglog__set_ack(l, &a), 0);
	assert_true(files(f, ".seg") <= 1);
	fog_seglog__free(l);
	l = open_log(f, 1024, NULL);
	assert_true(fog_seglog__end(l) >= 300);
	fog_seglog__free(l);
}

/* What a crash mid-write leaves: a record cut short, or zeros; cut, counted, never read. */
static void test_torn_tail_cut(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 1 << 20, NULL);
	struct fog_seglog_open_report rep;
	char path[128];
	struct stat st;
	off_t size;
	int fd;

	fill(l, 10);
	fog_seglog__free(l);
	last_segment(f, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	size = st.st_size;
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	/* a header whose payload never made it */
	{
		struct fog_seg_rec_hdr h;

		fog_seg_rec_hdr_fill(&h, 10, 10000, 2, "rec-10", 6);
		assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
		assert_int_equal(write(fd, "re", 2), 2);
	}
	close(fd);
	l = open_log(f, 1 << 20, &rep);
	assert_int_equal(rep.torn, 1);
	assert_int_equal(rep.corrupt, 0);
	assert_int_equal(rep.cut_bytes, sizeof(struct fog_seg_rec_hdr) + 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_int_equal(count_from(l, 0, 100, NULL), 10);
	assert_int_equal(fog_seglog__end(l), 10);
	fog_seglog__free(l);

	/* zeros, as a file system that allocated the blocks before the data leaves them */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	{
		char zeros[100] = {0};

		assert_int_equal(write(fd, zeros, sizeof(zeros)), sizeof(zeros));
	}
	close(fd);
	l = open_log(f, 1 << 20, &rep);
	assert_int_equal(rep.torn, 1);
	assert_int_equal(count_from(l, 0, 100, NULL), 10);
	fog_seglog__free(l);
}

/* A flipped byte in an old segment ends it there; the later segments are still read. */
static void test_corrupt_old_segment(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 4096, NULL);
	struct fog_seglog_open_report rep;
	char path[128];
	int fd, n;

	fill(l, 300);
	fog_seglog__free(l);
	snprintf(path, sizeof(path), "%s/%020d.seg", f->dir, 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, FOG_SEG_HDR_LEN + 5 * 40 + 35), 1);
	close(fd);
	l = open_log(f, 4096, &rep);
	assert_int_equal(rep.corrupt, 1);
	assert_int_equal(rep.torn, 0);
	n = count_from(l, 0, 1000, NULL);
	assert_true(n < 300);
	assert_true(n > 150); /* the first segment's other records only */
	fog_seglog__free(l);
	/* a file that is not a segment is removed and counted */
	snprintf(path, sizeof(path), "%s/%020d.seg", f->dir, 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage, not a segment", 22), 22);
	close(fd);
	l = open_log(f, 4096, &rep);
	assert_int_equal(rep.corrupt, 1);
	assert_int_equal(access(path, F_OK), -1);
	fog_seglog__free(l);
}

/* Bytes changed after open are caught when read: skipped and counted. */
static void test_changed_after_open(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 1 << 20, NULL);
	unsigned long long bad = 0;
	struct fog_seg_rec r;
	char path[128];
	int fd;

	fill(l, 3);
	assert_int_equal(fog_seglog__sync(l), 0);
	last_segment(f, path, sizeof(path));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Z", 1, FOG_SEG_HDR_LEN + FOG_SEG_REC_HDR_LEN + 1), 1);
	close(fd);
	assert_int_equal(fog_seglog__next(l, 0, 10, &r, &bad), 0);
	assert_int_equal(r.seq, 1);
	assert_int_equal(bad, 1);
	fog_seglog__free(l);
}

/* Keeps every third record, renumbered nothing: what a downsampling merge does. */
static int keep_thirds(const struct fog_seg_rec *recs, size_t n, struct fog_seglog_out *out,
		       void *ctx)
{
	size_t *seen = ctx;

	*seen += n;
	for (size_t i = 2; i < n; i += 3) {
		int err = fog_seglog_out_add(out, recs[i].seq, recs[i].ts_ms, recs[i].samples,
					     recs[i].data, recs[i].len);

		if (err)
			return err;
	}
	return 0;
}

static void test_rewrite_and_drop(void **state)
{
	struct fx *f = *state;
	struct fog_seglog *l = open_log(f, 1024, NULL);
	unsigned long long bytes0 = 0, samples = 0;
	unsigned int run = 0;
	size_t seen = 0;
	__u32 level = 9;
	int idx, n0, n1;

	fill(l, 300);
	n0 = count_from(l, 0, 1000, NULL);
	bytes0 = fog_seglog__bytes(l);
	idx = fog_seglog__oldest_closed(l, 1, &level, &run);
	assert_int_equal(idx, 0);
	assert_int_equal(level, 0);
	assert_true(run > 1 && run <= FOG_SEG_REWRITE_MAX);
	assert_int_equal(fog_seglog__rewrite(l, idx, run, 1, keep_thirds, &seen), 0);
	assert_true(fog_seglog__bytes(l) < bytes0);
	n1 = count_from(l, 0, 1000, NULL);
	assert_int_equal(n0 - n1, (int)(seen - seen / 3));
	/* the merged segment is at level 1 now: the next level-0 one comes after it */
	idx = fog_seglog__oldest_closed(l, 1, &level, &run);
	assert_int_equal(idx, 1);
	fog_seglog__free(l);
	/* it reads back after a restart, in order */
	l = open_log(f, 1024, NULL);
	assert_int_equal(count_from(l, 0, 1000, NULL), n1);
	idx = fog_seglog__oldest_closed(l, 3, &level, &run);
	assert_int_equal(level, 1);
	assert_int_equal(fog_seglog__drop(l, idx, &samples), 0);
	assert_int_equal(samples, 2 * (seen / 3));
	assert_int_equal(count_from(l, 0, 1000, NULL), n1 - (int)(seen / 3));
	/* the age limit: the closed segments whose newest record is older than record 260 */
	assert_int_equal(fog_seglog__drop_older(l, 260 * 1000, &samples), 0);
	assert_true(samples > 0);
	assert_true(count_from(l, 0, 230, NULL) == 0);
	assert_true(count_from(l, 275, 1000, NULL) == 25);
	fog_seglog__free(l);
}

/* Parsing arbitrary bytes: a segment header, then records until one is not whole. */
static void test_parse(void **state)
{
	unsigned char buf[256] = FOG_SEG_MAGIC;
	struct fog_seg_rec_hdr h;
	enum fog_seg_stop stop;
	__u32 level;
	size_t off = FOG_SEG_HDR_LEN;

	assert_int_equal(fog_seg_parse(buf, 3, &level, &stop, NULL, NULL), 0);
	assert_int_equal(stop, FOG_SEG_TORN);
	assert_int_equal(fog_seg_parse("nonsense-nonsense", 17, &level, &stop, NULL, NULL), 0);
	assert_int_equal(stop, FOG_SEG_BAD_HEADER);
	for (__u64 seq = 5; seq < 8; seq++) {
		fog_seg_rec_hdr_fill(&h, seq, 1, 1, "abc", 3);
		memcpy(buf + off, &h, sizeof(h));
		memcpy(buf + off + sizeof(h), "abc", 3);
		off += sizeof(h) + 3;
	}
	assert_int_equal(fog_seg_parse(buf, off, &level, &stop, NULL, NULL), off);
	assert_int_equal(stop, FOG_SEG_END);
	/* numbers must increase: a repeat is corrupt */
	fog_seg_rec_hdr_fill(&h, 7, 1, 1, "abc", 3);
	memcpy(buf + off, &h, sizeof(h));
	memcpy(buf + off + sizeof(h), "abc", 3);
	assert_int_equal(fog_seg_parse(buf, off + sizeof(h) + 3, &level, &stop, NULL, NULL), off);
	assert_int_equal(stop, FOG_SEG_CORRUPT);
	/* a length beyond the bound is corrupt, not a read past the end */
	fog_seg_rec_hdr_fill(&h, 9, 1, 1, "abc", 3);
	h.len = 0xffffffffu;
	memcpy(buf + off, &h, sizeof(h));
	assert_int_equal(fog_seg_parse(buf, off + sizeof(h) + 3, &level, &stop, NULL, NULL), off);
	assert_int_equal(stop, FOG_SEG_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_removes_and_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_old_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_after_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_and_drop, setup, teardown),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
