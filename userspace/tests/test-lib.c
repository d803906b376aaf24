// SPDX-License-Identifier: GPL-2.0-or-later
/* Host unit tests for libroster (no kernel module needed). Prints KTAP. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/roster.h>

#include "roster.h"
#include "internal.h"

static int failures; /* within the current test */

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

static void hexdump_diff(const uint8_t *got, const uint8_t *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			printf("# first difference at byte %zu: got 0x%02x want 0x%02x\n",
			       i, got[i], want[i]);
			return;
		}
	}
}

#define FAM 0x1e

static void fill_member(struct roster_member *m)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	CHECK(roster_addr_parse("10.0.0.1", &m->id) == 0);
	for (i = 0; i < 32; i++)
		m->key[i] = (uint8_t)i;
	m->has_key = true;
	CHECK(roster_endpoint_parse("192.0.2.1:51820", &m->endpoint, &m->port) == 0);
	m->has_endpoint = true;
	CHECK(roster_prefix_parse("10.1.0.0/24", &m->prefixes[0], NULL) == 0);
	m->n_prefixes = 1;
}

static void check_bytes(const struct nlmsghdr *nlh, const uint8_t *want, size_t n)
{
	CHECK(nlh->nlmsg_len == n);
	if (nlh->nlmsg_len == n) {
		CHECK(memcmp(nlh, want, n) == 0);
		hexdump_diff((const uint8_t *)nlh, want, n);
	}
}

#define KEY_0_31 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31

static void test_build_join(void)
{
	static const uint8_t want[] = {
		0x78, 0, 0, 0, FAM, 0, 0x05, 0, 42, 0, 0, 0, 0, 0, 0, 0, /* REQUEST|ACK */
		ROSTER_CMD_MEMBER_JOIN, 2, 0, 0,		/* version 2 */
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id 7 */
		8, 0, 4, 0, 1, 0, 0, 0,				/* flags create-only */
		0x54, 0, 0x05, 0x80,				/* member nest */
		8, 0, 1, 0, 10, 0, 0, 1,			/* id-ipv4 */
		0x24, 0, 3, 0, KEY_0_31,			/* public-key */
		8, 0, 4, 0, 192, 0, 2, 1,			/* endpoint-ipv4 */
		6, 0, 6, 0, 0x6c, 0xca, 0, 0,			/* endpoint-port 51820 */
		0x14, 0, 0x07, 0x80,				/* prefix nest */
		8, 0, 1, 0, 10, 1, 0, 0,			/* ipv4 */
		5, 0, 3, 0, 24, 0, 0, 0,			/* len */
	};
	char buf[ROSTER_TXBUF_LEN];
	struct roster_member m;
	struct nlmsghdr *nlh;

	fill_member(&m);
	nlh = roster_build_join(buf, FAM, 42, 7, &m, ROSTER_F_CREATE_ONLY, 0);
	check_bytes(nlh, want, sizeof(want));
	/* The v1 name is the same flag; NLM_F_EXCL is never set. */
	nlh = roster_build_join(buf, FAM, 42, 7, &m, ROSTER_JOIN_EXCL, 0);
	check_bytes(nlh, want, sizeof(want));
	/* No flags: no flags attribute. Unstamped: join-time and
	 * join-generation are not sent even if set. */
	m.join_time = 1700000000;
	m.join_generation = 3;
	nlh = roster_build_join(buf, FAM, 42, 7, &m, 0, 0);
	CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	CHECK(nlh->nlmsg_len == sizeof(want) - 8);
	CHECK(!memcmp((char *)nlh + 28, want + 36, sizeof(want) - 36));
}

/* A stamped restore: generation, resync, join-time and join-generation,
 * every address IPv6. */
static void test_build_join_stamped_v6(void)
{
	static const uint8_t want[] = {
		0xc0, 0, 0, 0, FAM, 0, 0x05, 0, 43, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_MEMBER_JOIN, 2, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id 7 */
		0x0c, 0, 2, 0, 12, 0, 0, 0, 0, 0, 0, 0,		/* generation 12 */
		8, 0, 4, 0, 4, 0, 0, 0,				/* flags resync */
		0x90, 0, 0x05, 0x80,				/* member nest */
		0x14, 0, 2, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 2,				/* id-ipv6 */
		0x24, 0, 3, 0, KEY_0_31,			/* public-key */
		0x14, 0, 5, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0xff,			/* endpoint-ipv6 */
		6, 0, 6, 0, 0xbb, 0x01, 0, 0,			/* endpoint-port 443 */
		0x20, 0, 0x07, 0x80,				/* prefix nest */
		0x14, 0, 2, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,				/* ipv6 */
		5, 0, 3, 0, 48, 0, 0, 0,			/* len */
		0x0c, 0, 8, 0, 0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0, /* join-time */
		0x0c, 0, 9, 0, 5, 0, 0, 0, 0, 0, 0, 0,		/* join-generation */
	};
	char buf[ROSTER_TXBUF_LEN];
	struct roster_member m;
	struct nlmsghdr *nlh;

	fill_member(&m);
	CHECK(roster_addr_parse("2001:db8::2", &m.id) == 0);
	CHECK(roster_endpoint_parse("[2001:db8::ff]:443", &m.endpoint, &m.port) == 0);
	CHECK(roster_prefix_parse("2001:db8:1::/48", &m.prefixes[0], NULL) == 0);
	m.join_time = 1700000000;
	m.join_generation = 5;
	nlh = roster_build_join(buf, FAM, 43, 7, &m, ROSTER_F_RESYNC, 12);
	check_bytes(nlh, want, sizeof(want));
	/* Stamped but nothing to restore: neither attribute. */
	m.join_time = 0;
	m.join_generation = 0;
	nlh = roster_build_join(buf, FAM, 43, 7, &m, ROSTER_F_RESYNC, 12);
	CHECK(nlh->nlmsg_len == sizeof(want) - 24);
}

