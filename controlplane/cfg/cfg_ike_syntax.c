/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The strings of the router's "ike" object, both ways: proposals in strongSwan's syntax
 * ("aes128gcm16-prfsha256-x25519", "aes256gcm16-x25519-esn") and identities inferred as strongSwan
 * infers them (an address literal, user@domain, else an FQDN). cfg_ike.c parses the object around
 * them; cfg_check.c and the tests print them back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "cfg_priv.h"

/* IANA "IKEv2 Parameters" numbers that the engine's config carries. ike_msg.h names them too, but
 * it cannot be included beside ike.h (both define IKE_MAX_PROPOSALS and struct ike_proposal). */
#define ID_IPV4_ADDR	       1
#define ID_FQDN		       2
#define ID_RFC822_ADDR	       3
#define ID_IPV6_ADDR	       5
#define ENCR_AES_GCM_16	       20
#define ENCR_CHACHA20_POLY1305 28
#define PRF_HMAC_SHA2_256      5
#define PRF_HMAC_SHA2_384      6
#define PRF_HMAC_SHA2_512      7
#define DH_CURVE25519	       31

enum alg_kind { ALG_ENCR, ALG_PRF, ALG_DH, ALG_ESN, ALG_KINDS };

#define KIND(k) (1u << (k))

static const char *const kind_names[ALG_KINDS] = { "encryption algorithm", "PRF", "DH group",
						   "ESN setting" };

/* strongSwan's keywords for what the engine implements: AEADs only, so no integrity algorithm.
 * The first name of an algorithm is the one cfg_ike_proposal_name() writes. */
struct alg {
	const char *name;
	uint8_t kind;
	uint16_t id;
	uint16_t key_bits;
};

static const struct alg algs[] = {
	{ "aes128gcm16", ALG_ENCR, ENCR_AES_GCM_16, 128 },
	{ "aes256gcm16", ALG_ENCR, ENCR_AES_GCM_16, 256 },
	{ "chacha20poly1305", ALG_ENCR, ENCR_CHACHA20_POLY1305, 256 },
	{ "prfsha256", ALG_PRF, PRF_HMAC_SHA2_256, 0 },
	{ "prfsha384", ALG_PRF, PRF_HMAC_SHA2_384, 0 },
	{ "prfsha512", ALG_PRF, PRF_HMAC_SHA2_512, 0 },
	{ "x25519", ALG_DH, DH_CURVE25519, 0 },
	{ "curve25519", ALG_DH, DH_CURVE25519, 0 },
	{ "esn", ALG_ESN, 1, 0 },
	{ "noesn", ALG_ESN, 0, 0 },
};

#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

/* What a proposal of a list is made of: the kinds it may name, and those it must. */
struct grammar {
	const char *syntax;
	const char *example;
	unsigned allowed;
	unsigned required;
};

static const struct grammar ike_grammar = {
	"ENCR-PRF-DH",
	"aes128gcm16-prfsha256-x25519",
	KIND(ALG_ENCR) | KIND(ALG_PRF) | KIND(ALG_DH),
	KIND(ALG_ENCR) | KIND(ALG_PRF) | KIND(ALG_DH),
};

static const struct grammar esp_grammar = {
	"ENCR[-DH][-ESN]",
	"aes256gcm16-x25519-esn",
	KIND(ALG_ENCR) | KIND(ALG_DH) | KIND(ALG_ESN),
	KIND(ALG_ENCR),
};

/* The defaults: each AEAD once, X25519 for the IKE SA, no PFS and no ESN for CHILD SAs. */
static const struct ike_proposal default_ike[] = {
	{ .encr = ENCR_AES_GCM_16, .key_bits = 128, .prf = PRF_HMAC_SHA2_256, .dh = DH_CURVE25519 },
	{ .encr = ENCR_AES_GCM_16, .key_bits = 256, .prf = PRF_HMAC_SHA2_384, .dh = DH_CURVE25519 },
	{ .encr = ENCR_CHACHA20_POLY1305,
	  .key_bits = 256,
	  .prf = PRF_HMAC_SHA2_256,
	  .dh = DH_CURVE25519 },
};

static const struct ike_proposal default_esp[] = {
	{ .encr = ENCR_AES_GCM_16, .key_bits = 128 },
	{ .encr = ENCR_AES_GCM_16, .key_bits = 256 },
	{ .encr = ENCR_CHACHA20_POLY1305, .key_bits = 256 },
};

/* --- proposals ------------------------------------------------------------------------- */

static const struct alg *
find_alg(const char *tok, size_t len, unsigned allowed)
{
	size_t i;

	for (i = 0; i < N_ALGS; i++)
		if ((allowed & KIND(algs[i].kind)) != 0 && strlen(algs[i].name) == len &&
		    memcmp(algs[i].name, tok, len) == 0)
			return &algs[i];
	return NULL;
}

