#!/usr/bin/python3
"""The demo's telemetry side (scripts/demo.sh): when the tunnel has settled, and the summary of what
the client saw, what the appliance counted (DPDK telemetry, through
tests/integration/telemetry.py) and what strongSwan counted, for a person to read, with the demo's
pass/fail checks on those figures.

The tunnel is one IKE SA with one CHILD SA pair, or more: with a peer's sa_per_target (conf/
README.md) the router asks for one more pair per further target, so that each target sends on an
outbound SA of its own. Everything below works on whatever pairs charon and the router hold.

  pairs --router PFX --target t1=PFX --target t2=PFX --swanctl-raw FILE
      Exit 0 and print the pairs once charon's CHILD SAs (FILE: swanctl --list-sas --raw), the
      router's IKE SA, its SA table and both targets' agree and the router waits for no pair it
      asked for; exit 1 with what differs otherwise (the caller polls).
  summary --load LOAD.json --router PFX --target t1=PFX --target t2=PFX --swanctl-raw FILE
          --swanctl FILE [--esp-errors N --replay-refused N --nstat NAME=FILE... --extra-conns N]
      The summary; exit 1 (after printing) if a connection failed, a target served none, or a
      figure that must be non-zero is zero.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import telemetry  # noqa: E402  (tests/integration/telemetry.py)

IKE = "/dvipsec/ike"
# Non-zero drops that are part of normal operation, and why.
EXPECTED_DROPS = {
    "natt_keepalive": "charon's NAT-T keepalives (libipsec fakes a NAT)",
}
PER_LINE = 50


class Report:
    """Collects what failed."""

    def __init__(self):
        self.failures = []

    def need(self, ok: bool, what: str):
        if not ok:
            self.failures.append(what)


def size(n: float) -> str:
    if n < 1000:
        return "%d B" % n
    for unit in ("KB", "MB", "GB"):
        n /= 1000.0
        if n < 1000 or unit == "GB":
            return "%.1f %s" % (n, unit)
    return str(n)


def table(header: list, rows: list, indent: str = "    ") -> None:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        print(indent + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))).rstrip())


def get(prefix: str, command: str, quiet: bool = False):
    try:
        return telemetry.query(prefix, command)
    except telemetry.TelemetryError as err:
        if not quiet:
            print("    (telemetry %s %s: %s)" % (prefix, command, err))
        return None


def spi(text) -> str:
    return "0x%08x" % int(str(text), 16)


def charon_children(raw: str) -> list:
    """charon's CHILD SAs from swanctl --list-sas --raw: dicts with the appliance's view
    ("in" = charon's spi-out, "out" = charon's spi-in) and charon's counters."""
    children = []
    for block in re.findall(r"\{[^{}]*\bspi-in=[^{}]*\}", raw):
        fields = dict(re.findall(r"([a-z-]+)=(\S+)", block))
        if "spi-in" not in fields or "spi-out" not in fields:
            continue
        child = {"in": spi(fields["spi-out"]), "out": spi(fields["spi-in"])}
        for key in ("bytes-in", "bytes-out", "packets-in", "packets-out"):
            child[key] = int(fields.get(key, 0))
        children.append(child)
    return children


def by_spi(value) -> dict:
    """{spi: row} of a /dvipsec/sa or /dvipsec/lifesize reply."""
    return {spi(r["spi"]): r for r in telemetry.rows(value) if "spi" in r}


def target_names(router: str) -> dict:
    """{target id: name} from the router's /dvipsec/targets."""
    return {t.get("id"): t.get("name") for t in telemetry.rows(get(router, telemetry.TARGETS,
                                                                    quiet=True))}


def sender(row: dict, names: dict, pairs: int) -> str:
    """Who sends on an outbound SA (its out_target; 0 or no column: any target)."""
    tid = row.get("out_target", 0) if row else 0
    if not tid:
        return "every target" if pairs == 1 else "a target without its own"
    return names.get(tid, "target %s" % tid)


