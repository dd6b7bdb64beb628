// SPDX-License-Identifier: GPL-2.0-only
/* fogctl's command tables: dispatch by name, as bpftool's cmd_select does. */
#include <getopt.h>
#include <string.h>

#include "fogctl.h"

static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

/* Adds name to the command path of messages ("sched" -> "sched submit"). */
static void push_name(const char *name)
{
	size_t n = strlen(fogctl_opts.cmd);

	snprintf(fogctl_opts.cmd + n, sizeof(fogctl_opts.cmd) - n, "%s%s", n ? " " : "", name);
}

int fogctl_dispatch(const struct fogctl_cmd *table, size_t n, void (*usage)(FILE *f),
		    fogctl_cmd_fn fallback, int argc, char **argv)
{
	if (fallback && (argc < 2 || argv[1][0] == '-'))
		return fallback(argc, argv);
	if (argc < 2) {
		fogctl_err("a command is missing");
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!table[i].fn || strcmp(argv[1], table[i].name))
			continue;
		push_name(table[i].name);
		return table[i].fn(argc - 1, argv + 1);
	}
	fogctl_err("unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}

void fogctl_usage_table(FILE *f, const struct fogctl_cmd *table, size_t n)
{
	int width = 10;	/* the names' column: at least this, else the longest name */

	for (size_t i = 0; i < n; i++)
		if (table[i].fn && (int)strlen(table[i].name) > width)
			width = (int)strlen(table[i].name);
	for (size_t i = 0; i < n; i++) {
		if (table[i].fn)
			fprintf(f, "  %-*s %s\n", width, table[i].name, table[i].help);
	}
}

int fogctl_take_json(int argc, char **argv)
{
	int i = 1, o = 1;

	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--json"))
			fogctl_opts.json = true;
		else
			argv[o++] = argv[i];
	}
	for (; i < argc; i++)
		argv[o++] = argv[i];
	argv[o] = NULL;
	return o;
}

int fogctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char opts[64];
	int opt;

	/* ':' first (after a '+'): a missing value is told apart from an unknown option */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, opts, longopts, NULL);
	if (opt == ':') {
		fogctl_err("option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (opt == '?') {
		if (strchr(argv[optind - 1], '='))
			fogctl_err("option '%s' is unknown or takes no value", argv[optind - 1]);
		else if (optopt && optopt < 0x100 && argv[optind - 1][1] != '-')
			fogctl_err("unknown option '-%c'", optopt);
		else
			fogctl_err("unknown option '%s'", argv[optind - 1]);
	}
	return opt;
}
