// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: a token bucket per gateway. Integer arithmetic in
 * thousandths of a token, so that rates below one per millisecond refill
 * exactly and nothing depends on floating point.
 */
#include "mgr-limit.h"

bool mgr_bucket_take(struct mgr_bucket *b, const struct mgr_limit *l, int64_t now)
{
	uint64_t cap = (uint64_t)l->burst * 1000;

	if (!l->rate)
		return true;
	if (!b->init) {
		b->init = true;
		b->milli = cap;
		b->at = now;
	}
	if (now > b->at) {
		/* rate per second is rate thousandths per ms; a long silence
		 * cannot overflow since the bucket is capped. */
		uint64_t dt = (uint64_t)(now - b->at);

		b->milli = dt >= cap ? cap : b->milli + dt * l->rate;
		if (b->milli > cap)
			b->milli = cap;
		b->at = now;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return true;
	}
	b->refused++;
	return false;
}

uint32_t mgr_bucket_report(struct mgr_bucket *b, int64_t now, int64_t interval_ms)
{
	uint32_t n = b->refused;

	if (!n || (b->reported && now - b->reported < interval_ms))
		return 0;
	b->refused = 0;
	b->reported = now;
	return n;
}
