// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogd: loads the collectors, runs the one event loop, serves the local API.
 * Signal handlers only set flags; the loop acts on them before each wait.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <grp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "agent/config.h"
#include "agent/privs.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "collect/collector.h"
#include "export/api.h"
#include "export/http.h"
#include "export/metrics.h"
#include "monitor/watch.h"
#include "profile/alert_capture.h"
#include "profile/continuous.h"
#include "profile/server.h"
#include "profile/symhelper.h"
#include "sched/api.h"
#include "uplink/glue.h"

#define MAX_OVERRIDES 64

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_hup;

struct agent {
	struct fog_config cfgs[2];	/* current and next; SIGHUP fills the other one */
	int cur;
	const char *config_path;
	const char *overrides[MAX_OVERRIDES];
	int n_overrides;
	struct fog_loop *loop;
	struct fog_collect *collect;
	struct fog_http *http;
	struct fog_http_policy policy;	/* what TCP serves and who the socket serves, from cfg */
	struct fog_watch *watch;	/* NULL when [monitor] enabled is off */
	struct fog_profiler *prof;
	struct fog_prof_continuous *cont;	/* [profile] continuous */
	struct fog_alert_capture *acap;	/* [monitor] profile_on; NULL without the monitor */
	struct fog_sched_agent *sched;
	struct fog_uplink_glue *uplink;	/* NULL: [uplink] url = off */
	int tick_timer;
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fogd [-n] [-v] [-c FILE] [-o SECTION.KEY=VALUE]...\n"
		"  -c, --config FILE   read settings from an INI file\n"
		"  -o, --set S.K=V     override one setting (repeatable; after the file)\n"
		"  -n, --check         check the configuration, print it and exit\n"
		"  -v, --verbose       log at debug level\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n"
		"fogd serves JSON on the Unix socket [fogd] socket (default /run/fogd/fogd.sock)\n");
}

/* Builds a configuration from defaults, the file and the overrides. */
static int build_config(const struct agent *a, struct fog_config *cfg, char *err, size_t len)
{
	char msg[FOG_CONFIG_ERR_LEN - 128];
	int rc;

	fog_config_defaults(cfg);
	if (a->config_path) {
		rc = fog_config_load(cfg, a->config_path, err, len);
		if (rc)
			return rc;
	}
	for (int i = 0; i < a->n_overrides; i++) {
		rc = fog_config_set(cfg, a->overrides[i], msg, sizeof(msg));
		if (rc) {
			snprintf(err, len, "-o %.100s: %s", a->overrides[i], msg);
			return rc;
		}
	}
	return 0;
}

static void apply_log_level(const struct fog_config *cfg, bool verbose)
{
	enum fog_log_level level = FOG_LOG_INFO;

	fog_log_level_parse(cfg->log_level, &level);
	fog_log_set_level(verbose ? FOG_LOG_DEBUG : level);
}

/*
 * What TCP serves beyond /metrics and who the socket serves, from cfg; err
 * says what is wrong (a socket_group that does not exist).
 */
static int http_policy(const struct fog_config *cfg, struct fog_http_policy *p, char *err,
		       size_t len)
{
	*p = (struct fog_http_policy){ .tcp_api = cfg->tcp_api, .tcp_pprof = cfg->tcp_pprof };
	snprintf(p->allowed_hosts, sizeof(p->allowed_hosts), "%s", cfg->allowed_hosts);
	if (strcmp(cfg->socket_group, "off")) {
		struct group *g = getgrnam(cfg->socket_group);

		if (!g) {
			snprintf(err, len, "[fogd] socket_group: no group '%s'", cfg->socket_group);
			return -ENOENT;
		}
		p->have_group = true;
		p->group = g->gr_gid;
	}
	return 0;
}

static void on_tick(void *ctx)
{
	struct agent *a = ctx;

	fog_collect__tick(a->collect); /* the monitor, placement and uplink have subscribed */
	fog_http__run(a->http);
}

