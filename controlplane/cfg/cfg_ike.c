/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's "ike" object: our identity and Ed25519 key, the engine's COOKIE and retransmission
 * settings, and the peers we accept (identity, PSK or Ed25519 public key, IKE and ESP proposals in
 * strongSwan's syntax, traffic selectors, rekeying, liveness), parsed into the struct ike_config
 * that the IKE engine (controlplane/ike) runs on. PSKs and our seed are decoded straight into the
 * file's key block like static SA keymat; a peer's CHILD SAs inherit the file's replay window and
 * lifetime as static SAs do, and take selectors in the same form (cfg_parse_ts, cfg_sa.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cfg_priv.h"

/* IANA auth methods (ike_msg.h has them, but it cannot be included beside ike.h: see
 * cfg_ike_syntax.c). */
#define AUTH_PSK	 2
#define AUTH_DIGITAL_SIG 14

/* strongSwan's values where it has one (rekey times, retransmission tries, half-open timeout). */
#define DEFAULT_COOKIE_THRESHOLD    64
#define DEFAULT_HALF_OPEN_TIMEOUT_S 30
#define DEFAULT_RETRANSMIT_BASE_MS  500
#define DEFAULT_RETRANSMIT_TRIES    5
#define DEFAULT_IKE_REKEY_S	    14400
#define DEFAULT_CHILD_REKEY_S	    3600
#define DEFAULT_DPD_S		    30
#define MAX_REKEY_S		    (365 * 86400)
#define PSK_MIN			    8 /* bytes: strongSwan takes shorter ones, we do not */
#define ED25519_LEN		    32

static const struct cfg_name auth_names[] = {
	{ "psk", AUTH_PSK },
	{ "ed25519", AUTH_DIGITAL_SIG },
	{ NULL, 0 },
};

/* The "ike" object being parsed, and what its peers inherit. */
struct ike_state {
	struct ike_config *ike;
	const struct cfg_sa_defaults *defs;
	struct cfg_secrets *secrets;
};

/* One element of "peers", and the elements before it (for uniqueness). */
struct peer_state {
	struct ike_state *top;
	struct ike_peer_cfg *peer;
	size_t index;
	const char *list_path; /* "ike.peers" */
};

/* --- a peer ---------------------------------------------------------------------------- */

static int
fail_duplicate(struct cfg_ctx *ctx, const char *path, const json_t *v, const char *what,
	       const struct peer_state *st, size_t other, const char *key)
{
	char got[64];

	return cfg_fail(ctx, path, "expected a %s not used before, got %s (also %s[%zu].%s)", what,
			cfg_describe(v, got, sizeof(got)), st->list_path, other, key);
}

static int
parse_peer_name(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	size_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_name(ctx, path, v, st->peer->name, sizeof(st->peer->name));
	for (i = 0; rc == 0 && i < st->index; i++)
		if (strcmp(st->top->ike->peers[i].name, st->peer->name) == 0)
			return fail_duplicate(ctx, path, v, "peer name", st, i, "name");
	return rc;
}

/* The engine finds a peer by the identity it claims, so no two peers may claim the same one. */
static int
parse_peer_id(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	size_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_ike_id(ctx, path, v, &st->peer->id);
	for (i = 0; rc == 0 && i < st->index; i++)
		if (cfg_ike_id_equal(&st->top->ike->peers[i].id, &st->peer->id))
			return fail_duplicate(ctx, path, v, "peer id", st, i, "id");
	return rc;
}

static int
parse_peer_auth(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	int auth = AUTH_PSK, rc = 0;
	char got[64];

	if (v != NULL)
		rc = cfg_parse_enum(ctx, path, v, auth_names, &auth);
	if (rc < 0)
		return rc;
	if (auth == AUTH_DIGITAL_SIG && !st->top->ike->has_ed25519)
		return cfg_fail(ctx, path, "expected \"psk\" as ike has no ed25519_key, got %s",
				cfg_describe(v, got, sizeof(got)));
	st->peer->auth = (uint8_t)auth;
	return 0;
}

/* A key that the peer's auth does not use is a mistake, not something to ignore. */
static int
check_auth_key(struct cfg_ctx *ctx, const char *path, const json_t *v, const char *key, bool needed,
	       uint8_t auth)
{
	const char *auth_name = auth == AUTH_PSK ? "psk" : "ed25519";

	if (needed && v == NULL)
		return cfg_fail(ctx, path, "required key is missing (\"auth\" is \"%s\")",
				auth_name);
	if (!needed && v != NULL)
		return cfg_fail(ctx, path, "expected no %s with \"auth\": \"%s\", got %s", key,
				auth_name, cfg_type_name(v));
	return 0;
}

/* Hex of any even length within bounds, decoded into the key block. Never quoted back. */
static int
parse_peer_psk(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	const char *hex = json_string_value(v);
	size_t hex_len = json_string_length(v), bin_len = 0, good;
	uint8_t *psk;
	char got[64];
	int rc;

	rc = check_auth_key(ctx, path, v, "psk", st->peer->auth == AUTH_PSK, st->peer->auth);
	if (rc < 0 || v == NULL)
		return rc;
	if (hex == NULL) {
		snprintf(got, sizeof(got), "%s", cfg_type_name(v));
	} else if (hex_len < 2 * PSK_MIN || hex_len > 2 * IKE_PSK_MAX || hex_len % 2 != 0) {
		snprintf(got, sizeof(got), "%zu characters", hex_len);
	} else if ((good = strspn(hex, "0123456789abcdefABCDEF")) != hex_len) {
		snprintf(got, sizeof(got), "a non-hex character at position %zu", good);
	} else {
		psk = cfg_secrets_take(st->top->secrets, hex_len / 2);
		if (psk == NULL)
			return cfg_fail_nomem(ctx, path);
		if (sodium_hex2bin(psk, hex_len / 2, hex, hex_len, NULL, &bin_len, NULL) == 0 &&
		    bin_len == hex_len / 2) {
			/* Wipe the parse tree's copy now rather than leave it in freed heap. */
			sodium_memzero((char *)(uintptr_t)hex, hex_len);
			st->peer->psk = psk;
			st->peer->psk_len = bin_len;
			return 0;
		}
		sodium_memzero(psk, hex_len / 2);
		snprintf(got, sizeof(got), "a string that does not decode");
	}
	return cfg_fail(ctx, path,
			"expected an even number of hex digits, %u..%u (a PSK of %u..%u bytes), "
			"got %s",
			2 * PSK_MIN, 2 * IKE_PSK_MAX, PSK_MIN, IKE_PSK_MAX, got);
}

/* A raw public key (RFC 7670); one of small order or off the prime-order subgroup would let
 * anyone sign. */
static int
parse_peer_public_key(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	int rc;

	rc = check_auth_key(ctx, path, v, "public_key", st->peer->auth == AUTH_DIGITAL_SIG,
			    st->peer->auth);
	if (rc < 0 || v == NULL)
		return rc;
	rc = cfg_parse_hex_key(ctx, path, v, st->peer->ed25519_pk, ED25519_LEN,
			       "an Ed25519 public key");
	if (rc == 0 && crypto_core_ed25519_is_valid_point(st->peer->ed25519_pk) != 1)
		return cfg_fail(ctx, path,
				"expected an Ed25519 public key, got 32 bytes that are not a point "
				"of the curve's prime-order subgroup");
	return rc;
}

static int
parse_peer_ike_proposals(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_peer_cfg *peer = ((struct peer_state *)obj)->peer;

	return cfg_parse_ike_proposals(ctx, path, v, false, peer->ike, &peer->n_ike);
}

static int
parse_peer_esp_proposals(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_peer_cfg *peer = ((struct peer_state *)obj)->peer;

	return cfg_parse_ike_proposals(ctx, path, v, true, peer->esp, &peer->n_esp);
}

/* An empty list would leave it to the engine to guess between "nothing" and "anything". */
static int
parse_ts_list(struct cfg_ctx *ctx, const char *path, const json_t *v, struct esp_ts *out,
	      uint8_t *n)
{
	char sub[CFG_PATH_MAX];
	size_t i;
	int rc;

	rc = cfg_expect_array(ctx, path, v, 1, ESP_MAX_TS, "selectors");
	for (i = 0; rc == 0 && i < json_array_size(v); i++)
		rc = cfg_parse_ts(ctx, cfg_path_index(sub, path, i), json_array_get(v, i), &out[i]);
	if (rc == 0)
		*n = (uint8_t)i;
	return rc;
}

static void
ts_of_host(const struct esp_addr *addr, struct esp_ts *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->start = *addr;
	ts->end = *addr;
	ts->port_hi = UINT16_MAX;
}

/* Default: each DVIPA as a host selector, as many as fit. */
static int
parse_peer_local_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	const struct cfg_sa_defaults *defs = st->top->defs;
	uint8_t i;

	if (v != NULL)
		return parse_ts_list(ctx, path, v, st->peer->local_ts, &st->peer->n_local_ts);
	if (defs->n_dvipa > ESP_MAX_TS)
		return cfg_fail(ctx, path,
				"required key is missing (the default, one selector per dvipa "
				"address, would be %u selectors of at most %u)",
				defs->n_dvipa, ESP_MAX_TS);
	for (i = 0; i < defs->n_dvipa; i++)
		ts_of_host(&defs->dvipa[i], &st->peer->local_ts[i]);
	st->peer->n_local_ts = defs->n_dvipa;
	return 0;
}

/* Default: any address of either family (0.0.0.0/0 and ::/0). */
static int
parse_peer_remote_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	struct esp_ts *ts = st->peer->remote_ts;

	if (v != NULL)
		return parse_ts_list(ctx, path, v, ts, &st->peer->n_remote_ts);
	memset(ts, 0, 2 * sizeof(*ts));
	ts[0].start.family = 4;
	ts[0].end.family = 4;
	ts[0].end.v4 = UINT32_MAX;
	ts[1].start.family = 6;
	ts[1].end.family = 6;
	memset(ts[1].end.v6, 0xff, sizeof(ts[1].end.v6));
	ts[0].port_hi = ts[1].port_hi = UINT16_MAX;
	st->peer->n_remote_ts = 2;
	return 0;
}

