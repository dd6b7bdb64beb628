// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TCP server on 127.0.0.1 that accepts connections, reads what clients send and never
 * answers: an Alertmanager or webhook endpoint that hangs, for the fault tests.
 * Usage: hang_server [PORT]. Prints "port <n>" once listening (PORT 0 or absent: the
 * kernel picks one), then "accepted <count>" for every connection and "closed <count>"
 * whenever a client gives up, so a test can check that its client did connect and retry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd fds[MAX_CONNS + 1];
	socklen_t len = sizeof(sa);
	unsigned long accepted = 0, closed = 0;
	int one = 1, n = 1;
	char buf[4096];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 0);
	fds[0].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds[0].events = POLLIN;
	if (fds[0].fd < 0 ||
	    setsockopt(fds[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fds[0].fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fds[0].fd, 64) ||
	    getsockname(fds[0].fd, (struct sockaddr *)&sa, &len)) {
		fprintf(stderr, "hang_server: %s\n", strerror(errno));
		return 1;
	}
	printf("port %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hang_server: poll: %s\n", strerror(errno));
			return 1;
		}
		/* clients: drain what they send, forget the ones that hung up */
		for (int i = n - 1; i >= 1; i--) {
			if (!fds[i].revents)
				continue;
			if (read(fds[i].fd, buf, sizeof(buf)) > 0)
				continue;
			close(fds[i].fd);
			fds[i] = fds[--n];
			printf("closed %lu\n", ++closed);
			fflush(stdout);
		}
		if (fds[0].revents & POLLIN) {
			int c = accept4(fds[0].fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			if (n == MAX_CONNS + 1) {	/* full: this one is refused after all */
				close(c);
				continue;
			}
			fds[n].fd = c;
			fds[n].events = POLLIN;
			fds[n++].revents = 0;
			printf("accepted %lu\n", ++accepted);
			fflush(stdout);
		}
	}
}
