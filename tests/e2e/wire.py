#!/usr/bin/python3
"""Hostile traffic for tests/e2e/appliance.sh: replayed, forged and malformed packets on the
appliance's wires, each judged by the counters it must move (and only those).

Runs in the root namespace (where the DPDK telemetry sockets are) and opens its packet sockets
inside the test's namespaces (setns), so one process sends on every wire and reads every counter.
Frames are built with scapy; nothing is sent with scapy's own sockets.

  replay SPEC
      In the client's namespace: a long-lived kernel TCP connection through charon's tunnel,
      charon's ESP-in-UDP frames to the DVIPA captured on the client's veth meanwhile. Then:
      replay  the newest captured frame sent again once the router's authenticated window holds
              its number: the router's replay_duplicate grows by exactly 1, no other counter
              moves, the connection goes on;
      forged  FORGED copies of captured frames with sequence numbers far above the window (the
              original IV and ciphertext: the router's peek reads a valid inner header of the
              live flow and hands them to its target) and their ICVs flipped, plus GARBAGE frames
              with the live SPI, high numbers and random payload: the targets count the copies as
              icv_mismatch, the rest is dropped under some named reason, none is counted as a
              replay, the router's authenticated top stays below the forged numbers, and the
              connection then exchanges more lines with every echo intact.
  bad SPEC
      The malformed-input table (see CASES): each case sent on its wire; the counters named must
      grow by exactly the given amounts, no other drop counter may move, every PID in SPEC must
      still run.

SPEC is a JSON file: {"ns": {"client": NAME, "t1": NAME}, "client_if", "router_if",
"client_mac", "router_mac", "t1_tap", "t1_tap_mac", "dvipa", "client", "port",
"router", "targets": [PFX...], "ctl": path of t1's control socket, "pids": [...]}. The live
inbound SPIs come from the router's /dvipsec/sa.
Prints one JSON line per case ({"case", "ok", "want", "got", ...}); exit 1 if any failed.
"""

import ctypes
import hashlib
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import telemetry  # noqa: E402  (tests/integration/telemetry.py)

from scapy.layers.inet import GRE, IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
# drop counters that move by themselves (charon's NAT-T keepalives; a target's late replay
# report for an SA a rekey just deleted)
BACKGROUND = ("natt_keepalive", "feedback_unknown_slot")
IKE_DROPS = ("bad_message", "bad_icv", "unknown_spi", "bad_msg_id", "rx_unwrap_bad",
             "unsupported_critical", "unknown_peer", "half_open_expired")

_libc = ctypes.CDLL(None, use_errno=True)
_root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)


class InNs:
    """with InNs(name): sockets made inside belong to network namespace NAME."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        if self.name:
            fd = os.open("/var/run/netns/%s" % self.name, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns %s" % self.name)
            finally:
                os.close(fd)

    def __exit__(self, *exc):
        if self.name and _libc.setns(_root_ns, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")


def packet_socket(ns, iface):
    with InNs(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((iface, 0))
    return s


# ---- counters ----

def counters(spec):
    """Every drop counter of the router (classify, fast path, link, IKE, control channel auth and
    malformed frames) and of the targets, flat: "router drops x", "router ike x", "router ctl t1",
    "router ctl_bad t1", "t1 drops x"."""
    out = {}
    v = telemetry.query(spec["router"], telemetry.ROUTER_DROPS)
    out.update(("router drops %s" % k, n) for k, n in v.items())
    v = telemetry.query(spec["router"], "/dvipsec/ike")
    out.update(("router ike %s" % k, v.get(k, 0)) for k in IKE_DROPS)
    for t in telemetry.rows(telemetry.query(spec["router"], telemetry.TARGETS)):
        out["router ctl %s" % t["name"]] = t["auth_failures"]
        out["router ctl_bad %s" % t["name"]] = t["bad_frames"]
    for name, pfx in zip(("t1", "t2"), spec["targets"]):
        v = telemetry.query(pfx, telemetry.TARGET_DROPS)
        out.update(("%s drops %s" % (name, k), n) for k, n in v.items())
    return out


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0) and k.rsplit(" ", 1)[-1] not in BACKGROUND}


def wait_counters(spec, before, want, timeout=3.0, settle=0.3):
    """Deltas once every wanted counter reached its amount (want: {counter: amount}, or a
    predicate over the deltas) or at the deadline, after a settle time in which late counts
    would show."""
    done = want if callable(want) else lambda d: all(d.get(k, 0) >= n for k, n in want.items())
    deadline = time.monotonic() + timeout
    while True:
        d = delta(before, counters(spec))
        if done(d) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(settle)
    return delta(before, counters(spec))


def alive(pids):
    dead = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open("/proc/%d/stat" % pid, encoding="ascii") as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    dead.append(pid)
        except OSError:
            dead.append(pid)
    return dead


def router_inbound(spec):
    """The router's inbound SPIs."""
    return [int(s["spi"], 16) for s in telemetry.rows(telemetry.query(spec["router"],
                                                                      telemetry.SA_LIST))
            if s["dir"] == "in"]


