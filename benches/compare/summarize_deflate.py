#!/usr/bin/env python3
"""Turns the last `cargo bench --features deflate --bench deflate` run into
Markdown tables.

Reads target/criterion/deflate_*/**/new/{estimates,benchmark}.json (median
time per pass, and the uncompressed bytes of a pass, which criterion keeps as
the throughput) and prints:

1. a summary, one row per scenario and workload: the median µs per pass and
   MB/s of uncompressed bytes (10^6 bytes per second) for hybi, yawc and the
   zlib-rs floor, then hybi ÷ floor and hybi ÷ yawc (time ÷ time: below 1
   means hybi is faster; hybi is the `hybi` door, read_buf/commit);
2. every row, the diagnostic ones (hybi-receive, zlib-rs-new) included.

Run from benches/compare/: `python3 summarize_deflate.py`.
"""

import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target", "criterion")
ORDER = ["hybi", "hybi-kept", "hybi-receive", "yawc", "zlib-rs", "zlib-rs-new"]
GROUPS = [
    "deflate_server_rx_takeover",
    "deflate_server_rx_no_takeover",
    "deflate_server_tx_takeover",
    "deflate_server_tx_no_takeover",
]
WORK = ["ticker_200B_x2000", "snapshot_16KiB_x32"]


def load():
    """{(group, workload): {implementation: (median ns, plain bytes)}}"""
    out = {}
    for group in GROUPS:
        base = os.path.join(ROOT, group)
        for dirpath, _, files in os.walk(base):
            if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
                continue
            meta = json.load(open(os.path.join(dirpath, "benchmark.json")))
            est = json.load(open(os.path.join(dirpath, "estimates.json")))
            ns = est["median"]["point_estimate"]
            plain = meta["throughput"]["Bytes"]
            out.setdefault((group, meta["value_str"]), {})[meta["function_id"]] = (ns, plain)
    return out


def us(ns):
    return f"{ns / 1e3:,.0f}"


def mbs(ns, plain):
    return f"{plain / ns * 1e3:,.0f}"


def main():
    res = load()
    if not res:
        sys.exit(f"no deflate results under {ROOT}: run cargo bench --features deflate --bench deflate first")
    keys = [(g, w) for g in GROUPS for w in WORK if (g, w) in res]

    print("| scenario | workload | hybi µs | hybi MB/s | yawc µs | yawc MB/s | zlib-rs µs | zlib-rs MB/s | hybi ÷ floor | hybi ÷ yawc |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for g, w in keys:
        r = res[(g, w)]
        cells = []
        for name in ["hybi", "yawc", "zlib-rs"]:
            if name in r:
                cells += [us(r[name][0]), mbs(*r[name])]
            else:
                cells += ["—", "—"]
        h = r.get("hybi")
        floor = f"{h[0] / r['zlib-rs'][0]:.2f}" if h and "zlib-rs" in r else "—"
        peer = f"**{h[0] / r['yawc'][0]:.2f}**" if h and "yawc" in r else "—"
        print(f"| {g.removeprefix('deflate_')} | {w} | " + " | ".join(cells) + f" | {floor} | {peer} |")
    print()

    print("| scenario | workload | implementation | µs per pass | MB/s | ÷ zlib-rs |")
    print("|---|---|---|---:|---:|---:|")
    for g, w in keys:
        r = res[(g, w)]
        names = [n for n in ORDER if n in r] + sorted(set(r) - set(ORDER))
        for n in names:
            ns, plain = r[n]
            rel = f"{ns / r['zlib-rs'][0]:.2f}" if "zlib-rs" in r else "—"
            print(f"| {g.removeprefix('deflate_')} | {w} | {n} | {us(ns)} | {mbs(ns, plain)} | {rel} |")


if __name__ == "__main__":
    main()
