/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rosterd: logging (log.c). */
#ifndef RD_LOG_H
#define RD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>

#include "roster.h"

enum rd_log_level { RD_LOG_ERROR, RD_LOG_WARN, RD_LOG_INFO, RD_LOG_DEBUG };

extern int rd_log_level;
void rd_log_init(const char *role);
int rd_log_level_parse(const char *s);
void rd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rd_err(...)   rd_log(RD_LOG_ERROR, __VA_ARGS__)
#define rd_warn(...)  rd_log(RD_LOG_WARN, __VA_ARGS__)
#define rd_info(...)  rd_log(RD_LOG_INFO, __VA_ARGS__)
#define rd_dbg(...)   rd_log(RD_LOG_DEBUG, __VA_ARGS__)

#endif /* RD_LOG_H */