def router_top(spec, spi):
    for s in telemetry.rows(telemetry.query(spec["router"], telemetry.SA_LIST)):
        if s["dir"] == "in" and int(s["spi"], 16) == spi:
            return s["authenticated_top"]
    return None


# ---- replay and forgery ----

class Line:
    """A kernel TCP connection to the listener in the client's namespace, one line at a time."""

    def __init__(self, spec):
        with InNs(spec["ns"]["client"]):
            self.s = socket.create_connection((spec["dvipa"], spec["port"]), timeout=5)
        self.buf = b""
        self.lines = 0

    def exchange(self, n=1):
        """n lines out, their echoes back, SHA-256 compared."""
        sent, back = hashlib.sha256(), hashlib.sha256()
        for _ in range(n):
            line = os.urandom(300).hex().encode()
            sent.update(line)
            self.s.sendall(line + b"\n")
        for _ in range(n):
            while b"\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise OSError("connection closed")
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\n")
            back.update(line.partition(b" ")[2])
        self.lines += n
        if sent.digest() != back.digest():
            raise OSError("echo differs (SHA-256)")


def esp_frames(sock, spec, seconds):
    """charon's ESP-in-UDP frames to the DVIPA seen on the client's veth within SECONDS."""
    out = []
    sock.settimeout(0.05)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            raw, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] != PACKET_OUTGOING:
            continue
        f = Ether(raw)
        if IP in f and UDP in f and f[IP].dst == spec["dvipa"] and f[UDP].dport == 4500:
            esp = bytes(f[UDP].payload)
            if len(esp) > 8 and esp[:4] != b"\0\0\0\0":
                out.append(raw)
    return out


def esp_fields(raw):
    """(spi, seq, offset of the ESP header in the frame)."""
    f = Ether(raw)
    off = len(raw) - len(bytes(f[UDP].payload))
    spi, seq = struct.unpack_from("!II", raw, off)
    return spi, seq, off


def with_seq(raw, off, seq, flip_icv=True):
    b = bytearray(raw)
    struct.pack_into("!I", b, off + 4, seq)
    if flip_icv:
        b[-1] ^= 0x5A
    return bytes(b)


def cmd_replay(spec, forged, garbage):
    results = []
    cap = packet_socket(spec["ns"]["client"], spec["client_if"])
    conn = Line(spec)
    conn.exchange(3)
    frames = esp_frames(cap, spec, 0.3)
    conn.exchange(2)
    frames += esp_frames(cap, spec, 0.3)
    # only frames that carry the connection's lines (601-byte segments; ACKs and closes of
    # earlier connections are small): a forged copy must name a flow the router still knows
    live = router_inbound(spec)
    frames = [f for f in frames if esp_fields(f)[0] in live and len(f) - esp_fields(f)[2] > 600]
    if not frames:
        print(json.dumps({"case": "capture", "ok": False, "error": "no ESP frame of the router's"
                          " inbound SPIs %s captured" % live}))
        return 1
    raw = frames[-1]
    spi_in, seq, off = esp_fields(raw)
    # the router learns authenticated numbers from the targets within ~100 us; give it time
    deadline = time.monotonic() + 2
    while (router_top(spec, spi_in) or 0) < seq and time.monotonic() < deadline:
        time.sleep(0.02)
    top = router_top(spec, spi_in)
    before = counters(spec)
    cap.send(raw)
    want = {"router drops replay_duplicate": 1}
    got = wait_counters(spec, before, want)
    conn.exchange(5)
    results.append({"case": "replay", "ok": got == want, "want": want, "got": got, "seq": seq,
                    "spi": "0x%08x" % spi_in,
                    "authenticated_top": top, "captured": len(frames)})

    # forged: far above the window, ICV broken; garbage with the live SPI
    base = max(seq, top or 0) + (1 << 20)
    rng = random.Random(7)
    burst = []
    for i in range(forged):
        src = frames[i % len(frames)]
        burst.append(with_seq(src, esp_fields(src)[2], base + i))
    hdr = raw[:off]
    for i in range(garbage):
        body = struct.pack("!II", spi_in, base + forged + i) + rng.randbytes(rng.randrange(
            24, 400))
        f = Ether(hdr)
        f[IP].len = None
        f[IP].chksum = None
        f[UDP].len = None
        f[UDP].chksum = 0
        f[UDP].remove_payload()
        burst.append(bytes(f / Raw(body)))
    top0 = router_top(spec, spi_in)
    before = counters(spec)
    for f in burst:
        cap.send(f)
    got = wait_counters(spec, before, lambda d: sum(d.values()) >= forged + garbage)
    icv = sum(n for k, n in got.items() if k.endswith("drops icv_mismatch"))
    replays = {k: n for k, n in got.items() if "replay" in k}
    # the highest authenticated top of any inbound SA: none may have learnt a forged number
    top1 = max((router_top(spec, spi) or 0) for spi in router_inbound(spec))
    err = None
    try:
        conn.exchange(20)
    except OSError as e:
        err = str(e)
    ok = (icv >= forged and sum(got.values()) == forged + garbage and not replays and
          top1 is not None and top1 < base and err is None)
    results.append({"case": "forged", "ok": ok, "sent": forged + garbage, "icv_at_targets": icv,
                    "got": got, "top_before": top0, "top_after": top1, "forged_from": base,
                    "after": err or "20 lines echoed intact", "lines": conn.lines})
    conn.s.close()
    cap.close()
    for r in results:
        print(json.dumps(r, sort_keys=True))
    return 0 if all(r["ok"] for r in results) else 1


