// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rd-inject: forge, rewrite and send control protocol messages for the
 * end-to-end suites (tests/rosterd/lib.sh). Not a unit test, not installed.
 *
 * Every message goes through the daemon's own proto.c (rd_msg_decode,
 * rd_msg_encode), so the suites and rosterd share one definition of the
 * wire format: a suite that rewrites a captured message or forges one
 * follows the protocol's changes without being edited.
 *
 *   rd-inject encode TYPE [FIELD...]        print one message as hex
 *   rd-inject rewrite [REWRITE...] HEX...   print each message rewritten
 *   rd-inject decode [HEX...]               one line per message (or per
 *                                           stdin line; its last word is
 *                                           the hex): "TYPE line" or
 *                                           "invalid line"
 *   rd-inject send --from ADDR[:PORT] --to ADDR:PORT [REWRITE...] HEX...
 *                                           send each message (verbatim
 *                                           unless rewritten), 50 ms apart
 *   rd-inject garbage --from ADDR[:PORT] --to ADDR:PORT COUNT
 *                                           COUNT datagrams that do not
 *                                           decode, 10 ms apart
 *   rd-inject frames IFACE HEX...           transmit raw link-layer frames
 *   rd-inject flood --from ADDR:PORT --to ADDR:PORT --count N [--gap-us U]
 *                   [--session S] [--first-seq Q] HEX...
 *                                           N messages, the HEXes in turn,
 *                                           each as a new message of one
 *                                           sender instance (session S,
 *                                           default random; seq Q.., default
 *                                           1), U us apart (default 500)
 *
 * FIELD: --seq N (default 1) --ack N --flags N --session N|random --vpn N --gen N
 *        --endpoint ADDR:PORT --prefix ADDR/LEN (repeatable) --dev ADDR
 *        --key BASE64 --total N --part P/N --store-id HEX32
 *        --member DEV,KEY[,ADDR:PORT][,PREFIX...] (repeatable)
 *        --err ERRNO --text TEXT --ref SEQ
 * REWRITE: --fresh (a new sender instance: random session, seq 1),
 *          --session N|random, --seq N, --ack N, --gen N (only where the
 *          type carries one), --store-id HEX32
 *
 * Sockets are opened in the caller's network namespace (run it with
 * `ip netns exec`); --from binds with IP_FREEBIND, so the source may be an
 * address the namespace does not hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

#define GARBAGE_SEED 1234

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rd-inject: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static unsigned long long num(const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max)
		die("bad number '%s'", s);
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns the byte count or -1. */
static ssize_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)i;
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static uint32_t random_u32(void)
{
	uint32_t v;

	rd_random(&v, sizeof(v));
	return v;
}

static void parse_addr(const char *s, struct roster_addr *a)
{
	if (roster_addr_parse(s, a))
		die("bad address '%s'", s);
}

static void parse_prefix(const char *s, struct roster_prefix *p)
{
	const char *why = NULL;

	if (roster_prefix_parse(s, p, &why))
		die("bad prefix '%s'", s);
}

/* ADDR[:PORT] (IPv4) into a sockaddr; port 0 if absent. */
static socklen_t parse_sockaddr(const char *s, struct sockaddr_storage *ss)
{
	struct roster_addr a;
	uint16_t port = 0;
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strrchr(buf, ':');
	if (colon && !strchr(buf, '.'))
		colon = NULL;	/* a bare IPv6 address */
	if (colon) {
		*colon = '\0';
		port = (uint16_t)num(colon + 1, 65535);
	}
	parse_addr(buf, &a);
	return rd_sockaddr(&a, port, ss);
}

/* DEV,KEY[,ADDR:PORT][,PREFIX...] */
static void parse_member(const char *s, struct roster_member *mb)
{
	char buf[1024], *tok, *save = NULL;
	unsigned int i = 0;

	memset(mb, 0, sizeof(*mb));
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
		if (i == 0) {
			parse_addr(tok, &mb->id);
		} else if (i == 1) {
			if (roster_key_parse(tok, mb->key))
				die("bad key '%s'", tok);
			mb->has_key = true;
		} else if (!strchr(tok, '/')) {
			if (roster_endpoint_parse(tok, &mb->endpoint, &mb->port))
				die("bad endpoint '%s'", tok);
			mb->has_endpoint = true;
		} else {
			if (mb->n_prefixes >= ROSTER_PREFIX_MAX)
				die("too many prefixes in '%s'", s);
			parse_prefix(tok, &mb->prefixes[mb->n_prefixes++]);
		}
	}
	if (i < 2)
		die("member '%s': DEV,KEY at least", s);
}

