#!/usr/bin/python3
"""A Python stand-in for dvipsec-router and dvipsec-target, to test the namespace test itself.

It follows the binaries' contract as fastpath_netns.sh uses it (same configs, `--config FILE`,
"ready" on stdout, exit 0 on SIGTERM, DPDK-style telemetry socket with the /dvipsec/... commands),
but it is not DPDK and not a reference: the "memif" link is a SOCK_SEQPACKET Unix socket at the
memif socket path (one message = one packet, first byte its kind), the uplink an AF_PACKET
socket, the TAP a kernel TAP opened in the caller's namespace.

  router  answers ARP and ICMP echo for the DVIPA; ESP: SA by SPI, replay pre-check against the
          sequence numbers the targets authenticated, peek (AES-CTR / ChaCha20 keystream over the
          first payload bytes), connection table, smooth weighted round robin on a SYN miss;
          plain TCP to the DVIPA likewise; sends target replies out of the uplink.
  target  full decrypt + ICV (python3-cryptography), replay window, selector check, to the TAP;
          from the TAP: outbound SA by source port, sequence numbers from a shared counter file
          (the CF stand-in), ESP encrypt, back over the link; ARP answers on the TAP.

DVMOCK_FAULT (comma list) breaks it on purpose, to show the test catches each fault:
  no_replay      router skips the replay pre-check      (3-replay must fail)
  no_cf          each target counts sequence numbers alone (esp-seq must fail)
  udp_len8       ESP-in-UDP replies keep UDP length 8   (esp-out must fail)
  not_sticky     non-SYN segments go round robin too    (2-flows must fail)
  rr             equal split instead of the weights     (2-flows split must fail)
  bad_exit       exit status 3 on SIGTERM               (shutdown must fail)

Usage: mock_dataplane.py router --config FILE
       mock_dataplane.py target --config FILE [--cf /NAME]
       mock_dataplane.py make-build DIR --cfg-check PATH   (a build dir whose binaries are this)
"""

import argparse
import fcntl
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import check_rfc_vectors as vc  # noqa: E402

from cryptography.exceptions import InvalidTag  # noqa: E402
from esp_wire import keystream_open  # noqa: E402

FAULTS = set(filter(None, os.environ.get("DVMOCK_FAULT", "").split(",")))
ETH_P_ALL, ETH_P_IP, ETH_P_ARP = 0x0003, 0x0800, 0x0806
PACKET_OUTGOING = 4
MSG_ESP, MSG_PLAIN, MSG_OUT, MSG_AUTH = b"E", b"P", b"O", b"A"
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def devarg(devargs: str, key: str) -> str:
    """Value of key=... in a devargs string."""
    for part in devargs.split(",")[1:]:
        k, _, v = part.partition("=")
        if k == key:
            return v
    raise SystemExit("devargs %r has no %s=" % (devargs, key))


def mac_of(iface: str) -> bytes:
    """An interface's MAC (in the current namespace's /sys)."""
    with open("/sys/class/net/%s/address" % iface, encoding="ascii") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def ip_header_checksum(header: bytearray) -> None:
    """Recompute an IPv4 header checksum in place."""
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", vc.inet_checksum(bytes(header)))


class Sa:
    """One static SA of the config."""

    def __init__(self, d: dict):
        spi = d["spi"]
        self.spi = int(spi, 0) if isinstance(spi, str) else spi
        self.inbound = d["direction"] == "inbound"
        self.aead = d["aead"]
        self.cls, self.key_len = vc.AEADS[self.aead]
        self.keymat = bytes.fromhex(d["key"])
        self.tunnel = d.get("mode", "tunnel") == "tunnel"
        self.udp = d.get("encap", "none") == "udp"
        self.udp_local = d.get("udp_local_port", 4500)
        self.udp_remote = d.get("udp_remote_port", 4500)
        self.local = d["local"]
        self.remote = d["remote"]
        self.ports = []
        for ts in d.get("local_ts", []):
            ports = str(ts.get("ports", "0-65535")) if isinstance(ts, dict) else "0-65535"
            lo, _, hi = ports.partition("-")
            self.ports.append((int(lo), int(hi or lo)))
        self.remote_nets = [ipaddress.ip_network(ts["cidr"] if isinstance(ts, dict) else ts)
                            for ts in d.get("remote_ts", [])]
        self.packets = 0
        self.bytes = 0

    def covers_port(self, port: int) -> bool:
        """The local selector admits this TCP port."""
        return not self.ports or any(lo <= port <= hi for lo, hi in self.ports)

    def covers_peer(self, addr: str) -> bool:
        """The remote selector admits this address."""
        a = ipaddress.ip_address(addr)
        return not self.remote_nets or any(a in n for n in self.remote_nets)

    def peek(self, esp: bytes, n: int) -> bytes:
        """The first n plaintext bytes, without the ICV (what the router may look at)."""
        return keystream_open(self.aead, self.keymat, esp, n)

    def info(self) -> dict:
        """Telemetry view (no key)."""
        return {"spi": self.spi, "dir": "inbound" if self.inbound else "outbound",
                "aead": self.aead, "mode": "tunnel" if self.tunnel else "transport",
                "encap": "udp" if self.udp else "none", "packets": self.packets,
                "bytes": self.bytes}


