// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: control protocol encoding.
 *
 * A message is a 12-byte header {u8 version, u8 type, be16 flags, be32 seq,
 * be32 ack} followed by netlink-format attributes (struct nlattr, built
 * with libmnl). Attribute headers follow netlink (host byte order, 4-byte
 * alignment, NLA_F_NESTED on nests); integer payloads are big-endian.
 * Decoding is strict: unknown or misplaced attributes, wrong lengths,
 * duplicates, trailing bytes and missing required attributes are rejected.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "util.h"
#include "proto.h"
#include "rel.h"

static const char *const type_names[__RD_TYPE_MAX] = {
	[RD_ACK] = "ACK",
	[RD_JOIN_REQ] = "JOIN_REQ",
	[RD_LEAVE_REQ] = "LEAVE_REQ",
	[RD_JOIN] = "JOIN",
	[RD_NOTIFY] = "NOTIFY",
	[RD_REMOVE] = "REMOVE",
	[RD_LIST] = "LIST",
	[RD_SYNC_REQ] = "SYNC_REQ",
	[RD_ENROLL] = "ENROLL",
	[RD_ENROLLED] = "ENROLLED",
	[RD_ERROR] = "ERROR",
	[RD_ROTATE] = "ROTATE",
};

const char *rd_type_name(unsigned int type)
{
	return type && type < __RD_TYPE_MAX ? type_names[type] : "?";
}

#define BIT(a) (1u << (a))
/* Attributes allowed / required per message type. */
static const uint32_t allowed[__RD_TYPE_MAX] = {
	[RD_ACK] = BIT(RD_A_SESSION),
	[RD_JOIN_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_ENDPOINT_ADDR) |
			BIT(RD_A_ENDPOINT_PORT) | BIT(RD_A_PREFIX),
	[RD_LEAVE_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN),
	[RD_JOIN] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_MEMBER) |
		    BIT(RD_A_PART) | BIT(RD_A_NPARTS) | BIT(RD_A_TOTAL) | BIT(RD_A_STORE_ID),
	[RD_NOTIFY] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_MEMBER) |
		      BIT(RD_A_STORE_ID),
	[RD_REMOVE] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_DEV) |
		      BIT(RD_A_STORE_ID),
	[RD_LIST] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_MEMBER) |
		    BIT(RD_A_PART) | BIT(RD_A_NPARTS) | BIT(RD_A_TOTAL) | BIT(RD_A_STORE_ID),
	/* generation + total: the sender's view, so an up-to-date view costs
	 * the manager no list. */
	[RD_SYNC_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_TOTAL) |
			BIT(RD_A_ENDPOINT_PORT),
	[RD_ENROLL] = BIT(RD_A_SESSION) | BIT(RD_A_PUBKEY),
	[RD_ENROLLED] = BIT(RD_A_SESSION) | BIT(RD_A_STORE_ID) | BIT(RD_A_MEMBER),
	[RD_ERROR] = BIT(RD_A_SESSION) | BIT(RD_A_ERR_CODE) | BIT(RD_A_ERR_TEXT) | BIT(RD_A_REF_SEQ) |
		     BIT(RD_A_DEV),
	[RD_ROTATE] = BIT(RD_A_SESSION) | BIT(RD_A_PUBKEY),
	[RD_MANAGERS] = BIT(RD_A_SESSION) | BIT(RD_A_STORE_ID) | BIT(RD_A_MEMBER),
};
static const uint32_t required[__RD_TYPE_MAX] = {
	[RD_ACK] = 0,
	[RD_JOIN_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN),
	[RD_LEAVE_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN),
	[RD_JOIN] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_PART) |
		    BIT(RD_A_NPARTS) | BIT(RD_A_TOTAL),
	[RD_NOTIFY] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_MEMBER),
	[RD_REMOVE] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_DEV),
	[RD_LIST] = BIT(RD_A_SESSION) | BIT(RD_A_VPN) | BIT(RD_A_GENERATION) | BIT(RD_A_PART) |
		    BIT(RD_A_NPARTS) | BIT(RD_A_TOTAL),
	[RD_SYNC_REQ] = BIT(RD_A_SESSION) | BIT(RD_A_VPN),
	[RD_ENROLL] = BIT(RD_A_SESSION) | BIT(RD_A_PUBKEY),
	[RD_ENROLLED] = BIT(RD_A_SESSION),
	[RD_ERROR] = BIT(RD_A_SESSION) | BIT(RD_A_ERR_CODE),
	/* Sent under the old key: the tunnel it came through vouches for it. */
	[RD_ROTATE] = BIT(RD_A_SESSION) | BIT(RD_A_PUBKEY),
};
/* Attributes that may appear more than once. */
#define MULTI (BIT(RD_A_PREFIX) | BIT(RD_A_MEMBER))
#define NESTS (BIT(RD_A_PREFIX) | BIT(RD_A_MEMBER))

