// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd host unit tests: config parsing, protocol encode/decode
 * (byte-exact, malformed input), invitation tokens (tampering),
 * duplicate suppression and retransmission. Prints KTAP; exit status is
 * non-zero if any test failed. Needs no privileges and no kernel module.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "util.h"
#include "token.h"
#include "proto.h"
#include "rel.h"
#include "state.h"
#include "gw-failover.h"
#include "gw-status.h"

#include "unit.h"

/* ---- config ---------------------------------------------------------- */

static void t_config_manager(void)
{
	static struct rd_config c;
	char err[256];
	const char *text =
		"# comment\n[manager]\nlisten-port = 51800\nendpoint = 192.0.2.1\n"
		"control-address = 10.255.0.1 # trailing comment\ncontrol-prefix = 10.255.0.0/16\n"
		"control-port = 851\ninterface = rctl0\nstate-dir = /tmp/x\nlog-level = debug\n";

	EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.listen_port == 51800 && c.control_port == 851);
	EXPECT(!strcmp(rd_ntop(&c.endpoint), "192.0.2.1"));
	EXPECT(!strcmp(rd_ntop(&c.control_addr), "10.255.0.1"));
	EXPECT(c.control_prefix.len == 16);
	EXPECT(!strcmp(c.state_dir, "/tmp/x") && !strcmp(c.ifname, "rctl0"));
	EXPECT(c.log_level == RD_LOG_DEBUG);
	/* Defaults. */
	EXPECT(rd_config_parse("[manager]\nendpoint = 192.0.2.1\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == 0);
	EXPECT(c.listen_port == 51800 && c.control_port == 851 && c.control_prefix.len == 16);
	EXPECT(!strcmp(c.state_dir, "/var/lib/rosterd") && c.retry_ms == 500);
}

static void t_config_gateway(void)
{
	static struct rd_config c;
	char err[256];
	const char *text =
		"[gateway]\nstate-dir = /var/lib/rosterd-gw\ninterface = rctl0\n"
		"endpoint = 192.0.2.11\nretry-ms = 250\nleave-on-exit = yes\n\n"
		"[vpn 7]\nlisten-port = 51807\nprefix = 10.11.0.0/24\nprefix = 2001:db8:11::/48\n"
		"[vpn 9]\nlisten-port = 51809\ninterface = tun9\n";

	EXPECT(rd_config_parse(text, RD_ROLE_GATEWAY, &c, err, sizeof(err)) == 0);
	EXPECT(c.n_vpns == 2 && c.retry_ms == 250 && c.leave_on_exit);
	EXPECT(c.vpns[0].id == 7 && c.vpns[0].listen_port == 51807);
	EXPECT(!strcmp(c.vpns[0].ifname, "rvpn7") && c.vpns[0].n_prefixes == 2);
	EXPECT(c.vpns[0].prefixes[1].addr.family == AF_INET6 && c.vpns[0].prefixes[1].len == 48);
	EXPECT(c.vpns[1].id == 9 && !strcmp(c.vpns[1].ifname, "tun9") && !c.vpns[1].n_prefixes);
	EXPECT(c.sync_interval == 30);	/* the default */
	EXPECT(c.vpns[0].keepalive == 0 && c.vpns[1].keepalive == 0);	/* off by default */
	EXPECT(rd_config_parse("[gateway]\nendpoint = 192.0.2.11\n[vpn 7]\nlisten-port = 1\nkeepalive = 25\n",
			       RD_ROLE_GATEWAY, &c, err, sizeof(err)) == 0 && c.vpns[0].keepalive == 25);
	EXPECT(rd_config_parse("[gateway]\nsync-interval = 0\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == 0 && c.sync_interval == 0);
	if (cur_fail)
		printf("# err: %s\n", err);
}

static void t_config_bad(void)
{
	static const struct { const char *text; int role; const char *msg; } cases[] = {
		{ "[manager]\nlisten-port = 0\n", RD_ROLE_MANAGER, "line 2: listen-port: invalid port" },
		{ "[manager]\nlisten-port = 65536\n", RD_ROLE_MANAGER, "invalid port" },
		{ "[manager]\nlisten-port = 12ab\n", RD_ROLE_MANAGER, "invalid port" },
		{ "[manager]\nbogus = 1\n", RD_ROLE_MANAGER, "line 2: unknown key 'bogus'" },
		{ "[manager]\nendpoint = 300.1.1.1\n", RD_ROLE_MANAGER, "invalid address" },
		{ "[manager]\ncontrol-prefix = 10.255.0.1/16\n", RD_ROLE_MANAGER, "invalid prefix" },
		{ "[manager]\ncontrol-address = 10.1.0.1\ncontrol-prefix = 10.255.0.0/16\n",
		  RD_ROLE_MANAGER, "not inside control-prefix" },
		{ "[manager]\nlog-level = loud\n", RD_ROLE_MANAGER, "log-level" },
		{ "[manager]\nstate-dir = relative\n", RD_ROLE_MANAGER, "absolute path" },
		{ "[manager]\ncontrol-port = 1\ncontrol-port = 2\n", RD_ROLE_MANAGER, "line 3: duplicate key" },
		{ "[manager]\n[manager]\n", RD_ROLE_MANAGER, "line 2: duplicate section" },
		{ "listen-port = 1\n", RD_ROLE_MANAGER, "line 1: key 'listen-port' outside" },
		{ "[manager\n", RD_ROLE_MANAGER, "malformed section" },
		{ "[router]\n", RD_ROLE_MANAGER, "unknown section" },
		{ "[manager]\njust words\n", RD_ROLE_MANAGER, "expected 'key = value'" },
		{ "[manager]\nendpoint =\n", RD_ROLE_MANAGER, "expected 'key = value'" },
		{ "[gateway]\nendpoint = 192.0.2.1\n", RD_ROLE_MANAGER, "no [manager] section" },
		{ "[manager]\n", RD_ROLE_GATEWAY, "no [gateway] section" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\n", RD_ROLE_GATEWAY, "endpoint is required" },
		{ "[gateway]\nendpoint = 192.0.2.11\n[vpn 7]\nprefix = 10.0.0.0/8\n", RD_ROLE_GATEWAY,
		  "listen-port is required" },
		{ "[gateway]\n[vpn 0]\n", RD_ROLE_GATEWAY, "invalid VPN id" },
		{ "[gateway]\n[vpn x]\n", RD_ROLE_GATEWAY, "invalid VPN id" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\n[vpn 7]\n", RD_ROLE_GATEWAY, "line 4: duplicate section" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\nprefix = 10.1.0.1/24\n", RD_ROLE_GATEWAY,
		  "line 4: prefix: invalid prefix" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\nprefix = 10.1.0.0/24\nprefix = 10.1.0.0/24\n",
		  RD_ROLE_GATEWAY, "duplicate prefix" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\nprefix = 10.1.0.0\n", RD_ROLE_GATEWAY, "not a prefix" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\ninterface = averyveryverylongname\n",
		  RD_ROLE_GATEWAY, "invalid interface name" },
		{ "[gateway]\nleave-on-exit = maybe\n", RD_ROLE_GATEWAY, "expected yes or no" },
		{ "[gateway]\nretry-ms = 5\n", RD_ROLE_GATEWAY, "retry-ms" },
		{ "[gateway]\nsync-interval = -1\n", RD_ROLE_GATEWAY, "sync-interval: expected 0..86400" },
		{ "[gateway]\n[vpn 7]\nlisten-port = 1\nkeepalive = 65536\n", RD_ROLE_GATEWAY,
		  "line 4: keepalive: expected 0..65535" },
		{ "[gateway]\nsync-interval = 86401\n", RD_ROLE_GATEWAY, "sync-interval" },
		{ "[manager]\nsync-interval = 5\n", RD_ROLE_MANAGER, "unknown key 'sync-interval'" },
		{ "[gateway]\nendpoint = 192.0.2.11\n[vpn 7]\nlisten-port = 1\n[vpn 8]\nlisten-port = 1\n",
		  RD_ROLE_GATEWAY, "share an interface or listen-port" },
	};
	static struct rd_config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int ret = rd_config_parse(cases[i].text, cases[i].role, &c, err, sizeof(err));

		if (ret != -EINVAL || !strstr(err, cases[i].msg)) {
			printf("# case %zu: ret %d err '%s', want '%s'\n", i, ret, err, cases[i].msg);
			cur_fail = 1;
		}
	}
}

/* ---- protocol --------------------------------------------------------- */

static void t_proto_bytes(void)
{
	static const uint8_t want_sync[] = {
		0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44,
		0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07,
	};
	static const uint8_t want_join_req[] = {
		0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,		/* session 1 */
		0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07,		/* vpn 7 */
		0x08, 0x00, 0x04, 0x00, 0xc0, 0x00, 0x02, 0x0b,		/* 192.0.2.11 */
		0x06, 0x00, 0x05, 0x00, 0xca, 0x5f, 0x00, 0x00,		/* port 51807 */
		0x14, 0x00, 0x06, 0x80,					/* prefix nest */
		0x08, 0x00, 0x01, 0x00, 0x0a, 0x0b, 0x00, 0x00,		/*   10.11.0.0 */
		0x05, 0x00, 0x02, 0x00, 0x18, 0x00, 0x00, 0x00,		/*   /24 */
	};
	struct rd_msg m = { .type = RD_SYNC_REQ, .seq = 5, .has_session = true,
			    .session = 0x11223344, .has_vpn = true, .vpn = 7 };
	uint8_t buf[RD_MSG_MAX];
	struct rd_msg d;
	const char *why;
	int len;

	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len == (int)sizeof(want_sync) && !memcmp(buf, want_sync, sizeof(want_sync)));
	memset(&m, 0, sizeof(m));
	m.type = RD_JOIN_REQ;
	m.seq = 1;
	m.has_session = true;
	m.session = 1;
	m.has_vpn = true;
	m.vpn = 7;
	m.has_endpoint = true;
	roster_addr_parse("192.0.2.11", &m.endpoint);
	m.port = 51807;
	m.n_prefixes = 1;
	roster_prefix_parse("10.11.0.0/24", &m.prefixes[0], NULL);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len == (int)sizeof(want_join_req) && !memcmp(buf, want_join_req, sizeof(want_join_req)));
	EXPECT(rd_msg_decode(want_join_req, sizeof(want_join_req), &d, &why) == 0);
	EXPECT(d.type == RD_JOIN_REQ && d.seq == 1 && d.vpn == 7 && d.port == 51807);
	EXPECT(d.has_endpoint && rd_addr_eq(&d.endpoint, &m.endpoint));
	EXPECT(d.n_prefixes == 1 && rd_prefix_eq(&d.prefixes[0], &m.prefixes[0]));
	rd_msg_release(&d);
}

static void fill_member(struct roster_member *mb, unsigned int i, unsigned int nprefix)
{
	memset(mb, 0, sizeof(*mb));
	mb->id.family = AF_INET;
	mb->id.addr[0] = 10;
	mb->id.addr[1] = 255;
	mb->id.addr[2] = (uint8_t)(i >> 8);
	mb->id.addr[3] = (uint8_t)i;
	memset(mb->key, (int)i, 32);
	mb->has_key = true;
	mb->has_endpoint = i % 2;
	mb->endpoint.family = AF_INET6;
	mb->endpoint.addr[0] = 0x20;
	mb->endpoint.addr[15] = (uint8_t)i;
	mb->port = (uint16_t)(1000 + i);
	mb->n_prefixes = nprefix;
	for (unsigned int k = 0; k < nprefix; k++) {
		mb->prefixes[k].addr.family = AF_INET;
		mb->prefixes[k].addr.addr[0] = 10;
		mb->prefixes[k].addr.addr[1] = (uint8_t)i;
		mb->prefixes[k].addr.addr[2] = (uint8_t)k;
		mb->prefixes[k].len = 24;
	}
}

static bool member_eq(const struct roster_member *a, const struct roster_member *b)
{
	if (!rd_addr_eq(&a->id, &b->id) || memcmp(a->key, b->key, 32) ||
	    a->has_endpoint != b->has_endpoint || a->n_prefixes != b->n_prefixes)
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || a->port != b->port))
		return false;
	for (unsigned int i = 0; i < a->n_prefixes; i++)
		if (!rd_prefix_eq(&a->prefixes[i], &b->prefixes[i]))
			return false;
	return true;
}

