// SPDX-License-Identifier: GPL-2.0
/*
 * roster: generic netlink handlers.
 *
 * The policies, the ops table and the multicast groups come from
 * roster-nl-gen.c, generated from Documentation/netlink/specs/roster.yaml.
 * This file holds what a policy cannot say: "exactly one of" and "both or
 * neither" among attributes, host bits, which member attributes a command
 * reads, the order of stamped changes, and the table's invariants.
 */

#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "netlink.h"
#include "plant.h"
#include "roster-nl-gen.h"
#include "table.h"

static struct genl_family roster_nl_family __ro_after_init = {
	.name = ROSTER_FAMILY_NAME,
	.version = ROSTER_FAMILY_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = roster_nl_ops,
	.n_ops = ARRAY_SIZE(roster_nl_ops),
	.mcgrps = roster_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(roster_nl_mcgrps),
};

/*
 * 6.1 has no room in the extack for a formatted message: it gets @plain,
 * and the values that 6.12 prints travel in the extack cookie on both.
 */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define ROSTER_ERR_FMT(extack, plain, fmt, args...) \
	NL_SET_ERR_MSG_FMT_MOD(extack, fmt, ##args)
#else
#define ROSTER_ERR_FMT(extack, plain, fmt, args...) \
	NL_SET_ERR_MSG_MOD(extack, plain)
#endif

/* A required attribute: the kernel's missing-attribute TLVs plus a message. */
#define ROSTER_REQUIRE(info, attr, msg) ({				\
	struct genl_info *__ri = (info);				\
	bool __missing = GENL_REQ_ATTR_CHECK(__ri, attr);		\
	if (__missing)							\
		NL_SET_ERR_MSG_MOD(__ri->extack, msg);		\
	__missing;							\
})

static struct nlattr **roster_dump_attrs(struct netlink_callback *cb)
{
#ifdef ROSTER_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#define ROSTER_MSG_NO_ID "member needs an id (id-ipv4 or id-ipv6)"

static void roster_cookie_u64(struct netlink_ext_ack *extack, u64 value)
{
	memcpy(extack->cookie, &value, sizeof(value));
	extack->cookie_len = sizeof(value);
}

/*
 * An address given as an IPv4 or an IPv6 attribute: the policy checks each
 * one's length; that exactly one is there is checked here. -ENODATA: none
 * (the missing-attribute TLVs are set), for the caller to say what it is.
 */
static int roster_parse_addr(struct roster_addr *addr, struct nlattr **tb,
			     int v4, int v6, const struct nlattr *nest,
			     struct netlink_ext_ack *extack)
{
	memset(addr, 0, sizeof(*addr));
	if (tb[v4] && tb[v6]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[v6],
				    "roster: give an IPv4 or an IPv6 address, not both");
		return -EINVAL;
	}
	if (tb[v4]) {
		__be32 a = nla_get_in_addr(tb[v4]);

		addr->len = sizeof(a);
		memcpy(addr->bytes, &a, sizeof(a));
	} else if (tb[v6]) {
		addr->len = sizeof(struct in6_addr);
		nla_memcpy(addr->bytes, tb[v6], addr->len);
	} else {
		NL_SET_ERR_ATTR_MISS(extack, (struct nlattr *)nest, v4);
		return -ENODATA;
	}
	return 0;
}

static int roster_parse_prefix(struct roster_prefix *p,
			       const struct nlattr *nest,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[ROSTER_A_PREFIX_MAX + 1];
	unsigned int i, bits;
	int err;

	err = nla_parse_nested(tb, ROSTER_A_PREFIX_MAX, nest,
			       roster_prefix_nl_policy, extack);
	if (err)
		return err;
	err = roster_parse_addr(&p->addr, tb, ROSTER_A_PREFIX_IPV4,
				ROSTER_A_PREFIX_IPV6, nest, extack);
	if (err == -ENODATA) {
		NL_SET_ERR_MSG_MOD(extack, "prefix needs an address (ipv4 or ipv6)");
		return -EINVAL;
	}
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, ROSTER_A_PREFIX_LEN)) {
		NL_SET_ERR_MSG_MOD(extack, "prefix needs a length");
		return -EINVAL;
	}
	p->plen = nla_get_u8(tb[ROSTER_A_PREFIX_LEN]);
	bits = p->addr.len * 8;
	/* the policy's maximum is IPv6's */
	if (p->plen > bits) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ROSTER_A_PREFIX_LEN],
				    "roster: prefix length too long for the address family");
		return -EINVAL;
	}
	/* Like ip route: 10.0.0.1/24 is a typo, not 10.0.0.0/24. */
	for (i = p->plen; i < bits; i++) {
		if (p->addr.bytes[i / 8] & (0x80 >> (i % 8))) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "roster: prefix has host bits set");
			return -EINVAL;
		}
	}
	return 0;
}

/* How a change is ordered against the VPN's generation. */
struct roster_stamp {
	bool stamped;
	bool resync;
	u64 gen;		/* the generation the change produces */
	struct nlattr *attr;
};

static void roster_stamp_parse(struct roster_stamp *st, struct genl_info *info,
			       u32 flags)
{
	st->attr = info->attrs[ROSTER_A_GENERATION];
	st->stamped = st->attr;
	st->gen = st->stamped ? nla_get_u64(st->attr) : 0;
	st->resync = flags & ROSTER_FLAGS_RESYNC;
}

