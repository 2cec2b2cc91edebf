import Foundation

// Batch normalisation over [N, C, S] (S = H*W; S = 1 for features), per channel c.
// Training: batch mean and biased variance normalise; running statistics update as in
// PyTorch (momentum 0.1, unbiased variance). Evaluation: running statistics.
// `saveMean`/`saveInvStd` [C] keep what backward needs.

public struct BatchNormShape: Sendable, Equatable {
    public var batch, channels, spatial: Int
    public var epsilon: Float, momentum: Float
    public init(batch: Int, channels: Int, spatial: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.batch = batch; self.channels = channels; self.spatial = spatial
        self.epsilon = epsilon; self.momentum = momentum
    }
}

public func batchNormForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                             scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                             runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
                             saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>,
                             shape s: BatchNormShape, training: Bool, threads: Int = KernelThreads.count) {
    let cs = s.channels &* s.spatial, m = s.batch &* s.spatial
    parallelRanges(s.channels, threads: threads) { channels in
        for c in channels {
            var mean: Float, invStd: Float
            if training {
                var t: Double = 0
                for n in 0..<s.batch { t += Double(sumOf(input + (n &* cs &+ c &* s.spatial), s.spatial)) }
                let mu = t / Double(m)
                var q: Double = 0
                for n in 0..<s.batch {
                    let p = input + (n &* cs &+ c &* s.spatial)
                    var acc: Float = 0
                    for i in 0..<s.spatial { let d = p[i] - Float(mu); acc += d * d }
                    q += Double(acc)
                }
                let variance = q / Double(m)
                mean = Float(mu)
                invStd = Float(1 / (variance + Double(s.epsilon)).squareRoot())
                let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
                runningMean[c] = (1 - s.momentum) * runningMean[c] + s.momentum * mean
                runningVar[c] = (1 - s.momentum) * runningVar[c] + s.momentum * Float(unbiased)
            } else {
                mean = runningMean[c]
                invStd = 1 / (runningVar[c] + s.epsilon).squareRoot()
            }
            saveMean[c] = mean; saveInvStd[c] = invStd
            let a = scale[c] * invStd, b = shift[c] - mean * a
            for n in 0..<s.batch {
                let off = n &* cs &+ c &* s.spatial
                let x = input + off, y = output + off
                for i in 0..<s.spatial { y[i] = x[i] * a + b }
            }
        }
    }
}

/// dInput overwritten; dScale, dShift accumulated. `training` must match the forward call.
public func batchNormBackward(dInput: UnsafeMutablePointer<Float>, dScale: UnsafeMutablePointer<Float>,
                              dShift: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                              input: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                              saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
                              shape s: BatchNormShape, training: Bool, threads: Int = KernelThreads.count) {
    let cs = s.channels &* s.spatial, m = Float(s.batch &* s.spatial)
    parallelRanges(s.channels, threads: threads) { channels in
        for c in channels {
            let mean = saveMean[c], invStd = saveInvStd[c]
            // Both sums cancel heavily (the gradient of a normalised layer sums to about 0), so
            // they are taken in 8 Float lanes per image plane and in Double across planes: one
            // sequential Float sum over a 32x32x128 batch was 0.5% off in the weight gradients
            // of the layers before it (against torchvision in Float and in Double).
            var totalG = 0.0, totalGX = 0.0
            for n in 0..<s.batch {
                let off = n &* cs &+ c &* s.spatial
                let (g, gx) = gradientSums(dOutput + off, input + off, count: s.spatial, mean: mean)
                totalG += Double(g)
                totalGX += Double(gx)
            }
            let sumG = Float(totalG), sumGX = Float(totalGX * Double(invStd))
            dShift[c] += sumG
            dScale[c] += sumGX
            let k = scale[c] * invStd
            for n in 0..<s.batch {
                let off = n &* cs &+ c &* s.spatial
                let x = input + off, g = dOutput + off, d = dInput + off
                if training {
                    for i in 0..<s.spatial {
                        let xh = (x[i] - mean) * invStd
                        d[i] = k * (g[i] - sumG / m - xh * sumGX / m)
                    }
                } else {
                    for i in 0..<s.spatial { d[i] = k * g[i] }
                }
            }
        }
    }
}

/// (sum of g, sum of g * (x - mean)) over one plane, in 8 Float lanes.
@inline(__always)
func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float) -> (Float, Float) {
    var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var i = 0
    while i &+ 8 <= count {
        let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        sg += gv
        sgx += gv * (xv - m)
        i &+= 8
    }
    var tg = sg.sum(), tgx = sgx.sum()
    while i < count { tg += g[i]; tgx += g[i] * (x[i] - mean); i &+= 1 }  // leftovers
    return (tg, tgx)
}

/// Plain reference of the training-mode forward (Double throughout), for the tests.
public func batchNormForwardReference(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                      scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, shape s: BatchNormShape) {
    for c in 0..<s.channels {
        var t: Double = 0, q: Double = 0
        for n in 0..<s.batch { for i in 0..<s.spatial { t += Double(input[(n * s.channels + c) * s.spatial + i]) } }
        let mu = t / Double(s.batch * s.spatial)
        for n in 0..<s.batch {
            for i in 0..<s.spatial { let d = Double(input[(n * s.channels + c) * s.spatial + i]) - mu; q += d * d }
        }
        let inv = 1 / (q / Double(s.batch * s.spatial) + Double(s.epsilon)).squareRoot()
        for n in 0..<s.batch {
            for i in 0..<s.spatial {
                let j = (n * s.channels + c) * s.spatial + i
                output[j] = Float((Double(input[j]) - mu) * inv * Double(scale[c]) + Double(shift[c]))
            }
        }
    }
}
