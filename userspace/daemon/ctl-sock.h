/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: the local control socket (ctl-sock.c), both ends.
 *
 * A daemon listens on STATE_DIR/control.sock (a stream socket, mode 0600,
 * in a state directory of mode 0700), and answers only root (SO_PEERCRED
 * uid 0). One request per connection: the client writes one line (the
 * request's name, e.g. "status"), the daemon writes one JSON document and
 * closes. The daemon polls one descriptor for all of it (an epoll set of
 * the listening socket and its clients), never blocks on a client, and
 * drops a client that is slower than CTL_SOCK_TIMEOUT_MS or one too many.
 */
#ifndef RD_CTL_SOCK_H
#define RD_CTL_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CTL_SOCK_NAME "control.sock"
/* A request line is a command name: anything longer is not one. */
#define CTL_SOCK_REQ_MAX 64
/* Clients served at once; the oldest is dropped for a new one. */
#define CTL_SOCK_CLIENTS 8
#define CTL_SOCK_TIMEOUT_MS 5000

/* The answer to request req (NUL-terminated, without the newline): a new
 * JSON document, or NULL for an unknown request. */
typedef json_t *(*ctl_sock_fn)(const char *req, void *arg);

struct ctl_client;

struct ctl_sock {
	int ep;				/* the descriptor the loop polls; -1: none */
	int lfd;
	char path[108];
	uint64_t dev, ino;		/* the socket file we made (0: none) */
	ctl_sock_fn fn;
	void *arg;
	struct ctl_client *cl;		/* [CTL_SOCK_CLIENTS] */
	unsigned long served, refused;
};

/* Listen on DIR/control.sock. -EADDRINUSE if a daemon answers there
 * already; -ENAMETOOLONG if the path does not fit a socket address. On
 * error s->ep is -1 and err says why. */
int ctl_sock_open(struct ctl_sock *s, const char *dir, ctl_sock_fn fn, void *arg,
		  char *err, size_t errlen);
/* The descriptor to poll for POLLIN (-1 if not open). */
int ctl_sock_fd(const struct ctl_sock *s);
/* Accept, read and answer whatever is ready, and drop slow clients;
 * never blocks. Returns ms until a client times out (-1: none waits). */
int ctl_sock_serve(struct ctl_sock *s);
/* Close everything and remove the socket file (if it is still ours). */
void ctl_sock_close(struct ctl_sock *s);

/* The client: send req to the daemon of DIR and read its answer (a
 * malloc'ed NUL-terminated string) within timeout_ms. -ENOENT or
 * -ECONNREFUSED: no daemon listens; -EACCES/-EPERM: not allowed (not
 * root); -ETIMEDOUT; -EPROTO: the daemon closed without an answer. */
int ctl_sock_request(const char *dir, const char *req, int timeout_ms, char **reply);

#endif /* RD_CTL_SOCK_H */