static u32 roster_stamp_ntf_flags(const struct roster_stamp *st)
{
	return (st->stamped ? ROSTER_CHANGE_FLAGS_STAMPED : 0) |
	       (st->resync ? ROSTER_CHANGE_FLAGS_RESYNC : 0);
}

/* Point the extack at the stamp, if any, and hand back @cur in the cookie. */
static int roster_stamp_refuse(struct netlink_ext_ack *extack,
			       const struct roster_stamp *st, u64 cur, int err)
{
	NL_SET_BAD_ATTR(extack, st->attr);
	roster_cookie_u64(extack, cur);
	return err;
}

/*
 * Caller holds rn->lock. May the change apply to @vpn, and which generation
 * does it make? Refusals state the VPN's generation in the cookie.
 */
static int roster_stamp_check(struct roster_stamp *st,
			      const struct roster_vpn *vpn,
			      struct netlink_ext_ack *extack)
{
	u64 cur = vpn->generation;

	if (!st->stamped) {
		if (vpn->flags & ROSTER_VPN_FLAGS_FOLLOWER) {
			ROSTER_ERR_FMT(extack,
				       "VPN follows another table: change it there, or stamp the change",
				       "VPN %u follows another table: change it there, or stamp it",
				       vpn->id);
			return roster_stamp_refuse(extack, st, cur, -EPERM);
		}
		/* The next generation would wrap to 0, older than every other */
		if (cur == U64_MAX) {
			NL_SET_ERR_MSG_MOD(extack,
					   "VPN is at the largest generation: delete it and create it again");
			return roster_stamp_refuse(extack, st, cur, -EOVERFLOW);
		}
		st->gen = cur + 1;
		return 0;
	}
	if (st->gen <= cur && !(st->resync && st->gen == cur)) {
		ROSTER_ERR_FMT(extack,
			       "stamped change is old: the VPN's generation is in the cookie",
			       "VPN %u is at generation %llu: change %llu is old",
			       vpn->id, cur, st->gen);
		return roster_stamp_refuse(extack, st, cur, -EALREADY);
	}
	if (st->gen > cur + 1 && !st->resync) {
		ROSTER_ERR_FMT(extack,
			       "stamped change skips generations: the VPN's generation is in the cookie",
			       "VPN %u is at generation %llu: change %llu skips ahead",
			       vpn->id, cur, st->gen);
		return roster_stamp_refuse(extack, st, cur, -ESTALE);
	}
	return 0;
}

/*
 * Parse the member nest of a JOIN into a new, unpublished member. The key's
 * vpn_id is filled by the caller.
 */
static struct roster_member *roster_parse_member(const struct nlattr *nest,
						 const struct roster_stamp *st,
						 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[ROSTER_A_MEMBER_MAX + 1];
	struct roster_member *m;
	unsigned int n = 0, i;
	struct nlattr *attr;
	int rem, err;

	err = nla_parse_nested(tb, ROSTER_A_MEMBER_MAX, nest,
			       roster_member_nl_policy, extack);
	if (err)
		return ERR_PTR(err);
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, ROSTER_A_MEMBER_PUBLIC_KEY)) {
		NL_SET_ERR_MSG_MOD(extack, "member needs a public key");
		return ERR_PTR(-EINVAL);
	}
	attr = tb[ROSTER_A_MEMBER_JOIN_TIME] ?: tb[ROSTER_A_MEMBER_JOIN_GENERATION];
	if (attr && !st->stamped) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "roster: join time and generation are set by the kernel, unless the change is stamped");
		return ERR_PTR(-EINVAL);
	}
	attr = tb[ROSTER_A_MEMBER_JOIN_GENERATION];
	if (attr && nla_get_u64(attr) > st->gen) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "roster: join generation is above the change's generation");
		return ERR_PTR(-EINVAL);
	}
	if (!tb[ROSTER_A_MEMBER_ENDPOINT_IPV4] && !tb[ROSTER_A_MEMBER_ENDPOINT_IPV6] &&
	    tb[ROSTER_A_MEMBER_ENDPOINT_PORT]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ROSTER_A_MEMBER_ENDPOINT_PORT],
				    "roster: endpoint needs both an address and a port");
		return ERR_PTR(-EINVAL);
	}
	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) == ROSTER_A_MEMBER_PREFIX)
			n++;
	}
	if (n > ROSTER_MAX_PREFIXES) {
		NL_SET_ERR_MSG_MOD(extack, "too many prefixes (at most 32)");
		return ERR_PTR(-E2BIG);
	}

	m = roster_member_alloc(n);
	if (!m)
		return ERR_PTR(-ENOMEM);
	err = roster_parse_addr(&m->key.id, tb, ROSTER_A_MEMBER_ID_IPV4,
				ROSTER_A_MEMBER_ID_IPV6, nest, extack);
	if (err == -ENODATA) {
		NL_SET_ERR_MSG_MOD(extack, ROSTER_MSG_NO_ID);
		err = -EINVAL;
	}
	if (err)
		goto err;
	nla_memcpy(m->public_key, tb[ROSTER_A_MEMBER_PUBLIC_KEY],
		   ROSTER_KEY_LEN);
	if (tb[ROSTER_A_MEMBER_ENDPOINT_IPV4] || tb[ROSTER_A_MEMBER_ENDPOINT_IPV6]) {
		err = roster_parse_addr(&m->endpoint, tb,
					ROSTER_A_MEMBER_ENDPOINT_IPV4,
					ROSTER_A_MEMBER_ENDPOINT_IPV6, nest,
					extack);
		if (err)
			goto err;
		if (NL_REQ_ATTR_CHECK(extack, nest, tb,
				      ROSTER_A_MEMBER_ENDPOINT_PORT)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "endpoint needs both an address and a port");
			err = -EINVAL;
			goto err;
		}
		m->port = nla_get_u16(tb[ROSTER_A_MEMBER_ENDPOINT_PORT]);
	}
	if (tb[ROSTER_A_MEMBER_JOIN_TIME])
		m->join_time = nla_get_u64(tb[ROSTER_A_MEMBER_JOIN_TIME]);
	if (tb[ROSTER_A_MEMBER_JOIN_GENERATION])
		m->join_gen = nla_get_u64(tb[ROSTER_A_MEMBER_JOIN_GENERATION]);
	nla_for_each_nested(attr, nest, rem) {
		struct roster_prefix *p = &m->prefixes[m->nprefixes];

		if (nla_type(attr) != ROSTER_A_MEMBER_PREFIX)
			continue;
		err = roster_parse_prefix(p, attr, extack);
		if (err)
			goto err;
		for (i = 0; i < m->nprefixes; i++) {
			if (m->prefixes[i].plen == p->plen &&
			    !memcmp(&m->prefixes[i].addr, &p->addr,
				    sizeof(p->addr))) {
				NL_SET_ERR_MSG_ATTR(extack, attr,
						    "roster: duplicate prefix");
				err = -EINVAL;
				goto err;
			}
		}
		m->nprefixes++;
	}
	return m;
