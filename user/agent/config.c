// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ini.h>

#include "agent/config.h"
#include "base/text.h"

enum opt_type {
	OPT_BOOL,
	OPT_U32,
	OPT_STR,
	OPT_DOUBLE,
	OPT_U64,
};

struct opt {
	const char *section;
	const char *key;
	enum opt_type type;
	size_t offset;
	size_t size;	/* OPT_STR: buffer size */
	const char *def;
	double min, max;	/* OPT_U32, OPT_U64 and OPT_DOUBLE bounds */
	bool url;	/* OPT_STR: a URL, shown with its credentials redacted */
	const char *const *choices;	/* OPT_STR: allowed values, NULL for any */
	const char *help;
	/* OPT_STR: checks the value's form; writes what is wrong into err */
	int (*check)(const char *v, char *err, size_t len);
};

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const cgroup_modes[] = { "auto", "v2", "v1-memory", "v1-cpu", NULL };
static const char *const nbr_modes[] = { "proportional", "last", "off", NULL };
static const char *const psi_windows[] = { "10", "60", "300", NULL };
static const char *const action_levels[] = { "warning", "error", "critical", NULL };
static const char *const profile_levels[] = { "warning", "error", "critical", "off", NULL };
static const char *const strategies[] = { "fifo",     "priority",    "sla", "cost",
					  "affinity", "ml_adaptive", NULL };

static int check_dirname(const char *v, char *err, size_t len)
{
	if (strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, "..")) {
		snprintf(err, len, "must be one folder name, without '/'");
		return -EINVAL;
	}
	return 0;
}

static int check_label(const char *v, char *err, size_t len)
{
	for (const char *p = v; *p; p++) {
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9'))) {
			snprintf(err, len, "is not a Prometheus label name");
			return -EINVAL;
		}
	}
	return 0;
}

static int check_url(const char *v, char *err, size_t len)
{
	if (strcmp(v, "off") && strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
		snprintf(err, len, "is neither off nor an http(s):// URL");
		return -EINVAL;
	}
	return 0;
}

#define STR(sec, k, field, d, ch, h)                                                               \
	{ sec, k, OPT_STR, offsetof(struct fog_config, field),                                     \
	  sizeof(((struct fog_config *)0)->field), d, 0, 0, false, ch, h }
/* a URL setting, or off: shown redacted */
#define URL(sec, k, field, h)                                                                      \
	{ sec, k, OPT_STR, offsetof(struct fog_config, field),                                     \
	  sizeof(((struct fog_config *)0)->field), "off", 0, 0, true, NULL, h, check_url }
#define U32(sec, k, field, d, lo, hi, h)                                                           \
	{ sec, k, OPT_U32, offsetof(struct fog_config, field), 0, d, lo, hi, false, NULL, h }
#define U64(sec, k, field, d, lo, hi, h)                                                           \
	{ sec, k, OPT_U64, offsetof(struct fog_config, field), 0, d, lo, hi, false, NULL, h }
#define DBL(sec, k, field, d, lo, hi, h)                                                           \
	{ sec, k, OPT_DOUBLE, offsetof(struct fog_config, field), 0, d, lo, hi, false, NULL, h }
/* an absolute path of a file, or off */
#define FILE_OFF(sec, k, field, h)                                                                 \
	{ sec, k, OPT_STR, offsetof(struct fog_config, field),                                     \
	  sizeof(((struct fog_config *)0)->field), "off", 0, 0, false, NULL, h, check_file_or_off }
#define BOOL(sec, k, field, d, h)                                                                  \
	{ sec, k, OPT_BOOL, offsetof(struct fog_config, field), 0, d, 0, 0, false, NULL, h }

static int check_abspath(const char *v, char *err, size_t len)
{
	const char *c = v;

	if (v[0] != '/') {
		snprintf(err, len, "is not an absolute path");
		return -EINVAL;
	}
	for (; c; c = strchr(c + 1, '/')) {	/* each component after a '/' */
		if (!strncmp(c, "/..", 3) && (c[3] == '/' || !c[3])) {
			snprintf(err, len, "must not hold a '..' component");
			return -EINVAL;
		}
	}
	return 0;
}

/* an absolute path of a file, or off */
static int check_file_or_off(const char *v, char *err, size_t len)
{
	return strcmp(v, "off") ? check_abspath(v, err, len) : 0;
}

