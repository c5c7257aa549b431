#!/usr/bin/python3
"""SA distribution scenarios of the namespace test (issue 4), run inside the client namespace.

The router is the one source of SA truth: the targets start without SAs, and everything they hold
arrives over the control channel (snapshot on join, then SA_ADD / SA_DEL / LIFESIZE_LIMIT). These
rows check that from the outside, through telemetry (telemetry.py) and ESP traffic (esp_wire.py),
and append one row each to the summary, like esp_client.py:

  sa-dist    every target's /dvipsec/sa lists exactly the router's SAs, (SPI, direction) in the
             same slots; each target took one snapshot and installed every SA from the channel
             (sa_adds = SAs); /dvipsec/dist: both targets joined, acked_generation = generation
  sa-reload  before: the "reload" pair's SPI is unknown_spi at the router and the pair to be
             removed is answered. The router's config is replaced by router-reload.json (that
             pair out of the middle of static_sas, the new pair at the end) and the router gets
             SIGHUP: within 1 s both targets hold the new SPIs and not the removed ones; every
             other SA keeps its slot (nothing else was re-sent: sa_adds +2, sa_dels +2 per
             target); the new pair is answered end to end; the removed pair's SPI is unknown_spi;
             fanout_samples +4 (2 deletes, 2 adds), p50/p99 in the row
  lifesize   life_soft (inbound soft 20000 / hard 2000000 bytes), 4 connections: while data
             flows the router's sum never exceeds the targets' own counters and trails them by at
             most one report threshold per target (a target reports when its bytes since the last
             report reach the threshold, and within REPORT_MS = 1 s whatever it counted); once the
             traffic stops the sum equals the counters within ~1 s; the soft limit raises one
             rekey event. life_hard (inbound soft 3000 / hard 6000): data until the router stops
             forwarding it: hard_expired +1, the SA gone from the router and both targets, a
             further packet unknown_spi, and the serving target's counter (the TCP segments it
             decrypted, cross-checked against its telemetry) passed hard_bytes by at most the
             packet that crossed it

For the driver's rows (fastpath_netns.sh):
  sa-check          (failover) a target holds exactly the router's SAs, from N snapshots
  restart-snapshot  before the router's SIGTERM: its SAs and generation, the targets' snapshot
                    counts, and the highest outbound sequence number each SA has taken from the CF
  restart-check     the router-restart row, after the router came back: both targets rejoined
                    and took one more snapshot; the router holds its config's static SAs (the
                    hard-expired one is back: static SAs are installed from the file) under a
                    higher generation and the targets the same; the trusted links up and healthy
                    again (the targets restart their memif ports: link_restarts); 8 new kernel TCP
                    connections answered through both targets; ESP on every table pair answered,
                    each reply's sequence number above what the SA used before the restart (no IV
                    twice under a key)

Usage: dist_client.py run TEST_JSON --iface dvc0 --summary FILE --router-pid PID
           --router-config PATH --reload-config PATH --router-log PATH
       dist_client.py sa-check TEST_JSON --target t1 [--snapshots N]
       dist_client.py restart-snapshot TEST_JSON --out FILE
       dist_client.py restart-check TEST_JSON --iface dvc0 --summary FILE --before FILE
           --router-config PATH --note TEXT [--driver-ok 0|1]
"""

import argparse
import json
import os
import signal
import socket
import sys
import time

import telemetry as tm
from esp_client import read_log
from esp_wire import REPLY_TIMEOUT, TCP_ACK, TCP_PSH, Client, now

RELOAD_DEADLINE = 1.0  # s: both targets hold the reloaded SAs (issue 4)
REPORT_S = 1.0  # tgt_ctl.c REPORT_MS: a target reports whatever it counted at least this often
SPORT_BASE = 23001
TCP_HEADER = 20  # our segments carry no options after the SYN
SYN_LEN = 24  # SYN with the MSS option (esp_wire.Flow.segment)
SEQ_GAP = 1000  # our first ESP sequence number above the router's authenticated top