err:
	roster_member_put(m);
	return ERR_PTR(err);
}

/* The member nest of LEAVE and GET names a member by its id alone. */
static int roster_parse_key(struct roster_key *key, u32 vpn_id,
			    const struct nlattr *nest,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[ROSTER_A_MEMBER_MAX + 1];
	int type, err;

	err = nla_parse_nested(tb, ROSTER_A_MEMBER_MAX, nest,
			       roster_member_nl_policy, extack);
	if (err)
		return err;
	/* YNL has no per-command subsets of a nested set */
	for (type = 1; type <= ROSTER_A_MEMBER_MAX; type++) {
		if (type != ROSTER_A_MEMBER_ID_IPV4 &&
		    type != ROSTER_A_MEMBER_ID_IPV6 && tb[type]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[type],
					    "roster: only the id names a member here");
			return -EINVAL;
		}
	}
	memset(key, 0, sizeof(*key));
	key->vpn_id = vpn_id;
	err = roster_parse_addr(&key->id, tb, ROSTER_A_MEMBER_ID_IPV4,
				ROSTER_A_MEMBER_ID_IPV6, nest, extack);
	if (err == -ENODATA) {
		NL_SET_ERR_MSG_MOD(extack, ROSTER_MSG_NO_ID);
		err = -EINVAL;
	}
	return err;
}

static int roster_put_addr(struct sk_buff *skb, int v4, int v6,
			   const struct roster_addr *addr)
{
	__be32 a;

	if (addr->len == sizeof(struct in6_addr))
		return nla_put(skb, v6, addr->len, addr->bytes);
	memcpy(&a, addr->bytes, sizeof(a));
	return nla_put_in_addr(skb, v4, a);
}

