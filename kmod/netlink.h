/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ROSTER_NETLINK_H
#define _ROSTER_NETLINK_H

#include <linux/init.h>

int __init roster_nl_register(void);
void roster_nl_unregister(void);

#endif /* _ROSTER_NETLINK_H */