static void t_proto_roundtrip(void)
{
	static struct roster_member mb[3];
	uint8_t buf[RD_MSG_MAX];
	struct rd_msg m, d;
	const char *why;
	int len;

	for (unsigned int i = 0; i < 3; i++)
		fill_member(&mb[i], i + 1, i * 3);
	/* JOIN with members */
	m = (struct rd_msg){ .type = RD_JOIN, .seq = 9, .ack = 3, .has_session = true, .session = 77,
			     .has_vpn = true, .vpn = 42, .has_gen = true, .gen = 0x123456789ull,
			     .has_parts = true, .part = 1, .nparts = 1, .total = 3,
			     .n_members = 3, .members = mb };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0);
	EXPECT(rd_msg_decode(buf, (size_t)len, &d, &why) == 0);
	EXPECT(d.type == RD_JOIN && d.seq == 9 && d.ack == 3 && d.session == 77 && d.vpn == 42);
	EXPECT(d.gen == 0x123456789ull && d.part == 1 && d.nparts == 1 && d.total == 3);
	EXPECT(d.n_members == 3);
	for (unsigned int i = 0; i < 3 && i < d.n_members; i++)
		EXPECT(member_eq(&d.members[i], &mb[i]));
	rd_msg_release(&d);
	/* LIST, not a member, empty */
	m = (struct rd_msg){ .type = RD_LIST, .flags = RD_F_NOT_MEMBER, .seq = 1, .has_session = true,
			     .has_vpn = true, .vpn = 1, .has_gen = true, .gen = 5,
			     .has_parts = true, .part = 1, .nparts = 1, .total = 0 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && d.flags == RD_F_NOT_MEMBER && !d.n_members);
	rd_msg_release(&d);
	/* REMOVE */
	m = (struct rd_msg){ .type = RD_REMOVE, .seq = 2, .has_session = true, .has_vpn = true,
			     .vpn = 3, .has_gen = true, .gen = 8, .has_dev = true, .dev = mb[1].id };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && rd_addr_eq(&d.dev, &mb[1].id));
	rd_msg_release(&d);
	/* ERROR */
	m = (struct rd_msg){ .type = RD_ERROR, .seq = 2, .has_session = true, .has_err = true,
			     .err = EPERM, .has_ref = true, .ref_seq = 17 };
	strcpy(m.text, "not allowed");
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && d.err == EPERM &&
	       d.ref_seq == 17 && !strcmp(d.text, "not allowed"));
	rd_msg_release(&d);
	/* ENROLL / ACK */
	m = (struct rd_msg){ .type = RD_ENROLL, .seq = 1, .has_session = true, .has_key = true };
	memset(m.key, 0xab, 32);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && d.key[31] == 0xab);
	rd_msg_release(&d);
	m = (struct rd_msg){ .type = RD_ACK, .ack = 99 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len == RD_HDR_LEN && rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && d.ack == 99);
	rd_msg_release(&d);
	/* A periodic SYNC_REQ states the sender's view: generation + count. */
	m = (struct rd_msg){ .type = RD_SYNC_REQ, .seq = 4, .has_session = true, .session = 5,
			     .has_vpn = true, .vpn = 7, .has_gen = true, .gen = 12,
			     .has_total = true, .total = 3 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0);
	EXPECT(d.has_gen && d.gen == 12 && d.has_total && d.total == 3 && !d.has_parts);
	rd_msg_release(&d);
}

