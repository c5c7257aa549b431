/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 (RFC 7296) message codec, sans-I/O: datagram bytes in, typed payloads out, and a writer
 * that appends payloads into a caller's buffer. Nothing here touches a socket, allocates or does
 * crypto; the exchange engine sits on top and the crypto suite (crypto/) fills the SK payload.
 *
 * Receiving (each step a separate call so the engine can answer between them):
 *   1. ike_udp4500_classify() on port 4500: strips the non-ESP marker (or says ESP / keepalive).
 *   2. ike_msg_parse(): the IKE header (length must equal the datagram) and the unencrypted
 *      payload chain. IKE_ERR_MAJOR_VERSION still fills the header, for INVALID_MAJOR_VERSION.
 *   3. ike_sk_locate(msg, iv_len, icv_len): AAD, IV, ciphertext and ICV offsets of the SK payload
 *      (8-byte IV and 16-byte ICV for AES-GCM, RFC 5282, and ChaCha20-Poly1305, RFC 7634).
 *   4. the crypto layer verifies and decrypts; ike_sk_unpad() drops padding and pad length;
 *   5. ike_payloads_parse(lay.first_inner, plaintext, len, lay.ct_off, true, &inner).
 * Decoded payloads point into the parsed buffer (which must outlive them) or are copied into
 * fixed arrays; every count has a cap and exceeding it is a named error, never a truncation.
 *
 * Sending: ike_wr_init() writes the header, each ike_wr_*() appends one payload and chains it to
 * the previous one's next-payload field, ike_wr_sk_open() / ike_wr_sk_close() bracket the payloads
 * to encrypt and leave room for IV, padding, pad length and ICV (the returned layout tells the
 * crypto layer where), ike_wr_finish() returns the length. Errors are sticky: write everything,
 * check once at the end. What the writer accepts, the parser accepts.
 *
 * Received reserved bits are ignored (RFC 7296 2.5); the writer sends them as zero. Unknown payload
 * types are kept in the chain list and skipped unless critical (IKE_ERR_UNSUPPORTED_CRITICAL, the
 * type in err_type: the engine answers UNSUPPORTED_CRITICAL_PAYLOAD with it).
 */
#ifndef DVIPSEC_IKE_MSG_H
#define DVIPSEC_IKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_HDR_LEN	       28
#define IKE_PAYLOAD_HDR_LEN    4
#define IKE_NON_ESP_MARKER_LEN 4
#define IKE_VERSION	       0x20 /* major 2, minor 0 */
#define IKE_NONCE_MIN	       16
#define IKE_NONCE_MAX	       256

/* Caps of the decoded form (exceeding one is an error named after it). strongSwan's default IKE
 * proposal alone carries about 30 transforms, hence 64. */
#define IKE_MAX_PAYLOADS   48 /* in one chain, unknown ones included */
#define IKE_MAX_PROPOSALS  16
#define IKE_MAX_TRANSFORMS 64 /* per proposal */
#define IKE_MAX_TS	   8  /* selectors per TS payload */
#define IKE_MAX_NOTIFY	   24
#define IKE_MAX_DELETE	   8
#define IKE_MAX_VENDOR	   16
#define IKE_MAX_CERT	   4 /* CERT payloads; CERTREQ has its own cap of the same size */

