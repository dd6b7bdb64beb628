// SPDX-License-Identifier: GPL-2.0-only
/* fogctl's command tables: dispatch by name, as bpftool's cmd_select does. */
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
	for (size_t i = 0; i < n; i++) {
		if (table[i].fn)
			fprintf(f, "  %-10s %s\n", table[i].name, table[i].help);
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
