// SPDX-License-Identifier: GPL-2.0
/*
 * roster: generic netlink handlers.
 *
 * The policies and the ops table come from roster-nl-gen.c, generated from
 * Documentation/netlink/specs/roster.yaml. This file holds what a policy
 * cannot say: which attributes a command needs, address lengths, prefix
 * sanity and the table limits.
 */

#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "netlink.h"
#include "roster-nl-gen.h"
#include "table.h"

static const struct genl_multicast_group roster_mcgrps[] = {
	[ROSTER_NLGRP_NOTIFY] = {
		.name = ROSTER_MCGRP_NOTIFY,
		/* events reveal the membership: same privilege as reading it */
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family roster_nl_family __ro_after_init = {
	.name = ROSTER_FAMILY_NAME,
	.version = ROSTER_FAMILY_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = roster_nl_ops,
	.n_ops = ARRAY_SIZE(roster_nl_ops),
	/*
	 * The core rejects NLM_F_EXCL on commands at or above resv_start_op,
	 * but MEMBER_JOIN takes it, as rtnetlink users expect: the commands
	 * below check their header themselves (roster_check_header()).
	 */
	.resv_start_op = ROSTER_CMD_MEMBER_JOIN + 1,
	.mcgrps = roster_mcgrps,
	.n_mcgrps = ARRAY_SIZE(roster_mcgrps),
};

/* A required attribute: the kernel's missing-attribute TLVs plus a message. */
#define ROSTER_REQUIRE(info, attr, msg) ({				\
	struct genl_info *__ri = (info);				\
	bool __missing = GENL_REQ_ATTR_CHECK(__ri, attr);		\
	if (__missing)							\
		NL_SET_ERR_MSG_MOD(__ri->extack, msg);		\
	__missing;							\
})

#define ROSTER_REQUIRE_NESTED(extack, nest, tb, attr, msg) ({		\
	struct netlink_ext_ack *__rx = (extack);			\
	bool __missing = NL_REQ_ATTR_CHECK(__rx, nest, tb, attr);	\
	if (__missing)							\
		NL_SET_ERR_MSG_MOD(__rx, msg);			\
	__missing;							\
})

/*
 * What the genetlink core checks for commands from resv_start_op on, with
 * @extra allowed on top: unknown or ambiguous netlink flags are an error.
 */
static int roster_check_header(const struct nlmsghdr *nlh, u16 extra,
			       struct netlink_ext_ack *extack)
{
	const struct genlmsghdr *gnlh = nlmsg_data(nlh);
	u16 flags = nlh->nlmsg_flags;

	if (gnlh->reserved) {
		NL_SET_ERR_MSG_MOD(extack, "genlmsghdr.reserved field is not 0");
		return -EINVAL;
	}
	if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
		flags &= ~NLM_F_DUMP;
	if (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | extra)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "ambiguous or reserved bits set in nlmsg_flags");
		return -EINVAL;
	}
	return 0;
}

static struct nlattr **roster_dump_attrs(struct netlink_callback *cb)
{
#ifdef ROSTER_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

static int roster_parse_addr(struct roster_addr *addr, const struct nlattr *nla,
			     struct netlink_ext_ack *extack)
{
	int len = nla_len(nla);