/* ---- encoding ----------------------------------------------------- */

struct enc {
	struct nlmsghdr *nlh;
	size_t buflen;
	bool full;
};

static void put(struct enc *e, uint16_t type, size_t len, const void *data)
{
	if (!e->full && !mnl_attr_put_check(e->nlh, e->buflen, type, len, data))
		e->full = true;
}

static void put_u16(struct enc *e, uint16_t type, uint16_t v)
{
	v = htons(v);
	put(e, type, 2, &v);
}

static void put_u32(struct enc *e, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put(e, type, 4, &v);
}

static void put_u64(struct enc *e, uint16_t type, uint64_t v)
{
	v = htobe64(v);
	put(e, type, 8, &v);
}

static void put_addr(struct enc *e, uint16_t type, const struct roster_addr *a)
{
	put(e, type, roster_addr_len(a), a->addr);
}

static struct nlattr *nest_start(struct enc *e, uint16_t type)
{
	struct nlattr *n;

	if (e->full)
		return NULL;
	n = mnl_attr_nest_start_check(e->nlh, e->buflen, type);
	if (!n)
		e->full = true;
	return n;
}

static void nest_end(struct enc *e, struct nlattr *n)
{
	if (n && !e->full)
		mnl_attr_nest_end(e->nlh, n);
}

static void put_prefix(struct enc *e, uint16_t type, const struct roster_prefix *p)
{
	struct nlattr *n = nest_start(e, type);

	put_addr(e, RD_A_PREFIX_ADDR, &p->addr);
	put(e, RD_A_PREFIX_LEN, 1, &p->len);
	nest_end(e, n);
}

static void put_member(struct enc *e, const struct roster_member *mb)
{
	struct nlattr *n = nest_start(e, RD_A_MEMBER);

	put_addr(e, RD_A_MEMBER_DEV, &mb->id);
	put(e, RD_A_MEMBER_KEY, 32, mb->key);
	if (mb->has_endpoint) {
		put_addr(e, RD_A_MEMBER_EP_ADDR, &mb->endpoint);
		put_u16(e, RD_A_MEMBER_EP_PORT, mb->port);
	}
	for (unsigned int i = 0; i < mb->n_prefixes; i++)
		put_prefix(e, RD_A_MEMBER_PREFIX, &mb->prefixes[i]);
	nest_end(e, n);
}

size_t rd_member_size(const struct roster_member *mb)
{
	size_t alen = MNL_ALIGN(roster_addr_len(&mb->id));
	size_t s = MNL_ATTR_HDRLEN + MNL_ATTR_HDRLEN + alen + MNL_ATTR_HDRLEN + 32;

	if (mb->has_endpoint)
		s += MNL_ATTR_HDRLEN + MNL_ALIGN(roster_addr_len(&mb->endpoint)) + MNL_ATTR_HDRLEN + 4;
	for (unsigned int i = 0; i < mb->n_prefixes; i++)
		s += 3 * MNL_ATTR_HDRLEN + MNL_ALIGN(roster_addr_len(&mb->prefixes[i].addr)) + 4;
	return s;
}

/* Header + session + vpn + generation + part + nparts + total + the store
 * id mgr_send adds to every JOIN and LIST. */
#define LIST_OVERHEAD (RD_HDR_LEN + 8 + 8 + 12 + 8 + 8 + 8 + 4 + RD_STORE_ID_LEN)

unsigned int rd_split_members(const struct roster_member *mb, unsigned int n, unsigned int *starts)
{
	unsigned int parts = 0;
	size_t used = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t s = rd_member_size(&mb[i]);

		if (!parts || used + s > RD_MSG_MAX - LIST_OVERHEAD) {
			starts[parts++] = i;
			used = 0;
		}
		used += s;
	}
	if (!parts)
		starts[parts++] = 0;
	starts[parts] = n;
	return parts;
}

