// SPDX-License-Identifier: GPL-2.0-or-later
/* roster member { join | leave | show } vpn ID [ dev ADDR ] ... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster-cli.h"

enum {
	A_VPN = 1 << 0,
	A_DEV = 1 << 1,
	A_KEY = 1 << 2,
	A_ENDPOINT = 1 << 3,
	A_ALLOWED = 1 << 4,
	A_EXCL = 1 << 5,
	A_REASON = 1 << 6,
	A_DELEMPTY = 1 << 7,
};

struct margs {
	unsigned int seen;
	uint32_t vpn;
	struct roster_member m;
	enum roster_reason reason;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster member join vpn ID dev ADDR key BASE64 [ endpoint ENDPOINT ]\n"
		"                          [ allowed PREFIX[,PREFIX...] ]... [ excl ]\n"
		"       roster member leave vpn ID dev ADDR [ reason REASON ] [ delete-empty ]\n"
		"       roster member show [ vpn ID [ dev ADDR ] ]\n"
		"       roster member help\n"
		"where  ID := 1..4294967295\n"
		"       ADDR := { IPV4 | IPV6 }\n"
		"       BASE64 := WireGuard public key (44 characters)\n"
		"       ENDPOINT := { IPV4:PORT | [IPV6]:PORT }\n"
		"       PREFIX := ADDR[/LEN]  (no host bits set; at most %d)\n"
		"       REASON := { requested | admin | expired }\n",
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

static int parse_args(int argc, char **argv, unsigned int allowed, struct margs *a)
{
	memset(a, 0, sizeof(*a));
	while (argc > 0) {
		const char *w = argv[0];
		unsigned int bit;

		if (!strcmp(w, "vpn"))
			bit = A_VPN;
		else if (!strcmp(w, "dev"))
			bit = A_DEV;
		else if (!strcmp(w, "key") || !strcmp(w, "public-key"))
			bit = A_KEY;
		else if (!strcmp(w, "endpoint"))
			bit = A_ENDPOINT;
		else if (!strcmp(w, "allowed") || !strcmp(w, "allowed-ips"))
			bit = A_ALLOWED;
		else if (!strcmp(w, "excl"))
			bit = A_EXCL;
		else if (!strcmp(w, "reason"))
			bit = A_REASON;
		else if (!strcmp(w, "delete-empty"))
			bit = A_DELEMPTY;
		else
			bit = 0;
		if (!(bit & allowed))
			return usage_error(w, "unknown keyword");
		if ((a->seen & bit) && bit != A_ALLOWED)
			return dup_arg(w);
		a->seen |= bit;
		if (bit == A_EXCL || bit == A_DELEMPTY) {
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
		case A_DEV:
			if (roster_addr_parse(argv[0], &a->m.dev))
				return usage_error(argv[0], "invalid dev address (IPv4 or IPv6)");
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
		}
		argc--;
		argv++;
	}
	return 0;
}

static void print_set(const struct roster_member_set *s)
{
	uint32_t i;

	open_json_object(NULL);
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", s->vpn_id);
	print_u64(PRINT_ANY, "generation", "generation %llu ", s->generation);
	print_uint(PRINT_ANY, "member_count", "members %u", s->count);
	print_nl();
	open_json_array(PRINT_JSON, "members");
	for (i = 0; i < s->count; i++) {
		open_json_object(NULL);
		print_string(PRINT_FP, NULL, "    ", NULL);
		print_member_fields(&s->members[i], false);
		close_json_object();
		print_nl();
	}
	close_json_array(PRINT_JSON, NULL);
	close_json_object();
}

static int member_join(int argc, char **argv)
{
	struct roster_member_set *set = NULL;
	struct roster_handle *h;
	struct margs a;
	int err;

	if (parse_args(argc, argv, A_VPN | A_DEV | A_KEY | A_ENDPOINT | A_ALLOWED | A_EXCL, &a))
		return -1;
	if (!(a.seen & A_VPN))
		return missing("vpn");
	if (!(a.seen & A_DEV))
		return missing("dev");
	if (!(a.seen & A_KEY))
		return missing("key");
	h = get_handle();
	if (!h)
		return -1;
	/* -q: the kernel need not build a reply nobody prints */
	err = roster_member_join(h, a.vpn, &a.m,
				 ((a.seen & A_EXCL) ? ROSTER_JOIN_EXCL : 0) |
				 (opt_quiet ? ROSTER_JOIN_NO_MEMBERS : 0),
				 opt_quiet ? NULL : &set);
	if (err)
		return kernel_error(h, err, "member join");
	if (set)
		print_set(set);
	roster_member_set_free(set);
	return 0;
}

static int member_leave(int argc, char **argv)
{
	struct roster_member_set *set = NULL;
	struct roster_handle *h;
	struct margs a;
	int err;

	if (parse_args(argc, argv, A_VPN | A_DEV | A_REASON | A_DELEMPTY, &a))
		return -1;
	if (!(a.seen & A_VPN))
		return missing("vpn");
	if (!(a.seen & A_DEV))
		return missing("dev");
	h = get_handle();
	if (!h)
		return -1;
	err = roster_member_leave(h, a.vpn, &a.m.dev, a.reason,
				  ((a.seen & A_DELEMPTY) ? ROSTER_LEAVE_DELETE_EMPTY : 0) |
				  (opt_quiet ? ROSTER_LEAVE_NO_MEMBERS : 0),
				  opt_quiet ? NULL : &set);
	if (err)
		return kernel_error(h, err, "member leave");
	if (set)
		print_set(set);
	roster_member_set_free(set);
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

	if (parse_args(argc, argv, A_VPN | A_DEV, &a))
		return -1;
	if ((a.seen & A_DEV) && !(a.seen & A_VPN))
		return missing("vpn");
	h = get_handle();
	if (!h)
		return -1;
	if (a.seen & A_DEV) {
		struct roster_member m;

		err = roster_member_get(h, a.vpn, &a.m.dev, &m, NULL);
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
	if (argc < 1)
		return member_show(0, NULL);
	if (!strcmp(argv[0], "join"))
		return member_join(argc - 1, argv + 1);
	if (!strcmp(argv[0], "leave"))
		return member_leave(argc - 1, argv + 1);
	if (!strcmp(argv[0], "show") || !strcmp(argv[0], "list"))
		return member_show(argc - 1, argv + 1);
	if (matches_help(argv[0])) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "Command \"%s\" is unknown, try \"roster member help\".\n", argv[0]);
	return -1;
}
