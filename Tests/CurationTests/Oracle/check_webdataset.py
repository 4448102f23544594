"""Checks a `trolley dataset export --format webdataset` folder with the webdataset package.

Usage: check_webdataset.py SHARD_FOLDER EXPECTED.jsonl

EXPECTED.jsonl is `trolley dataset export --format jsonl` of the same dataset: one line per
kept item. Every shard listed in sizes.json is read with `webdataset.WebDataset`; each kept item
must appear exactly once under its 12-digit key, its image bytes must hash to the item's sha256
and decode in Pillow, its .json must carry the item's fields (sha256, size, hashes, answers,
metadata) and its .txt the caption (absent when the item has none). Counts must match
sizes.json and each shard's _stats.json, whose sha256 must match the tar.
Exits 1 with a message on the first difference.
"""
import hashlib
import io
import json
import os
import sys

import webdataset as wds
from PIL import Image


def fail(message):
    print("check_webdataset: " + message, file=sys.stderr)
    sys.exit(1)


folder, expected_path = sys.argv[1], sys.argv[2]
expected = {}
with open(expected_path, encoding="utf-8") as handle:
    for line in handle:
        if line.strip():
            item = json.loads(line)
            expected[item["key"]] = item
with open(os.path.join(folder, "sizes.json"), encoding="utf-8") as handle:
    sizes = json.load(handle)
shards = [os.path.join(folder, name) for name in sorted(sizes)]
if sum(sizes.values()) != len(expected):
    fail(f"sizes.json counts {sum(sizes.values())} samples, the dataset keeps {len(expected)}")
for name, count in sizes.items():
    stats_path = os.path.join(folder, name[: -len(".tar")] + "_stats.json")
    with open(stats_path, encoding="utf-8") as handle:
        stats = json.load(handle)
    with open(os.path.join(folder, name), "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if stats["count"] != count or stats["sha256"] != digest:
        fail(f"{stats_path} disagrees with sizes.json or with the tar's sha256")

seen = set()
dataset = wds.WebDataset(shards, shardshuffle=False, handler=wds.reraise_exception)
for sample in dataset:
    key = sample["__key__"]
    if key in seen:
        fail(f"sample {key} appears twice")
    seen.add(key)
    if key not in expected:
        fail(f"sample {key} is not a kept item")
    item = expected[key]
    extension = {"jpeg": "jpg"}.get(item["format"], item["format"])
    image = sample.get(extension)
    if image is None:
        fail(f"sample {key} has no .{extension} member (has {sorted(sample)})")
    if hashlib.sha256(image).hexdigest() != item["sha256"]:
        fail(f"sample {key}: the image bytes do not hash to the item's sha256")
    with Image.open(io.BytesIO(image)) as decoded:
        decoded.load()
        if decoded.size != (item["width"], item["height"]):
            fail(f"sample {key}: Pillow reads {decoded.size}, the item says {item['width']}x{item['height']}")
    meta = json.loads(sample["json"])
    for field in ("sha256", "width", "height", "format", "bytes", "ahash", "phash", "dhash",
                  "whash", "caption", "answers", "metadata", "group_id"):
        if meta.get(field) != item.get(field):
            fail(f"sample {key}: .json {field} is {meta.get(field)!r}, expected {item.get(field)!r}")
    if meta["url"] != item["source"] or meta["key"] != key:
        fail(f"sample {key}: .json url or key differ from the item")
    caption = sample.get("txt")
    if item["caption"] is None:
        if caption is not None:
            fail(f"sample {key} has a .txt but the item has no caption")
    elif caption is None or caption.decode("utf-8") != item["caption"]:
        fail(f"sample {key}: .txt is {caption!r}, expected {item['caption']!r}")
missing = set(expected) - seen
if missing:
    fail(f"{len(missing)} kept items are in no shard, e.g. {sorted(missing)[:3]}")
print(f"check_webdataset: {len(seen)} samples in {len(shards)} shards match the dataset")
