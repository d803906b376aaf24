/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/roster.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_ROSTER_GEN_H
#define _LINUX_ROSTER_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/roster.h>

/* Common nested types */
extern const struct nla_policy roster_member_nl_policy[ROSTER_A_MEMBER_PAD + 1];
extern const struct nla_policy roster_prefix_nl_policy[ROSTER_A_PREFIX_LEN + 1];

extern const struct nla_policy roster_vpn_new_nl_policy[ROSTER_A_VPN_FLAGS + 1];

extern const struct nla_policy roster_vpn_del_nl_policy[ROSTER_A_GENERATION + 1];

extern const struct nla_policy roster_vpn_get_nl_policy[ROSTER_A_VPN_ID + 1];

extern const struct nla_policy roster_member_join_nl_policy[ROSTER_A_MEMBER + 1];

extern const struct nla_policy roster_member_leave_nl_policy[ROSTER_A_REASON + 1];

extern const struct nla_policy roster_member_get_nl_policy[ROSTER_A_MEMBER + 1];

extern const struct nla_policy roster_vpn_set_nl_policy[ROSTER_A_VPN_FLAGS + 1];

/* Ops table for roster */
extern const struct genl_ops roster_nl_ops[7];

int roster_nl_vpn_new_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_vpn_del_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_vpn_get_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_vpn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int roster_nl_member_join_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_member_leave_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_member_get_doit(struct sk_buff *skb, struct genl_info *info);
int roster_nl_member_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int roster_nl_vpn_set_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	ROSTER_NLGRP_NOTIFY,
};

extern const struct genl_multicast_group roster_nl_mcgrps[1];

#endif /* _LINUX_ROSTER_GEN_H */
