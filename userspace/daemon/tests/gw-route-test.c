// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd unit test of the gateway's route rule (gw-wg.c): a member's
 * prefix that contains the manager's underlay address or a peer's
 * endpoint is never routed into the VPN interface, whatever the manager
 * sent. KTAP on stdout; exit status non-zero if any test failed.
 */
#include <stdio.h>
#include <string.h>

#include "gw-wg.h"
#include "log.h"
#include "util.h"

#include "unit.h"

static struct roster_prefix P(const char *s)
{
	struct roster_prefix p;

	if (roster_prefix_parse(s, &p, NULL))
		printf("# bad prefix in the test: %s\n", s);
	return p;
}

static void t_underlay(void)
{
	struct roster_addr mgr[2], *none = NULL;
	struct rd_wg_peer want[2] = { 0 };
	struct roster_prefix p;
	const struct roster_addr *u;

	roster_addr_parse("192.0.2.1", &mgr[0]);
	roster_addr_parse("198.51.100.7", &mgr[1]);
	want[0].has_endpoint = true;
	roster_addr_parse("192.0.2.12", &want[0].endpoint);
	want[1].has_endpoint = false;	/* learnt, not given: nothing to protect */
	p = P("192.0.2.1/32");
	u = gw_wg_covers_underlay(mgr, 2, want, 2, &p);
	EXPECT(u && rd_addr_eq(u, &mgr[0]));
	/* every manager of the set, not only the one in use */
	p = P("198.51.100.0/24");
	EXPECT(gw_wg_covers_underlay(mgr, 2, want, 2, &p) == &mgr[1]);
	EXPECT(gw_wg_covers_underlay(mgr, 1, want, 2, &p) == NULL);
	p = P("0.0.0.0/0");
	EXPECT(gw_wg_covers_underlay(mgr, 2, want, 2, &p) == &mgr[0]);
	p = P("192.0.2.8/29");
	u = gw_wg_covers_underlay(mgr, 2, want, 2, &p);
	EXPECT(u == &want[0].endpoint);
	p = P("192.0.2.8/29");
	EXPECT(gw_wg_covers_underlay(none, 0, want, 0, &p) == NULL);
	p = P("10.3.0.0/24");
	EXPECT(gw_wg_covers_underlay(mgr, 2, want, 2, &p) == NULL);
	p = P("::/0");
	EXPECT(gw_wg_covers_underlay(mgr, 2, want, 2, &p) == NULL);
}

int main(void)
{
	rd_log_level = RD_LOG_ERROR;
	printf("KTAP version 1\n1..1\n");
	run("gateway: no route over a manager's or a peer's underlay address", t_underlay);
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
