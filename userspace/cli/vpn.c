// SPDX-License-Identifier: GPL-2.0-or-later
/* roster vpn { add ID | del ID | show [ ID ] } */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster-cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster vpn add ID\n"
		"       roster vpn del ID\n"
		"       roster vpn show [ ID ]\n"
		"       roster vpn help\n"
		"where  ID := 1..4294967295\n");
}

static int parse_id(const char *s, uint32_t *id)
{
	if (roster_vpn_id_parse(s, id))
		return usage_error(s, "invalid VPN id (1..4294967295)");
	return 0;
}

/* Accept "ID" or "id ID" (like iproute2's optional keywords). */
static int get_id(int *argcp, char ***argvp, uint32_t *id, bool required)
{
	int argc = *argcp;
	char **argv = *argvp;

	if (argc <= 0) {
		if (required)
			return missing("ID");
		*id = 0;
		return 0;
	}
	if (!strcmp(argv[0], "id")) {
		NEXT_ARG();
	}
	if (parse_id(argv[0], id))
		return -1;
	argc--;
	argv++;
	if (argc > 0)
		return usage_error(argv[0], "unknown keyword");
	*argcp = argc;
	*argvp = argv;
	return 0;
}

static int vpn_add(int argc, char **argv)
{
	struct roster_handle *h;
	struct roster_vpn v;
	uint32_t id;
	int err;

	if (get_id(&argc, &argv, &id, true))
		return -1;
	h = get_handle();
	if (!h)
		return -1;
	err = roster_vpn_add(h, id, &v);
	if (err)
		return kernel_error(h, err, "vpn add");
	return 0;
}

static int vpn_del(int argc, char **argv)
{
	struct roster_handle *h;
	uint32_t id;
	int err;

	if (get_id(&argc, &argv, &id, true))
		return -1;
	h = get_handle();
	if (!h)
		return -1;
	err = roster_vpn_del(h, id);
	if (err)
		return kernel_error(h, err, "vpn del");
	return 0;
}

static int vpn_show(int argc, char **argv)
{
	struct roster_handle *h;
	struct roster_vpn *vpns = NULL, one;
	size_t n = 0, i;
	uint32_t id;
	int err;

	if (get_id(&argc, &argv, &id, false))
		return -1;
	h = get_handle();
	if (!h)
		return -1;
	if (id) {
		err = roster_vpn_get(h, id, &one);
		if (err)
			return kernel_error(h, err, "vpn show");
		vpns = &one;
		n = 1;
	} else {
		err = roster_vpn_list(h, &vpns, &n);
		if (err)
			return kernel_error(h, err, "vpn show");
	}
	open_json_array(PRINT_JSON, NULL);
	for (i = 0; i < n; i++) {
		print_vpn(&vpns[i]);
		print_nl();
	}
	close_json_array(PRINT_JSON, NULL);
	if (vpns != &one)
		free(vpns);
	return 0;
}

int do_vpn(int argc, char **argv)
{
	if (argc < 1)
		return vpn_show(0, NULL);
	if (!strcmp(argv[0], "add"))
		return vpn_add(argc - 1, argv + 1);
	if (!strcmp(argv[0], "del") || !strcmp(argv[0], "delete"))
		return vpn_del(argc - 1, argv + 1);
	if (!strcmp(argv[0], "show") || !strcmp(argv[0], "list"))
		return vpn_show(argc - 1, argv + 1);
	if (matches_help(argv[0])) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "Command \"%s\" is unknown, try \"roster vpn help\".\n", argv[0]);
	return -1;
}
