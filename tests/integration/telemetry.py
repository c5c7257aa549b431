#!/usr/bin/python3
"""DPDK telemetry client for the namespace test, and the one place that knows field names.

The socket is /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET): the server sends a
greeting ({"version", "pid", "max_output_len"}), then answers each command ("/cmd" or
"/cmd,params") with one JSON object {"/cmd": value}. Everything that depends on how dvipsec names
its telemetry commands and fields is in the tables below, and the accessors accept a few spellings
and shapes (flat objects, nested objects, lists of {"name", "count"}, tables as lists of objects
or by column), so a renamed field means one edit here.

CLI (used by the test driver to dump state after a failure):
  telemetry.py dump PREFIX CMD [CMD...]   print each command's reply (or the error)
  telemetry.py get PREFIX CMD             print one reply as JSON; exit 1 if it fails
"""

import json
import os
import socket
import sys
import time

RUNTIME_DIRS = ("/var/run/dpdk", "/run/dpdk")

# Commands (contract of the router and target binaries).
ROUTER_STATS = "/dvipsec/router/stats"
ROUTER_DROPS = "/dvipsec/router/drops"
DCT = "/dvipsec/dct"
DCT_QUERY = "/dvipsec/dct,64"  # the router lists 32 entries unless asked for more (<= 64)
TARGETS = "/dvipsec/targets"
TARGET_STATS = "/dvipsec/target/stats"
TARGET_DROPS = "/dvipsec/target/drops"
SA_LIST = "/dvipsec/sa"
LIFESIZE = "/dvipsec/lifesize"  # router: per SA, the targets' reports summed against its limits
DIST = "/dvipsec/dist"  # router: SA distribution totals, fan-out latency, per-target sync state
ROUTER_COMMANDS = (ROUTER_STATS, ROUTER_DROPS, DCT_QUERY, TARGETS, SA_LIST, LIFESIZE, DIST)
TARGET_COMMANDS = (TARGET_STATS, TARGET_DROPS, SA_LIST)

# Logical counter name -> accepted spellings (first is the contract's).
COUNTER_NAMES = {
    "replay_duplicate": ("replay_duplicate", "replay_dup", "duplicate", "replayed"),
    "replay_too_old": ("replay_too_old", "replay_old", "too_old"),
    "unknown_spi": ("unknown_spi", "no_sa", "sa_not_found", "spi_unknown"),
    "non_syn_miss": ("non_syn_miss", "dct_non_syn_miss"),
    "icv_mismatch": ("icv_mismatch", "icv", "auth_failed", "icv_fail", "bad_icv"),
    "selector_mismatch": ("selector_mismatch", "selector", "ts_mismatch"),
    "rx": ("rx", "rx_packets", "received"),
    "decrypted": ("decrypted", "decrypt", "decrypted_packets", "esp_decrypted"),
    "to_tap": ("to_tap", "tap_tx", "tx_tap"),
    "from_tap": ("from_tap", "tap_rx", "rx_tap"),
    "encrypted": ("encrypted", "encrypt", "esp_encrypted"),
    "out_plain": ("out_plain", "plain_out", "tx_plain"),
}
# Fields of DCT entries and target objects.
DCT_LIST_KEYS = ("list", "entries_list", "flows", "connections")
DCT_TOTAL_KEYS = ("entries", "count", "size")
DCT_LISTED_KEYS = ("listed", "shown")
DCT_FIELDS = {
    "sa": ("sa", "spi", "sa_id", "slot"),
    "src": ("src", "src_addr", "saddr", "peer"),
    "sport": ("sport", "src_port"),
    "dst": ("dst", "dst_addr", "daddr"),
    "dport": ("dport", "dst_port"),
    "target": ("target", "target_id", "tgt"),
    "state": ("state",),
}
TARGET_FIELDS = {
    "id": ("id", "target_id"),
    "name": ("name",),
    "weight": ("weight",),
    "healthy": ("healthy", "up", "alive"),
    "link_up": ("link_up", "link"),
    "flows": ("flows", "connections", "conns"),
    "packets": ("packets", "pkts"),
}


class TelemetryError(Exception):
    """The process's telemetry socket is missing, silent or answered nonsense."""


def socket_path(prefix: str) -> str:
    """Where the process with this --file-prefix has its telemetry socket."""
    for base in RUNTIME_DIRS:
        path = os.path.join(base, prefix, "dpdk_telemetry.v2")
        if os.path.exists(path):
            return path
    return os.path.join(RUNTIME_DIRS[0], prefix, "dpdk_telemetry.v2")


