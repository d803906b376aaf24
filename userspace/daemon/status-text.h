/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd status: the text form of a status document (status-text.c).
 * `rosterd status` prints either the JSON itself (-j) or this rendering
 * of it, so the two always say the same thing. The layout follows
 * `wg show`: a heading line per object, indented "key: value" lines.
 */
#ifndef RD_STATUS_TEXT_H
#define RD_STATUS_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* A manager's or a gateway's document (mgr-status.h, gw-status.h). */
void status_text_print(FILE *f, json_t *doc);
/* "1 hour, 2 minutes, 3 seconds ago", "now", "never" (then 0), like wg. */
void status_text_ago(char *buf, size_t len, uint64_t then, uint64_t now);
/* "1.50 KiB", as wg prints transfer. */
void status_text_bytes(char *buf, size_t len, uint64_t bytes);

#endif /* RD_STATUS_TEXT_H */
