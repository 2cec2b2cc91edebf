import XCTest
import Foundation
import Tensors
import Kernels

final class PoolTests: XCTestCase {
    let shapes = [PoolShape(batch: 1, channels: 3, height: 7, width: 9, size: 2),
                  PoolShape(batch: 2, channels: 5, height: 8, width: 8, size: 2),
                  PoolShape(batch: 2, channels: 2, height: 9, width: 7, size: 3, stride: 2),
                  PoolShape(batch: 1, channels: 2, height: 6, width: 37, size: 2),
                  PoolShape(batch: 1, channels: 2, height: 5, width: 6, size: 2),
                  PoolShape(batch: 2, channels: 1, height: 4, width: 14, size: 2)]

    func testMaxPoolMatchesReferenceAndGradient() {
        for s in shapes {
            let x = randomBuffer(s.planes * s.height * s.width, seed: 30)
            let n = s.planes * s.outHeight * s.outWidth
            let y = FloatBuffer(count: n), yr = FloatBuffer(count: n)
            maxPoolForward(output: y.pointer, input: x.pointer, shape: s, threads: 2)
            maxPoolForwardReference(output: yr.pointer, input: x.pointer, shape: s)
            XCTAssertEqual(y.array, yr.array)
            let r = randomBuffer(n, seed: 31), dx = FloatBuffer(count: x.count)
            maxPoolBackward(dInput: dx.pointer, dOutput: r.pointer, input: x.pointer, shape: s, threads: 2)
            // Plain reference: each output's gradient goes to its window's first maximum.
            var want = [Float](repeating: 0, count: x.count)
            for p in 0..<s.planes { for oy in 0..<s.outHeight { for ox in 0..<s.outWidth {
                var best = -Float.infinity, at = 0
                for ky in 0..<s.size { for kx in 0..<s.size {
                    let i = (p * s.height + oy * s.stride + ky) * s.width + ox * s.stride + kx
                    if x[i] > best { best = x[i]; at = i }
                } }
                want[at] += r[(p * s.outHeight + oy) * s.outWidth + ox]
            } } }
            XCTAssertEqual(dx.array, want, "maxpool backward \(s)")
            // Kinks: skip inputs within the step of another input of the same window (ties).
            gradientCheck("maxpool", x: x, analytic: dx, step: 1e-3, samples: 40, skip: { i in
                let w = s.width, p = i / (s.height * w), yy = (i / w) % s.height, xx = i % w
                for dy in -s.size...s.size { for dxx in -s.size...s.size where dy != 0 || dxx != 0 {
                    let y2 = yy + dy, x2 = xx + dxx
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

    /// Max-pooling with the following ReLU / leaky ReLU fused in gives the bits of pooling
    /// then the activation layer, forward and backward (the activation's derivative taken at
    /// each window's maximum, which is the activation's input).
    func testFusedActivationEqualsPoolingThenActivation() {
        for s in shapes {
            for (activation, slope) in [(Activation.relu, Float(0)), (.leakyRelu(slope: 0.1), Float(0.1))] {
                // Shifted down so that many windows' maxima are negative.
                let x = randomBuffer(s.planes * s.height * s.width, seed: 32)
                for i in 0..<x.count { x[i] -= 0.6 }
                let n = s.planes * s.outHeight * s.outWidth
                let pooled = FloatBuffer(count: n), separate = FloatBuffer(count: n), fused = FloatBuffer(count: n)
                maxPoolForward(output: pooled.pointer, input: x.pointer, shape: s)
                activationForward(activation, output: separate.pointer, input: pooled.pointer, count: n)
                maxPoolForward(output: fused.pointer, input: x.pointer, shape: s, threads: 2, reluSlope: slope)
                XCTAssertEqual(fused.array.map(\.bitPattern), separate.array.map(\.bitPattern), "forward \(s) \(activation)")
                XCTAssertTrue(pooled.array.contains { $0 < 0 } && pooled.array.contains { $0 > 0 }, "the maxima cross zero")

                let g = randomBuffer(n, seed: 33)
                let dPooled = FloatBuffer(count: n), dSeparate = FloatBuffer(count: x.count), dFused = FloatBuffer(count: x.count)
                activationBackward(activation, dInput: dPooled.pointer, dOutput: g.pointer, input: pooled.pointer, count: n)
                maxPoolBackward(dInput: dSeparate.pointer, dOutput: dPooled.pointer, input: x.pointer, shape: s)
                maxPoolBackward(dInput: dFused.pointer, dOutput: g.pointer, input: x.pointer, shape: s, threads: 2,
                                reluSlope: slope)
                XCTAssertEqual(dFused.array.map(\.bitPattern), dSeparate.array.map(\.bitPattern), "backward \(s) \(activation)")
            }
        }
    }

    func testAvgPoolMatchesReferenceAndGradient() {
        for s in shapes {
            let x = randomBuffer(s.planes * s.height * s.width, seed: 32)
            let n = s.planes * s.outHeight * s.outWidth
            let y = FloatBuffer(count: n), yr = FloatBuffer(count: n)
            avgPoolForward(output: y.pointer, input: x.pointer, shape: s, threads: 2)
            avgPoolForwardReference(output: yr.pointer, input: x.pointer, shape: s)
            assertClose(y, yr, tolerance: 1e-6, "avgpool")
            let r = randomBuffer(n, seed: 33), dx = FloatBuffer(count: x.count)
            avgPoolBackward(dInput: dx.pointer, dOutput: r.pointer, shape: s)
            gradientCheck("avgpool", x: x, analytic: dx) {
                avgPoolForward(output: y.pointer, input: x.pointer, shape: s)
                return dot(r, y)
            }
        }
    }

    func testGlobalAvgPool() {
        let planes = 6, size = 37
        let x = randomBuffer(planes * size, seed: 34), y = FloatBuffer(count: planes)
        globalAvgPoolForward(output: y.pointer, input: x.pointer, planes: planes, planeSize: size)
        for p in 0..<planes {
            var t: Double = 0
            for i in 0..<size { t += Double(x[p * size + i]) }
            XCTAssertEqual(Double(y[p]), t / Double(size), accuracy: 1e-6)
        }
        let r = randomBuffer(planes, seed: 35), dx = FloatBuffer(count: x.count)
        globalAvgPoolBackward(dInput: dx.pointer, dOutput: r.pointer, planes: planes, planeSize: size)
        gradientCheck("gap", x: x, analytic: dx) {
            globalAvgPoolForward(output: y.pointer, input: x.pointer, planes: planes, planeSize: size)
            return dot(r, y)
        }
    }
}

final class ElementwiseTests: XCTestCase {
    func testActivationsMatchReferenceAndGradient() {
        let count = 101  // not a multiple of 16: exercises the leftovers
        for kind in [Activation.relu, .leakyRelu(slope: 0.1), .elu(alpha: 1.0)] {
            let x = randomBuffer(count, seed: 40, scale: 3), r = randomBuffer(count, seed: 41)
            let y = FloatBuffer(count: count), dx = FloatBuffer(count: count)
            activationForward(kind, output: y.pointer, input: x.pointer, count: count)
            activationBackward(kind, dInput: dx.pointer, dOutput: r.pointer, input: x.pointer, count: count)
            for i in 0..<count {
                let ref = activationReference(kind, x: x[i], dy: r[i])
                XCTAssertEqual(y[i], ref.y, accuracy: 1e-6 * (1 + abs(ref.y)), "\(kind) forward")
                XCTAssertEqual(dx[i], ref.dx, accuracy: 1e-6 * (1 + abs(ref.dx)), "\(kind) backward")
            }
            gradientCheck("\(kind)", x: x, analytic: dx, step: 1e-3, samples: 60,
                          skip: { abs(x[$0]) < 2e-3 }) {
                activationForward(kind, output: y.pointer, input: x.pointer, count: count)
                return dot(r, y)
            }
        }
    }

    func testAddAndAccumulate() {
        let a = randomBuffer(37, seed: 42), b = randomBuffer(37, seed: 43), y = FloatBuffer(count: 37)
        addForward(output: y.pointer, a.pointer, b.pointer, count: 37)
        for i in 0..<37 { XCTAssertEqual(y[i], a[i] + b[i]) }
        accumulate(y.pointer, a.pointer, count: 37)
        for i in 0..<37 { XCTAssertEqual(y[i], (a[i] + b[i]) + a[i]) }
    }

    func testDropoutIsReproducibleAndScaled() {
        let n = 1000, p: Float = 0.25
        let x = randomBuffer(n, seed: 44), y1 = FloatBuffer(count: n), y2 = FloatBuffer(count: n)
        let m1 = FloatBuffer(count: n), m2 = FloatBuffer(count: n)
        dropoutForward(output: y1.pointer, mask: m1.pointer, input: x.pointer, count: n, probability: p,
                       seed: 9, step: 3, layer: 4)
        dropoutForward(output: y2.pointer, mask: m2.pointer, input: x.pointer, count: n, probability: p,
                       seed: 9, step: 3, layer: 4)
        XCTAssertEqual(y1.array, y2.array)
        dropoutForward(output: y2.pointer, mask: m2.pointer, input: x.pointer, count: n, probability: p,
                       seed: 9, step: 4, layer: 4)
        XCTAssertNotEqual(m1.array, m2.array)
        let dropped = m1.array.filter { $0 == 0 }.count
        XCTAssert(dropped > 180 && dropped < 320, "dropped \(dropped) of 1000 at p = 0.25")
        XCTAssert(m1.array.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
        let r = randomBuffer(n, seed: 45), dx = FloatBuffer(count: n)
        dropoutBackward(dInput: dx.pointer, dOutput: r.pointer, mask: m1.pointer, count: n)
        gradientCheck("dropout", x: x, analytic: dx) {
            dropoutForward(output: y1.pointer, mask: m1.pointer, input: x.pointer, count: n, probability: p,
                           seed: 9, step: 3, layer: 4)
            return dot(r, y1)
        }
    }
}

final class BatchNormTests: XCTestCase {
    func testTrainingForwardMatchesReferenceAndGradient() {
        for s in [BatchNormShape(batch: 3, channels: 5, spatial: 7), BatchNormShape(batch: 4, channels: 3, spatial: 1)] {
            let n = s.batch * s.channels * s.spatial
            let x = randomBuffer(n, seed: 50, scale: 2), gamma = randomBuffer(s.channels, seed: 51)
            let beta = randomBuffer(s.channels, seed: 52), r = randomBuffer(n, seed: 53)
            let rm = FloatBuffer(count: s.channels), rv = FloatBuffer([Float](repeating: 1, count: s.channels))
            let mean = FloatBuffer(count: s.channels), inv = FloatBuffer(count: s.channels)
            let y = FloatBuffer(count: n), yr = FloatBuffer(count: n)
            batchNormForward(output: y.pointer, input: x.pointer, scale: gamma.pointer, shift: beta.pointer,
                             runningMean: rm.pointer, runningVar: rv.pointer, saveMean: mean.pointer,
                             saveInvStd: inv.pointer, shape: s, training: true, threads: 2)
            batchNormForwardReference(output: yr.pointer, input: x.pointer, scale: gamma.pointer,
                                      shift: beta.pointer, shape: s)
            assertClose(y, yr, tolerance: 1e-5, "bn forward")
            // Running statistics: PyTorch's update with the unbiased variance.
            let m = s.batch * s.spatial
            var mu: Double = 0, q: Double = 0
            for b in 0..<s.batch { for i in 0..<s.spatial { mu += Double(x[(b * s.channels) * s.spatial + i]) } }
            mu /= Double(m)
            for b in 0..<s.batch { for i in 0..<s.spatial { let d = Double(x[(b * s.channels) * s.spatial + i]) - mu; q += d * d } }
            XCTAssertEqual(Double(rm[0]), 0.1 * mu, accuracy: 1e-5)
            XCTAssertEqual(Double(rv[0]), 0.9 + 0.1 * q / Double(m - 1), accuracy: 1e-5)

            let dx = FloatBuffer(count: n), dg = FloatBuffer(count: s.channels), db = FloatBuffer(count: s.channels)
            batchNormBackward(dInput: dx.pointer, dScale: dg.pointer, dShift: db.pointer, dOutput: r.pointer,
                              input: x.pointer, scale: gamma.pointer, saveMean: mean.pointer,
                              saveInvStd: inv.pointer, shape: s, training: true)
            let f: () -> Double = {
                batchNormForwardReference(output: yr.pointer, input: x.pointer, scale: gamma.pointer,
                                          shift: beta.pointer, shape: s)
                return dot(r, yr)
            }
            gradientCheck("bn dInput", x: x, analytic: dx, step: 1e-3, forward: f)
            gradientCheck("bn dScale", x: gamma, analytic: dg, step: 1e-3, forward: f)
            gradientCheck("bn dShift", x: beta, analytic: db, step: 1e-3, forward: f)
        }
    }

    func testEvaluationUsesRunningStatistics() {
        let s = BatchNormShape(batch: 2, channels: 2, spatial: 3)
        let x = randomBuffer(12, seed: 54), gamma = FloatBuffer([2, 3]), beta = FloatBuffer([0.5, -1])
        let rm = FloatBuffer([0.1, -0.2]), rv = FloatBuffer([4, 0.25])
        let mean = FloatBuffer(count: 2), inv = FloatBuffer(count: 2), y = FloatBuffer(count: 12)
        batchNormForward(output: y.pointer, input: x.pointer, scale: gamma.pointer, shift: beta.pointer,
                         runningMean: rm.pointer, runningVar: rv.pointer, saveMean: mean.pointer,
                         saveInvStd: inv.pointer, shape: s, training: false)
        for b in 0..<2 { for c in 0..<2 { for i in 0..<3 {
            let j = (b * 2 + c) * 3 + i
            let want = (x[j] - rm[c]) / (rv[c] + 1e-5).squareRoot() * gamma[c] + beta[c]
            XCTAssertEqual(y[j], want, accuracy: 1e-5)
        } } }
        XCTAssertEqual(rm.array, [0.1, -0.2])
    }
}

final class LinearAndLossTests: XCTestCase {
    func testLinearMatchesReferenceAndGradient() {
        let batch = 3, inF = 37, outF = 11
        let x = randomBuffer(batch * inF, seed: 60), w = randomBuffer(outF * inF, seed: 61)
        let b = randomBuffer(outF, seed: 62), r = randomBuffer(batch * outF, seed: 63)
        let y = FloatBuffer(count: batch * outF), yr = FloatBuffer(count: y.count)
        linearForward(output: y.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, batch: batch,
                      inFeatures: inF, outFeatures: outF, threads: 2)
        linearForwardReference(output: yr.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer,
                               batch: batch, inFeatures: inF, outFeatures: outF)
        assertClose(y, yr, tolerance: 1e-5, "linear forward")
        let dx = FloatBuffer(count: x.count), dw = FloatBuffer(count: w.count), db = FloatBuffer(count: b.count)
        linearBackward(dInput: dx.pointer, dWeight: dw.pointer, dBias: db.pointer, dOutput: r.pointer,
                       input: x.pointer, weight: w.pointer, batch: batch, inFeatures: inF, outFeatures: outF)
        let f: () -> Double = {
            linearForwardReference(output: yr.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer,
                                   batch: batch, inFeatures: inF, outFeatures: outF)
            return dot(r, yr)
        }
        gradientCheck("linear dInput", x: x, analytic: dx, forward: f)
        gradientCheck("linear dWeight", x: w, analytic: dw, forward: f)
        gradientCheck("linear dBias", x: b, analytic: db, forward: f)
    }

    /// Plain reference of the loss straight from its definition (probabilities, then logs).
    func referenceLoss(_ z: FloatBuffer, _ labels: [Int], classes k: Int, weights: [Float]?, eps: Double) -> Double {
        var total = 0.0, norm = 0.0
        for i in 0..<labels.count {
            let e = (0..<k).map { exp(Double(z[i * k + $0])) }
            let s = e.reduce(0, +)
            let w = weights.map { $0.map(Double.init) } ?? [Double](repeating: 1, count: k)
            for c in 0..<k {
                let q = (c == labels[i] ? 1 - eps : 0) * w[c] + eps / Double(k) * w[c]
                total -= q * log(e[c] / s)
            }
            norm += w[labels[i]]
        }
        return total / norm
    }

    func testSoftmaxCrossEntropyMatchesDefinitionAndGradient() {
        let batch = 5, k = 7
        let labels = [0, 6, 3, 3, 1]
        for (weights, eps) in [(nil as [Float]?, 0.0), ([0.5, 1, 2, 1, 1, 3, 0.25], 0.1), (nil, 0.2)] {
            let z = randomBuffer(batch * k, seed: 70, scale: 4)
            let d = FloatBuffer(count: z.count)
            let loss = softmaxCrossEntropy(dLogits: d.pointer, logits: z.pointer, labels: labels, classes: k,
                                           classWeights: weights, labelSmoothing: Float(eps))
            XCTAssertEqual(Double(loss), referenceLoss(z, labels, classes: k, weights: weights, eps: eps), accuracy: 1e-5)
            gradientCheck("softmax-ce", x: z, analytic: d, step: 1e-3, tolerance: 1e-3, samples: 35) {
                referenceLoss(z, labels, classes: k, weights: weights, eps: eps)
            }
        }
    }

    func testSoftmaxCrossEntropyIsStableForLargeLogits() {
        let z = FloatBuffer([1000, 0, -1000]), d = FloatBuffer(count: 3)
        let loss = softmaxCrossEntropy(dLogits: d.pointer, logits: z.pointer, labels: [1], classes: 3)
        XCTAssertEqual(loss, 1000, accuracy: 1e-3)
        XCTAssertEqual(d.array, [1, -1, 0])
    }
}