/* a user or group name, or off (a name must exist when fogd starts) */
static int check_name(const char *v, char *err, size_t len)
{
	for (const char *p = v; *p; p++) {
		if (!(*p == '_' || *p == '-' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
			snprintf(err, len, "is not a user or group name");
			return -EINVAL;
		}
	}
	if (!strcmp(v, "root")) {
		snprintf(err, len, "is root");
		return -EPERM;
	}
	return 0;
}

/* Host names: letters, digits, '.', '-', ':', '[', ']', separated by commas or spaces */
static int check_hosts(const char *v, char *err, size_t len)
{
	for (const char *p = v; *p; p++) {
		if (!(*p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']' || *p == ',' ||
		      *p == ' ' || *p == '_' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
			snprintf(err, len, "holds '%c': not a list of host names", *p);
			return -EINVAL;
		}
	}
	return 0;
}

/* a basic auth user name: printable, no ':' (it ends the name in the header), or off */
static int check_name_or_off(const char *v, char *err, size_t len)
{
	for (const char *p = v; *p; p++) {
		if (*p == ':' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			snprintf(err, len, "holds a ':', a space or a byte that does not print");
			return -EINVAL;
		}
	}
	return 0;
}

static int check_listen(const char *v, char *err, size_t len)
{
	char host[64];
	unsigned int port;

	if (!strcmp(v, "off"))
		return 0;
	return fog_config_parse_listen(v, host, sizeof(host), &port, err, len);
}

/* The one table of options and their defaults. */
static const struct opt opts[] = {
	STR("fogd", "socket", socket_path, "/run/fogd/fogd.sock", NULL, "local API socket"),
	{ "fogd", "socket_group", OPT_STR, offsetof(struct fog_config, socket_group),
	  sizeof(((struct fog_config *)0)->socket_group), "off", 0, 0, false, NULL,
	  "group whose members the socket serves besides root (socket mode 0660), or off (0600)",
	  check_name },
	STR("fogd", "pin_path", pin_path, "/sys/fs/bpf/fogd", NULL, "bpffs folder for pins"),
	{ "fogd", "run_user", OPT_STR, offsetof(struct fog_config, run_user),
	  sizeof(((struct fog_config *)0)->run_user), "fogd-task", 0, 0, false, NULL,
	  "user that tasks and alert hooks run as, never root (make install creates fogd-task)",
	  check_name },
	{ "fogd", "run_group", OPT_STR, offsetof(struct fog_config, run_group),
	  sizeof(((struct fog_config *)0)->run_group), "fogd-task", 0, 0, false, NULL,
	  "group that tasks and alert hooks run in", check_name },
	{ "fogd", "helper_user", OPT_STR, offsetof(struct fog_config, helper_user),
	  sizeof(((struct fog_config *)0)->helper_user), "fogd-sym", 0, 0, false, NULL,
	  "user the symbol helper (the process that parses profiled programs' ELF and DWARF) "
	  "runs as, never root (make install creates fogd-sym); off parses in fogd itself",
	  check_name },
	STR("fogd", "log_level", log_level, "info", log_levels, "error, warn, info or debug"),
	U32("fogd", "tick_ms", tick_ms, "1000", 100, 60000, "map read interval"),
	STR("fogd", "cgroup_mode", cgroup_mode, "auto", cgroup_modes,
	    "cgroup hierarchy that names a task's cgroup"),
	U32("fogd", "max_processes", max_processes, "4096", 64, 1 << 20, "processes tracked"),
	U32("fogd", "max_cgroups", max_cgroups, "512", 8, 1 << 16, "cgroups tracked"),
	U32("fogd", "event_log_size", event_log_size, "1024", 16, 1 << 20, "events kept"),
	{ "http", "listen", OPT_STR, offsetof(struct fog_config, http_listen),
	  sizeof(((struct fog_config *)0)->http_listen), "127.0.0.1:9477", 0, 0, false, NULL,
	  "numeric host:port ([v6]:port) of /metrics (and what tcp_api and tcp_pprof open), or off",
	  check_listen },
	BOOL("http", "tcp_api", tcp_api, "off",
	     "serve the JSON API's reads (/api/v1/...) on TCP too, not only on the socket"),
	BOOL("http", "tcp_pprof", tcp_pprof, "off",
	     "serve profiles and /debug/pprof on TCP too (no profile holds kernel addresses)"),
	{ "http", "allowed_hosts", OPT_STR, offsetof(struct fog_config, allowed_hosts),
	  sizeof(((struct fog_config *)0)->allowed_hosts), "localhost", 0, 0, false, NULL,
	  "Host header names TCP answers (comma separated) besides its address and localhost",
	  check_hosts },
	U32("export", "top_processes", top_processes, "20", 0, 1000,
	    "busiest processes exported with their own series"),
	U32("export", "top_cgroups", top_cgroups, "20", 0, 10000,
	    "busiest cgroups exported with their own series"),
	BOOL("collectors", "cpu", cpu, "on", "on-CPU time per task, cgroup and CPU"),
	BOOL("collectors", "schedlat", schedlat, "on", "run-queue latency"),
	BOOL("collectors", "mem", mem, "on", "page, fault, reclaim, OOM and PSI figures"),
	BOOL("collectors", "io", io, "on", "block I/O per device and process"),
	BOOL("collectors", "net", net, "on", "traffic per interface and cgroup"),
	U32("schedlat", "outlier_us", runq_outlier_us, "50000", 0, 60000000,
	    "run-queue waits above this become events; 0 turns them off"),
	STR("schedlat", "neighbours", neighbours, "proportional", nbr_modes,
	    "charge each wait to every task that ran meanwhile by its time there "
	    "(proportional), all of it to the task switched out when the waiter came in "
	    "(last), or off"),
	U32("io", "outlier_us", io_outlier_us, "500000", 0, 600000000,
	    "block requests slower than this become events; 0 turns them off"),
	{ "mem", "psi_window_s", OPT_U32, offsetof(struct fog_config, psi_window_s), 0, "10", 10, 300,
	  false, psi_windows, "PSI average window: 10, 60 or 300" },
	BOOL("net", "cgroup_skb", net_cgroup_skb, "on", "per-cgroup traffic via cgroup_skb"),
	BOOL("monitor", "enabled", monitor, "on", "threshold alerts, trends, recommendations"),
	DBL("monitor", "cpu_warning", cpu_warning, "0.85", 0, 1, "CPU busy fraction"),
	DBL("monitor", "cpu_critical", cpu_critical, "0.95", 0, 1, "CPU busy fraction"),
	DBL("monitor", "memory_warning", memory_warning, "0.85", 0, 1, "memory used fraction"),
	DBL("monitor", "memory_critical", memory_critical, "0.95", 0, 1, "memory used fraction"),
	DBL("monitor", "psi_warning", psi_warning, "0.2", 0, 1, "worst PSI some avg10 fraction"),
	DBL("monitor", "psi_critical", psi_critical, "0.5", 0, 1, "worst PSI some avg10 fraction"),
	DBL("monitor", "runq_warning_s", runq_warning_s, "0.01", 0, 60, "run-queue p99 seconds"),
	DBL("monitor", "runq_critical_s", runq_critical_s, "0.05", 0, 60, "run-queue p99 seconds"),
	DBL("monitor", "io_warning_s", io_warning_s, "0.1", 0, 600, "block I/O p99 seconds"),
	DBL("monitor", "io_critical_s", io_critical_s, "0.5", 0, 600, "block I/O p99 seconds"),
	DBL("monitor", "for_s", for_s, "30", 0, 86400, "a level must hold this long to fire"),
	DBL("monitor", "hysteresis", hysteresis, "0.05", 0, 0.5,
	    "a level clears this fraction of its threshold below it"),
	DBL("monitor", "trend_window_s", trend_window_s, "900", 10, 86400, "trend fitting window"),
	URL("monitor", "alertmanager", alertmanager,
	    "Alertmanager base URL (alerts go to /api/v2/alerts), or off"),
	DBL("monitor", "alertmanager_resend_s", alertmanager_resend_s, "60", 1, 3600,
	    "firing alerts are re-sent this often"),
	URL("monitor", "webhook", webhook, "URL alerts are POSTed to as JSON, or off"),
	STR("monitor", "hook", hook, "off", NULL,
	    "absolute path of a program run per alert (JSON on stdin), or off"),
	DBL("monitor", "hook_timeout_s", hook_timeout_s, "10", 0.1, 3600, "hook run time limit"),
	STR("monitor", "action_level", action_level, "warning", action_levels,
	    "lowest alert level sent to hooks, webhooks and Alertmanager"),
	STR("monitor", "profile_on", profile_on, "error", profile_levels,
	    "lowest alert level that captures a profile of its cause, or off"),
	DBL("monitor", "profile_seconds", profile_seconds, "10", 1, 300,
	    "length of the profile captured when an alert fires"),
	DBL("monitor", "profile_min_interval_s", profile_min_interval_s, "300", 0, 86400,
	    "at least this long between the starts of two alert profiles"),
	STR("sched", "strategy", sched_strategy, "ml_adaptive", strategies,
	    "default placement strategy"),
	BOOL("sched", "sla_reject", sla_reject, "off",
	     "reject tasks whose deadline cannot be met, instead of flagging them"),
	BOOL("sched", "local_worker", local_worker, "on", "this host is the worker local"),
	DBL("sched", "signal_ttl_s", signal_ttl_s, "30", 0.1, 86400,
	    "worker signals older than this count as no data"),
	DBL("sched", "interference_threshold", interference_threshold, "0.1", 0, 100,
	    "a task class is kept from one it runs this much slower beside (extra run time "
	    "per unit), 0 off"),
	DBL("sched", "interference_half_life_s", interference_half_life_s, "600", 1, 604800,
	    "interference evidence fades by half in this"),
	{ "sched", "cgroup", OPT_STR, offsetof(struct fog_config, task_cgroup),
	  sizeof(((struct fog_config *)0)->task_cgroup), "fogd-tasks", 0, 0, false, NULL,
	  "the task executor's cgroup folder beneath fogd's own", check_dirname },
	U32("sched", "runners", task_runners, "4", 1, 64,
	    "pre-forked runners waiting to start local tasks"),
	U32("sched", "pids_max", task_pids_max, "1024", 8, 4194304,
	    "processes and threads one task may have at once (pids controller)"),
	DBL("sched", "remote_timeout_s", remote_timeout_s, "600", 1, 31536000,
	    "a task claimed by a remote runner, without a timeout of its own, ends within"),
	BOOL("sched", "extender", extender, "off",
	     "serve the Kubernetes scheduler extender on the listeners"),
	URL("sched", "prometheus_url", prometheus_url,
	    "Prometheus the extender reads node signals from, or off"),
	DBL("sched", "prometheus_timeout_s", prometheus_timeout_s, "2", 0.1, 60,
	    "timeout of each Prometheus query"),
	DBL("sched", "prometheus_max_age_s", prometheus_max_age_s, "60", 1, 86400,
	    "node samples older than this count as no data"),
	{ "sched", "node_label", OPT_STR, offsetof(struct fog_config, node_label),
	  sizeof(((struct fog_config *)0)->node_label), "instance", 0, 0, false, NULL,
	  "label naming a node in fogd's series", check_label },
	BOOL("profile", "continuous", prof_continuous, "off",
	     "always-on low-rate CPU sampling of the host, kept as pprof snapshots"),
	U32("profile", "frequency", prof_frequency, "19", 1, 1000,
	    "continuous samples per second per CPU"),
	BOOL("profile", "unwind", prof_unwind, "on",
	     "continuous samples' user stacks unwound with DWARF CFI (code without frame "
	     "pointers); off walks frame pointers only"),
	BOOL("profile", "python", prof_python, "on",
	     "continuous samples of CPython 3.11 processes show their Python functions "
	     "(py:func (file.py:12)) in place of the interpreter loop (needs unwind)"),
	DBL("profile", "snapshot_s", prof_snapshot_s, "60", 1, 86400,
	    "one gzipped pprof snapshot per this many seconds"),
	{ "profile", "directory", OPT_STR, offsetof(struct fog_config, prof_dir),
	  sizeof(((struct fog_config *)0)->prof_dir), "/var/lib/fogd/profiles", 0, 0, false, NULL,
	  "folder of the snapshots (created with mode 0700)", check_abspath },
	U64("profile", "max_bytes", prof_max_bytes, "67108864", 4096, 1099511627776.0,
	    "total size of the snapshots kept; the oldest go first"),
	DBL("profile", "max_age_s", prof_max_age_s, "86400", 60, 31536000,
	    "snapshots older than this are removed"),
	URL("uplink", "url", uplink_url,
	    "Prometheus remote write URL fogd pushes its series to (e.g. "
	    "http://prometheus:9090/api/v1/write), or off"),
	{ "uplink", "directory", OPT_STR, offsetof(struct fog_config, uplink_dir),
	  sizeof(((struct fog_config *)0)->uplink_dir), "/var/lib/fogd/uplink", 0, 0, false, NULL,
	  "folder of the on-disk buffer (created with mode 0700)", check_abspath },
	U64("uplink", "max_bytes", uplink_max_bytes, "268435456", 65536, 1099511627776.0,
	    "the buffer's size limit: older samples are downsampled, then removed"),
	DBL("uplink", "max_age_s", uplink_max_age_s, "604800", 10, 31536000,
	    "buffered samples older than this are removed"),
	DBL("uplink", "sync_s", uplink_sync_s, "1", 0.05, 60,
	    "buffered samples are made durable this often (what a crash may lose)"),
	U64("uplink", "max_bytes_per_s", uplink_max_bytes_per_s, "1048576", 1024,
	    1099511627776.0, "a backlog is sent at most this many bytes a second"),
	DBL("uplink", "timeout_s", uplink_timeout_s, "10", 0.1, 300, "time limit of one POST"),
	DBL("uplink", "min_backoff_s", uplink_min_backoff_s, "0.5", 0.01, 3600,
	    "first retry delay after a failed POST (doubling up to max_backoff_s)"),
	DBL("uplink", "max_backoff_s", uplink_max_backoff_s, "30", 0.01, 3600,
	    "longest retry delay"),
	DBL("uplink", "step_s", uplink_step_s, "10", 0.1, 86400,
	    "step old samples are merged to when the buffer is full"),
	DBL("uplink", "coarse_step_s", uplink_coarse_step_s, "60", 0.1, 86400,
	    "coarser step of a second merge"),
	FILE_OFF("uplink", "ca_file", uplink_ca_file,
		 "CA certificates (PEM) for an https URL, or off for the system's"),
	{ "uplink", "username", OPT_STR, offsetof(struct fog_config, uplink_username),
	  sizeof(((struct fog_config *)0)->uplink_username), "off", 0, 0, false, NULL,
	  "basic auth user (with password_file), or off", check_name_or_off },
	FILE_OFF("uplink", "password_file", uplink_password_file,
		 "file holding the basic auth password, or off"),
	FILE_OFF("uplink", "bearer_token_file", uplink_bearer_file,
		 "file holding a bearer token, or off"),
	STR("uplink", "job", uplink_job, "fogd", NULL, "job label of every series sent"),
	STR("uplink", "instance", uplink_instance, "auto", NULL,
	    "instance label of every series sent; auto: the host name"),
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt *opt_find(const char *section, const char *key, bool *section_known)
{
	*section_known = false;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (strcmp(opts[i].section, section))
			continue;
		*section_known = true;
		if (!strcmp(opts[i].key, key))
			return &opts[i];
	}
	return NULL;
}

static bool in_choices(const char *const *choices, const char *value)
{
	for (; *choices; choices++)
		if (!strcmp(*choices, value))
			return true;
	return false;
}

static void choices_str(const char *const *choices, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *choices && n < len; choices++)
		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", *choices);
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1", NULL };
	static const char *const no[] = { "off", "no", "false", "0", NULL };

	for (int i = 0; yes[i]; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int opt_apply(const struct opt *o, struct fog_config *cfg, const char *value, char *err,
		     size_t errlen)
{
	char *dst = (char *)cfg + o->offset;
	char allowed[128];
	char *end;
	unsigned long long u;

	if (o->choices && !in_choices(o->choices, value)) {
		choices_str(o->choices, allowed, sizeof(allowed));
		snprintf(err, errlen, "[%s] %s: '%s' is not one of %s", o->section, o->key, value,
			 allowed);
		return -EINVAL;
	}
	switch (o->type) {
	case OPT_BOOL:
		if (parse_bool(value, (bool *)dst)) {
			snprintf(err, errlen, "[%s] %s: '%s' is not on or off", o->section, o->key,
				 value);
			return -EINVAL;
		}
		return 0;
	case OPT_U32:
	case OPT_U64:
		errno = 0;
		u = strtoull(value, &end, 10);
		if (!*value || *end || errno || value[0] == '-') {
			snprintf(err, errlen, "[%s] %s: '%s' is not a whole number", o->section,
				 o->key, value);
			return -EINVAL;
		}
		if ((double)u < o->min || (double)u > o->max) {
			snprintf(err, errlen, "[%s] %s: %llu is out of range %.0f..%.0f", o->section,
				 o->key, u, o->min, o->max);
			return -ERANGE;
		}
		if (o->type == OPT_U64)
			*(__u64 *)dst = (__u64)u;
		else
			*(__u32 *)dst = (__u32)u;
		return 0;
	case OPT_DOUBLE: {
		double d;

		errno = 0;
		d = strtod(value, &end);
		if (!*value || *end || errno || !isfinite(d)) {
			snprintf(err, errlen, "[%s] %s: '%s' is not a finite number", o->section,
				 o->key, value);
			return -EINVAL;
		}
		if (d < o->min || d > o->max) {
			snprintf(err, errlen, "[%s] %s: %g is out of range %g..%g", o->section,
				 o->key, d, o->min, o->max);
			return -ERANGE;
		}
		*(double *)dst = d;
		return 0;
	}
	case OPT_STR:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "[%s] %s: value is longer than %zu bytes", o->section,
				 o->key, o->size - 1);
			return -ENAMETOOLONG;
		}
		if (!o->choices && !*value) {
			snprintf(err, errlen, "[%s] %s: value is empty", o->section, o->key);
			return -EINVAL;
		}
		/* written back as "key = value", a leading ';' would read as a comment */
		if (*value == ';') {
			snprintf(err, errlen, "[%s] %s: value starts with ';', which begins a comment",
				 o->section, o->key);
			return -EINVAL;
		}
		/* and " ;" anywhere begins an inline comment: the rest would be lost */
		for (const char *c = strchr(value, ';'); c; c = strchr(c + 1, ';')) {
			if (c > value && (c[-1] == ' ' || c[-1] == '\t')) {
				snprintf(err, errlen,
					 "[%s] %s: value holds ' ;', which begins a comment in the file",
					 o->section, o->key);
				return -EINVAL;
			}
		}
		if (o->check) {
			char why[256];
			int rc = o->check(value, why, sizeof(why));

			if (rc) {
				snprintf(err, errlen, "[%s] %s: '%s' %s", o->section, o->key, value,
					 why);
				return rc;
			}
		}
		strcpy(dst, value);
		return 0;
	}
	return -EINVAL;
}

void fog_config_defaults(struct fog_config *cfg)
{
	char err[FOG_CONFIG_ERR_LEN];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_OPTS; i++)
		if (opt_apply(&opts[i], cfg, opts[i].def, err, sizeof(err)))
			abort(); /* the defaults table itself is wrong */
}

