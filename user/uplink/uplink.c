// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/text.h"
#include "uplink/seglog.h"
#include "uplink/send.h"
#include "uplink/uplink.h"

#define QUEUE_MAX     16	 /* expositions waiting for the thread */
#define BATCH_RAW_MAX (4u << 20) /* uncompressed bytes of one POST at most */
#define WAKE_MS	      100	 /* the thread looks at its timers this often */
#define ROUNDS_MAX    16	 /* POSTs in a row while more is ready */

struct queued {
	char *text;
	size_t len;
	__s64 ts_ms;
};

struct cls {
	struct fog_seglog *log;
	struct fog_seglog_ack ack; /* in memory, saved after each acknowledged POST */
	bool ack_dirty;
};

struct fog_uplink {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int cancel;		    /* set with stop, read by a POST under way (atomically) */
	struct queued q[QUEUE_MAX]; /* under mu */
	unsigned int qh, qn;
	struct fog_uplink_stats pub;		   /* under mu: what fog_uplink__stats copies */
	unsigned long long queue_drops, snapshots; /* under mu */

	/* the options, copied */
	char *url, *dir, *ca_file, *username, *password_file, *bearer_file;
	char **labels;
	struct fog_uplink_opts o;

	/* the thread's own */
	struct cls c[FOG_UPLINK_CLASSES];
	struct fog_rw_client *client;
	struct fog_uplink_stats st;
	double next_sync, retry_at, backoff, tokens, tokens_at, next_publish;
	bool failed_last; /* the last POST is to be retried: what waits is a backlog */
	bool logged_fail, logged_write, logged_corrupt;
	long logged_reject;
	char url_shown[256]; /* redacted */
};

const char *fog_uplink_drop_name(enum fog_uplink_drop d)
{
	static const char *const names[] = {"budget", "age", "rejected", "write", "corrupt"};

	return d < FOG_UPLINK_DROPS ? names[d] : "?";
}

static __s64 now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (__s64)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static __u64 thread_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (__u64)t.tv_sec * 1000000000ull + (__u64)t.tv_nsec;
}

/* The error shown in the status: what, then its detail, cut to fit. */
static void set_error(struct fog_uplink *u, const char *what, const char *detail)
{
	int room = (int)(sizeof(u->st.error) - 1 - strlen(what));

	snprintf(u->st.error, sizeof(u->st.error), "%s%.*s", what, room > 0 ? room : 0, detail);
}

/* ---- writing ---- */

static void append_text(struct fog_uplink *u, const struct queued *q)
{
	struct fog_rw_buf out[FOG_UPLINK_CLASSES] = {0};
	const char *extra[64] = {NULL};
	unsigned int bad = 0;
	__u64 t0 = thread_ns();
	bool failed = false;
	int err;

	for (size_t i = 0; u->labels && u->labels[i] && i < 62; i++)
		extra[i] = u->labels[i];
	err = fog_rw_encode(q->text, q->len, q->ts_ms, extra, out, &bad);
	u->st.bad_lines += bad;
	if (err)
		fog_warnx("uplink: cannot encode a tick's series: %s", strerror(-err));
	for (int c = 0; c < FOG_UPLINK_CLASSES && !err; c++) {
		void *z = NULL;
		size_t zlen = 0;
		__u64 seq;
		int werr;

		if (!out[c].series)
			continue;
		werr = fog_rw_compress(out[c].p, out[c].len, &z, &zlen);
		if (!werr)
			werr = fog_seglog__append(u->c[c].log, q->ts_ms, out[c].series, z,
						  (__u32)zlen, &seq);
		free(z);
		if (werr) {
			u->st.dropped[c][FOG_UPLINK_DROP_WRITE] += out[c].series;
			set_error(u, "cannot write the buffer: ", strerror(-werr));
			if (!u->logged_write)
				fog_warnx(
					"uplink: cannot write to the buffer in %s: %s; the samples "
					"not written are counted as dropped (logged once until a "
					"whole tick is written)",
					u->dir, strerror(-werr));
			u->logged_write = true;
			failed = true;
			continue;
		}
		u->st.appended_samples += out[c].series;
	}
	/* a whole tick written: the buffer works again (one class's write is not enough) */
	if (!err && !failed && u->logged_write) {
		fog_info("uplink: writing to the buffer again");
		u->logged_write = false;
	}
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		free(out[c].p);
	u->st.append_ns += thread_ns() - t0;
}