def cmd_pairs(args) -> int:
    with open(args.swanctl_raw, encoding="utf-8") as f:
        children = charon_children(f.read())
    if not children:
        print("charon lists no CHILD SA")
        return 1
    ike = get(args.router, IKE, quiet=True) or {}
    if ike.get("target_sas_asked", 0) != ike.get("target_sas_up", 0):
        print("the router waits for %d of the pairs it asked for" % (
            ike.get("target_sas_asked", 0) - ike.get("target_sas_up", 0)))
        return 1
    ike_sas = telemetry.rows(ike)
    if len(ike_sas) != 1 or ike_sas[0].get("children") != len(children):
        print("router's IKE SAs %s, charon's CHILD SAs %d" % (
            [(s.get("state"), s.get("children")) for s in ike_sas], len(children)))
        return 1
    want = {c[d] for c in children for d in ("in", "out")}
    for prefix in [args.router] + list(args.targets.values()):
        have = set(by_spi(get(prefix, telemetry.SA_LIST, quiet=True)))
        if have != want:
            print("%s holds SAs %s, charon's pairs are %s" % (prefix, sorted(have), sorted(want)))
            return 1
    sas = by_spi(get(args.router, telemetry.SA_LIST))
    names = target_names(args.router)
    for i, c in enumerate(children):
        print("  pair %d: in %s, out %s: %s; %s sends on it" % (
            i + 1, c["in"], c["out"], "the router asked for it" if i else "from IKE_AUTH",
            sender(sas.get(c["out"]), names, len(children))))
    if len(children) > 1:
        print("  (sa_per_target: the router's CREATE_CHILD_SA gives each target an outbound SA of")
        print("  its own; charon sends on whichever it likes, every target takes every inbound)")
    return 0


def section_client(rep: Report, load: dict, names: list) -> None:
    req, st = load["requests"], load["streams"]
    print("== what the client saw (HTTP, one TCP connection per request)")
    print("  %d connections, %d at a time, %.1f s: %d answered with the right content" % (
        req["conns"], req["parallel"], req["seconds"], req["ok"]))
    rows = []
    for name in names:
        t = req["by_target"].get(name, {"conns": 0, "up": 0, "down": 0})
        rows.append([name, t["conns"], size(t["up"]), size(t["down"])])
        rep.need(t["conns"] > 0, "%s served none of the %d connections" % (name, req["conns"]))
    table(["target", "connections", "uploaded", "downloaded"], rows)
    digits = {name: str(i + 1) for i, name in enumerate(names)}
    order = "".join(digits.get(t, "x") if t else "x" for t in req["order"])
    print("  which target answered each connection, in the order they were opened (%s, x ="
          % ", ".join("%s = %s" % (d, n) for n, d in digits.items()))
    print("  failed):")
    for i in range(0, len(order), PER_LINE):
        chunk = order[i:i + PER_LINE]
        print("    %4d  %s" % (i + 1, " ".join(chunk[j:j + 10] for j in range(0, len(chunk), 10))))
    for err in req["errors"][:10]:
        print("  FAILED %s" % err)
    rep.need(req["ok"] == req["conns"] and req["conns"] > 0,
             "%d of %d connections failed" % (req["conns"] - req["ok"], req["conns"]))
    if st["streams"] and st["seconds"]:
        down = sum(t["down"] for t in st["by_target"].values())
        spread = ", ".join("%s %d" % (n, st["by_target"].get(n, {}).get("conns", 0))
                           for n in names)
        print("  then %d streams for %.1f s, 1 MiB downloads one connection after another:" % (
            st["streams"], st["seconds"]))
        print("    %d connections (%s), %s, %.1f Mbit/s through the tunnel" % (
            st["conns"], spread, size(down), down * 8 / st["seconds"] / 1e6))
        for err in st["errors"][:10]:
            print("  FAILED stream: %s" % err)
        rep.need(st["ok"] == st["conns"],
                 "%d of %d stream connections failed" % (st["conns"] - st["ok"], st["conns"]))
    print()


def drops_line(value) -> str:
    counts = telemetry.flatten(value or {})
    nonzero = {k: v for k, v in sorted(counts.items()) if v and "." not in k}
    if not nonzero:
        return "none"
    return ", ".join("%s %d%s" % (k, v, " (%s)" % EXPECTED_DROPS[k] if k in EXPECTED_DROPS else "")
                     for k, v in nonzero.items())


