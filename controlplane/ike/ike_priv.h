/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the IKEv2 engine: the IKE SA and CHILD SA objects, the engine, and what the exchange files
 * (ike_init.c, ike_auth.c, ike_info.c, ike_child.c, ike_rekey.c; ike_create.c what the last two
 * share) call in the SA table (ike_sa.c), the message plumbing (ike_io.c), proposal choice
 * (ike_prop.c) and traffic selectors (ike_ts.c).
 *
 * A datagram's way: ike_input (ike_io.c) parses the header, finds the IKE SA, checks the message ID
 * window (a retransmitted request gets the stored response again), opens the SK payload and hands
 * the decoded inner chain to the exchange's file; that file answers through ike_send_response or
 * starts a request with ike_send_request (stored, retransmitted by ike_tick until answered).
 *
 * Names: ike.h (the engine's contract) and the codec (ike_msg.h) both define a struct ike_id, a
 * struct ike_proposal (configured vs on the wire) and IKE_MAX_PROPOSALS. Here the codec's are
 * renamed struct ike_wire_id and struct ike_wire_proposal, and IKE_MAX_PROPOSALS is ike.h's (8
 * configured proposals); the codec's cap is IKE_WIRE_MAX_PROPOSALS.
 */
#ifndef DVIPSEC_IKE_PRIV_H
#define DVIPSEC_IKE_PRIV_H

#ifdef DVIPSEC_IKE_H
#error "include ike_priv.h before ike.h"
#endif

#define ike_id	     ike_wire_id
#define ike_proposal ike_wire_proposal
#include "ike_msg.h"
#undef ike_id
#undef ike_proposal
#undef IKE_MAX_PROPOSALS
#define IKE_WIRE_MAX_PROPOSALS 16

#include "ike.h"
#include "ike_crypto.h"

#define IKE_NONCE_LEN	     32 /* ours; RFC 7296 2.10: at least half the PRF key (64 B max) */
#define IKE_RX_MAX	     65535
#define IKE_COOKIE_ROTATE_MS 60000 /* a cookie stays good for one to two periods */
#define IKE_COOKIE_LEN	     33	   /* version byte + HMAC-SHA-256 */
#define IKE_INIT_RETRIES     3	   /* COOKIE / INVALID_KE_PAYLOAD round trips an initiator makes */
#define IKE_NAT_HASH_LEN     20	   /* SHA-1 (RFC 7296 2.23) */
#define IKE_PEER_NONE	     0xffff
#define IKE_HASH_LEN	     16 /* of a request, to recognise its retransmission */

/* ---- a small intrusive hash table (key: an SPI or a mix of SPI and address) ---- */

struct ike_hlink {
	struct ike_hlink *next;
	uint64_t key;
};

struct ike_htab {
	struct ike_hlink **b;
	uint32_t mask;
	uint32_t n;
};

int ike_htab_init(struct ike_htab *t, uint32_t buckets);
void ike_htab_fini(struct ike_htab *t);
/* Adds (growing the table when it is full; a failed growth keeps the old size). */
void ike_htab_add(struct ike_htab *t, struct ike_hlink *l, uint64_t key);
void ike_htab_del(struct ike_htab *t, struct ike_hlink *l);
/* The first link with key, or the next one after l; NULL at the end. */
struct ike_hlink *ike_htab_first(const struct ike_htab *t, uint64_t key);
struct ike_hlink *ike_htab_next(const struct ike_hlink *l, uint64_t key);

#define ike_container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* ---- SAs ---- */

/* Where an IKE SA's messages go: UDP endpoints as the last authenticated message had them. */
struct ike_ep {
	struct esp_addr local;
	struct esp_addr remote;
	uint16_t local_port;
	uint16_t remote_port;
};