class Window:
    """Anti-replay window over authenticated sequence numbers."""

    def __init__(self, size: int):
        self.size = size
        self.top = 0
        self.seen = set()

    def check(self, seq: int):
        """None if seq may pass, else the drop reason."""
        if seq > self.top:
            return None
        if seq + self.size <= self.top:
            return "replay_too_old"
        return "replay_duplicate" if seq in self.seen else None

    def update(self, seq: int):
        """Record an authenticated sequence number."""
        self.seen.add(seq)
        if seq > self.top:
            self.top = seq
            self.seen = {s for s in self.seen if s + self.size > self.top}


class TelemetryServer(threading.Thread):
    """The DPDK telemetry v2 protocol on /var/run/dpdk/PREFIX/dpdk_telemetry.v2."""

    def __init__(self, prefix: str, handlers: dict):
        super().__init__(daemon=True)
        self.dir = os.path.join("/var/run/dpdk", prefix)
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "dpdk_telemetry.v2")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.handlers = dict(handlers, **{"/info": lambda _: {"version": "dvipsec mock"}})

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        """Greeting, then one JSON reply per command."""
        with conn:
            conn.send(json.dumps({"version": "mock", "pid": os.getpid(),
                                  "max_output_len": 16384}).encode())
            while True:
                cmd = conn.recv(1024).decode(errors="replace").strip()
                if not cmd:
                    return
                name, _, params = cmd.partition(",")
                handler = self.handlers.get(name)
                try:
                    value = handler(params) if handler else None
                except Exception as err:  # pylint: disable=broad-except
                    value = {"error": str(err)}
                conn.send(json.dumps({cmd: value}).encode())


def columns(table: list) -> dict:
    """Rows as columns ({"id": [1, 2], ...}), the shape DPDK 22.11 telemetry allows."""
    keys = table[0].keys() if table else ()
    return {k: [row[k] for row in table] for k in keys}


def eal_prefix(cfg: dict) -> str:
    """--file-prefix from the config's EAL arguments."""
    eal = cfg.get("eal", [])
    return eal[eal.index("--file-prefix") + 1] if "--file-prefix" in eal else "rte"


