/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 crypto suite: what the exchange engine calls between the message codec (which lays
 * out the SK payload and parses what it decrypts) and the wire. Sans-I/O and synchronous.
 *
 *   PRFs        PRF_HMAC_SHA2_256/384/512 (RFC 4868): SHA-256/512 from libsodium, HMAC-SHA-384
 *               from Intel IPsec-MB (libsodium has no SHA-384); prf+ (RFC 7296 2.13).
 *   AEADs       the SK payload (RFC 5282 AES-GCM with a 16-byte ICV on IPsec-MB, RFC 7634
 *               ChaCha20-Poly1305 on libsodium): nonce = salt(4) | IV(8).
 *   DH          Curve25519 (group 31, RFC 8031) on libsodium.
 *   AUTH        shared key (RFC 7296 2.15) and Ed25519 "Digital Signature" (RFC 8420/7427).
 *   ike_keys    one IKE SA's keys: derived (2.14) or rekeyed (2.18), SK payload seal/open by role,
 *               AUTH, CHILD_SA KEYMAT (2.17).
 *
 * Secrets (private keys, g^ir, SKEYSEED, SK_*, keyed PRF states, KEYMAT, the IPsec-MB manager
 * whose lanes hold HMAC state) live only in libsodium guarded memory (sodium_malloc) and are wiped
 * when freed; nothing here logs. Functions return 0 or -errno: -EINVAL (bad argument or length),
 * -ENOTSUP (algorithm not offered), -ENOMEM, -EBADMSG (authentication failed), -EIO (the crypto
 * library refused a well-formed request: a bug).
 *
 * Threading: a struct ike_crypto belongs to one thread; every object made from it (AEADs, IKE SA
 * keys) is used on that thread only. DH and Ed25519 objects need no context.
 */
#ifndef DVIPSEC_IKE_CRYPTO_H
#define DVIPSEC_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IANA transform IDs (IKEv2 registry), spelled as the message codec (ike_msg.h) spells them; the
 * guards let both headers be included in either order. */
#ifndef IKE_ENCR_AES_GCM_16
#define IKE_ENCR_AES_GCM_16 20
#endif
#ifndef IKE_ENCR_CHACHA20_POLY1305
#define IKE_ENCR_CHACHA20_POLY1305 28
#endif
#ifndef IKE_PRF_HMAC_SHA2_256
#define IKE_PRF_HMAC_SHA2_256 5
#endif
#ifndef IKE_PRF_HMAC_SHA2_384
#define IKE_PRF_HMAC_SHA2_384 6
#endif
#ifndef IKE_PRF_HMAC_SHA2_512
#define IKE_PRF_HMAC_SHA2_512 7
#endif
#ifndef IKE_DH_CURVE25519
#define IKE_DH_CURVE25519 31
#endif

#define IKE_PRF_MAX	     64 /* longest PRF output (and preferred key) */
#define IKE_AEAD_IV_LEN	     8
#define IKE_AEAD_ICV_LEN     16
#define IKE_AEAD_SALT_LEN    4
#define IKE_AEAD_KEYMAT_MAX  (32 + IKE_AEAD_SALT_LEN)
#define IKE_X25519_LEN	     32
#define IKE_ED25519_PK_LEN   32
#define IKE_ED25519_SEED_LEN 32
#define IKE_ED25519_SIG_LEN  64
#define IKE_CRYPTO_NONCE_MIN 16 /* RFC 7296 2.10 (and at least half the PRF key size) */
#define IKE_CRYPTO_NONCE_MAX 256
/* HMAC-SHA-384 runs on IPsec-MB's job API, which takes 1..65534 bytes in one piece: the bound on
 * one PRF input (an IKE_SA_INIT message plus a nonce and a PRF output fits easily). */
#define IKE_PRF_INPUT_MAX 65534

/* One piece of a PRF input; a PRF hashes the concatenation of its pieces. */
struct ike_chunk {
	const uint8_t *ptr;
	size_t len;
};

/* ---- context ------------------------------------------------------------------------------ */

struct ike_crypto;

/* Initialises libsodium, builds an IPsec-MB manager (best architecture this CPU has) in guarded
 * memory and a guarded scratch area. 0, -ENOMEM, -ENOTSUP (IPsec-MB refused the CPU). */
int ike_crypto_create(struct ike_crypto **out);
/* Wipes and frees. NULL is fine. Everything made from it must be freed first. */
void ike_crypto_free(struct ike_crypto *c);

/* ---- PRFs --------------------------------------------------------------------------------- */

/* Output length (= preferred key length, RFC 4868) of a PRF transform: 32, 48, 64; 0 if not one
 * of ours. */
