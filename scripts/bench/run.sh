#!/usr/bin/env bash
# The whole benchmark in one command (issue 7): dvipsec's router and target next to DPDK's own
# ipsec-secgw, the I/O floor (dpdk-testpmd io) and the crypto ceiling (IPsec-MB on the same
# buffers), all on one core with the same input path: net_pcap infinite_rx=1 -> program -> net_null.
#
#   1. builds dvipsec (meson, $DVIPSEC_BUILD), ipsec-secgw from the dpdk-doc example sources with
#      scripts/bench/secgw.patch applied to a copy, and the two helpers of tests/bench/
#      (imb_pcap_bench.c, pool_preload.c) into $BENCH_TOOLS
#   2. reserves 2 MB hugepages on top of what the system has (sysfs), mounts hugetlbfs if needed
#   3. runs scripts/bench/benchctl.py: generates the ESP and cleartext pcaps (pcapgen.py: AES-GCM
#      128/256, ChaCha20-Poly1305; tunnel mode; raw ESP and ESP-in-UDP; inner TCP payloads
#      64/512/1400 B; 1024 flows on one SA) and measures every case --reps times
#   4. writes OUT/summary.md (median, min-max), summary.csv, results.csv (every run), memory.csv
#      and PNG plots (report.py, gnuplot)
#   5. stops everything it started, removes DPDK run directories, coupling facility segments and
#      the pcaps (unless --keep-pcaps), releases the hugepages it reserved and unmounts what it
#      mounted, also when interrupted
#
# Usage: sudo scripts/bench/run.sh [--quick] [--out DIR] [--reps N] [--warmup S] [--seconds S]
#                                  [--only GROUPS] [--sizes 64,512,1400] [--keep-pcaps]
#                                  [--conns 1000,100000,1000000] [--pcaps-only [--dst-mac MAC]]
#                                  [--no-build]
#   --quick       every measurement briefly (1 run, 0.5 s warm-up, 1 s): checks the pipeline
#   --only        comma-separated: imb,floor,secgw,router,target,conns,sas (default all)
#   --pcaps-only  only write the input pcaps into OUT/pcaps (for a hardware generator:
#                 docs/benchmarks.md) and stop; --dst-mac: the DUT port's MAC in them
#   DVIPSEC_BUILD=dir (default build), BENCH_TOOLS=dir (default build-benchmark/tools)
# Default OUT: build-benchmark/results-YYYYmmdd-HHMMSS. docs/benchmarks.md explains the method.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
py=/usr/bin/python3

quick=0
reps=3
warmup=2
seconds=5
only=imb,floor,secgw,router,target,conns,sas
sizes=64,512,1400
conns=1000,100000,1000000
out=
keep_pcaps=0
pcaps_only=0
build=1
dst_mac=
usage() {
	sed -n '/^# Usage:/,/^# Default OUT/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; reps=1; warmup=0.5; seconds=1; shift ;;
	--out) out=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--keep-pcaps) keep_pcaps=1; shift ;;
	--pcaps-only) pcaps_only=1; keep_pcaps=1; shift ;;
	--dst-mac) dst_mac=$2; shift 2 ;;
	--no-build) build=0; shift ;;
	*) usage ;;
	esac
