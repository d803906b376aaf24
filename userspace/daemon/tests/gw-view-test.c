// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the gateway's pure machines (gw-view.c: assembly, holding
 * and gaps, the store-identity rule; gw-wg.c: the peer difference) and of
 * the identity file's store-id. KTAP; no kernel, no privileges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "proto.h"
#include "state.h"
#include "gw-view.h"
#include "gw-wg.h"

#include "unit.h"

static struct roster_member mem(unsigned int i)
{
	struct roster_member m = { .has_key = true };

	m.id.family = AF_INET;
	m.id.addr[0] = 10;
	m.id.addr[3] = (uint8_t)i;
	memset(m.key, (int)i, 32);
	return m;
}

/* A part of a list of gen with members [first, first + n). */
static struct rd_msg part(uint8_t type, uint64_t gen, uint16_t p, uint16_t np, uint32_t total,
			  struct roster_member *mb, unsigned int n)
{
	struct rd_msg m = { .type = type, .has_vpn = true, .vpn = 7, .has_gen = true, .gen = gen,
			    .has_parts = true, .part = p, .nparts = np, .total = total,
			    .members = mb, .n_members = n };
	return m;
}

/* ---- assembly ---- */

static void t_asm_single(void)
{
	struct gw_view v;
	struct roster_member mb[2] = { mem(1), mem(2) };
	struct rd_msg m = part(RD_JOIN, 5, 1, 1, 2, mb, 2);

	gw_view_init(&v, 7);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_DONE);
	EXPECT(v.as.n == 2 && v.as.gen == 5 && v.as.type == RD_JOIN);
	EXPECT(rd_addr_eq(&v.as.m[1].id, &mb[1].id));
	gw_view_asm_reset(&v);
	/* no part numbers at all: one part */
	m.has_parts = false;
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_DONE && v.as.n == 2);
	gw_view_free(&v);
}

static void t_asm_parts(void)
{
	struct gw_view v;
	struct roster_member mb[5] = { mem(1), mem(2), mem(3), mem(4), mem(5) };
	struct rd_msg p1 = part(RD_LIST, 9, 1, 3, 5, mb, 2);
	struct rd_msg p2 = part(RD_LIST, 9, 2, 3, 5, mb + 2, 2);
	struct rd_msg p3 = part(RD_LIST, 9, 3, 3, 5, mb + 4, 1);

	gw_view_init(&v, 7);
	EXPECT(gw_view_assemble(&v, &p3) == GW_ASM_MORE);
	EXPECT(gw_view_assemble(&v, &p3) == GW_ASM_DUP);
	EXPECT(gw_view_assemble(&v, &p1) == GW_ASM_MORE);
	EXPECT(gw_view_assemble(&v, &p2) == GW_ASM_DONE);
	EXPECT(v.as.n == 5);
	gw_view_free(&v);
}

static void t_asm_newer_replaces_older(void)
{
	struct gw_view v;
	struct roster_member mb[2] = { mem(1), mem(2) };
	struct rd_msg o1 = part(RD_LIST, 9, 1, 2, 2, mb, 1);
	struct rd_msg n1 = part(RD_LIST, 10, 1, 2, 2, mb, 1);
	struct rd_msg o2 = part(RD_LIST, 9, 2, 2, 2, mb + 1, 1);
	struct rd_msg n2 = part(RD_LIST, 10, 2, 2, 2, mb + 1, 1);

	gw_view_init(&v, 7);
	EXPECT(gw_view_assemble(&v, &o1) == GW_ASM_MORE);
	EXPECT(gw_view_assemble(&v, &n1) == GW_ASM_MORE);
	/* the older list's last part must not complete the newer one */
	EXPECT(gw_view_assemble(&v, &o2) == GW_ASM_OLD);
	EXPECT(gw_view_assemble(&v, &n2) == GW_ASM_DONE && v.as.gen == 10);
	gw_view_free(&v);
}

