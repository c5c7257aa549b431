/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-target: one cluster member. One polling lcore runs both directions:
 *   inbound  (tgt_inbound.c):  trusted link rx -> GRE decap -> SA by key slot -> full ESP inbound
 *                              (ICV, decrypt, replay, selectors unless the router checked) ->
 *                              replay feedback to the router -> TAP -> kernel -> application
 *   outbound (tgt_outbound.c): TAP rx -> ARP answered -> outbound SA by selectors -> sequence
 *                              numbers from the coupling facility -> ESP -> uplink (direct
 *                              return, tgt_uplink.c) or back over the link (plain when no SA
 *                              covers the packet)
 * SAs come from the router over the control channel (tgt_ctl.c: snapshot on join, then adds,
 * deletes, rekeys); static_sas in the target's own config (slot = position, as on the router) serve
 * a target that runs without a router's control channel (benchmarks) and are replaced by the
 * router's snapshot.
 */
#ifndef DVIPSEC_TGT_H
#define DVIPSEC_TGT_H

#include <stdatomic.h>
#include <stdint.h>

#include "cf.h"
#include "cfg.h"
#include "dp_feedback.h"
#include "dist_conn.h"
#include "dp_port.h"
#include "esp.h"
#include "gre.h"
#include "shc.h"

#define TGT_MAX_SLOTS	 CFG_MAX_STATIC_SAS
#define TGT_FB_OPEN	 8  /* SA blocks being filled at once */
#define TGT_SEQ_BLOCK	 8  /* outbound sequence numbers taken from the CF at once, per SA */
#define TGT_CONN_END_MAX 64 /* connection ends waiting for the next control poll */

#define TGT_DROP_REASONS(X)                                                                        \
	X(UNKNOWN_SLOT, "unknown_slot", "the link key names an SA slot this target does not have") \
	X(UNEXPECTED_PROTO, "unexpected_proto", "link packet of a type only the router receives")  \
	X(TAP_TX_FULL, "tap_tx_full", "the TAP did not take a decrypted packet")                   \
	X(LINK_TX_FULL, "link_tx_full", "the trusted link did not take a packet for the router")   \
	X(LINK_ENCAP, "link_encap", "GRE encapsulation toward the router failed")                  \
	X(TAP_NOT_IP, "tap_not_ip", "frame from the TAP that is neither IP nor an ARP request")    \
	X(NOT_FROM_DVIPA, "not_from_dvipa", "packet from the TAP whose source is not a DVIPA")     \
	X(TAP_TRUNCATED, "tap_truncated", "frame from the TAP shorter than its IP header says")    \
	X(SEQ_EXHAUSTED, "seq_exhausted", "the SA's sequence numbers are used up: rekey needed")   \
	X(NO_OUTBOUND_SA, "no_outbound_sa",                                                        \
	  "IPsec covers it (an inbound SA the reverse, another target's SA) but no outbound SA "   \
	  "of ours: never sent in the clear")                                                      \
	X(NO_MBUF, "no_mbuf", "no mbuf for a reply or a feedback message")

enum tgt_drop {
	TGT_DROP_NONE = 0,
#define TGT_DROP_ENUM(sym, name, desc) TGT_DROP_##sym,
	TGT_DROP_REASONS(TGT_DROP_ENUM)
#undef TGT_DROP_ENUM
		TGT_DROP_COUNT
};

const char *tgt_drop_name(enum tgt_drop reason);

struct tgt_stats {
	uint64_t link_rx;
	uint64_t decrypted;
	uint64_t plain_in; /* GRE_SLOT_PLAIN: TCP to the DVIPA without IPsec */
	uint64_t filtered_by_router;
	uint64_t to_tap;
	uint64_t from_tap;
	uint64_t arp_replies;
	uint64_t encrypted;
	uint64_t out_plain;
	uint64_t to_link;
	uint64_t to_uplink; /* direct return */
	uint64_t arp_requests;
	uint64_t feedback_msgs;
	uint64_t feedback_records;
	uint64_t drops[TGT_DROP_COUNT];
};

/* Authenticated sequence numbers not yet reported, one aligned block of 64 per open SA. */
struct tgt_fb_block {
	uint32_t slot;
	uint64_t base;
	uint64_t bits;
};

struct tgt_feedback {
	struct tgt_fb_block open[TGT_FB_OPEN];
	uint8_t n_open;
	uint16_t n_out;
	uint64_t last_flush_tsc;
	struct dp_fb_replay out[DP_FB_MAX_RECORDS];
};

/* A peer's MAC on the uplink (direct return), learned from ARP. */
struct tgt_neigh {
	uint32_t ip; /* network order */
	uint8_t resolved;
	struct rte_ether_addr mac;
	uint64_t asked_tsc;
};

#define TGT_NEIGH_MAX 256

/* What telemetry shows of a slot: copied by the polling lcore every millisecond, so the telemetry
 * thread never touches an SA object the control path may retire. */
struct tgt_slot_view {
	uint32_t spi;
	uint8_t present;
	uint8_t dir;
	uint8_t aead;
	uint8_t mode;
	uint8_t udp_encap;
	uint8_t superseded;
	uint16_t out_target;
	uint64_t packets;
	uint64_t bytes;
	uint64_t seq; /* inbound: highest authenticated; outbound: last taken from the CF */
	uint64_t threshold;
};

