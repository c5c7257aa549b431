/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's end of the control channels (main lcore, polled every millisecond): one listener
 * and at most one connection per target, sealed with the control key (controlplane/dist). A target
 * is "joined" once its first sealed message, a HELLO with its id, has opened; both sides then send
 * a HEARTBEAT every HEARTBEAT_MS. A target that has joined once must keep its heartbeat: after
 * DEAD_MS without one it is unhealthy (rtr_control.c flushes its connections), like a target whose
 * link went down. A connection with another control key is refused and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "rtr.h"

#define HEARTBEAT_MS 200
#define DEAD_MS	     1000

struct rx_ctx {
	struct rtr *r;
	uint16_t t;
	uint64_t now;
	bool hello; /* a valid HELLO opened */
};

int
rtr_ctl_open(struct rtr *r)
{
	for (uint8_t t = 0; t < r->n_targets; t++) {
		struct rtr_ctl *c = &r->ctl[t];
		int fd = dist_listen(&r->cfg->targets[t].control);

		dist_conn_init(&c->conn);
		dist_conn_init(&c->pending);
		if (fd < 0) {
			fprintf(stderr, "targets[%u].control: cannot listen: %s\n", t,
				strerror(-fd));
			return fd;
		}
		c->listen_fd = fd;
	}
	return 0;
}

void
rtr_ctl_close(struct rtr *r)
{
	for (uint8_t t = 0; t < r->n_targets; t++) {
		dist_conn_close(&r->ctl[t].conn);
		dist_conn_close(&r->ctl[t].pending);
		if (r->ctl[t].listen_fd > 0)
			close(r->ctl[t].listen_fd);
	}
}

static void
on_msg(void *arg, const struct dist_msg *m)
{
	struct rx_ctx *x = arg;
	struct rtr_ctl *c = &x->r->ctl[x->t];

	c->msgs++;
	switch (m->type) {
	case DIST_MSG_HELLO:
		if (m->hello.target_id != x->r->cfg->targets[x->t].id) {
			c->wrong_id++;
			return;
		}
		x->hello = true;
		c->last_rx_tsc = x->now;
		break;
	case DIST_MSG_HEARTBEAT:
		c->last_rx_tsc = x->now;
		break;
	default: /* lifesize, connection end, target state: later (issue 4) */
		break;
	}
}

/* Reads one connection; false if it died (closed here). */
static bool
read_conn(struct rtr *r, uint16_t t, struct dist_conn *conn, uint64_t now, bool *hello)
{
	struct rx_ctx x = { r, t, now, false };
	int rc = dist_conn_recv(conn, on_msg, &x);

	if (rc == -EACCES)
		r->ctl[t].auth_failures++;
	if (rc < 0) {
		dist_conn_close(conn);
		return false;
	}
	*hello = x.hello;
	return true;
}

static void
poll_target(struct rtr *r, uint16_t t, uint64_t now)
{
	struct rtr_ctl *c = &r->ctl[t];
	const uint64_t ms = rte_get_tsc_hz() / 1000;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	bool hello = false;

	/* A new connection waits beside a joined one until its own HELLO opens (a restarted
	 * target): an unauthenticated peer must not be able to push a live target out. */
	if (fd >= 0)
		dist_conn_start(c->joined ? &c->pending : &c->conn, fd, DIST_ROLE_ROUTER,
				r->cfg->control_key);
	if (c->pending.fd >= 0 && read_conn(r, t, &c->pending, now, &hello) && hello) {
		dist_conn_close(&c->conn);
		c->conn = c->pending;
		dist_conn_init(&c->pending);
		c->joined = true;
		c->joins++;
	} else if (c->pending.fd >= 0) {
		dist_conn_flush(&c->pending);
	}
	if (c->conn.fd < 0)
		return;
	if (!read_conn(r, t, &c->conn, now, &hello)) {
		c->joined = false;
		return;
	}
	if (hello && !c->joined) {
		c->joined = true;
		c->ever_joined = true;
		c->joins++;
	}
	if (c->joined && now - c->last_tx_tsc >= HEARTBEAT_MS * ms) {
		struct dist_msg hb = { .type = DIST_MSG_HEARTBEAT,
				       .heartbeat = { .seq = ++c->hb_seq, .time_ms = now / ms } };

		if (dist_conn_send(&c->conn, &hb) == 0)
			c->last_tx_tsc = now;
	}
	if (dist_conn_flush(&c->conn) < 0) {
		dist_conn_close(&c->conn);
		c->joined = false;
	}
}

bool
rtr_ctl_alive(const struct rtr *r, uint16_t t, uint64_t now)
{
	const struct rtr_ctl *c = &r->ctl[t];

	/* a target that never joined is judged by its link alone (benchmarks, static clusters) */
	if (!c->ever_joined)
		return true;
	return c->joined && now - c->last_rx_tsc < DEAD_MS * (rte_get_tsc_hz() / 1000);
}

void
rtr_ctl_poll(struct rtr *r, uint64_t now)
{
	for (uint8_t t = 0; t < r->n_targets; t++)
		poll_target(r, t, now);
}
