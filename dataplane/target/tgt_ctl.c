/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target's end of the control channel (polled once a millisecond from the target's loop):
 * connect to the router's endpoint (retrying every RETRY_MS while it is not there), seal with the
 * control key, announce ourselves with a HELLO once the handshake is through, and send a HEARTBEAT
 * every HEARTBEAT_MS. A dead connection or a router restart just means a new connection. SA
 * snapshots and updates over this channel come with the rest of issue 4.
 */
#include <errno.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "tgt.h"

#define RETRY_MS     500
#define HEARTBEAT_MS 200

static void
on_msg(void *arg, const struct dist_msg *m)
{
	struct tgt *t = arg;

	t->ctl.msgs++;
	if (m->type == DIST_MSG_HEARTBEAT)
		t->ctl.heartbeats_rx++;
}

static void
drop_conn(struct tgt *t)
{
	dist_conn_close(&t->ctl.conn);
	t->ctl.hello_sent = false;
}

void
tgt_ctl_poll(struct tgt *t, uint64_t now)
{
	struct tgt_ctl *c = &t->ctl;
	const uint64_t ms = rte_get_tsc_hz() / 1000;

	if (c->conn.fd < 0) {
		if (now - c->last_try_tsc < RETRY_MS * ms)
			return;
		c->last_try_tsc = now;

		int fd = dist_connect(&t->cfg->router_control);

		if (fd < 0 ||
		    dist_conn_start(&c->conn, fd, DIST_ROLE_TARGET, t->cfg->control_key) < 0)
			return;
		c->connects++;
	}

	int rc = dist_conn_recv(&c->conn, on_msg, t);

	if (rc == -EACCES)
		c->auth_failures++;
	if (rc < 0) {
		drop_conn(t);
		return;
	}
	if (!c->hello_sent) {
		struct dist_msg hello = { .type = DIST_MSG_HELLO,
					  .hello = { .target_id = t->cfg->id } };

		if (dist_conn_send(&c->conn, &hello) == 0) { /* -ENOTCONN until the handshake */
			c->hello_sent = true;
			c->last_tx_tsc = now;
		}
	} else if (now - c->last_tx_tsc >= HEARTBEAT_MS * ms) {
		struct dist_msg hb = { .type = DIST_MSG_HEARTBEAT,
				       .heartbeat = { .seq = ++c->hb_seq, .time_ms = now / ms } };

		if (dist_conn_send(&c->conn, &hb) == 0)
			c->last_tx_tsc = now;
	}
	if (dist_conn_flush(&c->conn) < 0)
		drop_conn(t);
}

void
tgt_ctl_close(struct tgt *t)
{
	dist_conn_close(&t->ctl.conn);
}
