// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd unit tests of what a gateway may announce (mgr-policy.c): the
 * invitation's prefix list, the fixed refusals (length 0, the control
 * prefix, underlay endpoints), endpoint pinning, the endpoint-check
 * option, and the store's prefix lists with the migration of a schema 1
 * roster.db. KTAP on stdout; exit status non-zero if any test failed.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "log.h"
#include "mgr-policy.h"
#include "store.h"
#include "store-sqlite.h"
#include "util.h"

#include "unit.h"

static struct roster_prefix P(const char *s)
{
	struct roster_prefix p;

	if (roster_prefix_parse(s, &p, NULL))
		printf("# bad prefix in the test: %s\n", s);
	return p;
}

static struct roster_addr A(const char *s)
{
	struct roster_addr a;

	if (roster_addr_parse(s, &a))
		printf("# bad address in the test: %s\n", s);
	return a;
}

/* The manager of tests/rosterd/lib.sh: control prefix 10.255.0.0/16,
 * endpoint 192.0.2.1; gw2 (10.255.0.12, 192.0.2.12, 10.2.0.0/24) is a
 * member; the newcomer is gw1 (10.255.0.11), invited for 10.1.0.0/16 and
 * fd00:1::/48. */
static struct roster_prefix ctl_pfx;
static struct roster_addr mgr_ep, gw1_id;
static struct rd_entry gw1;
static struct roster_member members[2];

static void setup(void)
{
	ctl_pfx = P("10.255.0.0/16");
	mgr_ep = A("192.0.2.1");
	gw1_id = A("10.255.0.11");
	memset(&gw1, 0, sizeof(gw1));
	gw1.id = gw1_id;
	gw1.has_prefixes = true;
	gw1.n_prefixes = 2;
	gw1.prefixes[0] = P("10.1.0.0/16");
	gw1.prefixes[1] = P("fd00:1::/48");
	memset(members, 0, sizeof(members));
	members[0].id = A("10.255.0.12");
	members[0].has_endpoint = true;
	members[0].endpoint = A("192.0.2.12");
	members[0].n_prefixes = 1;
	members[0].prefixes[0] = P("10.2.0.0/24");
	/* gw1's own earlier record: skipped, whatever it holds */
	members[1].id = gw1_id;
	members[1].has_endpoint = true;
	members[1].endpoint = A("10.1.0.5");
	members[1].n_prefixes = 1;
	members[1].prefixes[0] = P("192.0.2.0/24");
}

static int check(const char *pfx, const char *ep, char *why, size_t len)
{
	struct mgr_policy_in in = {
		.control_prefix = &ctl_pfx, .mgr_endpoint = &mgr_ep, .gw = &gw1,
		.id = &gw1_id, .members = members, .n_members = 2,
	};
	struct roster_prefix p[2];
	struct roster_addr e;
	unsigned int n = 0;

	/* "A,B": up to two prefixes */
	if (pfx) {
		char buf[128], *comma;

		snprintf(buf, sizeof(buf), "%s", pfx);
		comma = strchr(buf, ',');
		if (comma)
			*comma = 0;
		p[n++] = P(buf);
		if (comma)
			p[n++] = P(comma + 1);
	}
	if (ep)
		e = A(ep);
	why[0] = 0;
	return mgr_policy_check(&in, p, n, ep ? &e : NULL, why, len);
}

#define REFUSED(pfx, ep, text) do {					\
	char why_[128];							\
	int r_ = check(pfx, ep, why_, sizeof(why_));			\
	if (r_ != -EPERM || strcmp(why_, text))				\
		printf("# %s (%s): %d '%s'\n", (pfx) ? (pfx) : "-", (ep) ? (ep) : "-", \
		       r_, why_);					\
	EXPECT(r_ == -EPERM && !strcmp(why_, text));			\
} while (0)

