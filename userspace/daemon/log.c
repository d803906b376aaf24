// SPDX-License-Identifier: GPL-2.0-or-later
/* rosterd: logging to stderr, "rosterd[role]: LEVEL: message". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "config.h"

int rd_log_level = RD_LOG_INFO;
static const char *rd_role = "rosterd";

static const char *const level_names[] = {
	[RD_LOG_ERROR] = "error",
	[RD_LOG_WARN] = "warn",
	[RD_LOG_INFO] = "info",
	[RD_LOG_DEBUG] = "debug",
};

void rd_log_init(const char *role)
{
	rd_role = role;
}

int rd_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i]))
			return (int)i;
	if (!strcmp(s, "warning"))
		return RD_LOG_WARN;
	return -1;
}

void rd_log(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > rd_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent daemons do not interleave. The
	 * journal stamps lines itself; test harnesses that merge several
	 * daemons' logs ask for a monotonic stamp to order them. */
	if (getenv("ROSTERD_LOG_TIME")) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%5lld.%03ld] rosterd[%s]: %s: %s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, rd_role, level_names[level], buf);
	} else {
		fprintf(stderr, "rosterd[%s]: %s: %s\n", rd_role, level_names[level], buf);
	}
	fflush(stderr);
}
