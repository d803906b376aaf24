// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/roster.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "roster-nl-gen.h"

#include <uapi/linux/roster.h>

/* Common nested types */
const struct nla_policy roster_member_nl_policy[ROSTER_A_MEMBER_PAD + 1] = {
	[ROSTER_A_MEMBER_ID_IPV4] = { .type = NLA_U32, },
	[ROSTER_A_MEMBER_ID_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[ROSTER_A_MEMBER_PUBLIC_KEY] = NLA_POLICY_EXACT_LEN(ROSTER_KEY_LEN),
	[ROSTER_A_MEMBER_ENDPOINT_IPV4] = { .type = NLA_U32, },
	[ROSTER_A_MEMBER_ENDPOINT_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[ROSTER_A_MEMBER_ENDPOINT_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[ROSTER_A_MEMBER_PREFIX] = NLA_POLICY_NESTED(roster_prefix_nl_policy),
	[ROSTER_A_MEMBER_JOIN_TIME] = { .type = NLA_U64, },
	[ROSTER_A_MEMBER_JOIN_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
};

const struct nla_policy roster_prefix_nl_policy[ROSTER_A_PREFIX_LEN + 1] = {
	[ROSTER_A_PREFIX_IPV4] = { .type = NLA_U32, },
	[ROSTER_A_PREFIX_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[ROSTER_A_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

/* ROSTER_CMD_VPN_NEW - do */
const struct nla_policy roster_vpn_new_nl_policy[ROSTER_A_VPN_FLAGS + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
	[ROSTER_A_VPN_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x3),
};

/* ROSTER_CMD_VPN_DEL - do */
const struct nla_policy roster_vpn_del_nl_policy[ROSTER_A_GENERATION + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
};

/* ROSTER_CMD_VPN_GET - do */
const struct nla_policy roster_vpn_get_nl_policy[ROSTER_A_VPN_ID + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* ROSTER_CMD_MEMBER_JOIN - do */
const struct nla_policy roster_member_join_nl_policy[ROSTER_A_MEMBER + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
	[ROSTER_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x7),
	[ROSTER_A_MEMBER] = NLA_POLICY_NESTED(roster_member_nl_policy),
};

/* ROSTER_CMD_MEMBER_LEAVE - do */
const struct nla_policy roster_member_leave_nl_policy[ROSTER_A_REASON + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
	[ROSTER_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x7),
	[ROSTER_A_REASON] = NLA_POLICY_MAX(NLA_U32, 2),
	[ROSTER_A_MEMBER] = NLA_POLICY_NESTED(roster_member_nl_policy),
};

/* ROSTER_CMD_MEMBER_GET - do */
const struct nla_policy roster_member_get_nl_policy[ROSTER_A_MEMBER + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_MEMBER] = NLA_POLICY_NESTED(roster_member_nl_policy),
};

/* ROSTER_CMD_VPN_SET - do */
const struct nla_policy roster_vpn_set_nl_policy[ROSTER_A_VPN_FLAGS + 1] = {
	[ROSTER_A_VPN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[ROSTER_A_GENERATION] = NLA_POLICY_MIN(NLA_U64, 1),
	[ROSTER_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x7),
	[ROSTER_A_VPN_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x3),
};

/* Ops table for roster */
const struct genl_ops roster_nl_ops[7] = {
	{
		.cmd		= ROSTER_CMD_VPN_NEW,
		.doit		= roster_nl_vpn_new_doit,
		.policy		= roster_vpn_new_nl_policy,
		.maxattr	= ROSTER_A_VPN_FLAGS,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_VPN_DEL,
		.doit		= roster_nl_vpn_del_doit,
		.policy		= roster_vpn_del_nl_policy,
		.maxattr	= ROSTER_A_GENERATION,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_VPN_GET,
		.doit		= roster_nl_vpn_get_doit,
		.dumpit		= roster_nl_vpn_get_dumpit,
		.policy		= roster_vpn_get_nl_policy,
		.maxattr	= ROSTER_A_VPN_ID,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_MEMBER_JOIN,
		.doit		= roster_nl_member_join_doit,
		.policy		= roster_member_join_nl_policy,
		.maxattr	= ROSTER_A_MEMBER,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_MEMBER_LEAVE,
		.doit		= roster_nl_member_leave_doit,
		.policy		= roster_member_leave_nl_policy,
		.maxattr	= ROSTER_A_REASON,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_MEMBER_GET,
		.doit		= roster_nl_member_get_doit,
		.dumpit		= roster_nl_member_get_dumpit,
		.policy		= roster_member_get_nl_policy,
		.maxattr	= ROSTER_A_MEMBER,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= ROSTER_CMD_VPN_SET,
		.doit		= roster_nl_vpn_set_doit,
		.policy		= roster_vpn_set_nl_policy,
		.maxattr	= ROSTER_A_VPN_FLAGS,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
};

const struct genl_multicast_group roster_nl_mcgrps[] = {
	[ROSTER_NLGRP_NOTIFY] = {
		.name = "notify",
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};
