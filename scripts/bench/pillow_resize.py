#!/usr/bin/env python3
"""Pillow's side of scripts/bench-resize.sh: writes the benchmark photo (skimage's astronaut,
centre-cropped to 4:3 and reduced to 500x375 with LANCZOS) as raw RGB, then times
Image.resize for the sizes and filters imaging_resize.swift times.

    pillow_resize.py OUT.rgb           prints "pillow FILTER WxH MICROSECONDS" lines
Statistic: median over 15 repeats of the mean time of n calls (timeit), n chosen so a repeat
takes >= 30 ms, like the Swift side. Time is the thread's CPU time (time.thread_time), not the
wall clock: on a shared machine the wall clock also counts the time other processes hold the
core."""
import statistics
import sys
import time
import timeit

import numpy as np
import skimage.data
from PIL import Image

photo = Image.fromarray(skimage.data.astronaut())  # 512x512
photo = photo.crop((0, 64, 512, 448)).resize((500, 375), Image.Resampling.LANCZOS)
with open(sys.argv[1], "wb") as f:
    f.write(photo.tobytes())
w, h = photo.size
filters = [("bicubic", Image.Resampling.BICUBIC), ("bilinear", Image.Resampling.BILINEAR),
           ("area", Image.Resampling.BOX), ("nearest", Image.Resampling.NEAREST)]
for name, resample in filters:
    for size in [(64, 64), (224, 224), (w * 256 // h, 256)]:
        timer = timeit.Timer(lambda: photo.resize(size, resample), timer=time.thread_time)
        n = 1
        while timer.timeit(n) < 0.03:
            n *= 2
        rounds = [t / n for t in timer.repeat(15, n)]
        print(f"pillow {name} {size[0]}x{size[1]} {statistics.median(rounds) * 1e6:.1f}", flush=True)
