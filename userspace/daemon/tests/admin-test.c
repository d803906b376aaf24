// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd eviction and invitation unit tests (mgr-admin.c, and the
 * revoked-key check of enrol.c), with a real store in a scratch directory,
 * no kernel and no rctl0 (reloading it fails harmlessly after the store
 * has been read; roster.ko absent, `rosterd revoke` leaves the VPNs to
 * the manager): the listing of pending invitations in text and in JSON
 * (checked with python3's json), `rosterd revoke` on an enrolled gateway,
 * on a pending invitation and on an unknown id, the eviction rule, and an
 * ENROLL with a revoked key. KTAP on stdout; exit status non-zero if any
 * test failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mgr.h"
#include "mgr-admin.h"
#include "netif.h"
#include "proto.h"
#include "rel.h"
#include "store.h"
#include "util.h"

#include "unit.h"

static char dir[64];
static struct rd_config conf;
static struct mgr m;
static uint16_t port;
static int fd5;				/* the invitee 127.0.0.5 */
static struct rd_peer *p5;
static struct roster_addr id2, id3, id5, id8;

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

static int invite(const struct roster_addr *id, int key)
{
	struct rd_entry inv = { .id = *id, .n_vpns = 1, .vpns = { 7 }, .expiry = 4000000000u };

	memset(inv.key, key, 32);
	return rd_store_invite_put(m.st, &inv, NULL, 0, NULL);
}

/* id enrolled with key (every byte the same) through an invitation. */
static int enrol(const struct roster_addr *id, int key)
{
	struct rd_entry gw = { .id = *id };
	uint8_t ik[32], old[32];
	bool had;

	if (invite(id, key + 0x40))
		return -1;
	memset(gw.key, key, 32);
	memset(ik, key + 0x40, 32);
	return rd_store_enrol(m.st, &gw, ik, old, &had);
}

static int setup(void)
{
	char err[256];
	struct sockaddr_storage ss;
	socklen_t len;

	snprintf(dir, sizeof(dir), "/tmp/admin-test.XXXXXX");
	if (!mkdtemp(dir) || rd_store_open(dir, &m.st, err, sizeof(err)))
		return -1;
	memcpy(m.store_id, rd_store_identity(m.st), RD_STORE_ID_LEN);
	snprintf(conf.ifname, sizeof(conf.ifname), "rd-no-such0");
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s", dir);
	m.c = &conf;
	memset(m.pub, 0x99, 32);
	m.fd = udp_on("127.0.0.1", 0, NULL);
	fd5 = udp_on("127.0.0.5", 0, &port);
	if (m.fd < 0 || fd5 < 0)
		return -1;
	rd_link_init(&m.link, m.fd, 1000, 8, on_done);
	m.link.priv = &m;
	roster_addr_parse("127.0.0.2", &id2);
	roster_addr_parse("127.0.0.3", &id3);
	roster_addr_parse("127.0.0.5", &id5);
	roster_addr_parse("127.0.0.8", &id8);
	/* Gateways .2 (key 0x22) and .3 (0x33); an invitation for .5 (0x65). */
	if (enrol(&id2, 0x22) || enrol(&id3, 0x33) || invite(&id5, 0x65))
		return -1;
	mgr_ctl_reload(&m);
	len = rd_sockaddr(&id5, port, &ss);
	p5 = rd_peer_get(&m.link, (struct sockaddr *)&ss, len, true);
	return m.ngws == 2 && m.ninv == 1 && p5 ? 0 : -1;
}

static void cleanup(void)
{
	char cmd[128];

	rd_link_free(&m.link);
	mgr_enrols_free(&m);
	rd_store_close(m.st);
	free(m.gws);
	free(m.inv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
}

/* The base64 of a key whose every byte is b. */
static void b64of(int b, char out[45])
{
	uint8_t k[32];

	memset(k, b, 32);
	rd_key_b64(k, out);
}

/* ---- rosterd invites ------------------------------------------------- */

static struct rd_entry inv_entry(const char *id, int key, uint64_t expiry)
{
	struct rd_entry e = { .expiry = expiry, .has_prefixes = true };

	roster_addr_parse(id, &e.id);
	memset(e.key, key, 32);
	return e;
}

static char *printed(const struct rd_entry *e, unsigned int n, uint64_t now, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	mgr_invites_print(f, e, n, now, json);
	fclose(f);
	return buf;
}

static struct rd_entry *three(uint64_t now)
{
	static struct rd_entry e[3];

	/* pending, 2 VPNs and 2 prefixes; expired; from before prefix lists,
	 * never expiring */
	e[0] = inv_entry("10.255.0.11", 0x11, now + 3661);
	e[0].n_vpns = 2;
	e[0].vpns[0] = 7;
	e[0].vpns[1] = 9;
	e[0].n_prefixes = 2;
	roster_prefix_parse("10.11.0.0/24", &e[0].prefixes[0], NULL);
	roster_prefix_parse("fd00:11::/48", &e[0].prefixes[1], NULL);
	e[1] = inv_entry("10.255.0.12", 0x12, now);
	e[1].n_vpns = 1;
	e[1].vpns[0] = 7;
	e[2] = inv_entry("10.255.0.13", 0x13, 0);
	e[2].n_vpns = 1;
	e[2].vpns[0] = 8;
	e[2].has_prefixes = false;
	return e;
}

static void t_invites_text(void)
{
	uint64_t now = 1796196324;	/* 2026-12-02 07:25:24 UTC */
	char key[45], *out = printed(three(now), 3, now, false);

	b64of(0x11, key);
	EXPECT(out);
	if (!out)
		return;
	EXPECT(!strncmp(out, "invitation: 10.255.0.11\n", 24));
	EXPECT(strstr(out, key));
	EXPECT(strstr(out, "\n  vpns: 7, 9\n"));
	EXPECT(strstr(out, "\n  prefixes: 10.11.0.0/24, fd00:11::/48\n"));
	EXPECT(strstr(out, "\n  expires: 2026-12-02 08:26:25 UTC (in 1 hour, 1 minute, 1 second)\n"));
	/* expired: not pending any more */
	EXPECT(!strstr(out, "10.255.0.12"));
	/* a blank line between two invitations, as `wg show` between peers */
	EXPECT(strstr(out, "\n\ninvitation: 10.255.0.13\n"));
	EXPECT(strstr(out, "\n  prefixes: (any: an invitation from before prefix lists)\n"));
	EXPECT(strstr(out, "\n  expires: never\n"));
	free(out);
	out = printed(three(now), 0, now, false);
	EXPECT(out && !*out);
	free(out);
}

/* A JSON parser reads what the text printer's twin wrote. */
static const char json_check[] =
	"python3 -c '\n"
	"import base64, json, sys\n"
	"v = json.load(sys.stdin)\n"
	"assert isinstance(v, list) and len(v) == int(sys.argv[1]), v\n"
	"if v:\n"
	"    a, c = v\n"
	"    assert a == {\"id\": \"10.255.0.11\", \"key\": a[\"key\"], \"vpns\": [7, 9],\n"
	"                 \"prefixes\": [\"10.11.0.0/24\", \"fd00:11::/48\"],\n"
	"                 \"expiry\": 1796199985, \"expires_in\": 3661}, a\n"
	"    assert base64.b64decode(a[\"key\"]) == bytes([0x11]) * 32\n"
	"    assert c == {\"id\": \"10.255.0.13\", \"key\": c[\"key\"], \"vpns\": [8],\n"
	"                 \"prefixes\": None, \"expiry\": None, \"expires_in\": None}, c\n"
	"print(\"parsed\")\n"
	"' %u";

static bool json_ok(const char *text, unsigned int n)
{
	char cmd[sizeof(json_check) + 64], res[64] = "";
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), json_check, n);
	/* Python's answer to a file: a pipe both ways could deadlock. */
	strcat(cmd, " >/tmp/admin-test.json.out");
	p = popen(cmd, "w");
	if (!p)
		return false;
	fputs(text, p);
	st = pclose(p);
	p = fopen("/tmp/admin-test.json.out", "r");
	if (p) {
		if (!fgets(res, sizeof(res), p))
			res[0] = 0;
		fclose(p);
	}
	unlink("/tmp/admin-test.json.out");
	return st == 0 && !strcmp(res, "parsed\n");
}

