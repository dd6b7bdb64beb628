/* SPDX-License-Identifier: GPL-2.0-only */
/* fogctl's pieces: one HTTP client for fogd's Unix socket, and the subcommands in other files. */
#ifndef FOGCTL_H
#define FOGCTL_H

#include <stddef.h>

#define FOGCTL_DEFAULT_SOCKET "/run/fogd/fogd.sock"

struct fogctl_buf {
	char *p;	/* NUL-terminated body, malloc'd; NULL when empty */
	size_t len;
};

/* The socket: $FOGCTL_SOCKET (set by --socket) or the default. */
const char *fogctl_socket(void);
/*
 * One request to fogd (body: JSON or NULL); returns the HTTP status, or -1
 * when fogd could not be reached (a message saying so is printed).
 */
long fogctl_request(const char *method, const char *path, const char *body,
		    struct fogctl_buf *out, long timeout_s);

int fogctl_profile(int argc, char **argv);
int fogctl_sched(int argc, char **argv);

#endif /* FOGCTL_H */
