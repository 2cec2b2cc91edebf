#!/usr/bin/env python3
"""Writes torchvision's outputs that Tests/ImagingTests compares the Imaging colour, geometry
and TrivialAugment operations with.

Needs torch and torchvision (CPU is enough), e.g.
    python3 -m venv .build-tools/venv-torch
    .build-tools/venv-torch/bin/pip install torch torchvision
    .build-tools/venv-torch/bin/python scripts/make-augment-fixtures.py

Output (checked in, about 20 KB): Tests/ImagingTests/Fixtures/torchvision-augment.bin (float32
little-endian images back to back) and torchvision-augment.json (what each one is). The input
is a 3x4x6 float image of k/255 values (a uint8 image through to_dtype(float32, scale=True)).
The test suite reads them; it never needs torch.
"""
import json
import os
import sys

import torch
import torchvision
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import TrivialAugmentWide, RandAugment
from torchvision.transforms.v2 import functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ImagingTests", "Fixtures")
C, H, W = 3, 4, 6


def main():
    generator = torch.Generator().manual_seed(20261203)
    image_u8 = torch.randint(0, 256, (C, H, W), dtype=torch.uint8, generator=generator)
    image_u8[:, 0, 0] = torch.tensor([0, 255, 128], dtype=torch.uint8)  # extremes and a gray
    image = F.to_dtype(image_u8, torch.float32, scale=True)
    blob = bytearray()
    entries = []

    def add(kind, tensor, **fields):
        data = tensor.contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        entries.append(dict(kind=kind, offset=len(blob), count=tensor.numel(), **fields))
        blob.extend(data)

    add("input", image, channels=C, height=H, width=W)
    for f in (0.4, 1.9):
        add("brightness", F.adjust_brightness(image, f), factor=f)
        add("saturation", F.adjust_saturation(image, f), factor=f)
        add("contrast", F.adjust_contrast(image, f), factor=f)
        add("sharpness", F.adjust_sharpness(image, f), factor=f)
    for h in (-0.5, -0.2, 0.15):
        add("hue", F.adjust_hue(image, h), shift=h)
    add("grayscale", F.rgb_to_grayscale(image, num_output_channels=3))
    for bits in (1, 3, 7):
        # Posterize on the uint8 image (what the Imaging op implements), shown as float.
        add("posterize", F.to_dtype(F.posterize(image_u8, bits), torch.float32, scale=True), bits=bits)
    for t in (0.5, 0.9666666388511658):
        add("solarize", F.solarize(image, t), threshold=t)
    add("autocontrast", F.autocontrast(image))
    add("equalize", F.equalize(image))
    add("invert", F.invert(image))
    add("erase", F.erase(image, 1, 2, 3, 2, torch.tensor([-1.5, 0.25, 2.0]).view(3, 1, 1)),
        x=2, y=1, w=2, h=3, value=[-1.5, 0.25, 2.0])
    add("rotate-bilinear", F.rotate(image, 33.0, interpolation=InterpolationMode.BILINEAR, fill=[0.5]),
        degrees=33.0, fill=0.5)
    add("affine-bilinear", F.affine(image, angle=-12.0, translate=[1, -1], scale=1.1, shear=[8.0, -5.0],
                                    interpolation=InterpolationMode.BILINEAR, fill=[0.2, 0.4, 0.6]),
        angle=-12.0, translate=[1, -1], scale=1.1, shear=[8.0, -5.0], fill=[0.2, 0.4, 0.6])

    # Every TrivialAugmentWide op at a few (bin, sign), through its own apply function.
    ta = TrivialAugmentWide()
    for op_index, op in enumerate(ta._AUGMENTATION_SPACE):
        magnitudes_fn, signed = ta._AUGMENTATION_SPACE[op]
        magnitudes = magnitudes_fn(31, H, W)
        for bin_index, negative in ((10, True), (22, False)):
            if magnitudes is None and bin_index != 10:
                continue
            magnitude = float(magnitudes[bin_index]) if magnitudes is not None else 0.0
            if signed and negative:
                magnitude = -magnitude
            if op == "Posterize":
                u8 = ta._apply_image_or_video_transform(image_u8, op, magnitude, InterpolationMode.NEAREST, ta._fill)
                out = F.to_dtype(u8, torch.float32, scale=True)
            else:
                out = ta._apply_image_or_video_transform(image, op, magnitude, InterpolationMode.NEAREST, ta._fill)
            add("trivial", out, op=op, opIndex=op_index, bin=bin_index, negative=negative, magnitude=magnitude)

    # The magnitude tables, float32 in the .bin (31 values an op; ops without magnitudes: none).
    spaces = {}
    for name, space, size in (("trivial", TrivialAugmentWide._AUGMENTATION_SPACE, (H, W)),
                              ("rand-224x160", RandAugment._AUGMENTATION_SPACE, (160, 224))):
        spaces[name] = []
        for op, (magnitudes_fn, signed) in space.items():
            magnitudes = magnitudes_fn(31, size[0], size[1])
            entry = dict(op=op, signed=signed)
            if magnitudes is not None:
                entry["offset"] = len(blob)
                blob.extend(magnitudes.to(torch.float32).numpy().astype("<f4").tobytes())
            spaces[name].append(entry)

    with open(os.path.join(OUT, "torchvision-augment.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(OUT, "torchvision-augment.json"), "w") as f:
        f.write('{"torch": %s, "torchvision": %s,\n' % (json.dumps(torch.__version__), json.dumps(torchvision.__version__)))
        f.write('"spaces": %s,\n' % json.dumps(spaces, separators=(",", ":")))
        f.write('"entries": [\n' + ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries) + "\n]}\n")
    print(f"torch {torch.__version__}: {len(entries)} entries, {len(blob)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
