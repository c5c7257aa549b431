# shellcheck shell=bash
# The namespace topology of ARCHITECTURE.md 8 and the processes in it, for the tests that use it
# (sourced by tests/integration/fastpath_netns.sh, and through tests/interop/appliance_lib.sh by
# tests/interop/ike_router.sh and scripts/demo.sh):
#
#  ns $NS_CLIENT: the client, $CLIENT_ADDR on $VETH_CLIENT
#            | veth
#  root ns:  $VETH_ROUTER (no address) <- af_packet - dvipsec-router (memif servers, DVIPA)
#                                                      || memif
#  ns ${NS_TARGETS[i]}: dvipsec-target i+1 -- TAP ${TAPS[i]} -- kernel: DVIPA on lo, routes
#            ${TARGET_ROUTES[@]} into the TAP, tcp_listener.py "${TARGETS[i]}" on $LISTEN_PORTS
#
# The caller sets those names (and DVIPA, WORK, START_TIMEOUT, PY, HERE_TOPO: this directory) and
# defines fail MESSAGE (which must not return). Processes run in the background with their
# stdout/stderr in $WORK/NAME.out/.err; topo_teardown stops what was started (in reverse order) and
# removes what was created, so a test calls it from its EXIT trap on every path.

declare -A PID=()
declare -A STATUS=()
ORDER=()
CREATED_NS=()
CREATED_VETH=0
T0=$(date +%s.%N)

elapsed() {
	"$PY" -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$T0" \
		"$(date +%s.%N)"
}

log() {
	echo "[$(elapsed)s] $*"
}

# Stop one process we started: SIGTERM, up to $2 seconds, then SIGKILL. Sets STATUS[name].
stop_proc() {
	local name=$1 grace=${2:-5} pid=${PID[$1]:-} i
	[ -n "$pid" ] || return 0
	if [ -n "${STATUS[$name]:-}" ]; then
		return 0
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < grace * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			STATUS[$name]="killed (did not exit within ${grace}s of SIGTERM)"
			return 0
		fi
	fi
	wait "$pid" 2>/dev/null
	STATUS[$name]=$?
}

# start NAME CMD...: run in the background, stdout/stderr into the work dir.
start() {
	local name=$1
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PID[$name]=$!
	ORDER+=("$name")
}

# wait_ready NAME...: until each prints a line with the word "ready", or fails.
wait_ready() {
	local name deadline
	deadline=$(($(date +%s) + START_TIMEOUT))
	for name in "$@"; do
		while ! grep -qw ready "$WORK/$name.out" 2>/dev/null; do
			if ! kill -0 "${PID[$name]}" 2>/dev/null; then
				wait "${PID[$name]}" 2>/dev/null
				STATUS[$name]=$?
				fail "$name exited with status ${STATUS[$name]} before printing 'ready'"
			fi
			[ "$(date +%s)" -lt "$deadline" ] ||
				fail "$name printed no 'ready' within ${START_TIMEOUT}s"
			sleep 0.1
		done
		log "$name ready"
	done
}

run() { # a setup command that must work
	local out
	if ! out=$("$@" 2>&1); then
		fail "setup step failed: $* -> $out"
	fi
}

# The namespaces, the router's veth into the client's namespace, the kernel kept off the router's
# port, the client's checksum offload off (PEERS.md: af_packet would see partial checksums).
topo_netns() {
	local ns
	for ns in "$NS_CLIENT" "${NS_TARGETS[@]}"; do
		run ip netns add "$ns"
		CREATED_NS+=("$ns")
		run ip -n "$ns" link set lo up
		# No IPv6 (router solicitations, MLD) on the links under test.
		run ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	run ip link add "$VETH_ROUTER" type veth peer name "$VETH_CLIENT" netns "$NS_CLIENT"
	CREATED_VETH=1
	# The root kernel must stay out of the way on the router's port: no IPv6, no forwarding, no
	# ARP.
	run sysctl -qw "net.ipv6.conf.$VETH_ROUTER.disable_ipv6=1" \
		"net.ipv4.conf.$VETH_ROUTER.forwarding=0" "net.ipv4.conf.$VETH_ROUTER.arp_ignore=8"
	run ip link set "$VETH_ROUTER" up
	run ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR" dev "$VETH_CLIENT"
	run ip -n "$NS_CLIENT" link set "$VETH_CLIENT" up
	run ip netns exec "$NS_CLIENT" ethtool -K "$VETH_CLIENT" tx off gso off gro off
}

# topo_tap_up I: target I's TAP up and the routes to the client through it (again after a
# restart of the target, which makes a new TAP).
topo_tap_up() {
	local i=$1 route
	run ip -n "${NS_TARGETS[$i]}" link set "${TAPS[$i]}" up
	for route in "${TARGET_ROUTES[@]}"; do
		run ip -n "${NS_TARGETS[$i]}" route replace "$route" dev "${TAPS[$i]}"
	done
}

# topo_start ROUTER_CONFIG TARGET_CONFIG... : the router, the targets (extra arguments in the
# arrays ROUTER_ARGS and TARGET_ARGS), their TAPs, the DVIPA in each target's kernel and a
# listener behind each (none if LISTEN_PORTS is empty: the caller starts its own servers).
topo_start() {
	local router_cfg=$1 i ns
	shift
	start router "$ROUTER_BIN" --config "$router_cfg" "${ROUTER_ARGS[@]}"
	wait_ready router
	for i in "${!TARGETS[@]}"; do
		start "${TARGETS[$i]}" ip netns exec "${NS_TARGETS[$i]}" "$TARGET_BIN" \
			--config "$1" "${TARGET_ARGS[@]}"
		shift
	done
	wait_ready "${TARGETS[@]}"
	for i in "${!TARGETS[@]}"; do
		ns=${NS_TARGETS[$i]}
		ip -n "$ns" link show "${TAPS[$i]}" >/dev/null 2>&1 ||
			fail "${TARGETS[$i]} printed ready but there is no TAP ${TAPS[$i]} in namespace $ns"
		run ip -n "$ns" addr add "$DVIPA/32" dev lo
		topo_tap_up "$i"
		[ -n "${LISTEN_PORTS:-}" ] || continue
		start "listener-${TARGETS[$i]}" ip netns exec "$ns" "$PY" "$HERE_TOPO/tcp_listener.py" \
			--name "${TARGETS[$i]}" --addr "$DVIPA" --ports "$LISTEN_PORTS" \
			--log "$WORK/listener-${TARGETS[$i]}.log"
	done
	[ -z "${LISTEN_PORTS:-}" ] || wait_ready "${TARGETS[@]/#/listener-}"
}

# Everything started stopped (latest first), the namespaces and the router's veth removed.
topo_teardown() {
	local i name
	for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
		stop_proc "${ORDER[$i]}" 3
	done
	for name in "${CREATED_NS[@]}"; do
		ip netns del "$name" 2>/dev/null
	done
	if [ "$CREATED_VETH" = 1 ] && ip link show "$VETH_ROUTER" >/dev/null 2>&1; then
		ip link del "$VETH_ROUTER" 2>/dev/null
	fi
}
