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
	CHECK(roster_addr_parse("10.0.0.1", &m->dev) == 0);
	for (i = 0; i < 32; i++)
		m->key[i] = (uint8_t)i;
	m->has_key = true;
	CHECK(roster_endpoint_parse("192.0.2.1:51820", &m->endpoint, &m->port) == 0);
	m->has_endpoint = true;
	CHECK(roster_prefix_parse("10.1.0.0/24", &m->prefixes[0], NULL) == 0);
	m->n_prefixes = 1;
}

static void test_build_join(void)
{
	static const uint8_t want[] = {
		0x70, 0, 0, 0, FAM, 0, 0x05, 0x02, 42, 0, 0, 0, 0, 0, 0, 0, /* EXCL */
		ROSTER_CMD_MEMBER_JOIN, 1, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id 7 */
		0x54, 0, 0x05, 0x80,				/* member nest */
		8, 0, 1, 0, 10, 0, 0, 1,			/* dev */
		0x24, 0, 2, 0,					/* public-key */
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		8, 0, 3, 0, 192, 0, 2, 1,			/* endpoint-addr */
		6, 0, 4, 0, 0x6c, 0xca, 0, 0,			/* endpoint-port 51820 */
		0x14, 0, 0x05, 0x80,				/* prefix nest */
		8, 0, 1, 0, 10, 1, 0, 0,
		5, 0, 2, 0, 24, 0, 0, 0,
	};
	char buf[ROSTER_TXBUF_LEN];
	struct roster_member m;
	struct nlmsghdr *nlh;

	fill_member(&m);
	nlh = roster_build_join(buf, FAM, 42, 7, &m, ROSTER_JOIN_EXCL);
	CHECK(nlh->nlmsg_len == sizeof(want));
	if (nlh->nlmsg_len == sizeof(want)) {
		CHECK(memcmp(buf, want, sizeof(want)) == 0);
		hexdump_diff((const uint8_t *)buf, want, sizeof(want));
	}
	/* Without EXCL: only NLM_F_REQUEST | NLM_F_ACK. */
	nlh = roster_build_join(buf, FAM, 42, 7, &m, 0);
	CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
}

static void test_build_leave(void)
{
	static const uint8_t want[] = {
		0x44, 0, 0, 0, FAM, 0, 0x05, 0, 9, 0, 0, 0, 0, 0, 0, 0,
		ROSTER_CMD_MEMBER_LEAVE, 1, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,				/* vpn-id */
		8, 0, 4, 0, 1, 0, 0, 0,				/* flags delete-empty */
		8, 0, 8, 0, 1, 0, 0, 0,				/* reason admin */
		0x18, 0, 0x05, 0x80,
		0x14, 0, 1, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	char buf[ROSTER_TXBUF_LEN];
	struct roster_addr dev;
	struct nlmsghdr *nlh;

	CHECK(roster_addr_parse("2001:db8::1", &dev) == 0);
	nlh = roster_build_leave(buf, FAM, 9, 7, &dev, ROSTER_REASON_ADMIN,
				 ROSTER_LEAVE_DELETE_EMPTY);
	CHECK(nlh->nlmsg_len == sizeof(want));
	if (nlh->nlmsg_len == sizeof(want)) {
		CHECK(memcmp(buf, want, sizeof(want)) == 0);
		hexdump_diff((const uint8_t *)buf, want, sizeof(want));
	}
	/* Default reason and no flags: neither attribute is sent. */
	nlh = roster_build_leave(buf, FAM, 9, 7, &dev, ROSTER_REASON_REQUESTED, 0);
	CHECK(nlh->nlmsg_len == sizeof(want) - 16);
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

	CHECK(nlh->nlmsg_len == sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

/* ---- reply assembly --------------------------------------------------- */

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

static struct nlmsghdr *put_reply(char *buf, size_t *off, uint32_t seq, uint8_t cmd,
				  uint32_t vpn, uint64_t gen, int count)
{
	struct nlmsghdr *nlh = put_msg(buf, off, FAM, NLM_F_MULTI, seq);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = 1;
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn);
	mnl_attr_put_u64(nlh, ROSTER_A_GENERATION, gen);
	if (count >= 0)
		mnl_attr_put_u32(nlh, ROSTER_A_MEMBER_COUNT, (uint32_t)count);
	return nlh;
}

static void put_reply_member(struct nlmsghdr *nlh, const char *dev, uint64_t jg)
{
	struct roster_member m;
	struct nlattr *nest;

	memset(&m, 0, sizeof(m));
	roster_addr_parse(dev, &m.dev);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	roster_put_addr(nlh, ROSTER_A_MEMBER_DEV, &m.dev);
	mnl_attr_put(nlh, ROSTER_A_MEMBER_PUBLIC_KEY, 32, m.key);
	mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_TIME, 1700000000);
	mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_GENERATION, jg);
	mnl_attr_nest_end(nlh, nest);
}

