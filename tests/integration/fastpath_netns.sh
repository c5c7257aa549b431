#!/usr/bin/env bash
# End-to-end test of the router and target fast paths in network namespaces (ARCHITECTURE.md 8):
#
#  ns dvc: esp_client.py (scapy ESP, its own TCP) 192.0.2.10/24 on dvc0
#            | veth
#  root ns:  dvr-up (no address) <- af_packet - dvipsec-router (memif servers, DVIPA 192.0.2.1)
#                                                 || memif (filesystem sockets in the work dir)
#  ns dvt1:  dvipsec-target 1 -- TAP dvt1 -- kernel: 192.0.2.1 on lo, tcp_listener.py "t1"
#  ns dvt2:  dvipsec-target 2 -- TAP dvt2 -- kernel: 192.0.2.1 on lo, tcp_listener.py "t2"
#            uplink dvt2u --veth-- dvc1 in ns dvc: t2's replies go straight to the client (direct
#            return), t1's back through the router
#
# gen_config.py writes the three configs from one SA table (3 AEADs x tunnel/transport x raw/UDP,
# one inbound and one outbound SA each, TCP port 5001..5012, plus the pairs of the distribution
# rows on 5013..5015). Only the router has static SAs: the targets start empty and get every SA
# over the control channel, so every answered packet also proves the distribution.
# esp_client.py runs the scenarios (handshake + data per SA, 40 flows and the weighted split,
# replay, unknown SPI, bad ICV, plain TCP, the format and sequence numbers of every ESP reply) and
# appends one row per scenario to the summary; dist_client.py the SA distribution rows (sa-dist:
# the targets hold exactly the router's SAs; sa-reload: SIGHUP with a pair removed and one added;
# lifesize: byte lifetimes summed from the targets' reports, soft -> rekey event, hard -> deleted
# everywhere); the driver itself adds rows for direct return, the control channel, failover (kill
# -9 and restart of t1, which must come back with the full SA list from one snapshot), router
# restart (targets keep running and rejoin) and telemetry. Everything created here (namespaces,
# veth, work dir, DPDK runtime dirs, processes) is removed by the EXIT trap on every path; a
# failure prints the processes' logs, their telemetry and the namespaces' addresses, routes and
# neighbours. The topology and process handling are topo.sh's (shared with
# tests/interop/ike_router.sh).
# To test this test without the C binaries: mock_dataplane.py make-build DIR --cfg-check PATH makes
# a build dir whose dvipsec-router/-target are a Python stand-in (DVMOCK_FAULT breaks it on
# purpose); it has no control channel, so run it with DVNS_TARGET_STATIC_SAS=1, and only
# esp_client.py's rows mean something then.
#
# Usage: fastpath_netns.sh BUILD_DIR [esp_client.py run options, e.g. --exact-split]
# Exit: 0 pass, 77 skipped (not root, no /dev/net/tun, no ip/ethtool/scapy), 1 fail.
# Environment: DVNS_ROUTER_ARGS / DVNS_TARGET_ARGS: extra arguments (e.g. "--idle-sleep-us 20");
# DVNS_KEEP=1 keeps the work dir; DVNS_START_TIMEOUT (s, default 30) per process;
# DVNS_TARGET_STATIC_SAS=1 gives the targets the router's static SAs too (gen_config.py
# --target-static-sas; for a stand-in without a control channel: sa-dist then fails);
# DVNS_SUFFIX=x names the namespaces dvcx, dvt1x, dvt2x and the root veth dvr-upx (up to 9
# characters), so the test can run beside a demo or a manual setup that uses the plain names.
set -uo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR [client options]" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
ROUTER_BIN=$BUILD/dataplane/router/dvipsec-router
TARGET_BIN=$BUILD/dataplane/target/dvipsec-target
CFG_CHECK=$BUILD/controlplane/cfg/dvipsec-cfg-check
SUFFIX=${DVNS_SUFFIX:-}
NS_CLIENT=dvc$SUFFIX
NS_TARGETS=("dvt1$SUFFIX" "dvt2$SUFFIX")
TARGETS=(t1 t2)
TAPS=(dvt1 dvt2) # inside the target namespaces (gen_config.py names them)
VETH_ROUTER=dvr-up$SUFFIX
VETH_CLIENT=dvc0
VETH_T2_UP=dvt2u$SUFFIX # t2's uplink (direct return), in t2's namespace
VETH_CLIENT2=dvc1       # its peer in the client's namespace
DVIPA=192.0.2.1
CLIENT_ADDR=192.0.2.10/24
CLIENT_HOST=192.0.2.10/32
CLIENT_INNER_NET=198.51.100.0/24
PORTS=5001-5015,8080
START_TIMEOUT=${DVNS_START_TIMEOUT:-30}
CLIENT_TIMEOUT=110
DIST_TIMEOUT=60
LOCK=/run/lock/dvipsec-fastpath-netns.lock
OWNER=/run/lock/dvipsec-fastpath-netns$SUFFIX.owner

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, TAP)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip ethtool flock; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
"$PY" -c 'import scapy.layers.ipsec, cryptography' 2>/dev/null ||
	skip "$PY has no scapy/cryptography (python3-scapy, python3-cryptography)"

