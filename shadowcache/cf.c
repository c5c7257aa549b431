/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The coupling facility front: picks the backend by the name's scheme (cf_backend.h), checks
 * every argument once, and names SAs by tag. Backends: "shm" (embedded, cf_shm.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cf_backend.h"

struct cf {
	const struct cf_backend *be;
	void *impl;
	uint32_t n_slots;
};

static const struct cf_backend *const backends[] = { &cf_backend_shm };

struct cf *
cf_open(const char *name, uint32_t n_slots)
{
	const struct cf_backend *be = NULL;
	const char *where = name;
	const char *colon = strchr(name, ':');
	struct cf *cf;
	int rc;

	if (sodium_init() < 0) { /* cf_sa_tag hashes */
		errno = EIO;
		return NULL;
	}
	if (name[0] == '/') {
		be = &cf_backend_shm; /* a bare shared-memory name */
	} else if (colon != NULL) {
		for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			if (strlen(backends[i]->scheme) == (size_t)(colon - name) &&
			    strncmp(name, backends[i]->scheme, (size_t)(colon - name)) == 0)
				be = backends[i];
		where = colon + 1;
	}
	if (be == NULL) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	cf = calloc(1, sizeof(*cf));
	if (cf == NULL)
		return NULL;
	rc = be->open(where, n_slots, &cf->impl, &cf->n_slots);
	if (rc < 0) {
		free(cf);
		errno = -rc;
		return NULL;
	}
	cf->be = be;
	return cf;
}

void
cf_close(struct cf *cf)
{
	if (cf == NULL)
		return;
	cf->be->close(cf->impl);
	free(cf);
}

uint64_t
cf_seq_take(struct cf *cf, uint32_t slot, uint32_t n, int esn)
{
	if (slot >= cf->n_slots || n == 0)
		return 0;
	return cf->be->seq_take(cf->impl, slot, n, esn ? UINT64_MAX : UINT32_MAX);
}

int
cf_seq_init(struct cf *cf, uint32_t slot, uint64_t last)
{
	if (slot >= cf->n_slots)
		return -EINVAL;
	cf->be->seq_init(cf->impl, slot, last);
	return 0;
}

uint64_t
cf_sa_tag(uint32_t spi, const uint8_t *keymat, size_t keymat_len)
{
	uint8_t in[4] = { (uint8_t)(spi >> 24), (uint8_t)(spi >> 16), (uint8_t)(spi >> 8),
			  (uint8_t)spi };
	crypto_generichash_state st;
	uint8_t out[8];
	uint64_t tag = 0;

	/* BLAKE2b of the SPI and the key: tells SAs apart, reveals nothing of the key */
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, in, sizeof(in));
	crypto_generichash_update(&st, keymat, keymat_len);
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_memzero(&st, sizeof(st));
	for (int i = 0; i < 8; i++)
		tag = tag << 8 | out[i];
	return tag ? tag : 1;
}

int
cf_seq_bind(struct cf *cf, uint32_t slot, uint64_t tag)
{
	if (slot >= cf->n_slots || tag == 0)
		return -EINVAL;
	return cf->be->seq_bind(cf->impl, slot, tag);
}

int
cf_seq_find(const struct cf *cf, uint64_t tag)
{
	if (tag == 0)
		return -ENOENT;
	return cf->be->seq_find(cf->impl, cf->n_slots, tag);
}

uint64_t
cf_seq_peek(const struct cf *cf, uint32_t slot)
{
	if (slot >= cf->n_slots)
		return 0;
	return cf->be->seq_peek(cf->impl, slot);
}

int
cf_replay_store(struct cf *cf, uint32_t slot, uint64_t top)
{
	if (slot >= cf->n_slots)
		return -EINVAL;
	cf->be->replay_store(cf->impl, slot, top);
	return 0;
}

uint64_t
cf_replay_load(const struct cf *cf, uint32_t slot, uint64_t tag)
{
	if (slot >= cf->n_slots || tag == 0)
		return 0;
	return cf->be->replay_load(cf->impl, slot, tag);
}
