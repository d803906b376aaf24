// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd status: the control socket (ctl-sock.c) between a forked
 * client and the serving loop, root only by file mode and by SO_PEERCRED;
 * the text printer (status-text.c) on fixed documents; and the manager's
 * offline document (mgr-status.c) read from a real store.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl-sock.h"
#include "log.h"
#include "mgr-status.h"
#include "netif.h"
#include "status-text.h"
#include "store.h"
#include "util.h"
#include "unit.h"

static char dir[64];

/* ---- the socket ---------------------------------------------------- */

static size_t big_len;

static json_t *answer(const char *req, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (!strcmp(req, "status"))
		return json_pack("{s:s, s:i}", "daemon", "test", "calls", *calls);
	if (!strcmp(req, "big")) {
		/* More than a socket buffer holds: the writes must resume. */
		char *s = malloc(big_len + 1);
		json_t *j;

		memset(s, 'x', big_len);
		s[big_len] = 0;
		j = json_pack("{s:s}", "big", s);
		free(s);
		return j;
	}
	return NULL;
}

/* Serve s until child exits; its exit status. */
static int serve_until(struct ctl_sock *s, pid_t child)
{
	int st = -1;

	for (int i = 0; i < 2000; i++) {
		struct pollfd p = { .fd = ctl_sock_fd(s), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			ctl_sock_serve(s);
		if (waitpid(child, &st, WNOHANG) == child)
			return st;
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	return -1;
}

/* The client in a child: exit 0 if req gets a JSON answer whose key
 * "want_key" is there (want_key NULL: expect error want_err). */
static pid_t client(const char *req, const char *want_key, int want_err, uid_t uid)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	char *reply = NULL;
	json_t *j;
	int ret;

	if (uid && setresuid(uid, uid, uid))
		_exit(10);
	ret = ctl_sock_request(dir, req, 3000, &reply);
	if (!want_key)
		_exit(ret == want_err ? 0 : 11);
	if (ret)
		_exit(12);
	j = json_loads(reply, 0, NULL);
	_exit(j && json_object_get(j, want_key) ? 0 : 13);
}

static void t_socket_answers_root(void)
{
	struct ctl_sock s;
	struct stat st;
	char err[256], path[128];
	int calls = 0;

	EXPECT(ctl_sock_open(&s, dir, answer, &calls, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SOCK_NAME);
	EXPECT(!lstat(path, &st) && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
	EXPECT(serve_until(&s, client("status", "calls", 0, 0)) == 0);
	EXPECT(calls == 1);
	/* an unknown request is answered with an error, not dropped */
	EXPECT(serve_until(&s, client("frobnicate", "error", 0, 0)) == 0);
	/* one request per connection, many connections */
	EXPECT(serve_until(&s, client("status", "calls", 0, 0)) == 0);
	EXPECT(calls == 3 && s.served == 3);
	ctl_sock_close(&s);
	EXPECT(lstat(path, &st) && errno == ENOENT);
	/* no daemon: the client can tell (the status command falls back) */
	char *reply;

	EXPECT(ctl_sock_request(dir, "status", 1000, &reply) == -ENOENT);
}

static void t_socket_refuses_others(void)
{
	struct ctl_sock s;
	char err[256], path[128];
	int calls = 0;

	EXPECT(ctl_sock_open(&s, dir, answer, &calls, err, sizeof(err)) == 0);
	/* the directory is 0700 in a real state-dir; here it is searchable */
	chmod(dir, 0755);
	/* mode 0600: another user cannot even connect */
	EXPECT(serve_until(&s, client("status", NULL, -EACCES, 65534)) == 0);
	/* and if the mode were lost, SO_PEERCRED still refuses it */
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SOCK_NAME);
	chmod(path, 0666);
	EXPECT(serve_until(&s, client("status", NULL, -EPROTO, 65534)) == 0);
	EXPECT(calls == 0 && s.refused == 1);
	chmod(dir, 0700);
	ctl_sock_close(&s);
}

static void t_socket_big_and_slow(void)
{
	struct ctl_sock s;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256];
	int calls = 0, idle;

	big_len = 4 << 20;
	EXPECT(ctl_sock_open(&s, dir, answer, &calls, err, sizeof(err)) == 0);
	/* a client that connects and says nothing does not hold the others */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CTL_SOCK_NAME);
	idle = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT(idle >= 0 && !connect(idle, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT(serve_until(&s, client("big", "big", 0, 0)) == 0);
	EXPECT(calls == 1);
	close(idle);
	ctl_sock_close(&s);
}

static void t_socket_in_use_and_stale(void)
{
	struct ctl_sock a, b;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256], path[128];
	int calls = 0, fd;

	EXPECT(ctl_sock_open(&a, dir, answer, &calls, err, sizeof(err)) == 0);
	/* a second daemon on the same state directory is refused */
	EXPECT(ctl_sock_open(&b, dir, answer, &calls, err, sizeof(err)) == -EADDRINUSE);
	EXPECT(strstr(err, "another rosterd") != NULL && ctl_sock_fd(&b) == -1);
	ctl_sock_close(&a);
	/* a socket file left by a daemon that died is replaced */
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SOCK_NAME);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CTL_SOCK_NAME);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	EXPECT(ctl_sock_request(dir, "status", 1000, &(char *){ NULL }) == -ECONNREFUSED);
	EXPECT(ctl_sock_open(&a, dir, answer, &calls, err, sizeof(err)) == 0);
	EXPECT(serve_until(&a, client("status", "calls", 0, 0)) == 0);
	ctl_sock_close(&a);
	/* a file that is not a socket is not removed */
	fclose(fopen(path, "w"));
	EXPECT(ctl_sock_open(&a, dir, answer, &calls, err, sizeof(err)) == -EEXIST);
	unlink(path);
}