static const char *
known_algs(unsigned allowed, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < N_ALGS && off < size; i++) {
		int n;

		if ((allowed & KIND(algs[i].kind)) == 0)
			continue;
		n = snprintf(buf + off, size - off, "%s%s", off > 0 ? ", " : "", algs[i].name);
		off += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

/* A token of a string, for a message: printable ASCII, cut short if long. */
static const char *
show_token(char *buf, size_t size, const char *tok, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 4 < size; i++)
		buf[i] = tok[i] >= 0x20 && tok[i] < 0x7f ? tok[i] : '?';
	if (i < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static void
set_alg(struct ike_proposal *p, const struct alg *a)
{
	switch (a->kind) {
	case ALG_ENCR:
		p->encr = a->id;
		p->key_bits = a->key_bits;
		break;
	case ALG_PRF:
		p->prf = a->id;
		break;
	case ALG_DH:
		p->dh = a->id;
		break;
	default:
		p->esn = a->id != 0;
		break;
	}
}

/* "aes128gcm16-prfsha256-x25519": strongSwan's syntax, one algorithm of each kind, any order. */
static int
parse_proposal(struct cfg_ctx *ctx, const char *path, const json_t *v, const struct grammar *g,
	       struct ike_proposal *p)
{
	const char *s = json_string_value(v), *tok;
	char got[64], shown[40], known[160];
	unsigned seen = 0, missing;
	size_t len;

	memset(p, 0, sizeof(*p));
	if (s == NULL || s[0] == '\0' || strlen(s) != json_string_length(v))
		return cfg_fail(ctx, path, "expected a proposal %s like \"%s\", got %s", g->syntax,
				g->example, cfg_describe(v, got, sizeof(got)));
	for (tok = s;; tok += len + 1) {
		const struct alg *a;

		len = strcspn(tok, "-");
		a = find_alg(tok, len, g->allowed);
		if (a == NULL)
			return cfg_fail(ctx, path, "expected %s made of %s, got \"%s\" in %s",
					g->syntax, known_algs(g->allowed, known, sizeof(known)),
					show_token(shown, sizeof(shown), tok, len),
					cfg_describe(v, got, sizeof(got)));
		if ((seen & KIND(a->kind)) != 0)
			return cfg_fail(ctx, path,
					"expected one %s per proposal (list another proposal for "
					"an alternative), got \"%s\" in %s",
					kind_names[a->kind], a->name,
					cfg_describe(v, got, sizeof(got)));
		seen |= KIND(a->kind);
		set_alg(p, a);
		if (tok[len] == '\0')
			break;
	}
	missing = g->required & ~seen;
	if (missing != 0)
		return cfg_fail(ctx, path, "expected %s like \"%s\" (no %s), got %s", g->syntax,
				g->example, kind_names[__builtin_ctz(missing)],
				cfg_describe(v, got, sizeof(got)));
	return 0;
}

static bool
same_proposal(const struct ike_proposal *a, const struct ike_proposal *b)
{
	return a->encr == b->encr && a->key_bits == b->key_bits && a->prf == b->prf &&
	       a->dh == b->dh && a->esn == b->esn;
}

int
cfg_parse_ike_proposals(struct cfg_ctx *ctx, const char *path, const json_t *v, bool esp,
			struct ike_proposal *out, uint8_t *n)
{
	const struct grammar *g = esp ? &esp_grammar : &ike_grammar;
	char sub[CFG_PATH_MAX], got[64];
	size_t i, j;
	int rc;

	if (v == NULL) {
		size_t n_defaults = esp ? sizeof(default_esp) / sizeof(default_esp[0])
					: sizeof(default_ike) / sizeof(default_ike[0]);

		memcpy(out, esp ? default_esp : default_ike, n_defaults * sizeof(*out));
		*n = (uint8_t)n_defaults;
		return 0;
	}
	rc = cfg_expect_array(ctx, path, v, 1, IKE_MAX_PROPOSALS, "proposals");
	for (i = 0; rc == 0 && i < json_array_size(v); i++) {
		const json_t *item = json_array_get(v, i);

		cfg_path_index(sub, path, i);
		rc = parse_proposal(ctx, sub, item, g, &out[i]);
		for (j = 0; rc == 0 && j < i; j++)
			if (same_proposal(&out[i], &out[j]))
				rc = cfg_fail(ctx, sub,
					      "expected a proposal not listed before, got %s "
					      "(also %s[%zu])",
					      cfg_describe(item, got, sizeof(got)), path, j);
	}
	if (rc == 0)
		*n = (uint8_t)i;
	return rc;
}

static size_t
append(char *buf, size_t len, size_t off, const char *sep, const struct alg *a, const char *kind,
       unsigned id, unsigned bits)
{
	int n;

	if (off >= len)
		return off;
	if (a != NULL)
		n = snprintf(buf + off, len - off, "%s%s", sep, a->name);
	else if (bits != 0)
		n = snprintf(buf + off, len - off, "%s%s%u_%u", sep, kind, id, bits);
	else
		n = snprintf(buf + off, len - off, "%s%s%u", sep, kind, id);
	return off + (n > 0 ? (size_t)n : 0);
}

static const struct alg *
alg_by_id(unsigned kind, unsigned id, unsigned bits)
{
	size_t i;

	for (i = 0; i < N_ALGS; i++)
		if (algs[i].kind == kind && algs[i].id == id && algs[i].key_bits == bits)
			return &algs[i];
	return NULL;
}

const char *
cfg_ike_proposal_name(const struct ike_proposal *p, bool esp, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	off = append(buf, len, off, "", alg_by_id(ALG_ENCR, p->encr, p->key_bits), "encr", p->encr,
		     p->key_bits);
	if (!esp)
		off = append(buf, len, off, "-", alg_by_id(ALG_PRF, p->prf, 0), "prf", p->prf, 0);
	if (!esp || p->dh != 0)
		off = append(buf, len, off, "-", alg_by_id(ALG_DH, p->dh, 0), "dh", p->dh, 0);
	if (esp && p->esn)
		append(buf, len, off, "-", alg_by_id(ALG_ESN, 1, 0), "esn", 1, 0);
	return buf;
}

/* --- identities ------------------------------------------------------------------------ */

void
cfg_ike_id_from_addr(const struct esp_addr *addr, struct ike_id *id)
{
	memset(id, 0, sizeof(*id));
	if (addr->family == 4) {
		id->type = ID_IPV4_ADDR;
		id->len = 4;
		memcpy(id->data, &addr->v4, 4);
	} else {
		id->type = ID_IPV6_ADDR;
		id->len = 16;
		memcpy(id->data, addr->v6, 16);
	}
}

static bool
is_fqdn_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Why s is no FQDN we would send or expect, or NULL. A last label of digits only is a mistyped
 * address far more often than a name ("192.0.2.300"). */
static const char *
fqdn_problem(const char *s)
{
	const char *label = s, *p;
	bool digits_only = true;

	for (p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label)
				return "an FQDN without empty labels";
			if (*p == '\0')
				break;
			label = p + 1;
			digits_only = true;
			continue;
		}
		if (!is_fqdn_char(*p))
			return "an FQDN of letters, digits, '-', '_' and '.'";
		if (*p < '0' || *p > '9')
			digits_only = false;
	}
	return digits_only ? "an FQDN whose last label is not all digits" : NULL;
}

