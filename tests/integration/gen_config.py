#!/usr/bin/python3
"""Configuration of the namespace fast-path test, from one SA table.

Writes into WORKDIR:
  router.json, target1.json, target2.json  the three processes' configs (conf/README.md format)
  router-reload.json                        router.json as an operator edits it for a SIGHUP: one
                                            pair of the table removed, the "reload" pair added
  test.json                                 the client's view: DVIPA, addresses, the SA pairs with
                                            their keys, the targets and their telemetry prefixes

The router is the one source of SA truth: the targets' configs have no static_sas (everything a
target holds arrives over the control channel), unless --target-static-sas gives them the
router's list (slot = position, as before the channel existed).

With --ike-psk the router negotiates its SAs instead (tests/interop/ike_router.sh): router.json has
no static_sas but an "ike" object (our id IKE_ID and two PSK peers whose CHILD SAs may cover the
DVIPA and the client's address, all protocols: IKE_PEER_ID, and IKE_HARD_PEER_ID whose CHILD SAs
live HARD_SECONDS, without liveness checks or rekeys), and test.json an "ike" object with the ids
and the key for the client's strongSwan.

The SA table: for each AEAD (aes128gcm16, aes256gcm16, chacha20poly1305) x mode (tunnel,
transport) x encapsulation (raw, udp) one pair of SAs between the client 192.0.2.10 and the DVIPA
192.0.2.1: an inbound SA (client -> DVIPA) and an outbound SA (DVIPA -> client), distinct SPIs,
random keys. Pair i (0-based) covers TCP port 5001+i on the DVIPA (local_ts proto 6, that port),
so a target tells which outbound SA covers a reply by its source port. Tunnel SAs carry the inner
client address 198.51.100.10; transport SAs the client's own 192.0.2.10. ESP-in-UDP SAs use
4500 on the DVIPA; the client's port is 4500 in tunnel mode and 40123 (a NAT-mapped port) in
transport mode, so the targets must honour udp_remote_port.

Besides the table, test.json's "extra" pairs (not in "pairs": the client's standard scenarios do
not touch them), each on its own port:
  reload     not in router.json, added by router-reload.json (5013)
  life_soft  in router.json; its inbound SA has lifetime soft 20000 / hard 2000000 bytes (5014)
  life_hard  in router.json; its inbound SA has lifetime soft 3000 / hard 6000 bytes (5015)
and "reload_removed" names the table pair router-reload.json leaves out (from the middle of the
list: the SAs after it move up in the file but must keep their slots).

Usage: gen_config.py WORKDIR --prefix PFX [--seed N] [--router-lcores 0-1 --router-worker 1]
       [--t1-lcore 0 --t2-lcore 1] [--weights 100,300] [--target-static-sas]
       [--ike-psk HEX]
"""

import argparse
import json
import os
import random
import sys

DVIPA = "192.0.2.1"
CLIENT = "192.0.2.10"
CLIENT_INNER = "198.51.100.10"
CLIENT_INNER_NET = "198.51.100.0/24"
AEADS = (("aes128gcm16", 16), ("aes256gcm16", 32), ("chacha20poly1305", 32))
SALT_LEN = 4
FIRST_PORT = 5001
PLAIN_PORT = 8080
NATT_PORT = 4500
NATED_CLIENT_PORT = 40123
IN_SPI_BASE = 0x0000A000
OUT_SPI_BASE = 0x0000B000
TARGET_NAMES = ("t1", "t2")
# The extra pairs: (role, AEAD, mode, encap, inbound SA lifetime or None); ports follow the table.
EXTRA_PAIRS = (
    ("reload", "aes256gcm16", "tunnel", "raw", None),
    ("life_soft", "aes128gcm16", "transport", "raw", {"soft_bytes": 20000, "hard_bytes": 2000000}),
    ("life_hard", "chacha20poly1305", "transport", "raw", {"soft_bytes": 3000, "hard_bytes": 6000}),
)
EXTRA_SPI_OFFSET = 0x100
RELOAD_REMOVED = 9  # chacha20poly1305/tunnel/udp: from the middle of static_sas
IKE_ID = "dvipa.dvipsec.test"
IKE_PEER_ID = "client.dvipsec.test"
IKE_HARD_PEER_ID = "hard.client.dvipsec.test"
HARD_SECONDS = 3