# State for cleanup(): only what this run created is removed (topo.sh keeps the processes,
# namespaces and veth).
WORK=
PFX=dvfp$$
SUMMARY=
HERE_TOPO=$HERE
LISTEN_PORTS=$PORTS
TARGET_ROUTES=("$CLIENT_HOST" "$CLIENT_INNER_NET")
# shellcheck source=topo.sh
. "$HERE/topo.sh"

row() { # scenario result figures
	[ -n "$SUMMARY" ] && printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$SUMMARY"
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	topo_teardown
	rm -rf "/var/run/dpdk/${PFX}r" "/var/run/dpdk/${PFX}t1" "/var/run/dpdk/${PFX}t2"
	[ -n "$CF_SHM" ] && [ -n "$WORK" ] && rm -f "/dev/shm/$CF_SHM"
	[ -n "$WORK" ] && rm -f "$OWNER"
	if [ -n "$WORK" ]; then
		if [ "${DVNS_KEEP:-0}" = 1 ]; then
			echo "work dir kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}

# Everything a failure needs to be understood: process state and logs, telemetry, topology.
diagnostics() {
	local name t i
	echo "================ diagnostics"
	for name in "${ORDER[@]}"; do
		if [ -n "${STATUS[$name]:-}" ]; then
			echo "---- $name: exited, status ${STATUS[$name]}"
		elif kill -0 "${PID[$name]}" 2>/dev/null; then
			echo "---- $name: running (pid ${PID[$name]})"
		else
			wait "${PID[$name]}" 2>/dev/null
			STATUS[$name]=$?
			echo "---- $name: exited, status ${STATUS[$name]}"
		fi
		echo "-- $name stderr (last 80 lines)"
		tail -n 80 "$WORK/$name.err" 2>/dev/null
		echo "-- $name stdout (last 40 lines)"
		tail -n 40 "$WORK/$name.out" 2>/dev/null
	done
	echo "---- telemetry"
	if [ -n "${PID[router]:-}" ]; then
		"$PY" "$HERE/telemetry.py" dump "${PFX}r" /dvipsec/router/stats /dvipsec/router/drops \
			/dvipsec/targets /dvipsec/dct,64 /dvipsec/sa /dvipsec/dist /dvipsec/lifesize |
			cut -c1-4000 | sed 's/^/router /'
	fi
	for t in "${TARGETS[@]}"; do
		[ -n "${PID[$t]:-}" ] || continue
		"$PY" "$HERE/telemetry.py" dump "${PFX}$t" /dvipsec/target/stats \
			/dvipsec/target/drops /dvipsec/sa | cut -c1-4000 | sed "s/^/$t /"
	done
	for t in "${TARGETS[@]}"; do
		if [ -s "$WORK/listener-$t.log" ]; then
			echo "---- listener $t log (last 20 entries)"
			tail -n 20 "$WORK/listener-$t.log"
		fi
	done
	echo "---- topology"
	ip -s link show "$VETH_ROUTER" 2>&1 | sed 's/^/root: /'
	ip -n "$NS_CLIENT" addr show "$VETH_CLIENT" 2>&1 | sed "s/^/$NS_CLIENT: /"
	ip -n "$NS_CLIENT" neigh 2>&1 | sed "s/^/$NS_CLIENT neigh: /"
	for i in "${!NS_TARGETS[@]}"; do
		t=${NS_TARGETS[$i]}
		ip -n "$t" -s link show 2>&1 | sed "s/^/$t: /"
		ip -n "$t" addr 2>&1 | grep inet | sed "s/^/$t addr: /"
		ip -n "$t" route 2>&1 | sed "s/^/$t route: /"
		ip -n "$t" neigh 2>&1 | sed "s/^/$t neigh: /"
		ip netns exec "$t" ethtool -k "${TAPS[$i]}" 2>/dev/null | grep -E '^(tx|rx)-checksumming' |
			sed "s/^/$t offload: /"
	done
	echo "================ end of diagnostics"
}

print_summary() {
	local s r f
	[ -s "$SUMMARY" ] || return 0
	echo "================ summary"
	printf '%-12s %-6s %s\n' scenario result figures
	while IFS=$'\t' read -r s r f; do
		printf '%-12s %-6s %s\n' "$s" "$r" "$f"
	done <"$SUMMARY"
}

fail() {
	echo "FAIL: $*"
	row setup FAIL "$*"
	diagnostics
	print_summary
	exit 1
}

for bin in "$ROUTER_BIN" "$TARGET_BIN" "$CFG_CHECK"; do
	if [ ! -x "$bin" ]; then
		echo "FAIL: $bin not found or not executable (build it: ninja -C $BUILD)"
		exit 1
	fi
done
# Router and targets share outbound sequence numbers through a shared-memory coupling facility,
# which outlives them on purpose; give this run its own segment (removed by cleanup), so the test
# neither leaves one behind nor meets a demo's.
read -r -a ROUTER_ARGS <<<"${DVNS_ROUTER_ARGS:-}"
read -r -a TARGET_ARGS <<<"${DVNS_TARGET_ARGS:-}"
CF_SHM=
if "$TARGET_BIN" --help 2>&1 | grep -q -- '--cf'; then
	CF_SHM=${PFX}-cf
	TARGET_ARGS+=(--cf "/$CF_SHM")
fi
if "$ROUTER_BIN" --help 2>&1 | grep -q -- '--cf'; then
	ROUTER_ARGS+=(--cf "/${PFX}-cf")
fi

exec 9>"$LOCK"
if ! flock -w 300 9; then
	echo "FAIL: another run holds $LOCK for more than 300 s"
	exit 1
fi
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT
trap 'exit 143' TERM HUP

# A run killed with SIGKILL (e.g. by a test runner's timeout, together with its process group)
# leaves its namespaces, veth and directories behind; its owner file names them.
if [ -s "$OWNER" ]; then
	read -r old_pid old_work old_pfx <"$OWNER"
	if ! grep -qs fastpath_netns "/proc/$old_pid/cmdline"; then
		busy=
		for ns in "$NS_CLIENT" "${NS_TARGETS[@]}"; do
			[ -e "/run/netns/$ns" ] && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && busy+=" $ns"
		done
		if [ -n "$busy" ]; then
			echo "FAIL: leftovers of run $old_pid still have processes in:$busy" \
				"(ip netns pids NS); end them, then run again"
			exit 1
		fi
		echo "removing the leftovers of an earlier run (pid $old_pid) that was killed"
		for ns in "$NS_CLIENT" "${NS_TARGETS[@]}"; do
			ip netns del "$ns" 2>/dev/null
		done
		ip link del "$VETH_ROUTER" 2>/dev/null
		case $old_work in /tmp/dvfp.*) rm -rf "$old_work" ;; esac
		case $old_pfx in
		dvfp[0-9]*) rm -rf "/var/run/dpdk/${old_pfx}"{r,t1,t2} "/dev/shm/${old_pfx}-cf" ;;
		esac
		rm -f "$OWNER"
	fi
