/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Static SAs: turns each object of "static_sas" into a struct esp_sa_params, the same thing the IKE
 * engine will produce, with its keymat decoded straight into the file's sodium_malloc'd block.
 * Also traffic selectors (CIDR strings or {"cidr", "proto", "ports"} objects, which IKE peers use
 * too) and the AEAD names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "cfg_priv.h"

/* From the engine's list (esp_types.h), without linking the data plane. */
static const struct cfg_name aead_names[] = {
#define AEAD_NAME(sym, name) { name, ESP_AEAD_##sym },
	ESP_AEADS(AEAD_NAME)
#undef AEAD_NAME
		{ NULL, 0 },
};

static const struct cfg_name dir_names[] = {
	{ "inbound", ESP_DIR_INBOUND },
	{ "outbound", ESP_DIR_OUTBOUND },
	{ NULL, 0 },
};

static const struct cfg_name mode_names[] = {
	{ "tunnel", ESP_MODE_TUNNEL },
	{ "transport", ESP_MODE_TRANSPORT },
	{ NULL, 0 },
};

static const struct cfg_name encap_names[] = {
	{ "none", 0 },
	{ "udp", 1 },
	{ NULL, 0 },
};

/* The SA being parsed, and what it may look at: the file's defaults and the SAs before it. */
struct sa_state {
	struct esp_sa_params *sa;
	const struct esp_sa_params *earlier; /* sa[0..index-1] */
	size_t index;
	const char *list_path; /* "static_sas" */
	const struct cfg_sa_defaults *defs;
	struct cfg_secrets *secrets;
	int ts_family; /* family of the first selector seen, 0 = none yet */
};

const char *
cfg_aead_name(enum esp_aead aead)
{
	const struct cfg_name *n;

	for (n = aead_names; n->name != NULL; n++)
		if (n->value == (int)aead)
			return n->name;
	return NULL;
}

/* Strict: "0x" and 1..8 hex digits, or 1..10 decimal digits; no sign, no spaces. */
static int
spi_from_string(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t val = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0' || strlen(p) > (base == 16 ? 8u : 10u))
		return -EINVAL;
	for (; *p != '\0'; p++) {
		unsigned digit;

		if (*p >= '0' && *p <= '9')
			digit = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			digit = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			digit = (unsigned)(*p - 'A' + 10);
		else
			return -EINVAL;
		val = val * base + digit;
	}
	*out = val;
	return 0;
}

static int
parse_spi(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	uint64_t spi = 0;
	char got[64];
	int rc = -EINVAL;

	if (v == NULL)
		return cfg_missing(ctx, path);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		spi = (uint64_t)json_integer_value(v);
		rc = 0;
	} else if (json_is_string(v)) {
		rc = spi_from_string(json_string_value(v), &spi);
	}
	if (rc == 0 && spi >= 1 && spi <= 255)
		return cfg_fail(
			ctx, path,
			"expected SPI 256..0xffffffff (1..255 are reserved by RFC 4303), got %s",
			cfg_describe(v, got, sizeof(got)));
	if (rc < 0 || spi == 0 || spi > UINT32_MAX)
		return cfg_fail(
			ctx, path,
			"expected SPI 256..0xffffffff as an integer or \"0x\" hex string, got %s",
			cfg_describe(v, got, sizeof(got)));
	st->sa->spi = (uint32_t)spi;
	return 0;
}

/* After "direction", so that (spi, direction) can be checked against the SAs before this one. */
static int
parse_direction(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	char spi_path[CFG_PATH_MAX], item[CFG_PATH_MAX];
	int dir, rc;
	size_t i;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_enum(ctx, path, v, dir_names, &dir);
	if (rc < 0)
		return rc;
	st->sa->dir = (enum esp_dir)dir;
	for (i = 0; i < st->index; i++) {
		if (st->earlier[i].spi == st->sa->spi && st->earlier[i].dir == st->sa->dir) {
			cfg_path_index(item, st->list_path, st->index);
			return cfg_fail(ctx, cfg_path_key(spi_path, item, "spi"),
					"expected an %s SPI not used before, got 0x%08" PRIx32
					" (also %s[%zu])",
					dir_names[dir].name, st->sa->spi, st->list_path, i);
		}
	}
	return 0;
}

