// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: the address-space policy of a JOIN_REQ (mgr-policy.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mgr.h"
#include "mgr-policy.h"
#include "netif.h"
#include "util.h"

bool mgr_prefix_covers(const struct roster_prefix *a, const struct roster_prefix *b)
{
	return a->len <= b->len && rd_prefix_contains(a, &b->addr);
}

/* Two prefixes share an address only if one contains the other. */
bool mgr_prefix_overlaps(const struct roster_prefix *a, const struct roster_prefix *b)
{
	return mgr_prefix_covers(a, b) || mgr_prefix_covers(b, a);
}

static const char *pfx_text(const struct roster_prefix *p, char *buf, size_t len)
{
	roster_prefix_format(p, buf, len);
	return buf;
}

static int refuse(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EPERM;
}

static bool invited(const struct rd_entry *gw, const struct roster_prefix *p)
{
	if (!gw->has_prefixes)
		return true;
	for (unsigned int i = 0; i < gw->n_prefixes; i++)
		if (mgr_prefix_covers(&gw->prefixes[i], p))
			return true;
	return false;
}

/* One announced prefix against everything but the members. */
static int check_one(const struct mgr_policy_in *in, const struct roster_prefix *p, char *why,
		     size_t len)
{
	char a[ROSTER_ADDR_STRLEN], b[ROSTER_ADDR_STRLEN];

	if (!p->len)
		return refuse(why, len, "prefix %s has length 0: never routed into a VPN",
			      pfx_text(p, a, sizeof(a)));
	if (mgr_prefix_overlaps(p, in->control_prefix))
		return refuse(why, len, "prefix %s overlaps the control prefix %s",
			      pfx_text(p, a, sizeof(a)), pfx_text(in->control_prefix, b, sizeof(b)));
	if (in->mgr_endpoint && rd_prefix_contains(p, in->mgr_endpoint))
		return refuse(why, len, "prefix %s covers the manager's endpoint %s",
			      pfx_text(p, a, sizeof(a)), rd_ntop(in->mgr_endpoint));
	if (!invited(in->gw, p))
		return refuse(why, len, "prefix %s is outside the invitation's prefixes",
			      pfx_text(p, a, sizeof(a)));
	return 0;
}

int mgr_policy_check(const struct mgr_policy_in *in, const struct roster_prefix *pfx,
		     unsigned int n, const struct roster_addr *endpoint, char *why, size_t len)
{
	char a[ROSTER_ADDR_STRLEN];
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		ret = check_one(in, &pfx[i], why, len);
		if (ret)
			return ret;
		if (endpoint && rd_prefix_contains(&pfx[i], endpoint))
			return refuse(why, len, "prefix %s covers its own endpoint %s",
				      pfx_text(&pfx[i], a, sizeof(a)), rd_ntop(endpoint));
	}
	for (unsigned int k = 0; k < in->n_members; k++) {
		const struct roster_member *mb = &in->members[k];

		if (rd_addr_eq(&mb->id, in->id))
			continue;
		for (unsigned int i = 0; mb->has_endpoint && i < n; i++)
			if (rd_prefix_contains(&pfx[i], &mb->endpoint))
				return refuse(why, len,
					      "prefix %s covers the endpoint %s of member %s",
					      pfx_text(&pfx[i], a, sizeof(a)),
					      rd_ntop(&mb->endpoint), rd_ntop(&mb->id));
		for (unsigned int i = 0; endpoint && i < mb->n_prefixes; i++)
			if (rd_prefix_contains(&mb->prefixes[i], endpoint))
				return refuse(why, len,
					      "endpoint %s is inside prefix %s of member %s",
					      rd_ntop(endpoint),
					      pfx_text(&mb->prefixes[i], a, sizeof(a)),
					      rd_ntop(&mb->id));
	}
	return 0;
}

int mgr_policy_pin(const struct roster_addr *announced, const struct roster_addr *observed,
		   char *why, size_t len)
{
	if (!announced)
		return 0;
	if (!observed)
		return refuse(why, len, "endpoint %s cannot be checked: no address seen for "
			      "the control tunnel", rd_ntop(announced));
	if (!rd_addr_eq(announced, observed))
		return refuse(why, len, "endpoint %s is not %s, the address the control "
			      "tunnel comes from", rd_ntop(announced), rd_ntop(observed));
	return 0;
}

