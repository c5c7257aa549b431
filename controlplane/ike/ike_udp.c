/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP transport for the IKE engine (ike_udp.h): two non-blocking sockets, one per port, bound to
 * the local address; poll() until the engine's next deadline; port 4500's non-ESP marker stripped
 * on the way in (ike_udp4500_classify) and added on the way out (sendmsg with two pieces).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ike_priv.h" /* the codec (marker), before ike.h */
#include "ike_udp.h"

#define RX_BUF 65536

struct ike_udp {
	struct esp_addr local;
	int fd[2]; /* [0] port 500, [1] port 4500 */
	struct ike_udp_stats st;
	uint8_t buf[RX_BUF];
};

static const uint16_t ports[2] = { IKE_PORT, IKE_NATT_PORT };

static socklen_t
to_sockaddr(const struct esp_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->v6, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr.s_addr = a->v4;
	return sizeof(*s4);
}

static bool
from_sockaddr(const struct sockaddr_storage *ss, struct esp_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		a->family = 6;
		memcpy(a->v6, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return true;
	}
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		a->family = 4;
		a->v4 = s4->sin_addr.s_addr;
		*port = ntohs(s4->sin_port);
		return true;
	}
	return false;
}

static int
bind_one(const struct esp_addr *local, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(local, port, &ss);
	int one = 1, fd, rc;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (local->family == 6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
ike_udp_open(const struct esp_addr *local, struct ike_udp **out)
{
	struct ike_udp *u;

	*out = NULL;
	if (local->family != 4 && local->family != 6)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->local = *local;
	u->fd[0] = u->fd[1] = -1;
	for (int i = 0; i < 2; i++) {
		int fd = bind_one(local, ports[i]);

		if (fd < 0) {
			ike_udp_close(u);
			return fd;
		}
		u->fd[i] = fd;
	}
	*out = u;
	return 0;
}

void
ike_udp_close(struct ike_udp *u)
{
	if (u == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (u->fd[i] >= 0)
			close(u->fd[i]);
	free(u);
}

void
ike_udp_send(void *ctx, const struct ike_dgram *d)
{
	static const uint8_t marker[IKE_NON_ESP_MARKER_LEN];
	struct ike_udp *u = ctx;
	bool natt = d->local_port == IKE_NATT_PORT || d->remote_port == IKE_NATT_PORT;
	struct sockaddr_storage ss;
	struct iovec iov[2] = { { (void *)marker, sizeof(marker) }, { (void *)d->data, d->len } };
	struct msghdr mh = { .msg_name = &ss,
			     .msg_namelen = to_sockaddr(&d->remote, d->remote_port, &ss),
			     .msg_iov = natt ? iov : iov + 1,
			     .msg_iovlen = natt ? 2 : 1 };

	if (sendmsg(u->fd[natt], &mh, 0) < 0)
		u->st.send_errors++;
	else
		u->st.tx++;
}

uint64_t
ike_udp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Everything waiting on one socket. */
static void
drain(struct ike_udp *u, struct ike_engine *e, int i)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ike_dgram d = { .local = u->local, .local_port = ports[i] };
		ssize_t n =
			recvfrom(u->fd[i], u->buf, sizeof(u->buf), 0, (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return; /* EAGAIN, or an ICMP error queued on the socket: nothing to read */
		if (!from_sockaddr(&ss, &d.remote, &d.remote_port))
			continue;
		d.data = u->buf;
		d.len = (size_t)n;
		if (i == 1) {
			switch (ike_udp4500_classify(u->buf, (size_t)n, &d.data, &d.len)) {
			case IKE_UDP_IKE:
				break;
			case IKE_UDP_ESP:
				u->st.esp++;
				continue;
			case IKE_UDP_KEEPALIVE:
				u->st.keepalive++;
				continue;
			default:
				u->st.runt++;
				continue;
			}
		}
		u->st.rx++;
		ike_input(e, &d, ike_udp_now_ms());
	}
}

int
ike_udp_poll(struct ike_udp *u, struct ike_engine *e, int max_wait_ms)
{
	struct pollfd pfd[2] = { { .fd = u->fd[0], .events = POLLIN },
				 { .fd = u->fd[1], .events = POLLIN } };
	uint64_t now = ike_udp_now_ms(), next = ike_tick(e, now);
	int wait = max_wait_ms;

	if (next <= now)
		wait = 0;
	else if (next - now < (uint64_t)max_wait_ms)
		wait = (int)(next - now);
	if (poll(pfd, 2, wait) < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (pfd[i].revents & (POLLIN | POLLERR))
			drain(u, e, i);
	ike_tick(e, ike_udp_now_ms());
	return 0;
}

const struct ike_udp_stats *
ike_udp_stats(const struct ike_udp *u)
{
	return &u->st;
}
