// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: command line.
 *
 *   rosterd manager --config FILE [-v|-q]
 *   rosterd gateway --config FILE [-v|-q]
 *   rosterd invite  --config FILE --id ADDR --vpn ID [--vpn ID]...
 *                   --prefix P [--prefix P]... [--ttl SECS]
 *   rosterd redeem  --config FILE TOKEN
 *   rosterd leave   --config FILE --vpn ID
 *   rosterd backup  [--config FILE] DEST
 *   rosterd status  [--config FILE] [-j]
 *   rosterd --help | -V
 *
 * Exit: 0 ok, 1 runtime error (including a bad config file), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "state.h"
#include "store.h"
#include "token.h"
#include "status.h"

/* The file the systemd unit gives the manager, so that an operator's
 * backup needs no option. */
#define DEFAULT_MANAGER_CONFIG "/etc/rosterd/manager.conf"
#define DEFAULT_GATEWAY_CONFIG "/etc/rosterd/gateway.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rosterd manager --config FILE [-v|-q]\n"
		"       rosterd gateway --config FILE [-v|-q]\n"
		"       rosterd invite  --config FILE --id ADDR --vpn ID [--vpn ID]...\n"
		"                       --prefix P [--prefix P]... [--ttl SECS]\n"
		"       rosterd redeem  --config FILE [-v|-q] [--token-file FILE | -]\n"
		"       rosterd leave   --config FILE [-v|-q] --vpn ID\n"
		"       rosterd backup  [--config FILE] [-v|-q] DEST\n"
		"       rosterd status  [--config FILE] [-j|--json]\n"
		"       rosterd --help | -V\n"
		"\n"
		"Roles: the manager keeps the VPN membership table (roster.ko) and\n"
		"enrols gateways; a gateway joins its configured VPNs and programs\n"
		"WireGuard peers and routes. See rosterd(8) / Documentation/rosterd.rst.\n"
		"backup writes an online copy of the manager's store (the state-dir of\n"
		"--config, default " DEFAULT_MANAGER_CONFIG ") to DEST, a new file.\n"
		"redeem reads the invitation token from standard input, or from\n"
		"--token-file FILE (mode 0600); a TOKEN argument, readable by every\n"
		"local user, still works with a warning.\n"
		"status shows the daemon of --config (default " DEFAULT_MANAGER_CONFIG "\n"
		"if it exists, else " DEFAULT_GATEWAY_CONFIG "), or its state if none runs.\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rosterd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rosterd --help'.\n");
	return 2;
}

/* Open the store only if it exists: a backup must not create one (nor
 * import the text files of a manager that has not started since). */
