/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the config loader: the error context, JSON path helpers, and the field parsers that the
 * router and target files share (addresses, links, control endpoints, lifetimes, keys, SAs), and
 * the router's "ike" object.
 *
 * Every parser takes the JSON path of the value it reads and, on a bad value, writes one message
 * "<path>: expected ..., got ..." through cfg_fail() and returns -EINVAL. The first error ends the
 * parse; the caller frees whatever it built.
 */
#ifndef DVIPSEC_CFG_PRIV_H
#define DVIPSEC_CFG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"

#define CFG_PATH_MAX 160

#define cfg_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct cfg_ctx {
	char *err;
	size_t errlen;
};

/* One sodium_malloc'd block per file for the control key, every SA's keymat and the IKE keys. */
struct cfg_secrets {
	uint8_t *mem;
	size_t len;
	size_t used;
};

/* What a static SA, or an IKE peer's CHILD SA, inherits from its file. */
struct cfg_sa_defaults {
	uint32_t replay_window;
	struct esp_lifetime lifetime;
	const struct esp_addr *dvipa;
	uint8_t n_dvipa;
};

struct cfg_name {
	const char *name;
	int value;
};

/*
 * One key of a JSON object and the function that parses it. v is NULL when the key is absent: the
 * function then fills in the default or reports the key as missing. obj is the parser's state.
 * A NULL parse only declares the key (the caller reads it itself).
 */
struct cfg_field {
	const char *key;
	int (*parse)(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
};

/* Errors (cfg_json.c, like everything down to the scalars). */
void cfg_ctx_init(struct cfg_ctx *ctx, char *err, size_t errlen);
int cfg_fail(struct cfg_ctx *ctx, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cfg_fail_nomem(struct cfg_ctx *ctx, const char *path);
int cfg_missing(struct cfg_ctx *ctx, const char *path);
const char *cfg_describe(const json_t *v, char *buf, size_t len);
const char *cfg_type_name(const json_t *v);

/* Paths: "parent.key" and "parent[i]"; the empty path is the top-level object. */
const char *cfg_path_key(char *buf, const char *parent, const char *key);
const char *cfg_path_index(char *buf, const char *parent, size_t i);

/* Load path, or text when path is NULL. Syntax errors become "line L, column C: <jansson text>". */
int cfg_json_load(struct cfg_ctx *ctx, const char *path, const char *text, json_t **root);

/*
 * Structure. cfg_parse_fields() checks that v is an object whose keys are all in fields (a key
 * that is not is an error naming it, which catches typos), then runs each field's parser in table
 * order, so a field may rely on the ones listed before it.
 */
int cfg_parse_fields(struct cfg_ctx *ctx, const char *path, const json_t *v,
		     const struct cfg_field *fields, void *obj);
int cfg_expect_array(struct cfg_ctx *ctx, const char *path, const json_t *v, size_t min, size_t max,
		     const char *what);

/* Scalars. */
int cfg_parse_int(struct cfg_ctx *ctx, const char *path, const json_t *v, int64_t lo, int64_t hi,
		  int64_t *out);
int cfg_parse_bool(struct cfg_ctx *ctx, const char *path, const json_t *v, bool *out);
int cfg_parse_enum(struct cfg_ctx *ctx, const char *path, const json_t *v,
		   const struct cfg_name *names, int *out);
int cfg_parse_string(struct cfg_ctx *ctx, const char *path, const json_t *v, char *out,
		     size_t size);
int cfg_parse_name(struct cfg_ctx *ctx, const char *path, const json_t *v, char *out, size_t size);
bool cfg_is_printable(const char *s);

/* Fields both roles have (cfg_common.c). */
int cfg_parse_addr(struct cfg_ctx *ctx, const char *path, const json_t *v, struct esp_addr *out);
int cfg_parse_link(struct cfg_ctx *ctx, const char *path, const json_t *v, struct cfg_link *out);
int cfg_parse_control(struct cfg_ctx *ctx, const char *path, const json_t *v,
		      struct cfg_control *out);
int cfg_parse_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, uint32_t *out);
int cfg_parse_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v,
		       const struct esp_lifetime *base, struct esp_lifetime *out);
int cfg_parse_hex_key(struct cfg_ctx *ctx, const char *path, const json_t *v, uint8_t *out,
		      size_t len, const char *what);

/*
 * The fields both roles have, as pointers into the role's struct, plus the block that holds the
 * keys. It is the first member of each role's parse state, so the cfg_field_* parsers below take
 * that state as obj and the router and target field tables list them directly.
 */
