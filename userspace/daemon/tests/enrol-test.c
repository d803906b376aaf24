// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd enrolment unit tests: the manager's real ENROLL handler
 * (enrol.c) and the store's enrolment transaction (store-sqlite.c), with
 * a real store in a scratch directory and the invitees as UDP sockets on
 * loopback. rctl0 does not exist here, so reloading it fails harmlessly
 * after the store has been read. KTAP on stdout; exit status non-zero if
 * any test failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mgr.h"
#include "proto.h"
#include "rel.h"
#include "store.h"
#include "util.h"

#include "unit.h"

static char dir[64];
static struct rd_config conf;
static struct mgr m;
static uint16_t port;
static int fd5, fd6;			/* the invitees 127.0.0.5 and .6 */
static struct rd_peer *p5, *p6;
static struct roster_addr id2, id5, id6;
static uint32_t seq = 100;

static int udp_on(const char *addr, uint16_t prt, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(prt) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	if (bound && !getsockname(fd, (struct sockaddr *)&sa, &sl))
		*bound = ntohs(sa.sin_port);
	return fd;
}

static void on_done(struct rd_link *l, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	mgr_enrol_done(l->priv, p, pm, acked);
}

static struct rd_peer *peer_of(const struct roster_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = rd_sockaddr(a, port, &ss);

	return rd_peer_get(&m.link, (struct sockaddr *)&ss, len, true);
}

static int invite(const struct roster_addr *id, int key)
{
	struct rd_entry inv = { .id = *id, .n_vpns = 1, .vpns = { 7 }, .expiry = 4000000000u };

	memset(inv.key, key, 32);
	return rd_store_invite_put(m.st, &inv, NULL, 0, NULL);
}

static int setup(void)
{
	struct rd_entry gw = { 0 };
	uint8_t ik[32], old[32];
	char err[256];
	bool had;

	snprintf(dir, sizeof(dir), "/tmp/enrol-test.XXXXXX");
	if (!mkdtemp(dir) || rd_store_open(dir, &m.st, err, sizeof(err)))
		return -1;
	memcpy(m.store_id, rd_store_identity(m.st), RD_STORE_ID_LEN);
	snprintf(conf.ifname, sizeof(conf.ifname), "rd-no-such0");
	m.c = &conf;
	memset(m.pub, 0x99, 32);
	m.fd = udp_on("127.0.0.1", 0, NULL);
	fd5 = udp_on("127.0.0.5", 0, &port);
	fd6 = udp_on("127.0.0.6", port, NULL);
	if (m.fd < 0 || fd5 < 0 || fd6 < 0)
		return -1;
	rd_link_init(&m.link, m.fd, 1000, 8, on_done);
	m.link.priv = &m;
	roster_addr_parse("127.0.0.2", &id2);
	roster_addr_parse("127.0.0.5", &id5);
	roster_addr_parse("127.0.0.6", &id6);
	/* The victim, 127.0.0.2, enrolled with key 0x22. */
	if (invite(&id2, 0x62))
		return -1;
	gw.id = id2;
	memset(gw.key, 0x22, 32);
	memset(ik, 0x62, 32);
	if (rd_store_enrol(m.st, &gw, ik, old, &had))
		return -1;
	/* Invitations for .5 (key 0x65) and .6 (0x66). */
	if (invite(&id5, 0x65) || invite(&id6, 0x66))
		return -1;
	mgr_ctl_reload(&m);
	p5 = peer_of(&id5);
	p6 = peer_of(&id6);
	return m.ngws == 1 && m.ninv == 2 && p5 && p6 ? 0 : -1;
}

/* An ENROLL from the invitee at id with key (every byte the same). */
static void enroll(struct rd_peer *p, const struct roster_addr *id, int key)
{
	struct rd_msg msg = { .type = RD_ENROLL, .has_key = true, .seq = ++seq };

	memset(msg.key, key, 32);
	mgr_handle_enroll(&m, p, id, &msg);
}

/* The one message fd received (0 if none, or not exactly one). */
static uint8_t answer(int fd, struct rd_msg *out)
{
	_Alignas(8) uint8_t buf[RD_MSG_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned int k = 0;
	const char *why;
	ssize_t len;

	memset(out, 0, sizeof(*out));
	while (poll(&pfd, 1, 50) > 0) {
		struct rd_msg msg;

		len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0 || rd_msg_decode(buf, (size_t)len, &msg, &why))
			return 0;
		if (!k++)
			*out = msg;
		else
			rd_msg_release(&msg);
	}
	rd_msg_release(out);
	return k == 1 ? out->type : 0;
}

/* ERROR err naming text, and nothing else. */
static bool refused(int fd, int err, const char *text)
{
	struct rd_msg a;

	if (answer(fd, &a) != RD_ERROR || a.err != (uint32_t)err || !strstr(a.text, text)) {
		printf("# answer: type %u err %u \"%s\"\n", a.type, a.err, a.text);
		return false;
	}
	return true;
}

/* The gateways and invitations the store holds: .2 with key2 (and .5
 * with key5 if key5), and the invitations named. */
static bool store_is(int key5, bool inv5, bool inv6)
{
	struct rd_entry *gws, *invs;
	unsigned int ng, ni, want_ni = (unsigned int)inv5 + (unsigned int)inv6;
	uint8_t k[32];
	bool ok;

	if (rd_store_gateways(m.st, &gws, &ng))
		return false;
	if (rd_store_invites(m.st, &invs, &ni)) {
		free(gws);
		return false;
	}
	ok = ng == (key5 ? 2u : 1u) && ni == want_ni;
	memset(k, 0x22, 32);
	ok = ok && rd_addr_eq(&gws[0].id, &id2) && !memcmp(gws[0].key, k, 32);
	if (ok && key5) {
		memset(k, key5, 32);
		ok = rd_addr_eq(&gws[1].id, &id5) && !memcmp(gws[1].key, k, 32);
	}
	if (ok && inv5)
		ok = rd_addr_eq(&invs[0].id, &id5);
	if (ok && inv6)
		ok = rd_addr_eq(&invs[ni - 1].id, &id6);
	free(gws);
	free(invs);
	return ok;
}

