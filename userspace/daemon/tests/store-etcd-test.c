// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd etcd store unit tests (store-etcd.c through store.h), against a
 * real etcd started here on 127.0.0.1, on free ports, in a temporary
 * directory: store-test.c's cases that do not look inside SQLite, run on
 * etcd (the file is included, so a case changed there is changed here),
 * then what only etcd has: the layout, two handles racing on one VPN,
 * etcd's limits, TLS with a client certificate (made here with openssl)
 * and password authentication. KTAP; skipped (exit 0) when etcd is not
 * installed.
 *
 *   store-etcd-test            run the tests
 *   store-etcd-test bench N    time N commits on etcd, against a bare etcd
 *                              put (the floor) and SQLite (a benchmark:
 *                              build without SANITIZE)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"
#include "etcd-http.h"
#include "etcd-raft.h"
#include "store.h"
#include "store-etcd.h"

/* The etcd under test: the conf every store of a case is opened with. */
static struct rd_etcd_conf conf;
static char tmp[64];
static bool etcd_failed;
static int test_pid;		/* names the prefixes: the same in a child */

static struct rd_store *etcd_sopen(const char *dir);
static int etcd_open_dir(const char *dir, struct rd_store **out, char *err, size_t errlen);
static struct sqlite3 *etcd_check(struct rd_store *s);

/* store-test.c's cases, on etcd: a directory names a prefix, and its one
 * look inside the engine, integrity_ok(), checks etcd's key index. */
#define main store_sqlite_test_main
#define rd_store_open etcd_open_dir
#define rd_store_sqlite etcd_check
#include "store-test.c"
#undef main
#undef rd_store_open
#undef rd_store_sqlite

static int etcd_open_dir(const char *dir, struct rd_store **out, char *err, size_t errlen)
{
	struct rd_etcd_conf c = conf;
	const char *rel = strncmp(dir, root, strlen(root)) ? dir : dir + strlen(root);

	snprintf(c.prefix, sizeof(c.prefix), "/t%d%s/", test_pid, rel);
	return rd_store_open_etcd(&c, out, err, errlen);
}

static struct rd_store *etcd_sopen(const char *dir)
{
	return sopen(dir);
}

/* ---- talking to etcd directly ---------------------------------------- */

static json_t *raw(const struct rd_etcd_conf *c, const char *path, json_t *req)
{
	struct rd_etcd *e;
	char err[512];
	json_t *resp = NULL;

	if (rd_etcd_open(c, &e, err, sizeof(err))) {
		json_decref(req);
		printf("# %s\n", err);
		return NULL;
	}
	if (rd_etcd_call(e, path, req, &resp, err, sizeof(err)))
		printf("# %s\n", err);
	rd_etcd_close(e);
	return resp;
}

static json_t *b64s(const char *s)
{
	char *b = rd_etcd_b64(s, strlen(s));
	json_t *j = json_string(b);

	free(b);
	return j;
}

static bool raw_put(const char *key, const char *val)
{
	json_t *r = raw(&conf, "kv/put", json_pack("{s:o, s:o}", "key", b64s(key), "value",
						  b64s(val)));

	json_decref(r);
	return r != NULL;
}

/* The values of every key under prefix, "key=value\n" each, into buf. */
static void raw_dump(const char *prefix, char *buf, size_t len)
{
	char end[256];
	json_t *r, *kv;
	size_t i, off = 0;

	snprintf(end, sizeof(end), "%s", prefix);
	end[strlen(end) - 1]++;
	r = raw(&conf, "kv/range", json_pack("{s:o, s:o}", "key", b64s(prefix), "range_end",
					    b64s(end)));
	buf[0] = 0;
	json_array_foreach(json_object_get(r, "kvs"), i, kv) {
		char *k = NULL, *v = NULL;
		size_t n;
		const char *vs = json_string_value(json_object_get(kv, "value"));

		rd_etcd_unb64(json_string_value(json_object_get(kv, "key")), &k, &n);
		if (vs)
			rd_etcd_unb64(vs, &v, &n);
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s=%s\n",
					k ? k + strlen(prefix) : "?", v ? v : "");
		free(k);
		free(v);
	}
	json_decref(r);
}

/* etcd's integrity: the key index P/key/ names exactly the keys of the
 * gateways and invitations. (The cases ask the SQLite connection; here
 * they get an empty in-memory database, whose check passes, once this
 * one did.) */
static struct sqlite3 *etcd_check(struct rd_store *s)
{
	static sqlite3 *mem;
	struct rd_entry *g = NULL, *v = NULL;
	unsigned int ng = 0, nv = 0, nk = 0;
	static char dump[1 << 16];
	char prefix[128], *line, *save = NULL;
	const char *d = rd_store_describe(s);

	if (!mem)
		sqlite3_open(":memory:", &mem);
	snprintf(prefix, sizeof(prefix), "%skey/", strstr(d, "prefix ") + 7);
	raw_dump(prefix, dump, sizeof(dump));
	EXPECT(rd_store_gateways(s, &g, &ng) == 0 && rd_store_invites(s, &v, &nv) == 0);
	for (line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool found = false;
		char hexkey[65];

		nk++;
		for (unsigned int i = 0; i < ng + nv && !found; i++) {
			const uint8_t *key = i < ng ? g[i].key : v[i - ng].key;

			for (int b = 0; b < 32; b++)
				sprintf(hexkey + 2 * b, "%02x", key[b]);
			found = !strncmp(line, hexkey, 64) &&
				strstr(line, i < ng ? "\"gateway\"" : "\"invitation\"");
		}
		if (!found)
			printf("# key index entry without its record: %s\n", line);
		EXPECT(found);
	}
	EXPECT(nk == ng + nv);
	free(g);
	free(v);
	return mem;
}

/* ---- configuration ------------------------------------------------------ */

