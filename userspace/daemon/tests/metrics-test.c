// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * metrics.c and its hooks: the text is what Prometheus's own parser
 * (python3-prometheus-client) reads back, sample by sample; a histogram's
 * buckets are cumulative with the bound inclusive; label values are
 * escaped; the file is replaced atomically (mode 0644, no temporary file
 * left, the old one intact on failure); rel.c counts first sends, ACKs,
 * retransmissions and give-ups per type; the fan-out hook counts joins,
 * leaves per reason and the duration; and the manager's producer counts
 * gateways seen within the window. KTAP on stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "config.h"
#include "log.h"
#include "gw-metrics.h"
#include "metrics.h"
#include "mgr.h"
#include "mgr-live.h"
#include "mgr-metrics.h"
#include "proto.h"
#include "rel.h"
#include "util.h"

#include "unit.h"

static char dir[64], outdir[80];

/* Every sample of file as Prometheus's parser reads it, one per line:
 * "name{k="v",...} value" with the labels sorted, value as a float;
 * NULL if the parser refuses the file. */
static char *parsed(const char *file)
{
	static const char py[] =
		"import sys\n"
		"from prometheus_client.parser import text_string_to_metric_families as p\n"
		"for f in p(open(sys.argv[1]).read()):\n"
		"    for s in f.samples:\n"
		"        l = ','.join('%s=\"%s\"' % kv for kv in sorted(s.labels.items()))\n"
		"        print('%s{%s} %r' % (s.name, l, float(s.value)))\n";
	const char *python = access("/usr/bin/python3", X_OK) ? "python3" : "/usr/bin/python3";
	char script[128], cmd[512];
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int st;

	snprintf(script, sizeof(script), "%s/parse.py", dir);
	f = fopen(script, "w");
	if (!f)
		return NULL;
	fputs(py, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", python, script, file);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	for (;;) {
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf), f);
		char *o;

		if (!n)
			break;
		o = realloc(out, len + n + 1);
		if (!o)
			break;
		out = o;
		memcpy(out + len, buf, n);
		len += n;
		out[len] = 0;
	}
	st = pclose(f);
	if (st) {
		printf("# the parser refused %s:\n# %s\n", file, out ? out : "");
		free(out);
		return NULL;
	}
	return out ? out : strdup("");
}