static void test_build_leave(void)
{
	static const uint8_t want[] = {
		0x50, 0, 0, 0, FAM, 0, 0x05, 0, 9, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_MEMBER_LEAVE, 2, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id */
		0x0c, 0, 2, 0, 0x39, 0x30, 0, 0, 0, 0, 0, 0,	/* generation 12345 */
		8, 0, 4, 0, 2, 0, 0, 0,				/* flags delete-empty */
		8, 0, 8, 0, 1, 0, 0, 0,				/* reason admin */
		0x18, 0, 0x05, 0x80,
		0x14, 0, 2, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1,				/* id-ipv6 */
	};
	static const uint8_t want4[] = {
		0x28, 0, 0, 0, FAM, 0, 0x05, 0, 9, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_MEMBER_LEAVE, 2, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id */
		0x0c, 0, 0x05, 0x80,
		8, 0, 1, 0, 192, 0, 2, 9,			/* id-ipv4 */
	};
	char buf[ROSTER_TXBUF_LEN];
	struct roster_addr id;
	struct nlmsghdr *nlh;

	CHECK(roster_addr_parse("2001:db8::1", &id) == 0);
	nlh = roster_build_leave(buf, FAM, 9, 7, &id, ROSTER_REASON_ADMIN,
				 ROSTER_LEAVE_DELETE_EMPTY, 12345);
	check_bytes(nlh, want, sizeof(want));
	/* Unstamped, default reason, no flags: none of the three. */
	CHECK(roster_addr_parse("192.0.2.9", &id) == 0);
	nlh = roster_build_leave(buf, FAM, 9, 7, &id, ROSTER_REASON_REQUESTED, 0, 0);
	check_bytes(nlh, want4, sizeof(want4));
}

