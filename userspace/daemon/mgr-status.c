// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd manager: the status document (mgr-status.h). The running
 * daemon and the offline reader gather the same facts from different
 * sources and hand them to one builder, so the two documents cannot
 * drift apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mgr.h"
#include "mgr-live.h"
#include "mgr-status.h"
#include "netif.h"
#include "util.h"

/* What the builder needs, from the daemon or from the state. */
struct facts {
	const struct rd_config *c;
	const char *role;		/* "leader", "standby", "stopped" */
	const char *leader;		/* the leader's name; NULL: none known */
	long pid;			/* 0: no daemon */
	const uint8_t *pub;		/* the manager's key; NULL: unknown */
	const char *store;		/* rd_store_describe() */
	const char *store_id;		/* hex */
	json_t *watch;			/* the store's watch; NULL: none */
	const struct rd_store_vpn *vpns;	/* ascending id, with members */
	unsigned int nvpns;
	const struct rd_entry *gws;	/* ascending id */
	unsigned int ngws;
	const uint64_t *last_seen;	/* [ngws] unix s, 0: never */
	unsigned int ninv;
	/* rctl0's peers as WireGuard last saw them (netif.h), sorted by key. */
	struct rd_wg_endpoint *ctl;
	unsigned int nctl;
};

/* Thousands of gateways, each looked up once per VPN it joined and once
 * in rctl0: sorted arrays and bsearch, never a scan per gateway. */
static int key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rd_wg_endpoint *)a)->key,
		      ((const struct rd_wg_endpoint *)b)->key, 32);
}

static int id_cmp(const void *a, const void *b)
{
	return rd_addr_cmp(&((const struct rd_entry *)a)->id, &((const struct rd_entry *)b)->id);
}

static const struct rd_wg_endpoint *ctl_peer(const struct facts *f, const uint8_t key[32])
{
	struct rd_wg_endpoint k;

	if (!f->nctl)
		return NULL;
	memcpy(k.key, key, 32);
	return bsearch(&k, f->ctl, f->nctl, sizeof(k), key_cmp);
}

/* rctl0's peers into f, sorted (none if rctl0 is not there). */
static void read_ctl(struct facts *f, const char *ifname)
{
	f->ctl = NULL;
	f->nctl = 0;
	if (rd_wg_peer_endpoints(ifname, &f->ctl, &f->nctl))
		return;
	if (f->nctl)
		qsort(f->ctl, f->nctl, sizeof(*f->ctl), key_cmp);
}

static json_t *gateway_json(const struct facts *f, const struct rd_entry *g, uint64_t seen,
			    json_t *joined)
{
	const struct rd_wg_endpoint *peer = ctl_peer(f, g->key);
	json_t *vpns = json_array();
	char key[45];

	rd_key_b64(g->key, key);
	for (unsigned int i = 0; i < g->n_vpns; i++)
		json_array_append_new(vpns, json_integer(g->vpns[i]));
	/* A gateway talks to the manager it was last heard by; with one
	 * manager that is this one, once it has been heard at all. */
	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:o}",
			 "id", rd_ntop(&g->id),
			 "public_key", key,
			 "vpns", vpns,
			 "joined", joined,
			 "last_seen", (json_int_t)seen,
			 "manager", seen ? json_string(rd_ntop(&f->c->control_addr)) : json_null(),
			 "endpoint", peer && peer->has_endpoint ? json_string(rd_ntop(&peer->endpoint)) :
			 json_null());
}