static void put_done(char *buf, size_t *off, uint32_t seq, int32_t err)
{
	struct nlmsghdr *nlh = put_msg(buf, off, NLMSG_DONE, NLM_F_MULTI, seq);
	int32_t *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	*e = err;
	*off += nlh->nlmsg_len;
}

struct collect {
	char devs[8][ROSTER_ADDR_STRLEN];
	uint64_t jg[8];
	int n;
};

static int collect_cb(uint32_t vpn, uint64_t gen, const struct roster_member *m, void *arg)
{
	struct collect *c = arg;

	(void)vpn;
	(void)gen;
	if (c->n >= 8)
		return -E2BIG;
	roster_addr_format(&m->dev, c->devs[c->n], ROSTER_ADDR_STRLEN);
	c->jg[c->n++] = m->join_generation;
	return 0;
}

static void test_multipart_reply(void)
{
	static char buf[65536];
	struct roster_set_state st;
	struct collect c = { .n = 0 };
	struct nlmsghdr *nlh;
	size_t off = 0, split;
	int ret;

	/* A stale message from an earlier request, then three parts. */
	nlh = put_reply(buf, &off, 99, ROSTER_CMD_MEMBER_JOIN, 1, 1, 0);
	off += nlh->nlmsg_len;
	nlh = put_reply(buf, &off, 5, ROSTER_CMD_MEMBER_JOIN, 3, 10, 3);
	put_reply_member(nlh, "10.0.0.2", 2);
	put_reply_member(nlh, "2001:db8::3", 3);
	off += nlh->nlmsg_len;
	split = off; /* deliver as two recv() buffers */
	nlh = put_reply(buf, &off, 5, ROSTER_CMD_MEMBER_JOIN, 3, 10, -1);
	put_reply_member(nlh, "10.0.0.4", 7);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 5, 0);

	memset(&st, 0, sizeof(st));
	st.seq = 5;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	st.cb = collect_cb;
	st.arg = &c;
	ret = roster_set_feed(&st, buf, split);
	CHECK(ret == 0);
	ret = roster_set_feed(&st, buf + split, off - split);
	CHECK(ret == 1);
	CHECK(st.vpn_id == 3);
	CHECK(st.generation == 10);
	CHECK(st.expected == 3 && st.seen == 3);
	CHECK(st.n_msgs == 2);
	CHECK(c.n == 3);
	CHECK(!strcmp(c.devs[0], "10.0.0.2"));
	CHECK(!strcmp(c.devs[1], "2001:db8::3"));
	CHECK(!strcmp(c.devs[2], "10.0.0.4"));
	CHECK(c.jg[2] == 7);
}

static void test_multipart_empty(void)
{
	static char buf[4096];
	struct roster_set_state st;
	struct nlmsghdr *nlh;
	size_t off = 0;

	nlh = put_reply(buf, &off, 8, ROSTER_CMD_MEMBER_LEAVE, 4, 2, 0);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 8, 0);
	memset(&st, 0, sizeof(st));
	st.seq = 8;
	st.cmd = ROSTER_CMD_MEMBER_LEAVE;
	CHECK(roster_set_feed(&st, buf, off) == 1);
	CHECK(st.expected == 0 && st.generation == 2);
}

