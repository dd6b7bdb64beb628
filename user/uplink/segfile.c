// SPDX-License-Identifier: GPL-2.0-only
/* The segment file format: record headers, their checksum, and reading a file's bytes back. */
#include <string.h>
#include <zlib.h>

#include "uplink/seglog.h"

__u32 fog_seg_crc(const struct fog_seg_rec_hdr *h, const void *data)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, (const Bytef *)h, offsetof(struct fog_seg_rec_hdr, crc));
	if (h->len)
		c = crc32(c, data, h->len);
	return (__u32)c;
}

void fog_seg_rec_hdr_fill(struct fog_seg_rec_hdr *h, __u64 seq, __s64 ts_ms, __u32 samples,
			  const void *data, __u32 len)
{
	*h = (struct fog_seg_rec_hdr){.magic = FOG_SEG_REC_MAGIC,
				      .len = len,
				      .seq = seq,
				      .ts_ms = ts_ms,
				      .samples = samples};
	h->crc = fog_seg_crc(h, data);
}

size_t fog_seg_parse(const void *buf, size_t len, __u32 *level, enum fog_seg_stop *stop,
		     fog_seg_rec_fn fn, void *ctx)
{
	const unsigned char *p = buf;
	size_t off = FOG_SEG_HDR_LEN;
	bool have_prev = false;
	__u64 prev = 0;

	*level = 0;
	if (len < FOG_SEG_HDR_LEN || memcmp(p, FOG_SEG_MAGIC, 8)) {
		*stop = len < FOG_SEG_HDR_LEN && !memcmp(p, FOG_SEG_MAGIC, len < 8 ? len : 8)
				? FOG_SEG_TORN
				: FOG_SEG_BAD_HEADER;
		return 0;
	}
	memcpy(level, p + 8, sizeof(*level));
	if (*level > 2) {
		*stop = FOG_SEG_BAD_HEADER;
		return 0;
	}
	*stop = FOG_SEG_END;
	while (off < len) {
		struct fog_seg_rec_hdr h;
		struct fog_seg_rec r;

		if (len - off < sizeof(h)) {
			*stop = FOG_SEG_TORN;
			break;
		}
		memcpy(&h, p + off, sizeof(h));
		if (h.magic != FOG_SEG_REC_MAGIC || h.len > FOG_SEG_REC_MAX ||
		    (have_prev && h.seq <= prev)) {
			*stop = FOG_SEG_CORRUPT;
			break;
		}
		if (len - off - sizeof(h) < h.len) {
			*stop = FOG_SEG_TORN;
			break;
		}
		if (fog_seg_crc(&h, p + off + sizeof(h)) != h.crc) {
			/* the last record with a wrong sum was being written: torn */
			*stop = off + sizeof(h) + h.len == len ? FOG_SEG_TORN : FOG_SEG_CORRUPT;
			break;
		}
		r = (struct fog_seg_rec){.seq = h.seq,
					 .ts_ms = h.ts_ms,
					 .samples = h.samples,
					 .len = h.len,
					 .data = p + off + sizeof(h),
					 .off = off};
		if (fn && fn(&r, ctx))
			break;
		prev = h.seq;
		have_prev = true;
		off += sizeof(h) + h.len;
	}
	return off;
}
