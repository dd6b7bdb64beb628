/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog monitor: threshold alerts, trends and capacity recommendations over
 * host resource samples, with actions (hooks, webhooks, Alertmanager).
 *
 * Two ways to feed it:
 * - fogd (or any caller with its own loop) calls fog_monitor__observe() once
 *   per tick with one value per resource; no thread is involved.
 * - fog_monitor__start() runs a thread that samples the host itself from
 *   /proc and /sys every interval (for programs without fogd).
 *
 * Times are wall-clock seconds since the Unix epoch (CLOCK_REALTIME as a
 * double): alerts and Alertmanager payloads carry them as timestamps.
 *
 * Every function returning int returns 0 (or a count) on success and a
 * negative errno on failure; fog_monitor_errmsg() then says what was wrong.
 * fog_monitor__new() returns NULL and sets errno. Sample storage is sized at
 * creation: observing allocates nothing.
 */
#ifndef FOG_MONITOR_H
#define FOG_MONITOR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fog/signals.h"

/* What the monitor watches; higher is worse for every resource. */
enum fog_monitor_resource {
	FOG_MONITOR_CPU,     /* fraction 0..1 of CPU time busy, over all CPUs */
	FOG_MONITOR_MEMORY,  /* fraction 0..1 of memory in use: 1 - MemAvailable / MemTotal */
	FOG_MONITOR_DISK,    /* fraction 0..1 of time the busiest block device had I/O in flight */
	FOG_MONITOR_NETWORK, /* fraction 0..1 of link capacity used by the busiest interface */
	FOG_MONITOR_IO_LATENCY, /* seconds: block I/O latency (p99 from fogd, mean from start()) */
	FOG_MONITOR_RUNQ_LATENCY, /* seconds: run-queue wait (p99 from fogd, mean from start()) */
	FOG_MONITOR_PSI, /* fraction 0..1 of time some tasks stalled on cpu, memory or io */
	FOG_MONITOR_RESOURCES,
};

enum fog_monitor_unit {
	FOG_MONITOR_FRACTION, /* 0..1, shown as a percentage */
	FOG_MONITOR_SECONDS,
};

enum fog_alert_level {
	FOG_ALERT_INFO,	    /* normal */
	FOG_ALERT_WARNING,  /* approaching the warning threshold */
	FOG_ALERT_ERROR,    /* at or above the warning threshold */
	FOG_ALERT_CRITICAL, /* at or above the critical threshold */
	FOG_ALERT_LEVELS,
};

/* One tick's values; a resource not measured this tick is NAN. */
/* Largest sample value accepted (fractions are <= 1, latencies a few seconds). */
#define FOG_MONITOR_SAMPLE_MAX 1e9

struct fog_monitor_sample {
	double value[FOG_MONITOR_RESOURCES];
};

static inline void fog_monitor_sample_init(struct fog_monitor_sample *s)
{
	for (int i = 0; i < FOG_MONITOR_RESOURCES; i++)
		s->value[i] = NAN;
}

/* A sample of what fogd's collectors measured (the units are the same: NAN stays NAN). */
static inline void fog_monitor_sample_from_signals(struct fog_monitor_sample *s,
						   const struct fog_signals *sig)
{
	fog_monitor_sample_init(s);
	s->value[FOG_MONITOR_CPU] = sig->cpu_busy;
	s->value[FOG_MONITOR_MEMORY] = sig->mem_used;
	s->value[FOG_MONITOR_PSI] = sig->psi_some;
	s->value[FOG_MONITOR_RUNQ_LATENCY] = sig->runq_p99_s;
	s->value[FOG_MONITOR_IO_LATENCY] = sig->io_p99_s;
}

struct fog_threshold {
	double warning;	    /* ERROR at or above this; WARNING from approach_ratio times it */
	double critical;    /* CRITICAL at or above this; not below warning */
	double for_seconds; /* a higher level must hold this long before it fires */
	double hysteresis;  /* a level clears only below its threshold minus this */
};