struct cfg_shared {
	struct cfg_eal *eal;
	struct esp_addr *dvipa;
	uint8_t *n_dvipa;
	uint16_t *workers;
	uint8_t *n_workers;
	size_t min_workers;
	uint32_t *replay_window;
	struct esp_lifetime *lifetime;
	const uint8_t **control_key;
	struct esp_sa_params **static_sas;
	uint32_t *n_static_sas;
	struct cfg_secrets secrets;
};

/* The shared fields of a cfg_router or a cfg_target: both name them alike. */
#define CFG_SHARED_OF(c, min)                         \
	((struct cfg_shared){                         \
		.eal = &(c)->eal,                     \
		.dvipa = (c)->dvipa,                  \
		.n_dvipa = &(c)->n_dvipa,             \
		.workers = (c)->workers,              \
		.n_workers = &(c)->n_workers,         \
		.min_workers = (min),                 \
		.replay_window = &(c)->replay_window, \
		.lifetime = &(c)->lifetime,           \
		.control_key = &(c)->control_key,     \
		.static_sas = &(c)->static_sas,       \
		.n_static_sas = &(c)->n_static_sas,   \
	})

#define CFG_DEFAULT_REPLAY_WINDOW 1024

/* Size the key block for root's static_sas and ike. Return 0, -ENOMEM or -EIO (libsodium). */
int cfg_shared_init(struct cfg_ctx *ctx, struct cfg_shared *sh, const json_t *root);
/* Free what the shared fields own, wiping the keys. */
void cfg_shared_release(struct cfg_shared *sh);
/*
 * The whole load for either role: read path (or text when path is NULL), size the key block, run
 * fields over the top-level object with sh (the first member of the role's state) as obj.
 */
int cfg_load_fields(struct cfg_ctx *ctx, const char *path, const char *text,
		    const struct cfg_field *fields, struct cfg_shared *sh);

int cfg_field_eal(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
int cfg_field_dvipa(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
int cfg_field_workers(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
int cfg_field_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
int cfg_field_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
int cfg_field_control_key(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);
/* After dvipa, replay_window and lifetime, which give an SA its defaults. */
int cfg_field_static_sas(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj);

/* The key block (one sodium_malloc per file). */
uint8_t *cfg_secrets_take(struct cfg_secrets *s, size_t len);

/* Static SAs (cfg_sa.c). On failure *out is NULL; keymat stays in secrets until its release. */
int cfg_parse_static_sas(struct cfg_ctx *ctx, const char *path, const json_t *v,
			 const struct cfg_sa_defaults *defs, struct cfg_secrets *secrets,
			 struct esp_sa_params **out, uint32_t *n);
int cfg_addr_from_string(const char *s, struct esp_addr *out);
bool cfg_addr_equal(const struct esp_addr *a, const struct esp_addr *b);
/* One traffic selector: a CIDR string or {"cidr", "proto", "ports"}; out is zeroed first. */
int cfg_parse_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, struct esp_ts *out);

/*
 * The router's "ike" object (cfg_ike.c), with the file's defaults for the peers' CHILD SAs. *out
 * is NULL when v is NULL and on failure; PSKs and our Ed25519 seed are decoded into secrets.
 */
int cfg_parse_ike(struct cfg_ctx *ctx, const char *path, const json_t *v,
		  const struct cfg_sa_defaults *defs, struct cfg_secrets *secrets,
		  struct ike_config **out);
/* Bytes of the key block that root's "ike" object may need: the seed and a longest PSK per peer. */
size_t cfg_ike_secrets_len(const json_t *root);
/* Proposals in strongSwan's syntax (cfg_ike_syntax.c): IKE ("aes128gcm16-prfsha256-x25519") or,
 * esp true, ESP ("aes256gcm16-x25519-esn"). Absent: each AEAD once (IKE with X25519). */
int cfg_parse_ike_proposals(struct cfg_ctx *ctx, const char *path, const json_t *v, bool esp,
			    struct ike_proposal *out, uint8_t *n);
/* An identity: an address literal, "user@domain", or an FQDN ("@" in front forces one). */
int cfg_parse_ike_id(struct cfg_ctx *ctx, const char *path, const json_t *v, struct ike_id *id);
void cfg_ike_id_from_addr(const struct esp_addr *addr, struct ike_id *id);
/* The same identity: names and e-mail addresses without regard to case. */
bool cfg_ike_id_equal(const struct ike_id *a, const struct ike_id *b);

#endif /* DVIPSEC_CFG_PRIV_H */
