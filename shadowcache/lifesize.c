/* SPDX-License-Identifier: BSD-3-Clause */
/* The router's side of lifesize accounting: sums, events, and the adaptive share p (lifesize.h). */
#include <errno.h>

#include "lifesize.h"

static uint16_t
clamp_p(const struct shc_lifesize_sa *sa, uint64_t p)
{
	if (p < sa->p_min_pm)
		return sa->p_min_pm;
	if (p > sa->p_max_pm)
		return sa->p_max_pm;
	return (uint16_t)p;
}

/* All targets together may hold back 1/HEADROOM_DIV of what is left before the soft limit. */
static uint16_t
adapted_p(const struct shc_lifesize_sa *sa)
{
	uint64_t left = sa->reported < sa->soft_bytes ? sa->soft_bytes - sa->reported : 0;
	uint64_t share = left / SHC_LIFESIZE_HEADROOM_DIV / sa->n_targets;
	uint64_t unit = sa->soft_bytes / 1000 ? sa->soft_bytes / 1000 : 1;

	return clamp_p(sa, share / unit);
}

int
shc_lifesize_init(struct shc_lifesize_sa *sa, uint64_t soft_bytes, uint64_t hard_bytes,
		  uint16_t n_targets, uint16_t initial_p_pm)
{
	if (n_targets == 0 || (hard_bytes != 0 && soft_bytes > hard_bytes))
		return -EINVAL;
	*sa = (struct shc_lifesize_sa){ .soft_bytes = soft_bytes,
					.hard_bytes = hard_bytes,
					.n_targets = n_targets,
					.p_max_pm = SHC_LIFESIZE_P_MAX_PM };
	if (soft_bytes == 0) { /* no byte lifetime: reports are for telemetry only */
		sa->p_min_pm = sa->p_pm = SHC_LIFESIZE_P_MAX_PM;
		return 0;
	}
	/* soft + n x p_min x soft <= hard: the sum reaches soft before the truth reaches hard */
	uint64_t gap = hard_bytes ? hard_bytes - soft_bytes : soft_bytes;
	uint64_t p_min = gap * 1000 / ((uint64_t)n_targets * soft_bytes);

	sa->p_min_pm = (uint16_t)(p_min < SHC_LIFESIZE_P_MAX_PM ? p_min : SHC_LIFESIZE_P_MAX_PM);
	sa->p_pm = initial_p_pm ? clamp_p(sa, initial_p_pm) : adapted_p(sa);
	return 0;
}

uint64_t
shc_lifesize_threshold(const struct shc_lifesize_sa *sa)
{
	uint64_t base = sa->soft_bytes ? sa->soft_bytes : UINT32_MAX;
	uint64_t t = base / 1000 * sa->p_pm + base % 1000 * sa->p_pm / 1000;

	return t ? t : 1; /* p_min 0 (soft == hard): every packet reports */
}

uint64_t
shc_lifesize_error_bound(const struct shc_lifesize_sa *sa)
{
	return (uint64_t)sa->n_targets * shc_lifesize_threshold(sa);
}

enum shc_lifesize_event
shc_lifesize_report(struct shc_lifesize_sa *sa, uint64_t bytes)
{
	sa->reported += bytes;
	sa->reports++;
	if (sa->soft_bytes == 0)
		return SHC_LIFESIZE_NONE;

	sa->p_pm = adapted_p(sa);

	if (sa->hard_bytes != 0 && sa->reported >= sa->hard_bytes && !sa->hard_raised) {
		sa->hard_raised = sa->soft_raised = true;
		return SHC_LIFESIZE_HARD;
	}
	if (sa->reported >= sa->soft_bytes && !sa->soft_raised) {
		sa->soft_raised = true;
		return SHC_LIFESIZE_SOFT;
	}
	return SHC_LIFESIZE_NONE;
}

uint16_t
shc_lifesize_successor_p(const struct shc_lifesize_sa *sa)
{
	/* refreshed before its limit: the share it ended with, halved; else a fresh SA is far from
	 * its limit */
	if (!sa->soft_raised)
		return clamp_p(sa, sa->p_pm / 2);
	return sa->p_max_pm;
}
