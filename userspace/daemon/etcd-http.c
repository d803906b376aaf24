// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the etcd 3.4 HTTP/JSON gateway client (etcd-http.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "etcd-http.h"

/* A request that takes longer is a sick member: the next one is tried.
 * Long enough for a commit that waits for a leader election (etcd's
 * default election timeout is 1 s). */
#define CONNECT_TIMEOUT_MS 2000
#define REQUEST_TIMEOUT_MS 5000

struct rd_etcd {
	CURL *curl;
	char *urls[RD_ETCD_MAX_ENDPOINTS];
	unsigned int n_urls, cur;
	struct rd_etcd_conf conf;
	char password[256];
	char *token;		/* etcd's auth token, NULL without a user */
	/* the body of the answer being read */
	char *buf;
	size_t len, cap;
	char curl_err[CURL_ERROR_SIZE];
};

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *rd_etcd_b64(const void *p, size_t n)
{
	const uint8_t *s = p;
	char *o = malloc((n + 2) / 3 * 4 + 1), *d = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*d++ = b64c[v >> 18 & 63];
		*d++ = b64c[v >> 12 & 63];
		*d++ = i + 1 < n ? b64c[v >> 6 & 63] : '=';
		*d++ = i + 2 < n ? b64c[v & 63] : '=';
	}
	*d = 0;
	return o;
}

static int b64v(char c)
{
	const char *p = c ? strchr(b64c, c) : NULL;

	return p ? (int)(p - b64c) : -1;
}

int rd_etcd_unb64(const char *s, char **out, size_t *n)
{
	size_t len = strlen(s), o = 0;
	char *d;

	*out = NULL;
	*n = 0;
	if (len % 4)
		return -EINVAL;
	d = malloc(len / 4 * 3 + 1);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int a = b64v(s[i]), b = b64v(s[i + 1]), c = b64v(s[i + 2]), e = b64v(s[i + 3]);
		bool pad2 = s[i + 2] == '=' && s[i + 3] == '=', pad1 = !pad2 && s[i + 3] == '=';

		if (a < 0 || b < 0 || (!pad2 && c < 0) || (!pad1 && !pad2 && e < 0) ||
		    ((pad1 || pad2) && i + 4 != len)) {
			free(d);
			return -EINVAL;
		}
		d[o++] = (char)(a << 2 | b >> 4);
		if (!pad2)
			d[o++] = (char)((b & 15) << 4 | c >> 2);
		if (!pad1 && !pad2)
			d[o++] = (char)((c & 3) << 6 | e);
	}
	d[o] = 0;
	*out = d;
	*n = o;
	return 0;
}

int64_t rd_etcd_int(const json_t *obj, const char *field)
{
	const json_t *v = obj ? json_object_get(obj, field) : NULL;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rd_etcd *e = arg;
	size_t n = size * nmemb;

	if (e->len + n + 1 > e->cap) {
		size_t cap = (e->len + n + 1) * 2;
		char *nb = realloc(e->buf, cap);

		if (!nb)
			return 0;
		e->buf = nb;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, p, n);
	e->len += n;
	e->buf[e->len] = 0;
	return n;
}

/* etcd's error text to an errno: the caller's message keeps the text. */
static int etcd_errno(long status, const char *msg)
{
	if (strstr(msg, "too many operations") || strstr(msg, "request is too large") ||
	    strstr(msg, "too large"))
		return -E2BIG;
	if (status == 401 || strstr(msg, "authentication") || strstr(msg, "permission denied") ||
	    strstr(msg, "invalid auth token") || strstr(msg, "user name"))
		return -EACCES;
	if (strstr(msg, "timed out") || strstr(msg, "leader changed") || strstr(msg, "no leader"))
		return -ETIMEDOUT;
	return -EIO;
}

