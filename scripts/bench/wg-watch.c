// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * wg-watch: the measuring side of scripts/bench-mesh. One process reads
 * the WireGuard state of many network namespaces over WireGuard's netlink
 * API (the embeddable library of wireguard-tools), instead of one `wg`
 * process per namespace per poll: a process start costs 20..50 ms under
 * TCG, more than the change being measured.
 *
 * Namespaces are names under /run/netns (ip netns). Times are
 * CLOCK_MONOTONIC seconds, the clock of rosterd's ROSTERD_LOG_TIME stamps,
 * so the two can be subtracted.
 *
 *   wg-watch now
 *   wg-watch key [-t SECS] [-i MS] [-g] IFACE KEY NS...
 *       wait until peer KEY is on IFACE in every NS (-g: is gone)
 *   wg-watch count [-t SECS] [-i MS] IFACE COUNT NS...
 *       wait until IFACE has exactly COUNT peers in every NS (no IFACE = 0)
 *   wg-watch dump IFACE NS...
 *       "NS self KEY" (or "NS self -") and "NS peer KEY ENDPOINT PFX,..."
 *       (prefixes sorted, "-" for none) for every NS
 *   wg-watch conf [-p PORT] IFACE OUTDIR NS...
 *       OUTDIR/NS.conf: IFACE's configuration in `wg setconf` format
 *       (ListenPort PORT if given)
 *   wg-watch mkdev [-r] IFACE NS...
 *       create WireGuard interface IFACE in every NS (existing: fine;
 *       -r: delete it first, so that it starts empty)
 *   wg-watch ping [-t SECS] [-i MS] NS DST...
 *       from NS, ICMP echo to every DST every MS until each answered once
 *   wg-watch removals [-t SECS] [-i MS] STOPFILE NS...
 *       the durability watcher of tests/rosterd/lib.sh (rst_watch_start):
 *       every MS (default 50) reads every WireGuard interface's peers in
 *       every NS (what `wg show all dump` lists) until STOPFILE exists
 *       (then one last round) or SECS pass; prints "start T" after the
 *       first round (the baseline), then
 *       "removed WALL T NS IFACE KEY" as soon as a peer of one round is
 *       absent from the next (a removed interface: each of its peers),
 *       and at the end "stats rounds R peers P maxgap S" (P: peers in
 *       the last round, S: the longest time between two rounds' starts).
 *       Exits 0, or 1 on a failed query. WALL is HH:MM:SS.mmm.
 *
 * key/count/ping print "start T", then "NAME T" as each NS (DST) is
 * satisfied, then "last T" (key/count: before it "stats rounds R queries Q
 * busy S intr I", S the seconds spent in the queries, I the dumps the
 * kernel marked interrupted and wglib.c read again); on timeout (after the
 * stats line) "timeout
 * NAME(PEERS)..." (the peers its last query found, -1: no device) and exit
 * 1. A wait of more than 10 s reports its progress on stderr every 10 s.
 * Polls go round-robin over the namespaces not yet satisfied, sleeping MS
 * (default 20) between rounds; T is when the satisfying query was sent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wireguard.h"

/* userspace/daemon/wglib.c */
extern unsigned long wg_dump_interrupted;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: wg-watch now\n"
		"       wg-watch key [-t SECS] [-i MS] [-g] IFACE KEY NS...\n"
		"       wg-watch count [-t SECS] [-i MS] IFACE COUNT NS...\n"
		"       wg-watch dump IFACE NS...\n"
		"       wg-watch conf [-p PORT] IFACE OUTDIR NS...\n"
		"       wg-watch mkdev [-r] IFACE NS...\n"
		"       wg-watch ping [-t SECS] [-i MS] NS DST...\n"
		"       wg-watch removals [-t SECS] [-i MS] STOPFILE NS...\n");
	exit(2);
}

/* An fd per namespace, opened once: setns() on it is cheap. */
static int *ns_open(char **names, int n)
{
	int *fds = calloc((size_t)n, sizeof(*fds));

	if (!fds) {
		perror("calloc");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		char path[512];

		snprintf(path, sizeof(path), "/run/netns/%s", names[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			fprintf(stderr, "wg-watch: %s: %s\n", path, strerror(errno));
			exit(1);
		}
	}
	return fds;
}

static void ns_enter(int fd, const char *name)
{
	if (setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "wg-watch: setns %s: %s\n", name, strerror(errno));
		exit(1);
	}
}