	if (len != 4 && len != 16) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "roster: address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	memset(addr, 0, sizeof(*addr));
	addr->len = len;
	memcpy(addr->bytes, nla_data(nla), len);
	return 0;
}

static int roster_parse_prefix(struct roster_prefix *p, const struct nlattr *nest,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[ROSTER_A_PREFIX_MAX + 1];
	unsigned int i, bits;
	int err;

	err = nla_parse_nested(tb, ROSTER_A_PREFIX_MAX, nest,
			       roster_prefix_nl_policy, extack);
	if (err)
		return err;
	if (ROSTER_REQUIRE_NESTED(extack, nest, tb, ROSTER_A_PREFIX_ADDR,
				  "prefix needs an address") ||
	    ROSTER_REQUIRE_NESTED(extack, nest, tb, ROSTER_A_PREFIX_LEN,
				  "prefix needs a length"))
		return -EINVAL;
	err = roster_parse_addr(&p->addr, tb[ROSTER_A_PREFIX_ADDR], extack);
	if (err)
		return err;
	p->plen = nla_get_u8(tb[ROSTER_A_PREFIX_LEN]);
	bits = p->addr.len * 8;
	if (p->plen > bits) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ROSTER_A_PREFIX_LEN],
				    "roster: prefix length too long for the address family");
		return -EINVAL;
	}
	/* Like ip route: 10.0.0.1/24 is a typo, not 10.0.0.0/24. */
	for (i = p->plen; i < bits; i++) {
		if (p->addr.bytes[i / 8] & (0x80 >> (i % 8))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[ROSTER_A_PREFIX_ADDR],
					    "roster: prefix has host bits set");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Parse the member nest of a JOIN into a new, unpublished member. The key's
 * vpn_id is filled by the caller.
 */
static struct roster_member *roster_parse_member(const struct nlattr *nest,
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
	if (ROSTER_REQUIRE_NESTED(extack, nest, tb, ROSTER_A_MEMBER_DEV,
				  "member needs a device identifier (dev)") ||
	    ROSTER_REQUIRE_NESTED(extack, nest, tb, ROSTER_A_MEMBER_PUBLIC_KEY,
				  "member needs a public key"))
		return ERR_PTR(-EINVAL);
	if (tb[ROSTER_A_MEMBER_JOIN_TIME] || tb[ROSTER_A_MEMBER_JOIN_GENERATION]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ROSTER_A_MEMBER_JOIN_TIME] ?:
				    tb[ROSTER_A_MEMBER_JOIN_GENERATION],
				    "roster: join time and generation are set by the kernel");
		return ERR_PTR(-EINVAL);
	}
	if (!tb[ROSTER_A_MEMBER_ENDPOINT_ADDR] != !tb[ROSTER_A_MEMBER_ENDPOINT_PORT]) {
		NL_SET_ERR_MSG_MOD(extack,
				   "endpoint needs both an address and a port");
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
	err = roster_parse_addr(&m->key.dev, tb[ROSTER_A_MEMBER_DEV], extack);
	if (err)
		goto err;
	nla_memcpy(m->public_key, tb[ROSTER_A_MEMBER_PUBLIC_KEY],
		   ROSTER_KEY_LEN);
	if (tb[ROSTER_A_MEMBER_ENDPOINT_ADDR]) {
		err = roster_parse_addr(&m->endpoint,
					tb[ROSTER_A_MEMBER_ENDPOINT_ADDR], extack);
		if (err)
			goto err;
		m->port = nla_get_u16(tb[ROSTER_A_MEMBER_ENDPOINT_PORT]);
	}
	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) != ROSTER_A_MEMBER_PREFIX)
			continue;
		err = roster_parse_prefix(&m->prefixes[m->nprefixes], attr,
					  extack);
		if (err)
			goto err;
		for (i = 0; i < m->nprefixes; i++) {
			if (!memcmp(&m->prefixes[i], &m->prefixes[m->nprefixes],
				    sizeof(struct roster_prefix))) {
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

/* The member nest of LEAVE and GET names a member by its dev only. */
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
	if (ROSTER_REQUIRE_NESTED(extack, nest, tb, ROSTER_A_MEMBER_DEV,
				  "member needs a device identifier (dev)"))
		return -EINVAL;
	for (type = 1; type <= ROSTER_A_MEMBER_MAX; type++) {
		if (type != ROSTER_A_MEMBER_DEV && tb[type]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[type],
					    "roster: only dev names a member here");
			return -EINVAL;
		}
	}
	memset(key, 0, sizeof(*key));
	key->vpn_id = vpn_id;
	return roster_parse_addr(&key->dev, tb[ROSTER_A_MEMBER_DEV], extack);
}

static int roster_put_addr(struct sk_buff *skb, int type,
			   const struct roster_addr *addr)
{
	return nla_put(skb, type, addr->len, addr->bytes);
}

