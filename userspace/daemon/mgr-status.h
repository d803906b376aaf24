/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd manager: what `rosterd status` shows (mgr-status.c), as one JSON
 * document whether the daemon answers or only its state is there; the
 * keys are described in Documentation/rosterd.rst ("status").
 */
#ifndef RD_MGR_STATUS_H
#define RD_MGR_STATUS_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

struct mgr;

/* The running manager: the VPNs as roster.ko holds them (the daemon keeps
 * them equal to the store), the gateways as it knows them. */
json_t *mgr_status_json(struct mgr *m);
/* The control socket's request handler (ctl_sock_fn; arg: the struct mgr). */
json_t *mgr_status_request(const char *req, void *arg);
/* No daemon: the same from the store and rctl0, role "stopped". NULL and
 * err on failure (no store yet, not readable). */
json_t *mgr_status_offline(const struct rd_config *c, char *err, size_t errlen);

#endif /* RD_MGR_STATUS_H */