static void t_etcd_config(void)
{
	static struct rd_config c;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "store = mysql\n", "store: expected sqlite or etcd, got 'mysql'" },
		{ "store = etcd\n", "store = etcd needs etcd-endpoints" },
		{ "etcd-endpoints = http://127.0.0.1:2379\n", "etcd-* options need store = etcd" },
		{ "store = sqlite\netcd-prefix = /r/\n", "etcd-* options need store = etcd" },
		{ "store = etcd\netcd-endpoints = 127.0.0.1:2379\n",
		  "line 3: etcd-endpoints: '127.0.0.1:2379' is not an http:// or https:// URL" },
		{ "store = etcd\netcd-endpoints = http://a:1, ftp://b:2\n", "'ftp://b:2' is not" },
		{ "store = etcd\netcd-endpoints = http://a:1\netcd-prefix = roster\n",
		  "etcd-prefix: must begin and end with '/'" },
		{ "store = etcd\netcd-endpoints = http://a:1\netcd-prefix = /roster\n",
		  "etcd-prefix: must begin and end with '/'" },
		{ "store = etcd\netcd-endpoints = https://a:1\netcd-cacert = ca.pem\n",
		  "etcd-cacert: must be an absolute path, got 'ca.pem'" },
		{ "store = etcd\netcd-endpoints = https://a:1\netcd-cert = /c.pem\n",
		  "etcd-cert and etcd-key go together" },
		{ "store = etcd\netcd-endpoints = https://a:1\netcd-user = mgr\n",
		  "etcd-user and etcd-password-file go together" },
		{ "store = etcd\netcd-endpoints = http://a:1\netcd-endpoints = http://b:1\n",
		  "duplicate key 'etcd-endpoints'" },
		{ "etcd-servers = http://a:1\n", "unknown key 'etcd-servers' in [manager]" },
	};
	char err[256], text[512];

	/* The default: SQLite, no etcd option. */
	EXPECT(rd_config_parse("[manager]\n", RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(!c.store_etcd && !c.etcd.endpoints[0]);
	EXPECT(rd_config_parse("[manager]\nstore = sqlite\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == 0 && !c.store_etcd);
	/* Everything given. */
	EXPECT(rd_config_parse("[manager]\nstore = etcd\n"
			       "etcd-endpoints = https://10.0.0.1:2379, https://10.0.0.2:2379\n"
			       "etcd-prefix = /roster/site-a/\netcd-cacert = /etc/rosterd/ca.pem\n"
			       "etcd-cert = /etc/rosterd/m1.pem\netcd-key = /etc/rosterd/m1.key\n"
			       "etcd-user = rosterd\netcd-password-file = /etc/rosterd/etcd.pw\n",
			       RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.store_etcd && !strcmp(c.etcd.endpoints, "https://10.0.0.1:2379, https://10.0.0.2:2379"));
	EXPECT(!strcmp(c.etcd.prefix, "/roster/site-a/") && !strcmp(c.etcd.cacert, "/etc/rosterd/ca.pem"));
	EXPECT(!strcmp(c.etcd.cert, "/etc/rosterd/m1.pem") && !strcmp(c.etcd.key, "/etc/rosterd/m1.key"));
	EXPECT(!strcmp(c.etcd.user, "rosterd") &&
	       !strcmp(c.etcd.password_file, "/etc/rosterd/etcd.pw"));
	/* The prefix's default. */
	EXPECT(rd_config_parse("[manager]\nstore = etcd\netcd-endpoints = http://127.0.0.1:2379\n",
			       RD_ROLE_MANAGER, &c, err, sizeof(err)) == 0);
	EXPECT(c.store_etcd && !strcmp(c.etcd.prefix, "/roster/"));
	/* Not a gateway's. */
	EXPECT(rd_config_parse("[gateway]\nstore = etcd\n", RD_ROLE_GATEWAY, &c, err,
			       sizeof(err)) == -EINVAL && strstr(err, "unknown key 'store'"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[manager]\n%s", bad[i].text);
		err[0] = 0;
		EXPECT(rd_config_parse(text, RD_ROLE_MANAGER, &c, err, sizeof(err)) == -EINVAL);
		if (!strstr(err, bad[i].want))
			printf("# case %zu: got '%s', want '%s'\n", i, err, bad[i].want);
		EXPECT(strstr(err, bad[i].want));
	}
}

/* ---- the etcd server --------------------------------------------------- */

static pid_t etcd_pid;

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &l))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void etcd_stop(void)
{
	int st;

	if (etcd_pid > 0) {
		kill(etcd_pid, SIGTERM);
		waitpid(etcd_pid, &st, 0);
	}
	etcd_pid = 0;
}

/* Start etcd in tmp/NAME, TLS if tls (tmp/ca.pem, server.pem...), and
 * wait until it answers (conf is set up to reach it). */
static bool etcd_start(const char *name, bool tls, const char *extra)
{
	char dir[128], log[160], cu[64], pu[64], cmd[2048];
	uint16_t cp = free_port(), pp = free_port();

	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmp, name);
	snprintf(cu, sizeof(cu), "%s://127.0.0.1:%u", tls ? "https" : "http", cp);
	snprintf(pu, sizeof(pu), "http://127.0.0.1:%u", pp);
	snprintf(cmd, sizeof(cmd),
		 "exec etcd --name %s --data-dir %s --listen-client-urls %s "
		 "--advertise-client-urls %s --listen-peer-urls %s --initial-advertise-peer-urls %s "
		 "--initial-cluster %s=%s --log-level error %s%s%s%s >%s 2>&1",
		 name, dir, cu, cu, pu, pu, name, pu,
		 tls ? "--client-cert-auth --trusted-ca-file " : "", tls ? tmp : "",
		 tls ? "/ca.pem --cert-file server.pem --key-file server.key " : "", extra, log);
	etcd_pid = fork();
	if (etcd_pid == 0) {
		/* etcd goes with this test, however it ends (exec keeps it) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (chdir(tmp))
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	memset(&conf, 0, sizeof(conf));
	snprintf(conf.endpoints, sizeof(conf.endpoints), "%s", cu);
	if (tls) {
		snprintf(conf.cacert, sizeof(conf.cacert), "%s/ca.pem", tmp);
		snprintf(conf.cert, sizeof(conf.cert), "%s/client.pem", tmp);
		snprintf(conf.key, sizeof(conf.key), "%s/client.key", tmp);
	}
	for (int i = 0; i < 100; i++) {
		struct rd_etcd *e;
		char err[512];
		json_t *r = NULL;

		usleep(100000);
		if (rd_etcd_open(&conf, &e, err, sizeof(err)))
			continue;
		rd_etcd_call(e, "kv/range", json_pack("{s:s}", "key", "eA=="), &r, err, sizeof(err));
		rd_etcd_close(e);
		if (r) {
			json_decref(r);
			return true;
		}
	}
	printf("# etcd did not start (%s):\n", log);
	snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s", log);
	if (system(cmd))
		printf("# (no log)\n");
	etcd_stop();
	return false;
}

/* ---- what only etcd has ------------------------------------------------ */

static void t_etcd_layout(void)
{
	const char *d = newdir("layout");
	struct rd_store *s = etcd_sopen(d), *s2 = NULL;
	struct roster_member m;
	static char dump[1 << 16];
	char prefix[128], err[512];
	uint8_t id[16];

	if (!s)
		return;
	EXPECT(strstr(rd_store_describe(s), "etcd cluster http://127.0.0.1:") &&
	       strstr(rd_store_describe(s), "/layout/"));
	memcpy(id, rd_store_identity(s), 16);
	mk_member(&m, 5, 2, 2);
	EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, ROSTER_VPN_F_NESTED_PREFIXES) == 0);
	EXPECT(commit_put(s, 7, 1, 2, &m) == 0);
	rd_store_close(s);
	/* The keys of Documentation/etcd.rst, readable with etcdctl. */
	snprintf(prefix, sizeof(prefix), "/t%d/layout/", test_pid);
	raw_dump(prefix, dump, sizeof(dump));
	EXPECT(strstr(dump, "schema=1\n") && strstr(dump, "vpn/00000007=2\n") &&
	       strstr(dump, "flags/00000007=2\n"));
	EXPECT(strstr(dump, "member/00000007/0a000005={\"endpoint\":\"192.0.2.5\""));
	EXPECT(strstr(dump, "\"prefixes\":[\"11.5.0.0/24\",\"2001:db8:100:0:500::/48\"]") ||
	       strstr(dump, "\"prefixes\":[\"11.5.0.0/24\","));
	EXPECT(strstr(dump, "\"join_generation\":\"2\""));
	/* Reopened: the same identity and data. */
	s = etcd_sopen(d);
	if (s) {
		EXPECT(!memcmp(rd_store_identity(s), id, 16));
		EXPECT(gen_of(s, 7) == 2);
		/* Backups are etcd's. */
		EXPECT(rd_store_backup(s, "/nonexistent") == -EOPNOTSUPP &&
		       strstr(rd_store_errmsg(s), "etcdctl snapshot save"));
		rd_store_close(s);
	}
	/* A newer layout (a newer rosterd wrote it) is refused. */
	{
		char k[160];

		snprintf(k, sizeof(k), "%sschema", prefix);
		EXPECT(raw_put(k, "2"));
		EXPECT(etcd_open_dir(d, &s2, err, sizeof(err)) == -EPROTO && !s2 &&
		       strstr(err, "upgrade rosterd"));
		EXPECT(raw_put(k, "1"));
	}
	/* Unreachable etcd: a clear error, after every endpoint. */
	{
		struct rd_etcd_conf c = conf;

		snprintf(c.endpoints, sizeof(c.endpoints), "http://127.0.0.1:%u,http://127.0.0.1:%u",
			 free_port(), free_port());
		snprintf(c.prefix, sizeof(c.prefix), "%s", prefix);
		EXPECT(rd_store_open_etcd(&c, &s2, err, sizeof(err)) == -ECONNREFUSED && !s2);
		printf("# unreachable: %s\n", err);
		EXPECT(strstr(err, "127.0.0.1"));
		/* The first endpoint down, the second one up: served. */
		snprintf(c.endpoints, sizeof(c.endpoints), "http://127.0.0.1:%u,%.900s",
			 free_port(), conf.endpoints);
		snprintf(c.prefix, sizeof(c.prefix), "%s", prefix);
		EXPECT(rd_store_open_etcd(&c, &s2, err, sizeof(err)) == 0 && s2);
		if (s2)
			EXPECT(!memcmp(rd_store_identity(s2), id, 16));
		rd_store_close(s2);
		/* The first one a black hole (TEST-NET-1, never answers a
		 * connection): tried within the connect timeout, then the next. */
		snprintf(c.endpoints, sizeof(c.endpoints), "http://192.0.2.1:2379,%.900s",
			 conf.endpoints);
		EXPECT(rd_store_open_etcd(&c, &s2, err, sizeof(err)) == 0 && s2);
		if (!s2)
			printf("# %s\n", err);
		rd_store_close(s2);
	}
}

/* Two managers' handles on one VPN: each change names the generation it
 * follows, so of two racing changes exactly one commits. */
static void t_etcd_race(void)
{
	const char *d = newdir("race");
	struct rd_store *a = etcd_sopen(d), *b = etcd_sopen(d);
	struct roster_member m;
	int wins = 0;

	if (!a || !b)
		goto out;
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	for (uint64_t g = 1; g < 40; g++) {
		pid_t p;
		int st, ra;

		int go[2];
		char x = 0;

		mk_member(&m, (uint32_t)g, g + 1, 1);
		if (pipe(go))
			break;
		p = fork();
		if (p == 0) {
			/* the child's own connection: a handle never crosses fork() */
			struct rd_store *c = NULL;
			char err[512];

			if (etcd_open_dir(d, &c, err, sizeof(err)))
				_exit(3);
			/* both commit at once, each on its own connection */
			if (write(go[1], "", 1) != 1)
				_exit(4);
			if (commit_put(c, 7, g, g + 1, &m) == 0)
				_exit(0);
			printf("# child: %s\n", rd_store_errmsg(c));
			fflush(stdout);
			_exit(1);
		}
		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			EXPECT(!"the child started");
		close(go[0]);
		if (g % 2)
			usleep(20000);	/* let the child win some */
		ra = commit_put(b, 7, g, g + 1, &m);
		waitpid(p, &st, 0);
		EXPECT(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
		EXPECT(ra == 0 || ra == -ESTALE);
		/* exactly one of the two */
		EXPECT((ra == 0) + (WIFEXITED(st) && WEXITSTATUS(st) == 0) == 1);
		wins += ra == 0;
	}
	EXPECT(gen_of(a, 7) == 40);
	EXPECT(wins > 0 && wins < 39);
	printf("# this handle won %d of 39 races\n", wins);
	/* A replacement and a change of any generation also hold the line. */
	{
		struct roster_member ms[20];

		for (unsigned int i = 0; i < 20; i++)
			mk_member(&ms[i], 100 + i, 50, i % 3);
		EXPECT(commit_replace(a, 7, 40, 41, ms, 20) == 0);
		EXPECT(commit_replace(b, 7, 40, 42, ms, 10) == -ESTALE);
		EXPECT(commit_replace(b, 7, 41, 42, ms + 5, 10) == 0);
		EXPECT(commit_put(a, 7, RD_STORE_ANY_GEN, 60, &m) == 0);
		{
			struct rd_store_vpn v;

			EXPECT(rd_store_vpn_get(a, 7, &v) == 0 && v.generation == 60 && v.n == 11);
			for (unsigned int i = 0; i < v.n && i < 10; i++)
				EXPECT(member_eq(&v.members[i + 1], &ms[5 + i]));
			rd_store_vpn_release(&v);
		}
	}
	/* Another's commit is news even when this handle committed after it. */
	rd_store_changed(a);
	rd_store_changed(b);
	EXPECT(commit_op(b, RD_STORE_VPN_PUT, 8, 0, 1, 0) == 0);
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 9, 0, 1, 0) == 0);
	EXPECT(rd_store_changed(a) && !rd_store_changed(a));
	EXPECT(rd_store_changed(b) && !rd_store_changed(b));
out:
	rd_store_close(a);
	rd_store_close(b);
}

/* etcd bounds a transaction (--max-txn-ops, 128 by default): a bigger
 * replacement is refused whole, with the way out in the message. */
static void t_etcd_limits(void)
{
	struct rd_store *s = etcd_sopen(newdir("limits"));
	static struct roster_member ms[300];
	struct rd_store_vpn v;

	if (!s)
		return;
	for (unsigned int i = 0; i < 300; i++)
		mk_member(&ms[i], i + 1, 3, 1);
	EXPECT(commit_replace(s, 7, 0, 2, ms, 100) == 0);
	EXPECT(commit_replace(s, 7, 2, 3, ms, 300) == -E2BIG);
	printf("# %s\n", rd_store_errmsg(s));
	EXPECT(strstr(rd_store_errmsg(s), "too many operations"));
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 2 && v.n == 100);
	rd_store_vpn_release(&v);
	/* One by one, any number (and a load of them all). */
	for (unsigned int i = 100; i < 300; i++)
		EXPECT(commit_put(s, 7, i - 98, i - 97, &ms[i]) == 0);
	EXPECT(rd_store_vpn_get(s, 7, &v) == 0 && v.generation == 202 && v.n == 300);
	rd_store_vpn_release(&v);
	rd_store_close(s);
}