static unsigned int type_by_name(const char *s)
{
	for (unsigned int t = 1; t < __RD_TYPE_MAX; t++)
		if (!strcasecmp(s, rd_type_name(t)))
			return t;
	die("unknown message type '%s'", s);
	return 0;
}

/* Rewrites requested on the command line (-1: keep). */
struct rewrite {
	bool any;
	long long seq, ack, session;
	bool random_session;
	bool has_gen;
	uint64_t gen;
	bool has_store_id;
	uint8_t store_id[RD_STORE_ID_LEN];
};

/* Consumes a rewrite option at argv[*i]; false if it is not one. */
static bool rewrite_opt(struct rewrite *rw, int argc, char **argv, int *i)
{
	const char *o = argv[*i], *v;

	if (!strcmp(o, "--fresh")) {
		rw->random_session = true;
		rw->seq = 1;
		rw->any = true;
		return true;
	}
	if (strcmp(o, "--session") && strcmp(o, "--seq") && strcmp(o, "--ack") &&
	    strcmp(o, "--gen") && strcmp(o, "--store-id"))
		return false;
	if (*i + 1 >= argc)
		die("%s needs a value", o);
	v = argv[++*i];
	rw->any = true;
	if (!strcmp(o, "--session")) {
		if (!strcmp(v, "random"))
			rw->random_session = true;
		else
			rw->session = (long long)num(v, UINT32_MAX);
	} else if (!strcmp(o, "--seq")) {
		rw->seq = (long long)num(v, UINT32_MAX);
	} else if (!strcmp(o, "--ack")) {
		rw->ack = (long long)num(v, UINT32_MAX);
	} else if (!strcmp(o, "--gen")) {
		rw->has_gen = true;
		rw->gen = num(v, UINT64_MAX);
	} else {
		if (unhex(v, rw->store_id, RD_STORE_ID_LEN) != RD_STORE_ID_LEN)
			die("--store-id: 32 hex digits, not '%s'", v);
		rw->has_store_id = true;
	}
	return true;
}

static void apply(const struct rewrite *rw, struct rd_msg *m)
{
	if (rw->random_session) {
		m->has_session = true;
		m->session = random_u32();
	} else if (rw->session >= 0) {
		m->has_session = true;
		m->session = (uint32_t)rw->session;
	}
	if (rw->seq >= 0)
		m->seq = (uint32_t)rw->seq;
	if (rw->ack >= 0)
		m->ack = (uint32_t)rw->ack;
	if (rw->has_gen) {
		/* only where the type carries one: a test that means to
		 * forge a generation must not send a message without it */
		if (!m->has_gen)
			die("--gen: a %s carries no generation", rd_type_name(m->type));
		m->gen = rw->gen;
	}
	if (rw->has_store_id) {
		m->has_store_id = true;
		memcpy(m->store_id, rw->store_id, RD_STORE_ID_LEN);
	}
}

/* HEX -> (rewritten) wire bytes in buf; returns the length. */
static size_t prepare(const char *hex, const struct rewrite *rw, uint8_t *buf, size_t len)
{
	struct rd_msg m;
	const char *why = "?";
	ssize_t n = unhex(hex, buf, len);
	int r;

	if (n < 0)
		die("not a hex message: '%.40s'", hex);
	if (!rw->any)
		return (size_t)n;	/* a replay: the bytes as captured */
	if (rd_msg_decode(buf, (size_t)n, &m, &why))
		die("cannot rewrite a message that does not decode (%s)", why);
	apply(rw, &m);
	r = rd_msg_encode(&m, buf, len);
	rd_msg_release(&m);
	if (r < 0)
		die("encode failed: %s", strerror(-r));
	return (size_t)r;
}

static int udp_socket(const char *from)
{
	struct sockaddr_storage ss;
	socklen_t sl = parse_sockaddr(from, &ss);
	int one = 1, fd = socket(ss.ss_family, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl))
		die("bind %s: %s", from, strerror(errno));
	return fd;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

struct endpoints {
	const char *from, *to;
};

