#!/usr/bin/env bash
# The dvipsec demo, one command on a fresh Debian 12 machine (as root): installs what is missing
# (scripts/install-deps.sh), builds (scripts/build.sh release), and runs the appliance end to end
# in network namespaces (ARCHITECTURE.md 8; tests/interop/appliance_lib.sh sets it up):
#
#  ns client: strongSwan charon (kernel-libipsec), IPsec client 192.0.2.10
#             | veth
#  root ns:   dvipsec-router: owns the DVIPA 192.0.2.1, answers IKEv2, spreads the ESP
#             || memif                       || memif
#  ns t1:     dvipsec-target 1 -- TAP --     ns t2: dvipsec-target 2 -- TAP --
#             HTTP server on 192.0.2.1:80           HTTP server on 192.0.2.1:80
#
# charon brings the tunnel up with swanctl --initiate: the router's IKE engine negotiates the
# CHILD SA and hands it to both targets (with a peer's sa_per_target, conf/README.md, the router
# also asks for one more pair per further target, so that each target sends on an SA of its own).
# Then real kernel TCP runs through the one IKE SA: DEMO_CONNS HTTP connections, DEMO_PARALLEL at
# a time, half downloads and half uploads, every byte checked and the answering target named by
# the server; then DEMO_STREAMS download streams for DEMO_SECONDS. The summary shows how the
# connections spread over the targets, packets and bytes per target and per SA, drops by reason,
# the lifesize sums, the IKE and CHILD SAs, all read from the DPDK telemetry sockets
# (scripts/demo_report.py), and strongSwan's own counters. Everything started is stopped and
# everything created removed on every exit, Ctrl-C included. The demo exits 0 only if the tunnel
# came up, every connection completed with the right content, both targets served, and the
# figures that must be non-zero are. DPDK's EAL output and every other log stay in the work
# directory (/tmp/dvipsec-demo.*), kept and named when something failed.
#
# Usage: sudo bash scripts/demo.sh [--no-install] [--build-dir DIR] [--keep] [--check] [--bench]
#   --no-install     do not run scripts/install-deps.sh
#   --build-dir DIR  use this build instead of building build/ with scripts/build.sh release
#   --keep           keep the work directory (configs, every process's log) even on success
#   --check          test mode (meson test demo): exit 77 (skipped) where the demo cannot run
#                    (not root, no strongSwan, no TUN) instead of failing
#   --bench          afterwards, the ESP engine benchmark (scripts/bench-esp.sh, build/)
# Environment: DEMO_CONNS (200), DEMO_PARALLEL (64), DEMO_STREAMS (8), DEMO_SECONDS (10).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
INSTALL=1
BUILD=
KEEP=0
CHECK=0
BENCH=0
usage() {
	sed -n 's/^# \{0,1\}//; /^Usage:/,/^Environment/p' "$0"
}
while [ $# -gt 0 ]; do
	case $1 in
	--no-install) INSTALL=0 ;;
	--build-dir)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		BUILD=$2
		shift
		;;
	--keep) KEEP=1 ;;
	--check) CHECK=1 ;;
	--bench) BENCH=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done
CONNS=${DEMO_CONNS:-200}
PARALLEL=${DEMO_PARALLEL:-64}
STREAMS=${DEMO_STREAMS:-8}
DURATION=${DEMO_SECONDS:-10}
((PARALLEL > CONNS)) && PARALLEL=$CONNS

if [ "$(id -u)" -ne 0 ]; then
	if [ "$CHECK" = 1 ]; then
		echo "SKIP: the demo needs root (network namespaces, veth, TAP)"
		exit 77
	fi
	echo "the demo needs root (network namespaces, veth, TAP): sudo bash scripts/demo.sh" >&2
	exit 1
fi

T_START=$(date +%s)
WORK=$(mktemp -d /tmp/dvipsec-demo.XXXXXX) || exit 1
PFX= # set once the appliance library is loaded
DONE=0

step() {
	echo
	echo "== $*"
}

# A failing step before the appliance runs: the end of its log.
early_fail() {
	echo "FAILED: $1"
	tail -n 20 "$2" | sed 's/^/  | /'
	exit 1
}