/* NO_MEMBERS: a count with no member nests is complete, members are not. */
static void test_multipart_counts_only(void)
{
	static char buf[4096];
	struct roster_set_state st;
	struct nlmsghdr *nlh;
	size_t off = 0;

	nlh = put_reply(buf, &off, 9, ROSTER_CMD_MEMBER_JOIN, 4, 12, 100000);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 9, 0);
	memset(&st, 0, sizeof(st));
	st.seq = 9;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	st.no_members = true;
	CHECK(roster_set_feed(&st, buf, off) == 1);
	CHECK(st.expected == 100000 && st.seen == 0 && st.generation == 12);
	/* the same reply without the flag is short of 100000 members */
	memset(&st, 0, sizeof(st));
	st.seq = 9;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);

	/* members in a counts-only reply are a protocol error */
	off = 0;
	nlh = put_reply(buf, &off, 9, ROSTER_CMD_MEMBER_JOIN, 4, 12, 1);
	put_reply_member(nlh, "10.0.0.2", 2);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 9, 0);
	memset(&st, 0, sizeof(st));
	st.seq = 9;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	st.no_members = true;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);
}

static void test_multipart_bad(void)
{
	static char buf[8192];
	struct roster_set_state st;
	struct nlmsghdr *nlh;
	size_t off = 0;

	/* count says 2, only 1 member before DONE */
	nlh = put_reply(buf, &off, 1, ROSTER_CMD_MEMBER_JOIN, 1, 3, 2);
	put_reply_member(nlh, "10.0.0.2", 2);
	off += nlh->nlmsg_len;
	put_done(buf, &off, 1, 0);
	memset(&st, 0, sizeof(st));
	st.seq = 1;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);

	/* first message lacks member-count */
	off = 0;
	nlh = put_reply(buf, &off, 1, ROSTER_CMD_MEMBER_JOIN, 1, 3, -1);
	off += nlh->nlmsg_len;
	memset(&st, 0, sizeof(st));
	st.seq = 1;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);

	/* generation changes between parts */
	off = 0;
	nlh = put_reply(buf, &off, 1, ROSTER_CMD_MEMBER_JOIN, 1, 3, 2);
	put_reply_member(nlh, "10.0.0.2", 2);
	off += nlh->nlmsg_len;
	nlh = put_reply(buf, &off, 1, ROSTER_CMD_MEMBER_JOIN, 1, 4, -1);
	put_reply_member(nlh, "10.0.0.3", 2);
	off += nlh->nlmsg_len;
	memset(&st, 0, sizeof(st));
	st.seq = 1;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);

	/* more members than announced */
	off = 0;
	nlh = put_reply(buf, &off, 1, ROSTER_CMD_MEMBER_JOIN, 1, 3, 1);
	put_reply_member(nlh, "10.0.0.2", 2);
	put_reply_member(nlh, "10.0.0.3", 2);
	off += nlh->nlmsg_len;
	memset(&st, 0, sizeof(st));
	st.seq = 1;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EPROTO);
}

