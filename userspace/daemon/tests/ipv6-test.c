// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd IPv6 unit tests: an IPv6 control network through every parser
 * that carries it (the manager's configuration, `rosterd invite`, the
 * invitation token, the gateway's identity file) and the manager's policy
 * against an IPv6 control prefix, with the refusals that keep the two
 * families apart. KTAP on stdout; exit status non-zero if any test failed.
 * Needs no privileges and no kernel module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "config.h"
#include "ctlnet.h"
#include "mgr.h"
#include "mgr-policy.h"
#include "state.h"
#include "store.h"
#include "token.h"
#include "util.h"

#include "unit.h"

static const char mgr6[] =
	"[manager]\nendpoint = 2001:db8::1\ncontrol-address = fd00:255::1\n"
	"control-prefix = fd00:255::/64\nstate-dir = /tmp/x\n";

static struct roster_addr addr(const char *s)
{
	struct roster_addr a;

	if (roster_addr_parse(s, &a))
		memset(&a, 0, sizeof(a));
	return a;
}

static struct roster_prefix pfx(const char *s)
{
	struct roster_prefix p;

	if (roster_prefix_parse(s, &p, NULL))
		memset(&p, 0, sizeof(p));
	return p;
}

/* ---- config ---------------------------------------------------------- */

static void t_config(void)
{
	static struct rd_config c;
	char err[256];

	EXPECT(rd_config_parse(mgr6, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.control_addr.family == AF_INET6 && !strcmp(rd_ntop(&c.control_addr), "fd00:255::1"));
	EXPECT(c.control_prefix.addr.family == AF_INET6 && c.control_prefix.len == 64);
	EXPECT(c.endpoint.family == AF_INET6);
	/* Without control-prefix: the control address's /64 (IPv4: /16). */
	EXPECT(rd_config_parse("[manager]\ncontrol-address = fd00:255:0:7::1\n", RD_ROLE_MANAGER,
			       &c, err, sizeof(err)) == 0);
	EXPECT(c.control_prefix.len == 64 &&
	       !strcmp(rd_ntop(&c.control_prefix.addr), "fd00:255:0:7::"));
	EXPECT(rd_config_parse("[manager]\ncontrol-address = 10.9.0.1\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == 0 && c.control_prefix.len == 16);
	/* The longest prefixes that leave a gateway id. */
	EXPECT(rd_config_parse("[manager]\ncontrol-address = fd00::1\ncontrol-prefix = fd00::/126\n",
			       RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(rd_config_parse("[manager]\ncontrol-address = 10.0.0.1\ncontrol-prefix = 10.0.0.0/30\n",
			       RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	/* A gateway's underlay and site prefixes. */
	EXPECT(rd_config_parse("[gateway]\nendpoint = 2001:db8::11\n[vpn 7]\nlisten-port = 51807\n"
			       "prefix = fd01:1::/64\nprefix = 10.1.0.0/24\n", RD_ROLE_GATEWAY, &c,
			       err, sizeof(err)) == 0);
	EXPECT(c.endpoint.family == AF_INET6 && c.vpns[0].n_prefixes == 2);
	if (cur_fail)
		printf("# err: %s\n", err);
}

static void t_config_bad(void)
{
	static const struct { const char *text; const char *msg; } cases[] = {
		{ "[manager]\ncontrol-address = fd00::1\ncontrol-prefix = fd00::/127\n",
		  "line 3: control-prefix: the length must be at most 126 (IPv6), got 127" },
		{ "[manager]\ncontrol-address = 10.0.0.1\ncontrol-prefix = 10.0.0.0/31\n",
		  "line 3: control-prefix: the length must be at most 30 (IPv4), got 31" },
		{ "[manager]\ncontrol-address = fd00::1\ncontrol-prefix = 10.255.0.0/16\n",
		  "control-address fd00::1 is not inside control-prefix" },
		{ "[manager]\ncontrol-address = 10.255.0.1\ncontrol-prefix = fd00::/64\n",
		  "control-address 10.255.0.1 is not inside control-prefix" },
		{ "[manager]\ncontrol-address = fd00:1::1\ncontrol-prefix = fd00::/64\n",
		  "control-address fd00:1::1 is not inside control-prefix" },
		{ "[manager]\ncontrol-prefix = fd00::/64\n",
		  "control-address 10.255.0.1 is not inside control-prefix" },
		{ "[manager]\ncontrol-address = fd00::1/64\n", "control-address: invalid address" },
		{ "[manager]\ncontrol-prefix = fd00::1/64\n", "control-prefix: invalid prefix" },
	};
	static struct rd_config c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		if (rd_config_parse(cases[i].text, RD_ROLE_MANAGER, &c, err, sizeof(err)) != -EINVAL ||
		    !strstr(err, cases[i].msg)) {
			printf("# case %zu: got '%s', want '%s'\n", i, err, cases[i].msg);
			cur_fail = 1;
		}
	}
}

/* ---- the control network's ids ------------------------------------------ */

static void t_ctlnet(void)
{
	struct roster_prefix c6 = pfx("fd00:255::/64"), c4 = pfx("10.255.0.0/16");
	struct roster_addr m6 = addr("fd00:255::1"), m4 = addr("10.255.0.1"), a;
	const char *why;

	a = addr("fd00:255::11");
	EXPECT(rd_ctlnet_id_ok(&c6, &m6, &a, &why) && !why);
	a = addr("fd00:255::ffff:ffff:ffff:ffff");
	EXPECT(rd_ctlnet_id_ok(&c6, &m6, &a, &why));
	a = addr("fd00:255::");
	EXPECT(!rd_ctlnet_id_ok(&c6, &m6, &a, &why) && strstr(why, "anycast"));
	EXPECT(!rd_ctlnet_id_ok(&c6, &m6, &m6, &why) && strstr(why, "manager's"));
	a = addr("fd00:256::11");
	EXPECT(!rd_ctlnet_id_ok(&c6, &m6, &a, &why) && strstr(why, "outside"));
	a = addr("10.255.0.11");
	EXPECT(!rd_ctlnet_id_ok(&c6, &m6, &a, &why) && strstr(why, "IPv4 id in an IPv6"));
	EXPECT(rd_ctlnet_id_ok(&c4, &m4, &a, NULL));
	a = addr("fd00:255::11");
	EXPECT(!rd_ctlnet_id_ok(&c4, &m4, &a, &why) && strstr(why, "IPv6 id in an IPv4"));
	/* IPv4's network address stays what it was: an id like any other. */
	a = addr("10.255.0.0");
	EXPECT(rd_ctlnet_id_ok(&c4, &m4, &a, NULL));
	EXPECT(rd_ctlnet_prefix_max(&m4) == 30 && rd_ctlnet_prefix_max(&m6) == 126);
	/* rctl0's allowed-ips for an id: the id alone, /128 for IPv6 (a
	 * /32 would give every gateway the whole fd00:255::/32 and let the
	 * last one programmed take all the others' addresses). */
	struct roster_prefix hp;

	a = addr("fd00:255::11");
	mgr_host_prefix(&a, &hp);
	EXPECT(hp.len == 128 && rd_addr_eq(&hp.addr, &a));
	mgr_host_prefix(&m4, &hp);
	EXPECT(hp.len == 32 && rd_addr_eq(&hp.addr, &m4));
}

/* ---- tokens -------------------------------------------------------------- */

static void make_token6(struct rd_token *t)
{
	memset(t, 0, sizeof(*t));
	memset(t->manager_key, 0x11, 32);
	t->manager_endpoint = addr("2001:db8::1");
	t->manager_port = 51800;
	t->control_addr = addr("fd00:255::1");
	t->control_port = 851;
	t->id = addr("fd00:255::11");
	t->prefixlen = 64;
	memset(t->invite_key, 0x22, 32);
	t->expiry = 1900000000;
}

#define K1 "ERERERERERERERERERERERERERERERERERERERERERE="
#define K2 "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="

static void t_token(void)
{
	static const struct { const char *plain; const char *why; } bad[] = {
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|10.255.0.11|64|" K2 "|1900000000",
		  "bad gateway id" },
		{ "v1|" K1 "|[2001:db8::1]:51800|10.255.0.1|851|fd00:255::11|16|" K2 "|1900000000",
		  "bad gateway id" },
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|fd00:255::11|127|" K2 "|1900000000",
		  "bad prefix length" },
		{ "v1|" K1 "|[2001:db8::1]:51800|10.255.0.1|851|10.255.0.11|31|" K2 "|1900000000",
		  "bad prefix length" },
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|fd00:255::|64|" K2 "|1900000000",
		  "outside the control prefix" },
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|fd00:255::1|64|" K2 "|1900000000",
		  "outside the control prefix" },
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|fd00:256::11|64|" K2 "|1900000000",
		  "outside the control prefix" },
		/* Not canonical: the address is written in a long form. */
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255:0:0::1|851|fd00:255::11|64|" K2 "|1900000000",
		  "canonical" },
		{ "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|FD00:255::11|64|" K2 "|1900000000",
		  "canonical" },
	};
	struct rd_token t, d;
	char tok[RD_TOKEN_MAX], plain[RD_TOKEN_MAX];
	const char *why;
	ssize_t n;

	make_token6(&t);
	EXPECT(rd_token_encode(&t, tok, sizeof(tok)) == 0);
	EXPECT(rd_token_decode(tok, &d, &why) == 0);
	EXPECT(!memcmp(&t, &d, sizeof(t)));
	n = rd_b64url_decode(tok, plain, sizeof(plain) - 1);
	plain[n > 0 ? n : 0] = 0;
	EXPECT(!strcmp(plain, "v1|" K1 "|[2001:db8::1]:51800|fd00:255::1|851|fd00:255::11|64|" K2
			      "|1900000000"));
	/* The longest addresses still fit. */
	t.manager_endpoint = addr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	t.control_addr = addr("fd00:ffff:ffff:ffff:ffff:ffff:ffff:ff01");
	t.id = addr("fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	t.prefixlen = 120;
	t.manager_port = 65535;
	t.expiry = UINT64_MAX;
	EXPECT(rd_token_encode(&t, tok, sizeof(tok)) == 0);
	EXPECT(rd_token_decode(tok, &d, &why) == 0 && !memcmp(&t, &d, sizeof(t)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT(rd_b64url_encode(bad[i].plain, strlen(bad[i].plain), tok, sizeof(tok)));
		why = NULL;
		if (rd_token_decode(tok, &d, &why) != -EINVAL || !why || !strstr(why, bad[i].why)) {
			printf("# bad token %zu: %s, want '%s'\n", i, why ? why : "accepted",
			       bad[i].why);
			cur_fail = 1;
		}
	}
}

/* ---- `rosterd invite` and the gateway's identity ------------------------- */

static char dir[64];

static int invite(struct rd_config *c, const char *id, char *tok, size_t len)
{
	struct roster_addr a = addr(id);
	struct roster_prefix p = pfx("fd01::/16");
	uint32_t vpn = 7;
	char path[96];
	int out = dup(1), f, ret;
	FILE *fp;

	/* The token goes to standard output: into a file, off the TAP. */
	snprintf(path, sizeof(path), "%s/token", dir);
	fflush(stdout);
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(f, 1);
	close(f);
	ret = rd_cmd_invite(c, &a, &vpn, 1, &p, 1, 3600);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	tok[0] = 0;
	fp = fopen(path, "r");
	if (fp) {
		if (!fgets(tok, (int)len, fp))
			tok[0] = 0;
		fclose(fp);
	}
	tok[strcspn(tok, "\n")] = 0;
	return ret;
}

static void t_invite(void)
{
	static struct rd_config c;
	char err[256], text[sizeof(mgr6) + 128], tok[RD_TOKEN_MAX];
	struct rd_entry *inv = NULL;
	unsigned int ninv = 0;
	struct rd_store *st;
	struct rd_token t;
	struct rd_identity id = { 0 }, back;
	const char *why;

	snprintf(text, sizeof(text), "%s", mgr6);
	*strstr(text, "state-dir") = 0;
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		 "state-dir = %s/mgr\ninterface = rst-no-such0\n", dir);
	EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(invite(&c, "fd00:255::11", tok, sizeof(tok)) == 0);
	EXPECT(rd_token_decode(tok, &t, &why) == 0);
	EXPECT(!strcmp(rd_ntop(&t.id), "fd00:255::11") && t.prefixlen == 64);
	EXPECT(!strcmp(rd_ntop(&t.control_addr), "fd00:255::1"));
	EXPECT(!strcmp(rd_ntop(&t.manager_endpoint), "2001:db8::1") && t.manager_port == 51800);
	/* Refused, and nothing stored: the anycast address, the manager's,
	 * another family's and one outside. */
	EXPECT(invite(&c, "fd00:255::", tok, sizeof(tok)) == -EINVAL && !tok[0]);
	EXPECT(invite(&c, "fd00:255::1", tok, sizeof(tok)) == -EINVAL && !tok[0]);
	EXPECT(invite(&c, "10.255.0.11", tok, sizeof(tok)) == -EINVAL && !tok[0]);
	EXPECT(invite(&c, "fd00:256::11", tok, sizeof(tok)) == -EINVAL && !tok[0]);
	EXPECT(rd_store_open(c.state_dir, &st, err, sizeof(err)) == 0);
	EXPECT(rd_store_invites(st, &inv, &ninv) == 0);
	EXPECT(ninv == 1 && inv && !strcmp(rd_ntop(&inv[0].id), "fd00:255::11"));
	EXPECT(inv && inv[0].n_prefixes == 1 && inv[0].prefixes[0].addr.family == AF_INET6);
	free(inv);
	rd_store_close(st);

	/* What `rosterd redeem` keeps of it, written and read back. */
	char gdir[96];

	snprintf(gdir, sizeof(gdir), "%s/gw", dir);
	memset(id.private_key, 0x33, 32);
	id.id = t.id;
	id.prefixlen = t.prefixlen;
	memcpy(id.manager_key, t.manager_key, 32);
	id.manager_endpoint = t.manager_endpoint;
	id.manager_port = t.manager_port;
	id.control_addr = t.control_addr;
	id.control_port = t.control_port;
	rd_identity_single(&id);	/* as redeem: the set of the manager enrolled with */
	EXPECT(rd_identity_save(gdir, &id) == 0);
	EXPECT(rd_identity_load(gdir, &back) == 0);
	EXPECT(!memcmp(&id, &back, sizeof(id)));
	/* An IPv6 identity may have up to /126; mixed families are corrupt. */
	id.prefixlen = 127;
	EXPECT(rd_identity_save(gdir, &id) == 0 && rd_identity_load(gdir, &back) == -EINVAL);
	id.prefixlen = 126;
	EXPECT(rd_identity_save(gdir, &id) == 0 && rd_identity_load(gdir, &back) == 0);
	id.control_addr = addr("10.255.0.1");
	EXPECT(rd_identity_save(gdir, &id) == 0 && rd_identity_load(gdir, &back) == -EINVAL);
	id.control_addr = t.control_addr;
	id.id = addr("10.255.0.11");
	id.prefixlen = 31;
	id.control_addr = addr("10.255.0.1");
	EXPECT(rd_identity_save(gdir, &id) == 0 && rd_identity_load(gdir, &back) == -EINVAL);
	if (cur_fail)
		printf("# err: %s\n", err);
}

/* ---- the manager's policy ------------------------------------------------- */

static void t_policy(void)
{
	struct roster_prefix c6 = pfx("fd00:255::/64");
	struct roster_addr ep = addr("2001:db8::1"), self = addr("fd00:255::11");
	struct rd_entry gw = { .has_prefixes = true, .n_prefixes = 2 };
	struct mgr_policy_in in = { .control_prefix = &c6, .mgr_endpoint = &ep, .gw = &gw,
				    .id = &self };
	struct roster_prefix ok[2] = { pfx("fd01:1::/64"), pfx("10.1.0.0/24") }, p;
	struct roster_addr own = addr("2001:db8::11");
	char why[128];

	gw.prefixes[0] = pfx("fd01::/16");
	gw.prefixes[1] = pfx("10.0.0.0/8");
	EXPECT(mgr_policy_check(&in, ok, 2, &own, why, sizeof(why)) == 0);
	p = pfx("fd00:255::/80");
	EXPECT(mgr_policy_check(&in, &p, 1, &own, why, sizeof(why)) == -EPERM &&
	       strstr(why, "overlaps the control prefix fd00:255::/64"));
	p = pfx("fd00::/16");
	EXPECT(mgr_policy_check(&in, &p, 1, &own, why, sizeof(why)) == -EPERM &&
	       strstr(why, "overlaps the control prefix"));
	gw.prefixes[0] = pfx("2001:db8::/32");
	p = pfx("2001:db8::/64");
	EXPECT(mgr_policy_check(&in, &p, 1, NULL, why, sizeof(why)) == -EPERM &&
	       strstr(why, "covers the manager's endpoint 2001:db8::1"));
	p = pfx("2001:db8:0:1::/64");
	EXPECT(mgr_policy_check(&in, &p, 1, &ep, why, sizeof(why)) == 0);
	own = addr("2001:db8:0:1::11");
	EXPECT(mgr_policy_check(&in, &p, 1, &own, why, sizeof(why)) == -EPERM &&
	       strstr(why, "covers its own endpoint"));
	/* An IPv4 prefix never overlaps an IPv6 control prefix, even
	 * 0.0.0.0/1 (the families share no address). */
	gw.prefixes[1] = pfx("0.0.0.0/1");
	p = pfx("0.0.0.0/1");
	EXPECT(mgr_policy_check(&in, &p, 1, NULL, why, sizeof(why)) == 0);
	if (cur_fail)
		printf("# why: %s\n", why);
}

int main(void)
{
	char cmd[128];
	int ret;

	rd_log_level = RD_LOG_ERROR - 1;
	snprintf(dir, sizeof(dir), "/tmp/rd-ipv6-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("TAP version 13\n1..6\n");
	run("config: an IPv6 control network, lengths, families", t_config);
	run("config: refusals name the rule", t_config_bad);
	run("ctlnet: gateway ids of either family, their rctl0 allowed-ips", t_ctlnet);
	run("token: IPv6 control network and endpoints, refusals", t_token);
	run("invite: IPv6 ids into the store, the token, the identity", t_invite);
	run("policy: against an IPv6 control prefix", t_policy);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ret = system(cmd);
	(void)ret;
	return failed ? 1 : 0;
}