# Everything stopped and removed, then checked: prints what is left, if anything (status 1).
teardown() {
	local name left=()
	[ "$DONE" = 0 ] || return 0
	DONE=1
	step "cleanup"
	appliance_teardown
	for name in "${ORDER[@]}"; do
		kill -0 "${PID[$name]}" 2>/dev/null && left+=("process $name")
	done
	for name in "${CREATED_NS[@]}"; do
		ip netns list | grep -qw "$name" && left+=("namespace $name")
	done
	ip link show "$VETH_ROUTER" >/dev/null 2>&1 && left+=("interface $VETH_ROUTER")
	for name in /var/run/dpdk/"$PFX"* /dev/shm/"$PFX"*; do
		[ -e "$name" ] && left+=("$name")
	done
	if [ ${#ORDER[@]} -gt 0 ]; then
		echo "  stopped ${ORDER[*]}"
		echo "  removed namespaces ${CREATED_NS[*]:-(none)}, veth $VETH_ROUTER,"
		echo "  the CF segment /$CF_SHM, DPDK runtime directories /var/run/dpdk/${PFX}{r,t1,t2}"
	fi
	if [ ${#left[@]} -gt 0 ]; then
		echo "  LEFT BEHIND: ${left[*]}"
		return 1
	fi
	echo "  nothing left running"
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	if [ -n "$PFX" ]; then
		teardown || [ "$rc" != 0 ] || rc=1
	fi
	if [ "$rc" = 77 ]; then # skipped (--check): nothing ran
		rm -rf "$WORK"
		exit 77
	fi
	if [ "$rc" != 0 ] || [ "$KEEP" = 1 ]; then
		echo "  logs kept in $WORK: install.log, build.log, diagnostics.txt (when a step"
		echo "  failed), router/t1/t2.out and .err (with DPDK's EAL log), charon.log, load.json"
	else
		rm -rf "$WORK"
	fi
	echo
	if [ "$rc" = 0 ]; then
		echo "demo passed in $(($(date +%s) - T_START)) s"
	else
		echo "demo FAILED (exit $rc) after $(($(date +%s) - T_START)) s"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'exit 143' TERM HUP

echo "dvipsec demo: strongSwan as the IPsec client of a router and two targets sharing one"
echo "address (the DVIPA); work directory $WORK"

step "packages"
if [ "$INSTALL" = 1 ]; then
	bash "$ROOT/scripts/install-deps.sh" >"$WORK/install.log" 2>&1 ||
		early_fail "scripts/install-deps.sh" "$WORK/install.log"
	echo "  $(tail -n 1 "$WORK/install.log")"
else
	echo "  skipped (--no-install)"
fi

step "build"
if [ -z "$BUILD" ]; then
	bash "$ROOT/scripts/build.sh" release >"$WORK/build.log" 2>&1 ||
		early_fail "scripts/build.sh release" "$WORK/build.log"
	BUILD=$ROOT/build
	echo "  $BUILD (release): $(tail -n 1 "$WORK/build.log")"
else
	[ -d "$BUILD" ] || {
		echo "FAILED: no build directory $BUILD"
		exit 1
	}
	echo "  using $BUILD (--build-dir)"
fi
BUILD=$(cd "$BUILD" && pwd)

# shellcheck source=../tests/interop/appliance_lib.sh
. "$ROOT/tests/interop/appliance_lib.sh"
# shellcheck disable=SC2317  # called by topo.sh
log() {
	echo "  [$(elapsed)s] $*"
}

fail() {
	echo "FAILED: $*"
	appliance_diagnostics >"$WORK/diagnostics.txt" 2>&1
	KEEP=1
	exit 1
}


N=$(($$ % 100000))
appliance_names "d$N" "dvd$N" # sets PFX: from here on, cleanup tears the appliance down
# shellcheck disable=SC2034  # read by topo.sh: the demo's own HTTP servers, not tcp_listener.py
LISTEN_PORTS=
HTTP_PORT=80
PSK=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
why=$(appliance_missing)
if [ -n "$why" ]; then
	if [ "$CHECK" = 1 ]; then
		echo "SKIP: $why"
		PFX= # nothing to tear down
		exit 77
	fi
	fail "$why"
fi
why=$(appliance_unbuilt)
[ -z "$why" ] || fail "$why"

report() { # SUBCOMMAND ARGS...: scripts/demo_report.py on this instance
	"$PY" "$ROOT/scripts/demo_report.py" "$1" --router "${PFX}r" --target "t1=${PFX}t1" \
		--target "t2=${PFX}t2" --swanctl-raw "$WORK/swanctl-raw.txt" "${@:2}"
}

step "topology (network namespaces on this machine)"
appliance_config "$PSK"
appliance_up
for i in "${!TARGETS[@]}"; do
	start "http-${TARGETS[$i]}" ip netns exec "${NS_TARGETS[$i]}" "$PY" \
		"$ROOT/scripts/demo_traffic.py" serve --name "${TARGETS[$i]}" --addr "$DVIPA" \
		--port "$HTTP_PORT" --log "$WORK/http-${TARGETS[$i]}.log"
done
wait_ready "${TARGETS[@]/#/http-}"
swan=$(dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null)
printf '  %-14s %s\n' "ns $NS_CLIENT" "charon (strongSwan $swan, kernel-libipsec) $CLIENT" \
	"  |" "veth $VETH_CLIENT -- $VETH_ROUTER" \
	"root ns" "dvipsec-router: DVIPA $DVIPA, IKEv2, af_packet on $VETH_ROUTER" \
	"  ||" "memif to each target" \
	"ns ${NS_TARGETS[0]}" "dvipsec-target t1 -- TAP: $DVIPA on lo, HTTP server :$HTTP_PORT" \
	"ns ${NS_TARGETS[1]}" "dvipsec-target t2 -- TAP: $DVIPA on lo, HTTP server :$HTTP_PORT"
echo "  DPDK file prefixes ${PFX}r, ${PFX}t1, ${PFX}t2; --idle-sleep-us 20 (the CPUs are shared)"

step "IKEv2: swanctl --initiate"
charon_start
CONN=demo
swanctl_conn "$CONN" aes128gcm16-prfsha256-x25519 aes128gcm16 "$PSK"
t=$(date +%s%N)
swanctl_initiate "$CONN" || fail "swanctl --initiate: $(tail -n 3 "$WORK/initiate-$CONN.log")"
ms=$((($(date +%s%N) - t) / 1000000))
charon_sa "$CONN"
grep -q "state=ESTABLISHED" <<<"$RAW" || fail "charon: the IKE SA is not ESTABLISHED"
grep -q "state=INSTALLED mode=TUNNEL protocol=ESP encap=yes" <<<"$RAW" ||
	fail "charon: the CHILD SA is not INSTALLED as a tunnel in UDP"
echo "  IKE SA $PEER_ID -> $IKE_ID up in $ms ms (IKE_SA_INIT, IKE_AUTH through"
echo "  the router); CHILD SA AES-GCM-128, tunnel, ESP in UDP 4500; the appliance's view:"
# until charon, the router's engine and SA table and both targets hold the same pairs (the router
# may ask for more right after IKE_AUTH: a peer's sa_per_target)
settled=0
for _ in $(seq 50); do
	swanctl_c --list-sas --ike "$CONN" --raw >"$WORK/swanctl-raw.txt" 2>&1
	if pairs=$(report pairs); then
		settled=$((settled + 1))
		[ "$settled" -lt 2 ] || break # the same twice, 0.1 s apart
	else
		settled=0
	fi
	sleep 0.1
done
[ "$settled" = 2 ] || fail "the CHILD SAs did not settle within 5 s: $pairs"
echo "$pairs"

step "traffic through the tunnel"
for _ in 1 2; do
	reply=$(ip netns exec "$NS_CLIENT" curl -sS --max-time 10 \
		"http://$DVIPA:$HTTP_PORT/hello" 2>&1) || fail "curl http://$DVIPA/hello: $reply"
	echo "  \$ curl http://$DVIPA/hello   ->   $reply"
done
echo "  now $CONNS connections, $PARALLEL at a time, then $STREAMS streams for $DURATION s ..."
ip netns exec "$NS_CLIENT" "$PY" "$ROOT/scripts/demo_traffic.py" load --addr "$DVIPA" \
	--port "$HTTP_PORT" --conns "$CONNS" --parallel "$PARALLEL" --streams "$STREAMS" \
	--seconds "$DURATION" >"$WORK/load.json" 2>"$WORK/load.err"
load_rc=$?
[ -s "$WORK/load.json" ] || fail "the HTTP client crashed: $(tail -n 5 "$WORK/load.err")"
# the targets report lifesize every second: let the last report in before reading the sums
sleep 1.5
nstat_args=()
for ns in client:"$NS_CLIENT" t1:"${NS_TARGETS[0]}" t2:"${NS_TARGETS[1]}"; do
	ip netns exec "${ns#*:}" nstat -asz --json UdpRcvbufErrors TcpRetransSegs \
		>"$WORK/nstat-${ns%%:*}.json" 2>&1
	nstat_args+=(--nstat "${ns%%:*}=$WORK/nstat-${ns%%:*}.json")
done
swanctl_c --list-sas --ike "$CONN" >"$WORK/swanctl-list.txt" 2>&1
swanctl_c --list-sas --ike "$CONN" --raw >"$WORK/swanctl-raw.txt" 2>&1
echo
report summary --load "$WORK/load.json" --swanctl "$WORK/swanctl-list.txt" \
	--esp-errors "$(charon_esp_errors)" "${nstat_args[@]}" \
	--replay-refused "$(grep -c 'sequence number verification failed' "$WORK/charon.log")" \
	--extra-conns 2
report_rc=$?
[ "$load_rc" = 0 ] || fail "some connections failed (see above)"
[ "$report_rc" = 0 ] || fail "the checks above failed"
swanctl_c --terminate --ike "$CONN" --timeout 10 >>"$WORK/swanctl.log" 2>&1 ||
	fail "swanctl --terminate"
for p in r t1 t2; do
	out=$("$PY" "$APPLIANCE_DIR/ike_router_check.py" sa "$PFX$p" --gone --timeout 3) ||
		fail "after swanctl --terminate, ${p/#r/router}: $out"
done
echo "swanctl --terminate: charon deleted the IKE SA; the router and both targets hold no SA"

if [ "$BENCH" = 1 ]; then
	teardown || exit 1
	step "ESP engine benchmark (scripts/bench-esp.sh: one core, build/)"
	bash "$ROOT/scripts/bench-esp.sh" || exit 1
fi
exit 0
