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