class Dist:
    """Telemetry of the router and the targets, as the distribution rows read it."""

    def __init__(self, test: dict):
        self.test = test
        self.router = test["router_prefix"]
        self.targets = {t["name"]: t["prefix"] for t in test["targets"]}

    @staticmethod
    def sas(prefix: str) -> dict:
        """{(spi, dir): row} of a process's /dvipsec/sa (SPIs as integers)."""
        return {(int(r["spi"], 16), r["dir"]): r for r in tm.rows(tm.query(prefix, tm.SA_LIST))}

    def slot_map(self, prefix: str) -> dict:
        """{(spi, dir): slot}."""
        return {k: r["slot"] for k, r in self.sas(prefix).items()}

    def dist(self) -> tuple:
        """(totals, per-target rows) of the router's /dvipsec/dist."""
        value = tm.query(self.router, tm.DIST)
        return {k: v for k, v in value.items() if not isinstance(v, list)}, tm.rows(value)

    def lifesize(self, spi: int) -> dict:
        """The router's /dvipsec/lifesize row of one SA, or None."""
        for r in tm.rows(tm.query(self.router, tm.LIFESIZE)):
            if int(r["spi"], 16) == spi:
                return r
        return None

    def stats(self, name: str) -> dict:
        """A target's /dvipsec/target/stats."""
        return tm.query(self.targets[name], tm.TARGET_STATS)

    def router_drop(self, reason: str) -> int:
        """One router drop counter."""
        return tm.counter(tm.flatten(tm.query(self.router, tm.ROUTER_DROPS)), reason)

    def settled(self, timeout: float) -> list:
        """The mismatches left once the targets had up to timeout to catch up."""
        if poll(timeout, lambda: not self.mismatches()):
            return []
        return self.mismatches()

    def mismatches(self) -> list:
        """How each target's SA list differs from the router's (empty: identical)."""
        want = self.slot_map(self.router)
        problems = []
        for name, prefix in self.targets.items():
            have = self.slot_map(prefix)
            for key in sorted(set(want) | set(have)):
                if want.get(key) != have.get(key):
                    problems.append("%s: SPI 0x%08x %s: router slot %s, target slot %s" % (
                        name, key[0], key[1], want.get(key), have.get(key)))
        return problems


def poll(timeout: float, check, interval: float = 0.02):
    """check() until it returns something true or timeout passes; returns its last value."""
    deadline = now() + timeout
    while True:
        try:
            value = check()
        except tm.TelemetryError:
            value = None
        if value or now() >= deadline:
            return value
        time.sleep(interval)


def row(summary: str, scenario: str, ok: bool, figures: str, details=()) -> bool:
    """Print and append one summary row (details only on failure)."""
    result = "PASS" if ok else "FAIL"
    print("[%s] %s: %s" % (result, scenario, figures), flush=True)
    if not ok:
        for d in list(details)[:30]:
            print("    - %s" % d, flush=True)
    with open(summary, "a", encoding="utf-8") as f:
        f.write("%s\t%s\t%s\n" % (scenario, result, figures.replace("\t", " ")))
    return ok