static void test_build_vpn(void)
{
	static const uint8_t want_new[] = {
		0x30, 0, 0, 0, FAM, 0, 0x05, 0, 3, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_VPN_NEW, 2, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id */
		0x0c, 0, 2, 0, 12, 0, 0, 0, 0, 0, 0, 0,		/* generation 12 */
		8, 0, 9, 0, 3, 0, 0, 0,		/* vpn-flags follower|nested-prefixes */
	};
	static const uint8_t want_del[] = {
		0x28, 0, 0, 0, FAM, 0, 0x05, 0, 4, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_VPN_DEL, 2, 0, 0,
		8, 0, 1, 0, 0xff, 0xff, 0xff, 0xff,		/* vpn-id 2^32-1 */
		0x0c, 0, 2, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	char buf[ROSTER_TXBUF_LEN];
	struct nlmsghdr *nlh;

	nlh = roster_build_vpn_new(buf, FAM, 3, 7,
				   ROSTER_VPN_F_FOLLOWER | ROSTER_VPN_F_NESTED_PREFIXES, 12);
	check_bytes(nlh, want_new, sizeof(want_new));
	CHECK(ROSTER_VPN_F_FOLLOWER == ROSTER_VPN_FLAGS_FOLLOWER);
	CHECK(ROSTER_VPN_F_NESTED_PREFIXES == ROSTER_VPN_FLAGS_NESTED_PREFIXES);
	/* Unstamped, no flags: the vpn-id alone. */
	nlh = roster_build_vpn_new(buf, FAM, 3, 7, 0, 0);
	CHECK(nlh->nlmsg_len == sizeof(want_new) - 20);
	CHECK(!memcmp((char *)nlh + 16, want_new + 16, 12));
	nlh = roster_build_vpn_del(buf, FAM, 4, UINT32_MAX, UINT64_MAX);
	check_bytes(nlh, want_del, sizeof(want_del));
	nlh = roster_build_vpn_del(buf, FAM, 4, 7, 0);
	CHECK(nlh->nlmsg_len == sizeof(want_del) - 12);
}

static void test_build_vpn_set(void)
{
	static const uint8_t want[] = {
		0x38, 0, 0, 0, FAM, 0, 0x05, 0, 5, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_VPN_SET, 2, 0, 0,
		8, 0, 1, 0, 6, 0, 0, 0,				/* vpn-id */
		0x0c, 0, 2, 0, 15, 0, 0, 0, 0, 0, 0, 0,		/* generation 15 */
		8, 0, 4, 0, 4, 0, 0, 0,				/* flags resync */
		8, 0, 9, 0, 0, 0, 0, 0,				/* vpn-flags 0 */
	};
	static const uint8_t want_flags[] = {
		0x24, 0, 0, 0, FAM, 0, 0x05, 0, 5, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_VPN_SET, 2, 0, 0,
		8, 0, 1, 0, 6, 0, 0, 0,				/* vpn-id */
		8, 0, 9, 0, 1, 0, 0, 0,				/* vpn-flags follower */
	};
	char buf[ROSTER_TXBUF_LEN];
	uint32_t none = 0, follower = ROSTER_VPN_F_FOLLOWER;
	struct nlmsghdr *nlh;

	/* vpn-flags 0 is sent: it clears the follower mark */
	nlh = roster_build_vpn_set(buf, FAM, 5, 6, 15, ROSTER_F_RESYNC, &none);
	check_bytes(nlh, want, sizeof(want));
	nlh = roster_build_vpn_set(buf, FAM, 5, 6, 0, 0, &follower);
	check_bytes(nlh, want_flags, sizeof(want_flags));
	/* stamped only: no vpn-flags attribute */
	nlh = roster_build_vpn_set(buf, FAM, 5, 6, 15, 0, NULL);
	CHECK(nlh->nlmsg_len == sizeof(want) - 16);
}

/* The extack's offset of a refused prefix, back to its index. */
static void test_prefix_at(void)
{
	char buf[ROSTER_TXBUF_LEN];
	struct roster_member m;
	struct nlmsghdr *nlh;

	fill_member(&m);
	CHECK(roster_prefix_parse("10.2.0.0/24", &m.prefixes[1], NULL) == 0);
	CHECK(roster_prefix_parse("10.3.0.0/24", &m.prefixes[2], NULL) == 0);
	m.n_prefixes = 3;
	nlh = roster_build_join(buf, FAM, 1, 7, &m, 0, 0);
	/* header 20, vpn-id 8, member nest 4, id 8, key 36, endpoint 8 + 8 */
	CHECK(roster_prefix_at(nlh, 92) == 0);
	CHECK(roster_prefix_at(nlh, 112) == 1);
	CHECK(roster_prefix_at(nlh, 132) == 2);
	CHECK(roster_prefix_at(nlh, 28) == -1);	/* the member nest */
	CHECK(roster_prefix_at(nlh, 100) == -1);	/* inside a prefix */
	CHECK(roster_prefix_at(nlh, 4096) == -1);
}

static void test_flag_values(void)
{
	CHECK(ROSTER_F_CREATE_ONLY == ROSTER_FLAGS_CREATE_ONLY);
	CHECK(ROSTER_F_DELETE_EMPTY == ROSTER_FLAGS_DELETE_EMPTY);
	CHECK(ROSTER_F_RESYNC == ROSTER_FLAGS_RESYNC);
	CHECK(ROSTER_JOIN_EXCL == ROSTER_FLAGS_CREATE_ONLY);
	CHECK(ROSTER_LEAVE_DELETE_EMPTY == ROSTER_FLAGS_DELETE_EMPTY);
	CHECK(ROSTER_CHANGE_F_STAMPED == ROSTER_CHANGE_FLAGS_STAMPED);
	CHECK(ROSTER_CHANGE_F_RESYNC == ROSTER_CHANGE_FLAGS_RESYNC);
}

static void test_build_getfamily(void)
{
	static const uint8_t want[] = {
		0x20, 0, 0, 0, GENL_ID_CTRL, 0, 0x05, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		CTRL_CMD_GETFAMILY, 1, 0, 0,
		0x0b, 0, CTRL_ATTR_FAMILY_NAME, 0, 'r', 'o', 's', 't', 'e', 'r', 0, 0,
	};
	char buf[ROSTER_TXBUF_LEN];
	struct nlmsghdr *nlh = roster_build_getfamily(buf, 1, "roster");

	check_bytes(nlh, want, sizeof(want));
}

/* ---- replies ---------------------------------------------------------- */

/* Append one reply message to buf at *off. */
static struct nlmsghdr *put_msg(char *buf, size_t *off, uint16_t type, uint16_t flags,
				uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

static struct nlmsghdr *put_genl(char *buf, size_t *off, uint16_t flags, uint32_t seq,
				 uint8_t cmd, uint32_t vpn, uint64_t gen)
{
	struct nlmsghdr *nlh = put_msg(buf, off, FAM, flags, seq);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = ROSTER_FAMILY_VERSION;
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn);
	mnl_attr_put_u64(nlh, ROSTER_A_GENERATION, gen);
	return nlh;
}

static void put_reply_member(struct nlmsghdr *nlh, const char *id, uint64_t jg)
{
	struct roster_member m;

	memset(&m, 0, sizeof(m));
	roster_addr_parse(id, &m.id);
	m.has_key = true;
	m.join_time = 1700000000;
	m.join_generation = jg;
	roster_put_member(nlh, &m, false, true);
}

static void put_ack(char *buf, size_t *off, uint32_t seq, int32_t error)
{
	struct nlmsghdr *nlh = put_msg(buf, off, NLMSG_ERROR, NLM_F_CAPPED, seq);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = 40; /* capped: the request is not echoed */
	*off += nlh->nlmsg_len;
}

static void put_done(char *buf, size_t *off, uint32_t seq, int32_t err)
{
	struct nlmsghdr *nlh = put_msg(buf, off, NLMSG_DONE, NLM_F_MULTI, seq);
	int32_t *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	*e = err;
	*off += nlh->nlmsg_len;
}

/* MEMBER_JOIN as a plain do: one reply message, then the ACK, possibly in
 * two receive buffers, after a stale message of an earlier request. */
static void test_change_reply(void)
{
	static char buf[4096];
	struct roster_change c = { 0 };
	struct roster_change_reply x = { .cmd = ROSTER_CMD_MEMBER_JOIN, .c = &c };
	struct roster_reply r = { .seq = 5, .cb = roster_change_msg_cb, .arg = &x };
	struct nlmsghdr *nlh;
	size_t off = 0, split;

	nlh = put_genl(buf, &off, 0, 4, ROSTER_CMD_MEMBER_JOIN, 1, 1);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 1);
	off += nlh->nlmsg_len;
	nlh = put_genl(buf, &off, 0, 5, ROSTER_CMD_MEMBER_JOIN, 3, 10);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 4);
	off += nlh->nlmsg_len;
	split = off;
	put_ack(buf, &off, 4, 0); /* the earlier request's ACK: not ours */
	put_ack(buf, &off, 5, 0);
	CHECK(roster_reply_feed(&r, buf, split) == 0);
	CHECK(roster_reply_feed(&r, buf + split, off - split) == 1);
	CHECK(x.n == 1);
	CHECK(c.vpn_id == 3 && c.generation == 10 && c.member_count == 4);

	/* LEAVE: the reply must carry the leave's cmd. */
	memset(&x, 0, sizeof(x));
	x.cmd = ROSTER_CMD_MEMBER_LEAVE;
	x.c = &c;
	CHECK(roster_change_msg_cb((struct nlmsghdr *)(buf + split - nlh->nlmsg_len), &x) == -EPROTO);
}

