// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: store.h in front of its engines, SQLite (store-sqlite.c, the
 * embedded default) and etcd (store-etcd.c, for several managers). The
 * handle knows its engine; every call goes to it. See
 * store-sqlite-names.h for how the SQLite engine gets its own names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "store-sqlite-names.h"
#include "store-etcd.h"
#include "store-sqlite.h"

struct rd_store {
	struct rd_sqlite_store *sq;	/* exactly one of the two */
	struct rd_etcd_store *et;
};

#define CALL(fn, ...) (s->et ? rd_store_etcd_##fn(s->et, __VA_ARGS__) \
			     : rd_store_sqlite_##fn(s->sq, __VA_ARGS__))
#define CALL0(fn) (s->et ? rd_store_etcd_##fn(s->et) : rd_store_sqlite_##fn(s->sq))

static int wrap(struct rd_sqlite_store *sq, struct rd_etcd_store *et, struct rd_store **out)
{
	struct rd_store *s = calloc(1, sizeof(*s));

	if (!s) {
		if (sq)
			rd_store_sqlite_close(sq);
		rd_store_etcd_close(et);
		return -ENOMEM;
	}
	s->sq = sq;
	s->et = et;
	*out = s;
	return 0;
}

int rd_store_open(const char *dir, struct rd_store **out, char *err, size_t errlen)
{
	struct rd_sqlite_store *sq;
	int ret;

	*out = NULL;
	ret = rd_store_sqlite_open(dir, &sq, err, errlen);
	return ret ? ret : wrap(sq, NULL, out);
}

int rd_store_open_etcd(const struct rd_etcd_conf *c, struct rd_store **out, char *err,
		       size_t errlen)
{
	struct rd_etcd_store *et;
	int ret;

	*out = NULL;
	ret = rd_store_etcd_open(c, &et, err, errlen);
	return ret ? ret : wrap(NULL, et, out);
}

int rd_store_open_config(const struct rd_config *c, struct rd_store **out, char *err,
			 size_t errlen)
{
	if (c->store_etcd)
		return rd_store_open_etcd(&c->etcd, out, err, errlen);
	return rd_store_open(c->state_dir, out, err, errlen);
}

void rd_store_close(struct rd_store *s)
{
	if (!s)
		return;
	if (s->et)
		rd_store_etcd_close(s->et);
	else
		rd_store_sqlite_close(s->sq);
	free(s);
}

struct sqlite3 *rd_store_sqlite(struct rd_store *s)
{
	return s->sq ? rd_store_sqlite_db(s->sq) : NULL;
}

const uint8_t *rd_store_identity(const struct rd_store *s)
{
	return CALL0(identity);
}