/* NLMSG_ERROR with NETLINK_CAP_ACK (capped) and extack TLVs, raw bytes. */
static void test_extack_error(void)
{
	static const uint8_t raw[] = {
		/* nlmsghdr: len 0x40, NLMSG_ERROR, flags CAPPED|ACK_TLVS, seq 7 */
		0x40, 0, 0, 0, 2, 0, 0x00, 0x03, 7, 0, 0, 0, 0x55, 0, 0, 0,
		0xea, 0xff, 0xff, 0xff,			/* error -22 */
		0x70, 0, 0, 0, FAM, 0, 5, 0, 7, 0, 0, 0, 0, 0, 0, 0, /* orig hdr */
		0x19, 0, 1, 0,				/* NLMSGERR_ATTR_MSG */
		'P', 'r', 'e', 'f', 'i', 'x', ' ', 'h', 'a', 's', ' ', 'h',
		'o', 's', 't', ' ', 'b', 'i', 't', 's', 0, 0, 0, 0,
	};
	struct roster_set_state st;
	struct roster_nlerr e;

	CHECK(sizeof(raw) == 0x40);
	roster_parse_nlerr((const struct nlmsghdr *)raw, &e);
	CHECK(e.error == -EINVAL);
	CHECK(!strcmp(e.msg, "Prefix has host bits"));

	memset(&st, 0, sizeof(st));
	st.seq = 7;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, raw, sizeof(raw)) == -EINVAL);
	CHECK(!strcmp(st.err.msg, "Prefix has host bits"));
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
	err->error = -ENOENT;
	err->msg.nlmsg_len = 200; /* capped: must not be used */
	mnl_attr_put_u32(nlh, 5 /* NLMSGERR_ATTR_MISS_TYPE */, ROSTER_A_VPN_ID);
	roster_parse_nlerr(nlh, &e);
	CHECK(e.error == -ENOENT);
	CHECK(e.miss_type == ROSTER_A_VPN_ID);
	CHECK(e.msg[0] == 0);
}

static void test_done_error(void)
{
	static char buf[256];
	struct roster_set_state st;
	size_t off = 0;

	put_done(buf, &off, 3, -EBUSY);
	memset(&st, 0, sizeof(st));
	st.seq = 3;
	st.cmd = ROSTER_CMD_MEMBER_JOIN;
	CHECK(roster_set_feed(&st, buf, off) == -EBUSY);
}

static void test_parse_event(void)
{
	static char buf[1024];
	struct roster_event ev;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	size_t off = 0;
	struct nlattr *nest;
	struct roster_addr dev;

	nlh = put_msg(buf, &off, FAM, 0, 0);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = ROSTER_CMD_MEMBER_LEFT_NTF;
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, 12);
	mnl_attr_put_u64(nlh, ROSTER_A_GENERATION, 77);
	mnl_attr_put_u32(nlh, ROSTER_A_REASON, ROSTER_LEAVE_REASON_EXPIRED);
	roster_addr_parse("192.0.2.9", &dev);
	nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	roster_put_addr(nlh, ROSTER_A_MEMBER_DEV, &dev);
	mnl_attr_nest_end(nlh, nest);
	CHECK(roster_parse_event(nlh, &ev) == 0);
	CHECK(ev.type == ROSTER_EVENT_MEMBER_LEFT);
	CHECK(ev.vpn_id == 12 && ev.generation == 77);
	CHECK(ev.has_reason && ev.reason == ROSTER_REASON_EXPIRED);
	CHECK(ev.has_member && !memcmp(&ev.member.dev, &dev, sizeof(dev)));
	CHECK(!strcmp(roster_event_name(ev.type), "member_left"));

	g->cmd = 200;
	CHECK(roster_parse_event(nlh, &ev) == -ENOMSG);
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
	nlh = roster_build_join(buf, FAM, 1, 1, &m, 0);
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
	{ "build_member_leave_bytes", test_build_leave },
	{ "build_getfamily_bytes", test_build_getfamily },
	{ "multipart_reply_assembly", test_multipart_reply },
	{ "multipart_reply_empty", test_multipart_empty },
	{ "multipart_reply_counts_only", test_multipart_counts_only },
	{ "multipart_reply_malformed", test_multipart_bad },
	{ "extack_error_capped", test_extack_error },
	{ "extack_missing_attr", test_extack_missing },
	{ "done_with_error", test_done_error },
	{ "parse_event_member_left", test_parse_event },
	{ "addr_parse", test_addr_parse },
	{ "prefix_parse", test_prefix_parse },
	{ "key_base64", test_key },
	{ "endpoint_parse", test_endpoint },
	{ "vpn_id_and_reason_parse", test_misc_parse },
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