/* line is one whole line of text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static int write_file(const char *path, struct rd_prom *w)
{
	int ret = rd_prom_commit(w, path);

	rd_prom_free(w);
	return ret;
}

static unsigned int files_in(const char *d)
{
	DIR *dp = opendir(d);
	unsigned int n = 0;
	struct dirent *e;

	while (dp && (e = readdir(dp)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (dp)
		closedir(dp);
	return n;
}

static void t_format(void)
{
	struct roster_event join = { .type = ROSTER_EVENT_MEMBER_JOINED, .vpn_id = 1 };
	struct roster_event upd = { .type = ROSTER_EVENT_MEMBER_UPDATED, .vpn_id = 1 };
	struct roster_event admin = { .type = ROSTER_EVENT_MEMBER_LEFT, .vpn_id = 1,
				      .has_reason = true, .reason = ROSTER_REASON_ADMIN };
	struct roster_event plain = { .type = ROSTER_EVENT_MEMBER_LEFT, .vpn_id = 1 };
	struct rd_prom w = { 0 };
	char path[128], *out;
	struct stat st;

	rd_metrics_reset();
	for (int i = 0; i < 3; i++)
		rd_metrics_msg(RD_M_SENT, RD_NOTIFY);
	rd_metrics_msg(RD_M_RECEIVED, RD_SYNC_REQ);
	rd_metrics_msg(RD_M_RETRANSMITTED, RD_LIST);
	rd_metrics_msg(RD_M_GAVE_UP, RD_REMOVE);
	rd_metrics_msg(RD_M_SENT, __RD_TYPE_MAX);	/* out of range: ignored */
	rd_metrics_fanned_out(&join, rd_metrics_now_us());
	rd_metrics_fanned_out(&join, rd_metrics_now_us());
	rd_metrics_fanned_out(&upd, rd_metrics_now_us());
	rd_metrics_fanned_out(&admin, rd_metrics_now_us() - 3000000);	/* 3 s */
	rd_metrics_fanned_out(&plain, rd_metrics_now_us());
	rd_metrics_resync();
	rd_prom_counters(&w, "manager");
	rd_prom_fanout(&w);
	rd_prom_family(&w, "t_escape", "gauge", "back\\slash and\nnewline");
	rd_prom_u64(&w, "t_escape", 18446744073709551615ull, "v", "a\"b\\c\nd", "e", "", NULL);
	snprintf(path, sizeof(path), "%s/rosterd.prom", outdir);
	EXPECT(!write_file(path, &w));
	EXPECT(!stat(path, &st) && (st.st_mode & 0777) == 0644);
	EXPECT(files_in(outdir) == 1);
	out = parsed(path);
	EXPECT(out);
	if (!out)
		return;
	EXPECT(has_line(out, "rosterd_info{role=\"manager\",version=\"" ROSTERD_VERSION "\"} 1.0"));
	EXPECT(has_line(out, "rosterd_messages_sent_total{type=\"NOTIFY\"} 3.0"));
	EXPECT(has_line(out, "rosterd_messages_sent_total{type=\"ACK\"} 0.0"));
	EXPECT(has_line(out, "rosterd_messages_received_total{type=\"SYNC_REQ\"} 1.0"));
	EXPECT(has_line(out, "rosterd_messages_retransmitted_total{type=\"LIST\"} 1.0"));
	EXPECT(has_line(out, "rosterd_messages_gave_up_total{type=\"REMOVE\"} 1.0"));
	EXPECT(has_line(out, "rosterd_joins_total{} 2.0"));
	EXPECT(has_line(out, "rosterd_leaves_total{reason=\"admin\"} 1.0"));
	EXPECT(has_line(out, "rosterd_leaves_total{reason=\"requested\"} 1.0"));
	EXPECT(has_line(out, "rosterd_leaves_total{reason=\"expired\"} 0.0"));
	EXPECT(has_line(out, "rosterd_resyncs_total{} 1.0"));
	/* Four fast fan-outs, one of 3 s: cumulative buckets. */
	EXPECT(has_line(out, "rosterd_fanout_duration_seconds_count{} 5.0"));
	EXPECT(has_line(out, "rosterd_fanout_duration_seconds_bucket{le=\"2.5\"} 4.0"));
	EXPECT(has_line(out, "rosterd_fanout_duration_seconds_bucket{le=\"5\"} 5.0"));
	EXPECT(has_line(out, "rosterd_fanout_duration_seconds_bucket{le=\"0.0005\"} 4.0") ||
	       has_line(out, "rosterd_fanout_duration_seconds_bucket{le=\"0.001\"} 4.0"));
	EXPECT(has_line(out, "rosterd_fanout_duration_seconds_bucket{le=\"+Inf\"} 5.0"));
	EXPECT(strstr(out, "t_escape{e=\"\",v=\"a\"b\\c\nd\"} 1.8446744073709552e+19\n"));
	free(out);
	unlink(path);
}

static void t_hist(void)
{
	static const double b[] = { 1, 2 };
	struct rd_hist h = { .bounds = b, .n = 2 };
	struct rd_prom w = { 0 };

	rd_hist_observe(&h, 1);		/* le="1": the bound is inclusive */
	rd_hist_observe(&h, 1.5);
	rd_hist_observe(&h, 7);
	rd_prom_hist(&w, "h", &h);
	EXPECT(w.buf && !strcmp(w.buf, "h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\n"
				 "h_bucket{le=\"+Inf\"} 3\nh_sum 9.5\nh_count 3\n"));
	rd_prom_free(&w);
}

static void t_atomic(void)
{
	struct rd_prom w = { 0 };
	char path[128], sub[96], *text = NULL;

	snprintf(path, sizeof(path), "%s/a.prom", outdir);
	rd_prom_u64(&w, "one", 1, NULL);
	EXPECT(!write_file(path, &w));
	rd_prom_u64(&w, "two", 2, NULL);
	EXPECT(!write_file(path, &w));
	EXPECT(!rd_read_file(path, &text) && !strcmp(text, "two 2\n"));
	free(text);
	/* An allocation that failed: nothing written, the old file stays. */
	w.oom = true;
	EXPECT(write_file(path, &w) == -ENOMEM);
	/* A rename that fails (a directory in the way; root would write
	 * into a read-only one): the same, and no temporary file left. */
	snprintf(sub, sizeof(sub), "%s/sub", outdir);
	EXPECT(!mkdir(sub, 0755));
	snprintf(path, sizeof(path), "%s/sub/b.prom", outdir);
	rd_prom_u64(&w, "three", 3, NULL);
	EXPECT(!mkdir(path, 0755));
	EXPECT(write_file(path, &w) == -EISDIR);
	EXPECT(files_in(sub) == 1);
	rmdir(path);
	rmdir(sub);
	snprintf(path, sizeof(path), "%s/missing/c.prom", outdir);
	rd_prom_u64(&w, "four", 4, NULL);
	EXPECT(write_file(path, &w) == -ENOENT);
	snprintf(path, sizeof(path), "%s/a.prom", outdir);
	EXPECT(!rd_read_file(path, &text) && !strcmp(text, "two 2\n"));
	free(text);
	rd_metrics_remove(path);
	EXPECT(access(path, F_OK) && errno == ENOENT);
	EXPECT(files_in(outdir) == 0);
}