/* Why a message is refused: one table, counted by reason (ike_err_name for telemetry). */
#define IKE_ERRORS(X)                                                                              \
	X(TRUNCATED, "truncated",                                                                  \
	  "shorter than the IKE header, or a chain cut in a payload header")                       \
	X(BAD_LENGTH, "bad_length", "IKE header length differs from the datagram length")          \
	X(OLD_VERSION, "old_version", "major version below 2 (IKEv1)")                             \
	X(MAJOR_VERSION, "major_version", "major version above 2: answer INVALID_MAJOR_VERSION")   \
	X(PAYLOAD_LENGTH, "payload_length", "payload length below 4 or past the end of the chain") \
	X(TRAILING, "trailing_bytes", "bytes after the last payload of the chain")                 \
	X(UNSUPPORTED_CRITICAL, "unsupported_critical", "unknown payload type, critical bit set")  \
	X(TOO_MANY_PAYLOADS, "too_many_payloads", "more payloads of a type than the parser keeps") \
	X(DUPLICATE, "duplicate_payload",                                                          \
	  "a second SA, KE, IDi, IDr, AUTH, Nonce, TSi, TSr or CP")                                \
	X(SK_NOT_LAST, "sk_not_last", "SK payload is not the last payload of the message")         \
	X(SK_INSIDE, "sk_inside", "SK payload inside the encrypted payloads")                      \
	X(SK_MISSING, "sk_missing", "no SK payload to decrypt")                                    \
	X(SK_SHORT, "sk_short", "SK payload too short for IV, pad length and ICV")                 \
	X(BAD_PAD, "bad_pad", "pad length longer than the decrypted payloads")                     \
	X(BAD_PROPOSAL, "bad_proposal", "proposal length, last flag, number, SPI or count wrong")  \
	X(TOO_MANY_PROPOSALS, "too_many_proposals", "more proposals than IKE_MAX_PROPOSALS")       \
	X(BAD_TRANSFORM, "bad_transform", "transform length or last flag wrong")                   \
	X(TOO_MANY_TRANSFORMS, "too_many_transforms", "more transforms than IKE_MAX_TRANSFORMS")   \
	X(BAD_ATTRIBUTE, "bad_attribute", "transform attribute of wrong format or length")         \
	X(BAD_KE, "bad_ke", "KE payload without key exchange data")                                \
	X(BAD_ID, "bad_id", "ID payload too short or address of the wrong length")                 \
	X(BAD_AUTH, "bad_auth", "AUTH payload without authentication data")                        \
	X(BAD_NONCE, "bad_nonce", "nonce not 16..256 bytes")                                       \
	X(BAD_NOTIFY, "bad_notify", "notify SPI longer than the payload")                          \
	X(BAD_DELETE, "bad_delete", "delete protocol, SPI size or SPI count inconsistent")         \
	X(BAD_TS, "bad_ts", "traffic selector count or length wrong")                              \
	X(TOO_MANY_TS, "too_many_ts", "more traffic selectors than IKE_MAX_TS")                    \
	X(BAD_CERT, "bad_cert", "CERT or CERTREQ payload without an encoding")                     \
	X(BAD_CP, "bad_cp", "CP payload shorter than its fixed fields")

enum ike_err {
	IKE_OK = 0,
#define IKE_ERR_ENUM(sym, name, desc) IKE_ERR_##sym,
	IKE_ERRORS(IKE_ERR_ENUM)
#undef IKE_ERR_ENUM
		IKE_ERR_COUNT
};

const char *ike_err_name(enum ike_err e);
const char *ike_err_desc(enum ike_err e);

enum ike_exchange {
	IKE_SA_INIT = 34,
	IKE_AUTH = 35,
	IKE_CREATE_CHILD_SA = 36,
	IKE_INFORMATIONAL = 37,
};

/* Header flags; the other bits are reserved (ignored on receipt, kept as received). */
#define IKE_FLAG_INITIATOR 0x08
#define IKE_FLAG_VERSION   0x10
#define IKE_FLAG_RESPONSE  0x20

/* Payload types (RFC 7296 3.2): number, symbol, name. */
#define IKE_PAYLOAD_TYPES(X)      \
	X(33, SA, "SA")           \
	X(34, KE, "KE")           \
	X(35, IDI, "IDi")         \
	X(36, IDR, "IDr")         \
	X(37, CERT, "CERT")       \
	X(38, CERTREQ, "CERTREQ") \
	X(39, AUTH, "AUTH")       \
	X(40, NONCE, "Ni/Nr")     \
	X(41, NOTIFY, "N")        \
	X(42, DELETE, "D")        \
	X(43, VENDOR, "V")        \
	X(44, TSI, "TSi")         \
	X(45, TSR, "TSr")         \
	X(46, SK, "SK")           \
	X(47, CP, "CP")

enum ike_payload_type {
	IKE_PT_NONE = 0,
#define IKE_PT_ENUM(num, sym, name) IKE_PT_##sym = num,
	IKE_PAYLOAD_TYPES(IKE_PT_ENUM)
#undef IKE_PT_ENUM
};

/* "SA", "N", ...; NULL for a type the codec does not decode (EAP 48, SKF 53, ...). */
const char *ike_payload_name(uint8_t type);

enum ike_proto {
	IKE_PROTO_IKE = 1,
	IKE_PROTO_AH = 2,
	IKE_PROTO_ESP = 3,
};

enum ike_transform_type {
	IKE_XF_ENCR = 1,
	IKE_XF_PRF = 2,
	IKE_XF_INTEG = 3,
	IKE_XF_DH = 4,
	IKE_XF_ESN = 5,
};

