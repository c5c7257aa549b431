#!/usr/bin/python3
"""The IPsec client of the namespace fast-path test: the scenarios, run inside the client namespace.

It speaks TCP itself, inside ESP built and opened by scapy (esp_wire.py), to the real kernel TCP
listeners behind the DVIPA on the targets, and judges what comes back; it reads the processes'
DPDK telemetry (telemetry.py) and the listeners' logs to check counters and delivery.

Scenarios (`run`), each one row of the summary (appended to --summary as TSV):
  reach        ARP for the DVIPA answered by the router; targets healthy (telemetry); whether
               ICMP echo is answered (figure only)
  1-handshake  per SA pair: ESP SYN -> ESP SYN-ACK (ack = isn+1) from DVIPA:port; ACK; "hello N"
               -> "<target> hello N" decrypted; the target's listener log shows the connection
  2-flows      40 flows on one SA: each SYN-ACKed; ACK + data answered by the target that
               accepted the connection (no RST); split t1:t2 = weights (exact 10/30, else +-2
               reported); the router's connection table names the same target for every flow
  3-replay     re-sent ESP packets (same bytes): router replay_duplicate +1 each, nothing
               decrypted by a target, no new line at any listener, no reply
  3-spi        ESP with an unknown SPI: router unknown_spi +1
  4-icv        a data packet with one ciphertext bit flipped, then the same packet intact: the
               owning target's icv_mismatch +1, the intact packet is answered
  5-plain      kernel TCP client (no IPsec) to DVIPA:8080: answered by a target's listener
  esp-out      every ESP reply: right SPI for its port, encapsulation, UDP ports/length/checksum,
               outer and inner addresses, IPv4 and TCP checksums, ICV
  esp-seq      outbound sequence numbers unique per SA and within a 32-packet window of the
               highest seen (ARCHITECTURE.md 3: strongSwan's default window)

`selftest TEST_JSON`: no network; per SA pair, our packets open under scapy and under
python3-cryptography alone (scripts/check_rfc_vectors.py) to the exact bytes, a target-style
reply passes the checker, and corrupted or mis-addressed replies do not.

Usage: esp_client.py run TEST_JSON --iface dvc0 --summary FILE [--flows 40] [--exact-split]
       esp_client.py selftest TEST_JSON
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

import telemetry as tm
from esp_wire import (IP, PROTO_ESP, PROTO_TCP, PROTO_UDP, REPLY_TIMEOUT, SCAPY_ALGOS,
                      TCP, TCP_ACK, TCP_PSH, TCP_SYN, UDP, Client, ESP, Flow, Pair,
                      SecurityAssociation, ip_str, keystream_open, now, open_reply, raw,
                      strip_udp, vc)

PEER_REPLAY_WINDOW = 32  # strongSwan's default
S1_SPORT_BASE = 20001
S2_SPORT_BASE = 21001


class Telemetry:
    """Snapshots of the counters the scenarios compare (router drops; per target stats and
    drops), with errors kept so a scenario can say which command failed."""

    def __init__(self, test: dict):
        self.router = test["router_prefix"]
        self.targets = test["targets"]

    def snapshot(self) -> dict:
        """{'router': {...}, 't1': {...}, ...} flattened counters, or TelemetryError values."""
        snap = {}
        for key, prefix, commands in ((("router", self.router, (tm.ROUTER_DROPS,
                                                                tm.ROUTER_STATS)),) +
                                      tuple((t["name"], t["prefix"],
                                             (tm.TARGET_STATS, tm.TARGET_DROPS))
                                            for t in self.targets)):
            merged = {}
            try:
                for command in commands:
                    for name, value in tm.flatten(tm.query(prefix, command)).items():
                        merged.setdefault(name, value)
                        merged[command + ":" + name] = value
            except tm.TelemetryError as err:
                merged = err
            snap[key] = merged
        return snap

    @staticmethod
    def delta(before: dict, after: dict, who: str, logical: str, command: str) -> int:
        """after - before of one counter; raises TelemetryError naming what is missing."""
        values = []
        for snap in (before, after):
            counters = snap[who]
            if isinstance(counters, tm.TelemetryError):
                raise counters
            value = tm.counter({k.split(":", 1)[1]: v for k, v in counters.items()
                                if k.startswith(command + ":")}, logical)
            if value is None:
                raise tm.TelemetryError("%s %s has no counter %r (accepted spellings: %s)" % (
                    who, command, logical, ", ".join(tm.COUNTER_NAMES.get(logical, ()))))
            values.append(value)
        return values[1] - values[0]


def flip_offset(packet: bytes, pair: Pair) -> int:
    """Where a data packet of ours carries the 41st byte of its TCP payload, encrypted."""
    ihl = (packet[0] & 0x0F) * 4
    esp = ihl + (8 if pair.encap == "udp" else 0)
    headers = (20 if pair.mode == "tunnel" else 0) + 20  # inner IPv4 (tunnel), TCP (no options)
    return esp + 16 + headers + 40  # SPI, sequence number, IV


def read_log(path: str) -> list:
    """A listener's log entries."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


