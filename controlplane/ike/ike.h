/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 engine (RFC 7296) for the DVIPA, sans-I/O: datagrams and time go in, datagrams, CHILD
 * SA events and timer deadlines come out through callbacks. No sockets, no threads, no clock of its
 * own: the router's main lcore feeds it the IKE datagrams its workers punted (and sends what it
 * answers out of the uplink); tests and the standalone tool feed it from a UDP socket (ike_udp.c).
 *
 * One file per exchange: ike_init.c (IKE_SA_INIT: proposals, X25519, NAT detection, COOKIE,
 * INVALID_KE_PAYLOAD), ike_auth.c (IKE_AUTH: PSK / Ed25519, the first CHILD_SA, traffic selector
 * narrowing, USE_TRANSPORT_MODE), ike_child.c (CREATE_CHILD_SA: CHILD SA rekeys, either side,
 * PFS, collisions per 2.8; ike_rekey.c the IKE SA's rekey), ike_info.c (INFORMATIONAL: delete,
 * liveness); ike_sa.c holds the IKE SA table, message IDs, retransmission with backoff and the
 * timers (rekeys included); ike_prop.c proposal choice.
 *
 * Keys: the engine holds IKE keys in ike_keys (guarded memory); a CHILD SA's ESP keys are handed
 * to the child_up callback in guarded memory that lives only for the call (the router copies them
 * into its SA table, rtr_sa.c, which distributes them to the targets).
 *
 * Threading: an engine belongs to one thread. Callbacks must not call back into the engine that
 * called them (queue a datagram rather than feed it to the sender at once).
 */
#ifndef DVIPSEC_IKE_H
#define DVIPSEC_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_types.h"

#define IKE_PORT	  500
#define IKE_NATT_PORT	  4500
#define IKE_MAX_PEERS	  64
#define IKE_MAX_PROPOSALS 8
#define IKE_ID_MAX	  255
#define IKE_PSK_MAX	  128
#define IKE_MAX_DGRAM	  8192 /* we send at most this much; strongSwan's IKE_AUTH fits */

/* ---- configuration (filled by controlplane/cfg from the router's "ike" object) ---- */

/* An identity as IKE carries it (RFC 7296 3.5): type and data (address bytes for IPv4/IPv6). */
struct ike_id {
	uint8_t type; /* 1 IPv4 address, 2 FQDN, 3 RFC 822 address, 5 IPv6 address (ike_msg.h) */
	uint8_t len;
	uint8_t data[IKE_ID_MAX];
};

/* One acceptable IKE SA proposal or ESP proposal (IANA transform IDs; AEAD only). The engine
 * supports AES-GCM-16 (key_bits 128, 256), ChaCha20-Poly1305 (key_bits 0 or 256), PRF
 * HMAC-SHA2-256/384/512, DH 31; ike_engine_create refuses anything else with -ENOTSUP. */
struct ike_proposal {
	uint16_t encr; /* ENCR_AES_GCM_16 (20) or ENCR_CHACHA20_POLY1305 (28) */
	uint16_t key_bits;
	uint16_t prf; /* IKE only: PRF_HMAC_SHA2_256/384/512 */
	uint16_t dh;  /* IKE: 31 (Curve25519); ESP: 0 (no PFS) or 31 */
	bool esn;     /* ESP only */
};

/* A remote peer we accept, found by the identity it claims in IDi (FQDN and RFC 822 names
 * compared without case). n_ike / n_esp 0: every suite the engine supports (AES-GCM-128,
 * AES-GCM-256, ChaCha20-Poly1305; no ESN). n_local_ts / n_remote_ts 0: the IKE endpoints (the
 * DVIPA and the peer's address as seen), all protocols and ports; with a NAT in front of the peer
 * also the one address it proposes for itself (its address behind the NAT). When we initiate,
 * local_ts / remote_ts are our TSi / TSr and allow_transport asks for transport mode. auth applies
 * both ways: 2 both sides prove the PSK, 14 both sign with Ed25519 (ours from
 * ike_config.ed25519_seed). */
struct ike_peer_cfg {
	char name[32];
	struct ike_id id;
	uint8_t auth;	    /* 2 (shared key) or 14 (digital signature: Ed25519 raw public key) */
	const uint8_t *psk; /* sodium_malloc'd, owned by the config */
	size_t psk_len;
	uint8_t ed25519_pk[32]; /* the peer's raw public key (RFC 7670 / 8420) */
	uint8_t n_ike;
	struct ike_proposal ike[IKE_MAX_PROPOSALS]; /* our preference order */
	uint8_t n_esp;
	struct ike_proposal esp[IKE_MAX_PROPOSALS];
	/* what a CHILD SA may cover: the responder narrows the peer's TSi/TSr to these */
	uint8_t n_local_ts;
	struct esp_ts local_ts[ESP_MAX_TS];
	uint8_t n_remote_ts;
	struct esp_ts remote_ts[ESP_MAX_TS];
	bool allow_transport; /* accept USE_TRANSPORT_MODE */
	uint32_t ike_rekey_s; /* 0: never (the peer may) */
	uint32_t child_rekey_s;
	struct esp_lifetime child_lifetime; /* given to every CHILD SA's esp_sa_params */
	uint32_t replay_window;
	uint32_t dpd_s; /* liveness check after this much silence; 0: off */
	/* the router (rtr_ike.c) asks for one more CHILD SA per target beside each one negotiated
	 * (ike_add_child), so that every target sends on an SA of its own; the engine ignores it */
	bool sa_per_target;
};

