// SPDX-License-Identifier: GPL-2.0-or-later
/* roster vpn { add | set | del | show | help } */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster-cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster vpn add ID [ follower ] [ nested-prefixes ] [ generation N ]\n"
		"       roster vpn set ID [ { follower | nofollower } ] [ generation N [ resync ] ]\n"
		"       roster vpn del ID [ generation N ]\n"
		"       roster vpn show [ ID ]\n"
		"       roster vpn help\n"
		"where  ID := 1..4294967295\n"
		"       N := 1..18446744073709551615, the generation the change makes\n"
		"follower: only changes stamped with a generation apply to the VPN;\n"
		"nested-prefixes: members' prefixes may nest (never be equal).\n"
		"vpn set moves a VPN's generation to N, or sets or clears its follower mark\n"
		"(nofollower promotes a follower: it takes unstamped changes again).\n");
}

enum {
	V_FOLLOWER = 1 << 0,
	V_NESTED = 1 << 1,
	V_GEN = 1 << 2,
	V_NOFOLLOWER = 1 << 3,
	V_RESYNC = 1 << 4,
};

struct vargs {
	unsigned int seen;
	uint32_t id;
	uint64_t stamp;
};

/* [ id ] ID, then the keywords in allowed, in any order. */
static int parse_args(int argc, char **argv, bool id_required, unsigned int allowed,
		      struct vargs *a)
{
	memset(a, 0, sizeof(*a));
	if (argc <= 0) {
		if (id_required)
			return missing("ID");
		return 0;
	}
	/* "id ID" as well as "ID", like iproute2's optional keywords */
	if (!strcmp(argv[0], "id"))
		NEXT_ARG();
	if (roster_vpn_id_parse(argv[0], &a->id))
		return usage_error(argv[0], "invalid VPN id (1..4294967295)");
	argc--;
	argv++;
	while (argc > 0) {
		const char *w = argv[0];
		unsigned int bit = !strcmp(w, "follower") ? V_FOLLOWER :
				   !strcmp(w, "nofollower") ? V_NOFOLLOWER :
				   !strcmp(w, "nested-prefixes") ? V_NESTED :
				   !strcmp(w, "generation") ? V_GEN :
				   !strcmp(w, "resync") ? V_RESYNC : 0;

		if (!(bit & allowed))
			return usage_error(w, "unknown keyword");
		if (a->seen & bit)
			return dup_arg(w);
		if ((bit & (V_FOLLOWER | V_NOFOLLOWER)) &&
		    (a->seen & (V_FOLLOWER | V_NOFOLLOWER)))
			return usage_error(w, "either follower or nofollower");
		a->seen |= bit;
		if (bit == V_GEN) {
			NEXT_ARG();
			if (roster_generation_parse(argv[0], &a->stamp))
				return usage_error(argv[0],
						   "invalid generation (1..18446744073709551615)");
		}
		argc--;
		argv++;
	}
	if ((a->seen & V_RESYNC) && !(a->seen & V_GEN))
		return usage_error("resync", "only with \"generation N\"");
	return 0;
}

static int vpn_add(int argc, char **argv)
{
	struct roster_handle *h;
	struct roster_vpn v;
	struct vargs a;
	uint32_t flags = 0;
	int err;

	if (parse_args(argc, argv, true, V_FOLLOWER | V_NESTED | V_GEN, &a))
		return -1;
	if (a.seen & V_FOLLOWER)
		flags |= ROSTER_VPN_F_FOLLOWER;
	if (a.seen & V_NESTED)
		flags |= ROSTER_VPN_F_NESTED_PREFIXES;
	h = get_handle();
	if (!h)
		return -1;
	err = roster_vpn_create(h, a.id, flags, a.stamp, &v);
	if (err)
		return kernel_error(h, err, "vpn add");
	if (opt_echo) {
		print_vpn(&v);
		print_nl();
	}
	return 0;
}

static int vpn_set(int argc, char **argv)
{
	struct roster_handle *h;
	struct roster_vpn v, cur;
	uint32_t vflags;
	struct vargs a;
	int err;

	if (parse_args(argc, argv, true, V_FOLLOWER | V_NOFOLLOWER | V_GEN | V_RESYNC, &a))
		return -1;
	if (!(a.seen & (V_FOLLOWER | V_NOFOLLOWER | V_GEN))) {
		fprintf(stderr, "Error: nothing to change: give \"follower\", \"nofollower\" or \"generation N\".\n");
		return -1;
	}
	h = get_handle();
	if (!h)
		return -1;
	if (a.seen & (V_FOLLOWER | V_NOFOLLOWER)) {
		/* the kernel takes the whole set: keep nested-prefixes as is */
		err = roster_vpn_get(h, a.id, &cur);
		if (err)
			return kernel_error(h, err, "vpn set");
		vflags = cur.flags & ~ROSTER_VPN_F_FOLLOWER;
		if (a.seen & V_FOLLOWER)
			vflags |= ROSTER_VPN_F_FOLLOWER;
	}
	err = roster_vpn_set(h, a.id, a.stamp, (a.seen & V_RESYNC) ? ROSTER_F_RESYNC : 0,
			     (a.seen & (V_FOLLOWER | V_NOFOLLOWER)) ? &vflags : NULL, &v);
	if (err)
		return kernel_error(h, err, "vpn set");
	if (opt_echo) {
		print_vpn(&v);
		print_nl();
	}
	return 0;
}

static int vpn_del(int argc, char **argv)
{
	struct roster_handle *h;
	struct vargs a;
	int err;

	if (parse_args(argc, argv, true, V_GEN, &a))
		return -1;
	h = get_handle();
	if (!h)
		return -1;
	err = roster_vpn_delete(h, a.id, a.stamp);
	if (err)
		return kernel_error(h, err, "vpn del");
	return 0;
}

static int vpn_show(int argc, char **argv)
{
	struct roster_handle *h;
	struct roster_vpn *vpns = NULL, one;
	size_t n = 0, i;
	struct vargs a;
	int err;

	if (parse_args(argc, argv, false, 0, &a))
		return -1;
	h = get_handle();
	if (!h)
		return -1;
	if (a.id) {
		err = roster_vpn_get(h, a.id, &one);
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
	if (!strcmp(argv[0], "set"))
		return vpn_set(argc - 1, argv + 1);
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
