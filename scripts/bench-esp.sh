#!/usr/bin/env bash
# ESP engine benchmark: one worker core, engine vs raw IPsec-MB on the same buffers, and peek.
# Reserves 2 MB hugepages when it can (as root); falls back to --no-huge otherwise.
# Usage: scripts/bench-esp.sh [--runs N] [--bursts N]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tests/dvipsec-esp-bench ] || bash scripts/build.sh release >/dev/null

eal=(--no-pci --file-prefix "dvbench$$" --log-level '*:error' -l 1)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ "$(id -u)" -eq 0 ] && [ -w "$hp" ]; then
	[ "$(cat "$hp")" -ge 256 ] || echo 256 >"$hp"
	mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs none /dev/hugepages; }
fi
if [ -f "$hp" ] && [ "$(cat "$hp")" -ge 128 ]; then
	eal+=(-m 256 --huge-unlink)
else
	echo "(no hugepages: running with --no-huge)"
	eal+=(--no-huge -m 512)
fi
exec build/tests/dvipsec-esp-bench "${eal[@]}" -- "$@"
