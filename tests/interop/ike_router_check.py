#!/usr/bin/python3
"""Checks of tests/interop/ike_router.sh: real TCP through the tunnel, and the router's and the
targets' telemetry against what strongSwan says it negotiated.

  tcp ADDR PORT [--conns 8 --lines 3 --line-bytes 1500]
      (run in the client's namespace) CONNS concurrent kernel TCP connections to ADDR:PORT, each
      sends LINES lines of random hex and reads tcp_listener.py's echo ("<target> <line>") of each;
      the SHA-256 of what came back must equal that of what was sent. Prints one JSON object
      (connections ok, by answering target, bytes each way, seconds); exit 1 if any failed.
  sa PREFIX --in SPI --out SPI [--in SPI --out SPI ...] --aead NAME [--gone] [--timeout S]
      The process with EAL prefix PREFIX holds exactly these SA pairs (tunnel, ESP in UDP: one per
      target when the router asks for them), or with --gone no SA at all, within S seconds. A
      target prints its packets in and out summed over the pairs; it fails if the target sent on
      an outbound SA that is not its own (out_target = its id) when it has one, or not the shared
      one (out_target 0) when it has none.
  stream ADDR PORT [--per-target 2 --seconds 9 --line-bytes 1000 --interval 0.01]
      (run in the client's namespace) long-lived kernel TCP connections: opens connections until
      PER-TARGET of them are answered by each of the two targets (the first echo names the
      target; extra ones are closed), then each sends a line every INTERVAL seconds for SECONDS
      while reading the echoes; at the end every echo must have come back and its SHA-256 equal
      that of what was sent, without a reset. Prints one JSON object like tcp; exit 1 if any
      failed.
  pair PREFIX... --in SPI --out SPI (--present | --absent) [--timeout S]
      Each process holds this SA pair among possibly others (or holds neither SA) within S seconds.
  ike PREFIX --spi-i HEX --spi-r HEX [--children N] [--gone | --refused] [--timeout S]
      /dvipsec/ike lists exactly this IKE SA, established, NAT seen, N CHILD SAs (or, --gone, none;
      --refused: only IKE SAs kept to repeat a refusal, without CHILD SAs).
  counters PREFIX NAME=VALUE...
      /dvipsec/ike counters equal these.
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import telemetry  # noqa: E402  (tests/integration/telemetry.py)


def one_conn(addr, port, lines, line_bytes, timeout, result):
    """One connection: send, read the echoes, compare digests; result gets what happened."""
    sent = hashlib.sha256()
    back = hashlib.sha256()
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            payload = b""
            for _ in range(lines):
                line = os.urandom(line_bytes // 2).hex().encode()
                sent.update(line)
                payload += line + b"\n"
            s.sendall(payload)
            buf = b""
            got = 0
            target = None
            while got < lines:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("connection closed after %d of %d lines" % (got, lines))
                buf += chunk
                while b"\n" in buf and got < lines:
                    line, _, buf = buf.partition(b"\n")
                    name, _, echo = line.partition(b" ")
                    target = name.decode(errors="replace")
                    back.update(echo)
                    got += 1
            result.update(ok=sent.digest() == back.digest(), target=target,
                          sent=len(payload), received=len(payload) + lines * (len(target) + 1))
            if not result["ok"]:
                result["error"] = "echo differs from what was sent (SHA-256)"
    except OSError as err:
        result.update(ok=False, error=str(err))


def cmd_tcp(args):
    results = [{} for _ in range(args.conns)]
    threads = [threading.Thread(target=one_conn, args=(args.addr, args.port, args.lines,
                                                       args.line_bytes, args.timeout, r))
               for r in results]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_target = {}
    for r in results:
        if r.get("ok"):
            by_target[r["target"]] = by_target.get(r["target"], 0) + 1
    out = {"conns": args.conns, "ok": sum(1 for r in results if r.get("ok")),
           "by_target": by_target, "sent": sum(r.get("sent", 0) for r in results),
           "received": sum(r.get("received", 0) for r in results),
           "seconds": round(time.monotonic() - t0, 3),
           "errors": [r["error"] for r in results if "error" in r]}
    print(json.dumps(out, sort_keys=True))
    return 0 if out["ok"] == args.conns else 1


class Stream:
    """One long-lived connection: a sender paced by INTERVAL, a reader of the echoes."""

    def __init__(self, addr, port, line_bytes, timeout):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.line_bytes = line_bytes
        self.sent = hashlib.sha256()
        self.back = hashlib.sha256()
        self.n_sent = self.n_back = self.bytes_sent = self.bytes_back = 0
        self.target = None
        self.error = None
        self.buf = b""
        self.send_line()
        self.read_lines(1)

    def send_line(self):
        line = os.urandom(self.line_bytes // 2).hex().encode()
        self.sent.update(line)
        self.sock.sendall(line + b"\n")
        self.n_sent += 1
        self.bytes_sent += len(line) + 1

    def read_lines(self, want):
        while self.n_back < want:
            if b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("connection closed after %d of %d lines" % (self.n_back, want))
                self.buf += chunk
                continue
            line, _, self.buf = self.buf.partition(b"\n")
            name, _, echo = line.partition(b" ")
            self.target = name.decode(errors="replace")
            self.back.update(echo)
            self.n_back += 1
            self.bytes_back += len(line) + 1

    def run(self, seconds, interval):
        try:
            reader = threading.Thread(target=self.reader)
            reader.start()
            end = time.monotonic() + seconds
            while time.monotonic() < end and self.error is None:
                self.send_line()
                time.sleep(interval)
            self.total = self.n_sent
            reader.join()
        except OSError as err:
            self.error = self.error or str(err)

    def reader(self):
        try:
            # read as the lines come back; after the sender stopped, until the last one
            while True:
                if self.n_back < self.n_sent:
                    self.read_lines(self.n_back + 1)
                elif hasattr(self, "total"):
                    break
                else:
                    time.sleep(0.002)
        except OSError as err:
            self.error = "after %d lines back: %s" % (self.n_back, err)


def cmd_stream(args):
    t0 = time.monotonic()
    streams, extra, errors = [], [], []
    per = {}
    while min(per.get("t1", 0), per.get("t2", 0)) < args.per_target and len(streams) + len(
            extra) < 8 * args.per_target:
        try:
            st = Stream(args.addr, args.port, args.line_bytes, args.timeout)
        except OSError as err:
            errors.append("connect: %s" % err)
            break
        if per.get(st.target, 0) < args.per_target:
            per[st.target] = per.get(st.target, 0) + 1
            streams.append(st)
        else:
            extra.append(st)
    for st in extra:
        st.sock.close()
    threads = [threading.Thread(target=st.run, args=(args.seconds, args.interval))
               for st in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_target = {}
    for st in streams:
        st.sock.close()
        if st.error is None and st.sent.digest() != st.back.digest():
            st.error = "echo differs from what was sent (SHA-256)"
        if st.error is None:
            by_target[st.target] = by_target.get(st.target, 0) + 1
        else:
            errors.append(st.error)
    out = {"conns": len(streams), "ok": sum(by_target.values()), "by_target": by_target,
           "lines": sum(st.n_back for st in streams),
           "sent": sum(st.bytes_sent for st in streams),
           "received": sum(st.bytes_back for st in streams),
           "seconds": round(time.monotonic() - t0, 3), "errors": errors}
    print(json.dumps(out, sort_keys=True))
    ok = not errors and len(by_target) == 2 and out["ok"] == 2 * args.per_target
    return 0 if ok else 1


def wait_for(check, timeout):
    """check() -> (done, message) until done or timeout; the last message."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, msg = check()
        except telemetry.TelemetryError as err:
            done, msg = False, str(err)
        if done or time.monotonic() >= deadline:
            return done, msg
        time.sleep(0.05)


