/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's telemetry commands (DPDK telemetry socket; dpdk-telemetry.py shows them):
 *   /dvipsec/router/stats   packet counts by stage, summed over lcores
 *   /dvipsec/router/drops   every drop reason of classify, the fast path and the links, by name
 *   /dvipsec/dct            connection table size, and up to N entries (param N, default 32, <= 64)
 *   /dvipsec/targets        targets: weight, health, link, packets, connections
 *   /dvipsec/sa             SAs without keys: SPI, slot, direction, AEAD, mode, encap, replay top
 * Counters are per lcore and read without locks: a sum may be a packet behind, never torn (64-bit
 * aligned loads).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "dp_telemetry.h"
#include "rtr.h"

static struct rtr *tel_r;

static const char *const rtr_drop_names[] = { [RTR_DROP_NONE] = "none",
#define RTR_DROP_NAME(sym, name, desc) [RTR_DROP_##sym] = name,
					      RTR_DROP_REASONS(RTR_DROP_NAME)
#undef RTR_DROP_NAME
};

const char *
rtr_drop_name(enum rtr_drop reason)
{
	return (unsigned int)reason < RTR_DROP_COUNT ? rtr_drop_names[reason] : "?";
}

/* Sums of every lcore's counters. */
struct sums {
	struct rtr_stats st;
	struct rtr_classify_stats cls;
	struct gre_stats gre;
	struct dct_lcore_stats dct;
};

static void
add_u64s(void *a, const void *b, size_t size)
{
	const uint64_t *src = b;
	uint64_t *dst = a;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

static void
sum_all(const struct rtr *r, struct sums *s)
{
	memset(s, 0, sizeof(*s));
	for (uint8_t i = 0; i < r->n_workers; i++) {
		const struct rtr_worker *w = &r->workers[i];

		add_u64s(&s->st, &w->st, sizeof(s->st));
		add_u64s(&s->cls, &w->cls, sizeof(s->cls));
		add_u64s(&s->gre, &w->gre, sizeof(s->gre));
		add_u64s(&s->dct, &w->dct, sizeof(s->dct));
	}
	add_u64s(&s->st, &r->main.st, sizeof(s->st));
	add_u64s(&s->gre, &r->main.gre, sizeof(s->gre));
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sums s;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	sum_all(tel_r, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "rx", s.st.rx);
	rte_tel_data_add_dict_u64(d, "esp", s.st.esp);
	rte_tel_data_add_dict_u64(d, "tcp_plain", s.st.tcp_plain);
	rte_tel_data_add_dict_u64(d, "ike", s.st.ike);
	rte_tel_data_add_dict_u64(d, "ike_punted", tel_r->main.ike_punted);
	rte_tel_data_add_dict_u64(d, "replies", s.st.replies);
	rte_tel_data_add_dict_u64(d, "arp_replies", s.cls.replies[RTR_CLS_REPLY_ARP]);
	rte_tel_data_add_dict_u64(d, "echo_replies",
				  s.cls.replies[RTR_CLS_REPLY_ECHO4] +
					  s.cls.replies[RTR_CLS_REPLY_ECHO6]);
	rte_tel_data_add_dict_u64(d, "nd_replies", s.cls.replies[RTR_CLS_REPLY_NA]);
	rte_tel_data_add_dict_u64(d, "to_target", s.st.to_target);
	rte_tel_data_add_dict_u64(d, "new_flows", s.st.new_flows);
	rte_tel_data_add_dict_u64(d, "flows_flushed", tel_r->main.flushed);
	rte_tel_data_add_dict_u64(d, "filtered_at_router", s.st.filtered);
	rte_tel_data_add_dict_u64(d, "dct_hits", s.dct.hits);
	rte_tel_data_add_dict_u64(d, "dct_misses", s.dct.misses);
	rte_tel_data_add_dict_u64(d, "feedback_msgs", s.st.feedback_msgs);
	rte_tel_data_add_dict_u64(d, "feedback_seqs", s.st.feedback_seqs);
	rte_tel_data_add_dict_u64(d, "returned_to_peer", s.st.returned);
	rte_tel_data_add_dict_u64(d, "link_encap", s.gre.encap_packets);
	rte_tel_data_add_dict_u64(d, "link_decap", s.gre.decap_packets);
	return 0;
}

static int
cmd_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sums s;
	char name[64];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	sum_all(tel_r, &s);
	rte_tel_data_start_dict(d);
	for (int i = 1; i < RTR_CLS_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, rtr_cls_drop_name(i), s.cls.drops[i]);
	for (int i = 1; i < RTR_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, rtr_drop_name(i), s.st.drops[i]);
	for (int i = 1; i < GRE_DROP_COUNT; i++) {
		snprintf(name, sizeof(name), "link_%s", gre_drop_name(i));
		rte_tel_data_add_dict_u64(d, name, s.gre.drops[i]);
	}
	return 0;
}