fi
for ns in "$NS_CLIENT" "${NS_TARGETS[@]}"; do
	if [ -e "/run/netns/$ns" ]; then
		echo "FAIL: network namespace $ns already exists (a killed earlier run, or the demo?);" \
			"remove it with 'ip netns del $ns', or run with DVNS_SUFFIX=<tag>"
		exit 1
	fi
done
if ip link show "$VETH_ROUTER" >/dev/null 2>&1; then
	echo "FAIL: interface $VETH_ROUTER already exists; remove it with 'ip link del" \
		"$VETH_ROUTER', or run with DVNS_SUFFIX=<tag>"
	exit 1
fi

WORK=$(mktemp -d /tmp/dvfp.XXXXXX) || exit 1
SUMMARY=$WORK/summary.tsv
echo "$$ $WORK $PFX" >"$OWNER"
: >"$SUMMARY"
log "work dir $WORK, EAL prefixes ${PFX}r ${PFX}t1 ${PFX}t2"

# -- configuration -----------------------------------------------------------------------------
gen_args=()
[ "${DVNS_TARGET_STATIC_SAS:-0}" = 1 ] && gen_args+=(--target-static-sas)
run "$PY" "$HERE/gen_config.py" "$WORK" --prefix "$PFX" --uplink "$VETH_ROUTER" \
	--t2-uplink "$VETH_T2_UP" "${gen_args[@]}"
