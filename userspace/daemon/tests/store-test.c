// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd store unit tests (store-sqlite.c through store.h): durability
 * across reopen, compare-and-set, the membership and enrolment records,
 * sessions, the import of the old text files, change detection between
 * handles, backups, and a SIGKILLed writer. KTAP; needs no privileges.
 *
 *   store-test            run the tests
 *   store-test seed DIR   create a store in DIR with VPN 7 at generation 3
 *                         (2 members) and print its identity, for
 *                         daemon-cli.sh's `rosterd backup` cases
 *   store-test bench DIR  time rd_store_commit (MEMBER_PUT) with
 *                         synchronous=FULL and OFF at 1 000 and 10 000
 *                         members, in DIR (a benchmark: build without
 *                         SANITIZE, `make tests/store-test`)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "util.h"
#include "netif.h"
#include "store.h"
#include "store-sqlite.h"

#include "unit.h"

static char root[64];


/* ---- helpers --------------------------------------------------------- */

static const char *newdir(const char *name)
{
	static char bufs[4][128];
	static unsigned int k;
	char *b = bufs[k++ % 4];

	snprintf(b, 128, "%s/%s", root, name);
	return b;
}

static struct rd_store *sopen(const char *dir)
{
	struct rd_store *s = NULL;
	char err[512];
	int ret = rd_store_open(dir, &s, err, sizeof(err));

	if (ret)
		printf("# open %s: %d %s\n", dir, ret, err);
	EXPECT(ret == 0 && s);
	return s;
}

static void addr4(struct roster_addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	host = htonl(host);
	memcpy(a->addr, &host, 4);
}

/* A member using every field, distinct for (i, g). */
static void mk_member(struct roster_member *m, uint32_t i, uint64_t g, unsigned int np)
{
	memset(m, 0, sizeof(*m));
	addr4(&m->id, 0x0a000000 | i);
	m->has_key = true;
	for (int k = 0; k < 32; k++)
		m->key[k] = (uint8_t)(i * 7 + g + (uint64_t)k);
	m->has_endpoint = i % 3 != 0;
	if (m->has_endpoint) {
		if (i % 2) {
			addr4(&m->endpoint, 0xc0000200 | (i & 0xff));
		} else {
			m->endpoint.family = AF_INET6;
			inet_pton(AF_INET6, "2001:db8::1", m->endpoint.addr);
			m->endpoint.addr[15] = (uint8_t)i;
		}
		m->port = (uint16_t)(51800 + i);
	}
	m->n_prefixes = np;
	for (unsigned int p = 0; p < np; p++) {
		struct roster_prefix *x = &m->prefixes[p];

		if (p % 2) {
			x->addr.family = AF_INET6;
			inet_pton(AF_INET6, "2001:db8:100::", x->addr.addr);
			x->addr.addr[4] = (uint8_t)i;
			x->addr.addr[5] = (uint8_t)p;
			x->len = 48;
		} else {
			addr4(&x->addr, 0x0b000000 | (i & 0xff) << 16 | p << 8);
			x->len = 24;
		}
	}
	m->join_time = 1700000000 + i;
	m->join_generation = g;
}

static bool member_eq(const struct roster_member *a, const struct roster_member *b)
{
	if (!rd_addr_eq(&a->id, &b->id) || a->has_key != b->has_key ||
	    a->has_endpoint != b->has_endpoint || a->n_prefixes != b->n_prefixes ||
	    a->join_time != b->join_time || a->join_generation != b->join_generation)
		return false;
	if (a->has_key && memcmp(a->key, b->key, 32))
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || a->port != b->port))
		return false;
	for (unsigned int i = 0; i < a->n_prefixes; i++)
		if (!rd_prefix_eq(&a->prefixes[i], &b->prefixes[i]))
			return false;
	return true;
}

