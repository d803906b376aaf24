// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: eviction (`rosterd revoke`, and the manager's sweep of
 * revoked members) and the list of pending invitations (`rosterd
 * invites`). See mgr-admin.h for the rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mgr-admin.h"
#include "netif.h"
#include "store.h"
#include "util.h"

/* An id holds one enrolment and, since a new invitation replaces the
 * older ones, one invitation; room for more costs nothing. */
#define REVOKE_MAX_KEYS 16
#define MAX_VPNS_SHOWN 4096

/* ---- the rule, applied to roster.ko ---------------------------------- */

bool mgr_evict_due(struct mgr *m, const struct roster_member *mb)
{
	if (!mb->has_key || mgr_gw_find(m, &mb->id))
		return false;
	return rd_store_key_revoked(m->st, mb->key) == 1;
}

int mgr_evict_id(struct roster_handle *rh, const struct roster_addr *id, uint32_t *vpns,
		 unsigned int max, unsigned int *n)
{
	struct roster_vpn *v = NULL;
	size_t nv = 0;
	int ret, err = 0;

	*n = 0;
	ret = roster_vpn_list(rh, &v, &nv);
	if (ret)
		return ret;
	for (size_t i = 0; i < nv; i++) {
		struct roster_member cur;

		if (roster_member_get(rh, v[i].id, id, &cur, NULL))
			continue;
		ret = roster_member_del(rh, v[i].id, id, ROSTER_REASON_ADMIN, 0, 0, NULL);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			rd_err("vpn %u: cannot remove %s: %s", v[i].id, rd_ntop(id),
			       roster_strerror_ext(rh, ret));
			err = ret;
			continue;
		}
		if (*n < max)
			vpns[*n] = v[i].id;
		(*n)++;
	}
	free(v);
	return err;
}

static void evict_one(struct mgr *m, uint32_t vpn, const struct roster_member *mb)
{
	char key[45];
	int ret = roster_member_del(m->rh, vpn, &mb->id, ROSTER_REASON_ADMIN, 0, 0, NULL);

	rd_key_b64(mb->key, key);
	if (ret && ret != -ENOENT)
		rd_err("vpn %u: cannot evict %s (key %s, revoked): %s", vpn, rd_ntop(&mb->id), key,
		       roster_strerror_ext(m->rh, ret));
	else if (!ret)
		rd_warn("vpn %u: evicted %s: not enrolled, and its key %s is revoked", vpn,
			rd_ntop(&mb->id), key);
}

void mgr_evict_all(struct mgr *m)
{
	struct roster_member_set *sets = NULL;
	size_t n = 0;
	int ret;

	/* A standby's table copies the leader's, evictions included. */
	if (!m->rh || !mgr_leads(m))
		return;
	ret = roster_member_list(m->rh, 0, &sets, &n);
	if (ret) {
		if (ret != -ENOENT)
			rd_warn("revoked members: cannot dump the table: %s",
				roster_strerror_ext(m->rh, ret));
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < sets[i].count; j++)
			if (mgr_evict_due(m, &sets[i].members[j]))
				evict_one(m, sets[i].vpn_id, &sets[i].members[j]);
	roster_member_sets_free(sets, n);
}

void mgr_evict_sweep(struct mgr *m, const struct rd_entry *was, unsigned int nwas)
{
	struct roster_vpn *v = NULL;
	size_t nv = 0;

	if (!m->rh)
		return;		/* before setup_table: mgr_evict_all follows */
	for (unsigned int i = 0; i < nwas; i++) {
		struct sockaddr_storage ss;
		struct rd_peer *p;
		socklen_t len;

		if (mgr_gw_find(m, &was[i].id))
			continue;
		/* Its key is off rctl0: what is queued for it can never arrive,
		 * and would only be retransmitted into nothing. */
		len = rd_sockaddr(&was[i].id, m->c->control_port, &ss);
		p = rd_peer_get(&m->link, (struct sockaddr *)&ss, len, false);
		if (p)
			rd_peer_flush(p);
		if (!mgr_leads(m))
			continue;
		/* Rare (a revoke), so the VPN list is read only when needed. */
		if (!v && roster_vpn_list(m->rh, &v, &nv))
			return;
		for (size_t j = 0; j < nv; j++) {
			struct roster_member cur;

			if (!roster_member_get(m->rh, v[j].id, &was[i].id, &cur, NULL) &&
			    mgr_evict_due(m, &cur))
				evict_one(m, v[j].id, &cur);
		}
	}
	free(v);
}

/* ---- rosterd revoke ---------------------------------------------------- */

/* A command must not create a store (nor import an earlier rosterd's text
 * files) under a manager that has never started. */
