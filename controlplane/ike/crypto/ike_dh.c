/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Curve25519 key exchange for IKEv2 (group 31, RFC 8031) on libsodium's X25519. The KE payload
 * carries the 32-byte u-coordinate as it is (RFC 8031 2); a receiver rejects any other length and
 * an all-zero shared secret (a low-order peer value: RFC 8031 2, RFC 7748 6.1). The private key is
 * random, lives in guarded memory and is wiped as soon as the one shared secret is computed.
 */
#include <errno.h>
#include <string.h>

#include "ike_crypto_priv.h"

struct ike_dh {
	uint8_t priv[IKE_X25519_LEN];
	uint8_t pub[IKE_X25519_LEN];
	uint8_t shared[IKE_X25519_LEN];
	uint16_t group;
	bool have_priv;
	bool have_shared;
};

static int
dh_new(uint16_t group, struct ike_dh **out)
{
	struct ike_dh *dh;

	*out = NULL;
	if (group != IKE_DH_CURVE25519)
		return -ENOTSUP;
	/* sodium_malloc aborts before sodium_init; the call is cheap once done */
	if (sodium_init() < 0)
		return -ENOMEM;
	dh = guarded_zalloc(sizeof(*dh));
	if (dh == NULL)
		return -ENOMEM;
	dh->group = group;
	*out = dh;
	return 0;
}

static int
dh_finish(struct ike_dh *dh, struct ike_dh **out)
{
	if (crypto_scalarmult_base(dh->pub, dh->priv) != 0) {
		ike_dh_free(dh);
		return -EIO;
	}
	dh->have_priv = true;
	*out = dh;
	return 0;
}

int
ike_dh_create(uint16_t group, struct ike_dh **out)
{
	struct ike_dh *dh;
	int rc;

	*out = NULL;
	rc = dh_new(group, &dh);
	if (rc < 0)
		return rc;
	randombytes_buf(dh->priv, sizeof(dh->priv));
	return dh_finish(dh, out);
}

int
ike_dh_create_from_private(uint16_t group, const uint8_t *priv, size_t len, struct ike_dh **out)
{
	struct ike_dh *dh;
	int rc;

	*out = NULL;
	if (priv == NULL || len != IKE_X25519_LEN)
		return -EINVAL;
	rc = dh_new(group, &dh);
	if (rc < 0)
		return rc;
	memcpy(dh->priv, priv, IKE_X25519_LEN);
	return dh_finish(dh, out);
}

const uint8_t *
ike_dh_public(const struct ike_dh *dh, size_t *len)
{
	*len = sizeof(dh->pub);
	return dh->pub;
}

int
ike_dh_compute(struct ike_dh *dh, const uint8_t *peer, size_t peer_len)
{
	if (!dh->have_priv)
		return -EALREADY;
	if (peer == NULL || peer_len != IKE_X25519_LEN)
		return -EINVAL;
	/* libsodium refuses an all-zero result itself; the explicit check is RFC 8031's MUST */
	if (crypto_scalarmult(dh->shared, dh->priv, peer) != 0 ||
	    sodium_is_zero(dh->shared, sizeof(dh->shared))) {
		sodium_memzero(dh->shared, sizeof(dh->shared));
		return -EBADMSG;
	}
	sodium_memzero(dh->priv, sizeof(dh->priv));
	dh->have_priv = false;
	dh->have_shared = true;
	return 0;
}

const uint8_t *
ike_dh_shared(const struct ike_dh *dh, size_t *len)
{
	if (!dh->have_shared) {
		*len = 0;
		return NULL;
	}
	*len = sizeof(dh->shared);
	return dh->shared;
}

void
ike_dh_free(struct ike_dh *dh)
{
	sodium_free(dh);
}