static const char *
rfc822_problem(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return "user@domain of printable ASCII without spaces";
	return s[len - 1] == '@' ? "user@domain with a domain" : NULL;
}

/* strongSwan's inference: an address literal is an address ID, "user@domain" an RFC 822 address,
 * anything else an FQDN; a leading '@' makes the rest an FQDN ("@vpn.example.org"), as there. */
static const char *
id_from_string(const char *s, size_t len, struct ike_id *id)
{
	struct esp_addr addr;
	const char *why;
	uint8_t type = ID_FQDN;

	memset(id, 0, sizeof(*id));
	if (len == 0 || len > IKE_ID_MAX || strlen(s) != len)
		return "1..255 characters";
	if (cfg_addr_from_string(s, &addr) == 0) {
		cfg_ike_id_from_addr(&addr, id);
		return NULL;
	}
	if (s[0] == '@') {
		s++;
		len--;
		why = fqdn_problem(s);
	} else if (strchr(s, '@') != NULL) {
		type = ID_RFC822_ADDR;
		why = rfc822_problem(s, len);
	} else {
		why = fqdn_problem(s);
	}
	if (why != NULL)
		return why;
	id->type = type;
	id->len = (uint8_t)len;
	memcpy(id->data, s, len);
	return NULL;
}

int
cfg_parse_ike_id(struct cfg_ctx *ctx, const char *path, const json_t *v, struct ike_id *id)
{
	const char *why = "a string";
	char got[64];

	if (json_is_string(v))
		why = id_from_string(json_string_value(v), json_string_length(v), id);
	if (why != NULL)
		return cfg_fail(ctx, path,
				"expected an IP address, FQDN or user@domain (%s), got %s", why,
				cfg_describe(v, got, sizeof(got)));
	return 0;
}

/* Names and e-mail addresses compare without case, as strongSwan compares them. */
bool
cfg_ike_id_equal(const struct ike_id *a, const struct ike_id *b)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	if (a->type == ID_FQDN || a->type == ID_RFC822_ADDR)
		return strncasecmp((const char *)a->data, (const char *)b->data, a->len) == 0;
	return memcmp(a->data, b->data, a->len) == 0;
}

const char *
cfg_ike_id_name(const struct ike_id *id, char *buf, size_t len)
{
	size_t i, n;

	if (len == 0)
		return buf;
	if ((id->type == ID_IPV4_ADDR && id->len == 4) ||
	    (id->type == ID_IPV6_ADDR && id->len == 16)) {
		if (inet_ntop(id->type == ID_IPV4_ADDR ? AF_INET : AF_INET6, id->data, buf,
			      (socklen_t)len) == NULL)
			buf[0] = '\0';
		return buf;
	}
	if (id->type != ID_FQDN && id->type != ID_RFC822_ADDR) {
		snprintf(buf, len, "(id type %u, %u bytes)", id->type, id->len);
		return buf;
	}
	n = id->len < len - 1 ? id->len : len - 1;
	for (i = 0; i < n; i++)
		buf[i] = id->data[i] >= 0x20 && id->data[i] < 0x7f ? (char)id->data[i] : '?';
	buf[n] = '\0';
	return buf;
}