static bool vpn_eq(const struct rd_store_vpn *a, const struct rd_store_vpn *b)
{
	if (a->id != b->id || a->generation != b->generation || a->flags != b->flags ||
	    a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (!member_eq(&a->members[i], &b->members[i]))
			return false;
	return true;
}

static bool loads_eq(struct rd_store *a, struct rd_store *b)
{
	struct rd_store_vpn *va, *vb;
	unsigned int na, nb;
	bool eq;

	if (rd_store_load(a, &va, &na) || rd_store_load(b, &vb, &nb))
		return false;
	eq = na == nb;
	for (unsigned int i = 0; eq && i < na; i++)
		eq = vpn_eq(&va[i], &vb[i]);
	rd_store_vpns_free(va, na);
	rd_store_vpns_free(vb, nb);
	return eq;
}

static int commit_put(struct rd_store *s, uint32_t vpn, uint64_t prev, uint64_t gen,
		      const struct roster_member *m)
{
	struct rd_store_change c = {
		.op = RD_STORE_MEMBER_PUT, .vpn = vpn, .prev_gen = prev, .gen = gen, .member = m,
	};

	return rd_store_commit(s, &c);
}

static int commit_op(struct rd_store *s, enum rd_store_op op, uint32_t vpn, uint64_t prev,
		     uint64_t gen, uint32_t flags)
{
	struct rd_store_change c = {
		.op = op, .vpn = vpn, .prev_gen = prev, .gen = gen, .vpn_flags = flags,
	};

	return rd_store_commit(s, &c);
}

static int commit_del(struct rd_store *s, uint32_t vpn, uint64_t prev, uint64_t gen, uint32_t i)
{
	struct rd_store_change c = {
		.op = RD_STORE_MEMBER_DEL, .vpn = vpn, .prev_gen = prev, .gen = gen,
	};

	addr4(&c.id, 0x0a000000 | i);
	return rd_store_commit(s, &c);
}

static int commit_replace(struct rd_store *s, uint32_t vpn, uint64_t prev, uint64_t gen,
			  const struct roster_member *m, unsigned int n)
{
	struct rd_store_change c = {
		.op = RD_STORE_VPN_REPLACE, .vpn = vpn, .prev_gen = prev, .gen = gen,
		.vpn_flags = 0, .members = m, .n = n,
	};

	return rd_store_commit(s, &c);
}

static uint64_t gen_of(struct rd_store *s, uint32_t vpn)
{
	struct rd_store_vpn v;
	uint64_t g;

	if (rd_store_vpn_get(s, vpn, &v))
		return 0;
	g = v.generation;
	rd_store_vpn_release(&v);
	return g;
}

static void entry(struct rd_entry *e, uint32_t id, uint8_t keyb, uint64_t expiry,
		  unsigned int nv, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	addr4(&e->id, id);
	memset(e->key, keyb, 32);
	e->expiry = expiry;
	va_start(ap, nv);
	for (unsigned int i = 0; i < nv; i++)
		e->vpns[i] = va_arg(ap, uint32_t);
	va_end(ap);
	e->n_vpns = nv;
}

static int sql_exec(struct rd_store *s, const char *q)
{
	return sqlite3_exec(rd_store_sqlite(s), q, NULL, NULL, NULL);
}

static bool integrity_ok(struct rd_store *s)
{
	sqlite3_stmt *st;
	bool ok;

	if (sqlite3_prepare_v2(rd_store_sqlite(s), "PRAGMA integrity_check", -1, &st, NULL))
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW &&
	     !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	return ok;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	mkdir(dir, 0700);
	EXPECT(rd_write_file(p, text, 0600) == 0);
}

static bool exists(const char *dir, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return !access(p, F_OK);
}

/* ---- tests ----------------------------------------------------------- */

static void t_create_reopen(void)
{
	const char *d = newdir("create/sub");
	struct rd_store *s = sopen(d), *s2;
	uint8_t id[16], zero[16] = { 0 };
	struct roster_member m;
	struct rd_store_vpn v;
	struct rd_entry inv;
	char hex[33], path[256];
	struct stat sb;

	if (!s)
		return;
	memcpy(id, rd_store_identity(s), 16);
	EXPECT(memcmp(id, zero, 16));
	rd_store_identity_hex(s, hex);
	EXPECT(strlen(hex) == 32 && strspn(hex, "0123456789abcdef") == 32);
	EXPECT(strstr(rd_store_describe(s), "SQLite database") &&
	       strstr(rd_store_describe(s), "/create/sub/roster.db"));
	EXPECT(!stat(d, &sb) && (sb.st_mode & 0777) == 0700);
	snprintf(path, sizeof(path), "%s/roster.db", d);
	EXPECT(!stat(path, &sb) && (sb.st_mode & 0777) == 0600);
	mk_member(&m, 5, 2, 3);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, ROSTER_VPN_F_NESTED_PREFIXES) == 0);
	EXPECT(commit_put(s, 7, 1, 2, &m) == 0);
	entry(&inv, 0x0aff000b, 0x11, 1234, 2, 7, 9);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	rd_store_close(s);

	s2 = sopen(d);
	if (!s2)
		return;
	EXPECT(!memcmp(rd_store_identity(s2), id, 16));
	EXPECT(rd_store_vpn_get(s2, 7, &v) == 0);
	EXPECT(v.generation == 2 && v.flags == ROSTER_VPN_F_NESTED_PREFIXES && v.n == 1 &&
	       member_eq(&v.members[0], &m));
	rd_store_vpn_release(&v);
	{
		struct rd_entry *e;
		unsigned int n;

		EXPECT(rd_store_invites(s2, &e, &n) == 0 && n == 1);
		if (n == 1)
			EXPECT(rd_addr_eq(&e[0].id, &inv.id) && !memcmp(e[0].key, inv.key, 32) &&
			       e[0].n_vpns == 2 && e[0].vpns[0] == 7 && e[0].vpns[1] == 9 &&
			       e[0].expiry == 1234);
		free(e);
	}
	/* WAL is the store's, not the connection's: it persists. */
	{
		sqlite3_stmt *st;

		sqlite3_prepare_v2(rd_store_sqlite(s2), "PRAGMA journal_mode", -1, &st, NULL);
		EXPECT(sqlite3_step(st) == SQLITE_ROW &&
		       !strcmp((const char *)sqlite3_column_text(st, 0), "wal"));
		sqlite3_finalize(st);
		sqlite3_prepare_v2(rd_store_sqlite(s2), "PRAGMA synchronous", -1, &st, NULL);
		EXPECT(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2);
		sqlite3_finalize(st);
	}
	rd_store_close(s2);
	/* Another store, another identity. */
	s2 = sopen(newdir("create2"));
	if (s2)
		EXPECT(memcmp(rd_store_identity(s2), id, 16));
	rd_store_close(s2);
}