struct opts {
	double timeout;
	long interval_ms;
	bool gone, recreate;
	bool timeout_set, interval_set;
	int port;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i = 0;

	o->timeout = 600;
	o->interval_ms = 20;
	o->gone = false;
	o->recreate = false;
	o->port = -1;
	o->timeout_set = o->interval_set = false;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			o->timeout = atof(argv[++i]);
			o->timeout_set = true;
		} else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
			o->interval_ms = atol(argv[++i]);
			o->interval_set = true;
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			o->port = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-g")) {
			o->gone = true;
		} else if (!strcmp(argv[i], "-r")) {
			o->recreate = true;
		} else {
			usage();
		}
		i++;
	}
	return i;
}

/* The predicate of key/count on one namespace's device (NULL: none). */
struct want {
	bool by_key, gone;
	wg_key key;
	unsigned long count;
};

/* Also sets *peers to the device's peer count (-1: no device). */
static bool satisfied(const struct want *w, const wg_device *dev, long *peers)
{
	const wg_peer *p;
	unsigned long n = 0;
	bool found = false;

	if (dev) {
		wg_for_each_peer(dev, p) {
			n++;
			if (w->by_key && !memcmp(p->public_key, w->key, sizeof(wg_key)))
				found = true;
		}
	}
	*peers = dev ? (long)n : -1;
	if (w->by_key)
		return found != w->gone;
	return n == w->count;
}

static void print_stats(unsigned long rounds, unsigned long queries, double busy)
{
	printf("stats rounds %lu queries %lu busy %.3f intr %lu\n", rounds, queries, busy,
	       wg_dump_interrupted);
}

static int watch(const struct opts *o, const struct want *w, const char *ifname, char **names,
		 int n)
{
	int *fds = ns_open(names, n);
	bool *done = calloc((size_t)n, sizeof(*done));
	long *seen = calloc((size_t)n, sizeof(*seen));	/* peers at the last query, -1: no device */
	double t0 = now(), last = t0, busy = 0, report = t0 + 10;
	int left = n;
	unsigned long rounds = 0, queries = 0;

	if (!done || !seen) {
		perror("calloc");
		return 1;
	}
	printf("start %.3f\n", t0);
	fflush(stdout);
	while (left) {
		rounds++;
		for (int i = 0; i < n; i++) {
			wg_device *dev = NULL;
			double t;

			if (done[i])
				continue;
			ns_enter(fds[i], names[i]);
			t = now();
			if (wg_get_device(&dev, ifname))
				dev = NULL;
			busy += now() - t;
			queries++;
			if (satisfied(w, dev, &seen[i])) {
				done[i] = true;
				left--;
				last = t;
				printf("%s %.3f\n", names[i], t);
				fflush(stdout);
			}
			wg_free_device(dev);
		}
		if (!left)
			break;
		if (now() - t0 > o->timeout) {
			print_stats(rounds, queries, busy);
			printf("timeout");
			for (int i = 0; i < n; i++)
				if (!done[i])
					printf(" %s(%ld)", names[i], seen[i]);
			printf("\n");
			return 1;
		}
		/* a long wait says on stderr what it is still waiting for */
		if (now() > report) {
			report = now() + 10;
			fprintf(stderr, "wg-watch: %.0f s, round %lu, %d waiting, peers:", now() - t0,
				rounds, left);
			for (int i = 0, k = 0; i < n && k < 8; i++)
				if (!done[i] && ++k)
					fprintf(stderr, " %s(%ld)", names[i], seen[i]);
			fprintf(stderr, "\n");
		}
		sleep_ms(o->interval_ms);
	}
	/* what the polling itself cost (it competes with the daemons) */
	print_stats(rounds, queries, busy);
	printf("last %.3f\n", last);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fmt_endpoint(const wg_peer *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (p->endpoint.addr.sa_family == AF_INET) {
		inet_ntop(AF_INET, &p->endpoint.addr4.sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(p->endpoint.addr4.sin_port));
	} else if (p->endpoint.addr.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &p->endpoint.addr6.sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(p->endpoint.addr6.sin6_port));
	} else {
		snprintf(buf, len, "-");
	}
}

