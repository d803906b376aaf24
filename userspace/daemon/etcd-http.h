/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: a small client of etcd 3.4's HTTP/JSON gateway (etcd-http.c),
 * on libcurl and jansson. No maintained C client speaks etcd v3, and the
 * gateway is part of every etcd server, so the store (store-etcd.c) posts
 * the gRPC messages as JSON: keys and values in base64, 64-bit integers
 * as decimal strings.
 *
 * One connection, kept alive, to the first endpoint that answers; when
 * it fails, the next one is tried for the same request. TLS with a CA
 * and a client certificate, and etcd's password authentication (the
 * token is taken at open and again when etcd says it expired).
 */
#ifndef RD_ETCD_HTTP_H
#define RD_ETCD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

/* [manager] etcd-* (config.c). Empty strings: not set. */
struct rd_etcd_conf {
	char endpoints[1024];	/* "https://10.0.0.1:2379,https://10.0.0.2:2379" */
	char prefix[128];	/* every key of this cluster of managers under it */
	char cacert[256];	/* PEM CA bundle that signed the servers */
	char cert[256], key[256];	/* client certificate and its key (PEM) */
	char user[128];
	char password_file[256];	/* the password, first line */
};

#define RD_ETCD_PREFIX_DEFAULT "/roster/"
#define RD_ETCD_MAX_ENDPOINTS 16

struct rd_etcd;

/* Set up the client (no request is sent except the authentication, if
 * a user is configured). -errno and why into err. */
int rd_etcd_open(const struct rd_etcd_conf *c, struct rd_etcd **out, char *err, size_t errlen);
void rd_etcd_close(struct rd_etcd *e);
/* The endpoint of the last answer (or the first configured). */
const char *rd_etcd_endpoint(const struct rd_etcd *e);

/*
 * POST req to the gateway's path ("kv/range", "kv/txn", ...; req is
 * consumed) and parse the answer into *resp (json_decref it). Every
 * endpoint is tried once. -ECONNREFUSED: none answered; -ETIMEDOUT; -EACCES:
 * authentication refused; -E2BIG: a request over etcd's limits; -EIO: any
 * other error of etcd. The text goes to err.
 */
int rd_etcd_call(struct rd_etcd *e, const char *path, json_t *req, json_t **resp, char *err,
		 size_t errlen);

/* The time each call may take from now on, ms (0: the default, 5 s, and
 * at most 2 s of it to connect). */
void rd_etcd_set_timeout(struct rd_etcd *e, unsigned int ms);
/* For another transfer to the same cluster (etcd-watch.c): c gets the
 * connection's options (timeouts to connect, TLS, no redirects), and the
 * headers are its (JSON, the auth token): curl_slist_free_all them. */
void rd_etcd_setup(const struct rd_etcd *e, CURL *c);
struct curl_slist *rd_etcd_headers(const struct rd_etcd *e);
/* How many endpoints, and (into *cur) the one that answered last. */
unsigned int rd_etcd_endpoints(const struct rd_etcd *e, unsigned int *cur);
/* Endpoint u (modulo their number), without a trailing slash. */
const char *rd_etcd_url(const struct rd_etcd *e, unsigned int u);

/* The same, to one member at base ("https://10.0.0.2:2379", any member
 * of the cluster, configured or not), with no other tried. */
int rd_etcd_call_at(struct rd_etcd *e, const char *base, const char *path, json_t *req,
		    json_t **resp, char *err, size_t errlen);

/* base64 of p[0..n), malloc'ed. */
char *rd_etcd_b64(const void *p, size_t n);
/* Decode s (NUL-terminated) into a malloc'ed buffer (NUL-terminated too,
 * not counted in *n). -EINVAL if s is not base64. */
int rd_etcd_unb64(const char *s, char **out, size_t *n);
/* A 64-bit field of a gateway answer: the gateway writes them as
 * strings and leaves zeroes out. */
int64_t rd_etcd_int(const json_t *obj, const char *field);

#endif /* RD_ETCD_HTTP_H */