static int
parse_peer_transport(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	st->peer->allow_transport = false;
	return v != NULL ? cfg_parse_bool(ctx, path, v, &st->peer->allow_transport) : 0;
}

/* An optional integer 0..max. */
static int
parse_u32(struct cfg_ctx *ctx, const char *path, const json_t *v, uint32_t def, int64_t max,
	  uint32_t *out)
{
	int64_t val = def;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 0, max, &val);
	*out = (uint32_t)val;
	return rc;
}

static int
parse_peer_ike_rekey(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	return parse_u32(ctx, path, v, DEFAULT_IKE_REKEY_S, MAX_REKEY_S, &st->peer->ike_rekey_s);
}

static int
parse_peer_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	return cfg_parse_lifetime(ctx, path, v, &st->top->defs->lifetime,
				  &st->peer->child_lifetime);
}

/* After "lifetime": a CHILD SA that reaches its hard limit first is deleted, not rekeyed. */
static int
parse_peer_child_rekey(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;
	uint32_t hard = st->peer->child_lifetime.hard_seconds;
	int rc;

	rc = parse_u32(ctx, path, v, DEFAULT_CHILD_REKEY_S, MAX_REKEY_S, &st->peer->child_rekey_s);
	if (rc == 0 && hard != 0 && st->peer->child_rekey_s >= hard)
		return cfg_fail(ctx, path,
				"expected less than the CHILD SA lifetime's hard_seconds (%" PRIu32
				"), got %" PRIu32 "%s",
				hard, st->peer->child_rekey_s, v == NULL ? " (the default)" : "");
	return rc;
}