class Traffic:
    """The client's flows on the extra pairs (and the table's), with the checks they share."""

    def __init__(self, test: dict, iface: str):
        self.test = test
        view = dict(test, pairs=test["pairs"] + list(test["extra"].values()))
        self.c = Client(view, iface)
        self.pair = {p.name: p for p in self.c.pairs}
        self.extra = {role: self.pair[p["name"]] for role, p in test["extra"].items()}
        self.logs = {t["name"]: t["listener_log"] for t in test["targets"]}
        self.sport = SPORT_BASE
        # A new process: scapy's SAs start at sequence number 1 again, which the replay windows
        # have seen from esp_client.py; go on above what the router has authenticated.
        tops = {}
        try:
            for r in tm.rows(tm.query(test["router_prefix"], tm.SA_LIST)):
                if r["dir"] == "in":
                    tops[int(r["spi"], 16)] = r["authenticated_top"]
        except tm.TelemetryError:
            pass
        for p in self.c.pairs:
            p.tx.seq_num = tops.get(p.in_spi, 0) + SEQ_GAP

    def flow(self, pair, tag: str):
        """A new flow on pair (fresh source port)."""
        self.sport += 1
        return self.c.flow(pair, self.sport, tag)

    def connect(self, flows: list) -> list:
        """Handshake every flow (one SYN retransmission); returns the problems."""
        for f in flows:
            f.syn()
        ok = self.c.pump(REPLY_TIMEOUT, lambda: all(f.rcv_nxt is not None for f in flows))
        if not ok:
            for f in flows:
                if f.rcv_nxt is None:
                    f.syn()
            self.c.pump(REPLY_TIMEOUT, lambda: all(f.rcv_nxt is not None for f in flows))
        problems = ["%s %s: no SYN-ACK (segments: %s)" % (f.pair.label(), f.tag,
                                                          " ".join(f.trace) or "none")
                    for f in flows if f.rcv_nxt is None]
        for f in flows:
            if f.rcv_nxt is not None:
                f.send("ack", TCP_ACK)
        return problems

    def line(self, f, text: str, timeout: float = REPLY_TIMEOUT):
        """Send one line; the answering target's name or None."""
        f.send("data", TCP_PSH | TCP_ACK, (text + "\n").encode())
        self.c.pump(timeout, lambda: f.answered(text) or f.rst)
        return f.answered(text)

    def served(self, name: str, f, text: str) -> bool:
        """The target's listener logged this line from this flow exactly once."""
        peer = "%s:%d" % (f.pair.client_addr, f.sport)
        return sum(1 for e in read_log(self.logs[name]) if e.get("peer") == peer and
                   e.get("event") == "line" and e.get("line") == text) == 1

    def end_to_end(self, pair, tag: str) -> tuple:
        """(target name or None, problems): handshake and one line on a new flow."""
        f = self.flow(pair, tag)
        problems = self.connect([f])
        if problems:
            return None, problems
        text = "%s %d" % (tag, f.sport)
        name = self.line(f, text)
        if name is None:
            return None, ["%s %s: no answer to %r (segments: %s)" % (
                pair.label(), tag, text, " ".join(f.trace))]
        if name not in self.logs or not self.served(name, f, text):
            return name, ["%s %s: %s's listener log does not show %r" % (pair.label(), tag,
                                                                         name, text)]
        return name, []

    def unknown_spi(self, d: Dist, pair, tag: str) -> tuple:
        """(router unknown_spi delta, replies) for one SYN on pair."""
        before = d.router_drop("unknown_spi")
        f = self.flow(pair, tag)
        f.syn()
        self.c.pump(0.5)
        return d.router_drop("unknown_spi") - before, f.replies


def sa_dist(d: Dist, summary: str) -> bool:
    """Targets hold exactly the router's SAs, all from one snapshot; the router sees them synced."""
    details = []
    details += d.settled(2.0)
    router = d.slot_map(d.router)
    snaps, adds = {}, {}
    for name in d.targets:
        st = d.stats(name)
        snaps[name], adds[name] = st["sa_snapshots"], st["sa_adds"]
        if st["sa_snapshots"] != 1:
            details.append("%s: sa_snapshots %d, want 1" % (name, st["sa_snapshots"]))
        if st["sa_adds"] != len(router):
            details.append("%s: sa_adds %d, want %d (every SA from the channel, once)" % (
                name, st["sa_adds"], len(router)))
    if d.test.get("target_static_sas"):
        details.append("the targets were given static_sas: this row proves nothing")

    def synced():
        totals, rows = d.dist()
        ok = all(r["joined"] == 1 and r["acked_generation"] == totals["generation"] for r in rows)
        return (totals, rows) if ok else None
    got = poll(2.0, synced)
    totals, rows = got if got else d.dist()
    joined = ",".join(str(r["joined"]) for r in rows)
    acked = [r["acked_generation"] for r in rows]
    if not got:
        details.append("dist: joined %s, acked_generation %s, generation %d" % (
            joined, acked, totals["generation"]))
    slots = sorted(router.values())
    figures = ("router %d SAs in slots %d-%d; %s hold the same (SPI, dir, slot); sa_snapshots %s; "
               "sa_adds %s; dist joined %s, acked_generation = generation %s" % (
                   len(router), slots[0] if slots else -1, slots[-1] if slots else -1,
                   ", ".join(d.targets), ",".join(str(snaps[n]) for n in d.targets),
                   ",".join(str(adds[n]) for n in d.targets), joined,
                   "yes" if got else "NO (%s vs %d)" % (acked, totals["generation"])))
    return row(summary, "sa-dist", not details, figures, details)


