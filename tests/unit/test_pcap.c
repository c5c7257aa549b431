/* SPDX-License-Identifier: BSD-3-Clause */
/* A classic pcap writer (Ethernet link type) for tests whose output tshark or scapy re-reads. */
#include <stdarg.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "test_pcap.h"

FILE *
t_pcap_open(const char *path)
{
	/* magic, version 2.4, UTC offset, accuracy, snap length, link type 1 (Ethernet) */
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	return f;
}

void
t_pcap_write(FILE *f, const uint8_t *frame, size_t len)
{
	static uint32_t usec;
	const uint32_t rec[4] = { 1700000000, usec++, (uint32_t)len, (uint32_t)len };

	assert_int_equal(fwrite(rec, sizeof(rec), 1, f), 1);
	assert_int_equal(fwrite(frame, len, 1, f), 1);
}

void
t_pcap_close(FILE *f)
{
	assert_int_equal(fclose(f), 0);
}
