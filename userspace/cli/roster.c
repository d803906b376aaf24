// SPDX-License-Identifier: GPL-2.0-or-later
/* roster: manage the roster VPN membership table, iproute2 style.
 *
 *   roster [ OPTIONS ] OBJECT { COMMAND | help }
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roster-cli.h"

bool opt_json, opt_pretty, opt_echo;
enum ts_mode opt_timestamp;
const char *opt_netns;
int opt_rcvbuf;
static bool opt_force;
static const char *batch_file;
static struct roster_handle *handle;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roster [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"       roster [ -force ] -batch FILENAME\n"
		"where  OBJECT := { vpn | member | monitor }\n"
		"       OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -echo |\n"
		"                    -t[imestamp] | -ts[hort] | -n[etns] NAME |\n"
		"                    -b[atch] FILENAME | -force | -rcvbuf SIZE | -h[elp] }\n");
}

bool matches_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help") ||
	       !strcmp(s, "-help");
}

int usage_error(const char *arg, const char *why)
{
	fprintf(stderr, "Error: argument \"%s\" is wrong: %s\n", arg, why);
	return -1;
}

int incomplete(void)
{
	fprintf(stderr, "Command line is not complete. Try option \"help\"\n");
	return -1;
}

int missing(const char *what)
{
	fprintf(stderr, "Error: not enough information: \"%s\" argument is required.\n", what);
	return -1;
}

int dup_arg(const char *word)
{
	fprintf(stderr, "Error: duplicate \"%s\" argument.\n", word);
	return -1;
}

/* Said when the kernel gave no extack message. */
static const char *errno_text(int err)
{
	switch (-err) {
	case EALREADY: return "the change is old or a duplicate";
	case ESTALE: return "the change skips ahead of the VPN's generation";
	case EADDRINUSE: return "a prefix overlaps another member's";
	case ENOSPC: return "limit reached";
	}
	return strerror(-err);
}

/*
 * What the extack cookie says (the VPN's generation, or the member holding
 * a prefix), unless the message says it already: 6.12 formats it into the
 * text, 6.1 cannot and says "... is in the cookie". prefix: the request's
 * prefix the kernel refused, if known.
 */
static void cookie_text(struct roster_handle *h, const char *msg, const char *prefix,
			char *buf, size_t len)
{
	char addr[ROSTER_ADDR_STRLEN], needle[ROSTER_ADDR_STRLEN + 16];
	struct roster_addr holder;
	uint64_t gen = roster_err_generation(h);

	buf[0] = 0;
	if (gen) {
		snprintf(needle, sizeof(needle), "generation %llu", (unsigned long long)gen);
		if (!msg || !strstr(msg, needle))
			snprintf(buf, len, "the VPN is at generation %llu",
				 (unsigned long long)gen);
	} else if (!roster_err_holder(h, &holder)) {
		roster_addr_format(&holder, addr, sizeof(addr));
		snprintf(needle, sizeof(needle), "of %s", addr);
		if (msg && strstr(msg, needle)) {
			if (prefix && !strstr(msg, prefix))
				snprintf(buf, len, "prefix %s", prefix);
		} else if (prefix) {
			snprintf(buf, len, "%s overlaps member %s's", prefix, addr);
		} else {
			snprintf(buf, len, "member %s holds it", addr);
		}
	}
}

static int report(struct roster_handle *h, int err, const char *what, const char *prefix)
{
	const char *msg = roster_errmsg(h), *tail;
	char said[2 * ROSTER_ADDR_STRLEN + 32];
	int n;

	cookie_text(h, msg, prefix, said, sizeof(said));
	if (!msg) {
		fprintf(stderr, "Error: %s: %s%s%s.\n", what, errno_text(err),
			said[0] ? ": " : "", said);
		return -1;
	}
	/* Like ip: the kernel's extack message verbatim, but "...: the X is
	 * in the cookie" becomes what the cookie holds. */
	n = (int)strlen(msg);
	if (n && msg[n - 1] == '.')
		n--;
	tail = strstr(msg, " is in the cookie");
	if (said[0] && tail) {
		const char *clause = msg;
		const char *p;

		for (p = msg; p < tail; p++)
			if (p[0] == ':' && p[1] == ' ')
				clause = p;
		if (clause > msg)
			n = (int)(clause - msg);
		fprintf(stderr, "Error: %.*s: %s.\n", n, msg, said);
	} else if (said[0]) {
		fprintf(stderr, "Error: %.*s (%s).\n", n, msg, said);
	} else {
		fprintf(stderr, "Error: %.*s.\n", n, msg);
	}
	return -1;
}

int kernel_error(struct roster_handle *h, int err, const char *what)
{
	return report(h, err, what, NULL);
}

int kernel_member_error(struct roster_handle *h, int err, const char *what,
			const struct roster_member *m)
{
	int i = roster_err_prefix(h);
	char buf[ROSTER_ADDR_STRLEN];

	if (i < 0 || (unsigned int)i >= m->n_prefixes)
		return report(h, err, what, NULL);
	return report(h, err, what, roster_prefix_format(&m->prefixes[i], buf, sizeof(buf)));
}

