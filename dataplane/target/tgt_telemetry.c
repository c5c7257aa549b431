/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target's telemetry commands:
 *   /dvipsec/target/stats   packets by stage
 *   /dvipsec/target/drops   every drop reason: ESP engine, link, target stages, by name
 *   /dvipsec/sa             this target's SAs without keys (packets and bytes authenticated or
 *                           sent, replay top, last outbound sequence number from the CF)
 */
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "dp_telemetry.h"
#include "tgt.h"

static struct tgt *tel_t;

static const char *const tgt_drop_names[] = { [TGT_DROP_NONE] = "none",
#define TGT_DROP_NAME(sym, name, desc) [TGT_DROP_##sym] = name,
					      TGT_DROP_REASONS(TGT_DROP_NAME)
#undef TGT_DROP_NAME
};

const char *
tgt_drop_name(enum tgt_drop reason)
{
	return (unsigned int)reason < TGT_DROP_COUNT ? tgt_drop_names[reason] : "?";
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tgt_stats *s = &tel_t->st;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "id", tel_t->cfg->id);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "rx", s->link_rx);
	rte_tel_data_add_dict_u64(d, "decrypted", s->decrypted);
	rte_tel_data_add_dict_u64(d, "plain_in", s->plain_in);
	rte_tel_data_add_dict_u64(d, "filtered_by_router", s->filtered_by_router);
	rte_tel_data_add_dict_u64(d, "to_tap", s->to_tap);
	rte_tel_data_add_dict_u64(d, "from_tap", s->from_tap);
	rte_tel_data_add_dict_u64(d, "arp_replies", s->arp_replies);
	rte_tel_data_add_dict_u64(d, "encrypted", s->encrypted);
	rte_tel_data_add_dict_u64(d, "out_plain", s->out_plain);
	rte_tel_data_add_dict_u64(d, "to_link", s->to_link);
	rte_tel_data_add_dict_u64(d, "to_uplink", s->to_uplink);
	rte_tel_data_add_dict_u64(d, "arp_requests", s->arp_requests);
	rte_tel_data_add_dict_u64(d, "feedback_msgs", s->feedback_msgs);
	rte_tel_data_add_dict_int(d, "control_joined", tel_t->ctl.hello_sent);
	rte_tel_data_add_dict_u64(d, "control_connects", tel_t->ctl.connects);
	rte_tel_data_add_dict_u64(d, "control_heartbeats_rx", tel_t->ctl.heartbeats_rx);
	rte_tel_data_add_dict_u64(d, "control_auth_failures", tel_t->ctl.auth_failures);
	rte_tel_data_add_dict_u64(d, "link_restarts", tel_t->ctl.link_restarts);
	rte_tel_data_add_dict_u64(d, "sa_snapshots", tel_t->ctl.snapshots);
	rte_tel_data_add_dict_u64(d, "sa_adds", tel_t->ctl.sa_adds);
	rte_tel_data_add_dict_u64(d, "sa_dels", tel_t->ctl.sa_dels);
	rte_tel_data_add_dict_u64(d, "sa_stale", tel_t->ctl.sa_stale);
	rte_tel_data_add_dict_u64(d, "sa_kept", tel_t->ctl.sa_kept);
	rte_tel_data_add_dict_u64(d, "sa_rejected", tel_t->ctl.sa_rejected);
	rte_tel_data_add_dict_u64(d, "sa_rekeys", tel_t->ctl.rekeys);
	rte_tel_data_add_dict_u64(d, "sa_generation", tel_t->ctl.applied_gen);
	rte_tel_data_add_dict_u64(d, "lifesize_reports", tel_t->ctl.reports);
	rte_tel_data_add_dict_u64(d, "conn_ends_sent", tel_t->ctl.conn_ends);
	rte_tel_data_add_dict_u64(d, "conn_ends_lost", tel_t->ctl.conn_ends_lost);
	rte_tel_data_add_dict_u64(d, "feedback_records", s->feedback_records);
	rte_tel_data_add_dict_u64(d, "esp_in_bytes", tel_t->esp.stats.in_bytes);
	rte_tel_data_add_dict_u64(d, "esp_out_bytes", tel_t->esp.stats.out_bytes);
	return 0;
}