static int decode_fails(const uint8_t *buf, size_t len, const char *what)
{
	struct rd_msg d;
	const char *why;

	if (rd_msg_decode(buf, len, &d, &why) == 0) {
		rd_msg_release(&d);
		printf("# accepted malformed message: %s\n", what);
		return 0;
	}
	return 1;
}

static void t_proto_malformed(void)
{
	static struct roster_member mb[2];
	uint8_t buf[RD_MSG_MAX], bad[RD_MSG_MAX + 8];
	struct rd_msg m;
	int len;

	fill_member(&mb[0], 1, 2);
	fill_member(&mb[1], 2, 1);
	m = (struct rd_msg){ .type = RD_NOTIFY, .seq = 4, .has_session = true, .has_vpn = true,
			     .vpn = 7, .has_gen = true, .gen = 3, .n_members = 1, .members = mb };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0);

	/* Every truncation fails: NOTIFY's member is its last attribute, so
	 * any cut either splits an attribute or drops a required one. */
	for (int l = 0; l < len; l++)
		EXPECT(decode_fails(buf, (size_t)l, "truncated"));
	/* wrong version */
	memcpy(bad, buf, (size_t)len);
	bad[0] = 2;
	EXPECT(decode_fails(bad, (size_t)len, "version 2"));
	/* unknown type, type 0 */
	memcpy(bad, buf, (size_t)len);
	bad[1] = __RD_TYPE_MAX;
	EXPECT(decode_fails(bad, (size_t)len, "unknown type"));
	bad[1] = 0;
	EXPECT(decode_fails(bad, (size_t)len, "type 0"));
	/* unknown flags / flags on a type without flags */
	memcpy(bad, buf, (size_t)len);
	bad[3] = 1;
	EXPECT(decode_fails(bad, (size_t)len, "NOT_MEMBER on NOTIFY"));
	/* seq 0 */
	memcpy(bad, buf, (size_t)len);
	memset(bad + 4, 0, 4);
	EXPECT(decode_fails(bad, (size_t)len, "seq 0"));
	/* trailing garbage */
	memcpy(bad, buf, (size_t)len);
	memset(bad + len, 0, 4);
	EXPECT(decode_fails(bad, (size_t)len + 4, "trailing zeroes"));
	memcpy(bad + len, "\x08\x00\x63\x00\x01\x02\x03\x04", 8);
	EXPECT(decode_fails(bad, (size_t)len + 8, "unknown attribute 99"));
	/* duplicate attribute: repeat the session attribute */
	memcpy(bad, buf, (size_t)len);
	memcpy(bad + len, buf + RD_HDR_LEN, 8);
	EXPECT(decode_fails(bad, (size_t)len + 8, "duplicate session"));
	/* attribute not allowed for the type: a PUBKEY in NOTIFY */
	memcpy(bad, buf, (size_t)len);
	bad[len] = 36; bad[len + 1] = 0; bad[len + 2] = RD_A_PUBKEY; bad[len + 3] = 0;
	memset(bad + len + 4, 1, 32);
	EXPECT(decode_fails(bad, (size_t)len + 36, "PUBKEY in NOTIFY"));
	/* bad TLV lengths: session attr claims 3 bytes, then 200 */
	memcpy(bad, buf, (size_t)len);
	bad[RD_HDR_LEN] = 3;
	EXPECT(decode_fails(bad, (size_t)len, "nla_len 3"));
	bad[RD_HDR_LEN] = 200;
	EXPECT(decode_fails(bad, (size_t)len, "nla_len beyond the end"));
	/* u32 attribute with a wrong payload size */
	memcpy(bad, buf, (size_t)len);
	bad[RD_HDR_LEN] = 6;
	EXPECT(decode_fails(bad, (size_t)len, "session with 2 bytes"));
	/* nested attribute without NLA_F_NESTED: the member is the 4th attr */
	{
		size_t off = RD_HDR_LEN + 8 + 8 + 12;

		memcpy(bad, buf, (size_t)len);
		EXPECT((bad[off + 2] | bad[off + 3] << 8) == (RD_A_MEMBER | NLA_F_NESTED));
		bad[off + 3] &= 0x7f;
		EXPECT(decode_fails(bad, (size_t)len, "member nest without NLA_F_NESTED"));
	}
	/* NOTIFY with two members */
	m.n_members = 2;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "NOTIFY with 2 members"));
	/* prefix with host bits set / too long */
	mb[0].prefixes[0].addr.addr[3] = 1;
	m.n_members = 1;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "prefix with host bits"));
	mb[0].prefixes[0].addr.addr[3] = 0;
	mb[0].prefixes[0].len = 33;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "prefix /33"));
	mb[0].prefixes[0].len = 24;
	/* member without key: dev only */
	mb[0].prefixes[1] = mb[0].prefixes[0];
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "duplicate prefix"));
	/* JOIN with part > nparts, missing generation */
	m = (struct rd_msg){ .type = RD_JOIN, .seq = 1, .has_session = true, .has_vpn = true, .vpn = 1,
			     .has_gen = true, .gen = 1, .has_parts = true, .part = 2, .nparts = 1 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "part 2 of 1"));
	m.part = 1;
	m.has_gen = false;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "JOIN without generation"));
	/* VPN 0, half an endpoint */
	m = (struct rd_msg){ .type = RD_SYNC_REQ, .seq = 1, .has_session = true, .has_vpn = true, .vpn = 0 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "vpn 0"));
	m = (struct rd_msg){ .type = RD_JOIN_REQ, .seq = 1, .has_session = true, .has_vpn = true,
			     .vpn = 1, .has_endpoint = true, .port = 0 };
	roster_addr_parse("192.0.2.1", &m.endpoint);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(decode_fails(buf, (size_t)len, "endpoint port 0"));
	/* oversized */
	memset(bad, 0, sizeof(bad));
	EXPECT(decode_fails(bad, RD_MSG_MAX + 4, "too long"));
}