for f in router router-reload target1 target2; do
	role=--target
	[ "${f#router}" != "$f" ] && role=--router
	if ! out=$("$CFG_CHECK" "$role" "$WORK/$f.json" 2>&1); then
		fail "dvipsec-cfg-check rejects the generated $f.json: $out"
	fi
done
if ! out=$("$PY" "$HERE/esp_client.py" selftest "$WORK/test.json" 2>&1); then
	fail "scapy self-test of the SA table: $out"
fi
log "configs valid (dvipsec-cfg-check), scapy round trip ok for every SA pair"

# -- topology ----------------------------------------------------------------------------------
topo_netns
# t2 returns its replies directly: a second veth from its namespace into the client's (no address
# there; the client kernel answers t2's ARP probe for its address on any interface).
run ip -n "${NS_TARGETS[1]}" link add "$VETH_T2_UP" type veth peer name "$VETH_CLIENT2" \
	netns "$NS_CLIENT"
run ip -n "${NS_TARGETS[1]}" link set "$VETH_T2_UP" up
run ip -n "$NS_CLIENT" link set "$VETH_CLIENT2" up
log "namespaces $NS_CLIENT ${NS_TARGETS[*]}, veth $VETH_ROUTER <-> $NS_CLIENT/$VETH_CLIENT," \
	"${NS_TARGETS[1]}/$VETH_T2_UP <-> $NS_CLIENT/$VETH_CLIENT2"

# -- processes ---------------------------------------------------------------------------------
topo_start "$WORK/router.json" "$WORK/target1.json" "$WORK/target2.json"
row setup PASS "router, t1, t2 ready; TAPs configured; listeners on $DVIPA:$PORTS ($(elapsed)s)"

# -- scenarios ---------------------------------------------------------------------------------
log "client: scenarios"
# In the background and polled, so that a signal to this script is handled at once.
start client ip netns exec "$NS_CLIENT" "$PY" -u "$HERE/esp_client.py" run "$WORK/test.json" \
	--iface "$VETH_CLIENT" --summary "$SUMMARY" "$@"
deadline=$(($(date +%s) + CLIENT_TIMEOUT))
while kill -0 "${PID[client]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.2
done
timed_out=0
kill -0 "${PID[client]}" 2>/dev/null && timed_out=1
stop_proc client 2
cat "$WORK/client.out" "$WORK/client.err"
status=0
if [ "$timed_out" = 1 ]; then
	echo "FAIL: the client did not finish within ${CLIENT_TIMEOUT}s"
	row client FAIL "timed out after ${CLIENT_TIMEOUT}s"
	status=1
elif [ "${STATUS[client]}" != 0 ]; then
	grep -q FAIL "$SUMMARY" || row client FAIL "client exited with status ${STATUS[client]}"
	status=1
fi
for name in router "${TARGETS[@]}"; do
	if ! kill -0 "${PID[$name]}" 2>/dev/null; then
		wait "${PID[$name]}" 2>/dev/null
		STATUS[$name]=$?
		row "alive" FAIL "$name exited during the scenarios (status ${STATUS[$name]})"
		status=1
	fi
done
[ "$status" -eq 0 ] || diagnostics

