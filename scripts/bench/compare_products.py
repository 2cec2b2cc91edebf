"""OpenBLAS (numpy's sgemm) against `ringtrain bench kernels` on the same product shapes,
1 thread, alternating runs: on a shared machine the speed of memory moves by 20-50% from one
minute to the next, so only figures taken in turn are compared. Prints one row per product
with both medians (ms), the ratio OpenBLAS ms / RingTrain ms (above 1: RingTrain faster), the
same ratio of the fastest runs, and every run's value.

usage: compare_products.py RINGTRAIN_BINARY ROUNDS
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def openblas_run():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_fashion_cnn.py"), "sgemm"],
                         env=env, check=True, capture_output=True, text=True).stdout
    times = {}
    for line in out.splitlines():
        name, ms = line.split()[:2]
        times[name] = float(ms)
    return times


def ringtrain_run(binary):
    out = subprocess.run([binary, "bench", "kernels", "--json", "--threads", "1"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    return {r["name"]: r["ms"] for r in report["results"]}, report["peak_gflops_per_thread"]


def main():
    binary, rounds = sys.argv[1], int(sys.argv[2])
    ours, theirs, peaks = {}, {}, []
    for _ in range(rounds):
        for name, ms in openblas_run().items():
            theirs.setdefault(name, []).append(ms)
        times, peak = ringtrain_run(binary)
        peaks.append(peak)
        for name, ms in times.items():
            ours.setdefault(name, []).append(ms)
    print("FMA peak per thread (register-only loop), per run: %s GFLOP/s"
          % " ".join("%.1f" % p for p in peaks))
    # Medians, and the fastest run of each side: noise from other tenants only ever slows a
    # run down, so the fastest runs are the two codes' figures on an idle core.
    print("%-24s %12s %13s %7s %10s   %s" % ("product", "OpenBLAS ms", "RingTrain ms", "ratio", "best ratio",
                                              "runs (OpenBLAS | RingTrain)"))
    for name in theirs:
        if name not in ours:
            continue
        t, o = median(theirs[name]), median(ours[name])
        print("%-24s %12.3f %13.3f %6.2fx %9.2fx   %s | %s" % (
            name, t, o, t / o, min(theirs[name]) / min(ours[name]),
            " ".join("%.2f" % x for x in theirs[name]), " ".join("%.2f" % x for x in ours[name])))
    if "gemm-1024" in ours and "gemm-1024" in theirs:
        flops = 2.0 * 1024 ** 3
        g_ours, g_theirs = flops / median(ours["gemm-1024"]) / 1e6, flops / median(theirs["gemm-1024"]) / 1e6
        print("gemm-1024: OpenBLAS %.1f GFLOP/s, RingTrain %.1f GFLOP/s = %.0f%% of the median FMA peak"
              % (g_theirs, g_ours, 100 * g_ours / median(peaks)))


if __name__ == "__main__":
    main()