# ---- malformed input ----

def ike_header(length, exch=34, flags=0x08, next_payload=33):
    return (os.urandom(8) + bytes(8) + bytes([next_payload, 0x20, exch, flags]) +
            struct.pack("!II", 0, length))


def cases(spec, rng):
    """(name, wire, frames, {counter: delta}); wire: "client", "t1" (its TAP) or "ctl"."""
    e = Ether(src=spec["client_mac"], dst=spec["router_mac"])
    ip = IP(src=spec["client"], dst=spec["dvipa"])
    spi_in = router_inbound(spec)[0]
    ike = "router ike bad_message"

    def raw_ip(body_len_claimed, payload, proto=17):
        f = bytearray(bytes(e / IP(src=spec["client"], dst=spec["dvipa"], proto=proto) /
                            Raw(payload)))
        struct.pack_into("!H", f, 16, body_len_claimed)
        f[24:26] = b"\0\0"
        cks = IP(bytes(f[14:34]))
        del cks.chksum
        f[24:26] = bytes(cks)[10:12]
        return bytes(f)

    t1 = Ether(src=spec["t1_tap_mac"], dst="02:00:00:00:00:01")
    return [
        ("ike_truncated_header", "client",
         [bytes(e / ip / UDP(sport=500, dport=500) / Raw(ike_header(28)[:12]))], {ike: 1}),
        ("ike_length_lies", "client",
         [bytes(e / ip / UDP(sport=500, dport=500) / Raw(ike_header(1000) + bytes(40)))],
         {ike: 1}),
        ("ike_payload_length_lies", "client",
         [bytes(e / ip / UDP(sport=500, dport=500) /
                Raw(ike_header(28 + 8, exch=34, next_payload=33) +
                    struct.pack("!BBH", 0, 0, 400) + bytes(4)))], {ike: 1}),
        ("ike_random_500", "client",
         [bytes(e / ip / UDP(sport=500, dport=500) / Raw(rng.randbytes(rng.randrange(1, 300))))
          for _ in range(8)], {ike: 8}),
        ("ike_random_4500_marker", "client",
         [bytes(e / ip / UDP(sport=4500, dport=4500) /
                Raw(bytes(4) + rng.randbytes(rng.randrange(1, 300)))) for _ in range(8)],
         {ike: 8}),
        ("esp_unknown_spi", "client",
         [bytes(e / ip / UDP(sport=4500, dport=4500) /
                Raw(struct.pack("!II", 0x7e570000 + i, 1) + rng.randbytes(64)))
          for i in range(4)], {"router drops unknown_spi": 4}),
        ("esp_truncated", "client",
         [bytes(e / ip / UDP(sport=4500, dport=4500) /
                Raw(struct.pack("!II", spi_in, 0x7FFF0000) + b"x"))],
         {"router drops bad_length": 1}),
        ("esp_raw_for_udp_sa", "client",
         [bytes(e / IP(src=spec["client"], dst=spec["dvipa"], proto=50) /
                Raw(struct.pack("!II", spi_in, 9) + rng.randbytes(40)))],
         {"router drops encap_mismatch": 1}),
        ("gre_garbage_to_dvipa", "client",
         [bytes(e / ip / GRE(key_present=1, key=5) / Raw(rng.randbytes(30))),
          bytes(e / IP(src=spec["client"], dst=spec["dvipa"], proto=47) / Raw(b"\x20"))],
         {"router drops ip_proto_other": 2}),
        ("ip_total_length_lies", "client",
         [raw_ip(1400, struct.pack("!HHHH", 4500, 4500, 8 + 40, 0) + rng.randbytes(40))],
         {"router drops truncated": 1}),
        ("udp_length_lies", "client",
         [bytes(e / ip / UDP(sport=4500, dport=4500, len=900) /
                Raw(struct.pack("!II", spi_in, 9) + rng.randbytes(40)))],
         {"router drops bad_udp_length": 1}),
        ("ip_header_garbage", "client",
         [bytes(Ether(src=spec["client_mac"], dst=spec["router_mac"], type=0x0800)) +
          bytes([0x43]) + rng.randbytes(40),
          bytes(e / IP(src=spec["client"], dst=spec["dvipa"], chksum=0x1234) /
                UDP(sport=500, dport=500) / Raw(b"x" * 30))],
         {"router drops bad_ip_header": 1, "router drops bad_ip_checksum": 1}),
        ("jumbo_9000", "jumbo",
         [bytes(e / ip / UDP(sport=4500, dport=4500) /
                Raw(struct.pack("!II", spi_in, 9) + rng.randbytes(9000 - 14 - 28 - 8)))],
         {"router drops truncated": 1}),
        ("tap_ip_total_length_lies", "t1",
         [bytes(t1 / IP(src=spec["dvipa"], dst=spec["client"], len=1200) /
                TCP(sport=spec["port"], dport=40000, flags="A") / Raw(b"y" * 20))],
         {"t1 drops tap_truncated": 1}),
        ("tap_gre_truncated", "t1",
         [bytes(t1 / IP(src=spec["dvipa"], dst=spec["client"], proto=47, len=300) /
                Raw(b"\x20\x00\x08\x00"))],
         {"t1 drops tap_truncated": 1}),
        ("tap_not_from_dvipa", "t1",
         [bytes(t1 / IP(src="203.0.113.9", dst=spec["client"]) / UDP(sport=9, dport=9) /
                Raw(b"z" * 20))], {"t1 drops not_from_dvipa": 1}),
        ("ctl_random_bytes", "ctl", [rng.randbytes(300)], {"router ctl_bad t1": 1}),
        ("ctl_hello_bad_mac", "ctl",
         [struct.pack("!I", 104) + b"DVC1" + bytes([1, 2, 0, 0]) + rng.randbytes(96)],
         {"router ctl t1": 1}),
    ]


