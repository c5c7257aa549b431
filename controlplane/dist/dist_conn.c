/* SPDX-License-Identifier: BSD-3-Clause */
/* Control connections over Unix and TCP sockets, non-blocking (dist_conn.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dist_conn.h"

static int
unix_addr(const struct cfg_control *ctl, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(ctl->path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, ctl->path, strlen(ctl->path) + 1);
	return 0;
}

static int
tcp_addr(const struct cfg_control *ctl, struct addrinfo **res, bool passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	char port[8];

	snprintf(port, sizeof(port), "%u", ctl->port);
	return getaddrinfo(ctl->host, port, &hints, res) == 0 ? 0 : -EHOSTUNREACH;
}

int
dist_listen(const struct cfg_control *ctl)
{
	int fd, rc;

	if (ctl->kind == CFG_CONTROL_UNIX) {
		struct sockaddr_un sa;

		rc = unix_addr(ctl, &sa);
		if (rc < 0)
			return rc;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		unlink(ctl->path); /* a stale socket of an earlier run */
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
			goto fail;
		return fd;
	}

	struct addrinfo *ai;
	int one = 1;

	rc = tcp_addr(ctl, &ai, true);
	if (rc < 0)
		return rc;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4) < 0;
	freeaddrinfo(ai);
	if (rc)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int
dist_connect(const struct cfg_control *ctl)
{
	struct sockaddr_un su;
	struct addrinfo *ai = NULL;
	const struct sockaddr *sa;
	socklen_t len;
	int fd, rc, family;

	if (ctl->kind == CFG_CONTROL_UNIX) {
		rc = unix_addr(ctl, &su);
		if (rc < 0)
			return rc;
		sa = (const struct sockaddr *)&su;
		len = sizeof(su);
		family = AF_UNIX;
	} else {
		rc = tcp_addr(ctl, &ai, false);
		if (rc < 0)
			return rc;
		sa = ai->ai_addr;
		len = ai->ai_addrlen;
		family = ai->ai_family;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		rc = -errno;
	else if (connect(fd, sa, len) < 0 && errno != EINPROGRESS)
		rc = -errno;
	else
		rc = fd;
	if (rc < 0 && fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	return rc;
}

void
dist_conn_init(struct dist_conn *c)
{
	c->fd = -1;
	c->chan = NULL;
	c->out_len = 0;
}

int
dist_conn_start(struct dist_conn *c, int fd, enum dist_role role, const uint8_t *psk)
{
	size_t len;

	dist_conn_close(c);
	c->chan = dist_chan_new(role, psk);
	if (c->chan == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	if (dist_chan_hello(c->chan, c->out, sizeof(c->out), &len) < 0) {
		dist_conn_close(c);
		return -EPROTO;
	}
	c->out_len = len;
	return 0;
}

void
dist_conn_close(struct dist_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	dist_chan_free(c->chan);
	dist_conn_init(c);
}

int
dist_conn_send(struct dist_conn *c, const struct dist_msg *m)
{
	size_t len;
	int rc;

	if (c->fd < 0)
		return -ENOTCONN;
	if (sizeof(c->out) - c->out_len < DIST_SEAL_MAX)
		return -ENOBUFS;
	rc = dist_chan_seal(c->chan, m, c->out + c->out_len, sizeof(c->out) - c->out_len, &len);
	if (rc < 0)
		return rc;
	c->out_len += len;
	return 0;
}

int
dist_conn_flush(struct dist_conn *c)
{
	while (c->fd >= 0 && c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN
				       ? 0
				       : -errno;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

int
dist_conn_recv(struct dist_conn *c, void (*fn)(void *arg, const struct dist_msg *m), void *arg)
{
	uint8_t buf[DIST_SEAL_MAX];
	int handled = 0;

	if (c->fd < 0)
		return -ENOTCONN;
	for (;;) {
		size_t room = dist_chan_room(c->chan);

		if (room == 0)
			break;

		ssize_t n = recv(c->fd, buf, room < sizeof(buf) ? room : sizeof(buf), 0);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)
				break;
			return -errno;
		}
		int rc = dist_chan_feed(c->chan, buf, (size_t)n);

		if (rc < 0)
			return rc;
		for (;;) {
			struct dist_msg m;

			rc = dist_chan_next(c->chan, &m);
			if (rc == -EAGAIN)
				break;
			if (rc < 0)
				return rc;
			fn(arg, &m);
			dist_msg_clear(&m);
			handled++;
		}
	}
	return handled;
}