/* A change of one resource's alert level, given to callbacks and actions. */
struct fog_alert {
	enum fog_monitor_resource resource;
	enum fog_alert_level level;    /* the level now; INFO when resolved */
	enum fog_alert_level previous; /* the level before this change */
	bool resolved;		       /* the level went back to INFO */
	double value;		       /* the sample that made the change */
	double threshold;	       /* threshold of level (of previous when resolved) */
	double since;		       /* when level was entered (the first sample at or above) */
	double started_at;	       /* when this episode left INFO */
	double at;		       /* when the change happened */
	char summary[160];	       /* "cpu at 93.2% is above the critical threshold 90%" */
	unsigned long id;	       /* the episode's: from leaving INFO to resolved */
	char profile_url[96];	       /* a profile of its cause (annotate fn), "" none */
};

/* Called from the thread that observes, after the monitor's lock is released. */
typedef void (*fog_monitor_alert_fn)(const struct fog_alert *alert, void *ctx);
/*
 * Called for every level change before the actions see it, with the monitor's
 * lock held (it must not call the monitor nor block): it may set
 * alert->profile_url, which the episode then keeps (API, hooks, webhooks,
 * Alertmanager's profile_url annotation, resends).
 */
typedef void (*fog_monitor_annotate_fn)(struct fog_alert *alert, void *ctx);

/* The alert state of one resource that has a threshold. */
struct fog_alert_status {
	enum fog_monitor_resource resource;
	struct fog_threshold threshold;
	enum fog_alert_level level;   /* the level fired */
	enum fog_alert_level pending; /* a level waiting out its `for` duration, else level */
	double pending_since;	      /* NAN when nothing is pending */
	double since;		      /* when level was entered, NAN if never left INFO */
	double value;		      /* the last sample, NAN before the first */
	double updated_at;	      /* time of the last sample, NAN before the first */
	unsigned long id;	      /* the episode's id while level is above INFO, else 0 */
	char profile_url[96];	      /* its profile link, "" none */
};

enum fog_trend_direction {
	FOG_TREND_STABLE,
	FOG_TREND_INCREASING,
	FOG_TREND_DECREASING,
};

struct fog_trend {
	enum fog_monitor_resource resource;
	enum fog_trend_direction direction;
	unsigned int samples; /* samples in the window */
	double span_seconds;  /* from the first to the last of them */
	double slope;	      /* least-squares slope, units per second */
	double slope_stderr;  /* its standard error */
	double t;	      /* slope / slope_stderr */
	double p_value;	      /* two-sided, Student's t with samples - 2 degrees of freedom */
	double mean;
	double last;	    /* newest sample */
	double fitted;	    /* the fitted line at the newest sample */
	double target;	    /* level the forecast aims at, NAN when none */
	double eta_seconds; /* until the fitted line reaches target, NAN when none */
	char forecast[112]; /* "memory reaches 95% in about 3 h 10 min", "" when none */
};

enum fog_recommendation_kind {
	FOG_REC_CPU_SATURATED,	   /* a high CPU quantile sustained over the window */
	FOG_REC_MEMORY_EXHAUSTION, /* memory growth that reaches the limit within the horizon */
	FOG_REC_RUNQ_LATENCY,	   /* run-queue latency sustained above the threshold */
};

/* One figure behind a recommendation. */
struct fog_evidence {
	char name[32]; /* e.g. "p95", "slope_per_hour" */
	double value;
	char unit[24]; /* "fraction", "seconds", "fraction_per_hour", "probability", "samples" */
};

#define FOG_REC_EVIDENCE 8

struct fog_recommendation {
	enum fog_recommendation_kind kind;
	enum fog_monitor_resource resource;
	char summary[192]; /* what was seen */
	char action[160];  /* what to do about it */
	unsigned int n_evidence;
	struct fog_evidence evidence[FOG_REC_EVIDENCE];
};

/* A pattern held over a window: quantile of the samples at or above threshold. */
struct fog_monitor_sustained_rule {
	double quantile;       /* 0 < q <= 1 */
	double threshold;      /* in the resource's unit */
	double window_seconds; /* samples must cover at least 90% of it */
};

