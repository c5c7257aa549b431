/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's SA table: the one way SAs enter and leave the router (static config and its
 * reload now, IKE later). An SA has a cluster slot (the GRE key) and a generation; inbound SAs are
 * also found by SPI for the fast path. Changes run on the main lcore only; workers read the SPI
 * table and the slot table lock-free, and a deleted SA is freed after an RCU grace period (the slot
 * table is a shadow cache, shadowcache/shc.h).
 *
 * Beside the runtime SA each slot has a record (struct rtr_sa_rec) of what every target must hold
 * there: the parameters with a guarded copy of the keys (SA_ADD carries them), the generation of
 * the slot's last change, the SA it replaces, and its lifesize sums. Every change bumps
 * dist.version; rtr_ctl.c walks the records and sends each target what it has not seen.
 *
 * Generations are monotonic across restarts (seconds since the epoch << 20, then +1 per change),
 * so a target never takes a restarted router's SA for a stale one; a target's own static SAs have
 * generation 1 and are always replaced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include <rte_cycles.h>

#include "rtr.h"

int
rtr_sa_init(struct rtr *r, uint32_t n_slots, struct rte_rcu_qsbr *qsbr)
{
	if (n_slots > RTR_MAX_SLOTS || sodium_init() < 0)
		return -EINVAL;
	r->sa_generation = (uint64_t)time(NULL) << 20;
	r->sa_tbl = esp_sa_table_create(2 * n_slots + 16);
	r->slots = shc_create(n_slots, qsbr, esp_sa_free);
	r->dist.rec = calloc(n_slots, sizeof(*r->dist.rec));
	return r->sa_tbl != NULL && r->slots != NULL && r->dist.rec != NULL ? 0 : -ENOMEM;
}

static void
rec_clear(struct rtr_sa_rec *rec)
{
	uint64_t gen = rec->generation;

	sodium_free(rec->keymat); /* wipes first; NULL is fine */
	memset(rec, 0, sizeof(*rec));
	rec->generation = gen;
}

void
rtr_sa_fini(struct rtr *r)
{
	if (r->dist.rec != NULL)
		for (uint32_t s = 0; s < r->slots->n_slots; s++)
			rec_clear(&r->dist.rec[s]);
	shc_free(r->slots); /* waits for the readers, frees every SA */
	esp_sa_table_free(r->sa_tbl);
	free(r->dist.rec);
	r->dist.rec = NULL;
}

/* A change the targets must see; adds and deletes are also timed until every target has them. */
static void
changed(struct rtr *r, bool timed)
{
	struct rtr_dist *d = &r->dist;

	d->version++;
	if (!timed)
		return;

	bool any_joined = false;

	for (uint8_t t = 0; t < r->n_targets; t++)
		any_joined |= r->ctl[t].joined;
	if (!any_joined)
		return;
	if (d->pending_n == RTR_FANOUT_PENDING) { /* the oldest is given up */
		d->pending_head = (d->pending_head + 1) % RTR_FANOUT_PENDING;
		d->pending_n--;
	}

	uint32_t i = (d->pending_head + d->pending_n++) % RTR_FANOUT_PENDING;

	d->pending[i].generation = r->sa_generation;
	d->pending[i].tsc = rte_rdtsc();
}

static void
set_threshold(struct rtr_sa_rec *rec)
{
	rec->threshold = rec->life.soft_bytes ? shc_lifesize_threshold(&rec->life) : 0;
}

static int
life_init(struct rtr *r, struct rtr_sa_rec *rec, uint16_t initial_p)
{
	const struct esp_lifetime *lt = &rec->params.lifetime;
	uint64_t soft = lt->soft_bytes ? lt->soft_bytes : lt->hard_bytes;
	int rc = shc_lifesize_init(&rec->life, soft, lt->hard_bytes,
				   r->n_targets ? r->n_targets : 1, initial_p);

	set_threshold(rec);
	return rc;
}

