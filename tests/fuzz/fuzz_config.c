// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration parser: fogd's INI file (fog_config_load, libinih) and its
 * `-o section.key=value` flags (fog_config_set, fog_config_parse_listen).
 * The first byte picks the mode; the rest is the file or one assignment per line.
 * Properties: a failure is a negative errno with a message; a file that loads
 * writes out (fog_config_write) as a file that loads back to the same config.
 * A line longer than libinih's buffer must be refused, not split in two.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/config.h"
#include "fuzz.h"

static void load_fd(int fd, struct fog_config *cfg, int *rc, char *err, size_t errlen)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fog_config_defaults(cfg);
	err[0] = '\0';
	*rc = fog_config_load(cfg, path, err, errlen);
}

static char *write_text(const struct fog_config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	FUZZ_CHECK(f);
	fog_config_write_exact(cfg, f);
	fclose(f);
	return text;
}

/*
 * fog_config_write's text of cfg must load back into the same values: compared
 * as written text, which holds every option (strings may differ past their NUL).
 */
static void check_round_trip(const struct fog_config *cfg)
{
	char err[FOG_CONFIG_ERR_LEN], *text, *again;
	size_t len, len2;
	struct fog_config back;
	int fd, rc;

	text = write_text(cfg, &len);
	fd = fuzz_memfd(text, len);
	load_fd(fd, &back, &rc, err, sizeof(err));
	close(fd);
	if (rc)
		fprintf(stderr, "fuzz: the written config does not load: %s\n%s", err, text);
	FUZZ_CHECK(rc == 0);
	again = write_text(&back, &len2);
	if (len != len2 || memcmp(text, again, len))
		fprintf(stderr, "fuzz: the written config\n%s\nfuzz: loads as\n%s", text, again);
	FUZZ_CHECK(len == len2 && !memcmp(text, again, len));
	free(again);
	free(text);
}

/* The longest line in data, newline excluded. */
static size_t longest_line(const uint8_t *data, size_t size)
{
	size_t best = 0, cur = 0;

	for (size_t i = 0; i < size; i++) {
		cur = data[i] == '\n' ? 0 : cur + 1;
		if (cur > best)
			best = cur;
	}
	return best;
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	char err[FOG_CONFIG_ERR_LEN];
	struct fog_config cfg;
	int fd = fuzz_memfd(data, size), rc;

	load_fd(fd, &cfg, &rc, err, sizeof(err));
	close(fd);
	/* libinih reads lines into 200 bytes: a longer line must be refused, not split */
	if (longest_line(data, size) >= 200)
		FUZZ_CHECK(rc != 0);
	if (rc) {
		FUZZ_CHECK(fuzz_is_neg_errno(rc));
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	check_round_trip(&cfg);
}

static void fuzz_assignments(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *line, *save = NULL;
	char err[FOG_CONFIG_ERR_LEN], host[64];
	struct fog_config cfg;
	unsigned int port;

	fog_config_defaults(&cfg);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int rc;

		err[0] = '\0';
		rc = fog_config_set(&cfg, line, err, sizeof(err));
		if (rc) {
			FUZZ_CHECK(fuzz_is_neg_errno(rc));
			FUZZ_CHECK(err[0] != '\0');
		}
		err[0] = '\0';
		port = 0;
		rc = fog_config_parse_listen(line, host, sizeof(host), &port, err, sizeof(err));
		if (rc) {
			FUZZ_CHECK(fuzz_is_neg_errno(rc));
			FUZZ_CHECK(err[0] != '\0');
		} else {
			FUZZ_CHECK(host[0] != '\0' && strlen(host) < sizeof(host));
			FUZZ_CHECK(port >= 1 && port <= 65535);
		}
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		fuzz_assignments(data + 1, size - 1);
	else
		fuzz_file(data + 1, size - 1);
	return 0;
}