static int
parse_peer_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	st->peer->replay_window = st->top->defs->replay_window;
	return v != NULL ? cfg_parse_replay_window(ctx, path, v, &st->peer->replay_window) : 0;
}

static int
parse_peer_sa_per_target(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	st->peer->sa_per_target = true;
	return v != NULL ? cfg_parse_bool(ctx, path, v, &st->peer->sa_per_target) : 0;
}

static int
parse_peer_dpd(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct peer_state *st = obj;

	return parse_u32(ctx, path, v, DEFAULT_DPD_S, 86400, &st->peer->dpd_s);
}

/* Order matters: each parser may rely on the fields above it. */
static const struct cfg_field peer_fields[] = {
	{ "name", parse_peer_name },
	{ "id", parse_peer_id },
	{ "auth", parse_peer_auth },
	{ "psk", parse_peer_psk },
	{ "public_key", parse_peer_public_key },
	{ "ike_proposals", parse_peer_ike_proposals },
	{ "esp_proposals", parse_peer_esp_proposals },
	{ "local_ts", parse_peer_local_ts },
	{ "remote_ts", parse_peer_remote_ts },
	{ "transport", parse_peer_transport },
	{ "ike_rekey_s", parse_peer_ike_rekey },
	{ "lifetime", parse_peer_lifetime },
	{ "child_rekey_s", parse_peer_child_rekey },
	{ "replay_window", parse_peer_replay_window },
	{ "dpd_s", parse_peer_dpd },
	{ "sa_per_target", parse_peer_sa_per_target },
	{ NULL, NULL },
};

/* --- the "ike" object ------------------------------------------------------------------ */