static int roster_put_member(struct sk_buff *skb, const struct roster_member *m,
			     bool brief)
{
	struct nlattr *nest, *pnest;
	unsigned int i;

	nest = nla_nest_start(skb, ROSTER_A_MEMBER);
	if (!nest)
		return -EMSGSIZE;
	if (roster_put_addr(skb, ROSTER_A_MEMBER_ID_IPV4, ROSTER_A_MEMBER_ID_IPV6,
			    &m->key.id))
		goto cancel;
	if (brief)
		goto out;
	if (nla_put(skb, ROSTER_A_MEMBER_PUBLIC_KEY, ROSTER_KEY_LEN,
		    m->public_key))
		goto cancel;
	if (m->port &&
	    (roster_put_addr(skb, ROSTER_A_MEMBER_ENDPOINT_IPV4,
			     ROSTER_A_MEMBER_ENDPOINT_IPV6, &m->endpoint) ||
	     nla_put_u16(skb, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port)))
		goto cancel;
	for (i = 0; i < m->nprefixes; i++) {
		pnest = nla_nest_start(skb, ROSTER_A_MEMBER_PREFIX);
		if (!pnest ||
		    roster_put_addr(skb, ROSTER_A_PREFIX_IPV4, ROSTER_A_PREFIX_IPV6,
				    &m->prefixes[i].addr) ||
		    nla_put_u8(skb, ROSTER_A_PREFIX_LEN, m->prefixes[i].plen))
			goto cancel;
		nla_nest_end(skb, pnest);
	}
	if (nla_put_u64_64bit(skb, ROSTER_A_MEMBER_JOIN_TIME, m->join_time,
			      ROSTER_A_MEMBER_PAD) ||
	    nla_put_u64_64bit(skb, ROSTER_A_MEMBER_JOIN_GENERATION, m->join_gen,
			      ROSTER_A_MEMBER_PAD))
		goto cancel;
out:
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int roster_put_vpn_head(struct sk_buff *skb, u32 vpn_id, u64 generation)
{
	if (nla_put_u32(skb, ROSTER_A_VPN_ID, vpn_id) ||
	    nla_put_u64_64bit(skb, ROSTER_A_GENERATION, generation, ROSTER_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int roster_put_vpn(struct sk_buff *skb, const struct roster_vpn *vpn,
			  u32 nmembers)
{
	if (roster_put_vpn_head(skb, vpn->id, READ_ONCE(vpn->generation)) ||
	    nla_put_u32(skb, ROSTER_A_MEMBER_COUNT, nmembers) ||
	    nla_put_u64_64bit(skb, ROSTER_A_CREATE_TIME, vpn->create_time,
			      ROSTER_A_PAD) ||
	    nla_put_u32(skb, ROSTER_A_VPN_FLAGS, READ_ONCE(vpn->flags)))
		return -EMSGSIZE;
	return 0;
}

/* The reply of a change: the VPN after it. */
static int roster_put_change(struct sk_buff *skb, const struct roster_vpn *vpn)
{
	if (roster_put_vpn_head(skb, vpn->id, vpn->generation) ||
	    nla_put_u32(skb, ROSTER_A_MEMBER_COUNT, vpn->nmembers))
		return -EMSGSIZE;
	return 0;
}

/*
 * Notifications are built and sent under the writer lock, so listeners see
 * them in generation order.
 */
static void roster_notify(struct roster_net *rn, struct net *net, u8 cmd,
			  const struct roster_vpn *vpn,
			  const struct roster_member *m, int reason,
			  const struct roster_stamp *st)
{
	u32 change = roster_stamp_ntf_flags(st);
	struct sk_buff *msg;
	void *hdr;
	int err;

	lockdep_assert_held(&rn->lock);
	if (!genl_has_listeners(&roster_nl_family, net, ROSTER_NLGRP_NOTIFY))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;	/* the listener sees a generation gap and resyncs */
	hdr = genlmsg_put(msg, 0, 0, &roster_nl_family, 0, cmd);
	if (!hdr)
		goto nospace;
	/* a new VPN is announced as created: empty, even if a JOIN made it */
	if (cmd == ROSTER_CMD_VPN_NEW_NTF)
		err = roster_put_vpn(msg, vpn, 0);
	else if (cmd == ROSTER_CMD_VPN_CHANGED_NTF)
		err = roster_put_vpn(msg, vpn, vpn->nmembers);
	else
		err = roster_put_vpn_head(msg, vpn->id, vpn->generation);
	if (!err && change)
		err = nla_put_u32(msg, ROSTER_A_CHANGE_FLAGS, change);
	if (!err && reason >= 0)
		err = nla_put_u32(msg, ROSTER_A_REASON, reason);
	if (!err && m)
		err = roster_put_member(msg, m, cmd == ROSTER_CMD_MEMBER_LEFT_NTF);
	if (err)
		goto nospace;
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&roster_nl_family, net, msg, 0,
				ROSTER_NLGRP_NOTIFY, GFP_KERNEL);
	return;
nospace:
	nlmsg_free(msg);
}

/* A do command's reply, with its genetlink header in place. */
static struct sk_buff *roster_reply_new(struct genl_info *info, u8 cmd,
					void **hdr)
{
	struct sk_buff *msg;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	*hdr = genlmsg_put_reply(msg, info, &roster_nl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return ERR_PTR(-EMSGSIZE);
	}
	return msg;
}

/* Send a reply filled under the lock; it was sized for what it carries. */
static int roster_reply_send(struct sk_buff *msg, void *hdr, int err,
			     struct genl_info *info)
{
	if (WARN_ON_ONCE(err)) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static u32 roster_get_flags(struct genl_info *info, u32 allowed,
			    struct netlink_ext_ack *extack, int *err)
{
	struct nlattr *attr = info->attrs[ROSTER_A_FLAGS];
	u32 flags = attr ? nla_get_u32(attr) : 0;

	*err = 0;
	if (flags & ~allowed) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "roster: flag does not apply to this command");
		*err = -EINVAL;
	} else if ((flags & ROSTER_FLAGS_RESYNC) &&
		   !info->attrs[ROSTER_A_GENERATION]) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "roster: resync needs a stamped change (generation)");
		*err = -EINVAL;
	}
	return flags;
}

int roster_nl_vpn_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_stamp st;
	struct roster_vpn *vpn;
	struct sk_buff *msg;
	u32 flags = 0;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	if (info->attrs[ROSTER_A_VPN_FLAGS])
		flags = nla_get_u32(info->attrs[ROSTER_A_VPN_FLAGS]);
	roster_stamp_parse(&st, info, 0);
	msg = roster_reply_new(info, ROSTER_CMD_VPN_NEW, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	mutex_lock(&rn->lock);
	vpn = roster_vpn_create(rn, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]),
				flags, st.stamped ? st.gen : 1, info->extack);
	if (IS_ERR(vpn)) {
		mutex_unlock(&rn->lock);
		nlmsg_free(msg);
		return PTR_ERR(vpn);
	}
	roster_notify(rn, net, ROSTER_CMD_VPN_NEW_NTF, vpn, NULL, -1, &st);
	err = roster_put_vpn(msg, vpn, 0);
	mutex_unlock(&rn->lock);
	return roster_reply_send(msg, hdr, err, info);
}

