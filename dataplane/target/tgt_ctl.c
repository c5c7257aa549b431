/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target's end of the control channel (polled once a millisecond from the target's loop, the
 * same lcore as the fast path, so the shadow cache and the per-slot counters have one writer):
 * connect to the router's endpoint (retrying every RETRY_MS while it is not there), seal with the
 * control key, announce ourselves with a HELLO once the handshake is through, and send a HEARTBEAT
 * every HEARTBEAT_MS. A dead connection or a router restart just means a new connection, and a
 * new connection brings a full snapshot. A restarted router also means a new trusted link: DPDK's
 * memif client connects in rte_eth_dev_start() only and never again by itself, so while we reach
 * a router and our link stays down we restart the link port (relink).
 *
 * From the router: SNAPSHOT_BEGIN .. SA_ADDs .. SNAPSHOT_END (slots the snapshot did not name are
 * emptied at the end), SA_ADD / SA_DEL (installed in the shadow cache under the router's
 * generation: an older update is ignored), REKEY (the old SA stays for inbound, outbound moves to
 * the new one), LIFESIZE_LIMIT (report threshold). After every batch we answer SA_SYNC with the
 * newest generation applied.
 * To the router: TARGET_STATE when our health changes (the TAP's link: with the kernel side of
 * the TAP down, the application is unreachable and the router must send new connections
 * elsewhere); LIFESIZE when an SA's bytes since the last report (the ESP engine's per-SA
 * counters, so the fast path does no extra work) reach its threshold or our own count passes one of
 * its byte limits, and every REPORT_MS for any SA that counted something.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "tgt.h"

#define RETRY_MS     500
#define HEARTBEAT_MS 200
#define REPORT_MS    1000

static void
slot_reset(struct tgt *t, uint32_t slot, uint64_t tag)
{
	t->slot[slot] = (struct tgt_slot){ .tag = tag, .last_report_tsc = rte_rdtsc() };
}

static void
update_view(struct tgt *t, uint32_t s, const struct esp_sa *sa)
{
	struct tgt_slot_view *v = &t->slot[s].view;
	const struct esp_sa_params *p;

	if (sa == NULL) {
		v->present = 0;
		return;
	}
	p = &sa->params;
	v->spi = p->spi;
	v->dir = (uint8_t)p->dir;
	v->aead = (uint8_t)p->aead;
	v->mode = (uint8_t)p->mode;
	v->udp_encap = p->udp_encap;
	v->superseded = t->slot[s].superseded;
	v->out_target = t->slot[s].out_target;
	v->packets = sa->rt.packets;
	v->bytes = sa->rt.bytes;
	v->seq = p->dir == ESP_DIR_INBOUND ? sa->replay.top : cf_seq_peek(t->cf, s);
	v->threshold = t->slot[s].threshold;
	v->present = 1;
}

static void
applied(struct tgt_ctl *c, uint64_t generation)
{
	if (generation > c->applied_gen)
		c->applied_gen = generation;
}

/* The SA in slot is the one a (same keys and parameters): a restarted router sends it again. */
static bool
same_sa(const struct tgt *t, const struct dist_sa_add *a, uint64_t tag)
{
	const struct esp_sa *cur = a->slot < TGT_MAX_SLOTS ? shc_lookup(t->shc, a->slot) : NULL;
	struct esp_sa_params p = a->sa;

	if (cur == NULL || t->slot[a->slot].tag != tag)
		return false;
	p.keymat = NULL; /* both decoded from zeroed memory: padding compares equal */
	return memcmp(&p, &cur->params, sizeof(p)) == 0;
}

static void
sa_add(struct tgt *t, const struct dist_sa_add *a)
{
	struct tgt_ctl *c = &t->ctl;
	uint64_t tag = cf_sa_tag(a->sa.spi, a->sa.keymat, a->sa.keymat_len);
	struct esp_sa *sa;
	int rc;

	/* kept as it is, replay window included, under the router's new generation */
	if (same_sa(t, a, tag) && shc_advance(t->shc, a->slot, a->generation) == 0) {
		c->sa_kept++;
		t->slot[a->slot].gen = a->generation;
		t->slot[a->slot].out_target = a->out_target;
		t->slot[a->slot].in_snapshot = true;
		applied(c, a->generation);
		return;
	}
	if (a->slot >= TGT_MAX_SLOTS || esp_sa_create(&a->sa, &t->esp, &sa) < 0) {
		c->sa_rejected++;
		return;
	}
	sa->slot = a->slot;

	uint64_t top = cf_replay_load(t->cf, a->slot, tag);

	/* installed again after a restart of ours: nothing authenticated before may pass again */
	if (a->sa.dir == ESP_DIR_INBOUND && top != 0 && a->sa.replay_window != 0)
		esp_replay_seed(&sa->replay, top);
	rc = shc_install(t->shc, a->slot, a->generation, sa);
	if (rc == -ENOSPC) { /* too many SAs waiting for their grace period: we are the reader */
		shc_reclaim(t->shc);
		rc = shc_install(t->shc, a->slot, a->generation, sa);
	}
	if (rc < 0) {
		esp_sa_free(sa); /* never published */
		if (rc == -ESTALE) {
			c->sa_stale++; /* we have this change or a newer one */
			t->slot[a->slot].in_snapshot = true;
			applied(c, a->generation);
		} else {
			c->sa_rejected++;
		}
		return;
	}

	/* the router bound the slot already when it shares our CF; across hosts we do */
	cf_seq_bind(t->cf, a->slot, tag);
	slot_reset(t, a->slot, tag);
	t->slot[a->slot].gen = a->generation;
	t->slot[a->slot].out_target = a->out_target;
	t->slot[a->slot].in_snapshot = true;
	if (a->slot >= t->n_slots)
		t->n_slots = a->slot + 1;
	c->sa_adds++;
	applied(c, a->generation);
}

