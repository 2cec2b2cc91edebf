"""Reads a TensorBoard log directory with TensorBoard's own event reader and checks that
the scalars RingTrain wrote are there.

    check-tensorboard.py LOGDIR TAG [TAG ...]

Prints every scalar tag with its number of points and first/last (step, value); exits 1 if
a TAG is missing or has no points, or if the reader finds no scalars at all."""
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    logdir, wanted = sys.argv[1], sys.argv[2:]
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0})
    acc.Reload()
    tags = sorted(acc.Tags().get("scalars", []))
    if not tags:
        print(f"check-tensorboard: no scalars in {logdir}", file=sys.stderr)
        return 1
    for tag in tags:
        points = acc.Scalars(tag)
        first, last = points[0], points[-1]
        print(f"{tag:45s} {len(points):5d} points  first (step {first.step}, {first.value:.6g})"
              f"  last (step {last.step}, {last.value:.6g})")
    missing = [t for t in wanted if t not in tags or not acc.Scalars(t)]
    if missing:
        print(f"check-tensorboard: missing scalars in {logdir}: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"check-tensorboard: {len(tags)} scalar tags read by TensorBoard's EventAccumulator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
