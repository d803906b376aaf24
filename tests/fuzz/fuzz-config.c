// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the configuration parser (config.c, rd_config_parse),
 * for both roles. Oracles: a refusal says why (a non-empty message); a
 * configuration that parses holds only valid values (ports, interface
 * names, prefixes without host bits, the control address inside the
 * control prefix, at most RD_MAX_VPNS VPNs); and written back as text it
 * parses again to the same configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "fuzz.h"

static const char *const levels[] = { "error", "warn", "info", "debug" };

static void check(const struct rd_config *c, enum rd_role role)
{
	FUZZ_ASSERT(c->n_vpns <= RD_MAX_VPNS);
	FUZZ_ASSERT(memchr(c->ifname, 0, sizeof(c->ifname)) && c->ifname[0]);
	FUZZ_ASSERT(memchr(c->state_dir, 0, sizeof(c->state_dir)) && c->state_dir[0] == '/');
	FUZZ_ASSERT(c->log_level >= -1 && c->log_level <= RD_LOG_DEBUG);
	FUZZ_ASSERT(c->listen_port && c->control_port && c->retry_ms >= 10);
	if (role == RD_ROLE_MANAGER) {
		struct roster_prefix p = c->control_prefix;

		FUZZ_ASSERT(c->has_manager && (c->control_addr.family == AF_INET ||
					       c->control_addr.family == AF_INET6));
		rd_prefix_mask(&p);
		FUZZ_ASSERT(rd_prefix_eq(&p, &c->control_prefix) &&
			    p.len <= (p.addr.family == AF_INET ? 30 : 126));
		FUZZ_ASSERT(rd_prefix_contains(&c->control_prefix, &c->control_addr));
	} else {
		FUZZ_ASSERT(c->has_gateway && (!c->n_vpns || c->has_endpoint || c->endpoint_auto));
	}
	for (unsigned int i = 0; i < c->n_vpns; i++) {
		const struct rd_vpn_conf *v = &c->vpns[i];

		FUZZ_ASSERT(v->id && (v->listen_port || role == RD_ROLE_MANAGER) &&
			    v->n_prefixes <= ROSTER_PREFIX_MAX);
		FUZZ_ASSERT(!v->expire_after || v->expire_after >= 10);
		FUZZ_ASSERT(memchr(v->ifname, 0, sizeof(v->ifname)) && v->ifname[0]);
		for (unsigned int k = 0; k < v->n_prefixes; k++) {
			struct roster_prefix p = v->prefixes[k];

			rd_prefix_mask(&p);
			FUZZ_ASSERT(rd_prefix_eq(&p, &v->prefixes[k]));
			for (unsigned int j = 0; j < k; j++)
				FUZZ_ASSERT(!rd_prefix_eq(&v->prefixes[j], &v->prefixes[k]));
		}
		for (unsigned int j = 0; j < i; j++)
			FUZZ_ASSERT(v->id != c->vpns[j].id);
	}
}

/* The configuration as text, in the parser's own syntax: "key =value",
 * since a value may start with '#' (only a '#' after whitespace starts a
 * comment). */