static void
sa_del(struct tgt *t, uint32_t slot, uint64_t generation)
{
	struct tgt_ctl *c = &t->ctl;
	int rc = shc_remove(t->shc, slot, generation);

	if (rc == -ENOSPC) {
		shc_reclaim(t->shc);
		rc = shc_remove(t->shc, slot, generation);
	}
	if (rc == 0) {
		slot_reset(t, slot, 0);
		c->sa_dels++;
	} else if (rc == -ESTALE) {
		c->sa_stale++;
	}
	applied(c, generation);
}

static void
snapshot_end(struct tgt *t, uint64_t generation)
{
	/* whatever the router did not name is not the router's any more (or was static) */
	for (uint32_t s = 0; s < t->n_slots; s++) {
		if (!t->slot[s].in_snapshot && shc_lookup(t->shc, s) != NULL)
			sa_del(t, s, generation);
		t->slot[s].in_snapshot = false;
	}
	t->ctl.in_snapshot = false;
	applied(&t->ctl, generation);
}

static void
on_msg(void *arg, const struct dist_msg *m)
{
	struct tgt *t = arg;
	struct tgt_ctl *c = &t->ctl;

	c->msgs++;
	switch (m->type) {
	case DIST_MSG_HEARTBEAT:
		c->heartbeats_rx++;
		break;
	case DIST_MSG_SNAPSHOT_BEGIN:
		c->in_snapshot = true;
		c->snapshots++;
		for (uint32_t s = 0; s < t->n_slots; s++)
			t->slot[s].in_snapshot = false;
		break;
	case DIST_MSG_SNAPSHOT_END:
		snapshot_end(t, m->snapshot_end.generation);
		break;
	case DIST_MSG_SA_ADD:
		sa_add(t, &m->sa_add);
		break;
	case DIST_MSG_SA_DEL:
		if (m->sa_del.slot < TGT_MAX_SLOTS)
			sa_del(t, m->sa_del.slot, m->sa_del.generation);
		break;
	case DIST_MSG_REKEY:
		if (m->rekey.old_slot < TGT_MAX_SLOTS && m->rekey.new_slot < TGT_MAX_SLOTS &&
		    shc_lookup(t->shc, m->rekey.new_slot) != NULL) {
			t->slot[m->rekey.old_slot].superseded = true;
			c->rekeys++;
		}
		break;
	case DIST_MSG_LIFESIZE_LIMIT:
		if (m->lifesize_limit.slot < TGT_MAX_SLOTS)
			t->slot[m->lifesize_limit.slot].threshold = m->lifesize_limit.threshold;
		break;
	default: /* target-to-router types: ignored */
		return;
	}
	if (m->type == DIST_MSG_SNAPSHOT_END || m->type == DIST_MSG_SA_ADD ||
	    m->type == DIST_MSG_SA_DEL || m->type == DIST_MSG_REKEY)
		tgt_out_order(t);
}

static void
drop_conn(struct tgt *t)
{
	dist_conn_close(&t->ctl.conn);
	t->ctl.hello_sent = false;
	t->ctl.sent_health = -1;
	t->ctl.in_snapshot = false;
	t->ctl.acked_gen = 0;
}

/* Our own count of an SA passed one of its byte limits since the last report: the router's sum,
 * which holds all of it, has passed it too and must hear of it now, not a threshold later (else
 * this target alone could carry up to a threshold past the hard limit). */
static bool
crossed(uint64_t reported, uint64_t counted, uint64_t limit)
{
	return limit != 0 && reported < limit && counted >= limit;
}

/* LIFESIZE for every slot whose SA counted past its threshold or one of its byte limits, or
 * counted anything and was not reported for REPORT_MS; and the telemetry view of every slot. */