/*
 * The parts fogd is made of, in start order (stopped in reverse). new() returns 0 or
 * a negative errno (and has logged why); reconfigure() applies a reloaded
 * configuration; free() may run after a failed or skipped new().
 */
struct part {
	const char *name;
	int (*new)(struct agent *a, const struct fog_config *cfg);
	void (*reconfigure)(struct agent *a, const struct fog_config *cfg);
	void (*free)(struct agent *a);
	bool unprivileged;	/* started after fogd dropped its capabilities (last in the table) */
};

static int collect_new(struct agent *a, const struct fog_config *cfg)
{
	int running;

	a->collect = fog_collect__new(cfg, a->loop);
	if (!a->collect)
		return -errno;
	running = fog_collect__start(a->collect);
	fog_info("%d of %u collectors running", running, fog_collect__n_collectors(a->collect));
	return 0;
}

static void collect_reconfigure(struct agent *a, const struct fog_config *cfg)
{
	fog_collect__reconfigure(a->collect, cfg);
}

static void collect_free(struct agent *a)
{
	fog_collect__free(a->collect);
}

static int http_new(struct agent *a, const struct fog_config *cfg)
{
	a->http = fog_http__new(a->loop);
	if (!a->http)
		return -ENOMEM;
	fog_http__set_policy(a->http, &a->policy);
	/* /metrics and the collectors' families, first in its output */
	return fog_metrics_register(a->http, a->collect);
}

static void http_reconfigure(struct agent *a, const struct fog_config *cfg)
{
	struct fog_http_policy policy;
	char err[FOG_CONFIG_ERR_LEN];

	if (!http_policy(cfg, &policy, err, sizeof(err))) {
		a->policy = policy;
		fog_http__set_policy(a->http, &a->policy);
	}
}

static void http_free(struct agent *a)
{
	fog_http__free(a->http);
}

static int monitor_new(struct agent *a, const struct fog_config *cfg)
{
	int rc;

	if (!cfg->monitor)
		return 0;
	a->watch = fog_watch__new(cfg);
	if (!a->watch)
		return -EINVAL; /* fog_watch__new said why */
	rc = fog_watch__register(a->watch, a->http);
	if (!rc)
		rc = fog_metrics_add(fog_watch__metrics, a->watch);
	return rc ? rc : fog_collect__subscribe(a->collect, "monitor", fog_watch__on_tick, a->watch);
}

static void monitor_reconfigure(struct agent *a, const struct fog_config *cfg)
{
	if (a->watch)
		fog_watch__reconfigure(a->watch, cfg);
}

static void monitor_free(struct agent *a)
{
	fog_collect__unsubscribe(a->collect, fog_watch__on_tick, a->watch);
	fog_watch__free(a->watch);
}

static int profiler_new(struct agent *a, const struct fog_config *cfg)
{
	a->prof = fog_profiler__new(a->http, a->loop, fog_collect__agg(a->collect),
				    fog_collect__cgroup(a->collect));
	return a->prof ? fog_metrics_add(fog_helper_metrics, NULL) : -errno;
}

static void profiler_free(struct agent *a)
{
	fog_profiler__free(a->prof);
}

static int continuous_new(struct agent *a, const struct fog_config *cfg)
{
	a->cont = fog_prof_continuous__new(a->http, a->loop, cfg);
	return a->cont ? 0 : -errno;
}

static void continuous_reconfigure(struct agent *a, const struct fog_config *cfg)
{
	fog_prof_continuous__reconfigure(a->cont, cfg);
}

static void continuous_free(struct agent *a)
{
	fog_prof_continuous__free(a->cont);
}

static int alert_capture_new(struct agent *a, const struct fog_config *cfg)
{
	if (!a->watch)
		return 0;
	a->acap = fog_alert_capture__new(a->http, a->loop, a->watch, a->cont, cfg);
	return a->acap ? 0 : -errno;
}

static void alert_capture_reconfigure(struct agent *a, const struct fog_config *cfg)
{
	if (a->acap)
		fog_alert_capture__reconfigure(a->acap, cfg);
}