static void t_cas(void)
{
	struct rd_store *s = sopen(newdir("cas"));
	struct roster_member m, m2;
	struct rd_store_vpn before, after;

	if (!s)
		return;
	mk_member(&m, 1, 2, 1);
	mk_member(&m2, 2, 3, 2);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(commit_put(s, 7, 1, 2, &m) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &before) == 0);
	/* Behind, ahead, "absent" while present: refused, nothing written. */
	EXPECT(commit_put(s, 7, 1, 3, &m2) == -ESTALE);
	EXPECT(strstr(rd_store_errmsg(s), "VPN 7") && strstr(rd_store_errmsg(s), "generation 2"));
	EXPECT(commit_put(s, 7, 3, 4, &m2) == -ESTALE);
	EXPECT(commit_put(s, 7, 0, 3, &m2) == -ESTALE);
	EXPECT(commit_del(s, 7, 5, 6, 1) == -ESTALE);
	EXPECT(commit_replace(s, 7, 9, 10, &m2, 1) == -ESTALE);
	EXPECT(commit_op(s, RD_STORE_VPN_DEL, 7, 1, 0, 0) == -ESTALE);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 5, 0) == -ESTALE);
	/* Present expected where absent. */
	EXPECT(commit_put(s, 8, 1, 2, &m2) == -ESTALE);
	EXPECT(strstr(rd_store_errmsg(s), "no such VPN"));
	EXPECT(rd_store_vpn_get(s, 8, &after) == -ENOENT);
	EXPECT(rd_store_vpn_get(s, 7, &after) == 0);
	EXPECT(vpn_eq(&before, &after));
	rd_store_vpn_release(&after);
	/* Malformed changes: refused before anything is read. */
	EXPECT(commit_put(s, 7, 2, 0, &m2) == -EINVAL);
	EXPECT(commit_put(s, 7, 2, 1, &m2) == -EINVAL && strstr(rd_store_errmsg(s), "go back"));
	EXPECT(commit_put(s, 0, 2, 3, &m2) == -EINVAL);
	EXPECT(commit_put(s, 7, 2, 3, NULL) == -EINVAL);
	m2.n_prefixes = ROSTER_PREFIX_MAX + 1;
	EXPECT(commit_put(s, 7, 2, 3, &m2) == -EINVAL);
	m2.n_prefixes = 1;
	m2.prefixes[0].len = 33;
	EXPECT(commit_put(s, 7, 2, 3, &m2) == -EINVAL);
	mk_member(&m2, 2, 3, 2);
	{
		/* A duplicate inside a replacement fails the whole change. */
		struct roster_member two[2] = { m2, m2 };

		EXPECT(commit_replace(s, 7, 2, 3, two, 2) == -EINVAL);
		EXPECT(strstr(rd_store_errmsg(s), "appears twice"));
	}
	EXPECT(rd_store_vpn_get(s, 7, &after) == 0);
	EXPECT(vpn_eq(&before, &after));
	rd_store_vpn_release(&after);
	/* The right generation, and ANY_GEN, pass. */
	EXPECT(commit_put(s, 7, 2, 3, &m2) == 0);
	EXPECT(commit_put(s, 7, RD_STORE_ANY_GEN, 9, &m) == 0 && gen_of(s, 7) == 9);
	rd_store_vpn_release(&before);
	rd_store_close(s);
}

static void t_members(void)
{
	struct rd_store *s = sopen(newdir("members"));
	struct roster_member a, b, b2;
	struct rd_store_vpn v;

	if (!s)
		return;
	mk_member(&a, 1, 2, ROSTER_PREFIX_MAX);	/* every prefix slot, both families */
	mk_member(&b, 2, 3, 0);
	b.has_key = false;
	b.has_endpoint = false;
	b.port = 0;
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(commit_put(s, 7, 1, 2, &a) == 0);
	EXPECT(commit_put(s, 7, 2, 3, &b) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.n == 2 && v.generation == 3);
	if (v.n == 2)
		EXPECT(member_eq(&v.members[0], &a) && member_eq(&v.members[1], &b));
	rd_store_vpn_release(&v);
	/* Replace by id: the new fields, not a second row. */
	mk_member(&b2, 2, 4, 5);
	EXPECT(commit_put(s, 7, 3, 4, &b2) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.n == 2 && v.generation == 4);
	if (v.n == 2)
		EXPECT(member_eq(&v.members[1], &b2) && !member_eq(&v.members[1], &b));
	rd_store_vpn_release(&v);
	/* Delete; deleting an absent member still moves the generation. */
	EXPECT(commit_del(s, 7, 4, 5, 1) == 0);
	EXPECT(commit_del(s, 7, 5, 6, 99) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.n == 1 && v.generation == 6);
	if (v.n == 1)
		EXPECT(member_eq(&v.members[0], &b2));
	rd_store_vpn_release(&v);
	/* A member of an absent VPN cannot be deleted; a put creates it. */
	EXPECT(commit_del(s, 8, RD_STORE_ANY_GEN, 2, 1) == -ENOENT);
	EXPECT(commit_put(s, 8, 0, 2, &a) == 0);
	EXPECT(rd_store_vpn_get(s, 8, &v) == 0 && v.n == 1 && v.generation == 2);
	rd_store_vpn_release(&v);
	rd_store_close(s);
}

static void t_vpns(void)
{
	struct rd_store *s = sopen(newdir("vpns"));
	struct roster_member ms[50];
	struct rd_store_vpn v;

	if (!s)
		return;
	for (unsigned int i = 0; i < 50; i++)
		mk_member(&ms[i], i + 1, 10, i % 4);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 3, ROSTER_VPN_F_NESTED_PREFIXES) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 3 && v.n == 0 &&
	       v.flags == ROSTER_VPN_F_NESTED_PREFIXES && !v.members);
	rd_store_vpn_release(&v);
	/* A generation moves; the flags are the creation's. */
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 3, 5, 0) == 0);
	EXPECT(commit_put(s, 7, 5, 6, &ms[0]) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 5 + 1 && v.n == 1 &&
	       v.flags == ROSTER_VPN_F_NESTED_PREFIXES);
	rd_store_vpn_release(&v);
	/* Replace: exactly the new set, the old member gone. */
	EXPECT(commit_replace(s, 7, 6, 10, ms + 1, 49) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 10 && v.n == 49);
	for (unsigned int i = 0; i < v.n && i < 49; i++)
		EXPECT(member_eq(&v.members[i], &ms[i + 1]));
	rd_store_vpn_release(&v);
	EXPECT(commit_replace(s, 7, 10, 11, NULL, 0) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 11 && v.n == 0);
	rd_store_vpn_release(&v);
	/* Replace creates an absent VPN (the restore of a kernel's VPN). */
	EXPECT(commit_replace(s, 9, 0, 4, ms, 3) == 0);
	EXPECT(rd_store_vpn_get(s, 9, &v) == 0 && v.generation == 4 && v.n == 3);
	rd_store_vpn_release(&v);
	/* Delete takes the members along; deleting again is no error. */
	EXPECT(commit_op(s, RD_STORE_VPN_DEL, 9, 4, 0, 0) == 0);
	EXPECT(rd_store_vpn_get(s, 9, &v) == -ENOENT);
	EXPECT(commit_op(s, RD_STORE_VPN_DEL, 9, 0, 0, 0) == 0);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 9, 0, 1, 0) == 0);
	EXPECT(rd_store_vpn_get(s, 9, &v) == 0 && v.n == 0);
	rd_store_vpn_release(&v);
	rd_store_close(s);
}

