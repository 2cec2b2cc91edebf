import Foundation

/// Axis ticks at "nice" values (1, 2 or 5 times a power of ten) and their labels.
public struct NiceScale: Equatable {
    public let lower: Double
    public let upper: Double
    public let step: Double

    /// Ticks covering `min...max` with at most about `count` intervals. With `extend`, the range is
    /// widened to whole ticks (y axes); otherwise it stays the data's and the ticks fall
    /// inside it (x axes: steps start where the data starts).
    public init(min: Double, max: Double, count: Int = 5, extend: Bool = true) {
        var lo = min, hi = max
        if !(hi > lo) {
            if lo == 0 {
                hi = 1  // all zeros (no traffic, no wait): an axis from zero, the line at its foot
            } else {
                // One value: a small range around it so the line sits mid-chart.
                let pad = abs(lo) * 0.1
                lo -= pad
                hi += pad
            }
        }
        let step = NiceScale.niceNumber(atLeast: (hi - lo) / Double(Swift.max(count, 1)))
        self.step = step
        if extend {
            lower = (lo / step).rounded(.down) * step
            upper = (hi / step).rounded(.up) * step
        } else {
            lower = lo
            upper = hi
        }
    }

    /// The tick values inside `lower...upper`.
    public var ticks: [Double] {
        var ticks: [Double] = []
        var k = (lower / step - 1e-9).rounded(.up)
        while k * step <= upper + step * 1e-9, ticks.count < 50 {
            ticks.append(k * step)
            k += 1
        }
        return ticks
    }

    /// The smallest of 1, 2, 5 times a power of ten that is at least `x`.
    static func niceNumber(atLeast x: Double) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * pow(10, exponent)
    }

    /// A tick's label, with as many decimals as the step needs; thousands and up with a k, M
    /// or G suffix, very small values in exponent form.
    public func label(_ value: Double) -> String {
        if abs(value) < step * 1e-6 { return "0" }
        let magnitude = Swift.max(abs(lower), abs(upper))
        if magnitude >= 10_000 {
            for (scale, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] where magnitude >= scale {
                return NiceScale.fixed(value / scale, step: step / scale) + suffix
            }
        }
        if magnitude < 1e-3 { return String(format: "%.2g", value) }
        return NiceScale.fixed(value, step: step)
    }

    static func fixed(_ value: Double, step: Double) -> String {
        let decimals = Swift.min(Swift.max(0, Int((-log10(step) - 1e-9).rounded(.up))), 8)
        return String(format: "%.\(decimals)f", value)
    }
}
