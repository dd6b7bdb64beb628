// SPDX-License-Identifier: GPL-2.0-only
/*
 * A segment file of the uplink's buffer as it may be found after a crash or on
 * a damaged disk: torn, zeroed, overwritten. The bytes are parsed
 * (fog_seg_parse), each record's payload is decompressed and read as a
 * remote-write body and merged as downsampling would, and the same bytes as a
 * file are opened as a segment log and read back.
 * Properties: the valid prefix is within the input and holds only whole
 * records with their checksum and increasing numbers; a payload is either
 * refused (-EBADMSG) or gives a merge that reads back with no more series
 * than it had; the log reads back exactly the records the parse found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "remote.pb-c.h"
#include "uplink/encode.h"
#include "uplink/seglog.h"

struct seen {
	size_t n;
	__u64 last;
	const uint8_t *base;
	size_t len;
};

static int on_rec(const struct fog_seg_rec *r, void *ctx)
{
	struct seen *s = ctx;
	struct fog_seg_rec_hdr h;
	struct fog_rw_buf raw = {0}, merged = {0};
	int rc;

	FUZZ_CHECK(r->off + FOG_SEG_REC_HDR_LEN + r->len <= s->len);
	FUZZ_CHECK((const uint8_t *)r->data == s->base + r->off + FOG_SEG_REC_HDR_LEN);
	FUZZ_CHECK(!s->n || r->seq > s->last);
	memcpy(&h, s->base + r->off, sizeof(h));
	FUZZ_CHECK(fog_seg_crc(&h, r->data) == h.crc);
	s->n++;
	s->last = r->seq;
	/* a bound the fuzzer's memory limit keeps: the reader's own is 64 MiB */
	rc = fog_rw_uncompress(r->data, r->len, 1 << 20, &raw);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
	if (!rc) {
		rc = fog_rw_merge(&raw, &merged);
		FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM || rc == -E2BIG);
		if (!rc && merged.len) {
			Fogrw__WriteRequest *wr =
				fogrw__write_request__unpack(NULL, merged.len, merged.p);

			FUZZ_CHECK(wr != NULL);
			FUZZ_CHECK(wr->n_timeseries == merged.series);
			fogrw__write_request__free_unpacked(wr, NULL);
		}
	}
	free(raw.p);
	free(merged.p);
	return 0;
}

static char dir[256];

static void reopen_as_file(const uint8_t *data, size_t size, enum fog_seg_stop stop, size_t n)
{
	char path[320];
	struct fog_seglog_open_report rep;
	struct fog_seglog *l;
	struct fog_seg_rec r;
	unsigned long long bad = 0;
	size_t got = 0;
	__u64 from = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/00000000000000000000.seg", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	l = fog_seglog__open(dir, 1 << 20, &rep);
	FUZZ_CHECK(l != NULL);
	if (stop == FOG_SEG_BAD_HEADER)
		FUZZ_CHECK(rep.corrupt == 1);
	else if (stop != FOG_SEG_END)
		FUZZ_CHECK(rep.torn == 1);
	while (!fog_seglog__next(l, from, UINT64_MAX, &r, &bad)) {
		got++;
		from = r.seq + 1;
	}
	FUZZ_CHECK(bad == 0);
	FUZZ_CHECK(got == (stop == FOG_SEG_BAD_HEADER ? 0 : n));
	fog_seglog__free(l);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ack", dir);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {.base = data, .len = size};
	enum fog_seg_stop stop;
	__u32 level;
	size_t valid;

	if (!dir[0]) {
		const char *tmp = getenv("FUZZ_TMP");

		snprintf(dir, sizeof(dir), "%s/uplink.XXXXXX", tmp ? tmp : "/tmp");
		FUZZ_CHECK(mkdtemp(dir) != NULL);
	}
	valid = fog_seg_parse(data, size, &level, &stop, on_rec, &s);
	FUZZ_CHECK(valid <= size);
	FUZZ_CHECK(stop == FOG_SEG_END ? valid == size : true);
	if (stop == FOG_SEG_BAD_HEADER)
		FUZZ_CHECK(valid == 0 && s.n == 0);
	else if (valid)
		FUZZ_CHECK(level <= 2);
	if (size <= FOG_SEG_MAX_FILE)
		reopen_as_file(data, size, stop, s.n);
	return 0;
}