int fog_config_set_kv(struct fog_config *cfg, const char *section, const char *key,
		      const char *value, char *err, size_t errlen)
{
	const struct opt *o;
	bool section_known;

	o = opt_find(section, key, &section_known);
	if (!o) {
		if (section_known)
			snprintf(err, errlen, "unknown key '%s' in section [%s]", key, section);
		else
			snprintf(err, errlen, "unknown section [%s] (key '%s')", section, key);
		return -ENOENT;
	}
	return opt_apply(o, cfg, value, err, errlen);
}

int fog_config_set(struct fog_config *cfg, const char *assignment, char *err, size_t errlen)
{
	char section[64], key[64];
	const char *dot = strchr(assignment, '.');
	const char *eq = strchr(assignment, '=');

	if (!dot || !eq || dot > eq || dot == assignment || eq == dot + 1 ||
	    (size_t)(dot - assignment) >= sizeof(section) || (size_t)(eq - dot - 1) >= sizeof(key)) {
		snprintf(err, errlen, "'%s' is not of the form section.key=value", assignment);
		return -EINVAL;
	}
	memcpy(section, assignment, dot - assignment);
	section[dot - assignment] = '\0';
	memcpy(key, dot + 1, eq - dot - 1);
	key[eq - dot - 1] = '\0';
	return fog_config_set_kv(cfg, section, key, eq + 1, err, errlen);
}