/* ---- the printer --------------------------------------------------- */

static char *render(const char *doc)
{
	json_t *j = json_loads(doc, 0, NULL);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	status_text_print(f, j);
	fclose(f);
	json_decref(j);
	return out;
}

static void t_text_units(void)
{
	char b[128];

	status_text_ago(b, sizeof(b), 0, 100);
	EXPECT(!strcmp(b, "never"));
	status_text_ago(b, sizeof(b), 100, 100);
	EXPECT(!strcmp(b, "now"));
	status_text_ago(b, sizeof(b), 100, 101);
	EXPECT(!strcmp(b, "1 second ago"));
	status_text_ago(b, sizeof(b), 1000, 1000 + 3600 + 2 * 60 + 3);
	EXPECT(!strcmp(b, "1 hour, 2 minutes, 3 seconds ago"));
	status_text_ago(b, sizeof(b), 1000, 1000 + 2 * 86400);
	EXPECT(!strcmp(b, "2 days ago"));
	status_text_bytes(b, sizeof(b), 1023);
	EXPECT(!strcmp(b, "1023 B"));
	status_text_bytes(b, sizeof(b), 1536);
	EXPECT(!strcmp(b, "1.50 KiB"));
	status_text_bytes(b, sizeof(b), 5ull << 30);
	EXPECT(!strcmp(b, "5.00 GiB"));
}

static void t_text_manager(void)
{
	char *out = render(
		"{\"daemon\":\"manager\",\"name\":\"m1\",\"role\":\"standby\",\"leader\":\"m2\","
		"\"running\":true,\"pid\":42,"
		"\"time\":1000,\"public_key\":\"K\",\"interface\":\"rctl0\",\"listen_port\":51800,"
		"\"control_address\":\"10.255.0.1\",\"control_port\":851,\"endpoint\":\"192.0.2.1\","
		"\"store\":\"SQLite database /s/roster.db\",\"store_identity\":\"ab\","
		"\"store_watch\":{\"live\":true,\"revision\":720,"
		"\"endpoint\":\"https://10.0.0.1:2379\"},"
		"\"pending_invitations\":1,"
		"\"vpns\":[{\"id\":7,\"generation\":5,\"members\":2}],"
		"\"gateways\":[{\"id\":\"10.255.0.11\",\"public_key\":\"G\",\"vpns\":[7,9],"
		"\"joined\":[7],\"last_seen\":990,\"manager\":\"10.255.0.1\","
		"\"endpoint\":\"192.0.2.11\"},"
		"{\"id\":\"10.255.0.12\",\"public_key\":\"H\",\"vpns\":[7],\"joined\":[],"
		"\"last_seen\":0,\"manager\":null,\"endpoint\":null}]}");

	EXPECT(!strcmp(out,
		"manager: 10.255.0.1\n"
		"  name: m1\n"
		"  role: standby\n"
		"  leader: m2\n"
		"  daemon: running, pid 42\n"
		"  public key: K\n"
		"  interface: rctl0\n"
		"  listening port: 51800\n"
		"  control port: 851\n"
		"  endpoint: 192.0.2.1\n"
		"  store: SQLite database /s/roster.db\n"
		"  store identity: ab\n"
		"  store watch: https://10.0.0.1:2379, revision 720\n"
		"  pending invitations: 1\n"
		"\n"
		"vpn: 7\n"
		"  generation: 5\n"
		"  members: 2\n"
		"\n"
		"gateway: 10.255.0.11\n"
		"  public key: G\n"
		"  vpns: 7, 9\n"
		"  joined: 7\n"
		"  endpoint: 192.0.2.11\n"
		"  manager: 10.255.0.1 (this one)\n"
		"  last seen: 10 seconds ago\n"
		"\n"
		"gateway: 10.255.0.12\n"
		"  public key: H\n"
		"  vpns: 7\n"
		"  joined: (none)\n"
		"  endpoint: (none)\n"
		"  manager: (none)\n"
		"  last seen: never\n"));
	if (cur_fail)
		printf("# got:\n%s", out);
	free(out);
	/* a watch that is down says what the manager does instead; none
	 * (SQLite) says nothing */
	out = render("{\"daemon\":\"manager\",\"store_watch\":{\"live\":false,\"revision\":9,"
		     "\"endpoint\":\"https://10.0.0.1:2379\"},\"vpns\":[],\"gateways\":[]}");
	EXPECT(strstr(out, "\n  store watch: down (reading the store every second)\n"));
	free(out);
	out = render("{\"daemon\":\"manager\",\"store_watch\":null,\"vpns\":[],\"gateways\":[]}");
	EXPECT(!strstr(out, "store watch"));
	free(out);
}

