/* SPDX-License-Identifier: GPL-2.0 */
/*
 * roster: bugs planted on purpose, to show that the debug kernel of
 * scripts/check-debug catches them (make check-debug PLANT=uaf or
 * PLANT=lock). Only -DROSTER_PLANT_UAF or -DROSTER_PLANT_LOCK, which only
 * that script passes, compiles them in: otherwise every hook is empty.
 */
#ifndef _ROSTER_PLANT_H
#define _ROSTER_PLANT_H

#include <linux/mutex.h>
#include <linux/rcupdate.h>

#include "table.h"

#ifdef ROSTER_PLANT_UAF
/*
 * MEMBER_LEAVE reads the member the table just dropped, after its RCU
 * callback freed it: KASAN reports a slab-use-after-free.
 */
static inline void roster_plant_uaf(const struct roster_member *m)
{
	rcu_barrier();
	if (READ_ONCE(m->nprefixes) > ROSTER_MAX_PREFIXES)
		pr_info("planted use-after-free read garbage\n");
}
#else
static inline void roster_plant_uaf(const struct roster_member *m) { }
#endif

#ifdef ROSTER_PLANT_LOCK
/*
 * MEMBER_JOIN takes this lock inside rn->lock, VPN_DEL around it: lockdep
 * reports the inversion as soon as both orders have been seen.
 */
static DEFINE_MUTEX(roster_plant_mutex);

static inline void roster_plant_lock_inner(void)
{
	mutex_lock(&roster_plant_mutex);
	mutex_unlock(&roster_plant_mutex);
}

static inline void roster_plant_lock_outer(void)
{
	mutex_lock(&roster_plant_mutex);
}

static inline void roster_plant_unlock_outer(void)
{
	mutex_unlock(&roster_plant_mutex);
}
#else
static inline void roster_plant_lock_inner(void) { }
static inline void roster_plant_lock_outer(void) { }
static inline void roster_plant_unlock_outer(void) { }
#endif

#endif /* _ROSTER_PLANT_H */