/* The managers of a cluster, one member nest each (#13): MANAGERS and
 * ENROLLED carry the set, a standby's EROFS names the leader. */
static void t_proto_managers(void)
{
	static struct roster_member mb[RD_MANAGERS_MAX + 1];
	uint8_t buf[RD_MSG_MAX];
	struct rd_msg m, d;
	const char *why;
	int len;

	for (unsigned int i = 0; i <= RD_MANAGERS_MAX; i++) {
		fill_member(&mb[i], i + 1, 0);
		mb[i].has_endpoint = true;
	}
	/* MANAGERS with the store and the whole set */
	m = (struct rd_msg){ .type = RD_MANAGERS, .seq = 5, .has_session = true, .session = 9,
			     .has_store_id = true, .n_members = RD_MANAGERS_MAX, .members = mb };
	memset(m.store_id, 0x5a, RD_STORE_ID_LEN);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0);
	EXPECT(d.type == RD_MANAGERS && !strcmp(rd_type_name(d.type), "MANAGERS"));
	EXPECT(d.has_store_id && d.store_id[15] == 0x5a && d.n_members == RD_MANAGERS_MAX);
	for (unsigned int i = 0; i < RD_MANAGERS_MAX && i < d.n_members; i++)
		EXPECT(member_eq(&d.members[i], &mb[i]));
	rd_msg_release(&d);
	/* one more than a gateway keeps: malformed */
	m.n_members = RD_MANAGERS_MAX + 1;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "MANAGERS with 9 managers"));
	/* a manager with prefixes */
	m.n_members = 2;
	fill_member(&mb[1], 2, 1);
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "MANAGERS with a prefix"));
	fill_member(&mb[1], 2, 0);
	/* only the session is required: an empty set is well-formed */
	m = (struct rd_msg){ .type = RD_MANAGERS, .seq = 6, .has_session = true };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && !d.n_members &&
	       !d.has_store_id);
	rd_msg_release(&d);
	m.has_session = false;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "MANAGERS without a session"));
	/* what MANAGERS does not carry */
	m = (struct rd_msg){ .type = RD_MANAGERS, .seq = 6, .has_session = true, .has_vpn = true,
			     .vpn = 1 };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "MANAGERS with a VPN"));
	/* ENROLLED with the set, and still without one (earlier managers) */
	m = (struct rd_msg){ .type = RD_ENROLLED, .seq = 1, .has_session = true,
			     .has_store_id = true, .n_members = 3, .members = mb };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && d.n_members == 3);
	for (unsigned int i = 0; i < 3 && i < d.n_members; i++)
		EXPECT(member_eq(&d.members[i], &mb[i]));
	rd_msg_release(&d);
	m.n_members = RD_MANAGERS_MAX + 1;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "ENROLLED with 9 managers"));
	m.n_members = 0;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && !d.n_members);
	rd_msg_release(&d);
	/* a standby's answer: EROFS naming the leader, or no one */
	m = (struct rd_msg){ .type = RD_ERROR, .seq = 3, .has_session = true, .has_err = true,
			     .err = EROFS, .has_ref = true, .ref_seq = 41, .has_dev = true,
			     .dev = mb[1].id };
	strcpy(m.text, "standby: the leader is m2");
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0);
	EXPECT(d.err == EROFS && d.ref_seq == 41 && d.has_dev && rd_addr_eq(&d.dev, &mb[1].id) &&
	       !strcmp(d.text, "standby: the leader is m2"));
	rd_msg_release(&d);
	m.has_dev = false;
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && rd_msg_decode(buf, (size_t)len, &d, &why) == 0 && !d.has_dev);
	rd_msg_release(&d);
	/* the other types still refuse members (NOTIFY's one aside) */
	m = (struct rd_msg){ .type = RD_ERROR, .seq = 3, .has_session = true, .has_err = true,
			     .err = EROFS, .n_members = 1, .members = mb };
	len = rd_msg_encode(&m, buf, sizeof(buf));
	EXPECT(len > 0 && decode_fails(buf, (size_t)len, "ERROR with a member"));
}

static void t_proto_split(void)
{
	enum { N = 50 };
	static struct roster_member mb[N];
	unsigned int starts[N + 2], parts, got = 0;
	uint8_t buf[RD_MSG_MAX];

	for (unsigned int i = 0; i < N; i++)
		fill_member(&mb[i], i + 1, i % 3 ? 32 : 1);
	parts = rd_split_members(mb, N, starts);
	EXPECT(parts > 1 && starts[0] == 0 && starts[parts] == N);
	for (unsigned int p = 0; p < parts; p++) {
		struct rd_msg m = { .type = RD_LIST, .seq = p + 1, .has_session = true, .has_vpn = true,
				    .vpn = 1, .has_gen = true, .gen = 1, .has_parts = true,
				    .part = (uint16_t)(p + 1), .nparts = (uint16_t)parts, .total = N,
				    .members = mb + starts[p], .n_members = starts[p + 1] - starts[p] };
		struct rd_msg d;
		const char *why;
		int len = rd_msg_encode(&m, buf, sizeof(buf));

		EXPECT(len > 0 && len <= RD_MSG_MAX);
		if (len <= 0 || rd_msg_decode(buf, (size_t)len, &d, &why)) {
			cur_fail = 1;
			continue;
		}
		for (unsigned int i = 0; i < d.n_members; i++)
			EXPECT(member_eq(&d.members[i], &mb[got + i]));
		got += d.n_members;
		rd_msg_release(&d);
	}
	EXPECT(got == N);
	EXPECT(rd_split_members(mb, 0, starts) == 1 && starts[0] == 0 && starts[1] == 0);
}

/* ---- tokens ------------------------------------------------------------ */

static void make_token(struct rd_token *t)
{
	memset(t, 0, sizeof(*t));
	memset(t->manager_key, 0x11, 32);
	roster_addr_parse("192.0.2.1", &t->manager_endpoint);
	t->manager_port = 51800;
	roster_addr_parse("10.255.0.1", &t->control_addr);
	t->control_port = 851;
	roster_addr_parse("10.255.0.11", &t->id);
	t->prefixlen = 16;
	memset(t->invite_key, 0x22, 32);
	t->expiry = 1900000000;
}

static int token_of(const char *plain, char *out, size_t len)
{
	return rd_b64url_encode(plain, strlen(plain), out, len) ? 0 : -1;
}

static void t_token(void)
{
	struct rd_token t, d;
	char tok[RD_TOKEN_MAX], plain[RD_TOKEN_MAX];
	const char *why;
	ssize_t n;

	make_token(&t);
	EXPECT(rd_token_encode(&t, tok, sizeof(tok)) == 0);
	EXPECT(!strpbrk(tok, "+/="));
	EXPECT(rd_token_decode(tok, &d, &why) == 0);
	EXPECT(!memcmp(&t, &d, sizeof(t)));
	n = rd_b64url_decode(tok, plain, sizeof(plain) - 1);
	EXPECT(n > 0);
	plain[n > 0 ? n : 0] = 0;
	EXPECT(!strcmp(plain, "v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|"
			      "851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000"));
}

