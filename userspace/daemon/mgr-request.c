// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: requests from gateways, turned into changes of
 * roster.ko. Nothing is answered here but refusals: the JOIN and LIST a
 * request earns are queued until the store holds its change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mgr.h"
#include "mgr-expire.h"
#include "mgr-policy.h"
#include "mgr-roam.h"
#include "util.h"

/* What a JOIN_REQ sets, and the member as roster.ko holds it: equal, the
 * join changes nothing. */
static bool same_member(const struct roster_member *want, const struct roster_member *have)
{
	if (!have->has_key || memcmp(want->key, have->key, sizeof(want->key)) ||
	    want->has_endpoint != have->has_endpoint)
		return false;
	if (want->has_endpoint &&
	    (!rd_addr_eq(&want->endpoint, &have->endpoint) || want->port != have->port))
		return false;
	return rd_prefixes_same(want->prefixes, want->n_prefixes, have->prefixes,
				have->n_prefixes);
}

/* A re-join that changes nothing (a gateway restarted, or repeats its
 * JOIN_REQ) is answered with the JOIN at the current generation: no new
 * generation, no NOTIFY to every member. The kernel is asked, not the
 * store: a change it holds may not be committed yet. */
static bool join_unchanged(struct mgr *m, uint32_t vpn, const struct roster_member *mb)
{
	struct roster_member cur;
	uint64_t gen = 0;

	if (roster_member_get(m->rh, vpn, &mb->id, &cur, &gen) || !same_member(mb, &cur))
		return false;
	rd_info("%s re-joins vpn %u unchanged (gen %llu)", rd_ntop(&mb->id), vpn,
		(unsigned long long)gen);
	mgr_list_queue(m, &mb->id, RD_JOIN, vpn, gen);
	return true;
}

void mgr_handle_join_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			 const struct rd_entry *gw, const struct rd_msg *msg)
{
	struct roster_member mb = { 0 };
	struct roster_change ch;
	struct rd_msg seen;
	char text[128];
	int ret;

	if (!rd_entry_allows(gw, msg->vpn)) {
		rd_warn("JOIN_REQ from %s for vpn %u refused: not invited to that VPN",
			rd_ntop(src), msg->vpn);
		mgr_send_error(m, p, msg->seq, EPERM, "not allowed in this VPN");
		return;
	}
	mgr_expire_back(m, src, msg->vpn);
	mgr_roam_note(m, src, msg);
	/* endpoint = auto: from here on, as if the gateway had announced
	 * the address its control tunnel comes from. */
	if (msg->endpoint_auto) {
		if (!mgr_roam_resolve(m, p, gw, msg, &seen))
			return;
		msg = &seen;
	}
	if (!mgr_policy_join(m, p, src, gw, msg))
		return;
	mb.id = *src;
	memcpy(mb.key, gw->key, 32);
	mb.has_key = true;
	mb.has_endpoint = msg->has_endpoint;
	mb.endpoint = msg->endpoint;
	mb.port = msg->port;
	mb.n_prefixes = msg->n_prefixes;
	memcpy(mb.prefixes, msg->prefixes, sizeof(mb.prefixes));
	if (join_unchanged(m, msg->vpn, &mb))
		return;
	/* A prefix is routed to exactly one member: a newcomer announcing (part
	 * of) another member's site would take its traffic, since WireGuard
	 * moves an allowed-ip to the last peer that claims it. roster.ko
	 * refuses such a join (EADDRINUSE, naming the holder) under its writer
	 * lock, so of two claims the first wins even when both requests are
	 * handled before either's notification is read. */
	ret = roster_member_add(m->rh, msg->vpn, &mb, 0, 0, &ch);
	if (ret) {
		struct roster_addr holder;

		rd_join_error_text(-ret, roster_errmsg(m->rh),
				   roster_err_holder(m->rh, &holder) ? NULL : &holder, text,
				   sizeof(text));
		rd_warn("JOIN_REQ from %s for vpn %u %s: %s", rd_ntop(src), msg->vpn,
			ret == -EADDRINUSE ? "refused" : "failed", text);
		mgr_send_error(m, p, msg->seq, -ret, text);
		return;
	}
	rd_info("%s joins vpn %u (gen %llu, %u member(s))", rd_ntop(src), msg->vpn,
		(unsigned long long)ch.generation, ch.member_count);
	mgr_list_queue(m, src, RD_JOIN, msg->vpn, ch.generation);
}

