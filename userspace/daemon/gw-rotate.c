// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: key rotation, the daemon's side and the members' side
 * (gw-rotate.h), and `rosterd rotate-key`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "util.h"
#include "gw-ctl.h"
#include "gw-rotate.h"
#include "wireguard.h"

/* How often the daemon looks for a pending key. */
#define CHECK_MS 1000

/* ---- STATE_DIR/identity.next ------------------------------------------ */

int gw_next_load(const char *dir, struct gw_next *n)
{
	char path[512], *text, *save = NULL;
	bool key = false;
	int ret;

	memset(n, 0, sizeof(*n));
	snprintf(path, sizeof(path), "%s/%s", dir, GW_ROTATE_NEXT);
	ret = rd_read_file(path, &text);
	if (ret)
		return ret;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (!strncmp(line, "private-key ", 12)) {
			if (rd_key_from_b64(line + 12, n->priv))
				break;
			key = true;
		} else if (!strncmp(line, "refused ", 8)) {
			n->refused = true;
			snprintf(n->why, sizeof(n->why), "%s", line + 8);
		}
	}
	memset(text, 0, strlen(text));
	free(text);
	if (!key) {
		memset(n, 0, sizeof(*n));
		return -EINVAL;
	}
	return 0;
}

int gw_next_save(const char *dir, const struct gw_next *n)
{
	char buf[512], pk[45];
	int ret;

	rd_key_b64(n->priv, pk);
	snprintf(buf, sizeof(buf), "# rosterd gateway: the next key (secret), rosterd rotate-key\n"
		 "private-key %s\n%s%s%s", pk, n->refused ? "refused " : "",
		 n->refused ? (n->why[0] ? n->why : "-") : "", n->refused ? "\n" : "");
	ret = rd_state_write(dir, GW_ROTATE_NEXT, buf);
	memset(buf, 0, sizeof(buf));
	memset(pk, 0, sizeof(pk));
	return ret;
}

int gw_next_remove(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, GW_ROTATE_NEXT);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static uint64_t born_load(const char *dir)
{
	char path[512], *text;
	uint64_t t = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, GW_ROTATE_BORN);
	if (!rd_read_file(path, &text)) {
		t = strtoull(text, NULL, 10);
		free(text);
	}
	return t;
}

static void born_save(struct gw_rotate *r, uint64_t t)
{
	char text[32];
	int ret;

	r->born = t;
	snprintf(text, sizeof(text), "%" PRIu64 "\n", t);
	ret = rd_state_write(r->c->state_dir, GW_ROTATE_BORN, text);
	if (ret)
		rd_warn("%s/%s: %s", r->c->state_dir, GW_ROTATE_BORN, strerror(-ret));
}

/* ---- handshakes at once ------------------------------------------------ */

static bool same_allowed(const struct rd_wg_peer *a, const struct rd_wg_peer *b)
{
	if (a->n_allowed != b->n_allowed)
		return false;
	for (unsigned int i = 0; i < a->n_allowed; i++) {
		bool found = false;

		for (unsigned int j = 0; j < b->n_allowed && !found; j++)
			found = rd_prefix_eq(&a->allowed[i], &b->allowed[j]);
		if (!found)
			return false;
	}
	return true;
}

static const struct rd_wg_peer *by_key(const struct rd_wg_peer *p, unsigned int n,
				       const uint8_t key[32])
{
	for (unsigned int i = 0; i < n; i++)
		if (!memcmp(p[i].key, key, 32))
			return &p[i];
	return NULL;
}

unsigned int gw_rotate_replaced(const struct rd_wg_peer *have, unsigned int nhave,
				const struct rd_wg_peer *d, unsigned int nd, unsigned int *idx)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < nd; i++) {
		bool replaces = false;

		if (d[i].remove || by_key(have, nhave, d[i].key))
			continue;
		for (unsigned int j = 0; j < nd && !replaces; j++) {
			const struct rd_wg_peer *old = d[j].remove ? by_key(have, nhave, d[j].key) : NULL;

			replaces = old && same_allowed(old, &d[i]);
		}
		if (replaces)
			idx[k++] = i;
	}
	return k;
}

/*
 * WireGuard sends a keepalive (and so, without a session, a handshake
 * initiation) when a peer's persistent keepalive goes from 0 to non-zero:
 * the one way to make it initiate now without a packet to send. Without
 * it, the side that has no traffic of its own waits for the other's
 * handshake retry, REKEY_TIMEOUT (5 s) later. Only the keepalive is set:
 * allowed-ips and endpoints stay as they are.
 */