static void sync_all(struct fog_uplink *u)
{
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		int err = fog_seglog__sync(u->c[c].log);

		if (err && !u->logged_write) {
			fog_warnx("uplink: cannot sync the buffer in %s: %s", u->dir,
				  strerror(-err));
			u->logged_write = true;
		}
	}
}

static void save_acks(struct fog_uplink *u)
{
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		int err;

		if (!u->c[c].ack_dirty)
			continue;
		err = fog_seglog__set_ack(u->c[c].log, &u->c[c].ack);
		if (err) {
			if (!u->logged_write)
				fog_warnx("uplink: cannot save what was acknowledged in %s: %s",
					  u->dir, strerror(-err));
			u->logged_write = true;
			continue;
		}
		u->c[c].ack_dirty = false;
	}
}

/* ---- the budget: merge to coarser steps, then remove the oldest ---- */

struct merge_ctx {
	struct fog_uplink *u;
	int cls;
	__s64 step_ms;
};

static int merge_segment(const struct fog_seg_rec *recs, size_t n, struct fog_seglog_out *out,
			 void *arg)
{
	struct merge_ctx *m = arg;
	struct fog_uplink *u = m->u;

	for (size_t i = 0; i < n;) {
		struct fog_rw_buf raw = {0}, merged = {0};
		__s64 win = recs[i].ts_ms / m->step_ms;
		unsigned long long in = 0;
		void *z = NULL;
		size_t zlen = 0, j;
		int err = 0;

		for (j = i; j < n && recs[j].ts_ms / m->step_ms == win; j++) {
			if (fog_rw_uncompress(recs[j].data, recs[j].len, FOG_RW_MAX_RAW, &raw)) {
				u->st.dropped[m->cls][FOG_UPLINK_DROP_CORRUPT] += recs[j].samples;
				continue;
			}
			in += recs[j].samples;
		}
		if (raw.len)
			err = fog_rw_merge(&raw, &merged);
		if (!err && merged.series)
			err = fog_rw_compress(merged.p, merged.len, &z, &zlen);
		if (!err && merged.series)
			err = fog_seglog_out_add(out, recs[j - 1].seq, recs[j - 1].ts_ms,
						 merged.series, z, (__u32)zlen);
		if (!err && in > merged.series)
			u->st.downsampled[m->cls] += in - merged.series;
		free(z);
		free(raw.p);
		free(merged.p);
		if (err)
			return err;
		i = j;
	}
	return 0;
}

static unsigned long long disk_bytes(const struct fog_uplink *u)
{
	unsigned long long b = 0;

	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		b += fog_seglog__bytes(u->c[c].log);
	return b;
}

/* One step toward the budget; false when nothing more can be done. */
static bool shrink_once(struct fog_uplink *u)
{
	static const int merged_classes[] = {FOG_UPLINK_DETAIL, FOG_UPLINK_HOST};
	static const int drop_order[] = {FOG_UPLINK_DETAIL, FOG_UPLINK_HOST, FOG_UPLINK_ALERT};
	unsigned long long n;
	unsigned int run;
	__u32 level;

	/* alert series are never merged: they arrive whole or, last of all, not at all */
	for (unsigned int below = 1; below <= 2; below++) {
		for (size_t k = 0; k < 2; k++) {
			int c = merged_classes[k];
			int idx = fog_seglog__oldest_closed(u->c[c].log, below, &level, &run);
			struct merge_ctx m = {u, c, 0};
			int err;

			if (idx < 0)
				continue;
			m.step_ms = (__s64)((level == 0 ? u->o.step_s : u->o.coarse_step_s) * 1000);
			if (m.step_ms < 1)
				m.step_ms = 1;
			err = fog_seglog__rewrite(u->c[c].log, idx, run, level + 1, merge_segment,
						  &m);
			if (!err)
				return true;
			fog_warnx("uplink: cannot downsample a %s segment: %s; it is removed",
				  fog_uplink_class_name(c), strerror(-err));
			if (!fog_seglog__drop(u->c[c].log, idx, &n))
				u->st.dropped[c][FOG_UPLINK_DROP_BUDGET] += n;
			return true;
		}
	}
	for (size_t k = 0; k < 3; k++) {
		int c = drop_order[k];
		int idx = fog_seglog__oldest_closed(u->c[c].log, 3, &level, &run);

		if (idx < 0)
			continue;
		if (!fog_seglog__drop(u->c[c].log, idx, &n))
			u->st.dropped[c][FOG_UPLINK_DROP_BUDGET] += n;
		return true;
	}
	return false;
}