def section_appliance(rep: Report, args, names: list, children: list) -> None:
    print("== what the appliance counted (DPDK telemetry)")
    stats = get(args.router, telemetry.ROUTER_STATS) or {}
    targets = telemetry.rows(get(args.router, telemetry.TARGETS))
    print("  router: %d frames in: %d ESP, %d IKE; to the targets %s;" % (
        stats.get("rx", 0), stats.get("esp", 0), stats.get("ike", 0),
        ", ".join("%s %d" % (t.get("name"), t.get("packets", 0)) for t in targets)))
    print("    %d of the targets' ESP packets forwarded to the client" % (
        stats.get("returned_to_peer", 0)))
    rep.need(stats.get("esp", 0) > 0, "the router saw no ESP")
    for t in targets:
        rep.need(t.get("packets", 0) > 0, "the router sent no packet to %s" % t.get("name"))
    dct = get(args.router, telemetry.DCT) or {}
    print("  router: %d new connections (the client opened %d); its connection table holds" % (
        stats.get("new_flows", 0), args.client_conns))
    print("    %d (%s; a closed connection leaves it 10 s after its FIN)" % (
        dct.get("entries", 0),
        ", ".join("%s %d" % (t.get("name"), t.get("flows", 0)) for t in targets)))

    sas = by_spi(get(args.router, telemetry.SA_LIST))
    life = by_spi(get(args.router, telemetry.LIFESIZE))
    ids = target_names(args.router)
    print("  the CHILD SA%s (router /dvipsec/sa; /dvipsec/lifesize: the targets' reports "
          "summed)" % ("" if len(children) == 1 else "s"))
    rows = []
    total = {"in": 0, "out": 0}
    for i, c in enumerate(children):
        for d in ("in", "out"):
            sa, lf = sas.get(c[d], {}), life.get(c[d], {})
            total[d] += lf.get("bytes", 0)
            rows.append(["%d %s" % (i + 1, d), c[d], sa.get("aead", "-"), sa.get("mode", "-"),
                         sa.get("encap", "-"),
                         "the client" if d == "in" else sender(sa, ids, len(children)),
                         lf.get("packets", 0), size(lf.get("bytes", 0))])
            rep.need(bool(sa), "the router does not hold the %s SA %s" % (d, c[d]))
    table(["pair", "spi", "aead", "mode", "encap", "sent by", "packets", "bytes"], rows)
    for d in ("in", "out"):
        rep.need(total[d] > 0, "lifesize: no bytes reported on any %s SA" % d)
    for c in children:
        top = sas.get(c["in"], {}).get("authenticated_top")
        if top:
            print("    the router's replay window on %s reaches %d: numbers the targets "
                  "authenticated" % (c["in"], top))

    print("  per target, over the pair%s (target /dvipsec/sa, /dvipsec/target/stats)" % (
        "" if len(children) == 1 else "s"))
    mine = {c[d]: d for c in children for d in ("in", "out")}
    rows = []
    tot = [0, 0, 0, 0]
    for name in names:
        vals = [0, 0, 0, 0]
        used = []
        for s, row in by_spi(get(args.targets[name], telemetry.SA_LIST)).items():
            d = mine.get(s)
            if d is None:
                continue
            k = 0 if d == "in" else 2
            vals[k] += row.get("packets", 0)
            vals[k + 1] += row.get("bytes", 0)
            if d == "out" and row.get("packets", 0):
                used.append(s)
        tot = [a + b for a, b in zip(tot, vals)]
        ts = get(args.targets[name], telemetry.TARGET_STATS) or {}
        rows.append([name, vals[0], size(vals[1]), vals[2], size(vals[3]),
                     ",".join(used) or "-", ts.get("to_tap", 0), ts.get("from_tap", 0)])
        rep.need(vals[0] > 0 and vals[2] > 0, "%s did not both decrypt and encrypt" % name)
    rows.append(["total", tot[0], size(tot[1]), tot[2], size(tot[3]), "", "", ""])
    table(["target", "in pkts", "in bytes", "out pkts", "out bytes", "sent on", "to TAP",
           "from TAP"], rows)

    print("  drops by reason (only non-zero ones)")
    print("    router: %s" % drops_line(get(args.router, telemetry.ROUTER_DROPS)))
    for name in names:
        print("    %s: %s" % (name, drops_line(get(args.targets[name], telemetry.TARGET_DROPS))))
    print()
    return sum(life.get(c["out"], {}).get("packets", 0) for c in children)


