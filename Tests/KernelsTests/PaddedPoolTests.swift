import XCTest
import Tensors
import Kernels

/// Max-pooling with padding (ResNet's 3x3 stride-2 pad-1 stem pool): padded positions never win.
final class PaddedPoolTests: XCTestCase {
    let shapes = [PoolShape(batch: 2, channels: 3, height: 16, width: 16, size: 3, stride: 2, padding: 1),
                  PoolShape(batch: 1, channels: 2, height: 7, width: 9, size: 3, stride: 2, padding: 1),
                  PoolShape(batch: 1, channels: 2, height: 5, width: 5, size: 2, stride: 1, padding: 1),
                  PoolShape(batch: 1, channels: 1, height: 1, width: 1, size: 3, stride: 2, padding: 1)]

    func testOutputSizesFollowPyTorch() {
        // torch.nn.MaxPool2d(3, 2, 1) on 112x112 (ResNet-18 after its 7x7 stem) gives 56x56.
        let s = PoolShape(batch: 1, channels: 64, height: 112, width: 112, size: 3, stride: 2, padding: 1)
        XCTAssertEqual([s.outHeight, s.outWidth], [56, 56])
        XCTAssertEqual(PoolShape(batch: 1, channels: 1, height: 7, width: 9, size: 3, stride: 2, padding: 1).outWidth, 5)
    }

    func testForwardBackwardMatchReferenceAndGradient() {
        for s in shapes {
            // Negative inputs: a padded zero would win if padding counted as a value.
            let x = randomBuffer(s.planes * s.height * s.width, seed: 40)
            for i in 0..<x.count { x[i] -= 1.5 }
            let n = s.planes * s.outHeight * s.outWidth
            let y = FloatBuffer(count: n), yr = FloatBuffer(count: n)
            maxPoolForward(output: y.pointer, input: x.pointer, shape: s, threads: 2)
            maxPoolForwardReference(output: yr.pointer, input: x.pointer, shape: s)
            XCTAssertEqual(y.array, yr.array, "forward \(s)")
            XCTAssert(y.array.allSatisfy { $0 < 0 }, "a padded position won in \(s)")
            let r = randomBuffer(n, seed: 41), dx = FloatBuffer(count: x.count)
            maxPoolBackward(dInput: dx.pointer, dOutput: r.pointer, input: x.pointer, shape: s, threads: 2)
            var want = [Float](repeating: 0, count: x.count)
            for p in 0..<s.planes { for oy in 0..<s.outHeight { for ox in 0..<s.outWidth {
                var best = -Float.infinity, at = -1
                for ky in 0..<s.size { for kx in 0..<s.size {
                    let iy = oy * s.stride + ky - s.padding, ix = ox * s.stride + kx - s.padding
                    guard iy >= 0 && iy < s.height && ix >= 0 && ix < s.width else { continue }
                    let i = (p * s.height + iy) * s.width + ix
                    if x[i] > best { best = x[i]; at = i }
                } }
                want[at] += r[(p * s.outHeight + oy) * s.outWidth + ox]
            } } }
            XCTAssertEqual(dx.array, want, "backward \(s)")
            gradientCheck("padded maxpool", x: x, analytic: dx, step: 1e-3, samples: 30, skip: { i in
                let w = s.width, p = i / (s.height * w), yy = (i / w) % s.height, xx = i % w
                for dy in -s.size...s.size { for d in -s.size...s.size where dy != 0 || d != 0 {
                    let y2 = yy + dy, x2 = xx + d
                    if y2 >= 0 && y2 < s.height && x2 >= 0 && x2 < w,
                       abs(x[(p * s.height + y2) * w + x2] - x[i]) < 1e-2 { return true }
                } }
                return false
            }) {
                maxPoolForward(output: y.pointer, input: x.pointer, shape: s)
                return dot(r, y)
            }
        }
    }

    func testFusedReLUOnPaddedPoolEqualsPoolThenReLU() {
        let s = shapes[0]
        let x = randomBuffer(s.planes * s.height * s.width, seed: 42)
        for i in 0..<x.count { x[i] -= 0.7 }
        let n = s.planes * s.outHeight * s.outWidth
        let fused = FloatBuffer(count: n), plain = FloatBuffer(count: n), relu = FloatBuffer(count: n)
        maxPoolForward(output: fused.pointer, input: x.pointer, shape: s, reluSlope: 0)
        maxPoolForward(output: plain.pointer, input: x.pointer, shape: s)
        activationForward(.relu, output: relu.pointer, input: plain.pointer, count: n)
        XCTAssertEqual(fused.array, relu.array)
    }
}