static void t_load_order(void)
{
	struct rd_store *s = sopen(newdir("order"));
	static const uint32_t vpns[] = { 900, 3, 4000000000u, 70 };
	static const uint32_t ids[] = { 0x300, 0x2, 0xffffff, 0x40, 0x1 };
	struct rd_store_vpn *v;
	unsigned int n;

	if (!s)
		return;
	EXPECT(rd_store_load(s, &v, &n) == 0 && n == 0 && !v);
	for (unsigned int i = 0; i < 4; i++) {
		EXPECT(commit_op(s, RD_STORE_VPN_PUT, vpns[i], 0, 1, i) == 0);
		for (unsigned int k = 0; k < 5; k++) {
			struct roster_member m;

			mk_member(&m, ids[(k + i) % 5], 2 + k, k);
			EXPECT(commit_put(s, vpns[i], 1 + k, 2 + k, &m) == 0);
		}
	}
	EXPECT(rd_store_load(s, &v, &n) == 0 && n == 4);
	for (unsigned int i = 0; i < n; i++) {
		EXPECT(v[i].n == 5 && v[i].generation == 6);
		if (i)
			EXPECT(v[i - 1].id < v[i].id);
		for (unsigned int k = 1; k < v[i].n; k++)
			EXPECT(memcmp(v[i].members[k - 1].id.addr, v[i].members[k].id.addr, 4) < 0);
	}
	if (n == 4)
		EXPECT(v[0].id == 3 && v[1].id == 70 && v[2].id == 900 && v[3].id == 4000000000u &&
		       v[3].flags == 2);
	rd_store_vpns_free(v, n);
	/* The list without members: the same VPNs, generations and flags. */
	EXPECT(rd_store_vpn_list(s, &v, &n) == 0 && n == 4);
	for (unsigned int i = 0; i < n; i++)
		EXPECT(v[i].n == 0 && !v[i].members && v[i].generation == 6);
	if (n == 4)
		EXPECT(v[0].id == 3 && v[1].id == 70 && v[2].id == 900 && v[3].id == 4000000000u &&
		       v[3].flags == 2);
	rd_store_vpns_free(v, n);
	rd_store_close(s);
}

static void t_enrol(void)
{
	struct rd_store *s = sopen(newdir("enrol"));
	struct rd_entry inv, gw, *e;
	uint8_t invkey[32], old[32];
	unsigned int n;
	bool had = true;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 5000, 2, 7, 9);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	memcpy(invkey, inv.key, 32);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, invkey, old, &had) == 0 && !had);
	/* The VPNs are the invitation's. */
	EXPECT(gw.n_vpns == 2 && gw.vpns[0] == 7 && gw.vpns[1] == 9 && gw.expiry == 0);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 0 && !e);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(!memcmp(e[0].key, gw.key, 32) && e[0].n_vpns == 2 && e[0].vpns[1] == 9);
	free(e);
	/* Consumed: a second redemption finds nothing and changes nothing. */
	entry(&gw, 0x0aff000b, 0xc3, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, invkey, old, &had) == -ENOENT && !had);
	EXPECT(strstr(rd_store_errmsg(s), "no invitation for 10.255.0.11"));
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0xb2);
	free(e);
	/* A wrong key for a live invitation is no invitation either. */
	entry(&inv, 0x0aff000b, 0xd4, 5000, 1, 11);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	EXPECT(rd_store_enrol(s, &gw, invkey, old, &had) == -ENOENT);
	/* Re-enrolment: the new key, the old one reported. */
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0 && had && old[0] == 0xb2);
	EXPECT(gw.n_vpns == 1 && gw.vpns[0] == 11);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0xc3 && e[0].n_vpns == 1 && e[0].vpns[0] == 11);
	free(e);
	/* Gateways in ascending id. */
	entry(&inv, 0x0aff0002, 0xe5, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff0002, 0xf6, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0 && !had);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 2);
	if (n == 2)
		EXPECT(e[0].key[0] == 0xf6 && e[1].key[0] == 0xc3);
	free(e);
	rd_store_close(s);
}

static void t_invites(void)
{
	struct rd_store *s = sopen(newdir("invites"));
	struct rd_entry inv, *e;
	uint8_t old[4][32], keys[4][32];
	unsigned int n, rep = 9;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0x01, 100, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, old, 4, &rep) == 0 && rep == 0);
	entry(&inv, 0x0aff000b, 0x02, 200, 1, 8);
	EXPECT(rd_store_invite_put(s, &inv, old, 4, &rep) == 0 && rep == 1 && old[0][0] == 0x01);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0x02 && e[0].vpns[0] == 8 && e[0].expiry == 200);
	free(e);
	entry(&inv, 0x0aff000c, 0x03, 300, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, old, 4, &rep) == 0 && rep == 0);
	entry(&inv, 0x0aff000d, 0x04, 0, 1, 7);		/* never expires */
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, &rep) == 0);
	/* Bad invitations are refused. */
	entry(&inv, 0x0aff000e, 0x05, 1, 0);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == -EINVAL);
	/* Expiry: <= now goes, in bounded batches; 0 stays. */
	EXPECT(rd_store_invites_expire(s, 199, keys, 4, &n) == 0 && n == 0);
	EXPECT(rd_store_invites_expire(s, 300, keys, 1, &n) == 0 && n == 1 && keys[0][0] == 0x02);
	EXPECT(rd_store_invites_expire(s, 300, keys, 4, &n) == 0 && n == 1 && keys[0][0] == 0x03);
	EXPECT(rd_store_invites_expire(s, UINT64_MAX, keys, 4, &n) == 0 && n == 0);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0x04);
	free(e);
	rd_store_close(s);
}

/* Revocation: the enrolment and the invitation go, in one transaction,
 * and neither key is ever accepted again. */