static int set_keepalive(const char *ifname, const uint8_t (*keys)[32], unsigned int n,
			 uint16_t interval)
{
	wg_device dev;
	wg_peer *wp;
	int ret;

	if (!n)
		return 0;
	wp = calloc(n, sizeof(*wp));
	if (!wp)
		return -ENOMEM;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "%s", ifname);
	for (unsigned int i = 0; i < n; i++) {
		memcpy(wp[i].public_key, keys[i], 32);
		wp[i].flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
		wp[i].persistent_keepalive_interval = interval;
		if (i)
			wp[i - 1].next_peer = &wp[i];
	}
	dev.first_peer = &wp[0];
	dev.last_peer = &wp[n - 1];
	ret = wg_set_device(&dev);
	free(wp);
	return ret;
}

static int handshake_now(const char *ifname, const uint8_t (*keys)[32], unsigned int n,
			 uint16_t keepalive)
{
	int ret = 0;

	if (keepalive)
		ret = set_keepalive(ifname, keys, n, 0);
	if (!ret)
		ret = set_keepalive(ifname, keys, n, keepalive ? keepalive : 1);
	if (!ret && !keepalive)
		ret = set_keepalive(ifname, keys, n, 0);
	return ret;
}

int gw_rotate_apply(const char *ifname, const struct rd_wg_peer *have, unsigned int nhave,
		    const struct rd_wg_peer *d, unsigned int nd, uint16_t keepalive)
{
	unsigned int *idx, n;
	uint8_t (*keys)[32];
	int ret = rd_wg_apply(ifname, d, nd, false);

	if (ret || !nd)
		return ret;
	idx = calloc(nd, sizeof(*idx));
	keys = calloc(nd, sizeof(*keys));
	if (!idx || !keys) {
		free(idx);
		free(keys);
		return 0;	/* applied; the handshake merely waits */
	}
	n = gw_rotate_replaced(have, nhave, d, nd, idx);
	for (unsigned int i = 0; i < n; i++)
		memcpy(keys[i], d[idx[i]].key, 32);
	/* A new key with the peer's keepalive set made WireGuard start
	 * already; only a peer without one needs the nudge. */
	if (n && !keepalive) {
		int r = handshake_now(ifname, (const uint8_t (*)[32])keys, n, 0);

		if (r)
			rd_warn("%s: cannot start the handshake with %u re-keyed peer(s): %s", ifname,
				n, strerror(-r));
		else
			rd_info("%s: handshake started with %u re-keyed peer(s)", ifname, n);
	}
	free(idx);
	free(keys);
	return 0;
}

/* Every peer of ifname: after our own key changed, no session is valid
 * for sending any more; starting them all now spares a peer that has
 * already learnt the new key (and sends nothing) a 5 s wait. */
static void handshake_all(const char *ifname, uint16_t keepalive)
{
	uint8_t (*keys)[32] = NULL;
	unsigned int n = 0;
	int ret = rd_wg_peer_keys(ifname, &keys, &n);

	if (!ret)
		ret = handshake_now(ifname, (const uint8_t (*)[32])keys, n, keepalive);
	if (ret)
		rd_warn("%s: cannot start handshakes: %s", ifname, strerror(-ret));
	free(keys);
}

/* ---- the daemon's rotation --------------------------------------------- */

void gw_rotate_init(struct gw_rotate *r, const struct rd_config *c, struct rd_identity *id,
		    uint8_t pub[32], struct gw_wg *wg, struct rd_link *l, struct rd_peer *mp)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->id = id;
	r->pub = pub;
	r->wg = wg;
	r->link = l;
	r->mp = mp;
	r->leads = true;
	r->born = born_load(c->state_dir);
	/* A key of unknown age (enrolled by an earlier rosterd) is counted
	 * from now. */
	if (!r->born)
		born_save(r, (uint64_t)time(NULL));
}

static void send_rotate(struct gw_rotate *r)
{
	struct rd_msg m = { .type = RD_ROTATE, .has_key = true };
	char key[45];
	int ret;

	r->announced = false;
	if (!r->leads) {
		rd_info("the next key waits for the manager to answer (it may be a standby)");
		return;
	}
	r->announced = r->sent = true;
	memcpy(m.key, r->next_pub, 32);
	r->seq = r->mp->next_seq;
	rd_key_b64(r->next_pub, key);
	ret = rd_send(r->link, r->mp, &m);
	if (ret)
		rd_warn("ROTATE: %s", strerror(-ret));
	rd_info("announcing the next key %s (ROTATE seq %u, rctl0 on the %s key)", key, r->seq,
		r->under_new ? "new" : "current");
}

/* rctl0 on key priv; its own tunnel's handshake started at once. */
static void ctl_key(struct gw_rotate *r, const uint8_t priv[32])
{
	int ret = rd_wg_setup(r->c->ifname, priv, 0);

	if (ret)
		rd_err("%s: cannot set the private key: %s", r->c->ifname, strerror(-ret));
	else
		handshake_all(r->c->ifname, GW_CTL_KEEPALIVE);
}