static void alert_capture_free(struct agent *a)
{
	fog_alert_capture__free(a->acap);
	a->acap = NULL;
}

static int sched_new(struct agent *a, const struct fog_config *cfg)
{
	a->sched = fog_sched_agent__new(a->http, a->loop, cfg);
	if (!a->sched)
		return -errno;
	fog_sched_agent__set_collect(a->sched, a->collect);
	return fog_collect__subscribe(a->collect, "placement", fog_sched_agent__on_tick, a->sched);
}

static void sched_free(struct agent *a)
{
	fog_collect__unsubscribe(a->collect, fog_sched_agent__on_tick, a->sched);
	fog_sched_agent__free(a->sched);
}

static int api_new(struct agent *a, const struct fog_config *cfg)
{
	int rc = fog_api_register(a->http, a->collect, a->loop);

	return rc ? rc : fog_metrics_add(fog_heap_metrics, NULL);
}

static void uplink_on_tick(const struct fog_tick *t, void *ctx)
{
	fog_uplink_glue__tick(ctx);
}

static int uplink_new(struct agent *a, const struct fog_config *cfg)
{
	if (!strcmp(cfg->uplink_url, "off"))
		return 0;
	a->uplink = fog_uplink_glue__new(cfg, a->collect, a->http);
	if (!a->uplink) {
		fog_warnc(errno, "cannot start the uplink"); /* fogd goes on without it */
		return 0;
	}
	return fog_collect__subscribe(a->collect, "uplink", uplink_on_tick, a->uplink);
}

static void uplink_free(struct agent *a)
{
	fog_collect__unsubscribe(a->collect, uplink_on_tick, a->uplink);
	fog_uplink_glue__free(a->uplink);
}

static const struct part parts[] = {
	{ "collectors", collect_new, collect_reconfigure, collect_free },
	{ "HTTP server and /metrics", http_new, http_reconfigure, http_free },
	{ "monitor", monitor_new, monitor_reconfigure, monitor_free },
	{ "profiler", profiler_new, NULL, profiler_free },
	{ "continuous profiler", continuous_new, continuous_reconfigure, continuous_free },
	{ "alert profiles", alert_capture_new, alert_capture_reconfigure, alert_capture_free },
	{ "placement", sched_new, NULL, sched_free },
	{ "API", api_new, NULL, NULL },
	{ "uplink", uplink_new, NULL, uplink_free, .unprivileged = true },
};
#define N_PARTS (sizeof(parts) / sizeof(parts[0]))

/*
 * Starts the privileged parts in order, or with unprivileged the rest; *started
 * counts the parts started so far (to stop), the one that failed included.
 */
static int parts_new(struct agent *a, const struct fog_config *cfg, bool unprivileged,
		     size_t *started)
{
	for (; *started < N_PARTS && parts[*started].unprivileged == unprivileged; (*started)++) {
		const struct part *p = &parts[*started];
		int rc = p->new(a, cfg);

		if (rc) {
			fog_warnc(-rc, "cannot set up the %s", p->name);
			(*started)++; /* its free() undoes what it did */
			return rc;
		}
	}
	return 0;
}

static void parts_free(struct agent *a, size_t started)
{
	while (started--)
		if (parts[started].free)
			parts[started].free(a);
}

