#!/usr/bin/env bash
# Connection table benchmark: 1M connections (memory, insert, lookup in bursts of 32, aging), and
# with a second CPU two lcores inserting at once and lookups while the other lcore inserts.
# Reserves 2 MB hugepages when it can (as root); falls back to --no-huge otherwise.
# Usage: scripts/bench-dct.sh [--entries N] [--runs N]   (DVIPSEC_BUILD=dir to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DVIPSEC_BUILD:-build}
bench=$build/dataplane/dct/dvipsec-dct-bench
[ -x "$bench" ] || bash scripts/build.sh release >/dev/null

lcores=1
[ "$(nproc)" -ge 3 ] && lcores=1,2
[ "$(nproc)" -eq 2 ] && lcores=0,1
eal=(--no-pci --file-prefix "dvdctbench$$" --log-level '*:error' -l "$lcores")
# 1M connections take ~145 MiB; the 1.5M two-lcore table ~215 MiB; one table at a time
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ "$(id -u)" -eq 0 ] && [ -w "$hp" ]; then
	[ "$(cat "$hp")" -ge 384 ] || echo 384 >"$hp"
	mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs none /dev/hugepages; }
fi
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ -f "$hp" ] && [ "${free:-0}" -ge 192 ]; then
	eal+=(-m 384 --huge-unlink)
else
	echo "(not enough free hugepages: running with --no-huge, expect TLB misses)"
	eal+=(--no-huge -m 768)
fi
exec "$bench" "${eal[@]}" -- "$@"
