/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: configuration (config.c). */
#ifndef RD_CONFIG_H
#define RD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"
#include "etcd-http.h"

#define RD_MAX_VPNS 256

struct rd_vpn_conf {
	uint32_t id;
	uint16_t listen_port;
	uint16_t keepalive;		/* persistent keepalive of the peers, s */
	/* manager: a member silent this long is removed (reason expired);
	 * 0: never (mgr-expire.c) */
	uint32_t expire_after;
	char ifname[IFNAMSIZ];
	unsigned int n_prefixes;
	struct roster_prefix prefixes[ROSTER_PREFIX_MAX];
};

/* [manager] endpoint-check: a JOIN_REQ's endpoint must be the address its
 * control tunnel comes from (pinned, the default), or is taken as given. */
enum rd_endpoint_check { RD_ENDPOINT_PINNED, RD_ENDPOINT_ANY };

struct rd_config {
	bool has_manager, has_gateway;
	int log_level;			/* -1: not set */
	unsigned int retry_ms;
	/* [manager] */
	uint16_t listen_port;
	bool has_endpoint;
	struct roster_addr endpoint;	/* manager: reachable at; gateway: own */
	/* gateway: endpoint = auto, the manager announces the address its
	 * control tunnel comes from (mgr-roam.c); has_endpoint is false */
	bool endpoint_auto;
	struct roster_addr control_addr;
	struct roster_prefix control_prefix;
	uint16_t control_port;
	/* Bounds per gateway (Documentation/security.rst, "Flooding the
	 * manager"): requests per second and their burst (rate 0: no
	 * limit), and the send queue to one peer, KiB. */
	unsigned int request_rate, request_burst, peer_queue_kib;
	char ifname[IFNAMSIZ];
	char state_dir[256];
	enum rd_endpoint_check endpoint_check;
	/* store = etcd (else SQLite in state_dir) and its etcd-* options */
	bool store_etcd;
	bool has_etcd_opts;
	struct rd_etcd_conf etcd;
	/* [manager] name: this manager among several (the leader's name in
	 * the store; default the control address), and the leader lease's
	 * TTL, s (mgr-lead.h). */
	char name[64];
	unsigned int lease_ttl;
	/* [manager] etcd-move-leader: while leading, keep etcd's raft
	 * leader off the member of this host (etcd-raft.h). */
	bool etcd_move_leader;
	/* [manager] and [gateway]: the Prometheus textfile (metrics.h;
	 * empty: none) and how often it is rewritten, s. */
	char metrics_file[256];
	unsigned int metrics_interval;
	/* [gateway] */
	bool leave_on_exit;
	unsigned int sync_interval;	/* s between SYNC_REQs; 0: never */
	unsigned long key_lifetime;	/* s a key is used before rotating; 0: off */
	unsigned int n_vpns;
	struct rd_vpn_conf vpns[RD_MAX_VPNS];
};

#define RD_LEASE_TTL_MIN 2u
#define RD_LEASE_TTL_MAX 60u
#define RD_LEASE_TTL_DEFAULT 5u

#define RD_KEY_LIFETIME_MIN 10ul
#define RD_KEY_LIFETIME_MAX (3650ul * 86400)

enum rd_role { RD_ROLE_MANAGER, RD_ROLE_GATEWAY };

/* Parse text (NUL-terminated) for role. On error returns -EINVAL and
 * writes "line N: what" to err. */
int rd_config_parse(const char *text, enum rd_role role, struct rd_config *c,
		    char *err, size_t errlen);
/* "off" (0), or N with an optional unit s, m, h or d (seconds, else -EINVAL). */
int rd_duration_parse(const char *s, uint32_t *secs);
int rd_config_load(const char *path, enum rd_role role, struct rd_config *c,
		   char *err, size_t errlen);

#endif /* RD_CONFIG_H */
