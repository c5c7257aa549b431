/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fields that the router and target files both have: eal, dvipa, workers, links, control
 * endpoints, replay window, lifetime, hex keys, and the sodium_malloc'd block that holds the keys
 * (sized here for the router's "ike" keys too).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "cfg_priv.h"

static void
release_eal(struct cfg_eal *eal)
{
	int i;

	if (eal->argv == NULL)
		return;
	for (i = 0; i < eal->argc; i++)
		free(eal->argv[i]);
	free(eal->argv);
	eal->argv = NULL;
	eal->argc = 0;
}

/* Optional: absent is an empty list (argv still allocated, NULL-terminated). */
int
cfg_field_eal(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_eal *out = ((struct cfg_shared *)obj)->eal;
	char sub[CFG_PATH_MAX], got[64];
	size_t i, n = 0;
	int rc;

	if (v != NULL) {
		rc = cfg_expect_array(ctx, path, v, 0, CFG_MAX_EAL_ARGS, "strings");
		if (rc < 0)
			return rc;
		n = json_array_size(v);
	}
	out->argv = calloc(n + 1, sizeof(*out->argv));
	if (out->argv == NULL)
		return cfg_fail_nomem(ctx, path);
	for (i = 0; i < n; i++) {
		const json_t *arg = json_array_get(v, i);

		if (!json_is_string(arg) || json_string_length(arg) == 0 ||
		    !cfg_is_printable(json_string_value(arg)))
			return cfg_fail(ctx, cfg_path_index(sub, path, i),
					"expected a non-empty string, got %s",
					cfg_describe(arg, got, sizeof(got)));
		out->argv[i] = strdup(json_string_value(arg));
		if (out->argv[i] == NULL)
			return cfg_fail_nomem(ctx, path);
		out->argc = (int)i + 1;
	}
	return 0;
}

int
cfg_eal_argv(const struct cfg_eal *eal, const char *prog, int *argc, char ***argv)
{
	char **copy;
	int i;

	copy = calloc((size_t)eal->argc + 2, sizeof(*copy));
	if (copy == NULL)
		return -ENOMEM;
	copy[0] = (char *)prog; /* rte_eal_init() takes char **, but only reorders */
	for (i = 0; i < eal->argc; i++)
		copy[i + 1] = eal->argv[i];
	*argc = eal->argc + 1;
	*argv = copy;
	return 0;
}

int
cfg_addr_from_string(const char *s, struct esp_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->v6) == 1) {
		out->family = 6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

bool
cfg_addr_equal(const struct esp_addr *a, const struct esp_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4 == b->v4 : memcmp(a->v6, b->v6, sizeof(a->v6)) == 0;
}

int
cfg_parse_addr(struct cfg_ctx *ctx, const char *path, const json_t *v, struct esp_addr *out)
{
	char got[64];

	if (!json_is_string(v) || cfg_addr_from_string(json_string_value(v), out) < 0)
		return cfg_fail(ctx, path, "expected IPv4 or IPv6 address, got %s",
				cfg_describe(v, got, sizeof(got)));
	return 0;
}

int
cfg_field_dvipa(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_shared *sh = obj;
	struct esp_addr *out = sh->dvipa;
	char sub[CFG_PATH_MAX], got[64];
	size_t i, j;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_expect_array(ctx, path, v, 1, CFG_MAX_DVIPA, "addresses");
	if (rc < 0)
		return rc;
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *addr = json_array_get(v, i);

		cfg_path_index(sub, path, i);
		rc = cfg_parse_addr(ctx, sub, addr, &out[i]);
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++)
			if (cfg_addr_equal(&out[i], &out[j]))
				return cfg_fail(ctx, sub,
						"expected an address not listed before, got %s "
						"(also %s[%zu])",
						cfg_describe(addr, got, sizeof(got)), path, j);
	}
	*sh->n_dvipa = (uint8_t)i;
	return 0;
}