static void t_revoke(void)
{
	struct rd_store *s = sopen(newdir("revoke"));
	struct rd_entry inv, gw, *e;
	struct roster_addr id;
	uint8_t keys[4][32], old[32];
	unsigned int n = 9;
	bool had;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	/* enrolled, and invited again (a re-invitation under way) */
	entry(&inv, 0x0aff000b, 0xc3, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&inv, 0x0aff000c, 0xd4, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	addr4(&id, 0x0aff000b);
	EXPECT(rd_store_key_revoked(s, gw.key) == 0);
	EXPECT(rd_store_revoke(s, &id, keys, 4, &n) == 0 && n == 2);
	EXPECT(keys[0][0] == 0xb2 && keys[1][0] == 0xc3);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 0);
	free(e);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0xd4);
	free(e);
	EXPECT(rd_store_key_revoked(s, gw.key) == 1);
	/* Gone: a second revocation says so and changes nothing. */
	EXPECT(rd_store_revoke(s, &id, keys, 4, &n) == -ENOENT && n == 0);
	EXPECT(strstr(rd_store_errmsg(s), "10.255.0.11 is neither enrolled nor invited"));
	/* A revoked key comes back neither as an invitation nor as an
	 * enrolment; a fresh one does. */
	entry(&inv, 0x0aff000b, 0xb2, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == -EKEYREVOKED);
	EXPECT(strstr(rd_store_errmsg(s), "revoked"));
	entry(&inv, 0x0aff000b, 0xe5, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xc3, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == -EKEYREVOKED);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 2);	/* not consumed */
	free(e);
	entry(&gw, 0x0aff000b, 0xf6, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	/* a pending invitation alone is revoked the same way */
	addr4(&id, 0x0aff000c);
	EXPECT(rd_store_revoke(s, &id, keys, 1, &n) == 0 && n == 1 && keys[0][0] == 0xd4);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 0);
	free(e);
	rd_store_close(s);
}

static void t_rekey(void)
{
	struct rd_store *s = sopen(newdir("rekey"));
	struct rd_entry inv, gw, *e;
	uint8_t k_old[32], k_new[32], k_other[32], old[32];
	unsigned int n;
	bool had;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	entry(&inv, 0x0aff000c, 0xa2, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000c, 0xc3, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	memset(k_old, 0xb2, 32);
	memset(k_new, 0xd4, 32);
	memset(k_other, 0xc3, 32);
	addr4(&gw.id, 0x0aff000b);
	/* another gateway's key, the same key, a stranger's id: refused */
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_old, k_other) == -EEXIST);
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_old, k_old) == -EINVAL);
	addr4(&inv.id, 0x0aff00ff);
	EXPECT(rd_store_gateway_rekey(s, &inv.id, k_old, k_new) == -ENOENT);
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_other, k_new) == -ENOENT);
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_old, k_new) == 0);
	/* retried: already done */
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_old, k_new) == 0);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 2);
	if (n == 2)
		EXPECT(e[0].key[0] == 0xd4 && e[0].n_vpns == 1 && e[1].key[0] == 0xc3);
	free(e);
	/* the old key is revoked: not even back through a rotation */
	EXPECT(rd_store_key_revoked(s, k_old) == 1);
	EXPECT(rd_store_gateway_rekey(s, &gw.id, k_new, k_old) == -EKEYREVOKED);
	rd_store_close(s);
}

static void t_seen(void)
{
	const char *d = newdir("seen");
	struct rd_store *s = sopen(d);
	struct rd_entry inv, gw, *e;
	struct roster_addr ids[3];
	uint64_t when[3] = { 1000, 2000, 3000 };
	uint8_t old[32];
	unsigned int n;
	bool had;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1 && e[0].last_seen == 0);
	free(e);
	addr4(&ids[0], 0x0aff000b);
	addr4(&ids[1], 0x0aff00ff);	/* unknown: skipped */
	ids[2] = ids[0];
	EXPECT(rd_store_gateways_seen(s, ids, when, 3) == 0);
	when[0] = 500;			/* never backwards */
	EXPECT(rd_store_gateways_seen(s, ids, when, 1) == 0);
	rd_store_close(s);
	s = sopen(d);
	if (!s)
		return;
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1 && e[0].last_seen == 3000);
	free(e);
	rd_store_close(s);
}

/* A roster.db of schema 2 opens as 3: every record kept, none seen, no
 * key revoked. */
static void t_migrate3(void)
{
	const char *d = newdir("migrate3");
	struct rd_store *s = sopen(d);
	struct rd_entry inv, gw, *e;
	uint8_t old[32];
	unsigned int n;
	bool had;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	EXPECT(sql_exec(s, "BEGIN; DROP TABLE revoked;"
			"CREATE TABLE g2 (id BLOB PRIMARY KEY NOT NULL, key BLOB NOT NULL,"
			" vpns TEXT NOT NULL, prefixes BLOB) WITHOUT ROWID;"
			"INSERT INTO g2 SELECT id, key, vpns, prefixes FROM gateways;"
			"DROP TABLE gateways; ALTER TABLE g2 RENAME TO gateways;"
			"UPDATE meta SET value = 2 WHERE key = 'schema'; COMMIT;") == SQLITE_OK);
	rd_store_close(s);
	s = sopen(d);
	if (!s)
		return;
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	if (n == 1)
		EXPECT(e[0].key[0] == 0xb2 && e[0].last_seen == 0 && e[0].vpns[0] == 7);
	free(e);
	EXPECT(rd_store_key_revoked(s, gw.key) == 0);
	EXPECT(rd_store_revoke(s, &gw.id, &old, 1, &n) == 0 && n == 1);
	EXPECT(rd_store_key_revoked(s, gw.key) == 1);
	EXPECT(integrity_ok(s));
	rd_store_close(s);
}

