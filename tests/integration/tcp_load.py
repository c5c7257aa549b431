#!/usr/bin/python3
"""Real kernel TCP load through the tunnel for tests/e2e/appliance.sh and
tests/interop/ike_router.sh (run in the client's namespace): connections to tcp_listener.py behind
the DVIPA, every byte checked end to end by SHA-256, one JSON object out.

  streams ADDR PORT [--per-target N --seconds S --line-bytes B --interval I --grace G]
          [--allow-fail NAME] [--targets t1,t2]
      Long-lived connections: opens connections until N of them are answered by each target (the
      first echo names it; extra ones are closed), then each sends a line of B bytes every I
      seconds for S seconds while a reader takes the echoes ("<target> <line>"). A connection is
      ok when every echo came back within G seconds of the end, without a reset, and the SHA-256
      of the echoed lines equals that of the lines sent. Exit 0 when every connection is ok,
      except those answered by the target --allow-fail names (it is killed meanwhile: they may
      fail, and the JSON says how they ended).
  conns ADDR PORT [--conns N --lines L --line-bytes B --timeout T --t0 EPOCH]
      N concurrent short connections, each sends L lines and reads their echoes; per connection
      the answering target and the milliseconds from T0 (default: the start) to its last echo.
      Exit 0 when all are ok.

The JSON: conns, ok, by_target (ok connections per target), failed (per target), sent and
received bytes, lines, seconds, errors (at most 10), and for conns the per-connection list.
"""

import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time