/* Required for the router (min_workers 1); the target may run on its main lcore alone. */
int
cfg_field_workers(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_shared *sh = obj;
	uint16_t *out = sh->workers;
	char sub[CFG_PATH_MAX];
	size_t i, j;
	int64_t lcore;
	int rc;

	*sh->n_workers = 0;
	if (v == NULL)
		return sh->min_workers > 0 ? cfg_missing(ctx, path) : 0;
	rc = cfg_expect_array(ctx, path, v, sh->min_workers, CFG_MAX_WORKERS, "lcore ids");
	if (rc < 0)
		return rc;
	for (i = 0; i < json_array_size(v); i++) {
		cfg_path_index(sub, path, i);
		rc = cfg_parse_int(ctx, sub, json_array_get(v, i), 0, CFG_MAX_LCORE - 1, &lcore);
		if (rc < 0)
			return rc;
		out[i] = (uint16_t)lcore;
		for (j = 0; j < i; j++)
			if (out[j] == out[i])
				return cfg_fail(ctx, sub,
						"expected an lcore id not listed before, got %u "
						"(also %s[%zu])",
						out[i], path, j);
	}
	*sh->n_workers = (uint8_t)i;
	return 0;
}

static int
parse_devargs(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_link *link = obj;

	if (v == NULL)
		return cfg_missing(ctx, path);
	return cfg_parse_string(ctx, path, v, link->devargs, sizeof(link->devargs));
}

int
cfg_parse_link(struct cfg_ctx *ctx, const char *path, const json_t *v, struct cfg_link *out)
{
	static const struct cfg_field fields[] = {
		{ "devargs", parse_devargs },
		{ NULL, NULL },
	};

	if (v == NULL)
		return cfg_missing(ctx, path);
	return cfg_parse_fields(ctx, path, v, fields, out);
}

/* Strict decimal 1..65535: digits only, no sign, no spaces. */
static int
port_from_string(const char *s, uint16_t *out)
{
	unsigned long val = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		val = val * 10 + (unsigned long)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || val == 0 || val > UINT16_MAX)
		return -EINVAL;
	*out = (uint16_t)val;
	return 0;
}

/* HOST is a name, an IPv4 address, or an IPv6 address in brackets; return why not, or NULL. */
static const char *
split_host_port(const char *hp, struct cfg_control *out)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
	const char *colon, *host = hp;
	struct esp_addr addr;
	size_t host_len;

	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (close == NULL || close[1] != ':')
			return "HOST as [IPv6 address]";
		host = hp + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return "a PORT";
		host_len = (size_t)(colon - hp);
		if (strspn(hp, name_chars) != host_len)
			return "HOST a name, IPv4 address or [IPv6 address]";
	}
	if (host_len == 0 || host_len >= sizeof(out->host))
		return "HOST of 1..255 characters";
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (hp[0] == '[' && (cfg_addr_from_string(out->host, &addr) < 0 || addr.family != 6))
		return "HOST as [IPv6 address]";
	if (port_from_string(colon + 1, &out->port) < 0)
		return "PORT 1..65535";
	return NULL;
}

int
cfg_parse_control(struct cfg_ctx *ctx, const char *path, const json_t *v, struct cfg_control *out)
{
	const char *s = json_string_value(v), *why = "unknown scheme";
	char got[64];

	if (v == NULL)
		return cfg_missing(ctx, path);
	memset(out, 0, sizeof(*out));
	if (s != NULL && strncmp(s, "unix:", 5) == 0) {
		size_t len = strlen(s + 5);

		why = "PATH of 1..107 printable characters";
		if (len > 0 && len < sizeof(out->path) && cfg_is_printable(s + 5)) {
			out->kind = CFG_CONTROL_UNIX;
			memcpy(out->path, s + 5, len + 1);
			return 0;
		}
	} else if (s != NULL && strncmp(s, "tcp:", 4) == 0) {
		why = split_host_port(s + 4, out);
		if (why == NULL) {
			out->kind = CFG_CONTROL_TCP;
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	return cfg_fail(ctx, path, "expected \"unix:PATH\" or \"tcp:HOST:PORT\" (%s), got %s", why,
			cfg_describe(v, got, sizeof(got)));
}

int
cfg_parse_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, uint32_t *out)
{
	json_int_t w = json_integer_value(v);
	char got[64];

	if (!json_is_integer(v) ||
	    (w != 0 && (w < ESP_REPLAY_MIN || w > ESP_REPLAY_MAX || (w & (w - 1)) != 0)))
		return cfg_fail(ctx, path, "expected 0 (off) or a power of two %u..%u, got %s",
				ESP_REPLAY_MIN, ESP_REPLAY_MAX, cfg_describe(v, got, sizeof(got)));
	*out = (uint32_t)w;
	return 0;
}

int
cfg_field_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_shared *sh = obj;

	*sh->replay_window = CFG_DEFAULT_REPLAY_WINDOW;
	return v != NULL ? cfg_parse_replay_window(ctx, path, v, sh->replay_window) : 0;
}