void mgr_handle_leave_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			  const struct rd_msg *msg)
{
	int ret = roster_member_del(m->rh, msg->vpn, src, ROSTER_REASON_REQUESTED, 0, 0, NULL);

	if (ret) {
		char text[128];

		snprintf(text, sizeof(text), "%s", roster_strerror_ext(m->rh, ret));
		rd_warn("LEAVE_REQ from %s for vpn %u failed: %s", rd_ntop(src), msg->vpn, text);
		mgr_send_error(m, p, msg->seq, -ret, text);
		return;
	}
	rd_info("%s asked to leave vpn %u", rd_ntop(src), msg->vpn);
}

static bool is_member(const struct rd_store_vpn *v, const struct roster_addr *id)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (rd_addr_eq(&v->members[i].id, id))
			return true;
	return false;
}

/* A gateway knows a generation the store does not: the store is older
 * than what it told the gateways (restored from a backup). Left alone,
 * every change would look old to the gateways until the generation
 * passed theirs, and then like a gap. So the VPN moves past it; the
 * notification of that move (a jump, not the next generation) makes the
 * fan-out reconcile, commit and list the VPN to every member, who apply
 * only the difference. */
static void catch_up(struct mgr *m, uint32_t vpn, uint64_t gen, const struct roster_addr *src)
{
	int ret = roster_vpn_set(m->rh, vpn, gen + 1, ROSTER_F_RESYNC, NULL, NULL);

	if (ret)
		rd_err("vpn %u: cannot move past generation %llu: %s", vpn,
		       (unsigned long long)gen, roster_strerror_ext(m->rh, ret));
	else
		rd_warn("vpn %u: %s knows generation %llu, newer than the store's (a restored "
			"backup?): moved to %llu", vpn, rd_ntop(src), (unsigned long long)gen,
			(unsigned long long)gen + 1);
}

void mgr_handle_sync_req(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
			 const struct rd_entry *gw, const struct rd_msg *msg)
{
	struct rd_store_vpn v;

	if (!rd_entry_allows(gw, msg->vpn)) {
		mgr_send_error(m, p, msg->seq, EPERM, "not allowed in this VPN");
		return;
	}
	mgr_roam_note(m, src, msg);
	/* Gateways ask periodically; a view at the stored generation with
	 * the right member count needs nothing but the ACK already sent. */
	if (msg->has_gen && msg->has_total && !rd_store_vpn_get(m->st, msg->vpn, &v)) {
		bool member = is_member(&v, src);
		bool current = v.generation == msg->gen && v.n == msg->total && member;
		/* Behind, with changes for it still on their way (under churn a
		 * gateway nearly always is): they bring it up to date, and a
		 * change lost among them shows as a gap, which makes it ask
		 * again without a generation. A full list here is a LIST storm
		 * under churn (performance.rst, "ACKs behind netlink calls"). */
		bool coming = msg->gen < v.generation && member &&
			      rd_pending_of(p, msg->vpn, 1u << RD_NOTIFY | 1u << RD_REMOVE |
					    1u << RD_JOIN | 1u << RD_LIST);

		/* Only a member's view counts, and never one that would wrap. */
		uint64_t ahead = member && msg->gen > v.generation &&
				 msg->gen < UINT64_MAX - 1 ? msg->gen : 0;

		rd_store_vpn_release(&v);
		if (ahead) {
			catch_up(m, msg->vpn, ahead, src);
			return;
		}
		if (current || coming) {
			rd_dbg("SYNC_REQ vpn %u from %s: gen %llu, %s", msg->vpn, rd_ntop(src),
			       (unsigned long long)msg->gen,
			       current ? "up to date" : "changes on their way");
			return;
		}
	}
	mgr_list_queue(m, src, RD_LIST, msg->vpn, 0);
}