static bool endpoint_opt(struct endpoints *ep, int argc, char **argv, int *i)
{
	const char **dst;

	if (!strcmp(argv[*i], "--from"))
		dst = &ep->from;
	else if (!strcmp(argv[*i], "--to"))
		dst = &ep->to;
	else
		return false;
	if (*i + 1 >= argc)
		die("%s needs ADDR:PORT", argv[*i]);
	*dst = argv[++*i];
	return true;
}

/* ---- garbage ------------------------------------------------------ */

static uint8_t rnd8(void)
{
	return (uint8_t)random();
}

static size_t rnd_upto(size_t max)
{
	return (size_t)random() % (max + 1);
}

/* A plausible message of a random type, from the encoder. */
static size_t valid_message(uint8_t *buf, size_t len)
{
	struct rd_msg m = { 0 };
	int r;

	m.type = (uint8_t)(1 + rnd_upto(__RD_TYPE_MAX - 2));
	m.seq = (uint32_t)random();
	m.has_session = true;
	m.session = (uint32_t)random();
	m.has_vpn = true;
	m.vpn = 7;
	m.has_gen = true;
	m.gen = (uint64_t)random();
	r = rd_msg_encode(&m, buf, len);
	return r < 0 ? 0 : (size_t)r;
}

static bool decodes(const uint8_t *buf, size_t n)
{
	struct rd_msg m;
	const char *why;

	if (rd_msg_decode(buf, n, &m, &why))
		return false;
	rd_msg_release(&m);
	return true;
}

/*
 * Datagram k of the garbage stream, cycling through: random bytes (up to
 * 1400), an encoded message cut short (a truncated header or attribute),
 * an encoded message with bytes flipped, and an encoded header with an
 * attribute whose length lies. A candidate that the decoder accepts is
 * not garbage and is drawn again.
 */
static size_t make_garbage(unsigned long long k, uint8_t *buf, size_t len)
{
	size_t n, i;

	do {
		switch (k % 4) {
		case 0:
			n = rnd_upto(len < 1400 ? len : 1400);
			for (i = 0; i < n; i++)
				buf[i] = rnd8();
			break;
		case 1:
			n = valid_message(buf, len);
			n = n ? rnd_upto(n - 1) : 0;
			break;
		case 2:
			n = valid_message(buf, len);
			for (i = 0; n && i < 1 + rnd_upto(7); i++)
				buf[rnd_upto(n - 1)] ^= (uint8_t)(1 + rnd_upto(254));
			break;
		default:
			n = valid_message(buf, len);
			if (n >= RD_HDR_LEN + 4) {
				uint16_t alen = (uint16_t)random();

				memcpy(buf + RD_HDR_LEN, &alen, sizeof(alen));
			}
			break;
		}
	} while (n && decodes(buf, n));
	return n;
}

static int cmd_send(int argc, char **argv, bool garbage)
{
	struct rewrite rw = { .seq = -1, .ack = -1, .session = -1 };
	struct endpoints ep = { 0 };
	struct sockaddr_storage to;
	socklen_t tl;
	uint8_t buf[RD_MSG_MAX];
	int i, fd;

	for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i++)
		if (!endpoint_opt(&ep, argc, argv, &i) &&
		    (garbage || !rewrite_opt(&rw, argc, argv, &i)))
			die("unknown option %s", argv[i]);
	if (!ep.from || !ep.to)
		die("--from and --to are required");
	tl = parse_sockaddr(ep.to, &to);
	fd = udp_socket(ep.from);
	if (garbage) {
		unsigned long long count;

		if (i + 1 != argc)
			die("garbage: COUNT expected");
		count = num(argv[i], 1000000);
		srandom(GARBAGE_SEED);
		for (unsigned long long k = 0; k < count; k++) {
			size_t n = make_garbage(k, buf, sizeof(buf));

			if (sendto(fd, buf, n, 0, (struct sockaddr *)&to, tl) < 0)
				die("sendto: %s", strerror(errno));
			pause_ms(10);
		}
		return 0;
	}
	for (; i < argc; i++) {
		size_t n = prepare(argv[i], &rw, buf, sizeof(buf));

		if (sendto(fd, buf, n, 0, (struct sockaddr *)&to, tl) < 0)
			die("sendto: %s", strerror(errno));
		pause_ms(50);
	}
	close(fd);
	return 0;
}

