// SPDX-License-Identifier: GPL-2.0-or-later
/* libroster: netlink message building and parsing (no sockets). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/roster.h>

#include "internal.h"

#ifndef NLMSGERR_ATTR_MISS_TYPE
#define NLMSGERR_ATTR_MISS_TYPE 5
#endif

_Static_assert(ROSTER_PREFIX_MAX == ROSTER_MAX_PREFIXES, "prefix max");
_Static_assert(ROSTER_KEY_BYTES == ROSTER_KEY_LEN, "key len");

struct nlmsghdr *roster_msg_start(void *buf, uint16_t family_id, uint8_t cmd,
				  uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(buf, 0, ROSTER_TXBUF_LEN);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = ROSTER_FAMILY_VERSION;
	return nlh;
}

void roster_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct roster_addr *a)
{
	mnl_attr_put(nlh, type, roster_addr_len(a), a->addr);
}

void roster_put_member(struct nlmsghdr *nlh, const struct roster_member *m, bool dev_only)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	unsigned int i;

	roster_put_addr(nlh, ROSTER_A_MEMBER_DEV, &m->dev);
	if (!dev_only) {
		if (m->has_key)
			mnl_attr_put(nlh, ROSTER_A_MEMBER_PUBLIC_KEY, ROSTER_KEY_BYTES, m->key);
		if (m->has_endpoint) {
			roster_put_addr(nlh, ROSTER_A_MEMBER_ENDPOINT_ADDR, &m->endpoint);
			mnl_attr_put_u16(nlh, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port);
		}
		for (i = 0; i < m->n_prefixes && i < ROSTER_PREFIX_MAX; i++) {
			struct nlattr *p = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER_PREFIX);

			roster_put_addr(nlh, ROSTER_A_PREFIX_ADDR, &m->prefixes[i].addr);
			mnl_attr_put_u8(nlh, ROSTER_A_PREFIX_LEN, m->prefixes[i].len);
			mnl_attr_nest_end(nlh, p);
		}
	}
	mnl_attr_nest_end(nlh, nest);
}

struct nlmsghdr *roster_build_join(void *buf, uint16_t family_id, uint32_t seq,
				   uint32_t vpn_id, const struct roster_member *m,
				   unsigned int flags)
{
	uint16_t f = NLM_F_ACK | ((flags & ROSTER_JOIN_EXCL) ? NLM_F_EXCL : 0);
	struct nlmsghdr *nlh = roster_msg_start(buf, family_id, ROSTER_CMD_MEMBER_JOIN, f, seq);

	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn_id);
	if (flags & ROSTER_JOIN_NO_MEMBERS)
		mnl_attr_put_u32(nlh, ROSTER_A_FLAGS, ROSTER_FLAGS_NO_MEMBERS);
	roster_put_member(nlh, m, false);
	return nlh;
}

struct nlmsghdr *roster_build_leave(void *buf, uint16_t family_id, uint32_t seq,
				    uint32_t vpn_id, const struct roster_addr *dev,
				    enum roster_reason reason, unsigned int flags)
{
	struct nlmsghdr *nlh = roster_msg_start(buf, family_id, ROSTER_CMD_MEMBER_LEAVE,
						NLM_F_ACK, seq);
	struct roster_member m;
	uint32_t kflags = 0;

	memset(&m, 0, sizeof(m));
	m.dev = *dev;
	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn_id);

	if (flags & ROSTER_LEAVE_DELETE_EMPTY)
		kflags |= ROSTER_FLAGS_DELETE_EMPTY;
	if (flags & ROSTER_LEAVE_NO_MEMBERS)
		kflags |= ROSTER_FLAGS_NO_MEMBERS;
	if (kflags)
		mnl_attr_put_u32(nlh, ROSTER_A_FLAGS, kflags);
	if (reason != ROSTER_REASON_REQUESTED)
		mnl_attr_put_u32(nlh, ROSTER_A_REASON, reason);
	roster_put_member(nlh, &m, true);
	return nlh;
}

struct nlmsghdr *roster_build_getfamily(void *buf, uint32_t seq, const char *name)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(buf, 0, ROSTER_TXBUF_LEN);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	return nlh;
}

/* ---- parsing ----------------------------------------------------------- */