/* Lifetime keys as soft/hard pairs; the last pair (seconds) is 32-bit. */
static const struct cfg_field lifetime_keys[] = {
	{ "soft_bytes", NULL },	  { "hard_bytes", NULL },   { "soft_packets", NULL },
	{ "hard_packets", NULL }, { "soft_seconds", NULL }, { "hard_seconds", NULL },
	{ NULL, NULL },
};

enum {
	LIFE_SOFT_BYTES,
	LIFE_HARD_BYTES,
	LIFE_SOFT_PKTS,
	LIFE_HARD_PKTS,
	LIFE_SOFT_S,
	LIFE_HARD_S,
	LIFE_N
};

/* A soft limit must fire before its hard one. Blame the key this object sets: the other one may
 * be inherited from the top-level lifetime. */
static int
check_soft_below_hard(struct cfg_ctx *ctx, const char *parent, const json_t *obj,
		      const uint64_t *val, int soft)
{
	const char *soft_key = lifetime_keys[soft].key, *hard_key = lifetime_keys[soft + 1].key;
	char path[CFG_PATH_MAX];

	if (val[soft] == 0 || val[soft + 1] == 0 || val[soft] < val[soft + 1])
		return 0;
	if (json_object_get(obj, soft_key) != NULL)
		return cfg_fail(ctx, cfg_path_key(path, parent, soft_key),
				"expected less than %s (%" PRIu64 "), got %" PRIu64, hard_key,
				val[soft + 1], val[soft]);
	return cfg_fail(ctx, cfg_path_key(path, parent, hard_key),
			"expected more than %s (%" PRIu64 "), got %" PRIu64, soft_key, val[soft],
			val[soft + 1]);
}

int
cfg_parse_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v,
		   const struct esp_lifetime *base, struct esp_lifetime *out)
{
	uint64_t val[LIFE_N] = { base->soft_bytes,   base->hard_bytes,	 base->soft_packets,
				 base->hard_packets, base->soft_seconds, base->hard_seconds };
	char sub[CFG_PATH_MAX];
	int64_t parsed;
	int i, rc;

	*out = *base;
	if (v == NULL)
		return 0;
	rc = cfg_parse_fields(ctx, path, v, lifetime_keys, NULL);
	for (i = 0; rc == 0 && i < LIFE_N; i++) {
		const json_t *item = json_object_get(v, lifetime_keys[i].key);

		if (item == NULL)
			continue;
		rc = cfg_parse_int(ctx, cfg_path_key(sub, path, lifetime_keys[i].key), item, 0,
				   i >= LIFE_SOFT_S ? UINT32_MAX : INT64_MAX, &parsed);
		if (rc == 0)
			val[i] = (uint64_t)parsed;
	}
	for (i = 0; rc == 0 && i < LIFE_N; i += 2)
		rc = check_soft_below_hard(ctx, path, v, val, i);
	if (rc < 0)
		return rc;
	out->soft_bytes = val[LIFE_SOFT_BYTES];
	out->hard_bytes = val[LIFE_HARD_BYTES];
	out->soft_packets = val[LIFE_SOFT_PKTS];
	out->hard_packets = val[LIFE_HARD_PKTS];
	out->soft_seconds = (uint32_t)val[LIFE_SOFT_S];
	out->hard_seconds = (uint32_t)val[LIFE_HARD_S];
	return 0;
}

int
cfg_parse_hex_key(struct cfg_ctx *ctx, const char *path, const json_t *v, uint8_t *out, size_t len,
		  const char *what)
{
	const char *hex = json_string_value(v);
	size_t hex_len = json_string_length(v), bin_len = 0, good;
	char got[64];

	/* Never quote the value back: describe its shape only. */
	if (hex == NULL) {
		snprintf(got, sizeof(got), "%s", cfg_type_name(v));
	} else if (hex_len != 2 * len) {
		snprintf(got, sizeof(got), "%zu characters", hex_len);
	} else if ((good = strspn(hex, "0123456789abcdefABCDEF")) != hex_len) {
		snprintf(got, sizeof(got), "a non-hex character at position %zu", good);
	} else if (sodium_hex2bin(out, len, hex, hex_len, NULL, &bin_len, NULL) == 0 &&
		   bin_len == len) {
		/* Wipe the parse tree's copy now rather than leave it in freed heap. */
		sodium_memzero((char *)(uintptr_t)hex, hex_len);
		return 0;
	} else {
		snprintf(got, sizeof(got), "a string that does not decode");
	}
	sodium_memzero(out, len);
	return cfg_fail(ctx, path, "expected %zu hex digits (%zu bytes) for %s, got %s", 2 * len,
			len, what, got);
}