static void t_text_gateway(void)
{
	char *out = render(
		"{\"daemon\":\"gateway\",\"running\":false,\"pid\":null,\"time\":1000,"
		"\"id\":\"10.255.0.11\",\"public_key\":\"K\",\"interface\":\"rctl0\","
		"\"endpoint\":\"192.0.2.11\",\"store_identity\":null,"
		"\"managers\":[{\"control_address\":\"10.255.0.1\",\"control_port\":851,"
		"\"endpoint\":\"192.0.2.1:51800\",\"public_key\":\"M\",\"in_use\":true,"
		"\"latest_handshake\":940,\"transfer_rx\":2048,\"transfer_tx\":100}],"
		"\"manager_in_use\":\"10.255.0.1\","
		"\"vpns\":[{\"id\":7,\"interface\":\"rvpn7\",\"listen_port\":51807,\"joined\":true,"
		"\"generation\":3,\"members\":2,\"peers\":[{\"public_key\":\"P\","
		"\"endpoint\":\"192.0.2.12:51807\",\"allowed_ips\":[\"10.2.0.0/24\"],"
		"\"latest_handshake\":0,\"transfer_rx\":0,\"transfer_tx\":0,"
		"\"persistent_keepalive\":25,\"id\":\"10.255.0.12\"}]},"
		"{\"id\":9,\"interface\":\"rvpn9\",\"listen_port\":51809,\"joined\":false,"
		"\"generation\":0,\"members\":0,\"peers\":[]}]}");

	EXPECT(!strcmp(out,
		"gateway: 10.255.0.11\n"
		"  daemon: not running (read from the state)\n"
		"  public key: K\n"
		"  interface: rctl0\n"
		"  endpoint: 192.0.2.11\n"
		"  store identity: (none)\n"
		"\n"
		"manager: 10.255.0.1 (in use)\n"
		"  endpoint: 192.0.2.1:51800\n"
		"  public key: M\n"
		"  control port: 851\n"
		"  latest handshake: 1 minute ago\n"
		"  transfer: 2.00 KiB received, 100 B sent\n"
		"\n"
		"vpn: 7\n"
		"  interface: rvpn7\n"
		"  listening port: 51807\n"
		"  joined: yes\n"
		"  generation: 3\n"
		"  members: 2\n"
		"\n"
		"  peer: P\n"
		"    member: 10.255.0.12\n"
		"    endpoint: 192.0.2.12:51807\n"
		"    allowed ips: 10.2.0.0/24\n"
		"    latest handshake: never\n"
		"\n"
		"vpn: 9\n"
		"  interface: rvpn9\n"
		"  listening port: 51809\n"
		"  joined: no\n"));
	if (cur_fail)
		printf("# got:\n%s", out);
	free(out);
}

/* ---- the manager's document from the state ------------------------- */

static struct roster_addr A(const char *s)
{
	struct roster_addr a;

	roster_addr_parse(s, &a);
	return a;
}

static json_t *find_id(json_t *arr, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (json_is_string(json_object_get(o, "id")) &&
		    !strcmp(json_string_value(json_object_get(o, "id")), id))
			return o;
	return NULL;
}