static void enforce_limits(struct fog_uplink *u)
{
	__s64 before = now_ms() - (__s64)(u->o.max_age_s * 1000);

	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		unsigned long long n = 0;

		fog_seglog__drop_older(u->c[c].log, before, &n);
		u->st.dropped[c][FOG_UPLINK_DROP_AGE] += n;
	}
	for (int i = 0; i < 256 && disk_bytes(u) > u->o.max_bytes; i++)
		if (!shrink_once(u))
			break;
}

/* ---- sending ---- */

struct batch {
	struct fog_rw_buf raw;
	unsigned long long samples[FOG_UPLINK_CLASSES];
	__u64 new_hi[FOG_UPLINK_CLASSES], new_lo[FOG_UPLINK_CLASSES];
	unsigned int records;
	double tokens_used;
};

static void normalize(struct fog_seglog_ack *a)
{
	/* the backlog caught up with the live part: everything below hi is acknowledged */
	if (a->lo >= a->live_from)
		a->lo = a->live_from = a->hi;
}

/*
 * Adds the records of class c in [from, to) to b while they fit (and, for
 * the backlog, while tokens last); *next is one past the last one looked at.
 */
static void add_range(struct fog_uplink *u, struct batch *b, int c, __u64 from, __u64 to,
		      bool backlog, __u64 *next)
{
	struct fog_seg_rec r;
	unsigned long long bad = 0;

	*next = from;
	for (;;) {
		size_t before = b->raw.len;
		int err;

		if (backlog && u->tokens - b->tokens_used <= 0)
			break;
		if (b->raw.len >= BATCH_RAW_MAX)
			break;
		err = fog_seglog__next(u->c[c].log, *next, to, &r, &bad);
		if (err) {
			if (err == -ENOENT)
				*next = to; /* all of it was looked at */
			break;
		}
		if (fog_rw_uncompress(r.data, r.len, FOG_RW_MAX_RAW, &b->raw)) {
			b->raw.len = before;
			bad++;
		} else {
			b->samples[c] += r.samples;
			b->records++;
			if (backlog)
				b->tokens_used += r.len + FOG_SEG_REC_HDR_LEN;
		}
		*next = r.seq + 1;
	}
	if (bad) {
		/* a record's samples are not known once its bytes are not: counted per record */
		u->st.dropped[c][FOG_UPLINK_DROP_CORRUPT] += bad;
		if (!u->logged_corrupt)
			fog_warnx("uplink: %llu %s record(s) in %s changed on disk since they were "
				  "written; skipped (logged once)",
				  bad, fog_uplink_class_name(c), u->dir);
		u->logged_corrupt = true;
	}
}

