// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: enrolment. `rosterd invite` stores an invitation (a
 * one-time WireGuard key for the invitee's id) and prints its token; the
 * invitee's ENROLL names its own new key; once our ENROLLED is
 * acknowledged, one store transaction consumes the invitation and
 * enrols the gateway, and rctl0 follows the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mgr.h"
#include "mgr-policy.h"
#include "netif.h"
#include "token.h"
#include "util.h"

struct mgr_enrol {
	struct mgr_enrol *next;
	struct roster_addr id;
	uint8_t key[32];		/* the gateway's own new key */
	uint8_t invite_key[32];
	struct rd_peer *peer;
	uint32_t seq;			/* of our ENROLLED */
};

void mgr_handle_enroll(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		       const struct rd_msg *msg)
{
	struct rd_msg ok = { .type = RD_ENROLLED };
	struct rd_entry *inv;
	struct mgr_enrol *e;

	mgr_ctl_poll(m);
	inv = mgr_inv_find(m, src);
	if (!inv) {
		mgr_send_error(m, p, msg->seq, EACCES, "no pending invitation for this address");
		return;
	}
	for (e = m->enrols; e; e = e->next)
		if (rd_addr_eq(&e->id, src))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->next = m->enrols;
		m->enrols = e;
	}
	e->id = *src;
	memcpy(e->key, msg->key, 32);
	memcpy(e->invite_key, inv->key, 32);
	e->peer = p;
	e->seq = p->next_seq;
	rd_info("ENROLL from %s: answering", rd_ntop(src));
	mgr_send(m, p, &ok);
}

/* ENROLLED was acknowledged: the gateway's key becomes the only key for
 * its id, and the invitation key dies, in one transaction. */
static void enrol_finish(struct mgr *m, struct mgr_enrol *e)
{
	struct rd_entry gw = { .id = e->id };
	uint8_t old[32];
	bool had_old = false;
	char key[45];
	int ret;

	memcpy(gw.key, e->key, 32);
	ret = rd_store_enrol(m->st, &gw, e->invite_key, old, &had_old);
	if (ret == -ENOENT) {
		rd_warn("enrolment of %s: the invitation vanished", rd_ntop(&e->id));
		return;
	}
	if (ret) {
		rd_err("enrolment of %s: store: %s", rd_ntop(&e->id), rd_store_errmsg(m->st));
		return;
	}
	rd_key_b64(e->key, key);
	rd_info("enrolled gateway %s (key %s)%s", rd_ntop(&e->id), key,
		had_old ? ", replacing its earlier key" : "");
	mgr_ctl_reload(m);
}

void mgr_enrol_done(struct mgr *m, struct rd_peer *p, const struct rd_pending *pm, bool acked)
{
	if (pm->type != RD_ENROLLED)
		return;
	for (struct mgr_enrol **pe = &m->enrols; *pe; pe = &(*pe)->next) {
		struct mgr_enrol *e = *pe;

		if (e->peer != p || e->seq != pm->seq)
			continue;
		*pe = e->next;
		if (acked)
			enrol_finish(m, e);
		else
			rd_warn("ENROLLED to %s not acknowledged; the invitation stays pending",
				rd_ntop(&e->id));
		free(e);
		return;
	}
}

void mgr_enrols_free(struct mgr *m)
{
	while (m->enrols) {
		struct mgr_enrol *e = m->enrols;

		m->enrols = e->next;
		free(e);
	}
}

/* ---- rosterd invite ------------------------------------------------- */

