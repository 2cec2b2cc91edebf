#!/usr/bin/env python3
"""Pillow's side of scripts/bench-data.sh: Image.open(f).convert("RGB").resize(size, BICUBIC)
over every image file under DIR, in PROCS processes (multiprocessing, one chunk of files each),
timed whole. Prints one JSON line: images, seconds, images_per_sec."""
import json
import multiprocessing
import os
import sys
import time

from PIL import Image


def files(root):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.join(d, n) for n in names if n.lower().endswith((".jpg", ".jpeg", ".png"))]
    return sorted(out)


def work(args):
    paths, size = args
    total = 0
    for p in paths:
        with Image.open(p) as im:
            total += im.convert("RGB").resize((size, size), Image.BICUBIC).size[0]
    return total


def main():
    root, size, procs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    paths = files(root)
    chunks = [(paths[i::procs], size) for i in range(procs)]
    start = time.perf_counter()
    if procs == 1:
        work(chunks[0])
    else:
        with multiprocessing.Pool(procs) as pool:
            pool.map(work, chunks)
    seconds = time.perf_counter() - start
    print(json.dumps({"images": len(paths), "seconds": seconds, "images_per_sec": len(paths) / seconds}))


if __name__ == "__main__":
    main()