def cmd_sa(args):
    want = {("in", int(x, 16)) for x in args.spi_in} | {("out", int(x, 16)) for x in args.spi_out}

    def check():
        sas = telemetry.rows(telemetry.query(args.prefix, telemetry.SA_LIST))
        if args.gone:
            return not sas, "SAs left: %s" % [s["spi"] for s in sas]
        got = {(s["dir"], int(s["spi"], 16)): s for s in sas}
        if set(got) != want:
            return False, "SAs %s, want %s" % (
                sorted((d, "0x%08x" % spi) for d, spi in got),
                sorted((d, "0x%08x" % spi) for d, spi in want))
        for s in got.values():
            if (s["aead"], s["mode"], s["encap"]) != (args.aead, "tunnel", "udp"):
                return False, "SA %s is %s/%s/%s, want %s/tunnel/udp" % (
                    s["spi"], s["aead"], s["mode"], s["encap"], args.aead)
        pairs = "%d pair(s)" % len(args.spi_in)
        if not any("packets" in s for s in got.values()):  # the router's table has no counters
            return True, pairs
        # a target: packets both ways, and outbound only on its own SA (out_target = its id)
        # when the router gave it one, else on the shared one (out_target 0)
        me = telemetry.query(args.prefix, "/dvipsec/target/stats")["id"]
        outs = [s for s in got.values() if s["dir"] == "out"]
        mine = 0 if all(s["out_target"] != me for s in outs) else me
        used = sorted({s["out_target"] for s in outs if s["packets"] > 0})
        pin = sum(s["packets"] for s in got.values() if s["dir"] == "in")
        pout = sum(s["packets"] for s in outs)
        if used and used != [mine]:
            return False, "target %d sent on SAs of out_target %s, want only %d" % (me, used, mine)
        return True, "in %d pkts, out %d pkts, own SA %s" % (pin, pout, "yes" if mine else "no")

    done, msg = wait_for(check, args.timeout)
    print(msg)
    return 0 if done else 1


