/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crypto context of one IKE thread: an IPsec-MB manager and a work area, both in libsodium
 * guarded memory. The manager is placed there (imb_set_pointers_mb_mgr) rather than made by
 * alloc_mb_mgr() because its out-of-order lanes keep copies of HMAC key states and digests
 * between jobs. The gather buffer holds PRF and signature inputs that the libraries want in one
 * piece; it grows by whole allocations and is wiped after every use.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_crypto_priv.h"

#define GATHER_MIN 4096

int
ike_crypto_create(struct ike_crypto **out)
{
	struct ike_crypto *c;
	IMB_ARCH arch;
	size_t mgr_size;

	*out = NULL;
	if (sodium_init() < 0)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->work = guarded_zalloc(sizeof(*c->work));
	mgr_size = imb_get_mb_mgr_size();
	c->mgr_mem = guarded_zalloc(mgr_size);
	if (c->work == NULL || c->mgr_mem == NULL)
		goto nomem;
	c->mgr = imb_set_pointers_mb_mgr(c->mgr_mem, 0, 1);
	if (c->mgr == NULL)
		goto nomem;
	init_mb_mgr_auto(c->mgr, &arch);
	if (imb_get_errno(c->mgr) != 0) {
		ike_crypto_free(c);
		return -ENOTSUP;
	}
	*out = c;
	return 0;

nomem:
	ike_crypto_free(c);
	return -ENOMEM;
}

void
ike_crypto_free(struct ike_crypto *c)
{
	if (c == NULL)
		return;
	/* sodium_free wipes before unmapping */
	sodium_free(c->gather);
	sodium_free(c->mgr_mem);
	sodium_free(c->work);
	free(c);
}

/* c->gather with room for len bytes (contents undefined), or NULL */
static uint8_t *
gather_reserve(struct ike_crypto *c, size_t len)
{
	size_t cap;
	uint8_t *p;

	if (len <= c->gather_cap)
		return c->gather;
	cap = c->gather_cap > 0 ? c->gather_cap : GATHER_MIN;
	while (cap < len)
		cap *= 2;
	p = sodium_malloc(cap);
	if (p == NULL)
		return NULL;
	sodium_free(c->gather);
	c->gather = p;
	c->gather_cap = cap;
	return p;
}

int
gather_parts(struct ike_crypto *c, const struct ike_chunk *parts, unsigned n, size_t *len)
{
	size_t total = 0, off = 0;
	uint8_t *g;

	for (unsigned i = 0; i < n; i++) {
		if (parts[i].len > SIZE_MAX - total)
			return -EINVAL;
		total += parts[i].len;
	}
	g = gather_reserve(c, total);
	if (g == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (parts[i].len > 0)
			memcpy(g + off, parts[i].ptr, parts[i].len);
		off += parts[i].len;
	}
	*len = total;
	return 0;
}