int rd_msg_encode(const struct rd_msg *m, void *buf, size_t len)
{
	/* Build as a netlink message whose extra header is ours, then
	 * slide it down over the nlmsghdr. */
	_Alignas(struct nlmsghdr) uint8_t tmp[RD_MSG_MAX + sizeof(struct nlmsghdr)];
	struct enc e = { .buflen = sizeof(tmp) };
	uint8_t *h;
	size_t out;

	if (!m->type || m->type >= __RD_TYPE_MAX)
		return -EINVAL;
	/* libmnl leaves attribute padding as it finds it: no stack bytes on
	 * the wire. */
	memset(tmp, 0, sizeof(tmp));
	e.nlh = mnl_nlmsg_put_header(tmp);
	h = mnl_nlmsg_put_extra_header(e.nlh, RD_HDR_LEN);
	h[0] = RD_PROTO_VERSION;
	h[1] = m->type;
	h[2] = (uint8_t)(m->flags >> 8);
	h[3] = (uint8_t)m->flags;
	{
		uint32_t seq = htonl(m->seq), ack = htonl(m->ack);

		memcpy(h + 4, &seq, 4);
		memcpy(h + 8, &ack, 4);
	}
	if (m->has_session)
		put_u32(&e, RD_A_SESSION, m->session);
	if (m->has_vpn)
		put_u32(&e, RD_A_VPN, m->vpn);
	if (m->has_gen)
		put_u64(&e, RD_A_GENERATION, m->gen);
	if (m->has_endpoint)
		put_addr(&e, RD_A_ENDPOINT_ADDR, &m->endpoint);
	if (m->has_endpoint || m->endpoint_auto)
		put_u16(&e, RD_A_ENDPOINT_PORT, m->port);
	for (unsigned int i = 0; i < m->n_prefixes; i++)
		put_prefix(&e, RD_A_PREFIX, &m->prefixes[i]);
	if (m->has_parts) {
		put_u16(&e, RD_A_PART, m->part);
		put_u16(&e, RD_A_NPARTS, m->nparts);
		put_u32(&e, RD_A_TOTAL, m->total);
	} else if (m->has_total) {
		put_u32(&e, RD_A_TOTAL, m->total);
	}
	for (unsigned int i = 0; i < m->n_members; i++)
		put_member(&e, &m->members[i]);
	if (m->has_dev)
		put_addr(&e, RD_A_DEV, &m->dev);
	if (m->has_key)
		put(&e, RD_A_PUBKEY, 32, m->key);
	if (m->has_err) {
		put_u32(&e, RD_A_ERR_CODE, m->err);
		if (m->text[0])
			put(&e, RD_A_ERR_TEXT, strnlen(m->text, sizeof(m->text) - 1) + 1, m->text);
	}
	if (m->has_ref)
		put_u32(&e, RD_A_REF_SEQ, m->ref_seq);
	if (m->has_store_id)
		put(&e, RD_A_STORE_ID, RD_STORE_ID_LEN, m->store_id);
	if (e.full)
		return -EMSGSIZE;
	out = e.nlh->nlmsg_len - sizeof(struct nlmsghdr);
	if (out > len || out > RD_MSG_MAX)
		return -EMSGSIZE;
	memcpy(buf, h, out);
	return (int)out;
}

/* ---- decoding ----------------------------------------------------- */

typedef int (*walk_cb)(const struct nlattr *a, uint16_t type, const uint8_t *data,
		       size_t dlen, void *arg);

/* Walk attributes strictly: every byte must belong to a well-formed,
 * padded attribute. */
static int walk(const uint8_t *buf, size_t len, walk_cb cb, void *arg, const char **why)
{
	size_t off = 0;

	while (off < len) {
		struct nlattr a;
		int ret;

		if (len - off < sizeof(a)) {
			*why = "truncated attribute header";
			return -EINVAL;
		}
		memcpy(&a, buf + off, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > len - off ||
		    (size_t)MNL_ALIGN(a.nla_len) > len - off) {
			*why = "bad attribute length";
			return -EINVAL;
		}
		ret = cb((const struct nlattr *)(buf + off), a.nla_type & NLA_TYPE_MASK,
			 buf + off + MNL_ATTR_HDRLEN, a.nla_len - MNL_ATTR_HDRLEN, arg);
		if (ret)
			return ret;
		off += (size_t)MNL_ALIGN(a.nla_len);
	}
	return 0;
}

