/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: the request rate limit (mgr-limit.c), a token bucket
 * per gateway. Pure: the caller passes the time.
 */
#ifndef RD_MGR_LIMIT_H
#define RD_MGR_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* A bucket holds up to burst tokens and gains rate of them per second;
 * a request takes one. rate 0: no limit. */
struct mgr_limit {
	uint32_t rate;
	uint32_t burst;
};

struct mgr_bucket {
	bool init;
	uint64_t milli;			/* tokens, in thousandths */
	int64_t at;			/* ms of the last refill */
	/* Requests refused since the last report, and when it was. */
	uint32_t refused;
	int64_t reported;
};

/* Take a token at now (ms); false: none left, the request is refused
 * (counted in b->refused). A new bucket starts full. */
bool mgr_bucket_take(struct mgr_bucket *b, const struct mgr_limit *l, int64_t now);
/* The refusals should be reported now (the first one of a run, then at
 * most every interval_ms): returns how many to report and resets the
 * count, or 0. */
uint32_t mgr_bucket_report(struct mgr_bucket *b, int64_t now, int64_t interval_ms);

#endif /* RD_MGR_LIMIT_H */