size_t ike_prf_len(uint16_t prf);
/* out (ike_prf_len bytes) = prf(key, parts[0] | ... | parts[n-1]); any key length (RFC 2104:
 * keys longer than the hash block are hashed first). n <= 8. HMAC-SHA-384 refuses an empty or
 * over-IKE_PRF_INPUT_MAX input with -EINVAL (IKE never asks for either). */
int ike_prf(struct ike_crypto *c, uint16_t prf, const uint8_t *key, size_t key_len,
	    const struct ike_chunk *parts, unsigned n, uint8_t *out);
/* RFC 7296 2.13: out (out_len <= 255 * ike_prf_len bytes) = T1 | T2 | ..., Ti = prf(key, T(i-1)
 * | seed | i) where seed is the concatenation of the n (<= 6) parts. */
int ike_prf_plus(struct ike_crypto *c, uint16_t prf, const uint8_t *key, size_t key_len,
		 const struct ike_chunk *seed, unsigned n, uint8_t *out, size_t out_len);

/* ---- AEADs (SK payload) -------------------------------------------------------------------- */

struct ike_aead;

/* Keying material for encr (IKE_ENCR_AES_GCM_16 with key_bits 128 or 256, or
 * IKE_ENCR_CHACHA20_POLY1305 with key_bits 0 or 256): key || 4-byte salt, 20 or 36 bytes; 0 if
 * not offered. The same layout serves ESP (RFC 4106 8.1, RFC 7634 4). */
size_t ike_aead_keymat_len(uint16_t encr, uint16_t key_bits);
/* Copies the key into guarded memory (AES-GCM: expanded once into IPsec-MB's key schedule). */
int ike_aead_create(struct ike_crypto *c, uint16_t encr, uint16_t key_bits, const uint8_t *keymat,
		    size_t keymat_len, struct ike_aead **out);
void ike_aead_free(struct ike_aead *a);
/* Encrypts data[0, len) in place and writes the ICV; nonce = salt | iv. The caller makes sure an
 * IV is never used twice with one key (ike_keys_seal() does: a counter). */
int ike_aead_seal(const struct ike_aead *a, const uint8_t iv[IKE_AEAD_IV_LEN], const uint8_t *aad,
		  size_t aad_len, uint8_t *data, size_t len, uint8_t icv[IKE_AEAD_ICV_LEN]);
/* Verifies (constant time) and decrypts in place: 0, or -EBADMSG with data[0, len) zeroed (no
 * plaintext is left behind; the ciphertext is gone too). */
int ike_aead_open(const struct ike_aead *a, const uint8_t iv[IKE_AEAD_IV_LEN], const uint8_t *aad,
		  size_t aad_len, uint8_t *data, size_t len, const uint8_t icv[IKE_AEAD_ICV_LEN]);

/* ---- Diffie-Hellman: Curve25519 (group 31) ---------------------------------------------- */

struct ike_dh;

/* A fresh ephemeral key pair (private key from randombytes, in guarded memory). */
int ike_dh_create(uint16_t group, struct ike_dh **out);
/* The same from a given private key (test vectors). */
int ike_dh_create_from_private(uint16_t group, const uint8_t *priv, size_t len,
			       struct ike_dh **out);
/* Our public value (the KE payload data). */
const uint8_t *ike_dh_public(const struct ike_dh *dh, size_t *len);
/* g^ir from the peer's KE data. Once per object: the private key is wiped afterwards
 * (-EALREADY on a second call). -EINVAL if peer_len is not 32; -EBADMSG if the shared secret is
 * all zeros (a low-order peer value, RFC 8031 2 / RFC 7748 6.1). */
int ike_dh_compute(struct ike_dh *dh, const uint8_t *peer, size_t peer_len);
/* g^ir after a successful ike_dh_compute(), else NULL. */
const uint8_t *ike_dh_shared(const struct ike_dh *dh, size_t *len);
void ike_dh_free(struct ike_dh *dh);

/* ---- authentication ------------------------------------------------------------------------ */

/* The parts of <InitiatorSignedOctets> / <ResponderSignedOctets> (RFC 7296 2.15), for the side
 * that signs: its RealMessage (the IKE_SA_INIT message it sent, as sent), the peer's nonce data,
 * and its own RestOfIDPayload (ID type, 3 reserved bytes, ID data: the ID payload body). */
struct ike_auth_octets {
	const uint8_t *msg;
	size_t msg_len;
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *id;
	size_t id_len;
};

