/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-router: the process that owns the DVIPA. Worker lcores run the inbound fast path
 *   uplink rx -> rtr_classify -> rtr_flow (SA, replay pre-check, peek) -> rtr_dispatch (connection
 *   table, GRE) -> trusted link tx
 * and the main lcore the control work (rtr_control.c): replay feedback and replies from the
 * targets, IKE punts, connection aging, target health. This header is the router's shared state;
 * each stage file says what it reads and writes.
 */
#ifndef DVIPSEC_RTR_H
#define DVIPSEC_RTR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>
#include <rte_rcu_qsbr.h>

#include "cfg.h"
#include "dct.h"
#include "dist_conn.h"
#include "dp_port.h"
#include "esp.h"
#include "gre.h"
#include "cf.h"
#include "lifesize.h"
#include "rtr_classify.h"
#include "shc.h"

#define RTR_MAX_SLOTS	CFG_MAX_STATIC_SAS
#define RTR_LINK_PREFIX 0xa9fe0000u /* 169.254.0.0/16: trusted link addresses by target id */

/* Why the router drops a packet after classification; classification drops have their own table
 * (rtr_classify.h), link decapsulation too (gre.h). */
#define RTR_DROP_REASONS(X)                                                                       \
	X(UNKNOWN_SPI, "unknown_spi", "no inbound SA with this SPI")                              \
	X(ENCAP_MISMATCH, "encap_mismatch", "raw ESP for a UDP-encapsulated SA or the reverse")   \
	X(BAD_LENGTH, "bad_length", "ESP packet too short for its SA")                            \
	X(REPLAY_DUPLICATE, "replay_duplicate",                                                   \
	  "sequence number already authenticated by a target")                                    \
	X(REPLAY_OLD, "replay_too_old", "sequence number left of the authenticated window, or 0") \
	X(INNER_NOT_IP, "inner_not_ip", "tunnel mode: peeked inner header is not IPv4 or IPv6")   \
	X(INNER_FRAGMENT, "inner_fragment", "inner IP fragment: no ports to look up")             \
	X(INNER_TOO_DEEP, "inner_too_deep",                                                       \
	  "inner ports beyond the peeked bytes (options, ext headers)")                           \
	X(SELECTOR, "selector_mismatch",                                                          \
	  "router filtering: inner packet outside the SA's selectors")                            \
	X(NON_SYN_MISS, "non_syn_miss", "TCP segment without SYN for no known connection")        \
	X(NO_TARGET, "no_target", "no healthy target for a new connection")                       \
	X(DCT_FULL, "dct_full", "connection table full")                                          \
	X(LINK_ENCAP, "link_encap", "GRE encapsulation failed (see the link drops)")              \
	X(LINK_TX_FULL, "link_tx_full", "trusted link to the target did not take the packet")     \
	X(IKE_RING_FULL, "ike_ring_full", "control plane queue for IKE full")                     \
	X(REPLY_TX_FULL, "reply_tx_full", "uplink did not take an ARP/ICMP reply")                \
	X(RETURN_NO_NEIGHBOR, "return_no_neighbor", "reply for a peer whose MAC is not known")    \
	X(RETURN_NOT_IP, "return_not_ip", "packet from a target that is not IP (or feedback)")    \
	X(RETURN_TX_FULL, "return_tx_full", "uplink did not take a reply from a target")          \
	X(FEEDBACK_BAD, "feedback_malformed", "replay feedback message malformed")                \
	X(FEEDBACK_SLOT, "feedback_unknown_slot", "replay feedback for an SA slot not installed")

enum rtr_drop {
	RTR_DROP_NONE = 0,
#define RTR_DROP_ENUM(sym, name, desc) RTR_DROP_##sym,
	RTR_DROP_REASONS(RTR_DROP_ENUM)
#undef RTR_DROP_ENUM
		RTR_DROP_COUNT
};

const char *rtr_drop_name(enum rtr_drop reason);