static int
parse_aead(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	int aead, rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_enum(ctx, path, v, aead_names, &aead);
	st->sa->aead = (enum esp_aead)aead;
	return rc;
}

/* After "aead", which sets the length. The keymat goes straight into sodium_malloc'd memory. */
static int
parse_key(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	size_t len = esp_aead_keymat_len(st->sa->aead);
	uint8_t *keymat;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	keymat = cfg_secrets_take(st->secrets, len);
	if (keymat == NULL)
		return cfg_fail_nomem(ctx, path);
	rc = cfg_parse_hex_key(ctx, path, v, keymat, len, cfg_aead_name(st->sa->aead));
	if (rc < 0)
		return rc;
	st->sa->keymat = keymat;
	st->sa->keymat_len = len;
	return 0;
}

static int
parse_mode(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	int mode = ESP_MODE_TUNNEL, rc = 0;

	if (v != NULL)
		rc = cfg_parse_enum(ctx, path, v, mode_names, &mode);
	st->sa->mode = (enum esp_mode)mode;
	return rc;
}

static int
parse_esn(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	st->sa->esn = false;
	return v != NULL ? cfg_parse_bool(ctx, path, v, &st->sa->esn) : 0;
}

static int
parse_sa_replay_window(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	st->sa->replay_window = st->defs->replay_window;
	return v != NULL ? cfg_parse_replay_window(ctx, path, v, &st->sa->replay_window) : 0;
}

/* The SA ends at the DVIPA: an SA for any other local address would never see a packet. */
static int
parse_local(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	char got[64];
	uint8_t i;
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_addr(ctx, path, v, &st->sa->local);
	if (rc < 0)
		return rc;
	for (i = 0; i < st->defs->n_dvipa; i++)
		if (cfg_addr_equal(&st->sa->local, &st->defs->dvipa[i]))
			return 0;
	return cfg_fail(ctx, path, "expected one of the dvipa addresses, got %s",
			cfg_describe(v, got, sizeof(got)));
}

static int
parse_remote(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	char got[64];
	int rc;

	if (v == NULL)
		return cfg_missing(ctx, path);
	rc = cfg_parse_addr(ctx, path, v, &st->sa->remote);
	if (rc < 0)
		return rc;
	if (st->sa->remote.family != st->sa->local.family)
		return cfg_fail(ctx, path, "expected an IPv%u address like local, got %s",
				st->sa->local.family, cfg_describe(v, got, sizeof(got)));
	return 0;
}

static int
parse_encap(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	int udp = 0, rc = 0;

	if (v != NULL)
		rc = cfg_parse_enum(ctx, path, v, encap_names, &udp);
	st->sa->udp_encap = udp != 0;
	return rc;
}

/* After "encap": a port without UDP encapsulation is a mistake, not something to ignore. */
static int
parse_udp_port(struct cfg_ctx *ctx, const char *path, const json_t *v, struct sa_state *st,
	       uint16_t *out)
{
	char got[64];
	int64_t port;
	int rc;

	*out = ESP_UDP_PORT;
	if (v == NULL)
		return 0;
	if (!st->sa->udp_encap)
		return cfg_fail(ctx, path,
				"expected no UDP port without \"encap\": \"udp\", got %s",
				cfg_describe(v, got, sizeof(got)));
	rc = cfg_parse_int(ctx, path, v, 1, UINT16_MAX, &port);
	*out = (uint16_t)port;
	return rc;
}

static int
parse_udp_local_port(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	return parse_udp_port(ctx, path, v, st, &st->sa->udp_local_port);
}

static int
parse_udp_remote_port(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	return parse_udp_port(ctx, path, v, st, &st->sa->udp_remote_port);
}

/* "10.1.0.0/24" -> 10.1.0.0..10.1.0.255; a bare address is a /32 or /128. Host bits must be
 * clear: "10.1.0.5/24" is more likely a typo than a way to say 10.1.0.0/24. */
