// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libroster's netlink calls (userspace/lib/nl.c) on an in-memory table
 * with roster.ko's rules (kmod/netlink.c, kmod/table.c): generations and
 * stamps (a stamped change applies at generation + 1, or at least the
 * generation with RESYNC; a follower refuses unstamped changes), the
 * first joiner creating the VPN, prefix overlap refused with the
 * holder named, the member limit, and a notification for every change,
 * kept for roster_monitor_read() only while a monitor is open. The
 * parsing and formatting helpers are libroster's own (lib/util.c,
 * lib/msg.c, linked as they are).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

struct sim sim;

struct roster_handle {
	char msg[160];
	int last;
	uint64_t err_gen;
	bool has_holder;
	struct roster_addr holder;
	int err_prefix;
};

struct roster_monitor {
	int unused;
};

void sim_reset(void)
{
	bool (*observed)(const uint8_t key[32], struct roster_addr *ep) = sim.observed;

	memset(&sim, 0, sizeof(sim));
	sim.observed = observed;
}

void sim_lose_table(void)
{
	sim.nvpns = 0;
	sim.nev = 0;
}

void sim_overrun(void)
{
	if (sim.monitor) {
		sim.nev = 0;
		sim.overrun = true;
	}
}

static void event(enum roster_event_type type, const struct sim_vpn *v, const struct roster_member *m,
		  uint64_t stamp, unsigned int flags, int reason)
{
	struct roster_event *e;

	if (!sim.monitor)
		return;
	if (sim.nev == SIM_EVENTS) {
		sim_overrun();
		return;
	}
	e = &sim.ev[sim.nev++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->vpn_id = v->id;
	e->generation = v->gen;
	e->member_count = v->n;
	e->vpn_flags = v->flags;
	e->create_time = 1700000000;
	if (stamp)
		e->change_flags = ROSTER_CHANGE_F_STAMPED |
				  (flags & ROSTER_F_RESYNC ? ROSTER_CHANGE_F_RESYNC : 0);
	if (m) {
		e->has_member = true;
		if (type == ROSTER_EVENT_MEMBER_LEFT)
			e->member.id = m->id;
		else
			e->member = *m;
	}
	if (reason >= 0) {
		e->has_reason = true;
		e->reason = (enum roster_reason)reason;
	}
}

static int fail(struct roster_handle *h, int err, const char *msg)
{
	h->last = -err;
	snprintf(h->msg, sizeof(h->msg), "%s", msg ? msg : "");
	return err;
}

static void ok(struct roster_handle *h)
{
	h->last = 0;
	h->msg[0] = 0;
	h->err_gen = 0;
	h->has_holder = false;
	h->err_prefix = -1;
}

static struct sim_vpn *find_vpn(uint32_t id)
{
	for (unsigned int i = 0; i < sim.nvpns; i++)
		if (sim.v[i].id == id)
			return &sim.v[i];
	return NULL;
}

static struct sim_vpn *new_vpn(uint32_t id, uint32_t flags, uint64_t gen)
{
	unsigned int i = 0;

	if (sim.nvpns == SIM_VPNS)
		return NULL;
	while (i < sim.nvpns && sim.v[i].id < id)
		i++;
	memmove(&sim.v[i + 1], &sim.v[i], (sim.nvpns - i) * sizeof(sim.v[0]));
	sim.nvpns++;
	memset(&sim.v[i], 0, sizeof(sim.v[i]));
	sim.v[i].id = id;
	sim.v[i].flags = flags;
	sim.v[i].gen = gen;
	return &sim.v[i];
}

static void del_vpn(struct sim_vpn *v)
{
	unsigned int i = (unsigned int)(v - sim.v);

	memmove(&sim.v[i], &sim.v[i + 1], (sim.nvpns - i - 1) * sizeof(sim.v[0]));
	sim.nvpns--;
}

static int find_member(const struct sim_vpn *v, const struct roster_addr *id)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (rd_addr_eq(&v->m[i].id, id))
			return (int)i;
	return -1;
}

/* roster_stamp_check(): the generation the change makes, or an error. */
static int stamp_check(struct roster_handle *h, const struct sim_vpn *v, uint64_t stamp,
		       unsigned int flags, uint64_t *gen)
{
	if (!stamp) {
		if (flags & ROSTER_F_RESYNC)
			return fail(h, -EINVAL, "roster: resync needs a stamp");
		if (v->flags & ROSTER_VPN_F_FOLLOWER)
			return fail(h, -EPERM, "roster: a follower takes stamped changes only");
		*gen = v->gen + 1;
		return 0;
	}
	if (stamp == v->gen + 1 || ((flags & ROSTER_F_RESYNC) && stamp >= v->gen)) {
		*gen = stamp;
		return 0;
	}
	h->err_gen = v->gen;
	return fail(h, stamp <= v->gen ? -EALREADY : -ESTALE, "roster: stamp out of order");
}