static bool is_nested(const struct nlattr *a)
{
	uint16_t t;

	memcpy(&t, (const uint8_t *)a + offsetof(struct nlattr, nla_type), 2);
	return t & NLA_F_NESTED;
}

static bool flags_ok(const struct nlattr *a, bool nest)
{
	uint16_t t;

	memcpy(&t, (const uint8_t *)a + offsetof(struct nlattr, nla_type), 2);
	if (t & NLA_F_NET_BYTEORDER)
		return false;
	return !!(t & NLA_F_NESTED) == nest;
}

static int get_addr(const uint8_t *d, size_t len, struct roster_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len == 4)
		a->family = AF_INET;
	else if (len == 16)
		a->family = AF_INET6;
	else
		return -EINVAL;
	memcpy(a->addr, d, len);
	return 0;
}

static uint16_t get_u16(const uint8_t *d)
{
	uint16_t v;

	memcpy(&v, d, 2);
	return ntohs(v);
}

static uint32_t get_u32(const uint8_t *d)
{
	uint32_t v;

	memcpy(&v, d, 4);
	return ntohl(v);
}

struct pfx_ctx {
	struct roster_prefix *p;
	uint32_t seen;
	const char **why;
};

static int prefix_cb(const struct nlattr *a, uint16_t type, const uint8_t *d, size_t len, void *arg)
{
	struct pfx_ctx *c = arg;

	if (!flags_ok(a, false) || type == 0 || type >= __RD_A_PREFIX_MAX || (c->seen & BIT(type))) {
		*c->why = "bad attribute in prefix";
		return -EINVAL;
	}
	c->seen |= BIT(type);
	if (type == RD_A_PREFIX_ADDR) {
		if (get_addr(d, len, &c->p->addr))
			goto bad;
	} else {
		if (len != 1)
			goto bad;
		c->p->len = d[0];
	}
	return 0;
bad:
	*c->why = "bad prefix";
	return -EINVAL;
}

static int get_prefix(const uint8_t *d, size_t len, struct roster_prefix *p, const char **why)
{
	struct pfx_ctx c = { .p = p, .why = why };
	struct roster_prefix masked;

	memset(p, 0, sizeof(*p));
	if (walk(d, len, prefix_cb, &c, why))
		return -EINVAL;
	if (c.seen != (BIT(RD_A_PREFIX_ADDR) | BIT(RD_A_PREFIX_LEN)) ||
	    p->len > roster_addr_len(&p->addr) * 8) {
		*why = "bad prefix";
		return -EINVAL;
	}
	masked = *p;
	rd_prefix_mask(&masked);
	if (!rd_prefix_eq(&masked, p)) {
		*why = "prefix has host bits set";
		return -EINVAL;
	}
	return 0;
}

static int add_prefix(struct roster_prefix *arr, unsigned int *n, const uint8_t *d, size_t len,
		      const char **why)
{
	struct roster_prefix p;

	if (*n >= ROSTER_PREFIX_MAX) {
		*why = "too many prefixes";
		return -EINVAL;
	}
	if (get_prefix(d, len, &p, why))
		return -EINVAL;
	for (unsigned int i = 0; i < *n; i++)
		if (rd_prefix_eq(&arr[i], &p)) {
			*why = "duplicate prefix";
			return -EINVAL;
		}
	arr[(*n)++] = p;
	return 0;
}

struct mem_ctx {
	struct roster_member *m;
	uint32_t seen;
	const char **why;
};

static int member_cb(const struct nlattr *a, uint16_t type, const uint8_t *d, size_t len, void *arg)
{
	struct mem_ctx *c = arg;
	struct roster_member *m = c->m;

	if (type == 0 || type >= __RD_A_MEMBER_MAX || !flags_ok(a, type == RD_A_MEMBER_PREFIX) ||
	    (type != RD_A_MEMBER_PREFIX && (c->seen & BIT(type)))) {
		*c->why = "bad attribute in member";
		return -EINVAL;
	}
	c->seen |= BIT(type);
	switch (type) {
	case RD_A_MEMBER_DEV:
		if (get_addr(d, len, &m->id))
			goto bad;
		break;
	case RD_A_MEMBER_KEY:
		if (len != 32)
			goto bad;
		memcpy(m->key, d, 32);
		m->has_key = true;
		break;
	case RD_A_MEMBER_EP_ADDR:
		if (get_addr(d, len, &m->endpoint))
			goto bad;
		break;
	case RD_A_MEMBER_EP_PORT:
		if (len != 2 || !get_u16(d))
			goto bad;
		m->port = get_u16(d);
		break;
	case RD_A_MEMBER_PREFIX:
		return add_prefix(m->prefixes, &m->n_prefixes, d, len, c->why);
	}
	return 0;
bad:
	*c->why = "bad member attribute";
	return -EINVAL;
}

