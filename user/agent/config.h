/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogd's configuration: an INI file (parsed by libinih) and `-o section.key=value`
 * flags over defaults that live in one table. A parsed config is never modified;
 * SIGHUP builds a new one and swaps it in.
 */
#ifndef FOG_CONFIG_H
#define FOG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define FOG_CONFIG_ERR_LEN 512

struct fog_config {
	char source[256];	/* file the values came from, "" for defaults only */

	/* [fogd] */
	char socket_path[108];	/* Unix socket of the local API (mode 0600, 0660 with a group) */
	char socket_group[32];	/* group whose members the socket serves besides root, or off */
	char pin_path[200];	/* bpffs folder for map pins */
	char run_user[32];	/* user tasks and alert hooks run as (never root) */
	char run_group[32];	/* and their group */
	char helper_user[32];	/* user the symbol helper runs as, or "off" */
	char log_level[8];	/* error, warn, info, debug */
	__u32 tick_ms;	/* how often maps are read into the aggregates */
	char cgroup_mode[16];	/* auto, v2, v1-memory, v1-cpu */
	__u32 max_processes;	/* processes tracked at once */
	__u32 max_cgroups;	/* cgroups tracked at once */
	__u32 event_log_size;	/* recent events kept for the API */

	/* [http] */
	char http_listen[64];	/* host:port for /metrics (and what tcp_* open), or "off" */
	bool tcp_api;	/* serve the JSON API's reads on TCP too */
	bool tcp_pprof;	/* serve profiles and /debug/pprof on TCP too (no kernel addresses) */
	char allowed_hosts[256];	/* Host names TCP answers besides its address and localhost */
	/* [export] */
	__u32 top_processes;	/* processes with their own series in /metrics */
	__u32 top_cgroups;	/* cgroups with their own series in /metrics */

	/* [collectors] */
	bool cpu;
	bool schedlat;
	bool mem;
	bool io;
	bool net;

	/* [schedlat] */
	__u32 runq_outlier_us;	/* 0: no outlier events */
	char neighbours[16];	/* last, proportional, off: run-queue wait attribution */
	/* [io] */
	__u32 io_outlier_us;	/* 0: no outlier events */
	/* [mem] */
	__u32 psi_window_s;	/* PSI averages reported: 10, 60 or 300 */
	/* [net] */
	bool net_cgroup_skb;	/* attach cgroup_skb for per-cgroup traffic */

	/* [monitor]: thresholds are fractions 0..1 or seconds; 0 turns one off */
	bool monitor;
	double cpu_warning, cpu_critical;
	double memory_warning, memory_critical;
	double psi_warning, psi_critical;
	double runq_warning_s, runq_critical_s;
	double io_warning_s, io_critical_s;
	double for_s;	/* a level must hold this long before it fires */
	double hysteresis;	/* a level clears this fraction below its threshold */
	double trend_window_s;
	char alertmanager[200];	/* Alertmanager base URL, or off */
	double alertmanager_resend_s;
	char webhook[200];	/* URL alerts are POSTed to, or off */
	char hook[200];	/* absolute path of a program run per alert, or off */
	double hook_timeout_s;
	char action_level[12];	/* lowest level sent to the actions */
	char profile_on[12];	/* lowest level that captures a profile, or off */
	double profile_seconds;	/* length of an alert's profile */
	double profile_min_interval_s;	/* between the starts of two alert profiles */

	/* [sched] */
	char sched_strategy[16];	/* fifo, priority, sla, cost, affinity, ml_adaptive */
	bool sla_reject;	/* reject tasks whose deadline cannot be met (else flag them) */
	bool local_worker;	/* this host is the worker "local" */
	double signal_ttl_s;	/* worker signals older than this are "no data" */
	double interference_threshold;	/* a pair of task classes interferes at this cost; 0 off */
	double interference_half_life_s;	/* its evidence fades by half in this */
	char task_cgroup[64];	/* the executor's cgroup folder beneath fogd's own */
	__u32 task_runners;	/* pre-forked runners waiting for local tasks */
	__u32 task_pids_max;	/* processes and threads of one task at most */
	double remote_timeout_s;	/* a claimed remote task without a timeout must end within */
	bool extender;	/* serve the Kubernetes scheduler extender routes */
	char prometheus_url[200];	/* the extender's node signals, or off */
	double prometheus_timeout_s;
	double prometheus_max_age_s;
	char node_label[64];	/* label naming a node in fogd's series */

