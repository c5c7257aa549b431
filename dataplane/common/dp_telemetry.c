/* SPDX-License-Identifier: BSD-3-Clause */
/* Column tables in telemetry replies (dp_telemetry.h). */
#include <errno.h>
#include <stddef.h>

#include "dp_telemetry.h"

int
dp_tel_cols_new(struct rte_tel_data **col, const enum dp_col_kind *kinds, int n)
{
	for (int c = 0; c < n; c++) {
		col[c] = rte_tel_data_alloc();
		if (col[c] == NULL) {
			while (c-- > 0)
				rte_tel_data_free(col[c]);
			return -ENOMEM;
		}
		rte_tel_data_start_array(col[c], kinds[c] == DP_COL_INT	  ? RTE_TEL_INT_VAL
						 : kinds[c] == DP_COL_U64 ? RTE_TEL_U64_VAL
									  : RTE_TEL_STRING_VAL);
	}
	return 0;
}

void
dp_tel_cols_put(struct rte_tel_data *d, const char *const *names, struct rte_tel_data **col, int n)
{
	for (int c = 0; c < n; c++)
		rte_tel_data_add_dict_container(d, names[c], col[c], 0);
}