static void t_asm_bogus(void)
{
	struct gw_view v;
	struct roster_member mb[3] = { mem(1), mem(2), mem(3) };
	struct rd_msg m;

	gw_view_init(&v, 7);
	m = part(RD_LIST, 3, 0, 2, 3, mb, 1);		/* part 0 */
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS);
	m = part(RD_LIST, 3, 3, 2, 3, mb, 1);		/* part > nparts */
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS);
	m = part(RD_LIST, 3, 1, 1, 1, mb, 3);		/* more members than TOTAL */
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS);
	m = part(RD_LIST, 3, 1, 1, 3, mb, 2);		/* fewer than TOTAL at the end */
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS && !v.as.type);
	m = part(RD_LIST, 3, 1, 2, 0xffffffffu, mb, 1);	/* a huge TOTAL costs nothing */
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS);
	/* more than the announced parts can carry */
	m = part(RD_LIST, 3, 1, 2, 2 * GW_PART_MEMBERS_MAX + 1, mb, 1);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS && !v.as.type);
	m = part(RD_LIST, 3, 1, 1, 3000000, mb, 1);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS && !v.as.type);
	m = part(RD_LIST, 3, 1, 2, 2 * GW_PART_MEMBERS_MAX, mb, 1);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_MORE);
	gw_view_asm_reset(&v);
	m = part(RD_LIST, 3, 1, 65535, 1u << 20, mb, 1);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_MORE && v.as.cap < 1024);
	/* parts that together bring more than TOTAL */
	m = part(RD_LIST, 4, 1, 2, 3, mb, 2);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_MORE);
	m = part(RD_LIST, 4, 2, 2, 3, mb, 2);
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS && !v.as.type);
	/* a store identity that changes between the parts */
	m = part(RD_LIST, 5, 1, 2, 2, mb, 1);
	m.has_store_id = true;
	memset(m.store_id, 1, sizeof(m.store_id));
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_MORE);
	m = part(RD_LIST, 5, 2, 2, 2, mb + 1, 1);
	m.has_store_id = true;
	memset(m.store_id, 2, sizeof(m.store_id));
	EXPECT(gw_view_assemble(&v, &m) == GW_ASM_BOGUS);
	gw_view_free(&v);
}

/* ---- holding and gaps ---- */

static struct gw_change chg(uint64_t gen)
{
	struct gw_change c = { .type = RD_NOTIFY, .gen = gen, .member = mem((unsigned int)gen) };

	return c;
}

static void t_hold_order(void)
{
	struct gw_view v;
	struct gw_change c, c5 = chg(5), c4 = chg(4), c6 = chg(6);

	gw_view_init(&v, 7);
	EXPECT(gw_view_verdict(&v, &c5, 0, 1000) == GW_ACT_DRAIN);
	EXPECT(gw_view_verdict(&v, &c5, -EALREADY, 1000) == GW_ACT_NONE);
	EXPECT(!gw_view_deadline(&v));
	/* table at 3: 6 and 5 come before 4 */
	EXPECT(gw_view_verdict(&v, &c6, -ESTALE, 1000) == GW_ACT_NONE);
	EXPECT(gw_view_deadline(&v) == 1000 + GW_GAP_WAIT_MS);
	EXPECT(gw_view_verdict(&v, &c5, -ESTALE, 1100) == GW_ACT_NONE);
	EXPECT(gw_view_verdict(&v, &c5, -ESTALE, 1200) == GW_ACT_NONE);	/* duplicate */
	EXPECT(v.n_hold == 2);
	EXPECT(gw_view_deadline(&v) == 1000 + GW_GAP_WAIT_MS);
	EXPECT(gw_view_verdict(&v, &c4, 0, 1300) == GW_ACT_DRAIN);
	EXPECT(gw_view_held(&v, &c) && c.gen == 5);
	EXPECT(gw_view_held_verdict(&v, 0) == GW_ACT_DRAIN);
	EXPECT(gw_view_held(&v, &c) && c.gen == 6);
	EXPECT(gw_view_held_verdict(&v, 0) == GW_ACT_DRAIN);
	EXPECT(!gw_view_held(&v, &c) && !gw_view_deadline(&v));
	gw_view_free(&v);
}