static void t_config(void)
{
	static const struct { const char *text; enum rd_role role; const char *err; } bad[] = {
		{ "[manager]\nmetrics-file = rosterd.prom\n", RD_ROLE_MANAGER,
		  "line 2: metrics-file: must be an absolute path ending in .prom, got 'rosterd.prom'" },
		{ "[gateway]\nmetrics-file = /var/lib/x/rosterd.txt\n", RD_ROLE_GATEWAY,
		  "line 2: metrics-file: must be an absolute path" },
		{ "[gateway]\nmetrics-file = /.prom\n", RD_ROLE_GATEWAY, "metrics-file: must be" },
		{ "[manager]\nmetrics-interval = 0\n", RD_ROLE_MANAGER,
		  "line 2: metrics-interval: expected 1..3600 seconds, got '0'" },
		{ "[gateway]\nmetrics-interval = 3601\n", RD_ROLE_GATEWAY, "metrics-interval: expected" },
		{ "[gateway]\nmetrics-interval = 5s\n", RD_ROLE_GATEWAY, "metrics-interval: expected" },
		{ "[manager]\nmetrics-file = /a.prom\nmetrics-file = /b.prom\n", RD_ROLE_MANAGER,
		  "line 3: duplicate key 'metrics-file'" },
		{ "[gateway]\n[vpn 1]\nlisten-port = 1\nmetrics-file = /a.prom\n", RD_ROLE_GATEWAY,
		  "unknown key 'metrics-file' in [vpn 1]" },
	};
	static struct rd_config c;
	char err[256];

	EXPECT(!rd_config_parse("[manager]\n", RD_ROLE_MANAGER, &c, err, sizeof(err)));
	EXPECT(!c.metrics_file[0] && c.metrics_interval == 15);
	EXPECT(!rd_config_parse("[manager]\nmetrics-file = /var/lib/prometheus/node-exporter/"
				"rosterd.prom\nmetrics-interval = 1\n", RD_ROLE_MANAGER, &c, err,
				sizeof(err)));
	EXPECT(!strcmp(c.metrics_file, "/var/lib/prometheus/node-exporter/rosterd.prom") &&
	       c.metrics_interval == 1);
	EXPECT(!rd_config_parse("[gateway]\nmetrics-file = /run/gw.prom\nmetrics-interval = 3600\n",
				RD_ROLE_GATEWAY, &c, err, sizeof(err)));
	EXPECT(!strcmp(c.metrics_file, "/run/gw.prom") && c.metrics_interval == 3600);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool refused = rd_config_parse(bad[i].text, bad[i].role, &c, err, sizeof(err)) == -EINVAL;

		if (!refused || !strstr(err, bad[i].err))
			printf("# %u: '%s', want '%s'\n", i, err, bad[i].err);
		EXPECT(refused && strstr(err, bad[i].err));
	}
}

static void t_timer(void)
{
	int64_t next = 0;

	EXPECT(!rd_metrics_due(&next, 1000, 0) && next == 0);
	EXPECT(rd_metrics_due(&next, 1000, 15) && next == 16000);
	EXPECT(!rd_metrics_due(&next, 15999, 15));
	EXPECT(rd_metrics_timeout(next, 15000) == 1000 && rd_metrics_timeout(0, 1) == -1);
	EXPECT(rd_metrics_due(&next, 16000, 15) && next == 31000);
	EXPECT(rd_metrics_timeout(next, 40000) == 0);
}