static int
rec_fill(struct rtr *r, uint32_t slot, const struct esp_sa_params *p)
{
	struct rtr_sa_rec *rec = &r->dist.rec[slot];

	rec_clear(rec);
	rec->keymat = sodium_malloc(p->keymat_len);
	if (rec->keymat == NULL)
		return -ENOMEM;
	memcpy(rec->keymat, p->keymat, p->keymat_len);
	sodium_mprotect_readonly(rec->keymat);
	rec->params = *p;
	rec->params.keymat = rec->keymat;
	rec->generation = r->sa_generation;
	rec->present = true;
	rec->added_tsc = rte_rdtsc();
	rec->out_target = DIST_OUT_ANY; /* rtr_ike.c names one for a target's own CHILD SA */
	return life_init(r, rec, 0);
}

int
rtr_sa_add_at(struct rtr *r, const struct esp_sa_params *p, uint32_t slot, struct esp_lcore *lc)
{
	struct esp_sa *sa;
	int rc;

	if (slot >= r->slots->n_slots)
		return -EINVAL;
	if (shc_lookup(r->slots, slot) != NULL)
		return -EEXIST;
	rc = esp_sa_create(p, lc, &sa);
	if (rc < 0)
		return rc;
	sa->slot = slot;
	sa->flow_id = r->dist.next_flow_id++ & DCT_SA_PLAIN;
	if (sa->flow_id == DCT_SA_PLAIN) /* 2^24 chains later: skip the plain-TCP id */
		sa->flow_id = r->dist.next_flow_id++ & DCT_SA_PLAIN;

	uint64_t tag = cf_sa_tag(p->spi, p->keymat, p->keymat_len);
	uint64_t top = r->dist.cf != NULL ? cf_replay_load(r->dist.cf, slot, tag) : 0;

	/* the same inbound SA again (a restart): nothing authenticated before it may pass again */
	if (p->dir == ESP_DIR_INBOUND && top != 0 && p->replay_window != 0)
		esp_replay_seed(&sa->replay, top);
	rc = shc_install(r->slots, slot, ++r->sa_generation, sa);
	if (rc < 0) {
		esp_sa_free(sa); /* never published */
		return rc;
	}
	if (p->dir == ESP_DIR_INBOUND) {
		/* the peek function is set before any worker can find the SA by its SPI */
		r->slot_flow[slot] =
			p->mode == ESP_MODE_TUNNEL ? rtr_flow_tunnel : rtr_flow_transport;
		rc = esp_sa_table_add(r->sa_tbl, sa);
		if (rc < 0) { /* SPI taken: unpublish; freed after the grace period */
			shc_remove(r->slots, slot, ++r->sa_generation);
			return rc;
		}
	}
	rc = rec_fill(r, slot, p);
	if (rc < 0) {
		rtr_sa_del(r, slot);
		return rc;
	}
	/* the slot's CF record (outbound numbers, inbound high-water mark) starts over for new keys
	 * in the slot and continues for the same keys */
	if (r->dist.cf != NULL)
		cf_seq_bind(r->dist.cf, slot, tag);
	if (slot >= r->n_slots)
		r->n_slots = slot + 1;
	r->dist.adds++;
	changed(r, true);
	return 0;
}

int
rtr_sa_add(struct rtr *r, const struct esp_sa_params *p, struct esp_lcore *lc, uint32_t *slot)
{
	uint32_t n = r->slots->n_slots;

	/* round robin: a late lifesize report for a deleted SA cannot land on its successor soon */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t s = (r->dist.next_slot + i) % n;

		if (shc_lookup(r->slots, s) != NULL)
			continue;
		r->dist.next_slot = (s + 1) % n;
		*slot = s;
		return rtr_sa_add_at(r, p, s, lc);
	}
	return -ENOSPC;
}

