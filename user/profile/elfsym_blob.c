// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the symbol helper sends back: a file's symbols and its line and
 * inline rows as flat blobs, written there and checked field by field here.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include "base/log.h"
#include "base/safe_open.h"
#include "profile/elfsym.h"
#include "profile/elfsym_int.h"

#define BLOB_SYMS_MAGIC 0x424d5953u	/* "SYMB" */
#define BLOB_LINES_MAGIC 0x454e494cu	/* "LINE" */
#define BLOB_VERSION 2u	/* 2: inline rows */
#define BLOB_F_SYMTAB 1u
#define BLOB_F_DEBUG_LINE 2u

struct blob_syms {
	__u32 magic;
	__u32 version;
	__u32 nloads;
	__u32 flags;
	__u64 nsyms;
	__u64 names_len;
	__u64 file_size;
	char build_id[48];
};

struct blob_lines {
	__u32 magic;
	__u32 version;
	__u64 nrows;
	__u64 files_len;
	__u64 ninl;	/* inline rows after the line rows, before the strings */
};

static int blob_put(char **blob, size_t *len, size_t total, const void *hdr, size_t hdr_len)
{
	*blob = malloc(total);
	if (!*blob)
		return -ENOMEM;
	memcpy(*blob, hdr, hdr_len);
	*len = total;
	return 0;
}

int fog_elfsym__serve_symbols(int fd, char **blob, size_t *len)
{
	struct blob_syms h = { .magic = BLOB_SYMS_MAGIC, .version = BLOB_VERSION };
	bool debug_line = false;
	struct fog_elfsym *e;
	size_t total, off;
	int err;

	*blob = NULL;
	*len = 0;
	e = fog_elfsym_parse_symbols(fd, &debug_line);
	if (!e)
		return errno ? -errno : -EINVAL;
	h.nloads = e->nloads;
	h.flags = (e->symtab ? BLOB_F_SYMTAB : 0) | (debug_line ? BLOB_F_DEBUG_LINE : 0);
	h.nsyms = e->nsyms;
	h.names_len = e->names_len;
	h.file_size = e->file_size;
	snprintf(h.build_id, sizeof(h.build_id), "%s", e->build_id);
	total = sizeof(h) + e->nloads * sizeof(struct load) + e->nsyms * sizeof(struct sym) +
		e->names_len;
	err = blob_put(blob, len, total, &h, sizeof(h));
	if (!err) {
		off = sizeof(h);
		memcpy(*blob + off, e->loads, e->nloads * sizeof(struct load));
		off += e->nloads * sizeof(struct load);
		if (e->nsyms)
			memcpy(*blob + off, e->syms, e->nsyms * sizeof(struct sym));
		off += e->nsyms * sizeof(struct sym);
		if (e->names_len)
			memcpy(*blob + off, e->names, e->names_len);
	}
	fog_elfsym__free(e);
	return err;
}

int fog_elfsym__serve_lines(int fd, const char *build_id, char **blob, size_t *len)
{
	struct blob_lines h = { .magic = BLOB_LINES_MAGIC, .version = BLOB_VERSION };
	struct fog_elfsym e = { .dwarf_fd = -1 };
	size_t total;
	int err;

	*blob = NULL;
	*len = 0;
	fog_elfsym_parse_lines(&e, fd, build_id);
	h.nrows = e.nrows;
	h.files_len = e.files_len;
	h.ninl = e.ninl;
	total = sizeof(h) + e.nrows * sizeof(struct line_row) +
		e.ninl * sizeof(struct inline_row) + e.files_len;
	err = blob_put(blob, len, total, &h, sizeof(h));
	if (!err) {
		char *p = *blob + sizeof(h);

		if (e.nrows)
			memcpy(p, e.rows, e.nrows * sizeof(struct line_row));
		p += e.nrows * sizeof(struct line_row);
		if (e.ninl)
			memcpy(p, e.inl, e.ninl * sizeof(struct inline_row));
		p += e.ninl * sizeof(struct inline_row);
		if (e.files_len)
			memcpy(p, e.files, e.files_len);
	}
	free(e.rows);
	free(e.files);
	free(e.inl);
	return err;
}