/* Caller holds rn->lock. Sends the one vpn-del-ntf a deletion produces. */
static void roster_vpn_delete_notify(struct roster_net *rn, struct net *net,
				     struct roster_vpn *vpn,
				     const struct roster_stamp *st)
{
	roster_changed(rn, vpn, st->gen);
	roster_notify(rn, net, ROSTER_CMD_VPN_DEL_NTF, vpn, NULL, -1, st);
	roster_vpn_delete(rn, vpn);
}

static struct roster_vpn *roster_vpn_find(struct roster_net *rn,
					  struct genl_info *info)
{
	struct roster_vpn *vpn;

	vpn = roster_vpn_lookup(rn, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]));
	if (!vpn)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ROSTER_A_VPN_ID],
				    "roster: no such VPN");
	return vpn;
}

int roster_nl_vpn_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_stamp st;
	struct roster_vpn *vpn;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	roster_stamp_parse(&st, info, 0);
	roster_plant_lock_outer();
	mutex_lock(&rn->lock);
	vpn = roster_vpn_find(rn, info);
	if (vpn && !st.stamped && vpn->generation == U64_MAX &&
	    !(vpn->flags & ROSTER_VPN_FLAGS_FOLLOWER)) {
		/* nothing comes after a deletion: it may keep the largest one */
		st.gen = U64_MAX;
		err = 0;
	} else {
		err = vpn ? roster_stamp_check(&st, vpn, info->extack) : -ENOENT;
	}
	if (!err)
		roster_vpn_delete_notify(rn, net, vpn, &st);
	mutex_unlock(&rn->lock);
	roster_plant_unlock_outer();
	return err;
}

int roster_nl_vpn_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *fattr = info->attrs[ROSTER_A_VPN_FLAGS];
	struct netlink_ext_ack *extack = info->extack;
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_stamp st;
	struct roster_vpn *vpn;
	struct sk_buff *msg;
	u32 flags, vflags = 0;
	bool changed;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	flags = roster_get_flags(info, ROSTER_FLAGS_RESYNC, extack, &err);
	if (err)
		return err;
	roster_stamp_parse(&st, info, flags);
	if (!st.stamped && !fattr) {
		NL_SET_ERR_MSG_MOD(extack,
				   "nothing to change: give a generation or vpn-flags");
		return -EINVAL;
	}
	if (fattr)
		vflags = nla_get_u32(fattr);
	msg = roster_reply_new(info, ROSTER_CMD_VPN_SET, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	mutex_lock(&rn->lock);
	vpn = roster_vpn_find(rn, info);
	if (!vpn) {
		err = -ENOENT;
		goto unlock;
	}
	if (fattr && (vflags ^ vpn->flags) & ROSTER_VPN_FLAGS_NESTED_PREFIXES) {
		NL_SET_ERR_MSG_ATTR(extack, fattr,
				    "roster: nested-prefixes is fixed when the VPN is created");
		err = -EINVAL;
		goto unlock;
	}
	/* the follower mark itself is how a follower is promoted */
	if (st.stamped) {
		err = roster_stamp_check(&st, vpn, extack);
		if (err)
			goto unlock;
	}
	changed = (fattr && vflags != vpn->flags) ||
		  (st.stamped && st.gen != vpn->generation);
	if (fattr)
		WRITE_ONCE(vpn->flags, vflags);
	if (changed) {
		roster_changed(rn, vpn, st.stamped ? st.gen : vpn->generation);
		roster_notify(rn, net, ROSTER_CMD_VPN_CHANGED_NTF, vpn, NULL, -1,
			      &st);
	}
	err = roster_put_vpn(msg, vpn, vpn->nmembers);
	mutex_unlock(&rn->lock);
	return roster_reply_send(msg, hdr, err, info);

unlock:
	mutex_unlock(&rn->lock);
	nlmsg_free(msg);
	return err;
}

int roster_nl_vpn_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct roster_net *rn = roster_net(genl_info_net(info));
	struct roster_vpn *vpn;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	msg = roster_reply_new(info, ROSTER_CMD_VPN_GET, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	rcu_read_lock();
	vpn = roster_vpn_find(rn, info);
	err = vpn ? roster_put_vpn(msg, vpn, READ_ONCE(vpn->nmembers)) : -ENOENT;
	rcu_read_unlock();
	if (err == -ENOENT) {
		nlmsg_free(msg);
		return err;
	}
	return roster_reply_send(msg, hdr, err, info);
}