static int roster_put_member(struct sk_buff *skb, const struct roster_member *m,
			     bool brief)
{
	struct nlattr *nest, *pnest;
	unsigned int i;

	nest = nla_nest_start(skb, ROSTER_A_MEMBER);
	if (!nest)
		return -EMSGSIZE;
	if (roster_put_addr(skb, ROSTER_A_MEMBER_DEV, &m->key.dev))
		goto cancel;
	if (brief)
		goto out;
	if (nla_put(skb, ROSTER_A_MEMBER_PUBLIC_KEY, ROSTER_KEY_LEN,
		    m->public_key))
		goto cancel;
	if (m->port &&
	    (roster_put_addr(skb, ROSTER_A_MEMBER_ENDPOINT_ADDR, &m->endpoint) ||
	     nla_put_u16(skb, ROSTER_A_MEMBER_ENDPOINT_PORT, m->port)))
		goto cancel;
	for (i = 0; i < m->nprefixes; i++) {
		pnest = nla_nest_start(skb, ROSTER_A_MEMBER_PREFIX);
		if (!pnest ||
		    roster_put_addr(skb, ROSTER_A_PREFIX_ADDR,
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
			      ROSTER_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/*
 * Notifications are built and sent under the writer lock, so listeners see
 * them in generation order.
 */
static void roster_notify(struct roster_net *rn, struct net *net, u8 cmd,
			  const struct roster_vpn *vpn,
			  const struct roster_member *m, int reason)
{
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
	else
		err = roster_put_vpn_head(msg, vpn->id, vpn->generation);
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

int roster_nl_vpn_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_vpn *vpn;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = roster_check_header(info->nlhdr, 0, info->extack);
	if (err)
		return err;
	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	msg = roster_reply_new(info, ROSTER_CMD_VPN_NEW, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	mutex_lock(&rn->lock);
	vpn = roster_vpn_create(rn, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]),
				info->extack);
	if (IS_ERR(vpn)) {
		mutex_unlock(&rn->lock);
		nlmsg_free(msg);
		return PTR_ERR(vpn);
	}
	roster_notify(rn, net, ROSTER_CMD_VPN_NEW_NTF, vpn, NULL, -1);
	err = roster_put_vpn(msg, vpn, 0);
	mutex_unlock(&rn->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Caller holds rn->lock. Sends the one vpn-del-ntf a deletion produces. */
static void roster_vpn_delete_notify(struct roster_net *rn, struct net *net,
				     struct roster_vpn *vpn)
{
	roster_changed(rn, vpn);
	roster_notify(rn, net, ROSTER_CMD_VPN_DEL_NTF, vpn, NULL, -1);
	roster_vpn_delete(rn, vpn);
}

int roster_nl_vpn_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct roster_net *rn = roster_net(net);
	struct roster_vpn *vpn;
	int err;

	err = roster_check_header(info->nlhdr, 0, info->extack);
	if (err)
		return err;
	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	mutex_lock(&rn->lock);
	vpn = roster_vpn_lookup(rn, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]));
	if (!vpn) {
		mutex_unlock(&rn->lock);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ROSTER_A_VPN_ID],
				    "roster: no such VPN");
		return -ENOENT;
	}
	roster_vpn_delete_notify(rn, net, vpn);
	mutex_unlock(&rn->lock);
	return 0;
}

int roster_nl_vpn_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct roster_net *rn = roster_net(genl_info_net(info));
	struct roster_vpn *vpn;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = roster_check_header(info->nlhdr, 0, info->extack);
	if (err)
		return err;
	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing"))
		return -EINVAL;
	msg = roster_reply_new(info, ROSTER_CMD_VPN_GET, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	rcu_read_lock();
	vpn = roster_vpn_lookup(rn, nla_get_u32(info->attrs[ROSTER_A_VPN_ID]));
	err = vpn ? roster_put_vpn(msg, vpn, READ_ONCE(vpn->nmembers)) : -ENOENT;
	rcu_read_unlock();
	if (err) {
		if (err == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[ROSTER_A_VPN_ID],
					    "roster: no such VPN");
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int roster_nl_vpn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct roster_net *rn = roster_net(sock_net(skb->sk));
	struct roster_vpn *vpn;
	unsigned long id;
	void *hdr;
	int err;

	if (!cb->args[1]) {
		cb->args[1] = 1;
		err = roster_check_header(cb->nlh, 0, cb->extack);
		if (err)
			return err;
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
	struct roster_member *m;
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
	vpn = roster_vpn_lookup(rn, key.vpn_id);
	m = vpn ? roster_member_lookup(rn, &key) : NULL;
	if (!vpn) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ROSTER_A_VPN_ID],
				    "roster: no such VPN");
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
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
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

int roster_nl_member_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct roster_net *rn = roster_net(sock_net(skb->sk));
	unsigned long filter, id, slot;
	struct roster_member *m;
	struct roster_vpn *vpn;
	int err = 0;
	void *hdr;

	rcu_read_lock();
	if (!cb->args[ROSTER_DUMP_STARTED]) {
		cb->args[ROSTER_DUMP_STARTED] = 1;
		err = roster_member_dump_filter(cb, rn);
		if (err)
			goto out;
	}
	filter = cb->args[ROSTER_DUMP_FILTER];
	cb->seq = READ_ONCE(rn->change_seq);
	xa_for_each_start(&rn->vpns, id, vpn, cb->args[ROSTER_DUMP_VPN]) {
		if (filter && id != filter)
			break;
		xa_for_each_start(&vpn->members, slot, m,
				  cb->args[ROSTER_DUMP_SLOT]) {
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &roster_nl_family,
					  NLM_F_MULTI, ROSTER_CMD_MEMBER_GET);
			if (!hdr)
				goto out;
			genl_dump_check_consistent(cb, hdr);
			if (roster_put_vpn_head(skb, vpn->id,
						READ_ONCE(vpn->generation)) ||
			    roster_put_member(skb, m, false)) {
				genlmsg_cancel(skb, hdr);
				goto out;
			}
			genlmsg_end(skb, hdr);
			cb->args[ROSTER_DUMP_SLOT] = slot + 1;
		}
		cb->args[ROSTER_DUMP_VPN] = id + 1;
		cb->args[ROSTER_DUMP_SLOT] = 0;
	}