	/* [profile]: continuous profiling (user/profile/continuous.c) */
	bool prof_continuous;	/* always-on low-rate CPU sampling with pprof snapshots */
	__u32 prof_frequency;	/* samples per second per CPU */
	bool prof_unwind;	/* continuous: DWARF unwinding of user stacks */
	bool prof_python;	/* continuous: CPython interpreter frames */
	double prof_snapshot_s;	/* one snapshot per this many seconds */
	char prof_dir[200];	/* where snapshots are kept (created 0700) */
	__u64 prof_max_bytes;	/* the snapshots' total size limit */
	double prof_max_age_s;	/* snapshots older than this are removed */

	/* [uplink]: Prometheus remote write from an on-disk buffer (user/uplink/); kept last */
	char uplink_url[256];	/* the receiver's write URL, or off */
	char uplink_dir[200];	/* the buffer's folder (created 0700) */
	__u64 uplink_max_bytes;	/* the buffer's size limit */
	double uplink_max_age_s;	/* buffered samples older than this are removed */
	double uplink_sync_s;	/* buffered samples are made durable this often */
	__u64 uplink_max_bytes_per_s;	/* a backlog is sent at most this fast */
	double uplink_timeout_s;	/* of one POST */
	double uplink_min_backoff_s, uplink_max_backoff_s;	/* retry delays */
	double uplink_step_s, uplink_coarse_step_s;	/* downsampling steps under the budget */
	char uplink_ca_file[200];	/* CA bundle for https, or off (the system's) */
	char uplink_username[128];	/* basic auth user, or off */
	char uplink_password_file[200];	/* file holding the basic auth password, or off */
	char uplink_bearer_file[200];	/* file holding a bearer token, or off */
	char uplink_job[64];	/* job label of every series sent */
	char uplink_instance[128];	/* instance label; auto: the host name */
};

/* Fills cfg with the built-in defaults. */
void fog_config_defaults(struct fog_config *cfg);

/*
 * Reads an INI file over cfg. On error returns a negative errno and writes
 * "FILE:LINE: what is wrong" into err; cfg may then hold part of the file,
 * so callers parse into a scratch copy.
 */
int fog_config_load(struct fog_config *cfg, const char *path, char *err, size_t errlen);

/* Applies one "section.key=value" assignment, as given by `fogd -o`. */
int fog_config_set(struct fog_config *cfg, const char *assignment, char *err, size_t errlen);

/* Applies one value; err names the key and what is wrong with the value. */
int fog_config_set_kv(struct fog_config *cfg, const char *section, const char *key,
		      const char *value, char *err, size_t errlen);

/* Splits "host:port" or "[v6]:port"; err says what is wrong. */
int fog_config_parse_listen(const char *v, char *host, size_t hostlen, unsigned int *port,
			    char *err, size_t errlen);

/*
 * Writes the effective configuration as an INI file to be shown (fogd -n,
 * /api/v1/config): credentials in URLs are redacted (fog_url_redact).
 */
void fog_config_write(const struct fog_config *cfg, FILE *f);
/* The same with every value as it is, credentials too: reads back to cfg. */
void fog_config_write_exact(const struct fog_config *cfg, FILE *f);

/*
 * Formats d in the shortest of %.15g, %.16g and %.17g that strtod reads back
 * to d exactly (0.85, not 0.84999999999999998). Returns buf.
 */
char *fog_config_fmt_double(char *buf, size_t len, double d);

#endif /* FOG_CONFIG_H */