static void reload(struct agent *a)
{
	struct fog_config *next = &a->cfgs[!a->cur];
	const struct fog_config *cur = &a->cfgs[a->cur];
	char err[FOG_CONFIG_ERR_LEN];

	if (build_config(a, next, err, sizeof(err))) {
		fog_warnx("reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(next->socket_path, cur->socket_path) || strcmp(next->pin_path, cur->pin_path) ||
	    strcmp(next->socket_group, cur->socket_group))
		fog_warnx("reload: socket, socket_group and pin_path changes take effect at the next "
			  "start");
	/* the [uplink] fields are the struct's last: compared as one block */
	if (memcmp(next->uplink_url, cur->uplink_url,
		   sizeof(*next) - offsetof(struct fog_config, uplink_url)))
		fog_warnx("reload: [uplink] changes take effect at the next start");
	memcpy(next->socket_path, cur->socket_path, sizeof(next->socket_path));
	memcpy(next->socket_group, cur->socket_group, sizeof(next->socket_group));
	memcpy(next->pin_path, cur->pin_path, sizeof(next->pin_path));
	a->cur = !a->cur;
	apply_log_level(next, false);
	for (size_t i = 0; i < N_PARTS; i++)
		if (parts[i].reconfigure)
			parts[i].reconfigure(a, next);
	if (next->tick_ms != cur->tick_ms)
		fog_loop__set_timer(a->loop, a->tick_timer, next->tick_ms);
	fog_info("configuration reloaded from %s", a->config_path ? a->config_path :
				 "built-in defaults");
}

static void before_wait(struct fog_loop *loop, void *ctx)
{
	struct agent *a = ctx;

	if (got_term) {
		fog_loop__stop(loop);
		return;
	}
	if (got_hup) {
		got_hup = 0;
		reload(a);
	}
}

static int make_socket_dir(const char *sock)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reads the command line into a; returns -1 to go on, else the exit status. */
static int parse_args(struct agent *a, int argc, char **argv, bool *check, bool *verbose)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:o:nvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'o':
			if (a->n_overrides == MAX_OVERRIDES)
				fog_fatalx("more than %d -o settings", MAX_OVERRIDES);
			a->overrides[a->n_overrides++] = optarg;
			break;
		case 'n':
			*check = true;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("fogd %s\n", FOG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fogd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* What needs root before anything loads: capabilities, the symbol helper, mounts, pins. */
static void prepare_host(const struct fog_config *cfg)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char err[FOG_CONFIG_ERR_LEN];

	if (fog_privs_check(err, sizeof(err)))
		fog_fatalx("missing capabilities: %s; run fogd as root", err);
	if (!strcmp(cfg->helper_user, "off")) {
		fog_warnx("[fogd] helper_user is off: profiled programs' ELF and DWARF files are "
			  "parsed in fogd itself, as root");
	} else if (fog_helper_setup(cfg->helper_user, err, sizeof(err))) {
		fog_warnx("symbol helper: %s; profiled programs' ELF and DWARF files are parsed in "
			  "fogd itself, as root (make install creates the user fogd-sym)", err);
	} else {
		fog_info("profiled programs' ELF and DWARF files are parsed by a helper running "
			 "as %s", cfg->helper_user);
	}
	if (fog_mounts_ensure())
		fog_fatalx("bpffs is needed on /sys/fs/bpf");
	setrlimit(RLIMIT_MEMLOCK, &unlimited); /* older kernels charge BPF maps to memlock */
	if (fog_pins_prepare(cfg->pin_path))
		fog_fatalx("cannot use pin folder %s", cfg->pin_path);
	if (make_socket_dir(cfg->socket_path))
		fog_fatalx("cannot create the folder of socket %s: %s", cfg->socket_path,
			   strerror(errno));
}

/* Signals are delivered only inside epoll_pwait (waitmask): flags are then checked. */
static void block_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigdelset(waitmask, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* The Unix socket, the TCP listener when [http] listen is on, and the tick timer. */
static int serve(struct agent *a, const struct fog_config *cfg)
{
	const struct fog_http_policy policy = a->policy;
	char err[FOG_CONFIG_ERR_LEN];
	int rc;

	rc = fog_http__listen_unix(a->http, cfg->socket_path, policy.have_group ? 0660 : 0600,
				   policy.have_group ? (int)policy.group : -1);
	if (rc) {
		fog_warnc(-rc, "cannot serve the API on %s", cfg->socket_path);
		return rc;
	}
	fog_info("serving the API on %s to root%s%s", cfg->socket_path,
		 policy.have_group ? " and group " : "", policy.have_group ? cfg->socket_group : "");
	if (strcmp(cfg->http_listen, "off")) {
		char host[64];
		unsigned int port;

		/* the form was checked with the configuration */
		fog_config_parse_listen(cfg->http_listen, host, sizeof(host), &port, err,
					sizeof(err));
		rc = fog_http__listen_tcp(a->http, host, port);
		if (rc) {
			fog_warnc(-rc, "cannot listen on %s", cfg->http_listen);
			return rc;
		}
		fog_info("serving /metrics%s%s on http://%s", cfg->tcp_api ? ", the API's reads" : "",
			 cfg->tcp_pprof ? ", profiles and pprof" : "", cfg->http_listen);
	}
	a->tick_timer = fog_loop__add_timer(a->loop, "tick", cfg->tick_ms, on_tick, a);
	if (a->tick_timer < 0) {
		fog_warnc(-a->tick_timer, "cannot create the tick timer");
		return a->tick_timer;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct agent a = { .tick_timer = -1 };
	char err[FOG_CONFIG_ERR_LEN];
	bool check = false, verbose = false;
	struct fog_config *cfg;
	sigset_t waitmask;
	size_t started = 0;
	int rc;

	/* fogd run again by itself as its symbol helper (symhelper.c): nothing else here */
	if (argc == 2 && !strcmp(argv[1], FOG_HELPER_ARG))
		fog_helper_main(3);
	/*
	 * Large buffers (kernel BTF read while the collectors load, ELF copies,
	 * renders) are mapped on their own and given back when freed: glibc would
	 * otherwise raise its mmap threshold after the first such free and keep
	 * them in the heap, where what is freed stays resident (idle RSS 20 MiB,
	 * 15 MiB with this)
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	rc = parse_args(&a, argc, argv, &check, &verbose);
	if (rc >= 0)
		return rc;
	cfg = &a.cfgs[0];
	if (build_config(&a, cfg, err, sizeof(err)))
		fog_fatalx("bad configuration: %s", err);
	if (http_policy(cfg, &a.policy, err, sizeof(err)))
		fog_fatalx("bad configuration: %s", err);
	if (check) {
		printf("; configuration ok: %s\n", a.config_path ? a.config_path : "built-in defaults");
		fog_config_write(cfg, stdout);
		return 0;
	}
	apply_log_level(cfg, verbose);
	fog_log_route_libbpf();
	prepare_host(cfg);
	block_signals(&waitmask);

	/* fogd's own tables and response buffers live on libfog's arena and pool */
	rc = fog_heap_init();
	if (rc)
		fog_fatalx("cannot set up fogd's arena and buffer pool: %s", strerror(-rc));
	a.loop = fog_loop__new();
	if (!a.loop)
		fog_fatalx("cannot create the event loop: %s", strerror(errno));
	rc = fog_heap_watch(a.loop);
	if (rc)
		fog_warnc(-rc, "memory pressure is not watched");
	rc = parts_new(&a, cfg, false, &started);
	if (!rc)
		rc = serve(&a, cfg);
	/* privileged set-up is done: keep only what reloads and profiles need */
	if (!rc)
		rc = fog_privs_drop();
	/* the uplink's thread starts with the capabilities fogd keeps, no more */
	if (!rc)
		rc = parts_new(&a, cfg, true, &started);
	if (!rc) {
		fog_loop__set_pre(a.loop, before_wait, &a);
		fog_collect__tick(a.collect); /* a first reading, so rates start at the next tick */
		rc = fog_loop__run(a.loop, &waitmask);
		if (rc)
			fog_warnc(-rc, "event loop failed");
		fog_info("stopping: detaching programs and removing pins");
	}
	parts_free(&a, started);
	fog_helper_shutdown();
	fog_pins_cleanup(a.cfgs[a.cur].pin_path);
	fog_heap_fini(); /* takes its pressure fd out of the loop: before the loop goes */
	fog_loop__free(a.loop);
	return rc ? 1 : 0;
}