static void test_change_reply_bad(void)
{
	static char buf[4096];
	struct roster_change c;
	struct roster_change_reply x;
	struct roster_reply r;
	struct nlmsghdr *nlh;
	size_t off = 0;

	/* two reply messages: not a plain do */
	nlh = put_genl(buf, &off, 0, 6, ROSTER_CMD_MEMBER_JOIN, 3, 10);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 4);
	off += nlh->nlmsg_len;
	nlh = put_genl(buf, &off, 0, 6, ROSTER_CMD_MEMBER_JOIN, 3, 10);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 4);
	off += nlh->nlmsg_len;
	put_ack(buf, &off, 6, 0);
	memset(&x, 0, sizeof(x));
	x.cmd = ROSTER_CMD_MEMBER_JOIN;
	x.c = &c;
	memset(&r, 0, sizeof(r));
	r.seq = 6;
	r.cb = roster_change_msg_cb;
	r.arg = &x;
	CHECK(roster_reply_feed(&r, buf, off) == -EPROTO);
	CHECK(r.err.error == 0);

	/* no member-count */
	off = 0;
	nlh = put_genl(buf, &off, 0, 6, ROSTER_CMD_MEMBER_JOIN, 3, 10);
	off += nlh->nlmsg_len;
	memset(&x, 0, sizeof(x));
	x.cmd = ROSTER_CMD_MEMBER_JOIN;
	x.c = &c;
	CHECK(roster_change_msg_cb(nlh, &x) == -EPROTO);

	/* a member in a change reply (v1's JOIN message) */
	off = 0;
	nlh = put_genl(buf, &off, 0, 6, ROSTER_CMD_MEMBER_JOIN, 3, 10);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 2);
	put_reply_member(nlh, "10.0.0.2", 2);
	memset(&x, 0, sizeof(x));
	x.cmd = ROSTER_CMD_MEMBER_JOIN;
	x.c = &c;
	CHECK(roster_change_msg_cb(nlh, &x) == -EPROTO);
}

/* A filtered member dump: members with their generation; DUMP_INTR seen. */
static void test_dump_reply(void)
{
	static char buf[8192];
	struct roster_reply r;
	struct nlmsghdr *nlh;
	struct roster_top t;
	size_t off = 0;

	nlh = put_genl(buf, &off, NLM_F_MULTI, 8, ROSTER_CMD_MEMBER_GET, 4, 9);
	put_reply_member(nlh, "10.0.0.2", 2);
	off += nlh->nlmsg_len;
	nlh = put_genl(buf, &off, NLM_F_MULTI | NLM_F_DUMP_INTR, 8, ROSTER_CMD_MEMBER_GET, 4, 10);
	put_reply_member(nlh, "2001:db8::3", 10);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 8, 0);
	memset(&r, 0, sizeof(r));
	r.seq = 8;
	CHECK(roster_reply_feed(&r, buf, off) == 1);
	CHECK(r.intr);
	nlh = (struct nlmsghdr *)buf;
	CHECK(roster_parse_msg(nlh, &t, NULL, NULL) == 0);
	CHECK(t.vpn_id == 4 && t.generation == 9 && t.n_members == 1);

	/* an unknown VPN: ENOENT in NLMSG_DONE */
	off = 0;
	put_done(buf, &off, 9, -ENOENT);
	memset(&r, 0, sizeof(r));
	r.seq = 9;
	CHECK(roster_reply_feed(&r, buf, off) == -ENOENT);
}