/*
 * Leadership: one leader per lease; a leader that lost its lease cannot
 * commit (-EPERM, nothing changes) and does not lead any more; the next
 * one takes over once the lease is gone, and a resignation hands over
 * at once.
 */
static void t_etcd_leader(void)
{
	const char *d = newdir("leader");
	struct rd_store *a = etcd_sopen(d), *b = etcd_sopen(d), *cli = etcd_sopen(d);
	struct roster_member m;
	bool la = false, lb = true;
	char name[64];

	if (!a || !b || !cli)
		goto out;
	EXPECT(rd_store_leader(cli, name, sizeof(name)) == 0 && !strcmp(name, ""));
	EXPECT(rd_store_campaign(a, "mgr-a", 2, &la) == 0 && la);
	EXPECT(rd_store_campaign(b, "mgr-b", 2, &lb) == 0 && !lb);
	EXPECT(rd_store_leader(cli, name, sizeof(name)) == 0 && !strcmp(name, "mgr-a"));
	/* a renewal keeps the term */
	EXPECT(rd_store_campaign(a, "mgr-a", 2, &la) == 0 && la);
	/* a standby commits no membership change */
	EXPECT(commit_op(b, RD_STORE_VPN_PUT, 9, 0, 1, 0) == -EPERM &&
	       strstr(rd_store_errmsg(b), "standby"));
	mk_member(&m, 1, 2, 1);
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(commit_put(a, 7, 1, 2, &m) == 0);
	/* a handle that never campaigned is not fenced (rosterd invite) */
	EXPECT(commit_op(cli, RD_STORE_VPN_PUT, 8, 0, 1, 0) == 0);
	/* a's lease runs out (no renewal); b takes over */
	sleep(3);
	EXPECT(rd_store_campaign(b, "mgr-b", 2, &lb) == 0 && lb);
	EXPECT(rd_store_leader(cli, name, sizeof(name)) == 0 && !strcmp(name, "mgr-b"));
	mk_member(&m, 2, 3, 1);
	EXPECT(commit_put(a, 7, 2, 3, &m) == -EPERM);
	EXPECT(strstr(rd_store_errmsg(a), "no longer the leader") &&
	       strstr(rd_store_errmsg(a), "mgr-b"));
	EXPECT(gen_of(cli, 7) == 2);
	/* deposed, it stays refused: its next commit is not unfenced */
	EXPECT(commit_put(a, 7, 2, 3, &m) == -EPERM);
	EXPECT(gen_of(cli, 7) == 2 && gen_of(cli, 9) == 0);
	/* the same change through the new leader commits */
	EXPECT(commit_put(b, 7, 2, 3, &m) == 0);
	EXPECT(gen_of(cli, 7) == 3);
	/* the deposed one asks again: b's term holds */
	EXPECT(rd_store_campaign(a, "mgr-a", 2, &la) == 0 && !la);
	/* b resigns: a leads at once, and b is fenced */
	EXPECT(rd_store_resign(b) == 0);
	EXPECT(rd_store_campaign(a, "mgr-a", 2, &la) == 0 && la);
	mk_member(&m, 3, 4, 1);
	EXPECT(commit_put(b, 7, 3, 4, &m) == 0);	/* resigned: not fenced, as a CLI */
	EXPECT(commit_put(a, 7, 4, 5, &m) == 0);
	EXPECT(gen_of(cli, 7) == 5);
	EXPECT(rd_store_resign(a) == 0);
	EXPECT(rd_store_leader(cli, name, sizeof(name)) == 0 && !strcmp(name, ""));
out:
	rd_store_close(a);
	rd_store_close(b);
	rd_store_close(cli);
}