static void
addr_str(uint8_t family, const uint8_t *a, char *out, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)len);
}

static int
cmd_dct(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rtr_dct_list *l = &tel_r->main.dct_list;
	uint32_t max = 32;
	uint64_t now = rte_rdtsc();
	char a[INET6_ADDRSTRLEN];
	enum { SA, SRC, SPORT, DST, DPORT, PROTO, TARGET, STATE, IDLE, NCOL };
	static const char *const names[NCOL] = { "sa",	  "src",    "sport", "dst",    "dport",
						 "proto", "target", "state", "idle_ms" };
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_INT, DP_COL_STR, DP_COL_INT,
						      DP_COL_STR, DP_COL_INT, DP_COL_INT,
						      DP_COL_INT, DP_COL_STR, DP_COL_U64 };
	struct rte_tel_data *col[NCOL];

	RTE_SET_USED(cmd);
	if (params != NULL && *params != '\0')
		max = (uint32_t)strtoul(params, NULL, 10);
	if (max == 0)
		max = 1;
	max = RTE_MIN(max, (uint32_t)RTR_DCT_LIST_MAX);
	/* the main lcore walks the table (it is the one that ages it); wait up to a second */
	atomic_store_explicit(&l->request, max, memory_order_release);
	for (int i = 0; i < 10000 && atomic_load_explicit(&l->request, memory_order_acquire); i++)
		rte_delay_us_sleep(100);
	if (atomic_load_explicit(&l->request, memory_order_acquire) != 0)
		return -EBUSY;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", dct_count(tel_r->dct));
	rte_tel_data_add_dict_u64(d, "capacity", dct_capacity(tel_r->dct));
	rte_tel_data_add_dict_u64(d, "listed", l->n);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct rtr_dct_row *row = &l->rows[i];
		const struct dct_key *k = &row->key;

		rte_tel_data_add_array_int(col[SA], k->sa_id == DCT_SA_PLAIN ? -1 : (int)k->sa_id);
		addr_str(k->family, k->src, a, sizeof(a));
		rte_tel_data_add_array_string(col[SRC], a);
		rte_tel_data_add_array_int(col[SPORT], rte_be_to_cpu_16(k->src_port));
		addr_str(k->family, k->dst, a, sizeof(a));
		rte_tel_data_add_array_string(col[DST], a);
		rte_tel_data_add_array_int(col[DPORT], rte_be_to_cpu_16(k->dst_port));
		rte_tel_data_add_array_int(col[PROTO], k->proto);
		rte_tel_data_add_array_int(col[TARGET], tel_r->cfg->targets[row->target].id);
		rte_tel_data_add_array_string(col[STATE], dct_state_name(row->state));
		rte_tel_data_add_array_u64(col[IDLE],
					   (now - row->last_seen) * 1000 / rte_get_tsc_hz());
	}
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

static int
cmd_targets(const char *cmd, const char *params, struct rte_tel_data *d)
{
	enum {
		ID,
		NAME,
		WEIGHT,
		HEALTHY,
		LINK,
		PACKETS,
		FLOWS,
		JOINED,
		JOINS,
		AUTHFAIL,
		DOWN,
		BADFRAMES,
		NCOL
	};
	static const char *const names[NCOL] = {
		"id",	 "name",   "weight", "healthy",	      "link_up",   "packets",
		"flows", "joined", "joins",  "auth_failures", "says_down", "bad_frames"
	};
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_INT, DP_COL_STR, DP_COL_INT,
						      DP_COL_INT, DP_COL_INT, DP_COL_U64,
						      DP_COL_U64, DP_COL_INT, DP_COL_U64,
						      DP_COL_U64, DP_COL_INT, DP_COL_U64 };
	struct rte_tel_data *col[NCOL];
	struct sums s;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	sum_all(tel_r, &s);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	for (uint16_t t = 0; t < tel_r->n_targets; t++) {
		const struct cfg_router_target *ct = &tel_r->cfg->targets[t];

		rte_tel_data_add_array_int(col[ID], ct->id);
		rte_tel_data_add_array_string(col[NAME], ct->name);
		rte_tel_data_add_array_int(col[WEIGHT], tel_r->ctl[t].weight ? tel_r->ctl[t].weight
									     : ct->weight);
		rte_tel_data_add_array_int(col[HEALTHY],
					   (int)(atomic_load(&tel_r->targets.healthy) >> t & 1));
		rte_tel_data_add_array_int(col[LINK], dp_port_link_up(&tel_r->link[t]));
		rte_tel_data_add_array_u64(col[PACKETS], s.st.target_pkts[t]);
		rte_tel_data_add_array_u64(col[FLOWS], dct_count_target(tel_r->dct, t));
		rte_tel_data_add_array_int(col[JOINED], tel_r->ctl[t].joined);
		rte_tel_data_add_array_u64(col[JOINS], tel_r->ctl[t].joins);
		rte_tel_data_add_array_u64(col[AUTHFAIL], tel_r->ctl[t].auth_failures);
		rte_tel_data_add_array_int(col[DOWN], tel_r->ctl[t].draining);
		rte_tel_data_add_array_u64(col[BADFRAMES], tel_r->ctl[t].bad_frames);
	}
	rte_tel_data_start_dict(d);
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

