// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fuzzers' seed corpora (tests/fuzz/corpus/TARGET/), written by the
 * daemon's own encoders: rd_msg_encode for messages, rd_token_encode for
 * tokens, and configurations in the documented syntax. Run by
 * `make -C tests/fuzz corpus`; the output is committed.
 *
 * usage: gen-corpus DIR
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"
#include "token.h"
#include "util.h"
#include "fuzz-manager.h"
#include "fuzz-build.h"

static const char *top;

static void out(const char *target, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	mkdir(top, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static struct roster_addr addr(const char *s)
{
	struct roster_addr a;

	if (roster_addr_parse(s, &a))
		abort();
	return a;
}

static struct roster_prefix pfx(const char *s)
{
	struct roster_prefix p;

	if (roster_prefix_parse(s, &p, NULL))
		abort();
	return p;
}

static struct roster_member member(unsigned int i, bool ep)
{
	struct roster_member m = { .has_key = true, .n_prefixes = 1 };
	char s[64];

	snprintf(s, sizeof(s), "10.255.0.%u", i);
	m.id = addr(s);
	memset(m.key, (int)i, 32);
	snprintf(s, sizeof(s), "10.%u.0.0/24", 10 + i);
	m.prefixes[0] = pfx(s);
	if (ep) {
		snprintf(s, sizeof(s), "192.0.2.%u", i);
		m.has_endpoint = true;
		m.endpoint = addr(s);
		m.port = (uint16_t)(51800 + i);
	}
	if (i % 3 == 0) {
		m.n_prefixes = 2;
		snprintf(s, sizeof(s), "fd00:%x::/48", i);
		m.prefixes[1] = pfx(s);
	}
	return m;
}

static int enc(const struct rd_msg *m, uint8_t *buf)
{
	int n = rd_msg_encode(m, buf, RD_MSG_MAX);

	if (n < 0) {
		fprintf(stderr, "gen-corpus: cannot encode %s: %s\n", rd_type_name(m->type),
			strerror(-n));
		exit(1);
	}
	return n;
}

/* ---- messages ---- */

static struct roster_member members[64], full[14];

static void messages(struct rd_msg *all, unsigned int *n)
{
	struct rd_msg *m;
	unsigned int k = 0;

	for (unsigned int i = 0; i < 64; i++)
		members[i] = member(i + 2, i % 2);
#define NEW() (m = &all[k++], memset(m, 0, sizeof(*m)), m->has_session = true, \
	       m->session = 41, m->seq = k, m)
	NEW()->type = RD_ACK;
	m->seq = 0;
	m->ack = 17;
	NEW()->type = RD_JOIN_REQ;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_endpoint = true;
	m->endpoint = addr("192.0.2.11");
	m->port = 51807;
	m->n_prefixes = 2;
	m->prefixes[0] = pfx("10.11.0.0/24");
	m->prefixes[1] = pfx("fd00:11::/64");
	NEW()->type = RD_JOIN_REQ;
	m->has_vpn = true;
	m->vpn = 8;
	NEW()->type = RD_LEAVE_REQ;
	m->has_vpn = true;
	m->vpn = 7;
	NEW()->type = RD_SYNC_REQ;
	m->has_vpn = true;
	m->vpn = 7;
	NEW()->type = RD_SYNC_REQ;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 12;
	m->has_total = true;
	m->total = 3;
	NEW()->type = RD_JOIN;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 5;
	m->has_parts = true;
	m->part = 1;
	m->nparts = 1;
	m->total = 3;
	m->n_members = 3;
	m->members = members;
	m->has_store_id = true;
	memset(m->store_id, 0xab, RD_STORE_ID_LEN);
	NEW()->type = RD_LIST;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 9;
	m->has_parts = true;
	m->part = 2;
	m->nparts = 3;
	m->total = 30;
	m->n_members = 10;
	m->members = members + 10;
	NEW()->type = RD_LIST;
	m->flags = RD_F_NOT_MEMBER;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 10;
	m->has_parts = true;
	m->part = 1;
	m->nparts = 1;
	m->has_store_id = true;
	NEW()->type = RD_NOTIFY;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 6;
	m->n_members = 1;
	m->members = members + 3;
	m->has_store_id = true;
	/* One member too many (refused). */
	NEW()->type = RD_NOTIFY;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 6;
	m->n_members = 2;
	m->members = members + 3;
	NEW()->type = RD_REMOVE;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 7;
	m->has_dev = true;
	m->dev = addr("10.255.0.4");
	NEW()->type = RD_ENROLL;
	m->has_key = true;
	memset(m->key, 0x5a, 32);
	NEW()->type = RD_ENROLLED;
	m->has_store_id = true;
	NEW()->type = RD_ERROR;
	m->has_err = true;
	m->err = EADDRINUSE;
	strcpy(m->text, "prefix 10.11.0.0/24 overlaps 10.11.0.0/16 of member 10.255.0.3");
	m->has_ref = true;
	m->ref_seq = 3;
	/* A LIST part as full as the splitter makes one (its members take
	 * RD_MSG_MAX less the overhead it counts), without a store id. */
	NEW()->type = RD_LIST;
	m->has_vpn = true;
	m->vpn = 7;
	m->has_gen = true;
	m->gen = 30;
	m->has_parts = true;
	m->part = 1;
	m->nparts = 1;
	m->total = 14;
	m->n_members = 14;
	m->members = full;
	for (unsigned int i = 0; i < 14; i++) {
		char s[64];

		full[i] = member(100 + i, true);
		full[i].n_prefixes = i < 2 ? 2 : 1;
		snprintf(s, sizeof(s), "10.%u.1.0/24", 100 + i);
		full[i].prefixes[1] = pfx(s);
	}
	/* The longest text there is room for. */
	NEW()->type = RD_ERROR;
	m->has_err = true;
	m->err = EPERM;
	memset(m->text, 'x', sizeof(m->text) - 1);
	NEW()->type = RD_JOIN_REQ;
	m->has_vpn = true;
	m->vpn = 4000000000u;
	m->has_endpoint = true;
	m->endpoint = addr("2001:db8::1");
	m->port = 1;
	m->n_prefixes = ROSTER_PREFIX_MAX;
	for (unsigned int i = 0; i < ROSTER_PREFIX_MAX; i++) {
		char s[64];

		snprintf(s, sizeof(s), "fd%02x::/16", i);
		m->prefixes[i] = pfx(s);
	}
#undef NEW
	*n = k;
}

static void proto_corpus(void)
{
	struct rd_msg all[32];
	uint8_t buf[RD_MSG_MAX];
	unsigned int n;
	char name[64];

	messages(all, &n);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t raw[RD_MSG_MAX + 1], st[2 * RD_MSG_MAX];
		int len = enc(&all[i], buf);
		size_t sl;

		/* as it is (first byte even), and structured (odd) */
		raw[0] = 0;
		memcpy(raw + 1, buf, (size_t)len);
		snprintf(name, sizeof(name), "%02u-%s", i, rd_type_name(all[i].type));
		out("proto", name, raw, (size_t)len + 1);
		st[0] = 1;
		memcpy(st + 1, buf, RD_HDR_LEN);
		sl = fuzz_unbuild_attrs(buf + RD_HDR_LEN, (size_t)len - RD_HDR_LEN, st + 1 + RD_HDR_LEN,
					sizeof(st) - 1 - RD_HDR_LEN);
		if (!sl && len > RD_HDR_LEN)
			continue;
		snprintf(name, sizeof(name), "%02u-%s-st", i, rd_type_name(all[i].type));
		out("proto", name, st, 1 + RD_HDR_LEN + sl);
	}
}

