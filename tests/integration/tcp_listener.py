#!/usr/bin/python3
"""A real kernel TCP server for the namespace test: the application behind the DVIPA on one target.

Listens on ADDR at every given port; for each line a client sends, answers "<NAME> <line>\\n" (and
closes the connection itself after answering a line that starts with "close": a server-side FIN) and
appends one JSON object to LOG: {"event": "accept"|"line"|"close", "port", "peer", "line"}, so the
test sees which target served which connection and how many lines reached the application.
Prints "ready" on stdout once every port is bound. Runs until SIGTERM/SIGINT (exit 0).

Usage: tcp_listener.py --name t1 --addr 192.0.2.1 --ports 5001-5012,8080 --log FILE
"""

import argparse
import json
import selectors
import signal
import socket
import sys
import time


def parse_ports(text: str) -> list:
    """'5001-5003,8080' -> [5001, 5002, 5003, 8080]."""
    ports = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        ports.extend(range(int(lo), int(hi or lo) + 1))
    return ports


class Server:
    """One selector loop over the listening sockets and their connections."""

    def __init__(self, name, addr, ports, log):
        self.name = name
        self.log = log
        self.sel = selectors.DefaultSelector()
        self.buffers = {}
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((addr, port))
            sock.listen(128)
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, ("listen", port))

    def record(self, event, port, peer, line=None):
        """One log entry, flushed at once (the test reads the file while we run)."""
        entry = {"event": event, "port": port, "peer": "%s:%d" % peer, "time": time.time()}
        if line is not None:
            entry["line"] = line
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    def accept(self, sock, port):
        """A new connection: log it and watch it."""
        try:
            conn, peer = sock.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.buffers[conn] = b""
        self.sel.register(conn, selectors.EVENT_READ, ("conn", port, peer))
        self.record("accept", port, peer)

    def serve(self, conn, port, peer):
        """Answer every complete line; log and forget the connection when it ends."""
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.record("close", port, peer)
            self.sel.unregister(conn)
            del self.buffers[conn]
            conn.close()
            return
        self.buffers[conn] += data
        while b"\n" in self.buffers[conn]:
            line, _, rest = self.buffers[conn].partition(b"\n")
            self.buffers[conn] = rest
            text = line.decode(errors="replace")
            self.record("line", port, peer, text)
            try:
                conn.sendall(("%s %s\n" % (self.name, text)).encode())
            except OSError:
                pass
            if text.startswith("close"):
                self.record("server_close", port, peer)
                self.sel.unregister(conn)
                del self.buffers[conn]
                conn.close()
                return

    def run(self):
        """Until a signal ends the process."""
        while True:
            for key, _ in self.sel.select():
                kind, port = key.data[0], key.data[1]
                if kind == "listen":
                    self.accept(key.fileobj, port)
                else:
                    self.serve(key.fileobj, port, key.data[2])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--addr", required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    with open(args.log, "a", encoding="utf-8") as log:
        server = Server(args.name, args.addr, parse_ports(args.ports), log)
        print("ready", flush=True)
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