static void t_session(void)
{
	const char *d = newdir("session");
	struct rd_store *s = sopen(d);
	uint32_t a = 0, b = 0, c = 0, now = (uint32_t)time(NULL);

	if (!s)
		return;
	EXPECT(rd_store_session_next(s, &a) == 0 && a >= now);
	EXPECT(rd_store_session_next(s, &b) == 0 && b > a);
	rd_store_close(s);
	s = sopen(d);
	if (!s)
		return;
	EXPECT(rd_store_session_next(s, &c) == 0 && c > b && c >= (uint32_t)time(NULL));
	/* Ahead of the clock (a clock set back): still grows. */
	{
		char q[96];

		snprintf(q, sizeof(q), "UPDATE meta SET value = %u WHERE key = 'session'",
			 now + 100000);
		EXPECT(sql_exec(s, q) == SQLITE_OK);
	}
	EXPECT(rd_store_session_next(s, &c) == 0 && c == now + 100001);
	rd_store_close(s);
}

static const char gws_text[] =
	"# rosterd gateways: written by rosterd, do not edit while it runs\n"
	"10.255.0.11 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7,9\n"
	"\n"
	"10.255.0.12\tICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8= 7\n";

static void t_import(void)
{
	const char *d = newdir("import");
	struct rd_store *s;
	struct rd_entry *e;
	unsigned int n;
	uint32_t sess = 0;

	write_text(d, "gateways", gws_text);
	write_text(d, "invites",
		   "10.255.0.13 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= 9 4000000000\n"
		   "10.255.0.14 YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8= 7\n");
	write_text(d, "session", "4000000000\n");
	s = sopen(d);
	if (!s)
		return;
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 2);
	if (n == 2)
		EXPECT(e[0].id.addr[3] == 11 && e[0].key[0] == 0 && e[0].key[31] == 31 &&
		       e[0].n_vpns == 2 && e[0].vpns[1] == 9 && e[1].key[0] == 32 &&
		       e[1].n_vpns == 1);
	free(e);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 2);
	if (n == 2)
		EXPECT(e[0].key[0] == 64 && e[0].expiry == 4000000000u && e[0].vpns[0] == 9 &&
		       e[1].key[0] == 96 && e[1].expiry == 0);
	free(e);
	EXPECT(rd_store_session_next(s, &sess) == 0 && sess == 4000000001u);
	EXPECT(!exists(d, "gateways") && !exists(d, "invites") && !exists(d, "session"));
	EXPECT(exists(d, "gateways.imported") && exists(d, "invites.imported") &&
	       exists(d, "session.imported"));
	rd_store_close(s);
	/* Once: files that reappear are not imported into an existing store. */
	write_text(d, "gateways", "10.255.0.99 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7\n");
	s = sopen(d);
	if (!s)
		return;
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 2);
	free(e);
	EXPECT(exists(d, "gateways"));
	rd_store_close(s);
}

static void t_import_bad(void)
{
	static const struct { const char *file, *text, *msg; } cases[] = {
		{ "gateways", "10.255.0.11 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7\n"
			      "# x\n10.255.0.12 notakey 7\n", "gateways: line 3: invalid key" },
		{ "gateways", "10.255.0.11 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7 99\n",
		  "gateways: line 1: expected 'ID PUBKEY" },
		{ "gateways", "10.255.0.11 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7\n"
			      "10.255.0.11 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8= 7\n",
		  "gateways: line 2: duplicate gateway ID" },
		{ "invites", "nope QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= 9 1\n",
		  "invites: line 1: invalid ID" },
		{ "invites", "10.255.0.13 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= 9,0 1\n",
		  "invites: line 1: invalid VPN list" },
		{ "invites", "10.255.0.13 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= 9 1x\n",
		  "invites: line 1: invalid expiry" },
		{ "session", "12\n13\n", "session: line 2: expected one session id" },
		{ "session", "99999999999\n", "session: line 1: invalid session id" },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32], err[512] = "";
		const char *d;
		struct rd_store *s = NULL;
		int ret;

		snprintf(name, sizeof(name), "importbad%u", i);
		d = newdir(name);
		write_text(d, "gateways", gws_text);
		write_text(d, cases[i].file, cases[i].text);
		ret = rd_store_open(d, &s, err, sizeof(err));
		EXPECT(ret == -EINVAL && !s);
		if (!strstr(err, cases[i].msg)) {
			printf("# case %u: '%s' lacks '%s'\n", i, err, cases[i].msg);
			cur_fail = 1;
		}
		EXPECT(strstr(err, d));		/* the full path */
		/* Nothing created, nothing renamed. */
		EXPECT(!exists(d, "roster.db") && !exists(d, "roster.db-wal"));
		EXPECT(exists(d, cases[i].file) && exists(d, "gateways") &&
		       !exists(d, "gateways.imported"));
		rd_store_close(s);
	}
}

