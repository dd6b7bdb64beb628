// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl top: a live view of the busiest processes (keys sort, q quits), or
 * one snapshot with --once (as JSON with --json).
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fogctl.h"

struct top_opts {
	const char *sort;
	unsigned int limit;
	bool once;
	uint64_t interval_ns;
};

static const char *const sort_keys = "crifmp";
static const char *const sort_names[] = { "cpu", "runq", "io", "faults", "mem", "pid" };

static const char *human_bytes(double b, char *out, size_t len)
{
	static const char *const units[] = { "B", "K", "M", "G", "T" };
	int u = 0;

	if (b < 0)
		return snprintf(out, len, "-"), out;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f%s" : "%.0f%s", b, units[u]);
	return out;
}

/* The host's figures from the cpu, schedlat and mem answers, each optional. */
static void host_summary(json_t *host)
{
	json_t *x;

	if ((x = fogctl_get_json("/api/v1/cpu", true))) {
		json_object_set(host, "ncpu", json_object_get(x, "ncpu"));
		json_object_set(host, "cpu_busy_share", json_object_get(x, "busy_share"));
		json_object_set(host, "context_switches_per_s",
				json_object_get(x, "context_switches_per_s"));
		json_decref(x);
	}
	if ((x = fogctl_get_json("/api/v1/schedlat", true))) {
		json_object_set(host, "runq_p99_seconds",
				json_object_get(json_object_get(x, "interval"), "p99_seconds"));
		json_decref(x);
	}
	if ((x = fogctl_get_json("/api/v1/mem", true))) {
		json_t *m = json_object_get(x, "memory");
		json_t *psi = json_object_get(json_object_get(x, "psi"), "memory");

		json_object_set(host, "memory_total_bytes", json_object_get(m, "total_bytes"));
		json_object_set(host, "memory_used_bytes", json_object_get(m, "used_bytes"));
		json_object_set(host, "faults_per_s", json_object_get(x, "faults_per_s"));
		json_object_set(host, "psi_memory_some_avg10",
				json_object_get(json_object_get(psi, "some"), "avg10"));
		json_decref(x);
	}
}

/* One snapshot: host summary and processes. */
static json_t *top_snapshot(const struct top_opts *o)
{
	json_t *snap, *procs;
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/processes?sort=%s&limit=%u", o->sort, o->limit);
	procs = fogctl_get_json(path, false);
	if (!procs)
		return NULL;
	snap = json_object();
	json_object_set_new(snap, "time", json_integer(time(NULL)));
	json_object_set_new(snap, "sort", json_string(o->sort));
	json_object_set_new(snap, "host", json_object());
	host_summary(json_object_get(snap, "host"));
	json_object_set(snap, "processes", json_object_get(procs, "processes"));
	json_decref(procs);
	return snap;
}

static void render_host(FILE *f, const json_t *h)
{
	double rq = fogctl_num(h, "runq_p99_seconds", -1);
	char b1[32], b2[32];

	fprintf(f,
		"cpu %5.1f%% of %d  ctxsw/s %.0f  runq p99 %s%.2f ms  mem %s / %s  "
		"faults/s %.0f  psi mem some %.2f\n",
		fogctl_num(h, "cpu_busy_share", -1) * 100, (int)fogctl_num(h, "ncpu", -1),
		fogctl_num(h, "context_switches_per_s", -1), rq < 0 ? "-" : "",
		rq < 0 ? 0 : rq * 1e3,
		human_bytes(fogctl_num(h, "memory_used_bytes", -1), b1, sizeof(b1)),
		human_bytes(fogctl_num(h, "memory_total_bytes", -1), b2, sizeof(b2)),
		fogctl_num(h, "faults_per_s", -1), fogctl_num(h, "psi_memory_some_avg10", -1));
}

/*
 * The process charged most of this one's run-queue wait, as "COMM[PID] SHARE%"
 * ("-" when none was): who held the CPU while it waited.
 */
static void culprit(const json_t *c, char *out, size_t len)
{
	char comm[32];

	if (!json_is_object(c)) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, "%.16s[%lld] %.0f%%",
		 fogctl_safe(fogctl_str(c, "comm", "?"), comm, sizeof(comm)),
		 (long long)json_integer_value(json_object_get(c, "pid")),
		 fogctl_num(c, "share", 0) * 100);
}

