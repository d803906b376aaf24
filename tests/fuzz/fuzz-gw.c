// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the gateway's packet path (gw-view.c): multi-part
 * JOIN/LIST assembly, changes held out of order, gaps. The input is a
 * sequence of records (fuzz.h): control messages from the manager, which
 * are decoded (proto.c) and handled as gateway.c does, and clock ticks. The
 * gateway's roster.ko is a small simulated follower table with the
 * kernel's stamped-change rule (a change applies at generation + 1 only).
 *
 * Oracles, after every record: at most GW_HOLD_MAX changes held, in
 * ascending generations without duplicates, with a gap deadline iff any;
 * an assembly never holds more parts than NPARTS nor more members than
 * TOTAL, and its memory follows the members that arrived, never TOTAL;
 * a completed list has exactly TOTAL members and every part; draining
 * ends; the table only moves forward while it exists.
 */
#include <errno.h>
#include <string.h>

#include "gw-view.h"
#include "proto.h"
#include "util.h"
#include "fuzz.h"

#define VPN 7
#define TABLE_MAX 64

/* The gateway's roster.ko, reduced to what the verdicts depend on. */
static struct {
	bool have;
	uint64_t gen;
	unsigned int n;
	struct roster_addr id[TABLE_MAX];
	int fail;			/* the next change fails with this (0: none) */
} t;

static struct gw_view v;
static struct gw_store store;
static int64_t now;
static unsigned long syncs;
static bool adopted;		/* a list from another store rebased the table */

static int find(const struct roster_addr *id)
{
	for (unsigned int i = 0; i < t.n; i++)
		if (rd_addr_eq(&t.id[i], id))
			return (int)i;
	return -1;
}

/* roster.ko's rule for a stamped change (gw_table_change). */
static int table_change(const struct gw_change *c)
{
	int i;

	if (t.fail) {
		int e = t.fail;

		t.fail = 0;
		return e;
	}
	if (!t.have)
		return -ENOENT;
	if (c->gen <= t.gen)
		return -EALREADY;
	if (c->gen > t.gen + 1)
		return -ESTALE;
	if (c->type == RD_NOTIFY) {
		i = find(&c->member.id);
		if (i < 0) {
			if (t.n == TABLE_MAX)
				return -ENOSPC;
			t.id[t.n++] = c->member.id;
		}
	} else {
		i = find(&c->dev);
		if (i >= 0)
			t.id[i] = t.id[--t.n];
	}
	t.gen = c->gen;
	return 0;
}

static void check(void)
{
	const struct gw_asm *a = &v.as;

	FUZZ_ASSERT(v.n_hold <= GW_HOLD_MAX);
	for (unsigned int i = 1; i < v.n_hold; i++)
		FUZZ_ASSERT(v.hold[i - 1].gen < v.hold[i].gen);
	FUZZ_ASSERT(!v.n_hold == !v.gap_deadline);
	if (!a->type) {
		FUZZ_ASSERT(!a->got && !a->m && !a->n && !a->have);
		return;
	}
	FUZZ_ASSERT(a->type == RD_JOIN || a->type == RD_LIST);
	FUZZ_ASSERT(a->nparts >= 1 && a->have <= a->nparts && a->have >= 1);
	FUZZ_ASSERT(a->n <= a->total && a->total <= GW_LIST_MAX && a->n <= a->cap);
	/* TOTAL no more than the parts can carry (finding 6) */
	FUZZ_ASSERT(a->total <= (uint32_t)a->nparts * GW_PART_MEMBERS_MAX);
	/* Memory grows with the members that came, not with TOTAL. */
	FUZZ_ASSERT(a->cap <= 16 || a->cap < 2 * a->n);
	{
		unsigned int got = 0;

		for (unsigned int i = 0; i < a->nparts; i++)
			got += a->got[i];
		FUZZ_ASSERT(got == a->have);
	}
}

static void request_list(void)
{
	syncs++;
}

