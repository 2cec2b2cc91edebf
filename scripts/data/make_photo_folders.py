#!/usr/bin/env python3
"""Image folders made from real colour photographs: the sample images scikit-image ships
(skimage.data: astronaut, chelsea the cat, coffee, rocket, ...), all of them photographs.

  make_photo_folders.py crops OUT [--per-class 120] [--seed 1]
      OUT/<photo>/<n>.jpg: random square crops of each photo (40-100% of its shorter side),
      resized to 96x96, JPEG quality 90: a small labelled colour dataset ("which photo is this
      crop from"), to show the colour path end to end.
  make_photo_folders.py bench OUT [--count 400] [--seed 1]
      OUT/<photo>/<n>.jpg: photo-sized 500x375 quality-90 JPEGs (random crops of the photos
      resized to 500x375), the files scripts/bench-data.sh times RingTrain and Pillow on.

Needs Pillow, numpy and scikit-image (scripts/bench-data.sh and the tests make the venv).
"""
import argparse
import os
import random

import numpy as np
from PIL import Image
from skimage import data

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "hubble_deep_field"]


def photos():
    out = {}
    for name in PHOTOS:
        fn = getattr(data, name, None)
        if fn is None:
            continue
        try:
            a = fn()
        except Exception:  # a sample that needs a download (pooch) is left out
            continue
        if a.ndim == 3 and a.shape[2] in (3, 4):
            out[name] = Image.fromarray(np.ascontiguousarray(a[:, :, :3]))
    return out


def random_crop(img, rng, lo, hi, aspect=1.0):
    w, h = img.size
    side = rng.uniform(lo, hi) * min(w, h / aspect)
    cw, ch = int(side), int(side * aspect)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["crops", "bench"])
    p.add_argument("out")
    p.add_argument("--per-class", type=int, default=120)
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    imgs = photos()
    n = 0
    for name, img in sorted(imgs.items()):
        os.makedirs(os.path.join(a.out, name), exist_ok=True)
        k = a.per_class if a.mode == "crops" else max(1, a.count // len(imgs))
        for i in range(k):
            if a.mode == "crops":
                c = random_crop(img, rng, 0.4, 1.0).resize((96, 96), Image.BICUBIC)
            else:
                c = random_crop(img, rng, 0.6, 1.0, aspect=0.75).resize((500, 375), Image.BICUBIC)
            c.save(os.path.join(a.out, name, "%04d.jpg" % i), quality=90)
            n += 1
    print("wrote %d JPEG files of %d photos (%s) to %s" % (n, len(imgs), ", ".join(sorted(imgs)), a.out))


if __name__ == "__main__":
    main()