static void t_hold_gap(void)
{
	struct gw_view v;
	struct gw_change c, c8 = chg(8), c9 = chg(9);

	gw_view_init(&v, 7);
	EXPECT(gw_view_verdict(&v, &c9, -ESTALE, 0) == GW_ACT_NONE);
	EXPECT(gw_view_verdict(&v, &c8, -ESTALE, 10) == GW_ACT_NONE);
	EXPECT(gw_view_tick(&v, GW_GAP_WAIT_MS - 1) == GW_ACT_NONE);
	EXPECT(gw_view_tick(&v, GW_GAP_WAIT_MS) == GW_ACT_SYNC);
	/* asked once; again only if the list does not come either */
	EXPECT(gw_view_tick(&v, GW_GAP_WAIT_MS + 1) == GW_ACT_NONE);
	EXPECT(gw_view_deadline(&v) == 2 * GW_GAP_WAIT_MS);
	/* the list brought the table to 8: 8 is old, 9 applies */
	EXPECT(gw_view_held(&v, &c) && c.gen == 8);
	EXPECT(gw_view_held_verdict(&v, -EALREADY) == GW_ACT_DRAIN);
	EXPECT(gw_view_held(&v, &c) && c.gen == 9);
	EXPECT(gw_view_held_verdict(&v, 0) == GW_ACT_DRAIN);
	EXPECT(!gw_view_deadline(&v));
	/* a list at 7 leaves the held 9 a gap: it stays */
	EXPECT(gw_view_verdict(&v, &c9, -ESTALE, 0) == GW_ACT_NONE);
	EXPECT(gw_view_held_verdict(&v, -ESTALE) == GW_ACT_NONE && v.n_hold == 1);
	/* a disagreement (member missing, prefix held) asks for the list */
	EXPECT(gw_view_held_verdict(&v, -EADDRINUSE) == GW_ACT_SYNC && !v.n_hold);
	EXPECT(gw_view_verdict(&v, &c9, -EADDRINUSE, 0) == GW_ACT_SYNC && !v.n_hold);
	/* before the table exists (-ENOENT) changes are held too */
	EXPECT(gw_view_verdict(&v, &c9, -ENOENT, 0) == GW_ACT_NONE && v.n_hold == 1);
	gw_view_drop_held(&v);
	EXPECT(!v.n_hold && !gw_view_deadline(&v));
	gw_view_free(&v);
}

static void t_hold_bounded(void)
{
	struct gw_view v;
	struct gw_change c;

	gw_view_init(&v, 7);
	for (unsigned int i = 0; i < GW_HOLD_MAX; i++) {
		c = chg(100 + i);
		EXPECT(gw_view_verdict(&v, &c, -ESTALE, 0) == GW_ACT_NONE);
	}
	c = chg(500);
	EXPECT(gw_view_verdict(&v, &c, -ESTALE, 0) == GW_ACT_SYNC);
	EXPECT(v.n_hold == GW_HOLD_MAX && v.hold[GW_HOLD_MAX - 1].gen == 100 + GW_HOLD_MAX - 1);
	/* an older one takes the place of the newest */
	c = chg(50);
	EXPECT(gw_view_verdict(&v, &c, -ESTALE, 0) == GW_ACT_SYNC);
	EXPECT(v.n_hold == GW_HOLD_MAX && v.hold[0].gen == 50 &&
	       v.hold[GW_HOLD_MAX - 1].gen == 100 + GW_HOLD_MAX - 2);
	for (unsigned int i = 1; i < v.n_hold; i++)
		EXPECT(v.hold[i - 1].gen < v.hold[i].gen);
	gw_view_free(&v);
}

/* ---- the store-identity rule ---- */