/* A request flood from one sender: every message new to the receiver. */
static int cmd_flood(int argc, char **argv)
{
	struct rewrite rw = { .seq = -1, .ack = -1, .session = -1, .any = true };
	struct endpoints ep = { 0 };
	struct sockaddr_storage to;
	unsigned long long count = 0, gap_us = 500, first = 1;
	uint8_t buf[RD_MSG_MAX];
	socklen_t tl;
	int i, fd;

	for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (endpoint_opt(&ep, argc, argv, &i))
			continue;
		if (i + 1 < argc && !strcmp(argv[i], "--count"))
			count = num(argv[++i], 100000000);
		else if (i + 1 < argc && !strcmp(argv[i], "--gap-us"))
			gap_us = num(argv[++i], 1000000);
		else if (i + 1 < argc && !strcmp(argv[i], "--session"))
			rw.session = (long long)num(argv[++i], UINT32_MAX);
		else if (i + 1 < argc && !strcmp(argv[i], "--first-seq"))
			first = num(argv[++i], UINT32_MAX);
		else
			die("unknown option %s", argv[i]);
	}
	if (!ep.from || !ep.to || !count || i >= argc)
		die("flood: --from, --to, --count and a message are required");
	tl = parse_sockaddr(ep.to, &to);
	fd = udp_socket(ep.from);
	if (rw.session < 0)
		rw.session = random_u32();
	for (unsigned long long k = 0; k < count; k++) {
		struct timespec ts = { .tv_sec = (time_t)(gap_us / 1000000),
				       .tv_nsec = (long)(gap_us % 1000000) * 1000 };
		size_t n;

		rw.seq = (long long)(first + k);
		n = prepare(argv[i + (int)(k % (unsigned long long)(argc - i))], &rw, buf, sizeof(buf));
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&to, tl) < 0)
			die("sendto: %s", strerror(errno));
		if (gap_us)
			nanosleep(&ts, NULL);
	}
	close(fd);
	return 0;
}

/* ---- encode / rewrite / decode ------------------------------------ */

static int cmd_encode(int argc, char **argv)
{
	static struct roster_member members[64];
	struct rd_msg m = { 0 };
	uint8_t buf[RD_MSG_MAX];
	int i, r;

	if (argc < 1)
		die("encode: TYPE expected");
	m.type = (uint8_t)type_by_name(argv[0]);
	m.seq = 1;	/* 0 is no sequence number: the decoder refuses it */
	m.members = members;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", o);
		i++;
		if (!strcmp(o, "--seq")) {
			m.seq = (uint32_t)num(v, UINT32_MAX);
		} else if (!strcmp(o, "--ack")) {
			m.ack = (uint32_t)num(v, UINT32_MAX);
		} else if (!strcmp(o, "--flags")) {
			m.flags = (uint16_t)num(v, UINT16_MAX);
		} else if (!strcmp(o, "--session")) {
			m.has_session = true;
			m.session = strcmp(v, "random") ? (uint32_t)num(v, UINT32_MAX) : random_u32();
		} else if (!strcmp(o, "--vpn")) {
			m.has_vpn = true;
			m.vpn = (uint32_t)num(v, UINT32_MAX);
		} else if (!strcmp(o, "--gen")) {
			m.has_gen = true;
			m.gen = num(v, UINT64_MAX);
		} else if (!strcmp(o, "--endpoint")) {
			if (roster_endpoint_parse(v, &m.endpoint, &m.port))
				die("bad endpoint '%s'", v);
			m.has_endpoint = true;
		} else if (!strcmp(o, "--prefix")) {
			if (m.n_prefixes >= ROSTER_PREFIX_MAX)
				die("too many --prefix");
			parse_prefix(v, &m.prefixes[m.n_prefixes++]);
		} else if (!strcmp(o, "--dev")) {
			parse_addr(v, &m.dev);
			m.has_dev = true;
		} else if (!strcmp(o, "--key")) {
			if (roster_key_parse(v, m.key))
				die("bad key '%s'", v);
			m.has_key = true;
		} else if (!strcmp(o, "--total")) {
			m.has_total = true;
			m.total = (uint32_t)num(v, UINT32_MAX);
		} else if (!strcmp(o, "--part")) {
			unsigned int p, np;

			if (sscanf(v, "%u/%u", &p, &np) != 2 || p > UINT16_MAX || np > UINT16_MAX)
				die("--part P/N, not '%s'", v);
			m.has_parts = true;
			m.part = (uint16_t)p;
			m.nparts = (uint16_t)np;
		} else if (!strcmp(o, "--store-id")) {
			if (unhex(v, m.store_id, RD_STORE_ID_LEN) != RD_STORE_ID_LEN)
				die("--store-id: 32 hex digits, not '%s'", v);
			m.has_store_id = true;
		} else if (!strcmp(o, "--member")) {
			if (m.n_members >= sizeof(members) / sizeof(members[0]))
				die("too many --member");
			parse_member(v, &members[m.n_members++]);
		} else if (!strcmp(o, "--err")) {
			m.has_err = true;
			m.err = (uint32_t)num(v, UINT32_MAX);
		} else if (!strcmp(o, "--text")) {
			snprintf(m.text, sizeof(m.text), "%s", v);
		} else if (!strcmp(o, "--ref")) {
			m.has_ref = true;
			m.ref_seq = (uint32_t)num(v, UINT32_MAX);
		} else {
			die("unknown field %s", o);
		}
	}
	r = rd_msg_encode(&m, buf, sizeof(buf));
	if (r < 0)
		die("encode failed: %s", strerror(-r));
	print_hex(buf, (size_t)r);
	return 0;
}