out:
	rcu_read_unlock();
	return err ?: skb->len;
}

/*
 * JOIN and LEAVE answer with a member set, in the same multi-part form
 * whatever its size: NLM_F_MULTI messages, then NLMSG_DONE.
 *
 * A set that fits in one small skb (the common case: a VPN of a few dozen
 * sites) is built under the writer lock together with the change and sent
 * from the doit. A larger one (100 000 members and more) cannot be queued
 * at once: the change and a snapshot of the set are then taken in the
 * .start of a netlink dump that the doit opens on the requester's socket,
 * so the reply streams at the pace the requester reads it, and a change
 * whose reply cannot be started changes nothing.
 */

/* Replies built in the doit: at most this many members, one small skb. */
#define ROSTER_DIRECT_MEMBERS	32

struct roster_set {
	u32 vpn_id;
	u8 cmd;
	bool head_sent;
	u64 generation;
	u32 total;	/* member-count: the set's size, sent or not */
	u32 cap, count, pos;
	struct roster_member *members[];
};

struct roster_change {
	struct genl_info *info;
	struct net *net;
	u8 cmd;
	u32 vpn_id;
	u32 flags;
	int (*apply)(struct roster_change *c, bool direct);
	/* JOIN */
	struct roster_member *m;
	bool excl;
	/* LEAVE */
	struct roster_key key;
	u32 reason;
	/* the reply: built in the doit (direct) or streamed from a dump */
	struct sk_buff *msg;
	struct roster_set *set;
	/* the change is applied, its reply is on the way */
	bool applied;
};

static size_t roster_member_nlsize(const struct roster_member *m)
{
	size_t size = nla_total_size(0) + nla_total_size(m->key.dev.len) +
		      nla_total_size(ROSTER_KEY_LEN) +
		      2 * nla_total_size_64bit(sizeof(u64));
	unsigned int i;

	if (m->port)
		size += nla_total_size(m->endpoint.len) +
			nla_total_size(sizeof(u16));
	for (i = 0; i < m->nprefixes; i++)
		size += nla_total_size(0) +
			nla_total_size(m->prefixes[i].addr.len) +
			nla_total_size(sizeof(u8));
	return size;
}

/*
 * Caller holds rn->lock. Allocate the direct reply for the members of @vpn
 * (may be NULL: a VPN about to be created) but @skip, or fail with
 * -EMSGSIZE when it would not fit one small skb.
 */
static int roster_direct_alloc(struct roster_change *c, struct roster_vpn *vpn,
			       const struct roster_member *skip)
{
	size_t size = nla_total_size(sizeof(u32)) +
		      nla_total_size_64bit(sizeof(u64)) +
		      nla_total_size(sizeof(u32)) +
		      nlmsg_total_size(sizeof(int));	/* NLMSG_DONE */
	struct roster_member *m;
	unsigned long slot;

	if (vpn && !(c->flags & ROSTER_FLAGS_NO_MEMBERS)) {
		if (vpn->nmembers > ROSTER_DIRECT_MEMBERS)
			return -EMSGSIZE;
		xa_for_each(&vpn->members, slot, m) {
			if (m != skip)
				size += roster_member_nlsize(m);
		}
	}
	if (size > NLMSG_GOODSIZE - GENL_HDRLEN - NLMSG_HDRLEN)
		return -EMSGSIZE;
	c->msg = genlmsg_new(size, GFP_KERNEL);
	return c->msg ? 0 : -ENOMEM;
}

