/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's hash tables (IKE SAs by SPI, by the peer's SPIi and address, CHILD SAs by inbound
 * SPI): chained buckets of intrusive links, keyed by 64 bits, grown when they fill (ike_priv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_priv.h"

int
ike_htab_init(struct ike_htab *t, uint32_t buckets)
{
	t->b = calloc(buckets, sizeof(*t->b));
	t->mask = buckets - 1;
	t->n = 0;
	return t->b == NULL ? -ENOMEM : 0;
}

void
ike_htab_fini(struct ike_htab *t)
{
	free(t->b);
	t->b = NULL;
}

static uint32_t
bucket(const struct ike_htab *t, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (uint32_t)key & t->mask;
}

static void
grow(struct ike_htab *t)
{
	uint32_t size = (t->mask + 1) * 2;
	struct ike_htab n = { .b = calloc(size, sizeof(*t->b)), .mask = size - 1, .n = t->n };

	if (n.b == NULL)
		return; /* longer chains, still correct */
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct ike_hlink *l = t->b[i], *next;

		for (; l != NULL; l = next) {
			uint32_t h = bucket(&n, l->key);

			next = l->next;
			l->next = n.b[h];
			n.b[h] = l;
		}
	}
	free(t->b);
	*t = n;
}

void
ike_htab_add(struct ike_htab *t, struct ike_hlink *l, uint64_t key)
{
	uint32_t h;

	if (t->n >= t->mask + 1 && t->mask < (1u << 24))
		grow(t);
	h = bucket(t, key);
	l->key = key;
	l->next = t->b[h];
	t->b[h] = l;
	t->n++;
}

void
ike_htab_del(struct ike_htab *t, struct ike_hlink *l)
{
	struct ike_hlink **pp = &t->b[bucket(t, l->key)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			t->n--;
			return;
		}
	}
}

struct ike_hlink *
ike_htab_first(const struct ike_htab *t, uint64_t key)
{
	struct ike_hlink *l = t->b[bucket(t, key)];

	while (l != NULL && l->key != key)
		l = l->next;
	return l;
}

struct ike_hlink *
ike_htab_next(const struct ike_hlink *l, uint64_t key)
{
	struct ike_hlink *n = l->next;

	while (n != NULL && n->key != key)
		n = n->next;
	return n;
}
