// SPDX-License-Identifier: GPL-2.0-only
/* The ELF cache: parsed files by device, inode and change time, within a byte budget. */
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

/* ---- the cache ---- */

struct fog_elfcache {
	struct fog_elfsym **files;
	unsigned int n;
	unsigned int max;
	__u64 clock;
	__u64 hits;
	__u64 reads;
};

struct fog_elfcache *fog_elfcache__new(unsigned int max)
{
	struct fog_elfcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : 1;
	c->files = calloc(c->max, sizeof(*c->files));
	if (!c->files) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void fog_elfcache__free(struct fog_elfcache *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++)
		fog_elfsym__free(c->files[i]);
	free(c->files);
	free(c);
}

/*
 * The identity of a file before it is parsed: device, inode, size and mtime,
 * and the root its debug file would be looked up in. Two paths to the same
 * file (map_files, /proc/PID/root) give the same key; a container's copy of a
 * host library, even with the host's build-id, never shares the host's entry,
 * so nothing a container writes becomes the symbols of a host process.
 */
static int file_key(int fd, int root_fd, char *key, size_t len)
{
	struct stat st, rs = { 0 };

	if (fstat(fd, &st))
		return -errno;
	if (root_fd >= 0 && fstat(root_fd, &rs))
		return -errno;
	snprintf(key, len, "f:%llx:%llx:%llx:%llx.%09ld:r:%llx:%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec, (unsigned long long)rs.st_dev, (unsigned long long)rs.st_ino);
	return 0;
}

/* Memory a cached file holds: its symbols, names and line table. */
static size_t entry_bytes(const struct fog_elfsym *e)
{
	return sizeof(*e) + e->nsyms * sizeof(*e->syms) + e->names_len +
	       e->nrows * sizeof(*e->rows) + e->files_len;
}

static size_t cache_bytes(const struct fog_elfcache *c)
{
	size_t n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		n += entry_bytes(c->files[i]);
	return n;
}

/* Frees the least recently used file nobody holds; false if all are held. */
static bool evict_one(struct fog_elfcache *c)
{
	unsigned int victim = c->n;

	for (unsigned int i = 0; i < c->n; i++)
		if (!c->files[i]->refs && (victim == c->n || c->files[i]->used <
								 c->files[victim]->used))
			victim = i;
	if (victim == c->n)
		return false;
	fog_elfsym__free(c->files[victim]);
	c->files[victim] = c->files[--c->n];
	return true;
}

struct fog_elfsym *fog_elfcache__get_in(struct fog_elfcache *c, int fd, int root_fd)
{
	struct fog_elfsym *e;
	char key[160];
	int err;

	err = file_key(fd, root_fd, key, sizeof(key));
	if (err) {
		errno = -err;
		return NULL;
	}
	for (unsigned int i = 0; i < c->n; i++) {
		e = c->files[i];
		if (!strcmp(e->key, key)) {
			e->refs++;
			e->used = ++c->clock;
			c->hits++;
			return e;
		}
	}
	e = fog_elfsym__read_in(fd, root_fd);
	if (!e)
		return NULL;
	c->reads++;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->refs = 1;
	e->used = ++c->clock;
	/* bounded in files and in bytes (line tables grow an entry after it came in) */
	while (c->n && (c->n == c->max || cache_bytes(c) + entry_bytes(e) > ELFCACHE_MAX_BYTES))
		if (!evict_one(c))
			break;
	if (c->n == c->max) {
		/* every slot is held: give the caller a private copy it frees on put */
		e->key[0] = '\0';
		return e;
	}
	c->files[c->n++] = e;
	return e;
}

struct fog_elfsym *fog_elfcache__get(struct fog_elfcache *c, int fd)
{
	return fog_elfcache__get_in(c, fd, -1);
}

void fog_elfcache__put(struct fog_elfcache *c, struct fog_elfsym *e)
{
	if (!e)
		return;
	if (!e->key[0]) {
		fog_elfsym__free(e);
		return;
	}
	if (e->refs)
		e->refs--;
}

unsigned int fog_elfcache__size(const struct fog_elfcache *c)
{
	return c->n;
}

void fog_elfcache__stats(const struct fog_elfcache *c, __u64 *hits, __u64 *reads)
{
	*hits = c->hits;
	*reads = c->reads;
}
