#!/usr/bin/env python3
"""Writes a large synthetic prepared dataset straight in the format of docs/datasets.md
("The format, byte by byte"), for memory benchmarks: GB gigabytes of 3xSxS records whose pixels
are a learnable pattern (a bright quadrant per class) plus noise, 10 classes, a small test split.

  make_prepared_dataset.py OUT GB [--size 64]

Standard library only. It also shows the format can be written without RingTrain."""
import hashlib
import json
import os
import random
import struct
import sys


def main():
    out, gb = sys.argv[1], float(sys.argv[2])
    size = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--size" else 64
    c, h, w = 3, size, size
    record = c * h * w
    classes = 10
    rng = random.Random(1)
    # A few hundred distinct images per class, reused: enough to learn from, cheap to write.
    bank = []
    for k in range(classes):
        for v in range(32):
            img = bytearray(rng.getrandbits(8) // 4 for _ in range(record))
            qy, qx = (k // 5), (k % 5)
            for ch in range(c):
                for y in range(qy * h // 2, (qy + 1) * h // 2):
                    row = ch * h * w + y * w
                    for x in range(qx * w // 5, (qx + 1) * w // 5):
                        img[row + x] = 160 + (img[row + x] % 64)
            bank.append((k, bytes(img)))
    os.makedirs(out + "/shards", exist_ok=True)
    splits = {"train": int(gb * (1 << 30)) // record, "test": 2000}
    manifest_splits = {}
    for split, count in splits.items():
        per_shard = (256 << 20) // record
        shards, index, lines, counts = [], bytearray(), [], [0] * classes
        number = 0
        for start in range(0, count, per_shard):
            n = min(per_shard, count - start)
            name = "shards/%s-%05d.rtshard" % (split, number)
            digest = hashlib.sha256()
            with open(out + "/" + name, "wb") as f:
                f.write(b"RTSHARD\0" + struct.pack("<IIIIQ", 1, c, h, w, n) + bytes(4096 - 32))
                for slot in range(n):
                    k, img = bank[(start + slot) * 7919 % len(bank)]
                    f.write(img)
                    digest.update(img)
                    index += struct.pack("<IIi", number, slot, k)
                    counts[k] += 1
                    lines.append('{"bytes":0,"label":%d,"mtime_ns":0,"path":"%s/%d","pixels_sha256":"","sha256":"","shard":%d,"slot":%d}\n'
                                 % (k, split, start + slot, number, slot))
            shards.append({"file": name, "records": n, "bytes": 4096 + n * record, "sha256": digest.hexdigest()})
            number += 1
        header = b"RTINDEX\0" + struct.pack("<IIQ", 1, 12, count) + bytes(8)
        index = header + bytes(index)
        records = "".join(lines).encode()
        for fname, data in (("%s.index" % split, index), ("%s.records.jsonl" % split, records)):
            with open(out + "/" + fname, "wb") as f:
                f.write(data)
        manifest_splits[split] = {
            "count": count, "class_counts": counts,
            "index": {"file": "%s.index" % split, "bytes": len(index), "sha256": hashlib.sha256(index).hexdigest()},
            "records": {"file": "%s.records.jsonl" % split, "bytes": len(records), "sha256": hashlib.sha256(records).hexdigest()},
            "shards": shards}
    manifest = {"format": "ringtrain-prepared-dataset", "version": 1,
                "image": {"channels": c, "height": h, "width": w, "layout": "CHW", "dtype": "uint8"},
                "classes": ["class %d" % k for k in range(classes)],
                "preparation": {"source": "synthetic", "width": w, "height": h, "channels": c, "resize": "stretch",
                                "interpolation": "bicubic", "test_fraction": 0, "seed": 1,
                                "checks": {"min_size": 8, "skip_duplicates": False, "skip_near_constant": False}},
                "splits": manifest_splits,
                "normalization": {"mean": [0.3, 0.3, 0.3], "std": [0.25, 0.25, 0.25]}}
    with open(out + "/manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    print("wrote %s: %d training records of %dx%dx%d (%.1f GB)" % (out, splits["train"], c, h, w,
                                                                  splits["train"] * record / 1e9))


if __name__ == "__main__":
    main()
