// SPDX-License-Identifier: GPL-2.0
/*
 * roster: VPN membership tables for site-to-site WireGuard meshes.
 *
 * Each network namespace holds its own table; the generic netlink family
 * "roster" reads and changes it and announces every change.
 */

#include <linux/module.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "netlink.h"
#include "table.h"

static unsigned int roster_net_id __read_mostly;

struct roster_net *roster_net(const struct net *net)
{
	return net_generic(net, roster_net_id);
}

static int __net_init roster_pernet_init(struct net *net)
{
	struct roster_net *rn = roster_net(net);
	int err;

	err = roster_net_init(rn, net->ns.inum);
	if (err)
		return err;
	err = roster_sysctl_register(net, rn);
	if (err)
		roster_net_exit(rn);
	return err;
}

static void __net_exit roster_pernet_exit(struct net *net)
{
	struct roster_net *rn = roster_net(net);

	roster_sysctl_unregister(rn);
	roster_net_exit(rn);
}

static struct pernet_operations roster_pernet_ops = {
	.init = roster_pernet_init,
	.exit = roster_pernet_exit,
	.id = &roster_net_id,
	.size = sizeof(struct roster_net),
};

static int __init roster_init(void)
{
	int err;

	err = roster_table_init();
	if (err)
		return err;
	err = register_pernet_subsys(&roster_pernet_ops);
	if (err)
		goto err_table;
	/* last: from here on userspace can reach us */
	err = roster_nl_register();
	if (err)
		goto err_pernet;
	pr_info("loaded: uAPI version %u\n", ROSTER_FAMILY_VERSION);
	return 0;

err_pernet:
	unregister_pernet_subsys(&roster_pernet_ops);
err_table:
	roster_table_exit();
	return err;
}

static void __exit roster_exit(void)
{
	roster_nl_unregister();
	unregister_pernet_subsys(&roster_pernet_ops);
	roster_table_exit();
}

module_init(roster_init);
module_exit(roster_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VPN membership tables for site-to-site WireGuard meshes");
MODULE_AUTHOR("roster developers");
MODULE_ALIAS_GENL_FAMILY(ROSTER_FAMILY_NAME);
