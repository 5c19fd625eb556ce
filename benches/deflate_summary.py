#!/usr/bin/env python3
"""Prints the deflate benchmark's medians and hybi's ratio to the zlib-rs
floor, from criterion's output (run `cargo bench --features deflate --bench
deflate` first, from this directory)."""
import json
import pathlib

root = pathlib.Path("target/criterion")
rows = {}
for group in ("deflate_receive", "deflate_send"):
    for est in sorted((root / group).glob("*/*/new/estimates.json")):
        who, workload = est.parts[-4], est.parts[-3]
        rows[(group, workload, who)] = json.loads(est.read_text())["median"]["point_estimate"] / 1000.0
print(f"{'group':16} {'workload':15} {'mode':18} {'hybi µs':>10} {'floor µs':>10} {'ratio':>6}")
for (group, workload, who), t in sorted(rows.items()):
    if not who.startswith("hybi_"):
        continue
    mode = who[len("hybi_"):]
    floor_mode = "no_takeover" if mode == "no_takeover_kept" else mode
    floor = rows.get((group, workload, "zlib_rs_floor_" + floor_mode))
    ratio = f"{t / floor:.2f}" if floor else "-"
    print(f"{group:16} {workload:15} {mode:18} {t:10.1f} {floor or 0:10.1f} {ratio:>6}")