def set_mtu(spec, mtu):
    subprocess.run(["ip", "-n", spec["ns"]["client"], "link", "set", spec["client_if"], "mtu",
                    str(mtu)], check=True)
    subprocess.run(["ip", "link", "set", spec["router_if"], "mtu", str(mtu)], check=True)


def send_case(spec, wire, frames, socks):
    if wire == "ctl":
        for f in frames:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(spec["ctl"])
            s.sendall(f)
            time.sleep(0.1)  # the router reads it (1 ms polls) before the close
            s.close()
        return
    if wire == "jumbo":
        set_mtu(spec, 9000)
        try:
            for f in frames:
                socks["client"].send(f)
            time.sleep(0.1)
        finally:
            set_mtu(spec, 1500)
        return
    for f in frames:
        socks[wire].send(f)


def cmd_bad(spec, only):
    rng = random.Random(6)
    socks = {"client": packet_socket(spec["ns"]["client"], spec["client_if"]),
             "t1": packet_socket(spec["ns"]["t1"], spec["t1_tap"])}
    failed = 0
    for name, wire, frames, want in cases(spec, rng):
        if only and name not in only:
            continue
        before = counters(spec)
        send_case(spec, wire, frames, socks)
        got = wait_counters(spec, before, want, timeout=2.0, settle=0.25)
        dead = alive(spec["pids"])
        ok = got == want and not dead
        failed += not ok
        print(json.dumps({"case": name, "ok": ok, "sent": len(frames), "want": want, "got": got,
                          "dead_pids": dead}, sort_keys=True), flush=True)
        if dead:
            break
    return 1 if failed else 0


def main(argv):
    if len(argv) < 2 or argv[0] not in ("replay", "bad"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    if argv[0] == "replay":
        return cmd_replay(spec, forged=int(spec.get("forged", 32)),
                          garbage=int(spec.get("garbage", 32)))
    return cmd_bad(spec, argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