/* ---- sequences of records (fuzz.h) ---- */

struct seq {
	uint8_t buf[16384];
	size_t len;
};

static void rec(struct seq *s, uint8_t op, const void *data, size_t len)
{
	if (s->len + 3 + len > sizeof(s->buf))
		abort();
	s->buf[s->len++] = op;
	s->buf[s->len++] = (uint8_t)(len >> 8);
	s->buf[s->len++] = (uint8_t)len;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

static void rec_msg(struct seq *s, uint8_t op, const struct rd_msg *m)
{
	uint8_t buf[RD_MSG_MAX];
	int len = enc(m, buf);

	rec(s, op, buf, (size_t)len);
}

/* gw: the manager's messages to a gateway of VPN 7. */
static uint32_t gw_seq;

static struct rd_msg list_part(uint8_t type, uint64_t gen, unsigned int part, unsigned int nparts,
			       unsigned int total, unsigned int first, unsigned int n)
{
	struct rd_msg m = { .type = type, .seq = ++gw_seq, .has_session = true, .session = 9,
			    .has_vpn = true, .vpn = 7, .has_gen = true, .gen = gen,
			    .has_parts = true, .part = (uint16_t)part, .nparts = (uint16_t)nparts,
			    .total = total, .members = members + first, .n_members = n,
			    .has_store_id = true };

	memset(m.store_id, 0xab, RD_STORE_ID_LEN);
	return m;
}

static struct rd_msg change(uint8_t type, uint64_t gen, unsigned int who)
{
	struct rd_msg m = { .type = type, .seq = ++gw_seq, .has_session = true, .session = 9,
			    .has_vpn = true, .vpn = 7, .has_gen = true, .gen = gen,
			    .has_store_id = true };

	memset(m.store_id, 0xab, RD_STORE_ID_LEN);
	if (type == RD_NOTIFY) {
		m.members = members + who;
		m.n_members = 1;
	} else {
		m.has_dev = true;
		m.dev = members[who].id;
	}
	return m;
}

static void gw_corpus(void)
{
	static struct seq s;
	struct rd_msg m;
	uint8_t t = 40;
	unsigned int parts, starts[65];

	/* A JOIN in one part, then changes in order. */
	s.len = 0;
	m = list_part(RD_JOIN, 5, 1, 1, 4, 0, 4);
	rec_msg(&s, 0, &m);
	for (unsigned int g = 6; g < 10; g++) {
		m = change(g % 2 ? RD_NOTIFY : RD_REMOVE, g, g - 4);
		rec_msg(&s, 0, &m);
	}
	out("gw", "join-changes", s.buf, s.len);

	/* A LIST of 64 members split as the manager splits it, parts out of
	 * order, one twice. */
	s.len = 0;
	parts = rd_split_members(members, 64, starts);
	for (unsigned int i = parts; i-- > 0;) {
		m = list_part(RD_LIST, 20, i + 1, parts, 64, starts[i], starts[i + 1] - starts[i]);
		rec_msg(&s, 0, &m);
		if (i == parts / 2)
			rec_msg(&s, 0, &m);
	}
	out("gw", "list-parts-reversed", s.buf, s.len);

	/* Changes ahead of a gap: held, then the missing one, drained. */
	s.len = 0;
	m = list_part(RD_JOIN, 5, 1, 1, 2, 0, 2);
	rec_msg(&s, 0, &m);
	for (unsigned int g = 8; g > 5; g--) {
		m = change(RD_NOTIFY, g, g);
		rec_msg(&s, 0, &m);
	}
	out("gw", "gap-filled", s.buf, s.len);

	/* A gap that stays open: the deadline asks for a list. */
	s.len = 0;
	m = list_part(RD_JOIN, 5, 1, 1, 2, 0, 2);
	rec_msg(&s, 0, &m);
	m = change(RD_NOTIFY, 7, 7);
	rec_msg(&s, 0, &m);
	rec(&s, 1, &t, 1);
	m = list_part(RD_LIST, 7, 1, 1, 3, 0, 3);
	rec_msg(&s, 0, &m);
	out("gw", "gap-timeout", s.buf, s.len);

	/* More held than GW_HOLD_MAX. */
	s.len = 0;
	m = list_part(RD_JOIN, 5, 1, 1, 1, 0, 1);
	rec_msg(&s, 0, &m);
	for (unsigned int g = 45; g > 6; g--) {
		m = change(RD_NOTIFY, g, g % 60);
		rec_msg(&s, 0, &m);
	}
	out("gw", "hold-overflow", s.buf, s.len);

	/* Not a member; a kernel failure; the table lost. */
	s.len = 0;
	m = list_part(RD_JOIN, 5, 1, 1, 2, 0, 2);
	rec_msg(&s, 0, &m);
	rec(&s, 2, NULL, 0);
	m = change(RD_NOTIFY, 6, 9);
	rec_msg(&s, 0, &m);
	rec(&s, 3, NULL, 0);
	m = change(RD_NOTIFY, 7, 9);
	rec_msg(&s, 0, &m);
	m = list_part(RD_LIST, 9, 1, 1, 0, 0, 0);
	m.flags = RD_F_NOT_MEMBER;
	rec_msg(&s, 0, &m);
	out("gw", "not-member", s.buf, s.len);

	/* Two lists interleaved: an older one's parts lose. */
	s.len = 0;
	m = list_part(RD_LIST, 12, 1, 2, 20, 0, 10);
	rec_msg(&s, 0, &m);
	m = list_part(RD_LIST, 11, 2, 2, 20, 10, 10);
	rec_msg(&s, 0, &m);
	m = list_part(RD_LIST, 12, 2, 2, 20, 10, 10);
	rec_msg(&s, 0, &m);
	m = list_part(RD_LIST, 13, 1, 3, 4000000000u, 0, 3);
	rec_msg(&s, 0, &m);
	out("gw", "lists-interleaved", s.buf, s.len);
}

/* ---- configurations ---- */

static void config_corpus(void)
{
	static const char *const confs[] = {
		"[manager]\nlisten-port = 51800\nendpoint = 192.0.2.1\n"
		"control-address = 10.255.0.1\ncontrol-prefix = 10.255.0.0/16\n"
		"control-port = 5100\ninterface = rctl0 # comment\nstate-dir = /var/lib/rosterd\n"
		"log-level = info\nretry-ms = 500\n",
		"# gateway\n[gateway]\nstate-dir = /var/lib/rosterd-gw\ninterface = rctl0\n"
		"endpoint = 192.0.2.11\nretry-ms = 500\nlog-level = debug\nleave-on-exit = no\n"
		"sync-interval = 30\n\n[vpn 7]\nlisten-port = 51807\ninterface = rvpn7\n"
		"prefix = 10.11.0.0/24\nprefix = fd00:11::/64\nkeepalive = 25\n"
		"[vpn 8]\nlisten-port = 51808\nprefix = 10.12.0.0/24\n",
		"[manager]\ncontrol-address = 10.9.8.1\ncontrol-prefix = 10.9.0.0/20\n"
		"endpoint = 2001:db8::1\n[vpn 1]\nlisten-port = 1\n",
		"[gateway]\nendpoint = 2001:db8::2\nleave-on-exit = yes\n[ vpn 4294967295 ]\n"
		"listen-port = 65535\n\tprefix = 0.0.0.0/0\n",
		"[gateway]\n[vpn 3]\nlisten-port = 5\n",
		"[manager]\n[manager]\n",
		"[gateway]\nsync-interval = 86401\n",
		"[manager]\ncontrol-address = 10.255.0.1\ncontrol-prefix = 10.0.0.0/8\n"
		"log-level = warning\nretry-ms = 4000\n",
		"[gateway]\nendpoint = auto\nsync-interval = 3\n[vpn 7]\nlisten-port = 51807\n"
		"expire-after = 5m\n[manager]\nendpoint = 192.0.2.1\n[vpn 9]\nexpire-after = 86400\n",
	};
	char name[32];

	for (unsigned int i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		snprintf(name, sizeof(name), "conf-%u", i);
		out("config", name, confs[i], strlen(confs[i]));
	}
}

/* ---- tokens ---- */

static void token_corpus(void)
{
	struct rd_token t = { .manager_port = 51800, .control_port = 5100, .prefixlen = 16,
			      .expiry = 1900000000ull };
	char tok[RD_TOKEN_MAX], name[32];

	memset(t.manager_key, 0x11, 32);
	memset(t.invite_key, 0x22, 32);
	t.manager_endpoint = addr("192.0.2.1");
	t.control_addr = addr("10.255.0.1");
	for (unsigned int i = 0; i < 6; i++) {
		char id[32];

		snprintf(id, sizeof(id), "10.255.%u.%u", i, 2 + i);
		t.id = addr(id);
		if (i == 1)
			t.manager_endpoint = addr("2001:db8::1");
		if (i == 2) {
			t.prefixlen = 30;
			t.id = addr("10.255.0.2");
		}
		if (i == 3) {
			t.prefixlen = 8;
			t.expiry = UINT64_MAX;
		}
		if (i == 4)
			t.control_port = 65535;
		if (i == 5)
			t.manager_port = 1;
		if (rd_token_encode(&t, tok, sizeof(tok)))
			abort();
		snprintf(name, sizeof(name), "token-%u", i);
		out("token", name, tok, strlen(tok));
	}
	/* With padding, which the decoder accepts. */
	strcat(tok, "==");
	out("token", "token-padded", tok, strlen(tok));
}

/* ---- the manager: gateways' requests (fuzz-manager.h) ---- */

static uint32_t mseq[MF_NSRC];

static void req(struct seq *s, uint8_t kind, unsigned int src, struct rd_msg m)
{
	m.has_session = true;
	m.session = 100 + src;
	m.seq = ++mseq[src];
	rec_msg(s, MF_OP(kind, src, 0), &m);
}

static struct rd_msg join_req(uint32_t vpn, const char *p1, const char *p2, unsigned int src)
{
	struct rd_msg m = { .type = RD_JOIN_REQ, .has_vpn = true, .vpn = vpn, .has_endpoint = true,
			    .port = (uint16_t)(51800 + src) };
	char ep[32];

	snprintf(ep, sizeof(ep), "192.0.2.%u", 10 + src);
	m.endpoint = addr(ep);
	m.prefixes[m.n_prefixes++] = pfx(p1);
	if (p2)
		m.prefixes[m.n_prefixes++] = pfx(p2);
	return m;
}

static struct rd_msg simple(uint8_t type, uint32_t vpn)
{
	struct rd_msg m = { .type = type, .has_vpn = true, .vpn = vpn };

	return m;
}

static void manager_corpus(void)
{
	static struct seq s;
	struct rd_msg m;
	uint8_t b;

	/* Three gateways join VPN 7, one asks for the list, one leaves. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 0, join_req(7, "10.11.0.0/24", "fd00:11::/64", 0));
	req(&s, MF_PACKET_ACK, 1, join_req(7, "10.12.0.0/24", NULL, 1));
	req(&s, MF_PACKET, 2, join_req(7, "10.13.0.0/24", NULL, 2));
	rec(&s, MF_OP(MF_ACK, 0, 0), NULL, 0);
	rec(&s, MF_OP(MF_ACK, 1, 0), NULL, 0);
	req(&s, MF_PACKET_ACK, 2, simple(RD_SYNC_REQ, 7));
	req(&s, MF_PACKET_ACK, 1, simple(RD_LEAVE_REQ, 7));
	out("manager", "join-sync-leave", s.buf, s.len);

	/* Overlapping claims: the first wins, the second gets an ERROR. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 0, join_req(8, "10.11.0.0/24", NULL, 0));
	req(&s, MF_PACKET_ACK, 3, join_req(8, "10.11.0.0/16", NULL, 3));
	req(&s, MF_PACKET_ACK, 1, join_req(8, "10.11.0.128/25", NULL, 1));
	req(&s, MF_PACKET_ACK, 1, join_req(8, "10.21.0.0/24", NULL, 1));
	out("manager", "overlap", s.buf, s.len);

	/* Address space nobody may claim (finding 1). */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 0, join_req(7, "0.0.0.0/0", NULL, 0));
	req(&s, MF_PACKET_ACK, 1, join_req(7, "::/0", NULL, 1));
	req(&s, MF_PACKET_ACK, 2, join_req(7, "10.255.0.0/16", NULL, 2));
	req(&s, MF_PACKET_ACK, 2, join_req(7, "192.0.2.1/32", "192.0.2.10/32", 2));
	out("manager", "address-space", s.buf, s.len);

	/* VPNs a gateway was not invited to; strangers; a foreign port. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 3, join_req(7, "10.14.0.0/24", NULL, 3));
	req(&s, MF_PACKET_ACK, 0, join_req(9, "10.11.0.0/24", NULL, 0));
	req(&s, MF_PACKET_ACK, 5, join_req(7, "10.50.0.0/24", NULL, 5));
	req(&s, MF_PACKET_ACK, 6, join_req(7, "10.60.0.0/24", NULL, 6));
	req(&s, MF_PACKET_ACK, 7, join_req(7, "fd00:77::/64", NULL, 7));
	m = join_req(7, "10.11.0.0/24", NULL, 0);
	m.has_session = true;
	m.session = 100;
	m.seq = ++mseq[0];
	rec_msg(&s, MF_OP(MF_PACKET, 0, 1), &m);
	m = simple(RD_LEAVE_REQ, 7);
	m.has_session = true;
	m.session = 100;
	m.seq = ++mseq[0];
	rec_msg(&s, MF_OP(MF_PACKET_ACK, 0, 1), &m);
	out("manager", "not-invited", s.buf, s.len);

	/* The invitee enrols, its ENROLLED is acknowledged, it joins. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	m = (struct rd_msg){ .type = RD_ENROLL, .has_key = true };
	memset(m.key, 0x77, 32);
	req(&s, MF_PACKET, MF_INVITEE, m);
	req(&s, MF_PACKET, MF_INVITEE, join_req(7, "10.19.0.0/24", NULL, MF_INVITEE));
	rec(&s, MF_OP(MF_ACK, MF_INVITEE, 0), NULL, 0);
	req(&s, MF_PACKET_ACK, MF_INVITEE, join_req(7, "10.19.0.0/24", NULL, MF_INVITEE));
	req(&s, MF_PACKET_ACK, 0, join_req(7, "10.11.0.0/24", NULL, 0));
	out("manager", "enrol-join", s.buf, s.len);

	/* The invitee enrols with another gateway's key (finding 4). */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	m = (struct rd_msg){ .type = RD_ENROLL, .has_key = true };
	memset(m.key, 0x01, 32);
	req(&s, MF_PACKET_ACK, MF_INVITEE, m);
	req(&s, MF_PACKET_ACK, MF_INVITEE, join_req(7, "10.19.0.0/24", NULL, MF_INVITEE));
	req(&s, MF_PACKET_ACK, 0, join_req(7, "10.11.0.0/24", NULL, 0));
	out("manager", "enrol-stolen-key", s.buf, s.len);

	/* An ENROLL never acknowledged: the manager gives up. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	m = (struct rd_msg){ .type = RD_ENROLL, .has_key = true };
	memset(m.key, 0x02, 32);
	req(&s, MF_PACKET, MF_INVITEE, m);
	for (int i = 0; i < 10; i++)
		rec(&s, MF_OP(MF_TIME, 0, 0), NULL, 0);
	out("manager", "enrol-timeout", s.buf, s.len);

	/* SYNC_REQs stating views: current, behind, ahead (a restored store),
	 * and a flood without a generation. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 0, join_req(7, "10.11.0.0/24", NULL, 0));
	req(&s, MF_PACKET_ACK, 1, join_req(7, "10.12.0.0/24", NULL, 1));
	m = simple(RD_SYNC_REQ, 7);
	m.has_gen = m.has_total = true;
	m.gen = 3;
	m.total = 2;
	req(&s, MF_PACKET_ACK, 0, m);
	m.gen = 2;
	req(&s, MF_PACKET_ACK, 0, m);
	m.gen = 1000;
	req(&s, MF_PACKET_ACK, 1, m);
	for (int i = 0; i < 40; i++)
		req(&s, MF_PACKET, 0, simple(RD_SYNC_REQ, 7));
	out("manager", "sync", s.buf, s.len);

	/* Re-joins that change nothing, and admin changes, overruns, reloads. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	for (int i = 0; i < 3; i++)
		req(&s, MF_PACKET_ACK, (unsigned int)i, join_req(8, i == 0 ? "10.11.0.0/24" :
					i == 1 ? "10.12.0.0/24" : "10.13.0.0/24", NULL,
					(unsigned int)i));
	for (int i = 0; i < 5; i++)
		req(&s, MF_PACKET, 0, join_req(8, "10.11.0.0/24", NULL, 0));
	rec(&s, MF_OP(MF_ADMIN_LEAVE, 1, 0), (b = 8, &b), 1);
	rec(&s, MF_OP(MF_OVERRUN, 0, 0), NULL, 0);
	rec(&s, MF_OP(MF_RELOAD, 0, 0), NULL, 0);
	rec(&s, MF_OP(MF_ADMIN_VPN_DEL, 0, 0), (b = 8, &b), 1);
	rec(&s, MF_OP(MF_ACK, 0, 0), NULL, 0);
	rec(&s, MF_OP(MF_ACK, 2, 0), NULL, 0);
	out("manager", "admin", s.buf, s.len);

	/* The table lost (rmmod) and restored from the store; an admin's
	 * own join committed. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	req(&s, MF_PACKET_ACK, 0, join_req(7, "10.11.0.0/24", NULL, 0));
	req(&s, MF_PACKET_ACK, 1, join_req(7, "10.12.0.0/24", NULL, 1));
	req(&s, MF_PACKET_ACK, 1, join_req(8, "10.12.0.0/24", NULL, 1));
	rec(&s, MF_OP(MF_OVERRUN, 0, 0), (b = 1, &b), 1);
	rec(&s, MF_OP(MF_ACK, 0, 0), NULL, 0);
	rec(&s, MF_OP(MF_ADMIN_LEAVE, 2, 0), (b = 0x80, &b), 1);
	rec(&s, MF_OP(MF_ACK, 1, 0), NULL, 0);
	rec(&s, MF_OP(MF_OVERRUN, 0, 0), (b = 1, &b), 1);
	req(&s, MF_PACKET_ACK, 2, simple(RD_SYNC_REQ, 7));
	out("manager", "table-lost", s.buf, s.len);

	/* Allocations failing on the packet path (finding 7), one at a time
	 * at each of the first ones a request makes. */
	for (uint8_t k = 0; k < 12; k += 3) {
		char name[32];

		memset(mseq, 0, sizeof(mseq));
		s.len = 0;
		for (uint8_t j = k; j < k + 3; j++) {
			rec(&s, MF_OP(MF_RELOAD, 0, 0), &j, 1);
			req(&s, MF_PACKET_ACK, j % 3, join_req(7, j % 3 == 0 ? "10.11.0.0/24" :
							     j % 3 == 1 ? "10.12.0.0/24" :
							     "10.13.0.0/24", NULL, j % 3));
			rec(&s, MF_OP(MF_RELOAD, 0, 0), &j, 1);
			req(&s, MF_PACKET, MF_NGW - 1, simple(RD_SYNC_REQ, 8));
			rec(&s, MF_OP(MF_RELOAD, 0, 0), &j, 1);
			rec(&s, MF_OP(MF_PACKET, 1, 1), NULL, 0);
			req(&s, MF_PACKET_ACK, 1, simple(RD_LEAVE_REQ, 7));
		}
		snprintf(name, sizeof(name), "alloc-fail-%u", k);
		out("manager", name, s.buf, s.len);
	}

	/* Duplicates, stale sessions, a bad message. */
	memset(mseq, 0, sizeof(mseq));
	s.len = 0;
	m = join_req(7, "10.11.0.0/24", NULL, 0);
	m.has_session = true;
	m.session = 100;
	m.seq = 5;
	rec_msg(&s, MF_OP(MF_PACKET, 0, 0), &m);
	rec_msg(&s, MF_OP(MF_PACKET, 0, 0), &m);
	m.session = 99;
	m.seq = 6;
	rec_msg(&s, MF_OP(MF_PACKET, 0, 0), &m);
	rec(&s, MF_OP(MF_PACKET, 0, 0), "\x01\x02\x00\x00", 4);
	out("manager", "dup-stale", s.buf, s.len);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	proto_corpus();
	gw_corpus();
	config_corpus();
	token_corpus();
	manager_corpus();
	return 0;
}
