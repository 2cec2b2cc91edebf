"""Checks an ONNX model written by `ringtrain export` with the reference implementations.

    check-onnx.py MODEL.onnx INPUT.npy EXPECTED_LOGITS.npy [--tolerance 1e-4]
    check-onnx.py MODEL.onnx --check-only

1. onnx.checker.check_model(model, full_check=True): the schema of every node, and strict
   shape inference over the whole graph.
2. (not with --check-only) an onnxruntime CPU session runs INPUT (float32 [N, C, H, W], pixels
   in [0, 1]) and its `logits` are compared with EXPECTED (RingTrain's own logits for the same
   images): the max relative difference |onnx - ours| / max(|ours|, 1) must be <= the
   tolerance, and `probabilities` must be the softmax of the logits (within 1e-5). The top-1
   agreement is printed, not required (a near tie may flip within the tolerance).

Prints one line per check; the comparison line reads
`max relative difference R (max absolute A) over N logits, top-1 agreement K/M`.
Exit 0 when everything holds, 1 when a check fails, 2 on bad usage.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def parse(argv):
    args, tolerance, check_only = [], 1e-4, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--check-only":
            check_only = True
        elif a == "--tolerance" and i + 1 < len(argv):
            tolerance = float(argv[i + 1])
            i += 1
        else:
            args.append(a)
        i += 1
    if (check_only and len(args) != 1) or (not check_only and len(args) != 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    return args, tolerance, check_only


def check_structure(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    graph = model.graph
    inputs = [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in graph.input]
    outputs = [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in graph.output]
    print(f"onnx.checker (full_check): ok: ir_version {model.ir_version}, opsets {opsets}, "
          f"{len(graph.node)} nodes, {len(graph.initializer)} initializers, inputs {inputs}, outputs {outputs}")
    names = [o[0] for o in outputs]
    if names[:2] != ["logits", "probabilities"]:
        print(f"check-onnx: outputs are {names}, expected ['logits', 'probabilities']", file=sys.stderr)
        return False
    return True


def compare(path, input_path, expected_path, tolerance):
    x = np.load(input_path).astype(np.float32)
    expected = np.load(expected_path).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    logits, probabilities = session.run(["logits", "probabilities"], {"input": x})
    if logits.shape != expected.shape:
        print(f"check-onnx: onnxruntime logits have shape {logits.shape}, expected {expected.shape}", file=sys.stderr)
        return False
    absolute = np.abs(logits.astype(np.float64) - expected)
    relative = float(np.max(absolute / np.maximum(np.abs(expected), 1.0)))
    agree = int(np.sum(np.argmax(logits, axis=1) == np.argmax(expected, axis=1)))
    # The Softmax node against numpy's softmax of the same (onnxruntime's) logits.
    shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    softmax = shifted / shifted.sum(axis=1, keepdims=True)
    softmax_error = float(np.max(np.abs(probabilities - softmax)))
    print(f"max relative difference {relative:.3e} (max absolute {float(absolute.max()):.3e}) over {logits.size} "
          f"logits, top-1 agreement {agree}/{len(logits)}, probabilities vs softmax(logits) {softmax_error:.3e}")
    ok = relative <= tolerance and softmax_error <= 1e-5
    if not ok:
        print(f"check-onnx: over the tolerance {tolerance:g} (probabilities 1e-5)", file=sys.stderr)
    return ok


def main():
    (args, tolerance, check_only) = parse(sys.argv[1:])
    try:
        ok = check_structure(args[0])
    except Exception as error:  # the checker's own exception types vary between versions
        print(f"check-onnx: {args[0]}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if ok and not check_only:
        ok = compare(args[0], args[1], args[2], tolerance)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