class Run:
    """The scenarios, their rows and their failure details."""

    def __init__(self, args, test: dict):
        self.args = args
        self.test = test
        self.c = Client(test, args.iface)
        self.tel = Telemetry(test)
        self.rows = []
        self.targets = {t["name"]: t for t in test["targets"]}
        self.weights = {t["name"]: t["weight"] for t in test["targets"]}
        self.retransmitted = 0
        self.s1_flows = []

    # -- reporting ---------------------------------------------------------------------------
    def row(self, scenario: str, ok: bool, figures: str, details=()):
        """Record and print one scenario result (details only on failure)."""
        result = "PASS" if ok else "FAIL"
        self.rows.append((scenario, result, figures))
        print("[%s] %s: %s" % (result, scenario, figures), flush=True)
        if not ok:
            for d in list(details)[:40]:
                print("    - %s" % d, flush=True)
            if len(details) > 40:
                print("    - ... %d more" % (len(details) - 40), flush=True)
        with open(self.args.summary, "a", encoding="utf-8") as f:
            f.write("%s\t%s\t%s\n" % (scenario, result, figures.replace("\t", " ")))

    def served(self, name: str, port: int, peer: str, line=None) -> list:
        """Log entries of target `name`'s listener for this connection (and line)."""
        return [e for e in read_log(self.targets[name]["listener_log"])
                if e.get("port") == port and e.get("peer") == peer and
                (line is None or (e.get("event") == "line" and e.get("line") == line))]

    def line_count(self) -> int:
        """Lines delivered to all listeners so far."""
        return sum(1 for t in self.test["targets"] for e in read_log(t["listener_log"])
                   if e.get("event") == "line")

    def delivery_problems(self, f: Flow, line: str) -> list:
        """The flow's answer and the listeners' logs agree that one target served `line`."""
        name = f.answered(line)
        peer = "%s:%d" % (f.pair.client_addr, f.sport)
        if name is None:
            got = f.lines()
            return ["%s %s: no answer to %r within the timeout (lines %r; segments received: %s)"
                    % (f.pair.label(), f.tag, line, got, " ".join(f.trace) or "none")]
        if name not in self.targets:
            return ["%s %s: answer %r names no target" % (f.pair.label(), f.tag, name)]
        problems = []
        if len(self.served(name, f.pair.port, peer, line)) != 1:
            problems.append("%s %s: %s's listener log does not show %s on port %d exactly once"
                            % (f.pair.label(), f.tag, name, peer, f.pair.port))
        for other in self.targets:
            if other != name and self.served(other, f.pair.port, peer):
                problems.append("%s %s: %s's listener also saw %s" %
                                (f.pair.label(), f.tag, other, peer))
        return problems

    # -- flows in bulk -----------------------------------------------------------------------
    def handshake(self, flows: list, pace: float) -> list:
        """SYN every flow, wait for the SYN-ACKs (one SYN retransmission), then ACK them.
        Returns the problems of flows without a valid SYN-ACK."""
        for f in flows:
            f.syn()
            time.sleep(pace)
        timeout = REPLY_TIMEOUT + pace * len(flows)
        if not self.c.pump(timeout, lambda: all(f.rcv_nxt is not None or f.rst for f in flows)):
            for f in flows:
                if f.rcv_nxt is None and not f.rst:
                    self.retransmitted += 1
                    f.syn()
            self.c.pump(timeout, lambda: all(f.rcv_nxt is not None or f.rst for f in flows))
        problems = []
        for f in flows:
            if f.rcv_nxt is None:
                problems.append("%s %s: no SYN-ACK within %.0f s (SYN sent twice%s)" % (
                    f.pair.label(), f.tag, 2 * timeout, ", got RST" if f.rst else ""))
            elif f.synack_ack != (f.isn + 1) & 0xFFFFFFFF:
                problems.append("%s %s: SYN-ACK acks %d, want isn+1 = %d" % (
                    f.pair.label(), f.tag, f.synack_ack, (f.isn + 1) & 0xFFFFFFFF))
        return problems

    def exchange(self, flows: list, line_of, pace: float, separate_ack: bool) -> None:
        """ACK (optionally as its own segment) and send one data line per flow; wait for all
        answers."""
        for f in flows:
            if separate_ack:
                f.send("ack", TCP_ACK)
            f.send("data", TCP_PSH | TCP_ACK, (line_of(f) + "\n").encode())
            time.sleep(pace)
        self.c.pump(REPLY_TIMEOUT + pace * len(flows),
                    lambda: all(f.answered(line_of(f)) or f.rst for f in flows))

    # -- scenarios ---------------------------------------------------------------------------
    def reach(self) -> bool:
        """ARP for the DVIPA (required for anything else), targets healthy, ICMP echo (figure).
        Returns whether the DVIPA answered ARP."""
        mac = self.c.arp(REPLY_TIMEOUT)
        details = []
        if mac is None:
            details.append("no ARP reply for %s on %s within %.0f s" %
                           (self.dvipa(), self.args.iface, REPLY_TIMEOUT))
        healthy, note = self.wait_healthy(10.0)
        if not healthy:
            details.append(note)
        echo = "ICMP echo not tried"
        if mac is not None:
            echo = "ICMP echo %s" % ("answered" if self.c.ping(1.0) else "not answered")
        self.row("reach", not details, "ARP %s is-at %s; %s; %s" % (self.dvipa(), mac, note, echo),
                 details)
        return mac is not None

    def dvipa(self) -> str:
        """The DVIPA."""
        return self.test["dvipa"]

    def wait_healthy(self, timeout: float) -> tuple:
        """(ok, note): every target healthy in /dvipsec/targets, if the router reports it."""
        deadline = now() + timeout
        note = ""
        while now() < deadline:
            try:
                targets = tm.target_list(tm.query(self.test["router_prefix"], tm.TARGETS))
            except tm.TelemetryError as err:
                note = "router %s: %s" % (tm.TARGETS, err)
                time.sleep(0.2)
                continue
            states = {t["name"]: t["healthy"] for t in targets}
            if all(states.get(n) in (True, 1, "up", "yes") for n in self.targets):
                return True, "targets healthy: %s" % ", ".join(sorted(states))
            if all(states.get(n) is None for n in self.targets):
                time.sleep(0.5)  # no health field: give the links a moment
                return True, "targets listed (no health field): %r" % sorted(states)
            note = "targets not all healthy after %.0f s: %r" % (timeout, states)
            time.sleep(0.2)
        return False, note

    def s1_handshake(self):
        """Every SA pair: handshake and one line through a real listener."""
        flows = [self.c.flow(p, S1_SPORT_BASE + i, "flow %d" % (i + 1))
                 for i, p in enumerate(self.c.pairs)]
        details = self.handshake(flows, 0.002)
        ok_flows = [f for f in flows if f.rcv_nxt is not None]
        self.exchange(ok_flows, lambda f: "hello %d" % (flows.index(f) + 1), 0.002, True)
        per_target = {}
        for f in ok_flows:
            line = "hello %d" % (flows.index(f) + 1)
            problems = self.delivery_problems(f, line)
            details += problems
            if not problems:
                name = f.answered(line)
                per_target[name] = per_target.get(name, 0) + 1
                f.target = name
        served = sum(per_target.values())
        figures = "%d/%d SA pairs answered (%s)" % (
            served, len(flows), ", ".join("%s %d" % kv for kv in sorted(per_target.items())))
        self.s1_flows = [f for f in flows if getattr(f, "target", None)]
        self.row("1-handshake", not details and served == len(flows), figures, details)

    def s2_flows(self):
        """Many flows on one SA: stickiness and the weighted split."""
        pair = next((p for p in self.c.pairs if p.name == self.args.flows_sa), self.c.pairs[0])
        flows = [self.c.flow(pair, S2_SPORT_BASE + i, "flow %d" % (i + 1))
                 for i in range(self.args.flows)]
        details = self.handshake(flows, 0.003)
        ok_flows = [f for f in flows if f.rcv_nxt is not None]
        self.exchange(ok_flows, lambda f: "data %d" % f.sport, 0.003, True)
        split = {n: 0 for n in self.targets}
        for f in ok_flows:
            problems = self.delivery_problems(f, "data %d" % f.sport)
            details += problems
            if not problems:
                f.target = f.answered("data %d" % f.sport)
                split[f.target] += 1
            elif f.rst:
                details.append("%s %s: RST: the ACK/data went to a target without the "
                               "connection" % (pair.label(), f.tag))
        answered = sum(split.values())
        total_w = sum(self.weights.values())
        want = {n: answered * w / total_w for n, w in self.weights.items()}
        off = max(abs(split[n] - want[n]) for n in split) if answered else 0
        exact = off < 0.5
        if not exact and (self.args.exact_split or off > 2):
            details.append("split %s, want %s %s" % (
                split, {n: round(v, 1) for n, v in want.items()},
                "exactly" if self.args.exact_split else "+-2"))
        details += self.dct_problems([f for f in ok_flows if getattr(f, "target", None)])
        figures = "%s: %d/%d flows answered; split %s (weights %s, %s)" % (
            pair.label(), answered, len(flows),
            " / ".join("%s %d" % (n, split[n]) for n in sorted(split)),
            ":".join(str(self.weights[n]) for n in sorted(split)),
            "exact" if exact else "off by %.1f" % off)
        self.row("2-flows", not details and answered == len(flows), figures, details)

    def dct_problems(self, flows: list) -> list:
        """The router's connection table has each flow, on the target that served it."""
        try:
            reply = tm.query(self.test["router_prefix"], tm.DCT_QUERY)
        except tm.TelemetryError as err:
            return ["router %s: %s" % (tm.DCT_QUERY, err)]
        entries = tm.dct_entries(reply)
        total, listed = tm.dct_counts(reply)
        partial = total is not None and total > len(entries)
        problems = []
        for f in flows:
            match = [e for e in entries if str(e["sport"]) == str(f.sport) and
                     str(e["dport"]) == str(f.pair.port) and
                     str(e["src"]) in (f.pair.client_addr, "None")]
            if not match and not partial:
                problems.append("%s %s: no connection table entry for sport %d (%d entries)"
                                % (f.pair.label(), f.tag, f.sport, len(entries)))
            elif match and not any(tm.names_target(e["target"], self.targets[f.target])
                                   for e in match):
                problems.append("%s %s: connection table says target %r, %s served it" % (
                    f.pair.label(), f.tag, match[0]["target"], f.target))
        if partial:
            found = sum(1 for f in flows if any(str(e["sport"]) == str(f.sport) for e in entries))
            print("    note: the router listed %s of %d connection table entries; %d of %d flows "
                  "checked" % (listed, total, found, len(flows)), flush=True)
        return problems

    def pick_flows(self, count: int) -> list:
        """Up to `count` served S1 flows, one per AEAD first, varying mode and encapsulation."""
        chosen = []
        for f in self.s1_flows:
            if any(c.pair.aead == f.pair.aead for c in chosen):
                continue
            if any(c.pair.mode == f.pair.mode and c.pair.encap == f.pair.encap for c in chosen):
                continue
            chosen.append(f)
        for f in self.s1_flows:
            if len(chosen) < count and f not in chosen:
                chosen.append(f)
        return chosen[:count]

    def s3_replay(self):
        """Replayed ESP dies at the router."""
        flows = self.pick_flows(3)
        if not flows:
            self.row("3-replay", False, "no flow of scenario 1 to replay", [])
            return
        details = []
        # A fresh packet, answered, then replayed ~200 ms later (the router must have learnt
        # its authenticated sequence number by then); plus older packets of scenario 1.
        first = flows[0]
        first.send("fresh", TCP_PSH | TCP_ACK, b"fresh 1\n")
        if not self.c.pump(REPLY_TIMEOUT, lambda: first.answered("fresh 1")):
            details.append("%s %s: no answer to 'fresh 1' (segments received: %s)" % (
                first.pair.label(), first.tag, " ".join(first.trace)))
        self.c.pump(0.2)
        replays = [(first, "fresh")] + [(f, "data") for f in flows] + [(first, "syn")]
        before = self.tel.snapshot()
        lines_before = self.line_count()
        replies_before = {id(f): f.replies for f in flows}
        sent_before = self.c.esp_sent
        for f, label in replays:
            self.c.send(f.sent[label][0])
            time.sleep(0.02)
        fresh = self.c.esp_sent - sent_before - len(replays)
        self.c.pump(1.0)
        after = self.tel.snapshot()
        what = ", ".join("%s %s seq %d" % (f.pair.label(), label, f.sent[label][1])
                         for f, label in replays)
        figures = "%d replays (%s)" % (len(replays), what)
        try:
            dup = self.tel.delta(before, after, "router", "replay_duplicate", tm.ROUTER_DROPS)
            figures += "; router replay_duplicate +%d" % dup
            if dup != len(replays):
                details.append("router replay_duplicate went up by %d, want %d" %
                               (dup, len(replays)))
        except tm.TelemetryError as err:
            details.append(str(err))
        decrypted = 0
        for name in self.targets:
            try:
                decrypted += self.tel.delta(before, after, name, "decrypted", tm.TARGET_STATS)
                tdup = self.tel.delta(before, after, name, "replay_duplicate", tm.TARGET_DROPS)
            except tm.TelemetryError as err:
                details.append(str(err))
                continue
            if tdup:
                details.append("%s replay_duplicate +%d: replays reached the target" %
                               (name, tdup))
        if decrypted > fresh:
            details.append("targets decrypted %d packets during the replays (we sent %d fresh "
                           "ones)" % (decrypted, fresh))
        if self.line_count() != lines_before:
            details.append("listeners got %d new lines" % (self.line_count() - lines_before))
        for f in flows:
            if f.replies != replies_before[id(f)]:
                details.append("%s %s: %d replies to the replays" % (
                    f.pair.label(), f.tag, f.replies - replies_before[id(f)]))
        self.row("3-replay", not details, figures, details)

    def s3_unknown_spi(self):
        """ESP under an SPI no SA has: the router counts unknown_spi."""
        spi = 0x0000C0DE
        while spi in self.c.by_spi or spi in self.c.in_spis:
            spi += 1
        sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=os.urandom(20))
        inner = raw(IP(src=self.test["client"], dst=self.dvipa()) /
                    TCP(sport=S1_SPORT_BASE - 1, dport=self.c.pairs[0].port, flags="S"))
        before = self.tel.snapshot()
        self.c.send(raw(sa.encrypt(IP(inner))))
        self.c.pump(0.5)
        after = self.tel.snapshot()
        try:
            d = self.tel.delta(before, after, "router", "unknown_spi", tm.ROUTER_DROPS)
            self.row("3-spi", d == 1, "SPI 0x%08x: router unknown_spi +%d" % (spi, d),
                     ["router unknown_spi went up by %d, want 1" % d])
        except tm.TelemetryError as err:
            self.row("3-spi", False, "SPI 0x%08x" % spi, [str(err)])

    def s4_bad_icv(self):
        """A corrupted packet fails the ICV at the target and does not block the real one."""
        flows = self.pick_flows(3)
        if not flows:
            self.row("4-icv", False, "no flow of scenario 1 to use", [])
            return
        details = []
        counted = []
        for n, f in enumerate(flows):
            # 64 bytes of data; the flipped bit is in its 41st byte: past the headers a router
            # peeks (inner IP, TCP) and before the trailer (whose next header it may peek too).
            line = ("again %d " % (n + 1)).ljust(64, "x")
            good, seq = f.build(TCP_PSH | TCP_ACK, (line + "\n").encode())
            bad = bytearray(good)
            bad[flip_offset(good, f.pair)] ^= 0x01
            before = self.tel.snapshot()
            self.c.send(bytes(bad))
            self.c.pump(0.3)
            self.c.send(good)
            self.c.pump(REPLY_TIMEOUT, lambda: f.answered(line) or f.rst)
            after = self.tel.snapshot()
            where = "%s seq %d" % (f.pair.label(), seq)
            details += ["%s: %s" % (where, p) for p in self.delivery_problems(f, line)]
            try:
                icv = {name: self.tel.delta(before, after, name, "icv_mismatch", tm.TARGET_DROPS)
                       for name in self.targets}
            except tm.TelemetryError as err:
                details.append(str(err))
                continue
            counted.append("%s %s +%d" % (f.pair.name, f.target, icv[f.target]))
            if icv[f.target] != 1 or sum(icv.values()) != 1:
                details.append("%s: icv_mismatch went up by %r, want +1 at %s only" %
                               (where, icv, f.target))
        self.row("4-icv", not details, "icv_mismatch %s; intact packets answered" %
                 ", ".join(counted), details)

    def s5_plain(self):
        """Kernel TCP without IPsec to the DVIPA's plain port."""
        port = self.test["plain_port"]
        details = []
        split = {n: 0 for n in self.targets}
        for n in range(self.args.plain):
            line = "plain %d" % (n + 1)
            try:
                with socket.create_connection((self.dvipa(), port), timeout=REPLY_TIMEOUT) as s:
                    local = "%s:%d" % s.getsockname()
                    s.sendall((line + "\n").encode())
                    data = b""
                    while not data.endswith(b"\n"):
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
            except OSError as err:
                details.append("%s: %s:%d: %s" % (line, self.dvipa(), port, err))
                continue
            name, _, rest = data.decode(errors="replace").strip().partition(" ")
            if rest != line or name not in self.targets:
                details.append("%s: answer %r" % (line, data))
                continue
            if len([e for e in read_log(self.targets[name]["listener_log"])
                    if e.get("peer") == local and e.get("line") == line]) != 1:
                details.append("%s: %s's listener log does not show %s" % (line, name, local))
            split[name] += 1
        self.row("5-plain", not details, "%d/%d connections to :%d answered (%s)" % (
            sum(split.values()), self.args.plain, port,
            ", ".join("%s %d" % kv for kv in sorted(split.items()))), details)

    def esp_out(self):
        """Everything wrong with any reply seen during the run."""
        details = ["%s (x%d)" % (p, n) for p, n in sorted(self.c.problems.items())]
        self.row("esp-out", not details and self.c.replies > 0, "%d ESP replies opened on %d SAs"
                 % (self.c.replies, sum(1 for p in self.c.pairs if p.rx_seqs)), details)

    def esp_seq(self):
        """Outbound sequence numbers: unique per SA, and ordered within the peer's window."""
        details = []
        for p in self.c.pairs:
            seen = set()
            top = 0
            for seq in p.rx_seqs:
                if seq in seen:
                    details.append("SPI 0x%08x (%s): sequence number %d sent twice" %
                                   (p.out_spi, p.label(), seq))
                elif seq + PEER_REPLAY_WINDOW <= top:
                    details.append("SPI 0x%08x (%s): seq %d arrived after %d: outside a %d-packet"
                                   " replay window" % (p.out_spi, p.label(), seq, top,
                                                       PEER_REPLAY_WINDOW))
                seen.add(seq)
                top = max(top, seq)
        mode = "strict" if not self.args.seq_warn else "warn only"
        self.row("esp-seq", not details or self.args.seq_warn, "%d outbound SAs, %d packets (%s)"
                 % (sum(1 for p in self.c.pairs if p.rx_seqs),
                    sum(len(p.rx_seqs) for p in self.c.pairs), mode), details)
        if details and self.args.seq_warn:
            for d in details[:10]:
                print("    - (warning) %s" % d)

    def run(self) -> int:
        """All scenarios; 0 if every row passed."""
        if self.reach():
            self.s1_handshake()
            self.s2_flows()
            self.s3_replay()
            self.s3_unknown_spi()
            self.s4_bad_icv()
        self.s5_plain()
        self.esp_out()
        self.esp_seq()
        if self.retransmitted:
            print("note: %d SYNs had to be retransmitted" % self.retransmitted)
        return 0 if all(r[1] == "PASS" for r in self.rows) else 1