def sa_reload(d: Dist, tr: Traffic, args, summary: str) -> bool:
    """SIGHUP with one pair removed and one added."""
    details = []
    new = tr.extra["reload"]
    gone = tr.pair[d.test["reload_removed"]]
    spis_new = {(new.in_spi, "in"), (new.out_spi, "out")}
    spis_gone = {(gone.in_spi, "in"), (gone.out_spi, "out")}
    # before: the new SPI is unknown, the removed pair works
    unknown, replies = tr.unknown_spi(d, new, "before")
    if unknown != 1 or replies:
        details.append("before the reload: SYN on %s: unknown_spi +%d, %d replies (want +1, 0)"
                       % (new.label(), unknown, replies))
    _, problems = tr.end_to_end(gone, "before")
    details += ["before the reload: %s" % p for p in problems]

    before = d.slot_map(d.router)
    totals0, _ = d.dist()
    st0 = {n: d.stats(n) for n in d.targets}
    with open(args.reload_config, encoding="utf-8") as f:
        text = f.read()
    tmp = args.router_config + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, args.router_config)
    t0 = now()
    os.kill(args.router_pid, signal.SIGHUP)

    def arrived():
        maps = [d.slot_map(p) for p in d.targets.values()]
        return all(spis_new <= set(m) and not spis_gone & set(m) for m in maps)
    ok = poll(3.0, arrived, 0.005)
    ms = (now() - t0) * 1000
    if not ok:
        details.append("targets did not show the new SPIs without the removed ones in 3 s")
    elif ms > RELOAD_DEADLINE * 1000:
        details.append("targets showed the change after %.0f ms (want <= %.0f)" %
                       (ms, RELOAD_DEADLINE * 1000))
    after = d.slot_map(d.router)
    moved = ["SPI 0x%08x %s: slot %d -> %s" % (k[0], k[1], s, after.get(k))
             for k, s in before.items() if k not in spis_gone and after.get(k) != s]
    if moved:
        details.append("SAs the reload did not change moved or vanished: %s" % "; ".join(moved))
    if set(after) != (set(before) - spis_gone) | spis_new:
        details.append("router SAs after the reload: %d, want %d" % (
            len(after), len(before) - 2 + 2))
    details += d.settled(1.0)
    for n in d.targets:
        st = d.stats(n)
        churn = (st["sa_adds"] - st0[n]["sa_adds"], st["sa_dels"] - st0[n]["sa_dels"])
        if churn != (2, 2):
            details.append("%s: sa_adds +%d, sa_dels +%d (want +2, +2: nothing else re-sent)" %
                           ((n,) + churn))
    log = poll(2.0, lambda: [ln.strip() for ln in open(args.router_log, encoding="utf-8",
                                                         errors="replace")
                             if "reload:" in ln])
    reload_line = log[-1] if log else "no reload: line in the router's output"
    if "2 added, 2 removed, 0 failed" not in reload_line:
        details.append("router: %s" % reload_line)
    # after: the new pair end to end, the removed one unknown
    name, problems = tr.end_to_end(new, "after")
    details += ["after the reload: %s" % p for p in problems]
    unknown, replies = tr.unknown_spi(d, gone, "after")
    if unknown != 1 or replies:
        details.append("after the reload: SYN on removed %s: unknown_spi +%d, %d replies" % (
            gone.label(), unknown, replies))
    def timed():
        dist = d.dist()
        return dist if dist[0]["fanout_samples"] >= totals0["fanout_samples"] + 4 else None
    totals, _ = poll(2.0, timed) or d.dist()
    grew = totals["fanout_samples"] - totals0["fanout_samples"]
    if grew != 4:
        details.append("fanout_samples +%d, want +4 (2 deletes, 2 adds)" % grew)
    figures = ("SIGHUP: %s out of the middle, %s in: both targets within %.0f ms, %d SAs kept "
               "their slots; new pair answered by %s, removed SPI unknown_spi +%d; "
               "fanout_samples +%d, fan-out p50 %d us, p99 %d us (router: %s)" % (
                   gone.name, new.name, ms, len(before) - 2 - len(moved), name, unknown, grew,
                   totals["fanout_p50_us"], totals["fanout_p99_us"],
                   reload_line.split("reload: ", 1)[-1]))
    return row(summary, "sa-reload", not details, figures, details)


def target_bytes(d: Dist, spi: int) -> dict:
    """{target: (bytes, lifesize_threshold)} of one SA in each target's /dvipsec/sa."""
    out = {}
    for name, prefix in d.targets.items():
        r = d.sas(prefix).get((spi, "in"))
        out[name] = (r["bytes"], r["lifesize_threshold"]) if r else (0, 0)
    return out