bool sim_prefix_overlap(const struct roster_prefix *a, const struct roster_prefix *b)
{
	struct roster_prefix s;

	if (a->addr.family != b->addr.family)
		return false;
	s = a->len < b->len ? *a : *b;
	return rd_prefix_contains(&s, a->len < b->len ? &b->addr : &a->addr);
}

/* ---- handle ---- */

int roster_open(struct roster_handle **hp)
{
	*hp = calloc(1, sizeof(**hp));
	if (!*hp)
		return -ENOMEM;
	(*hp)->err_prefix = -1;
	return 0;
}

int roster_open_netns(const char *name, struct roster_handle **hp)
{
	(void)name;
	return roster_open(hp);
}

void roster_close(struct roster_handle *h)
{
	free(h);
}

const char *roster_errmsg(const struct roster_handle *h)
{
	return h->msg[0] ? h->msg : NULL;
}

int roster_last_error(const struct roster_handle *h)
{
	return h->last;
}

const char *roster_strerror_ext(const struct roster_handle *h, int err)
{
	return h->msg[0] ? h->msg : strerror(-err);
}

uint64_t roster_err_generation(const struct roster_handle *h)
{
	return h->err_gen;
}

int roster_err_holder(const struct roster_handle *h, struct roster_addr *id)
{
	if (!h->has_holder)
		return -ENOENT;
	*id = h->holder;
	return 0;
}

int roster_err_prefix(const struct roster_handle *h)
{
	return h->err_prefix;
}

uint16_t roster_family_id(const struct roster_handle *h)
{
	(void)h;
	return 42;
}

int roster_fd(const struct roster_handle *h)
{
	(void)h;
	return -1;
}

int roster_ping(struct roster_handle *h)
{
	ok(h);
	return 0;
}

/* ---- VPNs ---- */

static void vpn_out(const struct sim_vpn *v, struct roster_vpn *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->id = v->id;
	out->generation = v->gen;
	out->member_count = v->n;
	out->create_time = 1700000000;
	out->flags = v->flags;
}

int roster_vpn_create(struct roster_handle *h, uint32_t id, uint32_t vpn_flags, uint64_t stamp,
		      struct roster_vpn *out)
{
	struct sim_vpn *v;

	ok(h);
	if (!id || (vpn_flags & ~(ROSTER_VPN_F_FOLLOWER | ROSTER_VPN_F_NESTED_PREFIXES)))
		return fail(h, -EINVAL, "roster: bad VPN");
	if (find_vpn(id))
		return fail(h, -EEXIST, "roster: VPN exists");
	v = new_vpn(id, vpn_flags, stamp ? stamp : 1);
	if (!v)
		return fail(h, -ENOSPC, "roster: too many VPNs");
	vpn_out(v, out);
	event(ROSTER_EVENT_VPN_NEW, v, NULL, stamp, 0, -1);
	return 0;
}

int roster_vpn_delete(struct roster_handle *h, uint32_t id, uint64_t stamp)
{
	struct sim_vpn *v = find_vpn(id);
	uint64_t gen;
	int ret;

	ok(h);
	if (!v)
		return fail(h, -ENOENT, "roster: no such VPN");
	ret = stamp_check(h, v, stamp, 0, &gen);
	if (ret)
		return ret;
	v->gen = gen;
	v->n = 0;
	event(ROSTER_EVENT_VPN_DEL, v, NULL, stamp, 0, -1);
	del_vpn(v);
	return 0;
}

int roster_vpn_set(struct roster_handle *h, uint32_t id, uint64_t stamp, unsigned int flags,
		   const uint32_t *vpn_flags, struct roster_vpn *out)
{
	struct sim_vpn *v = find_vpn(id);
	uint64_t gen = 0;
	int ret;

	ok(h);
	if (!v)
		return fail(h, -ENOENT, "roster: no such VPN");
	if (!stamp && !vpn_flags)
		return fail(h, -EINVAL, "roster: nothing to change");
	if (vpn_flags && ((*vpn_flags ^ v->flags) & ROSTER_VPN_F_NESTED_PREFIXES))
		return fail(h, -EINVAL, "roster: nested-prefixes is fixed");
	if (stamp) {
		ret = stamp_check(h, v, stamp, flags, &gen);
		if (ret)
			return ret;
		v->gen = gen;
	}
	if (vpn_flags)
		v->flags = *vpn_flags;
	vpn_out(v, out);
	event(ROSTER_EVENT_VPN_CHANGED, v, NULL, stamp, flags, -1);
	return 0;
}