struct load_ctx {
	struct fog_config *cfg;
	char msg[FOG_CONFIG_ERR_LEN];
	int err;
	FILE *f;
	int line;	/* lines handed to the parser so far */
	int long_line;	/* the first line longer than the parser's buffer, 0 if none */
	int max_len;
};

static int on_ini_value(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	char msg[FOG_CONFIG_ERR_LEN];
	int err;

	if (!name) /* a section header alone */
		return 1;
	if (!*section) {
		snprintf(msg, sizeof(msg), "key '%s' is outside any section", name);
		err = -EINVAL;
	} else {
		err = fog_config_set_kv(ctx->cfg, section, name, value, msg, sizeof(msg));
	}
	if (err && !ctx->err) {
		ctx->err = err;
		snprintf(ctx->msg, sizeof(ctx->msg), "%s", msg);
	}
	return err ? 0 : 1;
}

/*
 * libinih's line reader: fgets, except that a line longer than the parser's
 * buffer stops the parse (libinih would read its rest as a line of its own).
 */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	size_t n;
	int c;

	if (!fgets(str, num, ctx->f))
		return NULL;
	ctx->line++;
	n = strlen(str);
	if (n && str[n - 1] == '\n')
		return str;
	c = getc(ctx->f);
	if (c == EOF || c == '\n')
		return str; /* the last line, or exactly num - 1 bytes */
	ctx->long_line = ctx->line;
	ctx->max_len = num - 1;
	return NULL;
}