def lifesize_soft(d: Dist, tr: Traffic, details: list) -> str:
    """Many kilobytes on life_soft: the router's sum against the targets' counters."""
    pair = tr.extra["life_soft"]
    flows = [tr.flow(pair, "soft %d" % i) for i in range(4)]
    details += tr.connect(flows)
    flows = [f for f in flows if f.rcv_nxt is not None]
    ev0 = d.dist()[0]["rekey_events"]
    soft = pair.in_lifetime["soft_bytes"]
    worst = 0
    samples = 0
    served = {}
    for n in range(60):
        for f in flows:
            text = ("soft %d %d " % (f.sport, n)).ljust(1000, "s")
            name = tr.line(f, text)
            if name is None:
                details.append("%s %s: line %d not answered" % (pair.label(), f.tag, n))
                return "life_soft: traffic failed"
            served[name] = served.get(name, 0) + 1
        tr.c.pump(0.02)  # our ACKs counted
        # the router first: its sum can only trail what the targets count afterwards
        life = d.lifesize(pair.in_spi)
        counters = target_bytes(d, pair.in_spi)
        lag = sum(b for b, _ in counters.values()) - life["bytes"]
        bound = sum(max(t, life["threshold"]) for _, t in counters.values())
        samples += 1
        worst = max(worst, lag)
        if lag < 0 or lag > bound:
            details.append("life_soft: router sum %d, targets %r: lag %d outside 0..%d" % (
                life["bytes"], counters, lag, bound))
        if life["bytes"] >= soft + 2 * life["threshold"]:
            break
    def equal():
        return d.lifesize(pair.in_spi)["bytes"] == sum(
            b for b, _ in target_bytes(d, pair.in_spi).values())
    t0 = now()
    converged = poll(REPORT_S + 1.0, equal, 0.05)
    settle = now() - t0
    counters = target_bytes(d, pair.in_spi)
    life = d.lifesize(pair.in_spi)
    if not converged:
        details.append("life_soft: %.1f s after the traffic the router's sum %d != the targets' "
                       "%r" % (settle, life["bytes"], counters))
    ev = d.dist()[0]["rekey_events"] - ev0
    if life["soft_reached"] != 1 or ev != 1:
        details.append("life_soft: soft_reached %d, rekey_events +%d at %d bytes (soft %d)" % (
            life["soft_reached"], ev, life["bytes"], soft))
    return ("life_soft: %d B on %d connections (%s), router sum trailed the targets' counters by "
            "<= %d B over %d samples (bound: one report threshold per target, %d x %d B), equal "
            "%.1f s after the traffic; soft %d -> rekey_events +%d" % (
                life["bytes"], len(flows), ", ".join("%s %d" % kv for kv in sorted(
                    served.items())), worst, samples, len(d.targets), life["threshold"], settle,
                soft, ev))


