#!/usr/bin/env bash
# The two figures of issue 4 (SA distribution):
#   fan-out: a router and N targets (N = 2 and 8 by default) on this host, trusted links over memif
#            (filesystem sockets), the targets' TAP replaced by net_null (no traffic is measured),
#            all of them with --no-huge -m 256 and an idle sleep so that N + 1 processes share two
#            cores. K SA changes are driven through SIGHUP reloads of the router's static_sas,
#            alternately adding one SA pair (new SPIs and keys) and removing it again: two changes
#            per reload, and the next reload only once /dvipsec/dist's fanout_samples has grown by
#            two. The router times each change from rtr_sa_add/del to the SA_SYNC of the last
#            joined target that applied it; the script prints its p50/p99/max.
#   CF:      dvipsec-cf-bench (tests/bench/cf_bench.c): the coupling facility's cost per sequence
#            number taken, 1 and 2 threads on one SA, and the reorder depth two targets cause.
# Everything it starts (processes, work dir, DPDK runtime dirs, the CF segment) is removed on exit.
# Usage: scripts/bench-fanout.sh [--targets "2 8"] [--changes 200] [--idle-us 20]
#        (DVIPSEC_BUILD=dir to use another build; root, for the DPDK runtime directories)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DVIPSEC_BUILD:-build}
counts="2 8"
changes=200
idle_us=20
while [ $# -gt 0 ]; do
	case "$1" in
	--targets) counts=$2; shift 2 ;;
	--changes) changes=$2; shift 2 ;;
	--idle-us) idle_us=$2; shift 2 ;;
	*) echo "usage: $0 [--targets \"2 8\"] [--changes K] [--idle-us N]" >&2; exit 2 ;;
	esac
done
router_bin=$build/dataplane/router/dvipsec-router
target_bin=$build/dataplane/target/dvipsec-target
cf_bench=$build/shadowcache/dvipsec-cf-bench
[ -x "$router_bin" ] || bash scripts/build.sh release >/dev/null
for bin in "$router_bin" "$target_bin" "$cf_bench"; do
	[ -x "$bin" ] || { echo "$bin not found (build it: ninja -C $build)" >&2; exit 1; }
done
py=/usr/bin/python3
pfx=dvfo$$
cf=/${pfx}-cf
work=$(mktemp -d /tmp/dvfanout.XXXXXX)
pids=()
driver=

stop_all() { # SIGTERM what we started, SIGKILL after 5 s
	local p i alive
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 1 ] || break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	[ -z "$driver" ] || kill -TERM "$driver" 2>/dev/null || true
	stop_all
	rm -rf "$work" /var/run/dpdk/"$pfx"* "/dev/shm${cf}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# configs N: router.json (+ the reload variants with and without the extra pair), target*.json
configs() {
	$py - "$work" "$pfx" "$1" <<'PY'
import json, os, sys
work, pfx, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = "00" * 32

def pair(i, salt):
    """An inbound and an outbound SA, TCP port 6000 + i, keys derived from (i, salt)."""
    k = lambda d: bytes((i * 7 + salt * 13 + d + j) % 256 for j in range(20)).hex()
    return [{"spi": "0x%08x" % (0x7000 + 2 * i + d + salt * 0x10000),
             "direction": ("inbound", "outbound")[d], "aead": "aes128gcm16", "key": k(d),
             "mode": "tunnel", "local": "192.0.2.1", "remote": "192.0.2.10",
             "local_ts": [{"cidr": "192.0.2.1/32", "proto": 6, "ports": str(6000 + i)}]}
            for d in (0, 1)]

eal = lambda lcores, name: ["-l", lcores, "--no-huge", "-m", "256", "--no-pci",
                            "--file-prefix", pfx + name, "--log-level", "*:error"]
memif = lambda t, role: ("net_memif%d,role=%s,socket=%s/t%d.sock,socket-abstract=no,id=0,"
                         "mac=02:64:76:01:%02x:%02x" % (t - 1 if role == "server" else 0, role,
                                                       work, t, t, 1 if role == "server" else 2))
static = [sa for i in range(8) for sa in pair(i, 0)]
router = {"eal": eal("0-1", "r"), "dvipa": ["192.0.2.1"],
          "ports": [{"name": "uplink", "devargs": "net_null0,no-rx=1"}], "workers": [1],
          "targets": [{"id": t, "name": "t%d" % t, "weight": 100,
                       "link": {"devargs": memif(t, "server")},
                       "control": "unix:%s/t%d.ctl" % (work, t)} for t in range(1, n + 1)],
          "connection_table": {"capacity": 4096}, "control_key": key, "static_sas": static}
json.dump(router, open(os.path.join(work, "router.json"), "w"))
json.dump(router, open(os.path.join(work, "router-base.json"), "w"))
for t in range(1, n + 1):
    json.dump({"eal": eal(str((t - 1) % 2), "t%d" % t), "id": t, "dvipa": ["192.0.2.1"],
               "workers": [], "link": {"devargs": memif(t, "client")},
               "tap": {"devargs": "net_null0,no-rx=1"},
               "router_control": "unix:%s/t%d.ctl" % (work, t), "control_key": key},
              open(os.path.join(work, "target%d.json" % t), "w"))
PY
}