/* ---- the manager's side ------------------------------------------------- */

/* rctl0's peers and the endpoints WireGuard last saw them at, read at
 * most once a second while they agree with what gateways announce: one
 * dump of every peer per JOIN_REQ would make a mass re-join quadratic. A
 * miss or a mismatch reads them again before refusing. */
static struct {
	struct rd_wg_endpoint *ep;
	unsigned int n;
	time_t when;
} ctl;

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rd_wg_endpoint *)a)->key,
		      ((const struct rd_wg_endpoint *)b)->key, 32);
}

static const struct rd_wg_endpoint *ctl_find(const uint8_t key[32])
{
	struct rd_wg_endpoint k;

	memcpy(k.key, key, 32);
	return ctl.n ? bsearch(&k, ctl.ep, ctl.n, sizeof(k), ep_cmp) : NULL;
}

static void ctl_read(const char *ifname)
{
	free(ctl.ep);
	ctl.ep = NULL;
	ctl.n = 0;
	ctl.when = time(NULL);
	if (rd_wg_peer_endpoints(ifname, &ctl.ep, &ctl.n))
		return;
	if (ctl.n > 1)
		qsort(ctl.ep, ctl.n, sizeof(*ctl.ep), ep_cmp);
}

static int pin(struct mgr *m, const struct rd_entry *gw, const struct roster_addr *announced,
	       char *why, size_t len)
{
	bool fresh = time(NULL) != ctl.when;
	const struct rd_wg_endpoint *e;
	int ret;

	if (!announced)
		return 0;
	if (fresh)
		ctl_read(m->c->ifname);
	e = ctl_find(gw->key);
	ret = mgr_policy_pin(announced, e && e->has_endpoint ? &e->endpoint : NULL, why, len);
	if (ret && !fresh) {
		ctl_read(m->c->ifname);
		e = ctl_find(gw->key);
		ret = mgr_policy_pin(announced, e && e->has_endpoint ? &e->endpoint : NULL,
				     why, len);
	}
	return ret;
}

bool mgr_policy_join(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		     const struct rd_entry *gw, const struct rd_msg *msg)
{
	struct mgr_policy_in in = {
		.control_prefix = &m->c->control_prefix,
		.mgr_endpoint = m->c->has_endpoint ? &m->c->endpoint : NULL,
		.gw = gw,
		.id = src,
	};
	const struct roster_addr *ep = msg->has_endpoint ? &msg->endpoint : NULL;
	struct roster_member_set *sets = NULL;
	size_t nsets = 0;
	char why[128];
	int ret;

	ret = roster_member_list(m->rh, msg->vpn, &sets, &nsets);
	if (ret && ret != -ENOENT) {
		snprintf(why, sizeof(why), "cannot read the VPN's members: %s",
			 roster_strerror_ext(m->rh, ret));
		goto refused;
	}
	if (nsets) {
		in.members = sets[0].members;
		in.n_members = sets[0].count;
	}
	ret = mgr_policy_check(&in, msg->prefixes, msg->n_prefixes, ep, why, sizeof(why));
	roster_member_sets_free(sets, nsets);
	if (!ret && m->c->endpoint_check == RD_ENDPOINT_PINNED)
		ret = pin(m, gw, ep, why, sizeof(why));
	if (!ret)
		return true;
refused:
	rd_warn("JOIN_REQ from %s for vpn %u refused: %s", rd_ntop(src), msg->vpn, why);
	mgr_send_error(m, p, msg->seq, ret < 0 ? -ret : EIO, why);
	return false;
}

void mgr_policy_warn_unlisted(const struct rd_entry *e, unsigned int n, const char *what)
{
	static unsigned int warned;
	unsigned int cnt = 0;

	/* Once per kind: the store is re-read at every change. */
	if (warned & (what[0] == 'g' ? 1u : 2u))
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (e[i].has_prefixes)
			continue;
		if (cnt++ < 16)
			rd_warn("%s %s has no prefix list (from before `rosterd invite --prefix`): "
				"it may announce any prefix the fixed rules allow; invite it again "
				"with --prefix to restrict it", what, rd_ntop(&e[i].id));
	}
	if (cnt > 16)
		rd_warn("... and %u more %s(s) without a prefix list", cnt - 16, what);
	warned |= what[0] == 'g' ? 1u : 2u;
}