/* Memory growth: a significant upward trend that reaches limit within horizon. */
struct fog_monitor_growth_rule {
	double limit;		/* used fraction that counts as exhausted */
	double horizon_seconds; /* recommend when the forecast is closer than this */
	double window_seconds;	/* fitting window */
};

/* Zero fields take the default given after each. */
struct fog_monitor_opts {
	double interval_seconds;     /* tick of fog_monitor__start(), and of observe() callers: 1 */
	unsigned int history;	     /* samples kept per resource: longest window / interval */
	double trend_window_seconds; /* 900 */
	double trend_alpha;	     /* significance level of the slope's t-test: 0.05 */
	double trend_min_change;     /* smaller change over the window is stable: 0 (none) */
	double approach_ratio;	     /* WARNING from this fraction of the warning threshold: 0.9 */
	struct fog_monitor_sustained_rule cpu_rule;  /* 0.95, 0.80, 3600 */
	struct fog_monitor_growth_rule memory_rule;  /* 1.0, 86400, 3600 */
	struct fog_monitor_sustained_rule runq_rule; /* 0.5, 0.010, 3600 */
	/* actions */
	const char *instance;	     /* instance label for Alertmanager: the host name */
	const char *generator_url;   /* generatorURL sent to Alertmanager: none */
	unsigned int queue_len;	     /* pending deliveries per target: 256 */
	unsigned int max_attempts;   /* tries per HTTP delivery: 8 */
	double retry_seconds;	     /* first retry delay, doubling each time: 1 */
	double retry_max_seconds;    /* cap of the delay: 60 */
	double http_timeout_seconds; /* per attempt: 5 */
	unsigned long first_alert_id; /* id of the first episode: 1 */
	/* host sampling by fog_monitor__start() */
	double link_bytes_per_second; /* link capacity when sysfs has no speed: none */
	const char *proc_root;	      /* "/proc" (tests point it elsewhere) */
	const char *sys_root;	      /* "/sys" */
};

struct fog_monitor_stats {
	unsigned long observations;
	unsigned long alerts_fired; /* level changes to a non-INFO level */
	unsigned long alerts_resolved;
	unsigned long hooks_run;
	unsigned long hooks_failed;  /* could not start, or exited non-zero or by a signal */
	unsigned long hooks_killed;  /* overran their timeout */
	unsigned long hooks_dropped; /* queue full */
	unsigned long posts_sent;    /* webhook and Alertmanager deliveries */
	unsigned long posts_retried;
	unsigned long posts_failed;  /* given up after max_attempts or a 4xx answer */
	unsigned long posts_dropped; /* queue full */
};

struct fog_monitor;

/* The message of the last failed fog_monitor call in the calling thread. */
const char *fog_monitor_errmsg(void);

const char *fog_monitor_resource_name(enum fog_monitor_resource r); /* "cpu", "io_latency" */
enum fog_monitor_unit fog_monitor_resource_unit(enum fog_monitor_resource r);
/* Accepts the names fog_monitor_resource_name() returns; -EINVAL otherwise. */
int fog_monitor_resource_parse(const char *name, enum fog_monitor_resource *out);
const char *fog_alert_level_name(enum fog_alert_level l); /* "info" ... "critical" */
int fog_alert_level_parse(const char *name, enum fog_alert_level *out);
const char *fog_trend_direction_name(enum fog_trend_direction d);
const char *fog_recommendation_kind_name(enum fog_recommendation_kind k);

/* opts may be NULL. Returns NULL and sets errno (EINVAL: see fog_monitor_errmsg()). */
struct fog_monitor *fog_monitor__new(const struct fog_monitor_opts *opts);
/* Stops the sampler, kills running hooks and drops undelivered posts; NULL is fine. */
void fog_monitor__free(struct fog_monitor *mon);

/*
 * Sets a resource's thresholds. -EINVAL for an unknown resource, NaN or
 * infinite figures, critical below warning, a fraction threshold outside
 * (0, 1], a negative duration or hysteresis, or a hysteresis so large that
 * a level could never clear. An active alert keeps its state.
 */
int fog_monitor__set_threshold(struct fog_monitor *mon, enum fog_monitor_resource r, double warning,
			       double critical, double for_seconds, double hysteresis);
