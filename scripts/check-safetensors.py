#!/usr/bin/env python3
"""Loads a RingTrain checkpoint with the reference `safetensors` package and checks it.

Not part of the test suite: an independent check that RingTrain's files are plain
safetensors and that the checksums are what docs/checkpoint-format.md says.

    python3 -m venv /tmp/st && /tmp/st/bin/pip install safetensors numpy
    /tmp/st/bin/python scripts/check-safetensors.py RUN_DIR/checkpoints/step-00001200.safetensors

Prints every tensor (name, shape, dtype) and the metadata keys, recomputes
ringtrain.data_sha256 and ringtrain.header_sha256, and exits 1 on any mismatch.
"""
import hashlib
import json
import struct
import sys

try:
    from safetensors import safe_open
    from safetensors.numpy import load_file
except ImportError:
    sys.exit("check-safetensors: needs the safetensors and numpy packages: pip install safetensors numpy")

HEADER_KEY = b'"ringtrain.header_sha256":"'


def check(path):
    problems = []
    try:
        tensors = load_file(path)  # the reference reader validates the layout itself
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
    except Exception as e:  # SafetensorError, OSError
        print(f"{path}: the safetensors package rejects it: {e}", file=sys.stderr)
        return False
    for name in sorted(tensors):
        t = tensors[name]
        print(f"{name:60s} {str(list(t.shape)):20s} {t.dtype}")
    print("metadata keys:", ", ".join(sorted(metadata)))

    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header, data = raw[8:8 + n], raw[8 + n:]
    if n % 8 != 0:
        problems.append(f"header length {n} is not a multiple of 8")

    want = metadata.get("ringtrain.data_sha256")
    got = hashlib.sha256(data).hexdigest()
    if want != got:
        problems.append(f"data section SHA-256: stored {want}, computed {got}")

    at = header.find(HEADER_KEY)
    if at < 0 or header.count(HEADER_KEY) != 1:
        problems.append("ringtrain.header_sha256 missing or repeated")
    else:
        start = at + len(HEADER_KEY)
        stored = header[start:start + 64].decode("ascii", "replace")
        blanked = header[:start] + b"0" * 64 + header[start + 64:]
        got = hashlib.sha256(blanked).hexdigest()
        if stored != got or metadata.get("ringtrain.header_sha256") != stored:
            problems.append(f"header SHA-256: stored {stored}, computed {got}")

    state = metadata.get("ringtrain.state")
    if state is not None:
        try:
            s = json.loads(state)
            print("ringtrain.state keys:", ", ".join(sorted(s)) if isinstance(s, dict) else type(s).__name__)
        except ValueError as e:
            problems.append(f"ringtrain.state is not JSON: {e}")

    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    print(f"{path}: {'FAILED' if problems else 'ok'} ({len(tensors)} tensors, {len(data)} data bytes)")
    return not problems


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ok = all([check(p) for p in sys.argv[1:]])
    sys.exit(0 if ok else 1)