class Conn:
    """One connection; the first line's echo names the target that answers it."""

    def __init__(self, addr, port, line_bytes, timeout):
        self.line_bytes = line_bytes
        self.sent = hashlib.sha256()
        self.back = hashlib.sha256()
        self.n_sent = self.n_back = self.bytes_sent = self.bytes_back = 0
        self.target = None
        self.error = None
        self.buf = b""
        self.done_sending = False
        self.lock = threading.Lock()
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        # the reader's own socket object (same connection): its short timeouts must not cut the
        # sender's sendall short when the window stays full for a while
        self.rsock = self.sock.dup()
        self.rsock.settimeout(timeout)

    def close(self, reset=False):
        """reset: RST instead of FIN (an orphaned socket would retransmit into the next test)."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rsock.close()
        self.sock.close()

    def send_line(self):
        line = os.urandom(self.line_bytes // 2).hex().encode()
        with self.lock:
            self.sent.update(line)
            self.n_sent += 1
        self.sock.sendall(line + b"\n")
        self.bytes_sent += len(line) + 1

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.rsock.recv(65536)
            if not chunk:
                raise OSError("closed by the peer after %d of %d lines" %
                              (self.n_back, self.n_sent))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        name, _, echo = line.partition(b" ")
        self.target = self.target or name.decode(errors="replace")
        self.back.update(echo)
        self.n_back += 1
        self.bytes_back += len(line) + 1

    def reader(self, deadline):
        """Echoes until the sender stopped and everything came back, or the deadline."""
        try:
            while True:
                with self.lock:
                    pending = self.n_back < self.n_sent
                    finished = self.done_sending and not pending
                if finished:
                    return
                if not pending:
                    time.sleep(0.002)
                    continue
                left = deadline() - time.monotonic()
                if left <= 0:
                    raise OSError("%d of %d lines not back in time" %
                                  (self.n_sent - self.n_back, self.n_sent))
                self.rsock.settimeout(min(left, 1.0))
                try:
                    self.read_line()
                except socket.timeout:
                    continue
        except OSError as err:
            self.error = self.error or "reader: %s" % err

    def result(self):
        if self.error is None and self.sent.digest() != self.back.digest():
            self.error = "echo differs from what was sent (SHA-256)"
        return {"target": self.target, "ok": self.error is None, "error": self.error,
                "lines": self.n_back, "sent": self.bytes_sent, "received": self.bytes_back}


def summary(results, t0):
    by_target, failed = {}, {}
    for r in results:
        bucket = by_target if r["ok"] else failed
        bucket[r["target"]] = bucket.get(r["target"], 0) + 1
    return {"conns": len(results), "ok": sum(by_target.values()), "by_target": by_target,
            "failed": failed, "lines": sum(r["lines"] for r in results),
            "sent": sum(r["sent"] for r in results),
            "received": sum(r["received"] for r in results),
            "seconds": round(time.monotonic() - t0, 3),
            "errors": ["%s: %s" % (r["target"], r["error"]) for r in results if r["error"]][:10]}


def cmd_streams(args):
    t0 = time.monotonic()
    names = args.targets.split(",")
    conns, extra, errors = [], [], []
    per = dict.fromkeys(names, 0)
    while min(per.values()) < args.per_target and len(conns) + len(extra) < 4 * len(
            names) * args.per_target:
        try:
            c = Conn(args.addr, args.port, args.line_bytes, args.timeout)
            c.send_line()
            c.read_line()
        except OSError as err:
            errors.append("connect: %s" % err)
            break
        if per.get(c.target, args.per_target) < args.per_target:
            per[c.target] += 1
            conns.append(c)
        else:
            extra.append(c)
    for c in extra:
        c.close()
    end = time.monotonic() + args.seconds
    # the allowed-to-fail target's connections hang once it died: they get the grace too
    deadline = lambda: end + args.grace  # noqa: E731

    def sender(c):
        try:
            while time.monotonic() < end and c.error is None:
                c.send_line()
                time.sleep(args.interval)
        except OSError as err:
            c.error = c.error or "sender after %d lines: %s" % (c.n_sent, err)
        finally:
            with c.lock:
                c.done_sending = True

    threads = []
    for c in conns:
        threads.append(threading.Thread(target=sender, args=(c,)))
        threads.append(threading.Thread(target=c.reader, args=(deadline,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = []
    for c in conns:
        results.append(c.result())
        c.close(reset=not results[-1]["ok"])
    out = summary(results, t0)
    out["errors"] = errors + out["errors"]
    print(json.dumps(out, sort_keys=True))
    bad = [r for r in results if not r["ok"] and r["target"] != args.allow_fail]
    ok = not errors and not bad and all(per[n] == args.per_target for n in names)
    return 0 if ok else 1


def cmd_conns(args):
    t0 = time.monotonic()
    t0_epoch = args.t0 if args.t0 else time.time()
    results = [None] * args.conns

    def one(i):
        r = {"target": None, "ok": False, "error": None, "lines": 0, "sent": 0, "received": 0}
        c = None
        try:
            c = Conn(args.addr, args.port, args.line_bytes, args.timeout)
            for _ in range(args.lines):
                c.send_line()
            while c.n_back < args.lines:
                c.read_line()
            r = c.result()
        except OSError as err:
            r["error"] = str(err)
        if c is not None:
            c.close(reset=not r["ok"])
        r["ms"] = round((time.time() - t0_epoch) * 1000)
        results[i] = r

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = summary(results, t0)
    out["list"] = [{"target": r["target"], "ok": r["ok"], "ms": r["ms"]} for r in results]
    out["max_ms"] = max(r["ms"] for r in results)
    print(json.dumps(out, sort_keys=True))
    return 0 if out["ok"] == args.conns else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("streams")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--per-target", type=int, default=4)
    p.add_argument("--targets", default="t1,t2")
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--line-bytes", type=int, default=1500)
    p.add_argument("--interval", type=float, default=0.005)
    p.add_argument("--grace", type=float, default=8)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--allow-fail", default="")
    p.set_defaults(fn=cmd_streams)
    p = sub.add_parser("conns")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--lines", type=int, default=3)
    p.add_argument("--line-bytes", type=int, default=1500)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--t0", type=float, default=0)
    p.set_defaults(fn=cmd_conns)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