def lifesize_hard(d: Dist, tr: Traffic, details: list) -> str:
    """life_hard runs into its hard limit: deleted everywhere, never far past it."""
    pair = tr.extra["life_hard"]
    hard = pair.in_lifetime["hard_bytes"]
    hard0 = d.dist()[0]["hard_expired"]
    f = tr.flow(pair, "hard")
    problems = tr.connect([f])
    if problems:
        details += problems
        return "life_hard: no connection"
    # Our ACKs would be counted too, unseen: the replies stay unacknowledged until our next line
    # acknowledges them, so the target decrypts exactly the SYN, the ACK and each answered line.
    tr.c.auto_ack = False
    counted = SYN_LEN + TCP_HEADER
    checked = None  # (counted, telemetry) while the SA lived
    last = 0
    server = None
    lines = 0
    try:
        for n in range(200):
            text = "hard %d " % n
            text = text.ljust(80, "h")
            server = tr.line(f, text, 1.0) or None
            if server is None:
                break
            lines += 1
            last = TCP_HEADER + len(text) + 1
            counted += last
            time.sleep(0.01)
            bytes_now = target_bytes(d, pair.in_spi)[server][0]
            if bytes_now:
                checked = (counted, bytes_now)
                if bytes_now != counted:
                    details.append("life_hard: %s counts %d B, we had %d B decrypted" % (
                        server, bytes_now, counted))
    finally:
        tr.c.auto_ack = True
    if server is None and lines == 0:
        details.append("life_hard: no line answered")
    gone = poll(1.0, lambda: all((pair.in_spi, "in") not in d.sas(p)
                                 for p in [d.router] + list(d.targets.values())))
    if not gone:
        details.append("life_hard: SPI 0x%08x still listed somewhere 1 s after the last answer"
                       % pair.in_spi)
    expired = d.dist()[0]["hard_expired"] - hard0
    if expired != 1:
        details.append("life_hard: hard_expired +%d, want +1" % expired)
    if counted - last >= hard:
        details.append("life_hard: the target decrypted %d B: %d past hard %d before the last "
                       "packet (%d B)" % (counted, counted - hard, hard, last))
    unknown, replies = tr.unknown_spi(d, pair, "expired")
    if unknown != 1 or replies:
        details.append("life_hard: SYN after expiry: unknown_spi +%d, %d replies" % (
            unknown, replies))
    return ("life_hard: %d lines, then not forwarded; the target decrypted %d B (hard %d, last "
            "packet %d B; telemetry agreed up to %s B); hard_expired +%d, gone from router and "
            "targets; next SYN unknown_spi +%d" % (
                lines, counted, hard, last, checked[1] if checked else "?", expired, unknown))


def lifesize(d: Dist, tr: Traffic, summary: str) -> bool:
    """Both lifetime pairs."""
    details = []
    figures = lifesize_soft(d, tr, details) + "; " + lifesize_hard(d, tr, details)
    return row(summary, "lifesize", not details, figures, details)


def conn_end(d: Dist, tr: Traffic, summary: str) -> bool:
    """The application closes a connection (server-side FIN): its target tells the router
    (CONN_END), whose table moves the entry to closing without any FIN from the client."""
    details = []
    pair = next(tr.pair[p["name"]] for p in tr.test["pairs"]
                if p["name"] != tr.test["reload_removed"] and p["mode"] == "tunnel")
    f = tr.flow(pair, "conn-end")
    details += tr.connect([f])

    def state():
        for e in tm.dct_entries(tm.query(d.router, tm.DCT_QUERY)):
            if e["sport"] == f.sport and e["dport"] == pair.port:
                return e["state"]
        return None
    before = state()
    sent = {n: d.stats(n).get("conn_ends_sent", 0) for n in d.targets}
    name = tr.line(f, "close %d" % f.sport) if not details else None
    if name is None:
        details.append("no answer to the close line")
    closing = poll(2.0, lambda: state() == "closing", 0.05)
    after = {n: d.stats(n).get("conn_ends_sent", 0) for n in d.targets}
    if before != "open":
        details.append("entry state before the close: %r" % before)
    if not closing:
        details.append("entry not closing 2 s after the server's FIN (state %r)" % state())
    if name in after and after[name] <= sent[name]:
        details.append("%s sent no CONN_END" % name)
    return row(summary, "conn-end", not details,
               "%s: server on %s closed; its CONN_END moved the router's entry open -> closing "
               "(no FIN from the client)" % (pair.label(), name), details)


def cmd_run(args, test: dict) -> int:
    """The rows."""
    d = Dist(test)
    tr = Traffic(test, args.iface)
    if tr.c.arp(REPLY_TIMEOUT) is None:
        row(args.summary, "sa-dist", False, "no ARP answer for the DVIPA")
        return 1
    results = []
    for scenario in (lambda: sa_dist(d, args.summary),
                     lambda: sa_reload(d, tr, args, args.summary),
                     lambda: lifesize(d, tr, args.summary),
                     lambda: conn_end(d, tr, args.summary)):
        try:
            results.append(scenario())
        except (tm.TelemetryError, KeyError, TypeError, OSError) as err:
            results.append(row(args.summary, "dist", False, "error: %r" % err))
    return 0 if all(results) else 1


def cmd_sa_check(args, test: dict) -> int:
    """One target holds exactly the router's SAs, from N snapshots."""
    d = Dist(test)
    problems = d.settled(2.0)
    st = d.stats(args.target)
    n = len(d.slot_map(d.router))
    if args.snapshots is not None and st["sa_snapshots"] != args.snapshots:
        problems.append("%s sa_snapshots %d, want %d" % (args.target, st["sa_snapshots"],
                                                         args.snapshots))
    print("%s holds the router's %d SAs (sa_snapshots %d)%s" % (
        args.target, n, st["sa_snapshots"], "" if not problems else ": " + "; ".join(problems)))
    return 1 if problems else 0