static void mk_manager(struct rd_store_manager *mg, const char *name, uint8_t k, const char *ep,
		       uint16_t port, const char *ctl)
{
	memset(mg, 0, sizeof(*mg));
	snprintf(mg->name, sizeof(mg->name), "%s", name);
	memset(mg->key, k, 32);
	if (ep)
		roster_addr_parse(ep, &mg->endpoint);
	mg->port = port;
	roster_addr_parse(ctl, &mg->control_addr);
}

/* The manager set: every record back by name, an update seen, an
 * unchanged one not rewritten (nobody reloads for it), a name that is not
 * a key refused. */
static void t_etcd_managers(void)
{
	const char *d = newdir("managers");
	struct rd_store *a = etcd_sopen(d), *b = etcd_sopen(d);
	struct rd_store_manager m1, m2, got[RD_STORE_MANAGERS_MAX];
	unsigned int n = 99;

	if (!a || !b)
		goto out;
	EXPECT(rd_store_managers(b, got, RD_STORE_MANAGERS_MAX, &n) == 0 && n == 0);
	mk_manager(&m2, "m2", 2, "192.0.2.2", 51802, "10.255.0.2");
	mk_manager(&m1, "m1", 1, NULL, 51801, "fd00::1");
	EXPECT(rd_store_manager_put(a, &m2) == 0);
	EXPECT(rd_store_manager_put(a, &m1) == 0);
	EXPECT(rd_store_managers(b, got, RD_STORE_MANAGERS_MAX, &n) == 0 && n == 2);
	EXPECT(!memcmp(&got[0], &m1, sizeof(m1)) && !memcmp(&got[1], &m2, sizeof(m2)));
	EXPECT(rd_store_managers(b, got, 1, &n) == -E2BIG);
	rd_store_changed(b);
	EXPECT(rd_store_manager_put(a, &m2) == 0);
	EXPECT(!rd_store_changed(b));
	m2.port = 51900;
	EXPECT(rd_store_manager_put(a, &m2) == 0);
	EXPECT(rd_store_changed(b));
	EXPECT(rd_store_managers(b, got, RD_STORE_MANAGERS_MAX, &n) == 0 && n == 2 &&
	       got[1].port == 51900);
	mk_manager(&m1, "a/b", 1, NULL, 1, "10.255.0.9");
	EXPECT(rd_store_manager_put(a, &m1) == -EINVAL);
	EXPECT(rd_store_managers(b, got, RD_STORE_MANAGERS_MAX, &n) == 0 && n == 2);
out:
	rd_store_close(a);
	rd_store_close(b);
}

/* Move s's watch on for up to ms, until the bits of want have come (all
 * of them; 0: the whole time): what it reported. */
