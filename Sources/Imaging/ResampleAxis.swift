// The coefficient table of one axis: Pillow's precompute_coeffs and normalize_coeffs_8bpc.
//
// Output pixel i's centre maps to source coordinate c = in0 + (i + 0.5) * scale, scale =
// (in1 - in0) / outSize. When shrinking, the filter is stretched by the scale (antialiasing), so
// its support becomes support * max(scale, 1) source pixels. The taps start at `starts[i]`,
// `counts[i]` of them, each weight = filter((x - c + 0.5) / max(scale, 1)), normalised to sum 1.
// Every step is the same Double expression as Pillow's, so the fixed-point weights (22 fraction
// bits, PRECISION_BITS = 32 - 8 - 2) are Pillow's bit for bit.

/// Fraction bits of the 8-bit path's fixed-point weights: 8 bits of pixel, 2 bits of headroom
/// for the negative lobes and overshoot of bicubic, 22 bits of weight.
let resamplePrecisionBits: Int32 = 22

struct ResampleAxis: Sendable {
    let inSize: Int
    let outSize: Int
    /// First source index of each output's taps.
    let starts: [Int32]
    /// Taps of each output (at least 1 for a non-empty box).
    let counts: [Int32]
    /// Row length of the weight tables: the largest count.
    let stride: Int
    /// Normalised weights, outSize x stride, zero past each output's count.
    let weights: [Double]
    /// `weights` in Pillow's fixed point.
    let fixed: [Int32]
    /// `weights` rounded to Float, for the unrounded Float path.
    let floats: [Float]

    /// First source index any output reads.
    var first: Int { Int(starts[0]) }
    /// One past the last source index any output reads (starts and ends never decrease).
    var end: Int { Int(starts[outSize - 1] + counts[outSize - 1]) }

    /// `in0`, `in1`: the box on this axis, already rounded to Float as Pillow stores it.
    init(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResampleFilter) {
        self.inSize = inSize
        self.outSize = outSize
        // Pillow subtracts in float, then divides in double.
        let scale = Double(in1 - in0) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let inverseScale = 1.0 / filterScale
        // ksize in Pillow; the tables are cut to the largest count below.
        let maxTaps = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int32](repeating: 0, count: outSize)
        var counts = [Int32](repeating: 0, count: outSize)
        var wide = [Double](repeating: 0, count: outSize * maxTaps)
        var widest = 1
        for xx in 0..<outSize {
            let center = Double(in0) + (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero; the clamps follow.
            let xmin = max(0, Int((center - support + 0.5).rounded(.towardZero)))
            let xmax = min(inSize, Int((center + support + 0.5).rounded(.towardZero)))
            let n = max(0, min(xmax - xmin, maxTaps))
            var total = 0.0
            for x in 0..<n {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseScale)
                wide[xx * maxTaps + x] = w
                total += w
            }
            if total != 0 {
                for x in 0..<n { wide[xx * maxTaps + x] /= total }
            }
            starts[xx] = Int32(min(xmin, inSize - 1))
            counts[xx] = Int32(n)
            widest = max(widest, n)
        }
        self.starts = starts
        self.counts = counts
        self.stride = widest
        var weights = [Double](repeating: 0, count: outSize * widest)
        for xx in 0..<outSize {
            for x in 0..<Int(counts[xx]) { weights[xx * widest + x] = wide[xx * maxTaps + x] }
        }
        self.weights = weights
        let one = Double(1 << resamplePrecisionBits)
        // normalize_coeffs_8bpc: round half away from zero by truncating w * 2^22 -/+ 0.5.
        let fixed = weights.map { w in
            Int32((w < 0 ? -0.5 + w * one : 0.5 + w * one).rounded(.towardZero))
        }
        self.fixed = fixed
        self.floats = weights.map { Float($0) }
    }

    /// True when this axis is a plain copy of all `inSize` pixels (Pillow's need_horizontal /
    /// need_vertical are false): same size and a box that is exactly the full extent.
    static func isIdentity(inSize: Int, in0: Float, in1: Float, outSize: Int) -> Bool {
        outSize == inSize && in0 == 0 && in1 == Float(outSize)
    }
}