/* Transform IDs dvipsec negotiates (IANA "IKEv2 Parameters"); others pass through as numbers. */
#define IKE_ENCR_AES_CBC	   12
#define IKE_ENCR_AES_GCM_16	   20
#define IKE_ENCR_CHACHA20_POLY1305 28
#define IKE_PRF_HMAC_SHA2_256	   5
#define IKE_PRF_HMAC_SHA2_384	   6
#define IKE_PRF_HMAC_SHA2_512	   7
#define IKE_INTEG_NONE		   0
#define IKE_INTEG_SHA2_256_128	   12
#define IKE_DH_MODP2048		   14
#define IKE_DH_ECP256		   19
#define IKE_DH_CURVE25519	   31
#define IKE_ESN_NO		   0
#define IKE_ESN_YES		   1
#define IKE_ATTR_KEY_LENGTH	   14 /* the only transform attribute defined; TV format */

enum ike_id_type {
	IKE_ID_IPV4_ADDR = 1,
	IKE_ID_FQDN = 2,
	IKE_ID_RFC822_ADDR = 3,
	IKE_ID_IPV6_ADDR = 5,
	IKE_ID_DER_ASN1_DN = 9,
	IKE_ID_DER_ASN1_GN = 10,
	IKE_ID_KEY_ID = 11,
};

enum ike_auth_method {
	IKE_AUTH_RSA_SIG = 1,
	IKE_AUTH_PSK = 2,
	IKE_AUTH_DSS_SIG = 3,
	IKE_AUTH_DIGITAL_SIG = 14, /* RFC 7427 */
};

enum ike_ts_type {
	IKE_TS_IPV4_ADDR_RANGE = 7,
	IKE_TS_IPV6_ADDR_RANGE = 8,
};

#define IKE_CERT_X509_SIG 4

/* Notify message types (RFC 7296 3.10.1, and the status types strongSwan sends): number, symbol.
 * Errors are below 16384; status types from 16384 up (unknown ones are ignored on receipt). */
#define IKE_NOTIFY_TYPES(X)                       \
	X(1, UNSUPPORTED_CRITICAL_PAYLOAD)        \
	X(4, INVALID_IKE_SPI)                     \
	X(5, INVALID_MAJOR_VERSION)               \
	X(7, INVALID_SYNTAX)                      \
	X(9, INVALID_MESSAGE_ID)                  \
	X(11, INVALID_SPI)                        \
	X(14, NO_PROPOSAL_CHOSEN)                 \
	X(17, INVALID_KE_PAYLOAD)                 \
	X(24, AUTHENTICATION_FAILED)              \
	X(34, SINGLE_PAIR_REQUIRED)               \
	X(35, NO_ADDITIONAL_SAS)                  \
	X(36, INTERNAL_ADDRESS_FAILURE)           \
	X(37, FAILED_CP_REQUIRED)                 \
	X(38, TS_UNACCEPTABLE)                    \
	X(39, INVALID_SELECTORS)                  \
	X(43, TEMPORARY_FAILURE)                  \
	X(44, CHILD_SA_NOT_FOUND)                 \
	X(16384, INITIAL_CONTACT)                 \
	X(16385, SET_WINDOW_SIZE)                 \
	X(16386, ADDITIONAL_TS_POSSIBLE)          \
	X(16387, IPCOMP_SUPPORTED)                \
	X(16388, NAT_DETECTION_SOURCE_IP)         \
	X(16389, NAT_DETECTION_DESTINATION_IP)    \
	X(16390, COOKIE)                          \
	X(16391, USE_TRANSPORT_MODE)              \
	X(16392, HTTP_CERT_LOOKUP_SUPPORTED)      \
	X(16393, REKEY_SA)                        \
	X(16394, ESP_TFC_PADDING_NOT_SUPPORTED)   \
	X(16395, NON_FIRST_FRAGMENTS_ALSO)        \
	X(16396, MOBIKE_SUPPORTED)                \
	X(16404, MULTIPLE_AUTH_SUPPORTED)         \
	X(16406, REDIRECT_SUPPORTED)              \
	X(16417, EAP_ONLY_AUTHENTICATION)         \
	X(16418, CHILDLESS_IKEV2_SUPPORTED)       \
	X(16420, IKEV2_MESSAGE_ID_SYNC_SUPPORTED) \
	X(16430, IKEV2_FRAGMENTATION_SUPPORTED)   \
	X(16431, SIGNATURE_HASH_ALGORITHMS)       \
	X(16444, SA_RESOURCE_INFO)

