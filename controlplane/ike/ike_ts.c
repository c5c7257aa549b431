/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic selectors (RFC 7296 2.9, 3.13): converting between the wire's address ranges and
 * esp_ts, a responder's narrowing of what the initiator proposed to what the peer's configuration
 * allows (every non-empty intersection, at most ESP_MAX_TS), and an initiator's check that the
 * answer stays inside what it proposed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike_priv.h"

static size_t
alen(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

static const uint8_t *
abytes(const struct esp_addr *a)
{
	return a->family == 6 ? a->v6 : (const uint8_t *)&a->v4;
}

static int
acmp(const struct esp_addr *a, const struct esp_addr *b)
{
	return memcmp(abytes(a), abytes(b), alen(a->family));
}

void
ike_ts_host(const struct esp_addr *a, struct esp_ts *out)
{
	*out = (struct esp_ts){
		.start = *a, .end = *a, .proto = 0, .port_lo = 0, .port_hi = 65535
	};
}

bool
ike_ts_from_wire(const struct ike_selector *s, struct esp_ts *out)
{
	uint8_t family;

	if (s->type == IKE_TS_IPV4_ADDR_RANGE)
		family = 4;
	else if (s->type == IKE_TS_IPV6_ADDR_RANGE)
		family = 6;
	else
		return false;
	memset(out, 0, sizeof(*out));
	out->start.family = out->end.family = family;
	memcpy(family == 6 ? out->start.v6 : (uint8_t *)&out->start.v4, s->start, alen(family));
	memcpy(family == 6 ? out->end.v6 : (uint8_t *)&out->end.v4, s->end, alen(family));
	out->proto = s->proto;
	out->port_lo = s->start_port;
	out->port_hi = s->end_port;
	return true;
}

void
ike_ts_to_wire(const struct esp_ts *t, struct ike_selector *out)
{
	memset(out, 0, sizeof(*out));
	out->type = t->start.family == 6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
	out->proto = t->proto;
	out->start_port = t->port_lo;
	out->end_port = t->port_hi;
	memcpy(out->start, abytes(&t->start), alen(t->start.family));
	memcpy(out->end, abytes(&t->end), alen(t->start.family));
}

void
ike_ts_list_to_wire(const struct esp_ts *t, uint8_t n, struct ike_ts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint8_t i = 0; i < n && i < IKE_MAX_TS; i++)
		ike_ts_to_wire(&t[i], &out->sel[out->n++]);
}

/* a and b overlap: out = a & b. Opaque ports (start > end, RFC 7296 3.13.1) overlap nothing. */
static bool
intersect(const struct esp_ts *a, const struct esp_ts *b, struct esp_ts *out)
{
	if (a->start.family != b->start.family || a->port_lo > a->port_hi ||
	    b->port_lo > b->port_hi)
		return false;
	if (a->proto != 0 && b->proto != 0 && a->proto != b->proto)
		return false;
	*out = *a;
	out->proto = a->proto != 0 ? a->proto : b->proto;
	out->port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo;
	out->port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi;
	out->start = acmp(&a->start, &b->start) > 0 ? a->start : b->start;
	out->end = acmp(&a->end, &b->end) < 0 ? a->end : b->end;
	return out->port_lo <= out->port_hi && acmp(&out->start, &out->end) <= 0;
}

static bool
same(const struct esp_ts *a, const struct esp_ts *b)
{
	return a->start.family == b->start.family && acmp(&a->start, &b->start) == 0 &&
	       acmp(&a->end, &b->end) == 0 && a->proto == b->proto && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi;
}

uint8_t
ike_ts_narrow(const struct ike_ts *offer, const struct esp_ts *allow, uint8_t n_allow,
	      struct esp_ts *out)
{
	uint8_t n = 0;