static void drain(void)
{
	struct gw_change c;
	unsigned int rounds = 0;

	while (gw_view_held(&v, &c)) {
		enum gw_act act = gw_view_held_verdict(&v, table_change(&c));

		FUZZ_ASSERT(++rounds <= GW_HOLD_MAX + 1);
		if (act == GW_ACT_SYNC)
			request_list();
		if (act != GW_ACT_DRAIN)
			break;
	}
}

static void handle_change(const struct rd_msg *m)
{
	struct gw_change c = { .type = m->type, .gen = m->gen };

	if (m->type == RD_NOTIFY)
		c.member = m->members[0];
	else
		c.dev = m->dev;
	switch (gw_view_verdict(&v, &c, table_change(&c), now)) {
	case GW_ACT_DRAIN:
		drain();
		break;
	case GW_ACT_SYNC:
		request_list();
		break;
	case GW_ACT_NONE:
		break;
	}
}

static void handle_list(const struct rd_msg *m)
{
	const struct gw_asm *a = &v.as;
	struct gw_local l = { .have = t.have, .follower = true, .gen = t.gen };
	bool learn;

	if (gw_view_assemble(&v, m) != GW_ASM_DONE)
		return;
	check();
	FUZZ_ASSERT(a->n == a->total && a->have == a->nparts);
	enum gw_list_rule rule = gw_view_list_rule(a, &store, &l, &learn);

	adopted = rule == GW_LIST_ADOPT;
	switch (rule) {
	case GW_LIST_OLD:
	case GW_LIST_REJOIN:
		break;
	case GW_LIST_REMOVE:
		t.have = false;
		t.n = 0;
		gw_view_drop_held(&v);
		break;
	case GW_LIST_ADOPT:
	case GW_LIST_APPLY:
		/* gw_table_sync: the table becomes the list, at its generation. */
		if (learn) {
			store.known = true;
			memcpy(store.id, a->store_id, sizeof(store.id));
		}
		t.have = true;
		t.gen = a->gen;
		t.n = 0;
		for (unsigned int i = 0; i < a->n && t.n < TABLE_MAX; i++)
			if (find(&a->m[i].id) < 0)
				t.id[t.n++] = a->m[i].id;
		break;
	}
	gw_view_asm_reset(&v);
	if (t.have)
		drain();
}

static void handle(const uint8_t *buf, size_t len)
{
	struct rd_msg m;
	const char *why;

	if (rd_msg_decode(buf, len, &m, &why))
		return;
	if (m.has_vpn && m.vpn == VPN) {
		switch (m.type) {
		case RD_JOIN:
		case RD_LIST:
			handle_list(&m);
			break;
		case RD_NOTIFY:
		case RD_REMOVE:
			handle_change(&m);
			break;
		}
	}
	rd_msg_release(&m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rec r;

	memset(&t, 0, sizeof(t));
	memset(&store, 0, sizeof(store));
	gw_view_init(&v, VPN);
	now = 1000;
	while (fuzz_next(&data, &size, &r)) {
		uint64_t gen = t.gen;
		bool had = t.have;

		adopted = false;

		switch (r.op & 3) {
		case 0:		/* a datagram from the manager */
			handle(r.data, r.len);
			break;
		case 1:		/* time passes */
			now += (int64_t)(r.len ? r.data[0] : 1) * 100;
			if (gw_view_tick(&v, now) == GW_ACT_SYNC)
				request_list();
			FUZZ_ASSERT(!v.gap_deadline || v.gap_deadline > now);
			break;
		case 2:		/* the next change fails in the kernel */
			t.fail = (r.op & 4) ? -EADDRINUSE : -ENOENT;
			break;
		case 3:		/* the VPN vanished from the table (rmmod) */
			t.have = false;
			t.n = 0;
			gw_view_drop_held(&v);
			break;
		}
		check();
		/* A table moves forward only; a list from another store may
		 * rebase it. */
		if (had && t.have && !adopted)
			FUZZ_ASSERT(t.gen >= gen);
	}
	gw_view_free(&v);
	return 0;
}
