"""Times onnxruntime inference on a model written by `ringtrain export` (CPU provider).

usage: onnxruntime_inference.py MODEL.onnx [BATCH [THREADS [REPEATS]]]
    BATCH    images per run (default 128)
    THREADS  comma-separated intra_op_num_threads values (default 1,2)
    REPEATS  timed runs per thread count, after 5 warm-up runs (default 30)

Prints one line per thread count: images/s of the median run, and the fastest and slowest.
The input is uniform in [0, 1] (pixel/255, what the exported graph takes); the timings do not
depend on the values. Run it with the venv of scripts/check-onnx.sh:
    .build-tools/venv-onnx/bin/python scripts/bench/onnxruntime_inference.py model.onnx 128 1,2
"""
import platform
import sys
import time

import numpy as np
import onnxruntime as ort


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def time_session(path, batch, threads, repeats):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    dims = [d for d in session.get_inputs()[0].shape[1:]]
    x = np.random.default_rng(0).random([batch] + dims, dtype=np.float32)
    feed = {session.get_inputs()[0].name: x}
    for _ in range(5):
        session.run(["logits"], feed)
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(["logits"], feed)
        seconds.append(time.perf_counter() - t0)
    seconds.sort()
    return batch / seconds[len(seconds) // 2], batch / seconds[-1], batch / seconds[0]


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    threads = [int(t) for t in (sys.argv[3] if len(sys.argv) > 3 else "1,2").split(",")]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    print(f"onnxruntime {ort.__version__} CPUExecutionProvider on {cpu_name()}")
    for t in threads:
        median, slowest, fastest = time_session(path, batch, t, repeats)
        print(f"{path}: batch {batch}, {t} thread(s): {median:,.0f} images/s median "
              f"({slowest:,.0f}-{fastest:,.0f} over {repeats} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