static json_t *build(struct facts *f)
{
	const struct rd_config *c = f->c;
	json_t *vpns = json_array(), *gws = json_array(), **joined;
	char key[45] = "";

	/* Which VPNs each gateway is a member of: one pass over the members
	 * (f->gws ascends by id, as mgr-ctl.c and the store keep it). */
	joined = calloc(f->ngws + 1, sizeof(*joined));
	if (!joined)
		return NULL;
	for (unsigned int i = 0; i < f->ngws; i++)
		joined[i] = json_array();
	for (unsigned int i = 0; i < f->nvpns; i++)
		for (unsigned int k = 0; k < f->vpns[i].n; k++) {
			struct rd_entry e = { .id = f->vpns[i].members[k].id };
			const struct rd_entry *g = f->ngws ? bsearch(&e, f->gws, f->ngws,
							    sizeof(e), id_cmp) : NULL;

			if (g)
				json_array_append_new(joined[g - f->gws], json_integer(f->vpns[i].id));
		}

	if (f->pub)
		rd_key_b64(f->pub, key);
	for (unsigned int i = 0; i < f->nvpns; i++)
		json_array_append_new(vpns, json_pack("{s:I, s:I, s:I}",
			"id", (json_int_t)f->vpns[i].id,
			"generation", (json_int_t)f->vpns[i].generation,
			"members", (json_int_t)f->vpns[i].n));
	for (unsigned int i = 0; i < f->ngws; i++)
		json_array_append_new(gws, gateway_json(f, &f->gws[i], f->last_seen[i], joined[i]));
	free(joined);
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:I, s:o, s:s, s:i, s:s, s:i, s:o, s:s, s:s, "
			 "s:o, s:I, s:o, s:o}",
			 "daemon", "manager",
			 "name", c->name,
			 "role", f->role,
			 "leader", f->leader ? json_string(f->leader) : json_null(),
			 "running", f->pid != 0,
			 "pid", f->pid ? json_integer(f->pid) : json_null(),
			 "time", (json_int_t)time(NULL),
			 "public_key", key[0] ? json_string(key) : json_null(),
			 "interface", c->ifname,
			 "listen_port", (int)c->listen_port,
			 "control_address", rd_ntop(&c->control_addr),
			 "control_port", (int)c->control_port,
			 "endpoint", c->has_endpoint ? json_string(rd_ntop(&c->endpoint)) : json_null(),
			 "store", f->store,
			 "store_identity", f->store_id,
			 "store_watch", f->watch ? json_incref(f->watch) : json_null(),
			 "pending_invitations", (json_int_t)f->ninv,
			 "vpns", vpns,
			 "gateways", gws);
}

/* The later of the time recorded and rctl0's latest handshake with the
 * gateway's key (what mgr_live_last_seen() gives the running daemon). */
static uint64_t seen_offline(const struct facts *f, const struct rd_entry *g)
{
	const struct rd_wg_endpoint *p = ctl_peer(f, g->key);
	uint64_t hs = p ? p->last_handshake : 0;

	return hs > g->last_seen ? hs : g->last_seen;
}

/* roster.ko's VPNs with their members, in the store's layout; the
 * members point into *sets. */
static int kernel_vpns(struct roster_handle *rh, struct rd_store_vpn **out, unsigned int *nout,
		       struct roster_member_set **sets, size_t *nsets)
{
	struct roster_vpn *kv = NULL;
	size_t nk = 0, j = 0;
	int ret;

	*out = NULL;
	*nout = 0;
	*sets = NULL;
	*nsets = 0;
	ret = roster_vpn_list(rh, &kv, &nk);
	if (!ret)
		ret = roster_member_list(rh, 0, sets, nsets);
	if (!ret && nk && !(*out = calloc(nk, sizeof(**out))))
		ret = -ENOMEM;
	if (ret) {
		free(kv);
		roster_member_sets_free(*sets, *nsets);
		*sets = NULL;
		*nsets = 0;
		return ret;
	}
	/* Both lists ascend by id; sets only hold VPNs with members. */
	for (size_t i = 0; i < nk; i++) {
		struct rd_store_vpn *v = &(*out)[i];

		v->id = kv[i].id;
		v->generation = kv[i].generation;
		while (j < *nsets && (*sets)[j].vpn_id < v->id)
			j++;
		if (j < *nsets && (*sets)[j].vpn_id == v->id) {
			v->n = (*sets)[j].count;
			v->members = (*sets)[j].members;
		}
	}
	*nout = (unsigned int)nk;
	free(kv);
	return 0;
}