static void render(FILE *f, json_t *snap, bool tty)
{
	json_t *p;
	char b1[32], b3[32], comm[32];
	size_t i;

	if (tty)
		fprintf(f, "\033[H\033[2J");
	fprintf(f, "fogctl top  sort: %s  (keys: c cpu, r runq, i io, f faults, m mem, p pid, q "
		   "quit)\n",
		fogctl_str(snap, "sort", "cpu"));
	render_host(f, json_object_get(snap, "host"));
	fprintf(f, "\n%7s %-16s %6s %10s %10s %10s %9s  %s\n", "PID", "COMM", "CPU%", "RUNQ_P99",
		"IO/s", "FAULTS/s", "RSS", "CULPRIT");
	json_array_foreach(json_object_get(snap, "processes"), i, p) {
		double r = fogctl_num(p, "runq_p99_seconds", -1);
		char rq_s[16], who[48];

		if (r < 0)
			snprintf(rq_s, sizeof(rq_s), "-");
		else
			snprintf(rq_s, sizeof(rq_s), "%.2fms", r * 1e3);
		culprit(json_object_get(p, "main_culprit"), who, sizeof(who));
		/* comm is the tenant's: no terminal control bytes */
		fprintf(f, "%7lld %-16.16s %6.1f %10s %10s %10.0f %9s  %s\n",
			(long long)json_integer_value(json_object_get(p, "pid")),
			fogctl_safe(fogctl_str(p, "comm", "?"), comm, sizeof(comm)),
			fogctl_num(p, "cpu_share", -1) * 100, rq_s,
			human_bytes(fogctl_num(p, "io_bytes_per_s", -1), b3, sizeof(b3)),
			fogctl_num(p, "faults_per_s", -1),
			human_bytes(fogctl_num(p, "rss_bytes", -1), b1, sizeof(b1)), who);
	}
	fflush(f);
}

static void text_once(FILE *f, json_t *snap)
{
	render(f, snap, false);
}

static volatile sig_atomic_t top_quit;

static void on_int(int sig)
{
	top_quit = 1;
}

/* --sort, --limit, --interval, --once into o; 0, or 2 once the error is said. */
static int parse_opts(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "sort", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int opt;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "s:n:d:", longopts)) != -1) {
		switch (opt) {
		case '1':
			o->once = true;
			break;
		case 's':
			o->sort = NULL;
			for (int i = 0; i < 6; i++)
				if (!strcmp(optarg, sort_names[i]))
					o->sort = sort_names[i];
			if (!o->sort) {
				fogctl_err(
					"--sort '%s' is not one of cpu, runq, io, faults, mem, pid",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (fogctl_opt_uint("--limit", optarg, 0, 1000000, &v))
				return 2;
			o->limit = (unsigned int)v;
			break;
		case 'd':
			if (fogctl_opt_duration("--interval", optarg, 0, &o->interval_ns))
				return 2;
			if (o->interval_ns < FOGCTL_NS_PER_S / 10 ||
			    o->interval_ns > 3600 * FOGCTL_NS_PER_S) {
				fogctl_err("--interval '%s' is not in 0.1s..1h", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fogctl_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return 0;
}

/* The live view until q or SIGINT; 0, or 1 when fogd stopped answering. */
static int live(struct top_opts *o)
{
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	struct termios saved, raw;
	int rc = 0;

	signal(SIGINT, on_int);
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	while (!top_quit) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		json_t *snap = top_snapshot(o);
		char key;

		if (!snap) {
			rc = 1;
			break;
		}
		render(fogctl_out(), snap, tty);
		json_decref(snap);
		if (poll(&pfd, tty ? 1 : 0, (int)(o->interval_ns / 1000000)) > 0 &&
		    read(STDIN_FILENO, &key, 1) == 1) {
			const char *k = strchr(sort_keys, key);

			if (key == 'q')
				break;
			if (k && key)
				o->sort = sort_names[k - sort_keys];
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}

int fogctl_top(int argc, char **argv)
{
	struct top_opts o = { .sort = "cpu", .limit = 20, .interval_ns = FOGCTL_NS_PER_S };
	json_t *snap;
	int rc = parse_opts(argc, argv, &o);

	if (rc)
		return rc;
	if (fogctl_opts.json && !o.once) {
		fogctl_err("--json needs --once: a live view is for people");
		return 2;
	}
	if (!o.once)
		return live(&o);
	snap = top_snapshot(&o);
	if (!snap)
		return 1;
	fogctl_show(snap, text_once);
	json_decref(snap);
	return 0;
}