static int
cmd_sa(const char *cmd, const char *params, struct rte_tel_data *d)
{
	enum { SPI, SLOT, DIR, AEAD, MODE, ENCAP, ESN, WINDOW, TOP, OUT_TARGET, NCOL };
	static const char *const names[NCOL] = {
		"spi",	     "slot",	      "dir",
		"aead",	     "mode",	      "encap",
		"esn",	     "replay_window", "authenticated_top",
		"out_target" /* the target id that alone sends on it; 0: any */
	};
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_STR, DP_COL_INT, DP_COL_STR,
						      DP_COL_STR, DP_COL_STR, DP_COL_STR,
						      DP_COL_INT, DP_COL_INT, DP_COL_U64,
						      DP_COL_INT };
	struct rte_tel_data *col[NCOL];
	char spi[16];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	for (uint32_t i = 0, rows = 0; i < tel_r->n_slots && rows < 256; i++) {
		const struct rtr_sa_rec *rec = &tel_r->dist.rec[i];
		const struct esp_sa_params *p = &rec->params;

		if (!rec->present)
			continue;
		rows++;
		snprintf(spi, sizeof(spi), "0x%08x", p->spi);
		rte_tel_data_add_array_string(col[SPI], spi);
		rte_tel_data_add_array_int(col[SLOT], (int)i);
		rte_tel_data_add_array_string(col[DIR], p->dir == ESP_DIR_INBOUND ? "in" : "out");
		rte_tel_data_add_array_string(col[AEAD], esp_aead_name(p->aead));
		rte_tel_data_add_array_string(col[MODE],
					      p->mode == ESP_MODE_TUNNEL ? "tunnel" : "transport");
		rte_tel_data_add_array_string(col[ENCAP], p->udp_encap ? "udp" : "none");
		rte_tel_data_add_array_int(col[ESN], p->esn);
		rte_tel_data_add_array_int(col[WINDOW], (int)p->replay_window);
		rte_tel_data_add_array_u64(col[TOP], rec->top_view);
		rte_tel_data_add_array_int(col[OUT_TARGET],
					   rec->out_target == DIST_OUT_ANY ? 0 : rec->out_target);
	}
	rte_tel_data_start_dict(d);
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