def cmd_pair(args):
    want = {("in", int(args.spi_in, 16)), ("out", int(args.spi_out, 16))}

    def check():
        missing = []
        for prefix in args.prefixes:
            sas = telemetry.rows(telemetry.query(prefix, telemetry.SA_LIST))
            got = want & {(s["dir"], int(s["spi"], 16)) for s in sas}
            if got != (want if args.present else set()):
                missing.append("%s has %s" % (prefix, sorted((d, "0x%08x" % spi) for d, spi in
                                                             got)))
        return not missing, "; ".join(missing) or "ok"

    done, msg = wait_for(check, args.timeout)
    print(msg)
    return 0 if done else 1


def cmd_ike(args):
    def check():
        v = telemetry.query(args.prefix, "/dvipsec/ike")
        sas = [r for r in telemetry.rows(v) if "spi_i" in r]
        if args.gone:
            return not sas and v.get("enabled") == 1, "IKE SAs left: %s" % sas
        if args.refused:  # kept to repeat AUTHENTICATION_FAILED (state "deleting"), no CHILD SA
            ok = sas and all(r["state"] == "deleting" and r["children"] == 0 for r in sas)
            return ok, "IKE SAs %s" % sas
        want = {"spi_i": "0x%016x" % int(args.spi_i, 16), "spi_r": "0x%016x" % int(args.spi_r, 16),
                "state": "established", "nat": 1, "children": args.children}
        if len(sas) != 1 or any(sas[0].get(k) != w for k, w in want.items()):
            return False, "IKE SAs %s, want one %s" % (sas, want)
        return True, "IKE SA %s/%s established (peer %s), NAT, %d CHILD SA(s)" % (
            want["spi_i"], want["spi_r"], sas[0].get("peer"), args.children)

    done, msg = wait_for(check, args.timeout)
    print(msg)
    return 0 if done else 1


def cmd_counters(args):
    v = telemetry.query(args.prefix, "/dvipsec/ike")
    bad = []
    for item in args.want:
        name, _, value = item.partition("=")
        if v.get(name) != int(value):
            bad.append("%s=%s (want %s)" % (name, v.get(name), value))
    print(", ".join(bad) if bad else "ok")
    return 1 if bad else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tcp")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--lines", type=int, default=3)
    p.add_argument("--line-bytes", type=int, default=1500)
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(fn=cmd_tcp)
    p = sub.add_parser("sa")
    p.add_argument("prefix")
    p.add_argument("--in", dest="spi_in", action="append", default=[])
    p.add_argument("--out", dest="spi_out", action="append", default=[])
    p.add_argument("--aead", default="")
    p.add_argument("--gone", action="store_true")
    p.add_argument("--timeout", type=float, default=2)
    p.set_defaults(fn=cmd_sa)
    p = sub.add_parser("stream")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--per-target", type=int, default=2)
    p.add_argument("--seconds", type=float, default=9)
    p.add_argument("--line-bytes", type=int, default=1000)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(fn=cmd_stream)
    p = sub.add_parser("pair")
    p.add_argument("prefixes", nargs="+")
    p.add_argument("--in", dest="spi_in", required=True)
    p.add_argument("--out", dest="spi_out", required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--present", action="store_true")
    g.add_argument("--absent", action="store_true")
    p.add_argument("--timeout", type=float, default=2)
    p.set_defaults(fn=cmd_pair)
    p = sub.add_parser("ike")
    p.add_argument("prefix")
    p.add_argument("--spi-i", default="0")
    p.add_argument("--spi-r", default="0")
    p.add_argument("--gone", action="store_true")
    p.add_argument("--refused", action="store_true")
    p.add_argument("--children", type=int, default=1)
    p.add_argument("--timeout", type=float, default=2)
    p.set_defaults(fn=cmd_ike)
    p = sub.add_parser("counters")
    p.add_argument("prefix")
    p.add_argument("want", nargs="+")
    p.set_defaults(fn=cmd_counters)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
