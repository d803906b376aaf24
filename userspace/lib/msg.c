// SPDX-License-Identifier: GPL-2.0-or-later
/* libroster: netlink message building and parsing (no sockets). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/roster.h>

#include "internal.h"


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

void roster_put_addr(struct nlmsghdr *nlh, uint16_t type4, uint16_t type6,
		     const struct roster_addr *a)
{
	if (a->family == AF_INET)
		mnl_attr_put(nlh, type4, 4, a->addr);
	else if (a->family == AF_INET6)
		mnl_attr_put(nlh, type6, 16, a->addr);
}

void roster_put_member(struct nlmsghdr *nlh, const struct roster_member *m,
		       bool id_only, bool restore)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER);
	unsigned int i;

	roster_put_addr(nlh, ROSTER_A_MEMBER_ID_IPV4, ROSTER_A_MEMBER_ID_IPV6, &m->id);
	if (!id_only) {
		if (m->has_key)
			mnl_attr_put(nlh, ROSTER_A_MEMBER_PUBLIC_KEY, ROSTER_KEY_BYTES, m->key);
		if (m->has_endpoint) {
			roster_put_addr(nlh, ROSTER_A_MEMBER_ENDPOINT_IPV4,
					ROSTER_A_MEMBER_ENDPOINT_IPV6, &m->endpoint);
			mnl_attr_put_u16(nlh, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port);
		}
		for (i = 0; i < m->n_prefixes && i < ROSTER_PREFIX_MAX; i++) {
			struct nlattr *p = mnl_attr_nest_start(nlh, ROSTER_A_MEMBER_PREFIX);

			roster_put_addr(nlh, ROSTER_A_PREFIX_IPV4, ROSTER_A_PREFIX_IPV6,
					&m->prefixes[i].addr);
			mnl_attr_put_u8(nlh, ROSTER_A_PREFIX_LEN, m->prefixes[i].len);
			mnl_attr_nest_end(nlh, p);
		}
		if (restore && m->join_time)
			mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_TIME, m->join_time);
		if (restore && m->join_generation)
			mnl_attr_put_u64(nlh, ROSTER_A_MEMBER_JOIN_GENERATION,
					 m->join_generation);
	}
	mnl_attr_nest_end(nlh, nest);
}

/* vpn-id, then generation if stamped, then flags if any. */
static struct nlmsghdr *change_start(void *buf, uint16_t family_id, uint8_t cmd,
				     uint32_t seq, uint32_t vpn_id, uint64_t stamp,
				     unsigned int flags)
{
	struct nlmsghdr *nlh = roster_msg_start(buf, family_id, cmd, NLM_F_ACK, seq);

	mnl_attr_put_u32(nlh, ROSTER_A_VPN_ID, vpn_id);
	if (stamp)
		mnl_attr_put_u64(nlh, ROSTER_A_GENERATION, stamp);
	if (flags)
		mnl_attr_put_u32(nlh, ROSTER_A_FLAGS, flags);
	return nlh;
}

struct nlmsghdr *roster_build_vpn_new(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint32_t vpn_flags,
				      uint64_t stamp)
{
	struct nlmsghdr *nlh = change_start(buf, family_id, ROSTER_CMD_VPN_NEW, seq,
					    vpn_id, stamp, 0);

	if (vpn_flags)
		mnl_attr_put_u32(nlh, ROSTER_A_VPN_FLAGS, vpn_flags);
	return nlh;
}

struct nlmsghdr *roster_build_vpn_del(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint64_t stamp)
{
	return change_start(buf, family_id, ROSTER_CMD_VPN_DEL, seq, vpn_id, stamp, 0);
}

struct nlmsghdr *roster_build_vpn_set(void *buf, uint16_t family_id, uint32_t seq,
				      uint32_t vpn_id, uint64_t stamp, unsigned int flags,
				      const uint32_t *vpn_flags)
{
	struct nlmsghdr *nlh = change_start(buf, family_id, ROSTER_CMD_VPN_SET, seq,
					    vpn_id, stamp, flags);

	if (vpn_flags)
		mnl_attr_put_u32(nlh, ROSTER_A_VPN_FLAGS, *vpn_flags);
	return nlh;
}

struct nlmsghdr *roster_build_join(void *buf, uint16_t family_id, uint32_t seq,
				   uint32_t vpn_id, const struct roster_member *m,
				   unsigned int flags, uint64_t stamp)
{
	struct nlmsghdr *nlh = change_start(buf, family_id, ROSTER_CMD_MEMBER_JOIN, seq,
					    vpn_id, stamp, flags);

	roster_put_member(nlh, m, false, stamp != 0);
	return nlh;
}

struct nlmsghdr *roster_build_leave(void *buf, uint16_t family_id, uint32_t seq,
				    uint32_t vpn_id, const struct roster_addr *id,
				    enum roster_reason reason, unsigned int flags,
				    uint64_t stamp)
{
	struct nlmsghdr *nlh = change_start(buf, family_id, ROSTER_CMD_MEMBER_LEAVE, seq,
					    vpn_id, stamp, flags);
	struct roster_member m;

	memset(&m, 0, sizeof(m));
	m.id = *id;
	if (reason != ROSTER_REASON_REQUESTED)
		mnl_attr_put_u32(nlh, ROSTER_A_REASON, reason);
	roster_put_member(nlh, &m, true, false);
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

int roster_prefix_at(const struct nlmsghdr *req, uint32_t offs)
{
	const struct nlattr *a, *p;
	int i = 0;

	mnl_attr_for_each(a, req, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != ROSTER_A_MEMBER)
			continue;
		mnl_attr_for_each_nested(p, a) {
			if (mnl_attr_get_type(p) != ROSTER_A_MEMBER_PREFIX)
				continue;
			if ((const char *)p - (const char *)req == (ptrdiff_t)offs)
				return i;
			i++;
		}
	}
	return -1;
}

