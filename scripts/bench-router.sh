#!/usr/bin/env bash
# Fast-path benchmarks (issue 3), one worker core each, 2 MB hugepages when available:
#   router: replayed ESP (net_pcap infinite_rx) -> classify, pre-check, peek, connection table, GRE
#           -> net_null links; packets/s from the router's own telemetry. 512 flows of 8 packets:
#           once in trains (a flow's packets back to back, as TCP windows arrive; one lookup per
#           train), once interleaved (every packet its own lookup)
#   floor:  dpdk-testpmd io forwarding of the same file, net_pcap -> net_null (the I/O cost)
#   target: the same packets GRE-wrapped (as the router sends them) -> full ESP inbound -> net_null
#           (anti-replay off in this run: the file repeats its sequence numbers)
# Usage: scripts/bench-router.sh [--seconds N] [--sizes "64 1400"]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=5
sizes="64 1400"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--sizes \"64 1400\"]" >&2; exit 2 ;;
	esac
done
[ -x build/dataplane/router/dvipsec-router ] || bash scripts/build.sh release >/dev/null
py=/usr/bin/python3
work=$(mktemp -d /tmp/dvbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

mem=(-m 1024)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ "$(id -u)" -eq 0 ] && [ -w "$hp" ]; then
	[ "$(cat "$hp")" -ge 1024 ] || echo 1024 >"$hp"
	mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs none /dev/hugepages; }
fi
if [ ! -f "$hp" ] || [ "$(cat "$hp")" -lt 600 ]; then
	echo "(no hugepages: --no-huge; expect about half the I/O rate)"
	mem=(--no-huge -m 1024)
fi

# rate PREFIX CMD KEY: packets/s of counter KEY over $secs seconds, and the TSC rate
rate() {
	$py - "$1" "$2" "$3" "$secs" <<'PY'
import json, socket, sys, time
prefix, cmd, key, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def query():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
    s.recv(4096)
    s.send(cmd.encode())
    v = json.loads(s.recv(65536))[cmd]
    s.close()
    return v
for _ in range(100):
    try:
        query(); break
    except OSError:
        time.sleep(0.1)
time.sleep(1.0)
a = query(); t0 = time.monotonic()
time.sleep(secs)
b = query(); t1 = time.monotonic()
pps = (b[key] - a[key]) / (t1 - t0)
print(f"{pps:.0f} {b['tsc_hz']}")
PY
}

conf() { # kind size
	$py - "$work" "$1" "$2" "${mem[@]}" <<'PY'
import json, sys
work, kind, size, mem = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sa = {"spi": "0x00005001", "direction": "inbound", "aead": "aes128gcm16",
      "key": "0102030405060708090a0b0c0d0e0f10cafebabe", "mode": "tunnel",
      "local": "192.0.2.1", "remote": "192.0.2.10"}
pcap = f"{work}/{kind}{size}.pcap"
if kind == "router":
    c = {"eal": ["-l", "0-1", "--no-pci", "--file-prefix", "dvbr", "--log-level", "*:error"] + mem,
         "dvipa": ["192.0.2.1"],
         "ports": [{"name": "uplink", "devargs": f"net_pcap0,rx_pcap={pcap},infinite_rx=1"}],
         "workers": [1],
         "targets": [{"id": i, "name": f"t{i}", "weight": 100,
                      "link": {"devargs": f"net_null{i},no-rx=1"},
                      "control": f"unix:{work}/t{i}.ctl"} for i in (1, 2)],
         "control_key": "00" * 32, "static_sas": [sa]}
else:
    c = {"eal": ["-l", "0-1", "--no-pci", "--file-prefix", "dvbt", "--log-level", "*:error"] + mem,
         "id": 1, "dvipa": ["192.0.2.1"], "workers": [1],
         "link": {"devargs": f"net_pcap0,rx_pcap={pcap},infinite_rx=1"},
         "tap": {"devargs": "net_null0,no-rx=1"}, "router_control": f"unix:{work}/t1.ctl",
         "control_key": "00" * 32, "replay_window": 0, "static_sas": [sa]}
json.dump(c, open(f"{work}/{kind}{size}.json", "w"))
PY
}

run() { # binary config prefix key -> "pps hz"
	"$1" --config "$2" >"$work/out" 2>"$work/err" &
	pids+=($!)
	local pid=$!
	local r
	r=$(rate "$3" "$4" "$5")
	kill -INT "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$r"
}

printf '| payload | testpmd io floor | router | router / floor | router cyc/pkt | router, flows interleaved | / floor | cyc/pkt | target inbound | target cyc/pkt |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for size in $sizes; do
	$py scripts/bench_pcap.py router --size "$size" --flows 512 --per-flow 8 --out "$work/router$size.pcap" >/dev/null
	$py scripts/bench_pcap.py router --size "$size" --flows 512 --per-flow 8 --interleave --out "$work/routeri$size.pcap" >/dev/null
	$py scripts/bench_pcap.py target --size "$size" --flows 512 --per-flow 8 --out "$work/target$size.pcap" >/dev/null
	conf router "$size"
	sed "s/router$size.pcap/routeri$size.pcap/" "$work/router$size.json" >"$work/routeri$size.json"
	conf target "$size"

	# I/O floor: testpmd io forwarding of the same file
	dpdk-testpmd -l 0-1 --no-pci --file-prefix dvbf "${mem[@]}" --log-level '*:error' \
		--vdev "net_pcap0,rx_pcap=$work/router$size.pcap,infinite_rx=1" --vdev net_null0 -- \
		--forward-mode=io --auto-start --nb-cores=1 --stats-period 1 --txd 1024 --rxd 1024 \
		>"$work/testpmd" 2>&1 &
	pids+=($!)
	tp=$!
	sleep $((secs + 3))
	kill -INT "$tp"
	wait "$tp" 2>/dev/null || true
	floor=$(grep -a 'Rx-pps:' "$work/testpmd" | awk '{print $2}' | sort -n | tail -3 | head -1)

	read -r rpps hz < <(run build/dataplane/router/dvipsec-router "$work/router$size.json" dvbr /dvipsec/router/stats rx)
	read -r ipps _ < <(run build/dataplane/router/dvipsec-router "$work/routeri$size.json" dvbr /dvipsec/router/stats rx)
	read -r tpps _ < <(run build/dataplane/target/dvipsec-target "$work/target$size.json" dvbt /dvipsec/target/stats decrypted)
	$py - "$size" "$floor" "$rpps" "$ipps" "$tpps" "$hz" <<'PY'
import sys
size = sys.argv[1]
floor, r, i, t, hz = (float(x or 0) for x in sys.argv[2:])
m = lambda x: f"{x / 1e6:.2f} Mpps"
ratio = lambda x: f"{x / floor:.2f}" if floor else "n/a"
print(f"| {size} B | {m(floor)} | {m(r)} | {ratio(r)} | {hz / r:.0f} | {m(i)} | {ratio(i)} | "
      f"{hz / i:.0f} | {m(t)} | {hz / t:.0f} |")
PY
done
