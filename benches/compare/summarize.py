#!/usr/bin/env python3
"""Turns the last `cargo bench --bench compare` run into Markdown tables.

Reads target/criterion/**/new/{estimates,benchmark}.json (the median time
per iteration, criterion's group, function and parameter) and prints:

1. a summary: rows = scenarios, columns = sizes, cells = "hybi ÷ best peer",
   and which peer is best at 16 KiB and above;
2. one table per scenario: rows = implementations, columns = message sizes,
   cells = median time per iteration; then the best hybi door, the best peer
   and the ratio "hybi ÷ best peer" (time ÷ time: below 1 means hybi is
   faster).

Each library's best door counts. hybi's doors: hybi, hybi-receive,
hybi-vectored, hybi-in-place (hybi-hw4MiB is a Config change, shown only).
Peers: tungstenite, fastwebsockets (frames), fastwebsockets-in-place,
FragmentCollector, tokio-websockets, tokio-websockets-owned.

Results from earlier runs stay under target/criterion until replaced: remove
that directory for a table of one run only. Run from benches/compare/:
`python3 summarize.py`.
"""

import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target", "criterion")
ORDER = [
    "hybi",
    "hybi-receive",
    "hybi-vectored",
    "hybi-in-place",
    "hybi-hw4MiB",
    "tungstenite",
    "fastwebsockets",
    "fastwebsockets-in-place",
    "FragmentCollector",
    "tokio-websockets",
    "tokio-websockets-owned",
    "memcpy",
    "memcpy-msg",
    "memcpy-floor",
]
HYBI = ["hybi", "hybi-receive", "hybi-vectored", "hybi-in-place"]
PEERS = [
    "tungstenite",
    "fastwebsockets",
    "fastwebsockets-in-place",
    "FragmentCollector",
    "tokio-websockets",
    "tokio-websockets-owned",
]
SIZES = ["16B", "125B", "1KiB", "16KiB", "1MiB"]
SIZE_LABEL = {"16B": "16 B", "125B": "125 B", "1KiB": "1 KiB", "16KiB": "16 KiB", "1MiB": "1 MiB"}
# Scenarios 1–5 have no size parameter; the size of their messages:
LEGACY_SIZE = {"1_": "16B"}
LEGACY_DEFAULT = "1MiB"
ONE = "one"  # column of a scenario without a size parameter


def load():
    """{group: {(implementation, size or ONE): median ns}}"""
    results = {}
    for dirpath, _, files in os.walk(ROOT):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        meta = json.load(open(os.path.join(dirpath, "benchmark.json")))
        est = json.load(open(os.path.join(dirpath, "estimates.json")))
        group = meta["group_id"]
        if group.startswith("deflate_"):  # benches/deflate.rs: summarize_deflate.py
            continue
        function = meta.get("function_id")
        value = meta.get("value_str")
        if function is None:  # BenchmarkId::from_parameter: the name is the value
            function, value = value, None
        ns = est["median"]["point_estimate"]
        results.setdefault(group, {})[(function, value or ONE)] = ns
    return results


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def best(res, names, size):
    have = [(res[(n, size)], n) for n in names if (n, size) in res]
    return min(have) if have else None


def ratio(res, size):
    """(hybi ÷ best peer, best hybi door, best peer) at `size`, or None."""
    h = best(res, HYBI, size)
    p = best(res, PEERS, size)
    if not h or not p:
        return None
    return h[0] / p[0], h[1], p[1]


def main():
    results = load()
    if not results:
        sys.exit(f"no results under {ROOT}: run cargo bench --bench compare first")
    groups = sorted(results, key=lambda g: (not g[0].isdigit(), g))

    print("### Summary: hybi ÷ best peer (median time ÷ median time; below 1: hybi wins)\n")
    print("Scenarios 1–5 run one connection per driver, rewound each pass (warm);")
    print("s1–s8 a new connection per pass, about 8 MiB of messages.\n")
    print("| scenario | " + " | ".join(SIZE_LABEL[s] for s in SIZES) + " | best peer at ≥ 16 KiB |")
    print("|---|" + "---:|" * len(SIZES) + "---|")
    for g in groups:
        res = results[g]
        cells = {}
        if any(k[1] == ONE for k in res):
            size = next((v for p, v in LEGACY_SIZE.items() if g.startswith(p)), LEGACY_DEFAULT)
            r = ratio(res, ONE)
            if r:
                cells[size] = r
        for s in SIZES:
            r = ratio(res, s)
            if r:
                cells[s] = r
        row = [f"{cells[s][0]:.2f}" if s in cells else "—" for s in SIZES]
        big = [(SIZE_LABEL[s], cells[s][2]) for s in ["16KiB", "1MiB"] if s in cells]
        if len({p for _, p in big}) == 1:
            peer = big[0][1]
        else:
            peer = ", ".join(f"{p} ({s})" for s, p in big) or "—"
        print(f"| {g} | " + " | ".join(row) + f" | {peer} |")
    print()

    print("### Per scenario: median time per iteration\n")
    print("Below 1 in the last row means hybi is faster than the best peer.\n")
    for g in groups:
        res = results[g]
        sizes = [s for s in SIZES + [ONE] if any(k[1] == s for k in res)]
        names = [n for n in ORDER if any(k[0] == n for k in res)]
        names += sorted({k[0] for k in res} - set(names))
        head = [SIZE_LABEL.get(s, "pass") for s in sizes]
        print(f"#### {g}\n")
        print("| implementation | " + " | ".join(head) + " |")
        print("|---|" + "---:|" * len(sizes))
        for n in names:
            cells = [fmt_time(res[(n, s)]) if (n, s) in res else "—" for s in sizes]
            print(f"| {n} | " + " | ".join(cells) + " |")
        rs = [ratio(res, s) for s in sizes]
        print("| best hybi door | " + " | ".join(r[1] if r else "—" for r in rs) + " |")
        print("| best peer | " + " | ".join(r[2] if r else "—" for r in rs) + " |")
        print("| **hybi ÷ best peer** | " + " | ".join(f"**{r[0]:.2f}**" if r else "—" for r in rs) + " |")
        print()


if __name__ == "__main__":
    main()