/* Per SA slot (tgt_ctl.c): lifesize reporting from the ESP engine's per-SA counters, rekey
 * state. */
struct tgt_slot {
	uint64_t reported_bytes; /* the SA's byte counter at the last report */
	uint64_t reported_packets;
	uint64_t threshold; /* report when the bytes since then reach it; 0: on the timer only */
	uint64_t last_report_tsc;
	uint64_t tag;	     /* cf_sa_tag of the SA there */
	uint64_t gen;	     /* the router's generation it was installed under */
	bool superseded;     /* a REKEY named its successor: outbound prefers that */
	uint16_t out_target; /* outbound: the target that alone sends on it (DIST_OUT_ANY: any) */
	bool in_snapshot;    /* named by the snapshot being received */
	struct tgt_slot_view view;
};

/* The control channel to the router (tgt_ctl.c). */
struct tgt_ctl {
	struct dist_conn conn;
	bool hello_sent;
	uint64_t last_try_tsc;
	uint64_t last_tx_tsc;
	uint64_t last_poll_tsc;
	uint64_t hb_seq;
	uint64_t connects;
	uint64_t msgs;
	uint64_t heartbeats_rx;
	uint64_t auth_failures; /* the router has another control key */
	bool in_snapshot;
	int sent_health;      /* the health last sent in TARGET_STATE; -1: none yet */
	uint64_t applied_gen; /* newest SA generation applied */
	uint64_t acked_gen;   /* ... and reported with SA_SYNC */
	uint64_t snapshots;
	uint64_t sa_adds;
	uint64_t sa_dels;
	uint64_t sa_stale;    /* an update older than what the slot has: ignored */
	uint64_t sa_kept;     /* the same SA sent again (router restart): object and window kept */
	uint64_t sa_rejected; /* an SA_ADD this target cannot build (bad parameters) */
	uint64_t rekeys;
	uint64_t reports;	 /* LIFESIZE sent */
	uint64_t conn_ends;	 /* CONN_END sent */
	uint64_t conn_ends_lost; /* more than TGT_CONN_END_MAX between two polls, or no router */
	uint64_t link_down_tsc;	 /* when the trusted link was first seen down; 0: up */
	uint64_t link_restarts;	 /* the link port restarted to reconnect (tgt_ctl.c relink) */
};

struct tgt {
	struct cfg_target *cfg;
	struct rte_mempool *pool;
	struct dp_port link;
	struct dp_port tap;
	struct dp_port uplink; /* when cfg->has_uplink */
	struct tgt_neigh neigh[TGT_NEIGH_MAX];
	struct esp_lcore esp;
	struct gre_stats gre;
	struct gre_link to_router;
	uint32_t link_ip; /* ours, network order */
	struct shc *shc;  /* SAs by slot: lock-free reads, RCU reclaim (shadowcache/shc.h) */
	struct rte_rcu_qsbr *qsbr; /* the polling lcore reports quiescent states once a loop */
	uint32_t n_slots;	   /* slots in use (telemetry walks them) */
	uint32_t n_out;		   /* outbound slots, in the order they are tried (tgt_out_order) */
	uint32_t out_order[TGT_MAX_SLOTS];
	struct cf *cf;
	struct rte_ether_addr tap_peer_mac; /* the kernel's side of the TAP */
	struct tgt_feedback fb;
	struct tgt_slot slot[TGT_MAX_SLOTS];
	/* connections our applications ended (FIN/RST out of the TAP), for the router's table */
	uint16_t n_conn_end;
	struct dist_conn_end conn_end[TGT_CONN_END_MAX];
	struct tgt_ctl ctl;
	struct tgt_stats st;
	struct dp_idle idle;
	uint16_t lcore;
	uint16_t link_queues; /* = the router's workers */
	atomic_bool stop;
};

/* tgt_inbound.c: one poll of the trusted link; returns packets received. */
uint32_t tgt_inbound_poll(struct tgt *t);
/* tgt_outbound.c: one poll of the TAP; returns packets received. */
uint32_t tgt_outbound_poll(struct tgt *t, uint64_t now);
/* Re-orders the outbound SAs after any SA change (tgt_ctl.c, set-up). */
void tgt_out_order(struct tgt *t);
/* tgt_uplink.c: direct return. Sends an IP packet to its peer on the uplink if the peer's MAC
 * is known (consuming it) and returns true; else asks for it and returns false (the caller sends
 * the packet back over the link). */
bool tgt_uplink_send(struct tgt *t, struct rte_mbuf *m, uint64_t now);
/* Learns peers' MACs from ARP on the uplink; returns frames received. */
uint32_t tgt_uplink_poll(struct tgt *t);
/* tgt_ctl.c: the control channel, polled once a millisecond. */
void tgt_ctl_poll(struct tgt *t, uint64_t now);
void tgt_ctl_close(struct tgt *t);
/* tgt_feedback.c */
void tgt_feedback_record(struct tgt *t, uint32_t slot, uint64_t seq);
void tgt_feedback_flush(struct tgt *t, uint64_t now);
/* tgt_telemetry.c */
int tgt_telemetry_register(struct tgt *t);

#endif /* DVIPSEC_TGT_H */
