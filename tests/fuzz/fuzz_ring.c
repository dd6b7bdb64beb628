// SPDX-License-Identifier: GPL-2.0-only
/*
 * Continuous-profile snapshot names (user/profile/continuous.c): the ring's
 * file names parsed back when fogd lists its folder (fog_prof_ring_name_time),
 * and names asked for through GET /api/v1/profiles/continuous/NAME
 * (fog_prof_ring__read), on arbitrary bytes.
 * The ring is a folder under FUZZ_TMP holding two snapshots fogd wrote, the
 * CPU profile of an alert, a symlink with a snapshot's name to another file,
 * and files that are not snapshots.
 * Properties: a name that parses is one the ring could have written: "cpu-"
 * or "alert-ID-cpu-" / "alert-ID-offcpu-" (ID 1..20 digits, no leading
 * zero), a UTC stamp that formats back to itself from the time returned, an
 * optional -N of 1..99, the suffix, no '/'; a read succeeds only for "latest"
 * (the newest cpu- snapshot) or a file the ring lists, never for a path, the
 * symlink or another file.
 */
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "base/log.h"
#include "fuzz.h"
#include "profile/ring.h"

static char dir[300];
static struct fog_prof_ring *ring;
static char names[3][64];
#define ALERT_NAME "alert-42-cpu-20231114T221320Z.pb.gz"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	fog_prof_ring__free(ring);
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void touch(const char *name, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ring/%s", dir, name);
	f = fopen(path, "w");
	FUZZ_CHECK(f);
	fputs(text, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char ring_dir[320], err[256], link[400], target[400];
	json_t *j;

	fog_log_set_level(FOG_LOG_ERROR);
	char tmp[PATH_MAX];

	/* the ring wants an absolute folder; run.sh's FUZZ_TMP is relative */
	FUZZ_CHECK(realpath(getenv("FUZZ_TMP") ? getenv("FUZZ_TMP") : "/tmp", tmp));
	snprintf(dir, sizeof(dir), "%.200s/fogd-fuzz-ring.XXXXXX", tmp);
	FUZZ_CHECK(mkdtemp(dir));
	atexit(cleanup);
	snprintf(ring_dir, sizeof(ring_dir), "%s/ring", dir);
	ring = fog_prof_ring__new(ring_dir, 1 << 20, 0, err, sizeof(err));
	if (!ring)
		fprintf(stderr, "fuzz: %s\n", err);
	FUZZ_CHECK(ring);
	FUZZ_CHECK(fog_prof_ring__write(ring, 1700000000, "one", 3, 1700000000, err,
					sizeof(err)) == 0);
	FUZZ_CHECK(fog_prof_ring__write(ring, 1700000000, "two", 3, 1700000000, err,
					sizeof(err)) == 0);
	/* an alert's in the same second: "latest" is still the sampler's newest */
	FUZZ_CHECK(fog_prof_ring__write_as(ring, "alert-42-cpu-", 1700000000, "three!", 6,
					   1700000000, err, sizeof(err)) == 0);
	/* what the ring does not own: a symlink named as a snapshot, other files */
	touch("secret", "not a snapshot");
	touch("cpu-20231114T221320Z.pb.gz.old", "x");
	snprintf(target, sizeof(target), "%s/ring/secret", dir);
	snprintf(link, sizeof(link), "%s/ring/cpu-20200101T000000Z.pb.gz", dir);
	FUZZ_CHECK(symlink(target, link) == 0);
	/* listed again from the folder, as after a restart */
	fog_prof_ring__free(ring);
	ring = fog_prof_ring__new(ring_dir, 1 << 20, 0, err, sizeof(err));
	FUZZ_CHECK(ring);
	j = fog_prof_ring__json(ring);
	FUZZ_CHECK(json_array_size(j) == 3);
	for (size_t i = 0; i < 3; i++)
		snprintf(names[i], sizeof(names[i]), "%s",
			 json_string_value(json_object_get(json_array_get(j, i), "name")));
	json_decref(j);
	return 0;
}

/* The length of an alert's prefix at name ("alert-ID-cpu-" ...), checked. */
static size_t alert_prefix(const char *name)
{
	size_t al = strlen(FOG_PROF_RING_ALERT_PREFIX), d = 0;
	const char *p = name + al;

	FUZZ_CHECK(!strncmp(name, FOG_PROF_RING_ALERT_PREFIX, al));
	while (p[d] >= '0' && p[d] <= '9')
		d++;
	FUZZ_CHECK(d >= 1 && d <= 20 && p[0] != '0' && p[d] == '-');
	p += d + 1;
	FUZZ_CHECK(!strncmp(p, "cpu-", 4) || !strncmp(p, "offcpu-", 7));
	return (size_t)(p - name) + (p[0] == 'c' ? 4 : 7);
}

static void check_name(const char *name, time_t t)
{
	size_t pl, len = strlen(name);
	char stamp[32];
	struct tm tm;
	const char *rest;

	FUZZ_CHECK(!strchr(name, '/'));
	pl = !strncmp(name, FOG_PROF_RING_PREFIX, strlen(FOG_PROF_RING_PREFIX)) ?
		     strlen(FOG_PROF_RING_PREFIX) : alert_prefix(name);
	rest = name + pl + 16;
	FUZZ_CHECK(len >= pl + 16 + strlen(FOG_PROF_RING_SUFFIX));
	FUZZ_CHECK(gmtime_r(&t, &tm));
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (strncmp(name + pl, stamp, 16)) {
		fprintf(stderr, "fuzz: '%s' parses to %lld, which is %s\n", name, (long long)t,
			stamp);
		FUZZ_CHECK(!"a snapshot name that is not the stamp of its time");
	}
	if (*rest == '-') {
		int k = atoi(rest + 1);

		FUZZ_CHECK(k >= 1 && k <= 99 && rest[1] != '0');
		rest += k >= 10 ? 3 : 2;
	}
	FUZZ_CHECK(!strcmp(rest, FOG_PROF_RING_SUFFIX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size);
	time_t t = fog_prof_ring_name_time(name);
	void *buf = NULL;
	size_t n = 0;
	int rc;

	if (t >= 0)
		check_name(name, t);
	rc = fog_prof_ring__read(ring, name, &buf, &n);
	if (!strcmp(name, ALERT_NAME)) {
		FUZZ_CHECK(rc == 0 && n == 6);
		free(buf);
	} else if (!strcmp(name, "latest") || !strcmp(name, names[0]) ||
		   !strcmp(name, names[1]) || !strcmp(name, names[2])) {
		FUZZ_CHECK(rc == 0 && n == 3);	/* latest: a sampler's, not the alert's */
		free(buf);
	} else {
		FUZZ_CHECK(rc == -ENOENT);
	}
	free(name);
	return 0;
}