/* One POST of what is ready; returns 1 when more is ready, 0 when not, <0 on failure. */
static int send_round(struct fog_uplink *u)
{
	struct batch b = {0};
	enum fog_rw_result res;
	char err[200] = "";
	void *z = NULL;
	size_t zlen = 0;
	long status;
	double now = fog_mono_now();
	bool more = false;

	u->tokens += (now - u->tokens_at) * (double)u->o.max_bytes_per_s;
	u->tokens_at = now;
	if (u->tokens > (double)u->o.max_bytes_per_s)
		u->tokens = (double)u->o.max_bytes_per_s; /* one second's worth of burst */
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		struct fog_seglog_ack *a = &u->c[c].ack;
		__u64 synced = fog_seglog__synced_end(u->c[c].log);

		/* after a failure what waited is backlog: live data starts after it */
		if (u->failed_last && a->hi == a->live_from && synced > a->hi)
			a->live_from = a->hi = synced;
		add_range(u, &b, c, a->hi, synced, false, &b.new_hi[c]);
	}
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		struct fog_seglog_ack *a = &u->c[c].ack;

		add_range(u, &b, c, a->lo, a->live_from, true, &b.new_lo[c]);
		if (b.new_lo[c] < a->live_from)
			more = true;
	}
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		if (b.new_hi[c] < fog_seglog__synced_end(u->c[c].log))
			more = true;
	if (!b.records) {
		/* only skipped records: what was looked at is done with */
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
			struct fog_seglog_ack *a = &u->c[c].ack, old = *a;

			a->hi = b.new_hi[c];
			a->lo = b.new_lo[c];
			normalize(a);
			if (memcmp(&old, a, sizeof(old)))
				u->c[c].ack_dirty = true;
		}
		free(b.raw.p);
		return 0;
	}
	if (fog_rw_compress(b.raw.p, b.raw.len, &z, &zlen)) {
		free(b.raw.p);
		return -ENOMEM;
	}
	free(b.raw.p);
	res = fog_rw_client__post(u->client, z, zlen, &status, err, sizeof(err));
	free(z);
	if (res == FOG_RW_RETRY) {
		u->backoff = fog_rw_backoff(u->backoff, u->o.min_backoff_s, u->o.max_backoff_s);
		u->retry_at = fog_mono_now() + u->backoff;
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
			u->st.retried[c] += b.samples[c];
		u->st.requests_retried++;
		u->st.connected = false;
		set_error(u, "", err);
		if (!u->logged_fail)
			fog_warnx(
				"uplink: sending to %s failed: %s; the buffer keeps everything and "
				"sending is retried with backoff (logged once until it recovers)",
				u->url_shown, err);
		u->logged_fail = true;
		u->failed_last = true;
		return -EAGAIN;
	}
	if (res == FOG_RW_REJECTED) {
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
			u->st.dropped[c][FOG_UPLINK_DROP_REJECTED] += b.samples[c];
		u->st.requests_rejected++;
		set_error(u, "", err);
		if (u->logged_reject != status)
			fog_warnx("uplink: %s refused a body (%s); its samples are counted as "
				  "dropped "
				  "and sending goes on (logged once per status)",
				  u->url_shown, err);
		u->logged_reject = status;
	} else {
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
			u->st.sent[c] += b.samples[c];
		u->st.requests_ok++;
		u->st.bytes_sent += zlen;
		u->st.error[0] = '\0';
	}
	if (u->logged_fail)
		fog_info("uplink: %s answers again; sending the backlog", u->url_shown);
	u->logged_fail = false;
	u->failed_last = false;
	u->st.connected = true;
	u->backoff = 0;
	u->tokens -= b.tokens_used;
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		struct fog_seglog_ack *a = &u->c[c].ack;

		a->hi = b.new_hi[c];
		a->lo = b.new_lo[c];
		normalize(a);
		u->c[c].ack_dirty = true;
	}
	save_acks(u);
	return more ? 1 : 0;
}

/* ---- the thread ---- */