static void t_token_tampered(void)
{
	static const char *const plains[] = {
		"v2|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000|x",
		"v1|ERERERERERERERERERERERERERERERERERERERERER=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|0851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.254.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.1|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|33|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|-5",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|851|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|0",
		"v1|ERERERERERERERERERERERERERERERERERERERERERE=|192.0.2.1:51800|10.255.0.1|0|10.255.0.11|16|IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=|1900000000",
		"",
	};
	struct rd_token t, d;
	char tok[RD_TOKEN_MAX];
	const char *why;
	unsigned int accepted = 0, total = 0;

	for (size_t i = 0; i < sizeof(plains) / sizeof(plains[0]); i++) {
		if (token_of(plains[i], tok, sizeof(tok)) && plains[i][0])
			cur_fail = 1;
		if (!plains[i][0])
			tok[0] = 0;
		if (rd_token_decode(tok, &d, &why) == 0) {
			printf("# tampered token %zu accepted\n", i);
			cur_fail = 1;
		}
	}
	EXPECT(rd_token_decode("not*base64", &d, &why) == -EINVAL);
	/* Truncations and single-character substitutions of a good token. */
	make_token(&t);
	rd_token_encode(&t, tok, sizeof(tok));
	for (size_t l = 0; l < strlen(tok); l++) {
		char cut[RD_TOKEN_MAX];

		memcpy(cut, tok, l);
		cut[l] = 0;
		if (rd_token_decode(cut, &d, &why) == 0) {
			printf("# truncated token (%zu chars) accepted\n", l);
			cur_fail = 1;
		}
	}
	for (size_t i = 0; i < strlen(tok); i++) {
		char orig = tok[i];

		tok[i] = orig == 'A' ? 'B' : 'A';
		total++;
		if (rd_token_decode(tok, &d, &why) == 0) {
			accepted++;
			/* What survives decodes to a different token: its
			 * keys/ID/endpoint changed, so the WireGuard handshake
			 * with the manager cannot succeed. */
			EXPECT(memcmp(&d, &t, sizeof(t)));
		}
		tok[i] = orig;
	}
	printf("# %u of %u single-character edits still parse (different keys/fields)\n",
	       accepted, total);
}

/* ---- duplicate suppression and retransmission -------------------------- */

static void t_window(void)
{
	struct rd_window w = { 0 };

	EXPECT(rd_window_check(&w, 1, 0) == RD_WIN_DUP);
	EXPECT(rd_window_check(&w, 1, 1) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 1) == RD_WIN_DUP);
	EXPECT(rd_window_check(&w, 1, 3) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 2) == RD_WIN_NEW);	/* reordered */
	EXPECT(rd_window_check(&w, 1, 2) == RD_WIN_DUP);
	EXPECT(rd_window_check(&w, 1, 3) == RD_WIN_DUP);
	EXPECT(rd_window_check(&w, 1, 3 + RD_WINDOW) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 3) == RD_WIN_DUP);	/* too old */
	EXPECT(rd_window_check(&w, 1, 3 + RD_WINDOW - 1) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 5) == RD_WIN_NEW);	/* within window, unseen */
	EXPECT(rd_window_check(&w, 1, 5) == RD_WIN_DUP);
	/* A far jump clears the whole window. */
	EXPECT(rd_window_check(&w, 1, 100000) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 100000 - 10) == RD_WIN_NEW);
	EXPECT(rd_window_check(&w, 1, 100000 - 10) == RD_WIN_DUP);
	/* The sender restarted: new session, seq starts over. */
	EXPECT(rd_window_check(&w, 2, 1) == RD_WIN_NEW_SESSION);
	EXPECT(rd_window_check(&w, 2, 1) == RD_WIN_DUP);
	EXPECT(rd_window_check(&w, 2, 2) == RD_WIN_NEW);
	/* The previous process's messages stay dead, even unseen seqs. */
	EXPECT(rd_window_check(&w, 1, 100001) == RD_WIN_STALE);
	EXPECT(rd_window_check(&w, 1, 3) == RD_WIN_STALE);
	EXPECT(rd_window_check(&w, 2, 3) == RD_WIN_NEW);
}

static void t_session(void)
{
	char dir[] = "/tmp/rosterd-test.XXXXXX", path[64];
	uint32_t a, b, now = (uint32_t)time(NULL);

	EXPECT(mkdtemp(dir) != NULL);
	a = rd_session_next(dir);
	b = rd_session_next(dir);
	EXPECT(a >= now && b == a + 1);
	/* A counter from the future still grows; a lost one restarts at the clock. */
	snprintf(path, sizeof(path), "%s/session", dir);
	EXPECT(rd_write_file(path, "4000000000\n", 0600) == 0);
	EXPECT(rd_session_next(dir) == 4000000001u);
	unlink(path);
	EXPECT(rd_session_next(dir) >= now);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	EXPECT(rmdir(dir) == 0);
}

static int done_acked, done_lost;

static void done_cb(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	(void)l;
	(void)p;
	(void)pm;
	if (acked)
		done_acked++;
	else
		done_lost++;
}

