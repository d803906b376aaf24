/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: one etcd watch through the HTTP/JSON gateway (etcd-watch.c).
 *
 * POST /v3/watch answers with a stream that stays open: one JSON object
 * a line, {"result": WatchResponse}. It runs beside the request
 * connection (etcd-http.c), on libcurl's multi interface, so that it
 * fits the daemon's one poll() loop: rd_etcd_watch_poll says which
 * descriptor to wait for and how long, rd_etcd_watch_run moves the
 * transfer on and hands each complete answer to a callback. It asks
 * the member to require a leader (etcd's "hasleader"), so a member cut
 * off from its cluster ends the stream instead of keeping it silent.
 *
 * What an answer means is the caller's (store-etcd.c): this is the
 * transport, and where to start again after it ends.
 */
#ifndef RD_ETCD_WATCH_H
#define RD_ETCD_WATCH_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "etcd-http.h"

struct rd_etcd_watch;

/* Called for each answer of the stream (result is borrowed). */
typedef void (*rd_etcd_watch_cb)(void *arg, json_t *result);

/* A watch of [key, end) (raw bytes, base64'ed here) on e's endpoints;
 * nothing is sent yet. NULL: out of memory. */
struct rd_etcd_watch *rd_etcd_watch_new(struct rd_etcd *e, const void *key, size_t klen,
					const void *end, size_t elen);
void rd_etcd_watch_free(struct rd_etcd_watch *w);
/* Open the stream from revision from (0: from now), at the endpoint
 * that answered the request connection last, or (retry) the one after
 * the endpoint this watch used before. -errno: curl refused. */
int rd_etcd_watch_start(struct rd_etcd_watch *w, int64_t from, bool retry);
/* End the stream (rd_etcd_watch_start opens it again). */
void rd_etcd_watch_stop(struct rd_etcd_watch *w);
/* The stream is open (started, and not ended since). */
bool rd_etcd_watch_open(const struct rd_etcd_watch *w);
/* What to poll (fd -1: nothing now); the ms until run is due anyway
 * (-1: not). */
int rd_etcd_watch_poll(struct rd_etcd_watch *w, struct pollfd *pfd);
/* Move the transfer on: revents are what poll() said of pfd (0 on a
 * timeout). Each complete answer goes to cb. False once the stream has
 * ended (an error, or the member went); why into err. */
bool rd_etcd_watch_run(struct rd_etcd_watch *w, short revents, rd_etcd_watch_cb cb, void *arg,
		       char *err, size_t errlen);
/* The endpoint the stream is on. */
const char *rd_etcd_watch_endpoint(const struct rd_etcd_watch *w);

#endif /* RD_ETCD_WATCH_H */