struct ike_config {
	struct ike_id local_id;
	const uint8_t *ed25519_seed; /* 32 bytes, sodium_malloc'd: our raw key (IKE_AUTH_DSIG) */
	bool has_ed25519;
	uint32_t cookie_threshold;    /* IKE_SA_INIT needs a COOKIE while this many or more IKE SAs
				       * are half-open; 0: never */
	uint32_t half_open_timeout_s; /* 0: 30 */
	uint32_t retransmit_base_ms;  /* first retransmission; doubles each time. 0: 500 */
	uint8_t retransmit_tries;     /* then the IKE SA is dead. 0: 5 */
	uint16_t n_peers;
	struct ike_peer_cfg peers[IKE_MAX_PEERS];
};

/* ---- I/O ---- */

/* A datagram with its UDP endpoints. data is the IKE message itself, never the 4-byte non-ESP
 * marker of port 4500: the I/O side strips it from what it receives and puts it in front of what
 * it sends whenever local_port or remote_port is 4500. */
struct ike_dgram {
	struct esp_addr local;
	struct esp_addr remote;
	uint16_t local_port;  /* host order */
	uint16_t remote_port; /* host order */
	const uint8_t *data;
	size_t len;
};

/* A CHILD SA pair, as the router's SA table wants it: in.keymat / out.keymat point at guarded
 * memory valid for the callback only. The id names the pair in later events. */
struct ike_child_event {
	uint32_t id;		  /* engine-wide, never reused */
	uint32_t rekey_of;	  /* the id this pair replaces (make-before-break), 0: none */
	uint32_t sibling_of;	  /* added beside this pair by ike_add_child, 0: not */
	uint16_t resource;	  /* ike_add_child's resource (kept by rekeys), 0: none */
	const char *peer;	  /* ike_peer_cfg.name */
	struct esp_sa_params in;  /* DVIPA <- peer */
	struct esp_sa_params out; /* DVIPA -> peer */
};

struct ike_io {
	void *ctx;
	/* send a datagram (a response, a request, a retransmission) */
	void (*send)(void *ctx, const struct ike_dgram *d);
	/* a CHILD SA pair is up: install both (return 0) or refuse (-errno: the engine deletes it
	 * with the peer) */
	int (*child_up)(void *ctx, const struct ike_child_event *ev);
	/* the pair is gone (deleted by either side, replaced after a rekey, IKE SA died) */
	void (*child_down)(void *ctx, uint32_t id);
	/* optional (NULL: quiet): a line of text, never a key; level 0 error, 1 notice, 2 debug */
	void (*log)(void *ctx, int level, const char *line);
};

/* ---- the engine ---- */

struct ike_engine;

/* cfg must outlive the engine. 0 or -ENOMEM/-EINVAL. */
int ike_engine_create(const struct ike_config *cfg, const struct ike_io *io,
		      struct ike_engine **out);
/* Deletes nothing on the wire and calls no child_down; wipes every key. NULL is fine. */
void ike_engine_free(struct ike_engine *e);

/* A received IKE datagram (port 500, or 4500 without its marker). now_ms: a monotonic clock. */
void ike_input(struct ike_engine *e, const struct ike_dgram *d, uint64_t now_ms);
/* Timers: retransmissions, half-open expiry, rekeys, liveness. Returns the next deadline (ms, same
 * clock) so a caller can sleep; call it at least that often. */
uint64_t ike_tick(struct ike_engine *e, uint64_t now_ms);
/* The soft lifesize event of the cluster (router: rtr_sa.c) for a CHILD SA pair: rekey it now
 * (CREATE_CHILD_SA, or as soon as the IKE SA's request window is free). The new pair comes up
 * with rekey_of = child_id before we use it; child_id's child_down follows our Delete of it.
 * 0 (started or queued), -ENOENT (no such pair, or it is being deleted), -EBUSY (a rekey of it
 * is queued or in flight, or it was rekeyed already and waits for its Delete). */
int ike_rekey_child(struct ike_engine *e, uint32_t child_id, uint64_t now_ms);
/* One more CHILD SA pair beside child_id, with its selectors and mode: CREATE_CHILD_SA without
 * REKEY_SA (RFC 7296 1.3.1), carrying N(SA_RESOURCE_INFO) with resource (RFC 9611 per-resource
 * CHILD SAs; a peer that does not know it ignores it). The router asks for one per target so that
 * each target numbers its own outbound SA and the peer's replay window sees each in order. The
 * pair comes up with sibling_of = child_id and resource; its rekeys keep resource. Sent when the
 * IKE SA's request window is free. 0 (queued), -ENOENT (no such pair, or it is going),
 * -EINVAL (resource not in 1..IKE_MAX_RESOURCE), -EBUSY (this resource is asked for already, or
 * its exchange is in flight). */
