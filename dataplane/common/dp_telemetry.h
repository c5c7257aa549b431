/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tables in telemetry replies. DPDK 22.11 telemetry nests only arrays of numbers or strings, so a
 * table is returned by column: {"id": [1, 2], "name": ["t1", "t2"], ...}, row i across every
 * column (tests/integration/telemetry.py rows() reads them back). The router's and the targets'
 * commands build their tables with these two calls.
 */
#ifndef DVIPSEC_DP_TELEMETRY_H
#define DVIPSEC_DP_TELEMETRY_H

#include <rte_telemetry.h>

enum dp_col_kind { DP_COL_INT, DP_COL_U64, DP_COL_STR };

/* n empty columns of these kinds into col. 0, or -ENOMEM with none of them left allocated. */
int dp_tel_cols_new(struct rte_tel_data **col, const enum dp_col_kind *kinds, int n);

/* The columns into dict d (started by the caller) under names; d owns them afterwards. */
void dp_tel_cols_put(struct rte_tel_data *d, const char *const *names, struct rte_tel_data **col,
		     int n);

#endif /* DVIPSEC_DP_TELEMETRY_H */