/* "a/n,b/m" sorted, or "-"; sep between prefixes. Caller frees. */
static char *fmt_allowed(const wg_peer *p, const char *sep)
{
	const wg_allowedip *a;
	char **v = NULL, *out;
	size_t n = 0, len = 2;

	wg_for_each_allowedip(p, a) {
		char ip[INET6_ADDRSTRLEN], **nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			exit(1);
		v = nv;
		inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->ip4 : (const void *)&a->ip6,
			  ip, sizeof(ip));
		if (asprintf(&v[n], "%s/%u", ip, a->cidr) < 0)
			exit(1);
		len += strlen(v[n]) + strlen(sep);
		n++;
	}
	out = calloc(1, len);
	if (!out)
		exit(1);
	if (!n)
		strcpy(out, "-");
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, v[i]);
		free(v[i]);
	}
	free(v);
	return out;
}

static int dump(const char *ifname, char **names, int n)
{
	int *fds = ns_open(names, n);

	for (int i = 0; i < n; i++) {
		wg_device *dev = NULL;
		wg_peer *p;
		wg_key_b64_string k;

		ns_enter(fds[i], names[i]);
		if (wg_get_device(&dev, ifname)) {
			printf("%s self -\n", names[i]);
			continue;
		}
		wg_key_to_base64(k, dev->public_key);
		printf("%s self %s\n", names[i], k);
		wg_for_each_peer(dev, p) {
			char ep[INET6_ADDRSTRLEN + 16], *al = fmt_allowed(p, ",");

			wg_key_to_base64(k, p->public_key);
			fmt_endpoint(p, ep, sizeof(ep));
			printf("%s peer %s %s %s\n", names[i], k, ep, al);
			free(al);
		}
		wg_free_device(dev);
	}
	return 0;
}

static int conf(const struct opts *o, const char *ifname, const char *dir, char **names, int n)
{
	int *fds = ns_open(names, n);

	for (int i = 0; i < n; i++) {
		wg_device *dev = NULL;
		wg_peer *p;
		wg_key_b64_string k;
		char path[1024];
		FILE *f;

		ns_enter(fds[i], names[i]);
		if (wg_get_device(&dev, ifname)) {
			fprintf(stderr, "wg-watch: %s: no %s\n", names[i], ifname);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s.conf", dir, names[i]);
		f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "wg-watch: %s: %s\n", path, strerror(errno));
			return 1;
		}
		wg_key_to_base64(k, dev->private_key);
		fprintf(f, "[Interface]\nPrivateKey = %s\nListenPort = %u\n", k,
			o->port >= 0 ? (unsigned int)o->port : dev->listen_port);
		wg_for_each_peer(dev, p) {
			char ep[INET6_ADDRSTRLEN + 16], *al = fmt_allowed(p, ", ");

			wg_key_to_base64(k, p->public_key);
			fmt_endpoint(p, ep, sizeof(ep));
			fprintf(f, "\n[Peer]\nPublicKey = %s\n", k);
			if (strcmp(ep, "-"))
				fprintf(f, "Endpoint = %s\n", ep);
			if (strcmp(al, "-"))
				fprintf(f, "AllowedIPs = %s\n", al);
			free(al);
		}
		fclose(f);
		wg_free_device(dev);
	}
	return 0;
}

