#!/usr/bin/python3
"""Real TCP for the demo (scripts/demo.sh): an HTTP server per target, and a client that checks
every byte.

  serve --name t1 --addr 192.0.2.1 --port 80 --log FILE
      (in a target's namespace) a threaded HTTP/1.0 server on the DVIPA, one TCP connection per
      request; every answer carries "X-Target: <name>":
        GET  /hello             "hello from <name>"
        GET  /data/<bytes>/<seed>  <bytes> pseudo-random bytes from <seed> (the client re-makes
                                them to compare)
        POST /echo              the request body back
      Prints "ready" once listening; runs until SIGTERM.
  load --addr 192.0.2.1 --port 80 --conns 200 --parallel 64 --seconds 10 --streams 8
      (in the client's namespace) first CONNS connections, PARALLEL at a time, each one request:
      even ones download (GET /data, 1..128 KiB), odd ones upload (POST /echo, 1..64 KiB); then
      for SECONDS, STREAMS workers download 1 MiB per connection, one connection after another.
      Every answer is compared with what it must be. Prints one JSON object (per connection: the
      target that answered, bytes each way; per phase: totals by target); exit 1 if any
      connection failed.
"""

import argparse
import http.client
import http.server
import json
import os
import random
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

STREAM_BYTES = 1 << 20


def pseudo_random(nbytes: int, seed: int) -> bytes:
    """The body of GET /data/<nbytes>/<seed>, the same on server and client."""
    return random.Random(seed).randbytes(nbytes)


class Handler(http.server.BaseHTTPRequestHandler):
    """One request per connection (HTTP/1.0): the router spreads connections, not requests."""

    server_version = "dvipsec-demo"

    def answer(self, body: bytes):
        self.send_response(200)
        self.send_header("X-Target", self.server.name)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = self.path.strip("/").split("/")
        if parts == ["hello"]:
            self.answer(("hello from %s\n" % self.server.name).encode())
        elif len(parts) == 3 and parts[0] == "data" and parts[1].isdigit() and parts[2].isdigit():
            self.answer(pseudo_random(min(int(parts[1]), 64 << 20), int(parts[2])))
        else:
            self.send_error(404)

    def do_POST(self):  # noqa: N802
        if self.path != "/echo":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length", "0"))
        self.answer(self.rfile.read(length))

    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        self.server.log.write("%s %s %s\n" % (time.strftime("%T"), self.client_address[1],
                                              format % args))
        self.server.log.flush()


def cmd_serve(args) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    http.server.ThreadingHTTPServer.request_queue_size = 256
    with open(args.log, "a", encoding="utf-8") as log:
        server = http.server.ThreadingHTTPServer((args.addr, args.port), Handler)
        server.daemon_threads = True
        server.name = args.name
        server.log = log
        print("ready", flush=True)
        server.serve_forever()
    return 0


def one_request(addr, port, timeout, method, path, body, expect) -> dict:
    """One connection, one request; the answer compared with `expect`."""
    t0 = time.monotonic()
    result = {"method": method, "up": len(body or b""), "down": 0, "target": None, "ok": False}
    try:
        conn = http.client.HTTPConnection(addr, port, timeout=timeout)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        result["target"] = resp.getheader("X-Target")
        result["down"] = len(data)
        if resp.status != 200:
            result["error"] = "HTTP %d" % resp.status
        elif data != expect:
            result["error"] = "%d bytes back, not the %d expected (content differs)" % (
                len(data), len(expect))
        elif result["target"] is None:
            result["error"] = "no X-Target header"
        else:
            result["ok"] = True
    except (OSError, http.client.HTTPException) as err:
        result["error"] = "%s: %s" % (type(err).__name__, err)
    result["ms"] = round((time.monotonic() - t0) * 1000, 1)
    return result


def connection(args, index: int) -> dict:
    """Connection `index` of the first phase: downloads and uploads alternate."""
    rng = random.Random(args.seed * 100003 + index)
    if index % 2 == 0:
        nbytes = rng.randint(1024, 128 * 1024)
        seed = rng.getrandbits(32)
        return one_request(args.addr, args.port, args.timeout, "GET",
                           "/data/%d/%d" % (nbytes, seed), None, pseudo_random(nbytes, seed))
    body = rng.randbytes(rng.randint(1024, 64 * 1024))
    return one_request(args.addr, args.port, args.timeout, "POST", "/echo", body, body)


def by_target(results) -> dict:
    """{target: {"conns", "up", "down"}} over the connections that succeeded."""
    out = {}
    for r in results:
        if r["ok"]:
            t = out.setdefault(r["target"], {"conns": 0, "up": 0, "down": 0})
            t["conns"] += 1
            t["up"] += r["up"]
            t["down"] += r["down"]
    return out


def streams(args) -> tuple:
    """The second phase: STREAMS workers downloading 1 MiB per connection for SECONDS."""
    results = []
    lock = threading.Lock()
    end = time.monotonic() + args.seconds

    def worker(w):
        n = 0
        while time.monotonic() < end:
            seed = w * 1000003 + n
            r = one_request(args.addr, args.port, args.timeout, "GET",
                            "/data/%d/%d" % (STREAM_BYTES, seed), None,
                            pseudo_random(STREAM_BYTES, seed))
            n += 1
            with lock:
                results.append(r)
            if not r["ok"]:
                return

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.monotonic() - t0


def cmd_load(args) -> int:
    # Ctrl-C: at once, not after the worker threads have finished their connections
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        first = list(pool.map(lambda i: connection(args, i), range(args.conns)))
    first_s = time.monotonic() - t0
    second, second_s = streams(args) if args.seconds > 0 and args.streams > 0 else ([], 0.0)
    out = {
        "requests": {"conns": len(first), "ok": sum(r["ok"] for r in first),
                     "parallel": args.parallel, "seconds": round(first_s, 2),
                     "by_target": by_target(first),
                     "order": [r["target"] if r["ok"] else None for r in first],
                     "errors": ["connection %d: %s" % (i, r["error"])
                                for i, r in enumerate(first) if not r["ok"]]},
        "streams": {"conns": len(second), "ok": sum(r["ok"] for r in second),
                    "streams": args.streams, "seconds": round(second_s, 2),
                    "by_target": by_target(second),
                    "errors": [r["error"] for r in second if not r["ok"]]},
    }
    print(json.dumps(out, sort_keys=True))
    failed = out["requests"]["ok"] != len(first) or out["streams"]["ok"] != len(second)
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--name", required=True)
    serve.add_argument("--addr", required=True)
    serve.add_argument("--port", type=int, default=80)
    serve.add_argument("--log", required=True)
    load = sub.add_parser("load")
    load.add_argument("--addr", required=True)
    load.add_argument("--port", type=int, default=80)
    load.add_argument("--conns", type=int, default=200)
    load.add_argument("--parallel", type=int, default=64)
    load.add_argument("--seconds", type=float, default=10)
    load.add_argument("--streams", type=int, default=8)
    load.add_argument("--timeout", type=float, default=60)
    load.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    return cmd_serve(args) if args.cmd == "serve" else cmd_load(args)


if __name__ == "__main__":
    sys.exit(main())
