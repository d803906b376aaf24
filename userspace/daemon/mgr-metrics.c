// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: the metrics file. The process's counters (metrics.c),
 * the enrolled gateways and how many were heard from lately (mgr-live.c),
 * each gateway's last-seen time, the pending invitations, the bounds'
 * refusals, and per VPN its generation and member count as roster.ko
 * holds them: one dump of the VPN list, no member dump, whatever the size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"
#include "mgr-live.h"
#include "mgr-metrics.h"
#include "util.h"

/* A gateway states its view every sync-interval +-20 % (gateway.c,
 * periodic_sync; 30 s unless its configuration says otherwise, which the
 * manager does not see): silent longer than the interval's upper end, it
 * missed at least one. */
#define SEEN_WINDOW_S (30 * 12 / 10)

static int64_t next_write;

static void gateway_gauges(struct mgr *m, struct rd_prom *w, uint64_t now_s)
{
	/* One look-up per gateway: at 65 536 of them it is most of a write. */
	uint64_t *seen_at = calloc(m->ngws ? m->ngws : 1, sizeof(*seen_at));
	unsigned int seen = 0;

	for (unsigned int i = 0; i < m->ngws && seen_at; i++) {
		seen_at[i] = mgr_live_last_seen(m, &m->gws[i].id);
		seen += seen_at[i] && seen_at[i] + SEEN_WINDOW_S >= now_s;
	}
	if (!seen_at) {
		w->oom = true;
		return;
	}
	rd_prom_family(w, "rosterd_gateways_enrolled", "gauge", "Enrolled gateways.");
	rd_prom_u64(w, "rosterd_gateways_enrolled", m->ngws, NULL);
	rd_prom_family(w, "rosterd_gateways_seen", "gauge",
		       "Enrolled gateways heard from within the last 36 s (their sync interval of "
		       "30 s, +20 %): a control message, or a handshake on the control tunnel.");
	rd_prom_u64(w, "rosterd_gateways_seen", seen, NULL);
	rd_prom_family(w, "rosterd_gateway_last_seen_time_seconds", "gauge",
		       "When each enrolled gateway was last heard from, seconds since the epoch "
		       "(0: never).");
	for (unsigned int i = 0; i < m->ngws; i++)
		rd_prom_u64(w, "rosterd_gateway_last_seen_time_seconds", seen_at[i], "id",
			    rd_ntop(&m->gws[i].id), NULL);
	free(seen_at);
	rd_prom_family(w, "rosterd_invitations_pending", "gauge",
		       "Invitations not redeemed yet, and not expired.");
	rd_prom_u64(w, "rosterd_invitations_pending", m->ninv, NULL);
	rd_prom_family(w, "rosterd_sends_refused_total", "counter",
		       "Messages not queued: the queue to the gateway was full (peer-queue-kib).");
	rd_prom_u64(w, "rosterd_sends_refused_total", m->refused_sends, NULL);
	rd_prom_family(w, "rosterd_requests_refused_total", "counter",
		       "Requests dropped over a gateway's rate limit (request-rate).");
	rd_prom_u64(w, "rosterd_requests_refused_total", m->refused_requests, NULL);
}

static void vpn_gauges(struct mgr *m, struct rd_prom *w)
{
	struct roster_vpn *v = NULL;
	size_t n = 0;

	/* Without the table (a unit test) or when its dump fails the VPN
	 * families are left out, not written as zeros. */
	if (!m->rh || roster_vpn_list(m->rh, &v, &n))
		return;
	rd_prom_family(w, "rosterd_vpn_generation", "gauge", "The VPN's generation.");
	for (size_t i = 0; i < n; i++) {
		char id[12];

		snprintf(id, sizeof(id), "%u", v[i].id);
		rd_prom_u64(w, "rosterd_vpn_generation", v[i].generation, "vpn", id, NULL);
	}
	rd_prom_family(w, "rosterd_vpn_members", "gauge", "Members of the VPN.");
	for (size_t i = 0; i < n; i++) {
		char id[12];

		snprintf(id, sizeof(id), "%u", v[i].id);
		rd_prom_u64(w, "rosterd_vpn_members", v[i].member_count, "vpn", id, NULL);
	}
	free(v);
}

void mgr_metrics_build(struct mgr *m, struct rd_prom *w, uint64_t now_s)
{
	rd_prom_counters(w, "manager");
	rd_prom_fanout(w);
	gateway_gauges(m, w, now_s);
	vpn_gauges(m, w);
}

int64_t mgr_metrics_tick(struct mgr *m, int64_t now_ms)
{
	struct rd_prom w = { 0 };

	if (!m->c->metrics_file[0])
		return 0;
	if (!rd_metrics_due(&next_write, now_ms, m->c->metrics_interval))
		return next_write;
	mgr_metrics_build(m, &w, (uint64_t)time(NULL));
	rd_metrics_write(&w, m->c->metrics_file);
	return next_write;
}

void mgr_metrics_stop(struct mgr *m)
{
	rd_metrics_remove(m->c->metrics_file);
}
