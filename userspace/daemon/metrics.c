// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the process's counters and the Prometheus text format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written
 * for node_exporter's textfile collector. Why a file and not an HTTP
 * endpoint: Documentation/operations.rst, "Metrics".
 *
 * The counters are plain globals: one process is one daemon, its loop is
 * its only thread, and a hook must cost no more than an increment on the
 * packet path.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rosterd.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"

struct rd_metrics rd_metrics;

/* Seconds: a commit (an fsync) and a datagram per member take from under
 * a millisecond to seconds for the largest VPNs (performance.rst). */
static const double fanout_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void rd_metrics_reset(void)
{
	memset(&rd_metrics, 0, sizeof(rd_metrics));
	rd_metrics.fanout.bounds = fanout_bounds;
	rd_metrics.fanout.n = sizeof(fanout_bounds) / sizeof(fanout_bounds[0]);
	rd_metrics.start_time = (uint64_t)time(NULL);
}

/* The counters work before any reset: the static instance is zero, and
 * the histogram finds its bounds on first use. */
static struct rd_hist *fanout_hist(void)
{
	if (!rd_metrics.fanout.bounds) {
		rd_metrics.fanout.bounds = fanout_bounds;
		rd_metrics.fanout.n = sizeof(fanout_bounds) / sizeof(fanout_bounds[0]);
	}
	return &rd_metrics.fanout;
}

void rd_hist_observe(struct rd_hist *h, double v)
{
	unsigned int i = 0;

	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++;		/* i == n: +Inf */
	h->count++;
	h->sum += v;
}

void rd_metrics_msg(enum rd_msg_dir dir, unsigned int type)
{
	if (dir < __RD_M_DIR_MAX && type < __RD_TYPE_MAX)
		rd_metrics.msgs[dir][type]++;
}

void rd_metrics_resync(void)
{
	rd_metrics.resyncs++;
}

int64_t rd_metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void rd_metrics_fanned_out(const struct roster_event *ev, int64_t start_us)
{
	if (ev->type == ROSTER_EVENT_MEMBER_JOINED)
		rd_metrics.joins++;
	if (ev->type == ROSTER_EVENT_MEMBER_LEFT) {
		unsigned int r = ev->has_reason ? ev->reason : ROSTER_REASON_REQUESTED;

		rd_metrics.leaves[r < RD_M_REASONS ? r : RD_M_REASONS]++;
	}
	rd_hist_observe(fanout_hist(), (double)(rd_metrics_now_us() - start_us) / 1e6);
}

static struct rd_vpn_count *reconcile_slot(uint32_t vpn, bool create)
{
	struct rd_metrics *m = &rd_metrics;
	const unsigned int max = sizeof(m->reconcile_errors) / sizeof(m->reconcile_errors[0]);

	for (unsigned int i = 0; i < m->n_reconcile; i++)
		if (m->reconcile_errors[i].vpn == vpn)
			return &m->reconcile_errors[i];
	if (!create || m->n_reconcile == max)
		return NULL;
	m->reconcile_errors[m->n_reconcile].vpn = vpn;
	m->reconcile_errors[m->n_reconcile].n = 0;
	return &m->reconcile_errors[m->n_reconcile++];
}

void rd_metrics_reconcile(uint32_t vpn, int ret)
{
	struct rd_vpn_count *c = ret ? reconcile_slot(vpn, true) : NULL;

	if (c)
		c->n++;
}

uint64_t rd_metrics_reconcile_errors(uint32_t vpn)
{
	struct rd_vpn_count *c = reconcile_slot(vpn, false);

	return c ? c->n : 0;
}

/* ---- the text format ------------------------------------------------------- */