done
dvbuild=${DVIPSEC_BUILD:-build}
tools=${BENCH_TOOLS:-build-benchmark/tools}
out=${out:-build-benchmark/results-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" "$tools"
out=$(cd "$out" && pwd)
tools=$(cd "$tools" && pwd)

# -- packages ------------------------------------------------------------------------------------
secgw_src=/usr/share/dpdk/examples/ipsec-secgw
if ! command -v gnuplot >/dev/null || [ ! -f "$secgw_src/ipsec-secgw.c" ] ||
	! command -v dpdk-testpmd >/dev/null || ! $py -c 'import scapy, cryptography' 2>/dev/null; then
	bash scripts/install-deps.sh
fi

# -- builds --------------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
	echo "== building dvipsec ($dvbuild)"
	if [ "$dvbuild" = build ]; then
		bash scripts/build.sh release >/dev/null
	else
		[ -f "$dvbuild/build.ninja" ] || meson setup "$dvbuild" --buildtype=release >/dev/null
		ninja -C "$dvbuild" >/dev/null
	fi
fi
router=$repo/$dvbuild/dataplane/router/dvipsec-router
target=$repo/$dvbuild/dataplane/target/dvipsec-target
for b in "$router" "$target"; do
	[ -x "$b" ] || { echo "$b missing: build dvipsec first" >&2; exit 1; }
done

secgw=$tools/secgw-src/ipsec-secgw/build/ipsec-secgw
patch=$repo/scripts/bench/secgw.patch
if [ ! -x "$secgw" ] || [ "$patch" -nt "$secgw" ]; then
	echo "== building ipsec-secgw from $secgw_src with scripts/bench/secgw.patch"
	rm -rf "$tools/secgw-src"
	mkdir -p "$tools/secgw-src"
	cp -r "$secgw_src" /usr/share/dpdk/examples/common "$tools/secgw-src/"
	patch -d "$tools/secgw-src" -p1 --quiet <"$patch"
	make -C "$tools/secgw-src/ipsec-secgw" -j"$(nproc)" >"$tools/secgw-build.log" 2>&1 ||
		{ tail -20 "$tools/secgw-build.log" >&2; exit 1; }
fi
imb=$tools/dvipsec-imb-pcap-bench
preload=$tools/pool_preload.so
if [ ! -x "$imb" ] || [ tests/bench/imb_pcap_bench.c -nt "$imb" ]; then
	cc -O2 -Wall -Wextra -o "$imb" tests/bench/imb_pcap_bench.c -lIPSec_MB
fi
if [ ! -f "$preload" ] || [ tests/bench/pool_preload.c -nt "$preload" ]; then
	# shellcheck disable=SC2046
	cc -O2 -Wall -Wextra -shared -fPIC $(pkg-config --cflags libdpdk) -o "$preload" \
		tests/bench/pool_preload.c -ldl
fi

# -- hugepages and clean-up ----------------------------------------------------------------------
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
reserved=0
mounted=0
driver=
no_huge=()
cleanup() {
	local rc=$?
	if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
		kill -TERM "$driver" 2>/dev/null || true
		wait "$driver" 2>/dev/null || true
	fi
	if [ "$reserved" -gt 0 ]; then
		local now
		now=$(cat "$hp")
		echo $((now > reserved ? now - reserved : 0)) >"$hp" || true
		echo "== released $reserved hugepages (2 MB): nr_hugepages $(cat "$hp")"
	fi
	[ "$mounted" = 0 ] || umount /dev/hugepages 2>/dev/null || true
	rm -rf "$out/run"
	[ "$keep_pcaps" = 1 ] || rm -rf "$out/pcaps"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ "$pcaps_only" = 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "run.sh: run as root (hugepages, DPDK run directories in /var/run/dpdk)" >&2
		exit 1
	fi
	# the largest single run: the router with the biggest connection count (its replay pool,
	# 704 B per packet, and its table, ~150 B per entry) plus 512 MB for everything else
	max_conns=$(tr , '\n' <<<"$conns" | sort -n | tail -1)
	need=$((256 + (max_conns * 1100 + 2097151) / 2097152))
	if [ -w "$hp" ]; then
		before=$(cat "$hp")
		echo $((before + need)) >"$hp" || true
		reserved=$(($(cat "$hp") - before))
	fi
	if ! mountpoint -q /dev/hugepages; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs none /dev/hugepages && mounted=1
	fi
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	echo "== reserved $reserved of $need hugepages (2 MB): nr_hugepages $(cat "$hp" 2>/dev/null)," \
		"free ${free:-0}"
	if [ "${free:-0}" -lt 256 ] || ! mountpoint -q /dev/hugepages; then
		echo "   no usable hugepages: running with --no-huge (the I/O floor doubles; figures" \
			"are not comparable with PEERS.md)"
		no_huge=(--no-huge)
	elif [ "$reserved" -lt "$need" ]; then
		echo "   (fewer than asked: the largest runs may fail)"
	fi
fi

# -- measurements --------------------------------------------------------------------------------
$py scripts/bench/pcapgen.py selftest # our ESP against scapy's, before anything is measured
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
args=(--out "$out" --router "$router" --target "$target" --secgw "$secgw" --imb "$imb"
	--preload "$preload" --reps "$reps" --warmup "$warmup" --seconds "$seconds" --only "$only"
	--sizes "$sizes" --conns "$conns" "${no_huge[@]}")
[ "$quick" = 0 ] || args+=(--quick)
[ "$pcaps_only" = 0 ] || args+=(--pcaps-only)
[ -z "$dst_mac" ] || args+=(--dst-mac "$dst_mac")
[ "$pcaps_only" = 1 ] || cp "$patch" "$out/"
$py scripts/bench/benchctl.py "${args[@]}" &
driver=$!
wait "$driver"
driver=
[ "$pcaps_only" = 0 ] || exit 0
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
mode="full: $reps runs each, ${warmup} s warm-up, ${seconds} s measured"
caveat=""
if [ "$quick" = 1 ]; then
	mode="QUICK (pipeline check: 1 run each, ${warmup} s warm-up, ${seconds} s measured)"
	caveat="> Quick mode: every figure comes from one short run. It shows that the pipeline
> works end to end, not what the code can do: measure with the full mode on a quiet machine."
fi
huge="2 MB"
[ ${#no_huge[@]} -eq 0 ] || huge="none (--no-huge)"
title="# dvipsec benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')

- machine: $cpu, $(nproc) CPUs, $(uname -r); DPDK $(pkg-config --modversion libdpdk), \
IPsec-MB $(ver libipsec-mb-dev)
- dvipsec $commit; ipsec-secgw from dpdk-doc $(ver dpdk-doc) with secgw.patch
- mode: $mode; hugepages: $huge
- load average (1/5/15 min) at the start: $load_start, at the end: $load_end

$caveat
"
$py scripts/bench/report.py "$out" --title "$title"
echo "== results: $out/summary.md"