enum ike_notify_type {
#define IKE_N_ENUM(num, sym) IKE_N_##sym = num,
	IKE_NOTIFY_TYPES(IKE_N_ENUM)
#undef IKE_N_ENUM
};

#define IKE_N_ERROR_MAX 16383 /* types up to this are errors */

/* "COOKIE" etc.; NULL for a type not in the table. */
const char *ike_notify_name(uint16_t type);

/* ---- decoded form (also the writer's input) ---- */

struct ike_hdr {
	uint64_t spi_i; /* the 8 SPI bytes read big-endian */
	uint64_t spi_r;
	uint8_t next_payload;
	uint8_t major; /* parse only: the writer always sends IKE_VERSION */
	uint8_t minor;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

struct ike_transform {
	uint8_t type;
	uint16_t id;
	bool has_key_len;
	uint16_t key_len;  /* bits, from the Key Length attribute */
	bool unknown_attr; /* parse only: an attribute other than Key Length was present (RFC 7296
			    * 3.3.6: such a transform is not acceptable); the writer ignores it */
};

struct ike_proposal {
	uint8_t num;
	uint8_t proto;	  /* enum ike_proto */
	uint8_t spi_size; /* 0, 4 or 8 */
	uint8_t spi[8];
	uint8_t n_transforms;
	struct ike_transform xf[IKE_MAX_TRANSFORMS];
};

struct ike_sa {
	uint8_t n_proposals;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
};

struct ike_ke {
	uint16_t group;
	const uint8_t *data;
	size_t len;
};

/* body/body_len (parse only): the payload body from the ID type on, reserved bytes as received:
 * what RFC 7296 2.15 signs (IDi'/IDr'). */
struct ike_id {
	uint8_t type; /* enum ike_id_type */
	const uint8_t *data;
	size_t len;
	const uint8_t *body;
	size_t body_len;
};

struct ike_auth {
	uint8_t method; /* enum ike_auth_method */
	const uint8_t *data;
	size_t len;
};

struct ike_nonce {
	const uint8_t *data;
	size_t len;
};

struct ike_notify {
	uint8_t proto; /* 0 or enum ike_proto */
	uint8_t spi_size;
	uint16_t type; /* enum ike_notify_type or any other */
	const uint8_t *spi;
	const uint8_t *data;
	size_t len;
};

/* IKE: spi_size 0 and no SPIs; AH/ESP: spi_size 4, n_spi SPIs of 4 bytes at spis. */
struct ike_delete {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t n_spi;
	const uint8_t *spis;
};

struct ike_vendor {
	const uint8_t *data;
	size_t len;
};

/* CERT and CERTREQ: encoding and raw data. */
struct ike_cert {
	uint8_t encoding;
	const uint8_t *data;
	size_t len;
};

/* Types 7 and 8 are decoded (IPv4 uses the first 4 address bytes); any other type is kept as the
 * raw bytes after its 4-byte selector header, for the engine to refuse or ignore. */
struct ike_selector {
	uint8_t type;
	uint8_t proto; /* IP protocol, 0 = any */
	uint16_t start_port;
	uint16_t end_port;
	uint8_t start[16];
	uint8_t end[16];
	const uint8_t *raw;
	size_t raw_len;
};

struct ike_ts {
	uint8_t n;
	struct ike_selector sel[IKE_MAX_TS];
};

/* CP (RFC 7296 3.15): type and the attributes, kept raw. */
struct ike_cp {
	uint8_t cfg_type;
	const uint8_t *attrs;
	size_t len;
};

/* One entry per payload of a chain, in wire order; index is the entry's position in the per-type
 * array (notify[], del[], ...), 0 for single payloads and unknown types. */
struct ike_payload {
	uint8_t type;
	bool critical;
	uint8_t index;
	const uint8_t *body; /* after the 4-byte generic header */
	size_t len;
};

/* SK (outer chain only): where it sits; ike_sk_locate() turns this into crypto offsets. */
struct ike_sk {
	uint8_t next_payload; /* type of the first encrypted payload */
	size_t hdr_off;	      /* of the SK generic header, from the start of the message */
	size_t body_len;      /* IV + ciphertext + ICV */
};

/* One decoded chain, about 14 KB (the SA caps dominate): keep it in the engine's per-exchange
 * context rather than on a small stack. */
struct ike_payloads {
	uint8_t first; /* type of the first payload (IKE_PT_NONE: empty chain) */
	uint8_t n;
	struct ike_payload pl[IKE_MAX_PAYLOADS];
	uint32_t seen; /* bit (type - IKE_PT_SA) set for each decoded type present */
	struct ike_sa sa;
	struct ike_ke ke;
	struct ike_id idi;
	struct ike_id idr;
	struct ike_auth auth;
	struct ike_nonce nonce;
	struct ike_ts tsi;
	struct ike_ts tsr;
	struct ike_cp cp;
	struct ike_sk sk;
	uint8_t n_notify;
	uint8_t n_del;
	uint8_t n_vendor;
	uint8_t n_cert;
	uint8_t n_certreq;
	struct ike_notify notify[IKE_MAX_NOTIFY];
	struct ike_delete del[IKE_MAX_DELETE];
	struct ike_vendor vendor[IKE_MAX_VENDOR];
	struct ike_cert cert[IKE_MAX_CERT];
	struct ike_cert certreq[IKE_MAX_CERT];
	/* On error: the type of the payload being decoded (for UNSUPPORTED_CRITICAL: the unknown
	 * type to report) and the offset of its generic header in the parsed buffer. */
	uint8_t err_type;
	size_t err_off;
};

struct ike_msg {
	struct ike_hdr hdr;
	const uint8_t *raw; /* the message as parsed (after any non-ESP marker) */
	size_t len;
	struct ike_payloads pl; /* the unencrypted chain; SK, if any, is last */
};

static inline bool
ike_has(const struct ike_payloads *p, uint8_t type)
{
	return type >= IKE_PT_SA && type <= IKE_PT_CP && (p->seen >> (type - IKE_PT_SA) & 1);
}

/* The first notify of this type, or NULL. */
const struct ike_notify *ike_find_notify(const struct ike_payloads *p, uint16_t type);

/* SPI i of a Delete payload (AH/ESP), read big-endian. i < d->n_spi. */
uint32_t ike_delete_spi(const struct ike_delete *d, uint16_t i);

/* ---- receiving ---- */

enum ike_udp_kind {
	IKE_UDP_IKE,	   /* non-ESP marker stripped: *ike, *ike_len are the IKE message */
	IKE_UDP_ESP,	   /* ESP-in-UDP (RFC 3948): nonzero SPI */
	IKE_UDP_KEEPALIVE, /* the one-byte 0xff NAT-T keepalive */
	IKE_UDP_RUNT,	   /* anything else too short to be one of these */
};

/* Classify a UDP payload received on port 4500. */
enum ike_udp_kind ike_udp4500_classify(const uint8_t *udp_payload, size_t len, const uint8_t **ike,
				       size_t *ike_len);

/* Prepend the 4-byte zero non-ESP marker to the len-byte message in buf (memmove). Return 0, or
 * -ENOSPC if cap < len + 4. */
int ike_non_esp_add(uint8_t *buf, size_t cap, size_t len);

/* The 28-byte header alone; h is filled whenever at least 28 bytes were there, even on
 * IKE_ERR_MAJOR_VERSION / IKE_ERR_OLD_VERSION / IKE_ERR_BAD_LENGTH. */
enum ike_err ike_hdr_parse(const uint8_t *buf, size_t len, struct ike_hdr *h);

/* Header and unencrypted payload chain of one datagram of len bytes (marker already stripped). */
enum ike_err ike_msg_parse(const uint8_t *buf, size_t len, struct ike_msg *m);

/* A payload chain of exactly len bytes starting with type first. encrypted: the chain came out of
 * an SK payload (SK itself is then an error); otherwise SK must be the last payload and may
 * extend to the end of buf. base is added to the offsets p reports (err_off, sk.hdr_off): the
 * chain's offset in its message, or 0. */
enum ike_err ike_payloads_parse(uint8_t first, const uint8_t *buf, size_t len, size_t base,
				bool encrypted, struct ike_payloads *p);

/* Where the crypto layer finds the SK parts; every offset is from the start of the IKE message
 * (IKE header byte 0). AAD = message[0, aad_len) (IKE header through the SK generic header,
 * RFC 5282 5.1); iv_off == aad_len; the encrypted part is [ct_off, ct_off + ct_len): inner
 * payloads, padding and the pad length byte; the ICV ends the message. */
struct ike_sk_layout {
	size_t aad_len;
	size_t iv_off;
	size_t iv_len;
	size_t ct_off;
	size_t ct_len;
	size_t icv_off;
	size_t icv_len;
	uint8_t first_inner; /* the SK payload's next-payload field */
};

/* IKE_ERR_SK_MISSING, IKE_ERR_SK_SHORT (fewer than iv_len + 1 + icv_len bytes) or IKE_OK. */
enum ike_err ike_sk_locate(const struct ike_msg *m, size_t iv_len, size_t icv_len,
			   struct ike_sk_layout *out);

/* Decrypted [ct_off, ct_off + ct_len): the length of the inner payloads, without padding and pad
 * length (padding content is not checked, RFC 7296 3.14). IKE_ERR_BAD_PAD if it does not fit. */
enum ike_err ike_sk_unpad(const uint8_t *plain, size_t len, size_t *inner_len);

/* ---- sending ---- */

struct ike_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t np_off; /* the byte that receives the next payload's type */
	size_t sk_off; /* the open SK payload's header; 0 when none */
	size_t sk_iv_len;
	bool sk_closed;
	int err; /* first error, sticky: -ENOSPC, -EMSGSIZE (a payload over 64 KiB), -EINVAL */
	size_t last_off; /* body of the last payload written (e.g. IDr' for AUTH) */
	size_t last_len;
};