static void t_manager_offline(void)
{
	char sdir[96], err[512];
	struct rd_config c;
	struct rd_store *st;
	struct rd_entry inv = { .n_vpns = 2, .vpns = { 7, 9 } }, gw = { 0 }, inv2 = { 0 };
	struct roster_member mb = { .has_key = true };
	struct rd_store_change ch = { .op = RD_STORE_MEMBER_PUT, .vpn = 7, .prev_gen = 0, .gen = 4,
				      .member = &mb };
	uint64_t when = 1234;
	uint8_t old[32];
	bool had;
	json_t *j, *g;

	snprintf(sdir, sizeof(sdir), "%s/mgr", dir);
	EXPECT(rd_config_parse("[manager]\ncontrol-address = 10.255.0.1\ninterface = rst-none0\n"
			       "state-dir = /nonexistent\n", RD_ROLE_MANAGER, &c, err,
			       sizeof(err)) == 0);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", sdir);
	/* never started: no store is made, the error says so */
	EXPECT(mgr_status_offline(&c, err, sizeof(err)) == NULL && strstr(err, "no store"));
	EXPECT(access(sdir, F_OK) != 0);
	mkdir(sdir, 0700);
	EXPECT(rd_store_open(sdir, &st, err, sizeof(err)) == 0);
	inv.id = A("10.255.0.11");
	memset(inv.key, 0xaa, 32);
	EXPECT(rd_store_invite_put(st, &inv, NULL, 0, NULL) == 0);
	gw.id = inv.id;
	memset(gw.key, 0x11, 32);
	EXPECT(rd_store_enrol(st, &gw, inv.key, old, &had) == 0);
	EXPECT(rd_store_gateways_seen(st, &gw.id, &when, 1) == 0);
	inv2.id = A("10.255.0.12");
	inv2.n_vpns = 1;
	inv2.vpns[0] = 7;
	memset(inv2.key, 0xbb, 32);
	EXPECT(rd_store_invite_put(st, &inv2, NULL, 0, NULL) == 0);
	mb.id = gw.id;
	memcpy(mb.key, gw.key, 32);
	EXPECT(rd_store_commit(st, &ch) == 0);
	rd_store_close(st);

	j = mgr_status_offline(&c, err, sizeof(err));
	EXPECT(j != NULL);
	if (!j) {
		printf("# %s\n", err);
		return;
	}
	EXPECT(!strcmp(json_string_value(json_object_get(j, "role")), "stopped"));
	EXPECT(json_is_false(json_object_get(j, "running")) && json_is_null(json_object_get(j, "pid")));
	EXPECT(json_integer_value(json_object_get(j, "pending_invitations")) == 1);
	g = find_id(json_object_get(j, "vpns"), "7");
	EXPECT(json_array_size(json_object_get(j, "vpns")) == 1);
	g = json_array_get(json_object_get(j, "vpns"), 0);
	EXPECT(json_integer_value(json_object_get(g, "id")) == 7 &&
	       json_integer_value(json_object_get(g, "generation")) == 4 &&
	       json_integer_value(json_object_get(g, "members")) == 1);
	EXPECT(json_array_size(json_object_get(j, "gateways")) == 1);
	g = find_id(json_object_get(j, "gateways"), "10.255.0.11");
	EXPECT(g != NULL);
	if (g) {
		char key[45];

		rd_key_b64(gw.key, key);
		EXPECT(!strcmp(json_string_value(json_object_get(g, "public_key")), key));
		EXPECT(json_integer_value(json_object_get(g, "last_seen")) == 1234);
		EXPECT(!strcmp(json_string_value(json_object_get(g, "manager")), "10.255.0.1"));
		EXPECT(json_array_size(json_object_get(g, "vpns")) == 2);
		EXPECT(json_array_size(json_object_get(g, "joined")) == 1 &&
		       json_integer_value(json_array_get(json_object_get(g, "joined"), 0)) == 7);
		EXPECT(json_is_null(json_object_get(g, "endpoint")));
	}
	json_decref(j);
}

int main(void)
{
	char cmd[128];

	rd_log_level = RD_LOG_ERROR;
	snprintf(dir, sizeof(dir), "/tmp/rd-status-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("TAP version 13\n");
	run("socket answers root, one request per connection", t_socket_answers_root);
	if (geteuid() == 0)
		run("socket refuses other users (mode and SO_PEERCRED)", t_socket_refuses_others);
	else
		printf("ok %d - socket refuses other users # SKIP needs root\n", ++test_no);
	run("socket: a big answer, an idle client", t_socket_big_and_slow);
	run("socket: in use, stale file, not a socket", t_socket_in_use_and_stale);
	run("text: times and sizes as wg prints them", t_text_units);
	run("text: manager", t_text_manager);
	run("text: gateway", t_text_gateway);
	run("manager document from the state", t_manager_offline);
	printf("1..%d\n", test_no);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return failed ? 1 : 0;
}
