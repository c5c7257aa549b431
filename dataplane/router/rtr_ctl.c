/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's end of the control channels (main lcore, polled every millisecond): one listener
 * and at most one connection per target, sealed with the control key (controlplane/dist). A target
 * is "joined" once its first sealed message, a HELLO with its id, has opened; both sides then send
 * a HEARTBEAT every HEARTBEAT_MS. A target that has joined once must keep its heartbeat: after
 * target_timeout_ms (config, 1 s by default) without one it is unhealthy (rtr_control.c flushes its
 * connections), like a target whose link went down. A connection with another control key is
 * refused and counted.
 *
 * SA distribution is level-triggered: for each connection the router remembers what it sent per
 * slot (generation, report threshold, rekey link) and, whenever the SA table's version moved,
 * walks the slots and sends the differences: SA_ADD / SA_DEL / LIFESIZE_LIMIT / REKEY. A new
 * connection starts with nothing sent, inside SNAPSHOT_BEGIN .. SNAPSHOT_END (the target drops
 * what the snapshot did not name). A full socket just ends the walk; the next poll goes on. The
 * target answers SA_SYNC with the newest generation it applied; the time from a change to the
 * last live target's SA_SYNC is the fan-out latency (telemetry /dvipsec/dist).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_tcp.h>

#include "rtr.h"

#define HEARTBEAT_MS 200

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
		c->sent = calloc(RTR_MAX_SLOTS, sizeof(*c->sent));
		if (c->sent == NULL) {
			if (fd >= 0)
				close(fd);
			return -ENOMEM;
		}
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
		free(r->ctl[t].sent);
		r->ctl[t].sent = NULL;
	}
}

/* A target's application ended a connection: its entry moves to closing (gone after the closing
 * timeout, not the idle one), as a FIN from the peer would move it. */
static bool
conn_end(struct rtr *r, const struct dist_conn_end *e, uint64_t now)
{
	const uint8_t fin = RTE_TCP_FIN_FLAG;
	uint16_t target;
	uint32_t sa_id = DCT_SA_PLAIN;
	struct dct_key k;

	if (r->dct == NULL || e->proto != IPPROTO_TCP)
		return false;
	if (e->sa_id != GRE_SLOT_PLAIN) {
		int in = rtr_sa_inbound_twin(r, e->sa_id);

		if (in < 0)
			return false;
		sa_id = rtr_sa_query(r, (uint32_t)in)->flow_id;
	}
	if (e->family == 4) {
		uint32_t src, dst;

		memcpy(&src, e->src, 4);
		memcpy(&dst, e->dst, 4);
		dct_key_v4(&k, sa_id, src, dst, rte_cpu_to_be_16(e->sport),
			   rte_cpu_to_be_16(e->dport));
	} else {
		dct_key_v6(&k, sa_id, e->src, e->dst, rte_cpu_to_be_16(e->sport),
			   rte_cpu_to_be_16(e->dport));
	}
	return dct_lookup_burst(r->dct, &k, &fin, 1, &target, now, &r->main.dct) != 0;
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
	case DIST_MSG_SA_SYNC:
		if (m->sa_sync.generation > c->acked_gen)
			c->acked_gen = m->sa_sync.generation;
		break;
	case DIST_MSG_LIFESIZE:
		c->lifesize_reports++;
		rtr_sa_lifesize(x->r, m->lifesize.slot, m->lifesize.bytes, m->lifesize.packets);
		break;
	case DIST_MSG_TARGET_STATE:
		/* a target that says it is unhealthy (its service is down) is treated as dead */
		c->draining = !m->target_state.healthy;
		if (m->target_state.weight != 0 && m->target_state.weight != c->weight &&
		    dct_targets_set_weight(&x->r->targets, x->t, m->target_state.weight) == 0)
			c->weight = m->target_state.weight;
		break;
	case DIST_MSG_CONN_END:
		c->conn_ends++;
		if (conn_end(x->r, &m->conn_end, x->now))
			c->conn_ends_closed++;
		break;
	default: /* a router-to-target type from a target: ignored */
		c->unexpected++;
		break;
	}
}

/* Queues m; on a full buffer writes out what the socket takes and tries once more. */
static bool
send_msg(struct rtr_ctl *c, const struct dist_msg *m)
{
	int rc = dist_conn_send(&c->conn, m);

	if (rc == -ENOBUFS && dist_conn_flush(&c->conn) == 0)
		rc = dist_conn_send(&c->conn, m);
	return rc == 0;
}