struct roster_handle *get_handle(void)
{
	int err;

	if (handle)
		return handle;
	if (opt_netns)
		err = roster_open_netns(opt_netns, &handle);
	else
		err = roster_open(&handle);
	if (err) {
		handle = NULL;
		if (err == -ENOENT && opt_netns)
			fprintf(stderr, "Error: cannot open network namespace \"%s\": %s.\n",
				opt_netns, strerror(-err));
		else if (err == -ENOENT)
			fprintf(stderr, "Error: generic netlink family \"roster\" not found (is roster.ko loaded?).\n");
		else if (opt_netns && (err == -EPERM || err == -EINVAL))
			fprintf(stderr, "Error: cannot switch to network namespace \"%s\": %s.\n",
				opt_netns, strerror(-err));
		else
			fprintf(stderr, "Error: cannot open roster netlink socket: %s.\n",
				strerror(-err));
	}
	return handle;
}

void print_time(const char *key, const char *label, uint64_t t)
{
	char buf[64], fmt[80];
	time_t tt = (time_t)t;
	struct tm tm;

	print_u64(PRINT_JSON, key, NULL, t);
	if (!is_json_context()) {
		if (gmtime_r(&tt, &tm))
			strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		else
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)t);
		snprintf(fmt, sizeof(fmt), " %s %%s", label);
		print_string(PRINT_FP, NULL, fmt, buf);
	}
}

void print_vpn_flags(uint32_t flags)
{
	open_json_array(PRINT_JSON, "flags");
	if (flags & ROSTER_VPN_F_FOLLOWER)
		print_string(PRINT_ANY, NULL, " %s", "follower");
	if (flags & ROSTER_VPN_F_NESTED_PREFIXES)
		print_string(PRINT_ANY, NULL, " %s", "nested-prefixes");
	flags &= ~(ROSTER_VPN_F_FOLLOWER | ROSTER_VPN_F_NESTED_PREFIXES);
	if (flags) {
		char buf[32];

		snprintf(buf, sizeof(buf), "0x%x", flags); /* a newer kernel's */
		print_string(PRINT_ANY, NULL, " %s", buf);
	}
	close_json_array(PRINT_JSON, NULL);
}

void print_vpn(const struct roster_vpn *v)
{
	open_json_object(NULL);
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", v->id);
	print_u64(PRINT_ANY, "generation", "generation %llu", v->generation);
	print_uint(PRINT_ANY, "member_count", " members %u", v->member_count);
	print_time("create_time", "created", v->create_time);
	print_vpn_flags(v->flags);
	close_json_object();
}

void print_change(const struct roster_change *c)
{
	open_json_object(NULL);
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", c->vpn_id);
	print_u64(PRINT_ANY, "generation", "generation %llu", c->generation);
	print_uint(PRINT_ANY, "member_count", " members %u", c->member_count);
	close_json_object();
	print_nl();
}

void print_member_fields(const struct roster_member *m, bool brief)
{
	char buf[ROSTER_ADDR_STRLEN], key[ROSTER_KEY_B64_LEN];
	unsigned int i;

	print_string(PRINT_ANY, "id", "id %s", roster_addr_format(&m->id, buf, sizeof(buf)));
	if (brief)
		return;
	if (m->has_key) {
		roster_key_format(m->key, key);
		print_string(PRINT_ANY, "public_key", " key %s", key);
	}
	if (m->has_endpoint)
		print_string(PRINT_ANY, "endpoint", " endpoint %s",
			     roster_endpoint_format(&m->endpoint, m->port, buf, sizeof(buf)));
	else
		print_null(PRINT_JSON, "endpoint", NULL, NULL);
	open_json_array(PRINT_JSON, "allowed_ips");
	for (i = 0; i < m->n_prefixes; i++) {
		roster_prefix_format(&m->prefixes[i], buf, sizeof(buf));
		print_string(PRINT_ANY, NULL, i ? ",%s" : " allowed %s", buf);
	}
	close_json_array(PRINT_JSON, NULL);
	print_time("join_time", "joined", m->join_time);
	print_u64(PRINT_ANY, "join_generation", " join-generation %llu", m->join_generation);
}

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static const struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
} cmds[] = {
	{ "vpn", do_vpn },
	{ "member", do_member },
	{ "monitor", do_monitor },
	{ "help", do_help },
	{ NULL, NULL },
};

static int do_cmd(int argc, char **argv)
{
	const struct cmd *c;

	for (c = cmds; c->name; c++) {
		if (!strcmp(argv[0], c->name))
			return c->func(argc - 1, argv + 1);
	}
	fprintf(stderr, "Object \"%s\" is unknown, try \"roster help\".\n", argv[0]);
	return -1;
}