static int get_addr(const struct nlattr *a, struct roster_addr *out)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	memset(out, 0, sizeof(*out));
	if (len == 4)
		out->family = AF_INET;
	else if (len == 16)
		out->family = AF_INET6;
	else
		return -EPROTO;
	memcpy(out->addr, mnl_attr_get_payload(a), len);
	return 0;
}

static int get_uint(const struct nlattr *a, uint64_t *v)
{
	const void *p = mnl_attr_get_payload(a);

	switch (mnl_attr_get_payload_len(a)) {
	case 1: *v = *(const uint8_t *)p; return 0;
	case 2: { uint16_t x; memcpy(&x, p, 2); *v = x; return 0; }
	case 4: { uint32_t x; memcpy(&x, p, 4); *v = x; return 0; }
	case 8: { uint64_t x; memcpy(&x, p, 8); *v = x; return 0; }
	}
	return -EPROTO;
}

static int parse_prefix(const struct nlattr *nest, struct roster_prefix *p)
{
	const struct nlattr *a;
	bool has_addr = false, has_len = false;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case ROSTER_A_PREFIX_ADDR:
			if (get_addr(a, &p->addr))
				return -EPROTO;
			has_addr = true;
			break;
		case ROSTER_A_PREFIX_LEN:
			if (get_uint(a, &v) || v > 128)
				return -EPROTO;
			p->len = (uint8_t)v;
			has_len = true;
			break;
		}
	}
	return has_addr && has_len ? 0 : -EPROTO;
}

int roster_parse_member(const struct nlattr *nest, struct roster_member *m)
{
	const struct nlattr *a;
	bool has_dev = false, has_port = false;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	if (!mnl_attr_ok(nest, (int)nest->nla_len))
		return -EPROTO;
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case ROSTER_A_MEMBER_DEV:
			if (get_addr(a, &m->dev))
				return -EPROTO;
			has_dev = true;
			break;
		case ROSTER_A_MEMBER_PUBLIC_KEY:
			if (mnl_attr_get_payload_len(a) != ROSTER_KEY_BYTES)
				return -EPROTO;
			memcpy(m->key, mnl_attr_get_payload(a), ROSTER_KEY_BYTES);
			m->has_key = true;
			break;
		case ROSTER_A_MEMBER_ENDPOINT_ADDR:
			if (get_addr(a, &m->endpoint))
				return -EPROTO;
			m->has_endpoint = true;
			break;
		case ROSTER_A_MEMBER_ENDPOINT_PORT:
			if (get_uint(a, &v) || v > 65535)
				return -EPROTO;
			m->port = (uint16_t)v;
			has_port = true;
			break;
		case ROSTER_A_MEMBER_PREFIX:
			if (m->n_prefixes >= ROSTER_PREFIX_MAX)
				return -EPROTO;
			if (parse_prefix(a, &m->prefixes[m->n_prefixes]))
				return -EPROTO;
			m->n_prefixes++;
			break;
		case ROSTER_A_MEMBER_JOIN_TIME:
			if (get_uint(a, &m->join_time))
				return -EPROTO;
			break;
		case ROSTER_A_MEMBER_JOIN_GENERATION:
			if (get_uint(a, &m->join_generation))
				return -EPROTO;
			break;
		default:
			break; /* newer kernel: ignore */
		}
	}
	if (!has_dev || m->has_endpoint != has_port)
		return -EPROTO;
	return 0;
}

