/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd gateway: what `rosterd status` shows (gw-status.c), as one JSON
 * document whether the daemon answers or only its state is there; the
 * keys are described in Documentation/rosterd.rst ("status"). Everything
 * comes from the identity, the configuration, the gateway's own roster.ko
 * table and WireGuard, so the daemon and the offline reader share it all.
 */
#ifndef RD_GW_STATUS_H
#define RD_GW_STATUS_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "gw-failover.h"
#include "state.h"

struct roster_handle;

/* What the running daemon hands the control socket (ctl_sock_fn arg). */
struct gw_status_src {
	const struct rd_config *c;
	const struct rd_identity *id;
	struct roster_handle *rh;	/* the gateway's table; NULL: unavailable */
	/* Which manager the daemon talks to; NULL (no daemon): the one it
	 * starts with (gw_ctl_first). */
	const struct gw_failover *fo;
};

json_t *gw_status_json(const struct gw_status_src *s, long pid);
/* The control socket's request handler (arg: a struct gw_status_src). */
json_t *gw_status_request(const char *req, void *arg);
/* No daemon: the same from the state (the identity must exist). */
json_t *gw_status_offline(const struct rd_config *c, char *err, size_t errlen);

#endif /* RD_GW_STATUS_H */