static int mkdev(const struct opts *o, const char *ifname, char **names, int n)
{
	int *fds = ns_open(names, n), rc = 0;

	for (int i = 0; i < n; i++) {
		int ret;

		ns_enter(fds[i], names[i]);
		if (o->recreate)
			wg_del_device(ifname);
		ret = wg_add_device(ifname);
		if (ret && ret != -EEXIST) {
			fprintf(stderr, "wg-watch: %s: add %s: %s\n", names[i], ifname, strerror(-ret));
			rc = 1;
		}
	}
	return rc;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int ping(const struct opts *o, const char *ns, char **dsts, int n)
{
	int *fds = ns_open((char **)&ns, 1), sk, left = n;
	struct sockaddr_in *sa = calloc((size_t)n, sizeof(*sa));
	bool *done = calloc((size_t)n, sizeof(*done));
	uint16_t id = (uint16_t)getpid(), seq = 0;
	double t0, last, next_round;

	if (!sa || !done)
		return 1;
	ns_enter(fds[0], ns);
	sk = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (sk < 0) {
		perror("wg-watch: raw socket");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sa[i].sin_family = AF_INET;
		if (inet_pton(AF_INET, dsts[i], &sa[i].sin_addr) != 1) {
			fprintf(stderr, "wg-watch: bad address %s\n", dsts[i]);
			return 1;
		}
	}
	t0 = last = next_round = now();
	printf("start %.3f\n", t0);
	fflush(stdout);
	while (left) {
		struct pollfd pfd = { .fd = sk, .events = POLLIN };
		double t = now();
		int ms;

		if (t - t0 > o->timeout) {
			printf("timeout");
			for (int i = 0; i < n; i++)
				if (!done[i])
					printf(" %s", dsts[i]);
			printf("\n");
			return 1;
		}
		if (t >= next_round) {
			/* one echo request to every site not answered yet */
			for (int i = 0; i < n; i++) {
				struct {
					struct icmphdr h;
					uint8_t pad[16];
				} pkt;

				if (done[i])
					continue;
				memset(&pkt, 0, sizeof(pkt));
				pkt.h.type = ICMP_ECHO;
				pkt.h.un.echo.id = htons(id);
				pkt.h.un.echo.sequence = htons(++seq);
				pkt.h.checksum = csum(&pkt, sizeof(pkt));
				/* a site without a route yet fails here: retried */
				(void)sendto(sk, &pkt, sizeof(pkt), 0, (struct sockaddr *)&sa[i],
					     sizeof(sa[i]));
			}
			next_round = t + (double)o->interval_ms / 1000;
		}
		ms = (int)((next_round - now()) * 1000) + 1;
		if (poll(&pfd, 1, ms > 0 ? ms : 0) <= 0)
			continue;
		for (;;) {
			uint8_t buf[1500];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r = recvfrom(sk, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
					     &fl);
			const struct iphdr *ip = (const void *)buf;
			const struct icmphdr *ic;
			size_t ihl;

			if (r < 0)
				break;
			if ((size_t)r < sizeof(*ip))
				continue;
			ihl = (size_t)ip->ihl * 4;
			if ((size_t)r < ihl + sizeof(*ic))
				continue;
			ic = (const void *)(buf + ihl);
			if (ic->type != ICMP_ECHOREPLY || ntohs(ic->un.echo.id) != id)
				continue;
			for (int i = 0; i < n; i++) {
				if (done[i] || sa[i].sin_addr.s_addr != from.sin_addr.s_addr)
					continue;
				done[i] = true;
				left--;
				last = now();
				printf("%s %.3f\n", dsts[i], last);
				fflush(stdout);
			}
		}
	}
	printf("last %.3f\n", last);
	return 0;
}

/* One (interface, peer) of a round. */
struct seen_peer {
	char ifname[IFNAMSIZ];
	wg_key key;
};

struct peer_set {
	struct seen_peer *v;
	size_t n, cap;
};

static void set_add(struct peer_set *s, const char *ifname, const wg_key key)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct seen_peer *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			perror("realloc");
			exit(1);
		}
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n].ifname, sizeof(s->v[s->n].ifname), "%s", ifname);
	memcpy(s->v[s->n].key, key, sizeof(wg_key));
	s->n++;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen_peer *x = a, *y = b;
	int c = strcmp(x->ifname, y->ifname);

	return c ? c : memcmp(x->key, y->key, sizeof(wg_key));
}

/* Every peer of every WireGuard interface of the current netns, sorted. */
static int sample(struct peer_set *s)
{
	char *names = wg_list_device_names(), *name;
	size_t len;

	s->n = 0;
	if (!names)
		return -1;
	for (name = names; (len = strlen(name)); name += len + 1) {
		wg_device *dev = NULL;
		wg_peer *p;

		/* gone between the list and the query: no peers */
		if (wg_get_device(&dev, name))
			continue;
		wg_for_each_peer(dev, p)
			set_add(s, name, p->public_key);
		wg_free_device(dev);
	}
	free(names);
	qsort(s->v, s->n, sizeof(*s->v), cmp_seen);
	return 0;
}

