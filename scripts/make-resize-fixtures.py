#!/usr/bin/env python3
"""Writes the Pillow reference outputs that Tests/ImagingTests compares the Imaging resize with.

Needs Pillow, numpy and scikit-image (for a real photograph), e.g.
    python3 -m venv .build-tools/venv-pillow
    .build-tools/venv-pillow/bin/pip install pillow numpy scikit-image
    .build-tools/venv-pillow/bin/python scripts/make-resize-fixtures.py

Output (checked in, about 47 KB): Tests/ImagingTests/Fixtures/pillow-resize.bin (all byte
strings back to back) and pillow-resize.json (the cases and their offsets into the .bin).
The test suite reads them; it never needs Pillow.
"""
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image
import skimage.data

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ImagingTests", "Fixtures")
WIDTH, HEIGHT = 32, 24

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "area": Image.Resampling.BOX,
}

# (output width, output height, box or None): shrink at integer and non-integer ratios,
# enlarge, 1x1, one axis only (the other pass skipped), fractional boxes, an integer crop.
CASES = [
    (13, 9, None),
    (16, 12, None),
    (36, 27, None),
    (1, 1, None),
    (32, 7, None),
    (11, 24, None),
    (19, 14, (3.5, 2.25, 27.75, 21.5)),
    (32, 24, (0.5, 0.5, 31.5, 23.5)),
    (8, 8, (5, 4, 13, 12)),
    (5, 27, (10.2, 0, 22.9, 24)),
]


def busiest_window(photo):
    """The WIDTH x HEIGHT crop of `photo` with the largest spread: strong edges and values near 0
    and 255, so bicubic overshoot and Pillow's clipping are exercised."""
    best, best_score = None, -1.0
    for y in range(0, photo.shape[0] - HEIGHT, 16):
        for x in range(0, photo.shape[1] - WIDTH, 16):
            window = photo[y:y + HEIGHT, x:x + WIDTH]
            score = float(window.std()) + float(window.max() - window.min())
            if score > best_score:
                best, best_score = window, score
    return np.ascontiguousarray(best)


def main():
    os.makedirs(OUT, exist_ok=True)
    source = busiest_window(skimage.data.astronaut())
    rgb = Image.fromarray(source, "RGB")
    gray = rgb.convert("L")
    blob = bytearray()
    entries = []

    def add(name, data, **fields):
        fields = {k: v for k, v in fields.items() if v is not None}
        entries.append(dict(name=name, offset=len(blob), length=len(data), **fields))
        blob.extend(data)

    add("source-rgb", rgb.tobytes(), width=WIDTH, height=HEIGHT, channels=3)
    add("source-l", gray.tobytes(), width=WIDTH, height=HEIGHT, channels=1)
    for filter_name, resample in FILTERS.items():
        for (w, h, box) in CASES:
            out = rgb.resize((w, h), resample, box=box)
            add("resize", out.tobytes(), filter=filter_name, channels=3, width=w, height=h,
                box=list(box) if box else None)
    for (w, h, box) in CASES:
        out = gray.resize((w, h), Image.Resampling.BICUBIC, box=box)
        add("resize", out.tobytes(), filter="bicubic", channels=1, width=w, height=h,
            box=list(box) if box else None)

    with open(os.path.join(OUT, "pillow-resize.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(OUT, "pillow-resize.json"), "w") as f:
        # One entry a line: small, and a regenerated file diffs line by line.
        f.write('{"pillow": %s, "entries": [\n' % json.dumps(PIL.__version__))
        f.write(",\n".join(json.dumps(e, separators=(",", ":")) for e in entries))
        f.write("\n]}\n")
    print(f"Pillow {PIL.__version__}: {len(entries)} entries, {len(blob)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