static void t_invites_json(void)
{
	uint64_t now = 1796196324;
	char *out = printed(three(now), 3, now, true);

	EXPECT(out && json_ok(out, 2));
	free(out);
	out = printed(three(now), 0, now, true);
	EXPECT(out && !strcmp(out, "[]\n") && json_ok(out, 0));
	free(out);
}

/* ---- rosterd revoke -------------------------------------------------- */

/* rd_cmd_revoke(id) with its standard output in *out (malloc'ed). */
static int do_revoke(const struct roster_addr *id, char **out)
{
	char path[96];
	int saved, fd, ret;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/revoke.out", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0)
		return -EIO;
	dup2(fd, 1);
	close(fd);
	ret = rd_cmd_revoke(&conf, id);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = NULL;
	f = fopen(path, "r");
	if (f) {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		*out = calloc(1, (size_t)n + 1);
		if (*out && fread(*out, 1, (size_t)n, f) != (size_t)n)
			**out = 0;
		fclose(f);
	}
	return ret;
}

static unsigned int count(bool gateways)
{
	struct rd_entry *e = NULL;
	unsigned int n = 0;

	if (gateways ? rd_store_gateways(m.st, &e, &n) : rd_store_invites(m.st, &e, &n))
		return 999;
	free(e);
	return n;
}

