#!/usr/bin/env python3
"""Writes the imagehash 4.3.2 goldens that CurationTests compares against.

Run inside a private venv (never the system Python):

    python3 -m venv /tmp/cur-venv
    /tmp/cur-venv/bin/pip install imagehash==4.3.2 pillow==12.3.0 scipy PyWavelets numpy
    /tmp/cur-venv/bin/python Tests/CurationTests/Oracle/make_hash_goldens.py Tests/Fixtures/curation

Pillow is pinned to 12.x: through 12.3.0 `Image.resize` runs the horizontal pass before the
vertical one, as design/curation.md defines the hashes. Pillow 13.0.0 chooses the pass order per
size (its results differ from 12.3.0's by ±1 on some pixels of about a third of two-axis resizes),
which changes some hashes; the script refuses to run with it rather than write other goldens.

It writes two files into the output folder:
  hash-goldens.jsonl           one line per generated PNG: name, mode, size, the PNG bytes
                               (base64) and imagehash's four hex strings, computed on the image
                               re-opened from those bytes (so the oracle sees what Trolley reads);
  hash-goldens-versions.json   the versions of imagehash, Pillow, NumPy, SciPy and PyWavelets.

Everything is derived from fixed seeds, so a re-run with the same library versions writes the same
hashes. Images are kept small or compressible so the committed file stays a few megabytes.
"""
import base64
import io
import json
import math
import sys

import imagehash
import numpy as np
import PIL
import pywt
import scipy
from PIL import Image, ImageDraw

COUNT = 2400


def pick_size(rng, kind):
    """Mostly small sizes, some exactly at the hash sizes, a few large compressible ones."""
    r = rng.random()
    if kind in ("noise", "noise-smooth", "mirrored-noise"):
        # Incompressible content stays small.
        if r < 0.15:
            return int(rng.choice([8, 9, 16, 32, 33, 64])), int(rng.choice([8, 16, 32, 64]))
        return int(rng.integers(1, 72)), int(rng.integers(1, 72))
    if r < 0.10:
        w, h = [(8, 8), (9, 8), (32, 32), (16, 16), (64, 64), (128, 128), (256, 256)][
            int(rng.integers(0, 7))]
        return w, h
    if r < 0.55:
        return int(rng.integers(1, 100)), int(rng.integers(1, 100))
    if r < 0.95:
        return int(rng.integers(20, 300)), int(rng.integers(20, 300))
    return int(rng.integers(300, 1000)), int(rng.integers(300, 800))


