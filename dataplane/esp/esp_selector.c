/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic selector check after decryption (RFC 4301 5.2, "tunnel check"): the inner source must
 * fall in the peer's selectors and the inner destination in ours, protocol and ports included.
 */
#include "esp_priv.h"

/* -- selectors --------------------------------------------------------------------------------- */

static bool
addr_in_range(const struct esp_ts *ts, uint8_t family, const uint8_t *addr)
{
	if (ts->start.family != family)
		return false;
	if (family == 4) {
		uint32_t a = load_be32(addr);

		return a >= rte_be_to_cpu_32(ts->start.v4) && a <= rte_be_to_cpu_32(ts->end.v4);
	}
	return memcmp(addr, ts->start.v6, 16) >= 0 && memcmp(addr, ts->end.v6, 16) <= 0;
}

static bool
ts_list_match(const struct esp_ts *ts, uint8_t n, uint8_t family, const uint8_t *addr,
	      uint8_t proto, int port)
{
	if (n == 0)
		return true;
	for (uint8_t i = 0; i < n; i++) {
		if (!addr_in_range(&ts[i], family, addr))
			continue;
		if (ts[i].proto != 0 && ts[i].proto != proto)
			continue;
		if (port >= 0 && (port < ts[i].port_lo || port > ts[i].port_hi))
			continue;
		return true;
	}
	return false;
}

static bool
selectors_match(const struct esp_sa_params *p, const uint8_t *ip, uint32_t len, bool outbound)
{
	uint8_t family = ip[0] >> 4;
	const uint8_t *src, *dst;
	uint8_t proto;
	uint32_t l4;
	int sport = -1, dport = -1;

	if (p->n_local_ts == 0 && p->n_remote_ts == 0)
		return true; /* an SA without selectors (static, lab) covers everything */
	if (family == 4) {
		src = ip + 12;
		dst = ip + 16;
		proto = ip[9];
		l4 = (ip[0] & 0xf) * 4u;
		if ((load_be16(ip + 6) & 0x1fff) != 0)
			l4 = len; /* non-first fragment: no ports */
	} else {
		src = ip + 8;
		dst = ip + 24;
		proto = ip[6];
		l4 = 40;
	}
	if ((proto == 6 || proto == 17 || proto == 132) && l4 + 4 <= len) {
		sport = load_be16(ip + l4);
		dport = load_be16(ip + l4 + 2);
	}
	if (outbound) /* our side is the source */
		return ts_list_match(p->local_ts, p->n_local_ts, family, src, proto, sport) &&
		       ts_list_match(p->remote_ts, p->n_remote_ts, family, dst, proto, dport);
	/* inbound: the peer's side is the source */
	return ts_list_match(p->remote_ts, p->n_remote_ts, family, src, proto, sport) &&
	       ts_list_match(p->local_ts, p->n_local_ts, family, dst, proto, dport);
}

bool
esp_selectors_match(const struct esp_sa_params *p, const uint8_t *ip, uint32_t len)
{
	return selectors_match(p, ip, len, false);
}

bool
esp_selectors_match_out(const struct esp_sa_params *p, const uint8_t *ip, uint32_t len)
{
	return selectors_match(p, ip, len, true);
}
