import Tensors

// Inverted dropout: mask[i] = keep ? 1 / (1 - p) : 0, drawn from CounterRNG keyed by
// (seed, .dropout, a: step, b: layer), so a run resumed at any step redraws the same masks.

public func dropoutForward(output: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                           input: UnsafePointer<Float>, count: Int, probability p: Float,
                           seed: UInt64, step: Int, layer: Int) {
    precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
    var rng = CounterRNG(seed: seed, purpose: .dropout, a: UInt64(step), b: UInt64(layer))
    let keep = 1 / (1 - p)
    for i in 0..<count {
        let m: Float = rng.nextUnitFloat() >= p ? keep : 0
        mask[i] = m
        output[i] = input[i] * m
    }
}

/// dInput = dOutput * mask (overwrites).
public func dropoutBackward(dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                            mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dInput[i] = dOutput[i] * mask[i] }
}