enum ike_sa_state {
	IKE_ST_INIT_SENT,   /* initiator: IKE_SA_INIT request out */
	IKE_ST_AUTH_SENT,   /* initiator: IKE_AUTH request out */
	IKE_ST_HALF_OPEN,   /* responder: IKE_SA_INIT answered, IKE_AUTH awaited */
	IKE_ST_ESTABLISHED, /* authenticated both ways */
	IKE_ST_DELETING,    /* our Delete of the IKE SA is out */
	IKE_ST_GONE, /* refused (AUTHENTICATION_FAILED sent): kept only to repeat that answer */
	IKE_ST_REKEY_NEW, /* the SA our IKE rekey is making: SPI reserved, no keys until answered */
	IKE_ST_REKEYED,	  /* replaced by a rekey, children moved: waits for the peer's Delete */
};

/* What our outstanding request was (window size 1: one at a time). */
enum ike_req_kind {
	IKE_REQ_NONE = 0,
	IKE_REQ_INIT,
	IKE_REQ_AUTH,
	IKE_REQ_DPD,
	IKE_REQ_DELETE_CHILD,
	IKE_REQ_DELETE_IKE,
	IKE_REQ_CREATE_CHILD, /* CREATE_CHILD_SA (rekeys): ike_child.c, sa->create says which */
};

/* A CHILD SA pair. Keys are not kept: they went to child_up; a rekey derives new ones. */
#define IKE_MAX_CHILDREN_PER_SA 64 /* pairs a peer may add beyond that: NO_ADDITIONAL_SAS */

struct ike_childsa {
	struct ike_hlink by_spi; /* key: spi_in, unique in the engine */
	struct ike_childsa *next;
	struct ike_sa_obj *sa;
	uint32_t id;
	uint32_t rekey_of;
	uint32_t spi_in; /* host order, chosen by us */
	uint32_t spi_out;
	uint16_t encr;
	uint16_t key_bits;
	bool esn;
	enum esp_mode mode;
	uint8_t n_local_ts;
	uint8_t n_remote_ts;
	struct esp_ts local_ts[ESP_MAX_TS];
	struct esp_ts remote_ts[ESP_MAX_TS];
	bool up;	      /* child_up accepted it: a child_down is owed */
	bool delete_queued;   /* ike_delete asked: goes out with the next INFORMATIONAL */
	bool deleting;	      /* in the outstanding Delete request */
	bool pending;	      /* made by our CREATE_CHILD_SA in flight: no spi_out, not up yet */
	bool want_rekey;      /* ike_rekey_child asked: rekey when the request window is free */
	bool rekeying;	      /* the old pair of our CREATE_CHILD_SA in flight */
	uint32_t replaced_by; /* a rekey (either side's) made this pair's successor */
	uint32_t sibling_of;  /* added beside this pair (ike_add_child), 0: not */
	uint16_t resource;    /* RFC 9611 resource it serves (rekeys keep it), 0: none */
	uint32_t want_res;    /* ike_add_child asked for these resources (bit r - 1) */
	uint64_t rekey_ms;    /* our child_rekey_s timer (jittered); UINT64_MAX: never */
	uint64_t established_ms;
};

/* Our CREATE_CHILD_SA in flight (one at a time: window size 1), and what a colliding exchange of
 * the peer's for the same SA made meanwhile (RFC 7296 2.8.1, 2.8.2). */
struct ike_create {
	bool ike;		   /* rekeys the IKE SA; else the CHILD SA pair old_id */
	uint32_t old_id;	   /* CHILD: the pair being replaced; 0: a pair added beside one */
	struct ike_childsa *child; /* CHILD: the new pair (pending) */
	struct ike_sa_obj *new_sa; /* IKE: the new SA (IKE_ST_REKEY_NEW) */
	struct ike_dh *dh;	   /* our KE's private half (PFS, IKE rekey) */
	uint16_t ke_group;	   /* 0: no KE (CHILD rekey without PFS) */
	uint8_t ke_tries;	   /* INVALID_KE_PAYLOAD rounds */
	uint8_t ni_len;
	uint8_t ni[IKE_NONCE_LEN];
	/* the peer's colliding exchange, answered by us: the lower of its two nonces and what it
	 * made (a pair's id; an IKE SA that holds no children until the collision is decided) */
	bool collided;
	uint32_t peer_child;
	struct ike_sa_obj *peer_sa;
	uint16_t peer_low_len;
	uint8_t peer_low[IKE_NONCE_MAX];
};

