/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogctl's shared pieces, in bpftool's shape: one output writer and one error
 * printer (JSON with --json, plain text otherwise), one duration parser, one
 * HTTP client for fogd's Unix socket, and command tables that every command
 * family (sched, profile, ...) dispatches from.
 */
#ifndef FOGCTL_H
#define FOGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define FOGCTL_DEFAULT_SOCKET "/run/fogd/fogd.sock"

/* ---- the command tables (fogctl_cmd.c) ---- */

/*
 * A handler gets its own name in argv[0] (argc counts it), as getopt_long
 * expects with optind = 1. It returns the exit status: 0, 1 when the request
 * failed (said through fogctl_err), 2 for a bad command line.
 */
typedef int (*fogctl_cmd_fn)(int argc, char **argv);

struct fogctl_cmd {
	const char *name;
	fogctl_cmd_fn fn;	/* NULL: not built in (a weak symbol), skipped */
	const char *help;	/* one line for the family's usage */
};

/* Command line state set once by main: no environment variables carry it. */
struct fogctl_opts {
	bool json;		/* --json: JSON on stdout, errors too */
	const char *socket;	/* --socket, else $FOGCTL_SOCKET, else the default */
	char cmd[64];		/* the command being run ("sched submit"), for messages */
};

extern struct fogctl_opts fogctl_opts;

/*
 * argv[0] is the family's word ("sched"), argv[1] the command: runs the row of
 * table named argv[1] with argv[1] as its argv[0], adding the name to
 * fogctl_opts.cmd for messages. help, -h or --help print usage on stdout; an
 * unknown command is an error (exit 2). fallback, when not NULL, runs with
 * argv as given when argv[1] is missing or starts with '-' (profile's options).
 */
int fogctl_dispatch(const struct fogctl_cmd *table, size_t n, void (*usage)(FILE *f),
		    fogctl_cmd_fn fallback, int argc, char **argv);
void fogctl_usage_table(FILE *f, const struct fogctl_cmd *table, size_t n);
struct option;
/*
 * getopt_long (optind set by the caller) whose errors go through fogctl_err:
 * '?' once an unknown option or a missing value is said.
 */
int fogctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Pulls --json out of argv (up to a "--"), sets fogctl_opts.json; returns the new argc. */
int fogctl_take_json(int argc, char **argv);

/* ---- the output writer and error printer (fogctl_out.c) ---- */

typedef void (*fogctl_text_fn)(FILE *f, json_t *j);

/* Tests point the writer at their own streams; NULL restores stdout/stderr. */
void fogctl_out_redirect(FILE *out, FILE *err);
FILE *fogctl_out(void);
FILE *fogctl_errf(void);
/* Prints j as indented JSON with --json, else as text through text (NULL: JSON). */
void fogctl_show(json_t *j, fogctl_text_fn text);
/* Prints j as indented JSON, whatever the mode. */
void fogctl_print_json(json_t *j);

/*
 * The one error printer. Plain: "fogctl CMD: message" on stderr (" (HTTP N)"
 * added for fogctl_err_status), control bytes shown as '?'. --json: one
 * object {"error": "message"} on stdout, with "status": N when fogd answered
 * with HTTP status N (fogctl_err_status); only the first error of a run goes
 * to stdout, so stdout holds one JSON value (later ones go to stderr as text).
 */
void fogctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fogctl_err_status(long status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * fogd refused: says what failed and fogd's "error" from body (a JSON text or
 * NULL) with the status: "WHAT: REASON (HTTP N)" or {"error": "WHAT: REASON",
 * "status": N}; what may be NULL.
 */
void fogctl_err_api(const char *what, long status, const char *body);
/* A note for people on stderr ("fogctl CMD: ..."), in both modes. */
void fogctl_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How many errors were said (tests; a command that failed said one). */
unsigned int fogctl_err_count(void);

/* ---- parsing of option values (fogctl_parse.c) ---- */

#define FOGCTL_NS_PER_S 1000000000ULL

/*
 * The one duration syntax: digits with an optional fraction ("1", "1.5", ".5")
 * and an optional unit ms, s, m or h; a bare number is seconds. Nothing else:
 * no sign, exponent, space or text after the unit. 0 and *ns in nanoseconds
 * (fraction digits past 1 ns dropped), or -EINVAL / -ERANGE (over 2^64 ns,
 * about 584 years) with *why saying what is wrong.
 */