static void start(struct gw_rotate *r, const uint8_t priv[32])
{
	memcpy(r->next, priv, 32);
	rd_wg_pubkey(r->next_pub, priv);
	if (!memcmp(r->next_pub, r->pub, 32)) {
		/* A crash after the identity took it, before the file went. */
		gw_next_remove(r->c->state_dir);
		memset(r->next, 0, 32);
		return;
	}
	r->active = true;
	r->under_new = r->sent = false;
	send_rotate(r);
}

int gw_rotate_tick(struct gw_rotate *r, int64_t now)
{
	struct gw_next n;
	uint64_t t = (uint64_t)time(NULL);
	int ret;

	if (now < r->check_at)
		return (int)(r->check_at - now);
	r->check_at = now + CHECK_MS;
	if (r->active)
		return CHECK_MS;
	ret = gw_next_load(r->c->state_dir, &n);
	if (!ret && !n.refused) {
		start(r, n.priv);
	} else if (ret == -ENOENT && r->c->key_lifetime && t >= r->born + r->c->key_lifetime) {
		rd_info("the key is %" PRIu64 " s old (key-lifetime %lu s): rotating", t - r->born,
			r->c->key_lifetime);
		memset(&n, 0, sizeof(n));
		rd_wg_genkey(n.priv);
		ret = gw_next_save(r->c->state_dir, &n);
		if (ret)
			rd_err("%s/%s: %s", r->c->state_dir, GW_ROTATE_NEXT, strerror(-ret));
		else
			start(r, n.priv);
	} else if (ret == -EINVAL) {
		rd_warn("%s/%s is malformed; ignored", r->c->state_dir, GW_ROTATE_NEXT);
		r->check_at = now + 60 * CHECK_MS;
	}
	memset(&n, 0, sizeof(n));
	return (int)(r->check_at - now);
}

/* Acknowledged: the manager holds the new key and its rctl0 too. The
 * data plane first (every VPN interface, then their handshakes), the
 * control tunnel next, and only then the identity on disk: a crash
 * before that resumes from identity.next, whose ROTATE the manager
 * answers again under the new key. */
static void commit(struct gw_rotate *r)
{
	char oldk[45], newk[45];
	int ret;

	for (unsigned int i = 0; i < r->c->n_vpns; i++) {
		const struct rd_vpn_conf *v = &r->c->vpns[i];

		ret = rd_wg_setup(v->ifname, r->next, 0);
		if (ret)
			rd_err("%s: cannot set the private key: %s", v->ifname, strerror(-ret));
		else
			handshake_all(v->ifname, v->keepalive);
	}
	if (!r->under_new)
		ctl_key(r, r->next);
	rd_key_b64(r->pub, oldk);
	rd_key_b64(r->next_pub, newk);
	memcpy(r->id->private_key, r->next, 32);
	memcpy(r->pub, r->next_pub, 32);
	memcpy(r->wg->self_key, r->next_pub, 32);
	ret = rd_identity_save(r->c->state_dir, r->id);
	if (ret) {
		rd_err("%s/identity: cannot save the new key: %s (it stays in %s)", r->c->state_dir,
		       strerror(-ret), GW_ROTATE_NEXT);
	} else {
		born_save(r, (uint64_t)time(NULL));
		ret = gw_next_remove(r->c->state_dir);
		if (ret)
			rd_warn("%s/%s: %s", r->c->state_dir, GW_ROTATE_NEXT, strerror(-ret));
	}
	r->active = r->under_new = false;
	memset(r->next, 0, 32);
	r->rotations++;
	rd_info("key rotated: %s -> %s", oldk, newk);
}

void gw_rotate_done(struct gw_rotate *r, const struct rd_pending *pm, bool acked)
{
	if (!r->active || pm->type != RD_ROTATE || pm->seq != r->seq)
		return;
	if (acked) {
		commit(r);
		return;
	}
	/* No ACK: the manager is down, or it took the key and its ACK was
	 * lost, so that its rctl0 now knows only the new one. Try the other. */
	r->under_new = !r->under_new;
	rd_warn("ROTATE not acknowledged; trying again with rctl0 on the %s key",
		r->under_new ? "new" : "current");
	ctl_key(r, r->under_new ? r->next : r->id->private_key);
	send_rotate(r);
}

void gw_rotate_peer(struct gw_rotate *r, struct rd_peer *mp, bool leads, bool unanswered)
{
	bool moved = mp != r->mp;

	r->mp = mp;
	r->leads = leads;
	if (!r->active)
		return;
	/* A key never announced is on no manager: nothing to try then. */
	if (moved && unanswered && r->sent) {
		r->under_new = !r->under_new;
		rd_warn("ROTATE: the manager was silent; rctl0 on the %s key for the next one",
			r->under_new ? "new" : "current");
		ctl_key(r, r->under_new ? r->next : r->id->private_key);
	}
	/* What was queued to the one before was dropped with its queue. */
	if (moved || !r->announced)
		send_rotate(r);
}

