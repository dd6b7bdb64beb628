// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drives libfog's monitor for test_alertmanager.sh, through the public API
 * only: thresholds on cpu (warning 0.5, critical 0.9, no `for`, no
 * hysteresis) and one Alertmanager. It reads commands on stdin and answers
 * each with one line on stdout:
 *   observe RESOURCE VALUE  -> "observed MS" (how long the call took)
 *   flush SECONDS           -> "flushed ERR" (0 when everything was delivered)
 *   stats                   -> "stats sent N retried N failed N dropped N"
 * Usage: am_push ALERTMANAGER_URL INSTANCE RESEND_SECONDS
 * Linked against libfog.a; not built by the Makefile's helper rule, which
 * builds stand-alone programs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fog/monitor.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct fog_monitor_opts o = { .retry_seconds = 0.2,
				      .retry_max_seconds = 1,
				      .max_attempts = 60,
				      .http_timeout_seconds = 2 };
	struct fog_monitor *mon;
	char line[256];

	if (argc != 4) {
		fprintf(stderr, "usage: %s ALERTMANAGER_URL INSTANCE RESEND_SECONDS\n", argv[0]);
		return 2;
	}
	o.instance = argv[2];
	o.generator_url = "http://127.0.0.1/am_push";
	mon = fog_monitor__new(&o);
	if (!mon) {
		fprintf(stderr, "am_push: %s\n", fog_monitor_errmsg());
		return 1;
	}
	if (fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.5, 0.9, 0, 0) ||
	    fog_monitor__add_alertmanager(mon, argv[1], atof(argv[3]), FOG_ALERT_ERROR)) {
		fprintf(stderr, "am_push: %s\n", fog_monitor_errmsg());
		fog_monitor__free(mon);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32], name[32];
		double v;

		if (sscanf(line, "observe %31s %lf", name, &v) == 2) {
			struct fog_monitor_sample s;
			enum fog_monitor_resource r;
			double t0 = clock_s(CLOCK_MONOTONIC);
			int err;

			fog_monitor_sample_init(&s);
			err = fog_monitor_resource_parse(name, &r);
			if (!err) {
				s.value[r] = v;
				err = fog_monitor__observe(mon, clock_s(CLOCK_REALTIME), &s);
			}
			if (err)
				fprintf(stderr, "am_push: %s\n", fog_monitor_errmsg());
			printf("observed %.3f\n", (clock_s(CLOCK_MONOTONIC) - t0) * 1000);
		} else if (sscanf(line, "flush %lf", &v) == 1) {
			printf("flushed %d\n", fog_monitor__flush(mon, v));
		} else if (sscanf(line, "%31s", cmd) == 1 && !strcmp(cmd, "stats")) {
			struct fog_monitor_stats st;

			fog_monitor__stats(mon, &st);
			printf("stats sent %lu retried %lu failed %lu dropped %lu\n", st.posts_sent,
			       st.posts_retried, st.posts_failed, st.posts_dropped);
		} else {
			printf("error unknown command\n");
		}
	}
	fog_monitor__free(mon);
	return 0;
}
