// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd unit tests of endpoint = auto and expire-after, with no kernel:
 * their configuration, the wire shape of an auto JOIN_REQ/SYNC_REQ and of
 * LIST's REJOIN flag, which members mgr-roam.c looks at again when rctl0
 * sees a gateway elsewhere, and when mgr-expire.c calls a member silent.
 * KTAP on stdout; exit status non-zero if any test failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mgr.h"
#include "mgr-expire.h"
#include "mgr-roam.h"
#include "proto.h"
#include "util.h"

#include "unit.h"

static struct rd_config c;
static char err[256];

static int parse(const char *text, enum rd_role role)
{
	return rd_config_parse(text, role, &c, err, sizeof(err));
}

static void t_config_auto(void)
{
	EXPECT(!parse("[gateway]\nendpoint = auto\n[vpn 7]\nlisten-port = 51807\n", RD_ROLE_GATEWAY));
	EXPECT(c.endpoint_auto && !c.has_endpoint && c.n_vpns == 1);
	EXPECT(!parse("[gateway]\nendpoint = 192.0.2.11\n[vpn 7]\nlisten-port = 1\n",
		      RD_ROLE_GATEWAY));
	EXPECT(!c.endpoint_auto && c.has_endpoint);
	/* a VPN still needs one of the two */
	EXPECT(parse("[gateway]\n[vpn 7]\nlisten-port = 1\n", RD_ROLE_GATEWAY) == -EINVAL);
	EXPECT(strstr(err, "endpoint is required (an address, or auto)"));
	/* the manager's endpoint is an address, put in tokens */
	EXPECT(parse("[manager]\nendpoint = auto\n", RD_ROLE_MANAGER) == -EINVAL);
	EXPECT(strstr(err, "line 2: endpoint: 'auto' is for a gateway"));
	EXPECT(parse("[gateway]\nendpoint = auto\nendpoint = auto\n", RD_ROLE_GATEWAY) == -EINVAL);
	EXPECT(strstr(err, "duplicate key 'endpoint'"));
	EXPECT(parse("[gateway]\nendpoint = automatic\n", RD_ROLE_GATEWAY) == -EINVAL);
}

static void t_config_expire(void)
{
	static const struct { const char *v; int ok; uint32_t secs; } cases[] = {
		{ "off", 1, 0 }, { "10", 1, 10 }, { "90s", 1, 90 }, { "5m", 1, 300 },
		{ "2h", 1, 7200 }, { "1d", 1, 86400 }, { "365d", 1, 365u * 86400 },
		{ "9", 0, 0 }, { "0", 1, 0 }, { "366d", 0, 0 }, { "5x", 0, 0 }, { "m", 0, 0 },
		{ "-5m", 0, 0 }, { "5mm", 0, 0 }, { "99999999999", 0, 0 }, { "5 m", 0, 0 },
		{ "4294967295d", 0, 0 },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		snprintf(text, sizeof(text), "[manager]\n[vpn 7]\nexpire-after = %s\n[vpn 8]\n",
			 cases[i].v);
		ret = parse(text, RD_ROLE_MANAGER);
		if (cases[i].ok) {
			EXPECT(!ret && c.n_vpns == 2 && c.vpns[0].id == 7);
			EXPECT(c.vpns[0].expire_after == cases[i].secs && !c.vpns[1].expire_after);
		} else {
			EXPECT(ret == -EINVAL && strstr(err, "line 3: expire-after: expected off or"));
		}
		if ((ret != 0) == cases[i].ok)
			printf("# expire-after = %s: %s\n", cases[i].v, ret ? err : "accepted");
	}
	/* the manager's [vpn] needs no listen-port; a gateway's does */
	EXPECT(!parse("[manager]\n[vpn 7]\n", RD_ROLE_MANAGER));
	EXPECT(parse("[gateway]\nendpoint = auto\n[vpn 7]\nexpire-after = 1h\n",
		     RD_ROLE_GATEWAY) == -EINVAL && strstr(err, "listen-port is required"));
	EXPECT(parse("[manager]\n[vpn 7]\nexpire-after = 1h\nexpire-after = 2h\n",
		     RD_ROLE_MANAGER) == -EINVAL && strstr(err, "duplicate key"));
}

static int roundtrip(const struct rd_msg *in, struct rd_msg *out, const char **why)
{
	uint8_t buf[RD_MSG_MAX];
	int len = rd_msg_encode(in, buf, sizeof(buf));

	if (len < 0)
		return len;
	return rd_msg_decode(buf, (size_t)len, out, why);
}