static void wall(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

/* Prints the peers of old that cur lacks; returns their count. */
static unsigned long report_removed(const char *ns, const struct peer_set *old,
				    const struct peer_set *cur, double t)
{
	unsigned long removed = 0;
	size_t j = 0;

	for (size_t i = 0; i < old->n; i++) {
		int c = 1;

		while (j < cur->n && (c = cmp_seen(&cur->v[j], &old->v[i])) < 0)
			j++;
		if (j < cur->n && !c)
			continue;
		{
			wg_key_b64_string k;
			char w[32];

			wall(w, sizeof(w));
			wg_key_to_base64(k, old->v[i].key);
			printf("removed %s %.3f %s %s %s\n", w, t, ns, old->v[i].ifname, k);
			removed++;
		}
	}
	if (removed)
		fflush(stdout);
	return removed;
}

static int removals(const struct opts *o, const char *stop, char **names, int n)
{
	int *fds = ns_open(names, n);
	struct peer_set *prev = calloc((size_t)n, sizeof(*prev));
	struct peer_set cur = { 0 };
	double t0 = now(), last_round = 0, maxgap = 0;
	unsigned long rounds = 0;
	size_t peers = 0;
	bool stopping = false;

	if (!prev) {
		perror("calloc");
		return 1;
	}
	for (;;) {
		double t = now();
		struct peer_set tmp;

		/* the stop file is checked first, so that the round after it
		 * still sees everything the test did before stopping us */
		stopping = stopping || !access(stop, F_OK) || t - t0 > o->timeout;
		if (rounds && t - last_round > maxgap)
			maxgap = t - last_round;
		last_round = t;
		peers = 0;
		for (int i = 0; i < n; i++) {
			ns_enter(fds[i], names[i]);
			if (sample(&cur)) {
				fprintf(stderr, "wg-watch: %s: cannot list WireGuard interfaces\n",
					names[i]);
				return 1;
			}
			if (rounds)
				report_removed(names[i], &prev[i], &cur, now());
			peers += cur.n;
			tmp = prev[i];
			prev[i] = cur;
			cur = tmp;
		}
		/* the first round is the baseline: the caller starts after it */
		if (!rounds++) {
			printf("start %.3f\n", t0);
			fflush(stdout);
		}
		if (stopping)
			break;
		sleep_ms(o->interval_ms);
	}
	printf("stats rounds %lu peers %zu maxgap %.3f\n", rounds, peers, maxgap);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct want w = { 0 };
	const char *cmd;
	int i;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	i = parse_opts(argc, argv, &o);
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "now")) {
		printf("%.3f\n", now());
		return 0;
	}
	if (!strcmp(cmd, "key") && argc >= 3) {
		w.by_key = true;
		w.gone = o.gone;
		if (wg_key_from_base64(w.key, argv[1])) {
			fprintf(stderr, "wg-watch: bad key %s\n", argv[1]);
			return 2;
		}
		return watch(&o, &w, argv[0], argv + 2, argc - 2);
	}
	if (!strcmp(cmd, "count") && argc >= 3) {
		w.count = strtoul(argv[1], NULL, 10);
		return watch(&o, &w, argv[0], argv + 2, argc - 2);
	}
	if (!strcmp(cmd, "dump") && argc >= 2)
		return dump(argv[0], argv + 1, argc - 1);
	if (!strcmp(cmd, "conf") && argc >= 3)
		return conf(&o, argv[0], argv[1], argv + 2, argc - 2);
	if (!strcmp(cmd, "mkdev") && argc >= 2)
		return mkdev(&o, argv[0], argv + 1, argc - 1);
	if (!strcmp(cmd, "ping") && argc >= 2)
		return ping(&o, argv[0], argv + 1, argc - 1);
	if (!strcmp(cmd, "removals") && argc >= 2) {
		/* a test's length, not a wait's */
		if (!o.timeout_set)
			o.timeout = 3600;
		if (!o.interval_set)
			o.interval_ms = 50;
		return removals(&o, argv[0], argv + 1, argc - 1);
	}
	usage();
	return 2;
}