def query(prefix: str, command: str, timeout: float = 3.0):
    """The value of one command's reply ({"/cmd": value} -> value)."""
    path = socket_path(prefix)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(path)
            greeting = json.loads(sock.recv(1 << 20).decode())
            sock.send(command.encode())
            raw = sock.recv(1 << 22)
        except (OSError, ValueError) as err:
            raise TelemetryError("%s %s: %s" % (path, command, err)) from err
        try:
            reply = json.loads(raw.decode())
        except ValueError as err:
            raise TelemetryError("%s: reply is not JSON (%d bytes, max_output_len %s): %s" %
                                 (command, len(raw), greeting.get("max_output_len"), err)) from err
    finally:
        sock.close()
    if not isinstance(reply, dict) or len(reply) != 1:
        raise TelemetryError("%s: unexpected reply %.200r" % (command, reply))
    value = next(iter(reply.values()))
    if value is None:
        raise TelemetryError("%s: command unknown to the process (null reply)" % command)
    return value


def wait_socket(prefix: str, timeout: float) -> bool:
    """True once the telemetry socket answers a greeting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            query(prefix, "/info", timeout=1.0)
            return True
        except TelemetryError:
            time.sleep(0.1)
    return False


def flatten(value) -> dict:
    """Every integer leaf as {name: int}; nested objects give 'outer.inner' and also 'inner';
    list items that name themselves ({"name"|"reason": n, "count"|"value": v}) give n: v."""
    out = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bool):
                continue
            if isinstance(item, int):
                out[key] = item
            elif isinstance(item, (dict, list)):
                for sub, number in flatten(item).items():
                    out.setdefault(sub, number)
                    out["%s.%s" % (key, sub)] = number
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, dict):
                continue
            name = item.get("name", item.get("reason"))
            number = item.get("count", item.get("value", item.get("packets")))
            if isinstance(name, str) and isinstance(number, int) and not isinstance(number, bool):
                out[name] = number
    return out


def counter(counters: dict, logical: str):
    """A counter by its logical name (see COUNTER_NAMES), or None if the process has none."""
    for name in COUNTER_NAMES.get(logical, (logical,)):
        if name in counters:
            return counters[name]
    return None


def field(obj: dict, logical: str, table: dict, default=None):
    """A field of a DCT entry or target object by its logical name."""
    for name in table.get(logical, (logical,)):
        if name in obj:
            return obj[name]
    return default


def rows(value, list_keys=()) -> list:
    """The rows of a table reply: a list of objects, an object holding such a list under one of
    list_keys, or columns ({"id": [1, 2], "name": ["t1", "t2"], ...}, row i across every list of
    the longest length: DPDK 22.11 telemetry nests only arrays of scalars)."""
    if isinstance(value, list):
        return [r for r in value if isinstance(r, dict)]
    if not isinstance(value, dict):
        return []
    for key in list_keys:
        items = value.get(key)
        if isinstance(items, list) and items and all(isinstance(r, dict) for r in items):
            return items
    columns = {k: v for k, v in value.items() if isinstance(v, list)}
    if not columns:
        return []
    n = max(len(v) for v in columns.values())
    return [{k: v[i] for k, v in columns.items() if len(v) == n} for i in range(n)]


def dct_entries(value) -> list:
    """The listed entries of a /dvipsec/dct reply, each as {logical field: value}."""
    return [{name: field(e, name, DCT_FIELDS) for name in DCT_FIELDS}
            for e in rows(value, DCT_LIST_KEYS)]


def dct_counts(value) -> tuple:
    """(entries in the table, entries listed in this reply); None where not reported."""
    if not isinstance(value, dict):
        return None, None
    total = next((value[k] for k in DCT_TOTAL_KEYS if isinstance(value.get(k), int)), None)
    listed = next((value[k] for k in DCT_LISTED_KEYS if isinstance(value.get(k), int)), None)
    return total, listed


def target_list(value) -> list:
    """The targets of a /dvipsec/targets reply, each as {logical field: value}."""
    return [{name: field(t, name, TARGET_FIELDS) for name in TARGET_FIELDS} for t in rows(value)]


def names_target(value, target: dict) -> bool:
    """Whether a DCT 'target' value (an id, a name, or an object) designates this target."""
    if isinstance(value, dict):
        value = field(value, "id", TARGET_FIELDS, field(value, "name", TARGET_FIELDS))
    return str(value) in (str(target["id"]), target["name"])


def main(argv) -> int:
    if len(argv) >= 3 and argv[0] == "dump":
        for command in argv[2:]:
            try:
                print("%s %s" % (command, json.dumps(query(argv[1], command), sort_keys=True)))
            except TelemetryError as err:
                print("%s ERROR %s" % (command, err))
        return 0
    if len(argv) == 3 and argv[0] == "get":
        try:
            print(json.dumps(query(argv[1], argv[2]), indent=1, sort_keys=True))
        except TelemetryError as err:
            print("ERROR %s" % err, file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
