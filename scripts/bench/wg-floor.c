// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * wg-floor: the tight floor of scripts/bench-mesh. The loose bound writes
 * every gateway's end state with `wg setconf`, one process per gateway;
 * this writes the same end state from one process, through WireGuard's
 * netlink API (the embeddable library of wireguard-tools, compiled from
 * the installed package through rosterd's wglib.c), entering each
 * gateway's namespace with setns(): no process start, one netlink
 * transaction per gateway (the library splits it only where a message
 * would overflow). Nothing faster can program the same peers.
 *
 *   wg-floor [-p PORT] SRC DST NS...
 *
 * For every NS (a name under /run/netns) reads interface SRC (the end
 * state rosterd programmed; untimed), then, timed, writes it onto DST
 * (which must exist, empty: `wg-watch mkdev -r DST NS...`): private key,
 * listen port (PORT if given, as the loose bound's `wg-watch conf -p`),
 * and every peer with its endpoint and allowed IPs, replacing whatever
 * DST had. Prints "floor SECS GATEWAYS PEERS" (CLOCK_MONOTONIC, the whole
 * loop, setns included). Exits 1 on any failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wireguard.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ns_open(const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "wg-floor: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void ns_enter(int fd, const char *name)
{
	if (setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "wg-floor: setns %s: %s\n", name, strerror(errno));
		exit(1);
	}
}

/* SRC's state made into a full `wg setconf` of DST. */
static void as_setconf(wg_device *dev, const char *dst, int port)
{
	wg_peer *p;

	snprintf(dev->name, sizeof(dev->name), "%s", dst);
	dev->flags = WGDEVICE_REPLACE_PEERS | WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT;
	if (port >= 0)
		dev->listen_port = (uint16_t)port;
	dev->fwmark = 0;
	wg_for_each_peer(dev, p) {
		p->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS;
		/* as `wg setconf` of a file without those keys */
		p->persistent_keepalive_interval = 0;
	}
}

int main(int argc, char **argv)
{
	int port = -1, i = 1, n, *fds;
	unsigned long peers = 0;
	wg_device **devs;
	double t0, t1;

	if (argc > 2 && !strcmp(argv[1], "-p")) {
		port = atoi(argv[2]);
		i = 3;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: wg-floor [-p PORT] SRC DST NS...\n");
		return 2;
	}
	n = argc - i - 2;
	fds = calloc((size_t)n, sizeof(*fds));
	devs = calloc((size_t)n, sizeof(*devs));
	if (!fds || !devs) {
		perror("calloc");
		return 1;
	}
	/* untimed: what to write */
	for (int k = 0; k < n; k++) {
		const char *ns = argv[i + 2 + k];
		wg_peer *p;

		fds[k] = ns_open(ns);
		ns_enter(fds[k], ns);
		if (wg_get_device(&devs[k], argv[i])) {
			fprintf(stderr, "wg-floor: %s: no %s\n", ns, argv[i]);
			return 1;
		}
		as_setconf(devs[k], argv[i + 1], port);
		wg_for_each_peer(devs[k], p)
			peers++;
	}
	t0 = now();
	for (int k = 0; k < n; k++) {
		int r;

		ns_enter(fds[k], argv[i + 2 + k]);
		r = wg_set_device(devs[k]);
		if (r) {
			fprintf(stderr, "wg-floor: %s: set %s: %s\n", argv[i + 2 + k], argv[i + 1],
				strerror(-r));
			return 1;
		}
	}
	t1 = now();
	printf("floor %.3f %d %lu\n", t1 - t0, n, peers);
	for (int k = 0; k < n; k++)
		wg_free_device(devs[k]);
	return 0;
}