static void t_proto(void)
{
	struct rd_msg in = { .type = RD_JOIN_REQ, .seq = 1, .has_session = true, .session = 9,
			     .has_vpn = true, .vpn = 7, .endpoint_auto = true, .port = 51807 };
	struct rd_msg out;
	const char *why;

	EXPECT(!roundtrip(&in, &out, &why));
	EXPECT(out.endpoint_auto && !out.has_endpoint && out.port == 51807);
	rd_msg_release(&out);
	in.type = RD_SYNC_REQ;
	in.has_gen = in.has_total = true;
	EXPECT(!roundtrip(&in, &out, &why));
	EXPECT(out.endpoint_auto && out.port == 51807 && out.gen == 0);
	rd_msg_release(&out);
	/* a port alone anywhere else is half an endpoint */
	in.type = RD_LEAVE_REQ;
	in.has_gen = in.has_total = false;
	EXPECT(roundtrip(&in, &out, &why) == -EINVAL && why && strstr(why, "attribute"));
	/* port 0 is no port */
	in.type = RD_JOIN_REQ;
	in.port = 0;
	EXPECT(roundtrip(&in, &out, &why) == -EINVAL && !strcmp(why, "half an endpoint"));
	/* an address with its port: not auto */
	in.port = 51807;
	in.endpoint_auto = false;
	in.has_endpoint = true;
	roster_addr_parse("192.0.2.11", &in.endpoint);
	EXPECT(!roundtrip(&in, &out, &why) && !out.endpoint_auto && out.has_endpoint);
	rd_msg_release(&out);

	/* REJOIN only with NOT_MEMBER, only on a LIST */
	struct rd_msg l = { .type = RD_LIST, .seq = 2, .has_session = true, .session = 3,
			    .has_vpn = true, .vpn = 7, .has_gen = true,
			    .gen = 5, .has_parts = true, .part = 1, .nparts = 1,
			    .flags = RD_F_NOT_MEMBER | RD_F_REJOIN };

	EXPECT(!roundtrip(&l, &out, &why) && out.flags == (RD_F_NOT_MEMBER | RD_F_REJOIN));
	rd_msg_release(&out);
	l.flags = RD_F_REJOIN;
	EXPECT(roundtrip(&l, &out, &why) == -EINVAL && !strcmp(why, "unknown flags"));
	l.flags = RD_F_NOT_MEMBER | RD_F_REJOIN;
	l.type = RD_JOIN;
	EXPECT(roundtrip(&l, &out, &why) == -EINVAL);
}

static struct roster_addr addr(const char *s)
{
	struct roster_addr a;

	roster_addr_parse(s, &a);
	return a;
}

static struct rd_wg_endpoint *endpoints(unsigned int n, const char *const *at)
{
	struct rd_wg_endpoint *ep = calloc(n, sizeof(*ep));

	for (unsigned int i = 0; i < n; i++) {
		memset(ep[i].key, (int)(n - i), 32);	/* not in key order */
		ep[i].has_endpoint = at[i] != NULL;
		if (at[i])
			ep[i].endpoint = addr(at[i]);
	}
	return ep;
}