struct rtr_stats {
	uint64_t rx;
	uint64_t esp;
	uint64_t tcp_plain;
	uint64_t ike;
	uint64_t replies;
	uint64_t to_target;
	uint64_t new_flows;
	uint64_t filtered; /* checked against selectors here (filter_policy router) */
	uint64_t feedback_msgs;
	uint64_t feedback_seqs; /* authenticated numbers newly learned */
	uint64_t returned;	/* replies from targets forwarded to the uplink */
	uint64_t target_pkts[CFG_MAX_TARGETS];
	uint64_t drops[RTR_DROP_COUNT];
};

/* A flow found in one packet: what the connection table needs and what the GRE key says. */
struct rtr_flow {
	struct dct_key key;
	uint32_t gre_key;
	uint8_t tcp_flags; /* 0 for non-TCP */
	uint8_t is_tcp;
};

struct rtr;

/* Chosen once per SA when it is installed: tunnel or transport peek. */
typedef enum rtr_drop (*rtr_flow_fn)(struct esp_lcore *lc, const struct rtr *r,
				     const struct esp_sa *sa, const uint8_t *ip,
				     const struct esp_pkt_info *pi, struct rtr_flow *f);

struct rtr_txq {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
	uint32_t key[DP_BURST];
};

struct rtr_worker {
	struct esp_lcore esp; /* IPsec-MB manager for peeks */
	struct rtr *r;
	struct rtr_classify_stats cls;
	struct dct_lcore_stats dct;
	struct gre_stats gre;
	struct rtr_stats st;
	struct dct_picker picker;
	struct gre_link link[CFG_MAX_TARGETS];
	struct rtr_txq txq[CFG_MAX_TARGETS];
	struct rtr_pkt_src learned; /* last peer MAC and address reported to the main lcore */
	uint16_t lcore;
	uint16_t queue;
	struct dp_idle idle;
} __rte_cache_aligned;

/* A peer's MAC address learned from its packets (the router forwards target replies to it). */
struct rtr_neigh {
	struct esp_addr ip;
	struct rte_ether_addr mac;
	uint8_t used;
};

#define RTR_NEIGH_MAX 256

struct rtr_learn {
	struct esp_addr ip;
	struct rte_ether_addr mac;
	uint16_t pad;
};

/* A connection table listing the telemetry thread asks of the main lcore: dct_walk() must not run
 * beside dct_age(), and the main lcore is the one that ages. */
#define RTR_DCT_LIST_MAX 64

struct rtr_dct_row {
	struct dct_key key;
	uint16_t target;
	uint8_t state;
	uint64_t last_seen;
};

struct rtr_dct_list {
	atomic_uint request; /* 0 idle, else the rows wanted; the main lcore answers and clears */
	uint32_t n;
	struct rtr_dct_row rows[RTR_DCT_LIST_MAX];
};

/* The router's record of one SA slot (rtr_sa.c): what every target must hold there. */
struct rtr_sa_rec {
	uint64_t generation; /* of the slot's last change, add or delete */
	bool present;
	uint32_t rekey_of;	     /* 1 + the slot of the SA this one replaces; 0: none */
	uint8_t *keymat;	     /* sodium_malloc'd copy, read-only: SA_ADD carries it */
	struct esp_sa_params params; /* .keymat points at the copy */
	struct shc_lifesize_sa life; /* the targets' reports summed (shadowcache/lifesize.h) */
	uint64_t threshold;	     /* bytes a target counts between reports */
	uint64_t packets;	     /* reported */
	uint64_t added_tsc;
	uint32_t owner;	     /* the IKE CHILD SA pair it belongs to; 0: static */
	uint16_t out_target; /* outbound: the one target (id) that sends on it; DIST_OUT_ANY */
	uint64_t top_view;   /* the authenticated window's top, copied each ms for telemetry */
	bool soft_raised;    /* the rekey event went out (bytes, packets or time) */
};

#define RTR_FANOUT_PENDING 64	/* SA changes whose arrival at the targets is being timed */
#define RTR_FANOUT_SAMPLES 4096 /* the latest fan-out latencies kept for percentiles */