int roster_vpn_add(struct roster_handle *h, uint32_t id, struct roster_vpn *out)
{
	return roster_vpn_create(h, id, 0, 0, out);
}

int roster_vpn_del(struct roster_handle *h, uint32_t id)
{
	return roster_vpn_delete(h, id, 0);
}

int roster_vpn_get(struct roster_handle *h, uint32_t id, struct roster_vpn *out)
{
	struct sim_vpn *v = find_vpn(id);

	ok(h);
	if (!v)
		return fail(h, -ENOENT, "roster: no such VPN");
	vpn_out(v, out);
	return 0;
}

int roster_vpn_list(struct roster_handle *h, struct roster_vpn **vpns, size_t *n)
{
	ok(h);
	*vpns = NULL;
	*n = 0;
	if (!sim.nvpns)
		return 0;
	*vpns = calloc(sim.nvpns, sizeof(**vpns));
	if (!*vpns)
		return -ENOMEM;
	for (unsigned int i = 0; i < sim.nvpns; i++)
		vpn_out(&sim.v[i], &(*vpns)[i]);
	*n = sim.nvpns;
	return 0;
}

/* ---- members ---- */

static int member_valid(struct roster_handle *h, const struct roster_member *m)
{
	if ((m->id.family != AF_INET && m->id.family != AF_INET6) || !m->has_key ||
	    m->n_prefixes > ROSTER_PREFIX_MAX || (m->has_endpoint && !m->port))
		return fail(h, -EINVAL, "roster: bad member");
	for (unsigned int i = 0; i < m->n_prefixes; i++) {
		struct roster_prefix p = m->prefixes[i];

		if ((p.addr.family != AF_INET && p.addr.family != AF_INET6) ||
		    p.len > roster_addr_len(&p.addr) * 8)
			return fail(h, -EINVAL, "roster: bad prefix");
		rd_prefix_mask(&p);
		if (!rd_prefix_eq(&p, &m->prefixes[i]))
			return fail(h, -EINVAL, "Invalid prefix for given prefix length.");
		for (unsigned int k = 0; k < i; k++)
			if (rd_prefix_eq(&m->prefixes[k], &m->prefixes[i]))
				return fail(h, -EINVAL, "roster: duplicate prefix");
	}
	return 0;
}

/* roster_prefix_check(): against every other member's prefixes. */
static int prefix_check(struct roster_handle *h, const struct sim_vpn *v,
			const struct roster_member *m)
{
	bool nested = v->flags & ROSTER_VPN_F_NESTED_PREFIXES;

	for (unsigned int i = 0; i < v->n; i++) {
		const struct roster_member *o = &v->m[i];

		if (rd_addr_eq(&o->id, &m->id))
			continue;
		for (unsigned int a = 0; a < m->n_prefixes; a++)
			for (unsigned int b = 0; b < o->n_prefixes; b++) {
				const struct roster_prefix *pa = &m->prefixes[a], *pb = &o->prefixes[b];
				char sa[ROSTER_ADDR_STRLEN + 4], sb[ROSTER_ADDR_STRLEN + 4];
				char msg[160];

				if (nested ? !rd_prefix_eq(pa, pb) : !sim_prefix_overlap(pa, pb))
					continue;
				roster_prefix_format(pa, sa, sizeof(sa));
				roster_prefix_format(pb, sb, sizeof(sb));
				snprintf(msg, sizeof(msg), "roster: %s overlaps %s of %s", sa, sb,
					 rd_ntop(&o->id));
				h->has_holder = true;
				h->holder = o->id;
				h->err_prefix = (int)a;
				return fail(h, -EADDRINUSE, msg);
			}
	}
	return 0;
}

