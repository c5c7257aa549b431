# shellcheck shell=bash
# The appliance with strongSwan in front of it for tests/e2e/appliance.sh: the shared set-up of
# tests/interop/appliance_lib.sh (topology of tests/integration/topo.sh, charon from
# charon_conf.sh, the router's "ike" configuration), with a tcp_listener.py behind each target
# and what the e2e rows add on top:
#
#  ns dvic<N>:   charon 192.0.2.10 (ipsec0: TUN, routes to the DVIPA in table 220) on dvic0
#                | veth
#  root ns:      dvir<N> <- af_packet - dvipsec-router (DVIPA 192.0.2.1, "ike", no static SAs)
#                                       || memif, control channel $WORK/tN.ctl
#  ns dvit1<N>:  dvipsec-target 1 -- TAP dvt1 -- kernel: DVIPA on lo, tcp_listener.py "t1"
#  ns dvit2<N>:  dvipsec-target 2 -- TAP dvt2 -- kernel: DVIPA on lo, tcp_listener.py "t2"
#
# The caller sets BUILD (a meson build directory), E2E_NAME (work directory name), may set
# E2E_KEEP (keep the work directory), E2E_ROUTER_ARGS / E2E_TARGET_ARGS (replace the processes'
# extra arguments, default "--idle-sleep-us 20") and may define PEERS_HOOK (run with
# router.json's path before the processes start, to add IKE peers with add_peer). Then:
#   e2e_prereqs    exit 77 unless root, TUN, strongSwan, ip, ethtool, scapy are there
#   e2e_up         config, namespaces, router, targets, listeners, charon
#   write_conn / initiate / terminate / final_pairs / ike_stat / dist_stat / fail (dumps
#   diagnostics, exits 1); from appliance_lib.sh: charon_sa, swanctl_c, tel, tel_value, row,
#   shutdown_row ...
# The EXIT trap (appliance_exit, appliance_lib.sh) stops everything that was started and removes what was created,
# whatever path the test takes.

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/appliance_lib.sh
. "$E2E_HERE/../interop/appliance_lib.sh"
N=$(($$ % 100000))
appliance_names "$N" "dve$N"
if [ -n "${E2E_ROUTER_ARGS+set}" ]; then
	read -r -a ROUTER_ARGS <<<"--cf /$CF_SHM $E2E_ROUTER_ARGS"
fi
if [ -n "${E2E_TARGET_ARGS+set}" ]; then
	read -r -a TARGET_ARGS <<<"--cf /$CF_SHM $E2E_TARGET_ARGS"
fi
PORT=5001
LISTEN_PORTS=$PORT
PSK=5ca1ab1e0ddba11c0ffee0112233445566778899aabbccddeeff00112233
WORK=

skip() {
	echo "SKIP: $*"
	exit 77
}

e2e_prereqs() {
	local why
	why=$(appliance_missing)
	[ -z "$why" ] || skip "$why"
	"$PY" -c 'import scapy' 2>/dev/null || skip "python3-scapy is not installed"
	why=$(appliance_unbuilt)
	if [ -n "$why" ]; then
		echo "FAIL: $why"
		exit 1
	fi
}

fail() {
	echo "FAIL: $*"
	echo "================ diagnostics"
	appliance_diagnostics
	if [ -n "${PID[router]:-}" ]; then
		tel "${PFX}r" /dvipsec/lifesize /dvipsec/dist | sed 's/^/router /'
	fi
	echo "================ end of diagnostics"
	exit 1
}

# e2e_up: the work directory, configs (PEERS_HOOK adds peers), topology, appliance, charon.
e2e_up() {
	WORK=$(mktemp -d "/tmp/dvipsec-$E2E_NAME.XXXXXX") || exit 1
	log "work dir $WORK, namespaces $NS_CLIENT ${NS_TARGETS[*]}, EAL prefixes ${PFX}{r,t1,t2}"
	appliance_config "$PSK"
	if declare -F PEERS_HOOK >/dev/null; then
		PEERS_HOOK "$WORK/router.json"
		run "$CFG_CHECK" --router "$WORK/router.json"
	fi
	appliance_up
	charon_start
	log "charon up"
}

# add_peer ROUTER_JSON NAME ID LIFETIME_JSON [EXTRA_JSON]: one more PSK peer like "client"
add_peer() {
	"$PY" -c 'import json, sys
path, name, ident, life = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
r = json.load(open(path))
peer = dict(r["ike"]["peers"][0], name=name, id=ident, **extra)
if life:
    peer["lifetime"] = life
r["ike"]["peers"].append(peer)
json.dump(r, open(path, "w"), indent=1)' "$@" || fail "router.json: peer $2"
}

# write_conn NAME OUR_ID [CHILD_EXTRA]: a swanctl connection (aes128gcm16, PSK) loaded into charon
write_conn() {
	swanctl_conn "$1" aes128gcm16-prfsha256-x25519 aes128gcm16 "$PSK" "" "$2" "${3:-}"
}

initiate() { # CONN
	swanctl_initiate "$1" || fail "$1: swanctl --initiate: $(tail -3 "$WORK/initiate-$1.log")"
}

# the SA checks of tests/interop/ike_router_check.py (sa: exactly these pairs, or none)
SA_CHECK=$E2E_HERE/../interop/ike_router_check.py

terminate() { # CONN: and nothing left on the router and the targets
	local p
	swanctl_c --terminate --ike "$1" --timeout 10 >>"$WORK/swanctl.log" 2>&1
	for p in "${PFX}r" "${PFX}t1" "${PFX}t2"; do
		out=$("$PY" "$SA_CHECK" sa "$p" --gone --timeout 3) ||
			fail "$1: after the delete, $p: $out"
	done
}

# final_pairs ROW CONN [PREFIX...]: charon's installed CHILD SAs, and only they, on these
# processes (default router, t1, t2) within 5 s (charon may still be deleting a replaced one, the
# router adding one)
final_pairs() {
	local row=$1 conn=$2 deadline=$((SECONDS + 5)) procs=("${@:3}") p ok
	[ ${#procs[@]} -gt 0 ] || procs=("${PFX}r" "${PFX}t1" "${PFX}t2")
	while :; do
		charon_sa "$conn"
		ok=$NPAIRS
		for p in "${procs[@]}"; do
			out=$("$PY" "$SA_CHECK" sa "$p" "${SA_ARGS[@]}" --aead aes128gcm16 \
				--timeout 0.3) || ok=0
			[ "$ok" -gt 0 ] || break
		done
		[ "$ok" -gt 0 ] && return 0
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "$row: charon's CHILD SAs ($PAIRS) vs $p: $out"
		sleep 0.2
	done
}

ike_stat() { tel_value "${PFX}r" /dvipsec/ike "$1"; }
dist_stat() { tel_value "${PFX}r" /dvipsec/dist "$1"; }

jq_py() { # JSON EXPR: evaluate a python expression over r = the parsed JSON
	"$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
