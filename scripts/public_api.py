#!/usr/bin/env python3
"""Lists hybi's public API from rustdoc's JSON output, one item per line.

    RUSTC_BOOTSTRAP=1 cargo rustdoc --lib --features deflate -- -Z unstable-options --output-format json
    python3 scripts/public_api.py target/doc/hybi.json

Walks from the crate root through public modules and re-exports; prints
modules, types, variants, traits, functions, constants and the public
inherent and trait-required methods of each type. Items marked
`#[doc(hidden)]` are skipped, as rustdoc skips them.
"""
import json
import sys


def main(path):
    doc = json.load(open(path))
    index = doc["index"]
    root = index[str(doc["root"])]
    out = set()

    def hidden(item):
        return any("doc(hidden)" in str(a) for a in item.get("attrs", []))

    def walk(item_id, prefix, seen):
        item = index.get(str(item_id))
        if item is None or item_id in seen or hidden(item):
            return
        seen = seen | {item_id}
        inner = item["inner"]
        kind = next(iter(inner))
        name = item.get("name")
        if kind == "use":
            use = inner["use"]
            target = use.get("id")
            if target is not None:
                target_item = index.get(str(target))
                if target_item is not None:
                    copy = dict(target_item)
                    copy["name"] = use["name"]
                    walk_item(copy, target, prefix, seen)
            return
        walk_item(item, item_id, prefix, seen)

    def walk_item(item, item_id, prefix, seen):
        if item.get("visibility") not in ("public", "default") and item_id != doc["root"]:
            return
        if hidden(item):
            return
        inner = item["inner"]
        kind = next(iter(inner))
        path = f"{prefix}::{item['name']}" if prefix else item["name"]
        if kind == "module":
            if item_id != doc["root"]:
                out.add(f"mod {path}")
            for child in inner["module"]["items"]:
                walk(child, path, seen)
        elif kind in ("struct", "enum", "trait", "union", "type_alias"):
            out.add(f"{kind} {path}")
            body = inner[kind]
            for v in body.get("variants", []):
                out.add(f"variant {path}::{index[str(v)]['name']}")
            if kind == "struct":
                fields = body.get("kind", {})
                if isinstance(fields, dict) and "plain" in fields:
                    for f in fields["plain"].get("fields", []):
                        fi = index.get(str(f))
                        if fi and fi.get("visibility") == "public":
                            out.add(f"field {path}.{fi['name']}")
            for i in body.get("items", []):
                it = index.get(str(i))
                if it:
                    out.add(f"trait-item {path}::{it['name']}")
            for impl_id in body.get("impls", []):
                impl = index.get(str(impl_id))
                if not impl:
                    continue
                im = impl["inner"]["impl"]
                if im.get("trait") is not None or im.get("is_synthetic") or im.get("blanket_impl"):
                    continue
                for m in im["items"]:
                    mi = index.get(str(m))
                    if mi and mi.get("visibility") == "public" and not hidden(mi):
                        out.add(f"fn {path}::{mi['name']}")
        elif kind in ("function", "constant", "static", "macro"):
            out.add(f"{kind} {path}")

    walk_item(root, doc["root"], "", set())
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/doc/hybi.json")