int roster_member_add(struct roster_handle *h, uint32_t vpn_id, const struct roster_member *m,
		      unsigned int flags, uint64_t stamp, struct roster_change *out)
{
	struct sim_vpn *v;
	struct roster_member nm = *m;
	bool created = false, old;
	uint64_t gen;
	int i, ret;

	ok(h);
	if (!vpn_id || (flags & ~(ROSTER_F_CREATE_ONLY | ROSTER_F_RESYNC)))
		return fail(h, -EINVAL, "roster: bad request");
	ret = member_valid(h, m);
	if (ret)
		return ret;
	v = find_vpn(vpn_id);
	if (!v && stamp)
		return fail(h, -ENOENT, "roster: no such VPN: create it with a stamped vpn-new first");
	if (!v) {
		v = new_vpn(vpn_id, 0, 1);
		if (!v)
			return fail(h, -ENOSPC, "roster: too many VPNs");
		created = true;
	}
	ret = stamp_check(h, v, stamp, flags, &gen);
	if (ret)
		goto undo;
	i = find_member(v, &m->id);
	if (i >= 0 && (flags & ROSTER_F_CREATE_ONLY)) {
		ret = fail(h, -EEXIST, "roster: member exists (create-only)");
		goto undo;
	}
	if (i < 0 && v->n >= SIM_MEMBERS) {
		ret = fail(h, -ENOSPC, "VPN is full (sysctl net.roster.max_members)");
		goto undo;
	}
	ret = prefix_check(h, v, m);
	if (ret)
		goto undo;
	old = i >= 0;
	if (!nm.join_generation)
		nm.join_generation = gen;
	if (!nm.join_time)
		nm.join_time = 1700000000;
	/* the first joiner creates the VPN: announced before the join */
	if (created)
		event(ROSTER_EVENT_VPN_NEW, v, NULL, 0, 0, -1);
	if (i < 0)
		i = (int)v->n++;
	v->m[i] = nm;
	v->gen = gen;
	event(old ? ROSTER_EVENT_MEMBER_UPDATED : ROSTER_EVENT_MEMBER_JOINED, v, &nm, stamp, flags,
	      -1);
	if (out) {
		out->vpn_id = vpn_id;
		out->generation = v->gen;
		out->member_count = v->n;
	}
	return 0;
undo:
	if (created)
		del_vpn(v);
	return ret;
}

int roster_member_add_many(struct roster_handle *h, uint32_t vpn_id, const struct roster_member *m,
			   size_t n, unsigned int flags, uint64_t stamp, size_t *failed)
{
	for (size_t i = 0; i < n; i++) {
		int ret = roster_member_add(h, vpn_id, &m[i], flags, stamp, NULL);

		if (ret) {
			if (failed)
				*failed = i;
			return ret;
		}
	}
	return 0;
}

int roster_member_del(struct roster_handle *h, uint32_t vpn_id, const struct roster_addr *id,
		      enum roster_reason reason, unsigned int flags, uint64_t stamp,
		      struct roster_change *out)
{
	struct sim_vpn *v = find_vpn(vpn_id);
	struct roster_member gone;
	uint64_t gen;
	int i, ret;

	ok(h);
	if (flags & ~(ROSTER_F_DELETE_EMPTY | ROSTER_F_RESYNC) ||
	    (stamp && (flags & ROSTER_F_DELETE_EMPTY)) || (unsigned int)reason > ROSTER_REASON_EXPIRED)
		return fail(h, -EINVAL, "roster: bad request");
	if (!v)
		return fail(h, -ENOENT, "roster: no such VPN");
	/* the stamp before the member (gw-table.c relies on it) */
	ret = stamp_check(h, v, stamp, flags, &gen);
	if (ret)
		return ret;
	i = find_member(v, id);
	if (i < 0)
		return fail(h, -ENOENT, "roster: no such member");
	gone = v->m[i];
	v->m[i] = v->m[--v->n];
	v->gen = gen;
	event(ROSTER_EVENT_MEMBER_LEFT, v, &gone, stamp, flags, (int)reason);
	if (out) {
		out->vpn_id = vpn_id;
		out->generation = v->gen;
		out->member_count = v->n;
	}
	if (!v->n && (flags & ROSTER_F_DELETE_EMPTY)) {
		v->gen++;
		event(ROSTER_EVENT_VPN_DEL, v, NULL, 0, 0, -1);
		del_vpn(v);
	}
	return 0;
}

static int set_of(const struct sim_vpn *v, const struct roster_addr *skip,
		  struct roster_member_set *set)
{
	set->vpn_id = v->id;
	set->generation = v->gen;
	set->count = 0;
	set->members = calloc(v->n ? v->n : 1, sizeof(*set->members));
	if (!set->members)
		return -ENOMEM;
	for (unsigned int i = 0; i < v->n; i++)
		if (!skip || !rd_addr_eq(skip, &v->m[i].id))
			set->members[set->count++] = v->m[i];
	return 0;
}