# -- direct return: t2 sent its replies out of its own uplink, t1 back through the router -------
t2_up=$("$PY" "$HERE/telemetry.py" dump "${PFX}t2" /dvipsec/target/stats 2>/dev/null |
	"$PY" -c 'import json,sys,re; t=sys.stdin.read(); m=re.search(r"\"to_uplink\": (\d+)", t); print(m.group(1) if m else 0)')
t1_up=$("$PY" "$HERE/telemetry.py" dump "${PFX}t1" /dvipsec/target/stats 2>/dev/null |
	"$PY" -c 'import json,sys,re; t=sys.stdin.read(); m=re.search(r"\"to_uplink\": (\d+)", t); print(m.group(1) if m else 0)')
if [ "${t2_up:-0}" -gt 0 ] && [ "${t1_up:-0}" -eq 0 ]; then
	row direct-return PASS "t2 sent $t2_up replies out of its uplink $VETH_T2_UP; t1 none (router path)"
else
	row direct-return FAIL "t2 to_uplink ${t2_up:-?}, t1 to_uplink ${t1_up:-?}"
	status=1
fi

targets_field() { # FIELD INDEX: /dvipsec/targets column FIELD, row INDEX
	"$PY" "$HERE/telemetry.py" dump "${PFX}r" /dvipsec/targets 2>/dev/null |
		"$PY" -c 'import json,sys; l=sys.stdin.read().split(" ",1)[1]; print(json.loads(l)[sys.argv[1]][int(sys.argv[2])])' "$1" "$2"
}
# -- control channels: both targets joined with the right key; a peer with another key is refused,
# counted, and does not disturb the joined target ----------------------------------------------
ctl=PASS
joined="$(targets_field joined 0),$(targets_field joined 1)"
[ "$joined" = "1,1" ] || ctl=FAIL
t2_ctl=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["targets"][1]["router_control"])' "$WORK/router.json" 2>/dev/null ||
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["router_control"])' "$WORK/target2.json")
rogue=$("$PY" - "${t2_ctl#unix:}" <<'PYROGUE'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
# a well-formed hello (magic, version 1, role target) whose MAC is made without the control key
s.sendall(struct.pack("!I", 104) + b"DVC1" + bytes([1, 2, 0, 0]) + os.urandom(96))
s.settimeout(2)
try:
    data = s.recv(4096)
    time.sleep(0.3)
    print("router sent %d bytes (its hello) and then %s" % (len(data), "closed" if not s.recv(4096) else "more"))
except Exception as e:
    print("error %s" % e)
PYROGUE
)
sleep 0.3
auth_fail=$(targets_field auth_failures 1)
joined2="$(targets_field joined 1),$(targets_field healthy 1)"
if [ "$auth_fail" != 1 ] || [ "$joined2" != "1,1" ]; then
	ctl=FAIL
fi
# the wrong-key peer never got an SA: at most the router's half of the handshake, then closed
# (an SA_ADD alone is several hundred bytes; the sealed channel itself is tested in test_dist)
case "$rogue" in
"router sent "*" and then closed")
	rogue_bytes=${rogue#router sent }
	rogue_bytes=${rogue_bytes%% *}
	[ "$rogue_bytes" -lt 200 ] || ctl=FAIL
	;;
*) ctl=FAIL ;;
esac
row control "$ctl" "targets joined ${joined}; wrong-key peer on t2's socket: auth_failures ${auth_fail}, t2 joined,healthy ${joined2} ($rogue)"
[ "$ctl" = PASS ] || status=1

# -- SA distribution: sa-dist, sa-reload (SIGHUP), lifesize (dist_client.py, client namespace) ---
if [ "$status" -eq 0 ]; then
	log "dist_client: SA distribution rows"
	start dist ip netns exec "$NS_CLIENT" "$PY" -u "$HERE/dist_client.py" run "$WORK/test.json" \
		--iface "$VETH_CLIENT" --summary "$SUMMARY" --router-pid "${PID[router]}" \
		--router-config "$WORK/router.json" --reload-config "$WORK/router-reload.json" \
		--router-log "$WORK/router.out"
	deadline=$(($(date +%s) + DIST_TIMEOUT))
	while kill -0 "${PID[dist]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.2
	done
	timed_out=0
	kill -0 "${PID[dist]}" 2>/dev/null && timed_out=1
	stop_proc dist 2
	cat "$WORK/dist.out" "$WORK/dist.err"
	if [ "$timed_out" = 1 ]; then
		row dist FAIL "dist_client.py did not finish within ${DIST_TIMEOUT}s"
		status=1
	elif [ "${STATUS[dist]}" != 0 ]; then
		grep -q FAIL "$SUMMARY" || row dist FAIL "dist_client.py exited with status ${STATUS[dist]}"
		status=1
	fi
	[ "$status" -eq 0 ] || diagnostics
