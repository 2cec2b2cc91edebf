import Codecs
import Collectives
import Foundation
import TestSupport
import XCTest

/// Deterministic per-rank test data with gradient-like magnitudes (fixed-seed SplitMix64).
func rankData(rank: Int, count: Int, seed: UInt64 = 0) -> [Float] {
    var state = seed &+ UInt64(rank) &* 0x9E3779B97F4A7C15 &+ 17
    var out = [Float](repeating: 0, count: count)
    for i in 0..<count {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        z ^= z >> 31
        let u = Float(z >> 40) / Float(1 << 24) - 0.5              // [-0.5, 0.5)
        let scale = Float(1 << ((i / 97) % 8)) / 64                 // varying per-block scale
        // Zeros as in real gradients: runs shared by every rank (a unit dead for the whole
        // batch; 61 long, so they start and end inside groups of 8) and scattered ones of
        // this rank only. The compressing codecs then take their sparse paths, partial sums too.
        let sharedZeroRun = (i / 61) % 4 == 0
        let scatteredZero = (z >> 8) & 7 == 0
        out[i] = sharedZeroRun || scatteredZero ? 0 : u * scale
    }
    return out
}

/// The sum in the ring's fixed order: chunk c = ((g[c+1] + g[c+2]) + ...) + g[c].
func ringOrderSum(_ inputs: [[Float]], segmentElements: Int = 1) -> [Float] {
    let n = inputs.count
    let count = inputs[0].count
    guard n > 1 else { return inputs[0] }
    let plan = RingPlan(worldSize: n, count: count, segmentElements: max(1, segmentElements))
    var out = [Float](repeating: 0, count: count)
    for c in 0..<n {
        for i in plan.chunks[c] {
            var acc = inputs[(c + 1) % n][i]
            for k in 2...n { acc = inputs[(c + k) % n][i] + acc }
            out[i] = acc
        }
    }
    return out
}