static int open_existing(const struct rd_config *c, struct rd_store **st)
{
	char path[512], err[768];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", c->state_dir, RD_STORE_FILE);
	if (access(path, F_OK)) {
		ret = -errno;
		rd_err("%s: no store (%s); the manager creates it when it starts", path,
		       strerror(errno));
		return ret;
	}
	ret = rd_store_open(c->state_dir, st, err, sizeof(err));
	if (ret)
		rd_err("%s", err);
	return ret;
}

static bool has_key(const struct rd_entry *e, unsigned int n, const struct roster_addr *id,
		    const uint8_t key[32])
{
	for (unsigned int i = 0; i < n; i++)
		if (rd_addr_eq(&e[i].id, id) && !memcmp(e[i].key, key, 32))
			return true;
	return false;
}

int rd_cmd_revoke(struct rd_config *c, const struct roster_addr *id)
{
	uint8_t keys[REVOKE_MAX_KEYS][32];
	struct rd_wg_peer peers[REVOKE_MAX_KEYS];
	struct rd_entry *gws = NULL, *inv = NULL;
	unsigned int ngws = 0, ninv = 0, nkeys = 0, nvpns = 0;
	uint32_t *vpns = NULL;
	struct roster_handle *rh;
	struct rd_store *st;
	int ret, err = 0;

	ret = open_existing(c, &st);
	if (ret)
		return ret;
	/* Only to name what each revoked key was: the revocation itself is
	 * one transaction, whatever changed since. */
	if (rd_store_gateways(st, &gws, &ngws) || rd_store_invites(st, &inv, &ninv)) {
		rd_err("store: %s", rd_store_errmsg(st));
		ret = -EIO;
		goto out;
	}
	ret = rd_store_revoke(st, id, keys, REVOKE_MAX_KEYS, &nkeys);
	if (ret == -ENOENT) {
		rd_err("%s: no enrolled gateway and no pending invitation with that id (rosterd "
		       "invites lists the invitations); nothing changed", rd_ntop(id));
		goto out;
	}
	if (ret) {
		rd_err("cannot revoke %s: %s", rd_ntop(id), rd_store_errmsg(st));
		goto out;
	}
	if (nkeys > REVOKE_MAX_KEYS)
		nkeys = REVOKE_MAX_KEYS;
	memset(peers, 0, sizeof(peers));
	for (unsigned int i = 0; i < nkeys; i++) {
		char b[45];

		rd_key_b64(keys[i], b);
		printf("revoked %s %s key %s\n",
		       has_key(gws, ngws, id, keys[i]) ? "gateway" :
		       has_key(inv, ninv, id, keys[i]) ? "invitation" : "key of", rd_ntop(id), b);
		memcpy(peers[i].key, keys[i], 32);
		peers[i].remove = true;
	}
	fflush(stdout);
	/* The tunnel first: from now on nothing the key sends reaches the
	 * manager, even if the manager is down (its rctl0 stays) or has not
	 * yet noticed the store change. A running manager makes rctl0 the
	 * store's keys again within a second anyway (mgr-ctl.c). */
	if (nkeys && rd_if_index(c->ifname) > 0) {
		int r = rd_wg_apply(c->ifname, peers, nkeys, false);

		if (r) {
			rd_err("%s: cannot remove the revoked key(s): %s; the manager removes them "
			       "when it reloads", c->ifname, strerror(-r));
			err = r;
		}
	}
	/* The VPNs last: with the key gone from rctl0 the gateway cannot join
	 * again behind our back. Through roster.ko, so that the manager fans
	 * the removals out like any other change. */
	ret = roster_open(&rh);
	if (ret == -ENOENT) {
		rd_warn("roster.ko is not loaded: the manager removes %s from its VPNs when it "
			"starts", rd_ntop(id));
		ret = err;
		goto out;
	}
	if (ret) {
		rd_err("cannot open the roster family: %s; the manager removes %s from its VPNs "
		       "when it starts", strerror(-ret), rd_ntop(id));
		goto out;
	}
	vpns = calloc(MAX_VPNS_SHOWN, sizeof(*vpns));
	if (!vpns) {
		roster_close(rh);
		ret = -ENOMEM;
		goto out;
	}
	ret = mgr_evict_id(rh, id, vpns, MAX_VPNS_SHOWN, &nvpns);
	roster_close(rh);
	for (unsigned int i = 0; i < nvpns && i < MAX_VPNS_SHOWN; i++)
		printf("removed %s from vpn %u (reason admin)\n", rd_ntop(id), vpns[i]);
	if (ret)
		rd_err("%s is revoked, but some VPNs still list it; the manager removes it when it "
		       "(re)starts", rd_ntop(id));
	else
		ret = err;
out:
	free(vpns);
	free(gws);
	free(inv);
	rd_store_close(st);
	return ret;
}

