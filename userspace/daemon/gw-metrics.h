/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd gateway: its metrics file (gw-metrics.c). */
#ifndef RD_GW_METRICS_H
#define RD_GW_METRICS_H

#include <stdint.h>

#include "roster.h"
#include "config.h"

/* Rewrite c->metrics_file if it is due at now_ms (the first call writes
 * it); returns when the next write is due (ms, rd_now_ms), 0 if there is
 * no file. */
int64_t gw_metrics_tick(const struct rd_config *c, struct roster_handle *rh, int64_t now_ms);
/* The daemon stops: its file goes, so that nothing reads a stopped
 * daemon's gauges as current. */
void gw_metrics_stop(const struct rd_config *c);

#endif /* RD_GW_METRICS_H */