/* SA distribution state shared by rtr_sa.c (changes) and rtr_ctl.c (sending them). */
struct rtr_dist {
	struct rtr_sa_rec *rec; /* RTR_MAX_SLOTS */
	uint64_t version;	/* bumped by every change a target must hear of */
	uint32_t next_slot;	/* round robin: a freed slot is reused last */
	uint32_t next_flow_id;	/* connection-table ids of new SA chains (never DCT_SA_PLAIN) */
	struct cf *cf;		/* outbound sequence numbers: bound to each new SA */
	uint64_t adds, dels, rekeys;
	uint64_t rekey_events;	/* soft limits reached (bytes or time): IKE rekeys */
	uint64_t hard_expired;	/* SAs deleted at their hard limit */
	uint64_t reports;	/* lifesize reports taken */
	uint64_t reports_stale; /* for a slot with no SA (it went away meanwhile) */
	uint64_t last_time_check_tsc;
	struct {
		uint64_t generation;
		uint64_t tsc;
	} pending[RTR_FANOUT_PENDING];
	uint32_t pending_head, pending_n;
	uint64_t fanout_n; /* samples taken (the ring keeps the latest) */
	uint32_t fanout_us[RTR_FANOUT_SAMPLES];
};

/* What one target connection has been sent for one slot. */
struct rtr_ctl_slot {
	uint64_t gen;	    /* the SA_ADD's generation; 0: nothing there */
	uint64_t threshold; /* LIFESIZE_LIMIT */
	uint32_t rekey_of;  /* REKEY */
};

/* The control channel to one target (rtr_ctl.c). */
struct rtr_ctl {
	int listen_fd;
	struct dist_conn conn;
	struct dist_conn
		pending;  /* a new connection while conn is joined: swapped in on its HELLO */
	bool joined;	  /* its HELLO opened on the current connection */
	bool ever_joined; /* from then on its heartbeat decides its health */
	uint64_t last_rx_tsc;
	uint64_t last_tx_tsc;
	uint64_t hb_seq;
	uint64_t msgs;
	uint64_t joins;
	uint64_t auth_failures; /* connections with another control key */
	uint64_t bad_frames;	/* connections closed for malformed channel data (bad hello,
				 * framing, sealing, message, oversize) */
	uint64_t wrong_id;	/* a HELLO naming another target */
	/* SA sync: what this connection has been sent, per slot */
	struct rtr_ctl_slot *sent; /* RTR_MAX_SLOTS */
	uint64_t synced_version;   /* dist.version when the last walk completed */
	bool need_snapshot;	   /* joined: the full table goes first */
	bool in_snapshot;	   /* SNAPSHOT_BEGIN sent, END not yet */
	uint64_t acked_gen;	   /* newest generation the target says it applied */
	uint64_t snapshots;
	uint64_t sa_msgs; /* SA_ADD, SA_DEL, REKEY, LIFESIZE_LIMIT sent */
	uint64_t lifesize_reports;
	uint64_t conn_ends;	   /* CONN_END received */
	uint64_t conn_ends_closed; /* ... that moved a connection to closing */
	uint64_t unexpected;	   /* messages only the router sends */
	uint16_t weight;	   /* from its TARGET_STATE; 0: the configured one */
	bool draining;		   /* it said it is unhealthy: no new connections */
};

/* The main lcore's own state. */
struct rtr_main {
	struct esp_lcore esp;
	struct gre_stats gre;
	struct rtr_stats st;
	struct rtr_neigh neigh[RTR_NEIGH_MAX];
	uint64_t ike_punted;
	uint64_t flushed; /* connections dropped with a target that went down */
	uint64_t last_health_tsc;
	uint64_t last_ctl_tsc;
	struct dp_idle idle;
	struct rtr_dct_list dct_list;
	struct dct_lcore_stats dct; /* lookups for targets' CONN_END */
};