#define IKE_MAX_RESOURCE 32
int ike_add_child(struct ike_engine *e, uint32_t child_id, uint16_t resource, uint64_t now_ms);
/* Rekey every established IKE SA with peer now (as ike_rekey_s would; an operator's command,
 * tests). Its CHILD SAs move to the new IKE SA unchanged. 0, -ENOENT (no established IKE SA with
 * peer), -EBUSY (each one is being rekeyed already). */
int ike_rekey_ike(struct ike_engine *e, uint16_t peer, uint64_t now_ms);
/* Start an IKE SA with a configured peer at remote (tests, and a router that initiates): the
 * IKE_SA_INIT goes from local port 500 to remote port 500. 0, -EINVAL (no such peer, address
 * families differ), -ENOMEM. */
int ike_initiate(struct ike_engine *e, uint16_t peer, const struct esp_addr *local,
		 const struct esp_addr *remote, uint64_t now_ms);
/* Delete a CHILD SA pair (child_id != 0: peer is ignored) or, with child_id 0, every IKE SA with
 * peer, telling the peer (INFORMATIONAL Delete). The router calls it when a pair reaches its hard
 * lifesize limit. */
int ike_delete(struct ike_engine *e, uint16_t peer, uint32_t child_id, uint64_t now_ms);

/* Counters (telemetry /dvipsec/ike): one per named event and drop reason. */
#define IKE_STATS(X)                                                                             \
	X(rx, "datagrams received")                                                              \
	X(tx, "datagrams sent (retransmissions included)")                                       \
	X(retransmits, "requests sent again, or responses repeated for a retransmitted request") \
	X(ike_sa_up, "IKE SAs established")                                                      \
	X(child_sa_up, "CHILD SA pairs established")                                             \
	X(child_rekeys, "CHILD SA pairs made by a rekey, either side's (a collision makes two)") \
	X(child_added, "CHILD SA pairs added beside another (ike_add_child, or the peer's)")     \
	X(ike_rekeys, "IKE SAs made by a rekey, either side's (a collision makes two)")          \
	X(deletes, "SAs deleted")                                                                \
	X(cookies_sent, "IKE_SA_INIT answered with a COOKIE")                                    \
	X(invalid_ke, "INVALID_KE_PAYLOAD sent")                                                 \
	X(no_proposal, "NO_PROPOSAL_CHOSEN sent")                                                \
	X(auth_failed, "AUTHENTICATION_FAILED sent or received")                                 \
	X(ts_unacceptable, "TS_UNACCEPTABLE sent")                                               \
	X(bad_message, "malformed datagrams dropped (the parser's reason is logged)")            \
	X(bad_icv, "SK payloads that failed to open")                                            \
	X(unknown_spi, "messages for no IKE SA of ours")                                         \
	X(dead_peers, "IKE SAs given up after retransmissions or a failed liveness check")       \
	X(unknown_peer, "IKE_AUTH from an identity no peer has (also counted in auth_failed)")   \
	X(bad_msg_id, "requests outside the message ID window, responses to no request of ours") \
	X(unsupported_critical, "UNSUPPORTED_CRITICAL_PAYLOAD sent")                             \
	X(half_open_expired, "half-open IKE SAs dropped after half_open_timeout_s")              \
	X(peer_errors, "error notifies received (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...)")     \
	X(create_child_refused,                                                                  \
	  "CREATE_CHILD_SA answered NO_ADDITIONAL_SAS / TEMPORARY_FAILURE / CHILD_SA_NOT_FOUND") \
	X(liveness_checks, "empty INFORMATIONAL requests sent after dpd_s of silence")           \
	X(child_sa_down, "CHILD SA pairs gone (child_down calls)")                               \
	X(rekey_collisions, "rekeys of the peer's that crossed ours of the same SA (RFC 7296 "   \
			    "2.8)")

struct ike_stats {
#define IKE_STAT_FIELD(name, desc) uint64_t name;
	IKE_STATS(IKE_STAT_FIELD)
#undef IKE_STAT_FIELD
};

const struct ike_stats *ike_engine_stats(const struct ike_engine *e);

/* A listing of IKE SAs for telemetry (no keys): count, and per SA peer, state, SPIs, CHILD ids. */
struct ike_sa_info {
	char peer[32];
	const char *state; /* "half_open", "established", "rekeying", "deleting" */
	uint64_t spi_i;
	uint64_t spi_r;
	bool initiator;
	bool nat; /* NAT detected: ESP in UDP, IKE on 4500 */
	uint32_t n_children;
	uint32_t child_ids[8];
	uint64_t established_ms;
};
uint32_t ike_engine_list(const struct ike_engine *e, struct ike_sa_info *out, uint32_t max);

#endif /* DVIPSEC_IKE_H */