/* The JOIN message is the dump minus the joiner. */
static void test_set_remove(void)
{
	struct roster_member_set set = { .vpn_id = 1, .generation = 5 };
	struct roster_set_builder b = { .set = &set };
	struct roster_member m;
	struct roster_addr id;
	char s[ROSTER_ADDR_STRLEN];
	static const char *const ids[] = { "10.0.0.1", "2001:db8::1", "10.0.0.3" };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		memset(&m, 0, sizeof(m));
		CHECK(roster_addr_parse(ids[i], &m.id) == 0);
		m.join_generation = i + 1;
		CHECK(roster_set_builder_add(&b, &m) == 0);
	}
	CHECK(roster_addr_parse("10.0.0.9", &id) == 0);
	CHECK(!roster_set_remove(&set, &id) && set.count == 3);
	/* the IPv4-mapped form is another id */
	CHECK(roster_addr_parse("::ffff:10.0.0.1", &id) == 0);
	CHECK(!roster_set_remove(&set, &id) && set.count == 3);
	CHECK(roster_addr_parse("2001:db8::1", &id) == 0);
	CHECK(roster_set_remove(&set, &id) && set.count == 2);
	CHECK(!strcmp(roster_addr_format(&set.members[0].id, s, sizeof(s)), "10.0.0.1"));
	CHECK(!strcmp(roster_addr_format(&set.members[1].id, s, sizeof(s)), "10.0.0.3"));
	CHECK(set.members[1].join_generation == 3);
	CHECK(roster_addr_parse("10.0.0.3", &id) == 0);
	CHECK(roster_set_remove(&set, &id) && set.count == 1);
	CHECK(roster_addr_parse("10.0.0.1", &id) == 0);
	CHECK(roster_set_remove(&set, &id) && set.count == 0);
	CHECK(!roster_set_remove(&set, &id));
	free(set.members);
}

/* NLMSG_ERROR with NETLINK_CAP_ACK (capped) and extack TLVs, raw bytes:
 * a stamped change refused, the VPN's generation in the cookie. */
static void test_extack_error(void)
{
	static const uint8_t raw[] = {
		/* nlmsghdr: len 0x54, NLMSG_ERROR, flags CAPPED|ACK_TLVS, seq 7 */
		0x54, 0, 0, 0, 2, 0, 0x00, 0x03, 7, 0, 0, 0, 0x55, 0, 0, 0,
		0x8e, 0xff, 0xff, 0xff,			/* error -114 EALREADY */
		0x70, 0, 0, 0, FAM, 0, 5, 0, 7, 0, 0, 0, 0, 0, 0, 0, /* orig hdr */
		0x24, 0, 1, 0,				/* NLMSGERR_ATTR_MSG */
		'V', 'P', 'N', ' ', '7', ' ', 'i', 's', ' ', 'a', 't', ' ',
		'g', 'e', 'n', 'e', 'r', 'a', 't', 'i', 'o', 'n', ' ', '1',
		'2', ':', ' ', 'o', 'l', 'd', '\n', 0,
		0x0c, 0, 3, 0, 12, 0, 0, 0, 0, 0, 0, 0,	/* NLMSGERR_ATTR_COOKIE */
	};
	struct roster_reply r = { .seq = 7 };
	struct roster_nlerr e;

	CHECK(sizeof(raw) == 0x54);
	CHECK(NLMSGERR_ATTR_MSG == 1 && NLMSGERR_ATTR_COOKIE == 3);
	roster_parse_nlerr((const struct nlmsghdr *)raw, &e);
	CHECK(e.error == -EALREADY);
	CHECK(!strcmp(e.msg, "VPN 7 is at generation 12: old"));
	CHECK(e.cookie_len == 8 && e.cookie[0] == 12 && e.cookie[1] == 0);
	CHECK(!e.has_offs && e.miss_type == -1);

	CHECK(roster_reply_feed(&r, raw, sizeof(raw)) == -EALREADY);
	CHECK(!strcmp(r.err.msg, "VPN 7 is at generation 12: old"));
	CHECK(r.err.cookie_len == 8 && r.err.cookie[0] == 12);
}

static void test_extack_missing(void)
{
	static char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *err;
	struct roster_nlerr e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -EINVAL;
	err->msg.nlmsg_len = 200; /* capped: must not be used */
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_MISS_TYPE, ROSTER_A_VPN_ID);
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 52);
	roster_parse_nlerr(nlh, &e);
	CHECK(e.error == -EINVAL);
	CHECK(e.miss_type == ROSTER_A_VPN_ID);
	CHECK(e.has_offs && e.offs == 52);
	CHECK(e.cookie_len == 0);
	CHECK(e.msg[0] == 0);

	/* EADDRINUSE: the holder's id, 16 bytes */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -EADDRINUSE;
	{
		static const uint8_t id[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

		mnl_attr_put(nlh, NLMSGERR_ATTR_COOKIE, 16, id);
		roster_parse_nlerr(nlh, &e);
		CHECK(e.error == -EADDRINUSE);
		CHECK(e.cookie_len == 16 && !memcmp(e.cookie, id, 16));
	}
}

static void test_done_error(void)
{
	static char buf[256];
	struct roster_reply r = { .seq = 3 };
	size_t off = 0;

	put_done(buf, &off, 3, -EBUSY);
	CHECK(roster_reply_feed(&r, buf, off) == -EBUSY);
	CHECK(r.err.error == -EBUSY);
}

static void test_parse_vpn(void)
{
	static char buf[512];
	struct roster_vpn v;
	struct nlmsghdr *nlh;
	size_t off = 0;

	nlh = put_genl(buf, &off, 0, 1, ROSTER_CMD_VPN_NEW, 7, 12);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 0);
	mnl_attr_put_u64(nlh, ROSTER_A_CREATE_TIME, 1700000000);
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_FLAGS, ROSTER_VPN_FLAGS_FOLLOWER);
	CHECK(roster_parse_vpn(nlh, &v) == 0);
	CHECK(v.id == 7 && v.generation == 12 && v.create_time == 1700000000);
	CHECK(v.flags == ROSTER_VPN_F_FOLLOWER);
}