# wait_ready FILE: the process printed its "ready" line
wait_ready() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -qw ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no 'ready' in $1 within 30 s:" >&2
	tail -n 20 "${1%.out}.err" >&2
	return 1
}

# drive N ROUTER_PID: K changes through SIGHUP reloads; prints "samples p50 p99 max" (run in the
# background: exec, so that its pid is python's)
drive() {
	exec $py - "$work" "$pfx" "$1" "$2" "$changes" <<'PY'
import json, os, signal, socket, sys, time
work, pfx, n, router_pid, changes = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])

def query(cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect("/var/run/dpdk/%sr/dpdk_telemetry.v2" % pfx)
    s.recv(4096)
    s.send(cmd.encode())
    v = json.loads(s.recv(1 << 20))[cmd]
    s.close()
    return v

def wait(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check(query("/dvipsec/dist")):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    sys.exit("fan-out bench: %s not within %.0f s: %r" % (what, timeout, query("/dvipsec/dist")))

wait("%d targets joined and synced" % n, lambda d: len(d["joined"]) == n and all(
    d["joined"]) and all(a == d["generation"] for a in d["acked_generation"]), 60)
base = json.load(open(os.path.join(work, "router-base.json")))
path = os.path.join(work, "router.json")
start = query("/dvipsec/dist")["fanout_samples"]
for reload in range(changes // 2):
    cfg = dict(base)
    if reload % 2 == 0:  # a new pair (new SPIs and keys each time); the next reload removes it
        salt = reload // 2 + 1
        key = lambda d: bytes((salt * 31 + d * 7 + j) % 256 for j in range(20)).hex()
        cfg["static_sas"] = base["static_sas"] + [
            {"spi": "0x%08x" % (0x100000 + 2 * salt + d), "direction": ("inbound", "outbound")[d],
             "aead": "aes128gcm16", "key": key(d), "mode": "tunnel", "local": "192.0.2.1",
             "remote": "192.0.2.10"} for d in (0, 1)]
    with open(path + ".new", "w") as f:
        json.dump(cfg, f)
    os.replace(path + ".new", path)
    want = start + 2 * (reload + 1)
    os.kill(router_pid, signal.SIGHUP)
    wait("change %d timed" % (2 * reload + 2), lambda d: d["fanout_samples"] >= want, 10)
d = query("/dvipsec/dist")
print(d["fanout_samples"] - start, d["fanout_p50_us"], d["fanout_p99_us"], d["fanout_max_us"])
PY
}

echo "SA fan-out: router + N targets on $(nproc) cores (memif links, --idle-sleep-us $idle_us)," \
	"$changes changes by SIGHUP (one SA pair added, then removed)"
printf '\n| targets | SA changes timed | fan-out p50 | p99 | max |\n|---|---|---|---|---|\n'
for n in $counts; do
	configs "$n"
	"$router_bin" --config "$work/router.json" --cf "$cf" --idle-sleep-us "$idle_us" \
		>"$work/router.out" 2>"$work/router.err" &
	pids+=($!)
	router_pid=$!
	wait_ready "$work/router.out"
	for ((t = 1; t <= n; t++)); do
		"$target_bin" --config "$work/target$t.json" --cf "$cf" --idle-sleep-us "$idle_us" \
			>"$work/t$t.out" 2>"$work/t$t.err" &
		pids+=($!)
	done
	for ((t = 1; t <= n; t++)); do wait_ready "$work/t$t.out"; done
	drive "$n" "$router_pid" >"$work/drive.out" &
	driver=$!
	wait "$driver" || { echo "fan-out bench with $n targets failed" >&2; exit 1; }
	driver=
	read -r samples p50 p99 max <"$work/drive.out"
	printf '| %d | %d | %d us | %d us | %d us |\n' "$n" "$samples" "$p50" "$p99" "$max"
	stop_all
	rm -rf /var/run/dpdk/"$pfx"* "/dev/shm${cf}"
done

echo
echo "Coupling facility (dvipsec-cf-bench): cost per outbound sequence number, and the reorder"
echo "depth two targets sharing one SA cause (the peer's replay window must cover it)"
echo
"$cf_bench"