def outbound_seqs(d: Dist) -> dict:
    """{out SPI: highest sequence number taken from the CF} over the targets."""
    seqs = {}
    for prefix in d.targets.values():
        for (spi, direction), r in d.sas(prefix).items():
            if direction == "out":
                seqs[spi] = max(seqs.get(spi, 0), r["seq"])
    return seqs


def cmd_restart_snapshot(args, test: dict) -> int:
    """What the router-restart row compares with: SAs, generations, snapshots, CF numbers."""
    d = Dist(test)
    state = {"slots": [[k[0], k[1], s] for k, s in d.slot_map(d.router).items()],
             "generation": d.dist()[0]["generation"],
             "snapshots": {n: d.stats(n)["sa_snapshots"] for n in d.targets},
             "seqs": {str(k): v for k, v in outbound_seqs(d).items()},
             "tops": {str(int(r["spi"], 16)): r["authenticated_top"]
                      for r in tm.rows(tm.query(test["router_prefix"], tm.SA_LIST))
                      if r["dir"] == "in"}}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(state, f)
    return 0


def plain_split(test: dict, count: int) -> tuple:
    """({target: connections}, problems) of count kernel TCP connections to the plain port
    (stops at the first that fails)."""
    split, problems = {}, []
    for i in range(count):
        try:
            with socket.create_connection((test["dvipa"], test["plain_port"]), timeout=2) as s:
                s.sendall(b"restart %d\n" % i)
                name = s.recv(200).decode(errors="replace").split()[0]
                split[name] = split.get(name, 0) + 1
        except (OSError, IndexError) as err:
            problems.append("plain connection %d: %s" % (i, err))
            break
    return split, problems


def config_sas(path: str) -> set:
    """{(spi, dir)} of a router config's static_sas."""
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    return {(int(sa["spi"], 0), "in" if sa["direction"] == "inbound" else "out")
            for sa in cfg["static_sas"]}