static void t_schema(void)
{
	const char *d = newdir("schema");
	struct rd_store *s = sopen(d), *s2 = NULL;
	char err[512] = "";

	if (!s)
		return;
	EXPECT(sql_exec(s, "UPDATE meta SET value = 99 WHERE key = 'schema'") == SQLITE_OK);
	rd_store_close(s);
	EXPECT(rd_store_open(d, &s2, err, sizeof(err)) == -EPROTO && !s2);
	EXPECT(strstr(err, "schema version 99 is newer than this rosterd's (3)"));
	/* Some other SQLite database is not taken over. */
	d = newdir("schema2");
	mkdir(d, 0700);
	{
		sqlite3 *db;
		char p[256];

		snprintf(p, sizeof(p), "%s/roster.db", d);
		EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
		EXPECT(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(db);
	}
	EXPECT(rd_store_open(d, &s2, err, sizeof(err)) == -EINVAL && !s2);
	EXPECT(strstr(err, "not a rosterd store"));
	/* A file that is no database at all. */
	d = newdir("schema3");
	write_text(d, "roster.db", "this is not a database, and longer than a header would be: "
		   "0123456789012345678901234567890123456789012345678901234567890123456789\n");
	EXPECT(rd_store_open(d, &s2, err, sizeof(err)) == -EBADMSG && !s2);
	EXPECT(strstr(err, "roster.db") != NULL);
	/* An empty file (a start that died before its first commit) is a
	 * new store, and the old files are imported into it. */
	d = newdir("schema4");
	write_text(d, "roster.db", "");
	write_text(d, "gateways", gws_text);
	s2 = sopen(d);
	if (s2) {
		struct rd_entry *e;
		unsigned int n;

		EXPECT(rd_store_gateways(s2, &e, &n) == 0 && n == 2);
		free(e);
		EXPECT(exists(d, "gateways.imported"));
	}
	rd_store_close(s2);
}

static void t_changed(void)
{
	const char *d = newdir("changed");
	struct rd_store *a = sopen(d), *b = sopen(d);
	struct rd_entry inv;
	uint32_t sess;

	if (!a || !b)
		goto out;
	EXPECT(!rd_store_changed(a));
	entry(&inv, 0x0aff000b, 0x01, 100, 1, 7);
	EXPECT(rd_store_invite_put(b, &inv, NULL, 0, NULL) == 0);
	EXPECT(rd_store_changed(a));
	EXPECT(!rd_store_changed(a));
	/* Its own commits are not news to a handle. */
	EXPECT(rd_store_session_next(a, &sess) == 0);
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(!rd_store_changed(a));
	EXPECT(rd_store_changed(b));
	/* A refused commit is no change. */
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, 1, 0) == -ESTALE);
	EXPECT(!rd_store_changed(b));
out:
	rd_store_close(a);
	rd_store_close(b);
}