def content(rng, kind, w, h):
    """An HxWx3 float array in 0...255 (before the mode conversion)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == "flat":
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.float64), (h, w, 3)).copy()
    if kind == "gradient":
        angle = rng.random() * 2 * math.pi
        t = (x * math.cos(angle) + y * math.sin(angle))
        t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
        a = rng.integers(0, 256, 3)
        b = rng.integers(0, 256, 3)
        return a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    if kind == "noise":
        return rng.integers(0, 256, (h, w, 3)).astype(np.float64)
    if kind == "noise-smooth":
        small = rng.integers(0, 256, (max(h // 8, 1), max(w // 8, 1), 3)).astype(np.uint8)
        return np.asarray(Image.fromarray(small, "RGB").resize((w, h), Image.BILINEAR),
                          dtype=np.float64)
    if kind == "mirrored-noise":
        base = rng.integers(0, 256, (h, w, 3)).astype(np.float64)
        axis = int(rng.integers(0, 3))
        if axis in (0, 2):
            base[:, w - (w // 2):, :] = base[:, : w // 2, :][:, ::-1, :]
        if axis in (1, 2):
            base[h - (h // 2):, :, :] = base[: h // 2, :, :][::-1, :, :]
        return base
    if kind == "mirrored-shapes":
        img = shapes(rng, w, h)
        half = w // 2
        img[:, w - half:, :] = img[:, :half, :][:, ::-1, :]
        if rng.random() < 0.5:
            hh = h // 2
            img[h - hh:, :, :] = img[:hh, :, :][::-1, :, :]
        return img
    if kind == "stripes":
        period = int(rng.integers(1, 9))
        levels = rng.integers(0, 256, (2, 3))
        vertical = rng.random() < 0.5
        idx = ((x if vertical else y) // period).astype(int) % 2
        return levels[idx].astype(np.float64)
    if kind == "checker":
        cell = int(rng.integers(1, 33))
        levels = rng.integers(0, 256, (2, 3))
        idx = ((x // cell + y // cell).astype(int)) % 2
        return levels[idx].astype(np.float64)
    if kind == "two-level":
        levels = rng.integers(0, 256, (2, 3))
        split = int(rng.integers(0, max(w, 1) + 1))
        idx = (x >= split).astype(int)
        return levels[idx].astype(np.float64)
    return shapes(rng, w, h)


def shapes(rng, w, h):
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 8))):
        x0, x1 = sorted(int(v) for v in rng.integers(-w // 4, w + w // 4 + 1, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(-h // 4, h + h // 4 + 1, 2))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.rectangle([x0, y0, x1, y1], fill=fill)
        elif shape == 1:
            draw.ellipse([x0, y0, x1, y1], fill=fill)
        else:
            draw.line([x0, y0, x1, y1], fill=fill, width=int(rng.integers(1, 6)))
    return np.asarray(img, dtype=np.float64)


def alpha_plane(rng, w, h):
    """Alpha must not change the hashes (imagehash ignores it); compressible patterns keep the
    file small: constant, a horizontal ramp, or noise on small images only."""
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return np.full((h, w), int(rng.integers(0, 256)), dtype=np.uint8)
    if choice == 1 or w * h > 4096:
        return np.broadcast_to((np.arange(w) * 255 // max(w - 1, 1)).astype(np.uint8), (h, w)).copy()
    return rng.integers(0, 256, (h, w), dtype=np.uint8)


def to_mode(rng, rgb, mode):
    """Converts the float RGB content to a PIL image in `mode`."""
    arr = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    if mode == "RGB":
        return Image.fromarray(arr)
    if mode == "RGBA":
        return Image.fromarray(np.dstack([arr, alpha_plane(rng, w, h)]))
    if mode == "L":
        return Image.fromarray(arr).convert("L")
    if mode == "LA":
        grey = np.asarray(Image.fromarray(arr).convert("L"))
        return Image.fromarray(np.dstack([grey, alpha_plane(rng, w, h)]))
    if mode == "P":
        colors = int(rng.integers(2, 257))
        image = Image.fromarray(arr).quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        if rng.random() < 0.3:
            image.info["transparency"] = int(rng.integers(0, colors))
        return image
    if mode == "1":
        grey = np.asarray(Image.fromarray(arr).convert("L"))
        return Image.fromarray(grey).convert("1")
    if mode == "I;16":
        grey = np.asarray(Image.fromarray(arr).convert("L")).astype(np.uint32)
        # Spread over 16 bits; many samples end above 255 (clipped by convert("L")), some below.
        scale = int(rng.choice([1, 2, 3, 64, 257]))
        offset = int(rng.integers(0, 200))
        wide = np.clip(grey * scale + offset, 0, 65535).astype("<u2")
        return Image.frombytes("I;16", (w, h), wide.tobytes())
    raise ValueError(mode)


KINDS = ["flat", "gradient", "noise", "noise-smooth", "mirrored-noise", "mirrored-shapes",
         "stripes", "checker", "two-level", "shapes"]
MODES = ["RGB", "RGB", "RGBA", "L", "P", "I;16", "LA", "1"]


def main():
    major = int(PIL.__version__.split(".")[0])
    if major >= 13:
        sys.exit(f"Pillow {PIL.__version__} resizes in another pass order; install pillow==12.3.0")
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    lines = []
    for i in range(COUNT):
        rng = np.random.default_rng(1_000_003 * (i + 1))
        kind = KINDS[i % len(KINDS)]
        mode = MODES[(i // len(KINDS)) % len(MODES)]
        w, h = pick_size(rng, kind)
        image = to_mode(rng, content(rng, kind, w, h), mode)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=False, compress_level=9)
        data = buffer.getvalue()
        reopened = Image.open(io.BytesIO(data))
        reopened.load()
        lines.append(json.dumps({
            "name": f"{i:05d}-{kind}-{mode.replace(';', '')}-{w}x{h}",
            "mode": reopened.mode,
            "width": w,
            "height": h,
            "ahash": str(imagehash.average_hash(reopened)),
            "phash": str(imagehash.phash(reopened)),
            "dhash": str(imagehash.dhash(reopened)),
            "whash": str(imagehash.whash(reopened)),
            "png": base64.b64encode(data).decode("ascii"),
        }, sort_keys=True))
    with open(f"{out}/hash-goldens.jsonl", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(f"{out}/hash-goldens-versions.json", "w") as f:
        json.dump({
            "count": COUNT,
            "imagehash": imagehash.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "pywavelets": pywt.__version__,
            "scipy": scipy.__version__,
        }, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