int roster_nl_vpn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct roster_net *rn = roster_net(sock_net(skb->sk));
	struct roster_vpn *vpn;
	unsigned long id;
	void *hdr;

	/* the dump shares the do policy (see the spec): refuse its vpn-id */
	if (!cb->args[1]) {
		cb->args[1] = 1;
		if (roster_dump_attrs(cb)[ROSTER_A_VPN_ID]) {
			NL_SET_ERR_MSG_MOD(cb->extack,
					   "a VPN dump takes no attributes; ask for one VPN without NLM_F_DUMP");
			return -EINVAL;
		}
	}
	rcu_read_lock();
	cb->seq = READ_ONCE(rn->change_seq);
	/* args[0]: the next VPN id to send; resume after a key, not an index */
	xa_for_each_start(&rn->vpns, id, vpn, cb->args[0]) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &roster_nl_family,
				  NLM_F_MULTI, ROSTER_CMD_VPN_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (roster_put_vpn(skb, vpn, READ_ONCE(vpn->nmembers))) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = id + 1;
	}
	rcu_read_unlock();
	return skb->len;
}

int roster_nl_member_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct roster_net *rn = roster_net(genl_info_net(info));
	struct roster_member *m = NULL;
	struct roster_vpn *vpn;
	struct roster_key key;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing") ||
	    ROSTER_REQUIRE(info, ROSTER_A_MEMBER, "member missing"))
		return -EINVAL;
	err = roster_parse_key(&key, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]),
			       info->attrs[ROSTER_A_MEMBER], info->extack);
	if (err)
		return err;
	msg = roster_reply_new(info, ROSTER_CMD_MEMBER_GET, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	rcu_read_lock();
	vpn = roster_vpn_find(rn, info);
	if (vpn)
		m = roster_member_lookup(rn, &key);
	if (!vpn) {
		err = -ENOENT;
	} else if (!m) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ROSTER_A_MEMBER],
				    "roster: no such member");
		err = -ENOENT;
	} else {
		err = roster_put_vpn_head(msg, vpn->id,
					  READ_ONCE(vpn->generation)) ?:
		      roster_put_member(msg, m, false);
	}
	rcu_read_unlock();
	if (err == -ENOENT) {
		nlmsg_free(msg);
		return err;
	}
	return roster_reply_send(msg, hdr, err, info);
}

/* cb->args of the member dump */
enum {
	ROSTER_DUMP_VPN,	/* next VPN id to visit */
	ROSTER_DUMP_SLOT,	/* next member slot in that VPN */
	ROSTER_DUMP_FILTER,	/* VPN id filter, 0: all */
	ROSTER_DUMP_STARTED,
};

static int roster_member_dump_filter(struct netlink_callback *cb,
				     struct roster_net *rn)
{
	struct nlattr **attrs = roster_dump_attrs(cb);
	u32 id;

	/* the dump shares the do policy (see the spec): refuse its member */
	if (attrs[ROSTER_A_MEMBER]) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[ROSTER_A_MEMBER],
				    "roster: a member dump takes only a VPN id");
		return -EINVAL;
	}
	if (!attrs[ROSTER_A_VPN_ID])
		return 0;
	id = nla_get_u32(attrs[ROSTER_A_VPN_ID]);
	if (!xa_load(&rn->vpns, id)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[ROSTER_A_VPN_ID],
				    "roster: no such VPN");
		return -ENOENT;
	}
	cb->args[ROSTER_DUMP_FILTER] = id;
	cb->args[ROSTER_DUMP_VPN] = id;
	return 0;
}

/* Dump @vpn's members from cb->args[ROSTER_DUMP_SLOT]; false: skb full. */
static bool roster_dump_members(struct sk_buff *skb,
				struct netlink_callback *cb,
				struct roster_vpn *vpn)
{
	struct roster_member *m;
	unsigned long slot;
	void *hdr;

	xa_for_each_start(&vpn->members, slot, m, cb->args[ROSTER_DUMP_SLOT]) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &roster_nl_family,
				  NLM_F_MULTI, ROSTER_CMD_MEMBER_GET);
		if (!hdr)
			return false;
		genl_dump_check_consistent(cb, hdr);
		if (roster_put_vpn_head(skb, vpn->id,
					READ_ONCE(vpn->generation)) ||
		    roster_put_member(skb, m, false)) {
			genlmsg_cancel(skb, hdr);
			return false;
		}
		genlmsg_end(skb, hdr);
		cb->args[ROSTER_DUMP_SLOT] = slot + 1;
	}
	cb->args[ROSTER_DUMP_SLOT] = 0;
	return true;
}

/*
 * A dump of one VPN is flagged NLM_F_DUMP_INTR only when that VPN changed
 * (or went away); a dump of all VPNs, when any of them did.
 */
int roster_nl_member_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct roster_net *rn = roster_net(sock_net(skb->sk));
	struct roster_vpn *vpn;
	unsigned long filter, id;
	int err = 0;

	rcu_read_lock();
	if (!cb->args[ROSTER_DUMP_STARTED]) {
		cb->args[ROSTER_DUMP_STARTED] = 1;
		err = roster_member_dump_filter(cb, rn);
		if (err)
			goto out;
	}
	filter = cb->args[ROSTER_DUMP_FILTER];
	if (filter) {
		vpn = xa_load(&rn->vpns, filter);
		if (vpn)
			cb->seq = READ_ONCE(vpn->seq);
		else
			cb->seq = cb->prev_seq + 1 ?: 1;
		if (vpn && cb->args[ROSTER_DUMP_VPN] == filter &&
		    roster_dump_members(skb, cb, vpn))
			cb->args[ROSTER_DUMP_VPN] = filter + 1;
		goto out;
	}
	cb->seq = READ_ONCE(rn->change_seq);
	xa_for_each_start(&rn->vpns, id, vpn, cb->args[ROSTER_DUMP_VPN]) {
		if (!roster_dump_members(skb, cb, vpn))
			goto out;
		cb->args[ROSTER_DUMP_VPN] = id + 1;
	}