class Router:
    """The router stand-in."""

    def __init__(self, cfg: dict):
        self.dvipa = set(cfg["dvipa"])
        self.window_size = cfg.get("replay_window", 1024)
        self.sas = {}
        self.windows = {}
        for d in cfg.get("static_sas", []):
            sa = Sa(d)
            if sa.inbound:
                self.sas[sa.spi] = sa
                self.windows[sa.spi] = Window(d.get("replay_window", self.window_size))
        iface = devarg(cfg["ports"][0]["devargs"], "iface")
        self.mac = mac_of(iface)
        self.up = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.up.bind((iface, 0))
        self.targets = []
        for t in cfg["targets"]:
            path = devarg(t["link"]["devargs"], "socket")
            if os.path.exists(path):
                os.unlink(path)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            listener.bind(path)
            listener.listen(1)
            self.targets.append({"id": t["id"], "name": t["name"], "weight": t.get("weight", 100),
                                 "listener": listener, "conn": None, "current": 0, "flows": 0,
                                 "packets": 0, "path": path})
        self.dct = {}
        self.neigh = {}
        self.rr = 0
        self.stats = {"rx": 0, "esp": 0, "plain": 0, "arp": 0, "icmp": 0, "to_targets": 0,
                      "from_targets": 0, "tx": 0}
        self.drops = {k: 0 for k in ("unknown_spi", "replay_duplicate", "replay_too_old",
                                     "non_syn_miss", "not_dvipa", "peek_failed", "target_down",
                                     "no_neighbour", "ike", "other")}
        TelemetryServer(eal_prefix(cfg), {
            "/dvipsec/router/stats": lambda _: self.stats,
            "/dvipsec/router/drops": lambda _: self.drops,
            "/dvipsec/dct": self.tel_dct,
            "/dvipsec/targets": lambda _: columns([{
                "id": t["id"], "name": t["name"], "weight": t["weight"],
                "healthy": int(t["conn"] is not None), "link_up": int(t["conn"] is not None),
                "packets": t["packets"], "flows": t["flows"]} for t in self.targets]),
            "/dvipsec/sa": lambda _: columns([sa.info() for sa in self.sas.values()]),
        }).start()

    def tel_dct(self, params: str) -> dict:
        """Size and up to N (param, default 32, at most 64) entries, by column like the real
        router."""
        listed = list(self.dct.values())[:min(int(params or 32), 64)]
        return dict(columns(listed), entries=len(self.dct), capacity=4096, listed=len(listed))

    def drop(self, reason: str):
        """Count a drop."""
        self.drops[reason] += 1

    def pick(self):
        """Smooth weighted round robin over the connected targets."""
        live = [t for t in self.targets if t["conn"] is not None]
        if not live:
            return None
        if "rr" in FAULTS:
            self.rr += 1
            return live[self.rr % len(live)]
        total = sum(t["weight"] for t in live)
        for t in live:
            t["current"] += t["weight"]
        best = max(live, key=lambda t: t["current"])
        best["current"] -= total
        return best

    def steer(self, key, entry: dict, syn: bool, kind: bytes, ip: bytes):
        """Connection table lookup / insert, then hand the packet to the target."""
        hit = self.dct.get(key)
        if hit is None:
            if not syn:
                return self.drop("non_syn_miss")
            chosen = self.pick()
            if chosen is None:
                return self.drop("target_down")
            entry["target"] = chosen["id"]
            chosen["flows"] += 1
            self.dct[key] = hit = entry
        elif "not_sticky" in FAULTS and not syn:
            hit = {"target": (self.pick() or {"id": hit["target"]})["id"]}
        target = next(t for t in self.targets if t["id"] == hit["target"])
        if target["conn"] is None:
            return self.drop("target_down")
        target["conn"].send(kind + ip)
        target["packets"] += 1
        self.stats["to_targets"] += 1
        return None

    def on_esp(self, ip: bytes, ihl: int, esp: bytes):
        """ESP to the DVIPA: SA, replay pre-check, peek, steer."""
        self.stats["esp"] += 1
        if len(esp) < 32:
            return self.drop("other")
        spi, seq = struct.unpack("!II", esp[:8])
        sa = self.sas.get(spi)
        if sa is None:
            return self.drop("unknown_spi")
        reason = None if "no_replay" in FAULTS else self.windows[spi].check(seq)
        if reason:
            return self.drop(reason)
        head = sa.peek(esp, 48)
        if sa.tunnel:
            if len(head) < 24 or head[0] >> 4 != 4 or head[9] != 6:
                return self.drop("peek_failed")
            inner_ihl = (head[0] & 0x0F) * 4
            src, dst = socket.inet_ntoa(head[12:16]), socket.inet_ntoa(head[16:20])
            tcp = head[inner_ihl:]
        else:
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            tcp = head
        if len(tcp) < 14:
            return self.drop("peek_failed")
        sport, dport = struct.unpack("!HH", tcp[:4])
        syn = tcp[13] & 0x12 == 0x02
        entry = {"sa": spi, "src": src, "sport": sport, "dst": dst, "dport": dport}
        sa.packets += 1
        sa.bytes += len(esp)
        return self.steer((spi, src, sport, dst, dport), entry, syn, MSG_ESP, ip)

    def on_frame(self, frame: bytes):
        """One frame from the uplink."""
        self.stats["rx"] += 1
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == ETH_P_ARP and len(frame) >= 42:
            self.stats["arp"] += 1
            sender_ip = socket.inet_ntoa(frame[28:32])
            self.neigh[sender_ip] = frame[22:28]
            if frame[20:22] == b"\0\1" and socket.inet_ntoa(frame[38:42]) in self.dvipa:
                reply = (frame[22:28] + self.mac + struct.pack("!H", ETH_P_ARP) +
                         struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 2) + self.mac + frame[38:42] +
                         frame[22:28] + frame[28:32])
                self.up.send(reply)
            return None
        if ethertype != ETH_P_IP:
            return self.drop("other")
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        ip = ip[:struct.unpack("!H", ip[2:4])[0]]
        self.neigh[socket.inet_ntoa(ip[12:16])] = frame[6:12]
        dst = socket.inet_ntoa(ip[16:20])
        if dst not in self.dvipa:
            return self.drop("not_dvipa")
        proto = ip[9]
        if proto == 50:
            return self.on_esp(ip, ihl, ip[ihl:])
        if proto == 17 and struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] == 4500:
            if ip[ihl + 8:ihl + 12] == bytes(4):
                return self.drop("ike")
            return self.on_esp(ip, ihl, ip[ihl + 8:])
        if proto == 6:
            self.stats["plain"] += 1
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            src = socket.inet_ntoa(ip[12:16])
            entry = {"sa": 0, "src": src, "sport": sport, "dst": dst, "dport": dport}
            syn = ip[ihl + 13] & 0x12 == 0x02
            return self.steer((0, src, sport, dst, dport), entry, syn, MSG_PLAIN, ip)
        if proto == 1 and ip[ihl] == 8:
            self.stats["icmp"] += 1
            icmp = bytearray(ip[ihl:])
            icmp[0] = 0
            icmp[2:4] = b"\0\0"
            icmp[2:4] = struct.pack("!H", vc.inet_checksum(bytes(icmp)))
            header = bytearray(ip[:ihl])
            header[12:16], header[16:20] = ip[16:20], ip[12:16]
            ip_header_checksum(header)
            return self.transmit(bytes(header) + bytes(icmp))
        return self.drop("other")

    def transmit(self, ip: bytes):
        """An IP packet out of the uplink to its destination's MAC."""
        mac = self.neigh.get(socket.inet_ntoa(ip[16:20]))
        if mac is None:
            return self.drop("no_neighbour")
        self.up.send(mac + self.mac + struct.pack("!H", ETH_P_IP) + ip)
        self.stats["tx"] += 1
        return None

    def on_target(self, target: dict):
        """A message from a target: a packet for the uplink or an authenticated seq."""
        try:
            msg = target["conn"].recv(65536)
        except OSError:
            msg = b""
        if not msg:
            target["conn"].close()
            target["conn"] = None
            return
        if msg[:1] == MSG_OUT:
            self.stats["from_targets"] += 1
            self.transmit(msg[1:])
        elif msg[:1] == MSG_AUTH:
            spi, seq = struct.unpack("!II", msg[1:9])
            if spi in self.windows:
                self.windows[spi].update(seq)

    def run(self):
        """Forever."""
        print("ready", flush=True)
        while True:
            fds = [self.up] + [t["listener"] for t in self.targets] + \
                  [t["conn"] for t in self.targets if t["conn"] is not None]
            readable, _, _ = select.select(fds, [], [])
            for fd in readable:
                if fd is self.up:
                    frame, addr = self.up.recvfrom(65535)
                    if addr[2] != PACKET_OUTGOING:
                        self.on_frame(frame)
                    continue
                for t in self.targets:
                    if fd is t["listener"]:
                        t["conn"], _ = t["listener"].accept()
                    elif fd is t["conn"]:
                        self.on_target(t)