def make_pair(rng: random.Random, name: str, aead: str, mode: str, encap: str, port: int,
              spi_index: int) -> dict:
    """One SA pair (inbound and outbound SA) covering TCP port `port` on the DVIPA."""
    key_len = dict(AEADS)[aead]
    pair = {
        "name": name,
        "port": port,
        "aead": aead,
        "mode": mode,
        "encap": encap,
        "in_spi": IN_SPI_BASE + spi_index,
        "out_spi": OUT_SPI_BASE + spi_index,
        "in_key": rng.randbytes(key_len + SALT_LEN).hex(),
        "out_key": rng.randbytes(key_len + SALT_LEN).hex(),
        "client_addr": CLIENT_INNER if mode == "tunnel" else CLIENT,
    }
    if encap == "udp":
        pair["udp_local_port"] = NATT_PORT
        pair["udp_remote_port"] = NATT_PORT if mode == "tunnel" else NATED_CLIENT_PORT
    return pair


def sa_table(rng: random.Random) -> list:
    """The SA pairs, in port order."""
    pairs = []
    for aead, _ in AEADS:
        for mode in ("tunnel", "transport"):
            for encap in ("raw", "udp"):
                index = len(pairs)
                pairs.append(make_pair(rng, "%s/%s/%s" % (aead, mode, encap), aead, mode, encap,
                                       FIRST_PORT + index, index + 1))
    return pairs


def extra_pairs(rng: random.Random, first_port: int) -> dict:
    """The pairs of the distribution scenarios by role (see the module's doc)."""
    extra = {}
    for i, (role, aead, mode, encap, life) in enumerate(EXTRA_PAIRS):
        pair = make_pair(rng, "%s/%s/%s/%s" % (role, aead, mode, encap), aead, mode, encap,
                         first_port + i, EXTRA_SPI_OFFSET + i + 1)
        if life:
            pair["in_lifetime"] = life
        extra[role] = pair
    return extra


def sa_objects(pair: dict) -> list:
    """The two static_sas entries of one pair."""
    out = []
    for direction, spi, key in (("inbound", pair["in_spi"], pair["in_key"]),
                                ("outbound", pair["out_spi"], pair["out_key"])):
        sa = {
            "spi": "0x%08x" % spi,
            "direction": direction,
            "aead": pair["aead"],
            "key": key,
            "mode": pair["mode"],
            "local": DVIPA,
            "remote": CLIENT,
            "local_ts": [{"cidr": DVIPA + "/32", "proto": 6, "ports": str(pair["port"])}],
            "remote_ts": [pair["client_addr"] + "/32"],
        }
        if pair["encap"] == "udp":
            sa["encap"] = "udp"
            sa["udp_local_port"] = pair["udp_local_port"]
            sa["udp_remote_port"] = pair["udp_remote_port"]
        if direction == "inbound" and pair.get("in_lifetime"):
            sa["lifetime"] = pair["in_lifetime"]
        out.append(sa)
    return out


def memif(index: int, workdir: str, role: str) -> str:
    """devargs of one end of the trusted link to target index+1 (filesystem socket, fixed MAC)."""
    end = 1 if role == "server" else 2
    return ("net_memif%d,role=%s,socket=%s,socket-abstract=no,id=0,mac=02:64:76:00:%02x:%02x"
            % (index if role == "server" else 0, role,
               os.path.join(workdir, "t%d.sock" % (index + 1)), index + 1, end))


def eal(lcores: str, prefix: str) -> list:
    """EAL arguments: no hugepages, no PCI, own runtime directory; telemetry stays on."""
    return ["-l", lcores, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix]