json_t *mgr_status_json(struct mgr *m)
{
	struct facts f = { .c = m->c, .role = mgr_leads(m) ? "leader" : "standby",
			   .leader = m->lead.leader[0] ? m->lead.leader : NULL,
			   .pid = (long)getpid(), .pub = m->pub,
			   .store = rd_store_describe(m->st), .gws = m->gws, .ngws = m->ngws,
			   .ninv = m->ninv };
	struct roster_member_set *sets;
	struct rd_store_vpn *vpns;
	size_t nsets;
	uint64_t *seen = calloc(m->ngws + 1, sizeof(*seen));
	char hex[33];
	json_t *j = NULL;
	int err;

	if (!seen)
		return NULL;
	err = kernel_vpns(m->rh, &vpns, &f.nvpns, &sets, &nsets);
	if (err) {
		free(seen);
		return json_pack("{s:s}", "error", roster_strerror_ext(m->rh, err));
	}
	for (unsigned int i = 0; i < m->ngws; i++)
		seen[i] = mgr_live_last_seen(m, &m->gws[i].id);
	f.vpns = vpns;
	f.last_seen = seen;
	f.store_id = rd_store_identity_hex(m->st, hex);
	{
		const char *ep;
		int64_t rev;
		bool live;

		if (!rd_store_watch_state(m->st, &live, &rev, &ep))
			f.watch = json_pack("{s:b, s:I, s:s}", "live", live, "revision",
					    (json_int_t)rev, "endpoint", ep);
	}
	read_ctl(&f, m->c->ifname);
	j = build(&f);
	json_decref(f.watch);
	free(f.ctl);
	free(vpns);
	roster_member_sets_free(sets, nsets);
	free(seen);
	return j;
}

json_t *mgr_status_request(const char *req, void *arg)
{
	return strcmp(req, "status") ? NULL : mgr_status_json(arg);
}

json_t *mgr_status_offline(const struct rd_config *c, char *err, size_t errlen)
{
	struct facts f = { .c = c, .role = "stopped" };
	struct rd_store_vpn *vpns = NULL;
	struct rd_entry *gws = NULL, *inv = NULL;
	struct rd_store *st = NULL;
	uint64_t *seen = NULL;
	uint8_t priv[32], pub[32];
	char path[512], hex[33];
	json_t *j = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", c->state_dir, RD_STORE_FILE);
	if (access(path, F_OK)) {
		snprintf(err, errlen, "%s: no store (%s); the manager creates it when it starts",
			 path, strerror(errno));
		return NULL;
	}
	ret = rd_store_open(c->state_dir, &st, err, errlen);
	if (ret)
		return NULL;
	ret = rd_store_load(st, &vpns, &f.nvpns);
	if (!ret)
		ret = rd_store_gateways(st, &gws, &f.ngws);
	if (!ret)
		ret = rd_store_invites(st, &inv, &f.ninv);
	if (ret) {
		snprintf(err, errlen, "%s", rd_store_errmsg(st));
		goto out;
	}
	seen = calloc(f.ngws + 1, sizeof(*seen));
	if (!seen) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (!rd_state_key(c->state_dir, priv, false)) {
		rd_wg_pubkey(pub, priv);
		f.pub = pub;
	}
	memset(priv, 0, sizeof(priv));
	/* The control tunnel outlives the daemon (tunnels stay up). */
	read_ctl(&f, c->ifname);
	if (f.ngws)
		qsort(gws, f.ngws, sizeof(*gws), id_cmp);
	for (unsigned int i = 0; i < f.ngws; i++)
		seen[i] = seen_offline(&f, &gws[i]);
	f.store = rd_store_describe(st);
	f.store_id = rd_store_identity_hex(st, hex);
	f.vpns = vpns;
	f.gws = gws;
	f.last_seen = seen;
	j = build(&f);
out:
	free(f.ctl);
	free(seen);
	free(gws);
	free(inv);
	rd_store_vpns_free(vpns, f.nvpns);
	rd_store_close(st);
	return j;
}