static int cmd_backup(const struct rd_config *c, const char *dest)
{
	struct rd_store *s;
	char path[512], err[768];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", c->state_dir, RD_STORE_FILE);
	if (!c->store_etcd && access(path, F_OK)) {
		rd_err("%s: no store (%s); the manager creates it when it starts", path,
		       strerror(errno));
		return -ENOENT;
	}
	ret = rd_store_open_config(c, &s, err, sizeof(err));
	if (ret) {
		rd_err("%s", err);
		return ret;
	}
	ret = rd_store_backup(s, dest);
	if (ret)
		rd_err("backup: %s", rd_store_errmsg(s));
	else
		rd_info("backup of %s written to %s", rd_store_describe(s), dest);
	rd_store_close(s);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "vpn", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "token-file", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct rd_config cfg;
	const char *cmd, *config = NULL, *token_file = NULL;
	char token[RD_TOKEN_MAX];
	bool token_arg = false;
	uint32_t vpns[RD_ENTRY_MAX_VPNS];
	unsigned int nvpns = 0, npfx = 0;
	struct roster_prefix pfx[ROSTER_PREFIX_MAX];
	struct roster_addr id = { 0 };
	bool has_id = false, has_ttl = false, json = false;
	unsigned long long ttl = 3600;
	int verbosity = 0, opt;
	enum rd_role role;
	char err[256];

	if (argc < 2)
		return usage(stderr), 2;
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("rosterd %s\n", ROSTERD_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "manager") || !strcmp(cmd, "invite") || !strcmp(cmd, "backup"))
		role = RD_ROLE_MANAGER;
	else if (!strcmp(cmd, "gateway") || !strcmp(cmd, "redeem") || !strcmp(cmd, "leave"))
		role = RD_ROLE_GATEWAY;
	else if (!strcmp(cmd, "status"))
		role = RD_ROLE_MANAGER;	/* or the gateway's, by the config (below) */
	else
		return usage_err("unknown command '%s'", cmd);

	optind = 2;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+c:vqhVj", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			if (strcmp(cmd, "invite"))
				return usage_err("--id is only valid for invite");
			if (roster_addr_parse(optarg, &id))
				return usage_err("invalid --id '%s' (an IPv4 or IPv6 address)", optarg);
			has_id = true;
			break;
		case 'n':
			if (strcmp(cmd, "invite") && strcmp(cmd, "leave"))
				return usage_err("--vpn is only valid for invite and leave");
			if (nvpns >= RD_ENTRY_MAX_VPNS)
				return usage_err("too many --vpn");
			if (roster_vpn_id_parse(optarg, &vpns[nvpns]))
				return usage_err("invalid --vpn '%s' (1..4294967295)", optarg);
			for (unsigned int i = 0; i < nvpns; i++)
				if (vpns[i] == vpns[nvpns])
					return usage_err("duplicate --vpn %s", optarg);
			nvpns++;
			break;
		case 'p':
			if (strcmp(cmd, "invite"))
				return usage_err("--prefix is only valid for invite");
			if (npfx >= ROSTER_PREFIX_MAX)
				return usage_err("too many --prefix (at most %u)", ROSTER_PREFIX_MAX);
			if (roster_prefix_parse(optarg, &pfx[npfx], NULL))
				return usage_err("invalid --prefix '%s' (ADDR/LEN)", optarg);
			for (unsigned int i = 0; i < npfx; i++)
				if (!memcmp(&pfx[i], &pfx[npfx], sizeof(pfx[i])))
					return usage_err("duplicate --prefix %s", optarg);
			npfx++;
			break;
		case 't': {
			char *end;

			if (strcmp(cmd, "invite"))
				return usage_err("--ttl is only valid for invite");
			errno = 0;
			ttl = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || !ttl || ttl > 10ull * 365 * 86400 ||
			    optarg[0] == '-')
				return usage_err("invalid --ttl '%s' (seconds, >= 1)", optarg);
			has_ttl = true;
			break;
		}
		case 'k':
			if (strcmp(cmd, "redeem"))
				return usage_err("--token-file is only valid for redeem");
			token_file = optarg;
			break;
		case 'j':
			if (strcmp(cmd, "status"))
				return usage_err("-j is only valid for status");
			json = true;
			break;
		case 'v':
			verbosity = 1;
			break;
		case 'q':
			verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rosterd %s\n", ROSTERD_VERSION);
			return 0;
		default:
			return usage_err("invalid option or missing argument: '%s'", argv[optind - 1]);
		}
	}
	(void)has_ttl;
	if (!config && !strcmp(cmd, "backup"))
		config = DEFAULT_MANAGER_CONFIG;
	if (!config && !strcmp(cmd, "status"))
		config = access(DEFAULT_MANAGER_CONFIG, F_OK) ? DEFAULT_GATEWAY_CONFIG :
							       DEFAULT_MANAGER_CONFIG;
	if (!config)
		return usage_err("--config FILE is required");
	if (!strcmp(cmd, "redeem")) {
		if (optind < argc - 1)
			return usage_err("redeem takes at most one argument ('-' or a TOKEN)");
		if (token_file && optind < argc)
			return usage_err("redeem takes --token-file or an argument, not both");
		/* Waiting for a token nobody types would look like a hang. */
		if (!token_file && optind == argc && isatty(0))
			return usage_err("redeem reads the TOKEN from standard input ('-' to type "
					 "it here) or from --token-file FILE");
		if (optind < argc && strcmp(argv[optind], "-")) {
			/* Every local user can read the command line: take the
			 * token out of it at once, and say so. */
			snprintf(token, sizeof(token), "%s", argv[optind]);
			memset(argv[optind], 'x', strlen(argv[optind]));
			token_arg = true;
		}
	} else if (!strcmp(cmd, "backup")) {
		if (optind != argc - 1)
			return usage_err("backup takes exactly one DEST argument");
	} else if (optind != argc) {
		return usage_err("unexpected argument '%s'", argv[optind]);
	}
	if (!strcmp(cmd, "invite") && (!has_id || !nvpns || !npfx))
		return usage_err("invite needs --id ADDR, at least one --vpn ID and at least one "
				 "--prefix P (what the gateway may announce)");
	if (!strcmp(cmd, "leave") && nvpns != 1)
		return usage_err("leave needs exactly one --vpn ID");

	rd_log_init(cmd);
	if (rd_config_load(config, role, &cfg, err, sizeof(err))) {
		/* status serves both roles: a file with only [gateway] is a
		 * gateway's. */
		if (strcmp(cmd, "status") || cfg.has_manager || !cfg.has_gateway ||
		    rd_config_load(config, RD_ROLE_GATEWAY, &cfg, err, sizeof(err))) {
			rd_err("%s: %s", config, err);
			return 1;
		}
		role = RD_ROLE_GATEWAY;
	}
	if (cfg.log_level >= 0)
		rd_log_level = cfg.log_level;
	if (verbosity > 0)
		rd_log_level = RD_LOG_DEBUG;
	else if (verbosity < 0)
		rd_log_level = RD_LOG_WARN;

	if (!strcmp(cmd, "manager"))
		return rd_manager_run(&cfg) ? 1 : 0;
	if (!strcmp(cmd, "gateway"))
		return rd_gateway_run(&cfg) ? 1 : 0;
	if (!strcmp(cmd, "invite"))
		return rd_cmd_invite(&cfg, &id, vpns, nvpns, pfx, npfx, ttl) ? 1 : 0;
	if (!strcmp(cmd, "redeem")) {
		int ret;

		if (token_arg)
			rd_warn("WARNING: the invitation token was given on the command line, where "
				"every local user can read it (/proc/PID/cmdline) and the shell "
				"history keeps it; pass it on standard input or with --token-file "
				"FILE (mode 0600), and invite again if it may have been copied");
		else if (rd_redeem_token_read(token_file, token, sizeof(token)))
			return 1;
		ret = rd_cmd_redeem(&cfg, token);
		memset(token, 0, sizeof(token));
		return ret ? 1 : 0;
	}
	if (!strcmp(cmd, "backup"))
		return cmd_backup(&cfg, argv[optind]) ? 1 : 0;
	if (!strcmp(cmd, "status"))
		return rd_cmd_status(&cfg, role, json) ? 1 : 0;
	return rd_cmd_leave(&cfg, vpns[0]) ? 1 : 0;
}
