// SPDX-License-Identifier: GPL-2.0-or-later
/* roster member { add | replace | del | show | join | leave | help } */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster-cli.h"

enum {
	A_VPN = 1 << 0,
	A_ID = 1 << 1,
	A_KEY = 1 << 2,
	A_ENDPOINT = 1 << 3,
	A_ALLOWED = 1 << 4,
	A_REASON = 1 << 5,
	A_DELEMPTY = 1 << 6,
	A_GEN = 1 << 7,
	A_RESYNC = 1 << 8,
	A_JGEN = 1 << 9,
	A_JTIME = 1 << 10,
};
#define A_STAMP (A_GEN | A_RESYNC)
#define A_STORE (A_VPN | A_ID | A_KEY | A_ENDPOINT | A_ALLOWED | A_STAMP | A_JGEN | A_JTIME)
#define A_REMOVE (A_VPN | A_ID | A_REASON | A_DELEMPTY | A_STAMP)

static const struct keyword {
	const char *word;
	unsigned int bit;
} keywords[] = {
	{ "vpn", A_VPN },
	{ "id", A_ID },
	{ "key", A_KEY },
	{ "public-key", A_KEY },
	{ "endpoint", A_ENDPOINT },
	{ "allowed", A_ALLOWED },
	{ "allowed-ips", A_ALLOWED },
	{ "reason", A_REASON },
	{ "delete-empty", A_DELEMPTY },
	{ "generation", A_GEN },
	{ "resync", A_RESYNC },
	{ "join-generation", A_JGEN },
	{ "join-time", A_JTIME },
	{ NULL, 0 },
};

struct margs {
	unsigned int seen;
	uint32_t vpn;
	struct roster_member m;
	enum roster_reason reason;
	uint64_t stamp;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster member { add | replace | join } vpn ID id ADDR key BASE64\n"
		"                      [ endpoint ENDPOINT ] [ allowed PREFIX[,PREFIX...] ]...\n"
		"                      [ STAMP [ join-generation N ] [ join-time SECONDS ] ]\n"
		"       roster member { del | leave } vpn ID id ADDR [ reason REASON ]\n"
		"                      [ delete-empty ] [ STAMP ]\n"
		"       roster member show [ vpn ID [ id ADDR ] ]\n"
		"       roster member help\n"
		"where  ID := 1..4294967295\n"
		"       ADDR := { IPV4 | IPV6 }\n"
		"       BASE64 := WireGuard public key (44 characters)\n"
		"       ENDPOINT := { IPV4:PORT | [IPV6]:PORT }\n"
		"       PREFIX := ADDR[/LEN]  (no host bits set; at most %d)\n"
		"       REASON := { requested | admin | expired }\n"
		"       STAMP := generation N [ resync ]  (N: the generation the change makes)\n"
		"add stores a new member only; replace (or join) stores a new member or\n"
		"replaces the record of an existing one; del (or leave) removes one.\n",
		ROSTER_PREFIX_MAX);
}

static int add_prefixes(struct margs *a, char *list)
{
	char *save = NULL, *tok;
	unsigned int i;

	if (!*list || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		return usage_error(list, "invalid prefix");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct roster_prefix p;
		const char *why;

		if (roster_prefix_parse(tok, &p, &why))
			return usage_error(tok, why);
		for (i = 0; i < a->m.n_prefixes; i++) {
			if (!memcmp(&a->m.prefixes[i], &p, sizeof(p)))
				return usage_error(tok, "duplicate prefix");
		}
		if (a->m.n_prefixes >= ROSTER_PREFIX_MAX) {
			char why2[64];

			snprintf(why2, sizeof(why2), "too many prefixes (at most %d)",
				 ROSTER_PREFIX_MAX);
			return usage_error(tok, why2);
		}
		a->m.prefixes[a->m.n_prefixes++] = p;
	}
	return 0;
}

static unsigned int keyword_bit(const char *w)
{
	const struct keyword *k;

	for (k = keywords; k->word; k++)
		if (!strcmp(w, k->word))
			return k->bit;
	return 0;
}

static int parse_args(int argc, char **argv, unsigned int allowed, struct margs *a)
{
	memset(a, 0, sizeof(*a));
	while (argc > 0) {
		const char *w = argv[0];
		unsigned int bit = keyword_bit(w);

		if (!(bit & allowed))
			return usage_error(w, "unknown keyword");
		if ((a->seen & bit) && bit != A_ALLOWED)
			return dup_arg(w);
		a->seen |= bit;
		if (bit == A_DELEMPTY || bit == A_RESYNC) {
			argc--;
			argv++;
			continue;
		}
		NEXT_ARG();
		switch (bit) {
		case A_VPN:
			if (roster_vpn_id_parse(argv[0], &a->vpn))
				return usage_error(argv[0], "invalid VPN id (1..4294967295)");
			break;
		case A_ID:
			if (roster_addr_parse(argv[0], &a->m.id))
				return usage_error(argv[0], "invalid id address (IPv4 or IPv6)");
			break;
		case A_KEY:
			if (roster_key_parse(argv[0], a->m.key))
				return usage_error(argv[0], "invalid key (base64, 32 bytes)");
			a->m.has_key = true;
			break;
		case A_ENDPOINT:
			if (roster_endpoint_parse(argv[0], &a->m.endpoint, &a->m.port))
				return usage_error(argv[0],
						   "invalid endpoint (IPV4:PORT or [IPV6]:PORT, port 1..65535)");
			a->m.has_endpoint = true;
			break;
		case A_ALLOWED:
			if (add_prefixes(a, argv[0]))
				return -1;
			break;
		case A_REASON:
			if (roster_reason_parse(argv[0], &a->reason))
				return usage_error(argv[0],
						   "invalid reason (requested, admin or expired)");
			break;
		case A_GEN:
			if (roster_generation_parse(argv[0], &a->stamp))
				return usage_error(argv[0],
						   "invalid generation (1..18446744073709551615)");
			break;
		case A_JGEN:
			if (roster_generation_parse(argv[0], &a->m.join_generation))
				return usage_error(argv[0],
						   "invalid join-generation (1..18446744073709551615)");
			break;
		case A_JTIME:
			if (roster_generation_parse(argv[0], &a->m.join_time))
				return usage_error(argv[0],
						   "invalid join-time (seconds since the epoch)");
			break;
		}
		argc--;
		argv++;
	}
	/* A restore's fields and resync belong to a stamped change. */
	if (!(a->seen & A_GEN)) {
		if (a->seen & A_RESYNC)
			return usage_error("resync", "only with \"generation N\"");
		if (a->seen & A_JGEN)
			return usage_error("join-generation", "only with \"generation N\"");
		if (a->seen & A_JTIME)
			return usage_error("join-time", "only with \"generation N\"");
	} else if (a->m.join_generation > a->stamp) {
		return usage_error("join-generation", "above the change's generation");
	}
	return 0;
}