/* Start a message in buf: the header from h (spi_i, spi_r, exchange, flags, msg_id; version
 * IKE_VERSION; next payload and length filled in later). */
void ike_wr_init(struct ike_writer *w, uint8_t *buf, size_t cap, const struct ike_hdr *h);

/* Each appends one payload and returns w->err (0 while all is well). The checks mirror the
 * parser's, so a message that writes without error parses. */
int ike_wr_sa(struct ike_writer *w, const struct ike_sa *sa);
int ike_wr_ke(struct ike_writer *w, const struct ike_ke *ke);
int ike_wr_id(struct ike_writer *w, uint8_t type /* IKE_PT_IDI, IKE_PT_IDR */,
	      const struct ike_id *id);
int ike_wr_cert(struct ike_writer *w, uint8_t type /* IKE_PT_CERT, IKE_PT_CERTREQ */,
		const struct ike_cert *c);
int ike_wr_auth(struct ike_writer *w, const struct ike_auth *a);
int ike_wr_nonce(struct ike_writer *w, const uint8_t *nonce, size_t len);
int ike_wr_notify(struct ike_writer *w, const struct ike_notify *n);
int ike_wr_delete(struct ike_writer *w, const struct ike_delete *d);
int ike_wr_vendor(struct ike_writer *w, const uint8_t *vid, size_t len);
int ike_wr_ts(struct ike_writer *w, uint8_t type /* IKE_PT_TSI, IKE_PT_TSR */,
	      const struct ike_ts *ts);
