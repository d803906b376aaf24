// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd unit tests: the gateway's choice of manager (gw-failover.h),
 * every input in every state that tells them apart. KTAP; no kernel, no
 * privileges, no I/O.
 */
#include <stdbool.h>

#include "gw-failover.h"

#include "unit.h"

/* f is (n, cur, heard) */
static bool is(const struct gw_failover *f, unsigned int n, unsigned int cur, bool heard)
{
	return f->n == n && f->cur == cur && f->heard == heard;
}

static void t_init(void)
{
	struct gw_failover f;

	gw_failover_init(&f, 3, 2);
	EXPECT(is(&f, 3, 2, false) && !gw_failover_leads(&f));
	/* out of range: the first */
	gw_failover_init(&f, 3, 3);
	EXPECT(is(&f, 3, 0, false));
	/* never an empty set */
	gw_failover_init(&f, 0, 0);
	EXPECT(is(&f, 1, 0, false));
	/* one manager leads as it is */
	gw_failover_init(&f, 1, 0);
	EXPECT(gw_failover_leads(&f));
}

static void t_heard(void)
{
	struct gw_failover f;

	gw_failover_init(&f, 3, 0);
	/* from the current one: no change, now heard */
	EXPECT(!gw_failover_heard(&f, 0) && is(&f, 3, 0, true) && gw_failover_leads(&f));
	/* from another: it is current, and heard */
	EXPECT(gw_failover_heard(&f, 2) && is(&f, 3, 2, true));
	/* from the same again: nothing */
	EXPECT(!gw_failover_heard(&f, 2) && is(&f, 3, 2, true));
	/* from outside the set: nothing */
	EXPECT(!gw_failover_heard(&f, 3) && is(&f, 3, 2, true));
	/* after a move by silence, the new one's first message makes it heard */
	EXPECT(gw_failover_silent(&f, 2) && is(&f, 3, 0, false));
	EXPECT(!gw_failover_heard(&f, 0) && is(&f, 3, 0, true));
}

static void t_standby(void)
{
	struct gw_failover f;

	gw_failover_init(&f, 3, 0);
	/* the current one names a leader in the set: to it, not heard yet */
	EXPECT(gw_failover_standby(&f, 0, 2) && is(&f, 3, 2, false) && !gw_failover_leads(&f));
	/* the same from a manager left already, naming the current one: stay */
	EXPECT(!gw_failover_standby(&f, 0, 2) && is(&f, 3, 2, false));
	/* ... and once the leader was heard, it still is */
	EXPECT(!gw_failover_heard(&f, 2) && is(&f, 3, 2, true));
	EXPECT(!gw_failover_standby(&f, 1, 2) && is(&f, 3, 2, true));
	/* a manager left already names another leader: it knows better */
	EXPECT(gw_failover_standby(&f, 0, 1) && is(&f, 3, 1, false));
	/* the current one names none: the next, round robin */
	EXPECT(gw_failover_standby(&f, 1, -1) && is(&f, 3, 2, false));
	EXPECT(gw_failover_standby(&f, 2, -1) && is(&f, 3, 0, false));
	/* ... or names itself (no leader then), or one outside the set */
	EXPECT(gw_failover_standby(&f, 0, 0) && is(&f, 3, 1, false));
	EXPECT(gw_failover_standby(&f, 1, 3) && is(&f, 3, 2, false));
	/* a manager left already names none: the current one stays */
	EXPECT(!gw_failover_standby(&f, 0, -1) && is(&f, 3, 2, false));
	/* heard, then EROFS from it: it is a standby now, not heard */
	EXPECT(!gw_failover_heard(&f, 2) && is(&f, 3, 2, true));
	EXPECT(gw_failover_standby(&f, 2, -1) && is(&f, 3, 0, false));
	/* from outside the set: nothing */
	EXPECT(!gw_failover_standby(&f, 5, 1) && is(&f, 3, 0, false));
	/* one manager: nowhere to go, but no longer taken as heard */
	gw_failover_init(&f, 1, 0);
	gw_failover_heard(&f, 0);
	EXPECT(!gw_failover_standby(&f, 0, -1) && is(&f, 1, 0, false) && gw_failover_leads(&f));
	EXPECT(!gw_failover_standby(&f, 0, 0) && is(&f, 1, 0, false));
	/* two: the other */
	gw_failover_init(&f, 2, 1);
	EXPECT(gw_failover_standby(&f, 1, -1) && is(&f, 2, 0, false));
}

static void t_silent(void)
{
	struct gw_failover f;

	gw_failover_init(&f, 3, 1);
	gw_failover_heard(&f, 1);
	/* the current one: the next, round robin, not heard */
	EXPECT(gw_failover_silent(&f, 1) && is(&f, 3, 2, false));
	EXPECT(gw_failover_silent(&f, 2) && is(&f, 3, 0, false));
	EXPECT(gw_failover_silent(&f, 0) && is(&f, 3, 1, false));
	/* one left already: nothing */
	EXPECT(!gw_failover_silent(&f, 0) && is(&f, 3, 1, false));
	EXPECT(!gw_failover_silent(&f, 7) && is(&f, 3, 1, false));
	/* one manager: it stays (the request's give-up acts, as it did) */
	gw_failover_init(&f, 1, 0);
	gw_failover_heard(&f, 0);
	EXPECT(!gw_failover_silent(&f, 0) && is(&f, 1, 0, true));
}

static void t_reset(void)
{
	struct gw_failover f;

	gw_failover_init(&f, 3, 2);
	gw_failover_heard(&f, 2);
	/* the current one is still in the set, elsewhere: no change, heard kept */
	EXPECT(!gw_failover_reset(&f, 5, 4) && is(&f, 5, 4, true));
	/* it went: the first one, not heard */
	EXPECT(gw_failover_reset(&f, 2, -1) && is(&f, 2, 0, false));
	/* an index the set does not have is "went" too */
	gw_failover_heard(&f, 1);
	EXPECT(gw_failover_reset(&f, 1, 1) && is(&f, 1, 0, false) && gw_failover_leads(&f));
	/* never an empty set */
	EXPECT(gw_failover_reset(&f, 0, -1) && is(&f, 1, 0, false));
}

int main(void)
{
	printf("TAP version 13\n1..5\n");
	run("failover: init", t_init);
	run("failover: a message from a manager", t_heard);
	run("failover: EROFS from a standby, with and without a leader", t_standby);
	run("failover: a request unacknowledged after K retransmissions", t_silent);
	run("failover: the set changes", t_reset);
	return failed ? 1 : 0;
}