static void t_revoke_invitation(void)
{
	struct rd_entry inv = { .id = id5, .n_vpns = 1, .vpns = { 7 }, .expiry = 4000000000u };
	char key[45], want[128], *out = NULL;

	b64of(0x65, key);
	snprintf(want, sizeof(want), "revoked invitation 127.0.0.5 key %s\n", key);
	EXPECT(do_revoke(&id5, &out) == 0);
	EXPECT(out && !strcmp(out, want));
	free(out);
	EXPECT(count(false) == 0 && count(true) == 2);
	/* The key is refused for ever; a fresh one is not. */
	EXPECT(rd_store_key_revoked(m.st, inv.key) == 0);
	memset(inv.key, 0x65, 32);
	EXPECT(rd_store_key_revoked(m.st, inv.key) == 1);
	EXPECT(rd_store_invite_put(m.st, &inv, NULL, 0, NULL) == -EKEYREVOKED);
	memset(inv.key, 0x75, 32);
	EXPECT(rd_store_invite_put(m.st, &inv, NULL, 0, NULL) == 0);
	EXPECT(count(false) == 1);
}

static void t_revoke_unknown(void)
{
	char *out = NULL;

	/* Nothing to revoke: an error, nothing printed, nothing changed. */
	EXPECT(do_revoke(&id8, &out) == -ENOENT);
	EXPECT(out && !*out);
	free(out);
	EXPECT(count(true) == 2 && count(false) == 1);
}

static void t_revoke_gateway(void)
{
	char key[45], want[128], *out = NULL;
	uint8_t k[32];

	b64of(0x33, key);
	snprintf(want, sizeof(want), "revoked gateway 127.0.0.3 key %s\n", key);
	EXPECT(do_revoke(&id3, &out) == 0);
	EXPECT(out && !strcmp(out, want));
	free(out);
	EXPECT(count(true) == 1 && count(false) == 1);
	memset(k, 0x33, 32);
	EXPECT(rd_store_key_revoked(m.st, k) == 1);
	memset(k, 0x22, 32);
	EXPECT(rd_store_key_revoked(m.st, k) == 0);
	/* and again: gone already */
	EXPECT(do_revoke(&id3, &out) == -ENOENT);
	free(out);
}

