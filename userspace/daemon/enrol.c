// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: enrolment. `rosterd invite` stores an invitation (a
 * one-time WireGuard key for the invitee's id) and prints its token; the
 * invitee's ENROLL names its own new key, which nobody else may use, and
 * the first ENROLL for an invitation wins; once our ENROLLED is
 * acknowledged, one store transaction consumes the invitation and
 * enrols the gateway, and rctl0 follows the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctlnet.h"
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

/* Why key may not become id's gateway key, or NULL. Two rctl0 peers
 * cannot share a key: WireGuard would hand the victim's allowed-ips (and
 * its control tunnel) to the newcomer. The invitation keys are refused
 * too, the invitee's own included: its private half is in the token. A
 * gateway's own current key (id re-enrolling) harms no one else. The
 * store checks the gateways and invitations again when the enrolment
 * completes (rd_store_enrol). */
static const char *key_taken(struct mgr *m, const struct roster_addr *id, const uint8_t key[32])
{
	if (!memcmp(key, m->pub, 32))
		return "the key is the manager's";
	for (unsigned int i = 0; i < m->ngws; i++)
		if (!memcmp(key, m->gws[i].key, 32) && !rd_addr_eq(&m->gws[i].id, id))
			return "the key is already used by an enrolled gateway";
	for (unsigned int i = 0; i < m->ninv; i++)
		if (!memcmp(key, m->inv[i].key, 32))
			return "the key is a pending invitation's";
	for (struct mgr_enrol *e = m->enrols; e; e = e->next)
		if (!memcmp(key, e->key, 32) && !rd_addr_eq(&e->id, id))
			return "the key is already used by another enrolment under way";
	return NULL;
}

void mgr_handle_enroll(struct mgr *m, struct rd_peer *p, const struct roster_addr *src,
		       const struct rd_msg *msg)
{
	/* The enrolled gateway learns every manager it may talk to. */
	struct roster_member set[RD_STORE_MANAGERS_MAX];
	struct rd_msg ok = { .type = RD_ENROLLED, .members = set,
			     .n_members = mgr_lead_members(m, set) };
	struct rd_entry *inv, *gw;
	struct mgr_enrol *e = NULL;
	const char *why;

	if (!p)
		return;
	mgr_ctl_poll(m);
	if (!msg->has_key) {
		mgr_send_error(m, p, msg->seq, EINVAL, "ENROLL without a key");
		return;
	}
	/* A revoked key never comes back, whichever invitation it shows. */
	if (rd_store_key_revoked(m->st, msg->key) == 1) {
		rd_warn("ENROLL from %s refused: its key is revoked", rd_ntop(src));
		mgr_send_error(m, p, msg->seq, EKEYREVOKED,
			       "the key is revoked; enrol with a fresh key");
		return;
	}
	inv = mgr_inv_find(m, src);
	if (!inv) {
		/* Without a pending invitation, src can only reach us through
		 * its enrolled key's tunnel: a gateway that crashed before it
		 * saved its identity asks again with that key (`rosterd
		 * redeem` retried), and learns that it is enrolled. */
		gw = mgr_gw_find(m, src);
		if (gw && !memcmp(gw->key, msg->key, 32)) {
			rd_info("ENROLL from %s: already enrolled with that key, answering again",
				rd_ntop(src));
			mgr_send(m, p, &ok);
			return;
		}
		mgr_send_error(m, p, msg->seq, EACCES, "no pending invitation for this address");
		return;
	}
	for (struct mgr_enrol **pe = &m->enrols; *pe; pe = &(*pe)->next) {
		if (!rd_addr_eq(&(*pe)->id, src))
			continue;
		e = *pe;
		if (memcmp(e->invite_key, inv->key, 32)) {
			*pe = e->next;
			free(e);
			e = NULL;
		}
		break;
	}
	/* The first ENROLL for an invitation wins until its ENROLLED is
	 * acknowledged or given up: a copied token cannot take the
	 * enrolment over. The same key again is a retransmission (or a
	 * retried redeem) and gets its ENROLLED. An enrolment under an
	 * invitation that was since replaced is dead (it would find its
	 * invitation gone): the new invitation starts afresh. */
	if (e && memcmp(e->key, msg->key, 32)) {
		rd_warn("ENROLL from %s refused: an enrolment with another key is under way",
			rd_ntop(src));
		mgr_send_error(m, p, msg->seq, EBUSY,
			       "an enrolment with another key is under way for this invitation");
		return;
	}
	why = key_taken(m, src, msg->key);
	if (why) {
		rd_warn("ENROLL from %s refused: %s", rd_ntop(src), why);
		mgr_send_error(m, p, msg->seq, EEXIST, why);
		return;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			mgr_send_error(m, p, msg->seq, ENOMEM, "out of memory");
			return;
		}
		e->next = m->enrols;
		m->enrols = e;
		e->id = *src;
		memcpy(e->key, msg->key, 32);
		memcpy(e->invite_key, inv->key, 32);
	}
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
	if (ret == -EEXIST) {
		rd_warn("%s; not enrolled", rd_store_errmsg(m->st));
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
	const char *why;
	int ret;

	if (!c->has_endpoint) {
		rd_err("[manager] endpoint is required to issue invitations");
		return -EINVAL;
	}
	if (!rd_ctlnet_id_ok(&c->control_prefix, &c->control_addr, id, &why)) {
		rd_err("--id %s is not a free address inside control-prefix %s/%u: %s", rd_ntop(id),
		       rd_ntop(&c->control_prefix.addr), c->control_prefix.len, why);
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
	ret = rd_store_open_config(c, &st, err, sizeof(err));
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

bool mgr_enrol_uses(const struct mgr *m, const struct rd_peer *p)
{
	for (const struct mgr_enrol *e = m->enrols; e; e = e->next)
		if (e->peer == p)
			return true;
	return false;
}