const char *rd_store_identity_hex(const struct rd_store *s, char *buf)
{
	const uint8_t *id = rd_store_identity(s);

	for (unsigned int i = 0; i < 16; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
	return buf;
}

const char *rd_store_describe(const struct rd_store *s)
{
	return CALL0(describe);
}

const char *rd_store_errmsg(const struct rd_store *s)
{
	return CALL0(errmsg);
}

int rd_store_load(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return CALL(load, out, n);
}

int rd_store_vpn_list(struct rd_store *s, struct rd_store_vpn **out, unsigned int *n)
{
	return CALL(vpn_list, out, n);
}

int rd_store_vpn_get(struct rd_store *s, uint32_t id, struct rd_store_vpn *out)
{
	return CALL(vpn_get, id, out);
}

int rd_store_vpn_generation(struct rd_store *s, uint32_t id, uint64_t *gen)
{
	return CALL(vpn_generation, id, gen);
}

int rd_store_commit(struct rd_store *s, const struct rd_store_change *c)
{
	return CALL(commit, c);
}

int rd_store_gateways(struct rd_store *s, struct rd_entry **out, unsigned int *n)
{
	return CALL(gateways, out, n);
}

int rd_store_invites(struct rd_store *s, struct rd_entry **out, unsigned int *n)
{
	return CALL(invites, out, n);
}

int rd_store_invite_put(struct rd_store *s, const struct rd_entry *inv,
			uint8_t (*old_keys)[32], unsigned int max_old, unsigned int *replaced)
{
	return CALL(invite_put, inv, old_keys, max_old, replaced);
}

int rd_store_invites_expire(struct rd_store *s, uint64_t now, uint8_t (*keys)[32],
			    unsigned int max, unsigned int *n)
{
	return CALL(invites_expire, now, keys, max, n);
}

int rd_store_enrol(struct rd_store *s, struct rd_entry *gw, const uint8_t invite_key[32],
		   uint8_t old_key[32], bool *had_old)
{
	return CALL(enrol, gw, invite_key, old_key, had_old);
}

int rd_store_revoke(struct rd_store *s, const struct roster_addr *id, uint8_t (*keys)[32],
		    unsigned int max, unsigned int *n)
{
	return CALL(revoke, id, keys, max, n);
}

int rd_store_key_revoked(struct rd_store *s, const uint8_t key[32])
{
	return CALL(key_revoked, key);
}

int rd_store_gateway_rekey(struct rd_store *s, const struct roster_addr *id,
			   const uint8_t old_key[32], const uint8_t new_key[32])
{
	return CALL(gateway_rekey, id, old_key, new_key);
}

int rd_store_gateways_seen(struct rd_store *s, const struct roster_addr *ids,
			   const uint64_t *when, unsigned int n)
{
	return CALL(gateways_seen, ids, when, n);
}

int rd_store_session_next(struct rd_store *s, uint32_t *session)
{
	return CALL(session_next, session);
}

bool rd_store_changed(struct rd_store *s)
{
	return CALL0(changed);
}

int rd_store_watch_poll(struct rd_store *s, struct pollfd *pfd)
{
	if (s->et)
		return rd_store_etcd_watch_poll(s->et, pfd);
	pfd->fd = -1;
	pfd->events = pfd->revents = 0;
	return -1;
}

unsigned int rd_store_watch_run(struct rd_store *s, short revents)
{
	return s->et ? rd_store_etcd_watch_run(s->et, revents) : 0;
}

int rd_store_watch_state(struct rd_store *s, bool *live, int64_t *rev, const char **endpoint)
{
	if (!s->et)
		return -EOPNOTSUPP;
	rd_store_etcd_watch_state(s->et, live, rev, endpoint);
	return 0;
}

int rd_store_backup(struct rd_store *s, const char *path)
{
	return CALL(backup, path);
}

int rd_store_campaign(struct rd_store *s, const char *name, unsigned int ttl, bool *leader)
{
	if (s->et)
		return rd_store_etcd_campaign(s->et, name, ttl, leader);
	*leader = true;
	return 0;
}

int rd_store_raft_away(struct rd_store *s, const struct roster_addr *host, char *to, size_t len)
{
	return s->et ? rd_store_etcd_raft_away(s->et, host, to, len) : 0;
}

int rd_store_resign(struct rd_store *s)
{
	return s->et ? rd_store_etcd_resign(s->et) : 0;
}

bool rd_store_shared(const struct rd_store *s)
{
	return s->et != NULL;
}

int rd_store_leader(struct rd_store *s, char *name, size_t len)
{
	if (s->et)
		return rd_store_etcd_leader(s->et, name, len);
	if (len)
		name[0] = '\0';
	return 0;
}

int rd_store_manager_put(struct rd_store *s, const struct rd_store_manager *mg)
{
	return s->et ? rd_store_etcd_manager_put(s->et, mg) : 0;
}

int rd_store_managers(struct rd_store *s, struct rd_store_manager *out, unsigned int max,
		      unsigned int *n)
{
	if (s->et)
		return rd_store_etcd_managers(s->et, out, max, n);
	*n = 0;
	return 0;
}