static int open_logs(struct fog_uplink *u)
{
	size_t seg_max = u->o.max_bytes / 16;
	char path[512];

	if (seg_max < 16384)
		seg_max = 16384;
	if (seg_max > (8u << 20))
		seg_max = 8u << 20;
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		struct fog_seglog_open_report rep;

		snprintf(path, sizeof(path), "%s/%s", u->dir, fog_uplink_class_name(c));
		u->c[c].log = fog_seglog__open(path, seg_max, &rep);
		if (!u->c[c].log) {
			int err = -errno;

			fog_warnx("uplink: cannot open the buffer %s: %s; the uplink is off", path,
				  strerror(errno));
			set_error(u, "cannot open the buffer: ", strerror(-err));
			return err;
		}
		fog_seglog__get_ack(u->c[c].log, &u->c[c].ack);
		u->st.torn_tails += rep.torn;
		u->st.corrupt_segments += rep.corrupt;
		if (rep.torn || rep.corrupt)
			fog_warnx("uplink: %s: cut %u torn tail(s) and %u corrupt segment part(s), "
				  "%llu bytes, never sent",
				  path, rep.torn, rep.corrupt, rep.cut_bytes);
	}
	return 0;
}

static int make_client(struct fog_uplink *u)
{
	char password[4097] = "", bearer[4097] = "", err[256];
	struct fog_rw_client_opts co = {.url = u->url,
					.ca_file = u->ca_file,
					.username = u->username,
					.timeout_s = u->o.timeout_s,
					.cancel = &u->cancel};

	if (u->password_file) {
		if (fog_rw_read_secret(u->password_file, password, sizeof(password), err,
				       sizeof(err))) {
			fog_warnx("uplink: password_file: %s; the uplink is off", err);
			set_error(u, "password_file: ", err);
			return -EINVAL;
		}
		co.password = password;
	}
	if (u->bearer_file) {
		if (fog_rw_read_secret(u->bearer_file, bearer, sizeof(bearer), err, sizeof(err))) {
			fog_warnx("uplink: bearer_token_file: %s; the uplink is off", err);
			set_error(u, "bearer_token_file: ", err);
			explicit_bzero(password, sizeof(password));
			return -EINVAL;
		}
		co.bearer = bearer;
	}
	u->client = fog_rw_client__new(&co);
	explicit_bzero(password, sizeof(password));
	explicit_bzero(bearer, sizeof(bearer));
	if (!u->client) {
		fog_warnx("uplink: cannot set up the HTTP client: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void publish(struct fog_uplink *u, bool force)
{
	double now = fog_mono_now();
	__s64 oldest = 0, t = now_ms();

	if (!force && now < u->next_publish)
		return;
	u->next_publish = now + 0.5;
	if (u->st.running) {
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
			__s64 o;

			fog_seglog__backlog(u->c[c].log, &u->st.backlog_bytes[c],
					    &u->st.backlog_samples[c], &o);
			if (o && (!oldest || o < oldest))
				oldest = o;
		}
		u->st.disk_bytes = disk_bytes(u);
	}
	u->st.backlog_age_s = oldest && t > oldest ? (double)(t - oldest) / 1000 : 0;
	pthread_mutex_lock(&u->mu);
	u->st.snapshots = u->snapshots;
	u->st.snapshots_dropped = u->queue_drops;
	u->pub = u->st;
	pthread_mutex_unlock(&u->mu);
}

static void *run(void *arg)
{
	struct fog_uplink *u = arg;
	struct queued take[QUEUE_MAX];
	unsigned int n;

	pthread_setname_np(pthread_self(), "fogd-uplink");
	if (!open_logs(u) && !make_client(u))
		u->st.running = true;
	/* what a previous run left unsent is a backlog, not live data */
	u->failed_last = true;
	u->tokens_at = fog_mono_now();
	u->next_sync = fog_mono_now() + u->o.sync_s;
	publish(u, true);
	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		n = 0;
		while (u->qn) {
			take[n++] = u->q[u->qh];
			u->qh = (u->qh + 1) % QUEUE_MAX;
			u->qn--;
		}
		pthread_mutex_unlock(&u->mu);
		for (unsigned int i = 0; i < n; i++) {
			if (u->st.running)
				append_text(u, &take[i]);
			free(take[i].text);
		}
		if (u->st.running) {
			double now = fog_mono_now();

			if (now >= u->next_sync) {
				sync_all(u);
				u->next_sync = now + u->o.sync_s;
			}
			enforce_limits(u);
			if (now >= u->retry_at) {
				for (int r = 0; r < ROUNDS_MAX &&
						!__atomic_load_n(&u->cancel, __ATOMIC_RELAXED);
				     r++)
					if (send_round(u) <= 0)
						break;
				save_acks(u);
			}
		}
		publish(u, false);
		pthread_mutex_lock(&u->mu);
		if (!u->stop && !u->qn)
			fog_cond_wait_until(&u->cv, &u->mu, fog_mono_now() + WAKE_MS / 1000.0);
	}
	pthread_mutex_unlock(&u->mu);
	if (u->st.running) {
		sync_all(u);
		save_acks(u);
	}
	return NULL;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

void fog_uplink__free(struct fog_uplink *u)
{
	if (!u)
		return;
	if (u->thread) {
		pthread_mutex_lock(&u->mu);
		u->stop = true;
		__atomic_store_n(&u->cancel, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&u->cv);
		pthread_mutex_unlock(&u->mu);
		pthread_join(u->thread, NULL);
	}
	while (u->qn) {
		free(u->q[u->qh].text);
		u->qh = (u->qh + 1) % QUEUE_MAX;
		u->qn--;
	}
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		fog_seglog__free(u->c[c].log);
	fog_rw_client__free(u->client);
	for (size_t i = 0; u->labels && u->labels[i]; i++)
		free(u->labels[i]);
	free(u->labels);
	free(u->url);
	free(u->dir);
	free(u->ca_file);
	free(u->username);
	free(u->password_file);
	free(u->bearer_file);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	free(u);
}

struct fog_uplink *fog_uplink__new(const struct fog_uplink_opts *o)
{
	struct fog_uplink *u = calloc(1, sizeof(*u));
	size_t nl = 0;
	int err;

	if (!u)
		return NULL;
	pthread_mutex_init(&u->mu, NULL);
	fog_cond_init_mono(&u->cv);
	u->o = *o;
	u->url = dup_opt(o->url);
	u->dir = dup_opt(o->dir);
	u->ca_file = dup_opt(o->ca_file);
	u->username = dup_opt(o->username);
	u->password_file = dup_opt(o->password_file);
	u->bearer_file = dup_opt(o->bearer_file);
	while (o->labels && o->labels[nl])
		nl++;
	u->labels = calloc(nl + 1, sizeof(*u->labels));
	if (!u->url || !u->dir || !u->labels)
		goto fail;
	for (size_t i = 0; i < nl; i++)
		if (!(u->labels[i] = strdup(o->labels[i])))
			goto fail;
	u->o.labels = NULL;
	fog_url_redact(u->url_shown, sizeof(u->url_shown), u->url);
	err = pthread_create(&u->thread, NULL, run, u);
	if (err) {
		u->thread = 0;
		errno = err;
		fog_uplink__free(u);
		return NULL;
	}
	return u;
fail:
	fog_uplink__free(u);
	errno = ENOMEM;
	return NULL;
}

void fog_uplink__push(struct fog_uplink *u, const char *text, size_t len, __s64 ts_ms)
{
	char *copy = malloc(len + 1);

	pthread_mutex_lock(&u->mu);
	u->snapshots++;
	if (!copy) {
		u->queue_drops++;
		pthread_mutex_unlock(&u->mu);
		return;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (u->qn == QUEUE_MAX) {
		/* the thread is behind (a slow disk): the oldest waiting tick goes */
		free(u->q[u->qh].text);
		u->qh = (u->qh + 1) % QUEUE_MAX;
		u->qn--;
		u->queue_drops++;
	}
	u->q[(u->qh + u->qn) % QUEUE_MAX] = (struct queued){copy, len, ts_ms};
	u->qn++;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

void fog_uplink__stats(struct fog_uplink *u, struct fog_uplink_stats *st)
{
	pthread_mutex_lock(&u->mu);
	*st = u->pub;
	st->snapshots = u->snapshots;
	st->snapshots_dropped = u->queue_drops;
	pthread_mutex_unlock(&u->mu);
}