static const char *
cidr_to_range(const char *text, struct esp_ts *ts)
{
	char addr[INET6_ADDRSTRLEN + 4];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned prefix = 0, max, i;
	uint8_t *start, *end;

	if (addr_len >= sizeof(addr))
		return "CIDR like \"10.1.0.0/24\"";
	memcpy(addr, text, addr_len);
	addr[addr_len] = '\0';
	if (cfg_addr_from_string(addr, &ts->start) < 0)
		return "CIDR like \"10.1.0.0/24\"";
	max = ts->start.family == 4 ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		if (slash[1] == '\0' || strlen(slash + 1) > 3 ||
		    strspn(slash + 1, "0123456789") != strlen(slash + 1))
			return "CIDR like \"10.1.0.0/24\"";
		prefix = (unsigned)strtoul(slash + 1, NULL, 10);
		if (prefix > max)
			return max == 32 ? "IPv4 prefix length 0..32" : "IPv6 prefix length 0..128";
	}
	ts->end = ts->start;
	start = ts->start.family == 4 ? (uint8_t *)&ts->start.v4 : ts->start.v6;
	end = ts->end.family == 4 ? (uint8_t *)&ts->end.v4 : ts->end.v6;
	for (i = 0; i < max / 8; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		uint8_t host = bits >= 8 ? 0 : (uint8_t)(0xffu >> bits);

		if (start[i] & host)
			return "CIDR with the host bits clear";
		end[i] = start[i] | host;
	}
	return NULL;
}

/* "1024-65535", "443" or 443. */
static int
ports_from_json(const json_t *v, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	char *rest;
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > UINT16_MAX)
			return -EINVAL;
		*lo = *hi = (uint16_t)json_integer_value(v);
		return 0;
	}
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	a = strtoul(s, &rest, 10);
	b = a;
	if (*rest == '-') {
		if (rest[1] < '0' || rest[1] > '9')
			return -EINVAL;
		b = strtoul(rest + 1, &rest, 10);
	}
	if (*rest != '\0' || a > b || b > UINT16_MAX)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int
parse_ts_cidr(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct esp_ts *ts = obj;
	const char *why = "CIDR like \"10.1.0.0/24\"";
	char got[64];

	if (v == NULL)
		return cfg_missing(ctx, path);
	if (json_is_string(v))
		why = cidr_to_range(json_string_value(v), ts);
	if (why != NULL)
		return cfg_fail(ctx, path, "expected %s, got %s", why,
				cfg_describe(v, got, sizeof(got)));
	return 0;
}

static int
parse_ts_proto(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct esp_ts *ts = obj;
	int64_t proto = 0;
	int rc = 0;

	if (v != NULL)
		rc = cfg_parse_int(ctx, path, v, 0, UINT8_MAX, &proto);
	ts->proto = (uint8_t)proto;
	return rc;
}

static int
parse_ts_ports(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct esp_ts *ts = obj;
	char got[64];

	ts->port_lo = 0;
	ts->port_hi = UINT16_MAX;
	if (v != NULL && ports_from_json(v, &ts->port_lo, &ts->port_hi) < 0)
		return cfg_fail(ctx, path, "expected a port 0..65535 or a range \"LO-HI\", got %s",
				cfg_describe(v, got, sizeof(got)));
	return 0;
}

/* One selector: a CIDR string, or {"cidr": ..., "proto": ..., "ports": ...}. Static SAs and IKE
 * peers (cfg_ike.c) share it. */
int
cfg_parse_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, struct esp_ts *out)
{
	static const struct cfg_field fields[] = {
		{ "cidr", parse_ts_cidr },
		{ "proto", parse_ts_proto },
		{ "ports", parse_ts_ports },
		{ NULL, NULL },
	};
	int rc;

	memset(out, 0, sizeof(*out));
	if (json_is_object(v))
		return cfg_parse_fields(ctx, path, v, fields, out);
	rc = parse_ts_cidr(ctx, path, v, out);
	out->port_hi = UINT16_MAX;
	return rc;
}

/* All selectors of an SA share a family (the inner one); in transport mode it is also the family
 * of local/remote. */
static int
parse_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, struct sa_state *st,
	 struct esp_ts *ts)
{
	const json_t *cidr = json_is_object(v) ? json_object_get(v, "cidr") : v;
	unsigned family;
	char got[64];
	int rc;

