#!/usr/bin/env python3
"""Resizes skimage's photographs with Pillow and with the Imaging library (the CLI that
scripts/check-resize-vs-pillow.sh builds) and compares the bytes: every filter, shrink, enlarge,
shorter side 256, a fractional box, an odd size; RGB and gray (camera).
    resize_vs_pillow.py CLI WORKDIR"""
import itertools
import os
import subprocess
import sys

import numpy as np
import skimage.data as d
from PIL import Image

cli, work = sys.argv[1], sys.argv[2]
src, dst = os.path.join(work, "in.raw"), os.path.join(work, "out.raw")
F = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "area": Image.BOX}
photos = {"astronaut": d.astronaut(), "chelsea": d.chelsea(), "coffee": d.coffee(), "rocket": d.rocket(), "camera": d.camera()}
total = 0; worst = 0; diffpx = 0; npx = 0
for name, arr in photos.items():
    im = Image.fromarray(arr)
    c = 1 if im.mode == "L" else 3
    open(src, "wb").write(im.tobytes())
    W, H = im.size
    shorter256 = (W * 256 // H, 256) if W >= H else (256, H * 256 // W)
    cases = [((224, 224), None), ((64, 64), None), (shorter256, None),
             ((1000, 700), None), ((300, 300), (W * 0.1, H * 0.05, W * 0.83, H * 0.97)), ((97, 31), None)]
    for (size, box), f in itertools.product(cases, F):
        args = [cli, src, str(W), str(H), str(c), str(size[0]), str(size[1]), f]
        args += [repr(v) for v in box] if box else ["-", "0", "0", "0"]
        args.append(dst)
        subprocess.run(args, check=True)
        ours = np.frombuffer(open(dst, "rb").read(), np.uint8)
        theirs = np.frombuffer(im.resize(size, F[f], box=box).tobytes(), np.uint8)
        diff = np.abs(ours.astype(int) - theirs.astype(int))
        worst = max(worst, int(diff.max())); diffpx += int((diff != 0).sum()); npx += diff.size; total += 1
        if diff.max(): print("DIFF", name, size, box, f, diff.max(), (diff != 0).sum())
if worst:
    sys.exit(f"FAILED: {total} resizes, max abs difference {worst}, bytes differing {diffpx}")
print(f"{total} resizes of {len(photos)} photos, {npx} bytes: max abs difference {worst}, bytes differing {diffpx}")
