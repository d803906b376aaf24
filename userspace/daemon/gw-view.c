// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: its view of the manager. Pure: no I/O, no clock (the
 * caller passes the time), so that every path is unit-tested
 * (tests/gw-view-test.c). See gw-view.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw-view.h"

void gw_view_init(struct gw_view *v, uint32_t vpn)
{
	memset(v, 0, sizeof(*v));
	v->vpn = vpn;
}

void gw_view_free(struct gw_view *v)
{
	gw_view_asm_reset(v);
}

/* ---- assembly ------------------------------------------------------------ */

void gw_view_asm_reset(struct gw_view *v)
{
	struct gw_asm *a = &v->as;

	free(a->got);
	free(a->m);
	memset(a, 0, sizeof(*a));
}

static bool same_list(const struct gw_asm *a, const struct rd_msg *m, uint16_t nparts,
		      uint32_t total)
{
	return a->type == m->type && a->gen == m->gen && a->flags == m->flags &&
	       a->nparts == nparts && a->total == total;
}

enum gw_asm_res gw_view_assemble(struct gw_view *v, const struct rd_msg *m)
{
	struct gw_asm *a = &v->as;
	/* A list that fits one datagram may come without part numbers. */
	uint16_t part = m->has_parts ? m->part : 1;
	uint16_t nparts = m->has_parts ? m->nparts : 1;
	uint32_t total = m->has_parts ? m->total : m->n_members;

	/* The decoder checks these too; the view does not rely on it. */
	if (!part || part > nparts || total > GW_LIST_MAX || m->n_members > total ||
	    total > (uint64_t)nparts * GW_PART_MEMBERS_MAX)
		return GW_ASM_BOGUS;
	if (a->type && !same_list(a, m, nparts, total)) {
		/* Parts of an older list still on their way lose to the newer
		 * one under way; anything else starts over. */
		if (m->gen < a->gen)
			return GW_ASM_OLD;
		gw_view_asm_reset(v);
	}
	if (!a->type) {
		a->got = calloc(nparts, sizeof(*a->got));
		if (!a->got)
			return GW_ASM_BOGUS;
		a->type = m->type;
		a->gen = m->gen;
		a->flags = m->flags;
		a->nparts = nparts;
		a->total = total;
		a->has_store_id = m->has_store_id;
		memcpy(a->store_id, m->store_id, sizeof(a->store_id));
	}
	if (a->got[part - 1])
		return GW_ASM_DUP;
	/* Parts that bring more members than the total announced, or a store
	 * identity that changes between parts, are not one list. */
	if (a->n + m->n_members > a->total || a->has_store_id != m->has_store_id ||
	    (m->has_store_id && memcmp(a->store_id, m->store_id, sizeof(a->store_id)))) {
		gw_view_asm_reset(v);
		return GW_ASM_BOGUS;
	}
	if (a->n + m->n_members > a->cap) {
		/* Grown as members arrive, not allocated from TOTAL: a bogus
		 * total costs nothing. */
		unsigned int cap = a->cap ? a->cap : 16;
		struct roster_member *nm;

		while (cap < a->n + m->n_members)
			cap *= 2;
		nm = realloc(a->m, cap * sizeof(*nm));
		if (!nm) {
			gw_view_asm_reset(v);
			return GW_ASM_BOGUS;
		}
		a->m = nm;
		a->cap = cap;
	}
	if (m->n_members)
		memcpy(a->m + a->n, m->members, m->n_members * sizeof(*m->members));
	a->n += m->n_members;
	a->got[part - 1] = true;
	if (++a->have < a->nparts)
		return GW_ASM_MORE;
	if (a->n != a->total) {
		gw_view_asm_reset(v);
		return GW_ASM_BOGUS;
	}
	return GW_ASM_DONE;
}

/* ---- ordering ------------------------------------------------------------ */

/*
 * The kernel is the judge of order: a stamped change applies only at the
 * table's generation + 1. The view only keeps what came too early
 * (-ESTALE, or -ENOENT while the table is not there yet) until what it
 * waits for arrives, bounded, and says when to stop waiting.
 */
static void hold_remove(struct gw_view *v, unsigned int i)
{
	memmove(&v->hold[i], &v->hold[i + 1], (v->n_hold - i - 1) * sizeof(v->hold[0]));
	if (!--v->n_hold)
		v->gap_deadline = 0;
}

static enum gw_act hold(struct gw_view *v, const struct gw_change *c, int64_t now)
{
	enum gw_act act = GW_ACT_NONE;
	unsigned int i = 0;

