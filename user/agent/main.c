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
#include "agent/heap.h"
#include "agent/helper.h"
#include "agent/log.h"
#include "agent/loop.h"
#include "agent/privs.h"
#include "collect/collector.h"
#include "export/api.h"
#include "export/http.h"
#include "export/metrics.h"
#include "monitor/watch.h"
#include "profile/continuous.h"
#include "profile/server.h"
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
	struct fog_watch *watch;	/* NULL when [monitor] enabled is off */
	struct fog_profiler *prof;
	struct fog_prof_continuous *cont;	/* [profile] continuous */
	struct fog_sched_agent *sched;
	struct fog_uplink_glue *uplink;	/* NULL when [uplink] url is off */
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

	fog_collect__tick(a->collect);
	if (a->watch)
		fog_watch__tick(a->watch);
	if (a->uplink)
		fog_uplink_glue__tick(a->uplink);
	fog_http__run(a->http);
}

static void reload(struct agent *a)
{
	struct fog_config *next = &a->cfgs[!a->cur];
	const struct fog_config *cur = &a->cfgs[a->cur];
	char err[FOG_CONFIG_ERR_LEN];
	struct fog_http_policy policy;

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
	if (!http_policy(next, &policy, err, sizeof(err)))
		fog_http__set_policy(a->http, &policy);
	fog_collect__reconfigure(a->collect, next);
	if (a->watch)
		fog_watch__reconfigure(a->watch, next);
	fog_prof_continuous__reconfigure(a->cont, next);
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

int main(int argc, char **argv)
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
	static struct agent a = { .tick_timer = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[FOG_CONFIG_ERR_LEN];
	sigset_t block, waitmask;
	bool check = false, verbose = false;
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct fog_config *cfg;
	struct fog_http_policy policy;
	int opt, rc, running;

	/* fogd run again by itself as its symbol helper (helper.c): nothing else here */
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
	while ((opt = getopt_long(argc, argv, "c:o:nvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a.config_path = optarg;
			break;
		case 'o':
			if (a.n_overrides == MAX_OVERRIDES)
				fog_fatalx("more than %d -o settings", MAX_OVERRIDES);
			a.overrides[a.n_overrides++] = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
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
	cfg = &a.cfgs[0];
	if (build_config(&a, cfg, err, sizeof(err)))
		fog_fatalx("bad configuration: %s", err);
	if (http_policy(cfg, &policy, err, sizeof(err)))
		fog_fatalx("bad configuration: %s", err);
	if (check) {
		printf("; configuration ok: %s\n", a.config_path ? a.config_path : "built-in defaults");
		fog_config_write(cfg, stdout);
		return 0;
	}
	apply_log_level(cfg, verbose);
	fog_log_route_libbpf();

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

	/* signals are delivered only inside epoll_pwait: flags are then checked */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* fogd's own tables and response buffers live on libfog's arena and pool */
	rc = fog_heap_init();
	if (rc)
		fog_fatalx("cannot set up fogd's arena and buffer pool: %s", strerror(-rc));
	a.loop = fog_loop__new();
	if (!a.loop)
		fog_fatalx("cannot create the event loop: %s", strerror(errno));
	rc = fog_heap_watch(a.loop);
	if (rc)
		fog_warnx("memory pressure is not watched: %s", strerror(-rc));
	a.collect = fog_collect__new(cfg, a.loop);
	if (!a.collect)
		fog_fatalx("cannot set up collection: %s", strerror(errno));
	running = fog_collect__start(a.collect);
	fog_info("%d of %u collectors running", running, a.collect->n_collectors);

	a.http = fog_http__new(a.loop);
	if (!a.http)
		fog_fatalx("out of memory");
	fog_http__set_policy(a.http, &policy);
	if (cfg->monitor) {
		a.watch = fog_watch__new(cfg, a.collect);
		if (!a.watch)
			fog_fatalx("cannot set up the monitor (see above)");
	}
	rc = fog_metrics_register(a.http, a.collect);
	if (!rc) {
		a.prof = fog_profiler__new(a.http, a.collect);
		rc = a.prof ? 0 : -errno;
	}
	if (!rc) {
		a.cont = fog_prof_continuous__new(a.http, a.loop, cfg);
		rc = a.cont ? 0 : -errno;
	}
	if (!rc) {
		a.sched = fog_sched_agent__new(a.http, a.collect, a.loop, cfg);
		rc = a.sched ? 0 : -errno;
	}
	if (!rc)
		rc = fog_api_register(a.http, a.collect);
	if (!rc && a.watch)
		rc = fog_watch__register(a.watch, a.http);
	if (!rc && a.watch)
		rc = fog_metrics_add(fog_watch__metrics, a.watch);
	if (!rc)
		rc = fog_metrics_add(fog_heap_metrics, NULL);
	if (!rc)
		rc = fog_metrics_add(fog_helper_metrics, NULL);
	if (!rc)
		rc = fog_http__listen_unix(a.http, cfg->socket_path, policy.have_group ? 0660 : 0600,
					   policy.have_group ? (int)policy.group : -1);
	if (rc) {
		fog_warnx("cannot serve the API on %s: %s", cfg->socket_path, strerror(-rc));
		goto out;
	}
	fog_info("serving the API on %s to root%s%s", cfg->socket_path,
		 policy.have_group ? " and group " : "", policy.have_group ? cfg->socket_group : "");
	if (strcmp(cfg->http_listen, "off")) {
		char host[64];
		unsigned int port;

		/* the form was checked with the configuration */
		fog_config_parse_listen(cfg->http_listen, host, sizeof(host), &port, err,
					sizeof(err));
		rc = fog_http__listen_tcp(a.http, host, port);
		if (rc) {
			fog_warnx("cannot listen on %s: %s", cfg->http_listen, strerror(-rc));
			goto out;
		}
		fog_info("serving /metrics%s%s on http://%s", cfg->tcp_api ? ", the API's reads" : "",
			 cfg->tcp_pprof ? ", profiles and pprof" : "", cfg->http_listen);
	}
	a.tick_timer = fog_loop__add_timer(a.loop, "tick", cfg->tick_ms, on_tick, &a);
	if (a.tick_timer < 0) {
		rc = a.tick_timer;
		fog_warnx("cannot create the tick timer: %s", strerror(-rc));
		goto out;
	}
	/* privileged set-up is done: keep only what reloads and profiles need */
	rc = fog_privs_drop();
	if (rc)
		goto out;
	/* its thread starts with the capabilities fogd keeps, no more */
	if (strcmp(cfg->uplink_url, "off")) {
		a.uplink = fog_uplink_glue__new(cfg, a.collect, a.http);
		if (!a.uplink)
			fog_warnx("cannot start the uplink: %s", strerror(errno));
	}
	fog_loop__set_pre(a.loop, before_wait, &a);
	fog_collect__tick(a.collect); /* a first reading, so rates start at the next tick */
	rc = fog_loop__run(a.loop, &waitmask);
	if (rc)
		fog_warnx("event loop failed: %s", strerror(-rc));
	fog_info("stopping: detaching programs and removing pins");
out:
	fog_prof_continuous__free(a.cont);
	fog_profiler__free(a.prof);
	fog_sched_agent__free(a.sched);
	fog_http__free(a.http);
	fog_uplink_glue__free(a.uplink); /* after the server: /metrics reads its figures */
	fog_watch__free(a.watch);
	fog_collect__free(a.collect);
	fog_helper_shutdown();
	fog_pins_cleanup(a.cfgs[a.cur].pin_path);
	fog_heap_fini(); /* takes its pressure fd out of the loop: before the loop goes */
	fog_loop__free(a.loop);
	return rc ? 1 : 0;
}