/* Sends one slot's differences; false when the connection takes no more for now. */
static bool
sync_slot(struct rtr *r, struct rtr_ctl *c, uint32_t slot)
{
	const struct rtr_sa_rec *rec = &r->dist.rec[slot];
	struct rtr_ctl_slot *sent = &c->sent[slot];
	struct dist_msg m;

	if (!rec->present) {
		if (sent->gen == 0)
			return true;
		m = (struct dist_msg){ .type = DIST_MSG_SA_DEL,
				       .sa_del = { .slot = slot, .generation = rec->generation } };
		if (!send_msg(c, &m))
			return false;
		*sent = (struct rtr_ctl_slot){ 0 };
		c->sa_msgs++;
		return true;
	}
	if (sent->gen != rec->generation) {
		m = (struct dist_msg){ .type = DIST_MSG_SA_ADD,
				       .sa_add = { .slot = slot,
						   .generation = rec->generation,
						   .out_target = rec->out_target,
						   .sa = rec->params } };
		if (!send_msg(c, &m))
			return false;
		*sent = (struct rtr_ctl_slot){ .gen = rec->generation };
		c->sa_msgs++;
	}
	if (rec->threshold != 0 && sent->threshold != rec->threshold) {
		m = (struct dist_msg){ .type = DIST_MSG_LIFESIZE_LIMIT,
				       .lifesize_limit = { .slot = slot,
							   .generation = rec->generation,
							   .threshold = rec->threshold } };
		if (!send_msg(c, &m))
			return false;
		sent->threshold = rec->threshold;
		c->sa_msgs++;
	}
	if (rec->rekey_of != 0 && sent->rekey_of != rec->rekey_of) {
		m = (struct dist_msg){ .type = DIST_MSG_REKEY,
				       .rekey = { .old_slot = rec->rekey_of - 1,
						  .new_slot = slot,
						  .generation = rec->generation } };
		if (!send_msg(c, &m))
			return false;
		sent->rekey_of = rec->rekey_of;
		c->sa_msgs++;
	}
	return true;
}

/* Brings one joined target up to the SA table's version (as far as its socket takes). */
static void
sync_target(struct rtr *r, struct rtr_ctl *c)
{
	uint64_t version = r->dist.version;
	struct dist_msg m;

	if (c->need_snapshot) {
		uint32_t count = 0;

		for (uint32_t s = 0; s < r->n_slots; s++)
			count += r->dist.rec[s].present;
		m = (struct dist_msg){ .type = DIST_MSG_SNAPSHOT_BEGIN,
				       .snapshot_begin = { .count = count,
							   .generation = r->sa_generation } };
		if (!send_msg(c, &m))
			return;
		memset(c->sent, 0, RTR_MAX_SLOTS * sizeof(*c->sent));
		c->need_snapshot = false;
		c->in_snapshot = true;
		c->snapshots++;
	} else if (c->synced_version == version && !c->in_snapshot) {
		return;
	}
	for (uint32_t s = 0; s < r->n_slots; s++)
		if (!sync_slot(r, c, s))
			return;
	if (c->in_snapshot) {
		m = (struct dist_msg){ .type = DIST_MSG_SNAPSHOT_END,
				       .snapshot_end = { .generation = r->sa_generation } };
		if (!send_msg(c, &m))
			return;
		c->in_snapshot = false;
	}
	c->synced_version = version;
}

/* Fan-out latency: a change is done when every joined target has applied it. */
static void
time_fanout(struct rtr *r, uint64_t now)
{
	struct rtr_dist *d = &r->dist;
	const uint64_t hz = rte_get_tsc_hz();

	while (d->pending_n > 0) {
		uint32_t i = d->pending_head;
		bool done = true, any = false;

		for (uint8_t t = 0; t < r->n_targets; t++) {
			if (!r->ctl[t].joined)
				continue;
			any = true;
			done &= r->ctl[t].acked_gen >= d->pending[i].generation;
		}
		if (any && !done && now - d->pending[i].tsc < 5 * hz)
			return;
		if (any && done) {
			uint64_t us = (now - d->pending[i].tsc) * 1000000 / hz;

			d->fanout_us[d->fanout_n++ % RTR_FANOUT_SAMPLES] =
				us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		}
		d->pending_head = (i + 1) % RTR_FANOUT_PENDING;
		d->pending_n--;
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
	else if (rc == -EPROTO || rc == -EBADMSG || rc == -ENOBUFS || rc == -ENOSPC)
		r->ctl[t].bad_frames++;
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
		c->need_snapshot = true;
		c->draining = false;
		c->acked_gen = 0;
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
		c->need_snapshot = true;
		c->draining = false;
		c->acked_gen = 0;
	}
	if (c->joined)
		sync_target(r, c);
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
	return c->joined && !c->draining &&
	       now - c->last_rx_tsc < r->cfg->target_timeout_ms * (rte_get_tsc_hz() / 1000);
}

void
rtr_ctl_poll(struct rtr *r, uint64_t now)
{
	for (uint8_t t = 0; t < r->n_targets; t++)
		poll_target(r, t, now);
	time_fanout(r, now);
	/* telemetry reads records, never an SA object a delete may retire under it; the CF keeps
	 * each inbound SA's high-water mark for a restart */
	for (uint32_t s = 0; s < r->n_slots; s++) {
		const struct esp_sa *sa = rtr_sa_query(r, s);
		uint64_t top = sa != NULL ? __atomic_load_n(&sa->replay.top, __ATOMIC_RELAXED) : 0;

		if (sa != NULL && top != r->dist.rec[s].top_view &&
		    sa->params.dir == ESP_DIR_INBOUND && r->dist.cf != NULL)
			cf_replay_store(r->dist.cf, s, top);
		r->dist.rec[s].top_view = top;
	}
}