#define ALLOWED(pfx, ep) do {						\
	char why_[128];							\
	int r_ = check(pfx, ep, why_, sizeof(why_));			\
	if (r_)								\
		printf("# %s (%s): %d '%s'\n", (pfx) ? (pfx) : "-", (ep) ? (ep) : "-", \
		       r_, why_);					\
	EXPECT(r_ == 0);						\
} while (0)

static void t_covers(void)
{
	struct roster_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/24"), c = P("10.2.0.0/24");
	struct roster_prefix d = P("::/0"), e = P("0.0.0.0/0");

	EXPECT(mgr_prefix_covers(&a, &b) && !mgr_prefix_covers(&b, &a));
	EXPECT(mgr_prefix_overlaps(&a, &b) && mgr_prefix_overlaps(&b, &a));
	EXPECT(!mgr_prefix_overlaps(&b, &c));
	EXPECT(mgr_prefix_covers(&b, &b));
	/* families never overlap */
	EXPECT(!mgr_prefix_overlaps(&d, &a) && mgr_prefix_covers(&e, &a));
}

static void t_invitation(void)
{
	setup();
	ALLOWED("10.1.0.0/24", "192.0.2.11");
	ALLOWED("10.1.0.0/16", "192.0.2.11");
	ALLOWED("10.1.7.0/24,fd00:1:0:5::/64", "192.0.2.11");
	ALLOWED(NULL, "192.0.2.11");
	REFUSED("10.1.0.0/24,10.3.0.0/24", "192.0.2.11",
		"prefix 10.3.0.0/24 is outside the invitation's prefixes");
	/* a supernet of what was invited is not inside it */
	REFUSED("10.0.0.0/15", "192.0.2.11",
		"prefix 10.0.0.0/15 is outside the invitation's prefixes");
	REFUSED("198.51.100.0/24", NULL,
		"prefix 198.51.100.0/24 is outside the invitation's prefixes");
	/* an empty list: nothing may be announced */
	gw1.n_prefixes = 0;
	REFUSED("10.1.0.0/24", NULL, "prefix 10.1.0.0/24 is outside the invitation's prefixes");
	ALLOWED(NULL, NULL);
	/* no list (schema 1's records): any prefix the fixed rules allow */
	gw1.has_prefixes = false;
	ALLOWED("198.51.100.0/24", "192.0.2.11");
}

static void t_fixed(void)
{
	setup();
	/* length 0, whatever the invitation says (and with no list) */
	gw1.prefixes[0] = P("0.0.0.0/0");
	REFUSED("0.0.0.0/0", NULL, "prefix 0.0.0.0/0 has length 0: never routed into a VPN");
	gw1.has_prefixes = false;
	REFUSED("::/0", NULL, "prefix ::/0 has length 0: never routed into a VPN");
	REFUSED("10.0.0.0/8", NULL, "prefix 10.0.0.0/8 overlaps the control prefix 10.255.0.0/16");
	REFUSED("10.255.0.0/16", NULL,
		"prefix 10.255.0.0/16 overlaps the control prefix 10.255.0.0/16");
	REFUSED("10.255.7.0/24", NULL,
		"prefix 10.255.7.0/24 overlaps the control prefix 10.255.0.0/16");
	REFUSED("10.1.0.0/24,192.0.2.1/32", NULL,
		"prefix 192.0.2.1/32 covers the manager's endpoint 192.0.2.1");
	REFUSED("192.0.0.0/8", NULL, "prefix 192.0.0.0/8 covers the manager's endpoint 192.0.2.1");
	REFUSED("192.0.2.12/32", "192.0.2.11",
		"prefix 192.0.2.12/32 covers the endpoint 192.0.2.12 of member 10.255.0.12");
	REFUSED("192.0.2.8/29", "192.0.2.11",
		"prefix 192.0.2.8/29 covers its own endpoint 192.0.2.11");
	REFUSED("10.1.0.0/24", "10.2.0.9",
		"endpoint 10.2.0.9 is inside prefix 10.2.0.0/24 of member 10.255.0.12");
	/* next to them, all is well; the newcomer's own old record is skipped */
	ALLOWED("192.0.2.16/28,198.51.100.0/24", "192.0.2.11");
	ALLOWED("10.1.0.0/24", "192.0.2.11");
	/* no configured manager endpoint */
	{
		struct mgr_policy_in in = { .control_prefix = &ctl_pfx, .gw = &gw1, .id = &gw1_id };
		struct roster_prefix p = P("192.0.2.1/32");
		char why[128];

		EXPECT(mgr_policy_check(&in, &p, 1, NULL, why, sizeof(why)) == 0);
	}
}