static void put(struct rd_prom *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *b;

		while (w->len + n + 1 > cap)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->oom = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void puts_(struct rd_prom *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Label values: backslash, double quote and newline escaped; HELP text:
 * backslash and newline (the format's two escaping rules). */
static void put_escaped(struct rd_prom *w, const char *s, bool quote)
{
	while (*s) {
		/* The plain run in one copy: a manager writes a label per gateway. */
		size_t n = strcspn(s, quote ? "\\\n\"" : "\\\n");

		put(w, s, n);
		s += n;
		if (*s == '\\')
			puts_(w, "\\\\");
		else if (*s == '\n')
			puts_(w, "\\n");
		else if (*s == '"')
			puts_(w, "\\\"");
		if (*s)
			s++;
	}
}

void rd_prom_family(struct rd_prom *w, const char *name, const char *type, const char *help)
{
	puts_(w, "# HELP ");
	puts_(w, name);
	puts_(w, " ");
	put_escaped(w, help, false);
	puts_(w, "\n# TYPE ");
	puts_(w, name);
	puts_(w, " ");
	puts_(w, type);
	puts_(w, "\n");
}

static void put_labels(struct rd_prom *w, va_list ap)
{
	const char *k = va_arg(ap, const char *);
	bool first = true;

	for (; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		puts_(w, first ? "{" : ",");
		first = false;
		puts_(w, k);
		puts_(w, "=\"");
		put_escaped(w, v ? v : "", true);
		puts_(w, "\"");
	}
	if (!first)
		puts_(w, "}");
}

void rd_prom_u64(struct rd_prom *w, const char *name, uint64_t v, ...)
{
	char num[32];
	va_list ap;

	puts_(w, name);
	va_start(ap, v);
	put_labels(w, ap);
	va_end(ap);
	/* Exact, whatever its size: a generation may pass 2^53. */
	snprintf(num, sizeof(num), " %llu\n", (unsigned long long)v);
	puts_(w, num);
}

static void fmt_f64(char *num, size_t len, double v)
{
	if (isinf(v))
		snprintf(num, len, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		snprintf(num, len, "NaN");
	else
		/* The shortest text that reads back as v: 0.0005, not
		 * 0.00050000000000000001. */
		for (int p = 1; p <= 17; p++) {
			snprintf(num, len, "%.*g", p, v);
			if (strtod(num, NULL) == v)
				break;
		}
}

void rd_prom_f64(struct rd_prom *w, const char *name, double v, ...)
{
	char num[40];
	va_list ap;

	puts_(w, name);
	va_start(ap, v);
	put_labels(w, ap);
	va_end(ap);
	fmt_f64(num, sizeof(num), v);
	puts_(w, " ");
	puts_(w, num);
	puts_(w, "\n");
}

void rd_prom_hist(struct rd_prom *w, const char *name, const struct rd_hist *h)
{
	char n[128], le[40];
	uint64_t cum = 0;

	snprintf(n, sizeof(n), "%s_bucket", name);
	for (unsigned int i = 0; i <= h->n; i++) {
		cum += h->counts[i];
		if (i < h->n)
			fmt_f64(le, sizeof(le), h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		rd_prom_u64(w, n, cum, "le", le, NULL);
	}
	snprintf(n, sizeof(n), "%s_sum", name);
	rd_prom_f64(w, n, h->sum, NULL);
	snprintf(n, sizeof(n), "%s_count", name);
	rd_prom_u64(w, n, h->count, NULL);
}

static void msg_family(struct rd_prom *w, enum rd_msg_dir dir, const char *name, const char *help)
{
	rd_prom_family(w, name, "counter", help);
	for (unsigned int t = 1; t < __RD_TYPE_MAX; t++)
		rd_prom_u64(w, name, rd_metrics.msgs[dir][t], "type", rd_type_name(t), NULL);
}

void rd_prom_counters(struct rd_prom *w, const char *role)
{
	struct rd_metrics *m = &rd_metrics;

	/* The first write is at the loop's start. */
	if (!m->start_time)
		m->start_time = (uint64_t)time(NULL);
	rd_prom_family(w, "rosterd_info", "gauge", "rosterd's role and version (always 1).");
	rd_prom_u64(w, "rosterd_info", 1, "role", role, "version", ROSTERD_VERSION, NULL);
	rd_prom_family(w, "rosterd_start_time_seconds", "gauge",
		       "When the daemon started, seconds since the epoch.");
	rd_prom_u64(w, "rosterd_start_time_seconds", m->start_time, NULL);
	rd_prom_family(w, "rosterd_metrics_written_time_seconds", "gauge",
		       "When this file was written, seconds since the epoch (stale if old).");
	rd_prom_u64(w, "rosterd_metrics_written_time_seconds", (uint64_t)time(NULL), NULL);
	msg_family(w, RD_M_SENT, "rosterd_messages_sent_total",
		   "Control messages sent, first transmissions and ACKs, per type.");
	msg_family(w, RD_M_RECEIVED, "rosterd_messages_received_total",
		   "Control messages received from authenticated peers, duplicates included, per type.");
	msg_family(w, RD_M_RETRANSMITTED, "rosterd_messages_retransmitted_total",
		   "Control messages sent again for want of an ACK, per type.");
	msg_family(w, RD_M_GAVE_UP, "rosterd_messages_gave_up_total",
		   "Control messages dropped unacknowledged after the last try, per type.");
}

void rd_prom_fanout(struct rd_prom *w)
{
	static const char *const reasons[RD_M_REASONS + 1] = {
		"requested", "admin", "expired", "other",
	};
	struct rd_metrics *m = &rd_metrics;

	rd_prom_family(w, "rosterd_joins_total", "counter", "Members that joined a VPN (committed).");
	rd_prom_u64(w, "rosterd_joins_total", m->joins, NULL);
	rd_prom_family(w, "rosterd_leaves_total", "counter",
		       "Members that left a VPN (committed), per reason.");
	for (unsigned int r = 0; r <= RD_M_REASONS; r++)
		rd_prom_u64(w, "rosterd_leaves_total", m->leaves[r], "reason", reasons[r], NULL);
	rd_prom_family(w, "rosterd_resyncs_total", "counter",
		       "Whole lists sent to a member whose view was behind.");
	rd_prom_u64(w, "rosterd_resyncs_total", m->resyncs, NULL);
	rd_prom_family(w, "rosterd_fanout_duration_seconds", "histogram",
		       "From reading a change's notification to its last NOTIFY or REMOVE sent "
		       "(or queued behind a full window), the store's commit included.");
	rd_prom_hist(w, "rosterd_fanout_duration_seconds", fanout_hist());
}

int rd_prom_commit(struct rd_prom *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	char tmp[4096];
	size_t off = 0;
	int fd, ret = 0;

	if (w->oom)
		return -ENOMEM;
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)dlen, path, path + dlen) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	/* node_exporter runs as another user: the counters are not secret. */
	if (fchmod(fd, 0644))
		ret = -errno;
	while (!ret && off < w->len) {
		ssize_t n = write(fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

void rd_prom_free(struct rd_prom *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

int rd_metrics_write(struct rd_prom *w, const char *path)
{
	static int last_err;
	int ret = rd_prom_commit(w, path);

	if (ret && ret != last_err)
		rd_warn("%s: cannot write the metrics: %s", path, strerror(-ret));
	else if (!ret && last_err)
		rd_info("%s: metrics written again", path);
	last_err = ret;
	rd_prom_free(w);
	return ret;
}

void rd_metrics_remove(const char *path)
{
	if (path[0] && unlink(path) && errno != ENOENT)
		rd_warn("%s: %s", path, strerror(errno));
}

bool rd_metrics_due(int64_t *next_ms, int64_t now_ms, unsigned int interval_s)
{
	if (!interval_s)
		return false;
	if (*next_ms && now_ms < *next_ms)
		return false;
	*next_ms = now_ms + (int64_t)interval_s * 1000;
	return true;
}

int rd_metrics_timeout(int64_t next_ms, int64_t now_ms)
{
	if (!next_ms)
		return -1;
	return next_ms <= now_ms ? 0 : (int)(next_ms - now_ms);
}