#define IKE_AUTH_KEY_PAD     "Key Pad for IKEv2" /* 17 bytes, no NUL in the PRF input */
#define IKE_AUTH_METHOD_PSK  2
#define IKE_AUTH_METHOD_DSIG 14 /* Digital Signature, RFC 7427 */
#define IKE_HASH_IDENTITY    5	/* SIGNATURE_HASH_ALGORITHMS value for EdDSA, RFC 8420 */

/* AlgorithmIdentifier of id-Ed25519 (1.3.101.112), parameters absent (RFC 8410, RFC 8420):
 * 30 05 06 03 2b 65 70. The method-14 AUTH data is its length byte, it, then the signature. */
#define IKE_ED25519_ALG_ID_LEN 7
extern const uint8_t ike_ed25519_alg_id[IKE_ED25519_ALG_ID_LEN];
#define IKE_DSIG_ED25519_LEN (1 + IKE_ED25519_ALG_ID_LEN + IKE_ED25519_SIG_LEN) /* 72 */

/* Length of SignedOctets for these parts under prf. */
size_t ike_signed_octets_len(uint16_t prf, const struct ike_auth_octets *o);
/* SignedOctets = msg | nonce | prf(sk_p, id) into out (cap >= ike_signed_octets_len()). */
int ike_signed_octets(struct ike_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sk_p_len,
		      const struct ike_auth_octets *o, uint8_t *out, size_t cap, size_t *len);
/* AUTH = prf(prf(psk, "Key Pad for IKEv2"), SignedOctets); ike_prf_len(prf) bytes. */
int ike_psk_auth(struct ike_crypto *c, uint16_t prf, const uint8_t *psk, size_t psk_len,
		 const uint8_t *sk_p, size_t sk_p_len, const struct ike_auth_octets *o,
		 uint8_t *auth);

struct ike_ed25519_key;

int ike_ed25519_key_generate(struct ike_ed25519_key **out);
int ike_ed25519_key_from_seed(const uint8_t seed[IKE_ED25519_SEED_LEN],
			      struct ike_ed25519_key **out);
const uint8_t *ike_ed25519_key_public(const struct ike_ed25519_key *k); /* 32 bytes */
void ike_ed25519_key_free(struct ike_ed25519_key *k);
/* Pure Ed25519 (RFC 8032 5.1; no prehash: RFC 8420 signs SignedOctets as they are). */
int ike_ed25519_sign(const struct ike_ed25519_key *k, const uint8_t *msg, size_t len,
		     uint8_t sig[IKE_ED25519_SIG_LEN]);