static void t_pin(void)
{
	struct roster_addr a = A("192.0.2.13"), b = A("192.0.2.99");
	char why[128];

	EXPECT(mgr_policy_pin(&a, &a, why, sizeof(why)) == 0);
	EXPECT(mgr_policy_pin(NULL, &a, why, sizeof(why)) == 0);
	EXPECT(mgr_policy_pin(&b, &a, why, sizeof(why)) == -EPERM);
	EXPECT(!strcmp(why, "endpoint 192.0.2.99 is not 192.0.2.13, the address the control "
		       "tunnel comes from"));
	EXPECT(mgr_policy_pin(&b, NULL, why, sizeof(why)) == -EPERM);
	EXPECT(strstr(why, "endpoint 192.0.2.99 cannot be checked"));
}

static void t_config(void)
{
	static struct rd_config c;
	char err[256];
	const char *base = "[manager]\nendpoint = 192.0.2.1\n";
	char text[256];

	EXPECT(rd_config_parse(base, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.endpoint_check == RD_ENDPOINT_PINNED);
	snprintf(text, sizeof(text), "%sendpoint-check = any\n", base);
	EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.endpoint_check == RD_ENDPOINT_ANY);
	snprintf(text, sizeof(text), "%sendpoint-check = pinned\n", base);
	EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.endpoint_check == RD_ENDPOINT_PINNED);
	snprintf(text, sizeof(text), "%sendpoint-check = maybe\n", base);
	EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == -EINVAL);
	EXPECT(strstr(err, "endpoint-check: expected pinned or any, got 'maybe'"));
}

/* ---- the store ---------------------------------------------------------- */

static char root[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static struct rd_store *sopen(const char *name)
{
	struct rd_store *s = NULL;
	char dir[128], err[512];
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	ret = rd_store_open(dir, &s, err, sizeof(err));
	if (ret)
		printf("# open %s: %d %s\n", dir, ret, err);
	EXPECT(ret == 0 && s);
	return s;
}

static int sql(struct rd_store *s, const char *q)
{
	int rc = sqlite3_exec(rd_store_sqlite(s), q, NULL, NULL, NULL);

	if (rc)
		printf("# %s: %s\n", q, sqlite3_errmsg(rd_store_sqlite(s)));
	return rc;
}

static void t_store_lists(void)
{
	struct rd_store *s = sopen("lists");
	struct rd_entry inv = { 0 }, gw = { 0 }, *e = NULL;
	uint8_t old[32];
	unsigned int n = 0;
	bool had;

	if (!s)
		return;
	inv.id = A("10.255.0.11");
	memset(inv.key, 0xa1, 32);
	inv.n_vpns = 1;
	inv.vpns[0] = 7;
	inv.has_prefixes = true;
	inv.n_prefixes = 2;
	inv.prefixes[0] = P("10.1.0.0/16");
	inv.prefixes[1] = P("fd00:1::/48");
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].has_prefixes &&
		       rd_prefixes_same(e[0].prefixes, e[0].n_prefixes, inv.prefixes, 2));
	free(e);
	/* the enrolled gateway keeps the invitation's list */
	gw.id = inv.id;
	memset(gw.key, 0xb2, 32);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	EXPECT(gw.has_prefixes && gw.n_prefixes == 2);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].has_prefixes &&
		       rd_prefixes_same(e[0].prefixes, e[0].n_prefixes, inv.prefixes, 2));
	free(e);
	/* an empty list stays a list: not the same as none */
	inv.id = A("10.255.0.12");
	memset(inv.key, 0xc3, 32);
	inv.n_prefixes = 0;
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].has_prefixes && e[0].n_prefixes == 0);
	free(e);
	/* a malformed list is refused and changes nothing */
	inv.n_prefixes = 1;
	inv.prefixes[0].len = 33;
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == -EINVAL);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	free(e);
	rd_store_close(s);
}