static enum gw_list_rule rule(bool not_member, int msg_id, int known_id, bool have,
			      bool follower, uint64_t list_gen, uint64_t table_gen, bool *learn)
{
	struct gw_asm a = { .type = RD_LIST, .gen = list_gen,
			    .flags = not_member ? RD_F_NOT_MEMBER : 0 };
	struct gw_store s = { 0 };
	struct gw_local t = { .have = have, .follower = follower, .gen = table_gen };

	if (msg_id) {
		a.has_store_id = true;
		memset(a.store_id, msg_id, sizeof(a.store_id));
	}
	if (known_id) {
		s.known = true;
		memset(s.id, known_id, sizeof(s.id));
	}
	return gw_view_list_rule(&a, &s, &t, learn);
}

static void t_rule_not_member(void)
{
	bool l;

	/* known store, newer: obeyed */
	EXPECT(rule(true, 1, 1, true, true, 11, 10, &l) == GW_LIST_REMOVE && !l);
	/* known store, not newer: re-join */
	EXPECT(rule(true, 1, 1, true, true, 10, 10, &l) == GW_LIST_REJOIN);
	EXPECT(rule(true, 1, 1, true, true, 0, 10, &l) == GW_LIST_REJOIN);
	/* another store, even far newer: re-join, never learnt from */
	EXPECT(rule(true, 2, 1, true, true, 1000, 10, &l) == GW_LIST_REJOIN && !l);
	/* a gateway that knows none, told by a store: re-join (learns from the JOIN) */
	EXPECT(rule(true, 2, 0, true, true, 1000, 10, &l) == GW_LIST_REJOIN && !l);
	/* a manager that sends none, to a gateway that knows one: re-join */
	EXPECT(rule(true, 0, 1, true, true, 1000, 10, &l) == GW_LIST_REJOIN);
	/* neither knows: both predate identities, the generation decides */
	EXPECT(rule(true, 0, 0, true, true, 11, 10, &l) == GW_LIST_REMOVE);
	EXPECT(rule(true, 0, 0, true, true, 10, 10, &l) == GW_LIST_REJOIN);
	/* nothing here to tear down */
	EXPECT(rule(true, 2, 1, false, false, 0, 0, &l) == GW_LIST_REMOVE);
	/* no table, and a JOIN_REQ unanswered: the join was lost, ask again;
	 * an expiry (RD_F_REJOIN) says so itself */
	{
		struct gw_asm a = { .type = RD_LIST, .gen = 25, .flags = RD_F_NOT_MEMBER,
				    .has_store_id = true };
		struct gw_store st = { .known = true };
		struct gw_local t = { .awaiting = true };

		memset(a.store_id, 1, sizeof(a.store_id));
		memset(st.id, 1, sizeof(st.id));
		EXPECT(gw_view_list_rule(&a, &st, &t, &l) == GW_LIST_REJOIN);
		a.flags |= RD_F_REJOIN;
		EXPECT(gw_view_list_rule(&a, &st, &t, &l) == GW_LIST_REMOVE);
		a.flags = RD_F_NOT_MEMBER;
		t.awaiting = false;
		EXPECT(gw_view_list_rule(&a, &st, &t, &l) == GW_LIST_REMOVE);
	}
	/* an earlier version's mirror has no comparable generation */
	EXPECT(rule(true, 1, 1, true, false, 3, 10, &l) == GW_LIST_REMOVE);
	EXPECT(rule(true, 2, 1, true, false, 30, 10, &l) == GW_LIST_REJOIN);
}