static void test_parse_event(void)
{
	static char buf[1024];
	struct roster_event ev;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	size_t off = 0;
	struct roster_member m;

	memset(&m, 0, sizeof(m));
	nlh = put_genl(buf, &off, 0, 0, ROSTER_CMD_MEMBER_LEFT_NTF, 12, 77);
	g = mnl_nlmsg_get_payload(nlh);
	mnl_attr_put_u32(nlh, ROSTER_A_CHANGE_FLAGS,
			 ROSTER_CHANGE_FLAGS_STAMPED | ROSTER_CHANGE_FLAGS_RESYNC);
	mnl_attr_put_u32(nlh, ROSTER_A_REASON, ROSTER_LEAVE_REASON_EXPIRED);
	roster_addr_parse("2001:db8::9", &m.id);
	roster_put_member(nlh, &m, true, false);
	CHECK(roster_parse_event(nlh, &ev) == 0);
	CHECK(ev.type == ROSTER_EVENT_MEMBER_LEFT);
	CHECK(ev.vpn_id == 12 && ev.generation == 77);
	CHECK(ev.change_flags == (ROSTER_CHANGE_F_STAMPED | ROSTER_CHANGE_F_RESYNC));
	CHECK(ev.has_reason && ev.reason == ROSTER_REASON_EXPIRED);
	CHECK(ev.has_member && !memcmp(&ev.member.id, &m.id, sizeof(m.id)));
	CHECK(!strcmp(roster_event_name(ev.type), "member_left"));

	g->cmd = 200;
	CHECK(roster_parse_event(nlh, &ev) == -ENOMSG);

	/* vpn-new-ntf of a follower restored at 40, stamped */
	off = 0;
	nlh = put_genl(buf, &off, 0, 0, ROSTER_CMD_VPN_NEW_NTF, 3, 40);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 0);
	mnl_attr_put_u64(nlh, ROSTER_A_CREATE_TIME, 1700000000);
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_FLAGS, ROSTER_VPN_FLAGS_FOLLOWER |
			 ROSTER_VPN_FLAGS_NESTED_PREFIXES);
	mnl_attr_put_u32(nlh, ROSTER_A_CHANGE_FLAGS, ROSTER_CHANGE_FLAGS_STAMPED);
	CHECK(roster_parse_event(nlh, &ev) == 0);
	CHECK(ev.type == ROSTER_EVENT_VPN_NEW && ev.generation == 40);
	CHECK(ev.vpn_flags == (ROSTER_VPN_F_FOLLOWER | ROSTER_VPN_F_NESTED_PREFIXES));
	CHECK(ev.change_flags == ROSTER_CHANGE_F_STAMPED);
	CHECK(!ev.has_member && !ev.has_reason);

	/* vpn-changed-ntf: a follower's generation moved by a resync */
	off = 0;
	nlh = put_genl(buf, &off, 0, 0, ROSTER_CMD_VPN_CHANGED_NTF, 6, 15);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, 2);
	mnl_attr_put_u64(nlh, ROSTER_A_CREATE_TIME, 1700000000);
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_FLAGS, ROSTER_VPN_FLAGS_FOLLOWER);
	mnl_attr_put_u32(nlh, ROSTER_A_CHANGE_FLAGS,
			 ROSTER_CHANGE_FLAGS_STAMPED | ROSTER_CHANGE_FLAGS_RESYNC);
	CHECK(roster_parse_event(nlh, &ev) == 0);
	CHECK(ev.type == ROSTER_EVENT_VPN_CHANGED && ev.vpn_id == 6 && ev.generation == 15);
	CHECK(ev.member_count == 2 && ev.create_time == 1700000000);
	CHECK(ev.vpn_flags == ROSTER_VPN_F_FOLLOWER);
	CHECK(ev.change_flags == (ROSTER_CHANGE_F_STAMPED | ROSTER_CHANGE_F_RESYNC));
	CHECK(!strcmp(roster_event_name(ev.type), "vpn_changed"));

	/* unstamped: no change-flags attribute, 0 */
	off = 0;
	nlh = put_genl(buf, &off, 0, 0, ROSTER_CMD_VPN_DEL_NTF, 3, 41);
	CHECK(roster_parse_event(nlh, &ev) == 0);
	CHECK(ev.type == ROSTER_EVENT_VPN_DEL && ev.change_flags == 0);
}