int
cfg_field_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	static const struct esp_lifetime unlimited;
	struct cfg_shared *sh = obj;

	return cfg_parse_lifetime(ctx, path, v, &unlimited, sh->lifetime);
}

uint8_t *
cfg_secrets_take(struct cfg_secrets *s, size_t len)
{
	uint8_t *p;

	if (s->mem == NULL || len > s->len - s->used)
		return NULL;
	p = s->mem + s->used;
	s->used += len;
	return p;
}

int
cfg_field_control_key(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_shared *sh = obj;
	uint8_t *key;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	key = cfg_secrets_take(&sh->secrets, CFG_CONTROL_KEY_LEN);
	if (key == NULL)
		return cfg_fail_nomem(ctx, path);
	rc = cfg_parse_hex_key(ctx, path, v, key, CFG_CONTROL_KEY_LEN, "the control key");
	if (rc < 0)
		return rc;
	*sh->control_key = key;
	return 0;
}

int
cfg_field_static_sas(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct cfg_shared *sh = obj;
	struct cfg_sa_defaults defs = {
		.replay_window = *sh->replay_window,
		.lifetime = *sh->lifetime,
		.dvipa = sh->dvipa,
		.n_dvipa = *sh->n_dvipa,
	};

	return cfg_parse_static_sas(ctx, path, v, &defs, &sh->secrets, sh->static_sas,
				    sh->n_static_sas);
}

/* One block for the control key, at most every SA at the longest keymat (under 40 KiB) and the IKE
 * keys: our seed and, at most, every peer's PSK at the longest length (8 KiB). */
int
cfg_shared_init(struct cfg_ctx *ctx, struct cfg_shared *sh, const json_t *root)
{
	const json_t *sas = json_object_get(root, "static_sas");
	size_t n_sas = json_is_array(sas) ? json_array_size(sas) : 0;

	if (n_sas > CFG_MAX_STATIC_SAS)
		n_sas = CFG_MAX_STATIC_SAS; /* the parse will refuse the file */
	if (sodium_init() < 0) {
		cfg_fail(ctx, "", "libsodium failed to initialise");
		return -EIO;
	}
	sh->secrets.len =
		CFG_CONTROL_KEY_LEN + n_sas * ESP_MAX_KEYMAT_LEN + cfg_ike_secrets_len(root);
	sh->secrets.used = 0;
	sh->secrets.mem = sodium_malloc(sh->secrets.len);
	if (sh->secrets.mem == NULL)
		return cfg_fail_nomem(ctx, "");
	sodium_memzero(sh->secrets.mem, sh->secrets.len);
	return 0;
}

void
cfg_shared_release(struct cfg_shared *sh)
{
	if (sh->eal != NULL)
		release_eal(sh->eal);
	if (sh->static_sas != NULL) {
		free(*sh->static_sas);
		*sh->static_sas = NULL;
		*sh->n_static_sas = 0;
	}
	sodium_free(sh->secrets.mem); /* wipes */
	memset(&sh->secrets, 0, sizeof(sh->secrets));
}

int
cfg_load_fields(struct cfg_ctx *ctx, const char *path, const char *text,
		const struct cfg_field *fields, struct cfg_shared *sh)
{
	json_t *root;
	int rc;

	rc = cfg_json_load(ctx, path, text, &root);
	if (rc < 0)
		return rc;
	rc = cfg_shared_init(ctx, sh, root);
	if (rc == 0)
		rc = cfg_parse_fields(ctx, "", root, fields, sh);
	json_decref(root);
	/* Nothing writes a key after the load; sodium_free() makes the block writable to wipe it.
	 */
	if (rc == 0 && sodium_mprotect_readonly(sh->secrets.mem) < 0)
		rc = cfg_fail(ctx, "", "libsodium could not make the key memory read-only");
	return rc;
}