/* Removes a threshold; an active alert is resolved (callbacks and actions run). */
int fog_monitor__clear_threshold(struct fog_monitor *mon, enum fog_monitor_resource r);

/* Up to 8 callbacks, called for every level change. */
int fog_monitor__on_alert(struct fog_monitor *mon, fog_monitor_alert_fn fn, void *ctx);
/* Removes a callback added with the same fn and ctx; -ENOENT if there is none. */
int fog_monitor__off_alert(struct fog_monitor *mon, fog_monitor_alert_fn fn, void *ctx);

/* One annotator (NULL removes it); see fog_monitor_annotate_fn. */
int fog_monitor__set_annotate(struct fog_monitor *mon, fog_monitor_annotate_fn fn, void *ctx);

/*
 * Runs argv (NULL-terminated, argv[0] an absolute path to an executable;
 * copied) with fork and execve, never through a shell, for every level change
 * at or above min_level and for the resolution of such an alert. The alert is
 * JSON on stdin and FOG_ALERT_* in the environment. A hook still running after
 * timeout_seconds gets SIGTERM, and SIGKILL a second later (its whole process
 * group). Hooks run from a worker thread; at most 8 run at once, 64 wait. They
 * share the caller's stdout and stderr and get no other inherited descriptor.
 */
int fog_monitor__add_hook(struct fog_monitor *mon, const char *const argv[], double timeout_seconds,
			  enum fog_alert_level min_level);
/*
 * Hooks run as uid:gid (not 0) with no supplementary group, no capability and
 * no_new_privs, from the next one started; -EPERM for uid or gid 0. Without
 * it hooks keep the caller's ids.
 */
int fog_monitor__set_hook_user(struct fog_monitor *mon, uid_t uid, gid_t gid);

/* POSTs each such change as JSON to url (http or https), retried with backoff. */
int fog_monitor__add_webhook(struct fog_monitor *mon, const char *url,
			     enum fog_alert_level min_level);

/*
 * Pushes alerts at or above min_level to an Alertmanager's v2 API (url is its
 * base, e.g. "http://127.0.0.1:9093"); firing alerts are re-sent every
 * resend_seconds (0: 60), resolved ones once with endsAt = resolve time.
 */
int fog_monitor__add_alertmanager(struct fog_monitor *mon, const char *url, double resend_seconds,
				  enum fog_alert_level min_level);

/*
 * Feeds one tick. Returns -EINVAL (nothing recorded) when now is not finite
 * or earlier than the previous tick, or a value is infinite or negative, and
 * -EBUSY while fog_monitor__start()'s sampler runs.
 */
int fog_monitor__observe(struct fog_monitor *mon, double now,
			 const struct fog_monitor_sample *sample);

/* Fills up to n states, one per resource with a threshold; returns how many. */
int fog_monitor__alerts(struct fog_monitor *mon, struct fog_alert_status *out, size_t n);

/* The newest value of each resource (NAN if none) and when it came; -ENODATA before any. */
int fog_monitor__latest(struct fog_monitor *mon, struct fog_monitor_sample *out, double *at);

/* The trend over the trend window; -ENODATA with fewer than 3 samples in it. */
int fog_monitor__trend(struct fog_monitor *mon, enum fog_monitor_resource r, struct fog_trend *out);

/* Fills up to n recommendations that hold now; returns how many. */
int fog_monitor__recommendations(struct fog_monitor *mon, struct fog_recommendation *out, size_t n);

void fog_monitor__stats(struct fog_monitor *mon, struct fog_monitor_stats *out);

/* Waits until hooks have finished and posts are delivered or given up; -ETIMEDOUT. */
int fog_monitor__flush(struct fog_monitor *mon, double timeout_seconds);

/*
 * Starts the host sampler thread (-EALREADY if running); stop joins it
 * (-EDEADLK from an alert callback, which runs on that thread).
 */
int fog_monitor__start(struct fog_monitor *mon);
int fog_monitor__stop(struct fog_monitor *mon);

#endif /* FOG_MONITOR_H */