static int
cmd_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char name[64];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	for (int i = 1; i < ESP_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, esp_drop_name(i), tel_t->esp.stats.drops[i]);
	for (int i = 1; i < TGT_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, tgt_drop_name(i), tel_t->st.drops[i]);
	for (int i = 1; i < GRE_DROP_COUNT; i++) {
		snprintf(name, sizeof(name), "link_%s", gre_drop_name(i));
		rte_tel_data_add_dict_u64(d, name, tel_t->gre.drops[i]);
	}
	return 0;
}

/* DPDK 22.11 telemetry nests only arrays of numbers or strings: the SA table comes by column. It
 * reads the slots' views (tgt_ctl.c refreshes them every millisecond), never an SA object the
 * control path may retire meanwhile. */
static int
cmd_sa(const char *cmd, const char *params, struct rte_tel_data *d)
{
	enum {
		SPI,
		SLOT,
		DIR,
		AEAD,
		MODE,
		ENCAP,
		SUPERSEDED,
		PACKETS,
		BYTES,
		SEQ,
		THRESHOLD,
		OUT_TARGET,
		NCOL
	};
	static const char *const names[NCOL] = { "spi",
						 "slot",
						 "dir",
						 "aead",
						 "mode",
						 "encap",
						 "superseded",
						 "packets",
						 "bytes",
						 "seq",
						 "lifesize_threshold",
						 "out_target" /* 0: any target */ };
	static const enum dp_col_kind kinds[NCOL] = { DP_COL_STR, DP_COL_INT, DP_COL_STR,
						      DP_COL_STR, DP_COL_STR, DP_COL_STR,
						      DP_COL_INT, DP_COL_U64, DP_COL_U64,
						      DP_COL_U64, DP_COL_U64, DP_COL_INT };
	struct rte_tel_data *col[NCOL];
	char spi[16];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (dp_tel_cols_new(col, kinds, NCOL) < 0)
		return -ENOMEM;
	for (uint32_t i = 0, rows = 0; i < tel_t->n_slots && rows < 256; i++) {
		struct tgt_slot_view v = tel_t->slot[i].view;

		if (!v.present)
			continue;
		rows++;
		snprintf(spi, sizeof(spi), "0x%08x", v.spi);
		rte_tel_data_add_array_string(col[SPI], spi);
		rte_tel_data_add_array_int(col[SLOT], (int)i);
		rte_tel_data_add_array_string(col[DIR], v.dir == ESP_DIR_INBOUND ? "in" : "out");
		rte_tel_data_add_array_string(col[AEAD], esp_aead_name(v.aead));
		rte_tel_data_add_array_string(col[MODE],
					      v.mode == ESP_MODE_TUNNEL ? "tunnel" : "transport");
		rte_tel_data_add_array_string(col[ENCAP], v.udp_encap ? "udp" : "none");
		rte_tel_data_add_array_int(col[SUPERSEDED], v.superseded);
		rte_tel_data_add_array_u64(col[PACKETS], v.packets);
		rte_tel_data_add_array_u64(col[BYTES], v.bytes);
		rte_tel_data_add_array_u64(col[SEQ], v.seq);
		rte_tel_data_add_array_u64(col[THRESHOLD], v.threshold);
		rte_tel_data_add_array_int(col[OUT_TARGET],
					   v.out_target == DIST_OUT_ANY ? 0 : v.out_target);
	}
	rte_tel_data_start_dict(d);
	dp_tel_cols_put(d, names, col, NCOL);
	return 0;
}

int
tgt_telemetry_register(struct tgt *t)
{
	tel_t = t;
	if (rte_telemetry_register_cmd("/dvipsec/target/stats", cmd_stats,
				       "Target packet counters by stage") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/target/drops", cmd_drops,
				       "Target drops by reason") < 0 ||
	    rte_telemetry_register_cmd("/dvipsec/sa", cmd_sa, "SAs (no keys)") < 0)
		return -EINVAL;
	return 0;
}
