// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: one etcd watch on libcurl's multi interface (etcd-watch.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "etcd-watch.h"
#include "util.h"

/* An answer line longer than this is not etcd's: the stream is dropped. */
#define LINE_MAX_BYTES (64u << 20)

struct rd_etcd_watch {
	struct rd_etcd *e;
	CURLM *multi;
	CURL *easy;		/* NULL when no transfer is set up */
	struct curl_slist *hdr;
	char *key, *end;	/* base64 */
	char *body;
	unsigned int url;	/* the endpoint index in use */
	bool open;
	curl_socket_t fd;	/* -1: none */
	int what;		/* CURL_POLL_* for fd */
	int64_t due;		/* curl's timer, ms; -1: none */
	char *buf;		/* bytes of an unfinished line */
	size_t len, cap;
	char why[512];		/* set by the writer when it drops the stream */
	rd_etcd_watch_cb cb;
	void *arg;
	char curl_err[CURL_ERROR_SIZE];
};

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct rd_etcd_watch *w = userp;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w->fd == s)
			w->fd = -1;
		return 0;
	}
	w->fd = s;
	w->what = what;
	return 0;
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
	struct rd_etcd_watch *w = userp;

	(void)multi;
	w->due = ms < 0 ? -1 : rd_now_ms() + ms;
	return 0;
}