static void t_backup(void)
{
	const char *d = newdir("backup"), *d2 = newdir("backup-copy");
	struct rd_store *s = sopen(d), *c;
	struct roster_member ms[20];
	struct rd_entry inv, *e1, *e2;
	unsigned int n1, n2;
	char path[256];
	struct stat sb;

	if (!s)
		return;
	for (unsigned int i = 0; i < 20; i++)
		mk_member(&ms[i], i + 1, 5, i % 3);
	EXPECT(commit_replace(s, 7, 0, 5, ms, 20) == 0);
	EXPECT(commit_replace(s, 9, 0, 2, ms + 5, 3) == 0);
	entry(&inv, 0x0aff000b, 0x01, 100, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	mkdir(d2, 0700);
	snprintf(path, sizeof(path), "%s/roster.db", d2);
	EXPECT(rd_store_backup(s, path) == 0);
	EXPECT(!stat(path, &sb) && (sb.st_mode & 0777) == 0600);
	EXPECT(!exists(d2, "roster.db-wal") && !exists(d2, "roster.db-journal"));
	/* Never over an existing file, not even an earlier backup. */
	EXPECT(rd_store_backup(s, path) == -EEXIST);
	EXPECT(strstr(rd_store_errmsg(s), "already exists"));
	EXPECT(rd_store_backup(s, "/nonexistent-dir/x.db") == -ENOENT);
	/* A change after the backup is not in it. */
	EXPECT(commit_op(s, RD_STORE_VPN_DEL, 9, 2, 0, 0) == 0);
	c = sopen(d2);
	if (c) {
		EXPECT(!memcmp(rd_store_identity(c), rd_store_identity(s), 16));
		EXPECT(integrity_ok(c));
		EXPECT(gen_of(c, 9) == 2);
		EXPECT(commit_replace(s, 9, 0, 2, ms + 5, 3) == 0);
		EXPECT(loads_eq(s, c));
		EXPECT(rd_store_invites(s, &e1, &n1) == 0 && rd_store_invites(c, &e2, &n2) == 0);
		EXPECT(n1 == 1 && n2 == 1 && !memcmp(e1, e2, sizeof(*e1)));
		free(e1);
		free(e2);
	}
	rd_store_close(c);
	rd_store_close(s);
}

/* ---- crash ----------------------------------------------------------- */

/* The change that makes generation g of VPN 1: mostly single members,
 * every fifth a whole replacement (many rows in one transaction), every
 * eleventh a removal. */
static int crash_change(struct rd_store *s, uint64_t g)
{
	static struct roster_member ms[64];

	if (g == 1)
		return commit_op(s, RD_STORE_VPN_PUT, 1, 0, 1, 0);
	if (g % 5 == 0) {
		unsigned int n = (unsigned int)(g % 60) + 1;

		for (unsigned int i = 0; i < n; i++)
			mk_member(&ms[i], 0x10000 + (uint32_t)(g % 7) * 256 + i, g, i % 5);
		return commit_replace(s, 1, g - 1, g, ms, n);
	}
	if (g % 11 == 0)
		return commit_del(s, 1, g - 1, g, 0x20000 + (uint32_t)((g + 25) % 50));
	mk_member(&ms[0], 0x20000 + (uint32_t)(g % 50), g, (unsigned int)(g % 4));
	return commit_put(s, 1, g - 1, g, &ms[0]);
}

static void crash_child(const char *d, int wfd)
{
	struct rd_store *s = NULL;
	char err[512];
	uint64_t g;

	if (rd_store_open(d, &s, err, sizeof(err)))
		_exit(2);
	g = gen_of(s, 1);
	for (;;) {
		g++;
		if (crash_change(s, g))
			_exit(3);
		/* Acknowledged only once committed: the parent may count it. */
		if (write(wfd, &g, sizeof(g)) != sizeof(g))
			_exit(4);
	}
}

static void t_crash(void)
{
	const char *d = newdir("crash"), *ref = newdir("crash-ref");
	struct rd_store *r = sopen(ref);
	uint64_t replayed = 0;

	if (!r)
		return;
	/* The reference takes the same changes unhurried. */
	EXPECT(sql_exec(r, "PRAGMA synchronous=OFF") == SQLITE_OK);
	srand((unsigned int)time(NULL) ^ (unsigned int)getpid());
	for (int round = 0; round < 5 && !cur_fail; round++) {
		uint64_t acked = 0, g, got;
		int p[2], status;
		struct rd_store *s;
		pid_t pid;

		EXPECT(pipe(p) == 0);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			crash_child(d, p[1]);
		}
		close(p[1]);
		/* Wait for a first commit, then kill at a random moment. */
		if (read(p[0], &acked, sizeof(acked)) != sizeof(acked))
			cur_fail = 1;
		usleep(1000 + (useconds_t)(rand() % 80000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		while (read(p[0], &got, sizeof(got)) == sizeof(got))
			acked = got;
		close(p[0]);

		s = sopen(d);
		if (!s)
			return;
		EXPECT(integrity_ok(s));
		g = gen_of(s, 1);
		/* Every acknowledged commit is there; at most the one in
		 * flight beyond. */
		if (g < acked || g > acked + 1) {
			printf("# round %d: stored generation %llu, acknowledged %llu\n", round,
			       (unsigned long long)g, (unsigned long long)acked);
			cur_fail = 1;
		}
		while (replayed < g)
			EXPECT(crash_change(r, ++replayed) == 0);
		/* Exactly the state of generation g: nothing half written. */
		EXPECT(loads_eq(s, r));
		rd_store_close(s);
	}
	printf("# crash: %llu generations over 5 kills\n", (unsigned long long)replayed);
	rd_store_close(r);
}

/* ---- benchmark ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(const char *dir)
{
	static const unsigned int sizes[] = { 1000, 10000 };
	static const char *const modes[] = { "FULL", "OFF" };
	enum { K = 300 };
	static double t[K];

	printf("# rd_store_commit(MEMBER_PUT), a join into a VPN of N members, %d commits each\n",
	       K);
	printf("# %-6s %-5s %10s %10s %10s\n", "N", "sync", "mean us", "p50 us", "p99 us");
	for (unsigned int z = 0; z < 2; z++) {
		for (unsigned int mode = 0; mode < 2; mode++) {
			char d[256], q[64];
			struct roster_member *ms;
			struct rd_store *s;
			uint64_t g;
			double sum = 0;

			snprintf(d, sizeof(d), "%s/bench-%u-%s", dir, sizes[z], modes[mode]);
			s = sopen(d);
			if (!s)
				return 1;
			ms = calloc(sizes[z], sizeof(*ms));
			for (unsigned int i = 0; i < sizes[z]; i++)
				mk_member(&ms[i], i + 1, 2, 2);
			if (commit_replace(s, 7, RD_STORE_ANY_GEN, 2, ms, sizes[z]))
				return printf("# %s\n", rd_store_errmsg(s)), 1;
			free(ms);
			g = 2;
			snprintf(q, sizeof(q), "PRAGMA synchronous=%s", modes[mode]);
			sql_exec(s, q);
			for (unsigned int k = 0; k < K; k++) {
				struct roster_member m;
				struct timespec a, b;

				mk_member(&m, sizes[z] + 1 + k, g + 1, 2);
				clock_gettime(CLOCK_MONOTONIC, &a);
				if (commit_put(s, 7, g, g + 1, &m))
					return printf("# %s\n", rd_store_errmsg(s)), 1;
				clock_gettime(CLOCK_MONOTONIC, &b);
				g++;
				t[k] = (double)(b.tv_sec - a.tv_sec) * 1e6 +
				       (double)(b.tv_nsec - a.tv_nsec) / 1e3;
				sum += t[k];
			}
			qsort(t, K, sizeof(t[0]), cmp_double);
			printf("  %-6u %-5s %10.1f %10.1f %10.1f\n", sizes[z], modes[mode], sum / K,
			       t[K / 2], t[K * 99 / 100]);
			rd_store_close(s);
		}
	}
	return 0;
}

static int seed(const char *dir)
{
	struct roster_member ms[2];
	struct rd_store *s = NULL;
	char err[512], hex[33];

	if (rd_store_open(dir, &s, err, sizeof(err)))
		return fprintf(stderr, "%s\n", err), 1;
	mk_member(&ms[0], 1, 3, 2);
	mk_member(&ms[1], 2, 3, 1);
	if (commit_replace(s, 7, 0, 3, ms, 2)) {
		fprintf(stderr, "%s\n", rd_store_errmsg(s));
		rd_store_close(s);
		return 1;
	}
	printf("%s\n", rd_store_identity_hex(s, hex));
	rd_store_close(s);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	rd_log_level = RD_LOG_ERROR;
	if (argc == 3 && !strcmp(argv[1], "bench"))
		return bench(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "seed"))
		return seed(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: store-test [bench DIR | seed DIR]\n");
		return 2;
	}
	snprintf(root, sizeof(root), "/tmp/store-test.XXXXXX");
	if (!mkdtemp(root))
		return perror("mkdtemp"), 1;
	printf("TAP version 13\n1..18\n");
	run("store: create, reopen keeps identity and data (0600, WAL, FULL)", t_create_reopen);
	run("store: compare-and-set refusal changes nothing", t_cas);
	run("store: member put, replace, delete; every field kept", t_members);
	run("store: VPN put, replace, delete", t_vpns);
	run("store: load in ascending VPN and member id", t_load_order);
	run("store: enrolment consumes the invitation in one transaction", t_enrol);
	run("store: invitations replace per id and expire", t_invites);
	run("store: revocation deletes enrolment and invitation; the keys never return",
	    t_revoke);
	run("store: key rotation checks, retries and revokes the old key", t_rekey);
	run("store: last-seen times persist and only move forward", t_seen);
	run("store: a schema 2 roster.db migrates to 3 without loss", t_migrate3);
	run("store: session ids grow across reopen, never below the clock", t_session);
	run("store: the old text files are imported once", t_import);
	run("store: a malformed old file is refused with its line, nothing created",
	    t_import_bad);
	run("store: newer schema and foreign files refused; empty file is new", t_schema);
	run("store: changes of another handle are seen", t_changed);
	run("store: online backup opens as the same store", t_backup);
	run("store: SIGKILLed writer leaves every committed generation whole", t_crash);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? 1 : 0;
}
