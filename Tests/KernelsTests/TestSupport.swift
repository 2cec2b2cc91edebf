import XCTest
import Tensors

/// Deterministic test data from the counter-based generator.
func randomBuffer(_ count: Int, seed: UInt64, scale: Float = 1) -> FloatBuffer {
    var rng = CounterRNG(seed: seed, purpose: .synthetic, a: 7, b: UInt64(count))
    let buf = FloatBuffer(count: count)
    for i in 0..<count { buf[i] = (rng.nextUnitFloat() * 2 - 1) * scale }
    return buf
}

/// Max |x - y| / (1 + |y|) over two buffers, asserted below `tolerance`.
func assertClose(_ x: FloatBuffer, _ y: FloatBuffer, tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(x.count, y.count, what, file: file, line: line)
    var worst: Float = 0, at = -1
    for i in 0..<min(x.count, y.count) {
        let e = abs(x[i] - y[i]) / (1 + abs(y[i]))
        if !(e <= worst) { worst = e; at = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(what): worst relative error \(worst) at \(at)",
                             file: file, line: line)
}

/// Central-difference check of d(sum r*y)/dx for a few entries of `x`.
/// `forward` recomputes the output from the current contents of `x` and returns sum r*y in Double.
/// `analytic[i]` is the backward's gradient for x[i]. Entries where `skip(i)` (kinks) are not checked.
func gradientCheck(_ what: String, x: FloatBuffer, analytic: FloatBuffer, step: Float = 1e-2,
                   tolerance: Double = 2e-2, samples: Int = 24, skip: (Int) -> Bool = { _ in false },
                   forward: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
    let stride = max(1, x.count / samples)
    var checked = 0
    var i = 0
    while i < x.count {
        defer { i += stride }
        if skip(i) { continue }
        let saved = x[i]
        x[i] = saved + step; let up = forward()
        x[i] = saved - step; let down = forward()
        x[i] = saved
        let numeric = (up - down) / (2 * Double(step))
        let err = abs(numeric - Double(analytic[i])) / max(1, abs(numeric))
        XCTAssertLessThan(err, tolerance, "\(what)[\(i)]: numeric \(numeric), analytic \(analytic[i])",
                          file: file, line: line)
        checked += 1
    }
    XCTAssertGreaterThan(checked, 0, "\(what): nothing checked", file: file, line: line)
}

func dot(_ r: FloatBuffer, _ y: FloatBuffer) -> Double {
    var t: Double = 0
    for i in 0..<y.count { t += Double(r[i]) * Double(y[i]) }
    return t
}
