/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: Prometheus metrics (metrics.c). The daemon's counters, kept
 * for the whole process (one process is one manager or one gateway), a
 * histogram, and a writer of the text exposition format that replaces a
 * file atomically for node_exporter's textfile collector
 * (Documentation/operations.rst, "Metrics").
 *
 * The counting hooks are single calls from the code that does the work
 * (rel.c, mgr-fanout.c, gw-wg.c); the producers (mgr-metrics.c,
 * gw-metrics.c) add the gauges read at write time.
 */
#ifndef RD_METRICS_H
#define RD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "config.h"
#include "proto.h"

/* Bounds of one histogram, at most (+Inf not counted). */
#define RD_HIST_MAX 16

struct rd_hist {
	const double *bounds;		/* n ascending upper bounds; +Inf implied */
	unsigned int n;
	uint64_t counts[RD_HIST_MAX + 1];	/* per bucket, not cumulative; [n]: +Inf */
	uint64_t count;
	double sum;
};

void rd_hist_observe(struct rd_hist *h, double v);

/* A per-VPN counter; a gateway has at most RD_MAX_VPNS VPNs. */
struct rd_vpn_count {
	uint32_t vpn;
	uint64_t n;
};

/* The message directions counted per type. */
enum rd_msg_dir { RD_M_SENT, RD_M_RECEIVED, RD_M_RETRANSMITTED, RD_M_GAVE_UP, __RD_M_DIR_MAX };

#define RD_M_REASONS 3		/* roster_reason: requested, admin, expired */

struct rd_metrics {
	uint64_t msgs[__RD_M_DIR_MAX][__RD_TYPE_MAX];
	uint64_t joins;
	uint64_t leaves[RD_M_REASONS + 1];	/* the last: a reason not known here */
	uint64_t resyncs;
	struct rd_hist fanout;
	struct rd_vpn_count reconcile_errors[RD_MAX_VPNS];
	unsigned int n_reconcile;
	uint64_t start_time;		/* unix seconds */
};

extern struct rd_metrics rd_metrics;

/* ---- the hooks ------------------------------------------------------- */

/* A message of type, sent (first transmission or ACK), received (decoded
 * from an authenticated peer, duplicates included), retransmitted, or
 * given up after the last try. */
void rd_metrics_msg(enum rd_msg_dir dir, unsigned int type);
/* A member change committed and fanned out (mgr-fanout.c): a join (an
 * update is neither), or a leave per reason; and the fan-out's duration,
 * from start_us (rd_metrics_now_us, taken when the notification is read). */
void rd_metrics_fanned_out(const struct roster_event *ev, int64_t start_us);
/* A whole list sent to a gateway whose view was behind, or absent. */
void rd_metrics_resync(void);
int64_t rd_metrics_now_us(void);
/* A step of a reconcile pass of vpn's WireGuard interface or routes
 * (gw-wg.c) returned ret: an error if not 0. */
void rd_metrics_reconcile(uint32_t vpn, int ret);
uint64_t rd_metrics_reconcile_errors(uint32_t vpn);
/* Zero everything (the process start, the unit tests). */
void rd_metrics_reset(void);

/* ---- the text format ---------------------------------------------------- */

/* The exposition text, built in memory and written in one piece. A
 * failed allocation makes rd_prom_commit fail; nothing else does. */
struct rd_prom {
	char *buf;
	size_t len, cap;
	bool oom;
};

/* # HELP and # TYPE (type: counter, gauge, histogram). */
void rd_prom_family(struct rd_prom *w, const char *name, const char *type, const char *help);
/* One sample: name{k1="v1",...} value; the labels are (key, value)
 * string pairs ending with NULL; values are escaped. */
void rd_prom_u64(struct rd_prom *w, const char *name, uint64_t v, ...);
void rd_prom_f64(struct rd_prom *w, const char *name, double v, ...);
/* A histogram's _bucket, _sum and _count samples (no labels). */
void rd_prom_hist(struct rd_prom *w, const char *name, const struct rd_hist *h);
/* The counters both daemons keep (rd_metrics), for role ("manager",
 * "gateway"): identity, start and write times, messages per type. */
void rd_prom_counters(struct rd_prom *w, const char *role);
/* The manager's: joins, leaves per reason, resyncs, fan-out durations. */
void rd_prom_fanout(struct rd_prom *w);
/* Replace path with the text: written to a hidden file in the same
 * directory (which the collector's *.prom glob skips), mode 0644, then
 * renamed over path, so that a reader sees the old file or the new one,
 * never a part. On error the old file stays; returns -errno. */
int rd_prom_commit(struct rd_prom *w, const char *path);
void rd_prom_free(struct rd_prom *w);
/* rd_prom_commit, then rd_prom_free; a failure is logged when it starts
 * or changes, and the recovery once, not every interval. */
int rd_metrics_write(struct rd_prom *w, const char *path);
/* The daemon stops: its file goes (path empty: none), so that nothing
 * takes a stopped daemon's gauges for current ones. */
void rd_metrics_remove(const char *path);

/* The timer shared by the producers: true (and *next_ms moved on) when a
 * write is due at now_ms; interval_s 0 or no path: never. */
bool rd_metrics_due(int64_t *next_ms, int64_t now_ms, unsigned int interval_s);
/* The ms until *next_ms, for a poll timeout; -1 if never. */
int rd_metrics_timeout(int64_t next_ms, int64_t now_ms);

#endif /* RD_METRICS_H */