int
rtr_sa_del(struct rtr *r, uint32_t slot)
{
	struct esp_sa *sa = shc_lookup(r->slots, slot);
	int rc;

	if (sa == NULL)
		return -ENOENT;
	if (sa->params.dir == ESP_DIR_INBOUND)
		esp_sa_table_del(r->sa_tbl, sa->params.spi);
	/* unpublished by slot too; freed once every worker has passed a quiescent state */
	rc = shc_remove(r->slots, slot, ++r->sa_generation);
	rec_clear(&r->dist.rec[slot]);
	r->dist.rec[slot].generation = r->sa_generation;
	for (uint32_t s = 0; s < r->n_slots; s++)
		if (r->dist.rec[s].rekey_of == slot + 1)
			r->dist.rec[s].rekey_of = 0; /* the replaced SA is gone */
	r->dist.dels++;
	changed(r, true);
	return rc;
}

int
rtr_sa_rekey(struct rtr *r, uint32_t old_slot, uint32_t new_slot)
{
	if (old_slot >= r->n_slots || new_slot >= r->n_slots || old_slot == new_slot)
		return -EINVAL;

	struct rtr_sa_rec *old = &r->dist.rec[old_slot], *rec = &r->dist.rec[new_slot];

	if (!old->present || !rec->present)
		return -ENOENT;
	if (old->params.dir != rec->params.dir)
		return -EINVAL;
	rec->rekey_of = old_slot + 1;
	/* the router's connection table keys flows by this id: the successor takes its
	 * predecessor's, so connections open on the old SA keep their target on the new one */
	if (rec->params.dir == ESP_DIR_INBOUND)
		rtr_sa_share_flows(r, old_slot, new_slot);
	/* the successor's report share follows from how its predecessor ended (claim 18) */
	life_init(r, rec, shc_lifesize_successor_p(&old->life));
	r->dist.rekeys++;
	changed(r, false);
	return 0;
}

int
rtr_sa_share_flows(struct rtr *r, uint32_t like_slot, uint32_t slot)
{
	struct esp_sa *sa = (struct esp_sa *)rtr_sa_query(r, slot);
	const struct esp_sa *like = rtr_sa_query(r, like_slot);

	if (sa == NULL || like == NULL)
		return -ENOENT;
	if (sa->params.dir != ESP_DIR_INBOUND || like->params.dir != ESP_DIR_INBOUND)
		return -EINVAL;
	/* workers may be reading it already (a rekey's successor): one atomic store */
	__atomic_store_n(&sa->flow_id, like->flow_id, __ATOMIC_RELEASE);
	return 0;
}

void
rtr_sa_lifesize(struct rtr *r, uint32_t slot, uint64_t bytes, uint64_t packets)
{
	struct rtr_dist *d = &r->dist;

	if (slot >= r->n_slots || !d->rec[slot].present) {
		d->reports_stale++;
		return;
	}

	struct rtr_sa_rec *rec = &d->rec[slot];
	uint64_t before = rec->threshold;

	const struct esp_lifetime *lt = &rec->params.lifetime;
	enum shc_lifesize_event ev = shc_lifesize_report(&rec->life, bytes);

	d->reports++;
	rec->packets += packets;
	/* packet limits: the reports carry exact counts, targets report when they cross one */
	if (lt->hard_packets != 0 && rec->packets >= lt->hard_packets)
		ev = SHC_LIFESIZE_HARD;
	else if (ev == SHC_LIFESIZE_NONE && lt->soft_packets != 0 &&
		 rec->packets >= lt->soft_packets)
		ev = SHC_LIFESIZE_SOFT;
	if (ev == SHC_LIFESIZE_SOFT && rec->soft_raised)
		ev = SHC_LIFESIZE_NONE; /* one rekey event per SA, whichever limit came first */
	switch (ev) {
	case SHC_LIFESIZE_SOFT:
		rec->soft_raised = true;
		d->rekey_events++;
		if (r->sa_event != NULL) /* IKE rekeys the pair */
			r->sa_event(r, slot, SHC_LIFESIZE_SOFT);
		break;
	case SHC_LIFESIZE_HARD:
		d->hard_expired++;
		if (r->sa_event != NULL) /* IKE deletes the pair with the peer */
			r->sa_event(r, slot, SHC_LIFESIZE_HARD);
		if (rec->present) /* the engine may have deleted the pair already */
			rtr_sa_del(r, slot);
		return;
	case SHC_LIFESIZE_NONE:
		break;
	}
	set_threshold(rec);
	if (rec->threshold != before)
		changed(r, false);
}