int roster_parse_msg(const struct nlmsghdr *nlh, struct roster_top *t,
		     roster_member_cb cb, void *arg)
{
	const size_t hdr = sizeof(struct genlmsghdr);
	const struct nlattr *a;
	struct roster_member m;
	uint64_t v;
	int ret;

	memset(t, 0, sizeof(*t));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + hdr)
		return -EPROTO;
	/* First pass: scalars (vpn-id/generation may follow members). */
	mnl_attr_for_each(a, nlh, hdr) {
		switch (mnl_attr_get_type(a)) {
		case ROSTER_A_VPN_ID:
			if (get_uint(a, &v) || v > UINT32_MAX)
				return -EPROTO;
			t->vpn_id = (uint32_t)v;
			t->has_vpn_id = true;
			break;
		case ROSTER_A_GENERATION:
			if (get_uint(a, &t->generation))
				return -EPROTO;
			t->has_generation = true;
			break;
		case ROSTER_A_MEMBER_COUNT:
			if (get_uint(a, &v) || v > UINT32_MAX)
				return -EPROTO;
			t->member_count = (uint32_t)v;
			t->has_member_count = true;
			break;
		case ROSTER_A_CREATE_TIME:
			if (get_uint(a, &t->create_time))
				return -EPROTO;
			t->has_create_time = true;
			break;
		case ROSTER_A_REASON:
			if (get_uint(a, &v) || v > UINT32_MAX)
				return -EPROTO;
			t->reason = (uint32_t)v;
			t->has_reason = true;
			break;
		}
	}
	mnl_attr_for_each(a, nlh, hdr) {
		if (mnl_attr_get_type(a) != ROSTER_A_MEMBER)
			continue;
		if (roster_parse_member(a, &m))
			return -EPROTO;
		t->n_members++;
		if (cb) {
			ret = cb(t->vpn_id, t->generation, &m, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int roster_parse_vpn(const struct nlmsghdr *nlh, struct roster_vpn *v)
{
	struct roster_top t;
	int err = roster_parse_msg(nlh, &t, NULL, NULL);

	if (err)
		return err;
	if (!t.has_vpn_id)
		return -EPROTO;
	v->id = t.vpn_id;
	v->generation = t.generation;
	v->member_count = t.member_count;
	v->create_time = t.create_time;
	return 0;
}

void roster_parse_nlerr(const struct nlmsghdr *nlh, struct roster_nlerr *e)
{
	const struct nlmsgerr *err;
	const struct nlattr *a;
	size_t off;

	memset(e, 0, sizeof(*e));
	e->miss_type = -1;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		int32_t v = 0;

		if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int32_t))
			memcpy(&v, mnl_nlmsg_get_payload(nlh), sizeof(v));
		e->error = v > 0 ? -v : v;
		off = sizeof(int32_t);
	} else {
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err)) {
			e->error = -EPROTO;
			return;
		}
		err = mnl_nlmsg_get_payload(nlh);
		e->error = err->error > 0 ? -err->error : err->error;
		off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return;
	mnl_attr_for_each(a, nlh, off) {
		switch (mnl_attr_get_type(a)) {
		case NLMSGERR_ATTR_MSG: {
			size_t n = mnl_attr_get_payload_len(a);
			const char *s = mnl_attr_get_payload(a);

			if (n >= sizeof(e->msg))
				n = sizeof(e->msg) - 1;
			memcpy(e->msg, s, n);
			e->msg[n] = 0;
			n = strlen(e->msg);
			while (n && (e->msg[n - 1] == '\n'))
				e->msg[--n] = 0;
			break;
		}
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_get_payload_len(a) == 4) {
				e->offs = mnl_attr_get_u32(a);
				e->has_offs = true;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (mnl_attr_get_payload_len(a) == 4)
				e->miss_type = (int)mnl_attr_get_u32(a);
			break;
		}
	}
}

