// SPDX-License-Identifier: GPL-2.0-only
/*
 * Traffic with known sizes for test_net.sh; what it did is printed as one
 * JSON line, the ground truth the test compares fogd's figures with.
 *
 *   net_send tcp BYTES
 *	connects to a listener of its own on 127.0.0.1 and sends BYTES over
 *	loopback; a thread reads them back: {"sent":N,"received":N}
 *   net_send udp ADDR PORT COUNT SIZE
 *	sends COUNT IPv4 datagrams of SIZE payload bytes: {"sent":COUNT,"bytes":N}
 *   net_send udp-sink ADDR PORT COUNT SECONDS
 *	binds ADDR:PORT, prints "ready" and receives until COUNT datagrams came
 *	or SECONDS passed: {"received":N}; exits 1 when fewer came
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static void die(const char *what)
{
	fprintf(stderr, "net_send: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long long parse_num(const char *s, unsigned long long max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "net_send: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)parse_num(port, 65535, "port"));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "net_send: bad IPv4 address '%s'\n", ip);
		exit(2);
	}
}

struct reader {
	int lfd;
	unsigned long long received;
	int err;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	char rbuf[1 << 16];
	int fd = accept(r->lfd, NULL, NULL);
	ssize_t n;

	if (fd < 0) {
		r->err = errno;
		return NULL;
	}
	while ((n = read(fd, rbuf, sizeof(rbuf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		r->received += (unsigned long long)n;
	}
	close(fd);
	return NULL;
}

static int do_tcp(unsigned long long bytes)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct reader r = { 0 };
	unsigned long long sent = 0;
	pthread_t tid;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r.lfd < 0)
		die("socket");
	if (bind(r.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(r.lfd, 1) ||
	    getsockname(r.lfd, (struct sockaddr *)&sa, &len))
		die("listen on 127.0.0.1");
	if (pthread_create(&tid, NULL, read_all, &r))
		die("pthread_create");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	memset(buf, 'n', sizeof(buf));
	while (sent < bytes) {
		size_t chunk = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
		ssize_t n = write(fd, buf, chunk);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		sent += (unsigned long long)n;
	}
	close(fd);
	pthread_join(tid, NULL);
	close(r.lfd);
	if (r.err) {
		errno = r.err;
		die("reading back");
	}
	printf("{\"sent\":%llu,\"received\":%llu}\n", sent, r.received);
	return r.received == sent ? 0 : 1;
}

static int do_udp(const struct sockaddr_in *sa, unsigned long long count, size_t size)
{
	unsigned long long sent = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	memset(buf, 'u', size);
	while (sent < count) {
		ssize_t n = sendto(fd, buf, size, 0, (const struct sockaddr *)sa, sizeof(*sa));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("sendto");
		}
		if ((size_t)n != size) {
			fprintf(stderr, "net_send: short datagram %zd of %zu\n", n, size);
			return 1;
		}
		/* a breather now and then: the receiving side's backlog stays short */
		if (++sent % 50 == 0)
			usleep(1000);
	}
	close(fd);
	printf("{\"sent\":%llu,\"bytes\":%llu}\n", sent, sent * size);
	return 0;
}

static int do_sink(const struct sockaddr_in *sa, unsigned long long count, unsigned int seconds)
{
	struct timespec start, now;
	unsigned long long got = 0;
	int rcvbuf = 8 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	/* room for every datagram even if the reader is slow (root may exceed rmem_max) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		die("bind");
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (got < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left_ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (long)seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
						 (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0)
			break;
		if (poll(&p, 1, (int)left_ms) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!(p.revents & POLLIN))
			continue;
		if (recv(fd, buf, sizeof(buf), 0) >= 0)
			got++;
		else if (errno != EINTR)
			die("recv");
	}
	close(fd);
	printf("{\"received\":%llu}\n", got);
	return got == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc == 3 && !strcmp(argv[1], "tcp"))
		return do_tcp(parse_num(argv[2], 1ull << 40, "byte count"));
	if (argc == 6 && !strcmp(argv[1], "udp")) {
		parse_addr(argv[2], argv[3], &sa);
		return do_udp(&sa, parse_num(argv[4], 1u << 30, "count"),
			      (size_t)parse_num(argv[5], 1400, "size"));
	}
	if (argc == 6 && !strcmp(argv[1], "udp-sink")) {
		parse_addr(argv[2], argv[3], &sa);
		return do_sink(&sa, parse_num(argv[4], 1u << 30, "count"),
			       (unsigned int)parse_num(argv[5], 3600, "seconds"));
	}
	fprintf(stderr, "usage: net_send tcp BYTES | udp ADDR PORT COUNT SIZE |"
			" udp-sink ADDR PORT COUNT SECONDS\n");
	return 2;
}
