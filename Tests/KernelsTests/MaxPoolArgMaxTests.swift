import XCTest
import Tensors
import Kernels

final class MaxPoolArgMaxTests: XCTestCase {
    /// Values on a coarse grid (ties in most windows, maxima of exactly 0 and negative maxima):
    /// the arg-max pool must give the bits of maxPoolForward, and its backward the bits of
    /// maxPoolBackward, for every geometry path (2x2 vectors with and without a partial last
    /// vector, 2x2 narrower than a vector, general windows with overlap) and activation.
    func testArgMaxPoolGivesTheBitsOfMaxPool() {
        // (planes, height, width, size, stride)
        let shapes: [(Int, Int, Int, Int, Int)] = [
            (3, 16, 16, 2, 2),   // two full vectors of 8 windows per row
            (2, 17, 21, 2, 2),   // odd sizes: 10 windows per row (8 + 2), a last row and column unused
            (4, 6, 14, 2, 2),    // 7 windows per row: no full vector
            (2, 5, 5, 2, 2),     // 2 windows per row
            (2, 9, 11, 3, 2),    // overlapping 3x3 windows
            (3, 12, 12, 3, 3),   // 3x3, no overlap
            (1, 7, 8, 1, 1),     // 1x1: identity
        ]
        for (planes, h, w, size, stride) in shapes {
            let s = PoolShape(batch: planes, channels: 1, height: h, width: w, size: size, stride: stride)
            let x = randomBuffer(planes * h * w, seed: 71)
            for i in 0..<x.count { x[i] = (x[i] * 3).rounded() / 2 }  // -1.5 ... 1.5 in steps of 0.5
            let outCount = planes * s.outHeight * s.outWidth
            let dOut = randomBuffer(outCount, seed: 72)
            for slope: Float? in [nil, 0, 0.1] {
                let what = "\(planes)x\(h)x\(w) pool \(size)/\(stride) slope \(String(describing: slope))"
                let expected = FloatBuffer(count: outCount), actual = FloatBuffer(count: outCount)
                let argMax = ByteBuffer(count: outCount)
                maxPoolForward(output: expected.pointer, input: x.pointer, shape: s, threads: 1, reluSlope: slope)
                maxPoolForwardRecordingArgMax(output: actual.pointer, argMax: argMax.pointer, input: x.pointer, shape: s,
                                              reluSlope: slope)
                XCTAssertEqual(actual.array.map(\.bitPattern), expected.array.map(\.bitPattern), "forward, " + what)

                let dExpected = randomBuffer(x.count, seed: 73), dActual = randomBuffer(x.count, seed: 74)
                maxPoolBackward(dInput: dExpected.pointer, dOutput: dOut.pointer, input: x.pointer, shape: s, threads: 1,
                                reluSlope: slope)
                maxPoolBackwardFromArgMax(dInput: dActual.pointer, dOutput: dOut.pointer, argMax: argMax.pointer, shape: s,
                                          reluSlope: slope)
                XCTAssertEqual(dActual.array.map(\.bitPattern), dExpected.array.map(\.bitPattern), "backward, " + what)
            }
        }
    }

    /// The codes themselves: the first maximum's index in its window, and the flag for maxima <= 0.
    func testCodesNameTheFirstMaximumAndFlagNonPositiveMaxima() {
        // One 2x4 plane, two 2x2 windows: [1 1 | -2 -1]
        //                                  [0 1 | -1  0]
        let x = FloatBuffer([1, 1, -2, -1, 0, 1, -1, 0])
        let s = PoolShape(batch: 1, channels: 1, height: 2, width: 4, size: 2)
        let y = FloatBuffer(count: 2), codes = ByteBuffer(count: 2)
        maxPoolForwardRecordingArgMax(output: y.pointer, argMax: codes.pointer, input: x.pointer, shape: s)
        XCTAssertEqual(y.array, [1, 0])
        XCTAssertEqual(codes.array, [0, 3 | argMaxNonPositive])

        let big = PoolShape(batch: 1, channels: 1, height: 12, width: 12, size: 12)
        XCTAssertFalse(maxPoolArgMaxFits(big), "144 window positions do not fit beside the flag bit")
        XCTAssertTrue(maxPoolArgMaxFits(PoolShape(batch: 1, channels: 1, height: 11, width: 11, size: 11)))
    }
}
