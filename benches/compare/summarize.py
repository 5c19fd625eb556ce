#!/usr/bin/env python3
"""Turns the last `cargo bench --bench compare` run into Markdown tables.

Reads target/criterion/<scenario>/<implementation>/new/{estimates,benchmark}.json
(the median time per iteration, and the payload bytes per iteration) and
prints throughput, hybi / best peer, each / memcpy, and ns per message for
scenario 1. Run from benches/compare/: `python3 summarize.py`.
"""

import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target", "criterion")
ORDER = [
    "hybi",
    "hybi-hw4MiB",
    "hybi-receive",
    "tungstenite",
    "fastwebsockets",
    "fastwebsockets-frames",
    "fastwebsockets-in-place",
    "memcpy",
    "memcpy-msg",
]
HYBI = ["hybi", "hybi-hw4MiB", "hybi-receive"]
# Peers with the same contract as hybi (whole, validated messages; the
# caller's payload left intact). The variants are shown but not ranked.
PEERS = ["tungstenite", "fastwebsockets"]
MESSAGES_1 = 65536  # scenario 1: 16-byte messages per iteration


def load():
    results = {}
    for group in sorted(os.listdir(ROOT)):
        gdir = os.path.join(ROOT, group)
        if not os.path.isdir(gdir) or group == "report":
            continue
        for name in os.listdir(gdir):
            new = os.path.join(gdir, name, "new")
            if not os.path.isfile(os.path.join(new, "estimates.json")):
                continue
            est = json.load(open(os.path.join(new, "estimates.json")))
            meta = json.load(open(os.path.join(new, "benchmark.json")))
            ns = est["median"]["point_estimate"]
            lo = est["median"]["confidence_interval"]["lower_bound"]
            hi = est["median"]["confidence_interval"]["upper_bound"]
            tp = meta.get("throughput") or {}
            nbytes = tp.get("Bytes") or tp.get("BytesDecimal")
            results.setdefault(group, {})[name] = (ns, lo, hi, nbytes)
    return results


def rate(nbytes, ns):
    """Bytes per second."""
    return nbytes / (ns * 1e-9)


def fmt_rate(bps):
    mib = bps / (1 << 20)
    if mib >= 1024:
        return f"{mib / 1024:.2f} GiB/s"
    return f"{mib:.0f} MiB/s"


def main():
    results = load()
    if not results:
        sys.exit(f"no results under {ROOT}: run cargo bench --bench compare first")
    groups = sorted(results)
    names = [n for n in ORDER if any(n in results[g] for g in groups)]

    print("Throughput (payload bytes / median time per iteration):\n")
    print("| scenario | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for g in groups:
        cells = []
        for n in names:
            r = results[g].get(n)
            cells.append(fmt_rate(rate(r[3], r[0])) if r else "—")
        print(f"| {g} | " + " | ".join(cells) + " |")

    print("\nRatios (throughput ÷ throughput; hybi ÷ best peer > 1 means hybi is faster):\n")
    refs = ["memcpy", "memcpy-msg"]
    cols = (
        [f"{h} ÷ best peer" for h in HYBI]
        + ["best peer"]
        + [f"{n} ÷ memcpy" for n in names if n not in refs]
        + [f"{h} ÷ memcpy-msg" for h in HYBI if "memcpy-msg" in names]
    )
    print("| scenario | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for g in groups:
        res = results[g]
        tput = {n: rate(r[3], r[0]) for n, r in res.items()}
        peers = [p for p in PEERS if p in tput]
        best = max(peers, key=lambda p: tput[p])
        cells = [f"{tput[h] / tput[best]:.2f}" if h in tput else "—" for h in HYBI]
        cells.append(best)
        for n in names:
            if n in refs:
                continue
            cells.append(f"{tput[n] / tput['memcpy']:.3f}" if n in tput and "memcpy" in tput else "—")
        if "memcpy-msg" in names:
            for h in HYBI:
                ok = h in tput and "memcpy-msg" in tput
                cells.append(f"{tput[h] / tput['memcpy-msg']:.3f}" if ok else "—")
        print(f"| {g} | " + " | ".join(cells) + " |")

    g1 = [g for g in groups if g.startswith("1_")]
    if g1:
        print(f"\nScenario 1, ns per 16-byte message (median time per iteration ÷ {MESSAGES_1}; 95% CI of the median):\n")
        print("| implementation | ns/message | CI |")
        print("|---|---:|---|")
        for n in names:
            r = results[g1[0]].get(n)
            if r:
                print(f"| {n} | {r[0] / MESSAGES_1:.1f} | {r[1] / MESSAGES_1:.1f}–{r[2] / MESSAGES_1:.1f} |")


if __name__ == "__main__":
    main()
