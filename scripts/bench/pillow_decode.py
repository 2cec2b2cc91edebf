"""Pillow's side of the image-decoding benchmark (Tests/ImageCodecsTests/DecodeBenchmark.swift).

  python pillow_decode.py prepare DIR   scikit-image's sample photos, centre-cropped to 4:3 and
                                        resized to 500 x 375 (Lanczos), as DIR/<name>.png
  python pillow_decode.py measure DIR   decodes DIR/jpeg/*.jpg (written by the Swift benchmark
                                        with our encoder) with Pillow, one thread, images/s

Needs pillow (and scikit-image for `prepare`) in a venv. The decodes mirror ours: Image.load()
for RGB, draft("L") for the Y plane, draft("RGB", size) for DCT scaling (Pillow picks only
1/1, 1/2, 1/4, 1/8, from floor(size / minimum), so 500 x 375 at 224 x 224 stays full size).
"""
import glob
import io
import os
import sys
import time

from PIL import Image

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "motorcycle"]


def prepare(folder):
    import numpy as np
    from skimage import data

    os.makedirs(folder, exist_ok=True)
    for name in PHOTOS:
        try:
            pixels = getattr(data, name)() if name != "motorcycle" else data.stereo_motorcycle()[0]
        except Exception as error:  # a sample that needs a download: skip it
            print(f"skip {name}: {error}")
            continue
        image = Image.fromarray(np.asarray(pixels)).convert("RGB")
        w, h = image.size
        if w * 3 > h * 4:
            crop_w = h * 4 // 3
            image = image.crop(((w - crop_w) // 2, 0, (w - crop_w) // 2 + crop_w, h))
        else:
            crop_h = w * 3 // 4
            image = image.crop((0, (h - crop_h) // 2, w, (h - crop_h) // 2 + crop_h))
        image.resize((500, 375), Image.LANCZOS).save(os.path.join(folder, f"{name}.png"))
        print(f"wrote {name}.png")


def rate(files, decode, seconds=2.0):
    """Calls per second of this thread's CPU time (the machine may be shared), as the Swift side."""
    for i in range(20):
        decode(files[i % len(files)])
    calls, start = 0, time.thread_time()
    while time.thread_time() - start < seconds:
        for _ in range(20):
            decode(files[calls % len(files)])
            calls += 1
    return calls / (time.thread_time() - start)


def measure(folder):
    files = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(folder, "jpeg", "*.jpg")))]
    if not files:
        sys.exit(f"no JPEGs in {folder}/jpeg: run the Swift benchmark with RINGTRAIN_IMAGE_BENCH_DIR={folder} first")

    def full(b):
        Image.open(io.BytesIO(b)).load()

    def grey(b):
        im = Image.open(io.BytesIO(b))
        im.draft("L", None)
        im.load()

    def drafted(size):
        def run(b):
            im = Image.open(io.BytesIO(b))
            im.draft("RGB", size)
            im.load()
        return run

    import PIL
    print(f"Pillow {PIL.__version__}: {len(files)} JPEGs, 1 thread, per CPU second")
    for name, fn in [("full size, RGB", full), ("full size, grey (draft L)", grey),
                     ("draft 224x224 (stays 1/1), RGB", drafted((224, 224))), ("draft 64x64 (1/4), RGB", drafted((64, 64)))]:
        r = rate(files, fn)
        print(f"  {name:38s} {r:8.0f} images/s  ({1000 / r:.3f} ms CPU each)")


if __name__ == "__main__":
    {"prepare": prepare, "measure": measure}[sys.argv[1]](sys.argv[2])
