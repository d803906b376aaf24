/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd manager: its metrics file (mgr-metrics.c). */
#ifndef RD_MGR_METRICS_H
#define RD_MGR_METRICS_H

#include <stdint.h>

#include "metrics.h"
#include "mgr.h"

/* Rewrite the metrics file if it is due at now_ms (the first call writes
 * it); returns when the next write is due (ms, rd_now_ms), 0 if there is
 * no file. */
int64_t mgr_metrics_tick(struct mgr *m, int64_t now_ms);
/* The text without writing it (the unit tests): the counters and the
 * gauges at wall-clock time now_s. */
void mgr_metrics_build(struct mgr *m, struct rd_prom *w, uint64_t now_s);
/* The daemon stops: its file goes (metrics.h, rd_metrics_remove). */
void mgr_metrics_stop(struct mgr *m);

#endif /* RD_MGR_METRICS_H */