static void t_roam(void)
{
	struct mgr_roam r = { 0 };
	struct roster_addr g1 = addr("10.255.0.11"), g2 = addr("10.255.0.12");
	const char *const first[] = { "192.0.2.11", "192.0.2.12", NULL };
	const char *const moved[] = { "192.0.2.11", "192.0.2.99", NULL };
	uint8_t k1[32], k2[32], k3[32];
	struct mgr_roam_ent *e1, *e2;

	/* keys as endpoints() gives them: entry i has byte n - i */
	memset(k1, 3, 32);
	memset(k2, 2, 32);
	memset(k3, 1, 32);
	EXPECT(!mgr_roam_set(&r, &g1, 7, true) && !mgr_roam_set(&r, &g2, 7, true));
	EXPECT(!mgr_roam_set(&r, &g2, 8, true) && r.n == 3);
	EXPECT(!mgr_roam_set(&r, &g1, 7, true) && r.n == 3);	/* once per (id, vpn) */
	mgr_roam_take(&r, endpoints(3, first), 3, 1000);
	{
		struct roster_addr a1 = addr("192.0.2.11"), a2 = addr("192.0.2.12");

		EXPECT(rd_addr_eq(mgr_roam_observed(&r, k1), &a1));
		EXPECT(rd_addr_eq(mgr_roam_observed(&r, k2), &a2));
	}
	EXPECT(!mgr_roam_observed(&r, k3));		/* a peer WireGuard has not heard */
	e1 = mgr_roam_find(&r, &g1, 7);
	e2 = mgr_roam_find(&r, &g2, 7);
	EXPECT(e1 && e2 && !mgr_roam_find(&r, &g1, 8));
	/* never looked at: due; no address: never due */
	EXPECT(mgr_roam_due(e1, mgr_roam_observed(&r, k1)));
	EXPECT(!mgr_roam_due(e1, NULL));
	e1->has_last = e2->has_last = true;
	e1->last = *mgr_roam_observed(&r, k1);
	e2->last = *mgr_roam_observed(&r, k2);
	EXPECT(!mgr_roam_due(e1, mgr_roam_observed(&r, k1)));
	EXPECT(!mgr_roam_due(e2, mgr_roam_observed(&r, k2)));
	/* gw2 moves: only it is due */
	mgr_roam_take(&r, endpoints(3, moved), 3, 2000);
	EXPECT(r.read_ms == 2000 && r.nep == 3);
	EXPECT(!mgr_roam_due(e1, mgr_roam_observed(&r, k1)));
	EXPECT(mgr_roam_due(e2, mgr_roam_observed(&r, k2)));
	/* a JOIN_REQ again makes the record be looked at again */
	EXPECT(!mgr_roam_set(&r, &g1, 7, true));
	EXPECT(mgr_roam_due(mgr_roam_find(&r, &g1, 7), mgr_roam_observed(&r, k1)));
	/* a fixed endpoint again: not followed */
	EXPECT(!mgr_roam_set(&r, &g1, 7, false) && r.n == 2 && !mgr_roam_find(&r, &g1, 7));
	EXPECT(mgr_roam_find(&r, &g2, 7) && mgr_roam_find(&r, &g2, 8));
	mgr_roam_take(&r, NULL, 0, 3000);
	EXPECT(!mgr_roam_observed(&r, k1));
	mgr_roam_clear(&r);
	EXPECT(!r.n && !r.e && !r.ep);
}

static void t_expire(void)
{
	struct mgr_expire x = { 0 };
	struct roster_addr g1 = addr("10.255.0.11"), g2 = addr("10.255.0.12");

	/* off */
	EXPECT(!mgr_expire_due(10000, 0, 1, 1, 1));
	/* silent 60 s, expire-after 60: not yet; 61: yes */
	EXPECT(!mgr_expire_due(1060, 60, 1000, 500, 400));
	EXPECT(mgr_expire_due(1061, 60, 1000, 500, 400));
	/* never heard from: counted from its join... */
	EXPECT(!mgr_expire_due(1060, 60, 0, 1000, 400));
	EXPECT(mgr_expire_due(1061, 60, 0, 1000, 400));
	/* ... or from the manager's start: a manager that was down heard
	 * nobody, and expires nobody for it */
	EXPECT(!mgr_expire_due(5060, 60, 1000, 500, 5000));
	EXPECT(mgr_expire_due(5061, 60, 1000, 500, 5000));
	/* a clock that went back expires nobody */
	EXPECT(!mgr_expire_due(900, 60, 1000, 500, 400));

	EXPECT(!mgr_expire_mark(&x, &g1, 7) && !mgr_expire_mark(&x, &g1, 7) && x.n == 1);
	EXPECT(!mgr_expire_mark(&x, &g2, 7) && !mgr_expire_mark(&x, &g1, 8) && x.n == 3);
	EXPECT(mgr_expire_marked(&x, &g1, 7) && mgr_expire_marked(&x, &g1, 8));
	EXPECT(!mgr_expire_marked(&x, &g2, 8));
	mgr_expire_unmark(&x, &g1, 7);
	EXPECT(!mgr_expire_marked(&x, &g1, 7) && mgr_expire_marked(&x, &g1, 8));
	EXPECT(mgr_expire_marked(&x, &g2, 7) && x.n == 2);
	mgr_expire_unmark(&x, &g1, 7);
	EXPECT(x.n == 2);
	mgr_expire_clear(&x);
	EXPECT(!x.n && !x.e);
}

/* What the manager keeps from requests: auto in a JOIN_REQ or a
 * SYNC_REQ (a manager that restarted learns it again from the latter),
 * and whom it expired until they ask to join. */
