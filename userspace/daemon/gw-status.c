// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: the status document (gw-status.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw-ctl.h"
#include "gw-status.h"
#include "gw-table.h"
#include "netif.h"
#include "status-wg.h"
#include "util.h"

/* The manager the daemon talks to, or (no daemon) would start with. */
static unsigned int in_use(const struct gw_status_src *s)
{
	return s->fo ? s->fo->cur : gw_ctl_first(s->id);
}

/* Every manager of the cluster with its control tunnel peer (the rctl0
 * peer with its key), and which one is in use. */
static json_t *managers_json(const struct gw_status_src *s)
{
	const struct rd_config *c = s->c;
	const struct rd_identity *id = s->id;
	json_t *peers, *list = json_array();
	int err;

	peers = status_wg_peers(c->ifname, NULL, &err);
	for (unsigned int i = 0; i < id->n_managers; i++) {
		const struct rd_manager *mg = &id->managers[i];
		char key[45], ep[80];
		json_t *p;

		rd_key_b64(mg->key, key);
		p = peers ? status_wg_find(peers, key) : NULL;
		json_array_append_new(list, json_pack(
			"{s:s, s:i, s:o, s:s, s:b, s:I, s:I, s:I}",
			"control_address", rd_ntop(&mg->control_addr),
			"control_port", (int)id->control_port,
			"endpoint", mg->endpoint.family ?
				json_string(roster_endpoint_format(&mg->endpoint, mg->port, ep,
								   sizeof(ep))) : json_null(),
			"public_key", key,
			"in_use", i == in_use(s),
			"latest_handshake",
			p ? json_integer_value(json_object_get(p, "latest_handshake")) : 0,
			"transfer_rx", p ? json_integer_value(json_object_get(p, "transfer_rx")) : 0,
			"transfer_tx", p ? json_integer_value(json_object_get(p, "transfer_tx")) : 0));
	}
	json_decref(peers);
	return list;
}

/* Each WireGuard peer named by the member that has its key. */
static void name_peers(json_t *peers, const struct roster_member_set *set)
{
	size_t i;
	json_t *p;

	json_array_foreach(peers, i, p) {
		const char *k = json_string_value(json_object_get(p, "public_key"));
		json_t *id = json_null();

		for (uint32_t j = 0; set && k && j < set->count; j++) {
			char key[45];

			rd_key_b64(set->members[j].key, key);
			if (!strcmp(key, k)) {
				id = json_string(rd_ntop(&set->members[j].id));
				break;
			}
		}
		json_object_set_new(p, "id", id);
	}
}

static json_t *vpn_json(const struct gw_status_src *s, const struct rd_vpn_conf *v)
{
	struct gw_local t = { 0 };
	struct roster_member_set *sets = NULL;
	size_t nsets = 0;
	uint32_t count = 0;
	unsigned int port = 0;
	json_t *peers;
	int err;

	if (s->rh && !gw_table_get(s->rh, v->id, &t, &count))
		roster_member_list(s->rh, v->id, &sets, &nsets);
	peers = status_wg_peers(v->ifname, &port, &err);
	if (!peers)
		peers = json_array();
	name_peers(peers, nsets ? &sets[0] : NULL);
	roster_member_sets_free(sets, nsets);
	return json_pack("{s:I, s:s, s:i, s:b, s:I, s:I, s:o}",
			 "id", (json_int_t)v->id,
			 "interface", v->ifname,
			 "listen_port", (int)v->listen_port,
			 "joined", t.have,
			 "generation", (json_int_t)t.gen,
			 "members", (json_int_t)count,
			 "peers", peers);
}

json_t *gw_status_json(const struct gw_status_src *s, long pid)
{
	const struct rd_config *c = s->c;
	const struct rd_identity *id = s->id;
	json_t *vpns = json_array(), *managers;
	uint8_t pub[32];
	char key[45], hex[2 * RD_STORE_ID_LEN + 1] = "", self[ROSTER_ADDR_STRLEN];
	char cur[ROSTER_ADDR_STRLEN];

	/* Copied out of rd_ntop's few rotating buffers, which the managers'
	 * addresses would otherwise reuse before json_pack reads them. */
	managers = managers_json(s);
	roster_addr_format(&id->id, self, sizeof(self));
	roster_addr_format(&id->managers[in_use(s)].control_addr, cur, sizeof(cur));
	rd_wg_pubkey(pub, id->private_key);
	rd_key_b64(pub, key);
	for (unsigned int i = 0; id->has_store_id && i < RD_STORE_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", id->store_id[i]);
	for (unsigned int i = 0; i < c->n_vpns; i++)
		json_array_append_new(vpns, vpn_json(s, &c->vpns[i]));
	return json_pack("{s:s, s:b, s:o, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o}",
			 "daemon", "gateway",
			 "running", pid != 0,
			 "pid", pid ? json_integer(pid) : json_null(),
			 "time", (json_int_t)time(NULL),
			 "id", self,
			 "public_key", key,
			 "interface", c->ifname,
			 "endpoint", c->has_endpoint ? json_string(rd_ntop(&c->endpoint)) : json_null(),
			 "store_identity", hex[0] ? json_string(hex) : json_null(),
			 "managers", managers,
			 "manager_in_use", cur,
			 "vpns", vpns);
}

json_t *gw_status_request(const char *req, void *arg)
{
	return strcmp(req, "status") ? NULL : gw_status_json(arg, (long)getpid());
}

json_t *gw_status_offline(const struct rd_config *c, char *err, size_t errlen)
{
	struct rd_identity id;
	struct gw_status_src s = { .c = c, .id = &id };
	json_t *j;
	int ret = rd_identity_load(c->state_dir, &id);

	if (ret) {
		snprintf(err, errlen, "%s/identity: %s", c->state_dir,
			 ret == -ENOENT ? "not enrolled (rosterd redeem)" : strerror(-ret));
		return NULL;
	}
	/* Without roster.ko the VPNs show as not joined; WireGuard still says
	 * what the tunnels do. */
	if (roster_open(&s.rh))
		s.rh = NULL;
	j = gw_status_json(&s, 0);
	if (s.rh)
		roster_close(s.rh);
	memset(&id, 0, sizeof(id));
	return j;
}