struct rtr {
	struct cfg_router *cfg;
	struct rte_mempool *pool;
	struct dp_port uplink;
	struct dp_port link[CFG_MAX_TARGETS];
	uint8_t n_targets;
	/* SAs: changed only through rtr_sa.c, on the main lcore */
	struct esp_sa_table *sa_tbl;	      /* inbound SAs by SPI (for peeks and pre-checks) */
	struct shc *slots;		      /* every SA by slot */
	rtr_flow_fn slot_flow[RTR_MAX_SLOTS]; /* inbound: tunnel or transport */
	uint32_t n_slots;		      /* slots ever used (telemetry walks them) */
	uint32_t n_static;		      /* static_sas live below this slot (reload) */
	uint64_t sa_generation;		      /* of the last change */
	struct dct *dct;
	struct dct_target_set targets;
	struct rte_rcu_qsbr *qsbr;
	struct rte_ring *ike_ring;   /* workers -> main: IKE datagrams */
	struct rte_ring *learn_ring; /* workers -> main: peer MACs */
	struct rte_ring *ret_ring;   /* main -> worker 0: replies to send out of the uplink */
	uint32_t link_ip[CFG_MAX_TARGETS][2]; /* [router side, target side], network order */
	atomic_bool stop;
	atomic_bool reload; /* SIGHUP: re-read static_sas from config_path */
	const char *config_path;
	uint8_t n_workers;
	struct rtr_worker *workers; /* n_workers, rte_zmalloc'd */
	struct rtr_classify_ctx cls_ctx;
	struct rtr_ctl ctl[CFG_MAX_TARGETS] __rte_aligned(128);
	struct rtr_dist dist;
	struct rtr_ike *ike; /* rtr_ike.c */
	/* a soft or hard lifesize limit (bytes or time) reached by slot's SA (rtr_ike.c) */
	void (*sa_event)(struct rtr *r, uint32_t slot, enum shc_lifesize_event ev);
	struct rtr_main main __rte_aligned(128);
};

/* rtr_sa.c: the router's SA table, the one way SAs enter and leave (main lcore). */
int rtr_sa_init(struct rtr *r, uint32_t n_slots, struct rte_rcu_qsbr *qsbr);
void rtr_sa_fini(struct rtr *r);
/* Adds an SA in a given slot (static config: its position) or the lowest free one. 0, -EEXIST
 * (slot or SPI taken), -EINVAL, -ENOSPC, -ENOMEM. */
int rtr_sa_add_at(struct rtr *r, const struct esp_sa_params *p, uint32_t slot,
		  struct esp_lcore *lc);
int rtr_sa_add(struct rtr *r, const struct esp_sa_params *p, struct esp_lcore *lc, uint32_t *slot);
/* Unpublishes the SA of slot; it is freed after the workers' grace period. 0 or -ENOENT. */
int rtr_sa_del(struct rtr *r, uint32_t slot);
/* The SA in new_slot replaces the one in old_slot (make-before-break: both stay installed until
 * old_slot is deleted); targets move outbound traffic to it. 0, -ENOENT, -EINVAL. */
int rtr_sa_rekey(struct rtr *r, uint32_t old_slot, uint32_t new_slot);
/* The inbound SA in slot serves the connections of the one in like_slot (a pair added beside
 * another: the peer may send a connection's packets on either): same connection-table id. 0,
 * -ENOENT, -EINVAL (not both inbound). */
int rtr_sa_share_flows(struct rtr *r, uint32_t like_slot, uint32_t slot);
/* A target's lifesize report for slot (bytes and packets since its last one). */
void rtr_sa_lifesize(struct rtr *r, uint32_t slot, uint64_t bytes, uint64_t packets);
/* Time lifetimes: soft -> rekey event, hard -> delete (main lcore, once a second). */
void rtr_sa_expire(struct rtr *r, uint64_t now);
/* Installs c's static_sas at start-up: each in slot = its position, except an outbound SA whose
 * keys have numbers in the CF (a restart), which goes back to that slot. 0 or -EINVAL (printed). */
int rtr_sa_install_static(struct rtr *r, const struct cfg_router *c);
/* Re-reads static_sas, matched by SPI and direction: unchanged SAs stay in their slots, changed
 * ones are replaced in theirs, missing ones deleted, new ones placed as at start-up. */
