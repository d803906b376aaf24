/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef ROSTER_CLI_H
#define ROSTER_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "roster.h"
#include "json_print.h"

#define ROSTER_CLI_VERSION "2.0"

/* -t: a "Timestamp:" line before each monitor event; -ts: a short one at
 * the start of the line (as ip -t / ip -ts). */
enum ts_mode { TS_NONE, TS_LONG, TS_SHORT };

extern bool opt_json, opt_pretty, opt_echo;
extern enum ts_mode opt_timestamp;
extern const char *opt_netns;
extern int opt_rcvbuf;

/* Opened on first use (in opt_netns if set), reused for a whole batch.
 * Prints the error and returns NULL on failure. */
struct roster_handle *get_handle(void);

/* All return 0 on success, -1 after printing an error to stderr. */
int do_vpn(int argc, char **argv);
int do_member(int argc, char **argv);
int do_monitor(int argc, char **argv);

int usage_error(const char *arg, const char *why);
int incomplete(void);
int missing(const char *what);
int dup_arg(const char *word);
/* Kernel failure: prints "Error: <extack>." or "Error: WHAT: <strerror>.",
 * plus the VPN's generation if the kernel reported it and its message
 * does not say it. */
int kernel_error(struct roster_handle *h, int err, const char *what);
/* The same after roster_member_add(h, .., m, ..): names the prefix of m
 * the kernel refused, if its message does not. */
int kernel_member_error(struct roster_handle *h, int err, const char *what,
			const struct roster_member *m);

/* Argument helpers. */
#define NEXT_ARG() do { argc--; argv++; if (argc <= 0) return incomplete(); } while (0)
bool matches_help(const char *s);

/* Shared printers. */
void print_vpn(const struct roster_vpn *v);
/* The VPN flags: " follower nested-prefixes" / "flags": [...]. */
void print_vpn_flags(uint32_t flags);
/* The reply to a member change (printed with -echo). */
void print_change(const struct roster_change *c);
/* Prints the member's fields into the current JSON object / text line.
 * brief: the id only. */
void print_member_fields(const struct roster_member *m, bool brief);
void print_time(const char *key, const char *label, uint64_t t);

#endif