static void
report_lifesize(struct tgt *t, uint64_t now, bool joined)
{
	const uint64_t ms = rte_get_tsc_hz() / 1000;

	for (uint32_t s = 0; s < t->n_slots; s++) {
		struct tgt_slot *l = &t->slot[s];
		const struct esp_sa *sa = shc_lookup(t->shc, s);

		update_view(t, s, sa);
		if (sa == NULL || !joined)
			continue;

		const struct esp_lifetime *lt = &sa->params.lifetime;
		uint64_t bytes = sa->rt.bytes - l->reported_bytes;
		uint64_t packets = sa->rt.packets - l->reported_packets;
		bool due = (l->threshold != 0 && bytes >= l->threshold) ||
			   crossed(l->reported_bytes, sa->rt.bytes, lt->soft_bytes) ||
			   crossed(l->reported_bytes, sa->rt.bytes, lt->hard_bytes) ||
			   crossed(l->reported_packets, sa->rt.packets, lt->soft_packets) ||
			   crossed(l->reported_packets, sa->rt.packets, lt->hard_packets) ||
			   now - l->last_report_tsc >= REPORT_MS * ms;

		if (packets == 0 || !due)
			continue;

		struct dist_msg m = { .type = DIST_MSG_LIFESIZE,
				      .lifesize = { .slot = s,
						    .bytes = bytes,
						    .packets = packets,
						    .since_ms = (now - l->last_report_tsc) / ms } };

		if (dist_conn_send(&t->ctl.conn, &m) < 0)
			continue; /* full: the next poll */
		l->reported_bytes = sa->rt.bytes;
		l->reported_packets = sa->rt.packets;
		l->last_report_tsc = now;
		t->ctl.reports++;
	}
}

/* The link went down with the router that served it (memif: its server) and does not come back by
 * itself. A router we reach over the control channel has its link ports open (it opens them before
 * its control listeners), so a restart of our port connects; at most once per RETRY_MS, and
 * only after the link was down that long (a port just started connects by itself). Runs on the
 * polling lcore: nothing else uses the port meanwhile. */
static void
relink(struct tgt *t, uint64_t now)
{
	struct tgt_ctl *c = &t->ctl;
	const uint64_t ms = rte_get_tsc_hz() / 1000;

	if (dp_port_link_up(&t->link) == 1) {
		c->link_down_tsc = 0;
		return;
	}
	if (c->link_down_tsc == 0) {
		c->link_down_tsc = now;
		return;
	}
	if (now - c->link_down_tsc < RETRY_MS * ms)
		return;
	c->link_down_tsc = now;
	rte_eth_dev_stop(t->link.id);
	if (rte_eth_dev_start(t->link.id) == 0)
		c->link_restarts++;
}

/* The connection ends noted since the last poll (tgt_outbound.c), best effort: a full channel
 * or no router loses them, and the router's entry then ages out by idle time instead. */
static void
send_conn_ends(struct tgt *t)
{
	struct tgt_ctl *c = &t->ctl;

	for (uint16_t i = 0; i < t->n_conn_end; i++) {
		struct dist_msg m = { .type = DIST_MSG_CONN_END, .conn_end = t->conn_end[i] };

		if (dist_conn_send(&c->conn, &m) == 0)
			c->conn_ends++;
		else
			c->conn_ends_lost++;
	}
	t->n_conn_end = 0;
}

void
tgt_ctl_poll(struct tgt *t, uint64_t now)
{
	struct tgt_ctl *c = &t->ctl;
	const uint64_t ms = rte_get_tsc_hz() / 1000;

	report_lifesize(t, now, c->hello_sent);
	if (!c->hello_sent) { /* no router to tell */
		c->conn_ends_lost += t->n_conn_end;
		t->n_conn_end = 0;
	}
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
	} else {
		if (c->applied_gen > c->acked_gen && !c->in_snapshot) {
			struct dist_msg sync = { .type = DIST_MSG_SA_SYNC,
						 .sa_sync = { .generation = c->applied_gen } };

			if (dist_conn_send(&c->conn, &sync) == 0)
				c->acked_gen = c->applied_gen;
		}
		relink(t, now);
		send_conn_ends(t);

		int healthy = dp_port_link_up(&t->tap) == 1;

		if (healthy != c->sent_health) {
			struct dist_msg st = { .type = DIST_MSG_TARGET_STATE,
					       .target_state = { .target_id = t->cfg->id,
								 .healthy = healthy } };

			if (dist_conn_send(&c->conn, &st) == 0)
				c->sent_health = healthy;
		}
		if (now - c->last_tx_tsc >= HEARTBEAT_MS * ms) {
			struct dist_msg hb = { .type = DIST_MSG_HEARTBEAT,
					       .heartbeat = { .seq = ++c->hb_seq,
							      .time_ms = now / ms } };

			if (dist_conn_send(&c->conn, &hb) == 0)
				c->last_tx_tsc = now;
		}
	}
	if (dist_conn_flush(&c->conn) < 0)
		drop_conn(t);
}

void
tgt_ctl_close(struct tgt *t)
{
	dist_conn_close(&t->ctl.conn);
}