static int format(const struct rd_config *c, enum rd_role role, char *out, size_t len)
{
	char a[ROSTER_ADDR_STRLEN];
	size_t off = 0;
#define P(...) do {							\
	int n_ = snprintf(out + off, len - off, __VA_ARGS__);		\
	if (n_ < 0 || (size_t)n_ >= len - off)				\
		return -EMSGSIZE;					\
	off += (size_t)n_;						\
} while (0)

	/* The common keys in the role's own section; both sections may be
	 * there (the other role's keys are parsed, and ignored). */
	P("[%s]\n", role == RD_ROLE_MANAGER ? "manager" : "gateway");
	P("state-dir =%s\ninterface =%s\nretry-ms =%u\n", c->state_dir, c->ifname, c->retry_ms);
	if (c->log_level >= 0)
		P("log-level =%s\n", levels[c->log_level]);
	if (c->metrics_file[0])
		P("metrics-file =%s\n", c->metrics_file);
	P("metrics-interval =%u\n", c->metrics_interval);
	/* endpoint = auto is only ever [gateway]'s: an address next to it
	 * came from [manager]. */
	if (c->has_endpoint && !(c->endpoint_auto && role == RD_ROLE_GATEWAY))
		P("endpoint =%s\n", roster_addr_format(&c->endpoint, a, sizeof(a)));
	if (c->endpoint_auto && role == RD_ROLE_GATEWAY)
		P("endpoint =auto\n");
	for (int sec = 0; sec < 2; sec++) {
		bool mgr = (sec == 0) == (role == RD_ROLE_MANAGER);

		if (sec && !(mgr ? c->has_manager : c->has_gateway))
			continue;
		if (sec)
			P("[%s]\n", mgr ? "manager" : "gateway");
		if (sec && c->endpoint_auto && !mgr)
			P("endpoint =auto\n");
		if (sec && mgr && c->has_endpoint && c->endpoint_auto && role == RD_ROLE_GATEWAY)
			P("endpoint =%s\n", roster_addr_format(&c->endpoint, a, sizeof(a)));
		if (mgr) {
			P("listen-port =%u\ncontrol-port =%u\n", c->listen_port, c->control_port);
			P("control-address =%s\n",
			  roster_addr_format(&c->control_addr, a, sizeof(a)));
			if (c->control_prefix.addr.family)
				P("control-prefix =%s\n",
				  roster_prefix_format(&c->control_prefix, a, sizeof(a)));
			P("request-rate =%u\nrequest-burst =%u\npeer-queue-kib =%u\n",
			  c->request_rate, c->request_burst, c->peer_queue_kib);
			P("endpoint-check =%s\n",
			  c->endpoint_check == RD_ENDPOINT_ANY ? "any" : "pinned");
			if (c->name[0])
				P("name =%s\n", c->name);
			P("lease-ttl =%u\n", c->lease_ttl);
			if (c->store_etcd)
				P("store =etcd\n");
			if (!c->etcd_move_leader)
				P("etcd-move-leader =no\n");
			if (c->etcd.endpoints[0])
				P("etcd-endpoints =%s\n", c->etcd.endpoints);
			if (c->etcd.prefix[0])
				P("etcd-prefix =%s\n", c->etcd.prefix);
			if (c->etcd.cacert[0])
				P("etcd-cacert =%s\n", c->etcd.cacert);
			if (c->etcd.cert[0])
				P("etcd-cert =%s\n", c->etcd.cert);
			if (c->etcd.key[0])
				P("etcd-key =%s\n", c->etcd.key);
			if (c->etcd.user[0])
				P("etcd-user =%s\n", c->etcd.user);
			if (c->etcd.password_file[0])
				P("etcd-password-file =%s\n", c->etcd.password_file);
		} else {
			P("leave-on-exit =%s\nsync-interval =%u\n",
			  c->leave_on_exit ? "yes" : "no", c->sync_interval);
			if (c->key_lifetime)
				P("key-lifetime =%lu\n", c->key_lifetime);
		}
	}
	/* Only a gateway's VPNs are checked for clashes: a manager's are
	 * parsed, and ignored. */
	for (unsigned int i = 0; i < c->n_vpns; i++) {
		const struct rd_vpn_conf *v = &c->vpns[i];

		P("[vpn %u]\ninterface =%s\nkeepalive =%u\n", v->id, v->ifname, v->keepalive);
		if (v->listen_port)
			P("listen-port =%u\n", v->listen_port);
		if (v->expire_after)
			P("expire-after =%u\n", v->expire_after);
		for (unsigned int k = 0; k < v->n_prefixes; k++)
			P("prefix =%s\n", roster_prefix_format(&v->prefixes[k], a, sizeof(a)));
	}
#undef P
	return 0;
}

/* A string shorter than one it replaced leaves that one's tail after
 * its NUL: not part of the configuration. */
static void clear_tail(char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n < size)
		memset(s + n, 0, size - n);
}

static void normalize(struct rd_config *c)
{
	clear_tail(c->ifname, sizeof(c->ifname));
	clear_tail(c->state_dir, sizeof(c->state_dir));
	for (unsigned int i = 0; i < c->n_vpns; i++)
		clear_tail(c->vpns[i].ifname, sizeof(c->vpns[i].ifname));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rd_config c, c2;
	static char text2[1 << 17];
	char err[256], err2[256];
	char *text;

	if (size > 1 << 16)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (int role = RD_ROLE_MANAGER; role <= RD_ROLE_GATEWAY; role++) {
		int ret = rd_config_parse(text, role, &c, err, sizeof(err));

		if (ret) {
			FUZZ_ASSERT(ret == -EINVAL || ret == -ENOMEM);
			FUZZ_ASSERT(ret == -ENOMEM || (memchr(err, 0, sizeof(err)) && err[0]));
			continue;
		}
		check(&c, role);
		FUZZ_ASSERT(!format(&c, role, text2, sizeof(text2)));
		ret = rd_config_parse(text2, role, &c2, err2, sizeof(err2));
		if (ret)
			fprintf(stderr, "fuzz: the configuration written back is refused: %s\n%s",
				err2, text2);
		FUZZ_ASSERT(!ret);
		normalize(&c);
		normalize(&c2);
		FUZZ_ASSERT(!memcmp(&c, &c2, sizeof(c)));
	}
	free(text);
	return 0;
}