def cmd_restart_check(args, test: dict) -> int:
    """After the router came back: rejoined, resynced, traffic through both targets, and no
    outbound sequence number used twice under a key."""
    d = Dist(test)
    with open(args.before, encoding="utf-8") as f:
        before = json.load(f)
    details = [] if args.driver_ok else ["see the driver's note"]

    def rejoined():
        _, rows = d.dist()
        return all(r["joined"] == 1 for r in rows) and \
            all(d.stats(n)["control_joined"] == 1 for n in d.targets)
    t0 = now()
    if not poll(10.0, rejoined, 0.05):
        details.append("targets not rejoined within 10 s")
    rejoin_s = now() - t0
    details += d.settled(2.0)
    after = d.slot_map(d.router)
    was = {(s[0], s[1]): s[2] for s in before["slots"]}
    # the restarted router installs its file's static_sas, the hard-expired one too
    configured = config_sas(args.router_config)
    if set(after) != configured:
        details.append("router SAs after the restart: %d, its config has %d" % (
            len(after), len(configured)))
    back = len(set(after) - set(was))
    moved = sum(1 for k in after if k in was and after[k] != was[k])
    totals, _ = d.dist()
    if totals["generation"] <= before["generation"]:
        details.append("generation %d not above the old router's %d" % (
            totals["generation"], before["generation"]))
    snaps = {n: d.stats(n)["sa_snapshots"] for n in d.targets}
    for n in d.targets:
        if snaps[n] != before["snapshots"][n] + 1:
            details.append("%s: sa_snapshots %d, want %d" % (n, snaps[n],
                                                             before["snapshots"][n] + 1))
    def linked():
        return all(t["link_up"] == 1 and t["healthy"] == 1 for t in
                   tm.target_list(tm.query(d.router, tm.TARGETS)))
    t0 = now()
    if not poll(5.0, linked, 0.05):
        details.append("trusted links not up and healthy within 5 s: %r" %
                       tm.target_list(tm.query(d.router, tm.TARGETS)))
    link_s = now() - t0
    restarts = {n: d.stats(n).get("link_restarts") for n in d.targets}
    split, problems = plain_split(test, 8)
    if len(split) != len(d.targets) or problems:
        details.append("8 new plain connections: %r %s" % (split, "; ".join(problems)))
    # ESP on pairs used before the restart: answered, replies above the old CF numbers
    tr = Traffic(test, args.iface)
    # a number authenticated before the restart is a replay after it (the CF kept the mark)
    replayed = "none tried"
    for p in test["pairs"]:
        top = before.get("tops", {}).get(str(p["in_spi"]), 0)
        if p["name"] == test["reload_removed"] or top == 0:
            continue
        pair = tr.pair[p["name"]]
        resume = pair.tx.seq_num
        pair.tx.seq_num = top
        drops = d.router_drop("replay_duplicate")
        f = tr.flow(pair, "replay")
        f.syn()
        tr.c.pump(0.5)
        delta = d.router_drop("replay_duplicate") - drops
        pair.tx.seq_num = resume
        replayed = "%s seq %d: router replay_duplicate +%d" % (pair.label(), top, delta)
        if delta != 1 or f.replies:
            details.append("replay of seq %d (authenticated before the restart) on %s: "
                           "replay_duplicate +%d, %d replies" % (top, pair.label(), delta,
                                                                 f.replies))
        break
    esp = []
    for p in test["pairs"]:
        if p["name"] == test["reload_removed"] or str(p["out_spi"]) not in before["seqs"]:
            continue
        if len(esp) >= 2 and not any(e.split()[1] != "None" for e in esp):
            details.append("ESP: no pair answered; the others not tried")
            break
        pair = tr.pair[p["name"]]
        name, problems = tr.end_to_end(pair, "restart")
        details += problems
        old = before["seqs"][str(pair.out_spi)]
        if pair.rx_seqs and min(pair.rx_seqs) <= old:
            details.append("%s: reply ESP seq %d after the restart, but %d were used before: "
                           "an IV used twice under one key" % (pair.label(), min(pair.rx_seqs),
                                                               old))
        esp.append("%s %s" % (pair.name.split("/")[0][:6], name))
    figures = ("%s; rejoined in %.1f s, sa_snapshots %s, the config's %d SAs (%d back, %d in "
               "other slots), generation up; links up in %.1f s (link_restarts %s); 8 plain "
               "connections %s; ESP on %d pairs answered, sequence numbers continue; replay after "
               "the restart: %s" % (
                   args.note, rejoin_s, ",".join(str(snaps[n]) for n in d.targets), len(after),
                   back, moved, link_s, ",".join(str(restarts[n]) for n in d.targets),
                   " / ".join("%s %d" % kv for kv in sorted(split.items())), len(esp),
                   replayed))
    ok = row(args.summary, "router-restart", not details, figures, details)
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="sa-dist, sa-reload, lifesize (client namespace)")
    run.add_argument("test")
    run.add_argument("--iface", default="dvc0")
    run.add_argument("--summary", required=True)
    run.add_argument("--router-pid", type=int, required=True)
    run.add_argument("--router-config", required=True)
    run.add_argument("--reload-config", required=True)
    run.add_argument("--router-log", required=True, help="the router's stdout")
    chk = sub.add_parser("sa-check", help="a target holds exactly the router's SAs")
    chk.add_argument("test")
    chk.add_argument("--target", required=True)
    chk.add_argument("--snapshots", type=int)
    snap = sub.add_parser("restart-snapshot", help="state before a router restart")
    snap.add_argument("test")
    snap.add_argument("--out", required=True)
    rc = sub.add_parser("restart-check", help="the router-restart row (client namespace)")
    rc.add_argument("test")
    rc.add_argument("--iface", default="dvc0")
    rc.add_argument("--summary", required=True)
    rc.add_argument("--before", required=True)
    rc.add_argument("--router-config", required=True)
    rc.add_argument("--note", default="")
    rc.add_argument("--driver-ok", type=int, default=1)
    args = parser.parse_args(argv)
    with open(args.test, encoding="utf-8") as f:
        test = json.load(f)
    return {"run": cmd_run, "sa-check": cmd_sa_check, "restart-snapshot": cmd_restart_snapshot,
            "restart-check": cmd_restart_check}[args.command](args, test)


if __name__ == "__main__":
    sys.exit(main())
