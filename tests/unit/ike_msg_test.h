/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers of the IKE message codec tests (ike_msg_test.c). */
#ifndef DVIPSEC_IKE_MSG_TEST_H
#define DVIPSEC_IKE_MSG_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_msg.h"

#define BUF	    (2 * 65536)
#define TEXT	    (256 * 1024)
#define IKT_MAX_VEC 32
#define NULL_IV	    8 /* SK convention of the vectors: AEAD sizes, null cipher */
#define NULL_ICV    16

#define CHECK(cond, ...)                       \
	do {                                   \
		if (!(cond))                   \
			fail_msg(__VA_ARGS__); \
	} while (0)

/* One vector of tests/vectors/ike_scapy_vectors.json (scripts/ike_vectors.py). */
struct vec {
	const char *name;
	uint8_t *b;
	size_t len;
	const char *error; /* ike_err_name() expected, or NULL */
	int err_type;
	const char *dump; /* text form (ike_dump.c) of header and outer chain */
	bool canonical;	  /* our writer makes the same bytes */
	bool has_sk;
	size_t aad_len;
	uint8_t iv[NULL_IV];
	uint8_t icv[NULL_ICV];
	size_t pad_len;
	const char *inner_dump;
};

extern struct vec ikt_vecs[IKT_MAX_VEC];
extern size_t ikt_n_vecs;

/* Load the vector file (exits on error); free it. */
void ikt_load_vectors(const char *path);
void ikt_free_vectors(void);
const struct vec *ikt_find_vec(const char *name);

/* Hex (spaces allowed) to bytes; fails the test if it is not hex or does not fit. */
size_t ikt_hex(const char *hex, uint8_t *out, size_t cap);
/* An exact-size heap copy, so that the sanitizer sees any read past the end. */
uint8_t *ikt_dup(const uint8_t *b, size_t len);
void ikt_set_be32(uint8_t *p, uint32_t v);

/* Text form of header and outer chain / of a chain, into TEXT bytes. */
void ikt_dump_msg(const struct ike_msg *m, char *out);
void ikt_dump_chain(const struct ike_payloads *p, char *out);

/* Locate SK with the null-cipher sizes, unpad and parse the inner chain into *in. */
enum ike_err ikt_open_sk(const struct ike_msg *m, struct ike_sk_layout *lay,
			 struct ike_payloads *in);
/* Write m's header and chains again (in into SK with the null-cipher sizes, no padding). */
int ikt_rebuild(const struct ike_msg *m, const struct ike_payloads *in, uint8_t *out, size_t cap,
		size_t *len, struct ike_sk_layout *lay);

/* Messages our writer makes: build fills the decoded form the parser must give back. */
struct rt_case {
	const char *name;
	void (*build)(struct ike_payloads *s);
	bool in_sk;
};

extern const struct rt_case ikt_rt_cases[];
extern const size_t ikt_n_rt_cases;
extern const struct ike_hdr ikt_hdr;

/* An IKE_AUTH response's payloads (IDi, IDr, CERT, AUTH, CP, SA, N, TSi, TSr). */
void ikt_rt_auth_all(struct ike_payloads *s);
/* Write case c (in SK if c->in_sk) into out; returns the length. */
size_t ikt_build_case(const struct rt_case *c, struct ike_payloads *s, uint8_t *out, size_t cap);

#endif /* DVIPSEC_IKE_MSG_TEST_H */