/* rel.c: a peer that never ACKs, two tries. */
static void t_rel(void)
{
	struct roster_addr lo;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rd_link l;
	struct rd_peer *p;
	struct rd_msg m = { .type = RD_JOIN_REQ, .has_vpn = true, .vpn = 1 };
	int a, b;

	rd_metrics_reset();
	roster_addr_parse("127.0.0.1", &lo);
	a = rd_udp_socket(&lo, 0, NULL);
	b = rd_udp_socket(&lo, 0, NULL);
	EXPECT(a >= 0 && b >= 0 && !getsockname(b, (struct sockaddr *)&ss, &sl));
	rd_link_init(&l, a, 10, 2, NULL);
	p = rd_peer_get(&l, (struct sockaddr *)&ss, sl, true);
	EXPECT(p && !rd_send(&l, p, &m) && !rd_send_ack(&l, p, 5));
	EXPECT(rd_metrics.msgs[RD_M_SENT][RD_JOIN_REQ] == 1 && rd_metrics.msgs[RD_M_SENT][RD_ACK] == 1);
	for (int i = 0; i < 100 && !rd_metrics.msgs[RD_M_GAVE_UP][RD_JOIN_REQ]; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		rd_tick(&l, rd_now_ms());
	}
	EXPECT(rd_metrics.msgs[RD_M_RETRANSMITTED][RD_JOIN_REQ] == 1);
	EXPECT(rd_metrics.msgs[RD_M_GAVE_UP][RD_JOIN_REQ] == 1);
	EXPECT(rd_metrics.msgs[RD_M_SENT][RD_JOIN_REQ] == 1);
	rd_link_free(&l);
	close(a);
	close(b);
}

/* The gateway's producer, without a table (every view 0): its families,
 * not the manager's; written when due only; removed at stop. */
static void t_gateway(void)
{
	static struct rd_config c;
	char *out, *text = NULL;

	rd_metrics_reset();
	c.n_vpns = 2;
	c.vpns[0].id = 7;
	c.vpns[1].id = 9;
	c.metrics_interval = 15;
	snprintf(c.metrics_file, sizeof(c.metrics_file), "%s/gw.prom", outdir);
	rd_metrics_reconcile(7, -EIO);
	rd_metrics_reconcile(7, -ENODEV);
	rd_metrics_reconcile(9, 0);
	rd_metrics_msg(RD_M_RECEIVED, RD_NOTIFY);
	EXPECT(gw_metrics_tick(&c, NULL, 1000) == 16000);
	out = parsed(c.metrics_file);
	EXPECT(out);
	if (out) {
		EXPECT(has_line(out, "rosterd_info{role=\"gateway\",version=\"" ROSTERD_VERSION "\"} 1.0"));
		EXPECT(has_line(out, "rosterd_wg_reconcile_errors_total{vpn=\"7\"} 2.0"));
		EXPECT(has_line(out, "rosterd_wg_reconcile_errors_total{vpn=\"9\"} 0.0"));
		EXPECT(has_line(out, "rosterd_vpn_generation{vpn=\"9\"} 0.0"));
		EXPECT(has_line(out, "rosterd_vpn_members{vpn=\"7\"} 0.0"));
		EXPECT(has_line(out, "rosterd_messages_received_total{type=\"NOTIFY\"} 1.0"));
		EXPECT(!strstr(out, "rosterd_joins_total") && !strstr(out, "rosterd_gateways"));
		free(out);
	}
	/* Not due: the file is left as it is. */
	rd_metrics_reconcile(7, -EIO);
	EXPECT(gw_metrics_tick(&c, NULL, 15999) == 16000);
	EXPECT(!rd_read_file(c.metrics_file, &text) &&
	       strstr(text, "rosterd_wg_reconcile_errors_total{vpn=\"7\"} 2\n"));
	free(text);
	EXPECT(gw_metrics_tick(&c, NULL, 16000) == 31000);
	EXPECT(!rd_read_file(c.metrics_file, &text) &&
	       strstr(text, "rosterd_wg_reconcile_errors_total{vpn=\"7\"} 3\n"));
	free(text);
	gw_metrics_stop(&c);
	EXPECT(access(c.metrics_file, F_OK) && errno == ENOENT);
	c.metrics_file[0] = 0;
	EXPECT(gw_metrics_tick(&c, NULL, 40000) == 0);
}

/* The manager's producer: the fan-out hook through mgr_on_event on a
 * real store, and the gateways seen within the window. */