static void t_rule_members(void)
{
	bool l;

	EXPECT(rule(false, 1, 1, true, true, 11, 10, &l) == GW_LIST_APPLY && !l);
	EXPECT(rule(false, 1, 1, true, true, 10, 10, &l) == GW_LIST_APPLY);	/* repairs */
	EXPECT(rule(false, 1, 1, true, true, 9, 10, &l) == GW_LIST_OLD);
	/* learnt by a gateway that knows none */
	EXPECT(rule(false, 1, 0, true, true, 11, 10, &l) == GW_LIST_APPLY && l);
	EXPECT(rule(false, 1, 0, false, false, 1, 0, &l) == GW_LIST_APPLY && l);
	/* an old list teaches nothing */
	EXPECT(rule(false, 1, 0, true, true, 9, 10, &l) == GW_LIST_OLD && !l);
	/* another store: adopted, whatever the generation */
	EXPECT(rule(false, 2, 1, true, true, 3, 10, &l) == GW_LIST_ADOPT && l);
	/* no store identity: applied, nothing learnt or forgotten */
	EXPECT(rule(false, 0, 1, true, true, 11, 10, &l) == GW_LIST_APPLY && !l);
	EXPECT(rule(false, 0, 0, true, true, 11, 10, &l) == GW_LIST_APPLY && !l);
	/* an earlier version's mirror: applied (gw-table rebases it) */
	EXPECT(rule(false, 1, 1, true, false, 3, 10, &l) == GW_LIST_APPLY);
}

/* ---- the WireGuard difference ---- */

static void t_wg_diff(void)
{
	struct roster_prefix p[4];
	struct rd_wg_peer have[3] = { 0 }, want[3] = { 0 }, out[6];
	unsigned int n;

	for (int i = 0; i < 4; i++) {
		p[i].addr.family = AF_INET;
		p[i].addr.addr[0] = 10;
		p[i].addr.addr[1] = (uint8_t)i;
		p[i].len = 24;
	}
	for (int i = 0; i < 3; i++) {
		memset(have[i].key, i + 1, 32);
		have[i].n_allowed = 1;
		have[i].allowed = &p[i];
		have[i].has_endpoint = true;
		have[i].endpoint.family = AF_INET;
		have[i].port = (uint16_t)(100 + i);
	}
	memcpy(want, have, sizeof(want));
	/* equal: nothing to do */
	EXPECT(gw_wg_diff(have, 3, want, 3, out) == 0);
	/* no endpoint in the table: the learnt one is no difference */
	want[0].has_endpoint = false;
	EXPECT(gw_wg_diff(have, 3, want, 3, out) == 0);
	/* peer 2 gets another prefix, peer 3 goes, a new one comes */
	want[1].allowed = &p[3];
	memset(want[2].key, 9, 32);
	n = gw_wg_diff(have, 3, want, 3, out);
	EXPECT(n == 3);
	EXPECT(!memcmp(out[0].key, want[1].key, 32) && !out[0].remove);
	EXPECT(!memcmp(out[1].key, want[2].key, 32) && !out[1].remove);
	EXPECT(!memcmp(out[2].key, have[2].key, 32) && out[2].remove);
	/* keepalive changed */
	memcpy(want, have, sizeof(want));
	want[0].keepalive = 25;
	EXPECT(gw_wg_diff(have, 3, want, 3, out) == 1 && !out[0].remove);
	/* the table gone: every peer removed */
	EXPECT(gw_wg_diff(have, 3, want, 0, out) == 3 && out[0].remove && out[2].remove);
}

/* ---- the identity file ---- */

static void t_identity_store_id(void)
{
	char dir[] = "/tmp/gw-view-test.XXXXXX", path[64], *text;
	struct rd_identity id = { 0 }, back;
	FILE *f;

	EXPECT(mkdtemp(dir) != NULL);
	id.id.family = AF_INET;
	id.id.addr[0] = 10;
	id.prefixlen = 16;
	id.control_addr = id.id;
	id.manager_endpoint = id.id;
	id.manager_port = 51800;
	id.control_port = 851;
	/* without: an identity of an earlier version loads, knowing none */
	EXPECT(rd_identity_save(dir, &id) == 0);
	EXPECT(rd_identity_load(dir, &back) == 0 && !back.has_store_id);
	snprintf(path, sizeof(path), "%s/identity", dir);
	EXPECT(rd_read_file(path, &text) == 0 && !strstr(text, "store-id"));
	free(text);
	id.has_store_id = true;
	for (int i = 0; i < 16; i++)
		id.store_id[i] = (uint8_t)(0xf0 + i);
	EXPECT(rd_identity_save(dir, &id) == 0);
	EXPECT(rd_identity_load(dir, &back) == 0 && back.has_store_id &&
	       !memcmp(back.store_id, id.store_id, 16));
	/* a malformed one is refused */
	f = fopen(path, "a");
	if (f) {
		fputs("store-id 12zz\n", f);
		fclose(f);
	}
	EXPECT(rd_identity_load(dir, &back) == -EINVAL);
	unlink(path);
	rmdir(dir);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

static void leave_file(const char *dir, const char *name, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs("private-key half writ", f);
		fclose(f);
	}
	chmod(path, mode);
}