/* A command never creates a store. */
static void t_revoke_no_store(void)
{
	struct rd_config c = conf;
	char *out = NULL;

	snprintf(c.state_dir, sizeof(c.state_dir), "%s/none", dir);
	EXPECT(rd_cmd_revoke(&c, &id2) == -ENOENT);
	EXPECT(rd_cmd_invites(&c, true) == -ENOENT);
	EXPECT(access(c.state_dir, F_OK) && errno == ENOENT);
	(void)out;
}

/* ---- the manager's side ------------------------------------------------ */

static struct roster_member member(const struct roster_addr *id, int key)
{
	struct roster_member mb = { .id = *id, .has_key = true };

	memset(mb.key, key, 32);
	return mb;
}

static void t_evict_rule(void)
{
	struct roster_member mb;

	mgr_ctl_reload(&m);		/* .3 is gone from the index */
	EXPECT(m.ngws == 1 && mgr_gw_find(&m, &id2) && !mgr_gw_find(&m, &id3));
	/* the revoked gateway, wherever it still is a member */
	mb = member(&id3, 0x33);
	EXPECT(mgr_evict_due(&m, &mb));
	/* an enrolled gateway, even with a revoked key in its record: it is
	 * enrolled with another key, which its next join brings */
	mb = member(&id2, 0x22);
	EXPECT(!mgr_evict_due(&m, &mb));
	mb = member(&id2, 0x33);
	EXPECT(!mgr_evict_due(&m, &mb));
	/* added by hand (roster member add): no enrolment, a key never
	 * revoked */
	mb = member(&id8, 0x88);
	EXPECT(!mgr_evict_due(&m, &mb));
	mb = member(&id8, 0x33);
	mb.has_key = false;
	EXPECT(!mgr_evict_due(&m, &mb));
	/* no kernel: the sweep does nothing, and says nothing is wrong */
	mgr_evict_all(&m);
	mgr_evict_sweep(&m, m.gws, m.ngws);
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

static void t_enroll_revoked(void)
{
	static uint32_t seq = 100;
	struct rd_msg msg = { .type = RD_ENROLL, .has_key = true }, a;

	/* Under .5's new invitation (0x75), the stolen gateway's key 0x33, or
	 * the revoked invitation key 0x65: refused. */
	mgr_ctl_reload(&m);
	EXPECT(mgr_inv_find(&m, &id5));
	memset(msg.key, 0x33, 32);
	msg.seq = ++seq;
	mgr_handle_enroll(&m, p5, &id5, &msg);
	EXPECT(answer(fd5, &a) == RD_ERROR && a.err == EKEYREVOKED &&
	       strstr(a.text, "the key is revoked"));
	memset(msg.key, 0x65, 32);
	msg.seq = ++seq;
	mgr_handle_enroll(&m, p5, &id5, &msg);
	EXPECT(answer(fd5, &a) == RD_ERROR && a.err == EKEYREVOKED);
	EXPECT(!m.enrols);
	/* A fresh key is answered. */
	memset(msg.key, 0x55, 32);
	msg.seq = ++seq;
	mgr_handle_enroll(&m, p5, &id5, &msg);
	EXPECT(answer(fd5, &a) == RD_ENROLLED);
	EXPECT(m.enrols);
}

int main(void)
{
	rd_log_level = RD_LOG_WARN;
	printf("TAP version 13\n1..9\n");
	if (setup()) {
		printf("Bail out! setup failed (%s)\n", strerror(errno));
		return 1;
	}
	run("invites: text, the pending ones, wg-show style", t_invites_text);
	run("invites -j: JSON with stable keys (python3 json)", t_invites_json);
	run("revoke: a pending invitation; its key refused for ever", t_revoke_invitation);
	run("revoke: an unknown id is an error and changes nothing", t_revoke_unknown);
	run("revoke: an enrolled gateway", t_revoke_gateway);
	run("revoke, invites: no store is an error, none created", t_revoke_no_store);
	run("eviction rule: not enrolled and the key revoked", t_evict_rule);
	run("ENROLL with a revoked key refused, a fresh key answered", t_enroll_revoked);
	run("cleanup", cleanup);
	return failed ? 1 : 0;
}