/* Caller holds rn->lock: the whole reply, sized by roster_direct_alloc(). */
static void roster_direct_fill(struct roster_change *c, struct roster_vpn *vpn,
			       const struct roster_member *skip, u32 total)
{
	u32 portid = c->info->snd_portid, seq = c->info->snd_seq;
	struct sk_buff *msg = c->msg;
	struct roster_member *m;
	struct nlmsghdr *done;
	unsigned long slot;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &roster_nl_family, NLM_F_MULTI,
			  c->cmd);
	if (WARN_ON_ONCE(!hdr) ||
	    WARN_ON_ONCE(roster_put_vpn_head(msg, vpn->id, vpn->generation) ||
			 nla_put_u32(msg, ROSTER_A_MEMBER_COUNT, total)))
		goto drop;
	if (!(c->flags & ROSTER_FLAGS_NO_MEMBERS)) {
		xa_for_each(&vpn->members, slot, m) {
			if (m != skip &&
			    WARN_ON_ONCE(roster_put_member(msg, m, false)))
				goto drop;
		}
	}
	genlmsg_end(msg, hdr);
	done = nlmsg_put(msg, portid, seq, NLMSG_DONE, sizeof(int), NLM_F_MULTI);
	if (WARN_ON_ONCE(!done))
		goto drop;
	*(int *)nlmsg_data(done) = 0;
	return;
drop:
	/* cannot happen: the size was computed under the same lock */
	nlmsg_free(msg);
	c->msg = NULL;
}

static struct roster_set *roster_set_alloc(u32 vpn_id, u32 total, u32 flags,
					   u8 cmd)
{
	u32 cap = flags & ROSTER_FLAGS_NO_MEMBERS ? 0 : total;
	struct roster_set *set;

	set = kvzalloc(struct_size(set, members, cap), GFP_KERNEL);
	if (set) {
		set->vpn_id = vpn_id;
		set->cmd = cmd;
		set->total = total;
		set->cap = cap;
	}
	return set;
}

/* Caller holds rn->lock: take a reference on every member but @skip. */
static void roster_set_fill(struct roster_set *set, struct roster_vpn *vpn,
			    const struct roster_member *skip)
{
	struct roster_member *m;
	unsigned long slot;

	set->generation = vpn->generation;
	if (!set->cap)
		return;
	xa_for_each(&vpn->members, slot, m) {
		if (m == skip || WARN_ON_ONCE(set->count >= set->cap))
			continue;
		roster_member_get(m);
		set->members[set->count++] = m;
	}
}

/* Caller holds rn->lock: room for the reply, direct or snapshot. */
static int roster_reply_alloc(struct roster_change *c, struct roster_vpn *vpn,
			      const struct roster_member *skip, u32 total,
			      bool direct)
{
	if (direct)
		return roster_direct_alloc(c, vpn, skip);
	c->set = roster_set_alloc(c->vpn_id, total, c->flags, c->cmd);
	return c->set ? 0 : -ENOMEM;
}

static void roster_reply_fill(struct roster_change *c, struct roster_vpn *vpn,
			      const struct roster_member *skip, u32 total)
{
	if (c->msg)
		roster_direct_fill(c, vpn, skip, total);
	else
		roster_set_fill(c->set, vpn, skip);
}

static void roster_reply_free(struct roster_change *c)
{
	nlmsg_free(c->msg);
	c->msg = NULL;
	kvfree(c->set);
	c->set = NULL;
}

static int roster_set_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct roster_set *set = cb->data;
	u32 first = set->pos;
	void *hdr;

	if (set->head_sent && set->pos == set->count)
		return 0;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &roster_nl_family, NLM_F_MULTI, set->cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (roster_put_vpn_head(skb, set->vpn_id, set->generation) ||
	    (!set->head_sent &&
	     nla_put_u32(skb, ROSTER_A_MEMBER_COUNT, set->total))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	set->head_sent = true;
	while (set->pos < set->count &&
	       !roster_put_member(skb, set->members[set->pos], false))
		set->pos++;
	/*
	 * A member always fits in an empty skb. Should one not, fail with an
	 * empty skb: the core would take -EMSGSIZE with data for "more".
	 */
	if (set->pos == first && set->pos < set->count) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return set->pos < set->count ? skb->len : 0;
}

