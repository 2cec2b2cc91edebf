"""Two or more ringtrain builds (or wrapper scripts that set an environment switch) compared on
the two-thread speed-up of the conv ops and on training images/s: each round runs
`bench kernels --json --threads THREADS --repeats 21` of every build in turn (first one first on
odd rounds, last one first on even rounds) and keeps `speedup_vs_one_thread` (one-thread and
N-thread repetitions taken in turn inside one process) and `train_images_per_sec`. Prints each
build's median over the rounds and every round's value.

usage: compare_scaling.py ROUNDS THREADS BINARY [BINARY ...]
"""
import json
import statistics
import subprocess
import sys

OPS = ["conv1-op-forward", "conv1-op-backward", "conv1-pool-op-forward", "conv1-pool-op-backward",
       "conv2-op-forward", "conv2-op-backward"]


def main():
    rounds, threads, binaries = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    values = {b: {name: [] for name in OPS + ["images/s"]} for b in binaries}
    for r in range(rounds):
        for b in (binaries if r % 2 == 0 else list(reversed(binaries))):
            out = subprocess.run([b, "bench", "kernels", "--json", "--threads", threads, "--repeats", "21"],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out)
            for x in result["results"]:
                if x["name"] in OPS:
                    values[b][x["name"]].append(x["speedup_vs_one_thread"])
            values[b]["images/s"].append(result["train_images_per_sec"])
    print("median over %d rounds: %s-thread speed-up over one thread; training images/s" % (rounds, threads))
    print("%-24s" % "" + "".join("%14s" % b[-14:] for b in binaries))
    for name in OPS + ["images/s"]:
        cells = "".join("%14.2f" % statistics.median(values[b][name]) for b in binaries)
        rows = " | ".join(" ".join("%.2f" % x if x < 100 else "%.0f" % x for x in values[b][name]) for b in binaries)
        print("%-24s" % name + cells + "   " + rows)


if __name__ == "__main__":
    main()
