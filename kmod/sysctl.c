// SPDX-License-Identifier: GPL-2.0
/*
 * roster: the table's limits, per network namespace, as sysctls
 * (net.roster.max_vpns, net.roster.max_members), so that the administrator
 * of each namespace sets its own at run time. In a namespace of another
 * user namespace than the initial one, they are capped by the initial
 * namespace's: whoever can make a user namespace must not raise them.
 */

#include <linux/slab.h>
#include <linux/sysctl.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>

#include "table.h"

static struct ctl_table roster_sysctl_template[] = {
	{
		.procname	= "max_vpns",
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= SYSCTL_ONE,
		.extra2		= SYSCTL_INT_MAX,
	},
	{
		.procname	= "max_members",
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= SYSCTL_ONE,
		.extra2		= SYSCTL_INT_MAX,
	},
	{ }
};

int roster_sysctl_register(struct net *net, struct roster_net *rn)
{
	struct ctl_table *table;

	table = kmemdup(roster_sysctl_template, sizeof(roster_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	table[0].data = &rn->max_vpns;
	table[1].data = &rn->max_members;
	if (net->user_ns != &init_user_ns) {
		rn->cap = roster_net(&init_net);
		table[0].extra2 = (void *)&rn->cap->max_vpns;
		table[1].extra2 = (void *)&rn->cap->max_members;
		rn->max_vpns = roster_max_vpns(rn);
		rn->max_members = roster_max_members(rn);
	}
#ifdef ROSTER_HAVE_REGISTER_NET_SYSCTL_SZ
	rn->sysctl = register_net_sysctl_sz(net, "net/roster", table,
					    ARRAY_SIZE(roster_sysctl_template) - 1);
#else
	rn->sysctl = register_net_sysctl(net, "net/roster", table);
#endif
	if (!rn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void roster_sysctl_unregister(struct roster_net *rn)
{
	const struct ctl_table *table = rn->sysctl->ctl_table_arg;

	unregister_net_sysctl_table(rn->sysctl);
	kfree(table);
}