int roster_parse_event(const struct nlmsghdr *nlh, struct roster_event *ev)
{
	const struct genlmsghdr *g;
	struct roster_top t;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return -EPROTO;
	g = mnl_nlmsg_get_payload(nlh);
	switch (g->cmd) {
	case ROSTER_CMD_VPN_NEW_NTF:
	case ROSTER_CMD_VPN_NEW: /* notify: vpn-get may reuse the do cmd */
		ev->type = ROSTER_EVENT_VPN_NEW;
		break;
	case ROSTER_CMD_VPN_DEL_NTF:
		ev->type = ROSTER_EVENT_VPN_DEL;
		break;
	case ROSTER_CMD_MEMBER_JOINED_NTF:
		ev->type = ROSTER_EVENT_MEMBER_JOINED;
		break;
	case ROSTER_CMD_MEMBER_UPDATED_NTF:
		ev->type = ROSTER_EVENT_MEMBER_UPDATED;
		break;
	case ROSTER_CMD_MEMBER_LEFT_NTF:
		ev->type = ROSTER_EVENT_MEMBER_LEFT;
		break;
	default:
		return -ENOMSG; /* unknown command: skip */
	}
	err = roster_parse_msg(nlh, &t, NULL, NULL);
	if (err)
		return err;
	if (!t.has_vpn_id || !t.has_generation)
		return -EPROTO;
	ev->vpn_id = t.vpn_id;
	ev->generation = t.generation;
	ev->member_count = t.member_count;
	ev->create_time = t.create_time;
	ev->has_reason = t.has_reason;
	ev->reason = (enum roster_reason)t.reason;
	if (t.n_members) {
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, sizeof(*g)) {
			if (mnl_attr_get_type(a) == ROSTER_A_MEMBER) {
				if (roster_parse_member(a, &ev->member))
					return -EPROTO;
				ev->has_member = true;
				break;
			}
		}
	}
	return 0;
}

/* ---- multi-part reply assembly ------------------------------------------ */

int roster_set_feed(struct roster_set_state *st, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct genlmsghdr *g;
		struct roster_top t;
		int err;

		if (nlh->nlmsg_seq != st->seq)
			continue; /* stale reply of an earlier request */
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_ERROR:
			roster_parse_nlerr(nlh, &st->err);
			if (st->err.error)
				return st->err.error;
			/* A bare ACK: the kernel promised none; treat as end. */
			goto done;
		case NLMSG_DONE:
			roster_parse_nlerr(nlh, &st->err);
			if (st->err.error)
				return st->err.error;
			goto done;
		case NLMSG_OVERRUN:
			return -EPROTO;
		}
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
			return -EPROTO;
		g = mnl_nlmsg_get_payload(nlh);
		if (g->cmd != st->cmd)
			return -EPROTO;
		err = roster_parse_msg(nlh, &t, NULL, NULL);
		if (err)
			return err;
		if (!t.has_vpn_id || !t.has_generation)
			return -EPROTO;
		if (st->n_msgs == 0) {
			if (!t.has_member_count)
				return -EPROTO;
			st->vpn_id = t.vpn_id;
			st->generation = t.generation;
			st->expected = t.member_count;
		} else if (t.vpn_id != st->vpn_id || t.generation != st->generation) {
			return -EPROTO;
		}
		st->n_msgs++;
		if (t.n_members > (st->no_members ? 0 : st->expected - st->seen))
			return -EPROTO;
		if (t.n_members && st->cb && !st->cb_ret) {
			err = roster_parse_msg(nlh, &t, st->cb, st->arg);
			if (err)
				st->cb_ret = err;
		}
		st->seen += t.n_members;
		if (!(nlh->nlmsg_flags & NLM_F_MULTI))
			goto done; /* single-part reply without DONE */
	}
	return 0;
done:
	if (st->n_msgs == 0 || st->seen != (st->no_members ? 0 : st->expected))
		return -EPROTO;
	return 1;
}

int roster_set_builder_add(struct roster_set_builder *b, const struct roster_member *m)
{
	struct roster_member_set *s = b->set;

	if (s->count == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		struct roster_member *n = realloc(s->members, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->members = n;
		b->cap = cap;
	}
	s->members[s->count++] = *m;
	return 0;
}

int roster_set_collect_cb(uint32_t vpn_id, uint64_t generation,
			  const struct roster_member *m, void *arg)
{
	struct roster_set_builder *b = arg;

	b->set->vpn_id = vpn_id;
	b->set->generation = generation;
	return roster_set_builder_add(b, m);
}

void roster_member_set_free(struct roster_member_set *set)
{
	if (!set)
		return;
	free(set->members);
	free(set);
}

void roster_member_sets_free(struct roster_member_set *sets, size_t n)
{
	size_t i;

	if (!sets)
		return;
	for (i = 0; i < n; i++)
		free(sets[i].members);
	free(sets);
}