/* redeem's two steps: each leaves complete files, mode 0600, and no
 * temporary file; a temporary file a crash left behind lends its mode to
 * nothing. */
static void t_identity_commit(void)
{
	char dir[] = "/tmp/gw-view-test.XXXXXX", cmd[64];
	struct rd_identity id = { 0 }, back;

	EXPECT(mkdtemp(dir) != NULL);
	id.id.family = AF_INET;
	id.id.addr[0] = 10;
	id.prefixlen = 16;
	id.control_addr = id.id;
	id.manager_endpoint = id.id;
	id.manager_port = 51800;
	id.control_port = 851;
	memset(id.private_key, 0x5a, 32);
	leave_file(dir, "identity.pending.tmp", 0644);
	leave_file(dir, "identity.tmp", 0644);
	/* before ENROLL: only the pending identity, complete */
	EXPECT(rd_identity_pending_save(dir, &id) == 0);
	EXPECT(rd_identity_load(dir, &back) == -ENOENT);
	EXPECT(rd_identity_pending_load(dir, &back) == 0 &&
	       !memcmp(back.private_key, id.private_key, 32) && !back.has_store_id);
	EXPECT(mode_of(dir, "identity.pending") == 0600);
	EXPECT(mode_of(dir, "identity.pending.tmp") == (mode_t)-1);
	/* ENROLLED: the identity, with the store, and no pending one */
	id.has_store_id = true;
	memset(id.store_id, 0xab, 16);
	EXPECT(rd_identity_pending_commit(dir, &id) == 0);
	EXPECT(rd_identity_pending_load(dir, &back) == -ENOENT);
	EXPECT(rd_identity_load(dir, &back) == 0 && back.has_store_id &&
	       !memcmp(back.store_id, id.store_id, 16) &&
	       !memcmp(back.private_key, id.private_key, 32));
	EXPECT(mode_of(dir, "identity") == 0600);
	/* a later save (the gateway learning its store) over a stale
	 * temporary file readable by all */
	EXPECT(mode_of(dir, "identity.tmp") == 0644);
	id.store_id[0] = 0xcd;
	EXPECT(rd_identity_save(dir, &id) == 0);
	EXPECT(mode_of(dir, "identity") == 0600);
	EXPECT(mode_of(dir, "identity.tmp") == (mode_t)-1);
	EXPECT(rd_identity_load(dir, &back) == 0 && back.store_id[0] == 0xcd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	EXPECT(system(cmd) == 0);
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR - 1;
	printf("KTAP version 1\n1..12\n");
	run("asm_single", t_asm_single);
	run("asm_parts", t_asm_parts);
	run("asm_newer_replaces_older", t_asm_newer_replaces_older);
	run("asm_bogus", t_asm_bogus);
	run("hold_order", t_hold_order);
	run("hold_gap", t_hold_gap);
	run("hold_bounded", t_hold_bounded);
	run("rule_not_member", t_rule_not_member);
	run("rule_members", t_rule_members);
	run("wg_diff", t_wg_diff);
	run("identity_store_id", t_identity_store_id);
	run("identity_commit", t_identity_commit);
	printf("# %d passed, %d failed\n", test_no - failed, failed);
	return failed ? 1 : 0;
}