int rd_cmd_invite(struct rd_config *c, const struct roster_addr *id, const uint32_t *vpns,
		  unsigned int nvpns, const struct roster_prefix *pfx, unsigned int npfx,
		  uint64_t ttl)
{
	uint8_t mpriv[32], ipriv[32], old[RD_ENTRY_MAX_VPNS][32];
	struct rd_wg_peer peers[RD_ENTRY_MAX_VPNS + 1];
	struct rd_entry ne = { 0 };
	unsigned int nold = 0, np = 0;
	struct roster_prefix hp;
	struct rd_token t = { 0 };
	struct rd_store *st;
	char token[RD_TOKEN_MAX], err[256];
	int ret;

	if (!c->has_endpoint) {
		rd_err("[manager] endpoint is required to issue invitations");
		return -EINVAL;
	}
	if (!rd_prefix_contains(&c->control_prefix, id) || rd_addr_eq(id, &c->control_addr)) {
		rd_err("--id %s is not a free address inside control-prefix %s/%u", rd_ntop(id),
		       rd_ntop(&c->control_prefix.addr), c->control_prefix.len);
		return -EINVAL;
	}
	/* A list entry may be a supernet of what the gateway announces; only
	 * what no announcement could use is refused here (the manager checks
	 * every JOIN_REQ, mgr-policy.h). */
	for (unsigned int i = 0; i < npfx; i++) {
		char b[ROSTER_ADDR_STRLEN];

		roster_prefix_format(&pfx[i], b, sizeof(b));
		if (!pfx[i].len || mgr_prefix_covers(&c->control_prefix, &pfx[i])) {
			rd_err("--prefix %s: %s", b, pfx[i].len ? "inside the control prefix" :
			       "length 0 is never routed into a VPN");
			return -EINVAL;
		}
		if (rd_prefix_contains(&pfx[i], &c->endpoint))
			rd_warn("--prefix %s covers the manager's endpoint %s: the gateway may "
				"announce only parts of it that do not", b, rd_ntop(&c->endpoint));
	}
	ret = rd_mkdir_p(c->state_dir, 0700);
	if (ret) {
		rd_err("%s: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	ret = rd_state_key(c->state_dir, mpriv, true);
	if (ret) {
		rd_err("%s: cannot read the private key: %s", c->state_dir, strerror(-ret));
		return ret;
	}
	ret = rd_store_open(c->state_dir, &st, err, sizeof(err));
	if (ret) {
		rd_err("%s", err);
		return ret;
	}
	rd_wg_genkey(ipriv);
	ne.id = *id;
	rd_wg_pubkey(ne.key, ipriv);
	ne.n_vpns = nvpns;
	memcpy(ne.vpns, vpns, nvpns * sizeof(*vpns));
	ne.expiry = (uint64_t)time(NULL) + ttl;
	ne.has_prefixes = true;
	ne.n_prefixes = npfx;
	memcpy(ne.prefixes, pfx, npfx * sizeof(*pfx));
	/* A new invitation for an id replaces older ones. */
	ret = rd_store_invite_put(st, &ne, old, RD_ENTRY_MAX_VPNS, &nold);
	if (ret) {
		rd_err("cannot store the invitation: %s", rd_store_errmsg(st));
		rd_store_close(st);
		return ret;
	}
	rd_store_close(st);
	/* A running manager's rctl0 learns the invitation key now (it also
	 * notices the store changed); otherwise the manager adds it when it
	 * starts. */
	if (rd_if_index(c->ifname) > 0) {
		memset(peers, 0, sizeof(peers));
		for (unsigned int i = 0; i < nold; i++) {
			memcpy(peers[np].key, old[i], 32);
			peers[np++].remove = true;
		}
		mgr_host_prefix(id, &hp);
		memcpy(peers[np].key, ne.key, 32);
		peers[np].allowed = &hp;
		peers[np++].n_allowed = 1;
		ret = rd_wg_apply(c->ifname, peers, np, false);
		if (ret)
			rd_warn("%s: cannot add the invitation peer (%s); the manager adds it at start",
				c->ifname, strerror(-ret));
	}
	rd_wg_pubkey(t.manager_key, mpriv);
	t.manager_endpoint = c->endpoint;
	t.manager_port = c->listen_port;
	t.control_addr = c->control_addr;
	t.control_port = c->control_port;
	t.id = *id;
	t.prefixlen = c->control_prefix.len;
	memcpy(t.invite_key, ipriv, 32);
	t.expiry = ne.expiry;
	ret = rd_token_encode(&t, token, sizeof(token));
	memset(ipriv, 0, sizeof(ipriv));
	memset(mpriv, 0, sizeof(mpriv));
	memset(&t, 0, sizeof(t));
	if (ret) {
		rd_err("cannot encode token: %s", strerror(-ret));
		return ret;
	}
	printf("%s\n", token);
	fflush(stdout);
	rd_info("invitation for %s (%u VPN(s), %u prefix(es)) valid until %llu", rd_ntop(id),
		nvpns, npfx, (unsigned long long)ne.expiry);
	return 0;
}