class Cf:
    """Outbound sequence numbers shared by the targets: a locked file of counters by SPI
    (/dev/shm/NAME with --cf, like the real segment; else beside the config)."""

    def __init__(self, path: str):
        self.path = path
        self.local = {}

    def next(self, spi: int) -> int:
        """The next sequence number of this outbound SA."""
        if "no_cf" in FAULTS:
            self.local[spi] = self.local.get(spi, 0) + 1
            return self.local[spi]
        with open(self.path, "a+", encoding="ascii") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            counters = json.loads(f.read() or "{}")
            seq = counters.get(str(spi), 0) + 1
            counters[str(spi)] = seq
            f.seek(0)
            f.truncate()
            f.write(json.dumps(counters))
        return seq


class Target:
    """The target stand-in."""

    def __init__(self, cfg: dict, cfg_path: str, cf_name=None):
        self.id = cfg["id"]
        self.dvipa = set(cfg["dvipa"])
        self.window_size = cfg.get("replay_window", 1024)
        self.inbound = {}
        self.outbound = []
        self.windows = {}
        for d in cfg.get("static_sas", []):
            sa = Sa(d)
            if sa.inbound:
                self.inbound[sa.spi] = sa
                self.windows[sa.spi] = Window(d.get("replay_window", self.window_size))
            else:
                self.outbound.append(sa)
        self.cf = Cf("/dev/shm" + cf_name if cf_name else
                     os.path.join(os.path.dirname(os.path.abspath(cfg_path)), "mock-cf"))
        path = devarg(cfg["link"]["devargs"], "socket")
        self.link = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.link.connect(path)
        name = devarg(cfg["tap"]["devargs"], "iface")
        self.tap = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.tap, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
        self.tap_name = name
        self.mac = bytes([0x02, 0x64, 0x76, 0xAA, 0x00, self.id & 0xFF])
        self.stats = {k: 0 for k in ("rx", "decrypted", "to_tap", "from_tap", "encrypted",
                                     "out_plain")}
        self.drops = {k: 0 for k in ("unknown_spi", "icv_mismatch", "replay_duplicate",
                                     "replay_too_old", "selector_mismatch", "malformed",
                                     "other")}
        all_sas = list(self.inbound.values()) + self.outbound
        TelemetryServer(eal_prefix(cfg), {
            "/dvipsec/target/stats": lambda _: self.stats,
            "/dvipsec/target/drops": lambda _: self.drops,
            "/dvipsec/sa": lambda _: columns([sa.info() for sa in all_sas]),
        }).start()

    def to_tap(self, ip: bytes):
        """An IP packet up to the kernel."""
        self.stats["to_tap"] += 1
        os.write(self.tap, mac_of(self.tap_name) + self.mac + struct.pack("!H", ETH_P_IP) + ip)

    def on_esp(self, ip: bytes):
        """Decrypt, verify, check, deliver."""
        ihl = (ip[0] & 0x0F) * 4
        esp = ip[ihl + 8:] if ip[9] == 17 else ip[ihl:]
        spi, seq = struct.unpack("!II", esp[:8])
        sa = self.inbound.get(spi)
        if sa is None:
            return self.drops.__setitem__("unknown_spi", self.drops["unknown_spi"] + 1)
        reason = self.windows[spi].check(seq)
        if reason:
            self.drops[reason] += 1
            return None
        try:
            payload = vc.esp_open(sa.aead, sa.keymat, esp, seq, False)
        except InvalidTag:
            self.drops["icv_mismatch"] += 1
            return None
        self.windows[spi].update(seq)
        self.link.send(MSG_AUTH + struct.pack("!II", spi, seq))
        data, _, next_header = vc.split_trailer(payload)
        if sa.tunnel:
            inner = data
        else:
            header = bytearray(ip[:ihl])
            header[9] = next_header
            header[2:4] = struct.pack("!H", ihl + len(data))
            ip_header_checksum(header)
            inner = bytes(header) + data
        iihl = (inner[0] & 0x0F) * 4
        dport = struct.unpack("!H", inner[iihl + 2:iihl + 4])[0]
        if not sa.covers_port(dport) or not sa.covers_peer(socket.inet_ntoa(inner[12:16])):
            self.drops["selector_mismatch"] += 1
            return None
        self.stats["decrypted"] += 1
        sa.packets += 1
        sa.bytes += len(esp)
        return self.to_tap(inner)

    def seal(self, sa: Sa, ip: bytes) -> bytes:
        """ESP-encrypt a packet from the TAP under an outbound SA."""
        seq = self.cf.next(sa.spi)
        iv = struct.pack("!Q", seq)
        ihl = (ip[0] & 0x0F) * 4
        if sa.tunnel:
            data, next_header = ip, 4
        else:
            data, next_header = ip[ihl:], ip[9]
        pad = -(len(data) + 2) % 4
        plain = data + bytes(range(1, pad + 1)) + bytes([pad, next_header])
        header = struct.pack("!II", sa.spi, seq)
        key, salt = sa.keymat[:sa.key_len], sa.keymat[sa.key_len:]
        esp = header + iv + sa.cls(key).encrypt(salt + iv, plain, header)
        if sa.udp:
            length = 8 if "udp_len8" in FAULTS else 8 + len(esp)
            esp = struct.pack("!HHHH", sa.udp_local, sa.udp_remote, length, 0) + esp
        if sa.tunnel:
            outer = bytearray(struct.pack("!BBHHHBB2s4s4s", 0x45, 0, 0, 0, 0x4000, 64,
                                          17 if sa.udp else 50, b"\0\0",
                                          socket.inet_aton(sa.local),
                                          socket.inet_aton(sa.remote)))
        else:
            outer = bytearray(ip[:ihl])
            outer[9] = 17 if sa.udp else 50
        outer[2:4] = struct.pack("!H", len(outer) + len(esp))
        ip_header_checksum(outer)
        self.stats["encrypted"] += 1
        sa.packets += 1
        sa.bytes += len(esp)
        return bytes(outer) + esp

    def on_tap(self, frame: bytes):
        """A frame from the kernel: ARP for a next hop, or an IP packet to send."""
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == ETH_P_ARP and len(frame) >= 42 and frame[20:22] == b"\0\1":
            reply = (frame[6:12] + self.mac + struct.pack("!H", ETH_P_ARP) +
                     struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 2) + self.mac + frame[38:42] +
                     frame[22:28] + frame[28:32])
            os.write(self.tap, reply)
            return
        if ethertype != ETH_P_IP:
            return
        self.stats["from_tap"] += 1
        ip = frame[14:]
        ip = ip[:struct.unpack("!H", ip[2:4])[0]]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] == 6:
            sport = struct.unpack("!H", ip[ihl:ihl + 2])[0]
            dst = socket.inet_ntoa(ip[16:20])
            for sa in self.outbound:
                if sa.covers_port(sport) and sa.covers_peer(dst):
                    self.link.send(MSG_OUT + self.seal(sa, ip))
                    return
        self.stats["out_plain"] += 1
        self.link.send(MSG_OUT + ip)

    def run(self):
        """Forever."""
        print("ready", flush=True)
        while True:
            readable, _, _ = select.select([self.link, self.tap], [], [])
            if self.link in readable:
                msg = self.link.recv(65536)
                if not msg:
                    print("link closed by the router", file=sys.stderr)
                    return
                self.stats["rx"] += 1
                if msg[:1] == MSG_ESP:
                    self.on_esp(msg[1:])
                elif msg[:1] == MSG_PLAIN:
                    self.to_tap(msg[1:])
            if self.tap in readable:
                self.on_tap(os.read(self.tap, 65535))