void rd_etcd_setup(const struct rd_etcd *e, CURL *c)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	/* Only the configured endpoints, never a redirect elsewhere. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->conf.cacert[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, e->conf.cacert);
	if (e->conf.cert[0]) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->conf.cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->conf.key);
	}
}

struct curl_slist *rd_etcd_headers(const struct rd_etcd *e)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char auth[1100];

	if (e->token) {
		snprintf(auth, sizeof(auth), "Authorization: %s", e->token);
		h = curl_slist_append(h, auth);
	}
	return h;
}

void rd_etcd_set_timeout(struct rd_etcd *e, unsigned int ms)
{
	long t = ms ? (long)ms : REQUEST_TIMEOUT_MS;

	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, t);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 t < CONNECT_TIMEOUT_MS ? t : (long)CONNECT_TIMEOUT_MS);
}

unsigned int rd_etcd_endpoints(const struct rd_etcd *e, unsigned int *cur)
{
	*cur = e->cur;
	return e->n_urls;
}

const char *rd_etcd_url(const struct rd_etcd *e, unsigned int u)
{
	return e->urls[u % e->n_urls];
}

/* One POST to one endpoint. 1: the endpoint did not answer (try the next). */
static int post(struct rd_etcd *e, const char *base, const char *path, const char *body,
		json_t **resp, char *err, size_t errlen)
{
	struct curl_slist *h = NULL;
	char url[1200];
	json_error_t je;
	long status = 0;
	CURLcode rc;
	json_t *j;

	snprintf(url, sizeof(url), "%s/v3/%s", base, path);
	h = rd_etcd_headers(e);
	e->len = 0;
	e->curl_err[0] = 0;
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(e->curl);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		/* curl's own text says which certificate, or which step. */
		snprintf(err, errlen, "etcd %s: %s%s%s", base, curl_easy_strerror(rc),
			 e->curl_err[0] ? ": " : "", e->curl_err);
		if (rc == CURLE_OPERATION_TIMEDOUT) {
			curl_off_t conn = 0;

			/* Sent and unanswered, it may have been applied: never
			 * sent again (a compare-and-set would fail on its own
			 * write). Not connected: the next member may answer. */
			curl_easy_getinfo(e->curl, CURLINFO_CONNECT_TIME_T, &conn);
			if (conn > 0)
				return -ETIMEDOUT;
		}
		return 1;
	}
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	j = json_loadb(e->buf ? e->buf : "", e->len, 0, &je);
	if (status != 200 || !j || json_object_get(j, "error")) {
		const char *msg = NULL;

		if (j)
			msg = json_string_value(json_object_get(j, "message"));
		if (!msg && j)
			msg = json_string_value(json_object_get(j, "error"));
		if (!msg)
			msg = j ? "no message" : je.text;
		snprintf(err, errlen, "etcd %s: /v3/%s: HTTP %ld: %s", base, path, status,
			 msg);
		int ret = etcd_errno(status, msg);

		json_decref(j);
		/* A member without a leader, or shutting down: another may serve. */
		return status == 503 || status == 0 ? 1 : ret;
	}
	*resp = j;
	return 0;
}

static int authenticate(struct rd_etcd *e, char *err, size_t errlen);

int rd_etcd_call(struct rd_etcd *e, const char *path, json_t *req, json_t **resp, char *err,
		 size_t errlen)
{
	char *body = json_dumps(req, JSON_COMPACT);
	int ret = -ECONNREFUSED;
	bool reauth = e->token != NULL;

	json_decref(req);
	*resp = NULL;
	if (!body) {
		snprintf(err, errlen, "etcd: out of memory");
		return -ENOMEM;
	}
	for (unsigned int t = 0; t < e->n_urls; t++) {
		unsigned int u = (e->cur + t) % e->n_urls;

		ret = post(e, e->urls[u], path, body, resp, err, errlen);
		if (ret == -EACCES && reauth && strcmp(path, "auth/authenticate")) {
			/* The token expired (etcd's default TTL is 5 minutes). */
			reauth = false;
			ret = authenticate(e, err, errlen);
			if (!ret)
				ret = post(e, e->urls[u], path, body, resp, err, errlen);
		}
		if (ret != 1) {
			if (!ret)
				e->cur = u;
			break;
		}
		ret = -ECONNREFUSED;
	}
	if (ret == -ECONNREFUSED && e->n_urls > 1) {
		char last[512];

		snprintf(last, sizeof(last), "%s", err);
		snprintf(err, errlen, "etcd: none of the %u endpoints answered; the last: %s",
			 e->n_urls, last);
	}
	free(body);
	return ret;
}

