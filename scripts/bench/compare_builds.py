"""Two or more ringtrain builds against one yardstick: each build's `bench kernels --openblas LIB`
ratios (OpenBLAS ms / ours, taken repetition by repetition in one process), over several rounds
that run the builds in turn, first one first on odd rounds and last one first on even rounds.
The shared machines this was written on change memory speed by 20-50% from minute to minute;
a ratio against OpenBLAS taken in the same second moves far less than either time, so two
builds are compared through their ratios. Prints, per product, each build's median ratio over
the rounds and every round's ratio.

usage: compare_builds.py OPENBLAS_LIB ROUNDS THREADS BINARY [BINARY ...]
"""
import json
import subprocess
import sys


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def run(binary, lib, threads):
    out = subprocess.run([binary, "bench", "kernels", "--json", "--threads", str(threads), "--repeats", "21",
                          "--openblas", lib], check=True, capture_output=True, text=True).stdout
    return {r["name"]: r["openblas_ratio"] for r in json.loads(out)["results"] if "openblas_ratio" in r}


def main():
    lib, rounds, threads, binaries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    ratios = {b: {} for b in binaries}
    for r in range(rounds):
        for b in (binaries if r % 2 == 0 else list(reversed(binaries))):
            for name, x in run(b, lib, threads).items():
                ratios[b].setdefault(name, []).append(x)
    print("ratio = OpenBLAS ms / RingTrain ms (above 1: RingTrain faster); median over %d rounds" % rounds)
    print("%-24s" % "product" + "".join("%14s" % b[-14:] for b in binaries))
    for name in ratios[binaries[0]]:
        print("%-24s" % name + "".join("%13.3fx" % median(ratios[b][name]) for b in binaries)
              + "   " + " | ".join(" ".join("%.2f" % x for x in ratios[b][name]) for b in binaries))


if __name__ == "__main__":
    main()
