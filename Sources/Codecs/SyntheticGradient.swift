import Foundation

/// Synthetic gradient-like data (we have no real gradient in the repository yet): normal
/// values whose scale changes every 256 elements (log-uniform over 3 decades, like layers and
/// channels of different magnitude), with a fraction of exact zeros (dead ReLU units,
/// padding). Deterministic: SplitMix64 with a fixed seed.
public func syntheticGradient(count: Int, zeroFraction: Double, seed: UInt64 = 42) -> [Float] {
    var state = seed
    func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    var out = [Float](repeating: 0, count: count)
    var scale = 1e-3
    for i in 0..<count {
        if i % 256 == 0 { scale = pow(10, -5 + 3 * uniform()) }
        if uniform() < zeroFraction { continue }
        out[i] = Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) * scale)
    }
    return out
}
