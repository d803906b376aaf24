// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rosterd: the local control socket, both ends (ctl-sock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "ctl-sock.h"

/* Refusals of non-root clients are logged at most this often: any local
 * user can connect, and must not be able to fill the log. */
#define REFUSED_REPORT_MS (10 * 1000)

struct ctl_client {
	int fd;				/* -1: free slot */
	int64_t since;
	char in[CTL_SOCK_REQ_MAX + 1];
	size_t nin;
	char *out;			/* NULL: still reading the request */
	size_t nout, off;
};

static int64_t last_refused_report = -REFUSED_REPORT_MS;

static int sock_path(const char *dir, struct sockaddr_un *sa, char *path, size_t len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, CTL_SOCK_NAME) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	if (path)
		snprintf(path, len, "%s", sa->sun_path);
	return 0;
}

static void client_drop(struct ctl_sock *s, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int ctl_sock_open(struct ctl_sock *s, const char *dir, ctl_sock_fn fn, void *arg,
		  char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int ret;

	memset(s, 0, sizeof(*s));
	s->ep = s->lfd = -1;
	s->fn = fn;
	s->arg = arg;
	ret = sock_path(dir, &sa, s->path, sizeof(s->path));
	if (ret) {
		snprintf(err, errlen, "%s/%s: path too long for a socket (%zu bytes at most)", dir,
			 CTL_SOCK_NAME, sizeof(sa.sun_path) - 1);
		return ret;
	}
	/* A socket file left by a daemon that died is removed; one that
	 * answers belongs to a daemon that runs on this state directory. */
	if (!lstat(s->path, &st)) {
		int fd;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", s->path);
			return -EEXIST;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			snprintf(err, errlen, "%s: another rosterd answers there", s->path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(s->path);
	}
	s->cl = calloc(CTL_SOCK_CLIENTS, sizeof(*s->cl));
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!s->cl || s->lfd < 0 || s->ep < 0) {
		ret = s->cl ? -errno : -ENOMEM;
		snprintf(err, errlen, "control socket: %s", strerror(-ret));
		goto fail;
	}
	for (unsigned int i = 0; i < CTL_SOCK_CLIENTS; i++)
		s->cl[i].fd = -1;
	/* Created 0600 from the start: no moment where others may connect. */
	old = umask(0177);
	ret = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!ret && (chmod(s->path, 0600) || lstat(s->path, &st)))
		ret = -errno;
	if (!ret) {
		s->ino = (uint64_t)st.st_ino;
		s->dev = (uint64_t)st.st_dev;
	}
	if (!ret && listen(s->lfd, 16))
		ret = -errno;
	ev.data.ptr = NULL;
	if (!ret && epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	ctl_sock_close(s);
	return ret;
}

int ctl_sock_fd(const struct ctl_sock *s)
{
	return s->ep;
}

static struct ctl_client *client_slot(struct ctl_sock *s)
{
	struct ctl_client *oldest = &s->cl[0];

	for (unsigned int i = 0; i < CTL_SOCK_CLIENTS; i++) {
		if (s->cl[i].fd < 0)
			return &s->cl[i];
		if (s->cl[i].since < oldest->since)
			oldest = &s->cl[i];
	}
	client_drop(s, oldest);
	return oldest;
}

static bool peer_is_root(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) && len == sizeof(cr) &&
	       cr.uid == 0;
}

static void accept_all(struct ctl_sock *s)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ctl_client *c;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!peer_is_root(fd)) {
			int64_t now = rd_now_ms();

			close(fd);
			s->refused++;
			if (now - last_refused_report >= REFUSED_REPORT_MS) {
				last_refused_report = now;
				rd_warn("%s: refused a client that is not root (%lu so far)", s->path,
					s->refused);
			}
			continue;
		}
		c = client_slot(s);
		c->fd = fd;
		c->since = rd_now_ms();
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev))
			client_drop(s, c);
	}
}