static int recv_count(int fd)
{
	uint8_t buf[RD_MSG_MAX];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* Two UDP sockets on loopback, a sending to b (*ss, *sl: b's address);
 * -1 and the test failed if there are none. */
static int loop_pair(int *a, int *b, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct roster_addr lo;

	roster_addr_parse("127.0.0.1", &lo);
	*a = rd_udp_socket(&lo, 0, NULL);
	*b = rd_udp_socket(&lo, 0, NULL);
	if (*a < 0 || *b < 0) {
		printf("# no loopback UDP: %s\n", strerror(*a < 0 ? -*a : -*b));
		if (*a >= 0)
			close(*a);
		if (*b >= 0)
			close(*b);
		cur_fail = 1;
		return -1;
	}
	getsockname(*b, (struct sockaddr *)ss, sl);
	return 0;
}

/* A receiver that ACKs slowly gets a longer first timeout (RFC 6298). */
static void t_rto(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = 7 };
	struct rd_link l;
	struct rd_peer *p;
	int a, b;

	if (loop_pair(&a, &b, &ss, &sl))
		return;
	rd_link_init(&l, a, 100, 8, NULL);
	p = rd_peer_get(&l, (struct sockaddr *)&ss, sl, true);
	EXPECT(rd_send(&l, p, &m) == 0 && p->q->timeout_ms == 100);
	p->q->sent_at -= 2000;			/* ACKed 2 s after sending */
	rd_acked(&l, p, p->q->seq);
	EXPECT(p->srtt >= 2000 && p->srtt < 2100);
	EXPECT(rd_send(&l, p, &m) == 0 && p->q->timeout_ms >= 2000);
	/* Karn: the ACK of a retransmission is no sample. */
	p->q->tries = 2;
	p->q->sent_at -= 100000;
	rd_acked(&l, p, p->q->seq);
	EXPECT(p->srtt < 2100);
	/* Capped like the backoff. */
	p->srtt = 60000;
	EXPECT(rd_send(&l, p, &m) == 0 && p->q->timeout_ms == RD_RETRY_CAP_MS);
	rd_link_free(&l);
	close(a);
	close(b);
}

static void t_retransmit(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rd_link l;
	struct rd_peer *p;
	int a, b, i;
	int64_t now;

	if (loop_pair(&a, &b, &ss, &sl))
		return;
	rd_link_init(&l, a, 100, 3, done_cb);
	p = rd_peer_get(&l, (struct sockaddr *)&ss, sl, true);
	EXPECT(p && rd_peer_get(&l, (struct sockaddr *)&ss, sl, false) == p);
	/*
	 * The clock the timers are checked against is taken before the sends,
	 * not after: on a loaded machine real time may pass the 100 ms timeout
	 * between here and the first tick.
	 */
	now = rd_now_ms();
	EXPECT(!rd_pending_of(p, 7, ~0u));
	for (i = 0; i < 2; i++) {
		struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = 7 };

		EXPECT(rd_send(&l, p, &m) == 0 && m.seq == (uint32_t)i + 1);
	}
	/* what is queued, by VPN and type (the manager's and the gateway's
	 * "is a change / a sync on its way" questions) */
	EXPECT(rd_pending_of(p, 7, 1u << RD_SYNC_REQ));
	EXPECT(!rd_pending_of(p, 7, 1u << RD_NOTIFY | 1u << RD_LIST));
	EXPECT(!rd_pending_of(p, 9, 1u << RD_SYNC_REQ));
	usleep(20000);
	EXPECT(recv_count(b) == 2);
	EXPECT(rd_tick(&l, now) > 0);			/* nothing due yet */
	EXPECT(recv_count(b) == 0);
	rd_acked(&l, p, 1);
	EXPECT(done_acked == 1);
	rd_acked(&l, p, 1);				/* duplicate ACK: no effect */
	EXPECT(done_acked == 1);
	EXPECT(rd_tick(&l, now + 150) > 0);		/* seq 2 retransmitted (try 2) */
	usleep(20000);
	EXPECT(recv_count(b) == 1);
	EXPECT(rd_tick(&l, now + 10000) > 0);		/* try 3 */
	EXPECT(rd_tick(&l, now + 20000) == -1);		/* given up */
	EXPECT(done_lost == 1 && rd_idle(&l) && !rd_pending_of(p, 7, ~0u));
	usleep(20000);
	EXPECT(recv_count(b) == 1);
	/* ACKs are not queued. */
	EXPECT(rd_send_ack(&l, p, 5) == 0 && rd_idle(&l));
	/* In-flight limit. */
	for (i = 0; i < RD_MAX_INFLIGHT + 5; i++) {
		struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = 7 };

		rd_send(&l, p, &m);
	}
	usleep(50000);
	EXPECT(recv_count(b) == 1 + RD_MAX_INFLIGHT);	/* the ACK + the window */
	rd_acked(&l, p, p->next_seq - RD_MAX_INFLIGHT - 5);
	rd_tick(&l, rd_now_ms());
	usleep(20000);
	EXPECT(recv_count(b) == 1);
	/* A peer that ACKs none of them gets RD_RETX_BURST copies per
	 * timeout, not one per message; the others wait without a try. */
	now = rd_now_ms();
	EXPECT(rd_tick(&l, now + 150) > 0);
	usleep(50000);
	EXPECT(recv_count(b) == RD_RETX_BURST);
	EXPECT(rd_tick(&l, now + 260) > 0);		/* all backed off to 200 ms */
	usleep(50000);
	EXPECT(recv_count(b) == 0);
	EXPECT(rd_tick(&l, now + 360) > 0);		/* the next ones, waited once */
	usleep(50000);
	EXPECT(recv_count(b) == RD_RETX_BURST);
	EXPECT(done_lost == 1);				/* nobody given up for waiting */
	rd_link_free(&l);
	close(a);
	close(b);
}

static int stalls;
static uint32_t stalled_seq;

static void stall_cb(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm)
{
	(void)l;
	(void)p;
	stalls++;
	stalled_seq = pm->seq;
}

/* The stall hook: once per message, when its stall_retx-th retransmission
 * timed out unacknowledged; the retransmissions go on. */
static void t_stall(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rd_msg m = { .type = RD_SYNC_REQ, .has_vpn = true, .vpn = 7 };
	struct rd_link l;
	struct rd_peer *p;
	int64_t now;
	int a, b;

	if (loop_pair(&a, &b, &ss, &sl))
		return;
	rd_link_init(&l, a, 100, 8, NULL);
	EXPECT(!l.stall && !l.stall_retx);		/* off unless asked for */
	l.stall = stall_cb;
	l.stall_retx = 2;
	p = rd_peer_get(&l, (struct sockaddr *)&ss, sl, true);
	now = rd_now_ms();
	EXPECT(rd_send(&l, p, &m) == 0);		/* try 1, due at +100 */
	rd_tick(&l, now + 150);				/* retransmission 1, due +350 */
	EXPECT(stalls == 0 && p->q->tries == 2);
	rd_tick(&l, now + 360);				/* retransmission 2, due +760 */
	EXPECT(stalls == 0 && p->q->tries == 3);
	rd_tick(&l, now + 770);				/* it timed out too */
	EXPECT(stalls == 1 && stalled_seq == m.seq && p->q->tries == 4);
	rd_tick(&l, now + 1600);
	rd_tick(&l, now + 3300);
	EXPECT(stalls == 1 && p->q->tries == 6);	/* once, and still sent */
	/* an acknowledged message never stalls */
	rd_acked(&l, p, m.seq);
	now = rd_now_ms();
	EXPECT(rd_send(&l, p, &m) == 0);
	rd_tick(&l, now + 150);
	rd_tick(&l, now + 360);
	rd_acked(&l, p, m.seq);
	rd_tick(&l, now + 770);
	EXPECT(stalls == 1 && rd_idle(&l));
	/* nor with the hook off */
	l.stall_retx = 0;
	now = rd_now_ms();
	EXPECT(rd_send(&l, p, &m) == 0);
	rd_tick(&l, now + 150);
	rd_tick(&l, now + 360);
	rd_tick(&l, now + 770);
	EXPECT(stalls == 1 && p->q->tries == 4);
	recv_count(b);
	rd_link_free(&l);
	close(a);
	close(b);
}

/* ---- kernel errors to ERROR texts ----------------------------------------- */

