// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd gateway: applying the manager's changes to the gateway's own
 * roster.ko. Nothing here decides order: the kernel does, from the stamps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "gw-table.h"

int gw_table_get(struct roster_handle *rh, uint32_t vpn, struct gw_local *out,
		 uint32_t *member_count)
{
	struct roster_vpn st;
	int ret = roster_vpn_get(rh, vpn, &st);

	memset(out, 0, sizeof(*out));
	if (member_count)
		*member_count = 0;
	if (ret)
		return ret;
	out->have = true;
	out->follower = st.flags & ROSTER_VPN_F_FOLLOWER;
	out->gen = st.generation;
	if (member_count)
		*member_count = st.member_count;
	return 0;
}

static bool same_prefixes(const struct roster_member *a, const struct roster_member *b)
{
	return rd_prefixes_same(a->prefixes, a->n_prefixes, b->prefixes, b->n_prefixes);
}

bool gw_member_same(const struct roster_member *a, const struct roster_member *b)
{
	if (memcmp(a->key, b->key, sizeof(a->key)) || a->has_endpoint != b->has_endpoint)
		return false;
	if (a->has_endpoint && (!rd_addr_eq(&a->endpoint, &b->endpoint) || a->port != b->port))
		return false;
	return same_prefixes(a, b);
}

int gw_table_change(struct roster_handle *rh, uint32_t vpn, const struct gw_change *c)
{
	struct roster_vpn st;
	int ret;

	if (c->type == RD_NOTIFY)
		return roster_member_add(rh, vpn, &c->member, 0, c->gen, NULL);
	ret = roster_member_del(rh, vpn, &c->dev, ROSTER_REASON_REQUESTED, 0, c->gen, NULL);
	if (ret != -ENOENT)
		return ret;
	if (roster_vpn_get(rh, vpn, &st) == -ENOENT)
		return -ENOENT;
	/* The stamp was in order (roster.ko checks it before the member) and
	 * the member is already gone: the table is what the manager's is at
	 * c->gen, so it moves there, and the next change applies. */
	return roster_vpn_set(rh, vpn, c->gen, 0, NULL, NULL);
}

/* Promote it to a table of its own (no stamp needed), then an unstamped
 * delete. */
int gw_table_drop(struct roster_handle *rh, uint32_t vpn)
{
	uint32_t none = 0;
	int ret = roster_vpn_set(rh, vpn, 0, 0, &none, NULL);

	if (!ret || ret == -EINVAL)
		ret = roster_vpn_delete(rh, vpn, 0);
	return ret == -ENOENT ? 0 : ret;
}

int gw_table_remove(struct roster_handle *rh, uint32_t vpn, uint64_t gen)
{
	struct gw_local t;
	int ret = gw_table_get(rh, vpn, &t, NULL);

	if (ret)
		return ret == -ENOENT ? 0 : ret;
	/* Stamped, so that a listener sees the deletion at the manager's
	 * generation; a VPN_DEL takes no resync, hence the step before. */
	if (t.follower && gen > t.gen) {
		ret = 0;
		if (gen > t.gen + 1)
			ret = roster_vpn_set(rh, vpn, gen - 1, ROSTER_F_RESYNC, NULL, NULL);
		if (!ret)
			ret = roster_vpn_delete(rh, vpn, gen);
		if (!ret)
			return 0;
	}
	return gw_table_drop(rh, vpn);
}

static const struct roster_member *find(const struct roster_member *mb, unsigned int n,
					const struct roster_addr *id)
{
	for (unsigned int i = 0; i < n; i++)
		if (rd_addr_eq(&mb[i].id, id))
			return &mb[i];
	return NULL;
}

static void warn_change(struct roster_handle *rh, uint32_t vpn, const char *what,
			const struct roster_addr *id, int ret)
{
	rd_warn("vpn %u: table: %s %s: %s", vpn, what, rd_ntop(id), roster_strerror_ext(rh, ret));
}

int gw_table_sync(struct roster_handle *rh, uint32_t vpn, uint64_t gen,
		  const struct roster_member *mb, unsigned int n,
		  const struct roster_member *self, bool rebase, unsigned int *changed)
{
	struct roster_member_set *sets = NULL;
	const struct roster_member *cur = NULL;
	struct roster_member *want;
	unsigned int nwant = 0;
	uint32_t ncur = 0;
	size_t nsets = 0;
	struct gw_local t;
	int ret, first = 0;

	*changed = 0;
	ret = gw_table_get(rh, vpn, &t, NULL);
	if (!ret && (rebase || !t.follower)) {
		/* The old generations mean nothing for this list's: start
		 * afresh. The reconciler reads the whole burst at once and
		 * compares the end state with WireGuard, so no peer flaps. */
		rd_info("vpn %u: rebasing the table on generation %llu", vpn,
			(unsigned long long)gen);
		ret = gw_table_drop(rh, vpn);
		if (ret)
			return ret;
		ret = -ENOENT;
	}
	if (ret == -ENOENT) {
		struct roster_vpn st;

		ret = roster_vpn_create(rh, vpn, ROSTER_VPN_F_FOLLOWER, gen, &st);
		if (ret)
			return ret;
		t.have = t.follower = true;
		t.gen = st.generation;
	} else if (ret) {
		return ret;
	}
	if (gen < t.gen)
		return -EALREADY;
	want = calloc(n + 1, sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		want[nwant++] = mb[i];
	/* The manager lists every member but the recipient: the gateway's own
	 * record comes from its configuration, as its JOIN_REQ stated it. */
	if (self && !find(want, nwant, &self->id))
		want[nwant++] = *self;
	ret = roster_member_list(rh, vpn, &sets, &nsets);
	if (ret && ret != -ENOENT) {
		free(want);
		return ret;
	}
	if (nsets) {
		cur = sets[0].members;
		ncur = sets[0].count;
	}
	/* Removals first: a prefix can move from one member to another (or
	 * two can swap), and roster.ko refuses a prefix still held. Members
	 * that stay but change prefixes go too, and come back below. */
	for (uint32_t i = 0; i < ncur; i++) {
		const struct roster_member *w = find(want, nwant, &cur[i].id);

		if (w && same_prefixes(w, &cur[i]))
			continue;
		ret = roster_member_del(rh, vpn, &cur[i].id, ROSTER_REASON_REQUESTED,
					ROSTER_F_RESYNC, gen, NULL);
		if (ret && ret != -ENOENT) {
			warn_change(rh, vpn, "remove", &cur[i].id, ret);
			first = first ? first : ret;
		}
		++*changed;
	}
	for (unsigned int i = 0; i < nwant; i++) {
		const struct roster_member *old = find(cur, ncur, &want[i].id);

		if (old && gw_member_same(old, &want[i]))
			continue;
		want[i].join_time = 0;
		want[i].join_generation = 0;
		ret = roster_member_add(rh, vpn, &want[i], ROSTER_F_RESYNC, gen, NULL);
		if (ret) {
			warn_change(rh, vpn, "add", &want[i].id, ret);
			first = first ? first : ret;
		}
		++*changed;
	}
	roster_member_sets_free(sets, nsets);
	free(want);
	/* Nothing to change but the generation: move it, or the next change
	 * (gen + 1) would look like a gap. */
	if (!*changed && gen > t.gen) {
		ret = roster_vpn_set(rh, vpn, gen, ROSTER_F_RESYNC, NULL, NULL);
		if (ret)
			first = first ? first : ret;
	}
	return first;
}
