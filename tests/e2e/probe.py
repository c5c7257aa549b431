#!/usr/bin/python3
"""Telemetry checks of tests/e2e/appliance.sh (through tests/integration/telemetry.py).

  watch OUT ROUTER_PFX TARGET_PFX...
      Until SIGTERM: every ~100 ms, the router's /dvipsec/sa and /dvipsec/lifesize and each
      target's /dvipsec/sa. On SIGTERM writes OUT (JSON): per SPI and direction, on which
      processes it was seen, each target's highest byte count, the router's highest summed
      report, and the SA's soft/hard byte limits; plus the number of samples.
  lifesize OUT [--min-spis N]
      Judges a watch: every SA with a hard byte limit stayed under it on the router's sum and on
      the targets' counters added up (each target's highest count: an upper bound of the sum at
      any moment); every inbound SPI the router held reached both targets; at least N inbound
      SPIs came and went. Prints one line; exit 1 on a violation.
  counters PREFIX...
      Every drop and event counter of these processes as one flat JSON object
      ("PREFIX CMD key": value): the router's /dvipsec/router/drops, /dvipsec/ike and
      /dvipsec/targets auth_failures and bad_frames; a target's /dvipsec/target/drops.
  health ROUTER_PFX --id N --want 0|1 [--t0 EPOCH --timeout S]
      Milliseconds from T0 until /dvipsec/targets shows target N healthy == WANT (exit 1 if not
      within S seconds).
"""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import telemetry  # noqa: E402  (tests/integration/telemetry.py)

IKE_DROPS = ("bad_message", "bad_icv", "unknown_spi", "bad_msg_id", "rx_unwrap_bad",
             "unsupported_critical", "unknown_peer", "half_open_expired")


def cmd_watch(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sas = {}  # "in 0x...": {"on": [...], "tbytes": {pfx: max}, "reported": max, "soft", "hard"}
    samples = 0

    def entry(d, spi):
        return sas.setdefault("%s %s" % (d, spi), {"on": [], "tbytes": {}, "reported": 0,
                                                    "soft": 0, "hard": 0})

    while not stop:
        try:
            router_dir = {}
            for s in telemetry.rows(telemetry.query(args.router, telemetry.SA_LIST)):
                router_dir[s["spi"]] = s["dir"]
                e = entry(s["dir"], s["spi"])
                if args.router not in e["on"]:
                    e["on"].append(args.router)
            life = telemetry.rows(telemetry.query(args.router, telemetry.LIFESIZE))
            for row in life:
                if row["spi"] not in router_dir:
                    continue
                e = entry(router_dir[row["spi"]], row["spi"])
                e["reported"] = max(e["reported"], row["bytes"])
                e["soft"], e["hard"] = row["soft_bytes"], row["hard_bytes"]
            for pfx in args.targets:
                for s in telemetry.rows(telemetry.query(pfx, telemetry.SA_LIST)):
                    e = entry(s["dir"], s["spi"])
                    if pfx not in e["on"]:
                        e["on"].append(pfx)
                    e["tbytes"][pfx] = max(e["tbytes"].get(pfx, 0), s["bytes"])
            samples += 1
        except telemetry.TelemetryError:
            pass
        time.sleep(args.interval)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"samples": samples, "router": args.router, "targets": args.targets,
                   "sas": sas}, f, indent=1, sort_keys=True)
    return 0


def cmd_lifesize(args):
    with open(args.out, encoding="utf-8") as f:
        w = json.load(f)
    bad, worst, n_in = [], 0.0, 0
    for key, e in sorted(w["sas"].items()):
        total = sum(e["tbytes"].values())
        if e["hard"]:
            worst = max(worst, total / e["hard"], e["reported"] / e["hard"])
            if total > e["hard"] or e["reported"] > e["hard"]:
                bad.append("%s: targets %s (sum %d), router sum %d > hard %d" % (
                    key, e["tbytes"], total, e["reported"], e["hard"]))
        if key.startswith("in ") and w["router"] in e["on"]:
            n_in += 1
            missing = [t for t in w["targets"] if t not in e["on"]]
            if missing:
                bad.append("%s on the router never reached %s" % (key, ",".join(missing)))
    if n_in < args.min_spis:
        bad.append("only %d inbound SPIs seen on the router, want >= %d" % (n_in, args.min_spis))
    if w["samples"] < 5:
        bad.append("only %d telemetry samples" % w["samples"])
    if bad:
        print("; ".join(bad))
        return 1
    limit = ("highest count %.0f%% of the hard limit" % (100 * worst) if any(
        e["hard"] for e in w["sas"].values()) else "no byte limits")
    print("%d inbound SPIs over %d samples, each on router and targets; %s" % (
        n_in, w["samples"], limit))
    return 0


def cmd_counters(args):
    out = {}
    for pfx in args.prefixes:
        for cmd in (telemetry.ROUTER_DROPS, "/dvipsec/ike", telemetry.TARGETS,
                    telemetry.TARGET_DROPS):
            try:
                v = telemetry.query(pfx, cmd)
            except telemetry.TelemetryError:
                continue
            if cmd == telemetry.TARGETS:
                for t in telemetry.rows(v):
                    out["%s %s %s.auth_failures" % (pfx, cmd, t["name"])] = t["auth_failures"]
                    out["%s %s %s.bad_frames" % (pfx, cmd, t["name"])] = t["bad_frames"]
                continue
            if cmd == "/dvipsec/ike":
                v = {k: v.get(k, 0) for k in IKE_DROPS}
            for k, n in v.items():
                if isinstance(n, int):
                    out["%s %s %s" % (pfx, cmd, k)] = n
    print(json.dumps(out, sort_keys=True))
    return 0


def cmd_health(args):
    t0 = args.t0 or time.time()
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            for t in telemetry.rows(telemetry.query(args.router, telemetry.TARGETS)):
                if t["id"] == args.id and t["healthy"] == args.want:
                    print(round((time.time() - t0) * 1000))
                    return 0
        except telemetry.TelemetryError:
            pass
        if time.monotonic() > deadline:
            print("target %d not healthy=%d within %ss" % (args.id, args.want, args.timeout))
            return 1
        time.sleep(0.01)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("watch")
    p.add_argument("out")
    p.add_argument("router")
    p.add_argument("targets", nargs="+")
    p.add_argument("--interval", type=float, default=0.1)
    p.set_defaults(fn=cmd_watch)
    p = sub.add_parser("lifesize")
    p.add_argument("out")
    p.add_argument("--min-spis", type=int, default=1)
    p.set_defaults(fn=cmd_lifesize)
    p = sub.add_parser("counters")
    p.add_argument("prefixes", nargs="+")
    p.set_defaults(fn=cmd_counters)
    p = sub.add_parser("health")
    p.add_argument("router")
    p.add_argument("--id", type=int, required=True)
    p.add_argument("--want", type=int, required=True)
    p.add_argument("--t0", type=float, default=0)
    p.add_argument("--timeout", type=float, default=3)
    p.set_defaults(fn=cmd_health)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