def build(args) -> dict:
    """All files' contents by file name."""
    rng = random.Random(args.seed) if args.seed is not None else random.SystemRandom()
    pairs = sa_table(rng)
    extra = extra_pairs(rng, FIRST_PORT + len(pairs))
    initial = pairs + [extra["life_soft"], extra["life_hard"]]
    static_sas = [sa for pair in initial for sa in sa_objects(pair)]
    # the operator's edit: one pair out of the middle, the new one at the end
    reloaded = [p for i, p in enumerate(initial) if i != RELOAD_REMOVED] + [extra["reload"]]
    reload_sas = [sa for pair in reloaded for sa in sa_objects(pair)]
    control_key = rng.randbytes(32).hex()
    weights = [int(w) for w in args.weights.split(",")]
    workdir = os.path.abspath(args.workdir)
    router_prefix = args.prefix + "r"
    target_prefixes = [args.prefix + n for n in TARGET_NAMES]
    router = {
        "eal": eal(args.router_lcores, router_prefix),
        "dvipa": [DVIPA],
        "ports": [{"name": "uplink", "devargs": "net_af_packet0,iface=%s" % args.uplink}],
        "workers": [int(args.router_worker)],
        "targets": [{
            "id": i + 1,
            "name": name,
            "weight": weights[i],
            "link": {"devargs": memif(i, workdir, "server")},
            "control": "unix:%s" % os.path.join(workdir, "%s.ctl" % name),
        } for i, name in enumerate(TARGET_NAMES)],
        "filter_policy": "bypass",
        "replay_window": 1024,
        "connection_table": {"capacity": 4096, "idle_timeout_s": 300, "non_syn_miss": "drop"},
        "control_key": control_key,
        "static_sas": static_sas,
    }
    files = {"router.json": router, "router-reload.json": dict(router, static_sas=reload_sas)}
    if args.ike_psk:
        router["static_sas"] = []
        peer = {"auth": "psk", "psk": args.ike_psk, "local_ts": [DVIPA + "/32"],
                "remote_ts": [CLIENT + "/32"]}
        router["ike"] = {
            "id": IKE_ID,
            "peers": [dict(peer, name="client", id=IKE_PEER_ID),
                      dict(peer, name="client_hard", id=IKE_HARD_PEER_ID, dpd_s=0,
                           child_rekey_s=0, lifetime={"hard_seconds": HARD_SECONDS})],
        }
    lcores = (args.t1_lcore, args.t2_lcore)
    for i, name in enumerate(TARGET_NAMES):
        files["target%d.json" % (i + 1)] = {
            "eal": eal(lcores[i], target_prefixes[i]),
            "id": i + 1,
            "dvipa": [DVIPA],
            "workers": [],
            "link": {"devargs": memif(i, workdir, "client")},
            "tap": {"devargs": "net_tap0,iface=dv%s" % name},
            "router_control": "unix:%s" % os.path.join(workdir, "%s.ctl" % name),
            "control_key": control_key,
            "replay_window": 1024,
            "static_sas": static_sas if args.target_static_sas else [],
        }
    if args.t2_uplink:
        files["target2.json"]["uplink"] = {"devargs": "net_af_packet1,iface=%s" % args.t2_uplink}
    files["test.json"] = {
        "dvipa": DVIPA,
        "client": CLIENT,
        "client_inner": CLIENT_INNER,
        "client_inner_net": CLIENT_INNER_NET,
        "plain_port": PLAIN_PORT,
        "replay_window": 1024,
        "router_prefix": router_prefix,
        "targets": [{"id": i + 1, "name": name, "weight": weights[i],
                     "prefix": target_prefixes[i], "tap": "dv" + name,
                     "listener_log": os.path.join(workdir, "listener-%s.log" % name)}
                    for i, name in enumerate(TARGET_NAMES)],
        "pairs": pairs,
        "extra": extra,
        "reload_removed": pairs[RELOAD_REMOVED]["name"],
        "target_static_sas": bool(args.target_static_sas),
    }
    if args.ike_psk:
        files["test.json"]["ike"] = {"id": IKE_ID, "peer_id": IKE_PEER_ID,
                                     "hard_peer_id": IKE_HARD_PEER_ID,
                                     "hard_seconds": HARD_SECONDS, "psk": args.ike_psk}
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("workdir")
    parser.add_argument("--prefix", required=True, help="EAL --file-prefix base")
    parser.add_argument("--seed", type=int, help="deterministic keys (default: random)")
    parser.add_argument("--uplink", default="dvr-up", help="router's af_packet interface")
    parser.add_argument("--router-lcores", default="0-1")
    parser.add_argument("--router-worker", default="1")
    parser.add_argument("--t1-lcore", default="0")
    parser.add_argument("--t2-lcore", default="1")
    parser.add_argument("--weights", default="100,300", help="t1,t2")
    parser.add_argument("--t2-uplink", help="t2's af_packet interface for direct return (none: "
                        "its replies go back through the router)")
    parser.add_argument("--target-static-sas", action="store_true",
                        help="give the targets the router's static_sas too (default: none, "
                        "everything arrives over the control channel)")
    parser.add_argument("--ike-psk", metavar="HEX",
                        help="no static SAs: the router's \"ike\" object with one PSK peer")
    args = parser.parse_args(argv)
    for name, content in build(args).items():
        path = os.path.join(args.workdir, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(content, f, indent=1)
            f.write("\n")
        os.chmod(path, 0o600)  # keys inside
    return 0


if __name__ == "__main__":
    sys.exit(main())