static int roster_set_done(struct netlink_callback *cb)
{
	struct roster_set *set = cb->data;
	u32 i;

	for (i = 0; i < set->count; i++)
		roster_member_put(set->members[i]);
	kvfree(set);
	return 0;
}

static int roster_join_apply(struct roster_change *c, bool direct)
{
	struct netlink_ext_ack *extack = c->info->extack;
	struct roster_net *rn = roster_net(c->net);
	struct roster_member *old = NULL, *m = c->m;
	bool created = false;
	struct roster_vpn *vpn;
	u32 total;
	int err;

	mutex_lock(&rn->lock);
	vpn = roster_vpn_lookup(rn, c->vpn_id);
	if (vpn)
		old = roster_member_lookup(rn, &m->key);
	if (old && c->excl) {
		NL_SET_ERR_MSG_MOD(extack, "member exists (NLM_F_EXCL)");
		err = -EEXIST;
		goto unlock;
	}
	if (vpn && !old && vpn->nmembers >= READ_ONCE(roster_max_members)) {
		NL_SET_ERR_MSG_MOD(extack, "VPN is full (max_members)");
		err = -ENOSPC;
		goto unlock;
	}
	total = vpn ? vpn->nmembers - !!old : 0;
	err = roster_reply_alloc(c, vpn, old, total, direct);
	if (err)
		goto unlock;
	if (!vpn) {
		/* the first joiner creates the VPN */
		vpn = roster_vpn_create(rn, c->vpn_id, extack);
		if (IS_ERR(vpn)) {
			err = PTR_ERR(vpn);
			goto free;
		}
		created = true;
	}

	m->join_time = ktime_get_real_seconds();
	m->join_gen = vpn->generation + 1;
	if (old) {
		roster_member_replace(rn, vpn, old, m);
	} else {
		err = roster_member_insert(rn, vpn, m);
		if (err)
			goto undo;
	}
	c->m = NULL;	/* the table owns it now */
	if (created)
		roster_notify(rn, c->net, ROSTER_CMD_VPN_NEW_NTF, vpn, NULL, -1);
	roster_changed(rn, vpn);
	roster_notify(rn, c->net, old ? ROSTER_CMD_MEMBER_UPDATED_NTF :
		      ROSTER_CMD_MEMBER_JOINED_NTF, vpn, m, -1);
	roster_reply_fill(c, vpn, m, total);
	mutex_unlock(&rn->lock);
	c->applied = true;
	return 0;

undo:
	if (created)
		roster_vpn_delete(rn, vpn);
free:
	roster_reply_free(c);
unlock:
	mutex_unlock(&rn->lock);
	return err;
}

static int roster_leave_apply(struct roster_change *c, bool direct)
{
	struct netlink_ext_ack *extack = c->info->extack;
	struct roster_net *rn = roster_net(c->net);
	struct roster_vpn *vpn;
	struct roster_member *m;
	u32 total;
	int err;

	mutex_lock(&rn->lock);
	vpn = roster_vpn_lookup(rn, c->vpn_id);
	m = vpn ? roster_member_lookup(rn, &c->key) : NULL;
	if (!m) {
		mutex_unlock(&rn->lock);
		if (vpn)
			NL_SET_ERR_MSG_ATTR(extack, c->info->attrs[ROSTER_A_MEMBER],
					    "roster: no such member");
		else
			NL_SET_ERR_MSG_ATTR(extack, c->info->attrs[ROSTER_A_VPN_ID],
					    "roster: no such VPN");
		return -ENOENT;
	}
	total = vpn->nmembers - 1;
	err = roster_reply_alloc(c, vpn, m, total, direct);
	if (err) {
		mutex_unlock(&rn->lock);
		return err;
	}
	/* notify while the table still holds its reference to m */
	roster_changed(rn, vpn);
	roster_notify(rn, c->net, ROSTER_CMD_MEMBER_LEFT_NTF, vpn, m, c->reason);
	roster_member_remove(rn, vpn, m);
	roster_reply_fill(c, vpn, NULL, total);
	if (!vpn->nmembers && (c->flags & ROSTER_FLAGS_DELETE_EMPTY))
		roster_vpn_delete_notify(rn, c->net, vpn);
	mutex_unlock(&rn->lock);
	c->applied = true;
	return 0;
}