/* ---- parsing ----------------------------------------------------------- */

/* One address of an IPv4/IPv6 attribute pair; *seen catches both. */
static int get_addr(const struct nlattr *a, uint8_t family, struct roster_addr *out,
		    bool *seen)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	if (*seen || len != (family == AF_INET ? 4 : 16))
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->addr, mnl_attr_get_payload(a), len);
	*seen = true;
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
		case ROSTER_A_PREFIX_IPV4:
			if (get_addr(a, AF_INET, &p->addr, &has_addr))
				return -EPROTO;
			break;
		case ROSTER_A_PREFIX_IPV6:
			if (get_addr(a, AF_INET6, &p->addr, &has_addr))
				return -EPROTO;
			break;
		case ROSTER_A_PREFIX_LEN:
			if (get_uint(a, &v) || v > 128)
				return -EPROTO;
			p->len = (uint8_t)v;
			has_len = true;
			break;
		}
	}
	if (!has_addr || !has_len || p->len > roster_addr_len(&p->addr) * 8)
		return -EPROTO;
	return 0;
}

int roster_parse_member(const struct nlattr *nest, struct roster_member *m)
{
	const struct nlattr *a;
	bool has_id = false, has_port = false;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	if (!mnl_attr_ok(nest, (int)nest->nla_len))
		return -EPROTO;
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case ROSTER_A_MEMBER_ID_IPV4:
			if (get_addr(a, AF_INET, &m->id, &has_id))
				return -EPROTO;
			break;
		case ROSTER_A_MEMBER_ID_IPV6:
			if (get_addr(a, AF_INET6, &m->id, &has_id))
				return -EPROTO;
			break;
		case ROSTER_A_MEMBER_PUBLIC_KEY:
			if (mnl_attr_get_payload_len(a) != ROSTER_KEY_BYTES)
				return -EPROTO;
			memcpy(m->key, mnl_attr_get_payload(a), ROSTER_KEY_BYTES);
			m->has_key = true;
			break;
		case ROSTER_A_MEMBER_ENDPOINT_IPV4:
			if (get_addr(a, AF_INET, &m->endpoint, &m->has_endpoint))
				return -EPROTO;
			break;
		case ROSTER_A_MEMBER_ENDPOINT_IPV6:
			if (get_addr(a, AF_INET6, &m->endpoint, &m->has_endpoint))
				return -EPROTO;
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
	if (!has_id || m->has_endpoint != has_port)
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
		case ROSTER_A_VPN_FLAGS:
			if (get_uint(a, &v) || v > UINT32_MAX)
				return -EPROTO;
			t->vpn_flags = (uint32_t)v;
			break;
		case ROSTER_A_CHANGE_FLAGS:
			if (get_uint(a, &v) || v > UINT32_MAX)
				return -EPROTO;
			t->change_flags = (uint32_t)v;
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
	v->flags = t.vpn_flags;
	return 0;
}

int roster_parse_change(const struct nlmsghdr *nlh, uint8_t cmd,
			struct roster_change *c)
{
	const struct genlmsghdr *g;
	struct roster_top t;
	int err;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return -EPROTO;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != cmd)
		return -EPROTO;
	err = roster_parse_msg(nlh, &t, NULL, NULL);
	if (err)
		return err;
	if (!t.has_vpn_id || !t.has_generation || !t.has_member_count || t.n_members)
		return -EPROTO;
	c->vpn_id = t.vpn_id;
	c->generation = t.generation;
	c->member_count = t.member_count;
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
		case NLMSGERR_ATTR_COOKIE: {
			size_t n = mnl_attr_get_payload_len(a);

			if (n && n <= sizeof(e->cookie)) {
				memcpy(e->cookie, mnl_attr_get_payload(a), n);
				e->cookie_len = n;
			}
			break;
		}
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
	case ROSTER_CMD_VPN_CHANGED_NTF:
		ev->type = ROSTER_EVENT_VPN_CHANGED;
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
	ev->vpn_flags = t.vpn_flags;
	ev->change_flags = t.change_flags;
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

/* ---- replies --------------------------------------------------------------- */

int roster_reply_feed(struct roster_reply *r, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != r->seq)
			continue; /* stale reply of an earlier request */
		if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
			roster_parse_nlerr(nlh, &r->err);
			if (r->err.error)
				return r->err.error;
			return r->cb_ret ? r->cb_ret : 1;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			r->intr = true;
		if (r->cb && !r->cb_ret)
			r->cb_ret = r->cb(nlh, r->arg);
	}
	return 0;
}

int roster_change_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct roster_change_reply *x = arg;

	if (x->n++)
		return -EPROTO; /* one reply message, then the ACK */
	return roster_parse_change(nlh, x->cmd, x->c);
}

/* ---- member sets --------------------------------------------------------- */

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

bool roster_set_remove(struct roster_member_set *set, const struct roster_addr *id)
{
	uint32_t i;

	for (i = 0; i < set->count; i++) {
		const struct roster_addr *a = &set->members[i].id;

		if (a->family == id->family &&
		    !memcmp(a->addr, id->addr, roster_addr_len(id))) {
			memmove(&set->members[i], &set->members[i + 1],
				(set->count - i - 1) * sizeof(set->members[0]));
			set->count--;
			return true;
		}
	}
	return false;
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