struct ike_sa_obj {
	struct ike_hlink by_spi;  /* key: our SPI */
	struct ike_hlink by_init; /* responder: the peer's SPIi mixed with its address */
	uint32_t heap_idx;
	uint64_t deadline;
	enum ike_sa_state state;
	bool initiator;
	bool indexed_init;
	bool half_open; /* counted in ike_engine.half_open */
	uint16_t peer;	/* index in cfg->peers; IKE_PEER_NONE until IKE_AUTH (responder) */
	uint64_t spi_i;
	uint64_t spi_r;
	struct ike_ep ep;
	struct esp_addr init_remote; /* responder: where IKE_SA_INIT came from (by_init's key) */
	uint16_t init_port;
	bool natt;	/* NAT_DETECTION notifies exchanged */
	bool nat_here;	/* we are behind a NAT */
	bool nat_there; /* the peer is (strongSwan's kernel-libipsec always claims so) */
	struct ike_crypto_suite suite;
	struct ike_keys *keys;
	struct ike_dh *dh;
	uint16_t ke_group;    /* initiator: group of the KE sent */
	uint8_t init_retries; /* initiator: COOKIE / INVALID_KE rounds */
	uint8_t cookie_len;
	uint8_t cookie[64];
	uint16_t ni_len;
	uint16_t nr_len;
	uint8_t ni[IKE_NONCE_MAX];
	uint8_t nr[IKE_NONCE_MAX];
	/* both IKE_SA_INIT messages as sent (the AUTH payloads sign them); freed once established
	 */
	uint8_t *msg_i;
	size_t msg_i_len;
	uint8_t *msg_r;
	size_t msg_r_len;
	/* message IDs: ours (requests we send) and the peer's (requests we answer) */
	uint32_t tx_next;
	uint32_t rx_next;
	struct {
		uint8_t *buf; /* as sent, to retransmit */
		size_t len;
		uint32_t msg_id;
		enum ike_req_kind kind;
		uint8_t tries;
		uint32_t interval_ms;
		uint64_t next_ms;
	} req; /* kind IKE_REQ_NONE: none outstanding */
	struct {
		uint8_t *buf;
		size_t len;
		bool valid;
		uint8_t hash[IKE_HASH_LEN]; /* of the request it answered */
	} resp;
	uint64_t last_rx_ms; /* last authenticated message (liveness) */
	uint64_t expire_ms;  /* half-open or gone: freed then; 0 none */
	uint64_t established_ms;
	bool want_dpd;
	bool want_delete; /* the whole IKE SA */
	/* initiator: the first CHILD SA proposed in IKE_AUTH */
	uint32_t first_spi_in;
	bool first_transport;
	uint32_t n_children;
	struct ike_childsa *children;
	/* rekeys (ike_child.c, ike_rekey.c) */
	uint64_t rekey_ms;	   /* our ike_rekey_s timer; 0: not set yet, UINT64_MAX: never */
	struct ike_create *create; /* our CREATE_CHILD_SA in flight */
	struct ike_sa_obj *rekey_parent; /* the SA whose create names this one (new_sa, peer_sa) */
};

struct ike_cookie_secrets {
	uint8_t key[2][32]; /* [ver & 1] */
	uint8_t ver;
};