/* One complete line: {"result": ...}, or {"error": ...} that ends it. */
static bool on_line(struct rd_etcd_watch *w, const char *p, size_t n)
{
	json_error_t je;
	json_t *j, *r, *err;

	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (!n)
		return true;
	j = json_loadb(p, n, 0, &je);
	if (!j) {
		snprintf(w->why, sizeof(w->why), "watch: not JSON: %s", je.text);
		return false;
	}
	err = json_object_get(j, "error");
	r = json_object_get(j, "result");
	if (err || !json_is_object(r)) {
		const char *msg = json_string_value(json_object_get(err, "message"));

		if (!msg)
			msg = json_string_value(json_object_get(j, "message"));
		snprintf(w->why, sizeof(w->why), "watch: %s", msg ? msg : "an answer without result");
		json_decref(j);
		return false;
	}
	if (w->cb)
		w->cb(w->arg, r);
	json_decref(j);
	return true;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rd_etcd_watch *w = arg;
	size_t n = size * nmemb, start = 0;

	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *nb;

		if (cap > LINE_MAX_BYTES) {
			snprintf(w->why, sizeof(w->why), "watch: an answer over %u bytes",
				 LINE_MAX_BYTES);
			return 0;
		}
		nb = realloc(w->buf, cap);
		if (!nb) {
			snprintf(w->why, sizeof(w->why), "watch: out of memory");
			return 0;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	for (size_t i = 0; i < w->len; i++) {
		if (w->buf[i] != '\n')
			continue;
		if (!on_line(w, w->buf + start, i - start))
			return 0;	/* curl ends the transfer: CURLE_WRITE_ERROR */
		start = i + 1;
	}
	memmove(w->buf, w->buf + start, w->len - start);
	w->len -= start;
	return n;
}

struct rd_etcd_watch *rd_etcd_watch_new(struct rd_etcd *e, const void *key, size_t klen,
					const void *end, size_t elen)
{
	struct rd_etcd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->e = e;
	w->fd = -1;
	w->due = -1;
	w->key = rd_etcd_b64(key, klen);
	w->end = rd_etcd_b64(end, elen);
	w->multi = curl_multi_init();
	if (!w->key || !w->end || !w->multi) {
		rd_etcd_watch_free(w);
		return NULL;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	return w;
}

static void stop(struct rd_etcd_watch *w)
{
	if (w->easy) {
		curl_multi_remove_handle(w->multi, w->easy);
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	curl_slist_free_all(w->hdr);
	w->hdr = NULL;
	free(w->body);
	w->body = NULL;
	w->open = false;
	w->fd = -1;
	w->due = -1;
	w->len = 0;
}

void rd_etcd_watch_free(struct rd_etcd_watch *w)
{
	if (!w)
		return;
	stop(w);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	free(w->key);
	free(w->end);
	free(w->buf);
	free(w);
}

int rd_etcd_watch_start(struct rd_etcd_watch *w, int64_t from, bool retry)
{
	unsigned int cur, n = rd_etcd_endpoints(w->e, &cur);
	char url[1200], rev[24];
	json_t *req;

	stop(w);
	w->url = retry ? (w->url + 1) % n : cur;
	snprintf(rev, sizeof(rev), "%" PRId64, from);
	req = json_pack("{s:{s:s, s:s}}", "create_request", "key", w->key, "range_end", w->end);
	if (req && from > 0)
		json_object_set_new(json_object_get(req, "create_request"), "start_revision",
				    json_string(rev));
	w->body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	w->easy = curl_easy_init();
	w->hdr = rd_etcd_headers(w->e);
	/* A member without a leader ends the stream (etcd's "hasleader"). */
	w->hdr = curl_slist_append(w->hdr, "Grpc-Metadata-hasleader: true");
	if (!w->body || !w->easy || !w->hdr) {
		stop(w);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s/v3/watch", rd_etcd_url(w->e, w->url));
	rd_etcd_setup(w->e, w->easy);
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->hdr);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, w->curl_err);
	/* The stream has no end; a host that went away is found by TCP. */
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPINTVL, 1L);
	w->why[0] = 0;
	w->curl_err[0] = 0;
	if (curl_multi_add_handle(w->multi, w->easy) != CURLM_OK) {
		stop(w);
		return -EIO;
	}
	w->open = true;
	return 0;
}

void rd_etcd_watch_stop(struct rd_etcd_watch *w)
{
	stop(w);
}

bool rd_etcd_watch_open(const struct rd_etcd_watch *w)
{
	return w->open;
}

int rd_etcd_watch_poll(struct rd_etcd_watch *w, struct pollfd *pfd)
{
	int64_t now;

	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	if (!w->open)
		return -1;
	if (w->fd >= 0) {
		pfd->fd = w->fd;
		pfd->events = (short)((w->what & CURL_POLL_IN ? POLLIN : 0) |
				      (w->what & CURL_POLL_OUT ? POLLOUT : 0));
	}
	if (w->due < 0)
		return -1;
	now = rd_now_ms();
	return w->due > now ? (int)(w->due - now) : 0;
}

bool rd_etcd_watch_run(struct rd_etcd_watch *w, short revents, rd_etcd_watch_cb cb, void *arg,
		       char *err, size_t errlen)
{
	int running = 0, left;
	CURLMsg *msg;

	if (!w->open)
		return false;
	w->cb = cb;
	w->arg = arg;
	if (w->fd >= 0 && revents) {
		int ev = (revents & POLLIN ? CURL_CSELECT_IN : 0) |
			 (revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
			 (revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(w->multi, w->fd, ev, &running);
	}
	if (w->open && w->due >= 0 && w->due <= rd_now_ms())
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	w->cb = NULL;
	while ((msg = curl_multi_info_read(w->multi, &left))) {
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
		if (w->why[0])
			snprintf(err, errlen, "etcd %s: %s", rd_etcd_url(w->e, w->url), w->why);
		else if (msg->data.result != CURLE_OK)
			snprintf(err, errlen, "etcd %s: watch: %s%s%s", rd_etcd_url(w->e, w->url),
				 curl_easy_strerror(msg->data.result), w->curl_err[0] ? ": " : "",
				 w->curl_err);
		else
			snprintf(err, errlen, "etcd %s: watch: the stream ended (HTTP %ld)",
				 rd_etcd_url(w->e, w->url), status);
		stop(w);
		return false;
	}
	return w->open;
}

const char *rd_etcd_watch_endpoint(const struct rd_etcd_watch *w)
{
	return rd_etcd_url(w->e, w->url);
}