int fog_config_load(struct fog_config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx ctx = { .cfg = cfg };
	int line;

	ctx.f = fopen(path, "re");
	if (!ctx.f) {
		int rc = -errno;

		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	line = ini_parse_stream(read_line, &ctx, on_ini_value, &ctx);
	fclose(ctx.f);
	if (ctx.long_line && (line <= 0 || line > ctx.long_line)) {
		snprintf(err, errlen, "%s:%d: line is longer than %d bytes", path, ctx.long_line,
			 ctx.max_len);
		return -E2BIG;
	}
	if (line == -2) {
		snprintf(err, errlen, "%s: out of memory while parsing", path);
		return -ENOMEM;
	}
	if (line > 0) {
		if (ctx.err)
			snprintf(err, errlen, "%s:%d: %s", path, line, ctx.msg);
		else
			snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
				 path, line);
		return ctx.err ? ctx.err : -EINVAL;
	}
	snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	return 0;
}

char *fog_config_fmt_double(char *buf, size_t len, double d)
{
	/* 17 significant digits always read back; fewer often do, and read as written */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return buf;
}

static void write_ini(const struct fog_config *cfg, FILE *f, bool redact)
{
	const char *section = "";
	char shown[512];

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		const char *p = (const char *)cfg + o->offset;

		if (strcmp(section, o->section)) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", o->section);
			section = o->section;
		}
		fprintf(f, "; %s\n", o->help);
		switch (o->type) {
		case OPT_BOOL:
			fprintf(f, "%s = %s\n", o->key, *(const bool *)p ? "on" : "off");
			break;
		case OPT_U32:
			fprintf(f, "%s = %u\n", o->key, *(const __u32 *)p);
			break;
		case OPT_U64:
			fprintf(f, "%s = %llu\n", o->key, (unsigned long long)*(const __u64 *)p);
			break;
		case OPT_STR:
			fprintf(f, "%s = %s\n", o->key,
				redact && o->url ? fog_url_redact(shown, sizeof(shown), p) : p);
			break;
		case OPT_DOUBLE:
			fprintf(f, "%s = %s\n", o->key,
				fog_config_fmt_double(shown, sizeof(shown), *(const double *)p));
			break;
		}
	}
}

void fog_config_write(const struct fog_config *cfg, FILE *f)
{
	write_ini(cfg, f, true);
}

void fog_config_write_exact(const struct fog_config *cfg, FILE *f)
{
	write_ini(cfg, f, false);
}

int fog_config_parse_listen(const char *v, char *host, size_t hostlen, unsigned int *port,
			    char *err, size_t errlen)
{
	const char *colon, *h = v;
	size_t hl;
	char *end;
	unsigned long p;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "is not [address]:port");
			return -EINVAL;
		}
		h = v + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || strchr(v, ':') != colon) {
			snprintf(err, errlen, "is not host:port");
			return -EINVAL;
		}
		hl = (size_t)(colon - v);
	}
	if (!hl || hl >= hostlen) {
		snprintf(err, errlen, "has no usable host part");
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p == 0 || p > 65535) {
		snprintf(err, errlen, "has no port in 1..65535");
		return -EINVAL;
	}
	*port = (unsigned int)p;
	return 0;
}