struct ike_engine {
	const struct ike_config *cfg;
	struct ike_io io;
	struct ike_crypto *cx;
	struct ike_ed25519_key *ed; /* ours, if ike_config.has_ed25519 */
	struct ike_stats st;
	struct ike_htab sa_by_spi;
	struct ike_htab sa_by_init;
	struct ike_htab child_by_spi;
	struct ike_sa_obj **heap; /* every IKE SA, ordered by deadline */
	uint32_t n_sa;
	uint32_t heap_cap;
	uint32_t half_open;
	uint32_t next_child_id;
	struct ike_cookie_secrets *cookie; /* guarded */
	uint64_t cookie_rotate_ms;
	uint32_t half_open_ms;
	uint32_t rt_base_ms;
	uint8_t rt_tries;
	uint16_t test_first_ke_group; /* ike_engine_test_first_ke(): 0 off */
	/* one message at a time */
	uint8_t rx_hash[IKE_HASH_LEN];
	struct ike_msg msg;
	struct ike_payloads inner;
	struct ike_sa wsa; /* an SA payload being built */
	uint8_t rx[IKE_RX_MAX];
	uint8_t tx[IKE_MAX_DGRAM];
};

/* ---- ike_sa.c: the tables, timers, CHILD SA bookkeeping ---- */