out:
	rcu_read_unlock();
	return err ?: skb->len;
}

#ifdef NL_SET_ERR_MSG_FMT_MOD
static void roster_addr_str(char *buf, size_t len, const struct roster_addr *a,
			    int plen)
{
	int n;

	if (a->len == 4)
		n = snprintf(buf, len, "%pI4", a->bytes);
	else
		n = snprintf(buf, len, "%pI6c", a->bytes);
	if (plen >= 0 && n > 0 && n < len)
		snprintf(buf + n, len - n, "/%d", plen);
}

/* "P overlaps Q of HOLDER", without P where the extack has no room for it */
static void roster_prefix_conflict_msg(struct netlink_ext_ack *extack,
				       const struct roster_prefix *p,
				       const struct roster_prefix *q,
				       const struct roster_addr *holder)
{
	char ps[48], qs[48], hs[48];

	roster_addr_str(ps, sizeof(ps), &p->addr, p->plen);
	roster_addr_str(qs, sizeof(qs), &q->addr, q->plen);
	roster_addr_str(hs, sizeof(hs), holder, -1);
	if (strlen(ps) + strlen(qs) + strlen(hs) + 24 < NETLINK_MAX_FMTMSG_LEN)
		NL_SET_ERR_MSG_FMT_MOD(extack, "%s overlaps %s of %s", ps, qs, hs);
	else
		NL_SET_ERR_MSG_FMT_MOD(extack, "overlaps %s of %s", qs, hs);
}
#else
static void roster_prefix_conflict_msg(struct netlink_ext_ack *extack,
				       const struct roster_prefix *p,
				       const struct roster_prefix *q,
				       const struct roster_addr *holder)
{
	NL_SET_ERR_MSG_MOD(extack,
			   "prefix overlaps another member's: its id is in the cookie");
}
#endif

/* The @i-th prefix nest of a member nest, to point the extack at it. */
static const struct nlattr *roster_prefix_attr(const struct nlattr *nest,
					       unsigned int i)
{
	const struct nlattr *attr;
	int rem;

	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) == ROSTER_A_MEMBER_PREFIX && !i--)
			return attr;
	}
	return NULL;
}

/*
 * Caller holds rn->lock. May @m (replacing @old, or NULL) join @vpn? Its
 * prefixes must not overlap, or in a nested VPN equal, another member's.
 */
static int roster_prefix_check(const struct roster_vpn *vpn,
			       const struct roster_member *m,
			       const struct roster_member *old,
			       struct genl_info *info)
{
	const struct nlattr *nest = info->attrs[ROSTER_A_MEMBER];
	struct netlink_ext_ack *extack = info->extack;
	const struct roster_prefix *p, *q;
	const struct roster_addr *holder;
	unsigned int i, k;

	for (i = 0; i < m->nprefixes; i++) {
		p = &m->prefixes[i];
		if (!(vpn->flags & ROSTER_VPN_FLAGS_NESTED_PREFIXES)) {
			for (k = 0; k < i; k++) {
				if (roster_prefix_overlap(&m->prefixes[k], p)) {
					NL_SET_ERR_MSG_ATTR(extack,
							    roster_prefix_attr(nest, i),
							    "roster: the member's prefixes overlap each other");
					return -EINVAL;
				}
			}
		}
		q = roster_prefix_conflict(vpn, p, old);
		if (!q)
			continue;
		holder = &q->owner->key.id;
		NL_SET_BAD_ATTR(extack, roster_prefix_attr(nest, i));
		roster_prefix_conflict_msg(extack, p, q, holder);
		/* the holder's id, 4 or 16 bytes, for every kernel */
		memcpy(extack->cookie, holder->bytes, holder->len);
		extack->cookie_len = holder->len;
		return -EADDRINUSE;
	}
	return 0;
}