static unsigned int change_flags(const struct margs *a)
{
	unsigned int f = 0;

	if (a->seen & A_RESYNC)
		f |= ROSTER_F_RESYNC;
	if (a->seen & A_DELEMPTY)
		f |= ROSTER_F_DELETE_EMPTY;
	return f;
}

/* add (create_only) and replace/join */
static int member_store(int argc, char **argv, bool create_only, const char *what)
{
	struct roster_change c;
	struct roster_handle *h;
	struct margs a;
	int err;

	if (parse_args(argc, argv, A_STORE, &a))
		return -1;
	if (!(a.seen & A_VPN))
		return missing("vpn");
	if (!(a.seen & A_ID))
		return missing("id");
	if (!(a.seen & A_KEY))
		return missing("key");
	h = get_handle();
	if (!h)
		return -1;
	err = roster_member_add(h, a.vpn, &a.m,
				change_flags(&a) | (create_only ? ROSTER_F_CREATE_ONLY : 0),
				a.stamp, &c);
	if (err)
		return kernel_member_error(h, err, what, &a.m);
	if (opt_echo)
		print_change(&c);
	return 0;
}

static int member_remove(int argc, char **argv, const char *what)
{
	struct roster_change c;
	struct roster_handle *h;
	struct margs a;
	int err;

	if (parse_args(argc, argv, A_REMOVE, &a))
		return -1;
	if (!(a.seen & A_VPN))
		return missing("vpn");
	if (!(a.seen & A_ID))
		return missing("id");
	h = get_handle();
	if (!h)
		return -1;
	err = roster_member_del(h, a.vpn, &a.m.id, a.reason, change_flags(&a), a.stamp, &c);
	if (err)
		return kernel_error(h, err, what);
	if (opt_echo)
		print_change(&c);
	return 0;
}

static void print_listed(uint32_t vpn, const struct roster_member *m)
{
	open_json_object(NULL);
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", vpn);
	print_member_fields(m, false);
	close_json_object();
	print_nl();
}

static int member_show(int argc, char **argv)
{
	struct roster_member_set *sets = NULL;
	struct roster_handle *h;
	size_t n = 0, i;
	struct margs a;
	uint32_t j;
	int err;

	if (parse_args(argc, argv, A_VPN | A_ID, &a))
		return -1;
	if ((a.seen & A_ID) && !(a.seen & A_VPN))
		return missing("vpn");
	h = get_handle();
	if (!h)
		return -1;
	if (a.seen & A_ID) {
		struct roster_member m;

		err = roster_member_get(h, a.vpn, &a.m.id, &m, NULL);
		if (err)
			return kernel_error(h, err, "member show");
		open_json_array(PRINT_JSON, NULL);
		print_listed(a.vpn, &m);
		close_json_array(PRINT_JSON, NULL);
		return 0;
	}
	err = roster_member_list(h, (a.seen & A_VPN) ? a.vpn : 0, &sets, &n);
	if (err)
		return kernel_error(h, err, "member show");
	open_json_array(PRINT_JSON, NULL);
	for (i = 0; i < n; i++)
		for (j = 0; j < sets[i].count; j++)
			print_listed(sets[i].vpn_id, &sets[i].members[j]);
	close_json_array(PRINT_JSON, NULL);
	roster_member_sets_free(sets, n);
	return 0;
}

int do_member(int argc, char **argv)
{
	const char *cmd;

	if (argc < 1)
		return member_show(0, NULL);
	cmd = argv[0];
	if (!strcmp(cmd, "add"))
		return member_store(argc - 1, argv + 1, true, "member add");
	/* join and leave: the mission's words for replace and del */
	if (!strcmp(cmd, "replace") || !strcmp(cmd, "join"))
		return member_store(argc - 1, argv + 1, false, "member replace");
	if (!strcmp(cmd, "del") || !strcmp(cmd, "delete") || !strcmp(cmd, "leave"))
		return member_remove(argc - 1, argv + 1, "member del");
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list"))
		return member_show(argc - 1, argv + 1);
	if (matches_help(cmd)) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "Command \"%s\" is unknown, try \"roster member help\".\n", cmd);
	return -1;
}