int fogctl_parse_duration(const char *s, uint64_t *ns, const char **why);

enum fogctl_dur_flags {
	FOGCTL_DUR_ZERO = 1 << 0,	/* 0 is a valid value */
};

/*
 * The value of option opt as a duration; on bad input prints one error naming
 * opt and the value and returns -EINVAL (or -ERANGE).
 */
int fogctl_opt_duration(const char *opt, const char *val, unsigned int flags, uint64_t *ns);
/*
 * A duration in whole seconds, at least 1: a fraction is rounded up to the
 * next second (*rounded set true), as fogd's profiles last whole seconds.
 */
int fogctl_opt_seconds(const char *opt, const char *val, unsigned int *s, bool *rounded);
/* A whole number in [min, max], decimal digits only; errors as above. */
int fogctl_opt_uint(const char *opt, const char *val, unsigned long long min,
		    unsigned long long max, unsigned long long *out);
/* A finite number as strtod reads it ("0.5", "-1", "1e3"); errors as above. */
int fogctl_opt_number(const char *opt, const char *val, double *out);

/* ---- fogd's socket (fogctl_http.c) ---- */

struct fogctl_buf {
	char *p;	/* NUL-terminated body, malloc'd; NULL when empty */
	size_t len;
};

/* The socket: --socket, $FOGCTL_SOCKET or the default. */
const char *fogctl_socket(void);
/*
 * One request to fogd (body: JSON or NULL); returns the HTTP status, or -1
 * when fogd could not be reached (said through fogctl_err).
 */
long fogctl_request(const char *method, const char *path, const char *body,
		    struct fogctl_buf *out, long timeout_s);
/*
 * One request whose answer is JSON: the status (or -1, said), *out the parsed
 * body or NULL. An answer other than expect is said through fogctl_err_api(what).
 */
long fogctl_call(const char *what, const char *method, const char *path, const char *body,
		 long expect, json_t **out);
/* GET path expecting 200; the JSON or NULL once the error is said (quiet: not said). */
json_t *fogctl_get_json(const char *path, bool quiet);
/* A call answered expect, shown by fogctl_show; 0, or 1 once the error is said. */
int fogctl_call_show(const char *what, const char *method, const char *path, const char *body,
		     long expect, fogctl_text_fn text);
/* s escaped for a URL path or query (malloc'd, free()); NULL when out of memory. */
char *fogctl_escape(const char *s);

/* ---- command families, each in its own files ---- */

int fogctl_profile(int argc, char **argv);
int fogctl_profile_run(int argc, char **argv);
int fogctl_profile_continuous(int argc, char **argv);
int fogctl_profile_alert(int argc, char **argv);
/*
 * `fogctl profile diff`, in tools/fogctl_profile_diff.c when built: a weak
 * symbol, so the profile table lists it only when that file is linked in.
 */
int fogctl_profile_diff(int argc, char **argv) __attribute__((weak));
int fogctl_sched(int argc, char **argv);
int fogctl_sched_submit(int argc, char **argv);
int fogctl_sched_report(int argc, char **argv);
int fogctl_top(int argc, char **argv);
/* fogctl neighbours: run-queue wait charged to culprits (fogctl_neighbours.c) */
int fogctl_neighbours(int argc, char **argv);
/* The commands that show one API answer (status, metrics, alerts, ...): fogctl_host.c */
int fogctl_status(int argc, char **argv);
int fogctl_events(int argc, char **argv);
int fogctl_metrics(int argc, char **argv);
int fogctl_alerts(int argc, char **argv);
int fogctl_trends(int argc, char **argv);
int fogctl_recommend(int argc, char **argv);
int fogctl_get(int argc, char **argv);

/* Shared text helpers for the renderers (fogctl_out.c). */
double fogctl_num(const json_t *o, const char *key, double missing);
/* An integer member, 0 when missing or not an integer (json_integer_value's rule). */
long long fogctl_int(const json_t *o, const char *key);
const char *fogctl_str(const json_t *o, const char *key, const char *missing);
/* s with control bytes (below 0x20, 0x7f) as '?', into buf: tenant names on a terminal */
const char *fogctl_safe(const char *s, char *buf, size_t len);

#endif /* FOGCTL_H */