fi

# -- failover: kill -9 t1; within 1 s it is unhealthy and its connections are flushed, new
# connections (kernel TCP to :8080) all go to t2; t1 restarted takes new connections again --------
plain_conns() { # N: the answering target of each of N new kernel TCP connections
	ip netns exec "$NS_CLIENT" "$PY" -c '
import socket, sys
for i in range(int(sys.argv[1])):
    s = socket.create_connection((sys.argv[2], 8080), timeout=3)
    s.sendall(b"failover %d\n" % i)
    print(s.recv(200).decode().split()[0])
    s.close()' "$1" "$DVIPA" 2>&1
}
fo=PASS
fo_info=""
if [ "$status" -eq 0 ]; then
	kill -KILL "${PID[t1]}"
	wait "${PID[t1]}" 2>/dev/null
	t0=$(date +%s%N)
	ms=-1
	for ((i = 0; i < 30; i++)); do
		if [ "$(targets_field healthy 0)" = 0 ]; then
			ms=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
		sleep 0.05
	done
	flows_t1=$(targets_field flows 0)
	answers=$(plain_conns 6 | sort | uniq -c | tr -s ' ' | tr '\n' ',')
	if [ "$ms" -lt 0 ] || [ "$ms" -gt 1000 ] || [ "$flows_t1" != 0 ] ||
		[ "$answers" != " 6 t2," ]; then
		fo=FAIL
	fi
	fo_info="t1 killed: unhealthy after ${ms} ms, its flows ${flows_t1}, 6 new connections:${answers%,}"
	# t1 comes back: a new process, a new TAP in its namespace
	start t1 ip netns exec "${NS_TARGETS[0]}" "$TARGET_BIN" --config "$WORK/target1.json" \
		"${TARGET_ARGS[@]}"
	wait_ready t1
	topo_tap_up 0
	for ((i = 0; i < 30; i++)); do
		[ "$(targets_field healthy 0)" = 1 ] && [ "$(targets_field joined 0)" = 1 ] && break
		sleep 0.1
	done
	[ "$(targets_field joins 0)" = 2 ] || fo=FAIL
	# it has no static SAs: what it holds came in one snapshot, and the connections below that
	# it takes prove it
	if ! sa_t1=$("$PY" "$HERE/dist_client.py" sa-check "$WORK/test.json" --target t1 \
		--snapshots 1 2>&1); then
		fo=FAIL
	fi
	answers=$(plain_conns 8 | sort | uniq -c | tr -s ' ' | tr '\n' ',')
	case "$answers" in
	*t1*t2* | *t2*t1*) ;;
	*) fo=FAIL ;;
	esac
	fo_info="$fo_info; restarted, rejoined (joins $(targets_field joins 0)), $sa_t1,"
	fo_info+=" 8 new connections:${answers%,}"
	row failover "$fo" "$fo_info"
	[ "$fo" = PASS ] || status=1
fi