# -- selftest (no network) ---------------------------------------------------------------------
def target_view(pair: Pair) -> tuple:
    """How a target would see the client's packet and answer: (scapy SA that opens our
    packets, scapy SA that seals replies, fix-up for scapy's NAT-T length)."""
    algo = SCAPY_ALGOS[pair.aead]
    inbound = SecurityAssociation(ESP, spi=pair.in_spi, crypt_algo=algo,
                                  crypt_key=bytes.fromhex(pair.in_key),
                                  tunnel_header=IP() if pair.mode == "tunnel" else None)
    nat_t = UDP(sport=pair.udp_local_port, dport=pair.udp_remote_port) \
        if pair.encap == "udp" else None
    outbound = SecurityAssociation(ESP, spi=pair.out_spi, crypt_algo=algo,
                                   crypt_key=bytes.fromhex(pair.out_key),
                                   tunnel_header=IP(src=pair.dvipa, dst=pair.client)
                                   if pair.mode == "tunnel" else None, nat_t_header=nat_t)
    return inbound, outbound


def selftest(test: dict) -> int:
    """Per SA pair: our SYN opens under the inbound SA (scapy and cryptography agree, exact
    inner bytes); a target-style SYN-ACK sealed by scapy passes our checker; corrupted or
    mis-addressed replies do not."""
    errors = []
    pairs = [Pair(p, test["dvipa"], test["client"]) for p in test["pairs"]]
    by_spi = {p.out_spi: p for p in pairs}

    class Sink:  # a Client stand-in for Flow.send
        auto_ack = False

        @staticmethod
        def send(_packet):
            return None

    for pair in pairs:
        where = pair.label()
        flow = Flow(Sink, pair, 40000, "selftest")
        syn_inner = flow.segment(TCP_SYN)
        packet, seq = pair.seal(syn_inner)
        ihl = 20
        if pair.encap == "udp":
            if packet[9] != PROTO_UDP:
                errors.append("%s: not ESP-in-UDP" % where)
            sport, dport, ulen, csum = struct.unpack("!HHHH", packet[ihl:ihl + 8])
            if (sport, dport, ulen, csum) != (pair.udp_remote_port, pair.udp_local_port,
                                              len(packet) - ihl, 0):
                errors.append("%s: UDP header %r" % (where, (sport, dport, ulen, csum)))
        elif packet[9] != PROTO_ESP:
            errors.append("%s: not raw ESP" % where)
        if (ip_str(packet[12:16]), ip_str(packet[16:20])) != (test["client"], test["dvipa"]):
            errors.append("%s: outer addresses" % where)
        inbound, outbound = target_view(pair)
        clear = inbound.decrypt(IP(strip_udp(packet)))
        inner = clear.original if pair.mode == "tunnel" else raw(clear)
        if inner[:len(syn_inner)] != syn_inner:
            errors.append("%s: scapy opens our SYN to different bytes" % where)
        esp = strip_udp(packet)[ihl:]
        payload = vc.esp_open(pair.aead, bytes.fromhex(pair.in_key), esp, seq, False)
        data, _, next_header = vc.split_trailer(payload)
        want = (syn_inner, 4) if pair.mode == "tunnel" else (syn_inner[20:], PROTO_TCP)
        if (data, next_header) != want:
            errors.append("%s: cryptography opens our SYN to different bytes" % where)
        # A target's SYN-ACK, sealed by scapy as the target would, through our checker.
        synack = raw(IP(src=pair.dvipa, dst=pair.client_addr, flags="DF") /
                     TCP(sport=pair.port, dport=40000, seq=1000, ack=flow.isn + 1, flags="SA"))
        reply = bytearray(raw(outbound.encrypt(IP(synack))))
        if pair.encap == "udp":
            struct.pack_into("!HH", reply, ihl + 4, len(reply) - ihl, 0)
        got, problems = open_reply(by_spi, bytes(reply), test["client"], test["dvipa"])
        if problems or got is None or got.flags != TCP_SYN | TCP_ACK or got.ack != flow.isn + 1:
            errors.append("%s: a good SYN-ACK is not accepted: %r" % (where, problems))
        negatives = [("ICV bit", bytes(reply[:-1]) + bytes([reply[-1] ^ 1])),
                     ("ciphertext bit", bytes(reply[:-17]) + bytes([reply[-17] ^ 1]) +
                      bytes(reply[-16:]))]
        if pair.encap == "udp":
            negatives.append(("UDP length 8", bytes(reply[:24]) + b"\x00\x08" +
                              bytes(reply[26:])))
        wrong_port = raw(IP(src=pair.dvipa, dst=pair.client_addr) /
                         TCP(sport=pair.port + 100, dport=40000, flags="SA"))
        bad = bytearray(raw(outbound.encrypt(IP(wrong_port))))
        if pair.encap == "udp":
            struct.pack_into("!HH", bad, ihl + 4, len(bad) - ihl, 0)
        negatives.append(("reply from a port outside the SA", bytes(bad)))
        for label, packet_bad in negatives:
            _, problems = open_reply(by_spi, packet_bad, test["client"], test["dvipa"])
            if not problems:
                errors.append("%s: checker accepts a reply with a bad %s" % (where, label))
        # Scenario 4's corrupted bit must land in the TCP payload, 41st byte, nothing else.
        line = b"again 1 ".ljust(64, b"x") + b"\n"
        data, _ = pair.seal(flow.segment(TCP_PSH | TCP_ACK, line))
        bad = bytearray(data)
        bad[flip_offset(data, pair)] ^= 0x01
        esp_at = 20 + (8 if pair.encap == "udp" else 0)
        before = keystream_open(pair.aead, bytes.fromhex(pair.in_key), data[esp_at:], 1500)
        after = keystream_open(pair.aead, bytes.fromhex(pair.in_key), bytes(bad[esp_at:]), 1500)
        headers = (20 if pair.mode == "tunnel" else 0) + 20
        diff = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        if diff != [headers + 40] or before[headers:headers + len(line)] != line:
            errors.append("%s: the corrupted bit is at plaintext byte(s) %r, want %d" %
                          (where, diff, headers + 40))
        print("  %-32s in 0x%08x out 0x%08x seq %d: round trip ok%s" % (
            where, pair.in_spi, pair.out_spi, seq,
            "" if not [e for e in errors if e.startswith(where)] else " -- ERRORS"))
    for e in errors:
        print("SELFTEST ERROR: %s" % e)
    print("selftest %s (%d SA pairs)" % ("failed" if errors else "ok", len(pairs)))
    return 1 if errors else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="all scenarios (inside the client namespace)")
    run.add_argument("test", help="test.json from gen_config.py")
    run.add_argument("--iface", default="dvc0")
    run.add_argument("--summary", required=True, help="TSV file the rows are appended to")
    run.add_argument("--flows", type=int, default=40, help="flows of scenario 2")
    run.add_argument("--flows-sa", default="aes128gcm16/transport/raw",
                     help="SA pair of scenario 2")
    run.add_argument("--plain", type=int, default=4, help="connections of scenario 5")
    run.add_argument("--exact-split", action="store_true",
                     help="scenario 2 fails unless the split matches the weights exactly")
    run.add_argument("--seq-warn", action="store_true",
                     help="esp-seq problems are warnings, not failures")
    st = sub.add_parser("selftest", help="no network: scapy round trip and checker self-check")
    st.add_argument("test")
    args = parser.parse_args(argv)
    with open(args.test, encoding="utf-8") as f:
        test = json.load(f)
    if args.command == "selftest":
        return selftest(test)
    return Run(args, test).run()


if __name__ == "__main__":
    sys.exit(main())
