"""Recompute the report's decision page from a results file alone, by a second path.

    python benchmarks/decision.py reports/reference/results.json

Prints the decision table as Markdown rows, in the page's order and words (JMAP's rows
where the run has a JMAP cell that succeeded). It reads the
JSON with the standard library only and shares no code with ``bench/report/`` or
``bench/claims.py``: a test renders the page and checks that every row this script prints
stands in it, so a slip in either path shows.

It reads the current version of the results file (``bench/results.py``: ``SCHEMA_VERSION``);
``mailbench report`` reads older ones. Where each figure comes from (cells that succeeded,
TLS off; lan unless said):

| column | scenario | metric |
|---|---|---|
| mail on a 2nd device | multi-device-sync | other_device_messages_share |
| changes seen on other devices | multi-device-sync | per sample, reached / made over read, flag, move, delete in its last ``change_rounds`` entry |
| readable offline | offline-use | readable_offline_share of the row's cache policy (``by_policy``) |
| messages lost with the device | offline-use | messages_lost_with_device |
| message-hours readable with the password | storage-exposure | exposed_message_hours |
| server storage per user | bulk-fetch, full | server_disk_after_bytes |
| server state per user | bulk-fetch, full | server_state_bytes |
| new device: time / bytes | offline-use | ready_s / ready_bytes_down of the row's cache policy |
| full download, lan / mobile link | bulk-fetch, full | elapsed_s (mobile: the first relayed link bulk-fetch ran on) |
| round trips | bulk-fetch, full | round_trips |
| new mail shown, waiting for push (only where new-mail ran) | new-mail | latency_ms of the ``push`` policy, in seconds; "no push: the device polls" where the mode's cells have none |
"""

from __future__ import annotations

import json
import sys
from statistics import median

MODES = (("imap", "full", "IMAP, full copies"), ("imap", "headers", "IMAP, headers only"),
         ("imap", "online", "IMAP, online only"), ("pop3-keep", "full", "POP3, leave on server"),
         ("pop3-delete", "full", "POP3, delete after download"))
# Rows printed where a JMAP cell succeeded.
JMAP_MODES = (("jmap", "full", "JMAP, full copies"), ("jmap", "headers", "JMAP, headers only"),
              ("jmap", "online", "JMAP, online only"))
KINDS_OF_CHANGE = ("read", "flag", "move", "delete")


def written(kind, value):
    if kind == "share":
        return f"{value:.0%}"
    if kind == "seconds":
        return f"{value:.3g} s"
    if kind == "bytes":
        for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if abs(value) >= size:
                return f"{value / size:.3g} {unit}"
        return f"{value:.0f} B"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def spread(kind, values):
    if not values:
        return "not measured"
    middle, low, high = median(values), min(values), max(values)
    if low == high:
        return f"{written(kind, middle)} (all {len(values)})"
    if written(kind, low) == written(kind, high):
        return f"{written(kind, middle)} (all {len(values)} round to it)"
    return f"{written(kind, middle)} ({written(kind, low)}–{written(kind, high)})"


SCHEMA_VERSION = 2  # the version of results.json this script reads


def main(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if data.get("schema_version") != SCHEMA_VERSION:
        sys.exit(f"decision.py reads results schema version {SCHEMA_VERSION}, not {data.get('schema_version')!r}: "
                 "bring an older file up to date with bench.results.save(bench.results.load(path), path)")
    cells = [c for c in data["cells"] if c["status"] == "ok" and c["tls"] == "off"]

    def samples(scenario, mode, metric, variant=None, link="lan", policy=None):
        return [float(s[metric]) for c in cells
                if c["scenario"] == scenario and c["mode"] == mode and c["link"] == link
                and (variant is None or c["variant"] == variant)
                for s in (c["samples"] if policy is None else c["by_policy"].get(policy, {"samples": []})["samples"])
                if metric in s]

    def ran(scenario, mode):
        return any(c["scenario"] == scenario and (mode is None or c["mode"] == mode) for c in cells)

    def changes(mode):
        shares = []
        for c in cells:
            if c["scenario"] != "multi-device-sync" or c["mode"] != mode:
                continue
            for info, sample in zip(c["sample_info"], c["samples"]):
                if info.get("change_rounds"):
                    last = info["change_rounds"][-1]["by_kind"]
                    made = sum(last.get(k, {}).get("made", 0) for k in KINDS_OF_CHANGE)
                    if made:
                        shares.append(sum(last.get(k, {}).get("reached", 0) for k in KINDS_OF_CHANGE) / made)
                    continue
                kinds = [sample[f"changes_seen_share_{k}"] for k in KINDS_OF_CHANGE if f"changes_seen_share_{k}" in sample]
                if kinds:
                    shares.append(sum(kinds) / len(kinds))
        return shares

    mobile = next((c["link"] for c in cells if c["scenario"] == "bulk-fetch" and c["link"] != "lan"), None)
    new_mail = ran("new-mail", None)
    print("| mode | mail on a 2nd device | changes seen on other devices | readable offline | messages lost with the "
          "device | message-hours readable with the password | server storage per user | server state per user | "
          "new device: time to a usable mailbox | new device: bytes to a usable mailbox | full download, lan | full "
          "download, mobile link | round trips (full download) |" + (" new mail shown, waiting for push |" if new_mail else ""))
    print("|---|" + "---:|" * (13 if new_mail else 12))
    jmap = any(c["mode"] == "jmap" for c in cells)
    for mode, policy, label in MODES + (JMAP_MODES if jmap else ()):
        row = [
            spread("share", samples("multi-device-sync", mode, "other_device_messages_share")),
            spread("share", changes(mode)) if changes(mode) or not ran("multi-device-sync", mode)
            else "none to see: mail on one device",
            spread("share", samples("offline-use", mode, "readable_offline_share", policy=policy)),
            spread("count", samples("offline-use", mode, "messages_lost_with_device")),
            spread("count", samples("storage-exposure", mode, "exposed_message_hours")),
            spread("bytes", samples("bulk-fetch", mode, "server_disk_after_bytes", "full")),
            spread("bytes", samples("bulk-fetch", mode, "server_state_bytes", "full")),
            spread("seconds", samples("offline-use", mode, "ready_s", policy=policy)),
            spread("bytes", samples("offline-use", mode, "ready_bytes_down", policy=policy)),
            spread("seconds", samples("bulk-fetch", mode, "elapsed_s", "full")),
            spread("seconds", samples("bulk-fetch", mode, "elapsed_s", "full", mobile) if mobile else []),
            spread("count", samples("bulk-fetch", mode, "round_trips", "full")),
        ]
        if new_mail:
            pushed = [ms / 1000 for ms in samples("new-mail", mode, "latency_ms", policy="push")]
            row.append(spread("seconds", pushed) if pushed or not ran("new-mail", mode) else "no push: the device polls")
        print(f"| {label} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/decision.py RESULTS.json")
    main(sys.argv[1])
