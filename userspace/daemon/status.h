/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd status: the command (status.c). It asks the daemon of the
 * configuration's state directory over its control socket (ctl-sock.h)
 * and, if none listens, reads the state itself; then prints the one
 * document, as JSON (-j) or as text (status-text.h).
 */
#ifndef RD_STATUS_H
#define RD_STATUS_H

#include <stdbool.h>

#include "config.h"

/* 0, or -errno after saying why on stderr. */
int rd_cmd_status(const struct rd_config *c, enum rd_role role, bool json);

#endif /* RD_STATUS_H */
