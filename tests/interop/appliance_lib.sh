# shellcheck shell=bash disable=SC2034  # the names and results are for the caller
# The whole appliance with strongSwan as its IPsec client, for the scripts that drive it end to
# end (tests/interop/ike_router.sh, scripts/demo.sh, tests/e2e/): the topology of
# ARCHITECTURE.md 8 from tests/integration/topo.sh, charon (kernel-libipsec) from charon_conf.sh
# in the client's namespace, the router negotiating the CHILD SA with its IKE engine (router.json
# "ike" object from gen_config.py --ike-psk), and telemetry helpers.
#
#  ns $NS_CLIENT:  charon $CLIENT (ipsec0: TUN, routes to the DVIPA in table 220) on $VETH_CLIENT
#                  | veth
#  root ns:        $VETH_ROUTER <- af_packet - dvipsec-router ($DVIPA, IKE) || memif
#  ns ${NS_TARGETS[i]}: dvipsec-target i+1 -- TAP -- kernel: $DVIPA on lo, the caller's server
#
# Before sourcing, set BUILD (a build directory). Then, in this order:
#   appliance_names N PFX      names of one instance: namespaces dvic<N>, dvit1<N>, dvit2<N>, root
#                              veth dvir<N>, EAL prefixes <PFX>r/t1/t2, CF segment /<PFX>-cf;
#                              N and PFX short and unique per run (e.g. from $$)
#   appliance_missing          prints why this machine cannot run it (nothing: it can)
#   appliance_unbuilt          prints which binary of $BUILD is missing (nothing: all there)
#   WORK=$(mktemp -d ...)      the work directory (configs, sockets, every process's log)
#   appliance_config PSK [gen_config.py args]   router.json, target1/2.json, test.json, checked;
#                              sets IKE_ID PEER_ID HARD_ID HARD_S
#   appliance_up [CFG...]      namespaces, router and targets ready, TAPs up (LISTEN_PORTS set:
#                              tcp_listener.py behind each; empty: the caller starts its servers)
#   charon_start               charon in the client's namespace, its vici socket up
#   swanctl_conn NAME IKE ESP PSK [IKE_EXTRA [OUR_ID [CHILD_EXTRA]]]   a connection loaded
#   swanctl_initiate NAME [LOG]   swanctl --initiate --child NAME (status of swanctl)
#   charon_sa NAME             charon's view: RAW, SPI_I, SPI_R, SPI_IN, SPI_OUT, BYTES_IN,
#                              BYTES_OUT
#   tel_value PREFIX CMD KEY   one integer of a telemetry reply
#   appliance_diagnostics      what a failure report shows (process logs, telemetry, charon)
#   appliance_teardown         everything stopped and removed (call it from the EXIT trap)
# The caller defines fail MESSAGE (must not return), as topo.sh asks.

APPLIANCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HERE_TOPO=$(cd "$APPLIANCE_DIR/../integration" && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
ROUTER_BIN=$BUILD/dataplane/router/dvipsec-router
TARGET_BIN=$BUILD/dataplane/target/dvipsec-target
CFG_CHECK=$BUILD/controlplane/cfg/dvipsec-cfg-check
CHARON=/usr/lib/ipsec/charon
LIBIPSEC=/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
TELEMETRY=$HERE_TOPO/telemetry.py
START_TIMEOUT=${START_TIMEOUT:-30}
WORK=${WORK:-}
# shellcheck source=../integration/topo.sh
. "$HERE_TOPO/topo.sh"
# shellcheck source=charon_conf.sh
. "$APPLIANCE_DIR/charon_conf.sh"

appliance_names() {
	local n=$1
	PFX=$2
	NS_CLIENT=dvic$n
	NS_TARGETS=("dvit1$n" "dvit2$n")
	TARGETS=(t1 t2)
	TAPS=(dvt1 dvt2) # gen_config.py names them
	VETH_ROUTER=dvir$n
	VETH_CLIENT=dvic0
	DVIPA=192.0.2.1
	CLIENT=192.0.2.10
	CLIENT_ADDR=$CLIENT/24
	TARGET_ROUTES=("$CLIENT/32")
	CF_SHM=${PFX}-cf
	# Four polling lcores (router main and worker, two targets) beside charon and the kernel's
	# TCP share this machine's few CPUs: idle sleep lets each yield when it has nothing to do.
	ROUTER_ARGS=(--cf "/$CF_SHM" --idle-sleep-us 20)
	TARGET_ARGS=(--cf "/$CF_SHM" --idle-sleep-us 20)
}

appliance_missing() {
	local tool
	[ "$(id -u)" -eq 0 ] || {
		echo "needs root (network namespaces, veth, TAP, a bind mount over /run)"
		return
	}
	[ -c /dev/net/tun ] || {
		echo "no /dev/net/tun (TAP devices, kernel-libipsec's TUN)"
		return
	}
	if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null || [ ! -f "$LIBIPSEC" ]; then
		echo "strongSwan is not installed (scripts/install-deps.sh: strongswan-charon" \
			"strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins" \
			"libstrongswan-extra-plugins)"
		return
	fi
	for tool in ip ethtool; do
		command -v "$tool" >/dev/null || {
			echo "$tool is not installed"
			return
		}
	done
}

appliance_unbuilt() {
	local bin
	for bin in "$ROUTER_BIN" "$TARGET_BIN" "$CFG_CHECK"; do
		[ -x "$bin" ] || {
			echo "$bin not found or not executable (build it: ninja -C $BUILD)"
			return
		}
	done
}

appliance_config() {
	local psk=$1
	shift
	run "$PY" "$HERE_TOPO/gen_config.py" "$WORK" --prefix "$PFX" --uplink "$VETH_ROUTER" \
		--weights 100,100 --ike-psk "$psk" "$@"
	run "$CFG_CHECK" --router "$WORK/router.json"
	run "$CFG_CHECK" --target "$WORK/target1.json"
	run "$CFG_CHECK" --target "$WORK/target2.json"
	read -r IKE_ID PEER_ID HARD_ID HARD_S < <("$PY" -c 'import json,sys
i = json.load(open(sys.argv[1]))["ike"]
print(i["id"], i["peer_id"], i["hard_peer_id"], i["hard_seconds"])' "$WORK/test.json")
}

# appliance_up [ROUTER_CFG T1_CFG T2_CFG]: the namespaces and the appliance; a caller that adds
# links (a target's uplink) calls topo_netns and topo_start itself.
# shellcheck disable=SC2120  # the arguments are optional
appliance_up() {
	topo_netns
	topo_start "${1:-$WORK/router.json}" "${2:-$WORK/target1.json}" "${3:-$WORK/target2.json}"
}

# Everything this instance started stopped, and what it created removed.
appliance_teardown() {
	topo_teardown
	if [ -n "${PFX:-}" ]; then
		rm -rf "/var/run/dpdk/${PFX}r" "/var/run/dpdk/${PFX}t1" "/var/run/dpdk/${PFX}t2"
		rm -f "/dev/shm/$CF_SHM"
	fi
}

# appliance_exit KEEP: the scripts' EXIT trap. Background jobs killed, appliance_teardown, the work
# directory removed unless KEEP is non-empty; exits with the status the script was ending with.
# shellcheck disable=SC2317  # called by the EXIT trap
appliance_exit() {
	local rc=$? keep=${1:-} job
	trap - EXIT INT TERM HUP
	set +e
	for job in $(jobs -p); do # background helpers of the rows (load, watchers)
		kill "$job" 2>/dev/null
	done
	appliance_teardown
	if [ -n "$WORK" ]; then
		if [ -n "$keep" ]; then
			echo "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}

swanctl_c() {
	ip netns exec "$NS_CLIENT" swanctl "$@" --uri "unix://$WORK/charon.vici"
}

# charon_start [CHARON_LINES [LOG_LINES]]: strongswan.conf (charon_conf.sh) and charon, as process
# "charon"; again after charon was stopped. Defaults: retransmit_timeout 1 s, ESP logged at 2.
# shellcheck disable=SC2120  # the arguments are optional
charon_start() {
	mkdir -p "$WORK/run"
	charon_conf "$WORK/strongswan.conf" "unix://$WORK/charon.vici" "$WORK/charon.log" \
		"${1-retransmit_timeout = 1.0}" "${2-esp = 2}"
	rm -f "$WORK/charon.vici"
	unset 'STATUS[charon]'
	start charon ip netns exec "$NS_CLIENT" sh -c "mount --bind '$WORK/run' /run &&
		STRONGSWAN_CONF='$WORK/strongswan.conf' exec $CHARON"
	for _ in $(seq 100); do
		[ -S "$WORK/charon.vici" ] && break
		kill -0 "${PID[charon]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$WORK/charon.vici" ] || fail "charon did not start (no vici socket)"
}

swanctl_conn() {
	local id=${6:-$PEER_ID}
	cat >"$WORK/swanctl-$1.conf" <<EOF
connections {
	$1 {
		version = 2
		local_addrs = $CLIENT
		remote_addrs = $DVIPA
		proposals = $2
		mobike = no
		${5:-}
		local {
			auth = psk
			id = $id
		}
		remote {
			auth = psk
			id = $IKE_ID
		}
		children {
			$1 {
				esp_proposals = $3
				mode = tunnel
				${7:-}
			}
		}
	}
}
secrets {
	ike-$1 {
		id-1 = $id
		id-2 = $IKE_ID
		secret = 0x$4
	}
}
EOF
	swanctl_c --load-all --file "$WORK/swanctl-$1.conf" >>"$WORK/swanctl.log" 2>&1 ||
		fail "$1: swanctl --load-all"
}

swanctl_initiate() {
	timeout 20 ip netns exec "$NS_CLIENT" swanctl --initiate --child "$1" --timeout 15 \
		--uri "unix://$WORK/charon.vici" >"${2:-$WORK/initiate-$1.log}" 2>&1
}

# charon's view of IKE SA $1: SPI_I, SPI_R; its installed CHILD SAs (the router asks for one per target
# beside the negotiated one: several, same selectors) as CHILD_IN / CHILD_OUT (charon's SPIs, in
# the order listed), SA_ARGS (--in OUR_IN --out OUR_OUT for each, as ike_router_check.py sa
# takes them) and PAIRS ("OUR_IN/OUR_OUT,..." as tests/e2e/probe.py sas --pairs takes them;
# NPAIRS how many); SPI_IN / SPI_OUT the first one's; BYTES_IN / BYTES_OUT summed over all.
charon_sa() {
	RAW=$(swanctl_c --list-sas --ike "$1" --raw 2>&1)
	SPI_I=$(sed -n 's/.* initiator-spi=\([0-9a-f]*\) .*/\1/p' <<<"$RAW")
	SPI_R=$(sed -n 's/.* responder-spi=\([0-9a-f]*\) .*/\1/p' <<<"$RAW")
	local kids # installed ones only: a replaced one stays listed as DELETED for a moment
	kids=$(grep -oE 'state=INSTALLED mode=[^}]*' <<<"$RAW")
	mapfile -t CHILD_IN < <(grep -o ' spi-in=[0-9a-f]*' <<<"$kids" | cut -d= -f2)
	mapfile -t CHILD_OUT < <(grep -o ' spi-out=[0-9a-f]*' <<<"$kids" | cut -d= -f2)
	SPI_IN=${CHILD_IN[0]:-}
	SPI_OUT=${CHILD_OUT[0]:-}
	SA_ARGS=()
	PAIRS=
	for i in "${!CHILD_IN[@]}"; do
		SA_ARGS+=(--in "${CHILD_OUT[$i]}" --out "${CHILD_IN[$i]}")
		PAIRS+=${PAIRS:+,}${CHILD_OUT[$i]}/${CHILD_IN[$i]}
	done
	NPAIRS=${#CHILD_IN[@]}
	BYTES_IN=$(grep -o ' bytes-in=[0-9]*' <<<"$kids" | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
	BYTES_OUT=$(grep -o ' bytes-out=[0-9]*' <<<"$kids" | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
}

# libipsec's complaints about received ESP (esp = 2 logs every refused packet: replayed, failed
# ICV, unknown SPI, padding, policy)
ESP_ERRORS='\[ESP\] .*(failed|does not belong|discarding|invalid|error)'
charon_esp_errors() {
	grep -cE "$ESP_ERRORS" "$WORK/charon.log"
}

charon_tun_errors() { # ipsec0's rx/tx errors and drops summed
	ip -n "$NS_CLIENT" -s -j link show ipsec0 2>/dev/null | "$PY" -c 'import json,sys
s=json.load(sys.stdin)[0]["stats64"]
print(sum(s[d][k] for d in ("rx", "tx") for k in ("errors", "dropped")))'
}

tel() { # PREFIX CMD...: telemetry replies, one line each
	"$PY" "$TELEMETRY" dump "$@" 2>&1 | cut -c1-3000
}

tel_value() { # PREFIX CMD KEY
	"$PY" "$TELEMETRY" get "$1" "$2" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$3"
}

# A test's table of rows: row NAME TEXT... prints "  NAME ok  TEXT" and counts it in ROWS.
ROWS=0
row() {
	ROWS=$((ROWS + 1))
	printf '  %-10s ok  %s\n' "$1" "${*:2}"
}

# The last row of a test: SIGTERM to charon, the listeners, the targets and the router (in that
# order); router and targets must end with status 0 (fail otherwise, defined by the test).
shutdown_row() {
	local name stopped=()
	for name in charon "${TARGETS[@]/#/listener-}" "${TARGETS[@]}" router; do
		stop_proc "$name" 5
		case $name in router | t[12]) stopped+=("$name ${STATUS[$name]}") ;; *) continue ;; esac
		[ "${STATUS[$name]}" = 0 ] || fail "$name: status ${STATUS[$name]} after SIGTERM"
	done
	row shutdown "exit status after SIGTERM: $(
		IFS=,
		echo "${stopped[*]}"
	)"
}

appliance_diagnostics() {
	local name
	for name in "${ORDER[@]}"; do
		echo "---- $name (pid ${PID[$name]}, status ${STATUS[$name]:-running}): stderr, stdout"
		tail -n 30 "$WORK/$name.err" 2>/dev/null
		tail -n 10 "$WORK/$name.out" 2>/dev/null
	done
	if [ -n "${PID[router]:-}" ]; then
		tel "${PFX}r" /dvipsec/ike /dvipsec/sa /dvipsec/router/stats /dvipsec/router/drops \
			/dvipsec/targets | sed 's/^/router /'
	fi
	for name in "${TARGETS[@]}"; do
		[ -n "${PID[$name]:-}" ] || continue
		tel "${PFX}$name" /dvipsec/sa /dvipsec/target/stats /dvipsec/target/drops |
			sed "s/^/$name /"
	done
	if [ -n "${PID[charon]:-}" ]; then
		echo "---- swanctl --list-sas --raw"
		swanctl_c --list-sas --raw 2>&1 | tail -5
		ip -n "$NS_CLIENT" -s link show ipsec0 2>&1
	fi
	echo "---- charon.log (tail)"
	tail -n 40 "$WORK/charon.log" 2>/dev/null
}
