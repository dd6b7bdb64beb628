// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "base/cgroup.h"
#include "base/log.h"

const char *fog_cgroup_mode_name(enum fog_cgroup_mode mode)
{
	switch (mode) {
	case FOG_CGROUP_V2:
		return "v2";
	case FOG_CGROUP_V1_MEMORY:
		return "v1-memory";
	case FOG_CGROUP_V1_CPU:
		return "v1-cpu";
	}
	return "unknown";
}

/* Does a comma-separated list contain word? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (p[n] == ',' || p[n] == ' ' || p[n] == '\0' || p[n] == '\n'))
			return true;
	return false;
}

/* Reads mount points of cgroup2 and of the v1 memory and cpu hierarchies. */
static void find_mounts(struct fog_cgroup_info *info, char *v2, size_t v2len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	v2[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mnt[256], fstype[64], opts[1024];
		char *dash = strstr(line, " - ");

		/* id parent maj:min root mountpoint options ... - fstype source superopts */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2") && !v2[0])
			snprintf(v2, v2len, "%s", mnt);
		else if (!strcmp(fstype, "cgroup") && has_word(opts, "memory") && !info->v1_memory[0])
			snprintf(info->v1_memory, sizeof(info->v1_memory), "%s", mnt);
		else if (!strcmp(fstype, "cgroup") && has_word(opts, "cpu") && !info->v1_cpu[0])
			snprintf(info->v1_cpu, sizeof(info->v1_cpu), "%s", mnt);
	}
	fclose(f);
}