int roster_member_join(struct roster_handle *h, uint32_t vpn_id, const struct roster_member *m,
		       unsigned int flags, struct roster_member_set **set)
{
	int ret = roster_member_add(h, vpn_id, m, flags, 0, NULL);

	if (ret || !set)
		return ret;
	*set = calloc(1, sizeof(**set));
	if (!*set)
		return -ENOMEM;
	return set_of(find_vpn(vpn_id), &m->id, *set);
}

int roster_member_leave(struct roster_handle *h, uint32_t vpn_id, const struct roster_addr *id,
			enum roster_reason reason, unsigned int flags,
			struct roster_member_set **set)
{
	int ret = roster_member_del(h, vpn_id, id, reason, flags, 0, NULL);
	struct sim_vpn *v;

	if (ret || !set)
		return ret;
	*set = calloc(1, sizeof(**set));
	if (!*set)
		return -ENOMEM;
	v = find_vpn(vpn_id);
	if (!v) {
		(*set)->vpn_id = vpn_id;
		return 0;
	}
	return set_of(v, NULL, *set);
}

int roster_member_get(struct roster_handle *h, uint32_t vpn_id, const struct roster_addr *id,
		      struct roster_member *out, uint64_t *generation)
{
	struct sim_vpn *v = find_vpn(vpn_id);
	int i;

	ok(h);
	if (!v)
		return fail(h, -ENOENT, "roster: no such VPN");
	i = find_member(v, id);
	if (i < 0)
		return fail(h, -ENOENT, "roster: no such member");
	if (out)
		*out = v->m[i];
	if (generation)
		*generation = v->gen;
	return 0;
}

int roster_member_list(struct roster_handle *h, uint32_t vpn_id, struct roster_member_set **sets,
		       size_t *n)
{
	unsigned int k = 0;

	ok(h);
	*sets = NULL;
	*n = 0;
	if (vpn_id && !find_vpn(vpn_id))
		return fail(h, -ENOENT, "roster: no such VPN");
	*sets = calloc(sim.nvpns ? sim.nvpns : 1, sizeof(**sets));
	if (!*sets)
		return -ENOMEM;
	/* one set per VPN that has members */
	for (unsigned int i = 0; i < sim.nvpns; i++) {
		if ((vpn_id && sim.v[i].id != vpn_id) || !sim.v[i].n)
			continue;
		if (set_of(&sim.v[i], NULL, &(*sets)[k])) {
			roster_member_sets_free(*sets, k);
			*sets = NULL;
			return -ENOMEM;
		}
		k++;
	}
	if (!k) {
		free(*sets);
		*sets = NULL;
	}
	*n = k;
	return 0;
}

/* ---- events ---- */

int roster_monitor_open(struct roster_handle *h, struct roster_monitor **mp)
{
	(void)h;
	*mp = calloc(1, sizeof(**mp));
	if (!*mp)
		return -ENOMEM;
	sim.monitor = true;
	sim.nev = 0;
	return 0;
}

void roster_monitor_close(struct roster_monitor *m)
{
	free(m);
	sim.monitor = false;
	sim.nev = 0;
}

int roster_monitor_set_rcvbuf(struct roster_monitor *m, int bytes)
{
	(void)m;
	(void)bytes;
	return 0;
}

int roster_monitor_fd(const struct roster_monitor *m)
{
	(void)m;
	return -1;
}

int roster_monitor_read(struct roster_monitor *m, roster_event_cb cb, void *arg)
{
	int n = 0;

	(void)m;
	if (sim.overrun) {
		struct roster_event ov = { .type = ROSTER_EVENT_OVERRUN };
		int ret;

		sim.overrun = false;
		ret = cb(&ov, arg);
		if (ret)
			return ret;
		n++;
	}
	/* The callback may make changes (a reconcile): their events queue
	 * behind, and are delivered in this call too, as a socket would. */
	for (unsigned int i = 0; i < sim.nev; i++) {
		struct roster_event e = sim.ev[i];
		int ret = cb(&e, arg);

		n++;
		if (ret) {
			memmove(sim.ev, sim.ev + i + 1, (sim.nev - i - 1) * sizeof(sim.ev[0]));
			sim.nev -= i + 1;
			return ret;
		}
		if (sim.overrun) {
			/* lost while we read */
			sim.nev = 0;
			return n;
		}
	}
	sim.nev = 0;
	return n;
}