/* Member nests a v2 kernel never sends. */
static void test_parse_member_bad(void)
{
	static char buf[1024];
	struct roster_member m;
	struct nlmsghdr *nlh;
	struct nlattr *nest, *p;
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	size_t off;

	/* both id-ipv4 and id-ipv6 */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_ID_IPV4, htonl(0x0a000001));
	mnl_attr_put(nlh, ROSTER_A_MEMBER_ID_IPV6, 16, v6);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* id-ipv4 of 16 bytes (v1's length-selected address) */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put(nlh, ROSTER_A_MEMBER_ID_IPV4, 16, v6);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* no id */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put_u16(nlh, ROSTER_A_MEMBER_ENDPOINT_PORT, 1);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* endpoint without port; then a port alone */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_ID_IPV4, htonl(0x0a000001));
	mnl_attr_put(nlh, ROSTER_A_MEMBER_ENDPOINT_IPV6, 16, v6);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* two endpoint addresses */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_ID_IPV4, htonl(0x0a000001));
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_ENDPOINT_IPV4, htonl(0xc0000201));
	mnl_attr_put(nlh, ROSTER_A_MEMBER_ENDPOINT_IPV6, 16, v6);
	mnl_attr_put_u16(nlh, ROSTER_A_MEMBER_ENDPOINT_PORT, 1);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* IPv4 prefix of length 33 */
	off = 0;
	nlh = put_msg(buf, &off, FAM, 0, 0);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_ID_IPV4, htonl(0x0a000001));
	p = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER_PREFIX);
	mnl_attr_put_u32(nlh, ROSTER_A_PREFIX_IPV4, htonl(0x0a010000));
	mnl_attr_put_u8(nlh, ROSTER_A_PREFIX_LEN, 33);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_member(nest, &m) == -EPROTO);

	/* the same at /32 is fine, and decodes in network byte order */
	((struct nlattr *)((char *)p + 12))->nla_len = 5;
	*((uint8_t *)p + 16) = 32;
	CHECK(roster_parse_member(nest, &m) == 0);
	CHECK(m.n_prefixes == 1 && m.prefixes[0].len == 32);
	CHECK(m.prefixes[0].addr.family == AF_INET && m.prefixes[0].addr.addr[0] == 10 &&
	      m.prefixes[0].addr.addr[1] == 1);
	CHECK(m.id.family == AF_INET && m.id.addr[0] == 10 && m.id.addr[3] == 1);
}

/* ---- helpers ---------------------------------------------------------- */

static void test_addr_parse(void)
{
	struct roster_addr a;
	char s[ROSTER_ADDR_STRLEN];

	CHECK(roster_addr_parse("192.0.2.1", &a) == 0 && a.family == AF_INET);
	CHECK(!strcmp(roster_addr_format(&a, s, sizeof(s)), "192.0.2.1"));
	CHECK(roster_addr_parse("2001:DB8::1", &a) == 0 && a.family == AF_INET6);
	CHECK(!strcmp(roster_addr_format(&a, s, sizeof(s)), "2001:db8::1"));
	CHECK(roster_addr_parse("::ffff:10.0.0.1", &a) == 0 && a.family == AF_INET6);
	CHECK(roster_addr_parse("10.0.0.256", &a) == -EINVAL);
	CHECK(roster_addr_parse("10.1", &a) == -EINVAL);
	CHECK(roster_addr_parse("", &a) == -EINVAL);
	CHECK(roster_addr_parse("foo", &a) == -EINVAL);
	CHECK(roster_addr_parse("1:2:3:4:5:6:7:8:9", &a) == -EINVAL);
	CHECK(roster_addr_parse("10.0.0.1 ", &a) == -EINVAL);
}