void
rtr_sa_expire(struct rtr *r, uint64_t now)
{
	const uint64_t hz = rte_get_tsc_hz();

	for (uint32_t s = 0; s < r->n_slots; s++) {
		struct rtr_sa_rec *rec = &r->dist.rec[s];
		const struct esp_lifetime *lt = &rec->params.lifetime;

		if (!rec->present)
			continue;

		uint64_t age_s = (now - rec->added_tsc) / hz;

		if (lt->hard_seconds != 0 && age_s >= lt->hard_seconds) {
			r->dist.hard_expired++;
			if (r->sa_event != NULL)
				r->sa_event(r, s, SHC_LIFESIZE_HARD);
			if (rec->present)
				rtr_sa_del(r, s);
		} else if (lt->soft_seconds != 0 && age_s >= lt->soft_seconds &&
			   !rec->soft_raised) {
			rec->soft_raised = true;
			r->dist.rekey_events++;
			if (r->sa_event != NULL)
				r->sa_event(r, s, SHC_LIFESIZE_SOFT);
		}
	}
}

/* Same SA: every parameter and the keys (padding compares equal: both come from zeroed memory). */
static bool
same_sa(const struct rtr_sa_rec *rec, const struct esp_sa_params *p)
{
	struct esp_sa_params a = rec->params, b = *p;

	if (!rec->present || a.keymat_len != b.keymat_len ||
	    sodium_memcmp(a.keymat, b.keymat, a.keymat_len) != 0)
		return false;
	a.keymat = b.keymat = NULL;
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* The position in fresh of the SA with p's SPI and direction, or -1. */
static int
find_fresh(const struct cfg_router *fresh, const struct esp_sa_params *p)
{
	for (uint32_t i = 0; i < fresh->n_static_sas; i++)
		if (fresh->static_sas[i].spi == p->spi && fresh->static_sas[i].dir == p->dir)
			return (int)i;
	return -1;
}

/* The free slot whose CF record belongs to SA p (outbound: its numbers; inbound: its replay
 * high-water mark), or -ENOENT. */
static int
cf_slot(const struct rtr *r, const struct esp_sa_params *p)
{
	if (r->dist.cf == NULL)
		return -ENOENT;

	int s = cf_seq_find(r->dist.cf, cf_sa_tag(p->spi, p->keymat, p->keymat_len));

	if (s < 0 || (uint32_t)s >= r->slots->n_slots || shc_lookup(r->slots, (uint32_t)s) != NULL)
		return -ENOENT;
	return s;
}

struct static_counts {
	uint32_t kept, added, removed, failed;
	uint32_t top; /* 1 + the highest slot holding a static SA */
};

/* Installs static_sas[i]: an outbound SA back in the slot its CF numbers are in (anywhere else
 * they would start over and IVs repeat under its key), else in slot pos if free, else in the
 * next free one. */
static void
add_static(struct rtr *r, const struct cfg_router *c, uint32_t i, uint32_t pos,
	   struct static_counts *n)
{
	const struct esp_sa_params *p = &c->static_sas[i];
	int cf = cf_slot(r, p);
	uint32_t slot = cf >= 0 ? (uint32_t)cf : pos;
	int rc;

	if (slot < r->slots->n_slots && shc_lookup(r->slots, slot) == NULL)
		rc = rtr_sa_add_at(r, p, slot, &r->main.esp);
	else
		rc = rtr_sa_add(r, p, &r->main.esp, &slot);
	if (rc < 0) {
		n->failed++;
		fprintf(stderr, "static_sas[%u]: SPI 0x%08x: cannot install: %s\n", i, p->spi,
			strerror(-rc));
		return;
	}
	n->added++;
	if (slot + 1 > n->top)
		n->top = slot + 1;
}

/* Brings the table's static SAs to c's, matched by SPI and direction, not by position: an SA that
 * stays keeps its slot (the targets' copies, the replay windows, the CF numbers of its keys) when
 * one before it in the file is removed; a changed one is replaced in its slot; new ones go where
 * add_static says, the outbound ones with CF numbers first (nothing else may take their slots). */
static void
sync_static(struct rtr *r, const struct cfg_router *c, struct static_counts *n)
{
	bool placed[RTR_MAX_SLOTS] = { false };

	for (uint32_t s = 0; s < r->n_static; s++) {
		const struct rtr_sa_rec *rec = &r->dist.rec[s];

		if (!rec->present || rec->owner != 0) /* IKE's SAs are not the file's */
			continue;

		int i = find_fresh(c, &rec->params);

		if (i >= 0 && same_sa(rec, &c->static_sas[i])) {
			placed[i] = true;
			n->kept++;
			n->top = s + 1;
			continue;
		}
		if (rtr_sa_del(r, s) == 0)
			n->removed++;
		if (i < 0)
			continue;
		placed[i] = true;
		add_static(r, c, (uint32_t)i, s, n);
	}
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < c->n_static_sas; i++) {
			if (placed[i] || (round == 0 && cf_slot(r, &c->static_sas[i]) < 0))
				continue;
			placed[i] = true;
			add_static(r, c, i, i, n);
		}
	}
	r->n_static = n->top;
}