static void t_join_error(void)
{
	static const char *v4 = "roster: 10.1.0.128/25 overlaps 10.1.0.0/24 of 10.255.0.11";
	char text[128], small[24];
	struct roster_addr gw1, other, v6;

	roster_addr_parse("10.255.0.11", &gw1);
	roster_addr_parse("10.255.0.12", &other);
	roster_addr_parse("fd00::1", &v6);
	/* roster.ko 6.12: the prefixes and the holder (also in the cookie). */
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, v4, &gw1, text, sizeof(text)),
		       "prefix 10.1.0.128/25 overlaps 10.1.0.0/24 of member 10.255.0.11"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, v4, NULL, text, sizeof(text)),
		       "prefix 10.1.0.128/25 overlaps 10.1.0.0/24 of member 10.255.0.11"));
	/* IPv6: 6.12 leaves the new prefix out (80 characters at most). */
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, "roster: overlaps 2001:db8::/32 of fd00::1",
					  &v6, text, sizeof(text)),
		       "prefix overlaps 2001:db8::/32 of member fd00::1"));
	/* 6.1's fixed text, a text cut short, or one naming someone else
	 * than the cookie: the cookie's holder. */
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE,
					  "roster: prefix overlaps another member's: its id is in the cookie",
					  &gw1, text, sizeof(text)),
		       "prefix overlaps a prefix of member 10.255.0.11"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, "roster: overlaps 2001:db8:1:2:3:4:5:0/112 of 20",
					  &v6, text, sizeof(text)),
		       "prefix overlaps a prefix of member fd00::1"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, v4, &other, text, sizeof(text)),
		       "prefix overlaps a prefix of member 10.255.0.12"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, NULL, &gw1, text, sizeof(text)),
		       "prefix overlaps a prefix of member 10.255.0.11"));
	/* Neither a text to read nor a holder: passed on as it is. */
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE,
					  "roster: 10.1.0.0/24 overlaps 10.1.0.0/16 of 192.0.2.1 (x)",
					  NULL, text, sizeof(text)),
		       "roster: 10.1.0.0/24 overlaps 10.1.0.0/16 of 192.0.2.1 (x)"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, "roster: 10.1.0.1/24 overlaps 10.1.0.0/16 of x",
					  NULL, text, sizeof(text)),
		       "roster: 10.1.0.1/24 overlaps 10.1.0.0/16 of x"));
	EXPECT(!strcmp(rd_join_error_text(EADDRINUSE, NULL, NULL, text, sizeof(text)),
		       strerror(EADDRINUSE)));
	/* Truncated to the buffer, still NUL-terminated. */
	rd_join_error_text(EADDRINUSE, v4, &gw1, small, sizeof(small));
	EXPECT(strlen(small) == sizeof(small) - 1 && !strncmp(small, "prefix 10.1.0.128/25", 20));
	/* Other errors: the extack as it is, or strerror without one. */
	EXPECT(!strcmp(rd_join_error_text(ENOSPC, "roster: net.roster.max_members reached", &gw1,
					  text, sizeof(text)),
		       "roster: net.roster.max_members reached"));
	EXPECT(!strcmp(rd_join_error_text(ENOSPC, v4, NULL, text, sizeof(text)), v4));
	EXPECT(!strcmp(rd_join_error_text(EPERM, "", NULL, text, sizeof(text)), strerror(EPERM)));
}

static void t_b64url(void)
{
	char out[64];
	uint8_t back[64];

	EXPECT(rd_b64url_encode("\xfb\xff", 2, out, sizeof(out)) == 3 && !strcmp(out, "-_8"));
	EXPECT(rd_b64url_decode("-_8", back, sizeof(back)) == 2 && back[0] == 0xfb && back[1] == 0xff);
	EXPECT(rd_b64url_decode("-_9", back, sizeof(back)) == -EINVAL);	/* non-canonical */
	EXPECT(rd_b64url_decode("+/8", back, sizeof(back)) == -EINVAL);
	EXPECT(rd_b64url_decode("A", back, sizeof(back)) == -EINVAL);
}

/* ---- the identity's manager set (#13) ------------------------------- */

static struct roster_member set_member(unsigned int i)
{
	struct roster_member mb = { .has_key = true, .has_endpoint = true };

	roster_addr_parse("10.255.0.0", &mb.id);
	mb.id.addr[3] = (uint8_t)i;
	memset(mb.key, 0x40 + (int)i, 32);
	roster_addr_parse("192.0.2.0", &mb.endpoint);
	mb.endpoint.addr[3] = (uint8_t)i;
	mb.port = (uint16_t)(51800 + i);
	return mb;
}

static unsigned int count_lines(const char *text, const char *prefix)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, prefix)); p++)
		if (p == text || p[-1] == '\n')
			n++;
	return n;
}

static void write_text(const char *dir, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/identity", dir);
	EXPECT(rd_write_file(path, text, 0600) == 0);
}

#define OLD_IDENTITY \
	"# rosterd gateway identity (secret)\n" \
	"private-key AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nid 10.255.1.5\nprefixlen 16\n" \
	"manager-key ERERERERERERERERERERERERERERERERERERERERERE=\n" \
	"manager-endpoint 192.0.2.1:51800\ncontrol-address 10.255.0.1\ncontrol-port 851\n"