static void test_prefix_parse(void)
{
	struct roster_prefix p;
	const char *why;
	char s[ROSTER_ADDR_STRLEN];

	CHECK(roster_prefix_parse("10.1.0.0/16", &p, &why) == 0 && p.len == 16 && !why);
	CHECK(!strcmp(roster_prefix_format(&p, s, sizeof(s)), "10.1.0.0/16"));
	CHECK(roster_prefix_parse("10.1.2.3", &p, &why) == 0 && p.len == 32);
	CHECK(roster_prefix_parse("0.0.0.0/0", &p, &why) == 0 && p.len == 0);
	CHECK(roster_prefix_parse("2001:db8::/32", &p, &why) == 0 && p.len == 32);
	CHECK(roster_prefix_parse("2001:db8::1", &p, &why) == 0 && p.len == 128);
	CHECK(roster_prefix_parse("10.1.0.1/24", &p, &why) == -EINVAL);
	CHECK(why && !strcmp(why, "Invalid prefix for given prefix length."));
	CHECK(roster_prefix_parse("10.1.0.128/25", &p, &why) == 0);
	CHECK(roster_prefix_parse("10.1.0.64/25", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("2001:db8::1/64", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("10.0.0.0/33", &p, &why) == -EINVAL);
	CHECK(why && !strcmp(why, "invalid prefix length"));
	CHECK(roster_prefix_parse("2001:db8::/129", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("10.0.0.0/", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("10.0.0.0/-1", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("10.0.0.0/8x", &p, &why) == -EINVAL);
	CHECK(roster_prefix_parse("/8", &p, &why) == -EINVAL);
}

static void test_key(void)
{
	/* RFC 4648 test vector style: bytes 0..31 */
	const char *b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	uint8_t key[32], want[32];
	char out[ROSTER_KEY_B64_LEN];
	unsigned int i;

	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	CHECK(roster_key_parse(b64, key) == 0);
	CHECK(!memcmp(key, want, 32));
	roster_key_format(key, out);
	CHECK(!strcmp(out, b64));
	/* A real WireGuard public key round-trips. */
	CHECK(roster_key_parse("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", key) == 0);
	roster_key_format(key, out);
	CHECK(!strcmp(out, "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="));
	CHECK(roster_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", key) == -EINVAL);
	CHECK(roster_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", key) == -EINVAL);
	CHECK(roster_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!=", key) == -EINVAL);
	CHECK(roster_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", key) == -EINVAL);
	CHECK(roster_key_parse("", key) == -EINVAL);
}

static void test_endpoint(void)
{
	struct roster_addr a;
	uint16_t port = 0;
	char s[ROSTER_ADDR_STRLEN];

	CHECK(roster_endpoint_parse("192.0.2.1:51820", &a, &port) == 0 && port == 51820);
	CHECK(!strcmp(roster_endpoint_format(&a, port, s, sizeof(s)), "192.0.2.1:51820"));
	CHECK(roster_endpoint_parse("[2001:db8::1]:1", &a, &port) == 0 && port == 1 &&
	      a.family == AF_INET6);
	CHECK(!strcmp(roster_endpoint_format(&a, port, s, sizeof(s)), "[2001:db8::1]:1"));
	CHECK(roster_endpoint_parse("2001:db8::1:51820", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("192.0.2.1", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("192.0.2.1:0", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("192.0.2.1:65536", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("192.0.2.1:", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("[192.0.2.1]:80", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("[2001:db8::1:80", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse(":80", &a, &port) == -EINVAL);
	CHECK(roster_endpoint_parse("host.example:80", &a, &port) == -EINVAL);
}

static void test_misc_parse(void)
{
	uint32_t id;
	enum roster_reason r;

	CHECK(roster_vpn_id_parse("1", &id) == 0 && id == 1);
	CHECK(roster_vpn_id_parse("4294967295", &id) == 0 && id == 4294967295u);
	CHECK(roster_vpn_id_parse("0", &id) == -ERANGE);
	CHECK(roster_vpn_id_parse("4294967296", &id) == -ERANGE);
	CHECK(roster_vpn_id_parse("-1", &id) == -EINVAL);
	CHECK(roster_vpn_id_parse("12a", &id) == -EINVAL);
	CHECK(roster_vpn_id_parse("", &id) == -EINVAL);
	CHECK(roster_reason_parse("admin", &r) == 0 && r == ROSTER_REASON_ADMIN);
	CHECK(roster_reason_parse("expired", &r) == 0 && r == ROSTER_REASON_EXPIRED);
	CHECK(roster_reason_parse("adm", &r) == -EINVAL);
	{
		uint64_t g;

		CHECK(roster_generation_parse("1", &g) == 0 && g == 1);
		CHECK(roster_generation_parse("18446744073709551615", &g) == 0 &&
		      g == UINT64_MAX);
		CHECK(roster_generation_parse("18446744073709551616", &g) == -ERANGE);
		CHECK(roster_generation_parse("0", &g) == -ERANGE);
		CHECK(roster_generation_parse("-1", &g) == -EINVAL);
		CHECK(roster_generation_parse("+1", &g) == -EINVAL);
		CHECK(roster_generation_parse("1e3", &g) == -EINVAL);
		CHECK(roster_generation_parse("", &g) == -EINVAL);
	}
	CHECK(!strcmp(roster_reason_name(0), "requested"));
}

static void test_member_roundtrip(void)
{
	char buf[ROSTER_TXBUF_LEN];
	struct roster_member m, got;
	struct nlmsghdr *nlh;
	const struct nlattr *a;
	unsigned int i;
	int n = 0;

	fill_member(&m);
	for (i = 1; i < ROSTER_PREFIX_MAX; i++) {
		char p[32];

		snprintf(p, sizeof(p), "10.%u.0.0/16", 100 + i);
		CHECK(roster_prefix_parse(p, &m.prefixes[i], NULL) == 0);
	}
	m.n_prefixes = ROSTER_PREFIX_MAX;
	CHECK(roster_prefix_parse("2001:db8:ff::/48", &m.prefixes[7], NULL) == 0);
	m.join_time = 1700000000;
	m.join_generation = 9;
	nlh = roster_build_join(buf, FAM, 1, 1, &m, 0, 10);
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != ROSTER_A_MEMBER)
			continue;
		CHECK(roster_parse_member(a, &got) == 0);
		CHECK(!memcmp(&got, &m, sizeof(m)));
		n++;
	}
	CHECK(n == 1);
}

static const struct test {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "build_member_join_bytes", test_build_join },
	{ "build_member_join_stamped_ipv6_bytes", test_build_join_stamped_v6 },
	{ "build_member_leave_bytes", test_build_leave },
	{ "build_vpn_new_del_bytes", test_build_vpn },
	{ "build_vpn_set_bytes", test_build_vpn_set },
	{ "flag_values_match_uapi", test_flag_values },
	{ "refused_prefix_from_extack_offset", test_prefix_at },
	{ "build_getfamily_bytes", test_build_getfamily },
	{ "change_reply_plain_do", test_change_reply },
	{ "change_reply_malformed", test_change_reply_bad },
	{ "member_dump_reply", test_dump_reply },
	{ "join_set_without_joiner", test_set_remove },
	{ "extack_error_cookie", test_extack_error },
	{ "extack_missing_attr", test_extack_missing },
	{ "done_with_error", test_done_error },
	{ "parse_vpn_flags", test_parse_vpn },
	{ "parse_event_flags", test_parse_event },
	{ "parse_member_malformed", test_parse_member_bad },
	{ "addr_parse", test_addr_parse },
	{ "prefix_parse", test_prefix_parse },
	{ "key_base64", test_key },
	{ "endpoint_parse", test_endpoint },
	{ "vpn_id_generation_reason_parse", test_misc_parse },
	{ "member_build_parse_roundtrip", test_member_roundtrip },
};

int main(void)
{
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	int failed = 0;

	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		failures = 0;
		tests[i].fn();
		printf("%sok %zu - %s\n", failures ? "not " : "", i + 1, tests[i].name);
		if (failures)
			failed++;
	}
	printf("# %zu passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