int rd_etcd_call_at(struct rd_etcd *e, const char *base, const char *path, json_t *req,
		    json_t **resp, char *err, size_t errlen)
{
	char *body = json_dumps(req, JSON_COMPACT);
	int ret;

	json_decref(req);
	*resp = NULL;
	if (!body) {
		snprintf(err, errlen, "etcd: out of memory");
		return -ENOMEM;
	}
	ret = post(e, base, path, body, resp, err, errlen);
	free(body);
	return ret == 1 ? -ECONNREFUSED : ret;
}

static int authenticate(struct rd_etcd *e, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "name", e->conf.user, "password", e->password);
	json_t *resp;
	const char *tok;
	int ret;

	free(e->token);
	e->token = NULL;
	if (!req)
		return -ENOMEM;
	ret = rd_etcd_call(e, "auth/authenticate", req, &resp, err, errlen);
	if (ret)
		return ret;
	tok = json_string_value(json_object_get(resp, "token"));
	if (tok)
		e->token = strdup(tok);
	json_decref(resp);
	if (!e->token) {
		snprintf(err, errlen, "etcd %s: authentication: no token in the answer (is auth "
			 "enabled?)", rd_etcd_endpoint(e));
		return -EACCES;
	}
	return 0;
}

static int read_password(struct rd_etcd *e, char *err, size_t errlen)
{
	FILE *f = fopen(e->conf.password_file, "re");
	size_t n;

	if (!f) {
		int ret = -errno;

		snprintf(err, errlen, "etcd-password-file %s: %s", e->conf.password_file,
			 strerror(errno));
		return ret;
	}
	if (!fgets(e->password, sizeof(e->password), f))
		e->password[0] = 0;
	fclose(f);
	n = strcspn(e->password, "\r\n");
	e->password[n] = 0;
	if (!n) {
		snprintf(err, errlen, "etcd-password-file %s: empty", e->conf.password_file);
		return -EINVAL;
	}
	return 0;
}

static int split_urls(struct rd_etcd *e, char *err, size_t errlen)
{
	char buf[sizeof(e->conf.endpoints)], *save = NULL;

	strcpy(buf, e->conf.endpoints);
	for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		size_t n = strlen(t);

		if (strncmp(t, "http://", 7) && strncmp(t, "https://", 8)) {
			snprintf(err, errlen, "etcd-endpoints: '%s' is not an http:// or https:// URL",
				 t);
			return -EINVAL;
		}
		if (e->n_urls == RD_ETCD_MAX_ENDPOINTS) {
			snprintf(err, errlen, "etcd-endpoints: more than %d", RD_ETCD_MAX_ENDPOINTS);
			return -EINVAL;
		}
		while (n && t[n - 1] == '/')
			t[--n] = 0;
		e->urls[e->n_urls] = strdup(t);
		if (!e->urls[e->n_urls])
			return -ENOMEM;
		e->n_urls++;
	}
	if (!e->n_urls) {
		snprintf(err, errlen, "etcd-endpoints: none given");
		return -EINVAL;
	}
	return 0;
}

int rd_etcd_open(const struct rd_etcd_conf *c, struct rd_etcd **out, char *err, size_t errlen)
{
	static bool curl_ready;
	struct rd_etcd *e;
	int ret;

	*out = NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			snprintf(err, errlen, "libcurl: cannot initialise");
			return -EIO;
		}
		curl_ready = true;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->conf = *c;
	ret = split_urls(e, err, errlen);
	if (!ret && c->user[0])
		ret = read_password(e, err, errlen);
	if (ret)
		goto fail;
	e->curl = curl_easy_init();
	if (!e->curl) {
		ret = -ENOMEM;
		goto fail;
	}
	rd_etcd_setup(e, e->curl);
	rd_etcd_set_timeout(e, 0);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	if (c->user[0]) {
		ret = authenticate(e, err, errlen);
		if (ret)
			goto fail;
	}
	*out = e;
	return 0;
fail:
	rd_etcd_close(e);
	return ret;
}

void rd_etcd_close(struct rd_etcd *e)
{
	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	for (unsigned int i = 0; i < e->n_urls; i++)
		free(e->urls[i]);
	free(e->token);
	free(e->buf);
	memset(e->password, 0, sizeof(e->password));
	free(e);
}

const char *rd_etcd_endpoint(const struct rd_etcd *e)
{
	return e->n_urls ? e->urls[e->cur] : "(none)";
}