# -- router restart: SIGTERM; the targets keep running without it (and notice); started again,
# they rejoin, take a snapshot each, their links come back (DPDK's memif client connects only in
# rte_eth_dev_start: the target restarts its link port, link_restarts), new connections go through
# both, and ESP replies continue above the sequence numbers used before (dist_client.py) --------
target_stat() { # TARGET FIELD: one /dvipsec/target/stats value
	"$PY" "$HERE/telemetry.py" get "${PFX}$1" /dvipsec/target/stats 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2" 2>/dev/null
}
if [ "$status" -eq 0 ]; then
	rr_ok=1
	run "$PY" "$HERE/dist_client.py" restart-snapshot "$WORK/test.json" --out "$WORK/before.json"
	stop_proc router 5
	rr_note="router exit ${STATUS[router]} after SIGTERM"
	[ "${STATUS[router]}" = 0 ] || rr_ok=0
	mv "$WORK/router.out" "$WORK/router-1.out"
	mv "$WORK/router.err" "$WORK/router-1.err"
	noticed=
	for ((i = 0; i < 30; i++)); do # 1.5 s without a router
		sleep 0.05
		for t in "${TARGETS[@]}"; do
			kill -0 "${PID[$t]}" 2>/dev/null || rr_ok=0
			case " $noticed " in *" $t "*) continue ;; esac
			[ "$(target_stat "$t" control_joined)" = 0 ] && noticed+=" $t"
		done
	done
	for t in "${TARGETS[@]}"; do
		if ! kill -0 "${PID[$t]}" 2>/dev/null; then
			rr_note+="; $t DIED without the router"
			rr_ok=0
		fi
	done
	[ "$noticed" = " ${TARGETS[*]}" ] || rr_ok=0
	rr_note+="; without it for 1.5 s: ${TARGETS[*]} running, channel down at${noticed:- none}"
	unset 'STATUS[router]'
	start router "$ROUTER_BIN" --config "$WORK/router.json" "${ROUTER_ARGS[@]}"
	wait_ready router
	if ! ip netns exec "$NS_CLIENT" "$PY" "$HERE/dist_client.py" restart-check \
		"$WORK/test.json" --iface "$VETH_CLIENT" --summary "$SUMMARY" \
		--before "$WORK/before.json" --router-config "$WORK/router.json" \
		--note "$rr_note" --driver-ok "$rr_ok"; then
		status=1
		diagnostics
	fi
fi

# -- telemetry through DPDK's own client: every command answers JSON, and no key appears ---------
tel_ok=PASS
tel_n=0
if command -v dpdk-telemetry.py >/dev/null; then
	keys=$("$PY" -c 'import json,sys; print("\n".join(sa["key"] for sa in json.load(open(sys.argv[1]))["static_sas"]))' "$WORK/router.json")
	for pair in "r:/dvipsec/router/stats /dvipsec/router/drops /dvipsec/dct /dvipsec/targets /dvipsec/sa /dvipsec/dist /dvipsec/lifesize" \
		"t1:/dvipsec/target/stats /dvipsec/target/drops /dvipsec/sa" \
		"t2:/dvipsec/target/stats /dvipsec/target/drops /dvipsec/sa"; do
		who=${pair%%:*}
		for cmd in ${pair#*:}; do
			out=$(echo "$cmd" | dpdk-telemetry.py -f "${PFX}$who" 2>&1)
			if ! printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); v=d[sys.argv[1]]; sys.exit(0 if v else 1)' "$cmd" ||
				printf '%s' "$out" | grep -qiF -f <(printf '%s\n' "$keys"); then
				tel_ok=FAIL
				log "telemetry $who $cmd: bad answer: $out"
			fi
			tel_n=$((tel_n + 1))
		done
	done
	row telemetry "$tel_ok" "$tel_n commands answered through dpdk-telemetry.py, JSON, no key material"
	[ "$tel_ok" = PASS ] || status=1
else
	row telemetry SKIP "dpdk-telemetry.py not installed"
fi

# -- shutdown: SIGTERM must end each process with status 0 --------------------------------------
stopped=()
shutdown=PASS
for name in listener-t1 listener-t2 "${TARGETS[@]}" router; do
	stop_proc "$name" 5
	case $name in listener-*) continue ;; esac
	stopped+=("$name ${STATUS[$name]}")
	if [ "${STATUS[$name]}" != 0 ]; then
		shutdown=FAIL
		echo "FAIL: $name: status ${STATUS[$name]} after SIGTERM (want 0); its last log lines:"
		tail -n 20 "$WORK/$name.err"
	fi
done
[ "$shutdown" = PASS ] || status=1
row shutdown "$shutdown" "exit status after SIGTERM: $(IFS=,; echo "${stopped[*]}")"
print_summary
log "done"
if [ "$status" -ne 0 ]; then
	echo "RESULT: FAIL"
	exit 1
fi
echo "RESULT: PASS"
exit 0