static void t_key_reuse(void)
{
	struct rd_entry gw = { .id = id5 };
	uint8_t ik[32], old[32];
	bool had;

	/* Another gateway's key, the invitee's own invitation key, another
	 * invitation's key, the manager's key: each refused, nothing kept. */
	enroll(p5, &id5, 0x22);
	EXPECT(refused(fd5, EEXIST, "already used by an enrolled gateway"));
	enroll(p5, &id5, 0x65);
	EXPECT(refused(fd5, EEXIST, "a pending invitation's"));
	enroll(p5, &id5, 0x66);
	EXPECT(refused(fd5, EEXIST, "a pending invitation's"));
	enroll(p5, &id5, 0x99);
	EXPECT(refused(fd5, EEXIST, "the manager's"));
	EXPECT(!m.enrols);
	EXPECT(store_is(0, true, true));

	/* The store checks again in its transaction: the handler's view
	 * may be older than another process's commit. */
	memset(ik, 0x65, 32);
	memset(gw.key, 0x22, 32);
	EXPECT(rd_store_enrol(m.st, &gw, ik, old, &had) == -EEXIST && !had);
	EXPECT(strstr(rd_store_errmsg(m.st), "already used by an enrolled gateway"));
	gw.id = id5;
	memset(gw.key, 0x66, 32);
	EXPECT(rd_store_enrol(m.st, &gw, ik, old, &had) == -EEXIST);
	EXPECT(strstr(rd_store_errmsg(m.st), "already used by a pending invitation"));
	gw.id = id5;
	memset(gw.key, 0x65, 32);
	EXPECT(rd_store_enrol(m.st, &gw, ik, old, &had) == -EEXIST);
	EXPECT(store_is(0, true, true));

	/* Two enrolments under way cannot share a key either. */
	enroll(p5, &id5, 0x55);
	EXPECT(answer(fd5, &(struct rd_msg){ 0 }) == RD_ENROLLED);
	enroll(p6, &id6, 0x55);
	EXPECT(refused(fd6, EEXIST, "another enrolment under way"));
	mgr_enrols_free(&m);
	rd_peer_flush(p5);
}

static void t_first_wins(void)
{
	struct rd_msg a;
	uint32_t s1, s2;

	enroll(p5, &id5, 0x55);
	EXPECT(answer(fd5, &a) == RD_ENROLLED);
	s1 = a.seq;
	/* A copied token with another key loses to the first ENROLL... */
	enroll(p5, &id5, 0x56);
	EXPECT(refused(fd5, EBUSY, "another key is under way"));
	/* ...while the same key again gets its ENROLLED. */
	enroll(p5, &id5, 0x55);
	EXPECT(answer(fd5, &a) == RD_ENROLLED);
	s2 = a.seq;
	EXPECT(s2 != s1);
	EXPECT(store_is(0, true, true));
	rd_acked(&m.link, p5, s1);	/* the older ENROLLED: not the one */
	EXPECT(store_is(0, true, true) && m.enrols);
	rd_acked(&m.link, p5, s2);
	EXPECT(store_is(0x55, false, true) && !m.enrols);
	EXPECT(m.ngws == 2 && m.ninv == 1);

	/* Enrolled: asking again with that key (a redeem retried after a
	 * crash) is answered; any other key is not. */
	enroll(p5, &id5, 0x55);
	EXPECT(answer(fd5, &a) == RD_ENROLLED);
	enroll(p5, &id5, 0x57);
	EXPECT(refused(fd5, EACCES, "no pending invitation"));
	EXPECT(store_is(0x55, false, true));
	rd_peer_flush(p5);
}

/* An enrolment under an invitation that was replaced since does not
 * block the new one. */
static void t_reinvite(void)
{
	struct rd_msg a;

	enroll(p6, &id6, 0x60);
	EXPECT(answer(fd6, &a) == RD_ENROLLED);
	EXPECT(!invite(&id6, 0x67));
	mgr_ctl_reload(&m);
	enroll(p6, &id6, 0x61);
	EXPECT(answer(fd6, &a) == RD_ENROLLED);
	rd_acked(&m.link, p6, a.seq);
	EXPECT(m.ngws == 3 && m.ninv == 0 && !m.enrols);
	if (m.ngws == 3)
		EXPECT(m.gws[2].key[0] == 0x61);
	rd_peer_flush(p6);
}

int main(void)
{
	char cmd[128];

	rd_log_level = RD_LOG_ERROR;
	printf("KTAP version 1\n1..3\n");
	if (setup()) {
		printf("# setup failed: %s\n", strerror(errno));
		printf("not ok 1 - setup\n");
		return 1;
	}
	run("ENROLL refuses a key in use (gateway, invitation, manager, under way)", t_key_reuse);
	run("the first ENROLL for an invitation wins; the same key is answered again", t_first_wins);
	run("a replaced invitation's enrolment does not block the new one", t_reinvite);
	mgr_enrols_free(&m);
	rd_link_free(&m.link);
	close(m.fd);
	close(fd5);
	close(fd6);
	free(m.gws);
	free(m.inv);
	rd_store_close(m.st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