/* Split a batch line into words: whitespace-separated, '...' and "..."
 * quoting, '#' starts a comment. Modifies line. */
static int makeargs(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	while (*p) {
		char *w;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (argc >= max - 1)
			return -1;
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			w = p;
			while (*p && *p != q)
				p++;
			if (!*p)
				return -1;
			*p++ = 0;
		} else {
			w = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				p++;
			if (*p)
				*p++ = 0;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return argc;
}

static int do_batch(const char *name, bool force)
{
	char *line = NULL, *argv[256];
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int ret = 0;
	FILE *f;

	if (!strcmp(name, "-")) {
		f = stdin;
	} else {
		f = fopen(name, "r");
		if (!f) {
			fprintf(stderr, "Cannot open file \"%s\" for reading: %s\n", name,
				strerror(errno));
			return EXIT_FAILURE;
		}
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		int argc;

		lineno++;
		/* A NUL would end the command where the C string ends and
		 * run only its first part. */
		if (memchr(line, 0, (size_t)len)) {
			fprintf(stderr, "Error: NUL byte in the line.\n");
			argc = -2;
		} else {
			argc = makeargs(line, argv, (int)(sizeof(argv) / sizeof(argv[0])));
		}
		if (argc == 0)
			continue;
		if (argc == -1) {
			fprintf(stderr, "Error: unterminated quote or too many arguments.\n");
		} else if (argc > 0 && do_cmd(argc, argv) == 0) {
			continue;
		}
		fprintf(stderr, "Command failed %s:%lu\n", name, lineno);
		ret = EXIT_FAILURE;
		if (!force)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1]) {
		const char *opt = argv[1];

		if (!strcmp(opt, "--"))  {
			argc--;
			argv++;
			break;
		}
		if (!strcmp(opt, "-j") || !strcmp(opt, "-json")) {
			opt_json = true;
		} else if (!strcmp(opt, "-p") || !strcmp(opt, "-pretty")) {
			opt_pretty = true;
		} else if (!strcmp(opt, "-echo")) {
			opt_echo = true;
		} else if (!strcmp(opt, "-t") || !strcmp(opt, "-timestamp")) {
			opt_timestamp = TS_LONG;
		} else if (!strcmp(opt, "-ts") || !strcmp(opt, "-tshort")) {
			opt_timestamp = TS_SHORT;
		} else if (!strcmp(opt, "-force")) {
			opt_force = true;
		} else if (!strcmp(opt, "-n") || !strcmp(opt, "-netns")) {
			if (argc < 3) {
				fprintf(stderr, "Option \"%s\" requires an argument.\n", opt);
				return EXIT_FAILURE;
			}
			opt_netns = argv[2];
			argc--;
			argv++;
		} else if (!strcmp(opt, "-rcvbuf")) {
			char *end;
			long v;

			if (argc < 3) {
				fprintf(stderr, "Option \"%s\" requires an argument.\n", opt);
				return EXIT_FAILURE;
			}
			errno = 0;
			v = strtol(argv[2], &end, 10);
			/* The socket option is an int: a cast would wrap a
			 * too large size into a small one. */
			if (end == argv[2] || *end || errno || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "Error: argument \"%s\" is wrong: invalid receive buffer size (1..%d bytes)\n",
					argv[2], INT_MAX);
				return EXIT_FAILURE;
			}
			opt_rcvbuf = (int)v;
			argc--;
			argv++;
		} else if (!strcmp(opt, "-b") || !strcmp(opt, "-batch")) {
			if (argc < 3) {
				fprintf(stderr, "Option \"%s\" requires an argument.\n", opt);
				return EXIT_FAILURE;
			}
			batch_file = argv[2];
			argc--;
			argv++;
		} else if (!strcmp(opt, "-V") || !strcmp(opt, "-Version") ||
			   !strcmp(opt, "--version")) {
			printf("roster utility, version %s (libroster %s)\n",
			       ROSTER_CLI_VERSION, ROSTER_LIB_VERSION);
			return EXIT_SUCCESS;
		} else if (matches_help(opt)) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else {
			fprintf(stderr, "Option \"%s\" is unknown, try \"roster -help\".\n", opt);
			return EXIT_FAILURE;
		}
		argc--;
		argv++;
	}
	/* -p implies -j, like in iproute2 it only has an effect with -j. */
	json_init(opt_json, opt_json && opt_pretty);

	if (batch_file) {
		if (argc > 1) {
			fprintf(stderr, "Error: no OBJECT allowed with -batch.\n");
			return EXIT_FAILURE;
		}
		ret = do_batch(batch_file, opt_force);
	} else if (argc > 1) {
		ret = do_cmd(argc - 1, argv + 1) ? EXIT_FAILURE : EXIT_SUCCESS;
	} else {
		usage(stderr);
		ret = EXIT_FAILURE;
	}
	roster_close(handle);
	fflush(stdout);
	if (ferror(stdout))
		ret = EXIT_FAILURE;
	return ret;
}