/* Default: the first DVIPA, as an address ID. */
static int
parse_ike_id(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;

	if (v != NULL)
		return cfg_parse_ike_id(ctx, path, v, &st->ike->local_id);
	cfg_ike_id_from_addr(&st->defs->dvipa[0], &st->ike->local_id);
	return 0;
}

/* The 32-byte seed (RFC 8032's private key), as strongSwan and libsodium take it. */
static int
parse_ike_ed25519_key(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;
	uint8_t *seed;
	int rc;

	if (v == NULL)
		return 0;
	seed = cfg_secrets_take(st->secrets, ED25519_LEN);
	if (seed == NULL)
		return cfg_fail_nomem(ctx, path);
	rc = cfg_parse_hex_key(ctx, path, v, seed, ED25519_LEN, "our Ed25519 key (its seed)");
	if (rc < 0)
		return rc;
	st->ike->ed25519_seed = seed;
	st->ike->has_ed25519 = true;
	return 0;
}

static int
parse_ike_cookie_threshold(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;

	return parse_u32(ctx, path, v, DEFAULT_COOKIE_THRESHOLD, 1000000,
			 &st->ike->cookie_threshold);
}

static int
parse_ike_half_open_timeout(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;
	int64_t val = DEFAULT_HALF_OPEN_TIMEOUT_S;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 1, 3600, &val);
	st->ike->half_open_timeout_s = (uint32_t)val;
	return rc;
}

static int
parse_ike_retransmit_base(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;
	int64_t val = DEFAULT_RETRANSMIT_BASE_MS;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 50, 60000, &val);
	st->ike->retransmit_base_ms = (uint32_t)val;
	return rc;
}

/* The base doubles each time: 16 tries of a minute's base would already wait 45 days. */
static int
parse_ike_retransmit_tries(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *st = obj;
	int64_t val = DEFAULT_RETRANSMIT_TRIES;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 1, 16, &val); /* the engine reads 0 as 5 */
	st->ike->retransmit_tries = (uint8_t)val;
	return rc;
}

/* After "ed25519_key", which Ed25519 peers need. */
static int
parse_ike_peers(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct ike_state *top = obj;
	struct peer_state st = { .top = top, .list_path = path };
	char sub[CFG_PATH_MAX];
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_expect_array(ctx, path, v, 1, IKE_MAX_PEERS, "peers");
	for (st.index = 0; rc == 0 && st.index < json_array_size(v); st.index++) {
		st.peer = &top->ike->peers[st.index];
		rc = cfg_parse_fields(ctx, cfg_path_index(sub, path, st.index),
				      json_array_get(v, st.index), peer_fields, &st);
	}
	if (rc == 0)
		top->ike->n_peers = (uint16_t)st.index;
	return rc;
}

static const struct cfg_field ike_fields[] = {
	{ "id", parse_ike_id },
	{ "ed25519_key", parse_ike_ed25519_key },
	{ "cookie_threshold", parse_ike_cookie_threshold },
	{ "half_open_timeout_s", parse_ike_half_open_timeout },
	{ "retransmit_base_ms", parse_ike_retransmit_base },
	{ "retransmit_tries", parse_ike_retransmit_tries },
	{ "peers", parse_ike_peers },
	{ NULL, NULL },
};

int
cfg_parse_ike(struct cfg_ctx *ctx, const char *path, const json_t *v,
	      const struct cfg_sa_defaults *defs, struct cfg_secrets *secrets,
	      struct ike_config **out)
{
	struct ike_state st = { .defs = defs, .secrets = secrets };
	int rc;

	*out = NULL;
	if (v == NULL)
		return 0;
	st.ike = calloc(1, sizeof(*st.ike));
	if (st.ike == NULL)
		return cfg_fail_nomem(ctx, path);
	rc = cfg_parse_fields(ctx, path, v, ike_fields, &st);
	if (rc < 0) {
		free(st.ike); /* the keys stay in secrets, wiped with it */
		return rc;
	}
	*out = st.ike;
	return 0;
}

size_t
cfg_ike_secrets_len(const json_t *root)
{
	const json_t *ike = json_object_get(root, "ike");
	const json_t *peers = json_object_get(ike, "peers");
	size_t n = json_is_array(peers) ? json_array_size(peers) : 0;

	if (!json_is_object(ike))
		return 0;
	if (n > IKE_MAX_PEERS)
		n = IKE_MAX_PEERS; /* the parse will refuse the file */
	return ED25519_LEN + n * IKE_PSK_MAX;
}
