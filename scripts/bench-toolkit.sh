#!/usr/bin/env bash
# Short real-data runs of the training toolkit on Fashion-MNIST, each beside its baseline:
# L1, gradient accumulation, the weight average (EMA), test-time flips, and on a class-
# imbalanced subset, undersampling and oversampling against plain shuffling. Prints one row
# per run (docs/benchmarks.md). A benchmark, not a test: about 10 minutes on 2 cores.
# Environment: EPOCHS (2)  THREADS (2)  SEED (1)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
EPOCHS="${EPOCHS:-2}"; THREADS="${THREADS:-2}"; SEED="${SEED:-1}"
ensure_packages "${DATA_PACKAGES[@]}"
swift build -c release --product ringtrain >/dev/null
BIN="$PWD/.build/release/ringtrain"
FASHION=/usr/share/datasets/fashion-mnist
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 10% of the training split trains (validation_fraction 0.9), the full test split tests.
common=(--epochs "$EPOCHS" --threads "$THREADS" --seed "$SEED" --validation-fraction 0.9 --json)

row() {  # row LABEL RUN_DIR [EXTRA]: test top-1, balanced accuracy (mean recall), EMA top-1
    python3 - "$@" <<'PY'
import json, sys
label, run = sys.argv[1], sys.argv[2]
extra = sys.argv[3] if len(sys.argv) > 3 else ""
s = json.load(open(run + "/summary.json"))
recall = [c["recall"] for c in s.get("per_class", [])]
balanced = sum(recall) / len(recall) if recall else float("nan")
ema = s.get("ema_test_top1")
print(f"{label:<44} steps {s['final_step']:>4}  test top-1 {s['test_top1']*100:6.2f}%  balanced {balanced*100:6.2f}%"
      + (f"  EMA top-1 {ema*100:6.2f}%" if ema is not None else "") + (f"  {extra}" if extra else ""))
PY
}

train() {  # train NAME ARGS...: a run into $WORK/NAME
    local name="$1"; shift
    "$BIN" train "${common[@]}" --run-dir "$WORK/$name" "$@" >/dev/null 2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; exit 1; }
}

weight_stats() {  # the fraction of conv/linear weights below 1e-3 in magnitude, and sum |w|
    python3 - "$1" <<'PY'
import json, struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    base = 8 + n
    small = total = 0; l1 = 0.0
    for name, t in header.items():
        if name == "__metadata__" or not name.endswith(".weight") or name.startswith(("optimizer.", "ema.", "residual.")): continue
        if len(t["shape"]) < 2: continue
        f.seek(base + t["data_offsets"][0])
        count = (t["data_offsets"][1] - t["data_offsets"][0]) // 4
        values = struct.unpack(f"<{count}f", f.read(count * 4))
        small += sum(1 for v in values if abs(v) < 1e-3); total += count; l1 += sum(abs(v) for v in values)
print(f"weights |w|<1e-3: {small/total*100:.1f}%  sum|w| {l1:.0f}")
PY
}
latest() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }

step "baseline and L1"
train base
row "baseline (batch 128)" "$WORK/base" "$(weight_stats "$(latest "$WORK/base")")"
train l1 --l1 2e-4
row "l1 2e-4" "$WORK/l1" "$(weight_stats "$(latest "$WORK/l1")")"

step "gradient accumulation"
train accumulate --batch-size 32 --accumulate-steps 4
row "batch 32 x accumulate_steps 4" "$WORK/accumulate"
train small --batch-size 32
row "batch 32 (4x the steps)" "$WORK/small"

step "weight average"
train ema --ema-decay 0.99
row "ema_decay 0.99 (raw test top-1, EMA beside)" "$WORK/ema"

step "test-time flips"
train flip --flip
tta="$("$BIN" evaluate --checkpoint "$(latest "$WORK/flip")" --tta flip --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("evaluate --tta flip: top-1 %.2f%% (plain %.2f%%)" % (r["tta_figures"]["top1"] * 100, r["top1"] * 100))')"
row "trained with --flip" "$WORK/flip" "$tta"

step "class imbalance: 6000 images of classes 0-4, 300 of classes 5-9"
python3 - "$FASHION" "$WORK/imbalanced" <<'PY'
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
def read(name):
    with gzip.open(os.path.join(src, name)) as f: return f.read()
images, labels = read("train-images-idx3-ubyte.gz"), read("train-labels-idx1-ubyte.gz")
keep, seen = [], [0] * 10
for i in range(60000):
    c = labels[8 + i]
    if seen[c] < (6000 if c < 5 else 300): keep.append(i); seen[c] += 1
with gzip.open(os.path.join(dst, "train-images-idx3-ubyte.gz"), "wb") as f:
    f.write(struct.pack(">IIII", 2051, len(keep), 28, 28))
    for i in keep: f.write(images[16 + i * 784:16 + (i + 1) * 784])
with gzip.open(os.path.join(dst, "train-labels-idx1-ubyte.gz"), "wb") as f:
    f.write(struct.pack(">II", 2049, len(keep)) + bytes(labels[8 + i] for i in keep))
for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    with open(os.path.join(dst, name), "wb") as f: f.write(open(os.path.join(src, name), "rb").read())
PY
common=(--epochs "$EPOCHS" --threads "$THREADS" --seed "$SEED" --validation-fraction 0.1 --json --data "$WORK/imbalanced")
train shuffled
row "imbalanced, shuffled" "$WORK/shuffled"
train undersample --sampler undersample
row "imbalanced, sampler undersample" "$WORK/undersample"
train oversample --sampler balanced --samples-per-class 1200
row "imbalanced, sampler balanced (1200 per class)" "$WORK/oversample"
