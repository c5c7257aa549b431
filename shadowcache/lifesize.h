/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lifesize accounting across targets (ARCHITECTURE.md section 5). Every target counts the inbound
 * bytes of each SA and reports to the router once its count since the last report reaches a
 * threshold, a per-mille share p of the SA's soft byte limit. The router sums the reports: the sum
 * trails the truth by at most (targets x threshold), the error bound. It raises the soft event
 * (rekey) when the sum reaches the soft limit and the hard event at the hard limit.
 *
 * p adapts so the error stays small where it matters and reports stay rare where it does not:
 *   - after each report the router sets p so that all targets together may hold back at most
 *     1/headroom_div of the bytes still left before the soft limit (far from it: large p, few
 *     reports; near it: small p);
 *   - p never drops below p_min, chosen so that soft + targets x p_min x soft <= hard: when the sum
 *     reaches soft, the true count is still below hard, so no target passes the hard limit before
 *     the rekey, up to the one packet per target that is counted after it arrived (which matters
 *     only when hard == soft); a p_max caps it;
 *   - an SA refreshed early (rekeyed before its sum reached the soft limit: time lifetime, peer
 *     rekey) passes half its last p to its successor; one that ran to its limit passes p_max (its
 *     successor starts far from its own limit).
 * Pure arithmetic: no DPDK, no I/O; the control channel carries the reports and the thresholds.
 */
#ifndef DVIPSEC_LIFESIZE_H
#define DVIPSEC_LIFESIZE_H

#include <stdbool.h>
#include <stdint.h>

#define SHC_LIFESIZE_P_MAX_PM	  100 /* 10% of the soft limit per target between reports */
#define SHC_LIFESIZE_HEADROOM_DIV 4   /* held-back bytes <= 1/4 of what is left before soft */

enum shc_lifesize_event {
	SHC_LIFESIZE_NONE = 0,
	SHC_LIFESIZE_SOFT, /* rekey now */
	SHC_LIFESIZE_HARD, /* the SA must not carry more */
};

/* The router's view of one SA. */
struct shc_lifesize_sa {
	uint64_t soft_bytes; /* 0: no byte lifetime */
	uint64_t hard_bytes;
	uint16_t n_targets;
	uint16_t p_min_pm;
	uint16_t p_max_pm;
	uint16_t p_pm;	   /* current share, per mille of soft_bytes */
	uint64_t reported; /* sum of the targets' reports */
	uint64_t reports;
	bool soft_raised;
	bool hard_raised;
};

/* A target's counter for one SA. */
struct shc_lifesize_local {
	uint64_t since_report;
	uint64_t threshold; /* bytes; from the router */
};

/* Sets up the router's view. initial_p_pm 0: by the adaptive rule (a quarter of the soft limit
 * shared by the targets), else a successor's share (shc_lifesize_successor_p). Returns 0 or -EINVAL
 * (soft > hard, no targets). */
int shc_lifesize_init(struct shc_lifesize_sa *sa, uint64_t soft_bytes, uint64_t hard_bytes,
		      uint16_t n_targets, uint16_t initial_p_pm);

/* Bytes a target may count before it must report (at least 1). */
uint64_t shc_lifesize_threshold(const struct shc_lifesize_sa *sa);

/* How far the sum may trail the truth right now: n_targets x threshold. */
uint64_t shc_lifesize_error_bound(const struct shc_lifesize_sa *sa);

/* A target's report of bytes counted since its last one. Adapts p (the caller sends the new
 * threshold with its answer) and returns the event the sum crossed, once per event. */
enum shc_lifesize_event shc_lifesize_report(struct shc_lifesize_sa *sa, uint64_t bytes);

/* The share the SA replacing this one starts with: its own last share halved after an early
 * refresh, p_max after one that ran to its soft limit. */
uint16_t shc_lifesize_successor_p(const struct shc_lifesize_sa *sa);

/* Target side: count bytes; true when a report is due. */
static inline bool
shc_lifesize_count(struct shc_lifesize_local *l, uint64_t bytes)
{
	l->since_report += bytes;
	return l->since_report >= l->threshold;
}

/* Target side: the bytes to report, and the counter restarts. */
static inline uint64_t
shc_lifesize_take(struct shc_lifesize_local *l)
{
	uint64_t n = l->since_report;

	l->since_report = 0;
	return n;
}

#endif /* DVIPSEC_LIFESIZE_H */