def make_build(directory: str, cfg_check: str) -> int:
    """A build dir whose dvipsec-router/-target run this mock."""
    me = os.path.abspath(__file__)
    for role in ("router", "target"):
        path = os.path.join(directory, "dataplane", role, "dvipsec-" + role)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\nexec /usr/bin/python3 %s %s \"$@\"\n" % (me, role))
        os.chmod(path, 0o755)
    link = os.path.join(directory, "controlplane", "cfg", "dvipsec-cfg-check")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.abspath(cfg_check), link)
    return 0


def main(argv) -> int:
    if len(argv) == 4 and argv[0] == "make-build" and argv[2] == "--cfg-check":
        return make_build(argv[1], argv[3])
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("role", choices=("router", "target"))
    parser.add_argument("--config", required=True)
    parser.add_argument("--cf", help="target: shared counter file /dev/shm/NAME")
    parser.add_argument("--idle-sleep-us", type=int, help="ignored")
    args = parser.parse_args(argv)
    status = 3 if "bad_exit" in FAULTS else 0
    signal.signal(signal.SIGTERM, lambda *_: os._exit(status))
    signal.signal(signal.SIGINT, lambda *_: os._exit(status))
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    if args.role == "router":
        Router(cfg).run()
    else:
        Target(cfg, args.config, args.cf).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