int roster_nl_member_join_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_member *old = NULL, *m;
	struct roster_stamp st, created_st;
	struct roster_vpn *vpn;
	struct roster_key key;
	struct sk_buff *msg;
	u32 vpn_id, flags;
	bool created;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing") ||
	    ROSTER_REQUIRE(info, ROSTER_A_MEMBER, "member missing"))
		return -EINVAL;
	vpn_id = nla_get_u32(info->attrs[ROSTER_A_VPN_ID]);
	flags = roster_get_flags(info, ROSTER_FLAGS_CREATE_ONLY |
				 ROSTER_FLAGS_RESYNC, extack, &err);
	if (err)
		return err;
	roster_stamp_parse(&st, info, flags);
	m = roster_parse_member(info->attrs[ROSTER_A_MEMBER], &st, extack);
	if (IS_ERR(m))
		return PTR_ERR(m);
	m->key.vpn_id = vpn_id;
	key = m->key;
	msg = roster_reply_new(info, ROSTER_CMD_MEMBER_JOIN, &hdr);
	if (IS_ERR(msg)) {
		roster_member_put(m);
		return PTR_ERR(msg);
	}

	mutex_lock(&rn->lock);
	roster_plant_lock_inner();
	vpn = roster_vpn_lookup(rn, vpn_id);
	created = !vpn;
	if (!vpn && st.stamped) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[ROSTER_A_VPN_ID],
				    "roster: no such VPN: create it with a stamped vpn-new first");
		err = -ENOENT;
		goto unlock;
	}
	if (!vpn) {
		/* the first joiner creates the VPN: announced before the join */
		vpn = roster_vpn_create(rn, vpn_id, 0, 1, extack);
		if (IS_ERR(vpn)) {
			err = PTR_ERR(vpn);
			goto unlock;
		}
	}
	err = roster_stamp_check(&st, vpn, extack);
	if (err)
		goto undo;
	old = roster_member_lookup(rn, &key);
	if (old && (flags & ROSTER_FLAGS_CREATE_ONLY)) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[ROSTER_A_MEMBER],
				    "roster: member exists (create-only)");
		err = -EEXIST;
		goto undo;
	}
	if (!old && vpn->nmembers >= roster_max_members(rn)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "VPN is full (sysctl net.roster.max_members)");
		err = -ENOSPC;
		goto undo;
	}
	err = roster_prefix_check(vpn, m, old, info);
	if (err)
		goto undo;

	if (!m->join_gen)
		m->join_gen = st.gen;
	if (!m->join_time)
		m->join_time = ktime_get_real_seconds();
	if (old) {
		roster_member_replace(rn, vpn, old, m);
	} else {
		err = roster_member_insert(rn, vpn, m);
		if (err)
			goto undo;
	}
	if (created) {
		created_st = (struct roster_stamp){ };
		roster_notify(rn, net, ROSTER_CMD_VPN_NEW_NTF, vpn, NULL, -1,
			      &created_st);
	}
	roster_changed(rn, vpn, st.gen);
	roster_notify(rn, net, old ? ROSTER_CMD_MEMBER_UPDATED_NTF :
		      ROSTER_CMD_MEMBER_JOINED_NTF, vpn, m, -1, &st);
	err = roster_put_change(msg, vpn);
	mutex_unlock(&rn->lock);
	return roster_reply_send(msg, hdr, err, info);

undo:
	if (created)
		roster_vpn_delete(rn, vpn);
unlock:
	mutex_unlock(&rn->lock);
	nlmsg_free(msg);
	roster_member_put(m);
	return err;
}

int roster_nl_member_leave_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	u32 reason = ROSTER_LEAVE_REASON_REQUESTED;
	struct roster_stamp st, del_st;
	struct roster_member *m;
	struct roster_vpn *vpn;
	struct roster_key key;
	struct sk_buff *msg;
	u32 flags;
	void *hdr;
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing") ||
	    ROSTER_REQUIRE(info, ROSTER_A_MEMBER, "member missing"))
		return -EINVAL;
	flags = roster_get_flags(info, ROSTER_FLAGS_DELETE_EMPTY |
				 ROSTER_FLAGS_RESYNC, extack, &err);
	if (err)
		return err;
	roster_stamp_parse(&st, info, flags);
	if (st.stamped && (flags & ROSTER_FLAGS_DELETE_EMPTY)) {
		/* the deletion would be a second, unstamped change */
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[ROSTER_A_FLAGS],
				    "roster: delete-empty cannot be stamped: stamp a vpn-del");
		return -EINVAL;
	}
	if (info->attrs[ROSTER_A_REASON])
		reason = nla_get_u32(info->attrs[ROSTER_A_REASON]);
	err = roster_parse_key(&key, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]),
			       info->attrs[ROSTER_A_MEMBER], extack);
	if (err)
		return err;
	msg = roster_reply_new(info, ROSTER_CMD_MEMBER_LEAVE, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	mutex_lock(&rn->lock);
	vpn = roster_vpn_find(rn, info);
	err = vpn ? roster_stamp_check(&st, vpn, extack) : -ENOENT;
	if (err)
		goto unlock;
	m = roster_member_lookup(rn, &key);
	if (!m) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[ROSTER_A_MEMBER],
				    "roster: no such member");
		err = -ENOENT;
		goto unlock;
	}
	/* notify while the table still holds its reference to m */
	roster_changed(rn, vpn, st.gen);
	roster_notify(rn, net, ROSTER_CMD_MEMBER_LEFT_NTF, vpn, m, reason, &st);
	roster_member_remove(rn, vpn, m);
	roster_plant_uaf(m);
	err = roster_put_change(msg, vpn);
	if (!vpn->nmembers && (flags & ROSTER_FLAGS_DELETE_EMPTY)) {
		del_st = (struct roster_stamp){ .gen = vpn->generation + 1 };
		roster_vpn_delete_notify(rn, net, vpn, &del_st);
	}
	mutex_unlock(&rn->lock);
	return roster_reply_send(msg, hdr, err, info);

unlock:
	mutex_unlock(&rn->lock);
	nlmsg_free(msg);
	return err;
}

int __init roster_nl_register(void)
{
	return genl_register_family(&roster_nl_family);
}

void roster_nl_unregister(void)
{
	genl_unregister_family(&roster_nl_family);
}
