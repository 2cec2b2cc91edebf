#!/usr/bin/env bash
# TPE against random search on Fashion-MNIST: small trials (fashion-cnn, 1 epoch on a 6,000
# image subset, validation top-1 on 1,200 held out), 3 seeds each. For each seed: the best
# validation top-1 random search finds in 16 trials, the trial at which random search first
# reached it, and the trial at which TPE first reached it (within 24 trials). Prints one row
# per seed (docs/benchmarks.md). A benchmark, not a test: about 10 minutes on 2 cores.
# Environment: SEEDS ("1 2 3")  THREADS (2)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
SEEDS="${SEEDS:-1 2 3}"; THREADS="${THREADS:-2}"
ensure_packages "${DATA_PACKAGES[@]}"
swift build -c release --product ringtrain >/dev/null
BIN="$PWD/.build/release/ringtrain"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step "a 6,000 + 1,000 image subset of Fashion-MNIST"
python3 - /usr/share/datasets/fashion-mnist "$WORK/data" <<'PY'
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
def subset(images, labels, n, prefix):
    with gzip.open(os.path.join(src, images)) as f: pixels = f.read()
    with gzip.open(os.path.join(src, labels)) as f: marks = f.read()
    with gzip.open(os.path.join(dst, images), "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28) + pixels[16:16 + n * 784])
    with gzip.open(os.path.join(dst, labels), "wb") as f:
        f.write(struct.pack(">II", 2049, n) + marks[8:8 + n])
subset("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 6000, "train")
subset("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 1000, "t10k")
PY
cat > "$WORK/base.json" <<JSON
{"model": "fashion-cnn", "data": "$WORK/data", "epochs": 1, "validation_fraction": 0.2, "threads": $THREADS,
 "progress_seconds": 600, "keep_checkpoints": 1}
JSON
cat > "$WORK/space.json" <<'JSON'
{"lr": {"log_uniform": [0.001, 1.0]}, "momentum": {"uniform": [0.0, 0.99]},
 "weight_decay": {"log_uniform": [0.000001, 0.01]}, "batch_size": {"choice": [32, 64, 128, 256]}}
JSON

search() {  # search METHOD TRIALS SEED: the trials' val_top1 in trial order, one per line
    "$BIN" tune --config "$WORK/base.json" --space "$WORK/space.json" --method "$1" --trials "$2" --seed "$3" \
        --dir "$WORK/$1-$3" >/dev/null 2>"$WORK/$1-$3.log" || { tail -20 "$WORK/$1-$3.log" >&2; exit 1; }
    python3 -c 'import json, sys; [print(t["results"][0]) for t in json.load(open(sys.argv[1]))["trials"]]' "$WORK/$1-$3/tune.json"
}

for seed in $SEEDS; do
    step "seed $seed: random search, 16 trials; TPE, 24 trials"
    search random 16 "$seed" > "$WORK/random-$seed.txt"
    search tpe 24 "$seed" > "$WORK/tpe-$seed.txt"
    python3 - "$seed" "$WORK/random-$seed.txt" "$WORK/tpe-$seed.txt" <<'PY'
import sys
seed, r, t = sys.argv[1], [float(x) for x in open(sys.argv[2])], [float(x) for x in open(sys.argv[3])]
target = max(r)
first = lambda xs: next((i + 1 for i, x in enumerate(xs) if x >= target), None)
tpe = first(t)
print(f"seed {seed}: random's best of 16 {target*100:.2f}% (reached at trial {first(r)}); "
      f"TPE reaches it at trial {tpe if tpe else '>24'}; TPE's best of 24 {max(t)*100:.2f}%, of its first 16 {max(t[:16])*100:.2f}%")
PY
done