void ike_log(struct ike_engine *e, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A new IKE SA with a fresh SPI of ours (spi_i or spi_r by role), in the tables. NULL: no memory.
 */
struct ike_sa_obj *ike_sa_new(struct ike_engine *e, bool initiator, uint64_t now);
/* child_down for every CHILD SA that is up, then gone from every table, keys wiped. */
void ike_sa_free(struct ike_engine *e, struct ike_sa_obj *sa);
struct ike_sa_obj *ike_sa_find(const struct ike_engine *e, uint64_t our_spi);
/* Responder: the IKE SA made for this peer SPIi from this address and port, or NULL. */
struct ike_sa_obj *ike_sa_find_init(const struct ike_engine *e, uint64_t spi_i,
				    const struct ike_dgram *d);
void ike_sa_index_init(struct ike_engine *e, struct ike_sa_obj *sa);
void ike_sa_set_half_open(struct ike_engine *e, struct ike_sa_obj *sa, bool on);
/* Recompute the SA's next deadline after any change to its timers. */
void ike_sa_schedule(struct ike_engine *e, struct ike_sa_obj *sa);
/* Refused in IKE_AUTH: keep it (not half-open) until the half-open timeout only to repeat the
 * answer to retransmissions. */
void ike_sa_gone(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
const struct ike_peer_cfg *ike_sa_peer(const struct ike_engine *e, const struct ike_sa_obj *sa);

/* A CHILD SA with a fresh inbound SPI (>= 256, unique), linked to sa. NULL: no memory. */
struct ike_childsa *ike_child_new(struct ike_engine *e, struct ike_sa_obj *sa);
/* Unlinks and frees; child_down first when it was up. */
void ike_child_free(struct ike_engine *e, struct ike_childsa *c);
/* A pair by id (pending ones, not yet negotiated, are not found). */
struct ike_childsa *ike_child_by_id(const struct ike_engine *e, uint32_t id);
/* The CHILD SA of sa whose outbound SPI is spi (the peer's inbound: what its Delete and REKEY_SA
 * name); never a pending one. */
struct ike_childsa *ike_child_by_spi_out(const struct ike_sa_obj *sa, uint32_t spi);
/* Moves a pair to another IKE SA (a rekeyed IKE SA's successor). */
void ike_child_move(struct ike_childsa *c, struct ike_sa_obj *to);
/* now + secs, less up to a tenth (RFC 7296 2.8.1: rekeys jittered); UINT64_MAX for secs 0. */
uint64_t ike_rekey_time(uint64_t now, uint32_t secs);
/* Hand the pair to child_up with KEYMAT split by role (RFC 7296 2.17). 0 or the callback's
 * -errno. */
int ike_child_up(struct ike_engine *e, struct ike_childsa *c, const struct ike_child_keymat *km,
		 uint64_t now);

/* ---- ike_io.c: datagrams in and out, SK payloads, message ID windows ---- */

/* Header and the opened SK payload of a message of sa (exchange, request or response, msg_id). */
void ike_msg_begin(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w,
		   uint8_t exchange, bool response, uint32_t msg_id);
/* Close, seal and send the response to the request that came in d (stored for its
 * retransmissions; the peer's window moves on). 0 or -errno (logged). */
int ike_send_response(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w,
		      const struct ike_dgram *d);
/* Close, seal and send w as our next request (w was begun with sa->tx_next): stored and
 * retransmitted until answered. kind says what the answer is for. */
int ike_send_request(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w,
		     enum ike_req_kind kind, uint64_t now);
/* Start a request slot with an already finished plain message (IKE_SA_INIT). */
int ike_send_request_plain(struct ike_engine *e, struct ike_sa_obj *sa, const uint8_t *msg,
			   size_t len, enum ike_req_kind kind, uint64_t now);
/* A datagram to the endpoints of d (an answer) or of the SA. */
void ike_send_to(struct ike_engine *e, const struct ike_dgram *to, const uint8_t *msg, size_t len);
void ike_send_ep(struct ike_engine *e, const struct ike_ep *ep, const uint8_t *msg, size_t len);
/* The outstanding request is answered (or abandoned): free its slot. */
void ike_req_done(struct ike_sa_obj *sa);
/* Seal an arbitrary inner chain (first payload type first, bytes chain) as sa would send it, into
 * out: tests and the fuzzer reach the decrypted paths with it. 0 or -errno. */
int ike_seal_raw(struct ike_engine *e, struct ike_sa_obj *sa, uint8_t exchange, bool response,
		 uint32_t msg_id, uint8_t first, const uint8_t *chain, size_t len, uint8_t *out,
		 size_t cap, size_t *out_len);

/* ---- ike_prop.c: proposals ---- */

/* The proposal both sides agreed on, as transform IDs. */
struct ike_choice {
	uint8_t num; /* proposal number */
	uint16_t encr;
	uint16_t key_bits; /* 128 / 256; ChaCha20-Poly1305: 256 */
	uint16_t prf;	   /* IKE */
	uint16_t dh;	   /* IKE */
	bool esn;	   /* ESP */
	bool pfs;	   /* ESP in CREATE_CHILD_SA: dh is a KE to do (PFS) */
	uint8_t spi_size;
	uint8_t spi[8];
};

bool ike_prop_supported(const struct ike_proposal *p, bool ike);
/* The peer's configured proposals, or the engine's defaults when it has none. */
const struct ike_proposal *ike_prop_list(const struct ike_peer_cfg *peer, bool ike, uint8_t *n);
/* The first offered proposal (initiator's order) that matches one of cfg[0, n): 0, or -ENOENT. */
int ike_prop_choose(const struct ike_sa *offer, uint8_t proto, const struct ike_proposal *cfg,
		    uint8_t n, struct ike_choice *out);
/* CREATE_CHILD_SA: an ESP proposal's DH group must match (PFS), IKE proposals need an 8-byte SPI;
 * out->pfs says a KE is to be done for ESP. */
int ike_prop_choose_rekey(const struct ike_sa *offer, uint8_t proto, const struct ike_proposal *cfg,
			  uint8_t n, struct ike_choice *out);
/* The same over every configured peer (IKE_SA_INIT: the peer is not known yet). */
int ike_prop_choose_any(const struct ike_config *cfg, const struct ike_sa *offer,
			struct ike_choice *out);
/* Is the chosen suite one this peer accepts? (the responder checks in IKE_AUTH) */
bool ike_prop_allowed(const struct ike_peer_cfg *peer, const struct ike_choice *ch);
/* Our offer: one proposal per configured one, numbered from 1; extra_dh (0: none) is offered as
 * well, ahead of the configured group (a test hook for INVALID_KE_PAYLOAD). */
void ike_prop_offer(struct ike_sa *out, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
		    const uint8_t *spi, uint8_t spi_size, uint16_t extra_dh);
/* CREATE_CHILD_SA: ESP proposals also carry their DH group (PFS), extra_dh ahead of it. */
void ike_prop_offer_rekey(struct ike_sa *out, uint8_t proto, const struct ike_proposal *cfg,
			  uint8_t n, const uint8_t *spi, uint8_t spi_size, uint16_t extra_dh);
/* The responder's answer: the chosen proposal alone, under its number (ESP with ch->pfs: its DH
 * group too). */
void ike_prop_answer(struct ike_sa *out, uint8_t proto, const struct ike_choice *ch,
		     const uint8_t *spi, uint8_t spi_size);
/* Initiator: the responder's answer must be exactly one of our proposals with one transform per
 * type from it. 0 (out filled) or -EBADMSG. */
int ike_prop_check_answer(const struct ike_sa *answer, uint8_t proto,
			  const struct ike_proposal *cfg, uint8_t n, struct ike_choice *out);
/* The same for a CREATE_CHILD_SA answer: ESP's DH group as configured (out->pfs), IKE's 8-byte
 * SPI. */
int ike_prop_check_answer_rekey(const struct ike_sa *answer, uint8_t proto,
				const struct ike_proposal *cfg, uint8_t n, struct ike_choice *out);
bool ike_prop_aead(uint16_t encr, uint16_t key_bits, enum esp_aead *out);

/* ---- ike_ts.c: traffic selectors ---- */

void ike_ts_host(const struct esp_addr *a, struct esp_ts *out);
/* false for selector types other than IPv4/IPv6 address ranges */
bool ike_ts_from_wire(const struct ike_selector *s, struct esp_ts *out);
void ike_ts_to_wire(const struct esp_ts *t, struct ike_selector *out);
void ike_ts_list_to_wire(const struct esp_ts *t, uint8_t n, struct ike_ts *out);
/* Every non-empty intersection of an offered selector with an allowed one, at most ESP_MAX_TS. */
uint8_t ike_ts_narrow(const struct ike_ts *offer, const struct esp_ts *allow, uint8_t n_allow,
		      struct esp_ts *out);
/* Is every selector of ts[0, n) inside one of set[0, n_set)? (and n > 0) */
bool ike_ts_within(const struct ike_ts *ts, const struct esp_ts *set, uint8_t n_set,
		   struct esp_ts *out, uint8_t *n_out);
/* The peer's configured local / remote selectors, or the IKE endpoint as a host selector. */
uint8_t ike_ts_cfg(const struct ike_sa_obj *sa, const struct ike_peer_cfg *peer, bool local,
		   struct esp_ts *out);
/* What a CHILD SA the peer asks for (its TSi offer: tsi) may cover, local and remote: the
 * configured selectors (ike_ts_cfg), and behind a NAT also the one address the peer offers for
 * itself. allow_r holds ESP_MAX_TS, at least 2. */
void ike_ts_allowed(const struct ike_sa_obj *sa, const struct ike_peer_cfg *peer,
		    const struct ike_ts *tsi, struct esp_ts *allow_l, uint8_t *n_l,
		    struct esp_ts *allow_r, uint8_t *n_r);
/* "10.0.0.0-10.0.255.255 proto 6 ports 80-80" */
int ike_ts_format(const struct esp_ts *t, char *buf, size_t len);
int ike_addr_format(const struct esp_addr *a, char *buf, size_t len);

/* ---- the exchanges ---- */

/* ike_init.c */
int ike_init_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
void ike_init_request(struct ike_engine *e, const struct ike_dgram *d, uint64_t now);
void ike_init_response(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		       uint64_t now);
/* IKE_SA_INIT request whose chain has an unknown critical payload: answered statelessly. */
void ike_init_refuse_critical(struct ike_engine *e, const struct ike_dgram *d);
void ike_cookie_rotate(struct ike_engine *e, uint64_t now);

/* ike_auth.c */
int ike_auth_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
void ike_auth_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		      uint64_t now);
void ike_auth_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);