static int cmd_rewrite(int argc, char **argv)
{
	struct rewrite rw = { .seq = -1, .ack = -1, .session = -1 };
	uint8_t buf[RD_MSG_MAX];
	int i;

	for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i++)
		if (!rewrite_opt(&rw, argc, argv, &i))
			die("unknown option %s", argv[i]);
	rw.any = true;	/* re-encode even with nothing to change */
	for (; i < argc; i++)
		print_hex(buf, prepare(argv[i], &rw, buf, sizeof(buf)));
	return 0;
}

/* "TYPE field=value..." of one message, or "invalid (why)". */
static void describe(const char *hex, const char *line)
{
	uint8_t buf[RD_MSG_MAX];
	struct rd_msg m;
	const char *why = "not hex";
	ssize_t n = unhex(hex, buf, sizeof(buf));

	if (n < 0 || rd_msg_decode(buf, (size_t)n, &m, &why)) {
		printf("invalid %s\n", line);
		return;
	}
	printf("%s %s\n", rd_type_name(m.type), line);
	rd_msg_release(&m);
}

static int cmd_decode(int argc, char **argv)
{
	char *line = NULL, *last;
	size_t cap = 0;
	ssize_t len;

	if (argc) {
		for (int i = 0; i < argc; i++)
			describe(argv[i], argv[i]);
		return 0;
	}
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (!len)
			continue;
		last = strrchr(line, ' ');
		describe(last ? last + 1 : line, line);
	}
	free(line);
	return 0;
}

/* ---- raw frames --------------------------------------------------- */

static int cmd_frames(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint8_t buf[65536];
	int fd;

	if (argc < 1)
		die("frames: IFACE expected");
	sll.sll_ifindex = (int)if_nametoindex(argv[0]);
	if (!sll.sll_ifindex)
		die("no interface %s", argv[0]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("AF_PACKET on %s failed", argv[0]);
	for (int i = 1; i < argc; i++) {
		ssize_t n = unhex(argv[i], buf, sizeof(buf));

		if (n < 0)
			die("not a hex frame: '%.40s'", argv[i]);
		if (send(fd, buf, (size_t)n, 0) < 0)
			die("send: %s", strerror(errno));
		pause_ms(50);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "encode"))
		return cmd_encode(argc - 2, argv + 2);
	if (!strcmp(cmd, "rewrite"))
		return cmd_rewrite(argc - 2, argv + 2);
	if (!strcmp(cmd, "decode"))
		return cmd_decode(argc - 2, argv + 2);
	if (!strcmp(cmd, "send"))
		return cmd_send(argc - 2, argv + 2, false);
	if (!strcmp(cmd, "garbage"))
		return cmd_send(argc - 2, argv + 2, true);
	if (!strcmp(cmd, "frames"))
		return cmd_frames(argc - 2, argv + 2);
	if (!strcmp(cmd, "flood"))
		return cmd_flood(argc - 2, argv + 2);
	fprintf(stderr, "usage: rd-inject encode|rewrite|decode|send|garbage|frames|flood ... "
		"(see the comment at the top of userspace/daemon/tests/rd-inject.c)\n");
	return 2;
}