	while (i < v->n_hold && v->hold[i].gen < c->gen)
		i++;
	if (i < v->n_hold && v->hold[i].gen == c->gen)
		return GW_ACT_NONE;	/* a retransmission of one held */
	if (v->n_hold == GW_HOLD_MAX) {
		/* Too far behind to wait change by change: the list will
		 * bring it all. Keep the oldest, which apply first. */
		act = GW_ACT_SYNC;
		if (i == v->n_hold)
			return act;
		v->n_hold--;
	}
	memmove(&v->hold[i + 1], &v->hold[i], (v->n_hold - i) * sizeof(v->hold[0]));
	v->hold[i] = *c;
	v->n_hold++;
	if (!v->gap_deadline)
		v->gap_deadline = now + GW_GAP_WAIT_MS;
	return act;
}

enum gw_act gw_view_verdict(struct gw_view *v, const struct gw_change *c, int verdict,
			    int64_t now)
{
	switch (verdict) {
	case 0:
		return GW_ACT_DRAIN;
	case -EALREADY:
		return GW_ACT_NONE;
	case -ESTALE:
	case -ENOENT:
		return hold(v, c, now);
	default:
		/* The table and the manager disagree (a member that should be
		 * there is not, a prefix still held): only a list repairs it. */
		return GW_ACT_SYNC;
	}
}

bool gw_view_held(const struct gw_view *v, struct gw_change *out)
{
	if (!v->n_hold)
		return false;
	*out = v->hold[0];
	return true;
}

enum gw_act gw_view_held_verdict(struct gw_view *v, int verdict)
{
	if (!v->n_hold)
		return GW_ACT_NONE;
	switch (verdict) {
	case 0:
	case -EALREADY:
		hold_remove(v, 0);
		return GW_ACT_DRAIN;
	case -ESTALE:
	case -ENOENT:
		return GW_ACT_NONE;
	default:
		hold_remove(v, 0);
		return GW_ACT_SYNC;
	}
}

void gw_view_drop_held(struct gw_view *v)
{
	v->n_hold = 0;
	v->gap_deadline = 0;
}

int64_t gw_view_deadline(const struct gw_view *v)
{
	return v->gap_deadline;
}

enum gw_act gw_view_tick(struct gw_view *v, int64_t now)
{
	if (!v->gap_deadline || now < v->gap_deadline)
		return GW_ACT_NONE;
	/* Keep what is held: the list may stop short of it. Ask again if
	 * the list does not come either. */
	v->gap_deadline = now + GW_GAP_WAIT_MS;
	return GW_ACT_SYNC;
}

/* ---- whom a list is from --------------------------------------------------- */

/*
 * The rule (Documentation/rosterd.rst, "Store identity"):
 *
 * - A list of members is applied: it removes nothing the manager's table
 *   does not lack, and a gateway that refused one would stay cut off. One
 *   from a store other than the known one (the manager's state was
 *   replaced) is adopted: the table is rebased on its generations, as
 *   those of the old store mean nothing to the new one. A gateway that
 *   knows no store yet (enrolled by an earlier version) learns it here.
 *   A list older than a following table is old: ignored.
 * - "Not a member" is obeyed only from the known store, at a generation
 *   newer than the table's: a manager that lost its state, or a stale
 *   answer, must not tear down a site. A manager that sends no store
 *   identity (an earlier version) is obeyed by a gateway that knows none
 *   either, under the same generation test: both sides of that pair
 *   predate identities, and the gateway could not be removed otherwise.
 *   Anything else is answered with a JOIN_REQ, removing nothing; a list
 *   of members in return teaches the gateway the store.
 * - With no table here there is nothing to tear down: obeyed, unless
 *   the gateway is waiting for the JOIN of its JOIN_REQ: a leader that
 *   took the join and lost its term (its commit fenced) dropped it, and
 *   only the gateway can ask again.
 */
enum gw_list_rule gw_view_list_rule(const struct gw_asm *a, const struct gw_store *s,
				    const struct gw_local *t, bool *learn)
{
	bool same = s->known && a->has_store_id && !memcmp(s->id, a->store_id, sizeof(s->id));

	*learn = false;
	if (a->flags & RD_F_NOT_MEMBER) {
		bool trusted = same || (!s->known && !a->has_store_id);

		/* Our join, taken and then lost with its leader's term (the
		 * commit fenced): asked again. An expiry says so itself. */
		if (!t->have)
			return t->awaiting && !(a->flags & RD_F_REJOIN) ? GW_LIST_REJOIN :
			       GW_LIST_REMOVE;
		if (trusted && (!t->follower || a->gen > t->gen))
			return GW_LIST_REMOVE;
		return GW_LIST_REJOIN;
	}
	if (a->has_store_id && s->known && !same) {
		*learn = true;
		return GW_LIST_ADOPT;
	}
	if (t->have && t->follower && a->gen < t->gen)
		return GW_LIST_OLD;
	*learn = a->has_store_id && !s->known;
	return GW_LIST_APPLY;
}