/* ike_info.c */
void ike_info_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		      uint64_t now);
void ike_info_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
/* Start what is queued (a Delete, a liveness check) if no request is outstanding. */
void ike_info_kick(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
/* A refusal inside an IKE SA: SK{N(type, data)} as the response to d. */
void ike_info_refuse(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		     uint16_t type, const uint8_t *data, size_t len);

/* ike_child.c: CHILD SA pairs by CREATE_CHILD_SA */
void ike_child_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		       uint64_t now);
void ike_child_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
/* Start a rekey that is due (an IKE rekey first, then a pair's) if the window is free. true: a
 * request went out. */
bool ike_child_kick(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
/* The earliest rekey timer of sa and its pairs (UINT64_MAX: none). */
uint64_t ike_child_next_rekey(struct ike_sa_obj *sa, const struct ike_peer_cfg *peer);
/* Drop sa's CREATE_CHILD_SA state (done, failed, or sa is going): its pending pair and pending
 * IKE SA with it. */
void ike_create_free(struct ike_engine *e, struct ike_sa_obj *sa);
/* ike_create.c, what ike_child.c and ike_rekey.c share: a new exchange's state (our nonce, a KE of
 * group, 0: none), the KE payload to send, a retry after INVALID_KE_PAYLOAD (true: go again with
 * cr->ke_group) */
struct ike_create *ike_create_new(struct ike_engine *e, uint16_t group);
void ike_create_ke(const struct ike_create *cr, uint8_t fake[IKE_X25519_LEN], struct ike_ke *ke);
bool ike_create_retry_ke(struct ike_create *cr, const struct ike_notify *n);
/* 2.8.1: a < b octet by octet, a nonce that ends first being the lower */
bool ike_nonce_lower(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
/* the peer's colliding exchange (its Ni, our Nr) is noted; did ours (our Ni, its Nr) lose? */
void ike_create_note_peer(struct ike_create *cr, const uint8_t *ni, size_t ni_len,
			  const uint8_t *nr, size_t nr_len);
bool ike_create_lost(const struct ike_create *cr, const uint8_t *nr, size_t nr_len);
/* Answer a CREATE_CHILD_SA request with an error notify (counted, logged). */
void ike_child_refuse(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		      uint16_t type, const uint8_t *data, size_t len);
/* The first error notify of an answer (counted in peer_errors, logged), or NULL. */
const struct ike_notify *ike_child_error(struct ike_engine *e, const struct ike_sa_obj *sa);
/* A pair the peer asks for (IKE_AUTH, CREATE_CHILD_SA): its offer (TSi, TSr) narrowed to what
 * allow_l / allow_r permit, the chosen proposal ch, transport mode when asked for and allowed.
 * 0, or -EACCES when a side narrows to nothing (TS_UNACCEPTABLE). */
int ike_child_take(struct ike_childsa *c, const struct ike_payloads *p,
		   const struct ike_peer_cfg *peer, const struct ike_choice *ch,
		   const struct esp_ts *allow_l, uint8_t n_l, const struct esp_ts *allow_r,
		   uint8_t n_r);

/* ike_rekey.c: the IKE SA rekey */
void ike_rekey_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		       uint64_t now);
int ike_rekey_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
void ike_rekey_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);
/* The peer deleted IKE SA sa: if our rekey of it collided with the peer's, the peer won (2.8.2)
 * and the SA its exchange made takes the children. */
void ike_child_ike_deleted(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now);

/* ---- test hooks (tests/unit, tests/fuzz) ---- */

/* The initiator's first KE is of this group (random bytes) and its proposals offer the group
 * ahead of 31: a responder that wants 31 answers INVALID_KE_PAYLOAD. Applies to IKE_SA_INIT and
 * to each CREATE_CHILD_SA with a KE (IKE rekey, PFS). 0: off. */
void ike_engine_test_first_ke(struct ike_engine *e, uint16_t group);

/* Big-endian fields (SPIs, counters) of the wire and of our own records. */
static inline uint32_t
ike_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
ike_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t
ike_rd64(const uint8_t *p)
{
	return (uint64_t)ike_rd32(p) << 32 | ike_rd32(p + 4);
}

static inline void
ike_put64(uint8_t *p, uint64_t v)
{
	ike_put32(p, (uint32_t)(v >> 32));
	ike_put32(p + 4, (uint32_t)v);
}

#endif /* DVIPSEC_IKE_PRIV_H */
