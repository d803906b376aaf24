// SPDX-License-Identifier: GPL-2.0-or-later
/* The manager's per-gateway token bucket (mgr-limit.c). KTAP on stdout. */
#include <stdio.h>

#include "mgr-limit.h"

#include "unit.h"

static unsigned int take_n(struct mgr_bucket *b, const struct mgr_limit *l, int64_t now,
			   unsigned int n)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += mgr_bucket_take(b, l, now);
	return ok;
}

static void t_burst_and_rate(void)
{
	const struct mgr_limit l = { .rate = 20, .burst = 100 };
	struct mgr_bucket b = { 0 };

	/* a new bucket is full: the burst passes, the rest not */
	EXPECT(take_n(&b, &l, 1000, 150) == 100);
	EXPECT(b.refused == 50);
	/* 20 per second: 1 per 50 ms, exactly */
	EXPECT(take_n(&b, &l, 1049, 5) == 0);
	EXPECT(take_n(&b, &l, 1050, 5) == 1);
	EXPECT(take_n(&b, &l, 2050, 100) == 20);
	/* a long silence refills to the burst, never past it */
	EXPECT(take_n(&b, &l, 1000000000, 1000) == 100);
	/* time going back refills nothing */
	EXPECT(take_n(&b, &l, 5, 10) == 0);
}

static void t_slow_rate(void)
{
	const struct mgr_limit l = { .rate = 1, .burst = 1 };
	struct mgr_bucket b = { 0 };

	EXPECT(take_n(&b, &l, 0, 3) == 1);
	EXPECT(take_n(&b, &l, 999, 1) == 0);
	EXPECT(take_n(&b, &l, 1000, 2) == 1);
}

static void t_unlimited(void)
{
	const struct mgr_limit l = { .rate = 0, .burst = 0 };
	struct mgr_bucket b = { 0 };

	EXPECT(take_n(&b, &l, 0, 100000) == 100000);
	EXPECT(b.refused == 0);
}

static void t_report(void)
{
	const struct mgr_limit l = { .rate = 1, .burst = 1 };
	struct mgr_bucket b = { 0 };

	EXPECT(mgr_bucket_report(&b, 100, 10000) == 0);	/* nothing refused */
	take_n(&b, &l, 100, 5);
	/* the first refusal of a run at once, then once per interval */
	EXPECT(mgr_bucket_report(&b, 100, 10000) == 4);
	take_n(&b, &l, 200, 3);
	EXPECT(mgr_bucket_report(&b, 5000, 10000) == 0);
	EXPECT(mgr_bucket_report(&b, 10100, 10000) == 3);
	EXPECT(mgr_bucket_report(&b, 30000, 10000) == 0);
}

int main(void)
{
	printf("KTAP version 1\n1..4\n");
	run("limit: a full bucket passes the burst, then the rate", t_burst_and_rate);
	run("limit: one per second", t_slow_rate);
	run("limit: rate 0 is no limit", t_unlimited);
	run("limit: refusals are reported at once, then once per interval", t_report);
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