/* ---- rosterd invites ---------------------------------------------------- */

/* "1 hour, 2 minutes, 3 seconds", as `wg show` writes a handshake's age. */
static void duration(FILE *f, uint64_t s)
{
	static const struct { uint64_t secs; const char *name; } units[] = {
		{ 86400 * 365, "year" }, { 86400, "day" }, { 3600, "hour" },
		{ 60, "minute" }, { 1, "second" },
	};
	bool first = true;

	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t k = s / units[i].secs;

		if (!k && !(first && units[i].secs == 1))
			continue;
		s -= k * units[i].secs;
		fprintf(f, "%s%llu %s%s", first ? "" : ", ", (unsigned long long)k, units[i].name,
			k == 1 ? "" : "s");
		first = false;
	}
}

static void print_text(FILE *f, const struct rd_entry *e, uint64_t now, bool first)
{
	char key[45], b[ROSTER_ADDR_STRLEN];

	rd_key_b64(e->key, key);
	fprintf(f, "%sinvitation: %s\n  key: %s\n  vpns:", first ? "" : "\n", rd_ntop(&e->id),
		key);
	for (unsigned int i = 0; i < e->n_vpns; i++)
		fprintf(f, "%s %u", i ? "," : "", e->vpns[i]);
	fprintf(f, "\n  prefixes:");
	if (!e->has_prefixes)
		fprintf(f, " (any: an invitation from before prefix lists)");
	for (unsigned int i = 0; i < e->n_prefixes; i++) {
		roster_prefix_format(&e->prefixes[i], b, sizeof(b));
		fprintf(f, "%s %s", i ? "," : "", b);
	}
	if (!e->expiry) {
		fprintf(f, "\n  expires: never\n");
	} else {
		time_t t = (time_t)e->expiry;
		struct tm tm;
		char when[64];

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		fprintf(f, "\n  expires: %s (in ", when);
		duration(f, e->expiry - now);
		fprintf(f, ")\n");
	}
}

/* Every value is a number, an address, a prefix or base64: nothing to
 * escape. */
static void print_json(FILE *f, const struct rd_entry *e, uint64_t now, bool first)
{
	char key[45], b[ROSTER_ADDR_STRLEN];

	rd_key_b64(e->key, key);
	fprintf(f, "%s\n  {\"id\": \"%s\", \"key\": \"%s\", \"vpns\": [", first ? "" : ",",
		rd_ntop(&e->id), key);
	for (unsigned int i = 0; i < e->n_vpns; i++)
		fprintf(f, "%s%u", i ? ", " : "", e->vpns[i]);
	fprintf(f, "], \"prefixes\": ");
	if (!e->has_prefixes) {
		fprintf(f, "null");
	} else {
		fprintf(f, "[");
		for (unsigned int i = 0; i < e->n_prefixes; i++) {
			roster_prefix_format(&e->prefixes[i], b, sizeof(b));
			fprintf(f, "%s\"%s\"", i ? ", " : "", b);
		}
		fprintf(f, "]");
	}
	if (e->expiry)
		fprintf(f, ", \"expiry\": %llu, \"expires_in\": %llu}",
			(unsigned long long)e->expiry, (unsigned long long)(e->expiry - now));
	else
		fprintf(f, ", \"expiry\": null, \"expires_in\": null}");
}

void mgr_invites_print(FILE *f, const struct rd_entry *inv, unsigned int n, uint64_t now,
		       bool json)
{
	bool first = true;

	if (json)
		fprintf(f, "[");
	for (unsigned int i = 0; i < n; i++) {
		/* Expired but not yet dropped by the manager: no longer pending. */
		if (inv[i].expiry && inv[i].expiry <= now)
			continue;
		if (json)
			print_json(f, &inv[i], now, first);
		else
			print_text(f, &inv[i], now, first);
		first = false;
	}
	if (json)
		fprintf(f, "%s]\n", first ? "" : "\n");
}

int rd_cmd_invites(struct rd_config *c, bool json)
{
	struct rd_entry *inv = NULL;
	unsigned int ninv = 0;
	struct rd_store *st;
	int ret;

	ret = open_existing(c, &st);
	if (ret)
		return ret;
	ret = rd_store_invites(st, &inv, &ninv);
	if (ret)
		rd_err("store: %s", rd_store_errmsg(st));
	else
		mgr_invites_print(stdout, inv, ninv, (uint64_t)time(NULL), json);
	free(inv);
	rd_store_close(st);
	if (!ret && fflush(stdout)) {
		rd_err("standard output: %s", strerror(errno));
		ret = -EIO;
	}
	return ret;
}