static unsigned int wpump(struct rd_store *s, int ms, unsigned int want)
{
	struct timespec ts;
	int64_t end, now;
	unsigned int f = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	end = now + ms;
	while (now < end && (!want || (f & want) != want)) {
		struct pollfd p;
		int t = rd_store_watch_poll(s, &p), n;

		if (t < 0 || t > 20)
			t = 20;
		n = poll(&p, 1, t);
		f |= rd_store_watch_run(s, n > 0 ? p.revents : 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	return f;
}

/* The watch: another handle's commits arrive (from the revision the
 * handle opened at, also those made before it first looked), its own do
 * not; the leadership's end arrives at once; after a compaction the
 * handle is told to read again, and follows on. */
static void t_etcd_watch(void)
{
	const char *d = newdir("watch");
	struct rd_store *a = etcd_sopen(d), *b = etcd_sopen(d), *late = NULL;
	struct roster_member m;
	unsigned int f;
	bool la = false, lb = false;

	if (!a || !b)
		goto out;
	late = etcd_sopen(d);
	if (!late)
		goto out;
	/* established: nothing to report yet */
	EXPECT(wpump(a, 400, 0) == 0);
	EXPECT(wpump(b, 400, 0) == 0);
	rd_store_changed(b);
	mk_member(&m, 1, 2, 1);
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(commit_put(a, 7, 1, 2, &m) == 0);
	f = wpump(b, 3000, RD_STORE_W_VPN);
	EXPECT(f == RD_STORE_W_VPN);
	wpump(b, 300, 0);	/* the second commit may come in its own answer */
	EXPECT(rd_store_changed(b));
	EXPECT(!rd_store_changed(b));
	/* a's own commits are no news to a */
	EXPECT(wpump(a, 500, 0) == 0);
	EXPECT(!rd_store_changed(a));
	/* b's own commit: nothing for b, news for a */
	mk_member(&m, 2, 3, 1);
	EXPECT(commit_put(b, 7, 2, 3, &m) == 0);
	EXPECT(wpump(b, 500, 0) == 0);
	EXPECT(!rd_store_changed(b));
	EXPECT(wpump(a, 3000, RD_STORE_W_VPN) == RD_STORE_W_VPN);
	wpump(a, 300, 0);
	EXPECT(rd_store_changed(a));
	/* an enrolment-side change is rd_store_changed's, not a bit */
	{
		struct rd_store_manager mg = { .name = "w1", .port = 51820 };

		memset(mg.key, 7, 32);
		roster_addr_parse("10.255.0.7", &mg.control_addr);
		EXPECT(rd_store_manager_put(a, &mg) == 0);
	}
	EXPECT(wpump(b, 1500, 0) == 0);
	EXPECT(rd_store_changed(b));
	/* by hand (etcdctl del): no P/writer, yet the watch sees it */
	{
		char key[128], *b64k;
		json_t *r;

		snprintf(key, sizeof(key), "/t%d/watch/manager/w1", test_pid);
		b64k = rd_etcd_b64(key, strlen(key));
		r = raw(&conf, "kv/deleterange", json_pack("{s:s}", "key", b64k));
		EXPECT(r && rd_etcd_int(r, "deleted") == 1);
		json_decref(r);
		free(b64k);
	}
	EXPECT(wpump(b, 1500, 0) == 0);
	EXPECT(rd_store_changed(b));
	/* the leadership: a's own campaign is no news to a; its resignation
	 * reaches b at once */
	EXPECT(rd_store_campaign(a, "mgr-a", 5, &la) == 0 && la);
	EXPECT(wpump(a, 500, 0) == 0);
	EXPECT(wpump(b, 2000, RD_STORE_W_LEADER) & RD_STORE_W_LEADER);
	EXPECT(rd_store_resign(a) == 0);
	EXPECT(wpump(b, 2000, RD_STORE_W_LEADER) == RD_STORE_W_LEADER);
	EXPECT(rd_store_campaign(b, "mgr-b", 5, &lb) == 0 && lb);
	EXPECT(rd_store_resign(b) == 0);
	/* late opened before all of this and never looked: it gets the
	 * commits since its open; then etcd compacts, and it is told */
	EXPECT(wpump(late, 3000, RD_STORE_W_VPN) & RD_STORE_W_VPN);
	rd_store_close(late);
	late = etcd_sopen(d);
	if (!late)
		goto out;
	/* two commits: the one after its open is compacted away */
	mk_member(&m, 3, 4, 1);
	EXPECT(commit_put(a, 7, 3, 4, &m) == 0);
	mk_member(&m, 4, 5, 1);
	EXPECT(commit_put(a, 7, 4, 5, &m) == 0);
	{
		json_t *r = raw(&conf, "kv/range", json_pack("{s:s}", "key", "Lw=="));
		char rev[24];

		snprintf(rev, sizeof(rev), "%lld",
			 (long long)rd_etcd_int(json_object_get(r, "header"), "revision"));
		json_decref(r);
		r = raw(&conf, "kv/compaction", json_pack("{s:s}", "revision", rev));
		EXPECT(r != NULL);
		json_decref(r);
	}
	f = wpump(late, 3000, RD_STORE_W_LOST);
	EXPECT(f & RD_STORE_W_LOST);
	EXPECT(rd_store_changed(late));
	wpump(late, 300, 0);
	mk_member(&m, 5, 6, 1);
	EXPECT(commit_put(a, 7, 5, 6, &m) == 0);
	EXPECT(wpump(late, 3000, RD_STORE_W_VPN) == RD_STORE_W_VPN);
out:
	rd_store_close(a);
	rd_store_close(b);
	rd_store_close(late);
}

static const char *jstr(json_t *o, const char *k, const char *none)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : none;
}

/* etcd's raft leader moved off "this host": the pure choice, then a
 * three-member cluster on 127.0.0.1-3 (each a "host"), read back through
 * another member's own status. */
static void t_etcd_raft(void)
{
	struct rd_etcd_member ms[3] = {
		{ .id = "11", .name = "c", .url = "http://127.0.0.3:1" },
		{ .id = "22", .name = "a", .url = "http://127.0.0.1:1", .here = true },
		{ .id = "33", .name = "b", .url = "http://127.0.0.2:1" },
	};
	struct roster_addr h, h6;
	char cl[512], dir[160], to[64], err[512], url[3][64];
	pid_t pid[3] = { 0 };
	uint16_t cp[3], pp[3];
	struct rd_etcd *e = NULL;
	struct rd_etcd_conf c = { 0 };

	roster_addr_parse("127.0.0.1", &h);
	roster_addr_parse("fd00::1", &h6);
	EXPECT(rd_etcd_url_is("http://127.0.0.1:2379", &h));
	EXPECT(rd_etcd_url_is("https://127.0.0.1", &h));
	EXPECT(!rd_etcd_url_is("http://127.0.0.10:2379", &h));
	EXPECT(rd_etcd_url_is("https://[fd00::1]:2379", &h6));
	EXPECT(!rd_etcd_url_is("https://[fd00::1]:2379", &h));
	EXPECT(!rd_etcd_url_is("etcd.example:2379", &h));
	EXPECT(rd_etcd_raft_pick(ms, 3, "22") == 2);	/* "b": the first other by name */
	EXPECT(rd_etcd_raft_pick(ms, 3, "11") == -1);	/* elsewhere already */
	EXPECT(rd_etcd_raft_pick(ms, 1, "11") == -1);
	EXPECT(rd_etcd_raft_pick(&ms[1], 1, "22") == -1);	/* nobody else */
	ms[2].down = true;
	EXPECT(rd_etcd_raft_pick(ms, 3, "22") == 0);	/* "b" is down: "c" */
	ms[0].down = true;
	EXPECT(rd_etcd_raft_pick(ms, 3, "22") == -1);
	ms[0].down = ms[2].down = false;

	cl[0] = 0;
	for (int i = 0; i < 3; i++) {
		cp[i] = free_port();
		pp[i] = free_port();
		snprintf(url[i], sizeof(url[i]), "http://127.0.0.%d:%u", i + 1, cp[i]);
		snprintf(cl + strlen(cl), sizeof(cl) - strlen(cl), "%sr%d=http://127.0.0.1:%u",
			 i ? "," : "", i, pp[i]);
	}
	for (int i = 0; i < 3; i++) {
		char cmd[1400];

		snprintf(dir, sizeof(dir), "%s/raft%d", tmp, i);
		snprintf(cmd, sizeof(cmd),
			 "exec etcd --name r%d --data-dir %s --listen-client-urls %s "
			 "--advertise-client-urls %s --listen-peer-urls http://127.0.0.1:%u "
			 "--initial-advertise-peer-urls http://127.0.0.1:%u --initial-cluster %s "
			 "--log-level error >%s.log 2>&1", i, dir, url[i], url[i], pp[i], pp[i], cl,
			 dir);
		pid[i] = fork();
		if (pid[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
	}
	snprintf(c.endpoints, sizeof(c.endpoints), "%s,%s,%s", url[0], url[1], url[2]);
	for (int t = 0; t < 100; t++) {
		json_t *r = NULL;

		usleep(100000);
		if (!e && rd_etcd_open(&c, &e, err, sizeof(err)))
			continue;
		if (!rd_etcd_call_at(e, url[0], "maintenance/status", json_object(), &r, err,
				     sizeof(err)) &&
		    json_string_value(json_object_get(r, "leader")) &&
		    strcmp(json_string_value(json_object_get(r, "leader")), "0")) {
			json_decref(r);
			break;
		}
		json_decref(r);
	}
	EXPECT(e != NULL);
	if (!e)
		goto out;
	for (int round = 0; round < 2; round++) {
		json_t *r = NULL;
		const char *lid;
		char leader[24] = "", member[24] = "";
		int at = -1;

		/* which "host" holds the raft leader now */
		for (int i = 0; i < 3 && at < 0; i++) {
			if (rd_etcd_call_at(e, url[i], "maintenance/status", json_object(), &r, err,
					    sizeof(err)))
				continue;
			lid = json_string_value(json_object_get(r, "leader"));
			snprintf(leader, sizeof(leader), "%s", lid ? lid : "");
			snprintf(member, sizeof(member), "%s",
				 jstr(json_object_get(r, "header"), "member_id", ""));
			if (!strcmp(leader, member))
				at = i;
			json_decref(r);
			r = NULL;
		}
		EXPECT(at >= 0);
		if (at < 0)
			break;
		/* a host whose member does not lead: nothing to do */
		roster_addr_parse(at == 0 ? "127.0.0.2" : "127.0.0.1", &h);
		EXPECT(rd_etcd_raft_away(e, &h, to, sizeof(to), err, sizeof(err)) == 0);
		/* no member there at all */
		roster_addr_parse("127.0.0.9", &h);
		EXPECT(rd_etcd_raft_away(e, &h, to, sizeof(to), err, sizeof(err)) == 0);
		/* the leader's host: moved, and another member says so */
		snprintf(dir, sizeof(dir), "127.0.0.%d", at + 1);
		roster_addr_parse(dir, &h);
		EXPECT(rd_etcd_raft_away(e, &h, to, sizeof(to), err, sizeof(err)) == 1);
		printf("# raft leader r%d moved to %s\n", at, to);
		usleep(300000);
		EXPECT(!rd_etcd_call_at(e, url[(at + 1) % 3], "maintenance/status", json_object(),
					&r, err, sizeof(err)) &&
		       strcmp(jstr(r, "leader", ""), leader) && strcmp(jstr(r, "leader", "0"), "0"));
		json_decref(r);
		EXPECT(rd_etcd_raft_away(e, &h, to, sizeof(to), err, sizeof(err)) == 0);
	}
	/* the first other member by name is down (the host that died): the
	 * leadership goes to the one that answers */
	{
		json_t *r = NULL;
		int at = -1, dead, live;
		char want[8];

		for (int i = 0; i < 3 && at < 0; i++) {
			if (!rd_etcd_call_at(e, url[i], "maintenance/status", json_object(), &r, err,
					     sizeof(err)) &&
			    !strcmp(jstr(r, "leader", "-"),
				    jstr(json_object_get(r, "header"), "member_id", "")))
				at = i;
			json_decref(r);
			r = NULL;
		}
		EXPECT(at >= 0);
		if (at < 0)
			goto out;
		dead = at == 0 ? 1 : 0;
		live = 3 - at - dead;
		kill(pid[dead], SIGKILL);
		waitpid(pid[dead], NULL, 0);
		pid[dead] = 0;
		snprintf(dir, sizeof(dir), "127.0.0.%d", at + 1);
		roster_addr_parse(dir, &h);
		snprintf(want, sizeof(want), "r%d", live);
		EXPECT(rd_etcd_raft_away(e, &h, to, sizeof(to), err, sizeof(err)) == 1 &&
		       !strcmp(to, want));
		printf("# r%d down: raft leader r%d moved to %s\n", dead, at, to);
	}
out:
	rd_etcd_close(e);
	for (int i = 0; i < 3; i++)
		if (pid[i] > 0) {
			int st;

			kill(pid[i], SIGTERM);
			waitpid(pid[i], &st, 0);
		}
}

static bool sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0;
}

/* A CA, a server certificate for 127.0.0.1 and a client certificate. */
static bool make_certs(void)
{
	return sh("cd %s && exec >certs.log 2>&1 && "
		  "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
		  "-subj /CN=roster-test-ca && "
		  "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
		  "-subj /CN=127.0.0.1 && "
		  "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' >server.ext && "
		  "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		  "-out server.pem -days 2 -extfile server.ext && "
		  "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
		  "-subj /CN=rosterd && "
		  "printf 'extendedKeyUsage=clientAuth\\n' >client.ext && "
		  "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		  "-out client.pem -days 2 -extfile client.ext && "
		  "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
		  "-days 2 -subj /CN=other-ca",
		  tmp);
}

static void t_etcd_tls(void)
{
	struct rd_etcd_conf good = conf, c;
	struct rd_store *s = NULL;
	char err[512];

	EXPECT(!strncmp(conf.endpoints, "https://", 8));
	/* store-test.c's cases over TLS */
	t_cas();
	t_enrol();
	t_changed();
	/* The wrong CA, no client certificate: refused, and said why. */
	c = good;
	snprintf(c.cacert, sizeof(c.cacert), "%s/other.pem", tmp);
	snprintf(c.prefix, sizeof(c.prefix), "/tls/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) < 0 && !s);
	printf("# wrong CA: %s\n", err);
	EXPECT(strstr(err, "certificate") || strstr(err, "SSL"));
	c = good;
	c.cert[0] = c.key[0] = 0;
	snprintf(c.prefix, sizeof(c.prefix), "/tls/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) < 0 && !s);
	printf("# no client certificate: %s\n", err);
	c = good;
	snprintf(c.prefix, sizeof(c.prefix), "/tls/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == 0 && s);
	rd_store_close(s);
}

/* etcd's users: with auth enabled, the configured user gets a token;
 * a wrong password is refused. */
static void t_etcd_auth(void)
{
	struct rd_etcd_conf c = conf;
	struct rd_store *s = NULL;
	char err[512], pw[128];

	EXPECT(sh("cd %s && etcdctl --endpoints %s user add root:rootpw >auth.log 2>&1 && "
		  "etcdctl --endpoints %s user add mgr:s3cret >>auth.log 2>&1 && "
		  "etcdctl --endpoints %s role add roster >>auth.log 2>&1 && "
		  "etcdctl --endpoints %s role grant-permission roster --prefix=true readwrite "
		  "/auth/ >>auth.log 2>&1 && "
		  "etcdctl --endpoints %s user grant-role mgr roster >>auth.log 2>&1 && "
		  "etcdctl --endpoints %s auth enable >>auth.log 2>&1",
		  tmp, conf.endpoints, conf.endpoints, conf.endpoints, conf.endpoints,
		  conf.endpoints, conf.endpoints));
	snprintf(pw, sizeof(pw), "%s/password", tmp);
	EXPECT(sh("printf 's3cret\\n' >%s", pw));
	snprintf(c.prefix, sizeof(c.prefix), "/auth/");
	/* no user: refused */
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == -EACCES && !s);
	printf("# no user: %s\n", err);
	snprintf(c.user, sizeof(c.user), "mgr");
	snprintf(c.password_file, sizeof(c.password_file), "%s", pw);
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == 0 && s);
	if (s) {
		EXPECT(commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0 && gen_of(s, 7) == 1);
		rd_store_close(s);
		s = NULL;
	}
	/* outside the role's prefix: refused */
	snprintf(c.prefix, sizeof(c.prefix), "/other/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == -EACCES && !s);
	printf("# outside its prefix: %s\n", err);
	EXPECT(sh("printf 'wrong\\n' >%s", pw));
	snprintf(c.prefix, sizeof(c.prefix), "/auth/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == -EACCES && !s);
	printf("# wrong password: %s\n", err);
}

/* A handle keeps the VPNs it read or wrote, valid while P/vpn/H is at
 * the revision it read: after every change, its own or another handle's
 * (even one that keeps the generation), a read is what etcd holds. */
static bool same_as_store(struct rd_store *a, struct rd_store *ref, uint32_t vpn)
{
	struct rd_store_vpn v, *all;
	unsigned int n;
	bool eq = false;

	if (rd_store_vpn_get(a, vpn, &v))
		return false;
	/* rd_store_load reads every record from etcd */
	if (!rd_store_load(ref, &all, &n)) {
		for (unsigned int i = 0; i < n; i++)
			if (all[i].id == vpn)
				eq = vpn_eq(&v, &all[i]);
		rd_store_vpns_free(all, n);
	}
	rd_store_vpn_release(&v);
	return eq;
}

static void t_etcd_cache(void)
{
	const char *d = newdir("cache");
	struct rd_store *a = etcd_sopen(d), *b = etcd_sopen(d);
	struct roster_member ms[12], m6;
	uint64_t g = 1;

	if (!a || !b)
		goto out;
	for (unsigned int i = 0; i < 12; i++)
		mk_member(&ms[i], i * 37 % 11 + 1, 5, i % 3);
	/* an IPv6 id among the IPv4 ones: the order is the ids' bytes */
	mk_member(&m6, 3, 5, 1);
	m6.id.family = AF_INET6;
	inet_pton(AF_INET6, "a00::3", m6.id.addr);
	EXPECT(commit_op(a, RD_STORE_VPN_PUT, 7, 0, g, 2) == 0);
	EXPECT(same_as_store(a, b, 7));
	for (unsigned int i = 0; i < 12; i++) {
		EXPECT(commit_put(a, 7, g, g + 1, &ms[i]) == 0);
		g++;
		EXPECT(same_as_store(a, b, 7));
	}
	EXPECT(commit_put(a, 7, g, g + 1, &m6) == 0);
	g++;
	EXPECT(same_as_store(a, b, 7));
	EXPECT(commit_del(a, 7, g, g + 1, 5) == 0);
	g++;
	EXPECT(same_as_store(a, b, 7));
	EXPECT(commit_replace(a, 7, g, g + 1, ms + 3, 6) == 0);
	g++;
	EXPECT(same_as_store(a, b, 7));
	/* b changes the members and keeps the generation: a sees it */
	mk_member(&ms[0], 9, 77, 4);
	EXPECT(commit_put(b, 7, RD_STORE_ANY_GEN, g, &ms[0]) == 0);
	EXPECT(same_as_store(a, b, 7));
	{
		struct rd_store_vpn v;

		EXPECT(rd_store_vpn_get(a, 7, &v) == 0 && v.generation == g);
		for (unsigned int i = 0; i < v.n; i++)
			if (v.members[i].id.addr[3] == 9)
				EXPECT(member_eq(&v.members[i], &ms[0]));
		rd_store_vpn_release(&v);
	}
	/* a's next commit follows b's: its copy was dropped, not patched */
	EXPECT(commit_del(a, 7, g, g + 1, 4) == 0);
	g++;
	EXPECT(same_as_store(a, b, 7));
	/* deleted and created again by b */
	EXPECT(commit_op(b, RD_STORE_VPN_DEL, 7, g, 0, 0) == 0);
	EXPECT(commit_op(b, RD_STORE_VPN_PUT, 7, 0, 1, 0) == 0);
	EXPECT(same_as_store(a, b, 7));
	EXPECT(commit_op(a, RD_STORE_VPN_DEL, 7, 1, 0, 0) == 0);
	{
		struct rd_store_vpn v;

		EXPECT(rd_store_vpn_get(a, 7, &v) == -ENOENT);
	}
out:
	rd_store_close(a);
	rd_store_close(b);
}

/* A key belongs to one gateway or invitation (two rctl0 peers cannot
 * share one): checked in the enrolment's transaction, also against
 * another handle enrolling at the same moment. */
static void t_etcd_keys(void)
{
	const char *d = newdir("keys");
	struct rd_store *s = etcd_sopen(d);
	struct rd_entry inv, gw, *e;
	uint8_t old[32];
	unsigned int n;
	bool had;
	int both = 0;

	if (!s)
		return;
	entry(&inv, 0x0aff000b, 0xa1, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&gw, 0x0aff000b, 0xb2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	entry(&inv, 0x0aff000c, 0xa2, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	entry(&inv, 0x0aff000d, 0xa3, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
	/* another gateway's key, an invitation's (its own included) */
	entry(&gw, 0x0aff000c, 0xb2, 0, 0);
	memset(inv.key, 0xa2, 32);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == -EEXIST);
	EXPECT(strstr(rd_store_errmsg(s), "already used by an enrolled gateway"));
	entry(&gw, 0x0aff000c, 0xa3, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == -EEXIST);
	EXPECT(strstr(rd_store_errmsg(s), "already used by a pending invitation"));
	entry(&gw, 0x0aff000c, 0xa2, 0, 0);
	EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == -EEXIST);
	/* an invitation with an enrolled gateway's key */
	entry(&inv, 0x0aff000e, 0xb2, 0, 1, 7);
	EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == -EEXIST);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1);
	free(e);
	EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 2);
	free(e);
	EXPECT(integrity_ok(s));
	/* Two handles enrol two gateways with one new key at once: one
	 * wins, the other is refused, whoever is first. */
	for (int round = 0; round < 6; round++) {
		uint32_t ida = 0x0aff0010 + 2 * (uint32_t)round, idb = ida + 1;
		uint8_t key = (uint8_t)(0xc0 + round), ka = (uint8_t)(0x10 + 2 * round);
		uint8_t kb = (uint8_t)(ka + 1);
		pid_t p;
		int st, ra, go[2];
		char x;

		entry(&inv, ida, ka, 0, 1, 7);
		EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
		entry(&inv, idb, kb, 0, 1, 7);
		EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
		if (pipe(go))
			break;
		p = fork();
		if (p == 0) {
			struct rd_store *c = NULL;
			struct rd_entry g;
			char err[512];
			uint8_t ik[32];

			if (etcd_open_dir(d, &c, err, sizeof(err)))
				_exit(3);
			entry(&g, idb, key, 0, 0);
			memset(ik, kb, 32);
			if (write(go[1], "", 1) != 1)
				_exit(4);
			_exit(rd_store_enrol(c, &g, ik, old, &had) == 0 ? 0 : 1);
		}
		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			EXPECT(!"the child started");
		close(go[0]);
		if (round % 2)
			usleep(20000);
		entry(&gw, ida, key, 0, 0);
		memset(inv.key, ka, 32);
		ra = rd_store_enrol(s, &gw, inv.key, old, &had);
		waitpid(p, &st, 0);
		EXPECT(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
		EXPECT((ra == 0) + (WIFEXITED(st) && WEXITSTATUS(st) == 0) == 1);
		EXPECT(ra == 0 || ra == -EEXIST);
		both += ra == 0;
		EXPECT(integrity_ok(s));
	}
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 1 + 6);
	free(e);
	printf("# this handle won %d of 6 enrolment races\n", both);
	rd_store_close(s);
}

/* ---- benchmark ---------------------------------------------------------- */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* MEMBER_PUT commits (joins) of n members into one VPN: mean ms each. */
static double bench_joins(struct rd_store *s, unsigned int n)
{
	struct roster_member m;
	double t0;

	if (commit_op(s, RD_STORE_VPN_PUT, 7, 0, 1, 0))
		return -1;
	t0 = now_s();
	for (unsigned int i = 0; i < n; i++) {
		mk_member(&m, i + 1, i + 2, 2);
		if (commit_put(s, 7, i + 1, i + 2, &m))
			return -1;
	}
	return (now_s() - t0) * 1000 / n;
}

/*
 * `store-etcd-test bench N`: the price of etcd for the manager's commit,
 * against its floor, one bare etcd put of a member's size through the
 * same client (a round trip and a raft commit: no store can write etcd
 * faster), and against SQLite (synchronous=FULL) on the same disk.
 */
static int etcd_bench(unsigned int n)
{
	struct rd_store *s = NULL, *q = NULL;
	struct rd_store_vpn *v;
	unsigned int nv;
	double etcd_ms, sqlite_ms, put_ms, t0, load_ms, get_ms;
	char err[512], key[64], val[400];
	struct rd_etcd *e;

	if (!etcd_start("bench", false, ""))
		return 1;
	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = 0;
	if (rd_etcd_open(&conf, &e, err, sizeof(err)))
		return 1;
	t0 = now_s();
	for (unsigned int i = 0; i < n; i++) {
		json_t *r = NULL;

		snprintf(key, sizeof(key), "/floor/%u", i);
		if (rd_etcd_call(e, "kv/put", json_pack("{s:o, s:o}", "key", b64s(key), "value",
							b64s(val)), &r, err, sizeof(err)))
			return printf("# %s\n", err), 1;
		json_decref(r);
	}
	put_ms = (now_s() - t0) * 1000 / n;
	rd_etcd_close(e);
	if (etcd_open_dir("/bench", &s, err, sizeof(err)) || rd_store_open(tmp, &q, err, sizeof(err)))
		return printf("# %s\n", err), 1;
	etcd_ms = bench_joins(s, n);
	sqlite_ms = bench_joins(q, n);
	t0 = now_s();
	if (rd_store_load(s, &v, &nv) || nv != 1 || v[0].n != n)
		return printf("# load: %s\n", rd_store_errmsg(s)), 1;
	load_ms = (now_s() - t0) * 1000;
	rd_store_vpns_free(v, nv);
	/* what the fan-out reads for every change: this handle's copy */
	t0 = now_s();
	for (int i = 0; i < 20; i++) {
		struct rd_store_vpn one;

		if (rd_store_vpn_get(s, 7, &one) || one.n != n)
			return printf("# get: %s\n", rd_store_errmsg(s)), 1;
		rd_store_vpn_release(&one);
	}
	get_ms = (now_s() - t0) * 1000 / 20;
	printf("store commit (MEMBER_PUT, one VPN growing to %u members), mean per commit:\n", n);
	printf("  etcd store          %.2f ms\n", etcd_ms);
	printf("  etcd bare put       %.2f ms  (the floor; store / floor = %.2f)\n", put_ms,
	       etcd_ms / put_ms);
	printf("  SQLite FULL         %.2f ms  (etcd store / SQLite = %.2f)\n", sqlite_ms,
	       etcd_ms / sqlite_ms);
	printf("load of the VPN's %u members from etcd: %.1f ms\n", n, load_ms);
	printf("vpn_get of it through the handle's copy: %.2f ms (one range and a copy)\n",
	       get_ms);
	rd_store_close(s);
	rd_store_close(q);
	etcd_stop();
	sh("rm -rf %s", tmp);
	return 0;
}

/* Last-seen times of more gateways than one etcd transaction holds:
 * written in batches, every one of them. */
static void t_etcd_seen_many(void)
{
	struct rd_store *s = etcd_sopen(newdir("seen-many"));
	static struct roster_addr ids[300];
	static uint64_t when[300];
	struct rd_entry inv, gw, *e;
	uint8_t old[32];
	unsigned int n;
	bool had;

	if (!s)
		return;
	for (unsigned int i = 0; i < 150; i++) {
		entry(&inv, 0x0aff1000 + i, 0, 0, 1, 7);
		memset(inv.key, 0, 32);
		inv.key[0] = 1;
		inv.key[1] = (uint8_t)i;
		EXPECT(rd_store_invite_put(s, &inv, NULL, 0, NULL) == 0);
		entry(&gw, 0x0aff1000 + i, 0, 0, 0);
		memset(gw.key, 0, 32);
		gw.key[0] = 2;
		gw.key[1] = (uint8_t)i;
		EXPECT(rd_store_enrol(s, &gw, inv.key, old, &had) == 0);
	}
	/* each id twice (the later time wins), and 10 strangers */
	for (unsigned int i = 0; i < 300; i++) {
		addr4(&ids[i], 0x0aff1000 + (i % 160));
		when[i] = 5000 + i;
	}
	EXPECT(rd_store_gateways_seen(s, ids, when, 300) == 0);
	EXPECT(rd_store_gateways(s, &e, &n) == 0 && n == 150);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int id = e[i].id.addr[2] << 8 | e[i].id.addr[3];
		uint64_t want = 5000 + (id - 0x1000) + (id - 0x1000 + 160 < 300 ? 160 : 0);

		if (e[i].last_seen != want)
			printf("# %s: %llu, want %llu\n", rd_ntop(&e[i].id),
			       (unsigned long long)e[i].last_seen, (unsigned long long)want);
		EXPECT(e[i].last_seen == want);
	}
	free(e);
	rd_store_close(s);
}

/* rosterd's commands on an etcd store: `invite` writes the invitation
 * there (not into a SQLite file), `backup` points to etcdctl, and an
 * unreachable etcd is a clear error with exit status 1. */
static char rosterd[512];

static void t_etcd_cli(void)
{
	char cf[160], bad[160], out[160];
	struct rd_store *s = NULL;
	struct rd_entry *e = NULL;
	struct rd_etcd_conf c = conf;
	unsigned int n = 0;
	char err[512];

	if (access(rosterd, X_OK)) {
		printf("# no %s\n", rosterd);
		EXPECT(!"rosterd built beside the test");
		return;
	}
	snprintf(cf, sizeof(cf), "%s/mgr.conf", tmp);
	snprintf(bad, sizeof(bad), "%s/bad.conf", tmp);
	snprintf(out, sizeof(out), "%s/cli.out", tmp);
	EXPECT(sh("printf '[manager]\\nendpoint = 192.0.2.1\\nstate-dir = %s/mgr\\n"
		  "store = etcd\\netcd-endpoints = %s\\netcd-prefix = /cli/\\n' >%s",
		  tmp, conf.endpoints, cf));
	EXPECT(sh("printf '[manager]\\nendpoint = 192.0.2.1\\nstate-dir = %s/mgr\\n"
		  "store = etcd\\netcd-endpoints = http://127.0.0.1:%u\\n' >%s",
		  tmp, free_port(), bad));
	EXPECT(sh("%s invite --config %s --id 10.255.0.11 --vpn 7 --prefix 10.11.0.0/24 -q "
		  ">%s 2>&1", rosterd, cf, out));
	EXPECT(sh("grep -q . %s", out));
	snprintf(c.prefix, sizeof(c.prefix), "/cli/");
	EXPECT(rd_store_open_etcd(&c, &s, err, sizeof(err)) == 0);
	if (s) {
		EXPECT(rd_store_invites(s, &e, &n) == 0 && n == 1);
		if (n == 1)
			EXPECT(!strcmp(rd_ntop(&e[0].id), "10.255.0.11") && e[0].vpns[0] == 7 &&
			       e[0].has_prefixes && e[0].n_prefixes == 1 && e[0].expiry > 0);
		free(e);
		rd_store_close(s);
	}
	{
		char p[200];

		snprintf(p, sizeof(p), "%s/mgr/roster.db", tmp);
		EXPECT(access(p, F_OK) != 0);	/* no SQLite store beside it */
	}
	EXPECT(sh("%s backup --config %s %s/b.db >%s 2>&1; test $? -eq 1 && "
		  "grep -q 'etcdctl snapshot save' %s", rosterd, cf, tmp, out, out));
	EXPECT(sh("%s invite --config %s --id 10.255.0.12 --vpn 7 --prefix 10.12.0.0/24 -q "
		  ">%s 2>&1; test $? -eq 1 && grep -q \"Couldn't connect\" %s", rosterd, bad, out,
		  out));
	sh("sed 's/^/# /' %s", out);
}

int main(int argc, char **argv)
{
	rd_log_level = RD_LOG_ERROR;
	test_pid = (int)getpid();
	{
		/* rosterd beside the test's directory (tests/.. or san/tests/..) */
		char *slash = strrchr(argv[0], '/');

		snprintf(rosterd, sizeof(rosterd), "%.*s/../rosterd",
			 slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
	}
	if (!sh("command -v etcd >/dev/null && command -v etcdctl >/dev/null")) {
		printf("TAP version 13\n1..1\n");
		run("etcd store: [manager] store = etcd and the etcd-* options", t_etcd_config);
		printf("# SKIP the etcd cases: etcd or etcdctl not installed "
		       "(Debian: etcd-server, etcd-client)\n");
		return failed ? 1 : 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/store-etcd-test.XXXXXX");
	if (!mkdtemp(tmp))
		return perror("mkdtemp"), 1;
	if (argc == 3 && !strcmp(argv[1], "bench"))
		return etcd_bench((unsigned int)strtoul(argv[2], NULL, 10));
	/* newdir() names prefixes under this */
	snprintf(root, sizeof(root), "%.40s/cases", tmp);
	printf("TAP version 13\n1..24\n");
	run("etcd store: [manager] store = etcd and the etcd-* options", t_etcd_config);
	if (!etcd_start("plain", false, "")) {
		etcd_failed = true;
	} else {
		run("etcd store: compare-and-set refusal changes nothing", t_cas);
		run("etcd store: member put, replace, delete; every field kept", t_members);
		run("etcd store: VPN put, replace, delete", t_vpns);
		run("etcd store: load in ascending VPN and member id", t_load_order);
		run("etcd store: enrolment consumes the invitation in one transaction", t_enrol);
		run("etcd store: invitations replace per id and expire", t_invites);
		run("etcd store: revocation deletes enrolment and invitation; the keys never return",
		    t_revoke);
		run("etcd store: key rotation checks, retries and revokes the old key", t_rekey);
		run("etcd store: last-seen times persist and only move forward", t_seen);
		run("etcd store: changes of another handle are seen", t_changed);
		run("etcd store: the key layout; reopen, newer layout, unreachable endpoints",
		    t_etcd_layout);
		run("etcd store: of two managers racing on a VPN exactly one commits", t_etcd_race);
		run("etcd store: a handle's copy of a VPN is what etcd holds after every change",
		    t_etcd_cache);
		run("etcd store: a key is one gateway's or invitation's, also between two handles",
		    t_etcd_keys);
		run("etcd store: a change over etcd's transaction limit is refused whole",
		    t_etcd_limits);
		run("etcd store: last-seen times of more gateways than a transaction holds",
		    t_etcd_seen_many);
		run("etcd store: rosterd invite and backup with store = etcd", t_etcd_cli);
		run("etcd store: one leader per lease; a deposed leader's commit is refused",
		    t_etcd_leader);
		run("etcd store: the manager set by name; unchanged records not rewritten",
		    t_etcd_managers);
		run("etcd store: the watch reports other handles' commits, the leader's end, "
		    "a compaction", t_etcd_watch);
		run("etcd store: the raft leader moved off this host's member, and only then",
		    t_etcd_raft);
		/* last: it leaves authentication on */
		run("etcd store: password authentication", t_etcd_auth);
		etcd_stop();
	}
	if (!etcd_failed && make_certs() && etcd_start("tls", true, "")) {
		run("etcd store: over TLS with a client certificate; wrong CA refused", t_etcd_tls);
		etcd_stop();
	} else {
		printf("not ok 24 - etcd store: TLS (certificates or etcd failed, %s)\n", tmp);
		failed++;
	}
	if (etcd_failed) {
		printf("# etcd did not start: see above\n");
		return 1;
	}
	if (!failed)
		sh("rm -rf %s", tmp);
	else
		printf("# etcd's logs and data kept in %s\n", tmp);
	return failed ? 1 : 0;
}