static void t_note(void)
{
	static struct mgr m;
	struct roster_addr g1 = addr("10.255.0.11");
	struct rd_msg join = { .type = RD_JOIN_REQ, .vpn = 7, .endpoint_auto = true, .port = 1 };
	struct rd_msg sync = { .type = RD_SYNC_REQ, .vpn = 7, .endpoint_auto = true, .port = 1 };
	struct rd_msg fixed = { .type = RD_SYNC_REQ, .vpn = 7 };
	struct mgr_roam_ent *e;

	memset(&m, 0, sizeof(m));
	mgr_roam_note(&m, &g1, &fixed);
	EXPECT(!m.roam);			/* nothing allocated for fixed endpoints */
	mgr_roam_note(&m, &g1, &sync);
	EXPECT(m.roam && m.roam->n == 1);
	e = m.roam ? mgr_roam_find(m.roam, &g1, 7) : NULL;
	EXPECT(e && !e->has_last);
	if (e) {
		e->has_last = true;
		mgr_roam_note(&m, &g1, &sync);	/* a periodic SYNC_REQ changes nothing */
		EXPECT(e->has_last);
		mgr_roam_note(&m, &g1, &join);	/* a JOIN_REQ: look again */
		EXPECT(e->has_last == false && m.roam->n == 1);
	}
	mgr_roam_note(&m, &g1, &fixed);		/* configured with an address again */
	EXPECT(m.roam && !m.roam->n);
	mgr_roam_free(&m);
	EXPECT(!m.roam);

	EXPECT(!mgr_expire_rejoin(&m, &g1, 7));
	m.expire = calloc(1, sizeof(*m.expire));
	EXPECT(m.expire && !mgr_expire_mark(m.expire, &g1, 7));
	EXPECT(mgr_expire_rejoin(&m, &g1, 7) && !mgr_expire_rejoin(&m, &g1, 8));
	mgr_expire_back(&m, &g1, 8);
	EXPECT(mgr_expire_rejoin(&m, &g1, 7));
	mgr_expire_back(&m, &g1, 7);
	EXPECT(!mgr_expire_rejoin(&m, &g1, 7));
	mgr_expire_free(&m);
	EXPECT(!m.expire);
}

/* The shipped examples parse, with their commented-out auto and
 * expire-after lines taken in. */
static void t_examples(void)
{
	static const struct { const char *path, *line; enum rd_role role; } ex[] = {
		{ "examples/manager.conf", "#expire-after", RD_ROLE_MANAGER },
		{ "examples/gateway.conf", "#endpoint = auto", RD_ROLE_GATEWAY },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		char *text = NULL, *p;

		EXPECT(!rd_read_file(ex[i].path, &text));
		if (!text)
			continue;
		EXPECT(!parse(text, ex[i].role));
		EXPECT(!c.endpoint_auto);
		p = strstr(text, ex[i].line);
		EXPECT(p);
		if (p && ex[i].role == RD_ROLE_MANAGER) {
			char *sec = strstr(text, "#[vpn 7]");

			EXPECT(sec);
			if (sec)
				*sec = ' ';
			*p = ' ';
			EXPECT(!parse(text, ex[i].role));
			EXPECT(c.n_vpns == 1 && c.vpns[0].id == 7 && c.vpns[0].expire_after == 600);
		} else if (p) {
			/* the address line goes, auto comes in */
			char *addr = strstr(text, "\nendpoint = ");

			EXPECT(addr);
			if (addr)
				addr[1] = '#';
			*p = ' ';
			EXPECT(!parse(text, ex[i].role));
			EXPECT(c.endpoint_auto && !c.has_endpoint);
		}
		if (cur_fail)
			printf("# %s: %s\n", ex[i].path, err);
		free(text);
	}
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR;
	printf("KTAP version 1\n1..7\n");
	run("config: endpoint = auto on a gateway only, instead of an address", t_config_auto);
	run("config: the manager's [vpn] expire-after: off or 10s..365d", t_config_expire);
	run("proto: a port alone is auto in JOIN_REQ/SYNC_REQ only; REJOIN with NOT_MEMBER",
	    t_proto);
	run("roam: a member is looked at again when rctl0 sees its gateway elsewhere", t_roam);
	run("expire: silence counted from last seen, join and the manager's start", t_expire);
	run("roam/expire: what the manager keeps from a gateway's requests", t_note);
	run("the examples parse, with auto and expire-after taken in", t_examples);
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