bool gw_rotate_error(struct gw_rotate *r, const struct rd_msg *m)
{
	struct gw_next n = { .refused = true };
	int ret;

	if (!r->active || !m->has_ref || m->ref_seq != r->seq)
		return false;
	rd_err("the manager refused the next key: %s (%s); keeping the current one",
	       m->text[0] ? m->text : "-", strerror((int)m->err));
	memcpy(n.priv, r->next, 32);
	snprintf(n.why, sizeof(n.why), "%s", m->text[0] ? m->text : strerror((int)m->err));
	ret = gw_next_save(r->c->state_dir, &n);
	if (ret)
		rd_err("%s/%s: %s", r->c->state_dir, GW_ROTATE_NEXT, strerror(-ret));
	if (r->under_new)
		ctl_key(r, r->id->private_key);
	r->active = r->under_new = false;
	memset(r->next, 0, 32);
	memset(&n, 0, sizeof(n));
	/* key-lifetime tries again one lifetime later, not at once. */
	born_save(r, (uint64_t)time(NULL));
	return true;
}

/* ---- rosterd rotate-key ------------------------------------------------ */

/* A running `rosterd gateway` holds the control port on rctl0. */
static bool daemon_runs(const struct rd_config *c, const struct rd_identity *id)
{
	int fd = rd_udp_socket(&id->id, id->control_port, c->ifname);

	if (fd >= 0)
		close(fd);
	return fd == -EADDRINUSE;
}

int rd_cmd_rotate_key(struct rd_config *c, unsigned int wait_s)
{
	struct rd_identity id, now;
	struct gw_next n;
	uint8_t old_pub[32], new_pub[32];
	char oldk[45], newk[45];
	int64_t deadline;
	int ret;

	ret = rd_identity_load(c->state_dir, &id);
	if (ret) {
		rd_err("%s/identity: %s; enrol first with 'rosterd redeem'", c->state_dir,
		       ret == -ENOENT ? "not enrolled" : strerror(-ret));
		return ret;
	}
	rd_wg_pubkey(old_pub, id.private_key);
	ret = gw_next_load(c->state_dir, &n);
	if (ret == -EINVAL) {
		rd_err("%s/%s is malformed; remove it if no rotation is under way", c->state_dir,
		       GW_ROTATE_NEXT);
		goto out;
	}
	if (!ret && !n.refused) {
		/* Never replaced: the manager may hold it already. */
		rd_info("a rotation is already pending; waiting for it");
	} else {
		memset(&n, 0, sizeof(n));
		rd_wg_genkey(n.priv);
		ret = gw_next_save(c->state_dir, &n);
		if (ret) {
			rd_err("%s/%s: %s", c->state_dir, GW_ROTATE_NEXT, strerror(-ret));
			goto out;
		}
	}
	rd_wg_pubkey(new_pub, n.priv);
	rd_key_b64(old_pub, oldk);
	rd_key_b64(new_pub, newk);
	ret = 0;
	if (!daemon_runs(c, &id)) {
		printf("gateway %s: no rosterd gateway runs; the next key %s is pending and is "
		       "announced when it starts\n", rd_ntop(&id.id), newk);
		goto out;
	}
	if (!wait_s) {
		printf("gateway %s: the next key %s is pending\n", rd_ntop(&id.id), newk);
		goto out;
	}
	deadline = rd_now_ms() + (int64_t)wait_s * 1000;
	for (;;) {
		struct gw_next cur;
		uint8_t pub[32];

		if (!rd_identity_load(c->state_dir, &now)) {
			rd_wg_pubkey(pub, now.private_key);
			memset(&now, 0, sizeof(now));
			if (!memcmp(pub, new_pub, 32)) {
				printf("gateway %s: key rotated\n  public key: %s\n  previous key: %s\n",
				       rd_ntop(&id.id), newk, oldk);
				ret = 0;
				break;
			}
		}
		ret = gw_next_load(c->state_dir, &cur);
		if (!ret && cur.refused && !memcmp(cur.priv, n.priv, 32)) {
			rd_err("the manager refused the next key: %s; the key stays %s", cur.why, oldk);
			gw_next_remove(c->state_dir);
			ret = -EPERM;
			break;
		}
		memset(&cur, 0, sizeof(cur));
		if (rd_now_ms() >= deadline) {
			rd_err("the next key %s is still pending after %u s (is the manager "
			       "reachable?); the daemon keeps announcing it", newk, wait_s);
			ret = -ETIMEDOUT;
			break;
		}
		usleep(100 * 1000);
	}
out:
	memset(&n, 0, sizeof(n));
	memset(&id, 0, sizeof(id));
	return ret;
}
