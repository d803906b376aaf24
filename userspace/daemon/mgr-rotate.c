// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd manager: a gateway's key rotation (mgr-rotate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mgr-rotate.h"
#include "netif.h"
#include "util.h"

static const char *refusal(int err)
{
	switch (err) {
	case -EEXIST:
		return "the key is another gateway's or a pending invitation's";
	case -EKEYREVOKED:
		return "the key was revoked";
	case -ENOENT:
		return "not enrolled with the key this message came under";
	default:
		return NULL;
	}
}

bool mgr_rotate_check(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		      const struct rd_entry *gw, const struct rd_msg *msg, bool dup)
{
	uint8_t old[32];
	const char *why;
	char text[128];
	int ret;

	/* Another process may have changed the gateways (rosterd revoke):
	 * the store decides, on its current records. */
	mgr_ctl_poll(m);
	gw = mgr_gw_find(m, src);
	if (!gw)
		return false;
	if (!memcmp(msg->key, gw->key, 32))
		return true;	/* a retried rotation: the key is in use already */
	memcpy(old, gw->key, 32);
	if (!memcmp(msg->key, m->pub, 32))
		ret = -EEXIST;
	else
		ret = rd_store_gateway_rekey(m->st, src, old, msg->key);
	if (!ret)
		return true;
	why = !memcmp(msg->key, m->pub, 32) ? "the key is the manager's" : refusal(ret);
	snprintf(text, sizeof(text), "%s", why ? why : rd_store_errmsg(m->st));
	if (!dup) {
		rd_warn("ROTATE from %s refused: %s", rd_ntop(src), text);
		mgr_send_error(m, p, msg->seq, -ret, text);
	}
	return false;
}

/* The member record of src in every VPN it is in gets key: one unstamped
 * replace each, whose notification the fan-out commits and sends to
 * every other member as a NOTIFY. */
static void replace_records(struct mgr *m, const struct roster_addr *src, const uint8_t key[32])
{
	struct roster_vpn *vpns = NULL;
	size_t n = 0;
	unsigned int done = 0;
	int ret;

	ret = roster_vpn_list(m->rh, &vpns, &n);
	if (ret) {
		rd_err("cannot list the VPNs: %s", roster_strerror_ext(m->rh, ret));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct roster_member cur;
		struct roster_change ch;
		uint64_t gen;

		if (roster_member_get(m->rh, vpns[i].id, src, &cur, &gen))
			continue;
		if (!memcmp(cur.key, key, 32))
			continue;	/* a retried rotation */
		memcpy(cur.key, key, 32);
		cur.has_key = true;
		ret = roster_member_add(m->rh, vpns[i].id, &cur, 0, 0, &ch);
		if (ret) {
			rd_err("vpn %u: cannot replace the key of %s: %s", vpns[i].id, rd_ntop(src),
			       roster_strerror_ext(m->rh, ret));
			continue;
		}
		done++;
		/* The rotator's own table too: the fan-out tells everyone but
		 * it, and its record there still has the old key. */
		mgr_list_queue(m, src, RD_LIST, vpns[i].id, ch.generation);
		rd_info("vpn %u gen %llu: %s has a new key", vpns[i].id,
			(unsigned long long)ch.generation, rd_ntop(src));
	}
	free(vpns);
	rd_dbg("%s: key replaced in %u VPN(s)", rd_ntop(src), done);
}

void mgr_handle_rotate(struct mgr *m, const struct roster_addr *src, const struct rd_msg *msg)
{
	char key[45];

	rd_key_b64(msg->key, key);
	rd_info("%s rotated its key to %s", rd_ntop(src), key);
	/* rctl0: the old key's peer gives way to the new one's (the store
	 * revoked the old key, so only the new one is listed). */
	mgr_ctl_reload(m);
	if (m->rh)	/* NULL only in the unit tests, which have no kernel table */
		replace_records(m, src, msg->key);
}