void rtr_sa_reload(struct rtr *r, const struct cfg_router *fresh);
const struct esp_sa *rtr_sa_query(const struct rtr *r, uint32_t slot);
/* The inbound SA that pairs with outbound out_slot (IKE: the same CHILD SA pair; static: the same
 * endpoints, mode and selectors): its slot, or -ENOENT. */
int rtr_sa_inbound_twin(const struct rtr *r, uint32_t out_slot);
/* Frees deleted SAs whose grace period has passed (main lcore, every loop). */
uint32_t rtr_sa_reclaim(struct rtr *r);

/* rtr_flow.c */
enum rtr_drop rtr_flow_tunnel(struct esp_lcore *lc, const struct rtr *r, const struct esp_sa *sa,
			      const uint8_t *ip, const struct esp_pkt_info *pi, struct rtr_flow *f);
enum rtr_drop rtr_flow_transport(struct esp_lcore *lc, const struct rtr *r, const struct esp_sa *sa,
				 const uint8_t *ip, const struct esp_pkt_info *pi,
				 struct rtr_flow *f);
/* ESP packets from classify: SA, replay pre-check, peek. Returns how many continue (front, in
 * order, with flows[] beside them); the rest are counted and behind them, for the caller to free.
 */
uint16_t rtr_flow_esp_burst(struct rtr_worker *w, const struct rtr *r, struct rte_mbuf **pkts,
			    const struct esp_pkt_info *pi, struct rtr_flow *flows, uint16_t n);
/* Plain TCP to the DVIPA. Same contract. */
uint16_t rtr_flow_plain_burst(struct rtr_worker *w, struct rte_mbuf **pkts, struct rtr_flow *flows,
			      uint16_t n);

/* rtr_dispatch.c: connection table, target choice, GRE, link tx. Consumes every packet. */
void rtr_dispatch_burst(struct rtr_worker *w, struct rtr *r, struct rte_mbuf **pkts,
			const struct rtr_flow *flows, uint16_t n, uint64_t now);
void rtr_dispatch_flush(struct rtr_worker *w, struct rtr *r);

/* rtr_ike.c: the IKE engine on the main lcore (punted datagrams in, answers out, CHILD SAs into
 * the SA table). */
struct rtr_ike;
int rtr_ike_init(struct rtr *r);
void rtr_ike_fini(struct rtr *r);
uint32_t rtr_ike_poll(struct rtr *r, uint64_t now);
/* rtr_control.c: an IP packet (data at the IP header) to a peer on the uplink, by its learned
 * MAC; consumes m. false (m freed, counted) when the peer's MAC is unknown or the queue full. */
bool rtr_send_to_peer(struct rtr *r, struct rte_mbuf *m);

/* rtr_main.c: re-reads the config file's static_sas (main lcore, after SIGHUP). */
void rtr_reload(struct rtr *r);

/* rtr_worker.c */
int rtr_worker_main(void *arg);
/* rtr_control.c: one pass of the main lcore's loop; returns the work done. */
uint32_t rtr_control_poll(struct rtr *r, uint64_t now);
/* rtr_replay.c: a target's feedback message into the SAs' authenticated windows; returns the
 * numbers newly learned. Malformed messages and unknown slots are counted in st. */
uint32_t rtr_feedback_apply(struct rtr *r, struct rtr_stats *st, const uint8_t *msg, uint32_t len);
/* rtr_ctl.c: control channels to the targets (main lcore) */
int rtr_ctl_open(struct rtr *r);
void rtr_ctl_close(struct rtr *r);
void rtr_ctl_poll(struct rtr *r, uint64_t now);
/* false once a target that joined has missed its heartbeat for a second */
bool rtr_ctl_alive(const struct rtr *r, uint16_t t, uint64_t now);
/* rtr_telemetry.c */
int rtr_telemetry_register(struct rtr *r);

#endif /* DVIPSEC_RTR_H */
