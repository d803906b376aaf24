// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: the metrics file. The process's counters (metrics.c),
 * then per configured VPN its view's generation and member count as the
 * gateway's own roster.ko table holds them (0 while it has not joined),
 * and the errors of the WireGuard reconciler (gw-wg.c). The names are the
 * manager's (mgr-metrics.c): a gateway's rosterd_vpn_generation behind
 * the manager's for long is a gateway that misses changes.
 */
#include <stdio.h>

#include "metrics.h"
#include "gw-metrics.h"
#include "gw-table.h"

static int64_t next_write;

static void vpn_gauges(struct rd_prom *w, const struct rd_config *c, struct roster_handle *rh)
{
	uint64_t gen[RD_MAX_VPNS] = { 0 };
	uint32_t n[RD_MAX_VPNS] = { 0 };
	char id[RD_MAX_VPNS][12];

	for (unsigned int i = 0; i < c->n_vpns; i++) {
		struct gw_local t;

		snprintf(id[i], sizeof(id[i]), "%u", c->vpns[i].id);
		if (rh && !gw_table_get(rh, c->vpns[i].id, &t, &n[i]))
			gen[i] = t.gen;
	}
	rd_prom_family(w, "rosterd_vpn_generation", "gauge",
		       "The generation of the gateway's view of the VPN (0: not joined).");
	for (unsigned int i = 0; i < c->n_vpns; i++)
		rd_prom_u64(w, "rosterd_vpn_generation", gen[i], "vpn", id[i], NULL);
	rd_prom_family(w, "rosterd_vpn_members", "gauge",
		       "Members in the gateway's view of the VPN, itself included (0: not joined).");
	for (unsigned int i = 0; i < c->n_vpns; i++)
		rd_prom_u64(w, "rosterd_vpn_members", n[i], "vpn", id[i], NULL);
	rd_prom_family(w, "rosterd_wg_reconcile_errors_total", "counter",
		       "Steps of WireGuard and route reconciliation that failed, per VPN.");
	for (unsigned int i = 0; i < c->n_vpns; i++)
		rd_prom_u64(w, "rosterd_wg_reconcile_errors_total",
			    rd_metrics_reconcile_errors(c->vpns[i].id), "vpn", id[i], NULL);
}

int64_t gw_metrics_tick(const struct rd_config *c, struct roster_handle *rh, int64_t now_ms)
{
	struct rd_prom w = { 0 };

	if (!c->metrics_file[0])
		return 0;
	if (!rd_metrics_due(&next_write, now_ms, c->metrics_interval))
		return next_write;
	rd_prom_counters(&w, "gateway");
	vpn_gauges(&w, c, rh);
	rd_metrics_write(&w, c->metrics_file);
	return next_write;
}

void gw_metrics_stop(const struct rd_config *c)
{
	rd_metrics_remove(c->metrics_file);
}