int
rtr_sa_install_static(struct rtr *r, const struct cfg_router *c)
{
	struct static_counts n = { 0 };

	if (c->n_static_sas > RTR_MAX_SLOTS)
		return -EINVAL;
	sync_static(r, c, &n);
	return n.failed ? -EINVAL : 0;
}

void
rtr_sa_reload(struct rtr *r, const struct cfg_router *fresh)
{
	struct static_counts n = { 0 };

	sync_static(r, fresh, &n);
	printf("dvipsec-router: reload: static SAs: %u kept, %u added, %u removed, %u failed\n",
	       n.kept, n.added, n.removed, n.failed);
	fflush(stdout);
}

static bool
same_ts(const struct esp_sa_params *a, const struct esp_sa_params *b)
{
	return a->n_local_ts == b->n_local_ts && a->n_remote_ts == b->n_remote_ts &&
	       memcmp(a->local_ts, b->local_ts, a->n_local_ts * sizeof(a->local_ts[0])) == 0 &&
	       memcmp(a->remote_ts, b->remote_ts, a->n_remote_ts * sizeof(a->remote_ts[0])) == 0;
}

int
rtr_sa_inbound_twin(const struct rtr *r, uint32_t out_slot)
{
	if (out_slot >= r->n_slots)
		return -ENOENT;

	const struct rtr_sa_rec *o = &r->dist.rec[out_slot];

	if (!o->present || o->params.dir != ESP_DIR_OUTBOUND)
		return -ENOENT;
	for (uint32_t s = 0; s < r->n_slots; s++) {
		const struct rtr_sa_rec *c = &r->dist.rec[s];
		const struct esp_sa_params *p = &c->params;

		if (!c->present || p->dir != ESP_DIR_INBOUND || c->owner != o->owner)
			continue;
		/* IKE: the pair's other half; static: the same endpoints, mode and selectors */
		if (o->owner != 0 ||
		    (p->mode == o->params.mode && p->udp_encap == o->params.udp_encap &&
		     memcmp(&p->local, &o->params.local, sizeof(p->local)) == 0 &&
		     memcmp(&p->remote, &o->params.remote, sizeof(p->remote)) == 0 &&
		     same_ts(p, &o->params)))
			return (int)s;
	}
	return -ENOENT;
}

const struct esp_sa *
rtr_sa_query(const struct rtr *r, uint32_t slot)
{
	return shc_lookup(r->slots, slot);
}

uint32_t
rtr_sa_reclaim(struct rtr *r)
{
	return shc_reclaim(r->slots);
}