	for (uint8_t i = 0; i < offer->n; i++) {
		struct esp_ts o;

		if (!ike_ts_from_wire(&offer->sel[i], &o))
			continue;
		for (uint8_t j = 0; j < n_allow && n < ESP_MAX_TS; j++) {
			struct esp_ts x;
			bool dup = false;

			if (!intersect(&o, &allow[j], &x))
				continue;
			for (uint8_t k = 0; k < n && !dup; k++)
				dup = same(&out[k], &x);
			if (!dup)
				out[n++] = x;
		}
	}
	return n;
}

/* inner lies inside outer */
static bool
inside(const struct esp_ts *in, const struct esp_ts *out)
{
	return in->start.family == out->start.family &&
	       (out->proto == 0 || in->proto == out->proto) && in->port_lo <= in->port_hi &&
	       in->port_lo >= out->port_lo && in->port_hi <= out->port_hi &&
	       acmp(&in->start, &out->start) >= 0 && acmp(&in->end, &out->end) <= 0 &&
	       acmp(&in->start, &in->end) <= 0;
}

bool
ike_ts_within(const struct ike_ts *ts, const struct esp_ts *set, uint8_t n_set, struct esp_ts *out,
	      uint8_t *n_out)
{
	*n_out = 0;
	if (ts->n == 0 || ts->n > ESP_MAX_TS)
		return false;
	for (uint8_t i = 0; i < ts->n; i++) {
		struct esp_ts t;
		bool ok = false;

		if (!ike_ts_from_wire(&ts->sel[i], &t))
			return false;
		for (uint8_t j = 0; j < n_set && !ok; j++)
			ok = inside(&t, &set[j]);
		if (!ok)
			return false;
		out[(*n_out)++] = t;
	}
	return true;
}

uint8_t
ike_ts_cfg(const struct ike_sa_obj *sa, const struct ike_peer_cfg *peer, bool local,
	   struct esp_ts *out)
{
	uint8_t n = local ? peer->n_local_ts : peer->n_remote_ts;

	if (n == 0) {
		ike_ts_host(local ? &sa->ep.local : &sa->ep.remote, out);
		return 1;
	}
	memcpy(out, local ? peer->local_ts : peer->remote_ts, n * sizeof(*out));
	return n;
}

void
ike_ts_allowed(const struct ike_sa_obj *sa, const struct ike_peer_cfg *peer,
	       const struct ike_ts *tsi, struct esp_ts *allow_l, uint8_t *n_l,
	       struct esp_ts *allow_r, uint8_t *n_r)
{
	*n_l = ike_ts_cfg(sa, peer, true, allow_l);
	*n_r = ike_ts_cfg(sa, peer, false, allow_r);
	/* behind a NAT the peer proposes the one address it has there: that too */
	if (peer->n_remote_ts == 0 && sa->nat_there && tsi->n > 0 &&
	    ike_ts_from_wire(&tsi->sel[0], &allow_r[1]) &&
	    memcmp(&allow_r[1].start, &allow_r[1].end, sizeof(allow_r[1].start)) == 0)
		*n_r = 2;
}

int
ike_addr_format(const struct esp_addr *a, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, abytes(a), s, sizeof(s)) == NULL)
		snprintf(s, sizeof(s), "?");
	return snprintf(buf, len, "%s", s);
}

int
ike_ts_format(const struct esp_ts *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int n;

	ike_addr_format(&t->start, a, sizeof(a));
	ike_addr_format(&t->end, b, sizeof(b));
	if (acmp(&t->start, &t->end) == 0)
		n = snprintf(buf, len, "%s", a);
	else
		n = snprintf(buf, len, "%s-%s", a, b);
	if (n < 0 || (size_t)n >= len)
		return n;
	if (t->proto != 0)
		n += snprintf(buf + n, len - (size_t)n, " proto %u", t->proto);
	if ((size_t)n < len && (t->port_lo != 0 || t->port_hi != 65535))
		n += snprintf(buf + n, len - (size_t)n, " ports %u-%u", t->port_lo, t->port_hi);
	return n;
}