static bool hex_id(const char *id, size_t max)
{
	size_t n = strnlen(id, max);

	if (n == max || n > 2 * BUILD_ID_MAX || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

struct fog_elfsym *fog_elfsym__from_blob(const char *blob, size_t len, bool *debug_line)
{
	struct blob_syms h;
	struct fog_elfsym *e;
	const char *p;
	size_t need;

	errno = EPROTO;
	if (!blob || len < sizeof(h))
		return NULL;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != BLOB_SYMS_MAGIC || h.version != BLOB_VERSION || h.nloads > MAX_LOADS ||
	    h.nsyms > MAX_SYMS || h.names_len > MAX_FILE_NAME_BYTES ||
	    h.file_size > ELF_MAX_BYTES || (h.flags & ~(BLOB_F_SYMTAB | BLOB_F_DEBUG_LINE)) ||
	    !hex_id(h.build_id, sizeof(h.build_id)))
		return NULL;
	need = sizeof(h) + h.nloads * sizeof(struct load) + h.nsyms * sizeof(struct sym) +
	       h.names_len;
	if (len != need || (h.nsyms && !h.names_len))
		return NULL;
	p = blob + sizeof(h);
	if (h.names_len && p[len - sizeof(h) - 1] != '\0')
		return NULL;	/* the last name ends inside the blob */
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->dwarf_fd = -1;
	e->nloads = h.nloads;
	memcpy(e->loads, p, h.nloads * sizeof(struct load));
	p += h.nloads * sizeof(struct load);
	for (unsigned int i = 0; i < e->nloads; i++)
		if (e->loads[i].offset + e->loads[i].filesz < e->loads[i].offset)
			goto bad;
	e->nsyms = h.nsyms;
	e->names_len = h.names_len;
	e->syms = malloc(h.nsyms ? h.nsyms * sizeof(struct sym) : 1);
	e->names = malloc(h.names_len ? h.names_len : 1);
	if (!e->syms || !e->names) {
		fog_elfsym__free(e);
		errno = ENOMEM;
		return NULL;
	}
	if (h.nsyms)
		memcpy(e->syms, p, h.nsyms * sizeof(struct sym));
	p += h.nsyms * sizeof(struct sym);
	if (h.names_len)
		memcpy(e->names, p, h.names_len);
	for (size_t i = 0; i < e->nsyms; i++)	/* names inside, addresses strictly rising */
		if (e->syms[i].name >= e->names_len ||
		    (i && e->syms[i].addr <= e->syms[i - 1].addr))
			goto bad;
	e->symtab = h.flags & BLOB_F_SYMTAB;
	e->file_size = h.file_size;
	memcpy(e->build_id, h.build_id, sizeof(e->build_id) - 1);
	e->build_id[sizeof(e->build_id) - 1] = '\0';
	*debug_line = h.flags & BLOB_F_DEBUG_LINE;
	errno = 0;
	return e;
bad:
	fog_elfsym__free(e);
	errno = EPROTO;
	return NULL;
}

int fog_elfsym__lines_from_blob(struct fog_elfsym *e, const char *blob, size_t len)
{
	struct blob_lines h;
	struct line_row *rows;
	struct inline_row *inl;
	const char *p;
	char *files;
	size_t need;

	if (!blob || len < sizeof(h))
		return -EPROTO;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != BLOB_LINES_MAGIC || h.version != BLOB_VERSION ||
	    h.nrows > MAX_LINE_ROWS || h.files_len > MAX_FILE_NAME_BYTES ||
	    h.ninl > MAX_INLINE_ROWS)
		return -EPROTO;
	need = sizeof(h) + h.nrows * sizeof(struct line_row) +
	       h.ninl * sizeof(struct inline_row) + h.files_len;
	if (len != need)
		return -EPROTO;
	p = blob + sizeof(h);
	if (h.files_len && p[len - sizeof(h) - 1] != '\0')
		return -EPROTO;
	rows = malloc(h.nrows ? h.nrows * sizeof(*rows) : 1);
	inl = malloc(h.ninl ? h.ninl * sizeof(*inl) : 1);
	files = malloc(h.files_len ? h.files_len : 1);
	if (!rows || !files || !inl) {
		free(rows);
		free(inl);
		free(files);
		return -ENOMEM;
	}
	if (h.nrows)
		memcpy(rows, p, h.nrows * sizeof(*rows));
	p += h.nrows * sizeof(*rows);
	if (h.ninl)
		memcpy(inl, p, h.ninl * sizeof(*inl));
	p += h.ninl * sizeof(*inl);
	if (h.files_len)
		memcpy(files, p, h.files_len);
	for (size_t i = 0; i < h.nrows; i++)	/* a row with a line names a file; sorted */
		if ((rows[i].line && rows[i].file >= h.files_len) ||
		    (i && fog_elfsym_cmp_row(&rows[i - 1], &rows[i]) > 0))
			goto bad;
	/* an inline row names strings inside the pool, spans something, sorted, depth >= 1 */
	for (size_t i = 0; i < h.ninl; i++)
		if (inl[i].func >= h.files_len || inl[i].hi <= inl[i].lo || !inl[i].depth ||
		    inl[i].depth > MAX_DIE_DEPTH ||
		    (inl[i].call_file != ~0u && inl[i].call_file >= h.files_len) ||
		    (i && fog_elfsym_cmp_inline(&inl[i - 1], &inl[i]) > 0))
			goto bad;
	free(e->rows);
	free(e->files);
	free(e->inl);
	e->inl = inl;
	e->ninl = h.ninl;
	e->rows = rows;
	e->nrows = h.nrows;
	e->files = files;
	e->files_len = h.files_len;
	return 0;
bad:
	free(rows);
	free(inl);
	free(files);
	return -EPROTO;
}