static void t_manager(void)
{
	static struct rd_config conf;
	static struct mgr m;
	struct roster_event ev = { .type = ROSTER_EVENT_VPN_NEW, .vpn_id = 7, .generation = 1 };
	struct rd_entry gws[3] = { 0 };
	struct rd_prom w = { 0 };
	uint64_t now = (uint64_t)time(NULL);
	char err[256], path[128], *out;

	rd_metrics_reset();
	m.c = &conf;
	conf.metrics_interval = 15;
	EXPECT(!rd_store_open(dir, &m.st, err, sizeof(err)));
	if (!m.st)
		return;
	EXPECT(!mgr_on_event(&ev, &m));
	ev.type = ROSTER_EVENT_MEMBER_JOINED;
	ev.has_member = true;
	for (unsigned int n = 2; n < 5; n++) {
		ev.generation = n;
		memset(&ev.member, 0, sizeof(ev.member));
		roster_addr_parse(n == 2 ? "10.255.0.2" : n == 3 ? "10.255.0.3" : "10.255.0.4",
				  &ev.member.id);
		memset(ev.member.key, (int)n, 32);
		ev.member.has_key = true;
		EXPECT(!mgr_on_event(&ev, &m));
	}
	/* An echo is no join and no fan-out. */
	EXPECT(!mgr_on_event(&ev, &m));
	ev.type = ROSTER_EVENT_MEMBER_LEFT;
	ev.generation = 5;
	ev.has_reason = true;
	ev.reason = ROSTER_REASON_EXPIRED;
	EXPECT(!mgr_on_event(&ev, &m));
	EXPECT(rd_metrics.joins == 3 && rd_metrics.leaves[ROSTER_REASON_EXPIRED] == 1);
	EXPECT(rd_metrics.fanout.count == 4);

	roster_addr_parse("10.255.0.2", &gws[0].id);
	roster_addr_parse("10.255.0.3", &gws[1].id);
	roster_addr_parse("10.255.0.4", &gws[2].id);
	m.gws = gws;
	m.ngws = 3;
	mgr_live_heard(&m, &gws[0].id, now - 10);
	mgr_live_heard(&m, &gws[1].id, now - 100);
	mgr_metrics_build(&m, &w, now);
	snprintf(path, sizeof(path), "%s/m.prom", outdir);
	EXPECT(!write_file(path, &w));
	out = parsed(path);
	EXPECT(out);
	if (out) {
		char line[160];

		EXPECT(has_line(out, "rosterd_gateways_enrolled{} 3.0"));
		EXPECT(has_line(out, "rosterd_gateways_seen{} 1.0"));
		snprintf(line, sizeof(line),
			 "rosterd_gateway_last_seen_time_seconds{id=\"10.255.0.2\"} %llu.0",
			 (unsigned long long)(now - 10));
		EXPECT(has_line(out, line));
		EXPECT(has_line(out, "rosterd_gateway_last_seen_time_seconds{id=\"10.255.0.4\"} 0.0"));
		EXPECT(has_line(out, "rosterd_joins_total{} 3.0"));
		EXPECT(has_line(out, "rosterd_leaves_total{reason=\"expired\"} 1.0"));
		EXPECT(has_line(out, "rosterd_fanout_duration_seconds_count{} 4.0"));
		free(out);
	}
	unlink(path);
	mgr_live_free(&m);
	m.gws = NULL;
	m.ngws = 0;
	rd_store_close(m.st);
}

int main(void)
{
	char cmd[128];

	rd_log_level = RD_LOG_ERROR;
	printf("KTAP version 1\n1..8\n");
	snprintf(dir, sizeof(dir), "/tmp/metrics-test.XXXXXX");
	if (!mkdtemp(dir) || snprintf(outdir, sizeof(outdir), "%s/out", dir) < 0 ||
	    mkdir(outdir, 0755)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	run("the text is what Prometheus's parser reads back; escapes, exact integers", t_format);
	run("histogram buckets are cumulative, the bound inclusive", t_hist);
	run("the file is replaced atomically, mode 0644; a failure leaves the old one", t_atomic);
	run("the write timer: first write at once, then every interval", t_timer);
	run("config: metrics-file and metrics-interval, in both sections; bad ones refused", t_config);
	run("rel.c counts first sends, ACKs, retransmissions and give-ups per type", t_rel);
	run("gateway: its families per VPN, written when due, removed at stop", t_gateway);
	run("manager: joins, leaves per reason, fan-outs, gateways seen in the window", t_manager);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	printf("# %d failure(s)\n", failed);
	return failed ? 1 : 0;
}