static void answer(struct ctl_sock *s, struct ctl_client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	json_t *j = s->fn ? s->fn(c->in, s->arg) : NULL;

	if (!j)
		j = json_pack("{s:s}", "error", "unknown request");
	c->out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!c->out) {
		client_drop(s, c);
		return;
	}
	c->nout = strlen(c->out);
	c->out[c->nout++] = '\n';	/* json_dumps' NUL becomes the final newline */
	c->off = 0;
	s->served++;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev))
		client_drop(s, c);
}

static void client_read(struct ctl_sock *s, struct ctl_client *c)
{
	ssize_t n = read(c->fd, c->in + c->nin, CTL_SOCK_REQ_MAX - c->nin);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_drop(s, c);
		return;
	}
	c->nin += (size_t)n;
	c->in[c->nin] = 0;
	nl = memchr(c->in, '\n', c->nin);
	if (!nl) {
		if (c->nin >= CTL_SOCK_REQ_MAX)
			client_drop(s, c);
		return;
	}
	*nl = 0;
	answer(s, c);
}

static void client_write(struct ctl_sock *s, struct ctl_client *c)
{
	ssize_t n = send(c->fd, c->out + c->off, c->nout - c->off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(s, c);
		return;
	}
	c->off += (size_t)n;
	if (c->off == c->nout)
		client_drop(s, c);
}

int ctl_sock_serve(struct ctl_sock *s)
{
	struct epoll_event evs[16];
	int64_t now;
	int n, next = -1;

	if (s->ep < 0)
		return -1;
	while ((n = epoll_wait(s->ep, evs, 16, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			struct ctl_client *c = evs[i].data.ptr;

			if (!c)
				accept_all(s);
			else if (c->fd < 0)
				continue;	/* dropped by an earlier event of this batch */
			else if (!c->out)
				client_read(s, c);
			else
				client_write(s, c);
		}
		if (n < 16)
			break;
	}
	now = rd_now_ms();
	for (unsigned int i = 0; i < CTL_SOCK_CLIENTS; i++) {
		struct ctl_client *c = &s->cl[i];
		int64_t left;

		if (c->fd < 0)
			continue;
		left = c->since + CTL_SOCK_TIMEOUT_MS - now;
		if (left <= 0)
			client_drop(s, c);
		else if (next < 0 || left < next)
			next = (int)left;
	}
	return next;
}

void ctl_sock_close(struct ctl_sock *s)
{
	struct stat st;

	if (s->cl)
		for (unsigned int i = 0; i < CTL_SOCK_CLIENTS; i++)
			client_drop(s, &s->cl[i]);
	free(s->cl);
	s->cl = NULL;
	/* Only our own file: a daemon started since may have replaced it. */
	if (s->ino && !lstat(s->path, &st) && (uint64_t)st.st_ino == s->ino &&
	    (uint64_t)st.st_dev == s->dev)
		unlink(s->path);
	s->ino = 0;
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	s->lfd = s->ep = -1;
}

int ctl_sock_request(const char *dir, const char *req, int timeout_ms, char **reply)
{
	struct sockaddr_un sa;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int64_t deadline = rd_now_ms() + timeout_ms;
	int fd, ret;

	*reply = NULL;
	ret = sock_path(dir, &sa, NULL, 0);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	{
		char line[CTL_SOCK_REQ_MAX + 2];
		int n = snprintf(line, sizeof(line), "%s\n", req);

		if (n < 0 || (size_t)n >= sizeof(line) ||
		    send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
			close(fd);
			return n < 0 || (size_t)n >= sizeof(line) ? -EINVAL : -EPROTO;
		}
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - rd_now_ms();
		ssize_t n;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = poll(&p, 1, (int)left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			ret = -errno;
			break;
		}
		if (!ret)
			continue;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		/* A daemon that refuses us closes with our request unread:
		 * that is a reset, not an answer. */
		if (n < 0) {
			ret = errno == ECONNRESET ? -EPROTO : -errno;
			break;
		}
		if (!n) {
			ret = len ? 0 : -EPROTO;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = 0;
	*reply = buf;
	return 0;
}