static int get_member(const uint8_t *d, size_t len, struct roster_member *m, const char **why)
{
	struct mem_ctx c = { .m = m, .why = why };
	bool ep_a, ep_p;

	memset(m, 0, sizeof(*m));
	if (walk(d, len, member_cb, &c, why))
		return -EINVAL;
	ep_a = c.seen & BIT(RD_A_MEMBER_EP_ADDR);
	ep_p = c.seen & BIT(RD_A_MEMBER_EP_PORT);
	if (!(c.seen & BIT(RD_A_MEMBER_DEV)) || !(c.seen & BIT(RD_A_MEMBER_KEY)) || ep_a != ep_p) {
		*why = "member lacks dev/key or half an endpoint";
		return -EINVAL;
	}
	m->has_endpoint = ep_a;
	return 0;
}

struct msg_ctx {
	struct rd_msg *m;
	uint32_t seen;
	unsigned int members_cap;
	const char **why;
};

static int msg_cb(const struct nlattr *a, uint16_t type, const uint8_t *d, size_t len, void *arg)
{
	struct msg_ctx *c = arg;
	struct rd_msg *m = c->m;

	if (type == 0 || type >= __RD_A_MAX || !(allowed[m->type] & BIT(type))) {
		*c->why = "unexpected attribute";
		return -EINVAL;
	}
	if (!flags_ok(a, !!(NESTS & BIT(type)))) {
		*c->why = "bad attribute flags";
		return -EINVAL;
	}
	if ((c->seen & BIT(type)) && !(MULTI & BIT(type))) {
		*c->why = "duplicate attribute";
		return -EINVAL;
	}
	c->seen |= BIT(type);
	switch (type) {
	case RD_A_SESSION:
	case RD_A_VPN:
	case RD_A_TOTAL:
	case RD_A_ERR_CODE:
	case RD_A_REF_SEQ:
		if (len != 4)
			goto bad;
		if (type == RD_A_SESSION)
			m->session = get_u32(d);
		else if (type == RD_A_VPN)
			m->vpn = get_u32(d);
		else if (type == RD_A_TOTAL)
			m->total = get_u32(d);
		else if (type == RD_A_ERR_CODE)
			m->err = get_u32(d);
		else
			m->ref_seq = get_u32(d);
		break;
	case RD_A_STORE_ID:
		if (len != RD_STORE_ID_LEN)
			goto bad;
		memcpy(m->store_id, d, RD_STORE_ID_LEN);
		break;
	case RD_A_GENERATION:
		if (len != 8)
			goto bad;
		memcpy(&m->gen, d, 8);
		m->gen = be64toh(m->gen);
		break;
	case RD_A_ENDPOINT_ADDR:
	case RD_A_DEV:
		if (get_addr(d, len, type == RD_A_DEV ? &m->dev : &m->endpoint))
			goto bad;
		break;
	case RD_A_ENDPOINT_PORT:
	case RD_A_PART:
	case RD_A_NPARTS:
		if (len != 2)
			goto bad;
		if (type == RD_A_ENDPOINT_PORT)
			m->port = get_u16(d);
		else if (type == RD_A_PART)
			m->part = get_u16(d);
		else
			m->nparts = get_u16(d);
		break;
	case RD_A_PUBKEY:
		if (len != 32)
			goto bad;
		memcpy(m->key, d, 32);
		break;
	case RD_A_ERR_TEXT:
		if (!len || len > sizeof(m->text) || d[len - 1] || memchr(d, 0, len) != d + len - 1)
			goto bad;
		memcpy(m->text, d, len);
		break;
	case RD_A_PREFIX:
		return add_prefix(m->prefixes, &m->n_prefixes, d, len, c->why);
	case RD_A_MEMBER:
		if (m->n_members >= c->members_cap) {
			*c->why = "too many members";
			return -EINVAL;
		}
		return get_member(d, len, &m->members[m->n_members++], c->why);
	}
	return 0;
bad:
	*c->why = "bad attribute value";
	return -EINVAL;
}

