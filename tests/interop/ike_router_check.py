#!/usr/bin/python3
"""Checks of tests/interop/ike_router.sh: the router's and the targets' telemetry against what
strongSwan says it negotiated (the TCP through the tunnel: tests/integration/tcp_load.py).

  sa PREFIX --in SPI --out SPI [--in SPI --out SPI ...] --aead NAME [--gone] [--timeout S]
      The process with EAL prefix PREFIX holds exactly these SA pairs (tunnel, ESP in UDP: one per
      target when the router asks for them), or with --gone no SA at all, within S seconds. A
      target prints its packets in and out summed over the pairs; it fails if the target sent on
      an outbound SA that is not its own (out_target = its id) when it has one, or not the shared
      one (out_target 0) when it has none.
  pair PREFIX... --in SPI --out SPI (--present | --absent) [--timeout S]
      Each process holds this SA pair among possibly others (or holds neither SA) within S seconds.
  ike PREFIX --spi-i HEX --spi-r HEX [--children N] [--gone | --refused] [--timeout S]
      /dvipsec/ike lists exactly this IKE SA, established, NAT seen, N CHILD SAs (or, --gone, none;
      --refused: only IKE SAs kept to repeat a refusal, without CHILD SAs).
  counters PREFIX NAME=VALUE...
      /dvipsec/ike counters equal these.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import telemetry  # noqa: E402  (tests/integration/telemetry.py)


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
    p = sub.add_parser("sa")
    p.add_argument("prefix")
    p.add_argument("--in", dest="spi_in", action="append", default=[])
    p.add_argument("--out", dest="spi_out", action="append", default=[])
    p.add_argument("--aead", default="")
    p.add_argument("--gone", action="store_true")
    p.add_argument("--timeout", type=float, default=2)
    p.set_defaults(fn=cmd_sa)
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