int fog_cgroup_parse_self(const char *text, enum fog_cgroup_mode mode, char *out, size_t len)
{
	const char *want = mode == FOG_CGROUP_V1_MEMORY ? "memory" :
			   mode == FOG_CGROUP_V1_CPU	? "cpu" : NULL;
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024], *c1, *c2;

		if (l < sizeof(buf)) {
			memcpy(buf, line, l);
			buf[l] = '\0';
			/* hierarchy-id:controllers:path */
			c1 = strchr(buf, ':');
			c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c2) {
				*c1 = '\0';
				*c2 = '\0';
				if ((!want && !strcmp(buf, "0") && c1[1] == '\0') ||
				    (want && has_word(c1 + 1, want))) {
					if (strlen(c2 + 1) >= len)
						return -ENAMETOOLONG;
					strcpy(out, c2 + 1);
					return 0;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

static int read_self(enum fog_cgroup_mode mode, char *out, size_t len)
{
	char text[8192];
	FILE *f = fopen("/proc/self/cgroup", "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return fog_cgroup_parse_self(text, mode, out, len);
}

static bool v2_has(const char *mount, const char *ctrl)
{
	char path[512], buf[512];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", mount);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		found = has_word(buf, ctrl);
	fclose(f);
	return found;
}

int fog_cgroup_detect(const char *want, struct fog_cgroup_info *info)
{
	char v2[256];
	int err;

	memset(info, 0, sizeof(*info));
	find_mounts(info, v2, sizeof(v2));
	if (v2[0]) {
		info->v2_memory = v2_has(v2, "memory");
		info->v2_cpu = v2_has(v2, "cpu");
	}
	if (!strcmp(want, "v2") || (!strcmp(want, "auto") && v2[0] && info->v2_memory)) {
		if (!v2[0])
			return -ENOENT;
		info->mode = FOG_CGROUP_V2;
		snprintf(info->mount, sizeof(info->mount), "%s", v2);
	} else if (!strcmp(want, "v1-memory") || (!strcmp(want, "auto") && info->v1_memory[0])) {
		if (!info->v1_memory[0])
			return -ENOENT;
		info->mode = FOG_CGROUP_V1_MEMORY;
		snprintf(info->mount, sizeof(info->mount), "%s", info->v1_memory);
	} else if (!strcmp(want, "v1-cpu")) {
		if (!info->v1_cpu[0])
			return -ENOENT;
		info->mode = FOG_CGROUP_V1_CPU;
		snprintf(info->mount, sizeof(info->mount), "%s", info->v1_cpu);
	} else if (!strcmp(want, "auto") && v2[0]) {
		info->mode = FOG_CGROUP_V2;
		snprintf(info->mount, sizeof(info->mount), "%s", v2);
	} else {
		return -ENOENT;
	}
	err = read_self(info->mode, info->self, sizeof(info->self));
	if (err)
		snprintf(info->self, sizeof(info->self), "/");
	return 0;
}

__u64 fog_cgroup_id_of(const char *dir)
{
	struct stat st;

	return stat(dir, &st) ? 0 : (__u64)st.st_ino;
}

struct cg_entry {
	__u64 id;	/* 0: free */
	char path[256];
};

struct fog_cgroup_cache {
	struct fog_cgroup_info info;
	struct cg_entry *entries;
	unsigned int size;	/* power of two */
	time_t last_scan;
};

struct fog_cgroup_cache *fog_cgroup_cache__new(const struct fog_cgroup_info *info,
					       unsigned int max_entries)
{
	struct fog_cgroup_cache *c = calloc(1, sizeof(*c));
	unsigned int n = 64;

	if (!c)
		return NULL;
	while (n < 2 * max_entries)
		n <<= 1;
	c->entries = calloc(n, sizeof(*c->entries));
	if (!c->entries) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->size = n;
	c->info = *info;
	return c;
}

void fog_cgroup_cache__free(struct fog_cgroup_cache *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c);
}

static struct cg_entry *slot(struct fog_cgroup_cache *c, __u64 id, bool insert)
{
	unsigned int i = (unsigned int)(id * 11400714819323198485ull >> 40) & (c->size - 1);

	for (unsigned int n = 0; n < c->size; n++, i = (i + 1) & (c->size - 1)) {
		if (c->entries[i].id == id)
			return &c->entries[i];
		if (!c->entries[i].id)
			return insert ? &c->entries[i] : NULL;
	}
	return NULL;
}

static void insert(struct fog_cgroup_cache *c, __u64 id, const char *rel, unsigned int *used)
{
	struct cg_entry *e;

	if (*used >= c->size / 2)
		return; /* full */
	e = slot(c, id, true);
	if (!e)
		return;
	if (!e->id)
		(*used)++;
	e->id = id;
	snprintf(e->path, sizeof(e->path), "%s", *rel ? rel : "/");
}

struct linux_dirent64_ {
	__u64 d_ino;
	__s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Walks the hierarchy with getdents64 into stack buffers: a rescan happens
 * while collecting (on a miss), where fogd allocates nothing.
 */
static void scan_dir(struct fog_cgroup_cache *c, int dfd, char *rel, size_t len, int depth,
		     unsigned int *used)
{
	char buf[4096];
	long n;

	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64_ *d = (struct linux_dirent64_ *)(buf + off);
			size_t nl = strlen(d->d_name);
			struct stat st;
			int fd;

			off += d->d_reclen;
			if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") ||
			    !strcmp(d->d_name, "..") || len + 1 + nl >= 512)
				continue;
			fd = openat(dfd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				continue;
			rel[len] = '/';
			memcpy(rel + len + 1, d->d_name, nl + 1);
			if (!fstat(fd, &st))
				insert(c, (__u64)st.st_ino, rel, used);
			if (depth < 32)
				scan_dir(c, fd, rel, len + 1 + nl, depth + 1, used);
			rel[len] = '\0';
			close(fd);
		}
	}
}

static void rescan(struct fog_cgroup_cache *c)
{
	char rel[512] = "";
	unsigned int used = 0;
	struct stat st;
	int fd;

	memset(c->entries, 0, c->size * sizeof(*c->entries));
	c->last_scan = time(NULL);
	fd = open(c->info.mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st))
		insert(c, (__u64)st.st_ino, "", &used);
	scan_dir(c, fd, rel, 0, 0, &used);
	close(fd);
}

/* A cached path still names the cgroup with that id: removed cgroups drop out. */
static bool still_there(const struct fog_cgroup_cache *c, const struct cg_entry *e)
{
	char path[768];

	snprintf(path, sizeof(path), "%s%s", c->info.mount, strcmp(e->path, "/") ? e->path : "");
	return fog_cgroup_id_of(path) == e->id;
}

const char *fog_cgroup_cache__path(struct fog_cgroup_cache *c, __u64 id)
{
	struct cg_entry *e;
	time_t now;

	if (!id)
		return NULL;
	e = slot(c, id, false);
	if (e && still_there(c, e))
		return e->path;
	now = time(NULL);
	if (now == c->last_scan)
		return NULL; /* rescan at most once a second */
	rescan(c);
	e = slot(c, id, false);
	return e ? e->path : NULL;
}