static void t_identity_managers(void)
{
	char dir[] = "/tmp/daemon-test.XXXXXX", path[128], *text = NULL, big[2048];
	struct roster_member mb[RD_MANAGERS_MAX + 1];
	struct rd_identity id, back;
	struct rd_manager set[RD_MANAGERS_MAX];
	const char *why;
	unsigned int n = 0;

	EXPECT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/identity", dir);
	/* an earlier version's file: the set of the manager enrolled with */
	write_text(dir, OLD_IDENTITY);
	EXPECT(rd_identity_load(dir, &id) == 0 && id.n_managers == 1);
	EXPECT(rd_addr_eq(&id.managers[0].control_addr, &id.control_addr) &&
	       !memcmp(id.managers[0].key, id.manager_key, 32) &&
	       rd_addr_eq(&id.managers[0].endpoint, &id.manager_endpoint) &&
	       id.managers[0].port == 51800 && id.managers[0].key[0] == 0x11);
	/* saved again, it is the same file: nothing an earlier version lacks */
	EXPECT(rd_identity_save(dir, &id) == 0 && rd_read_file(path, &text) == 0);
	EXPECT(text && !strcmp(text, OLD_IDENTITY));
	free(text);
	text = NULL;
	/* a set of three, given in any order: sorted, saved, loaded */
	mb[0] = set_member(3);
	mb[1] = set_member(1);
	mb[2] = set_member(2);
	EXPECT(rd_managers_from_members(&id, mb, 3, set, &n, &why) == 0 && n == 3);
	EXPECT(set[0].control_addr.addr[3] == 1 && set[1].control_addr.addr[3] == 2 &&
	       set[2].control_addr.addr[3] == 3 && set[2].port == 51803);
	memcpy(id.managers, set, sizeof(set));
	id.n_managers = n;
	EXPECT(rd_identity_save(dir, &id) == 0 && rd_read_file(path, &text) == 0);
	EXPECT(text && count_lines(text, "manager ") == 3 && strstr(text, OLD_IDENTITY + 36) &&
	       strstr(text, "\nmanager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= "
			    "192.0.2.2:51802 10.255.0.2\n"));
	free(text);
	text = NULL;
	EXPECT(rd_identity_load(dir, &back) == 0 && back.n_managers == 3);
	for (unsigned int i = 0; i < 3 && i < back.n_managers; i++)
		EXPECT(rd_manager_eq(&back.managers[i], &set[i]));
	EXPECT(rd_identity_manager(&back, &set[1].control_addr) == 1);
	EXPECT(rd_identity_manager(&back, &back.id) == -1);
	/* the manager enrolled with stays in its lines, in the set or not */
	EXPECT(rd_addr_eq(&back.control_addr, &id.control_addr) &&
	       !memcmp(back.manager_key, id.manager_key, 32));
	/* a set of one other than the manager enrolled with is written */
	id.n_managers = 1;
	id.managers[0] = set[1];
	EXPECT(rd_identity_save(dir, &id) == 0 && rd_read_file(path, &text) == 0);
	EXPECT(text && count_lines(text, "manager ") == 1);
	free(text);
	text = NULL;
	EXPECT(rd_identity_load(dir, &back) == 0 && back.n_managers == 1 &&
	       rd_manager_eq(&back.managers[0], &set[1]));
	/* what the set refuses */
	EXPECT(rd_managers_from_members(&id, mb, 0, set, &n, &why) == -EINVAL);
	for (unsigned int i = 0; i <= RD_MANAGERS_MAX; i++)
		mb[i] = set_member(i + 1);
	EXPECT(rd_managers_from_members(&id, mb, RD_MANAGERS_MAX, set, &n, &why) == 0 &&
	       n == RD_MANAGERS_MAX);
	EXPECT(rd_managers_from_members(&id, mb, RD_MANAGERS_MAX + 1, set, &n, &why) == -EINVAL);
	/* a manager without an endpoint (none known yet): "-" in the file */
	mb[1].has_endpoint = false;
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == 0 && n == 2 &&
	       !set[1].endpoint.family && !set[1].port);
	memcpy(id.managers, set, sizeof(set));
	id.n_managers = n;
	EXPECT(rd_identity_save(dir, &id) == 0 && rd_read_file(path, &text) == 0);
	EXPECT(text && strstr(text, "\nmanager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= - "
				    "10.255.0.2\n"));
	free(text);
	text = NULL;
	EXPECT(rd_identity_load(dir, &back) == 0 && back.n_managers == 2 &&
	       rd_manager_eq(&back.managers[1], &set[1]) && !back.managers[1].endpoint.family);
	mb[1].has_key = false;
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	mb[1] = set_member(2);
	memcpy(mb[1].key, mb[0].key, 32);
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	mb[1] = set_member(1);
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	mb[1] = set_member(2);
	mb[1].id = id.id;
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	roster_addr_parse("10.254.0.2", &mb[1].id);
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	roster_addr_parse("fd00::2", &mb[1].id);
	EXPECT(rd_managers_from_members(&id, mb, 2, set, &n, &why) == -EINVAL);
	/* and so does the file: too many lines, a duplicate, a stranger, junk */
	snprintf(big, sizeof(big), "%s", OLD_IDENTITY);
	for (unsigned int i = 1; i <= RD_MANAGERS_MAX + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
			 "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk%c= 192.0.2.2:51802 "
			 "10.255.0.%u\n", "AEIMQUYcgk"[i], i);
	write_text(dir, big);
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	*strstr(big, "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkk=") = 0;
	write_text(dir, big);
	EXPECT(rd_identity_load(dir, &back) == 0 && back.n_managers == RD_MANAGERS_MAX);
	write_text(dir, OLD_IDENTITY
		   "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= 192.0.2.2:51802 10.255.0.2\n"
		   "manager Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0M= 192.0.2.3:51803 10.255.0.2\n");
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	write_text(dir, OLD_IDENTITY
		   "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= 192.0.2.2:51802 10.9.0.2\n");
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	write_text(dir, OLD_IDENTITY
		   "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= 192.0.2.2 10.255.0.2\n");
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	write_text(dir, OLD_IDENTITY
		   "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= -:5 10.255.0.2\n");
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	write_text(dir, OLD_IDENTITY
		   "manager QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI= 192.0.2.2:51802 10.255.0.2 x\n");
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	unlink(path);
	rmdir(dir);
}

/* `rosterd status` on a gateway: every manager of the set, the one in use
 * (the daemon's current one, else the one it starts with), and addresses
 * that stay themselves however many managers there are. */
static void t_status_managers(void)
{
	static struct rd_config c;
	struct rd_identity id = { 0 };
	struct roster_member mb[5];
	struct gw_failover fo;
	struct gw_status_src src = { .c = &c, .id = &id };
	const char *why;
	unsigned int n = 0;
	json_t *d, *m;
	size_t i;

	snprintf(c.ifname, sizeof(c.ifname), "rst-none0");
	roster_addr_parse("10.255.1.5", &id.id);
	id.prefixlen = 16;
	id.control_port = 851;
	for (unsigned int k = 0; k < 5; k++)
		mb[k] = set_member(k + 1);
	id.control_addr = mb[3].id;		/* enrolled with 10.255.0.4 */
	EXPECT(rd_managers_from_members(&id, mb, 5, id.managers, &n, &why) == 0);
	id.n_managers = n;
	/* no daemon: the one enrolled with */
	d = gw_status_json(&src, 0);
	EXPECT(d && !strcmp(json_string_value(json_object_get(d, "id")), "10.255.1.5"));
	EXPECT(d && !strcmp(json_string_value(json_object_get(d, "manager_in_use")), "10.255.0.4"));
	EXPECT(d && json_array_size(json_object_get(d, "managers")) == 5);
	json_array_foreach(json_object_get(d, "managers"), i, m) {
		char want[32];

		snprintf(want, sizeof(want), "10.255.0.%zu", i + 1);
		EXPECT(!strcmp(json_string_value(json_object_get(m, "control_address")), want));
		EXPECT(json_is_true(json_object_get(m, "in_use")) == (i == 3));
	}
	json_decref(d);
	/* the daemon's current one */
	gw_failover_init(&fo, 5, 1);
	src.fo = &fo;
	d = gw_status_json(&src, 1);
	EXPECT(d && !strcmp(json_string_value(json_object_get(d, "manager_in_use")), "10.255.0.2"));
	json_array_foreach(json_object_get(d, "managers"), i, m)
		EXPECT(json_is_true(json_object_get(m, "in_use")) == (i == 1));
	json_decref(d);
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR;
	printf("TAP version 13\n1..19\n");
	run("config: manager section and defaults", t_config_manager);
	run("config: gateway with VPN sections", t_config_gateway);
	run("config: bad input rejected with line numbers", t_config_bad);
	run("proto: byte-exact encoding", t_proto_bytes);
	run("proto: encode/decode round trip", t_proto_roundtrip);
	run("proto: malformed input rejected", t_proto_malformed);
	run("proto: big member lists split into parts", t_proto_split);
	run("proto: MANAGERS, ENROLLED with the set, EROFS naming the leader", t_proto_managers);
	run("identity: the manager set, and an earlier version's file as a set of one",
	    t_identity_managers);
	run("status: a gateway's managers and the one in use", t_status_managers);
	run("token: encode/decode", t_token);
	run("token: tampered tokens rejected", t_token_tampered);
	run("b64url: canonical encoding only", t_b64url);
	run("errors: the kernel's prefix refusal becomes the ERROR text", t_join_error);
	run("rel: duplicate suppression window", t_window);
	run("rel: session ids grow across restarts", t_session);
	run("rel: ack, retransmit, give up, in-flight limit", t_retransmit);
	run("rel: retransmit timeout follows the round-trip time", t_rto);
	run("rel: the stall hook, once per message after stall_retx retransmissions", t_stall);
	return failed ? 1 : 0;
}