/* Lifesize per SA: the targets' reports summed against the SA's byte limits. */
static int
cmd_lifesize(const char *cmd, const char *params, struct rte_tel_data *d)
{
	enum { SLOT, SPI, BYTES, PACKETS, SOFT, HARD, THRESHOLD, P, SOFT_HIT, REKEY_OF, NCOL };
	static const char *const names[NCOL] = { "slot",      "spi",	    "bytes",
						 "packets",   "soft_bytes", "hard_bytes",
						 "threshold", "p_permille", "soft_reached",
						 "rekey_of" };
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_INT, DP_COL_STR, DP_COL_U64,
						      DP_COL_U64, DP_COL_U64, DP_COL_U64,
						      DP_COL_U64, DP_COL_INT, DP_COL_INT,
						      DP_COL_INT };
	struct rte_tel_data *col[NCOL];
	char spi[16];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	for (uint32_t i = 0, rows = 0; i < tel_r->n_slots && rows < 256; i++) {
		const struct rtr_sa_rec *rec = &tel_r->dist.rec[i];

		if (!rec->present)
			continue;
		rows++;
		snprintf(spi, sizeof(spi), "0x%08x", rec->params.spi);
		rte_tel_data_add_array_int(col[SLOT], (int)i);
		rte_tel_data_add_array_string(col[SPI], spi);
		rte_tel_data_add_array_u64(col[BYTES], rec->life.reported);
		rte_tel_data_add_array_u64(col[PACKETS], rec->packets);
		rte_tel_data_add_array_u64(col[SOFT], rec->life.soft_bytes);
		rte_tel_data_add_array_u64(col[HARD], rec->life.hard_bytes);
		rte_tel_data_add_array_u64(col[THRESHOLD], rec->threshold);
		rte_tel_data_add_array_int(col[P], rec->life.p_pm);
		rte_tel_data_add_array_int(col[SOFT_HIT], rec->soft_raised);
		rte_tel_data_add_array_int(col[REKEY_OF], (int)rec->rekey_of - 1);
	}
	rte_tel_data_start_dict(d);
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* SA distribution: table totals, fan-out latency percentiles, and each target's sync state. */
static int
cmd_dist(const char *cmd, const char *params, struct rte_tel_data *d)
{
	enum { ID, JOINED, ACKED, SNAPSHOTS, SA_MSGS, REPORTS, NCOL };
	static const char *const names[NCOL] = { "target_id", "joined",	     "acked_generation",
						 "snapshots", "sa_messages", "lifesize_reports" };
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_INT, DP_COL_INT, DP_COL_U64,
						      DP_COL_U64, DP_COL_U64, DP_COL_U64 };
	uint32_t lat[RTR_FANOUT_SAMPLES]; /* 16 KiB: telemetry runs a thread per client */
	const struct rtr_dist *dist = &tel_r->dist;
	struct rte_tel_data *col[NCOL];
	uint32_t n = (uint32_t)RTE_MIN(dist->fanout_n, (uint64_t)RTR_FANOUT_SAMPLES);

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	memcpy(lat, dist->fanout_us, n * sizeof(lat[0]));
	qsort(lat, n, sizeof(lat[0]), cmp_u32);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", tel_r->sa_generation);
	rte_tel_data_add_dict_u64(d, "version", dist->version);
	rte_tel_data_add_dict_u64(d, "sa_adds", dist->adds);
	rte_tel_data_add_dict_u64(d, "sa_dels", dist->dels);
	rte_tel_data_add_dict_u64(d, "rekeys", dist->rekeys);
	rte_tel_data_add_dict_u64(d, "rekey_events", dist->rekey_events);
	rte_tel_data_add_dict_u64(d, "hard_expired", dist->hard_expired);
	rte_tel_data_add_dict_u64(d, "lifesize_reports", dist->reports);
	rte_tel_data_add_dict_u64(d, "lifesize_reports_stale", dist->reports_stale);
	rte_tel_data_add_dict_u64(d, "fanout_samples", dist->fanout_n);
	rte_tel_data_add_dict_u64(d, "fanout_p50_us", n ? lat[n / 2] : 0);
	rte_tel_data_add_dict_u64(d, "fanout_p99_us", n ? lat[(uint64_t)n * 99 / 100] : 0);
	rte_tel_data_add_dict_u64(d, "fanout_max_us", n ? lat[n - 1] : 0);
	for (uint8_t t = 0; t < tel_r->n_targets; t++) {
		const struct rtr_ctl *c = &tel_r->ctl[t];

		rte_tel_data_add_array_int(col[ID], tel_r->cfg->targets[t].id);
		rte_tel_data_add_array_int(col[JOINED], c->joined);
		rte_tel_data_add_array_u64(col[ACKED], c->acked_gen);
		rte_tel_data_add_array_u64(col[SNAPSHOTS], c->snapshots);
		rte_tel_data_add_array_u64(col[SA_MSGS], c->sa_msgs);
		rte_tel_data_add_array_u64(col[REPORTS], c->lifesize_reports);
	}
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

int
rtr_telemetry_register(struct rtr *r)
{
	tel_r = r;
	if (rte_telemetry_register_cmd("/dvipsec/router/stats", cmd_stats,
				       "Router packet counters by stage") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/router/drops", cmd_drops,
				       "Router drops by reason") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/dct", cmd_dct,
				       "Connection table: entries and a listing. Param: max rows") <
		    0 ||
	    rte_telemetry_register_cmd("/dvipsec/targets", cmd_targets,
				       "Targets: weight, health, packets, connections") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/sa", cmd_sa, "SAs (no keys)") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/lifesize", cmd_lifesize,
				       "Per SA: bytes the targets reported, limits, threshold") <
		    0 ||
	    rte_telemetry_register_cmd("/dvipsec/dist", cmd_dist,
				       "SA distribution: fan-out latency, targets' sync state") < 0)
		return -EINVAL;
	return 0;
}