static int roster_change_start(struct netlink_callback *cb)
{
	struct roster_change *c = cb->data;
	int err;

	err = c->apply(c, false);
	if (!err) {
		cb->data = c->set;
		c->set = NULL;
	}
	return err;
}

static int roster_change_run(struct sk_buff *skb, struct roster_change *c)
{
	struct netlink_dump_control ctl = {
		.start = roster_change_start,
		.dump = roster_set_dump,
		.done = roster_set_done,
		.data = c,
		.module = THIS_MODULE,
	};
	int err;

	err = c->apply(c, true);
	if (!err) {
		/*
		 * Like any unicast reply, it is dropped if the requester's
		 * receive buffer is full, which its socket reports as ENOBUFS.
		 */
		if (c->msg)
			genlmsg_unicast(c->net, c->msg, c->info->snd_portid);
		c->msg = NULL;
		/* NLMSG_DONE ended the reply: no ACK may follow it */
		return -EINTR;
	}
	if (err != -EMSGSIZE)
		return err;

	err = netlink_dump_start(c->net->genl_sock, skb, c->info->nlhdr, &ctl);
	/*
	 * Once applied, the reply is a dump: no ACK may follow it, even if the
	 * first part could not be queued yet (it is sent as the reader reads).
	 */
	return c->applied ? -EINTR : err;
}

int roster_nl_member_join_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct roster_change c = {
		.info = info,
		.net = genl_info_net(info),
		.cmd = ROSTER_CMD_MEMBER_JOIN,
		.apply = roster_join_apply,
		.excl = info->nlhdr->nlmsg_flags & NLM_F_EXCL,
	};
	int err;

	err = roster_check_header(info->nlhdr, NLM_F_EXCL, info->extack);
	if (err)
		return err;
	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing") ||
	    ROSTER_REQUIRE(info, ROSTER_A_MEMBER, "member missing"))
		return -EINVAL;
	c.vpn_id = nla_get_u32(info->attrs[ROSTER_A_VPN_ID]);
	if (info->attrs[ROSTER_A_FLAGS])
		c.flags = nla_get_u32(info->attrs[ROSTER_A_FLAGS]);
	if (c.flags & ROSTER_FLAGS_DELETE_EMPTY) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ROSTER_A_FLAGS],
				    "roster: delete-empty applies to member-leave only");
		return -EINVAL;
	}
	c.m = roster_parse_member(info->attrs[ROSTER_A_MEMBER], info->extack);
	if (IS_ERR(c.m))
		return PTR_ERR(c.m);
	c.m->key.vpn_id = c.vpn_id;
	err = roster_change_run(skb, &c);
	if (c.m)
		roster_member_put(c.m);
	return err;
}

int roster_nl_member_leave_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct roster_change c = {
		.info = info,
		.net = genl_info_net(info),
		.cmd = ROSTER_CMD_MEMBER_LEAVE,
		.apply = roster_leave_apply,
		.reason = ROSTER_LEAVE_REASON_REQUESTED,
	};
	int err;

	if (ROSTER_REQUIRE(info, ROSTER_A_VPN_ID, "VPN id missing") ||
	    ROSTER_REQUIRE(info, ROSTER_A_MEMBER, "member missing"))
		return -EINVAL;
	c.vpn_id = nla_get_u32(info->attrs[ROSTER_A_VPN_ID]);
	if (info->attrs[ROSTER_A_REASON])
		c.reason = nla_get_u32(info->attrs[ROSTER_A_REASON]);
	if (info->attrs[ROSTER_A_FLAGS])
		c.flags = nla_get_u32(info->attrs[ROSTER_A_FLAGS]);
	err = roster_parse_key(&c.key, c.vpn_id, info->attrs[ROSTER_A_MEMBER],
			       info->extack);
	if (err)
		return err;
	return roster_change_run(skb, &c);
}

int __init roster_nl_register(void)
{
	return genl_register_family(&roster_nl_family);
}

void roster_nl_unregister(void)
{
	genl_unregister_family(&roster_nl_family);
}
