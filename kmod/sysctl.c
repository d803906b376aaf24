// SPDX-License-Identifier: GPL-2.0
/*
 * roster: the table's limits, per network namespace, as sysctls
 * (net.roster.max_vpns, net.roster.max_members), so that the administrator
 * of each namespace sets its own at run time.
 */

#include <linux/slab.h>
#include <linux/sysctl.h>
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