/* 0 or -EBADMSG (libsodium also refuses non-canonical and small-order encodings). */
int ike_ed25519_verify(const uint8_t pk[IKE_ED25519_PK_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[IKE_ED25519_SIG_LEN]);

/* ---- one IKE SA's keys ------------------------------------------------------------------- */

/* The negotiated IKE SA transforms (IANA IDs). AEAD only: no integrity transform. */
struct ike_crypto_suite {
	uint16_t encr;
	uint16_t encr_key_bits; /* 128/256 for AES-GCM; 0 or 256 for ChaCha20-Poly1305 */
	uint16_t prf;
	uint16_t dh;
};

/* What one IKE_SA_INIT (or IKE SA rekeying CREATE_CHILD_SA) contributes: the nonces' data, g^ir,
 * and the SPIs in wire order (for a rekey: the new SA's SPIs from the proposals). */
struct ike_kex {
	const uint8_t *ni;
	size_t ni_len;
	const uint8_t *nr;
	size_t nr_len;
	const uint8_t *gir;
	size_t gir_len;
	uint8_t spi_i[8];
	uint8_t spi_r[8];
};

/* The seven keys, for ike_keys_sk(); SK_ai/SK_ar are empty with an AEAD. */
enum ike_sk_id {
	IKE_SKID_D = 0,
	IKE_SKID_AI,
	IKE_SKID_AR,
	IKE_SKID_EI, /* key || salt */
	IKE_SKID_ER,
	IKE_SKID_PI,
	IKE_SKID_PR,
	IKE_SKID_COUNT
};

struct ike_keys;

/* SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296 2.14). initiator: our role in this IKE SA (we
 * seal with SK_ei and open with SK_er as initiator, the reverse as responder). Nonces must be
 * 16..256 bytes and at least half the PRF key size. */
int ike_keys_derive(struct ike_crypto *c, const struct ike_crypto_suite *s, bool initiator,
		    const struct ike_kex *kex, struct ike_keys **out);
/* The IKE SA that rekeys old (RFC 7296 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * with the OLD SA's PRF, then prf+ as above with the new suite's PRF. initiator: our role in the
 * new SA (the side that initiated the rekeying exchange is its initiator). */
int ike_keys_rekey(const struct ike_keys *old, const struct ike_crypto_suite *s, bool initiator,
		   const struct ike_kex *kex, struct ike_keys **out);
void ike_keys_free(struct ike_keys *k);

bool ike_keys_initiator(const struct ike_keys *k);
const struct ike_crypto_suite *ike_keys_suite(const struct ike_keys *k);
/* A key in guarded memory, for tests and a future key-export debug aid; NULL if out of range.
 * Never log it. */
const uint8_t *ike_keys_sk(const struct ike_keys *k, enum ike_sk_id id, size_t *len);

/* The SK (or Encrypted Fragment) payload, which ends the message msg[0, msg_len), as RFC 5282
 * and RFC 7634 lay it out: msg[0, aad_len) is the AAD (IKE header through the SK payload's generic
 * header, or through the Encrypted Fragment header); the 8-byte IV follows; then the bytes to
 * encrypt (inner payloads, padding and the pad length byte, all laid out by the codec); then the
 * 16-byte ICV. -EINVAL unless there is room for IV, one byte and ICV.
 *
 * Seal writes the IV (a per-SA big-endian counter from 0: RFC 5282 3 and RFC 7634 2 want an IV
 * that never repeats under one key and recommend a counter; -EOVERFLOW after 2^64 - 1 messages),
 * encrypts in place and writes the ICV with our direction's key. Open uses the peer's key and
 * decrypts in place: 0, or -EBADMSG with the encrypted range zeroed. */
int ike_keys_seal(struct ike_keys *k, uint8_t *msg, size_t msg_len, size_t aad_len);
int ike_keys_open(struct ike_keys *k, uint8_t *msg, size_t msg_len, size_t aad_len);
/* The AEAD for sealing (ours) or opening (the peer's), e.g. for an explicit IV; it lives inside
 * k (valid until ike_keys_free). */
const struct ike_aead *ike_keys_aead(const struct ike_keys *k, bool seal);

/* Shared-key AUTH computed by (signer_initiator: SK_pi, else SK_pr), written to auth
 * (ike_prf_len bytes, also returned in *auth_len). */
int ike_keys_psk_auth(struct ike_keys *k, bool signer_initiator, const uint8_t *psk, size_t psk_len,
		      const struct ike_auth_octets *o, uint8_t auth[IKE_PRF_MAX], size_t *auth_len);
/* Recomputes and compares in constant time: 0 or -EBADMSG (also for a wrong length). */
int ike_keys_psk_verify(struct ike_keys *k, bool signer_initiator, const uint8_t *psk,
			size_t psk_len, const struct ike_auth_octets *o, const uint8_t *auth,
			size_t auth_len);
/* AUTH data for method 14 with Ed25519 (IKE_DSIG_ED25519_LEN bytes): 0x07 | AlgorithmIdentifier |
 * Ed25519(SignedOctets). */
int ike_keys_ed25519_auth(struct ike_keys *k, bool signer_initiator,
			  const struct ike_ed25519_key *key, const struct ike_auth_octets *o,
			  uint8_t auth[IKE_DSIG_ED25519_LEN]);
/* 0, -EBADMSG (bad signature or length), -ENOTSUP (another signature algorithm). */
int ike_keys_ed25519_verify(struct ike_keys *k, bool signer_initiator,
			    const uint8_t pk[IKE_ED25519_PK_LEN], const struct ike_auth_octets *o,
			    const uint8_t *auth, size_t auth_len);

/* A CHILD_SA's ESP keying material, in guarded memory: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni |
 * Nr) split in the order of RFC 7296 2.17: the initiator-to-responder SA's key || salt first, then
 * the responder-to-initiator SA's. */
struct ike_child_keymat {
	uint16_t encr;
	uint16_t key_bits;
	uint8_t len; /* per direction: key + salt */
	uint8_t i2r[IKE_AEAD_KEYMAT_MAX];
	uint8_t r2i[IKE_AEAD_KEYMAT_MAX];
};

/* esp_encr/esp_key_bits as for ike_aead_keymat_len(); gir NULL (gir_len 0) without PFS; ni/nr
 * the IKE_SA_INIT nonces for the first CHILD_SA, else the CREATE_CHILD_SA's. */
int ike_keys_child_keymat(struct ike_keys *k, uint16_t esp_encr, uint16_t esp_key_bits,
			  const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
			  const uint8_t *nr, size_t nr_len, struct ike_child_keymat **out);
void ike_child_keymat_free(struct ike_child_keymat *km);

#endif /* DVIPSEC_IKE_CRYPTO_H */