int ike_wr_cp(struct ike_writer *w, const struct ike_cp *cp);
/* Any payload as given (unknown types, or tests writing malformed bodies). */
int ike_wr_raw(struct ike_writer *w, uint8_t type, bool critical, const uint8_t *body, size_t len);
/* Every payload of a decoded chain, in its order (SK excluded: use sk_open/close). */
int ike_wr_chain(struct ike_writer *w, const struct ike_payloads *p);

/* Open the SK payload: its header and iv_len bytes for the IV. Payloads written until
 * ike_wr_sk_close() are the ones to encrypt; SK must come last, so nothing may follow the close. */
int ike_wr_sk_open(struct ike_writer *w, size_t iv_len);

/* Pad the inner payloads to a multiple of pad_block (1 for AEADs with a 1-byte block: no padding)
 * with zeros, write the pad length byte, leave icv_len zero bytes, set the SK and header lengths
 * and describe it all in *out. The crypto layer then writes the IV, encrypts the ct range in place
 * and writes the ICV: nothing else may change after this. */
int ike_wr_sk_close(struct ike_writer *w, size_t pad_block, size_t icv_len,
		    struct ike_sk_layout *out);

/* Set the header length and return the message length in *len; or w->err (-EINVAL if an SK
 * payload was opened and not closed). */
int ike_wr_finish(struct ike_writer *w, size_t *len);

/* ---- text form ---- */

/* One line per header, payload, proposal, transform and selector, every decoded field (bytes in
 * hex), for logs and for comparing decodes in tests (scripts/ike_vectors.py prints the same form
 * from scapy). Omitted, as a receiver must ignore them: reserved bits and bytes, the minor version,
 * the critical bit of known payloads, padding. Returns the length it needed (like snprintf);
 * out is NUL-terminated and truncated when cap is too small. */
size_t ike_hdr_dump(const struct ike_hdr *h, char *out, size_t cap);
size_t ike_payloads_dump(const struct ike_payloads *p, char *out, size_t cap);

#endif /* DVIPSEC_IKE_MSG_H */