	rc = cfg_parse_ts(ctx, path, v, ts);
	if (rc < 0)
		return rc;
	family = ts->start.family;
	if (st->sa->mode == ESP_MODE_TRANSPORT && family != st->sa->local.family)
		return cfg_fail(ctx, path,
				"expected an IPv%u selector in transport mode (like local), got %s",
				st->sa->local.family, cfg_describe(cidr, got, sizeof(got)));
	if (st->ts_family != 0 && (int)family != st->ts_family)
		return cfg_fail(ctx, path,
				"expected an IPv%d selector like the SA's others, got %s",
				st->ts_family, cfg_describe(cidr, got, sizeof(got)));
	st->ts_family = (int)family;
	return 0;
}

static int
parse_ts_list(struct cfg_ctx *ctx, const char *path, const json_t *v, struct sa_state *st,
	      struct esp_ts *out, uint8_t *n)
{
	char sub[CFG_PATH_MAX];
	size_t i;
	int rc;

	*n = 0;
	if (v == NULL)
		return 0;
	rc = cfg_expect_array(ctx, path, v, 0, ESP_MAX_TS, "selectors");
	for (i = 0; rc == 0 && i < json_array_size(v); i++)
		rc = parse_ts(ctx, cfg_path_index(sub, path, i), json_array_get(v, i), st, &out[i]);
	if (rc == 0)
		*n = (uint8_t)i;
	return rc;
}

static int
parse_local_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	return parse_ts_list(ctx, path, v, st, st->sa->local_ts, &st->sa->n_local_ts);
}

static int
parse_remote_ts(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;

	return parse_ts_list(ctx, path, v, st, st->sa->remote_ts, &st->sa->n_remote_ts);
}

static int
parse_sa_lifetime(struct cfg_ctx *ctx, const char *path, const json_t *v, void *obj)
{
	struct sa_state *st = obj;
	struct esp_lifetime lt;
	int rc;

	rc = cfg_parse_lifetime(ctx, path, v, &st->defs->lifetime, &lt);
	if (rc < 0)
		return rc;
	st->sa->lifetime = lt;
	return 0;
}

/* Order matters: each parser may rely on the fields above it. */
static const struct cfg_field sa_fields[] = {
	{ "spi", parse_spi },
	{ "direction", parse_direction },
	{ "aead", parse_aead },
	{ "key", parse_key },
	{ "mode", parse_mode },
	{ "esn", parse_esn },
	{ "replay_window", parse_sa_replay_window },
	{ "local", parse_local },
	{ "remote", parse_remote },
	{ "encap", parse_encap },
	{ "udp_local_port", parse_udp_local_port },
	{ "udp_remote_port", parse_udp_remote_port },
	{ "local_ts", parse_local_ts },
	{ "remote_ts", parse_remote_ts },
	{ "lifetime", parse_sa_lifetime },
	{ NULL, NULL },
};

int
cfg_parse_static_sas(struct cfg_ctx *ctx, const char *path, const json_t *v,
		     const struct cfg_sa_defaults *defs, struct cfg_secrets *secrets,
		     struct esp_sa_params **out, uint32_t *n)
{
	struct sa_state st = { .list_path = path, .defs = defs, .secrets = secrets };
	struct esp_sa_params *sas;
	char sub[CFG_PATH_MAX];
	size_t i, count;
	int rc;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	rc = cfg_expect_array(ctx, path, v, 0, CFG_MAX_STATIC_SAS, "SAs");
	if (rc < 0)
		return rc;
	count = json_array_size(v);
	if (count == 0)
		return 0;
	sas = calloc(count, sizeof(*sas));
	if (sas == NULL)
		return cfg_fail_nomem(ctx, path);
	st.earlier = sas;
	for (i = 0; i < count; i++) {
		st.sa = &sas[i];
		st.index = i;
		st.ts_family = 0;
		rc = cfg_parse_fields(ctx, cfg_path_index(sub, path, i), json_array_get(v, i),
				      sa_fields, &st);
		if (rc < 0) {
			free(sas);
			return rc;
		}
	}
	*out = sas;
	*n = (uint32_t)count;
	return 0;
}
