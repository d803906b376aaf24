// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mgr-live.c: gateways' last-heard times, kept per message and written to
 * a real store at most every MGR_LIVE_FLUSH_S seconds, and the packet
 * path recording only authenticated messages of enrolled gateways.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mgr.h"
#include "mgr-live.h"
#include "proto.h"
#include "store.h"
#include "util.h"
#include "unit.h"

static char dir[64];
static struct rd_config conf;
static struct mgr m;

static struct roster_addr A(const char *s)
{
	struct roster_addr a;

	roster_addr_parse(s, &a);
	return a;
}

/* Enrol id through the store, then reload the manager's index of it. */
static void enrol(const char *id, uint8_t keyb)
{
	struct rd_entry inv = { .n_vpns = 1, .vpns = { 7 } }, gw = { 0 };
	uint8_t old[32];
	bool had;

	inv.id = A(id);
	memset(inv.key, keyb ^ 0xff, 32);
	EXPECT(rd_store_invite_put(m.st, &inv, NULL, 0, NULL) == 0);
	gw.id = inv.id;
	memset(gw.key, keyb, 32);
	EXPECT(rd_store_enrol(m.st, &gw, inv.key, old, &had) == 0);
	free(m.gws);
	EXPECT(rd_store_gateways(m.st, &m.gws, &m.ngws) == 0);
}

static uint64_t stored(const char *id)
{
	struct rd_entry *e;
	unsigned int n;
	uint64_t t = UINT64_MAX;
	struct roster_addr a = A(id);

	if (rd_store_gateways(m.st, &e, &n))
		return t;
	for (unsigned int i = 0; i < n; i++)
		if (rd_addr_eq(&e[i].id, &a))
			t = e[i].last_seen;
	free(e);
	return t;
}

static void t_heard_and_flushed(void)
{
	struct roster_addr g1 = A("10.255.0.11"), g2 = A("10.255.0.12");

	enrol("10.255.0.11", 0x11);
	enrol("10.255.0.12", 0x12);
	EXPECT(mgr_live_last_seen(&m, &g1) == 0);
	mgr_live_heard(&m, &g1, 1000);
	mgr_live_heard(&m, &g1, 900);		/* an older time changes nothing */
	EXPECT(mgr_live_last_seen(&m, &g1) == 1000);
	EXPECT(mgr_live_last_seen(&m, &g2) == 0);
	/* the first flush writes; the next within MGR_LIVE_FLUSH_S does not */
	mgr_live_flush(&m, 1000);
	EXPECT(stored("10.255.0.11") == 1000 && stored("10.255.0.12") == 0);
	mgr_live_heard(&m, &g1, 1005);
	mgr_live_heard(&m, &g2, 1006);
	mgr_live_flush(&m, 1000 + MGR_LIVE_FLUSH_S - 1);
	EXPECT(stored("10.255.0.11") == 1000 && stored("10.255.0.12") == 0);
	EXPECT(mgr_live_last_seen(&m, &g2) == 1006);
	mgr_live_flush(&m, 1000 + MGR_LIVE_FLUSH_S);
	EXPECT(stored("10.255.0.11") == 1005 && stored("10.255.0.12") == 1006);
	/* at exit, whatever is unwritten goes */
	mgr_live_heard(&m, &g1, 1020);
	mgr_live_free(&m);
	EXPECT(stored("10.255.0.11") == 1020);
	/* a restarted manager starts from the store's record */
	free(m.gws);
	EXPECT(rd_store_gateways(m.st, &m.gws, &m.ngws) == 0);
	EXPECT(mgr_live_last_seen(&m, &g1) == 1020);
}

/* Many gateways: the table grows and finds each one again. */
static void t_many(void)
{
	struct roster_addr a = A("10.0.0.0");
	unsigned int bad = 0;

	for (uint32_t i = 0; i < 5000; i++) {
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		mgr_live_heard(&m, &a, 2000 + i);
	}
	for (uint32_t i = 0; i < 5000; i++) {
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		bad += mgr_live_last_seen(&m, &a) != 2000 + i;
	}
	EXPECT(bad == 0);
	mgr_live_free(&m);
}

/* The packet path: an enrolled gateway's message counts, an unknown
 * source's does not. */
static void t_packet_path(void)
{
	struct rd_msg msg = { .version = RD_PROTO_VERSION, .type = RD_SYNC_REQ, .seq = 1,
			      .has_session = true, .session = 5, .has_vpn = true, .vpn = 7 };
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t buf[RD_MSG_MAX];
	int len = rd_msg_encode(&msg, buf, sizeof(buf));
	struct roster_addr g1 = A("10.255.0.11"), stranger = A("10.255.0.99");
	uint64_t before = mgr_live_last_seen(&m, &g1), now = (uint64_t)time(NULL);

	EXPECT(len > 0);
	EXPECT(before < now);
	sl = rd_sockaddr(&stranger, conf.control_port, &ss);
	mgr_handle_packet(&m, buf, (size_t)len, (struct sockaddr *)&ss, sl);
	EXPECT(mgr_live_last_seen(&m, &stranger) == 0);
	sl = rd_sockaddr(&g1, conf.control_port, &ss);
	mgr_handle_packet(&m, buf, (size_t)len, (struct sockaddr *)&ss, sl);
	EXPECT(mgr_live_last_seen(&m, &g1) >= now);
	mgr_live_free(&m);
}

int main(void)
{
	char err[256];

	rd_log_level = RD_LOG_ERROR;
	snprintf(dir, sizeof(dir), "/tmp/mgr-live-test.XXXXXX");
	if (!mkdtemp(dir) || rd_store_open(dir, &m.st, err, sizeof(err)))
		return perror("store"), 1;
	m.c = &conf;
	snprintf(conf.ifname, sizeof(conf.ifname), "rctl-absent");
	conf.control_port = 851;
	m.fd = -1;
	rd_link_init(&m.link, m.fd, 1000, 8, NULL);
	m.link.priv = &m;
	printf("TAP version 13\n1..3\n");
	run("live: heard times kept per message, flushed at most every 10 s, at exit",
	    t_heard_and_flushed);
	run("live: 5000 gateways found again", t_many);
	run("live: only an enrolled gateway's message counts", t_packet_path);
	rd_link_free(&m.link);
	rd_store_close(m.st);
	free(m.gws);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			return 1;
	}
	return failed ? 1 : 0;
}
