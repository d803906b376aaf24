// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd gateway: which manager to talk to (gw-failover.h). No I/O. */
#include "gw-failover.h"

void gw_failover_init(struct gw_failover *f, unsigned int n, unsigned int cur)
{
	f->n = n ? n : 1;
	f->cur = cur < f->n ? cur : 0;
	f->heard = false;
}

/* cur becomes i: true if that is a change. heard is the new manager's. */
static bool move(struct gw_failover *f, unsigned int i, bool heard)
{
	bool changed = i != f->cur;

	f->cur = i;
	f->heard = heard;
	return changed;
}

bool gw_failover_heard(struct gw_failover *f, unsigned int i)
{
	if (i >= f->n)
		return false;
	return move(f, i, true);
}

bool gw_failover_standby(struct gw_failover *f, unsigned int i, int leader)
{
	if (i >= f->n)
		return false;
	/* The leader it names, unless that is itself (it is no leader: it
	 * says so) or not in the set (the gateway could not reach it). */
	if (leader >= 0 && (unsigned int)leader < f->n && (unsigned int)leader != i) {
		if ((unsigned int)leader == f->cur)
			return false;
		return move(f, (unsigned int)leader, false);
	}
	/* A late answer from a manager already left says nothing of the
	 * current one. */
	if (i != f->cur)
		return false;
	return move(f, (f->cur + 1) % f->n, false);
}

bool gw_failover_silent(struct gw_failover *f, unsigned int i)
{
	/* A request to a manager left already was dropped with its queue; it
	 * cannot time out, but if it did it would say nothing of cur. */
	if (i != f->cur || f->n == 1)
		return false;
	return move(f, (f->cur + 1) % f->n, false);
}

bool gw_failover_reset(struct gw_failover *f, unsigned int n, int cur)
{
	f->n = n ? n : 1;
	if (cur >= 0 && (unsigned int)cur < f->n) {
		f->cur = (unsigned int)cur;
		return false;
	}
	f->cur = 0;
	f->heard = false;
	return true;
}

bool gw_failover_leads(const struct gw_failover *f)
{
	return f->heard || f->n == 1;
}