def section_ike(rep: Report, args) -> None:
    print("== IKEv2 (router /dvipsec/ike)")
    ike = get(args.router, IKE) or {}
    sas = telemetry.rows(ike)
    for sa in sas:
        print("  IKE SA with peer '%s': %s, SPIs %s / %s," % (
            sa.get("peer"), sa.get("state"), sa.get("spi_i"), sa.get("spi_r")))
        print("    NAT-T %s, %d CHILD SA pair%s" % (
            "yes (libipsec fakes a NAT: ESP in UDP 4500)" if sa.get("nat") else "no",
            sa.get("children", 0), "" if sa.get("children") == 1 else "s"))
    rep.need(any(sa.get("children", 0) >= 1 for sa in sas),
             "the router lists no IKE SA with a CHILD SA")
    counts = ["%s %d" % (k, v) for k, v in ike.items()
              if isinstance(v, int) and k != "enabled" and v]
    print("  counters:", end="")
    line = 12
    for i, c in enumerate(counts):
        if line + len(c) + 2 > 98:
            print("\n   ", end="")
            line = 4
        print(" %s%s" % (c, "," if i < len(counts) - 1 else ""), end="")
        line += len(c) + 2
    print()
    rep.need(ike.get("ike_sa_up", 0) >= 1 and ike.get("child_sa_up", 0) >= 1,
             "the router's engine counts no IKE SA or CHILD SA up")
    print()


def section_strongswan(rep: Report, args, children: list, sent: int) -> None:
    print("== strongSwan's view (swanctl --list-sas)")
    with open(args.swanctl, encoding="utf-8") as f:
        for line in f.read().rstrip().splitlines():
            print("  " + line)
    got = {k: sum(c[k] for c in children)
           for k in ("bytes-in", "bytes-out", "packets-in", "packets-out")}
    print("  charon (libipsec counts inner packets): sent %d packets (%s), received %d (%s)" % (
        got["packets-out"], size(got["bytes-out"]), got["packets-in"], size(got["bytes-in"])))
    rep.need(got["bytes-in"] > 0 and got["bytes-out"] > 0,
             "charon counts no bytes on its CHILD SAs")
    nstat = {}
    for item in args.nstat or []:
        name, _, path = item.partition("=")
        try:
            with open(path, encoding="utf-8") as f:
                nstat[name] = json.load(f)["kernel"]
        except (OSError, ValueError, KeyError) as err:
            print("  (nstat of %s: %s)" % (name, err))
    kernel = nstat.get("client", {})
    print("  the targets sent %d ESP packets to charon, it took %d:" % (sent, got["packets-in"]))
    print("    %d lost in charon's full UDP socket buffer (the client kernel's UdpRcvbufErrors),"
          % kernel.get("UdpRcvbufErrors", 0))
    if args.replay_refused and len(children) == 1:
        print("    %d refused by libipsec's replay check (the two targets share one outbound SA:"
              % args.replay_refused)
        print("    their packets arrive out of order beyond its fixed 128-packet window),")
    else:
        print("    %d refused by libipsec's replay check," % args.replay_refused)
    print("    %d other ESP errors; TCP recovered, segments retransmitted: %s" % (
        args.esp_errors - args.replay_refused,
        ", ".join("%s %d" % (n, k.get("TcpRetransSegs", 0)) for n, k in nstat.items())))
    print()


def cmd_summary(args) -> int:
    names = list(args.targets)
    with open(args.load, encoding="utf-8") as f:
        load = json.load(f)
    with open(args.swanctl_raw, encoding="utf-8") as f:
        children = charon_children(f.read())
    args.client_conns = (load["requests"]["conns"] + load["streams"]["conns"] +
                         args.extra_conns)
    rep = Report()
    rep.need(bool(children), "charon lists no CHILD SA")
    section_client(rep, load, names)
    sent = section_appliance(rep, args, names, children)
    section_ike(rep, args)
    section_strongswan(rep, args, children, sent)
    for what in rep.failures:
        print("CHECK FAILED: %s" % what)
    return 1 if rep.failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("pairs", "summary"):
        p = sub.add_parser(name)
        p.add_argument("--router", required=True)
        p.add_argument("--target", action="append", required=True, metavar="NAME=PREFIX")
        p.add_argument("--swanctl-raw", required=True)
    p = sub.choices["summary"]
    p.add_argument("--load", required=True)
    p.add_argument("--swanctl", required=True)
    p.add_argument("--esp-errors", type=int, default=0)
    p.add_argument("--replay-refused", type=int, default=0,
                   help="of those, refused by libipsec's replay check")
    p.add_argument("--nstat", action="append", metavar="NAME=FILE",
                   help="nstat --json of a namespace (client, t1, t2)")
    p.add_argument("--extra-conns", type=int, default=0,
                   help="TCP connections the client opened besides the load (curl)")
    args = parser.parse_args(argv)
    args.targets = dict(t.split("=", 1) for t in args.target)
    return cmd_pairs(args) if args.cmd == "pairs" else cmd_summary(args)


if __name__ == "__main__":
    sys.exit(main())