/* A roster.db of schema 1 (gateways and invitations without prefixes)
 * opens, keeps every record, and its records have no list. */
static void t_store_migrate(void)
{
	struct rd_store *s = sopen("v1");
	struct rd_entry inv = { 0 }, *e = NULL;
	unsigned int n = 0;
	sqlite3_stmt *st;

	if (!s)
		return;
	/* Make it what schema 1 wrote: the tables without the columns. */
	EXPECT(sql(s, "BEGIN;"
		   "DROP TABLE gateways; DROP TABLE invites; DROP TABLE revoked;"
		   "CREATE TABLE gateways (id BLOB PRIMARY KEY NOT NULL, key BLOB NOT NULL,"
		   " vpns TEXT NOT NULL) WITHOUT ROWID;"
		   "CREATE TABLE invites (id BLOB NOT NULL, key BLOB NOT NULL, vpns TEXT NOT NULL,"
		   " expiry INTEGER NOT NULL, PRIMARY KEY (id, key)) WITHOUT ROWID;"
		   "INSERT INTO gateways VALUES (x'0aff000b', zeroblob(32), '7,9');"
		   "INSERT INTO invites VALUES (x'0aff000c', x'" "0101010101010101010101010101010101"
		   "010101010101010101010101010101', '7', 0);"
		   "UPDATE meta SET value = 1 WHERE key = 'schema';"
		   "COMMIT;") == SQLITE_OK);
	rd_store_close(s);
	s = sopen("v1");
	if (!s)
		return;
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(!e[0].has_prefixes && e[0].n_vpns == 2 && e[0].vpns[1] == 9);
	free(e);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(!e[0].has_prefixes && e[0].n_vpns == 1 && e[0].key[0] == 1);
	free(e);
	EXPECT(sqlite3_prepare_v2(rd_store_sqlite(s),
				  "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) == 0);
	EXPECT(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == RD_STORE_SCHEMA);
	sqlite3_finalize(st);
	/* the migrated store takes lists */
	inv.id = A("10.255.0.13");
	memset(inv.key, 0xd4, 32);
	inv.n_vpns = 1;
	inv.vpns[0] = 7;
	inv.has_prefixes = true;
	inv.n_prefixes = 1;
	inv.prefixes[0] = P("10.3.0.0/24");
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	rd_store_close(s);
	/* and opens again without migrating twice */
	s = sopen("v1");
	if (!s)
		return;
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 2);
	free(e);
	rd_store_close(s);
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR;
	snprintf(root, sizeof(root), "/tmp/mgr-policy-test.XXXXXX");
	if (!mkdtemp(root))
		return perror("mkdtemp"), 1;
	printf("KTAP version 1\n1..7\n");
	run("policy: prefix containment and overlap", t_covers);
	run("policy: a JOIN_REQ's prefixes inside the invitation's list", t_invitation);
	run("policy: length 0, control prefix, underlay endpoints refused whatever the list",
	    t_fixed);
	run("policy: pinned endpoint is the control tunnel's address", t_pin);
	run("policy: endpoint-check = pinned (default) | any", t_config);
	run("store: invitation and gateway prefix lists", t_store_lists);
	run("store: a schema 1 roster.db migrates without loss", t_store_migrate);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