static bool counts_member(const struct nlattr *a, uint16_t type)
{
	return type == RD_A_MEMBER && is_nested(a);
}

static int count_cb(const struct nlattr *a, uint16_t type, const uint8_t *d, size_t len, void *arg)
{
	(void)d;
	(void)len;
	if (counts_member(a, type))
		(*(unsigned int *)arg)++;
	return 0;
}

int rd_msg_decode(const void *buf, size_t len, struct rd_msg *m, const char **why)
{
	const uint8_t *h = buf;
	struct msg_ctx c = { .m = m, .why = why };
	unsigned int nmem = 0;
	uint32_t v;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	if (len < RD_HDR_LEN) {
		*why = "truncated header";
		return -EINVAL;
	}
	if (len > RD_MSG_MAX) {
		*why = "message too long";
		return -EINVAL;
	}
	m->version = h[0];
	m->type = h[1];
	m->flags = (uint16_t)(h[2] << 8 | h[3]);
	memcpy(&v, h + 4, 4);
	m->seq = ntohl(v);
	memcpy(&v, h + 8, 4);
	m->ack = ntohl(v);
	if (m->version != RD_PROTO_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTO;
	}
	if (!m->type || m->type >= __RD_TYPE_MAX) {
		*why = "unknown message type";
		return -EINVAL;
	}
	if ((m->flags & ~RD_F_ALL) || (m->flags && m->type != RD_LIST) ||
	    ((m->flags & RD_F_REJOIN) && !(m->flags & RD_F_NOT_MEMBER))) {
		*why = "unknown flags";
		return -EINVAL;
	}
	if (m->type != RD_ACK && !m->seq) {
		*why = "zero sequence number";
		return -EINVAL;
	}
	if (walk(h + RD_HDR_LEN, len - RD_HDR_LEN, count_cb, &nmem, why))
		return -EINVAL;
	if (nmem) {
		m->members = calloc(nmem, sizeof(*m->members));
		if (!m->members)
			return -ENOMEM;
		c.members_cap = nmem;
	}
	if (walk(h + RD_HDR_LEN, len - RD_HDR_LEN, msg_cb, &c, why))
		goto err;
	if ((c.seen & required[m->type]) != required[m->type]) {
		*why = "missing attribute";
		goto err;
	}
	m->has_session = c.seen & BIT(RD_A_SESSION);
	m->has_vpn = c.seen & BIT(RD_A_VPN);
	m->has_gen = c.seen & BIT(RD_A_GENERATION);
	m->has_dev = c.seen & BIT(RD_A_DEV);
	m->has_key = c.seen & BIT(RD_A_PUBKEY);
	m->has_err = c.seen & BIT(RD_A_ERR_CODE);
	m->has_ref = c.seen & BIT(RD_A_REF_SEQ);
	m->has_store_id = c.seen & BIT(RD_A_STORE_ID);
	m->has_parts = c.seen & BIT(RD_A_PART);
	m->has_total = c.seen & BIT(RD_A_TOTAL);
	m->has_endpoint = c.seen & BIT(RD_A_ENDPOINT_ADDR);
	/* A port alone asks the manager to fill the address in: only in a
	 * gateway's own requests. */
	m->endpoint_auto = !m->has_endpoint && (c.seen & BIT(RD_A_ENDPOINT_PORT)) &&
			   (m->type == RD_JOIN_REQ || m->type == RD_SYNC_REQ);
	if ((m->has_endpoint || m->endpoint_auto) != !!(c.seen & BIT(RD_A_ENDPOINT_PORT)) ||
	    ((m->has_endpoint || m->endpoint_auto) && !m->port)) {
		*why = "half an endpoint";
		goto err;
	}
	if (m->has_vpn && !m->vpn) {
		*why = "VPN id 0";
		goto err;
	}
	if (m->has_parts && (!m->part || m->part > m->nparts || m->n_members > m->total)) {
		*why = "bad part numbering";
		goto err;
	}
	if (m->type == RD_NOTIFY && m->n_members != 1) {
		*why = "NOTIFY needs exactly one member";
		goto err;
	}
	return 0;
err:
	rd_msg_release(m);
	return -EINVAL;
}

void rd_msg_release(struct rd_msg *m)
{
	free(m->members);
	m->members = NULL;
	m->n_members = 0;
}
